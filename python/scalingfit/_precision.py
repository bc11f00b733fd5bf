"""Fits in float32 whose residuals are within float32's rounding of the targets.

``precision="float32"`` sums the cost in float: where the data's noise is below float's
resolution (about 6e-8 of the targets) the sum is rounding, often exactly 0, and the
Gauss-Newton covariance scaled by it (2 cost / dof) says the parameters are known exactly
(a saturating power law on noise-free data: status 1, cost 0, stderr 0 with the parameters
1e-6 off). Such fits are flagged here: their covariance is NaN, with one warning.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.typing import NDArray

from . import _warnings
from ._warnings import UncertaintyWarning

#: A fit whose RMS residual is within this many float units (2^-24) of the RMS target has no
#: noise float can see (the core's float32 noise floor uses the same 4 units).
ROUNDING_UNITS = 4.0
_UNIT = 2.0**-24


def rounding_items(
    y: NDArray[np.float64],
    w: Optional[NDArray[np.float64]],
    offsets: NDArray[np.int64],
    problem: NDArray[np.int64],
    cost: NDArray[np.float64],
    status: NDArray[np.int32],
    log_residuals: bool,
) -> NDArray[np.bool_]:
    """Converged items (status > 0) whose ``2 cost <= (4 u)^2 sum w t^2`` over their problem's
    points (``t = y``, or ``log y`` with log residuals; ``u = 2^-24``): their residuals are at
    float's rounding of the targets."""
    if problem.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    with np.errstate(all="ignore"):
        t = np.log(y) if log_residuals else y
        t2 = t * t if w is None else w * t * t
        t2 = np.where(np.isfinite(t2), t2, 0.0)
        sums = np.add.reduceat(np.r_[t2, 0.0], offsets[:-1]) * (np.diff(offsets) > 0)
        floor = (ROUNDING_UNITS * _UNIT) ** 2 * sums[problem]
        return np.asarray((status > 0) & np.isfinite(cost) & (2.0 * cost <= floor))


def warn_rounding(model: str, flagged: NDArray[np.bool_], problem: NDArray[np.int64], what: str) -> None:
    """One UncertaintyWarning naming how many of the items (and the first problem) were
    flagged, and what was done about it (``what``)."""
    k = int(flagged.sum())
    if k:
        j = int(problem[int(np.argmax(flagged))])
        _warnings.warn(
            f"{model}, precision='float32': {k} of {flagged.shape[0]} fit(s) (first: problem {j}) have "
            f"residuals within float32's rounding of the targets (RMS residual under "
            f"{ROUNDING_UNITS:g} float units of the RMS target): the data's noise is below what "
            f"float32 resolves, so the cost is rounding and the standard errors mean nothing; {what}. "
            "Refit them with precision='float64'",
            UncertaintyWarning, stacklevel=3,
        )
