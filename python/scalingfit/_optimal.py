"""The compute-optimal allocation of Chinchilla's law (Hoffmann et al. 2022, eq. 4), one
formula for :class:`scalingfit.chinchilla.ChinchillaLaw`, the planning laws and the bootstrap's
derived quantities."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def optimal_sizes(A: Any, B: Any, alpha: Any, beta: Any, c: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(N_opt, D_opt)`` minimising ``A / N^alpha + B / D^beta`` on ``N D = c`` (``c = C / 6``
    for 6 FLOP per parameter per token): ``N_opt = G c^a``, ``D_opt = c^b / G`` with
    ``G = (alpha A / (beta B))^(1 / (alpha + beta))``, ``a = beta / (alpha + beta)``,
    ``b = alpha / (alpha + beta)``. Vectorised (arguments broadcast). Computed on the log scale,
    so that ``G`` alone, which overflows float64 for a small ``alpha + beta`` (1e-3: G = 10^500
    for alpha A / (beta B) = 10), does not make an N_opt and D_opt that are numbers inf and 0;
    an N_opt or D_opt that is itself beyond float64 is inf or 0 (no warning: callers check)."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        alpha = np.asarray(alpha, dtype=np.float64)
        beta = np.asarray(beta, dtype=np.float64)
        s = alpha + beta
        log_g = (np.log(alpha * np.asarray(A, dtype=np.float64)) - np.log(beta * np.asarray(B, dtype=np.float64))) / s
        log_c = np.log(np.asarray(c, dtype=np.float64))
        return np.exp(log_g + beta / s * log_c), np.exp(alpha / s * log_c - log_g)


def checked_sizes(A: Any, B: Any, alpha: Any, beta: Any, C: Any,
                  flops_per_token: float = 6.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`optimal_sizes` at compute ``C`` (``c = C / flops_per_token``), a ValueError naming
    ``C`` and ``alpha + beta`` where N_opt or D_opt is beyond float64 (inf, or 0)."""
    from . import _validate

    N, D = optimal_sizes(A, B, alpha, beta, np.asarray(C, dtype=np.float64) / flops_per_token)
    given = {"C": C, "alpha + beta": np.asarray(alpha) + np.asarray(beta)}
    remedy = "C must be a budget whose compute-optimal N and D are float64 numbers under this law"
    _validate.check_computed(N, "N_opt = G (C/6)^a", given, remedy, underflow=True)
    _validate.check_computed(D, "D_opt = (C/6)^b / G", given, remedy, underflow=True)
    return N, D
