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
