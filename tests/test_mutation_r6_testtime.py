"""Mutation round 6: testtime.py. Chen et al.'s pass@k and the documented argument ranges,
checked by hand and against exact binomial-coefficient ratios."""

from __future__ import annotations

import pytest
from scalingfit import testtime


def test_pass_at_k_refuses_k_of_zero() -> None:
    # "Unless 0 <= c <= n and 1 <= k <= n": pass@0 is not defined
    with pytest.raises(ValueError, match="1 <= k <= n"):
        testtime.pass_at_k(5, 2, 0)
    with pytest.raises(ValueError, match=r"at index \[1\]: n = 5, c = 2, k = 0"):
        testtime.pass_at_k([5, 5], [2, 2], [1, 0])


def test_coverage_curve_needs_at_least_one_sample() -> None:
    with pytest.raises(ValueError, match=r"n \(samples per problem\) must be one integer >= 1, got 0"):
        testtime.coverage_curve(0, [0, 0])
    # n = 1: coverage at k = 1 is the share of problems solved, by hand 1/3
    assert testtime.coverage_curve(1, [0, 1, 0], [1]).tolist() == pytest.approx([1 / 3])


def test_samples_for_by_hand_and_its_range() -> None:
    import numpy as np

    k = np.arange(1, 101)
    fit, = testtime.fit_coverage([k], [np.exp(-2.0 * k ** -0.4)])
    # (a / -log target)^(1/b) with a = 2, b = 0.4
    assert fit.samples_for(0.5) == pytest.approx((2.0 / np.log(2.0)) ** 2.5, rel=1e-6)
    for bad in (1.0, 0.0, 1.5):
        with pytest.raises(ValueError, match=r"target coverage must be in \(0, 1\)"):
            fit.samples_for(bad)


def test_fit_coverage_names_a_curve_with_one_interior_point() -> None:
    with pytest.raises(ValueError, match="curve 0 has fewer than 2 points with 0 < coverage < 1"):
        testtime.fit_coverage([[1.0, 2.0, 4.0]], [[0.0, 0.5, 1.0]])


def test_crossovers_include_a_change_at_the_second_budget() -> None:
    import numpy as np

    c = testtime.ModelChoice(budget=np.array([1.0, 2.0, 3.0, 4.0]), N=np.array([1.0, 2.0]),
                             samples=np.ones((4, 2), dtype=np.int64), coverage=np.zeros((4, 2)),
                             best=np.array([0, 1, 1, 0], dtype=np.int64))
    assert c.crossovers() == [(2.0, 0, 1), (4.0, 1, 0)]


def test_accuracy_floor_equal_to_ceiling_is_refused() -> None:
    import numpy as np

    C = np.logspace(10, 16, 13)
    with pytest.raises(ValueError, match=r"floor = 0.5 must be below ceiling = 0.5"):
        testtime.fit_accuracy_vs_compute([C], [np.full(13, 0.5)], floor=0.5, ceiling=0.5)


def test_accuracy_ceiling_is_fixed_not_a_lower_bound() -> None:
    # "floor/ceiling fix lo/hi": data rising to 1.0 fitted with ceiling = 0.9 keep hi = 0.9
    import numpy as np

    C = np.logspace(10, 16, 13)
    acc = 0.1 + 0.9 / (1 + np.exp(-1.2 * (np.log(C) - np.log(1e13))))
    fit, = testtime.fit_accuracy_vs_compute([C], [acc], ceiling=0.9)
    assert fit.params["hi"] == 0.9
