"""Data-driven starts are guessed in batches of whole problems (``_fit.guess_starts``): the
same guesses as one batch, and scratch memory bounded by the batch, not the whole input."""
import tracemalloc

import numpy as np
import pytest
import scalingfit as sf
from scalingfit import _fit


def _sweeps(model, n_problems, n_points, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(n_points // 2, 2 * n_points, n_problems)
    counts[::7] = 0  # empty problems (status -3) on the batch edges too
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n = int(off[-1])
    if model in ("chinchilla", "kaplan_nd"):
        N, D = np.exp(rng.uniform(16, 22, n)), np.exp(rng.uniform(19, 25, n))
        x = np.column_stack([N, D])
        y = 1.8 + 400 / N**0.34 + 410 / D**0.28
    else:
        x = np.exp(rng.uniform(15, 22, (n, 1)))
        y = 1.7 + 300 / x[:, 0] ** 0.3
    y = y * np.exp(rng.normal(0, 0.01, n))
    y[5] = np.nan  # one unusable problem
    return x, y, off


@pytest.mark.parametrize("model", ["saturating_power_law", "power_law", "chinchilla", "kaplan_nd"])
def test_batched_guesses_equal_one_batch(model):
    m = _fit.resolve_model(model)
    x, y, off = _sweeps(model, 300, 12)
    whole = _fit._guess_starts(m, x, y, off, m.lower, m.upper)
    for budget in (256, 256 * 40, 256 * 1000):  # one point a batch (a problem each), ~40, ~1000
        batched = _fit.guess_starts(m, x, y, off, m.lower, m.upper, max_memory=budget)
        np.testing.assert_array_equal(batched, whole)
    bad = int(np.searchsorted(off, 5, side="right")) - 1  # the problem holding y[5] = NaN
    empty = np.diff(off) == 0
    assert np.isnan(whole[bad]).all() and np.isnan(whole[empty]).all()
    assert np.isfinite(np.delete(whole, np.flatnonzero(empty).tolist() + [bad], axis=0)).all()


def test_guess_chunks_cover_every_problem_once():
    off = np.array([0, 0, 5, 5, 30, 31, 31, 40], dtype=np.int64)
    for points in (1, 4, 6, 26, 1000):
        chunks = _fit.guess_chunks(off, points)
        assert chunks[0][0] == 0 and chunks[-1][1] == 7
        assert all(a < b for a, b in chunks)
        assert all(b == a2 for (_, b), (a2, _) in zip(chunks, chunks[1:]))
        # a batch of more than one problem stays within the budget
        assert all(off[b] - off[a] <= points for a, b in chunks if b - a > 1)


def test_fit_batch_under_max_memory_same_bits_less_scratch():
    x, y, off = _sweeps("saturating_power_law", 40_000, 10, seed=1)
    m = _fit.resolve_model("saturating_power_law")
    peaks = []
    for cap in (None, 2**22):
        tracemalloc.start()
        _fit.guess_starts(m, x, y, off, m.lower, m.upper, max_memory=cap)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    out_bytes = 8 * 3 * 40_000  # the guesses themselves
    assert peaks[1] < out_bytes + 2**22 < peaks[0]
    a = sf.fit_batch("saturating_power_law", x, y, off)
    b = sf.fit_batch("saturating_power_law", x, y, off, max_memory=2**24)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.status, b.status)
