"""scalingfit imported as a backend by other code (embedding audit, stop 36): results do not
share the caller's buffers, the caller's arrays stay the caller's, warnings point at the
caller's line however deep inside the package they arise, and result objects can be compared
and hashed (by identity) without numpy's "truth value of an array is ambiguous"."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scalingfit as sf
from scalingfit import IdentifiabilityWarning, uncertainty

RNG = np.random.default_rng(0)
N = np.logspace(7, 10, 12)
Y = 1.7 + 400 * N**-0.34 * (1 + 0.01 * RNG.standard_normal(12))


def test_fit_batch_result_keeps_its_own_problem_array() -> None:
    n = np.tile(N, 2)
    y = np.tile(Y, 2)
    problem = np.repeat(np.arange(2, dtype=np.int64), 3)
    p0 = np.array([[1.5, 300.0, 0.3], [2.0, 500.0, 0.4], [1.0, 100.0, 0.2]] * 2)
    r = sf.fit_batch("saturating_power_law", n, y, [0, 12, 24], p0=p0, problem=problem)
    before = r.best_index().copy()
    problem[:] = 0  # the caller reuses its buffer
    assert not np.shares_memory(r.problem, problem)
    np.testing.assert_array_equal(r.best_index(), before)
    np.testing.assert_array_equal(r.problem, np.repeat([0, 1], 3))


def test_bootstrap_result_keeps_its_own_data() -> None:
    """``predict(kind="prediction")`` reads the data kept with the result: the band moved when
    the caller overwrote its ``y`` afterwards."""
    x, y = N.copy(), Y.copy()
    b = sf.bootstrap("saturating_power_law", x, y, n_resamples=200, seed=1)
    band = b.predict(np.array([1e11]), kind="prediction")
    y[:] = 1.0
    x[:] = 1.0
    again = b.predict(np.array([1e11]), kind="prediction")
    np.testing.assert_array_equal(band.lower, again.lower)
    np.testing.assert_array_equal(band.upper, again.upper)
    assert not np.shares_memory(b.y_data, y)


def test_bootstrap_batch_leaves_the_callers_arrays_writeable_and_unshared() -> None:
    """The result makes its problem_id read-only (frozen): that was the caller's own array."""
    x = np.tile(N, 2)
    y = np.tile(Y, 2)
    pid = np.array([7, 9], dtype=np.int64)
    b = sf.bootstrap_batch("saturating_power_law", x, y, [0, 12, 24], n_resamples=50, seed=2, problem_id=pid)
    assert pid.flags.writeable and not np.shares_memory(b.problem_id, pid)
    pid[0] = 1
    np.testing.assert_array_equal(b.problem_id, [7, 9])
    assert not b.problem_id.flags.writeable


def test_warnings_of_a_fit_inside_bootstrap_and_profile_point_at_the_callers_line() -> None:
    """The point fit that bootstrap and profile_interval run warned with stacklevel=2 and so
    pointed at their own lines in the package."""
    narrow = np.linspace(1e9, 3e9, 8)
    yn = 1.7 + 400 * narrow**-0.34 * (1 + 0.01 * RNG.standard_normal(8))
    calls = {
        "bootstrap": lambda: sf.bootstrap("saturating_power_law", narrow, yn, n_resamples=50, seed=1),
        "fit": lambda: sf.fit("saturating_power_law", narrow, yn),
        "profile": lambda: uncertainty.profile_interval("saturating_power_law", narrow, yn, "alpha"),
    }
    for name, call in calls.items():
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            call()
        ident = [r for r in rec if issubclass(r.category, IdentifiabilityWarning)]
        assert ident, name
        assert {r.filename for r in ident} == {__file__}, (name, [(r.filename, r.lineno) for r in ident])


def test_results_compare_and_hash_by_identity() -> None:
    r = sf.fit("saturating_power_law", N, Y)
    b = sf.bootstrap("saturating_power_law", N, Y, n_resamples=20, seed=3)
    copy = pickle.loads(pickle.dumps(r))
    same = r
    assert r == same and r != copy and len({r, copy, b}) == 3
    m = sf.models.get("saturating_power_law")
    assert {m: 1}[m] == 1 and m == sf.models.get("saturating_power_law")


def test_bootstrap_predict_takes_one_point_as_fit_result_predict_does() -> None:
    """``b.predict(1e11)`` failed with "x must have shape (n, 1) ... got shape ()" (naming x,
    not x_new) where ``b.fit.predict(1e11)`` gives the law's value."""
    b = sf.bootstrap("saturating_power_law", N, Y, n_resamples=50, seed=1)
    one = b.predict(1e11)
    many = b.predict(np.array([1e11]))
    np.testing.assert_array_equal(one.lower, many.lower)
    np.testing.assert_array_equal(one.estimate, many.estimate)
    assert float(one.estimate[0]) == b.fit.predict(1e11)
    nd = sf.bootstrap("chinchilla", (np.repeat(N, 3), np.tile([2e9, 2e10, 2e11], 12)),
                      1.7 + 400 * np.repeat(N, 3) ** -0.34 + 400 * np.tile([2e9, 2e10, 2e11], 12) ** -0.28,
                      n_resamples=20, seed=2)
    np.testing.assert_array_equal(nd.predict((7e10, 1.4e12)).upper, nd.predict(([7e10], [1.4e12])).upper)
    with pytest.raises(ValueError, match=r"^x_new must have shape \(n, 1\)"):
        b.predict(np.array([[1e11, 2e11]]))


@pytest.mark.parametrize("dtype", ["datetime64[ns]", "timedelta64[s]"])
def test_dates_and_durations_are_not_taken_for_sizes(dtype: str) -> None:
    """numpy made datetime64 x nanoseconds since 1970 (then "x must be > 0 ... 0.0" for the
    epoch) and timedelta64 seconds, fitted as if they were sizes."""
    with pytest.raises(TypeError, match=r"^x must be numbers, got (dates or times|durations) \(dtype "):
        sf.fit("saturating_power_law", N.astype(dtype), Y)
    with pytest.raises(TypeError, match=r"^y must be numbers"):
        sf.fit("saturating_power_law", N, Y.astype(dtype))
