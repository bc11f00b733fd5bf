"""What a bad-input audit of the bulk refit found (stop 35): a rerun's exit status reads the
table (failures of an earlier run fail it too), groups the metric filter leaves out whole are
named, a user's table under a results table's name is refused by name, groups gone from the
source are reported, a misspelt law or comparison is not an empty frame, and the CLI's errors
name its options (exit 2) rather than the Python arguments behind them."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
import duckdb
from scalingfit import DataWarning, _synthdb, cli
from scalingfit import refit as rf
from scalingfit import refit_compare as rc


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return _synthdb.chinchilla_sweeps(5, runs=30, checkpoints=2, noise=0.01, seed=3)[0]


def _main(argv: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the suite's filter turns warnings into errors
        return cli.main(argv)


def test_a_rerun_fails_while_failed_fits_of_its_configuration_remain(runs: pd.DataFrame, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Sweep 3 has no valid row (every value NaN): its fit fails, exit 1; the rerun fits nothing
    and used to exit 0 with the failure still in the table; it exits 1 and names the group."""
    bad = runs.copy()
    bad.loc[bad.sweep == 3, "value"] = np.nan
    src = tmp_path / "runs.csv"
    bad.to_csv(src, index=False)
    db = tmp_path / "r.duckdb"
    argv = ["refit", str(src), "--db", str(db), "--quiet"]
    assert _main(argv) == 1
    assert _main(argv) == 1
    assert _main([*argv[:-1], "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_fitted"] == 0 and summary["n_failed_fits"] == 1
    assert [f["group_key"] for f in summary["failed_groups"]] == ["[3]"]
    fits = rf.read_fits(db, law="chinchilla")
    assert int((~fits["success"]).sum()) == 1  # the table's state the exit status reports


def test_groups_without_a_row_of_the_metric_are_named(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A sweep whose rows say 'Loss' and one whose metric is NULL are left out by metric='loss':
    one DataWarning names both with their metrics (they were dropped without a word)."""
    r = runs.copy()
    r.loc[r.sweep == 2, "metric"] = "Loss"
    r.loc[r.sweep == 4, "metric"] = None
    with pytest.warns(DataWarning) as got:
        s = rf.refit(r, db=tmp_path / "m.duckdb", progress=False)
    assert (s.n_groups, s.n_fitted) == (3, 3)
    text = "; ".join(str(w.message) for w in got if issubclass(w.category, DataWarning))
    assert "2 group(s) of the DataFrame have no row with metric 'loss'" in text, text
    assert "sweep=2 (60 row(s), metrics 'Loss')" in text and "sweep=4 (60 row(s), metrics NULL only)" in text
    with pytest.warns(DataWarning, match="compare_refit: 2 group"):
        rc.compare_refit(r, ["chinchilla", "kaplan_nd"], db=tmp_path / "c.duckdb", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every sweep has the metric: no warning
        rf.refit(runs, db=tmp_path / "ok.duckdb", progress=False)
        # as an error, the DataWarning itself (it was raised inside the source reader's
        # context and came out as a RunDataError "cannot read run data")
        with pytest.raises(DataWarning, match="have no row with metric 'loss'"):
            rf.refit(r, db=tmp_path / "m2.duckdb", progress=False)


@pytest.mark.parametrize(("ddl", "what"), [
    ("CREATE TABLE fit_configs (a INTEGER)",
     "a table without the columns law, config_hash, settings named 'fit_configs'"),
    ("CREATE TABLE fits (my_col INTEGER, note VARCHAR)",
     "a table without the columns group_key, law, model, param_names and 20 more named 'fits'"),
    ("CREATE VIEW fits AS SELECT 1 AS x", "a view named 'fits'"),
])
def test_a_users_table_under_a_results_name_is_refused_by_name(runs: pd.DataFrame, tmp_path: Path, ddl: str,
                                                               what: str) -> None:
    """It used to fail with DuckDB's binder error, or read as results grouped by its columns;
    the user's table is left as it was."""
    db = tmp_path / "own.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(ddl)
    with pytest.raises(rf.data.RunDataError, match=re.escape(what) + ", not a results table of this scalingfit"):
        rf.refit(runs, db=db, progress=False)
    with duckdb.connect(str(db)) as con:
        assert sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()) == [
            re.search(r"(fits|fit_configs)", ddl).group(1)]  # type: ignore[union-attr]


def test_a_users_comparison_table_is_refused(runs: pd.DataFrame, tmp_path: Path) -> None:
    db = tmp_path / "own.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE law_comparisons (x INTEGER)")
    with pytest.raises(rf.data.RunDataError, match="'law_comparisons', not a results table.*compare_refit keeps"):
        rc.compare_refit(runs, ["chinchilla", "kaplan_nd"], db=db, progress=False)


def test_groups_gone_from_the_source_are_reported(runs: pd.DataFrame, tmp_path: Path) -> None:
    db = tmp_path / "st.duckdb"
    rf.refit(runs, db=db, progress=False)
    with pytest.warns(DataWarning, match=r"holds 5 groups of this 'chinchilla' configuration and the DataFrame "
                                         r"has 4: 1 group\(s\) no longer in the source keep their old rows"):
        s = rf.refit(runs[runs.sweep != 2], db=db, progress=False)
    assert (s.n_fitted, s.n_skipped) == (0, 4)
    assert len(rf.read_fits(db, law="chinchilla")) == 5  # kept, as the warning says


def test_a_misspelt_law_or_comparison_is_an_error_naming_those_there(runs: pd.DataFrame, tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    rf.refit(runs, db=db, progress=False)
    with pytest.raises(ValueError, match=r"fits table has no law 'chinchila'; it has 'chinchilla'"):
        rf.read_fits(db, law="chinchila")
    rc.compare_refit(runs, ["chinchilla", "kaplan_nd"], db=db, progress=False)
    with pytest.raises(ValueError, match=r"has no comparison 'chinchilla,kaplan'; it has 'chinchilla,kaplan_nd'"):
        rc.read_comparisons(db, "chinchilla,kaplan")
    assert len(rc.read_comparisons(db, ["chinchilla", "kaplan_nd"])) == 10


def test_cli_errors_name_the_options(runs: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The API's 'n_resamples must ...' reads '--bootstrap must ...' (exit 2, a usage error, as
    argparse's own), 'threads' '--threads'; demo --out naming a file is refused before the run."""
    src = tmp_path / "s.csv"
    src.write_text("N,loss\n1e6,3.0\n1e7,2.6\n1e8,2.3\n1e9,2.1\n1e10,2.0\n")
    fit = ["fit", str(src), "--model", "saturating_power_law", "--x", "N", "--y", "loss"]
    assert _main([*fit, "--bootstrap", "100000000000"]) == 2
    assert "error: --bootstrap must be at most 4294967295, got 100000000000" in capsys.readouterr().err
    assert _main([*fit, "--bootstrap", "10", "--seed", str(2**70)]) == 2
    assert "error: --seed must be an integer in [0, 2**64)" in capsys.readouterr().err
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    assert _main(["refit", str(csv), "--db", str(tmp_path / "t.duckdb"), "--threads", "100000"]) == 2
    assert "error: --threads must be at most 4096, got 100000" in capsys.readouterr().err
    out = tmp_path / "x.png"
    assert _main(["plot", str(src), "--model", "saturating_power_law", "--x", "N", "--y", "loss",
                  "--extrapolate", "1e300", "-o", str(out)]) == 2  # before the fit, not after its table
    err = capsys.readouterr()
    assert "error: --extrapolate must be at most 1e+200, got 1e+300" in err.err and err.out == ""
    assert not out.exists()
    assert _main(["demo", "--out", str(src)]) == 2
    assert f"--out {src}: a file of that name exists" in capsys.readouterr().err
    # only the name a message starts with is an option's: words further in are left alone
    text, usage = cli._option_words(cli.build_parser(), "refit", "the law must have more points; the table must hold")
    assert text == "the law must have more points; the table must hold" and not usage
    text, usage = cli._option_words(cli.build_parser(), "refit", "table must be a name (scheduler=)")
    assert text == "--table must be a name (--scheduler)" and usage
