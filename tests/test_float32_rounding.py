"""precision="float32" on data whose noise is below float's resolution (numerical audit, stop
37): the float cost sums to rounding, often exactly 0, and the covariance scaled by it gave
standard errors of exactly 0 (12 of 20 saturating power laws at 1e-8 noise) and bootstrap
intervals of zero width (9 of 10), with parameters 1e-6 off and nothing said. Such fits are
now flagged: their covariance is NaN, and one UncertaintyWarning names them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import _precision

X = np.logspace(3, 13, 15)


def _y(noise: float, seed: int = 1) -> np.ndarray:
    return (3 + X**-0.5) * (1 + noise * np.random.default_rng(seed).standard_normal(15))


def test_rounding_items_is_the_documented_threshold() -> None:
    # 2 cost <= (4 * 2^-24)^2 * sum w t^2, per problem (t = y, or log y with log residuals)
    y = np.array([3.0, 4.0, 1.0, 2.0])  # problem 0: sum y^2 = 25; problem 1: 5
    off = np.array([0, 2, 4])
    u2 = (4 * 2.0**-24) ** 2
    prob = np.array([0, 0, 1, 1])
    cost = np.array([0.5 * 25 * u2, 0.5 * 25 * u2 * 1.01, 0.5 * 5 * u2, 0.0])
    status = np.array([1, 1, 0, 2], dtype=np.int32)  # status 0 (not converged) is not flagged
    got = _precision.rounding_items(y, None, off, prob, cost, status, False)
    np.testing.assert_array_equal(got, [True, False, False, True])
    w = np.array([2.0, 0.0, 1.0, 1.0])  # weights enter the sum: problem 0's is 18
    cost = np.array([0.5 * 18 * u2, 0.5 * 18 * u2, 0.5 * 5 * u2, 0.5 * 5 * u2 * 1.01])
    got = _precision.rounding_items(y, w, off, prob, cost, status, False)
    np.testing.assert_array_equal(got, [True, True, False, False])
    logs = np.log(y)  # log residuals: sum (log y)^2
    s0 = float(logs[0] ** 2 + logs[1] ** 2)
    got = _precision.rounding_items(y, None, off, prob[:1], np.array([0.5 * s0 * u2]), status[:1], True)
    assert got.tolist() == [True]


@pytest.mark.parametrize("noise", [0.0, 1e-8])
def test_bootstrap_in_float32_below_its_resolution_warns(noise: float) -> None:
    with pytest.warns(scalingfit.UncertaintyWarning, match=r"precision='float32': 1 of 1 fit\(s\).*float64"):
        b = scalingfit.bootstrap("saturating_power_law", X, _y(noise), precision="float32", n_resamples=50,
                                 method="percentile")
    assert b.n_resamples == 50


def test_bootstrap_in_float32_with_percent_noise_says_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)  # some replicates of 15 points
        warnings.simplefilter("error", scalingfit.UncertaintyWarning)
        b = scalingfit.bootstrap("saturating_power_law", X, _y(1e-2), precision="float32", n_resamples=50,
                                 method="percentile")
    lo, hi = b.ci("alpha")
    assert hi - lo > 1e-3


def test_fit_batch_in_float32_below_its_resolution_has_no_standard_errors() -> None:
    # three problems: noise-free and 1e-8 (below float's 6e-8 resolution), and 1% noise
    y = np.concatenate([_y(0.0), _y(1e-8), _y(1e-2)])
    x = np.tile(X, 3)
    with pytest.warns(scalingfit.UncertaintyWarning,
                      match=r"precision='float32': 2 of 3 fit\(s\) \(first: problem 0\).*covariance is NaN"):
        b = scalingfit.fit_batch("saturating_power_law", x, y, [0, 15, 30, 45], precision="float32")
    assert np.isnan(b.cov[:2]).all()
    ref = scalingfit.fit_batch("saturating_power_law", x, y, [0, 15, 30, 45])  # float64
    se32, se64 = np.sqrt(np.diag(b.cov[2])), np.sqrt(np.diag(ref.cov[2]))
    np.testing.assert_allclose(se32, se64, rtol=0.05)  # the noisy problem keeps its errors
    assert (b.status > 0).all()


def test_fit_batch_in_float64_on_noise_free_data_is_not_flagged() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalingfit.UncertaintyWarning)
        b = scalingfit.fit_batch("saturating_power_law", X, _y(0.0), [0, 15])
    assert np.isfinite(b.cov).all()
