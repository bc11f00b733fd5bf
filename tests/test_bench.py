"""The benchmark harness behind ``scalingfit bench`` runs (tiny sizes; speed is never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scalingfit import _bench
from scalingfit.cli import main


def test_suite_rows_have_both_timings_and_agree_with_scipy() -> None:
    rows = _bench.core_suite(threads=2, quick=True, cases=("P1",))
    assert [r.threads for r in rows] == [1, 2]
    for r in rows:
        assert r.scalingfit_us_per_fit > 0 and r.scipy_us_per_fit > 0
        assert r.ratio == r.scipy_us_per_fit / r.scalingfit_us_per_fit
        assert r.max_rel_diff_vs_scipy < 1e-5
        assert r.simd
    assert "P1 saturating power law" in _bench.format_table(rows)


def test_bootstrap_rows_small() -> None:
    rows = _bench.bench_p4([1], n_resamples=50, scipy_subset=3, repeat=1)
    rows += _bench.bench_bulk([2], n_sweeps=5, n_points=50, n_resamples=20, scipy_subset=3)
    assert [r.n_fits for r in rows] == [50, 100]
    assert all(np.isfinite(r.ratio) for r in rows)


def test_cli_plot_writes_the_scaling_plot(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "scaling.png"
    assert main(["bench", "--plot", str(out), "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["batch_size"] == [1, 10, 100, 1000]
    assert set(data["fits_per_s"]) == {"1", "2"}
    assert out.stat().st_size > 1000
