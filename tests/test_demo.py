"""The README's first command, small: the demo runs end to end and writes what it says."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("matplotlib")

from scalingfit import _demo, cli


def test_demo_end_to_end(tmp_path: Path, shared_data: Path) -> None:
    out = io.StringIO()
    epoch = shared_data / "epoch_chinchilla_fig4" / "chinchilla_fig4.csv"
    rc = _demo.run(n_sweeps=200, seed=1, out=out, folder=str(tmp_path / "demo"), bootstrap=30,
                   epoch_csv=str(epoch))
    text = out.getvalue()
    assert rc == 0
    assert "200 groups fitted (0 failed)" in text
    m = re.search(r"compute-optimal exponent a = beta/\(alpha\+beta\): median \|error\| ([0-9.]+)", text)
    assert m and float(m.group(1)) < 0.05
    cover = [float(v) for v in re.findall(r"(?:E|A|B|alpha|beta) ([0-9.]+)%", text.split("cover the truth:")[1].splitlines()[0])]
    assert len(cover) == 5 and all(80 <= c <= 100 for c in cover)
    m = re.search(r"which law\? 200 sweeps scored by AICc .*: chinchilla best on (\d+)%, alpha = beta "
                  r"\(chinchilla_tied\) on (\d+)%, kaplan_nd on (\d+)%", text)
    assert m and int(m.group(3)) == 0 and int(m.group(1)) + int(m.group(2)) == 100  # drawn from Chinchilla laws
    from scalingfit.refit_compare import read_comparisons

    assert read_comparisons(tmp_path / "demo" / "runs.duckdb")["sweep"].nunique() == 200
    assert "E=1.817" in text  # Epoch's data refitted: E = 1.8172
    law_rows = {ln.split()[0]: ln.split() for ln in text.splitlines() if ln.startswith("   chinchilla")}
    assert law_rows["chinchilla"][1] == "ok" and "chinchilla_tied" in law_rows  # the which-law table
    assert re.search(r"alpha = beta\? F\(1, \d+\) = [0-9.]+, p = ", text)
    for model, verdict in (("GPT-3", "under-trained"), ("Chinchilla", "near-optimal"), ("LLaMA-3.1-8B", "over-trained")):
        line = next(ln for ln in text.splitlines() if ln.startswith(model + " "))
        assert verdict in line.split("|")[1], line
    for name in ("loss_vs_compute", "isoflop", "loss_surface", "exponents", "extrapolation"):
        png = tmp_path / "demo" / f"{name}.png"
        assert png.is_file() and png.stat().st_size > 10_000, name


def test_cli_demo_without_epoch_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # no shared/data here
    monkeypatch.delenv("SCALINGFIT_EPOCH_CSV", raising=False)
    monkeypatch.delenv("SCALINGFIT_DATA", raising=False)
    rc = cli.main(["demo", "--sweeps", "50", "--bootstrap", "0", "--out", "d"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "Epoch AI's Chinchilla data (epoch_chinchilla_fig4/) not found in $SCALINGFIT_DATA" in text
    assert "set SCALINGFIT_DATA" in text and "SCALINGFIT_EPOCH_CSV" not in text  # as reproduce's --data
    assert "50 groups fitted" in text and (tmp_path / "d" / "runs.duckdb").is_file()
    # The plots too (the suite turns warnings into errors: the IsoFLOP plot of the scattered
    # synthetic runs used to be empty, with a warning about its empty legend).
    for name in ("loss_vs_compute", "isoflop", "loss_surface", "exponents", "extrapolation"):
        assert (tmp_path / "d" / f"{name}.png").stat().st_size > 10_000, name


@pytest.mark.parametrize(("argv", "rc", "message"), [
    (["--sweeps", "0"], 2, "--sweeps must be >= 1, got 0"),
    (["--sweeps", "-5"], 2, "--sweeps must be >= 1, got -5"),
    (["--bootstrap", "1"], 2, "--bootstrap must be 0 (no intervals) or >= 2 resamples, got 1"),
    (["--threads", "0"], 2, "--threads must be >= 1, got 0"),
    (["--seed", "-1"], 2, "--seed must be >= 0, got -1"),
    (["--epoch", "nonexist.csv"], 1, "--epoch nonexist.csv: no such file"),
])
def test_cli_demo_refuses_bad_options_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                            argv: list[str], rc: int, message: str) -> None:
    """Bad demo options are named before any work (--sweeps 0 failed in DuckDB, "Table fits
    does not exist", --sweeps -5 in numpy, "negative dimensions are not allowed"; a missing
    --epoch file was reported as if none had been given)."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", *argv, "--out", "d"]) == rc
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"scalingfit demo: error: {message}"]
    assert captured.out == "" and not (tmp_path / "d").exists()


def test_find_epoch_data_explicit_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.csv: no such file"):
        _demo.find_epoch_data(str(tmp_path / "nope.csv"))
