"""Mutation round 9, _precision.py: a float32 batch of no items (problem=[] with p0 of 0 rows)
flags nothing and fits nothing: one flag per item, so none, and no warning."""

from __future__ import annotations

import warnings

import numpy as np
import scalingfit
from scalingfit import _precision

X = np.logspace(3, 13, 15)


def test_rounding_items_of_no_items_is_an_empty_mask() -> None:
    y = 3 + X**-0.5
    got = _precision.rounding_items(y, None, np.array([0, 15]), np.zeros(0, dtype=np.int64),
                                    np.zeros(0), np.zeros(0, dtype=np.int32), False)
    assert got.shape == (0,) and got.dtype == np.bool_


def test_fit_batch_in_float32_of_no_items_is_empty_and_silent() -> None:
    y = 3 + X**-0.5  # noise-free: one item here would be flagged (see test_float32_rounding)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = scalingfit.fit_batch("saturating_power_law", X, y, [0, 15], problem=np.zeros(0, dtype=np.int64),
                                 p0=np.zeros((0, 3)), precision="float32")
    assert b.x.shape == (0, 3) and b.cov is not None and b.cov.shape == (0, 3, 3)
    assert b.status.shape == (0,)
