"""Batches: bad problems get status codes, the rest are right; determinism across threads."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import scalingfit
from conftest import make_problem, pack_problems
from scipy.optimize import least_squares


def test_bad_problems_get_status_and_good_ones_are_right() -> None:
    rng = np.random.default_rng(3)
    good = [make_problem("saturating_power_law", 10, 0.01, rng) for _ in range(50)]
    x_nan, y_nan, _ = make_problem("saturating_power_law", 10, 0.01, rng)
    y_nan[4] = np.nan
    x_few, y_few, _ = make_problem("saturating_power_law", 2, 0.01, rng)  # 2 points, 3 params
    x_sing = np.full((10, 1), 1e8)  # all N equal: A and alpha cannot be separated
    y_sing = 2.0 + 0.01 * rng.standard_normal(10)
    x_neg, y_neg, _ = make_problem("saturating_power_law", 10, 0.01, rng)
    x_neg[0, 0] = -1.0  # a power law needs x > 0
    problems = good[:20] + [(x_nan, y_nan, None), (x_few, y_few, None), (x_sing, y_sing, None),
                            (x_neg, y_neg, None)] + good[20:]
    x, y, offsets = pack_problems(problems)
    p0 = np.array([[2.0, 100.0, 0.3]] * len(problems))
    res = scalingfit.fit_batch("saturating_power_law", x, y, offsets, p0)
    assert res.status[20] == -3 and res.status[21] == -3 and res.status[23] == -3
    assert res.status[22] == -2, res.messages()[22]
    assert np.isnan(res.x[20]).all() or res.status[20] == -3
    assert np.isnan(res.cost[20]) and np.isnan(res.cost[21])
    good_idx = list(range(20)) + list(range(24, len(problems)))
    assert res.success[good_idx].all()
    # Each good problem's answer equals an independent scipy fit on that problem alone.
    m = scalingfit.models.get("saturating_power_law")
    for k, j in enumerate(good_idx[:10]):
        xj, yj, _ = problems[j]
        ref = least_squares(lambda p: m.predict(p, xj) - yj, p0[j], jac=lambda p: m.jacobian(p, xj),
                            method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
        np.testing.assert_allclose(res.x[j], ref.x, rtol=1e-6)


def test_bit_identical_for_any_thread_count() -> None:
    rng = np.random.default_rng(11)
    problems = [make_problem("chinchilla", 60, 0.01, rng) for _ in range(200)]
    x, y, offsets = pack_problems(problems)
    runs = [scalingfit.fit_batch("chinchilla", x, y, offsets, threads=t) for t in (1, 2, 3)]
    for r in runs[1:]:
        assert np.array_equal(r.x, runs[0].x)
        assert np.array_equal(r.cost, runs[0].cost)
        assert np.array_equal(r.status, runs[0].status)
        assert np.array_equal(r.iterations, runs[0].iterations)
        assert np.array_equal(r.cov, runs[0].cov, equal_nan=True)


def test_concurrent_python_threads_give_serial_results() -> None:
    """The core releases the GIL and keeps no global state: fits from several Python threads
    at once equal the same fits run one after another."""
    rng = np.random.default_rng(12)
    jobs = []
    for _ in range(6):
        problems = [make_problem("saturating_power_law", 10, 0.01, rng) for _ in range(300)]
        jobs.append(pack_problems(problems))
    serial = [scalingfit.fit_batch("saturating_power_law", *job, threads=1).x for job in jobs]
    out: list = [None] * len(jobs)

    def work(i: int) -> None:
        out[i] = scalingfit.fit_batch("saturating_power_law", *jobs[i], threads=2).x

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(serial, out):
        assert np.array_equal(a, b)


def test_multistart_best_per_problem() -> None:
    rng = np.random.default_rng(13)
    problems = [make_problem("saturating_power_law", 12, 0.005, rng) for _ in range(5)]
    x, y, offsets = pack_problems(problems)
    starts = np.array([[1.0, 10.0, 0.1], [2.0, 100.0, 0.3], [3.0, 1000.0, 0.6]])
    p0 = np.tile(starts, (5, 1))
    problem = np.repeat(np.arange(5), 3)
    res = scalingfit.fit_batch("saturating_power_law", x, y, offsets, p0, problem=problem)
    best = res.best_per_problem()
    assert best.n_items == 5 and np.array_equal(best.problem, np.arange(5))
    for j in range(5):
        mine = res.cost[problem == j]
        ok = res.success[problem == j]
        assert best.cost[j] == mine[ok].min()
        single = scalingfit.fit("saturating_power_law", *problems[j][:2], starts=starts)
        np.testing.assert_allclose(best.x[j], single.x, rtol=1e-12)
        assert single.n_starts == 3


def test_bounds_are_respected_and_active_at_solution() -> None:
    rng = np.random.default_rng(14)
    x, y, p_true = make_problem("saturating_power_law", 20, 0.001, rng)
    cap = 0.9 * p_true[2]
    r = scalingfit.fit("saturating_power_law", x, y, [p_true[0], p_true[1], 0.5 * cap],
                       bounds={"alpha": (0.0, cap)})
    assert r.success
    assert r.params["alpha"] == pytest.approx(cap, rel=0, abs=1e-12)
    m = scalingfit.models.get("saturating_power_law")
    ref = least_squares(lambda p: m.predict(p, x) - y, [p_true[0], p_true[1], 0.5 * cap],
                        jac=lambda p: m.jacobian(p, x), bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, cap]),
                        method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15, x_scale="jac")
    np.testing.assert_allclose(r.x, ref.x, rtol=1e-6)
    assert r.cost <= ref.cost * (1 + 1e-9)


@pytest.mark.filterwarnings("ignore::scalingfit.UncertaintyWarning")  # robust fits, stderr unused
def test_weights_are_multiplicities() -> None:
    rng = np.random.default_rng(15)
    x, y, _ = make_problem("saturating_power_law", 10, 0.02, rng)
    w = np.array([0, 1, 2, 3, 1, 1, 0, 2, 1, 1], dtype=float)
    rep = np.repeat(np.arange(10), w.astype(int))
    for loss in ("linear", "huber", "cauchy"):
        tight = dict(loss=loss, f_scale=0.01, ftol=1e-15, xtol=1e-14, gtol=1e-14)
        a = scalingfit.fit("saturating_power_law", x, y, [2.0, 300.0, 0.3], weights=w, **tight)
        b = scalingfit.fit("saturating_power_law", x[rep], y[rep], [2.0, 300.0, 0.3], **tight)
        # Costs agree to rounding; parameters to ~sqrt(machine eps) x conditioning.
        np.testing.assert_allclose(a.cost, b.cost, rtol=1e-12)
        np.testing.assert_allclose(a.x, b.x, rtol=1e-6)


def test_covariance_matches_curve_fit() -> None:
    from scipy.optimize import curve_fit

    rng = np.random.default_rng(16)
    x, y, p_true = make_problem("saturating_power_law", 15, 0.01, rng)
    r = scalingfit.fit("saturating_power_law", x, y, p_true)
    popt, pcov = curve_fit(lambda t, E, A, a: E + A * t**-a, x[:, 0], y, p0=p_true,
                           jac=lambda t, E, A, a: scalingfit.models.get("saturating_power_law").jacobian([E, A, a], t),
                           xtol=1e-15, ftol=1e-15, gtol=1e-15)
    np.testing.assert_allclose(r.x, popt, rtol=1e-7)
    np.testing.assert_allclose(r.cov, pcov, rtol=1e-5)


@pytest.mark.parametrize("name", ["chinchilla", "chinchilla_lse", "chinchilla_tied"])
def test_batch_start_is_the_single_fits_first_start(name: str) -> None:
    """fit_batch's data-driven start of each problem is the first start fit() tries
    (Model.initial_guess, clipped into the bounds), bit for bit. The batched grid it used to
    solve problem by problem differed in the last bits (1.6e-13) and was 10x slower."""
    from scalingfit import _fit

    m = scalingfit.models.get(name)
    rng = np.random.default_rng(11)
    sizes = [12, 30, 7, 30, 18]
    N = [10 ** rng.uniform(7.5, 10, k) for k in sizes]
    D = [n * 10 ** rng.uniform(0.5, 2, n.size) for n in N]
    L = [(1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * (1 + 0.01 * rng.standard_normal(n.size)) for n, d in zip(N, D)]
    x = np.column_stack([np.concatenate(N), np.concatenate(D)])
    y = np.concatenate(L)
    off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    got = _fit.guess_starts(m, x, y, off, m.lower, m.upper)
    for j in range(len(sizes)):
        want = np.clip(m.initial_guess(x[off[j]:off[j + 1]], y[off[j]:off[j + 1]]), m.lower, m.upper)
        np.testing.assert_array_equal(got[j], want)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_threads_beyond_the_machine_do_not_grow_the_pool_for_good() -> None:
    """threads=4096 on a 2-core machine left 4,098 OS threads (34 GB of address space) for the
    life of the process, since the core's pool keeps every thread it started; now at most
    OVERSUBSCRIPTION per hardware thread start, with the same bits as threads=1."""
    from scalingfit import _fit

    x = np.tile(np.logspace(7, 10, 10), 3000)
    y = (1.7 + 400.0 * x**-0.3) * (1 + 0.01 * np.sin(np.arange(x.size)))
    off = np.arange(3001) * 10
    many = scalingfit.fit_batch("saturating_power_law", x, y, off, threads=4096)
    one = scalingfit.fit_batch("saturating_power_law", x, y, off, threads=1)
    np.testing.assert_array_equal(many.x, one.x)
    assert len(os.listdir("/proc/self/task")) < _fit.OVERSUBSCRIPTION * _fit.hardware_threads() + 64
