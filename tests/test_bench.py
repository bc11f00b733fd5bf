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


def test_bulk_baseline_times_sweeps_spread_over_the_batch(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """scipy was timed on the first sweep's resamples only, and that sweep happened to be about
    3x slower than the median one, inflating the ratio. The baseline now runs on resamples of
    sweeps spread from the first to the last, each with its own data, warm start and
    resamples (problem id), and the per-fit time divides by the number of fits timed."""
    calls: list[tuple[int, list[int], np.ndarray, np.ndarray]] = []
    real = _bench.scipy_resamples

    def recording(x, y, start, seed, replicates, problem_id=0):  # type: ignore[no-untyped-def]
        calls.append((problem_id, list(replicates), x.copy(), start.copy()))
        return real(x, y, start, seed, replicates, problem_id=problem_id)

    monkeypatch.setattr(_bench, "scipy_resamples", recording)
    (row,) = _bench.bench_bulk([1], n_sweeps=30, n_points=50, n_resamples=20, scipy_subset=10)
    timed = calls[1:]  # the first call is the untimed warm-up
    assert [c[0] for c in timed] == [0, 3, 6, 10, 13, 16, 19, 23, 26, 29]
    assert all(c[1] == [0] for c in timed)
    p = _bench.make_problems("chinchilla", 30, 50, seed=5)
    center = _bench.fit_batch(p.model, p.x, p.y, p.offsets, p.p0, compute_cov=False).x
    for j, _, x, start in timed:
        np.testing.assert_array_equal(x, p.x[p.offsets[j]:p.offsets[j + 1]])
        np.testing.assert_array_equal(start, center[j])
    assert row.max_rel_diff_vs_scipy < 1e-4  # the same resamples as bootstrap_batch's
    assert "scipy on 1 resample(s) of each of 10 sweep(s) spread over the batch" in row.note
