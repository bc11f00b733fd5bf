"""Robust losses (scipy.optimize.least_squares definitions), vectorised in numpy.

The C++ core has its own copy in ``losses.hpp``; this one serves custom models and tests.
``rho(name, z)`` returns the stacked (rho, rho', rho'') at ``z = (r / f_scale)^2``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "rho",
]

FloatArray = NDArray[np.float64]


def rho(name: str, z: FloatArray) -> FloatArray:
    """(rho, rho', rho'') of loss ``name`` at z >= 0; shape (3, *z.shape)."""
    z = np.asarray(z, dtype=np.float64)
    if name == "linear":
        return np.stack([z, np.ones_like(z), np.zeros_like(z)])
    if name == "huber":
        big = z > 1
        s = np.sqrt(np.where(big, z, 1.0))
        return np.stack(
            [np.where(big, 2 * s - 1, z), np.where(big, 1 / s, 1.0), np.where(big, -0.5 / (z * s + ~big), 0.0)]
        )
    if name == "soft_l1":
        t = 1 + z
        s = np.sqrt(t)
        return np.stack([2 * (s - 1), 1 / s, -0.5 / (t * s)])
    if name == "cauchy":
        t = 1 + z
        return np.stack([np.log1p(z), 1 / t, -1 / (t * t)])
    if name == "arctan":
        t = 1 + z * z
        return np.stack([np.arctan(z), 1 / t, -2 * z / (t * t)])
    raise ValueError(f"unknown loss {name!r}")
