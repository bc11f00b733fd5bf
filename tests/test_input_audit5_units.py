"""Input audit 5, units: error rates and accuracies in percent were fitted as if they were
fractions (fit_error_link's k = 183 reported as a success), and a coverage curve falling with
k was fitted to b < 0 without a word."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scalingfit import DataWarning, testtime
from scalingfit import emergence as em
from scalingfit.planning.overtraining import fit_error_link


# ------------------------------------------------------------------ fit_error_link
def _link_data() -> tuple[np.ndarray, np.ndarray]:
    L = np.linspace(2.5, 4.5, 12)
    return L, 0.85 - 1.1 * np.exp(-0.6 * L)


def test_fit_error_link_refuses_error_rates_in_percent() -> None:
    L, err = _link_data()
    with pytest.raises(ValueError, match=r"^error\[0\] = 60\.4557 is far outside \[0, 1\]: error must be an error "
                                         r"rate as a fraction \(0\.42, not 42 percent\); divide a metric in percent "
                                         r"by 100$"):
        fit_error_link(L, err * 100)


def test_fit_error_link_of_fractions_recovers_the_link() -> None:
    L, err = _link_data()
    link, r = fit_error_link(L, err)
    assert r.success
    assert (link.k, link.gamma, link.epsilon) == pytest.approx((1.1, 0.6, 0.85), rel=1e-8)


# ------------------------------------------------------------------ fit_two_step
def _two_step_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N = np.logspace(7, 10, 12)
    L = 1.8 + 300 * N ** -0.3
    return N, L, 0.25 + 0.7 / (1 + np.exp(5.0 * (L - 2.6)))


@pytest.mark.parametrize("kw", [{}, {"floor": 0.25}])
def test_fit_two_step_refuses_accuracies_in_percent(kw: dict) -> None:
    N, L, acc = _two_step_data()
    with pytest.raises(ValueError, match=r"^metric\[0\] = 25\.0256 is far outside \[0, 1\]: metric must be a "
                                         r"bounded metric \(an accuracy\) as a fraction \(0\.42, not 42 percent\)"):
        em.fit_two_step(N, L, acc * 100, **kw)


def test_fit_two_step_names_metric_for_step2_and_checks_against_a_fixed_ceiling() -> None:
    N, L, acc = _two_step_data()
    bad = acc.copy()
    bad[5] = 73.0
    with pytest.raises(ValueError, match=r"^metric_for_step2\[5\] = 73 is far outside \[0, 1\]"):
        em.fit_two_step(N, L, acc, loss_for_step2=L, metric_for_step2=bad)
    with pytest.raises(ValueError, match=r"^metric\[0\] = 25\.0256 is far outside the fixed floor and ceiling "
                                         r"\(0\.25, 1\.0\): pass the metric on their scale"):
        em.fit_two_step(N, L, acc * 100, floor=0.25, ceiling=1.0)


def test_fit_two_step_in_percent_with_a_percent_floor_is_fitted() -> None:
    """A floor of 25 says the metric is in percent on purpose: fitted, as fit_sigmoids fits it
    (the free ceiling found at 95 percent), not refused."""
    N, L, acc = _two_step_data()
    two = em.fit_two_step(N, L, acc * 100, floor=25.0)
    L12 = 1.8 + 300 * 1e12 ** -0.3
    assert float(two.predict(1e12)) == pytest.approx(100 * (0.25 + 0.7 / (1 + np.exp(5.0 * (L12 - 2.6)))), rel=1e-5)


def test_fit_two_step_of_fractions_is_unchanged() -> None:
    N, L, acc = _two_step_data()
    two = em.fit_two_step(N, L, acc, floor=0.25)
    L12 = 1.8 + 300 * 1e12 ** -0.3
    assert float(two.predict(1e12)) == pytest.approx(0.25 + 0.7 / (1 + np.exp(5.0 * (L12 - 2.6))), rel=1e-6)


# ------------------------------------------------------------------ fit_coverage
def test_a_falling_coverage_curve_warns_naming_its_first_drop() -> None:
    k = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    cov = np.exp(-0.5 * k ** 0.3)  # b = -0.3: falls as k grows
    with pytest.warns(DataWarning, match=r"^coverages\[0\] falls as k grows: the fit's b = -0\.3 < 0 makes coverage "
                                         r"decrease with k, .*; 4 point\(s\) lie below the one before them in k, the "
                                         r"first coverages\[0\]\[1\] = 0\.5\d* at k = 2 after coverages\[0\]\[0\] = "
                                         r"0\.606531 at k = 1"):
        fit, = testtime.fit_coverage(k, cov)
    assert fit.b == pytest.approx(-0.3, rel=1e-8)  # still fitted: the warning says what is wrong


def test_a_shuffled_falling_curve_names_original_indices() -> None:
    k = np.array([8.0, 1.0, 4.0, 2.0])
    cov = np.exp(-0.5 * k ** 0.2)
    with pytest.warns(DataWarning, match=r"the first coverages\[1\]\[3\] = .* at k = 2 after coverages\[1\]\[1\] "
                                         r"= .* at k = 1"):
        testtime.fit_coverage([k, k], [np.exp(-2.0 * k ** -0.4), cov])


def test_a_rising_coverage_curve_does_not_warn() -> None:
    k = np.arange(1, 101)
    fit, = testtime.fit_coverage([k], [np.exp(-2.0 * k ** -0.4)])
    assert (fit.a, fit.b) == pytest.approx((2.0, 0.4), rel=1e-8)


def test_a_flat_coverage_curve_does_not_warn() -> None:
    """Problems always or never solved make coverage flat in k; its fit's b is 0 up to rounding
    (-2.2e-32 was seen), and no point falls: no warning (it said the curve falls)."""
    k = np.array([1.0, 2.0, 4.0, 8.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        testtime._warn_falling(k, np.full(4, 0.6), 0, -2.23e-32, "k")
        fit, = testtime.fit_coverage([k], [np.full(4, 0.6)])
    assert abs(fit.b) < 1e-12
