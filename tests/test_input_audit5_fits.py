"""Input audit 5, fits: too few points for their parameters.

``chinchilla.fit_parametric`` took exactly 5 points (the law's 5 parameters, no residual
degrees of freedom) and reported B = 1.5e101, beta = 11 with objective 0 as a success; it now
refuses fewer than 6. ``scalingfit.fit`` with as many points of positive weight as free
parameters returned NaN standard errors under a "converged" status without a word; it now
warns (UncertaintyWarning). The exact solutions are checked against
scipy.optimize.least_squares.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import chinchilla, compare_models, simulate
from scalingfit._warnings import UncertaintyWarning
from scipy.optimize import least_squares

SPL = "saturating_power_law"
NO_DOF = r"no residual degrees of freedom, so no standard errors"


def test_fit_parametric_refuses_five_points() -> None:
    s = simulate.isoflop_sweep(seed=0)
    with pytest.raises(ValueError, match=r"need at least 6 points to fit the 5 parameters of the "
                                         r"Chinchilla law .*no residual degrees of freedom.*got 5$"):
        chinchilla.fit_parametric(s.N[:5], s.D[:5], s.loss[:5], n_resamples=0)
    # drop_highest leaving 5 of 6: the count after the drop, and the drop, are named
    with pytest.raises(ValueError, match=r"need at least 6 points.*got 5 after drop_highest=1$"):
        chinchilla.fit_parametric(s.N[:6], s.D[:6], s.loss[:6], drop_highest=1)


def test_fit_parametric_takes_six_points() -> None:
    s = simulate.isoflop_sweep(seed=0)
    f = chinchilla.fit_parametric(s.N[:6], s.D[:6], s.loss[:6], grid="guess")
    assert f.n_points == 6


def _spl_scipy(N: np.ndarray, y: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """E + A N^-alpha through the points, by scipy."""
    s = least_squares(lambda p: p[0] + p[1] * N ** -p[2] - y, p0, method="lm", x_scale="jac",
                      ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=20000)
    return np.asarray(s.x)


def test_fit_without_residual_dof_warns_and_still_solves() -> None:
    N = np.array([1e7, 1e8, 1e9])
    y = 1.7 + 400 * N ** -0.34
    with pytest.warns(UncertaintyWarning, match=r"^saturating_power_law fit: 3 point\(s\) of "
                                                r"positive weight for 3 free parameter\(s\): " + NO_DOF):
        r = scalingfit.fit(SPL, N, y, ftol=1e-15, xtol=1e-15, gtol=1e-15)
    assert r.success and r.dof == 0 and np.isnan(r.stderr).all()
    np.testing.assert_allclose(r.x, _spl_scipy(N, y, np.array([1.5, 300.0, 0.3])), rtol=1e-6)


def test_fit_counts_points_of_positive_weight_and_free_parameters() -> None:
    N = np.logspace(7, 10, 4)
    y = 1.7 + 400 * N ** -0.34
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = scalingfit.fit(SPL, N, y)  # 4 points, 3 parameters: one degree of freedom
    assert ok.dof == 1
    with pytest.warns(UncertaintyWarning, match=r"3 point\(s\) of positive weight for 3 free "
                                                r"parameter\(s\): " + NO_DOF):
        scalingfit.fit(SPL, N, y, weights=[1.0, 0.0, 1.0, 1.0])
    # a fixed parameter: 2 points for the 2 free ones
    with pytest.warns(UncertaintyWarning, match=r"2 point\(s\) of positive weight for 2 free "
                                                r"parameter\(s\): " + NO_DOF):
        r = scalingfit.fit(SPL, N[:2], y[:2], fixed={"E": 1.7})
    A, alpha = 400.0, 0.34  # closed form: A N^-alpha through two points, E known
    al = -np.log((y[1] - 1.7) / (y[0] - 1.7)) / np.log(N[1] / N[0])
    np.testing.assert_allclose([r.x[1], r.x[2]], [(y[0] - 1.7) * N[0] ** al, al], rtol=1e-6)
    np.testing.assert_allclose([r.x[1], r.x[2]], [A, alpha], rtol=1e-6)


def test_comparisons_use_no_standard_errors_so_no_warning() -> None:
    N = np.logspace(7, 10, 3)
    y = 1.7 + 400 * N ** -0.34
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cmp = compare_models([SPL], N, y, loo=False)
    assert np.isnan(cmp[SPL].aic)
