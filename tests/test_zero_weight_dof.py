"""A point of weight 0 adds nothing to the cost, so a fit with it equals the fit with it dropped:
parameters, covariance, degrees of freedom, Wald and delta-method intervals, information
criteria, nested tests and prediction intervals. The references are the fit on the points
dropped and, independently, scipy.optimize.least_squares on those points with the
Gauss-Newton covariance written out (s^2 = 2 cost / (n - p)) and scipy.stats.t's quantile.
Before the fix the t quantile took n - p with n counting the zero-weighted points: 12 points,
3 of weight 0, alpha's 95% interval read (0.2404, 0.4470) for the dropped fit's
(0.2320, 0.4554), and on 12 sizes with 6 of weight 0 it covered 0.884 of 1000 data sets
against 0.949 with them dropped. Fractional weights (not 0) still count as points."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scalingfit
from scalingfit import compare, uncertainty
from scipy import stats
from scipy.optimize import least_squares

TIGHT = dict(ftol=1e-15, xtol=1e-15, gtol=1e-15, max_iter=2000)
ZERO = [0, 5, 9]  # the zero-weighted points: an end, the middle, near the other end


def _sat(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2]


def _sat_jac(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    xa = x[:, 0] ** -p[:, 2]
    return np.column_stack([np.ones_like(xa), xa, -p[:, 1] * np.log(x[:, 0]) * xa])


SAT = scalingfit.CustomModel(_sat, ("E", "A", "alpha"), jac=_sat_jac, name="sat_custom")
P0 = np.array([1.5, 300.0, 0.3])


def _data(seed: int = 5, n: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    N = np.logspace(7, 10, n)
    y = (1.7 + 400 * N ** -0.34) * np.exp(0.01 * rng.standard_normal(n))
    w = np.ones(n)
    w[ZERO] = 0.0
    return N, y, w


def _scipy_reference(N: np.ndarray, y: np.ndarray, log_residuals: bool, level: float = 0.95):
    """Parameters, covariance, degrees of freedom and t intervals of the least-squares fit of
    E + A N^-alpha to these points, by scipy and by hand."""
    def f(p: np.ndarray) -> np.ndarray:
        return p[0] + p[1] * N ** -p[2]

    def fun(p: np.ndarray) -> np.ndarray:
        return np.log(f(p)) - np.log(y) if log_residuals else f(p) - y

    def jac(p: np.ndarray) -> np.ndarray:
        J = np.column_stack([np.ones_like(N), N ** -p[2], -p[1] * np.log(N) * N ** -p[2]])
        return J / f(p)[:, None] if log_residuals else J

    s = least_squares(fun, P0, jac=jac, method="lm", x_scale="jac", ftol=1e-15, xtol=1e-15,
                      gtol=1e-15, max_nfev=20000)
    dof = N.size - 3
    J = jac(s.x)
    cov = np.linalg.inv(J.T @ J) * 2 * s.cost / dof
    half = stats.t.ppf(0.5 + level / 2, dof) * np.sqrt(np.diag(cov))
    return s.x, cov, dof, np.column_stack([s.x - half, s.x + half])


def _fit(model, N, y, w=None, **kw):
    p0 = P0 if isinstance(model, scalingfit.CustomModel) else None
    return scalingfit.fit(model, N, y, p0, weights=w, **TIGHT, **kw)


@pytest.mark.parametrize("custom", [False, True], ids=["builtin", "custom"])
@pytest.mark.parametrize("log_residuals", [False, True], ids=["linear", "log"])
def test_fit_equals_fit_with_zero_weight_points_dropped(custom: bool, log_residuals: bool) -> None:
    N, y, w = _data()
    keep = w > 0
    model = SAT if custom else "saturating_power_law"
    r = _fit(model, N, y, w, log_residuals=log_residuals)
    d = _fit(model, N[keep], y[keep], log_residuals=log_residuals)
    x_ref, cov_ref, dof_ref, iv_ref = _scipy_reference(N[keep], y[keep], log_residuals)

    assert (r.n_points, r.n_used, r.dof) == (12, 9, 6)
    assert (d.n_points, d.n_used, d.dof) == (9, 9, 6) and dof_ref == 6
    assert "n_used=9" in repr(r) and "n_used" not in repr(d)
    np.testing.assert_allclose(r.x, d.x, rtol=1e-7)
    np.testing.assert_allclose(r.x, x_ref, rtol=1e-6)
    np.testing.assert_allclose(r.cov, d.cov, rtol=1e-5)
    np.testing.assert_allclose(r.cov, cov_ref, rtol=1e-5)
    np.testing.assert_allclose(r.stderr, np.sqrt(np.diag(cov_ref)), rtol=1e-5)

    wi = uncertainty.wald_intervals(r)
    for j, name in enumerate(r.param_names):
        np.testing.assert_allclose(r.interval(name), iv_ref[j], rtol=1e-6)
        np.testing.assert_allclose(wi[name], d.interval(name), rtol=1e-6)
        dm = uncertainty.delta_method(name, r)
        np.testing.assert_allclose((dm.lower, dm.upper), iv_ref[j], rtol=1e-6)
    # a function of the parameters too: the asymptote's loss at 1e12, on the log scale
    at = lambda q: q["E"] + q["A"] * 1e12 ** -q["alpha"]
    a, b = uncertainty.delta_method(at, r, scale="log"), uncertainty.delta_method(at, d, scale="log")
    np.testing.assert_allclose((a.stderr, a.lower, a.upper), (b.stderr, b.lower, b.upper), rtol=1e-6)


def test_the_audit_example_before_and_after() -> None:
    """The audit's numbers: 12 points, the first 3 of weight 0 (seed 5)."""
    N, y, _ = _data()
    w = np.ones(12)
    w[:3] = 0
    r = scalingfit.fit("saturating_power_law", N, y, weights=w)
    lo, hi = r.interval("alpha")
    assert (round(lo, 4), round(hi, 4)) == (0.2320, 0.4554)  # was (0.2404, 0.4470): t on 9
    np.testing.assert_allclose((lo, hi), scalingfit.fit("saturating_power_law", N[3:], y[3:]).interval("alpha"),
                               rtol=1e-7)


@pytest.mark.parametrize("log_residuals", [False, True], ids=["linear", "log"])
def test_information_criteria_and_nested_test_equal_the_dropped_fits(log_residuals: bool) -> None:
    N, y, w = _data()
    keep = w > 0
    kw = dict(log_residuals=log_residuals)
    full, full_d = _fit("saturating_power_law", N, y, w, **kw), _fit("saturating_power_law", N[keep], y[keep], **kw)
    fixed = {"E": 1.6}
    rest = _fit("saturating_power_law", N, y, w, fixed=fixed, **kw)
    rest_d = _fit("saturating_power_law", N[keep], y[keep], fixed=fixed, **kw)
    assert rest.dof == rest_d.dof == 7

    ref = compare.information_criteria(full_d)
    for ic in (compare.information_criteria(full), compare.information_criteria(full, w)):
        assert ic["n"] == 9
        for key in ("log_likelihood", "aic", "aicc", "bic"):
            assert ic[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-9), key
    # by hand: -2 log L = n log(2 pi RSS / n) + n, k = 3 free parameters + the noise
    rss = 2 * full_d.cost
    aic = 9 * math.log(2 * math.pi * rss / 9) + 9 + 2 * 4
    assert ref["aic"] == pytest.approx(aic, rel=1e-9)
    assert ref["bic"] == pytest.approx(aic - 8 + 4 * math.log(9), rel=1e-9)

    t_ref = compare.nested_test(rest_d, full_d)
    for t in (compare.nested_test(rest, full), compare.nested_test(rest, full, w)):
        assert (t.df1, t.df2) == (1, 6)
        assert t.F == pytest.approx(t_ref.F, rel=1e-6)
        assert t.p_value == pytest.approx(t_ref.p_value, rel=1e-6)
        assert t.lr_p_value == pytest.approx(t_ref.lr_p_value, rel=1e-6)
    F = (2 * rest_d.cost - 2 * full_d.cost) / (2 * full_d.cost / 6)
    assert t_ref.p_value == pytest.approx(stats.f.sf(F, 1, 6), rel=1e-6)


def test_weights_that_disagree_with_the_fit_are_an_error() -> None:
    N, y, w = _data()
    r = _fit("saturating_power_law", N, y, w)
    with pytest.raises(ValueError, match="weights has 12 positive entries but the saturating_power_law fit counted 9"):
        compare.information_criteria(r, np.ones(12))
    full = _fit("saturating_power_law", N, y)
    with pytest.raises(ValueError, match="of positive weight 9 vs 12"):
        compare.nested_test(_fit("saturating_power_law", N, y, w, fixed={"E": 1.6}), full)


def test_compare_models_scores_and_holdout_intervals_equal_the_dropped_data() -> None:
    N, y, w = _data(seed=7, n=14)
    keep = w > 0
    laws = ["power_law", "saturating_power_law"]
    a = scalingfit.compare_models(laws, N, y, weights=w, loo=False, holdout=3)
    b = scalingfit.compare_models(laws, N[keep], y[keep], loo=False, holdout=3)
    for law in laws:
        sa, sb = a[law], b[law]
        for key in ("aic", "aicc", "bic", "log_likelihood"):
            assert getattr(sa, key) == pytest.approx(getattr(sb, key), rel=1e-7), (law, key)
        np.testing.assert_allclose(sa.holdout_lower, sb.holdout_lower, rtol=1e-7)
        np.testing.assert_allclose(sa.holdout_upper, sb.holdout_upper, rtol=1e-7)


@pytest.mark.parametrize("custom", [False, True], ids=["builtin", "custom"])
@pytest.mark.parametrize("log_residuals", [False, True], ids=["linear", "log"])
def test_fit_batch_equals_the_dropped_fit(custom: bool, log_residuals: bool) -> None:
    """Two problems, the second with zero weights: its parameters and covariance are those of
    its positively weighted points alone, and the first problem is untouched."""
    N, y, w = _data()
    keep = w > 0
    y2 = y * np.exp(0.01 * np.random.default_rng(9).standard_normal(12))
    x = np.concatenate([N, N])
    yy = np.concatenate([y2, y])
    ww = np.concatenate([np.ones(12), w])
    model = SAT if custom else "saturating_power_law"
    opts = dict(log_residuals=log_residuals, max_iter=2000, ftol=1e-15, xtol=1e-15, gtol=1e-15)
    p0 = np.tile(P0, (2, 1)) if custom else None
    b = scalingfit.fit_batch(model, x, yy, [0, 12, 24], p0, weights=ww, **opts).best_per_problem()
    first, second = _fit(model, N, y2, log_residuals=log_residuals), _fit(model, N[keep], y[keep],
                                                                         log_residuals=log_residuals)
    x_ref, cov_ref, _, _ = _scipy_reference(N[keep], y[keep], log_residuals)
    assert b.cov is not None
    np.testing.assert_allclose(b.x[0], first.x, rtol=1e-6)
    np.testing.assert_allclose(b.cov[0], first.cov, rtol=1e-5)
    np.testing.assert_allclose(b.x[1], second.x, rtol=1e-6)
    np.testing.assert_allclose(b.x[1], x_ref, rtol=1e-6)
    np.testing.assert_allclose(b.cov[1], second.cov, rtol=1e-5)
    np.testing.assert_allclose(b.cov[1], cov_ref, rtol=1e-5)


@pytest.mark.parametrize("custom", [False, True], ids=["builtin", "custom"])
def test_fractional_weights_still_count_as_points(custom: bool) -> None:
    """Weights 0.5 (all, or some with others 2): every point counts, dof = 12 - 3; equal
    weights leave the covariance and the intervals those of no weights."""
    N, y, _ = _data()
    model = SAT if custom else "saturating_power_law"
    r0 = _fit(model, N, y)
    half = _fit(model, N, y, np.full(12, 0.5))
    mixed = _fit(model, N, y, np.where(np.arange(12) % 2 == 0, 0.5, 2.0))
    assert r0.dof == half.dof == mixed.dof == 9
    assert half.n_used == mixed.n_used == 12
    for name in r0.param_names:
        np.testing.assert_allclose(half.interval(name), r0.interval(name), rtol=1e-6)
    # the mixed fit by hand: s^2 = 2 cost / (12 - 3), t on 9 degrees of freedom
    wm = np.where(np.arange(12) % 2 == 0, 0.5, 2.0)
    p = mixed.x
    J = np.column_stack([np.ones(12), N ** -p[2], -p[1] * np.log(N) * N ** -p[2]])
    cov = np.linalg.inv(J.T @ (J * wm[:, None])) * 2 * mixed.cost / 9
    np.testing.assert_allclose(mixed.cov, cov, rtol=1e-6)
    lo, hi = mixed.interval("alpha")
    assert hi - lo == pytest.approx(2 * stats.t.ppf(0.975, 9) * math.sqrt(cov[2, 2]), rel=1e-6)


def test_fixed_parameters_and_zero_weights_together() -> None:
    """dof = points of positive weight - free parameters: 9 - 2 with E held."""
    N, y, w = _data()
    r = _fit("saturating_power_law", N, y, w, fixed={"E": 1.7})
    d = _fit("saturating_power_law", N[w > 0], y[w > 0], fixed={"E": 1.7})
    assert r.dof == d.dof == 7
    for name in r.param_names:
        np.testing.assert_allclose(r.interval(name), d.interval(name), rtol=1e-6)
    assert r.interval("E") == (1.7, 1.7)


def test_a_result_built_without_the_count_takes_n_points() -> None:
    r = scalingfit.FitResult(model="saturating_power_law", param_names=("E", "A", "alpha"),
                             x=np.array([1.7, 400.0, 0.34]), cost=1e-4, cov=np.eye(3) * 1e-4,
                             status=1, iterations=5, n_points=10)
    assert (r.n_used, r.dof) == (10, 7)
