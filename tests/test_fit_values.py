"""Values that ``fit`` derives from its batch of starts and from its data, checked against
closed forms and hand computations written out here: ``n_best`` (the starts that reach the best
cost within 1e-8 relative, converged ones only) against the costs of the least-squares line
through the origin, and against the statuses and costs of the same starts solved by
``fit_batch``; the span of the inputs in the IdentifiabilityWarning against log10(max / min) of
the points of positive weight; and the names in ``near_singular``'s message against a
covariance built with a known near-null direction."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import IdentifiabilityWarning, _identify, _status

# y ~ c x through the origin: the least-squares slope and its cost in closed form
_X = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
_Y = np.array([4.1, 7.9, 12.2, 15.8, 20.1])
_C = float(_X @ _Y / (_X @ _X))  # 4.00364
_COST_MIN = 0.5 * float(np.sum((_C * _X - _Y) ** 2))  # 0.0546364


def _square_slope() -> scalingfit.CustomModel:
    """``a**2 * x``: the slope c is reached at a = +sqrt(c) and at a = -sqrt(c)."""
    return scalingfit.CustomModel(lambda x, p: p[:, 0] ** 2 * x[:, 0], ("a",),
                                  jac=lambda x, p: (2 * p[:, 0] * x[:, 0])[:, None])


def test_n_best_does_not_count_a_second_minimum_1e5_worse() -> None:
    """``a**2 x`` with the lower bound just inside -sqrt(c): the start +1 converges to
    a = +sqrt(c) = 2.00091 (cost 0.0546364, the line's), the start -1 to the bound
    a = -2.00087, whose cost is larger by 1e-5 relative (by hand: 0.5 (b^2 - c)^2 sum x^2). Two
    distinct minima: n_best is 1. A tolerance of 1e-3 instead of 1e-8 counted both (n_best 2).
    With the bound at -3 both starts reach the same cost (a = +-sqrt(c)): n_best is 2."""
    m = _square_slope()
    # the lower bound b where the cost exceeds the optimum by 1e-5 of it
    d = np.sqrt(2e-5 * _COST_MIN / float(_X @ _X))
    b = -np.sqrt(_C - d)
    cost_b = 0.5 * float(np.sum((b * b * _X - _Y) ** 2))
    assert cost_b == pytest.approx(_COST_MIN * (1 + 1e-5), rel=1e-9)

    r = scalingfit.fit(m, _X, _Y, starts=[[1.0], [-1.0]], bounds=([b], [3.0]))
    assert r.success and r.n_starts == 2
    assert r.x[0] == pytest.approx(np.sqrt(_C), rel=1e-9)
    assert r.cost == pytest.approx(_COST_MIN, rel=1e-12)
    batch = scalingfit.fit_batch(m, _X, _Y, [0, 5], [[1.0], [-1.0]], problem=[0, 0], bounds=([b], [3.0]))
    assert (batch.status > 0).all()  # both converged: only the cost separates them
    np.testing.assert_allclose(batch.x[:, 0], [np.sqrt(_C), b], rtol=1e-9)
    np.testing.assert_allclose(batch.cost, [_COST_MIN, cost_b], rtol=1e-10)
    assert r.n_best == 1

    r = scalingfit.fit(m, _X, _Y, starts=[[1.0], [-1.0]], bounds=([-3.0], [3.0]))
    assert r.cost == pytest.approx(_COST_MIN, rel=1e-12)
    assert r.n_best == 2


def test_n_best_does_not_count_a_start_stopped_by_the_iteration_limit() -> None:
    """Saturating power law from the optimum p and from 1.01 p with max_iter=4: the first
    start converges at once, the second stops at the iteration limit (status 0) with a cost
    within 1e-8 of the best (1e-13 here). n_best counts converged starts only: 1 (the same
    count as from fit_batch's statuses and costs). Counting every start within the cost
    tolerance gave 2."""
    rng = np.random.default_rng(0)
    x = np.logspace(6, 10, 12)
    y = (1.8 + 300 * x ** -0.3) * (1 + 0.01 * rng.standard_normal(12))
    p = scalingfit.fit("saturating_power_law", x, y).x
    starts = np.array([p, 1.01 * p])
    batch = scalingfit.fit_batch("saturating_power_law", x, y, [0, 12], starts, problem=[0, 0], max_iter=4)
    assert batch.status[0] > 0 and batch.status[1] == _status.MAX_ITER
    best = batch.cost[0]
    assert abs(batch.cost[1] - best) <= 1e-8 * best  # a cost tolerance alone would count it
    expected = int(np.sum((batch.status > 0) & (batch.cost <= best * (1 + 1e-8))))
    assert expected == 1

    r = scalingfit.fit("saturating_power_law", x, y, starts=starts, max_iter=4)
    assert r.success and r.n_starts == 2
    assert r.cost == best
    assert r.n_best == expected


def test_the_span_warning_counts_only_points_of_positive_weight() -> None:
    """x spans 3 decades (16 points), but only the 4 lowest (0.6 decades by hand:
    log10(x[3] / x[0]) = 3 * 3 / 15) have a positive weight, the others weight 0: alpha is
    fixed by 0.6 decades only, and the fit warns "x spans 0.6 decades". Taking every point
    (weights ignored, or a weight of 0 counted) made it silent."""
    x = np.logspace(6, 9, 16)
    y = 300 * x ** -0.3 * (1 + 0.01 * np.sin(np.arange(16)))
    w = np.r_[[1.0, 2.0, 0.5, 1.0], np.zeros(12)]
    span = np.log10(x[3] / x[0])
    assert span == pytest.approx(0.6, rel=1e-12)
    with pytest.warns(IdentifiabilityWarning, match=r"x spans 0\.6 decades \(under one\), so alpha cannot"):
        r = scalingfit.fit("power_law", x, y, weights=w)
    assert r.success
    # all weights positive: 3 decades, no warning (warnings are errors in this suite)
    scalingfit.fit("power_law", x, y, weights=np.r_[w[:4], np.full(12, 0.1)])


def test_no_span_warning_when_the_exponent_is_fixed() -> None:
    """0.6 decades of x: a free alpha warns that it cannot be told apart from A; with alpha
    held at a value (fixed=, or equal bounds) there is no exponent to resolve, so no warning.
    Treating a fixed exponent (lower == upper) as free warned falsely."""
    x = np.logspace(8, 8.6, 12)
    y = 1.7 + 400 * x ** -0.34 * (1 + 0.005 * np.cos(np.arange(12)))
    with pytest.warns(IdentifiabilityWarning, match="alpha cannot be told apart"):
        scalingfit.fit("saturating_power_law", x, y, [1.7, 400.0, 0.34])
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifiabilityWarning)
        r = scalingfit.fit("saturating_power_law", x, y, [1.0, 100.0, 0.34], fixed={"alpha": 0.34})
        assert r.success and r.fixed == ("alpha",) and r.x[2] == 0.34
        r = scalingfit.fit("saturating_power_law", x, y, [1.0, 100.0, 0.34],
                           bounds={"alpha": (0.34, 0.34)})
        assert r.success and r.x[2] == 0.34


def _gram_with_null_vector() -> tuple[np.ndarray, np.ndarray]:
    """A correlation matrix (unit diagonal) of 5 parameters with the null vector
    u = (0, 1, 0.6, 0.5, 0.1), as the Gram matrix of unit vectors g_a..g_e with
    g_b = -(0.6 g_c + 0.5 g_d + 0.1 g_e): g_c = (1, 0, 0, 0), g_d = (cos phi, sin phi, 0, 0),
    g_e = (0, 0, 1, 0), so |g_b|^2 = 0.36 + 0.25 + 0.6 cos phi + 0.01 = 1 for cos phi = 0.38 / 0.6;
    g_a = (0, 0, 0, 1) is orthogonal to all (its entry of u is 0)."""
    cphi = 0.38 / 0.6
    g_c = np.array([1.0, 0.0, 0.0, 0.0])
    g_d = np.array([cphi, np.sqrt(1 - cphi**2), 0.0, 0.0])
    g_e = np.array([0.0, 0.0, 1.0, 0.0])
    g_a = np.array([0.0, 0.0, 0.0, 1.0])
    g_b = -(0.6 * g_c + 0.5 * g_d + 0.1 * g_e)
    G = np.column_stack([g_a, g_b, g_c, g_d, g_e])
    u = np.array([0.0, 1.0, 0.6, 0.5, 0.1])
    return G.T @ G, u


def test_near_singular_names_the_parameters_of_the_near_null_direction() -> None:
    """The covariance (R + 1e-12 I) scaled to arbitrary units, R the correlation matrix above:
    the correlation matrix's near-null eigenvector is u / |u| exactly (adding a multiple of I
    keeps eigenvectors), with the weights relative to the largest 0, 1, 0.6, 0.5, 0.1. Named
    are the parameters of at least a quarter of the largest weight: b, c and d, neither a (0)
    nor e (0.1). A threshold of 0.9 named b alone."""
    R, u = _gram_with_null_vector()
    np.testing.assert_allclose(np.diag(R), 1.0, rtol=1e-15)
    np.testing.assert_allclose(R @ u, 0.0, atol=1e-15)
    scale = np.array([1e-3, 10.0, 1e4, 1.0, 0.2])  # units: the test is scale-free
    cov = (R + 1e-12 * np.eye(5)) * np.outer(scale, scale)
    why = _identify.near_singular(("a", "b", "c", "d", "e"), cov)
    assert why is not None
    assert "): b, c, d are not separately determined" in why
    # a direction whose second weight is 0.2 of the largest: only b and d
    u2 = np.array([0.0, 1.0, 0.2, 0.9, 0.0])
    cphi = (1 - 0.04 - 0.81) / (2 * 0.2 * 0.9)  # |0.2 g_c + 0.9 g_d| = 1
    g_c = np.array([1.0, 0.0, 0.0])
    g_d = np.array([cphi, np.sqrt(1 - cphi**2), 0.0])
    g_b = -(0.2 * g_c + 0.9 * g_d)
    G = np.column_stack([[0.0, 0.0, 1.0], g_b, g_c, g_d])
    R2 = G.T @ G
    np.testing.assert_allclose(R2 @ u2[:4], 0.0, atol=1e-15)
    why = _identify.near_singular(("a", "b", "c", "d"), R2 + 1e-12 * np.eye(4))
    assert why is not None and "): b, d are not separately determined" in why
