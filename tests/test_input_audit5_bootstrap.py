"""Input audit 5, bootstrap: derived quantities and ``bootstrap_batch``'s ``center``.

``predicted_value`` reshaped its point without a look: two points failed with numpy's
"cannot reshape array of size 2 into shape (1,1)", and a power law at x = 0 was inf on every
replicate, whose standard error leaked numpy's "Degrees of freedom <= 0" RuntimeWarning. A
NaN ``center`` row of ``bootstrap_batch`` skipped its problem silently. References: the
closed-form Chinchilla law, statistics.stdev.
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit._warnings import ConvergenceWarning
from scalingfit.bootstrap import bootstrap, bootstrap_batch, predicted_value

SPL = "saturating_power_law"
TRUTH = np.array([1.7, 400.0, 0.34])


def _spl(seed: int = 0, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    N = np.logspace(7, 10, n)
    y = (1.7 + 400 * N ** -0.34) * np.exp(0.01 * np.random.default_rng(seed).standard_normal(n))
    return N, y


@pytest.mark.parametrize("x_new, match", [
    ([1e11, 1e12], (r"x_new must be one point of saturating_power_law \(x\), got 2 points "
                    r"\(shape \(2,\)\): make one predicted_value per point, or take a band")),
    (0.0, (r"x_new must be > 0 \(saturating_power_law is a power law in its inputs, not finite "
           r"at 0 or below\); .*row 0 \(column x\): 0.0")),
    ([-1.0], r"x_new must be > 0 .*row 0 \(column x\): -1.0"),
    (np.nan, r"x_new must be finite; .*row 0 \(column x\): nan"),
])
def test_predicted_value_checks_its_point_when_made(x_new, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        predicted_value(SPL, x_new)


def test_predicted_value_of_two_inputs() -> None:
    with pytest.raises(ValueError, match=r"x_new must be > 0 .*row 0 \(column D\): -1.0"):
        predicted_value("chinchilla", (1e9, -1.0))
    with pytest.raises(ValueError, match=r"x_new must be one point of chinchilla \(N, D\), got 2 points"):
        predicted_value("chinchilla", ([1e9, 1e10], [2e10, 2e11]))
    q = predicted_value("chinchilla", (1e9, 2e10))
    p = {"E": np.array([1.69, 1.8]), "A": np.array([406.4, 300.0]), "B": np.array([410.7, 500.0]),
         "alpha": np.array([0.34, 0.3]), "beta": np.array([0.28, 0.3])}
    want = p["E"] + p["A"] * 1e9 ** -p["alpha"] + p["B"] * 2e10 ** -p["beta"]  # closed form
    np.testing.assert_allclose(q(p), want, rtol=1e-12)
    np.testing.assert_allclose(predicted_value("chinchilla", [[1e9, 2e10]])(p), want, rtol=1e-12)
    # one point as a tuple of columns, as fit and predict take inputs (it was refused)
    np.testing.assert_allclose(predicted_value("chinchilla", ([1e9], [2e10]))(p), want, rtol=1e-12)


def _inf_everywhere(p):
    return np.full(np.shape(p["E"]), np.inf)


def _finite_once(p):
    v = np.full(np.shape(p["E"]), np.inf)
    v[:1] = 1.0
    return v


def test_stderr_of_a_quantity_infinite_on_the_replicates_is_nan_without_numpy_warnings() -> None:
    N, y = _spl()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's RuntimeWarning included
        b = bootstrap(SPL, N, y, n_resamples=40, method="percentile",
                      derived={"inf": _inf_everywhere, "once": _finite_once, "E2": lambda p: 2 * p["E"]})
        s = b.summary()
        assert np.isnan(b.stderr("inf")) and np.isnan(b.stderr("once"))
        str(s)
    v = b.values("E2")
    assert b.stderr("E2") == pytest.approx(statistics.stdev(v[np.isfinite(v)].tolist()), rel=1e-9)


def _three_problems() -> tuple[np.ndarray, np.ndarray, list[int]]:
    N = np.tile(np.logspace(7, 10, 10), 3)
    y = (1.7 + 400 * N ** -0.34) * np.exp(0.01 * np.random.default_rng(1).standard_normal(30))
    return N, y, [0, 10, 20, 30]


def test_bootstrap_batch_nan_center_rows_are_skipped_with_a_warning() -> None:
    N, y, off = _three_problems()
    with pytest.warns(ConvergenceWarning, match=r"^center is NaN for 3 of 3 problem\(s\) \(0, 1, 2; "
                                                r"problem 0 at E, A, alpha\), as for a failed point "
                                                r"fit: they are not bootstrapped \(center_status -3, "
                                                r"intervals NaN\)"):
        b = bootstrap_batch(SPL, N, y, off, n_resamples=20, method="percentile",
                            center=np.full((3, 3), np.nan))
    assert (b.center_status == -3).all()
    c = scalingfit.fit_batch(SPL, N, y, off).best_per_problem().x  # the point fits
    c[1, 1] = np.nan  # one NaN marks the row too (as it did, silently)
    with pytest.warns(ConvergenceWarning, match=r"center is NaN for 1 of 3 problem\(s\) \(1; problem 1 at A\)"):
        b = bootstrap_batch(SPL, N, y, off, n_resamples=20, method="percentile", center=c)
    assert list(b.center_status <= 0) == [False, True, False]
    assert np.isnan(b.samples[1]).all() and np.isfinite(b.samples[[0, 2]]).all()
    # a fixed parameter's column is pinned to its value; the free ones' NaN still mark the row
    c = scalingfit.fit_batch(SPL, N, y, off, fixed={"alpha": 0.34}).best_per_problem().x
    c[2] = np.nan
    with pytest.warns(ConvergenceWarning, match=r"center is NaN for 1 of 3 problem\(s\) \(2; problem 2 at E, A\)"):
        b = bootstrap_batch(SPL, N, y, off, n_resamples=20, method="percentile", center=c,
                            fixed={"alpha": 0.34})
    assert list(b.center_status <= 0) == [False, False, True]


@pytest.mark.parametrize("j, k, value, match", [
    (2, 2, np.inf, r"center of problem 2 has alpha = inf"),
    (0, 0, -np.inf, r"center of problem 0 has E = -inf"),
])
def test_bootstrap_batch_refuses_infinite_centers(j: int, k: int, value: float, match: str) -> None:
    N, y, off = _three_problems()
    c = np.tile(TRUTH, (3, 1))
    c[j, k] = value
    with pytest.raises(ValueError, match=r"^center must be finite; " + match):
        bootstrap_batch(SPL, N, y, off, n_resamples=20, center=c)


def test_p0_and_center_are_both_checked() -> None:
    """The single bootstrap's p0 was already refused when NaN; its message names p0."""
    N, y = _spl()
    with pytest.raises(ValueError, match=r"p0 must be finite"):
        scalingfit.bootstrap(SPL, N, y, n_resamples=10, p0=[np.nan, 400.0, 0.34])
