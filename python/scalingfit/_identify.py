"""Identifiability of fitted exponents from the span of the inputs they act on.

An exponent alpha of ``A x^-alpha`` is determined by how ``log y`` changes across ``log x``:
over less than a decade of ``x`` it trades off against the amplitude ``A`` (and against ``E``
for a saturating law) so strongly that the estimate means little, even when the solver
converges and ``J^T J`` is numerically regular. The span of ``x`` does not depend on units, so
it is the test; ``J^T J`` singularity (status -2) is the core's own, stricter one.
:func:`scalingfit.fit` warns (IdentifiabilityWarning) on both; in a batch the status is the
report, as for every other per-problem outcome.
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np
from numpy.typing import NDArray

from ._custom import CustomModel
from .models import Model

# The exponents of the built-in laws and the input column each one scales.
EXPONENT_INPUTS: dict[str, dict[str, int]] = {
    "power_law": {"alpha": 0},
    "saturating_power_law": {"alpha": 0},
    "chinchilla": {"alpha": 0, "beta": 1},
    "chinchilla_lse": {"alpha": 0, "beta": 1},
    "kaplan_nd": {"alpha_N": 0, "alpha_D": 1},
    "broken_power_law": {"alpha": 0, "beta": 0},
    "kaplan_ns": {"alpha_N": 0, "alpha_S": 1},
    "learning_curve": {"alpha": 0},
    "lr_annealing": {"alpha": 0},
    "data_constrained": {"alpha": 0, "beta": 1},
}
MIN_DECADES = 1.0


def narrow_exponents(
    m: Union[Model, CustomModel],
    x: NDArray[np.float64],
    w: Optional[NDArray[np.float64]],
    offsets: NDArray[np.int64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    problems: NDArray[np.int64],
) -> dict[int, list[str]]:
    """For each of ``problems`` whose free exponents act on an input spanning under
    MIN_DECADES (over its points of positive weight): a sentence per such input."""
    spec = EXPONENT_INPUTS.get(m.name, {}) if isinstance(m, Model) else {}
    free = {p: c for p, c in spec.items() if lo[m.param_names.index(p)] < hi[m.param_names.index(p)]}
    if not free or problems.size == 0:
        return {}
    n_problems = offsets.shape[0] - 1
    pid = np.repeat(np.arange(n_problems), np.diff(offsets))
    use = np.ones(x.shape[0], dtype=bool) if w is None else w > 0
    out: dict[int, list[str]] = {}
    for c in sorted(set(free.values())):
        v = x[:, c]
        with np.errstate(all="ignore"):
            lv = np.where(use & (v > 0) & np.isfinite(v), np.log10(np.where(v > 0, v, 1.0)), np.nan)
        lo_c = np.full(n_problems, np.nan)
        hi_c = np.full(n_problems, np.nan)
        np.fmin.at(lo_c, pid, lv)
        np.fmax.at(hi_c, pid, lv)
        span = hi_c[problems] - lo_c[problems]
        params = [p for p, cc in free.items() if cc == c]
        name = m.input_names[c]
        for j, s in zip(problems.tolist(), span.tolist()):
            if s < MIN_DECADES:  # False for NaN (no usable point)
                out.setdefault(j, []).append(
                    f"{name} spans {s:.2g} decades (under one), so {' and '.join(params)} cannot "
                    f"be told apart from the amplitude; widen the range of {name} or hold "
                    f"{' and '.join(params)} at a value (fixed={{{params[0]!r}: ...}})"
                )
    return out


#: The largest condition number of the free parameters' correlation matrix a fit may have
#: before :func:`near_singular` calls it nearly singular. Ordinary fits measure 1e3-1e5
#: (saturating power law 3.5e3, Chinchilla 3.8e4 median; 9e4 the largest of 300 each); the
#: core's own test (Cholesky pivots of the scaled J'J below 1e-13) is status -2, but an
#: unpivoted factorization can split a near-null direction over two pivots that each pass it.
MAX_CONDITION = 1e10


def near_singular(names: tuple[str, ...], cov: NDArray[np.float64]) -> Optional[str]:
    """A message when the free parameters' correlation matrix (from the Gauss-Newton
    covariance) has a condition number above MAX_CONDITION: the parameters that carry its
    near-singular directions are not separately determined, and their standard errors are
    rounding-level estimates. None otherwise (or when there is no covariance)."""
    C = np.asarray(cov, dtype=np.float64)
    if C.ndim != 2 or not np.isfinite(C).all():
        return None
    d = np.sqrt(np.clip(np.diag(C), 0.0, None))
    free = d > 0
    if free.sum() < 2:
        return None
    R = C[np.ix_(free, free)] / np.outer(d[free], d[free])
    ev, vec = np.linalg.eigh(R)
    cond = ev[-1] / ev[0] if ev[0] > 0 else np.inf
    if not cond > MAX_CONDITION:
        return None
    # the parameters that carry the near-singular directions (eigenvalues below the largest
    # over MAX_CONDITION), each named where it has a quarter of such a vector's largest weight
    v = np.abs(vec[:, ev <= ev[-1] / MAX_CONDITION])
    weight = (v >= 0.25 * v.max(axis=0)).any(axis=1)
    involved = [n for n, f in zip(np.asarray(names)[free], weight) if f]
    return (f"the parameters' correlation matrix is nearly singular (condition number "
            f"{cond:.2g}): {', '.join(involved)} are not separately determined by these data, "
            "and their standard errors are not meaningful; fix one of them (fixed={...}), use "
            "a simpler law, or add data that separates them")
