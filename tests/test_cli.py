"""The command line: every subcommand, its output, and exit codes 0/1/2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scalingfit import cli


def _csv(path: Path, n: int = 60, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    N = 10 ** rng.uniform(7.5, 10, n)
    D = 10 ** rng.uniform(9.5, 11.5, n)
    L = (1.69 + 406.4 * N**-0.34 + 410.7 * D**-0.28) * (1 + 0.005 * rng.standard_normal(n))
    path.write_text("N,D,loss\n" + "\n".join(f"{a:.17g},{b:.17g},{c:.17g}" for a, b, c in zip(N, D, L)) + "\n")
    return path


def test_fit_json(tmp_path: Path, capsys) -> None:
    rc = cli.main(["fit", str(_csv(tmp_path / "r.csv")), "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["status"] > 0
    assert out["params"]["alpha"] == pytest.approx(0.34, abs=0.05)
    assert set(out["stderr"]) == {"E", "A", "B", "alpha", "beta"}


def test_usage_and_failure_exit_codes(tmp_path: Path, capsys) -> None:
    assert cli.main([]) == 2
    assert cli.main(["fit"]) == 2  # argparse usage error
    assert cli.main(["fit", str(tmp_path / "missing.csv"), "--model", "chinchilla", "--x", "N,D", "--y", "loss"]) == 1
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("N,D,loss\n1e8,1e9,abc\n")
    assert cli.main(["fit", str(bad), "--model", "chinchilla", "--x", "N,D", "--y", "loss"]) == 1
    assert cli.main(["fit", str(_csv(tmp_path / "r.csv")), "--model", "chinchilla", "--x", "N,Q", "--y", "loss"]) == 1
    assert "missing column(s) ['Q']" in capsys.readouterr().err
    assert cli.main(["optimal"]) == 2


@pytest.mark.parametrize(("argv", "rc", "message"), [
    (["optimal", "--compute", "1e24", "--unique-tokens", "1e13", "--epochs", "1,x"], 2,
     "--epochs: expected comma-separated numbers, got '1,x'"),
    (["optimal", "--compute", "1e24", "--unique-tokens", "1e13", "--epochs", ""], 2,
     "--epochs: give at least one number of epochs, got ''"),
    (["fit", "{csv}", "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--p0", "1,b"], 2,
     "--p0: expected comma-separated numbers, got '1,b'"),
    (["bench", "--bulk-sweeps", "-3"], 2, "--bulk-sweeps must be >= 1, got -3"),
    (["cuda-compile", "--arch", "sm_xx"], 2, "arch must be a real or virtual architecture such as sm_90"),
    (["refit", "{csv}", "--group-by", "N", "--threads", "0"], 2, "--threads must be >= 1, got 0"),
    (["refit", "{csv}", "--group-by", "N", "--chunk", "0"], 2, "--chunk must be >= 1 group per chunk, got 0"),
    (["refit", "{csv}", "--group-by", "N", "--bootstrap", "1"], 2,
     "--bootstrap must be 0 (no intervals) or >= 2 resamples, got 1"),
    (["refit", "{csv}", "--group-by", "N", "--level", "95"], 2, "--level must be in (0, 1), e.g. 0.95, got 95"),
    (["reproduce", "--bootstrap", "-1"], 2, "--bootstrap must be 0 (no intervals) or >= 2 resamples, got -1"),
])
def test_bad_option_values_are_named(tmp_path: Path, capsys, argv: list[str], rc: int, message: str) -> None:
    """A bad option value is an error naming the option as typed (the messages were numpy's,
    NVRTC's or the Python argument's: "could not convert string to float: 'x'", "negative
    dimensions are not allowed", "chunk_groups must be >= 1"), exit status 2 when the CLI
    can tell from the options alone (usage error, as argparse's own), 1 when the library
    finds it; refit says so before it creates the results database."""
    csv = str(_csv(tmp_path / "r.csv", n=8))
    assert cli.main([a.replace("{csv}", csv) for a in argv]) == rc
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r.csv.fits.duckdb").exists()


def test_optimal_published_and_fitted(tmp_path: Path, capsys) -> None:
    assert cli.main(["optimal", "--compute", "5.88e23", "--json"]) == 0
    rows = {r["quantity"]: r["value"] for r in json.loads(capsys.readouterr().out)}
    assert isinstance(rows["tokens per parameter"], float)  # a number for machines, not text
    assert rows["tokens per parameter"] == pytest.approx(18.33, rel=1e-3)  # Epoch's law
    assert cli.main(["optimal", "--compute", "1e22", "--fit", str(_csv(tmp_path / "r.csv", n=80)),
                     "--bootstrap", "100", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    fitted = [r for r in rows if r["section"].startswith("fit of")]
    assert [r["quantity"] for r in fitted] == ["N_opt", "D_opt", "tokens_per_param", "L_opt", "a_opt"]
    assert fitted[0]["level"] == 0.95 and fitted[0]["lower"] < fitted[0]["value"] < fitted[0]["upper"]


def test_refit_cli(tmp_path: Path, capsys) -> None:
    pytest.importorskip("duckdb")
    from scalingfit import _synthdb

    runs, _ = _synthdb.chinchilla_sweeps(12, runs=25, checkpoints=2, seed=2)
    runs.to_csv(tmp_path / "runs.csv", index=False)
    rc = cli.main(["refit", str(tmp_path / "runs.csv"), "--quiet", "--json", "--chunk", "5"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n_fitted"] == 12 and out["n_chunks"] == 3
    assert (tmp_path / "runs.csv.fits.duckdb").is_file()
    assert cli.main(["refit", str(tmp_path / "runs.csv"), "--group-by", "nope", "--quiet"]) == 1
    assert "not in the run data" in capsys.readouterr().err


def test_optimal_with_a_named_or_written_law(tmp_path: Path, capsys) -> None:
    """--law other than the default went through planning.resolve_law, which the package did
    not export: `scalingfit optimal --loss 2.0 --inference-tokens 2e12 --law sardana2023`, an
    example of the command's own help, raised AttributeError."""
    from scalingfit import planning

    assert cli.main(["optimal", "--loss", "2.0", "--inference-tokens", "2e12", "--law", "sardana2023",
                     "--json", "--plot", str(tmp_path / "inf.png")]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[: out.rindex("]") + 1])
    assert rows and (tmp_path / "inf.png").stat().st_size > 5_000
    law = "E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28"
    assert cli.main(["optimal", "--compute", "5.76e23", "--law", law, "--json"]) == 0
    got = {r["quantity"]: r["value"] for r in json.loads(capsys.readouterr().out)}
    # Hoffmann et al.'s law: N_opt = G (C/6)^a with a = beta/(alpha+beta), G = (alpha A/(beta B))^(1/(alpha+beta))
    a, b = 0.34, 0.28
    G = (a * 406.4 / (b * 410.7)) ** (1 / (a + b))
    N_opt = G * (5.76e23 / 6) ** (b / (a + b))
    n_row = next(v for k, v in got.items() if k.startswith("parameters"))
    assert float(n_row) == pytest.approx(N_opt, rel=1e-3)  # printed to 4 digits
    assert planning.resolve_law(law) == {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def test_plot_command(tmp_path: Path, capsys) -> None:
    """`scalingfit plot` fits, bootstraps and writes the figure (PNG by default beside the
    file, SVG by suffix); bad options are named before any fit and leave no file."""
    pytest.importorskip("matplotlib")
    csv = _csv(tmp_path / "r.csv", n=80)
    argv = ["plot", str(csv), "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--bootstrap", "50"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "FitResult(model='chinchilla'" in out and f"plot written to {tmp_path / 'r.fit.png'}" in out
    assert (tmp_path / "r.fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    one = tmp_path / "one.csv"
    N = np.logspace(7, 9, 15)
    one.write_text("N,loss\n" + "\n".join(f"{n:.17g},{1.7 + 400 * n ** -0.34:.17g}" for n in N) + "\n")
    assert cli.main(["plot", str(one), "--model", "saturating_power_law", "--x", "N", "--y", "loss",
                     "--extrapolate", "1e11", "--bootstrap", "0", "-o", str(tmp_path / "o.svg")]) == 0
    assert (tmp_path / "o.svg").read_text().lstrip().startswith("<?xml")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left
    capsys.readouterr()
    for extra, message in (
        (["--extrapolate", "1e8"], "--extrapolate must be above the largest N of the data (1e+09), got 1e+08"),
        (["-o", str(tmp_path / "x.nope")], "-o/--output: 'x.nope' needs a figure suffix, one of"),
        (["--bootstrap", "-1"], "--bootstrap must be 0 (no band) or >= 2 resamples, got -1"),
        (["--bootstrap", "1"], "--bootstrap must be 0 (no band) or >= 2 resamples, got 1"),
    ):  # usage errors: exit status 2
        assert cli.main(["plot", str(one), "--model", "saturating_power_law", "--x", "N", "--y", "loss", *extra]) == 2
        captured = capsys.readouterr()
        assert message in captured.err and "FitResult" not in captured.out  # refused before the fit
    assert not (tmp_path / "x.nope").exists() and not (tmp_path / "one.fit.png").exists()
    assert cli.main(["plot", str(csv), "--model", "chinchilla", "--x", "N,D", "--y", "loss",
                     "--extrapolate", "1e12"]) == 2
    assert "--extrapolate extends a law of one input; --x names 2 columns" in capsys.readouterr().err


def test_warnings_are_one_line(tmp_path: Path, capsys) -> None:
    """A warning from a command is one line naming the command and its class, not Python's
    file:line form showing the CLI's own source line."""
    import warnings

    N = np.linspace(1e8, 3e8, 12)  # under a decade: alpha is not identifiable
    one = tmp_path / "narrow.csv"
    one.write_text("N,loss\n" + "\n".join(f"{n:.17g},{1.7 + 400 * n ** -0.34:.17g}" for n in N) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # the suite's filter turns warnings into errors
        cli.main(["fit", str(one), "--model", "saturating_power_law", "--x", "N", "--y", "loss"])
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(ln.startswith("scalingfit fit: IdentifiabilityWarning: ") for ln in lines), lines
    assert "(--fix alpha=VALUE)" in lines[0] and "fixed=" not in lines[0]  # the CLI's form of the hint


def _err_line(capsys, command: str) -> str:
    """The one stderr line of a refused command (no traceback, no extra warning line)."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"scalingfit {command}: error: "), err
    return lines[0]


def test_optimal_drop_highest_is_checked(tmp_path: Path, capsys) -> None:
    """--drop-highest beyond the rows raised IndexError; a negative one was ignored."""
    csv = _csv(tmp_path / "r.csv", n=20)
    argv = ["optimal", "--compute", "1e24", "--fit", str(csv), "--bootstrap", "0", "--drop-highest"]
    assert cli.main([*argv, "300"]) == 2
    assert f"--drop-highest 300: {csv} has 20 rows; drop at most 19" in _err_line(capsys, "optimal")
    assert cli.main([*argv, "-1"]) == 2
    assert "--drop-highest must be >= 0, got -1" in _err_line(capsys, "optimal")
    assert capsys.readouterr().out == ""


def test_optimal_plot_draws_the_table(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plot is of the table's law, epochs and target: the data wall was drawn with
    Muennighoff's law and epochs 1,4,16 whatever --law and --epochs said, and the
    inference-aware table of --compute without --loss got the frontier."""
    pytest.importorskip("matplotlib")
    from scalingfit import planning
    from scalingfit.chinchilla import EPOCH_2024

    calls: dict[str, tuple] = {}
    for name in ("plot_data_wall", "plot_inference_aware", "plot_frontier"):
        monkeypatch.setattr(planning, name, lambda *a, _n=name, **k: calls.__setitem__(_n, (a, k)))
    png = str(tmp_path / "p.png")
    assert cli.main(["optimal", "--unique-tokens", "100e12", "--epochs", "1", "--plot", png, "--json"]) == 0
    (U, dc), kw = calls.pop("plot_data_wall")
    assert U == 100e12 and kw["epochs"] == [1.0] and kw["path"] == png
    assert dc.E == pytest.approx(EPOCH_2024.E) and dc.alpha == pytest.approx(EPOCH_2024.alpha)
    assert float(dc.R_D) == pytest.approx(float(planning.MUENNIGHOFF_2023.R_D))
    out = capsys.readouterr().out
    assert "plot written to" not in out  # stdout is one JSON document
    rows = json.loads(out)
    assert [r["section"] for r in rows if r["section"].startswith("data wall")] == ["data wall of U = 1e+14 tokens, up to 1 epoch(s)"] * 7
    assert cli.main(["optimal", "--compute", "1e24", "--inference-tokens", "1e17", "--law", "hoffmann2022",
                     "--plot", png, "--json"]) == 0
    (target,), kw = calls.pop("plot_inference_aware")
    assert kw["law"] == planning.HOFFMANN_2022 and kw["inference_tokens"][1] >= 1e17
    out = capsys.readouterr().out
    sec = next(r["section"] for r in json.loads(out[: out.rindex("]") + 1]) if r["section"].startswith("inference"))
    assert sec.startswith(f"inference-aware for loss {target:.4f}")
    assert cli.main(["optimal", "--compute", "1e24", "--law", "sardana2023", "--plot", png]) == 0
    (law,), _ = calls.pop("plot_frontier")
    assert law == planning.SARDANA_2023 and not calls


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_csv_reader(tmp_path: Path, capsys) -> None:
    """The CSV reader was readline().split(",") and np.loadtxt: a repeated column was read as
    its first occurrence (exit 0, the wrong column fitted), quoted names and a byte-order mark
    broke it, a row with an extra cell passed, and messages counted rows and columns in
    different ways; now the csv module, and errors naming the file, column, row and line."""
    rows = _csv(tmp_path / "r.csv", n=30).read_text().splitlines()
    fit = ["--model", "chinchilla", "--x", "N,D", "--y", "loss", "--json"]
    want = json.loads((cli.main(["fit", str(tmp_path / "r.csv"), *fit]), capsys.readouterr().out)[1])["params"]
    quoted = "\n".join(",".join(f'"{c}"' for c in r.split(",")) for r in rows) + "\n"
    for name, text, enc in (("q.csv", quoted, "utf-8"), ("bom.csv", "\n".join(rows) + "\n", "utf-8-sig")):
        assert cli.main(["fit", str(_write(tmp_path / name, text, enc)), *fit]) == 0, capsys.readouterr().err
        assert json.loads(capsys.readouterr().out)["params"] == pytest.approx(want)
    body = "\n".join(rows[1:4])
    for text, rc, message in (
        ("N,D,loss,loss\n" + body, 1, "column(s) ['loss'] appear more than once in the header"),
        ("N,D,loss\n" + rows[1] + "\n" + rows[2] + ",7\n", 1, "row 1 (line 3) has 4 cells, the header 3"),
        ("N,D,loss\n" + rows[1] + "\n1e8,1e10,nan\n", 1, "column 'loss', row 1 (line 3): 'nan' is not finite"),
        ("N,D,loss\n" + rows[1] + "\n1e8,,2.5\n", 1, "column 'D', row 1 (line 3): '' is empty"),
        ("N,D,loss\n" + rows[1] + "\n-1e8,1e10,2.5\n", 1, "column 'N', row 1 (line 3): '-1e8' must be > 0"),
        ("N,D,loss\n1e8,abc,2.5\n", 1, "column 'D', row 0 (line 2): 'abc' is not a number"),
        ("N,D,loss\n", 1, "has a header but no data rows"),
        ("", 1, "is empty: no header row"),
        ("N,D,loss\n" + body, 1, "missing column(s) ['Q'] (--x); the file has ['N', 'D', 'loss']"),
    ):
        path = _write(tmp_path / "bad.csv", text)
        argv = ["fit", str(path), *fit]
        if "'Q'" in message:
            argv[argv.index("N,D")] = "N,Q"
        assert cli.main(argv) == rc
        line = _err_line(capsys, "fit")
        assert f"{path}" in line and message in line, line
    assert cli.main(["fit", str(tmp_path / "r.csv"), "--model", "chinchilla", "--x", "", "--y", "loss"]) == 2
    assert "--x: name the input column(s), comma-separated (e.g. N,D), got ''" in _err_line(capsys, "fit")
    assert cli.main(["fit", str(tmp_path / "r.csv"), "--model", "chinchilla", "--x", "N", "--y", "loss"]) == 2
    assert "--x names 1 column(s) (N); chinchilla takes 2 input(s) (N, D)" in _err_line(capsys, "fit")


@pytest.mark.parametrize(("argv", "message"), [
    (["optimal", "--compute", "1e24", "--fit", "{csv}", "--law", "hoffmann2022"],
     "--law and --fit both choose the law: give one"),
    (["optimal", "--compute", "1e24", "--x", "N,D"], "--x: only with --fit CSV"),
    (["optimal", "--compute", "1e24", "--huber", "--seed", "3"], "--huber, --seed: only with --fit CSV"),
    (["optimal", "--compute", "1e24", "--epochs", "1,4"], "--epochs sets the epochs of the data wall, which needs --unique-tokens"),
    (["optimal", "--unique-tokens", "1e13", "--inference-tokens", "1e12"], "--inference-tokens needs a target: --loss, or --compute"),
    (["optimal", "--compute=-1e24"], "--compute must be finite and > 0, got -1e+24"),
    (["optimal", "--compute", "1e24", "--fit", "{csv}", "--bootstrap", "1"],
     "--bootstrap must be 0 (the fit alone, no intervals) or >= 2 resamples, got 1"),
    (["fit", "{csv}", "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--f-scale", "1e-3"],
     "--f-scale 0.001 scales a robust loss and has no effect with --loss linear"),
    (["optimal", "--compute", "1e24", "--law", "nope"],
     "--law: unknown law 'nope'; named laws: epoch2024, hoffmann2022, sardana2023, muennighoff2023"),
])
def test_options_without_effect_are_refused(tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    """An option that would be ignored or contradicts another is a usage error (exit 2), as is
    an unknown --law, whose list omitted the default epoch2024; nothing is printed on stdout."""
    csv = str(_csv(tmp_path / "r.csv", n=20))
    assert cli.main([a.replace("{csv}", csv) for a in argv]) == 2
    assert message in _err_line(capsys, argv[0])
    assert capsys.readouterr().out == ""


def test_optimal_fit_without_bootstrap(tmp_path: Path, capsys) -> None:
    """--bootstrap 0 means no resamples, as for plot, refit and reproduce (it was an error
    about n_resamples): the fitted law's quantities without intervals."""
    csv = _csv(tmp_path / "r.csv", n=60)
    assert cli.main(["optimal", "--compute", "1e22", "--fit", str(csv), "--bootstrap", "0", "--json"]) == 0
    fitted = [r for r in json.loads(capsys.readouterr().out) if r["section"].startswith("fit of")]
    assert [r["quantity"] for r in fitted] == ["N_opt", "D_opt", "tokens_per_param", "L_opt", "a_opt"]
    assert fitted[0]["section"].endswith("(no resamples)") and isinstance(fitted[0]["value"], float)
    assert float(fitted[4]["value"]) == pytest.approx(0.28 / 0.62, abs=0.05)


def test_output_folder_is_checked_first(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """An output in a folder that does not exist is named as given, before any work: plot ran
    the fit and then named its own temporary file, optimal printed the table first."""
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    csv = str(_csv(tmp_path / "r.csv", n=30))
    assert cli.main(["plot", csv, "--model", "chinchilla", "--x", "N,D", "--y", "loss", "-o", "nodir/x.png"]) == 1
    assert "-o/--output nodir/x.png: the folder nodir does not exist" in _err_line(capsys, "plot")
    assert cli.main(["optimal", "--compute", "1e24", "--plot", "nodir/f.png"]) == 1
    assert "--plot nodir/f.png: the folder nodir does not exist" in _err_line(capsys, "optimal")
    assert capsys.readouterr().out == "" and not (tmp_path / "nodir").exists()


def test_fit_json_is_strict(tmp_path: Path, capsys) -> None:
    """A singular fit's standard errors are null, not NaN (which strict JSON parsers refuse)."""
    import warnings

    path = _write(tmp_path / "s.csv", "N,D,loss\n" + "\n".join(f"1e8,1e9,{v}" for v in (3, 3.1, 2.9, 3, 3.05, 3.02)))
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # the suite's filter turns warnings into errors
        rc = cli.main(["fit", str(path), "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--json"])
    out = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"{c} in --json"))
    assert rc == 1 and out["status"] < 0 and set(out["stderr"].values()) == {None}


def test_refit_json_with_progress(tmp_path: Path, capsys) -> None:
    """The progress bar goes to stderr: stdout stays JSON without --quiet."""
    pytest.importorskip("duckdb")
    from scalingfit import _synthdb

    runs, _ = _synthdb.chinchilla_sweeps(4, runs=25, checkpoints=2, seed=3)
    runs.to_csv(tmp_path / "runs.csv", index=False)
    assert cli.main(["refit", str(tmp_path / "runs.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_fitted"] == 4


def test_out_of_memory_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """--bootstrap 4000000000 ended in numpy's _ArrayMemoryError traceback."""
    def boom(args: object) -> int:
        raise MemoryError("Unable to allocate 89.4 GiB for an array")

    monkeypatch.setattr(cli, "_cmd_fit", boom)
    parser_func = cli.main(["fit", "x.csv", "--model", "power_law", "--x", "N", "--y", "loss"])
    err = capsys.readouterr().err
    assert parser_func == 1
    assert err.strip().splitlines() == [
        ("scalingfit fit: error: out of memory (Unable to allocate 89.4 GiB for an array): ask for "
         "fewer resamples or smaller chunks")]


def test_fix_twice_is_refused(tmp_path: Path, capsys) -> None:
    """--fix E=1,E=2 silently used E=2."""
    csv = str(_csv(tmp_path / "r.csv", n=30))
    fit = ["--model", "chinchilla", "--x", "N,D", "--y", "loss"]
    assert cli.main(["fit", csv, *fit, "--fix", "E=1,E=2"]) == 2
    assert "--fix gives E twice (E=1 and E=2): give each parameter once" in _err_line(capsys, "fit")
    assert cli.main(["plot", csv, *fit, "--fix", "alpha=0.3, A=400,alpha=0.3", "--bootstrap", "0",
                     "-o", str(tmp_path / "f.png")]) == 2
    assert "--fix gives alpha twice" in _err_line(capsys, "plot")
    assert capsys.readouterr().out == "" and not (tmp_path / "f.png").exists()


def test_fit_json_fixed_stderr_and_settings(tmp_path: Path, capsys) -> None:
    """A fixed parameter's stderr was 0.0 (known exactly) where the table prints '(fixed)';
    the JSON left out the fit's settings."""
    from scalingfit import fit

    csv = _csv(tmp_path / "r.csv")
    argv = ["fit", str(csv), "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--fix", "E=1.69",
            "--loss", "huber", "--f-scale", "0.01", "--log-residuals", "--json"]
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fixed"] == ["E"] and out["params"]["E"] == 1.69
    assert out["stderr"]["E"] is None
    assert all(isinstance(out["stderr"][k], float) and out["stderr"][k] > 0 for k in ("A", "B", "alpha", "beta"))
    assert (out["loss"], out["log_residuals"], out["f_scale"]) == ("huber", True, 0.01)
    cols = np.loadtxt(csv, delimiter=",", skiprows=1)
    r = fit("chinchilla", cols[:, :2], cols[:, 2], loss="huber", f_scale=0.01, log_residuals=True,
            fixed={"E": 1.69})
    assert out["n_starts"] == r.n_starts >= 1 and out["cost"] == r.cost
    assert {"model", "params", "stderr", "cost", "status", "message", "iterations", "n_points",
            "at_bound"} <= set(out)  # the keys there were before
    assert cli.main([*argv[:8], "--json"]) == 0  # defaults, nothing fixed
    out = json.loads(capsys.readouterr().out)
    assert (out["loss"], out["log_residuals"], out["f_scale"], out["fixed"]) == ("linear", False, 1.0, [])
    assert None not in out["stderr"].values()


def test_csv_directory_and_blank_lines_before_the_header(tmp_path: Path, capsys) -> None:
    """A folder was 'no such file', blank lines before the header 'is empty: no header row'.
    Blank lines before the header are refused (naming the header's line), not skipped."""
    fit = ["--model", "chinchilla", "--x", "N,D", "--y", "loss"]
    (tmp_path / "dir.csv").mkdir()
    assert cli.main(["fit", str(tmp_path / "dir.csv"), *fit]) == 1
    assert f"{tmp_path / 'dir.csv'} is a directory, not a CSV file" in _err_line(capsys, "fit")
    rows = _csv(tmp_path / "r.csv", n=10).read_text()
    path = _write(tmp_path / "blank.csv", "\n\r\n" + rows)
    assert cli.main(["fit", str(path), *fit]) == 1
    assert f"{path}: blank line(s) before the header at line 3" in _err_line(capsys, "fit")
    path = _write(tmp_path / "only.csv", "\n\n")
    assert cli.main(["fit", str(path), *fit]) == 1
    assert f"{path} is empty: no header row (only blank lines)" in _err_line(capsys, "fit")
    head, *body = rows.splitlines()
    path = _write(tmp_path / "inner.csv", "\n".join([head, body[0], "", *body[1:]]) + "\n")
    assert cli.main(["fit", str(path), *fit]) == 0  # blank lines between rows are still skipped
    capsys.readouterr()


def test_plot_too_few_points_to_bootstrap(tmp_path: Path, capsys) -> None:
    """The refusal named bootstrap's scheme='points', which the CLI has not got: it says
    --bootstrap 0 instead, and that plots."""
    pytest.importorskip("matplotlib")
    csv = _write(tmp_path / "p3.csv", "N,loss\n1e8,3\n1e9,2.5\n1e10,2.2\n")
    png = tmp_path / "p3.png"
    argv = ["plot", str(csv), "--model", "power_law", "--x", "N", "--y", "loss", "-o", str(png)]
    assert cli.main(argv) == 2
    line = _err_line(capsys, "plot")
    assert ("--bootstrap 200: the band needs at least 4 points to resample the 2 free parameters of "
            f"power_law, {csv} has 3; give --bootstrap 0 to plot the fit without a band") in line
    assert "scheme" not in line and not png.exists()
    assert cli.main([*argv, "--fix", "alpha=0.07"]) == 0  # one free parameter: 3 points are enough
    assert png.exists()
    png.unlink()
    assert cli.main([*argv, "--bootstrap", "0"]) == 0
    assert png.exists() and capsys.readouterr().out.rstrip().endswith(f"plot written to {png}")


@pytest.mark.parametrize(("argv", "message"), [
    (["plot", "{csv}", "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--bootstrap", "0", "--level", "0.9"],
     "--level 0.9: no effect with --bootstrap 0"),
    (["plot", "{csv}", "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--bootstrap", "0", "--seed", "4"],
     "--seed 4: no effect with --bootstrap 0"),
    (["plot", "{csv}", "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--bootstrap", "0", "--seed", "0",
      "--band", "prediction"], "--seed 0, --band prediction: no effect with --bootstrap 0"),
    (["optimal", "--compute", "1e24", "--fit", "{csv}", "--bootstrap", "0", "--seed", "5"],
     "--seed 5: no effect with --bootstrap 0 (the fit alone, no intervals)"),
    (["optimal", "--compute", "1e24", "--fit", "{csv}", "--bootstrap", "0", "--level", "0.9"],
     "--level 0.9: no effect with --bootstrap 0"),
    (["optimal", "--loss", "2.5", "--fit", "{csv}", "--bootstrap", "50"], "--bootstrap 50: no effect without --compute"),
    (["optimal", "--loss", "2.5", "--fit", "{csv}", "--level", "0.9"], "--level 0.9: no effect without --compute"),
    (["refit", "{csv}", "--seed", "3"], "--seed 3: no effect with --bootstrap 0 (the default: Gauss-Newton intervals"),
    (["refit", "{csv}", "--shard-dir", "{tmp}/shards"], "no effect without --scheduler"),
    (["refit", "{csv}", "--table", "runs"], "--table runs: no effect with a CSV source"),
    (["refit", "{csv}", "--threads", "2", "--backend", "cuda"], "--threads 2: no effect with --backend cuda"),
    (["compare-runs", "{csv}", "--models", "chinchilla,kaplan_nd", "--shard-dir", "{tmp}/shards"],
     "no effect without --scheduler"),
    (["compare-runs", "{csv}", "--models", "chinchilla,kaplan_nd", "--threads", "2", "--backend", "cuda"],
     "--threads 2: no effect with --backend cuda"),
    (["compare", "{csv}", "--models", "chinchilla,kaplan_nd", "--x", "N,D", "--y", "loss", "--level", "0.95"],
     "--level sets the held-out points' prediction intervals: give --holdout K"),
    (["compare", "{csv}", "--models", "chinchilla,kaplan_nd", "--x", "N,D", "--y", "loss", "--holdout", "3",
      "--loss", "huber", "--level", "0.9"], "--level 0.9: no effect with --loss huber"),
    (["reproduce", "--studies", "gadre", "--bootstrap", "10"], "--bootstrap 10: no effect with --studies gadre"),
    (["reproduce", "--studies", "muennighoff,gadre", "--seed", "2"], "--seed 2: no effect with --studies muennighoff,gadre"),
    (["reproduce", "--studies", "gadre,epoch", "--bootstrap", "0", "--seed", "2"], "--seed 2: no effect with --bootstrap 0"),
])
def test_options_that_would_be_ignored_are_refused(tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    """An option that only acts on resamples (or a cluster, a DuckDB table, CPU threads) was
    silently ignored where there are none: `plot --bootstrap 0 --level 0.9` exited 0, as did
    `optimal --fit ... --bootstrap 0 --seed 5`, and `optimal --fit` without --compute ran 1,000
    resamples it never showed. Now a usage error naming the option as typed, before any work
    (nothing printed, no figure, no database)."""
    csv = str(_csv(tmp_path / "r.csv", n=20))
    assert cli.main([a.replace("{csv}", csv).replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    assert message in _err_line(capsys, argv[0])
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


def test_options_with_an_effect_are_kept(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """What does act is not refused: refit's --level sets its Gauss-Newton intervals without
    resamples, --threads acts with --backend auto (the CPU when there is no GPU), plot's band
    options with resamples; options left out get the defaults --help states."""
    import importlib
    from types import SimpleNamespace

    from scalingfit import refit as rf

    csv = str(_csv(tmp_path / "r.csv", n=30))
    seen: dict[str, object] = {}
    monkeypatch.setattr(rf, "refit", lambda *a, **k: seen.update(k) or SimpleNamespace(
        n_failed=0, db="r.duckdb", law="chinchilla", config_hash="0"))
    monkeypatch.setattr(rf, "failed_fits", lambda *a, **k: (0, []))  # the exit status reads the table
    assert cli.main(["refit", csv, "--level", "0.9", "--threads", "2", "--backend", "auto", "--quiet"]) == 0
    assert (seen["level"], seen["seed"], seen["bootstrap"], seen["threads"], seen["table"]) == (0.9, 0, 0, 2, "runs")
    sb = importlib.import_module("scalingfit.bootstrap")  # the module (the package's name is the function)
    calls: list[dict[str, object]] = []
    real = sb.bootstrap
    monkeypatch.setattr(sb, "bootstrap", lambda *a, **k: calls.append(k) or real(*a, **k))
    assert cli.main(["optimal", "--loss", "2.5", "--fit", csv, "--json"]) == 0  # the law alone: no resamples
    assert calls == [] and json.loads(capsys.readouterr().out)
    assert cli.main(["optimal", "--compute", "1e22", "--fit", csv, "--bootstrap", "20", "--seed", "3",
                     "--level", "0.9", "--json"]) == 0
    assert (calls[-1]["n_resamples"], calls[-1]["seed"], calls[-1]["level"]) == (20, 3, 0.9)
    capsys.readouterr()
    pytest.importorskip("matplotlib")
    from scalingfit import plot

    drawn: list[dict[str, object]] = []
    monkeypatch.setattr(plot, "plot_fit", lambda *a, **k: drawn.append(k))
    base = ["plot", csv, "--model", "chinchilla", "--x", "N,D", "--y", "loss", "-o", str(tmp_path / "f.png")]
    assert cli.main([*base, "--bootstrap", "20"]) == 0
    assert (calls[-1]["seed"], calls[-1]["level"], drawn[-1]["kind"]) == (0, 0.95, "confidence")
    assert cli.main([*base, "--bootstrap", "20", "--seed", "4", "--level", "0.8", "--band", "prediction"]) == 0
    assert (calls[-1]["seed"], calls[-1]["level"], drawn[-1]["kind"]) == (4, 0.8, "prediction")
    capsys.readouterr()


@pytest.mark.parametrize(("argv", "message"), [
    (["fit", "--p0", "1,2"], ("--p0 gives 2 value(s); chinchilla has 5 parameters: give a start for each, in "
                              "this order: E, A, B, alpha, beta")),
    (["fit", "--p0", ""], "--p0 gives 0 value(s); chinchilla has 5 parameters"),
    (["fit", "--p0=nan,400,400,0.3,0.3"], "--p0: the start of E must be finite, got nan"),
    (["fit", "--fix", "e=1.7"], "--fix: chinchilla has no parameter 'e'; its parameters are E, A, B, alpha, beta"),
    (["fit", "--fix", "E=inf"], "--fix: the value of E must be finite, got inf"),
    (["fit", "--fix", "E=1,A=400,B=400,alpha=0.3,beta=0.3"],
     "--fix holds every parameter of chinchilla (E, A, B, alpha, beta): nothing to fit"),
    (["fit", "--model", "kaplan_nd", "--fix", "N_c=-1"], "--fix: N_c=-1 is outside the parameter's bounds [0, inf]"),
    (["fit", "--model", "kaplan_nd", "--p0=1e13,-1,0.07,0.1"], "--p0: the start of D_c, -1, is outside its bounds [0, inf]"),
    (["plot", "--p0", "1,2,3", "--bootstrap", "0"], "--p0 gives 3 value(s); chinchilla has 5 parameters"),
    (["plot", "--model", "chinchilla_lse", "--fix", "E=0.5"],
     "--fix: chinchilla_lse has no parameter 'E'; its parameters are a, b, e, alpha, beta"),
    (["refit", "--fix", "e=1"], "--fix: chinchilla has no parameter 'e'; its parameters are E, A, B, alpha, beta"),
    (["refit", "--law", "chinchilla_huber", "--fix", "E=1"], "--fix: chinchilla_lse has no parameter 'E'"),
])
def test_option_values_are_checked_against_the_law(tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    """`fit --p0 1,2` and `fit --fix e=1.7` exited 1 with the library's message about its own
    arguments ("p0 must have 5 entries ... per start", "fixed names unknown parameter"): a
    value the command line can check against the law is a usage error (exit 2) naming the
    option and listing the law's parameters, before the file is read or a database made."""
    csv = str(_csv(tmp_path / "r.csv", n=20))
    command, *rest = argv
    law = [] if command == "refit" or "--model" in rest else ["--model", "chinchilla"]
    cols = [] if command == "refit" else ["--x", "N,D", "--y", "loss"]
    out = [] if command != "plot" else ["-o", str(tmp_path / "f.png")]
    assert cli.main([command, csv, *law, *cols, *rest, *out]) == 2
    assert message in _err_line(capsys, command)
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


def test_optimal_json_intervals_are_numbers(tmp_path: Path, capsys) -> None:
    """`optimal --json` wrote a fitted quantity as text, "3.671e+10  [95%: 2.702e+10, 4.987e+10]",
    where `fit --json` writes numbers: now value (in full), lower, upper and level are numbers,
    and the table as printed is unchanged."""
    from scalingfit import bootstrap, chinchilla_derived

    csv = _csv(tmp_path / "r.csv", n=60)
    argv = ["optimal", "--compute", "1e22", "--fit", str(csv), "--bootstrap", "40", "--seed", "2", "--level", "0.9"]
    assert cli.main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    fitted = {r["quantity"]: r for r in rows if r["section"].startswith("fit of")}
    cols = np.loadtxt(csv, delimiter=",", skiprows=1)
    b = bootstrap("chinchilla", cols[:, :2], cols[:, 2], n_resamples=40, seed=2, level=0.9, method="percentile",
                  derived=chinchilla_derived(1e22, model="chinchilla"))
    assert list(fitted) == ["N_opt", "D_opt", "tokens_per_param", "L_opt", "a_opt"]
    for name, r in fitted.items():
        lo, hi = b.ci(name)
        assert r["value"] == b.summary().to_dict()[name]["estimate"]  # full precision, not 4 digits
        assert (r["lower"], r["upper"], r["level"]) == (float(lo), float(hi), 0.9)
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, r in fitted.items():  # as printed before: 4 digits, the interval in brackets
        line = next(ln for ln in lines if ln.split()[:1] == [name])
        assert line.endswith(f"  {r['value']:.4g}  [90%: {r['lower']:.4g}, {r['upper']:.4g}]"), line
    assert cli.main(["optimal", "--compute", "1e22", "--fit", str(csv), "--bootstrap", "0", "--json"]) == 0
    plain = [r for r in json.loads(capsys.readouterr().out) if r["section"].startswith("fit of")]
    assert all(set(r) == {"section", "quantity", "value"} and isinstance(r["value"], float) for r in plain)


def test_help_states_every_default() -> None:
    """Every option's --help gives its default: `fit --loss` said "robust loss", refit's
    --metric "('' for all)", and the options that now default to None (so that one given can
    be refused where it has no effect) state the value they then take."""
    import argparse

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, p in sub.choices.items():
        for action in p._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                assert "default" in action.help and str(action.default) in action.help, \
                    (command, action.option_strings, action.help)
    stated = {("plot", "--seed"): "default 0", ("plot", "--level"): "default 0.95",
              ("plot", "--band"): "confidence, default", ("refit", "--seed"): "default 0",
              ("refit", "--table"): "default runs", ("compare-runs", "--table"): "default runs",
              ("compare", "--level"): "default 0.95", ("reproduce", "--bootstrap"): "default 4000",
              ("reproduce", "--seed"): "default 0", ("optimal", "--bootstrap"): "default 1000",
              ("optimal", "--seed"): "default 0", ("optimal", "--level"): "default 0.95"}
    for (command, option), text in stated.items():
        action = next(a for a in sub.choices[command]._actions if option in a.option_strings)
        assert action.default is None and text in action.help, (command, option, action.help)
    assert cli._BAND == {"seed": 0, "level": 0.95, "band": "confidence"}
    assert cli._WITH_FIT["bootstrap"] == 1000 and cli._WITH_FIT["seed"] == 0 and cli._WITH_FIT["level"] == 0.95


def test_studies_without_resamples() -> None:
    """reproduce refuses --bootstrap/--seed for studies that draw none: those named must be
    studies, and draw none (no interval, the same numbers whatever the resamples)."""
    from scalingfit import reproduce as rp

    assert cli._STUDIES_WITHOUT_RESAMPLES < set(rp.STUDIES)
    shipped = sorted(cli._STUDIES_WITHOUT_RESAMPLES - {"wu"})  # wu's data are not shipped
    with_resamples = rp.reproduce(shipped, n_bootstrap=20, seed=3)
    without = rp.reproduce(shipped, n_bootstrap=0)
    assert with_resamples.checks and with_resamples.checks == without.checks
    assert all(c.ours_interval is None for c in with_resamples.checks)


def test_optimal_json_published_law_rows_at_full_precision(capsys) -> None:
    """`optimal --json` wrote the published law's rows as the table prints them (4 digits:
    N = 3.219e+10); now the numbers themselves, equal to the planning API's to 1e-12, while the
    text table still prints 4 digits."""
    import pickle

    from scalingfit import planning
    from scalingfit.planning._common import Figure

    args = ["optimal", "--compute", "5.76e23", "--inference-tokens", "2e12", "--unique-tokens", "1e12",
            "--law", "hoffmann2022"]
    assert cli.main(args + ["--json"]) == 0
    rows = {(r["section"], r["quantity"]): r["value"] for r in json.loads(capsys.readouterr().out)}
    law = planning.as_law(planning.HOFFMANN_2022)
    N, D = law.optimal_allocation(5.76e23)
    sec = "compute-optimal at C = 5.76e+23 FLOP"
    assert rows[(sec, "parameters N")] == pytest.approx(float(N), rel=1e-12)
    assert rows[(sec, "parameters N")] != float(f"{float(N):.4g}")
    assert rows[(sec, "loss")] == pytest.approx(float(law.loss(N, D)), rel=1e-12)
    inf = planning.inference_optimal(float(law.loss(N, D)), 2e12, planning.HOFFMANN_2022)
    [inf_N] = [v for (s, q), v in rows.items() if s.startswith("inference-aware") and q == "parameters N"]
    assert inf_N == pytest.approx(float(inf.N), rel=1e-12)
    assert cli.main(args) == 0
    assert re.search("parameters N +" + re.escape(f"{float(N):.4g}") + "\n", capsys.readouterr().out)
    f = Figure(float(N))
    assert pickle.loads(pickle.dumps(f)).value == f.value and pickle.loads(pickle.dumps(f)) == f


def test_fit_prints_intervals_wald_or_bootstrap(tmp_path: Path, capsys) -> None:
    """`fit` printed standard errors only; intervals needed Python. Now Wald intervals (t on
    n - p) by default and bootstrap percentile ones with --bootstrap N, equal to the Python
    API's on the same rows; --seed without resamples is refused (exit 2)."""
    import scalingfit
    from scalingfit.uncertainty import wald_intervals

    path = _csv(tmp_path / "r.csv", n=40)
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = (data[:, 0], data[:, 1]), data[:, 2]
    argv = ["fit", str(path), "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--json"]
    assert cli.main(argv + ["--level", "0.9"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = wald_intervals(scalingfit.fit("chinchilla", x, y), 0.9)
    for name, (lo, hi) in want.items():
        assert out["intervals"][name] == pytest.approx([lo, hi], rel=1e-8)
    assert out["level"] == 0.9 and out["interval_method"].startswith("Wald")
    assert cli.main(argv + ["--bootstrap", "60", "--seed", "4"]) == 0
    out = json.loads(capsys.readouterr().out)
    b = scalingfit.bootstrap("chinchilla", x, y, n_resamples=60, seed=4, method="percentile")
    for name in b.param_names:
        assert out["intervals"][name] == pytest.approx(list(b.ci(name)), rel=1e-8)
    assert "60 resamples, seed 4" in out["interval_method"]
    assert cli.main(argv[:-1]) == 0
    assert "95% intervals (Wald, Student's t on 35 degrees of freedom):" in capsys.readouterr().out
    assert cli.main(argv + ["--seed", "1"]) == 2
    assert "--seed 1: no effect with --bootstrap 0" in capsys.readouterr().err
    assert cli.main(argv + ["--bootstrap", "1"]) == 2


def test_optimal_trained_model_verdict(tmp_path: Path, capsys) -> None:
    """--trained N,D: the compute 6ND, the law's N_opt for it (closed form here: N_opt =
    G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta))), N/N_opt and the
    factor-2 verdict; with --fit, the bootstrap interval of N/N_opt from the same resamples as
    training_verdict's and the share of resamples agreeing."""
    E, A, B, alpha, beta = 1.69, 406.4, 410.7, 0.34, 0.28  # Hoffmann et al.
    law = f"E={E},A={A},B={B},alpha={alpha},beta={beta}"
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    for (N, D), verdict in (((175e9, 300e9), "under-trained"), ((30e9, 3e12), "near-optimal"),
                            ((8e9, 15e12), "over-trained")):
        assert cli.main(["optimal", "--trained", f"{N},{D}", "--law", law, "--json"]) == 0
        rows = {r["quantity"]: r["value"] for r in json.loads(capsys.readouterr().out)
                if r["section"].startswith("trained model")}
        n_opt = G * (N * D) ** (beta / (alpha + beta))
        assert rows["compute C"] == pytest.approx(6 * N * D, rel=1e-12)
        assert rows["compute-optimal N"] == pytest.approx(n_opt, rel=1e-10)
        assert rows["compute-optimal D"] == pytest.approx(6 * N * D / 6 / n_opt, rel=1e-10)
        assert rows["N / N_opt"] == pytest.approx(N / n_opt, rel=1e-10)
        assert rows["verdict (factor 2)"] == verdict
        assert rows["loss"] == pytest.approx(E + A / N**alpha + B / D**beta, rel=1e-10)
        assert rows["loss at the optimum"] < rows["loss"]
    csv = _csv(tmp_path / "r.csv", n=60)
    assert cli.main(["optimal", "--trained", "175e9,300e9", "--fit", str(csv), "--bootstrap", "60",
                     "--seed", "1", "--json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["section"].startswith("trained model")]
    ratio = next(r for r in rows if r["quantity"] == "N / N_opt" and "lower" in r)
    agree = next(r for r in rows if r["quantity"] == "resamples agreeing with the verdict")
    verdict = next(r for r in rows if r["quantity"] == "verdict (factor 2)" and "fit of" in r["section"])
    assert ratio["lower"] < ratio["value"] < ratio["upper"] and 0 < agree["value"] <= 1
    from scalingfit import allocation, bootstrap

    cols = np.loadtxt(csv, delimiter=",", skiprows=1)
    b = bootstrap("chinchilla", cols[:, :2], cols[:, 2], n_resamples=60, seed=1, method="percentile")
    (v,) = allocation.training_verdict([("m", 175e9, 300e9)], b, show=False)
    assert (ratio["lower"], ratio["upper"], agree["value"]) == (v.ratio_law_low, v.ratio_law_high, v.agreement)
    assert verdict["value"] == v.verdict_law
    for bad, message in (("175e9", "--trained must be N,D"), ("1e9,0", "D must be finite and > 0"),
                         ("1e9,x", "--trained: expected comma-separated numbers")):
        assert cli.main(["optimal", "--trained", bad]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize(("blocked", "argv", "message"), [
    ("pandas", ["demo", "--sweeps", "3", "--no-plots"], "this feature needs pandas: pip install 'scalingfit[db]'"),
    ("duckdb", ["demo", "--sweeps", "3", "--no-plots"], "this feature needs duckdb: pip install 'scalingfit[db]'"),
    ("scipy", ["bench", "--quick"], "times the engine against scipy, which is not installed: pip install scipy"),
])
def test_a_missing_optional_dependency_names_its_install(tmp_path: Path, blocked: str, argv: list[str],
                                                         message: str) -> None:
    """`scalingfit demo` in a numpy-only install said "No module named 'pandas'" and `bench`
    "No module named 'scipy'": now what to install, exit status 1 and no traceback."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import sys
        sys.modules[{blocked!r}] = None  # import {blocked} fails
        from scalingfit.cli import main
        sys.exit(main({argv!r}))
    """)
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert out.returncode == 1, (out.returncode, out.stderr[-2000:])
    assert message in out.stderr and "Traceback" not in out.stderr, out.stderr[-2000:]


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    """`scalingfit optimal ... | head -1` printed "error: [Errno 32] Broken pipe" (or Python's
    "Exception ignored ... BrokenPipeError" at exit): now nothing on stderr, status 141 (128 +
    SIGPIPE, as a shell reports a command its reader left)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "scalingfit", "optimal", "--compute", "1e24",
                             "--unique-tokens", "1e13"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141 and err == "", err
