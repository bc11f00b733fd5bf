"""Mutation round 4, input edges of today's code: max_memory's integer/float rules, offsets
given as Python ints past int64 (negative too) or as booleans, and validate_runs on a column
that holds both an int past float64 and text."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import _fit, _validate

pd = pytest.importorskip("pandas")
from scalingfit import data

X = np.logspace(1, 3, 40)
Y = 1 + 2 * X**-0.5
MSG = "max_memory must be a positive number of bytes"


@pytest.mark.parametrize("bad", [0, np.int64(0), True, np.True_, 2**30 + 0.5, 0.0, -1, float("inf")])
def test_max_memory_that_is_no_positive_whole_number_of_bytes_is_refused(bad: object) -> None:
    """0 bytes, a bool (True is no byte count) and a fractional float (2**30 + 0.5: ample, but
    not a number of bytes) are refused by name, as a negative or infinite value is."""
    with pytest.raises(ValueError, match=MSG):
        _fit.check_max_memory(bad)
    with pytest.raises(ValueError, match=MSG):
        scalingfit.fit_batch("saturating_power_law", X, Y, [0, 40], max_memory=bad)


def test_max_memory_whole_numbers_are_bytes() -> None:
    assert _fit.check_max_memory(2e9) == 2_000_000_000
    assert _fit.check_max_memory(np.int64(1) << 40) == 2**40
    assert _fit.check_max_memory(None) is None
    r = scalingfit.fit_batch("saturating_power_law", X, Y, [0, 40], max_memory=float(2**30))
    np.testing.assert_allclose(r.x[0], [1, 2, 0.5], rtol=1e-8)


@pytest.mark.parametrize("offsets", [[0, -(2**70), 40], [0, -(2**64), 40], [0, -(2**63) - 1, 40]])
def test_negative_offsets_past_int64_stay_negative(offsets: list[int]) -> None:
    """A Python int below -2**63 is clipped to int64's least value, not to 0: the offsets are
    still decreasing there and refused (clipped to 0 they would read as an empty problem)."""
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing; offsets\[1\] < offsets\[0\]"):
        _validate.as_offsets(offsets, 40)
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing; offsets\[1\] < offsets\[0\]"):
        scalingfit.fit_batch("saturating_power_law", X, Y, offsets)


def test_offsets_of_booleans_are_not_integers() -> None:
    """[False, True] is a list of bools, not of counts: a TypeError naming the dtype, as a
    bool array is (not offsets [0, 1])."""
    for offsets in ([False, True], np.array([False, True])):
        with pytest.raises(TypeError, match="offsets must be integers, got dtype bool"):
            _validate.as_offsets(offsets, 1)
    np.testing.assert_array_equal(_validate.as_offsets([0, np.int64(3), 5], 5), [0, 3, 5])


def test_text_beside_an_int_past_float64_is_still_text() -> None:
    """N holds 10**400 (pandas' to_numeric overflows on the column) and 'abc': row 0 is not
    finite, row 1 is not a number (not a 0 that 'must be > 0'), row 2 is kept."""
    df = pd.DataFrame({"N": [10**400, "abc", 5], "value": [1.0, 2.0, 3.0]})
    clean, report = data.validate_runs(df, policy="skip-and-report")
    assert [(r.row, r.column, r.reason) for r in report.rows] == [
        (0, "N", "is missing or not finite"), (1, "N", "is not a number: 'abc'")]
    assert clean["N"].tolist() == [5] and clean["value"].tolist() == [3.0]
