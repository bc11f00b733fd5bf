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
