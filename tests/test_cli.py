"""The command line: every subcommand, its output, and exit codes 0/1/2."""

from __future__ import annotations

import json
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
    (["cuda-compile", "--arch", "sm_xx"], 1, "arch must be a real or virtual architecture such as sm_90"),
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
    assert "95%" in fitted[0]["value"]


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
    assert f"plot written to {png}" in out
    rows = json.loads(out[: out.rindex("]") + 1])
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
