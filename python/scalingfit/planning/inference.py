"""Inference-aware model sizing (Sardana, Doubov & Frankle, "Beyond Chinchilla-Optimal", 2023).

Chinchilla-optimal sizing minimises *training* compute for a target loss. A model that will
serve ``I`` inference tokens costs ``6 N D + 2 N I`` FLOPs over its life, so:

    minimise  6 N D_train + 2 N I   subject to   L(N, D_train) = target,
    with      L(N, D) = E + A / N^alpha + B / D^beta.

Solution (derived here; Sardana et al. use Newton's method on the same conditions). On the
constraint write ``x = A N^-alpha`` and ``y = B D^-beta = (L - E) - x``. Stationarity of the
Lagrangian gives

    alpha x / (beta y) = 1 + (c_inf / c_train) * I / D,

with ``c_train = 6`` and ``c_inf = 2`` FLOPs per parameter per token. The left side increases
from 0 to infinity as ``x`` goes from 0 to ``L - E`` while the right side decreases (``D`` grows
with ``x``), so the root is unique and bracketed: it is found by bisection to machine
precision. At ``I = 0`` it is ``x = beta (L - E) / (alpha + beta)``, the Chinchilla frontier
itself, so the limit ``I -> 0`` is exact; the root moves to larger ``x`` (smaller N, more
tokens) as ``I`` grows, so tokens per parameter grow monotonically with inference demand.

The dollar variant prices each kind of FLOP by the hardware that runs it: a FLOP costs
``price_per_hour / (3600 * peak_flops * MFU)``, with separate utilisations for training,
prefill (input tokens) and decoding (output tokens). It reduces to the FLOP problem with the
inference tokens replaced by their training-FLOP-price equivalent
``I' = (c_prefill D_in + c_decode D_out) / c_train``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike

from .. import _validate
from .._validate import broadcast
from ._common import (
    SARDANA_2023,
    Figure,
    FloatArray,
    as_law,
    bisect,
    check_finite,
    check_nonnegative,
    check_positive,
    quantities_repr,
)

__all__ = [
    "Hardware",
    "InferenceOptimum",
    "inference_optimal",
    "inference_optimal_cost",
]


@dataclass(frozen=True, eq=False)
class InferenceOptimum:
    """The lifetime-optimal model for a target loss and an inference demand (arrays broadcast
    over the inputs and over the law's parameter replicates).

    Attributes
    ----------
    target_loss, inference_tokens : ndarray
        The inputs: the target loss and the tokens served ``I`` (for the dollar variant the
        real count, ``input_tokens + output_tokens``; see :func:`inference_optimal_cost`).
    N, D : ndarray
        Parameters and training tokens of the optimum.
    tokens_per_param : ndarray
        ``D / N``.
    train_flops, inference_flops, total_flops : ndarray
        ``6 N D``, ``2 N I`` and their sum (real FLOPs, in the dollar variant too).
    chinchilla_N, chinchilla_D, chinchilla_total_flops : ndarray
        The Chinchilla-optimal model of the same loss and its lifetime FLOPs under the same
        inference demand.
    saving_flops, saving_fraction : ndarray
        ``chinchilla_total_flops - total_flops`` and that over ``chinchilla_total_flops``
        (in the dollar variant the optimum minimises dollars, not FLOPs: these may be < 0).
    cost, chinchilla_cost, saving_cost : ndarray or None
        Dollars (dollar variant only).
    priced_tokens : ndarray or None
        The tokens served in training-FLOP-price equivalents ``I' = (c_prefill D_in +
        c_decode D_out) / c_train``: the ``I`` of the FLOP problem that the dollar optimum
        solves (dollar variant only).
    """

    target_loss: FloatArray
    inference_tokens: FloatArray
    N: FloatArray
    D: FloatArray
    tokens_per_param: FloatArray
    train_flops: FloatArray
    inference_flops: FloatArray
    total_flops: FloatArray
    chinchilla_N: FloatArray
    chinchilla_D: FloatArray
    chinchilla_total_flops: FloatArray
    saving_flops: FloatArray
    saving_fraction: FloatArray
    cost: Optional[FloatArray] = None
    chinchilla_cost: Optional[FloatArray] = None
    saving_cost: Optional[FloatArray] = None
    priced_tokens: Optional[FloatArray] = None

    def rows(self) -> list[tuple[str, str]]:
        """Printable ``(quantity, value)`` rows for a scalar optimum."""

        def g(v: Any) -> str:
            return Figure(np.asarray(v).ravel()[0]) if np.size(v) == 1 else str(np.asarray(v))

        out = [
            ("target loss", g(self.target_loss)),
            ("inference tokens", g(self.inference_tokens)),
            ("parameters N", g(self.N)),
            ("training tokens D", g(self.D)),
            ("tokens per parameter", g(self.tokens_per_param)),
            ("training FLOPs", g(self.train_flops)),
            ("inference FLOPs", g(self.inference_flops)),
            ("lifetime FLOPs", g(self.total_flops)),
            ("Chinchilla-optimal N (same loss)", g(self.chinchilla_N)),
            ("Chinchilla-optimal D (same loss)", g(self.chinchilla_D)),
            ("Chinchilla lifetime FLOPs", g(self.chinchilla_total_flops)),
            ("FLOPs saved", g(self.saving_flops)),
            ("fraction saved", g(self.saving_fraction)),
        ]
        if (
            self.cost is not None
            and self.chinchilla_cost is not None
            and self.saving_cost is not None
        ):
            out += [
                ("lifetime cost ($)", g(self.cost)),
                ("Chinchilla lifetime cost ($)", g(self.chinchilla_cost)),
                ("dollars saved", g(self.saving_cost)),
                ("fraction of dollars saved", g(self.saving_cost / self.chinchilla_cost)),
            ]
        if self.priced_tokens is not None:
            out.append(("inference tokens at training-FLOP price", g(self.priced_tokens)))
        return out

    def as_dict(self) -> dict[str, Any]:
        """Every field by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __repr__(self) -> str:
        what = "FLOPs" if self.cost is None else "dollars"
        return quantities_repr(
            f"InferenceOptimum (Sardana et al. 2023): least lifetime {what} for target_loss, "
            "vs chinchilla_* (Chinchilla-optimal)",
            list(self.as_dict().items()),
        )


@_validate.suggest_argument_names
def inference_optimal(
    target_loss: ArrayLike,
    inference_tokens: ArrayLike,
    params: Any = SARDANA_2023,
    *,
    train_flops_per_token: float = 6.0,
    inference_flops_per_token: float = 2.0,
) -> InferenceOptimum:
    """Parameters and training tokens that reach ``target_loss`` with the least lifetime
    compute ``6 N D + 2 N I`` (Sardana et al. 2023).

    Parameters
    ----------
    target_loss : array_like
        Loss to reach (must exceed the law's ``E``).
    inference_tokens : array_like
        Tokens the model will process in inference over its life (``I >= 0``).
    params : mapping, object or fit
        ``{E, A, B, alpha, beta}`` of ``L(N, D) = E + A/N^alpha + B/D^beta`` (floats, or
        arrays of bootstrap replicates: the result then has one entry per replicate), or a
        converged fit of ``chinchilla``, ``chinchilla_lse`` or ``chinchilla_tied``, or a
        ``scalingfit.bootstrap`` of one (its point fit). For intervals pass
        :func:`~scalingfit.planning.replicate_law` of the bootstrap and take percentiles of
        the answers (:func:`~scalingfit.planning.percentile_interval`). Default:
        the coefficients that reproduce Sardana et al.'s Figure 1 (:data:`SARDANA_2023`).
    train_flops_per_token, inference_flops_per_token : float
        FLOPs per parameter per token (6 and 2).

    Returns
    -------
    InferenceOptimum

    Raises
    ------
    ValueError
        If a target loss is not above ``E`` (unreachable), inference tokens are negative, or
        a FLOPs-per-token count is not finite and > 0, or ``target_loss``,
        ``inference_tokens`` or the law's replicates are empty arrays (nothing to answer).

    Examples
    --------
    >>> from scalingfit.planning import inference_optimal
    >>> r = inference_optimal(2.0453, 2e12)   # a 13B Chinchilla-quality model, 2T tokens served
    >>> round(float(r.N) / 1e9, 1), round(float(r.saving_fraction), 2)
    (7.0, 0.17)
    """
    law = as_law(params)
    L = _nonempty("target_loss", check_finite("target_loss", target_loss))
    D_inf = _nonempty("inference_tokens", check_nonnegative("inference_tokens", inference_tokens))
    _nonempty("params", np.empty(np.broadcast_shapes(*(np.shape(v) for v in law._values()))))
    check_positive("train_flops_per_token", train_flops_per_token, scalar=True)
    check_positive("inference_flops_per_token", inference_flops_per_token, scalar=True)
    shape = broadcast(target_loss=L, inference_tokens=D_inf, params=law.E, alpha=law.alpha)
    delta = L - law.E
    if not np.all(delta > 0):
        bad = np.broadcast_to(~(delta > 0), shape)
        at = "" if bad.ndim == 0 else f" (index {_first(bad)})"
        raise ValueError(
            f"target_loss must exceed the law's irreducible loss E = {law.E}; got {target_loss!r}"
            f"{at}"
        )
    k = inference_flops_per_token / train_flops_per_token
    al, be, A, B = law.alpha, law.beta, law.A, law.B
    logB = np.log(B)

    def g(u: FloatArray) -> FloatArray:
        # Stationarity residual at x = u * delta: increasing in u on (0, 1).
        y = (1.0 - u) * delta
        logD = (logB - np.log(y)) / be
        return np.asarray(al * u / (be * (1.0 - u)) - 1.0 - k * D_inf * np.exp(-logD))

    with np.errstate(all="ignore"):  # out-of-range optima are refused below, by name
        u = bisect(g, np.zeros(shape), np.ones(shape))
        x = u * delta
        N = (A / x) ** (1.0 / al)
        D = (B / (delta - x)) ** (1.0 / be)
        Nc, Dc = law.optimal_for_loss(L)
        Nc, Dc = np.broadcast_to(Nc, shape), np.broadcast_to(Dc, shape)
        train = train_flops_per_token * N * D
        inf = inference_flops_per_token * N * D_inf
        total = train + inf
        total_c = train_flops_per_token * Nc * Dc + inference_flops_per_token * Nc * D_inf
        # the optimum minimises the total, so it is at most Chinchilla's: a negative
        # difference is rounding (-7.7e25 FLOPs, -4.7e-16 of the total, at loss 1.6905)
        saving = np.maximum(total_c - total, 0.0)
        fraction = saving / total_c
    _check_range(shape, L, D_inf, N, D, total, total_c, fraction)
    return InferenceOptimum(
        target_loss=np.broadcast_to(L, shape).copy(),
        inference_tokens=np.broadcast_to(D_inf, shape).copy(),
        N=N,
        D=D,
        tokens_per_param=D / N,
        train_flops=train,
        inference_flops=np.asarray(inf),
        total_flops=total,
        chinchilla_N=np.asarray(Nc).copy(),
        chinchilla_D=np.asarray(Dc).copy(),
        chinchilla_total_flops=total_c,
        saving_flops=saving,
        saving_fraction=fraction,
    )


def _nonempty(name: str, a: FloatArray) -> FloatArray:
    """``a`` unless it is an empty array: a ValueError naming ``name`` (an empty answer hides
    an input that went missing)."""
    if a.size == 0:
        what = "has no replicates" if name == "params" else "is empty"
        raise ValueError(f"{name} {what} (shape {a.shape}): give at least one value")
    return a


def _first(bad: Any) -> str:
    """The first True index of ``bad`` (ndim >= 1), as "i, j"."""
    return ", ".join(map(str, _validate._first_bad(bad)))


def _check_range(shape: tuple[int, ...], L: FloatArray, I: FloatArray, *values: FloatArray) -> None:
    """A ValueError naming the first target whose optimum is outside float64's range (a size,
    token count or FLOP count that overflows, or underflows to 0), instead of inf/NaN."""
    ok = np.ones(shape, dtype=bool)
    for v in values:
        ok &= np.isfinite(v)
    for v in values[:4]:
        ok &= np.asarray(v) > 0
    if ok.all():
        return
    bad = ~ok
    i = _validate._first_bad(bad) if bad.ndim else ()
    at = f" at index {', '.join(map(str, i))}" if bad.ndim else ""
    Lb, Ib = np.broadcast_to(L, shape)[i], np.broadcast_to(I, shape)[i]
    raise ValueError(
        f"target_loss = {float(Lb)!r} with inference_tokens = {float(Ib)!r}{at} is out of range: "
        "the optimal model's parameters, tokens or FLOPs are not representable as float64 "
        "(too close to the irreducible loss E, or too many inference tokens)"
    )


@dataclass(frozen=True)
class Hardware:
    """What a FLOP costs on one kind of accelerator.

    Attributes
    ----------
    price_per_hour : float
        Dollars per accelerator-hour.
    peak_flops : float
        Peak FLOP/s per accelerator at the precision used.
    mfu_train, mfu_prefill, mfu_decode : float
        Model-FLOPs utilisation while training, while processing input (prompt) tokens, and
        while generating output tokens (decoding is memory-bound: typically far lower).

    The defaults (A100 bf16 peak 312 TFLOP/s at $1.50/hour, MFU 0.5 / 0.5 / 0.1) are
    illustrative placeholders, not measurements; pass your own.
    """

    price_per_hour: float = 1.50
    peak_flops: float = 312e12
    mfu_train: float = 0.5
    mfu_prefill: float = 0.5
    mfu_decode: float = 0.1

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not np.isfinite(v) or v <= 0:
                raise ValueError(f"Hardware.{f.name} must be finite and > 0, got {v!r}")
            if f.name.startswith("mfu") and v > 1:
                raise ValueError(f"Hardware.{f.name} is a fraction in (0, 1], got {v!r}")

    def dollars_per_flop(self, mfu: float) -> float:
        """Dollars per useful FLOP at utilisation ``mfu``: ``price_per_hour / (3600 ·
        peak_flops · mfu)``."""
        return self.price_per_hour / (3600.0 * self.peak_flops * mfu)


def _hardware(name: str, value: Any) -> Hardware:
    if not isinstance(value, Hardware):
        raise TypeError(
            f"{name} must be a Hardware (e.g. Hardware(price_per_hour=2.0, peak_flops=989e12)), "
            f"got {type(value).__name__} {value!r}"
        )
    return value


@_validate.suggest_argument_names
def inference_optimal_cost(
    target_loss: ArrayLike,
    input_tokens: ArrayLike,
    output_tokens: ArrayLike = 0.0,
    params: Any = SARDANA_2023,
    *,
    train_hardware: Hardware = Hardware(),
    inference_hardware: Optional[Hardware] = None,
) -> InferenceOptimum:
    """The model of a target loss with the least lifetime *dollar* cost: training on
    ``train_hardware``, serving ``input_tokens`` (prefill) and ``output_tokens`` (decode) on
    ``inference_hardware`` (default: the same hardware), each at its own utilisation.

    Returns an :class:`InferenceOptimum` whose ``cost`` fields are in dollars, whose
    ``inference_tokens`` are the tokens served (``input + output``) and whose FLOP fields
    count real FLOPs (``2 N`` per token served); ``priced_tokens`` holds the training-price
    equivalents ``I'`` that the dollar optimum is computed from. With equal utilisations and
    prices it is :func:`inference_optimal` with ``I = input + output``. ``params`` is the law
    as there (a fit, or a bootstrap's point fit; the law of its replicates,
    :func:`~scalingfit.planning.replicate_law`, gives one answer per replicate).

    Examples
    --------
    >>> from scalingfit.planning import inference_optimal_cost
    >>> r = inference_optimal_cost(2.1, input_tokens=1e12, output_tokens=1e12)
    >>> f"{float(r.inference_tokens):.3g}", f"{float(r.priced_tokens):.3g}"  # decoding at MFU 0.1
    ('2e+12', '6e+12')
    """
    _hardware("train_hardware", train_hardware)
    if inference_hardware is not None:
        _hardware("inference_hardware", inference_hardware)
    hw_inf = inference_hardware if inference_hardware is not None else train_hardware
    d_in = _nonempty("input_tokens", check_nonnegative("input_tokens", input_tokens))
    d_out = _nonempty("output_tokens", check_nonnegative("output_tokens", output_tokens))
    broadcast(input_tokens=d_in, output_tokens=d_out)
    c_tr = train_hardware.dollars_per_flop(train_hardware.mfu_train)
    c_pre = hw_inf.dollars_per_flop(hw_inf.mfu_prefill)
    c_dec = hw_inf.dollars_per_flop(hw_inf.mfu_decode)
    equiv = (c_pre * d_in + c_dec * d_out) / c_tr
    c_train, c_inf = 6.0, 2.0  # FLOPs per parameter per token
    r = inference_optimal(
        target_loss, equiv, params, train_flops_per_token=c_train, inference_flops_per_token=c_inf
    )
    # dollars from the price-weighted problem; tokens and FLOPs reported as real counts
    cost = c_tr * r.total_flops
    cost_c = c_tr * r.chinchilla_total_flops
    shape = r.N.shape
    served = np.broadcast_to(d_in + d_out, shape).copy()
    inf = c_inf * r.N * served
    total = r.train_flops + inf
    total_c = c_train * r.chinchilla_N * r.chinchilla_D + c_inf * r.chinchilla_N * served
    return InferenceOptimum(
        **{
            **r.as_dict(),
            "inference_tokens": served,
            "inference_flops": inf,
            "total_flops": total,
            "chinchilla_total_flops": total_c,
            "saving_flops": total_c - total,
            "saving_fraction": (total_c - total) / total_c,
            "cost": cost,
            "chinchilla_cost": cost_c,
            "saving_cost": cost_c - cost,
            "priced_tokens": np.broadcast_to(equiv, shape).copy(),
        }
    )
