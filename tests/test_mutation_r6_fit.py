"""Mutation round 6: _fit.py. Documented contracts of the batch plumbing and of the robust-fit
notes, each checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import _fit
from scalingfit.models import get

M = get("saturating_power_law")  # E + A * x^-alpha
P_TRUE = np.array([2.0, 100.0, 0.3])


def _points(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.logspace(7, 10, n).reshape(-1, 1)
    return x, P_TRUE[0] + P_TRUE[1] * x[:, 0] ** -P_TRUE[2]


def test_threads_are_never_more_than_the_items() -> None:
    # "threads ... but no more than there are items"
    assert _fit._check_threads(8, 3) == 3
    assert _fit._check_threads(1, 3) == 1
    assert _fit._check_threads(2, 1) == 1


def test_item_chunks_split_the_room_left_after_the_data() -> None:
    # max_memory caps fixed_bytes + items * item_bytes: (1000 - 100) // 200 = 4 items a call
    assert _fit.item_chunks(10, 200, 100, 1000) == [(0, 4), (4, 8), (8, 10)]
    assert _fit.item_chunks(4, 200, 100, 900) == [(0, 4)]
    assert _fit.item_chunks(5, 200, 100, 900) == [(0, 4), (4, 5)]
    # room for less than one item: a ValueError, not one item a call beyond the cap
    with pytest.raises(ValueError, match="max_memory=1,000 bytes is too small for this batch"):
        _fit.item_chunks(10, 1000, 500, 1000)
    with pytest.raises(ValueError, match="too small"):
        _fit.item_chunks(3, 200, 1000, 1100)


def test_fit_batch_names_a_problem_index_equal_to_the_count() -> None:
    x, y = _points(8)
    xx, yy = np.r_[x[:, 0], x[:, 0]], np.r_[y, y]
    with pytest.raises(ValueError, match=r"problem\[1\] = 2 is not a problem index \(0..1\)"):
        scalingfit.fit_batch("saturating_power_law", xx, yy, [0, 8, 16], np.ones((2, 3)), problem=[0, 2])


def test_robust_errors_note_counts_residuals_within_f_scale_itself() -> None:
    # 6 of 10 residuals at |r| = 1.5 (beyond f_scale = 1, within 2 f_scale), 4 at 0.1: fewer than
    # half within f_scale, so the note is given, naming 4 of 10
    x, y = _points(10)
    r = np.array([1.5, -1.5, 0.1, 1.5, -0.1, -1.5, 0.1, 1.5, -0.1, -1.5])
    note = _fit.robust_errors_note(M, x, y - r, None, P_TRUE, "huber", 1.0, False)
    assert note.startswith("4 of 10 residuals lie within f_scale = 1;")
    # exactly half within: no note ("at least ROBUST_MIN_INSIDE")
    r2 = np.where(np.arange(10) < 5, 0.5, 1.5)
    assert _fit.robust_errors_note(M, x, y - r2, None, P_TRUE, "huber", 1.0, False) == ""


def test_robust_noop_note_needs_residual_degrees_of_freedom() -> None:
    # as many points as parameters: no residual degrees of freedom, no note (and no spread
    # with n - p = 0 in a denominator)
    x, y = _points(3)
    r = np.array([1e-3, -2e-3, 1e-3])
    assert _fit.robust_noop_note(M, x, y - r, None, P_TRUE, "huber", 1.0, False) == ""
    # one more point: every |r| under f_scale / 3, the note with the MAD spread
    # 1.4826 * median(|r|) * sqrt(n / (n - p)) = 1.4826 * 1.5e-3 * 2 = 0.0044
    x4, y4 = _points(4)
    r4 = np.array([1e-3, -2e-3, 1e-3, 2e-3])
    note = _fit.robust_noop_note(M, x4, y4 - r4, None, P_TRUE, "huber", 1.0, False)
    assert "(about 0.0044 here;" in note


def test_fit_batch_with_fewer_starts_than_problems_needs_problem() -> None:
    x, y = _points(8)
    xx, yy = np.r_[x[:, 0], x[:, 0], x[:, 0]], np.r_[y, y, y]
    with pytest.raises(ValueError, match="p0 has 2 starts but there are 3 problems; pass problem="):
        scalingfit.fit_batch("saturating_power_law", xx, yy, [0, 8, 16, 24], np.ones((2, 3)))


def test_usable_problems_need_inputs_above_zero_for_log_laws() -> None:
    # "inputs > 0 for a law of log inputs": a problem with an input of 0 cannot start a fit
    x, y = _points(8)
    x0 = x.copy()
    x0[3, 0] = 0.0
    xx, yy = np.vstack([x, x0]), np.r_[y, y]
    lo, hi = np.full(3, -np.inf), np.full(3, np.inf)
    ok = _fit.usable_problems(M, xx, yy, np.array([0, 8, 16]), lo, hi)
    assert ok.tolist() == [True, False]


def test_guess_starts_batches_whole_problems_of_max_memory_over_256_points(monkeypatch) -> None:
    # "in batches of whole problems of at most max_memory / 256 points": 10 points a batch,
    # problems of 4 points each -> batches of 2, 2 and 1 problems
    calls: list[int] = []
    real = _fit._guess_starts

    def spy(m, x, y, offsets, lo, hi):  # type: ignore[no-untyped-def]
        calls.append(offsets.shape[0] - 1)
        return real(m, x, y, offsets, lo, hi)

    monkeypatch.setattr(_fit, "_guess_starts", spy)
    x, y = _points(4)
    xx, yy = np.tile(x, (5, 1)), np.tile(y, 5)
    off = np.arange(0, 21, 4, dtype=np.int64)
    lo, hi = np.full(3, -np.inf), np.full(3, np.inf)
    _fit.guess_starts(M, xx, yy, off, lo, hi, max_memory=256 * 10)
    assert calls == [2, 2, 1]


def test_a_partly_nan_batched_guess_falls_back_to_the_single_problem_guess() -> None:
    # "A problem the batched grid could not solve ...: the single-problem guess"; a row with any
    # NaN is such a problem (a stand-in model: its batched guess leaves one entry NaN)
    class Stub:
        n_params = 2
        positive_inputs = False

        @staticmethod
        def batch_guess(x, y, pid, k):  # type: ignore[no-untyped-def]
            return np.array([[1.0, np.nan], [2.0, 3.0]])

        @staticmethod
        def initial_guess(x, y):  # type: ignore[no-untyped-def]
            return np.array([7.0, 8.0])

    x = np.arange(8.0).reshape(-1, 1)
    out = _fit._guess_starts(Stub(), x, x[:, 0], np.array([0, 4, 8]), np.full(2, -np.inf),  # type: ignore[arg-type]
                             np.full(2, np.inf))
    assert out.tolist() == [[7.0, 8.0], [2.0, 3.0]]


def test_all_starts_are_clipped_to_the_models_bounds_first() -> None:
    # "As initial_guesses (the model's bounds), then the fit's bounds": kaplan_nd's N_c, D_c >= 0
    # and alpha_D >= 1e-6 hold even where the fit's bounds are wider
    m = get("kaplan_nd")
    g = np.array([[-1.0, -2.0, -3.0, -4.0], [5.0, 6.0, 7.0, 8.0]])
    out = _fit._clip_starts(m, g, np.full(4, -np.inf), np.full(4, np.inf))
    assert out.tolist() == [[0.0, 0.0, -3.0, 1e-6], [5.0, 6.0, 7.0, 8.0]]
    out = _fit._clip_starts(m, g, np.full(4, -np.inf), np.full(4, 5.5))  # then the fit's
    assert out.tolist() == [[0.0, 0.0, -3.0, 1e-6], [5.0, 5.5, 5.5, 5.5]]


def test_an_enclosing_core_clock_gets_the_inner_clocks_time_too() -> None:
    import time

    with _fit.core_clock() as outer:
        _fit.timed_core(lambda: time.sleep(0.05))
        with _fit.core_clock() as inner:
            _fit.timed_core(lambda: time.sleep(0.05))
        assert inner[0] >= 0.05
    assert outer[0] >= 0.1  # its own 0.05 s and the inner block's 0.05 s


def test_max_memory_below_the_data_alone_is_refused() -> None:
    # the cap covers the prepared data too: 100 points take 1,600 bytes of x and y alone
    x, y = _points(100)
    with pytest.raises(ValueError, match="max_memory=1,000 bytes is too small for this batch"):
        scalingfit.fit_batch("saturating_power_law", x[:, 0], y, [0, 100], np.ones((1, 3)), max_memory=1000)


def test_default_memory_solves_thousands_of_items_in_one_core_call(monkeypatch) -> None:
    # "Default: the data plus 256 MiB for the items": 3,000 items of 3 parameters (about 0.3 MB
    # with their covariances) are one core call
    calls: list[int] = []
    real = _fit._core.solve_batch

    def spy(*args):  # type: ignore[no-untyped-def]
        calls.append(args[7].shape[0])
        return real(*args)

    monkeypatch.setattr(_fit._core, "solve_batch", spy)
    x, y = _points(6)
    p0 = np.tile(P_TRUE, (3000, 1))
    r = scalingfit.fit_batch("saturating_power_law", x[:, 0], y, [0, 6], p0, problem=np.zeros(3000, dtype=np.int64),
                             max_iter=2)
    assert calls == [3000] and r.x.shape == (3000, 3)


def test_default_threads_one_up_to_64_items() -> None:
    # fit's "default: all hardware threads for more than 64 starts", else one (inline)
    assert _fit.default_threads(1) == 1 and _fit.default_threads(64) == 1
    assert _fit.default_threads(65) == _fit.hardware_threads()
