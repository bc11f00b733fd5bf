"""Per-item status codes of the core (fixed values; scipy's sign rule).

``status > 0`` converged, ``0`` iteration limit, ``< 0`` failure. The values mirror
``enum Status`` in ``cpp/include/scalingfit/lm.hpp``.
"""

from __future__ import annotations

BAD_INPUT = -3
SINGULAR = -2
NON_FINITE = -1
MAX_ITER = 0
GTOL = 1
FTOL = 2
XTOL = 3
FTOL_XTOL = 4

MESSAGES: dict[int, str] = {
    BAD_INPUT: "bad input: non-finite or unusable data, too few points, or start outside bounds",
    SINGULAR: "singular J^T J at the solution: parameters are not identifiable from these data",
    NON_FINITE: "model or cost is not finite at the starting point",
    MAX_ITER: "maximum number of iterations reached",
    GTOL: "converged: gradient tolerance (gtol) satisfied",
    FTOL: "converged: relative cost reduction below ftol",
    XTOL: "converged: relative step below xtol",
    FTOL_XTOL: "converged: both ftol and xtol satisfied",
}


def message(status: int) -> str:
    """The human-readable message of a status code."""
    return MESSAGES.get(int(status), f"unknown status {int(status)}")
