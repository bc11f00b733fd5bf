"""Mutation round 5, uncertainty: t_quantile on 0 degrees of freedom, the robust cost's
f_scale^2 in the Gauss-Newton covariance (hand-computed Huber pieces, ceres/scipy contract),
and the refusal of a fit_result whose cost is slightly off for these data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scalingfit as sf
from scalingfit import uncertainty


def test_t_quantile_on_zero_or_negative_dof_is_nan() -> None:
    """Documented: NaN for dof <= 0 (a saturated fit), not an error."""
    assert math.isnan(uncertainty.t_quantile(0.975, 0))
    assert math.isnan(uncertainty.t_quantile(0.975, -1))
    assert uncertainty.t_quantile(0.975, None) == pytest.approx(1.959963984540054, abs=1e-12)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = np.logspace(6, 9, 20)
    y = 2.0 + 300.0 * x**-0.3 + 0.02 * rng.standard_normal(x.size)
    y[[3, 11]] += 0.3  # outliers for the robust loss
    return x, y


@pytest.mark.parametrize("f_scale", [0.01, 0.05, 3.0])
def test_gauss_newton_cov_under_huber_by_hand(f_scale: float) -> None:
    """cov = s^2 (sum rho' J J^T)^-1, s^2 = 2 cost / (n - p), cost = 1/2 sum f^2 rho(r^2/f^2)
    with Huber's rho(z) = z (z <= 1), 2 sqrt(z) - 1 (z > 1), rho'(z) = 1, z^-1/2."""
    x, y = _data()
    p = np.array([2.0, 280.0, 0.29])
    E, A, al = p
    r = E + A * x**-al - y
    J = np.column_stack([np.ones_like(x), x**-al, -A * x**-al * np.log(x)])
    z = (r / f_scale) ** 2
    rho = np.where(z <= 1, z, 2 * np.sqrt(z) - 1)
    rho1 = np.where(z <= 1, 1.0, 1 / np.sqrt(z))
    cost = 0.5 * f_scale**2 * rho.sum()
    H = (J * rho1[:, None]).T @ J
    want = 2 * cost / (x.size - 3) * np.linalg.inv(H)
    got = uncertainty.gauss_newton_cov("saturating_power_law", x, y, p, loss="huber", f_scale=f_scale)
    np.testing.assert_allclose(got, want, rtol=1e-7)


def test_profile_refuses_a_fit_result_of_slightly_other_data() -> None:
    """A fit of data that differ from these by one point moved 1e-4 (its cost off by ~0.1-1%,
    computed here) is refused: its cost is not the cost of its parameters on these data."""
    x, y = _data()
    r = sf.fit("saturating_power_law", x, y)
    y2 = y.copy()
    y2[5] += 1e-3
    E, A, al = r.x
    c1 = 0.5 * np.sum((E + A * x**-al - y) ** 2)
    c2 = 0.5 * np.sum((E + A * x**-al - y2) ** 2)
    assert 1e-6 < abs(c2 - c1) / c1 < 1e-2
    assert r.cost == pytest.approx(c1, rel=1e-9)
    uncertainty.profile_interval("saturating_power_law", x, y, "alpha", fit_result=r)  # accepted
    with pytest.raises(ValueError, match="does not belong"):
        uncertainty.profile_interval("saturating_power_law", x, y2, "alpha", fit_result=r)


def test_log_scale_delta_interval_never_reaches_zero() -> None:
    """On the log scale the interval is exp(log q +- t se / q): positive whatever the standard
    error. Here se / q = 1000 (t = 1.96 on the normal): the lower end underflows exp(-1960)
    = 0 unless it is held above 0; the upper end is unbounded."""
    from scalingfit.bootstrap import Positive

    d = uncertainty.delta_method(Positive(lambda p: p["a"]), {"a": 1.0}, cov=[[1e6]])
    assert d.scale == "log" and d.stderr == pytest.approx(1000.0, rel=1e-6)
    assert 0.0 < d.lower < 1e-300
    assert d.upper == math.inf
