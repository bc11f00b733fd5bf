"""The uncertainty audit (stop 34): a Wald interval asked for a parameter that ended on one of
its bounds extended past the bound (E >= 1.75: (1.685, 1.815)) without a word, where the
docs say Wald intervals do not apply at a bound. It now warns; the interval itself is the
textbook one, checked here against scipy's t quantile and the fit's covariance."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import UncertaintyWarning

scipy_stats = pytest.importorskip("scipy.stats")


def _data() -> tuple[np.ndarray, np.ndarray]:
    N = np.logspace(7, 10, 12)
    return N, (1.7 + 400 * N ** -0.34) * (1 + 0.01 * np.sin(np.arange(12)))


def test_interval_on_a_bound_warns() -> None:
    N, y = _data()
    r = scalingfit.fit("saturating_power_law", N, y, bounds={"E": (1.75, 10.0)})
    assert r.at_bound == ("E",) and r.params["E"] == 1.75
    with pytest.warns(UncertaintyWarning, match=r"E = 1\.75 ended on one of its bounds: the Wald interval"):
        lo, hi = r.interval("E")
    assert lo < 1.75 < hi  # what it warns about
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncertaintyWarning)
        a_lo, a_hi = r.interval("alpha")  # an interior parameter: silent
    i = r.param_names.index("alpha")
    # Student's t on n - 3: E on its bound still counts as a free parameter
    half = scipy_stats.t.ppf(0.975, len(N) - 3) * np.sqrt(r.cov[i, i])
    assert (a_lo, a_hi) == pytest.approx((r.params["alpha"] - half, r.params["alpha"] + half), rel=1e-12)


def test_interval_inside_the_bounds_is_silent() -> None:
    N, y = _data()
    r = scalingfit.fit("saturating_power_law", N, y)
    assert r.at_bound == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncertaintyWarning)
        lo, hi = r.interval("E")
    assert lo < r.params["E"] < hi


def test_a_fit_result_pickled_before_n_used_existed_counts_every_point() -> None:
    """Unpickling skips __post_init__: a FitResult pickled by an older version (no n_used in
    its state) read back with n_used None, which nested_test then refused to pair with a new
    result. Its state now reads back with n_used = n_points."""
    import pickle

    N, y = _data()
    r = scalingfit.fit("saturating_power_law", N, y)
    state = r.__getstate__()
    del state["n_used"]
    old = object.__new__(type(r))
    old.__setstate__(state)
    assert old.n_used == old.n_points == 12 and old.dof == 9
    again = pickle.loads(pickle.dumps(old))
    assert again.n_used == 12 and np.array_equal(again.x, r.x)
    assert again.interval("alpha") == r.interval("alpha")


def test_too_few_positive_weights_is_a_failed_fit_with_its_status() -> None:
    """Fewer points of positive weight than free parameters: the fit fails with status -3
    (bad input) and a ConvergenceWarning, a per-fit status that compare_models counts as a
    law that cannot compete (a ValueError here broke that: tests/test_compare.py); exactly
    as many is an exact fit with 0 degrees of freedom."""
    N, y = _data()
    with pytest.warns(scalingfit.ConvergenceWarning):
        r = scalingfit.fit("saturating_power_law", N, y, weights=np.r_[1.0, 1.0, np.zeros(10)])
    assert r.status == -3 and r.n_used == 2
    w = np.r_[1.0, 1.0, 1.0, np.zeros(9)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 points a fraction of a decade apart: identifiability
        r = scalingfit.fit("saturating_power_law", N, y, weights=w, p0=[1.7, 400.0, 0.34])
    assert (r.n_points, r.n_used, r.dof) == (12, 3, 0)
