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


@pytest.mark.parametrize(("argv", "message"), [
    (["optimal", "--compute", "1e24", "--epochs", "1,x"], "--epochs: expected comma-separated numbers, got '1,x'"),
    (["fit", "{csv}", "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--p0", "1,b"],
     "--p0: expected comma-separated numbers, got '1,b'"),
    (["bench", "--bulk-sweeps", "-3"], "bulk_sweeps (--bulk-sweeps) must be at least 1, got -3"),
    (["cuda-compile", "--arch", "sm_xx"], "arch must be a real or virtual architecture such as sm_90"),
    (["refit", "{csv}", "--group-by", "N", "--threads", "0"], "threads must be a positive integer, got 0"),
])
def test_bad_option_values_are_named(tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    """A bad option value is an error naming the option (the messages were numpy's or NVRTC's,
    "could not convert string to float: 'x'", "negative dimensions are not allowed"); refit
    says so before it creates the results database."""
    csv = str(_csv(tmp_path / "r.csv", n=8))
    assert cli.main([a.replace("{csv}", csv) for a in argv]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.csv.fits.duckdb").exists()


def test_optimal_published_and_fitted(tmp_path: Path, capsys) -> None:
    assert cli.main(["optimal", "--compute", "5.88e23", "--json"]) == 0
    rows = {r["quantity"]: r["value"] for r in json.loads(capsys.readouterr().out)}
    assert float(rows["tokens per parameter"]) == pytest.approx(18.33, rel=1e-3)  # Epoch's law
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
        (["--bootstrap", "-1"], "--bootstrap must be >= 0, got -1"),
    ):
        assert cli.main(["plot", str(one), "--model", "saturating_power_law", "--x", "N", "--y", "loss", *extra]) == 1
        captured = capsys.readouterr()
        assert message in captured.err and "FitResult" not in captured.out  # refused before the fit
    assert not (tmp_path / "x.nope").exists() and not (tmp_path / "one.fit.png").exists()
    assert cli.main(["plot", str(csv), "--model", "chinchilla", "--x", "N,D", "--y", "loss",
                     "--extrapolate", "1e12"]) == 1
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
