"""The vectorised start guesses on batches of many distinct problem sizes (rows padded to a few
lengths) and on problems whose Chinchilla grid has collinear columns (every run at one
tokens-per-parameter ratio): the same starts as the per-problem ``initial_guess`` /
``initial_guesses`` loop, bit for bit, without that loop."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scalingfit
from conftest import make_problem, pack_problems
from scalingfit import _fit, _validate
from scalingfit.models import _least_norm_stack, _Rows, _size_groups, _stack_len
from test_models import _grid_by_lstsq, loop_starts, same_bits

STACKED = ["power_law", "saturating_power_law", "isoflop_parabola", "sigmoid", "broken_power_law",
           "learning_curve", "lr_annealing", "kaplan_ns", "chinchilla", "chinchilla_tied",
           "chinchilla_lse", "data_constrained"]


def test_stack_len_is_the_size_rounded_up_on_a_ladder_of_8_steps_an_octave() -> None:
    """Brute force: n itself up to 16; for 2^(k-1) < n <= 2^k (k >= 5) the next multiple of
    2^(k-4). Never shorter than n, at most 1/8 longer, a ladder length maps to itself, and the
    196 sizes 5..200 share 41 lengths."""
    n = np.arange(0, 5000)
    got = _stack_len(n)
    for v, L in zip(n.tolist(), got.tolist()):
        if v <= 16:
            assert L == v
        else:
            k = (v - 1).bit_length()
            step = 2 ** (k - 4)
            assert L == -(-v // step) * step, v
            assert v <= L <= v + v / 8
    assert np.array_equal(_stack_len(got), got)
    assert np.all(np.diff(got) >= 0)
    assert np.unique(_stack_len(np.arange(5, 201))).size == 41


def test_rows_sums_medians_and_quantiles_are_those_of_the_real_points() -> None:
    """_Rows against numpy on each row's real points alone (np.sum, np.mean, np.median,
    np.quantile); without padding the sums and means are numpy's, bit for bit."""
    rng = np.random.default_rng(1)
    count = np.array([1, 2, 3, 7, 8, 9, 16, 17, 20, 31, 33, 40])
    L = 40
    v = rng.standard_normal((count.size, L)) * 10.0 ** rng.integers(-3, 4, (count.size, 1))
    v[np.arange(L) >= count[:, None]] = np.repeat(v[np.arange(count.size), count - 1], L)[
        (np.arange(L) >= count[:, None]).ravel()]  # the padding: the last point again
    rows = _Rows(count, L)
    for k, c in enumerate(count):
        real = v[k, :c]
        np.testing.assert_allclose(rows.sum(v)[k], real.sum(), rtol=1e-13, atol=1e-13 * np.abs(real).sum())
        np.testing.assert_allclose(rows.mean(v)[k], real.mean(), rtol=1e-13, atol=1e-13 * np.abs(real).max())
        assert rows.median(v)[k] == np.median(real)
        for q in (0.0, 0.25, 0.5, 0.75, 1.0):
            np.testing.assert_allclose(rows.quantile(v, q)[k], np.quantile(real, q), rtol=1e-15)
    full = _Rows.whole(v.shape)
    assert same_bits(full.sum(v), v.sum(axis=-1)) and same_bits(full.mean(v), v.mean(axis=-1))
    three = np.broadcast_to(v[:, None, :], (count.size, 2, L))
    assert same_bits(rows.sum(three), np.stack([rows.sum(v)] * 2, axis=1))


def _distinct_sizes(name: str, rng: np.random.Generator, n_problems: int = 220):
    sizes = [int(n) for n in rng.permutation(np.arange(5, 201))] + [int(n) for n in rng.integers(5, 201, n_problems - 196)]
    return pack_problems([make_problem(name, n, 0.02, rng) for n in sizes])


@pytest.mark.parametrize("name", STACKED)
def test_starts_of_many_distinct_sizes_are_the_per_problem_guesses(name: str) -> None:
    """Problems of every size from 5 to 200 (196 sizes) in one batch: every start of every
    problem (all_starts) and fit_batch's one start (guess_starts) equal the per-problem loop of
    initial_guesses / initial_guess, bit for bit, with nothing left to that loop, in at most 41
    stacks (one per padded length) instead of one per size."""
    m = scalingfit.models.get(name)
    lo, hi = _validate.as_bounds(None, m, None)
    rng = np.random.default_rng(sum(map(ord, name)) + 7)
    x, y, off = _distinct_sizes(name, rng)
    got, got_p = _fit.all_starts(m, x, y, off, lo, hi)
    want, want_p = loop_starts(m, x, y, off, lo, hi)
    assert np.array_equal(got_p, want_p) and same_bits(got, want)
    one = _fit.guess_starts(m, x, y, off, lo, hi)
    usable = _fit.usable_problems(m, x, y, off, lo, hi)  # fewer points than parameters: none
    with np.errstate(all="ignore"):
        ref = np.array([np.clip(m.initial_guess(x[a:b], y[a:b]), lo, hi) if ok else np.full(m.n_params, np.nan)
                        for a, b, ok in zip(off[:-1], off[1:], usable)])
    assert same_bits(one, ref)
    pid = np.repeat(np.arange(off.size - 1), np.diff(off))
    with np.errstate(all="ignore"):
        _, _, redo = m.batch_guesses(x, y, pid, off.size - 1)
    assert not redo.any()
    assert len(list(_size_groups(pid, off.size - 1))) <= 41


def test_least_norm_stack_is_lstsq_per_problem() -> None:
    """The batched least-norm solve against np.linalg.lstsq(rcond=None) problem by problem: full
    rank, one column a multiple of another (the least-norm split), a constant column beside
    the ones, padded rows; NaN and inf where a column is not finite."""
    rng = np.random.default_rng(3)
    count = np.array([5, 9, 12, 20, 20, 31, 3, 40])
    L = 40
    M = np.empty((count.size, 3, L))
    y = np.empty((count.size, L))
    for k, c in enumerate(count):
        t = rng.uniform(15, 22, c)
        cols = [np.ones(c), np.exp(-0.3 * t), np.exp(-0.2 * t)]
        if k % 3 == 1:
            cols[2] = 7.5 * cols[1]  # collinear: D = M N, alpha = beta
        elif k % 3 == 2:
            cols[2] = np.full(c, 0.02)  # collinear with the constant
        yk = 1.8 + 400 * cols[1] + 0.01 * rng.standard_normal(c)
        idx = np.minimum(np.arange(L), c - 1)
        M[k] = np.array(cols)[:, idx]
        y[k] = yk[idx]
    M[-1, 1, 0] = np.inf
    coef, sse = _least_norm_stack(M, y, _Rows(count, L))
    for k, c in enumerate(count[:-1]):
        A = M[k, :, :c].T
        want, *_ = np.linalg.lstsq(A, y[k, :c], rcond=None)
        np.testing.assert_allclose(coef[k], want, rtol=1e-9, atol=1e-12 * np.abs(want).max())
        r = A @ want - y[k, :c]
        np.testing.assert_allclose(sse[k], r @ r, rtol=1e-7, atol=1e-24)
    assert np.isnan(coef[-1]).all() and sse[-1] == np.inf


def _one_ratio(n_problems: int, rng: np.random.Generator, share: float = 0.8):
    """Chinchilla sweeps of 8 to 40 runs; most of them at one tokens-per-parameter ratio each
    (D = M N: the grid's alpha = beta columns are collinear)."""
    probs = []
    for j in range(n_problems):
        x, y, p = make_problem("chinchilla", int(rng.integers(8, 41)), 0.01, rng)
        if rng.random() < share:
            x = x.copy()
            x[:, 1] = x[:, 0] * float(np.exp(rng.uniform(1.0, 4.0)))
            y = scalingfit.models.get("chinchilla").predict(p, x) * (1 + 0.01 * rng.standard_normal(len(y)))
        probs.append((x, y))
    return pack_problems(probs)


@pytest.mark.parametrize("name", ["chinchilla", "chinchilla_tied", "chinchilla_lse"])
def test_collinear_problems_are_guessed_in_the_batch_as_the_single_guess(name: str) -> None:
    """Sweeps at one D/N ratio: guess_starts and all_starts give the per-problem guesses bit for
    bit without calling the single guess (it raises here), and fit_batch's fits from them equal
    those from the per-problem starts."""
    m = scalingfit.models.get(name)
    lo, hi = _validate.as_bounds(None, m, None)
    rng = np.random.default_rng(len(name))
    x, y, off = _one_ratio(150, rng)
    pid = np.repeat(np.arange(off.size - 1), np.diff(off))
    with np.errstate(all="ignore"):
        _, _, redo = m.batch_guesses(x, y, pid, off.size - 1)
        ref = np.array([np.clip(m.initial_guess(x[a:b], y[a:b]), lo, hi) for a, b in zip(off[:-1], off[1:])])
    assert not redo.any()

    def refuse(xj: np.ndarray, yj: np.ndarray) -> np.ndarray:
        raise AssertionError("the per-problem guess was called")

    batch_only = dataclasses.replace(m, guess=refuse)
    got = _fit.guess_starts(batch_only, x, y, off, lo, hi)
    assert same_bits(got, ref)
    starts, owner = _fit.all_starts(batch_only, x, y, off, lo, hi)
    want, want_p = loop_starts(m, x, y, off, lo, hi)
    assert np.array_equal(owner, want_p) and same_bits(starts, want)
    a = scalingfit.fit_batch(name, x, y, off, compute_cov=False)
    b = scalingfit.fit_batch(name, x, y, off, ref, compute_cov=False)
    assert same_bits(a.x, b.x) and np.array_equal(a.status, b.status)


def test_collinear_starts_are_lstsq_per_grid_pair() -> None:
    """Independently of the code: every start of a one-ratio sweep is np.linalg.lstsq's
    least-norm solution of its (alpha, beta) pair, among the three pairs of least error."""
    m = scalingfit.models.get("chinchilla")
    rng = np.random.default_rng(9)
    x, y, off = _one_ratio(30, rng, share=1.0)
    starts, owner = _fit.all_starts(m, x, y, off, m.lower, m.upper)
    for j in range(off.size - 1):
        xj, yj = x[off[j]:off[j + 1]], y[off[j]:off[j + 1]]
        want = _grid_by_lstsq(xj, yj)
        third = want[2][0]
        got = starts[owner == j]
        assert got.shape == (3, 5)
        for row in got:
            sse, ref = next(c for c in want if np.array_equal(c[1][3:], row[3:]))
            np.testing.assert_allclose(row, ref, rtol=1e-7, atol=1e-9 * np.abs(yj).max())
            assert sse <= third * (1 + 1e-9)
