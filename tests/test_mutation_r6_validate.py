"""Mutation round 6: _validate.py. The checks' documented contracts, each against a hand-made
case or numpy's own function (never the module's output)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import _validate, testtime
from scalingfit import chinchilla as ch
from scalingfit._warnings import DataWarning
from scalingfit.models import get


def test_positive_with_allow_inf_still_refuses_zero_and_nan() -> None:
    # "finite (or +inf with allow_inf) and > 0"
    assert _validate.positive("v", [1.0, np.inf], allow_inf=True).tolist() == [1.0, np.inf]
    for bad in (0.0, -np.inf, np.nan, -1.0):
        with pytest.raises(ValueError, match=r"v must be > 0 \(inf allowed\)"):
            _validate.positive("v", bad, scalar=True, allow_inf=True)
    with pytest.raises(ValueError, match=r"v\[1\] = 0.0"):
        _validate.positive("v", [np.inf, 0.0], allow_inf=True)


def test_flag_refuses_integers() -> None:
    # "A bool (Python or numpy); a TypeError naming name otherwise"
    assert _validate.flag("f", np.bool_(True)) is True
    for bad in (1, 0, np.int64(1), "yes", None):
        with pytest.raises(TypeError, match="f must be True or False"):
            _validate.flag("f", bad)
    N = np.logspace(7, 9, 6)
    with pytest.raises(TypeError, match="log_residuals must be True or False"):
        scalingfit.fit("saturating_power_law", N, 2 + 100 * N**-0.3, log_residuals=1)


def test_check_nonnegative_refuses_the_smallest_negative() -> None:
    _validate.check_nonnegative(np.array([0.0, -0.0, 5e-324]), "x")  # -0.0 is not negative
    with pytest.raises(ValueError, match=r"x must be >= 0; x has 1 negative value\(s\), the first at index 1"):
        _validate.check_nonnegative(np.array([0.0, -5e-324]), "x")


def test_metric_scale_upper_limit_is_ceiling_plus_span() -> None:
    # "a value beyond them by more than their span ... is a ValueError"; floor 0, ceiling 1:
    # values above 2 are refused, 1.9 is not
    _validate.check_metric_scale(np.array([0.2, 1.9]), "acc", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"acc\[1\] = 2.5 is far outside"):
        _validate.check_metric_scale(np.array([0.2, 2.5]), "acc", 0.0, 1.0)
    # through a public caller: accuracy in percent against a ceiling of 1
    C = np.logspace(10, 16, 13)
    acc = 100 * (0.1 + 0.7 / (1 + np.exp(-1.2 * (np.log(C) - np.log(1e13)))))
    acc = np.minimum(acc, 2.6)  # the largest value 2.6: beyond 1 + 1 but within 1 + 2 spans
    with pytest.raises(ValueError, match="far outside the fixed floor and ceiling"):
        testtime.fit_accuracy_vs_compute([C], [acc], floor=0.0, ceiling=1.0)


def test_columns_treat_inf_as_not_finite() -> None:
    with pytest.raises(ValueError, match=r"x must be finite; x has 1 non-finite value\(s\), the first at index 1: inf"):
        _validate.columns({"x": [1.0, np.inf, 3.0], "y": [1.0, 2.0, 3.0]})
    with pytest.warns(DataWarning, match=r"dropped 2 row\(s\) with NaN or inf: rows 0, 2"):
        cols, kept = _validate.columns({"x": [-np.inf, 2.0, 3.0, 4.0], "y": [1.0, 2.0, np.inf, 4.0]},
                                       nan_policy="omit")
    assert kept.tolist() == [1, 3] and cols["x"].tolist() == [2.0, 4.0] and cols["y"].tolist() == [2.0, 4.0]


def test_fixed_value_above_its_upper_bound_is_refused() -> None:
    m = get("saturating_power_law")
    lo, hi = _validate.as_bounds({"alpha": (0.1, 1.0)}, m, {"alpha": 1.0})  # on the bound: fine
    assert lo[m.param_names.index("alpha")] == hi[m.param_names.index("alpha")] == 1.0
    for v in (1.5, 0.05):
        with pytest.raises(ValueError, match=rf"fixed value of alpha, {v!r}, is outside its bounds \[0.1, 1.0\]"):
            _validate.as_bounds({"alpha": (0.1, 1.0)}, m, {"alpha": v})


def test_a_misspelt_synonym_at_ratio_0_9_gets_the_functions_name() -> None:
    # "n_resampl" is 0.9 similar to the synonym n_resamples (difflib: 2 * 9 / (9 + 11)): at the
    # documented 0.9 it counts, so fit_isoflop's n_bootstrap is suggested
    with pytest.raises(TypeError, match=r"did you mean n_bootstrap\?$"):
        ch.fit_isoflop([1e18], [1e8], [3.0], n_resampl=10)  # type: ignore[call-arg]


def test_nan_percentile_ignores_nan_in_a_partly_nan_slice() -> None:
    a = np.array([[1.0, np.nan, 3.0, 10.0], [np.nan] * 4, [4.0, 5.0, 6.0, 7.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's All-NaN slice warning
        ref = np.nanpercentile(a, [25, 50], axis=1)
    out = _validate.nan_percentile(a, [25, 50], axis=1)
    assert np.array_equal(np.isnan(out), np.isnan(ref)) and np.allclose(out[:, [0, 2]], ref[:, [0, 2]])
    assert out[1, 0] == pytest.approx(3.0)  # median of 1, 3, 10
