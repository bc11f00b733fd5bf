"""Intervals of a fit that ended on a bound (numerical audit, stop 37). The bootstrap is not
consistent at a boundary (Andrews 2000): with E on its bound 0 the 95% percentile intervals of a
saturating power law's alpha covered 85% of 400 simulated data sets, and bootstrap() said
nothing; its basic and studentized intervals of E reached below the bound (E < 0 for E >= 0);
profile_interval reported -inf as the lower end of E although the bound 0 ends the search; and
the fit's own at-bound warning advised "a bootstrap interval"."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import uncertainty

SPL = "saturating_power_law"
BOUNDS = {"E": (0.0, math.inf)}


def _data() -> tuple[np.ndarray, np.ndarray]:
    # a pure power law (true E = 0) with 2% noise: the unbounded least-squares E is below 0
    # (checked below), so the bounded fit ends on E = 0
    rng = np.random.default_rng(3)
    x = np.logspace(7, 10, 15)
    return x, 400 * x**-0.34 * (1 + 0.02 * rng.standard_normal(15))


def test_the_data_put_the_bounded_fit_on_its_bound() -> None:
    x, y = _data()
    free = scalingfit.fit(SPL, x, y, log_residuals=True)
    assert free.params["E"] < 0
    bounded = scalingfit.fit(SPL, x, y, bounds=BOUNDS, log_residuals=True)
    assert bounded.at_bound == ("E",) and bounded.params["E"] == 0.0


def test_bootstrap_warns_when_the_point_fit_is_on_a_bound() -> None:
    x, y = _data()
    with pytest.warns(scalingfit.UncertaintyWarning, match=r"ended on a bound \(E = 0\).*profile_interval"):
        scalingfit.bootstrap(SPL, x, y, bounds=BOUNDS, log_residuals=True, n_resamples=50)
    with warnings.catch_warnings():  # an interior optimum: no such warning
        warnings.simplefilter("error")
        scalingfit.bootstrap(SPL, x, y + 1.0, bounds=BOUNDS, log_residuals=True, n_resamples=50)


@pytest.mark.parametrize("method", ["basic", "studentized", "percentile", "bca"])
def test_every_interval_of_a_bounded_parameter_stays_within_its_bounds(method: str) -> None:
    x, y = _data()
    lower_bounds = {"E": (0.0, math.inf), "alpha": (0.0, 0.3355)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalingfit.UncertaintyWarning)
        b = scalingfit.bootstrap(SPL, x, y, bounds=lower_bounds, log_residuals=True, n_resamples=200,
                                 method=method)
    lo, hi = b.ci("E")
    assert 0.0 <= lo <= hi
    lo, hi = b.ci("alpha")
    assert 0.0 <= lo <= hi <= 0.3355
    # the reflection about the estimate reaches below the bound before it is held there:
    # 2 E_hat - (upper quantile of the replicates) < 0 with E_hat = 0 and replicates >= 0
    if method == "basic":
        samples = b.samples[:, 0][np.isfinite(b.samples[:, 0])]
        assert 2 * b.params["E"] - np.quantile(samples, 0.975) < 0
    # the batch result of one problem keeps the bounds
    assert np.array_equal(b.batch.problem(0).ci("E", method=method)[0], b.ci("E", method=method))


def test_profile_interval_ends_at_the_bound_the_region_reaches() -> None:
    # every E in [0, upper) has |tau| below the threshold (E = 0 is the estimate): the lower end
    # is the bound itself, not -inf
    x, y = _data()
    p = uncertainty.profile_interval(SPL, x, y, "E", bounds=BOUNDS, log_residuals=True)
    assert p.estimate == 0.0 and p.lower == 0.0
    assert 0.0 < p.upper < math.inf
    # the upper end is where tau crosses the t threshold: a constrained refit there has cost
    # cost0 + thr^2 s^2 / 2 (s^2 = 2 cost0 / (n - p)), up to the bisection tolerance
    f = scalingfit.fit(SPL, x, y, bounds=BOUNDS, log_residuals=True)
    at = scalingfit.fit(SPL, x, y, bounds=BOUNDS, log_residuals=True, fixed={"E": p.upper})
    s2 = 2 * f.cost / (15 - 3)
    assert at.cost - f.cost == pytest.approx(p.threshold**2 * s2 / 2, rel=1e-2)
    # an unbounded parameter the data bound keeps finite ends on both sides
    a = uncertainty.profile_interval(SPL, x, y, "alpha", bounds=BOUNDS, log_residuals=True)
    assert -math.inf < a.lower < a.estimate < a.upper < math.inf


def test_fit_interval_at_a_bound_points_to_the_profile_interval() -> None:
    x, y = _data()
    f = scalingfit.fit(SPL, x, y, bounds=BOUNDS, log_residuals=True)
    with pytest.warns(scalingfit.UncertaintyWarning, match="take a profile interval"):
        f.interval("E")
