"""Synthetic Chinchilla-style sweeps drawn from a known law, with noise (seeded).

Two kinds of experiment, the two that Hoffmann et al. (2022) ran:

* :func:`isoflop_sweep` — IsoFLOP profiles: for each compute budget ``C``, a set of model
  sizes ``N`` trained on ``D = C / (6 N)`` tokens (approach 2 fits these);
* :func:`training_curves` — one loss curve per model size, loss against tokens seen
  (approach 1 takes their envelope).

Losses are the law's ``L(N, D) = E + A / N^alpha + B / D^beta`` times ``exp(noise * eps)``
with ``eps ~ N(0, 1)`` (multiplicative, log-normal noise: ``noise`` is the relative scatter).
The defaults are realistic: 0.3 % for final losses of IsoFLOP runs (Porian et al. 2024 model
seed noise as 0.002-0.01 nats at losses of 3-4, i.e. 0.06-0.3 %), 0.1 % per point for
training curves, which are smoothed before use. Every function takes ``seed`` (an int, or a
``numpy.random.Generator``; default 0) and is deterministic given it.

>>> from scalingfit import simulate
>>> s = simulate.isoflop_sweep(budgets=[1e19, 1e20], n_sizes=5, seed=0)
>>> s.C.shape, round(s.truth.n_opt_exponent, 4)
((10,), 0.5126)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .bootstrap import generator
from .chinchilla import EPOCH_2024, ChinchillaLaw, as_law

__all__ = [
    "DEFAULT_BUDGETS",
    "DEFAULT_SIZES",
    "IsoflopSweep",
    "TrainingCurves",
    "isoflop_sweep",
    "training_curves",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
SeedLike = Union[None, int, np.random.Generator]

DEFAULT_BUDGETS: tuple[float, ...] = tuple(float(c) for c in np.logspace(18, 21, 7))
DEFAULT_SIZES: tuple[float, ...] = tuple(float(n) for n in np.logspace(7.5, 10.5, 25))


def _noisy(loss: FloatArray, noise: float, rng: np.random.Generator) -> FloatArray:
    if isinstance(noise, (bool, np.bool_)) or not (
        isinstance(noise, (int, float, np.number)) and np.isfinite(noise) and noise >= 0
    ):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return loss * np.exp(noise * rng.standard_normal(loss.shape))


@dataclass(frozen=True, eq=False)
class IsoflopSweep:
    """Points of an IsoFLOP experiment (one row per run).

    Attributes
    ----------
    C, N, D, loss : ndarray
        Budget (FLOP), parameters, tokens (``C = 6 N D``) and observed loss of each run.
    truth : ChinchillaLaw
        The law the losses were drawn from (``truth.n_opt_exponent`` is the true ``a``).
    noise : float
    seed : int or None
    """

    C: FloatArray
    N: FloatArray
    D: FloatArray
    loss: FloatArray
    truth: ChinchillaLaw
    noise: float
    seed: Optional[int]


@dataclass(frozen=True, eq=False)
class TrainingCurves:
    """Loss curves (one run per model size), one row per logged point.

    Attributes
    ----------
    run : ndarray of int
        Run index of each point (0 .. n_runs - 1).
    N, D, C, loss : ndarray
        Parameters, tokens seen so far, compute so far (``6 N D``) and observed loss.
    truth : ChinchillaLaw
    noise : float
    seed : int or None
    """

    run: IntArray
    N: FloatArray
    D: FloatArray
    C: FloatArray
    loss: FloatArray
    truth: ChinchillaLaw
    noise: float
    seed: Optional[int]


def _scalar(name: str, value: Any) -> float:
    """One number as a float: text, None and arrays refused by name (a TypeError); NaN and inf
    returned for the caller's range check to name."""
    try:
        return float(_validate.finite(name, value, scalar=True))
    except ValueError:  # NaN or inf, or None (which numpy reads as NaN)
        pass
    try:
        return float(value)
    except TypeError:
        raise TypeError(f"{name} must be a number, got {value!r}") from None


def _seed_of(seed: SeedLike) -> Optional[int]:
    return int(seed) if isinstance(seed, (int, np.integer)) else None


def isoflop_sweep(
    law: Any = EPOCH_2024,
    budgets: ArrayLike = DEFAULT_BUDGETS,
    *,
    n_sizes: int = 9,
    span: float = 1.0,
    shift: float = 0.0,
    noise: float = 0.003,
    seed: SeedLike = 0,
) -> IsoflopSweep:
    """Draw an IsoFLOP sweep from a known Chinchilla law.

    For each budget the sizes are ``n_sizes`` log-spaced values from ``N_opt * 10^(shift -
    span)`` to ``N_opt * 10^(shift + span)``, where ``N_opt`` is the law's compute-optimal size
    at that budget: ``shift = 0`` centres the sweep on the optimum; a non-zero ``shift``
    (decades) skews it, the way a sweep designed around a wrong guess of the optimum is skewed.

    Parameters
    ----------
    law : ChinchillaLaw, mapping or fit result
        The true law (default: Epoch's 2024 fit, ``a = 0.513``).
    budgets : array_like
        Compute budgets in FLOP (default: 7 budgets from 1e18 to 1e21).
    n_sizes : int
        Model sizes per budget (>= 3).
    span : float
        Half-width of each sweep in decades of N.
    shift : float
        Offset of the sweep's centre from the true optimum, in decades of N.
    noise : float
        Relative (log-normal) noise of the losses (default 0.3 %).
    seed : int, numpy.random.Generator or None
        The noise's seed (default 0: two calls give the same sweep; None: fresh entropy, not
        recorded).
    """
    truth = as_law(law, name="law")
    C_b = _validate.positive("budgets", budgets).ravel()
    if C_b.size == 0:
        raise ValueError("budgets must be a non-empty array of finite values > 0")
    try:
        n_sizes = _validate.integer("n_sizes", n_sizes, least=3, most=10_000)
    except ValueError:
        raise ValueError(f"n_sizes must be an integer in [3, 10000], got {n_sizes!r}") from None
    span, shift = _scalar("span", span), _scalar("shift", shift)
    if not (np.isfinite(span) and 0 < span <= 10):
        raise ValueError(f"span must be in (0, 10] (decades of N either side), got {span!r}")
    if not (np.isfinite(shift) and abs(shift) <= 10):
        raise ValueError(f"shift must be in [-10, 10] (decades of N), got {shift!r}")
    rng = generator(seed)
    offsets = shift + np.linspace(-span, span, int(n_sizes))
    N_opt, _ = truth.optimal_allocation(C_b)
    N = (N_opt[:, None] * 10.0 ** offsets[None, :]).ravel()
    C = np.repeat(C_b, int(n_sizes))
    D = C / (6.0 * N)
    loss = _noisy(truth.loss(N, D), noise, rng)
    return IsoflopSweep(
        C=C, N=N, D=D, loss=loss, truth=truth, noise=float(noise), seed=_seed_of(seed)
    )


def training_curves(
    law: Any = EPOCH_2024,
    sizes: ArrayLike = DEFAULT_SIZES,
    *,
    flops_range: tuple[float, float] = (1e18, 1e22),
    n_points: int = 60,
    noise: float = 0.001,
    seed: SeedLike = 0,
) -> TrainingCurves:
    """Draw training curves (loss against tokens seen) from a known Chinchilla law.

    Each model size gets one run whose logged points are ``n_points`` log-spaced token counts
    covering ``flops_range`` of compute (``D = C / (6 N)``). The loss at each point is the
    law's ``L(N, D)``: the idealisation in which every point of the curve is as good as a run
    whose schedule ends there (Hoffmann et al. approximate this with several cosine lengths
    per size). Noise is independent per point (curves in practice are smoothed first).

    Parameters
    ----------
    law : ChinchillaLaw, mapping or fit result
    sizes : array_like
        Model sizes, one run each (default: 25 sizes from 3.2e7 to 3.2e10).
    flops_range : (float, float)
        Compute covered by every curve.
    n_points : int
        Logged points per curve (>= 2).
    noise : float
        Relative (log-normal) noise of each logged loss (default 0.1 %: a smoothed curve).
    seed : int, numpy.random.Generator or None
        The noise's seed (default 0: two calls give the same sweep; None: fresh entropy, not
        recorded).
    """
    truth = as_law(law, name="law")
    Ns = _validate.positive("sizes", sizes).ravel()
    if Ns.size == 0:
        raise ValueError("sizes must be a non-empty array of finite values > 0")
    try:
        lo, hi = (float(_validate.positive("flops_range", v, scalar=True)) for v in flops_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"flops_range must be (low, high) with 0 < low < high, got {flops_range!r}"
        ) from None
    if not (0 < lo < hi < np.inf):
        raise ValueError(
            f"flops_range must be (low, high) with 0 < low < high, got {flops_range!r}"
        )
    n_points = _validate.integer("n_points", n_points, least=2)
    rng = generator(seed)
    C1 = np.logspace(np.log10(lo), np.log10(hi), int(n_points))
    run = np.repeat(np.arange(Ns.size, dtype=np.int64), int(n_points))
    N = np.repeat(Ns, int(n_points))
    C = np.tile(C1, Ns.size)
    D = C / (6.0 * N)
    loss = _noisy(truth.loss(N, D), noise, rng)
    return TrainingCurves(
        run=run, N=N, D=D, C=C, loss=loss, truth=truth, noise=float(noise), seed=_seed_of(seed)
    )
