"""Default data-driven starts on data where the audit found them failing (numerical audit 8).

A. broken_power_law's one start failed on clean, well-conditioned data (status -2 or -1);
B. log residuals with starts at which the model is negative (chinchilla, gross outliers): -1;
C. robust losses with a gross outlier: a degenerate optimum (E = -A = -9e3) from a
   least-squares start.

The reference is scipy.optimize.least_squares (trf, the same loss, f_scale and residuals) from
many starts around the truth (and from ours); scipy's cost and ours are both
0.5 * sum rho(r^2) (tests/test_vs_scipy.py compares them directly).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import _fit
from scipy.optimize import least_squares

TIGHT = dict(ftol=1e-15, xtol=1e-15, gtol=1e-15)


def scipy_best(m, x, y, starts, loss="linear", f_scale=1.0, log_residuals=False):
    """The least cost of scipy's trf from each start (finite residuals only)."""
    def fun(p):
        f = m.predict(p, x)
        return np.log(f) - np.log(y) if log_residuals else f - y

    best = np.inf
    for s in starts:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                r = least_squares(fun, np.clip(s, m.lower, m.upper), method="trf", loss=loss,
                                  f_scale=f_scale, x_scale="jac", bounds=(m.lower, m.upper),
                                  max_nfev=5000, **TIGHT)
            except ValueError:  # a start at which the residuals are not finite
                continue
        if np.isfinite(r.fun).all():
            best = min(best, float(r.cost))
    return best


def around(truth, rng, k=12, spread=0.1):
    """The truth, and k starts scattered multiplicatively around it."""
    t = np.asarray(truth, dtype=float)
    return [t, t * 1.05, t * 0.95] + [t * (1 + spread * rng.standard_normal(t.size)) for _ in range(k)]


def quiet_fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # identifiability/robustness notes are not at issue
        return scalingfit.fit(*args, **kw)


# ---------------------------------------------------------------- A. broken power law
BROKEN_TRUTHS = [
    [1.0, 50.0, 0.1, 0.4, np.log(1e8), 0.5],
    [2.0, 10.0, 0.05, 0.3, np.log(1e6), 0.2],
    [0.5, 100.0, 0.2, 0.2, np.log(1e9), 1.0],
]


def broken_data(i):
    m = scalingfit.models.get("broken_power_law")
    x = np.logspace(3, 13, 40)
    rng = np.random.default_rng(100 + i)
    return m, x, m.predict(BROKEN_TRUTHS[i], x) * np.exp(0.01 * rng.standard_normal(x.size))


@pytest.mark.parametrize("log_residuals", [False, True])
@pytest.mark.parametrize("i", range(len(BROKEN_TRUTHS)))
def test_broken_power_law_default_starts_reach_the_optimum(i: int, log_residuals: bool) -> None:
    m, x, y = broken_data(i)
    r = quiet_fit("broken_power_law", x, y, log_residuals=log_residuals)
    assert r.success, r.message
    assert r.n_starts > 1  # several breaks and asymptotes, all tried
    ref = scipy_best(m, x, y, around(BROKEN_TRUTHS[i], np.random.default_rng(i)) + [r.x],
                     log_residuals=log_residuals)
    assert r.cost <= ref * (1 + 1e-6), (r.cost, ref)


def test_broken_power_law_single_start_is_the_best_candidate_and_positive() -> None:
    """initial_guess (fit_batch's one start) is the first of initial_guesses; on the audit's
    first problem it alone reaches the optimum, and the model is positive at the data there
    (a log-residual fit can start from it; the old start's model dipped to -2.5)."""
    m, x, y = broken_data(0)
    g = m.initial_guesses(x[:, None], y)
    np.testing.assert_array_equal(m.initial_guess(x[:, None], y), g[0])
    assert (m.predict(g[0], x) > 0).all()
    assert len({tuple(row) for row in g}) == len(g)  # no start twice
    b = scalingfit.fit_batch("broken_power_law", x, y, [0, x.size])
    assert b.status[0] > 0
    ref = scipy_best(m, x, y, around(BROKEN_TRUTHS[0], np.random.default_rng(7)))
    assert b.cost[0] <= ref * (1 + 1e-6)


def test_broken_power_law_batch_guesses_equal_the_single_guesses() -> None:
    """Problems of several sizes at once: every problem's starts, bit for bit, those of
    initial_guesses on that problem alone."""
    m = scalingfit.models.get("broken_power_law")
    rng = np.random.default_rng(5)
    xs, ys = [], []
    for k, n in enumerate([40, 12, 40, 25, 12]):
        x = np.sort(10 ** rng.uniform(2, 9, n))
        xs.append(x)
        ys.append(m.predict(BROKEN_TRUTHS[k % 3], x) * np.exp(0.02 * rng.standard_normal(n)))
    off = np.r_[0, np.cumsum([len(x) for x in xs])]
    X, Y = np.concatenate(xs)[:, None], np.concatenate(ys)
    starts, owner = _fit.all_starts(m, X, Y, off, m.lower, m.upper)
    for j in range(len(xs)):
        single = m.initial_guesses(xs[j][:, None], ys[j])
        np.testing.assert_array_equal(starts[owner == j], single)
    first = _fit.guess_starts(m, X, Y, off, m.lower, m.upper)
    np.testing.assert_array_equal(first, np.array([starts[owner == j][0] for j in range(len(xs))]))


# ---------------------------------------------------------------- B. log residuals, outliers
CHIN_TRUTH = [1.69, 406.4, 410.7, 0.34, 0.28]


def chinchilla_outliers(factor):
    """The audit's data: 60 Chinchilla-like runs at 1% noise, three runs' losses times factor."""
    rng = np.random.default_rng(11)
    rng.standard_normal(12)  # the audit's script drew its saturating data first
    N = 10 ** rng.uniform(7.5, 10.5, 60)
    D = 10 ** rng.uniform(9.5, 12, 60)
    m = scalingfit.models.get("chinchilla")
    X = np.column_stack([N, D])
    L = m.predict(CHIN_TRUTH, X) * np.exp(0.01 * rng.standard_normal(60))
    L[:3] *= factor
    return m, X, L


@pytest.mark.parametrize("factor", [30.0, 1000.0])
def test_log_residual_huber_fit_with_outliers_has_a_usable_start(factor: float) -> None:
    m, X, L = chinchilla_outliers(factor)
    guesses = m.initial_guesses(X, L)
    assert (m.predict_many(guesses, X) <= 0).any(axis=1).all()  # the premise: every guess dips below 0
    r = quiet_fit("chinchilla", X, L, loss="huber", f_scale=1e-3, log_residuals=True)
    assert r.success, r.message
    ref = scipy_best(m, X, L, around(CHIN_TRUTH, np.random.default_rng(3)) + [r.x],
                     loss="huber", f_scale=1e-3, log_residuals=True)
    assert r.cost <= ref * (1 + 1e-6), (r.cost, ref)


def test_log_residual_starts_are_positive_at_the_data() -> None:
    """Every start fit uses for log residuals is a parameter vector at which the model is
    finite and positive at every point (raised E, or a trimmed guess)."""
    m, X, L = chinchilla_outliers(30.0)
    g = np.clip(m.initial_guesses(X, L), m.lower, m.upper)
    for loss in ("linear", "huber"):
        s = _fit.loss_starts(m, X, L, None, g, m.lower, m.upper, loss, 1e-3, True)
        assert s.shape[0] >= g.shape[0]
        f = m.predict_many(s, X)
        assert np.isfinite(f).all() and (f > 0).all()


def test_saturating_log_residual_start_is_raised_above_zero() -> None:
    """A start whose E puts the model below zero has E raised: the least model value becomes
    half the least y, the other parameters unchanged."""
    m = scalingfit.models.get("saturating_power_law")
    x = np.logspace(7, 10, 10)[:, None]
    y = m.predict([1.7, 400.0, 0.34], x)
    bad = np.array([[-5.0, 400.0, 0.34]])
    s = _fit.positive_starts(m, x, y, bad, m.lower, m.upper)
    assert s.shape == (1, 3)
    np.testing.assert_array_equal(s[0, 1:], bad[0, 1:])
    assert m.predict(s[0], x).min() == pytest.approx(0.5 * y.min(), rel=1e-12)


# ---------------------------------------------------------------- C. robust losses, outliers
SAT_TRUTH = [1.7, 400.0, 0.34]


def saturating_outlier(factor):
    rng = np.random.default_rng(11)
    m = scalingfit.models.get("saturating_power_law")
    x = np.logspace(7, 10, 12)
    y = m.predict(SAT_TRUTH, x) * (1 + 3e-3 * rng.standard_normal(12))
    y[5] *= factor
    return m, x, y


@pytest.mark.parametrize("factor,loss", [(1000.0, "cauchy"), (1000.0, "arctan"), (10.0, "arctan"),
                                         (10.0, "cauchy"), (1000.0, "huber"), (1000.0, "soft_l1")])
def test_robust_fit_with_a_gross_outlier_reaches_the_optimum(factor: float, loss: str) -> None:
    m, x, y = saturating_outlier(factor)
    r = quiet_fit("saturating_power_law", x, y, loss=loss, f_scale=0.01)
    assert r.success, r.message
    assert r.params["E"] > 0 and 0.1 < r.params["alpha"] < 1  # not the degenerate E = -A
    ref = scipy_best(m, x, y, around(SAT_TRUTH, np.random.default_rng(1)) + [[1.5, 300.0, 0.3], r.x],
                     loss=loss, f_scale=0.01)
    assert r.cost <= ref * (1 + 1e-6), (r.cost, ref)


def test_linear_loss_starts_are_the_models_guesses() -> None:
    """The linear loss on linear residuals keeps the model's guesses as they are (its results
    do not change); a robust loss adds trimmed guesses after them."""
    m, x, y = saturating_outlier(1000.0)
    g = np.clip(m.initial_guesses(x[:, None], y), m.lower, m.upper)
    same = _fit.loss_starts(m, x[:, None], y, None, g, m.lower, m.upper, "linear", 1.0, False)
    np.testing.assert_array_equal(same, g)
    assert quiet_fit("saturating_power_law", x, y).n_starts == g.shape[0]
    more = _fit.loss_starts(m, x[:, None], y, None, g, m.lower, m.upper, "cauchy", 0.01, False)
    np.testing.assert_array_equal(more[:g.shape[0]], g)
    assert more.shape[0] > g.shape[0]
    # a robust loss whose f_scale exceeds every residual at the first guess is least squares
    # there: the starts stay the model's (the fit is the least-squares one, as it warns)
    clean = m.predict(SAT_TRUTH, x)
    gc = np.clip(m.initial_guesses(x[:, None], clean), m.lower, m.upper)
    assert np.abs(m.predict(gc[0], x) - clean).max() < 1.0
    kept = _fit.loss_starts(m, x[:, None], clean, None, gc, m.lower, m.upper, "huber", 1.0, False)
    np.testing.assert_array_equal(kept, gc)
