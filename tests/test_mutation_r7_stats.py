"""Mutation round 7: _stats.py. The tails' argument checks and the large-argument log beta,
each against scipy (the oracle) or the documented message."""

from __future__ import annotations

import math

import pytest
from scalingfit import _stats

st = pytest.importorskip("scipy.stats")


def test_f_tail_with_both_dof_large_matches_scipy() -> None:
    # d1 = d2 = 2e5: both halves >= 1e5, so log B(a, b) comes from the Stirling series, whose
    # last term (-small / (12 big (big + small))) is 4e-7 here; scipy's logsf is the oracle
    for f, d1, d2 in ((1.01, 2e5, 2e5), (0.995, 3e5, 2e5), (1.02, 2e5, 1e6)):
        ref = float(st.f.logsf(f, d1, d2))
        assert _stats.f_logsf(f, d1, d2) == pytest.approx(ref, rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("d1, d2", [(1.0, 0.0), (2.0, -3.0), (0.0, 5.0), (math.nan, 5.0)])
def test_f_tail_refuses_a_dof_that_is_not_positive(d1: float, d2: float) -> None:
    # "degrees of freedom > 0": either one, named in a ValueError (not a ZeroDivisionError or
    # a math domain error from inside)
    with pytest.raises(ValueError, match="degrees of freedom must be > 0"):
        _stats.f_logsf(1.5, d1, d2)


@pytest.mark.parametrize("t", [0.0, -1.0, -math.inf])
def test_t_tail_refuses_t_at_or_below_the_median(t: float) -> None:
    # "for t > 0": the tail beyond the median only
    with pytest.raises(ValueError, match="t must be > 0"):
        _stats.t_logsf(t, 5.0)
