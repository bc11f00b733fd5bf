"""Compute-optimal allocation: how big a model, on how many tokens, for a compute budget.

Under ``C = 6 N D`` (training FLOP ≈ 6 × parameters × tokens) and a Chinchilla law
``L = E + A / N^alpha + B / D^beta``, the loss-minimising split of a budget has the closed form
(Hoffmann et al. 2022, eq. 4)::

    N_opt = G (C/6)^a,   D_opt = G^-1 (C/6)^b,
    G = (alpha A / (beta B))^(1 / (alpha + beta)),  a = beta / (alpha + beta),  b = 1 - a.

The popular shortcut is "20 tokens per parameter": ``D = 20 N``, so ``N = sqrt(C / 120)``.

>>> from scalingfit import allocation, chinchilla
>>> r = allocation.optimal_allocation(5.88e23, chinchilla.EPOCH_2024)
>>> round(float(r.tokens_per_param), 1)
18.3

(The notes of Epoch's data set quote "≈ 25.7 tokens/param" for their fit at this compute and
72.9 for Hoffmann's rounded one; the closed form above, which tests/test_allocation.py checks
against a brute-force minimisation of the loss along ``6 N D = C``, gives 18.3 and 92.8.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional, TextIO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .chinchilla import EPOCH_2024, ChinchillaLaw, as_law
from .kaplan import _six_nd

FloatArray = NDArray[np.float64]

__all__ = [
    "KNOWN_MODELS",
    "TOKENS_PER_PARAM_RULE",
    "Allocation",
    "Verdict",
    "flops",
    "format_verdicts",
    "optimal_allocation",
    "params_for",
    "rule_allocation",
    "tokens_for",
    "training_verdict",
]

#: The "Chinchilla rule": about 20 training tokens per parameter.
TOKENS_PER_PARAM_RULE = 20.0

#: (name, parameters, training tokens) of well-known models.
KNOWN_MODELS: tuple[tuple[str, float, float], ...] = (
    ("GPT-3", 175e9, 300e9),
    ("Gopher", 280e9, 300e9),
    ("Chinchilla", 70e9, 1.4e12),
    ("LLaMA-3.1-8B", 8e9, 15e12),
)


def _positive(value: ArrayLike, name: str) -> FloatArray:
    """Finite numbers > 0 (Python ints of any size too), named with the first bad index."""
    return _validate.positive(name, value)


def _one(value: ArrayLike, name: str) -> float:
    """A single finite number > 0 (an array of them is refused by name)."""
    arr = _positive(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be one number, got an array of shape {arr.shape}")
    return float(arr)


def _pair(a: ArrayLike, b: ArrayLike, names: str) -> tuple[FloatArray, FloatArray]:
    """Two positive arrays that broadcast together (one value, or one per entry)."""
    na, nb = names.split(",")
    x, y = _positive(a, na), _positive(b, nb)
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"{na} has shape {x.shape} and {nb} {y.shape}: give one value, or one per "
                         "entry of the other") from None
    return x, y


def flops(N: ArrayLike, D: ArrayLike) -> FloatArray:
    """Training compute ``C = 6 N D`` (FLOP); a ValueError naming ``N`` and ``D`` where it
    passes float64's largest value (1.8e308)."""
    n, d = _pair(N, D, "N,D")
    return np.asarray(_six_nd(n, d))


def tokens_for(C: ArrayLike, N: ArrayLike) -> FloatArray:
    """Tokens a budget C buys for a model of N parameters: ``C / (6 N)`` (a ValueError naming
    ``C`` and ``N`` where that passes float64's range)."""
    c, n = _pair(C, N, "C,N")
    with np.errstate(over="ignore"):
        d = np.asarray(c / (6.0 * n))
    return np.asarray(_validate.check_computed(d, "C / (6 N)", {"C": c, "N": n}, "N must be larger"))


def params_for(C: ArrayLike, D: ArrayLike) -> FloatArray:
    """Parameters a budget C allows when training on D tokens: ``C / (6 D)`` (a ValueError
    naming ``C`` and ``D`` where that passes float64's range)."""
    c, d = _pair(C, D, "C,D")
    with np.errstate(over="ignore"):
        n = np.asarray(c / (6.0 * d))
    return np.asarray(_validate.check_computed(n, "C / (6 D)", {"C": c, "D": d}, "D must be larger"))


@dataclass(frozen=True)
class Allocation:
    """A compute-optimal split (arrays shaped like C, or floats for a scalar C).

    Attributes
    ----------
    C, N_opt, D_opt, tokens_per_param : ndarray or float
    loss : ndarray or float
        The law's loss at the optimum (NaN for the rule without a law).
    a, b : float
        ``N_opt ∝ C^a``, ``D_opt ∝ C^b``.
    """

    C: Any
    N_opt: Any
    D_opt: Any
    tokens_per_param: Any
    loss: Any
    a: float
    b: float


def _out(x: FloatArray) -> Any:
    return float(x) if x.ndim == 0 else x


def optimal_allocation(C: ArrayLike, params: Any) -> Allocation:
    """The loss-minimising ``(N, D)`` with ``6 N D = C`` under a Chinchilla law (closed form).

    Parameters
    ----------
    C : array_like
        Compute budget(s) in FLOP (> 0).
    params : ChinchillaLaw, fit result, mapping or sequence
        The law (see :func:`scalingfit.chinchilla.as_law`).
    """
    c = _positive(C, "C")
    law = as_law(params)
    N, D = law.optimal_allocation(c)
    return Allocation(
        C=_out(c),
        N_opt=_out(N),
        D_opt=_out(D),
        tokens_per_param=_out(D / N),
        loss=_out(law.loss(N, D)),
        a=law.n_opt_exponent,
        b=law.d_opt_exponent,
    )


def rule_allocation(
    C: ArrayLike, tokens_per_param: float = TOKENS_PER_PARAM_RULE, params: Optional[Any] = None
) -> Allocation:
    """The split with a fixed ratio ``D = k N``: ``N = sqrt(C / (6 k))`` (``a = b = 1/2``).
    With ``params``, ``loss`` is that law's loss at the split.

    ``C / (6 k)`` may pass float64's range where ``N`` does not (``k = 1e-300``): ``N`` is then
    ``sqrt(C / 6) / sqrt(k)``. Where ``N`` or ``D`` itself passes it (or rounds to 0), a
    ValueError names ``C`` and ``tokens_per_param``."""
    c = _positive(C, "C")
    k = _one(tokens_per_param, "tokens_per_param")
    with np.errstate(over="ignore"):
        N = np.sqrt(c / (6.0 * k))
        redo = ~np.isfinite(N) | (N == 0)
        if redo.any():  # the ratio overflowed or underflowed: each side's root
            N = np.where(redo, np.sqrt(c / 6.0) / np.sqrt(k), N)
        D = k * N
    given = {"C": c, "tokens_per_param": k}
    for v, what in ((N, "N = sqrt(C / (6 tokens_per_param))"), (D, "D = tokens_per_param N")):
        _validate.check_computed(v, what, given, "C and tokens_per_param must be nearer the sizes "
                                 "of real runs", underflow=True)
    loss = as_law(params).loss(N, D) if params is not None else np.full(c.shape, np.nan)
    return Allocation(
        C=_out(c),
        N_opt=_out(N),
        D_opt=_out(D),
        tokens_per_param=_out(np.asarray(D / N)),
        loss=_out(np.asarray(loss)),
        a=0.5,
        b=0.5,
    )


@dataclass(frozen=True)
class Verdict:
    """How a trained model compares with the compute-optimal split of its own budget.

    ``ratio_law = N / N_opt`` under the law (``ratio_rule`` under the tokens-per-parameter
    rule): above ``tolerance`` the model is *under-trained* (too many parameters, too few
    tokens for its compute), below ``1 / tolerance`` *over-trained*, otherwise
    *near-optimal*. ``excess_loss`` is the law's loss at (N, D) minus its loss at the optimum.

    When the law was a bootstrap, ``ratio_law_low`` and ``ratio_law_high`` bound ``ratio_law``
    (the percentile interval over the converged replicates, at ``level``) and ``agreement`` is
    the fraction of replicates whose verdict is ``verdict_law``; NaN otherwise.
    """

    name: str
    N: float
    D: float
    C: float
    tokens_per_param: float
    N_opt_law: float
    D_opt_law: float
    ratio_law: float
    verdict_law: str
    N_opt_rule: float
    D_opt_rule: float
    ratio_rule: float
    verdict_rule: str
    excess_loss: float
    ratio_law_low: float = float("nan")
    ratio_law_high: float = float("nan")
    agreement: float = float("nan")
    level: float = float("nan")


def _verdicts(ratio: ArrayLike, tolerance: float) -> NDArray[np.str_]:
    """The verdict of each ratio ``N / N_opt``: under-trained above ``tolerance``,
    over-trained below ``1 / tolerance``, otherwise near-optimal."""
    r = np.asarray(ratio, dtype=np.float64)
    return np.where(r > tolerance, "under-trained", np.where(r < 1.0 / tolerance, "over-trained", "near-optimal"))


def _verdict(ratio: float, tolerance: float) -> str:
    """:func:`_verdicts` of one ratio."""
    return str(_verdicts(ratio, tolerance))


def _h(x: float) -> str:
    """Human-readable count: 175e9 -> '175B', 1.4e12 -> '1.4T'."""
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def format_verdicts(
    verdicts: Iterable[Verdict],
    law: Optional[ChinchillaLaw] = None,
    tokens_per_param: float = TOKENS_PER_PARAM_RULE,
) -> str:
    """The verdict table as text (``verdicts`` from :func:`training_verdict`)."""
    verdicts = list(verdicts) if isinstance(verdicts, Iterable) else verdicts
    if not isinstance(verdicts, list):
        raise TypeError(f"verdicts must be a sequence of Verdict, got {type(verdicts).__name__}")
    for i, v in enumerate(verdicts):
        if not isinstance(v, Verdict):
            raise TypeError(f"verdicts must be a sequence of Verdict (from training_verdict); "
                            f"verdicts[{i}] is {type(v).__name__} {v!r}")
    if law is not None and not isinstance(law, ChinchillaLaw):
        raise TypeError(f"law must be a ChinchillaLaw or None, got {type(law).__name__}")
    tokens_per_param = _one(tokens_per_param, "tokens_per_param")
    head = (
        f"{'model':<14} {'N':>6} {'D':>6} {'C (FLOP)':>9} {'D/N':>6} | {'law N_opt':>9} "
        f"{'D_opt':>6} {'N/N_opt':>7} {'verdict':<13} {'dLoss':>6} | {'rule N':>6} {'rule D':>6} "
        f"{'N/N_opt':>7} verdict"
    )
    title = []
    if law is not None:
        title.append(
            f"law: E={law.E:.4g} A={law.A:.4g} B={law.B:.4g} alpha={law.alpha:.4g} "
            f"beta={law.beta:.4g} (a={law.n_opt_exponent:.3f}); "
            f"rule: {tokens_per_param:g} tokens/param"
        )
    boot = any(np.isfinite(v.agreement) for v in verdicts)
    if boot:  # the bootstrap's interval of N/N_opt and agreement, after the law's columns
        level = next(v.level for v in verdicts if np.isfinite(v.agreement))
        ci = f"{100 * level:g}% CI"
        parts = head.split(" | ")
        parts[1] += f" {ci:>13} {'agree':>5}"
        head = " | ".join(parts)
    lines = title + [head, "-" * len(head)]
    for v in verdicts:
        extra = ""
        if boot:
            extra = (f" {f'{v.ratio_law_low:.2f}-{v.ratio_law_high:.2f}':>13} {v.agreement:5.0%}"
                     if np.isfinite(v.agreement) else f" {'':>13} {'':>5}")
        lines.append(
            f"{v.name:<14} {_h(v.N):>6} {_h(v.D):>6} {v.C:9.3g} {v.tokens_per_param:6.1f} | "
            f"{_h(v.N_opt_law):>9} {_h(v.D_opt_law):>6} {v.ratio_law:7.2f} {v.verdict_law:<13} "
            f"{v.excess_loss:6.3f}{extra} | {_h(v.N_opt_rule):>6} {_h(v.D_opt_rule):>6} "
            f"{v.ratio_rule:7.2f} {v.verdict_rule}"
        )
    return "\n".join(lines)


def training_verdict(
    rows: Iterable[tuple[str, float, float]] = KNOWN_MODELS,
    params: Any = EPOCH_2024,
    *,
    tokens_per_param: float = TOKENS_PER_PARAM_RULE,
    tolerance: float = 2.0,
    show: bool = True,
    file: Optional[TextIO] = None,
    level: float = 0.95,
) -> list[Verdict]:
    """Judge trained models against the compute-optimal split of their own compute.

    Parameters
    ----------
    rows : iterable of (name, N, D)
        Models (default: GPT-3, Gopher, Chinchilla, LLaMA-3.1-8B).
    params : law, fit result or bootstrap
        The fitted law (default: Epoch AI's 2024 fit of Hoffmann's data). A bootstrap
        (:func:`scalingfit.bootstrap` of a Chinchilla-form law) judges by its point fit and
        adds each verdict's uncertainty: the interval of ``N / N_opt`` over the replicates
        and the fraction of replicates that agree with the verdict.
    tokens_per_param : float
        The rule of thumb compared alongside (default 20).
    tolerance : float
        ``N`` within this factor of ``N_opt`` counts as near-optimal (factor 2 in N is a
        factor 4 in tokens per parameter at fixed compute).
    show : bool
        Print the table (to ``file``, default stdout).
    level : float
        Of the interval of ``N / N_opt`` when ``params`` is a bootstrap.

    Returns
    -------
    list of Verdict
    """
    law = as_law(params)
    from .bootstrap import BootstrapResult, _finite_level

    reps = None
    if isinstance(params, BootstrapResult):
        from .planning import percentile_interval, replicate_law

        reps = replicate_law(params)
        level = _finite_level(level)
    show = _validate.flag("show", show)
    tolerance = float(_validate.finite("tolerance", tolerance, scalar=True))
    if not (np.isfinite(tolerance) and tolerance > 1):
        raise ValueError(f"tolerance must be a finite factor > 1, got {tolerance!r}")
    out = []
    for i, row in enumerate(rows):
        try:
            name, N, D = row
        except (TypeError, ValueError):
            raise ValueError(f"rows[{i}] must be (name, N, D), got {row!r}") from None
        Nf = _one(N, f"N of {name!r}")
        Df = _one(D, f"D of {name!r}")
        C = 6.0 * Nf * Df
        opt = optimal_allocation(C, law)
        rule = rule_allocation(C, tokens_per_param)
        r_law = Nf / float(opt.N_opt)
        r_rule = Nf / float(rule.N_opt)
        spread: dict[str, float] = {}
        if reps is not None:
            ratios = Nf / reps.optimal_allocation(C)[0]
            lo, hi = percentile_interval(ratios, level)
            agree = float(np.mean(_verdicts(ratios, tolerance) == _verdict(r_law, tolerance)))
            spread = dict(ratio_law_low=float(lo), ratio_law_high=float(hi), agreement=agree, level=level)
        out.append(
            Verdict(
                name=str(name),
                N=Nf,
                D=Df,
                C=C,
                tokens_per_param=Df / Nf,
                N_opt_law=float(opt.N_opt),
                D_opt_law=float(opt.D_opt),
                ratio_law=r_law,
                verdict_law=_verdict(r_law, tolerance),
                N_opt_rule=float(rule.N_opt),
                D_opt_rule=float(rule.D_opt),
                ratio_rule=r_rule,
                verdict_rule=_verdict(r_rule, tolerance),
                excess_loss=float(law.loss(Nf, Df) - float(opt.loss)),
                **spread,
            )
        )
    if show:
        print(
            format_verdicts(out, law, tokens_per_param),
            file=file if file is not None else sys.stdout,
        )
    return out
