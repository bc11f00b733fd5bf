"""The two fast paths of the performance audit, checked against independent references.

* ``predict_final_loss`` with resamples refits all warm-started replicates in one packed
  ``fit_batch`` call and evaluates the law on each run's replicates at once: every replicate
  must be the fit that ``scalingfit.fit`` gives on its own (same weights, same start), and the
  interval their percentile interval.
* ``optimal_allocation_constrained`` (and through it ``data_wall``) evaluates the
  data-constrained loss without re-checking N, D, U on each of its ~200 calls per budget: its
  optimum must match a brute-force grid minimisation of the checked ``law.loss``, and a bad
  value inside must still raise the checked loss's error.

No timings are asserted here (see bench/ for speed).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
import scalingfit.curves as cu
from scalingfit import DataWarning, _resample
from scalingfit.planning import (
    MUENNIGHOFF_2023,
    DataConstrainedLaw,
    data_wall,
    optimal_allocation_constrained,
)
from scalingfit.planning import data_constrained as dc


# ----------------------------------------------------------------------------- predict_final_loss
def _cosine_runs(n: int, seed: int, n_pts: int = 40) -> list[cu.Curve]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        total = 4000.0 * 2 ** (i % 3)
        step = np.linspace(total / n_pts, total, n_pts)
        lr = cu.cosine_schedule(step, peak=1e-3, warmup=total / 20, total=total)
        S1, S2 = cu.lr_areas(step, lr)
        loss = (2.2 + 0.1 * i + 1.5 * (S1 / 1e3) ** -0.45) * (1 - 0.048 * S2)
        out.append(cu.Curve(f"run{i}", step, step * 2e6, loss * (1 + 0.002 * rng.standard_normal(n_pts)), lr))
    return out


def _one_replicate(x, y, w, p0, model):
    """The fit of one replicate on its own, from the run's point fit (NaN unless converged)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = scalingfit.fit(model, x, y, p0=p0, weights=w, bounds=cu._BOUNDS[model])
    return np.asarray(f.x) if (f.status > 0 or f.status == -2) else np.full(len(p0), np.nan)


def test_resamples_with_drawn_c_equal_single_fits_of_each_replicate() -> None:
    """lr_annealing with the default C and its spread: replicate r of run j fits
    ``y / m_r`` with weights ``counts_r · m_r²``, ``m_r = 1 - c_r S2`` (c_r the r-th draw of C,
    clipped at 0), started at the run's point fit; the prediction is
    ``(E + A S1_T^-alpha)(1 - c_r S2_T)``."""
    R, seed, level, frac = 30, 4, 0.9, 0.4
    runs = _cosine_runs(3, seed=2)
    got = cu.predict_final_loss(runs, frac, n_resamples=R, seed=seed, level=level)
    rng_c = np.random.default_rng(np.random.SeedSequence([seed, 10**6]))
    c_draws = np.maximum(rng_c.normal(cu.DEFAULT_ANNEALING, cu.DEFAULT_ANNEALING_SD, size=R), 0.0)
    for j, c in enumerate(runs):
        idx = np.flatnonzero(c.window(frac, 0.0) & c.after_warmup())
        S1, S2 = cu.lr_areas(c.step, c.lr)
        counts = _resample.resample_weights(idx.size, R, np.random.default_rng(np.random.SeedSequence([seed, j])))
        start = got.fits[j].x
        vals = []
        for r in range(R):
            m = 1.0 - c_draws[r] * S2[idx]
            E, A, alpha = _one_replicate(S1[idx], c.loss[idx] / m, counts[r] * m * m, start, "saturating_power_law")
            vals.append((E + A * S1[-1] ** -alpha) * (1.0 - c_draws[r] * S2[-1]))
        want = _resample.percentile_interval(np.array(vals), level)
        np.testing.assert_allclose(got.interval[j], want, rtol=1e-10)


@pytest.mark.parametrize("method", ["learning_curve", "power_law"])
def test_resamples_of_other_laws_equal_single_fits_and_a_bad_run_changes_nothing(method: str) -> None:
    """The same for the laws in steps and in tokens (weights: the counts alone); a run too
    short to fit, placed last, is named in a DataWarning, gets NaN, and leaves the other runs'
    predictions and intervals exactly as without it."""
    R, seed, level, frac = 25, 1, 0.95, 0.5
    runs = _cosine_runs(3, seed=6)
    model = {"learning_curve": "learning_curve", "power_law": "saturating_power_law"}[method]
    got = cu.predict_final_loss(runs, frac, method=method, n_resamples=R, seed=seed, level=level)
    for j, c in enumerate(runs):
        idx = np.flatnonzero(c.window(frac, 0.0) & c.after_warmup())
        x, x_end = (c.step[idx], c.step[-1]) if method == "learning_curve" else (c.tokens[idx], c.tokens[-1])
        counts = _resample.resample_weights(idx.size, R, np.random.default_rng(np.random.SeedSequence([seed, j])))
        vals = []
        for r in range(R):
            p = _one_replicate(x, c.loss[idx], counts[r], got.fits[j].x, model)
            vals.append(p[0] + p[1] * (x_end + (p[3] if model == "learning_curve" else 0.0)) ** -p[2])
        np.testing.assert_allclose(got.interval[j], _resample.percentile_interval(np.array(vals), level),
                                   rtol=1e-10)
    short = cu.Curve("short", runs[0].step[:3], runs[0].tokens[:3], runs[0].loss[:3], runs[0].lr[:3])
    with pytest.warns(DataWarning, match="short"):
        more = cu.predict_final_loss(runs + [short], frac, method=method, n_resamples=R, seed=seed, level=level)
    assert np.isnan(more.predicted[-1]) and np.isnan(more.interval[-1]).all() and more.status[-1] == -3
    np.testing.assert_array_equal(more.predicted[:-1], got.predicted)
    np.testing.assert_array_equal(more.interval[:-1], got.interval)


def test_warm_fits_equal_fit_many_per_problem_also_where_a_point_fit_failed() -> None:
    """_warm_fits (one packed fit_batch call for the warm refits) gives what fit_many gives
    for the same problems, starts and bounds, bit for bit; runs without a point fit (NaN
    centre) are fitted from the model's guesses as before; an empty run stays NaN."""
    rng = np.random.default_rng(3)
    s = np.linspace(100.0, 10000.0, 30)
    blocks, k = [], 6
    for i in range(4):
        n = 0 if i == 2 else s.size
        y = (2.0 + 10 * (s + 100 * i) ** -0.4) * (1 + 0.002 * rng.standard_normal(s.size))
        counts = _resample.resample_weights(n, k, rng) if n else np.zeros((k, 0))
        blocks.append((s[:n], np.broadcast_to(y[:n], counts.shape), counts))
    kw = dict(warn=False, level=0.95, bounds=cu._BOUNDS["learning_curve"])
    pts = _resample.fit_many("learning_curve", [b[0] for b in blocks], [b[1][0] for b in blocks],
                             warn=False, bounds=kw["bounds"])
    centers = pts.params.copy()
    assert np.isnan(centers[2]).all() and np.isfinite(centers[[0, 1, 3]]).all()
    centers[1] = np.nan  # a failed point fit: its refits start from the guesses
    got = cu._warm_fits("learning_curve", blocks, centers, kw)
    assert got.shape == (4, k, 4)
    for j in (0, 3):
        want = _resample.fit_many("learning_curve", [blocks[j][0]] * k, list(blocks[j][1]),
                                  weights=list(blocks[j][2]), p0s=[centers[j]] * k, guess=False, **kw)
        np.testing.assert_array_equal(got[j], want.params)
    cold = _resample.fit_many("learning_curve", [blocks[1][0]] * k, list(blocks[1][1]),
                              weights=list(blocks[1][2]), **kw)
    np.testing.assert_array_equal(got[1], cold.params)
    assert np.isnan(got[2]).all()


# ----------------------------------------------------------------------------- data-constrained
def _grid_min(law: DataConstrainedLaw, C: float, U: float, N: float, n: int = 200001) -> tuple[float, float]:
    """Brute force: the checked law.loss on a fine grid of log N around N at compute C."""
    Ns = N * np.logspace(-1.0, 1.0, n)
    L = law.loss(Ns, C / (6.0 * Ns), U)
    i = int(np.argmin(L))
    return float(Ns[i]), float(L[i])


def test_data_wall_rows_are_grid_minima_of_the_checked_loss() -> None:
    """data_wall(100e12): at each C_k the reported N, D (6 N D = C, D = k U) and loss are the
    minimiser of L(N, C / 6N, U) found by a 200,001-point grid in N (the checked loss), and
    no size nearby does better."""
    U = 100e12
    w = data_wall(U)
    assert [r.epochs for r in w.rows] == [1.0, 4.0, 16.0]
    law = MUENNIGHOFF_2023
    for r in w.rows:
        assert 6.0 * r.N * r.D == pytest.approx(r.C, rel=1e-12)
        assert r.D / U == pytest.approx(r.epochs, rel=1e-6)
        assert r.loss == pytest.approx(float(law.loss(r.N, r.D, U)), rel=1e-14)
        N_grid, L_grid = _grid_min(law, r.C, U, r.N)
        assert N_grid == pytest.approx(r.N, rel=1e-3)
        assert r.loss <= L_grid * (1 + 1e-14)
        for h in (1e-3, 1e-2):  # the optimality condition: no better size on either side
            for N in (r.N * np.exp(h), r.N * np.exp(-h)):
                assert float(law.loss(N, r.C / (6.0 * N), U)) >= r.loss
    assert w.rows[0].loss == pytest.approx(w.rows[0].loss_unlimited, rel=1e-14)  # no repetition yet


def test_constrained_optimum_on_a_grid_of_budgets_and_replicates_matches_brute_force() -> None:
    """Budgets x unique tokens, and a law of replicates: each optimum is the grid minimiser
    of the checked loss, and its loss the checked loss at (N, D)."""
    C = np.array([1e20, 1e22, 1e24])[:, None]
    U = np.array([1e9, 1e11])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        opt = optimal_allocation_constrained(C, U)
    for i in range(3):
        for j in range(2):
            if opt.plateau[i, j]:
                continue
            N_grid, L_grid = _grid_min(MUENNIGHOFF_2023, float(C[i, 0]), float(U[j]), float(opt.N[i, j]))
            assert N_grid == pytest.approx(float(opt.N[i, j]), rel=1e-3)
            assert float(opt.loss[i, j]) <= L_grid * (1 + 1e-14)
            assert float(opt.loss[i, j]) == pytest.approx(
                float(MUENNIGHOFF_2023.loss(opt.N[i, j], opt.D[i, j], U[j])), rel=1e-14)
    reps = DataConstrainedLaw(**{**{k: getattr(MUENNIGHOFF_2023, k) for k in ("E", "A", "B", "alpha", "beta")},
                                 "R_D": np.array([5.0, 15.0, 40.0]), "R_N": np.array([2.0, 5.3, 20.0])})
    o = optimal_allocation_constrained(1e23, 1e10, reps)
    assert o.N.shape == (3,)
    for b in range(3):
        one = DataConstrainedLaw(**{k: float(np.asarray(getattr(reps, k))[b] if np.ndim(getattr(reps, k)) else
                                             getattr(reps, k)) for k in ("E", "A", "B", "alpha", "beta", "R_D", "R_N")})
        N_grid, L_grid = _grid_min(one, 1e23, 1e10, float(o.N[b]))
        assert N_grid == pytest.approx(float(o.N[b]), rel=1e-3)
        assert float(o.loss[b]) <= L_grid * (1 + 1e-14)
        single = optimal_allocation_constrained(1e23, 1e10, one)
        assert float(single.N) == float(o.N[b]) and float(single.loss) == float(o.loss[b])


def test_unchecked_loss_is_the_checked_loss_and_bad_values_still_raise_its_errors() -> None:
    """The internal loss equals law.loss bit for bit on checked inputs (point law and
    replicates); inside the allocation search a non-finite or non-positive N still raises
    the checked loss's error, naming N and the value; entry errors are unchanged."""
    rng = np.random.default_rng(0)
    N = 10 ** rng.uniform(7, 12, (50, 1))
    D = 10 ** rng.uniform(9, 14, (50, 1))
    U = 10 ** rng.uniform(8, 13, (50, 1))
    reps = DataConstrainedLaw(**{**{k: getattr(MUENNIGHOFF_2023, k) for k in ("E", "A", "B", "alpha", "beta")},
                                 "R_D": np.array([0.5, 15.0, np.inf]), "R_N": np.array([5.3, 0.2, np.inf])})
    for law in (MUENNIGHOFF_2023, reps):
        n_opt = law.chinchilla.optimal_n_for_data
        np.testing.assert_array_equal(law._loss(N, D, U, n_opt), law.loss(N, D, U))
    f = dc._allocation(np.array(1e22), np.array(1e10), MUENNIGHOFF_2023, 6.0)[0]
    assert np.isfinite(f(np.array([20.0, 25.0]))).all()
    for t, bad in (([20.0, 800.0], "N\\[1\\] = inf"), ([-800.0], "N\\[0\\] = 0.0"), ([np.nan], "N\\[0\\] = nan")):
        with pytest.raises(ValueError, match=f"N must be finite and > 0; {bad}"), np.errstate(all="ignore"):
            f(np.array(t))  # (the searches call f with floating-point warnings off)
    with pytest.raises(ValueError, match="C must be finite and > 0"):
        optimal_allocation_constrained(0.0, 1e9)
    with pytest.raises(ValueError, match="U must be finite and > 0"):
        optimal_allocation_constrained(1e22, np.nan)
    with pytest.raises(ValueError, match="must broadcast"):
        optimal_allocation_constrained(np.full(3, 1e22), np.full(2, 1e9))
    with pytest.warns(DataWarning, match="not unique"):
        optimal_allocation_constrained(1e26, 1e9, DataConstrainedLaw(
            **{**{k: getattr(MUENNIGHOFF_2023, k) for k in ("E", "A", "B", "alpha", "beta", "R_N")}, "R_D": 0.02}))
