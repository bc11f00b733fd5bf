"""CLI audit (stop 36): what a researcher at the command line ran into. The demo deleted a
``runs.duckdb`` of the user's in its ``--out`` folder; ``optimal --json --plot`` printed a line
after the JSON; ``optimal --fit --level 0.975`` labelled its intervals 98%; ``--quiet`` runs
that failed said nothing; the demo checked its seed after writing; an unknown option was
reported by the top-level parser; a folder given as a figure path, a column given twice
and a holdout that leaves too few points were found only after the work, or not at all."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scalingfit import cli

pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
from scalingfit import _synthdb
from test_cli import _csv


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_demo_keeps_a_runs_database_it_did_not_write(tmp_path: Path, capsys) -> None:
    out = tmp_path / "project"
    out.mkdir()
    runs = _synthdb.chinchilla_sweeps(3, seed=1)[0]
    _synthdb.write_duckdb(str(out / "runs.duckdb"), runs)  # the user's: no truth table
    import duckdb

    with duckdb.connect(str(out / "runs.duckdb")) as con:
        con.execute("CREATE TABLE notes AS SELECT 1 AS x")
    before = _md5(out / "runs.duckdb")
    assert cli.main(["demo", "--sweeps", "5", "--bootstrap", "0", "--no-plots", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{out / 'runs.duckdb'} exists and is not a database the demo wrote (its tables: notes, runs)" in err
    assert _md5(out / "runs.duckdb") == before
    (out / "runs.duckdb").write_text("not a database")
    assert cli.main(["demo", "--sweeps", "5", "--bootstrap", "0", "--no-plots", "--out", str(out)]) == 1
    assert "it cannot be read as one" in capsys.readouterr().err
    assert (out / "runs.duckdb").read_text() == "not a database"


def test_demo_replaces_its_own_database_and_checks_its_seed_first(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    argv = ["demo", "--sweeps", "4", "--bootstrap", "0", "--no-plots", "--out", str(out)]
    assert cli.main([*argv, "--seed", str(2**70)]) == 2
    assert "--seed must be" in capsys.readouterr().err
    assert not out.exists()  # nothing made before the check
    assert cli.main([*argv, "--threads", "100000"]) == 2
    assert "--threads" in capsys.readouterr().err and not out.exists()
    assert cli.main(argv) == 0
    first = _md5(out / "runs.duckdb")
    capsys.readouterr()
    assert cli.main([*argv, "--seed", "1"]) == 0  # its own database: replaced
    assert _md5(out / "runs.duckdb") != first


def test_optimal_json_with_a_plot_is_one_json_document(tmp_path: Path, capsys) -> None:
    png = tmp_path / "frontier.png"
    assert cli.main(["optimal", "--compute", "1e24", "--plot", str(png), "--json"]) == 0
    json.loads(capsys.readouterr().out)  # raised "Extra data" on the "plot written to" line
    assert png.stat().st_size > 0
    assert cli.main(["optimal", "--compute", "1e24", "--plot", str(png)]) == 0
    assert f"plot written to {png}" in capsys.readouterr().out


def test_optimal_fit_labels_its_interval_with_the_level_given(tmp_path: Path, capsys) -> None:
    csv = _csv(tmp_path / "r.csv")
    assert cli.main(["optimal", "--compute", "5.9e23", "--fit", str(csv), "--bootstrap", "20", "--level",
                     "0.975"]) == 0
    out = capsys.readouterr().out
    assert "[97.5%:" in out and "[98%:" not in out


def test_quiet_bulk_runs_that_fail_say_why_on_stderr(tmp_path: Path, capsys) -> None:
    runs = _synthdb.chinchilla_sweeps(3, runs=30, checkpoints=1, seed=2)[0]
    few = runs[(runs.sweep != 1) | (runs.run_id % 10 == 0)]  # sweep 1 keeps 3 runs: too few for 5 parameters
    csv = tmp_path / "few.csv"
    few.to_csv(csv, index=False)
    db = tmp_path / "o.duckdb"
    assert cli.main(["refit", str(csv), "--db", str(db), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("scalingfit refit: 1 failed fit(s) of this configuration in ")
    db2 = tmp_path / "c.duckdb"
    assert cli.main(["compare-runs", str(csv), "--models", "chinchilla,chinchilla_tied", "--db", str(db2),
                     "--quiet"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("scalingfit compare-runs: 1 group(s) with no law scored in ")


def test_an_unknown_option_is_named_by_the_commands_parser(tmp_path: Path, capsys) -> None:
    csv = _csv(tmp_path / "r.csv")
    assert cli.main(["fit", str(csv), "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: scalingfit fit ")
    assert err.rstrip().endswith("scalingfit fit: error: unrecognized arguments: --bogus")
    assert cli.main(["--bogus"]) == 2
    assert "scalingfit: error: unrecognized arguments: --bogus" in capsys.readouterr().err


def test_a_folder_as_a_figure_path_is_refused_before_any_fit(tmp_path: Path, capsys) -> None:
    csv = _csv(tmp_path / "r.csv")
    folder = tmp_path / "dir.png"
    folder.mkdir()
    for argv in (["plot", str(csv), "--model", "chinchilla", "--x", "N,D", "--y", "loss", "-o", str(folder),
                  "--bootstrap", "0"],
                 ["optimal", "--compute", "1e24", "--plot", str(folder)],
                 ["compare", str(csv), "--models", "chinchilla,chinchilla_tied", "--x", "N,D", "--y", "loss",
                  "--plot", str(folder)]):
        assert cli.main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == ""  # nothing fitted or printed first
        assert f"{folder}: that is a folder; give a file name in it" in captured.err


@pytest.mark.parametrize(("command", "x", "y", "message"), [
    ("fit", "N,N", "loss", "--x N,N: names 'N' twice"),
    ("fit", "N,D", "N", "--y N: also an input (--x N,D)"),
    ("compare", "N,N", "loss", "--x N,N: names 'N' twice"),
    ("compare", "N,D", "D", "--y D: also an input"),
    ("optimal", "D,D", "loss", "--x D,D: names 'D' twice"),
])
def test_a_column_given_twice_is_a_usage_error(tmp_path: Path, capsys, command: str, x: str, y: str,
                                               message: str) -> None:
    csv = str(_csv(tmp_path / "r.csv"))
    argv = {"fit": ["fit", csv, "--model", "chinchilla"],
            "compare": ["compare", csv, "--models", "chinchilla,chinchilla_tied"],
            "optimal": ["optimal", "--compute", "1e24", "--fit", csv, "--bootstrap", "0"]}[command]
    assert cli.main([*argv, "--x", x, "--y", y]) == 2
    assert message in capsys.readouterr().err


def test_a_summary_of_one_chunk_says_chunk(tmp_path: Path, capsys) -> None:
    runs = _synthdb.chinchilla_sweeps(2, seed=3)[0]
    csv = tmp_path / "r.csv"
    runs.to_csv(csv, index=False)
    assert cli.main(["refit", str(csv), "--db", str(tmp_path / "o.duckdb")]) == 0
    out = capsys.readouterr().out
    assert ", 1 chunk, " in out and "1 chunks" not in out


def test_a_missing_group_column_is_named_by_its_option(tmp_path: Path, capsys) -> None:
    runs = _synthdb.chinchilla_sweeps(2, seed=3)[0]
    csv = tmp_path / "r.csv"
    runs.to_csv(csv, index=False)
    for argv in (["refit", str(csv), "--group-by", "nosuch"],
                 ["compare-runs", str(csv), "--models", "chinchilla,chinchilla_tied", "--group-by", "nosuch"]):
        assert cli.main([*argv, "--db", str(tmp_path / "o.duckdb")]) == 1
        err = capsys.readouterr().err
        assert "error: --group-by column(s) ['nosuch'] not in the run data; it has ['sweep', " in err, err


def test_fit_without_degrees_of_freedom_prints_no_nan_intervals(tmp_path: Path, capsys) -> None:
    x = np.logspace(7, 10, 3)
    csv = tmp_path / "three.csv"
    csv.write_text("N,loss\n" + "\n".join(f"{a:.17g},{1.7 + 400 * a ** -0.3:.17g}" for a in x) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # the suite's filter turns warnings into errors
        assert cli.main(["fit", str(csv), "--model", "saturating_power_law", "--x", "N", "--y", "loss"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.split("95% intervals (Wald, Student's t on 0 degrees of freedom):\n")[1].splitlines()
    assert [ln.split() for ln in lines] == [["E", "-"], ["A", "-"], ["alpha", "-"]]
    assert "no residual degrees of freedom" in captured.err


def test_holdout_that_leaves_too_few_points_is_a_usage_error(tmp_path: Path, capsys) -> None:
    """--holdout 12 of 12 rows exited 2, --holdout 11 exited 1 ("holdout leaves 1 point(s)")."""
    csv = str(_csv(tmp_path / "r.csv", n=12))
    argv = ["compare", csv, "--models", "saturating_power_law", "--x", "N", "--y", "loss"]
    assert cli.main([*argv, "--holdout", "11"]) == 2
    assert ("--holdout must leave at least 3 point(s) of positive weight to fit the 3 free parameters of "
            "saturating_power_law; it leaves 1") in capsys.readouterr().err
