"""Memory cap: batches split to respect ``max_memory``, with the same bits; 10 million
bootstrap items within 2 GiB of RSS on the CPU path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit.bootstrap import bootstrap, bootstrap_batch


def _problems(n_problems: int, n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    N = np.tile(np.logspace(7, 10, n), n_problems)
    y = (1.7 + 400 * N ** -0.3) * (1 + 0.01 * rng.standard_normal(N.size))
    return N, y, np.arange(0, N.size + 1, n, dtype=np.int64)


def test_split_batches_are_bit_identical() -> None:
    N, y, off = _problems(40)
    whole = scalingfit.fit_batch("saturating_power_law", N, y, off, max_memory=1 << 30)
    fixed = 8 * N.size * 2 + off.size  # prepared inputs and targets, valid flags
    per_item = 8 * 3 + 8 * 9 + 16
    split = scalingfit.fit_batch("saturating_power_law", N, y, off, max_memory=fixed + 3 * per_item)
    for a, b in ((whole.x, split.x), (whole.cov, split.cov), (whole.cost, split.cost),
                 (whole.status, split.status), (whole.iterations, split.iterations)):
        assert np.array_equal(a, b, equal_nan=True)
    kw = dict(n_resamples=30, method="bca", keep_cov=True, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)
        one = bootstrap_batch("saturating_power_law", N, y, off, max_memory=1 << 30, **kw)
        many = bootstrap_batch("saturating_power_law", N, y, off, max_memory=40_000, **kw)
    for a, b in ((one.samples, many.samples), (one.sample_cov, many.sample_cov),
                 (one.center_cov, many.center_cov), (one.status, many.status), (one.ci("alpha"), many.ci("alpha"))):
        assert np.array_equal(a, b, equal_nan=True)
    r1 = bootstrap("saturating_power_law", N[:6], y[:6], scheme="wild", n_resamples=50, seed=2)
    r2 = bootstrap("saturating_power_law", N[:6], y[:6], scheme="wild", n_resamples=50, seed=2, max_memory=5_000)
    assert np.array_equal(r1.samples, r2.samples, equal_nan=True)


def test_too_small_a_cap_is_a_clear_error() -> None:
    N, y, off = _problems(4)
    with pytest.raises(ValueError, match=r"max_memory=100 bytes is too small.*scratch and each item"):
        scalingfit.fit_batch("saturating_power_law", N, y, off, max_memory=100)
    with pytest.raises(ValueError, match="max_memory must be a positive number of bytes"):
        bootstrap_batch("saturating_power_law", N, y, off, max_memory=-1)


@pytest.mark.slow
def test_ten_million_bootstrap_items_within_two_gib() -> None:
    """10,000 problems x 1,000 resamples (plus replicate -1 of each): 10,010,000 items, in a
    fresh process whose peak RSS (ru_maxrss) is the measure. The result alone (samples and
    statuses) is 200 MB; the cap keeps the solver's working memory near max_memory."""
    script = textwrap.dedent("""
        import json, resource, time, warnings
        import numpy as np
        import scalingfit
        from scalingfit.bootstrap import bootstrap_batch
        rng = np.random.default_rng(0)
        N = np.tile(np.logspace(7, 10, 5), 10_000)
        y = 400 * N ** -0.3 * (1 + 0.02 * rng.standard_normal(N.size))
        off = np.arange(0, N.size + 1, 5, dtype=np.int64)
        center = scalingfit.fit_batch("power_law", N, y, off, compute_cov=False).x
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)
            r = bootstrap_batch("power_law", N, y, off, n_resamples=1000, center=center,
                                method="percentile", seed=1, max_memory=128 << 20)
        ci = r.ci("alpha")
        print(json.dumps(dict(
            peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, before=before,
            result=r.samples.nbytes + r.status.nbytes, seconds=time.perf_counter() - t0,
            items=int(r.status.size + r.center_status.size), ok=int((r.status > 0).sum()),
            finite_ci=bool(np.isfinite(ci).all()))))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                         check=False)
    assert out.returncode == 0, out.stderr
    m = json.loads(out.stdout.strip().splitlines()[-1])
    assert m["items"] == 10_010_000 and m["finite_ci"]
    assert m["ok"] > 0.99 * 10_000_000
    assert m["peak"] < 2 << 30, m
    # Beyond the data and the result: the 128 MiB cap plus interval-time temporaries.
    assert m["peak"] - m["before"] < m["result"] + (128 << 20) + (200 << 20), m


def test_a_bootstrap_whose_results_cannot_fit_is_refused_before_fitting(monkeypatch) -> None:
    """1,000 problems x 500,000 resamples were accepted on a 24 GB machine and grew toward the
    OOM killer for about 35 minutes; the result's size is now checked against the memory
    available (MemAvailable + SwapFree) first (for results of 64 MiB or more: a smaller one is
    not worth reading /proc for). Here the available memory is made 100 MiB: 200 problems x
    10,000 resamples of 3 parameters need 200 * 10,000 * (2 * 8 * 3 + 16) bytes = 122 MiB."""
    from scalingfit import _fit

    N = np.tile(np.logspace(7, 10, 10), 200)
    y = 1.7 + 400 * N**-0.3
    off = np.arange(201) * 10
    monkeypatch.setattr(_fit, "available_memory", lambda: 100 << 20)
    with pytest.raises(MemoryError, match=r"2,000,000 replicates need about 0\.1 GiB .* more than the 0\.1 GiB"):
        bootstrap_batch("saturating_power_law", N, y, off, n_resamples=10_000)
    monkeypatch.setattr(_fit, "available_memory", lambda: 1 << 20)  # 1 MiB, not read for 0.5 MiB
    bootstrap_batch("saturating_power_law", N, y, off, n_resamples=40)
    monkeypatch.setattr(_fit, "available_memory", lambda: None)  # unknown: not checked
    bootstrap_batch("saturating_power_law", N, y, off, n_resamples=100)
