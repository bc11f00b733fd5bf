"""Mutation round 7: planning/inference.py. The documented refusals (a target at E, an optimum
that underflows) and the Hardware fractions' closed end, each on a hand-made case."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit.planning import inference as inf
from scalingfit.planning._common import SARDANA_2023


def test_a_target_equal_to_E_is_refused_as_unreachable() -> None:
    E = SARDANA_2023["E"]
    with pytest.raises(ValueError, match=r"target_loss must exceed the law's irreducible loss E = 1.69"):
        inf.inference_optimal(E, 1e12)
    with pytest.raises(ValueError, match=r"must exceed the law's irreducible loss .* \(index 1\)"):
        inf.inference_optimal(np.array([2.1, E]), 1e12)


def test_an_optimum_that_underflows_to_zero_is_out_of_range() -> None:
    # "a size, token count or FLOP count that overflows, or underflows to 0"
    one = np.array(1.0)
    _ = inf._check_range((), np.array(2.0), np.array(1e12), one, one, one, one, np.array(0.1))
    with pytest.raises(ValueError, match=r"target_loss = 2.0 with inference_tokens = 1000000000000.0 is out of range"):
        inf._check_range((), np.array(2.0), np.array(1e12), np.array(0.0), one, one, one, np.array(0.1))
    with pytest.raises(ValueError, match=r"target_loss = 2.5 .* at index 1 is out of range"):
        inf._check_range((2,), np.array([2.0, 2.5]), np.array(1e12), np.array([1.0, 1.0]),
                         np.array([1.0, 0.0]), one, one, np.array(0.1))


def test_hardware_utilisation_of_exactly_one_is_allowed() -> None:
    # "a fraction in (0, 1]"
    hw = inf.Hardware(mfu_train=1.0, mfu_prefill=1.0, mfu_decode=1.0)
    assert hw.dollars_per_flop(1.0) == pytest.approx(1.50 / (3600.0 * 312e12), rel=1e-15)
    with pytest.raises(ValueError, match=r"Hardware.mfu_decode is a fraction in \(0, 1\], got 1.01"):
        inf.Hardware(mfu_decode=1.01)
