"""Kaplan et al. (2020), "Scaling Laws for Neural Language Models": the laws, their published
constants, fits with intervals, ``C ≈ 6ND`` and the compute-efficient frontier.

Single-variable laws (eqs. 1.1–1.3), optionally with an irreducible term ``E``::

    L(N) = (N_c / N)^alpha_N        L(D) = (D_c / D)^alpha_D
    L(C_min) = (C_c_min / C_min)^alpha_C_min

the joint law (eq. 1.5) ``L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D``, the
learning-curve law (eq. 1.6) ``L(N, S) = (N_c / N)^alpha_N + (S_c / S_min)^alpha_S``, the critical
batch size ``B_crit(L) = B* / L^(1/alpha_B)`` (eq. 1.4), and the compute-efficient allocation
``N_opt ∝ C_min^0.73`` that Hoffmann et al. (2022) revised to ``N_opt ∝ C^0.5``.

Every fit goes through the batched engine: several problems (e.g. one per data family or per
tokens-per-parameter multiplier) are one ``fit_batch`` call, and all their bootstrap resamples
one ``bootstrap_batch`` call (see ``scalingfit._resample``).
N counts non-embedding parameters in Kaplan et al.; C is in PF-days where the paper uses them.
The laws stay finite at extreme inputs where their value does (``loss_N(1e-300)``, whose ratio
``N_c / N`` alone passes float64's range, is computed through logs); a value beyond float64's
range (``critical_batch(1e-300)``, ``compute_flops(1e300, 1e9)``) is a ValueError naming the
inputs, never numpy's overflow RuntimeWarning.

>>> import numpy as np
>>> from scalingfit import kaplan
>>> N = np.logspace(6, 9, 10)
>>> fit = kaplan.fit_power_law(N, kaplan.loss_N(N))
>>> round(fit.alpha, 3), f"{fit.x_c:.2e}"
(0.076, '8.80e+13')
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate, _warnings
from ._resample import LawFit, does_not_vary, fit_many, table
from ._validate import broadcast
from ._warnings import IdentifiabilityWarning

__all__ = [
    "CHINCHILLA_TOKENS_PER_PARAM",
    "KAPLAN_2020",
    "PF_DAY",
    "AllocationComparison",
    "Frontier",
    "JointFit",
    "KaplanConstants",
    "PowerLawFit",
    "chinchilla_optimal_N",
    "compare_allocations",
    "compute_flops",
    "critical_batch",
    "fit_nd",
    "fit_ns",
    "fit_power_law",
    "fit_power_laws",
    "frontier_from_laws",
    "kaplan_optimal_N",
    "loss_C_min",
    "loss_D",
    "loss_N",
    "loss_ND",
    "loss_NS",
    "to_pf_days",
]

FloatArray = NDArray[np.float64]

PF_DAY = 8.64e19
"""FLOP in one petaflop/s-day (1e15 × 86,400)."""


@dataclass(frozen=True)
class KaplanConstants:
    """Published constants of Kaplan et al. (2020). Units: N non-embedding parameters, D tokens,
    C in PF-days, S optimiser steps, B tokens per batch.

    Attributes
    ----------
    alpha_N, N_c : eq. 1.1, L(N) at convergence (infinite data).
    alpha_D, D_c : eq. 1.2, L(D) with early stopping.
    alpha_C_min, C_c_min : eq. 1.3, L(C_min) on the compute-efficient frontier.
    alpha_C, C_c : the naive L(C) at fixed batch size (Appendix A, Table 4).
    nd_alpha_N, nd_alpha_D, nd_N_c, nd_D_c : Table 2, the joint fit of L(N, D).
    ns_alpha_N, ns_alpha_S, ns_N_c, ns_S_c : Table 3, the joint fit of L(N, S_min).
    B_star, alpha_B : eq. 1.4, critical batch size B_crit(L) = B* / L^(1/alpha_B).
    N_opt_coef, N_opt_exp : Fig. 14 / eq. 6.1, N_opt = 1.3e9 · C_min^0.73.
    S_opt_coef, S_opt_exp : S_min = 5.4e3 · C_min^0.03.
    D_opt_coef, D_opt_exp : D_opt = 2e10 · C_min^0.27.
    B_opt_exp : B ∝ C_min^0.24.
    """

    alpha_N: float = 0.076
    N_c: float = 8.8e13
    alpha_D: float = 0.095
    D_c: float = 5.4e13
    alpha_C_min: float = 0.050
    C_c_min: float = 3.1e8
    alpha_C: float = 0.057
    C_c: float = 1.6e7
    nd_alpha_N: float = 0.076
    nd_alpha_D: float = 0.103
    nd_N_c: float = 6.4e13
    nd_D_c: float = 1.8e13
    ns_alpha_N: float = 0.077
    ns_alpha_S: float = 0.76
    ns_N_c: float = 6.5e13
    ns_S_c: float = 2.1e3
    B_star: float = 2e8
    alpha_B: float = 0.21
    N_opt_coef: float = 1.3e9
    N_opt_exp: float = 0.73
    S_opt_coef: float = 5.4e3
    S_opt_exp: float = 0.03
    D_opt_coef: float = 2e10
    D_opt_exp: float = 0.27
    B_opt_exp: float = 0.24

    def as_table(self) -> str:
        """The constants as a text table."""
        return table([{"constant": f.name, "value": getattr(self, f.name)} for f in fields(self)])


KAPLAN_2020 = KaplanConstants()
"""Kaplan et al. (2020), arXiv:2001.08361, as printed."""

CHINCHILLA_TOKENS_PER_PARAM = 20.0
"""Hoffmann et al. (2022): compute-optimal training uses about 20 tokens per parameter."""


def _constants(c: Any) -> KaplanConstants:
    """``c`` itself when it is a :class:`KaplanConstants`; a TypeError naming it otherwise (a
    dict of constants used to be an AttributeError deep inside a law)."""
    if not isinstance(c, KaplanConstants):
        raise TypeError(
            f"c must be a KaplanConstants (kaplan.KAPLAN_2020, or e.g. "
            f"dataclasses.replace(kaplan.KAPLAN_2020, alpha_N=0.07) for other values), got "
            f"{type(c).__name__} {c!r}"
        )
    return c


def _law_value(direct: Callable[[], Any], log_value: Callable[[], Any], what: str,
               given: dict[str, FloatArray], remedy: Optional[str] = None) -> FloatArray:
    """A law's value, ``direct()``, where that is finite and not 0; elsewhere (an
    intermediate ratio or power that overflows float64 at an extreme input, such as
    ``N_c / N`` at ``N = 1e-300``) ``exp(log_value())``, finite while the value itself is.
    A value beyond float64 even so is a ValueError naming the inputs (``given``), never
    numpy's RuntimeWarning; 0 from an underflow is kept (the law's value rounded)."""
    with np.errstate(over="ignore", divide="ignore"):
        v = np.asarray(direct(), dtype=np.float64)
        redo = ~np.isfinite(v) | (v == 0)
        if redo.any():
            v = np.where(redo, np.exp(log_value()), v)
    names = " and ".join(given)
    return _validate.check_computed(
        v, what, given, remedy or f"{names} must be larger (the law's value passes float64's range)")


def _ratio_power(x_c: float, x: FloatArray, alpha: float, name: str, c_name: str,
                 a_name: str) -> FloatArray:
    """``(x_c / x)^alpha`` on checked ``x`` > 0 (see :func:`_law_value`)."""
    return _law_value(lambda: (x_c / x) ** alpha, lambda: alpha * (np.log(x_c) - np.log(x)),
                      f"({c_name} / {name})^{a_name}", {name: x})


# ----------------------------------------------------------------------------- the laws
def compute_flops(N: ArrayLike, D: ArrayLike) -> FloatArray:
    """Training compute ``C ≈ 6 N D`` in FLOP (forward + backward, Kaplan et al. §2.1); a
    ValueError naming ``N`` and ``D`` where ``6 N D`` passes float64's largest value (1.8e308).

    Parameters
    ----------
    N : array_like
        Parameters (finite, > 0).
    D : array_like
        Training tokens (finite, > 0); broadcast with ``N``.

    Examples
    --------
    >>> float(compute_flops(70e9, 1.4e12))
    5.88e+23
    """
    n, d = _validate.positive("N", N), _validate.positive("D", D)
    broadcast(N=n, D=d)
    return _six_nd(n, d)


def _six_nd(n: FloatArray, d: FloatArray) -> FloatArray:
    """``6 n d`` of checked, broadcastable ``n``, ``d`` > 0 (:func:`compute_flops` and
    :func:`scalingfit.allocation.flops` check them each their way): a ValueError naming ``N``
    and ``D`` where it passes float64's largest value, never numpy's overflow warning."""
    with np.errstate(over="ignore"):
        c = 6.0 * n * d
    return _validate.check_computed(c, "6 N D", {"N": n, "D": d}, "N and D must be smaller")


def to_pf_days(flops: ArrayLike) -> FloatArray:
    """FLOP to PF-days.

    Parameters
    ----------
    flops : array_like
        Compute in FLOP (finite, > 0); divided by :data:`PF_DAY` (8.64e19).

    Examples
    --------
    >>> float(to_pf_days(8.64e19))
    1.0
    """
    return _validate.positive("flops", flops) / PF_DAY


def loss_N(N: ArrayLike, c: KaplanConstants = KAPLAN_2020) -> FloatArray:
    """``L(N) = (N_c / N)^alpha_N`` (nats/token; N non-embedding parameters).

    Parameters
    ----------
    N : array_like
        Non-embedding parameters (finite, > 0).
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.

    Examples
    --------
    >>> round(float(loss_N(1.5e9)), 3)
    2.304
    """
    c = _constants(c)
    return _ratio_power(c.N_c, _validate.positive("N", N), c.alpha_N, "N", "N_c", "alpha_N")


def loss_D(D: ArrayLike, c: KaplanConstants = KAPLAN_2020) -> FloatArray:
    """``L(D) = (D_c / D)^alpha_D`` (D tokens).

    Parameters
    ----------
    D : array_like
        Training tokens (finite, > 0).
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.

    Examples
    --------
    >>> round(float(loss_D(2.2e10)), 3)
    2.099
    """
    c = _constants(c)
    return _ratio_power(c.D_c, _validate.positive("D", D), c.alpha_D, "D", "D_c", "alpha_D")


def loss_C_min(C_min: ArrayLike, c: KaplanConstants = KAPLAN_2020) -> FloatArray:
    """``L(C_min) = (C_c_min / C_min)^alpha_C_min`` (C_min in PF-days).

    Parameters
    ----------
    C_min : array_like
        Minimum compute in PF-days (finite, > 0).
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.

    Examples
    --------
    >>> round(float(loss_C_min(1.0)), 3)
    2.658
    """
    c = _constants(c)
    return _ratio_power(c.C_c_min, _validate.positive("C_min", C_min), c.alpha_C_min, "C_min",
                        "C_c_min", "alpha_C_min")


def loss_ND(N: ArrayLike, D: ArrayLike, c: KaplanConstants = KAPLAN_2020) -> FloatArray:
    """Eq. 1.5 with the Table 2 constants: ``[(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D``.

    Parameters
    ----------
    N : array_like
        Non-embedding parameters (finite, > 0).
    D : array_like
        Training tokens (finite, > 0); broadcast with ``N``.
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.
        Its ``nd_*`` fields are used.

    Examples
    --------
    >>> round(float(loss_ND(1e9, 1e10)), 3)
    2.42
    """
    c = _constants(c)
    N = _validate.positive("N", N)
    D = _validate.positive("D", D)
    broadcast(N=N, D=D)
    e = c.nd_alpha_N / c.nd_alpha_D
    return _law_value(
        lambda: ((c.nd_N_c / N) ** e + c.nd_D_c / D) ** c.nd_alpha_D,
        lambda: c.nd_alpha_D * np.logaddexp(e * (np.log(c.nd_N_c) - np.log(N)),
                                            np.log(c.nd_D_c) - np.log(D)),
        "L(N, D)", {"N": N, "D": D})


def loss_NS(N: ArrayLike, S: ArrayLike, c: KaplanConstants = KAPLAN_2020) -> FloatArray:
    """Eq. 1.6 with the Table 3 constants: ``(N_c/N)^alpha_N + (S_c/S_min)^alpha_S``.

    Parameters
    ----------
    N : array_like
        Non-embedding parameters (finite, > 0).
    S : array_like
        Optimiser steps ``S_min`` (finite, > 0); broadcast with ``N``.
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.
        Its ``ns_*`` fields are used.

    Examples
    --------
    >>> round(float(loss_NS(1e9, 1e5)), 3)
    2.401
    """
    c = _constants(c)
    N = _validate.positive("N", N)
    S = _validate.positive("S", S)
    broadcast(N=N, S=S)
    with np.errstate(over="ignore"):
        L = (_ratio_power(c.ns_N_c, N, c.ns_alpha_N, "N", "N_c", "alpha_N")
             + _ratio_power(c.ns_S_c, S, c.ns_alpha_S, "S", "S_c", "alpha_S"))
    return _validate.check_computed(L, "L(N, S)", {"N": N, "S": S}, "N and S must be larger")


def critical_batch(L: ArrayLike, c: KaplanConstants = KAPLAN_2020) -> FloatArray:
    """Critical batch size in tokens, ``B_crit(L) = B* / L^(1/alpha_B)`` (eq. 1.4); 0 where
    that underflows (``L = 1e300``), a ValueError naming ``L`` where it passes float64's range
    (``L = 1e-300``).

    Parameters
    ----------
    L : array_like
        Loss in nats/token (finite, > 0).
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.

    Examples
    --------
    >>> f"{float(critical_batch(2.5)):.3g}"
    '2.55e+06'
    """
    c = _constants(c)
    L = _validate.positive("L", L)
    return _law_value(lambda: c.B_star / L ** (1.0 / c.alpha_B),
                      lambda: np.log(c.B_star) - np.log(L) / c.alpha_B,
                      "B* / L^(1/alpha_B)", {"L": L}, "L must be larger (a loss in nats per token)")


# ----------------------------------------------------------------------------- fits
@dataclass(frozen=True)
class PowerLawFit:
    """A fitted single-variable Kaplan law ``L = E + (x_c / x)^alpha`` (``E = 0`` without an
    irreducible term), with intervals.

    Attributes
    ----------
    variable : str
        Name of the input (``"N"``, ``"D"``, ``"C"``, ``"S"``).
    irreducible : bool
    law : LawFit
        The engine's fit (``power_law`` ``A x^-alpha`` or ``saturating_power_law``
        ``E + A x^-alpha``, with ``A = x_c^alpha``), resamples included.
    """

    variable: str
    irreducible: bool
    law: LawFit

    def _a(self, p: FloatArray) -> FloatArray:
        return p[..., self.law.param_names.index("A")]

    def _alpha(self, p: FloatArray) -> FloatArray:
        return p[..., self.law.param_names.index("alpha")]

    def _xc(self, p: FloatArray) -> FloatArray:
        """``A^(1/alpha)``; NaN at ``alpha = 0`` ((x_c/x)^0 = 1 whatever x_c: a loss that does
        not vary gave 0 or inf with numpy's divide-by-zero warning)."""
        with np.errstate(all="ignore"):
            return np.exp(self._log_xc(p))

    def _log_xc(self, p: FloatArray) -> FloatArray:
        """``log x_c = log(A) / alpha`` (NaN at ``alpha = 0``)."""
        a, alpha = self._a(p), self._alpha(p)
        with np.errstate(all="ignore"):
            return np.where(alpha != 0, np.log(a) / np.where(alpha != 0, alpha, 1.0), np.nan)

    @property
    def alpha(self) -> float:
        """The exponent ``alpha``."""
        return float(self._alpha(self.law.x))

    @property
    def x_c(self) -> float:
        """The scale constant x_c = A^(1/alpha) (Kaplan's N_c, D_c, C_c); NaN at alpha = 0."""
        return float(self._xc(self.law.x))

    @property
    def E(self) -> float:
        """The irreducible loss (0 without ``irreducible``)."""
        return float(self.law.x[0]) if self.irreducible else 0.0

    def interval(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """Interval of ``"alpha"``, ``"x_c"`` or, when the fit has ``irreducible=True``,
        ``"E"`` (any other name, including ``"E"`` without ``irreducible``, raises
        ``ValueError``); bootstrap percentile when the fit has resamples, else Gauss–Newton
        delta method with Student's t.

        The delta-method interval of the positive ``x_c`` is built on ``log x_c = log(A) /
        alpha`` and exponentiated: positive and skewed like ``x_c``. Built on ``x_c`` itself
        its lower end was <= 0 in 26 (log residuals) and 45 (linear residuals) of 600
        simulated pure power-law sweeps of 8 sizes at 1% noise, e.g. (-5.3e12, 1.19e14)
        around 5.7e13; on the log scale in none, and it covered the true N_c 0.94-0.97 of the
        time (95% nominal; 0.94-0.95 before).

        Parameters
        ----------
        name : {"alpha", "x_c", "E"}
            The parameter (``"E"`` only with ``irreducible``).
        level : float, optional
            The interval's level, in (0, 1); None (default): the fit's own (``law.level``).
        """
        funcs = {"alpha": self._alpha, "x_c": self._xc}
        if self.irreducible:
            funcs["E"] = lambda p: p[..., 0]
        if name not in funcs:
            raise ValueError(f"interval of {name!r}: choose one of {sorted(funcs)}")
        if name == "x_c" and self.law.samples is None:
            with np.errstate(over="ignore"):  # an unbounded upper end is inf
                lo, hi = np.exp(self.law.derived(self._log_xc, level)[1])
        else:
            lo, hi = self.law.derived(funcs[name], level)[1]
        return float(lo), float(hi)

    def predict(self, x: ArrayLike) -> FloatArray:
        """The fitted law at ``x``.

        Parameters
        ----------
        x : array_like
            Values of the law's variable (``variable``: N, D, C or S; > 0); a scalar gives a
            scalar.
        """
        return self.law.predict(np.asarray(x, dtype=np.float64))

    def band(self, x: ArrayLike, level: Optional[float] = None) -> FloatArray:
        """(2, n) interval of the predicted loss at ``x``: bootstrap percentiles of the
        resampled curves, else the delta method.

        Parameters
        ----------
        x : array_like
            Values of the law's variable (> 0); a scalar gives shape (2,).
        level : float, optional
            The interval's level, in (0, 1); None (default): the fit's own (``law.level``).
        """
        return self.law.band(np.asarray(x, dtype=np.float64), level)

    def __repr__(self) -> str:
        names = [("alpha", "alpha", self.alpha), (f"{self.variable}_c", "x_c", self.x_c)]
        if self.irreducible:
            names.append(("E", "E", self.E))
        rows = []
        for label, key, value in names:
            lo, hi = self.interval(key)
            rows.append({"param": label, "value": value, "lower": lo, "upper": hi})
        law = f"E + ({self.variable}_c/{self.variable})^alpha" if self.irreducible \
            else f"({self.variable}_c/{self.variable})^alpha"
        return f"PowerLawFit(L = {law})\n" + table(rows)


@_validate.suggest_argument_names
def fit_power_laws(
    xs: Sequence[ArrayLike],
    losses: Sequence[ArrayLike],
    *,
    variable: str = "N",
    irreducible: bool = False,
    n_resamples: int = 0,
    scheme: str = "points",
    groups: Optional[Sequence[Optional[ArrayLike]]] = None,
    seed: int = 0,
    level: float = 0.95,
    log_residuals: bool = False,
    loss: str = "linear",
    f_scale: float = 1.0,
) -> list[PowerLawFit]:
    """Fit Kaplan's single-variable law to several data sets in one batch call.

    Parameters
    ----------
    xs, losses : sequences of arrays
        One (x, L) data set per problem, x > 0 (N, D, C or S).
    variable : str
        Name of x, for reports.
    irreducible : bool
        Fit ``E + (x_c/x)^alpha`` (saturating power law) instead of ``(x_c/x)^alpha``.
    n_resamples, scheme, groups, seed, level :
        Bootstrap replicates per problem (0: Gauss–Newton intervals), the resampling scheme
        (``"points"`` or ``"residuals"``, see ``_resample.fit_many``), optional cluster labels,
        seed and interval level.
    log_residuals, loss, f_scale :
        Objective, as in :func:`scalingfit.fit`.

    Returns
    -------
    list of PowerLawFit

    Raises
    ------
    ValueError
        Naming the data set (``x`` or ``xs[j]``): a NaN, a size <= 0, too few points, or
        fewer distinct sizes than the law has parameters (2, or 3 with ``irreducible``: the
        law is not identifiable from repeats of one size); without ``irreducible``, a loss
        <= 0 (``losses[j]``, or ``y`` for :func:`fit_power_law`, and its index): the law
        ``(x_c/x)^alpha`` is positive.

    Warns
    -----
    IdentifiabilityWarning
        A data set whose loss does not vary: no power law to fit (its ``x_c`` is NaN at
        ``alpha = 0``).

    Examples
    --------
    >>> N = np.logspace(6, 9, 10)
    >>> a, b = fit_power_laws([N, N], [loss_N(N), 1.5 * loss_N(N)])
    >>> round(a.alpha, 4), round(b.alpha, 4)
    (0.076, 0.076)
    """
    return _fit_laws(xs, losses, ("xs", "losses"), variable=variable, irreducible=irreducible,
                     n_resamples=n_resamples, scheme=scheme, groups=groups, seed=seed, level=level,
                     log_residuals=log_residuals, loss=loss, f_scale=f_scale)


def _fit_laws(
    xs: Sequence[ArrayLike], losses: Sequence[ArrayLike], names: tuple[str, str],
    one: Optional[tuple[str, str]] = None, *, variable: str = "N", irreducible: bool = False,
    **options: Any,
) -> list[PowerLawFit]:
    """:func:`fit_power_laws`, its messages naming the data sets ``names[0][j]`` and
    ``names[1][j]`` (``one``: the names of a single data set, default ``xs[0]``)."""
    irreducible = _validate.flag("irreducible", irreducible)
    for name, seq in zip(names, (xs, losses)):
        try:
            n = len(seq) if not isinstance(seq, (str, bytes)) else -1
        except TypeError:  # a number, a 0-d array
            n = -1
        if n < 0:
            raise TypeError(f"{name} must be a sequence of arrays, one per data set, got "
                            f"{type(seq).__name__} {seq!r}")
        if n and all(np.ndim(v) == 0 for v in seq):  # one data set, not wrapped
            raise ValueError(f"{name} must hold one array per data set; got one array of "
                             f"{len(seq)} numbers: wrap it in a list ({name}=[...]), or use "
                             "fit_power_law for one data set")
    if len(xs) != len(losses):
        raise ValueError(f"{names[1]} has {len(losses)} data sets but {names[0]} has {len(xs)}")
    one = one or (f"{names[0]}[0]", f"{names[1]}[0]")
    model = "saturating_power_law" if irreducible else "power_law"
    _check_distinct(xs, 3 if irreducible else 2, variable, names[0] if len(xs) > 1 else one[0])
    if not irreducible:
        _check_losses_positive(losses, variable, names[1] if len(xs) > 1 else one[1])
    many = fit_many(
        model, [_validate.as_float_array(x, f"{names[0]}[{j}]" if len(xs) > 1 else one[0])
                for j, x in enumerate(xs)], losses,
        bounds={"A": (0.0, np.inf)}, names=names, one_names=one, **options,
    )
    for j, y in enumerate(losses):
        ya = np.asarray(y, dtype=np.float64)  # checked by fit_many
        if does_not_vary(ya):
            where = one[1] if len(xs) == 1 else f"{names[1]}[{j}]"
            _warnings.warn(f"{where} does not vary (every value {float(ya[0]):g}): there is no power law "
                          f"to fit, so alpha and {variable}_c are not identifiable ({variable}_c is NaN at "
                          f"alpha = 0: ({variable}_c/{variable})^0 = 1 for any {variable}_c)",
                          IdentifiabilityWarning, stacklevel=3)
    return [PowerLawFit(variable, irreducible, many.problem(j)) for j in range(many.n_problems)]


def _check_distinct(xs: Sequence[ArrayLike], n_params: int, variable: str, name: str) -> None:
    """A ValueError naming the first data set whose sizes take fewer distinct values than the
    law has parameters (``(x_c/x)^alpha`` needs 2, ``E + (x_c/x)^alpha`` 3): the fit is not
    identifiable there (it was a meaningless fit with a ConvergenceWarning, or "no usable
    start"). Too few points, NaN and sizes <= 0 are left to ``fit_many``, which names them."""
    for j, x in enumerate(xs):
        try:
            xa = np.asarray(x, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            continue
        if xa.size < n_params or not np.all(np.isfinite(xa) & (xa > 0)):
            continue
        values = np.unique(xa)
        if values.size < n_params:
            where = name if len(xs) == 1 else f"{name}[{j}]"
            law = f"({variable}_c/{variable})^alpha"
            if n_params == 3:
                law = "E + " + law
            raise ValueError(
                f"{where} has {xa.size} points but only {values.size} distinct value(s) of "
                f"{variable} ({', '.join(f'{v:g}' for v in values)}): the {n_params} parameters of "
                f"L = {law} need at least {n_params} distinct values of {variable}"
            )


def _check_losses_positive(losses: Sequence[ArrayLike], variable: str, name: str) -> None:
    """A ValueError naming the first data set with a loss <= 0 and its first such index:
    ``(x_c/x)^alpha`` is positive, so such a loss (a negated loss, a log loss, a metric) was
    fitted to ``x_c = 0`` or ``inf`` with only a warning that the fit did not converge. NaN
    and text are left to ``fit_many``, which names them."""
    for j, y in enumerate(losses):
        try:
            ya = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        where = name if len(losses) == 1 else f"{name}[{j}]"
        _validate.check_positive(
            ya, where, f"L = ({variable}_c/{variable})^alpha is positive; irreducible=True fits "
            f"E + ({variable}_c/{variable})^alpha", nan_ok=True)


def fit_power_law(x: ArrayLike, L: ArrayLike, **kwargs: Any) -> PowerLawFit:
    """Fit one single-variable Kaplan law (see :func:`fit_power_laws` for the options).

    Parameters
    ----------
    x : array_like (n,)
        The law's variable (N, D, C or S; finite, > 0, at least 2 distinct values, 3 with
        ``irreducible``).
    L : array_like (n,)
        Losses at ``x`` (finite; > 0 without ``irreducible``).
    **kwargs
        The keyword options of :func:`fit_power_laws` (``variable``, ``irreducible``,
        ``n_resamples``, ``scheme``, ``groups``, ``seed``, ``level``, ``log_residuals``,
        ``loss``, ``f_scale``); any other name is a TypeError.

    Examples
    --------
    >>> D = np.logspace(8, 11, 8)
    >>> fit = fit_power_law(D, loss_D(D), variable="D")
    >>> round(fit.alpha, 3), f"{fit.x_c:.1e}"
    (0.095, '5.4e+13')
    """
    unknown = kwargs.keys() - _POWER_LAW_OPTIONS
    if unknown:  # named here: it was fit_many's TypeError, a function the user never called
        msg = f"fit_power_law() got an unexpected keyword argument {min(unknown)!r}"
        raise TypeError(_validate.argument_hint(fit_power_law, msg, like=fit_power_laws) or msg)
    return _fit_laws([x], [L], ("x", "L"), ("x", "y"), **kwargs)[0]


# fit_power_law's keyword options: fit_power_laws' (read once, on import)
_POWER_LAW_OPTIONS = frozenset(
    p.name for p in inspect.signature(fit_power_laws).parameters.values()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
)


@dataclass(frozen=True)
class JointFit:
    """A fitted two-input Kaplan law (``kaplan_nd`` or ``kaplan_ns``) with intervals.

    Attributes
    ----------
    law : LawFit
        Parameters ``(N_c, D_c, alpha_N, alpha_D)`` or ``(N_c, S_c, alpha_N, alpha_S)``.
    """

    law: LawFit

    @property
    def params(self) -> dict[str, float]:
        """Parameters by name."""
        return self.law.params

    def interval(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """Interval of one parameter (bootstrap percentile, or Gauss–Newton with Student's t).

        Without resamples, the intervals of the positive scale constants (``N_c``, ``D_c``,
        ``S_c``) are built on their logarithm and exponentiated: positive and skewed like the
        constants. Built on ``D_c`` itself, the lower end was <= 0 in 310 of 400 simulated
        ``kaplan_nd`` sweeps (30 runs, 1% noise, N_c = 8.8e13, D_c = 5.4e13) and the interval covered the true ``D_c``
        0.90 of the time; on the log scale it covered it 0.95 (N_c 0.94 either way; 95%
        nominal).

        Parameters
        ----------
        name : str
            A parameter of the law: ``N_c``, ``D_c``, ``alpha_N``, ``alpha_D`` (``kaplan_nd``)
            or ``N_c``, ``S_c``, ``alpha_N``, ``alpha_S`` (``kaplan_ns``); another is a
            ValueError.
        level : float, optional
            The interval's level, in (0, 1); None (default): the fit's own (``law.level``).
        """
        if name.endswith("_c") and name in self.law.param_names and self.law.samples is None:
            i = self.law.param_names.index(name)
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # inf upper end
                lo, hi = np.exp(self.law.derived(lambda p: np.log(p[..., i]), level)[1])
            return float(lo), float(hi)
        return self.law.interval(name, level)

    def predict(self, N: ArrayLike, X: ArrayLike) -> FloatArray:
        """The law at (N, D) or (N, S).

        Parameters
        ----------
        N : array_like
            Non-embedding parameters (> 0).
        X : array_like
            Training tokens D (``kaplan_nd``) or optimiser steps S (``kaplan_ns``), > 0; as
            many as ``N``.
        """
        return self.law.predict((np.atleast_1d(np.asarray(N, float)), np.atleast_1d(np.asarray(X, float))))

    def band(self, N: ArrayLike, X: ArrayLike, level: Optional[float] = None) -> FloatArray:
        """(2, n) interval of the predicted loss at (N, D) or (N, S).

        Parameters
        ----------
        N : array_like
            Non-embedding parameters (> 0).
        X : array_like
            Training tokens D (``kaplan_nd``) or optimiser steps S (``kaplan_ns``), > 0; as
            many as ``N``.
        level : float, optional
            The interval's level, in (0, 1); None (default): the fit's own (``law.level``).
        """
        return self.law.band((np.atleast_1d(np.asarray(N, float)), np.atleast_1d(np.asarray(X, float))), level)

    def __repr__(self) -> str:
        rows = [{"param": n, "value": float(v), "lower": lo, "upper": hi}
                for n, v in zip(self.law.param_names, self.law.x) for lo, hi in [self.interval(n)]]
        kind = f"bootstrap, {self.law.samples.shape[0]} resamples, {self.law.n_failed} failed" \
            if self.law.samples is not None else "Gauss-Newton"
        return (f"JointFit(model={self.law.model!r}, status={self.law.status}, "
                f"{round(100 * self.law.level)}% intervals: {kind})\n" + table(rows))


def _fit_joint(
    model: str, N: ArrayLike, X: ArrayLike, L: ArrayLike, n_resamples: int, groups: Optional[ArrayLike],
    seed: int, level: float, log_residuals: bool, loss: str, f_scale: float, p0: Optional[ArrayLike],
) -> JointFit:
    x_name = "D" if model == "kaplan_nd" else "S"
    cols = {name: _validate.as_float_array(v, name) for name, v in (("N", N), (x_name, X), ("L", L))}
    if all(a.ndim == 1 for a in cols.values()):  # else fit_many names the shape
        n = cols["N"].shape[0]
        for name, a in cols.items():
            if a.shape[0] != n:
                raise ValueError(f"{name} has {a.shape[0]} values but N has {n}: one value of "
                                 "each per run")
    many = fit_many(
        model, [(cols["N"], cols[x_name])], [cols["L"]], n_resamples=n_resamples,
        groups=None if groups is None else [groups], seed=seed, level=level, log_residuals=log_residuals, loss=loss, f_scale=f_scale, p0=p0,
    )
    return JointFit(many.problem(0))


@_validate.suggest_argument_names
def fit_nd(
    N: ArrayLike, D: ArrayLike, L: ArrayLike, *, n_resamples: int = 0, groups: Optional[ArrayLike] = None,
    seed: int = 0, level: float = 0.95, log_residuals: bool = True, loss: str = "linear",
    f_scale: float = 1.0, p0: Optional[ArrayLike] = None,
) -> JointFit:
    """Fit the joint law ``L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D`` (eq. 1.5).

    Log residuals by default (the law spans a small range of L; relative errors are natural).

    Parameters
    ----------
    N, D, L : array_like (n,)
        Parameters, tokens and loss of each run (N, D > 0), one value of each per run.
    n_resamples : int
        Bootstrap replicates (0: Gauss–Newton intervals).
    groups : array_like (n,), optional
        Run labels: the bootstrap resamples whole groups (a cluster bootstrap).
    seed, level :
        The bootstrap's seed and the intervals' default level.
    log_residuals, loss, f_scale :
        Objective, as in :func:`scalingfit.fit`.
    p0 : array_like, optional
        Extra start ``(N_c, D_c, alpha_N, alpha_D)`` (added to the data-driven ones).

    Returns
    -------
    JointFit

    Raises
    ------
    ValueError
        Naming the argument: lengths that differ, a value that is not finite, a size <= 0,
        too few points.

    >>> N, D = np.meshgrid(np.logspace(7, 9, 5), np.logspace(8, 10, 5))
    >>> fit = fit_nd(N.ravel(), D.ravel(), loss_ND(N, D).ravel())
    >>> {k: float(f"{v:.3g}") for k, v in fit.params.items()}
    {'N_c': 64000000000000.0, 'D_c': 18000000000000.0, 'alpha_N': 0.076, 'alpha_D': 0.103}
    """
    return _fit_joint("kaplan_nd", N, D, L, n_resamples, groups, seed, level, log_residuals, loss,
                      f_scale, p0)


@_validate.suggest_argument_names
def fit_ns(
    N: ArrayLike, S: ArrayLike, L: ArrayLike, *, n_resamples: int = 0, groups: Optional[ArrayLike] = None,
    seed: int = 0, level: float = 0.95, log_residuals: bool = False, loss: str = "linear",
    f_scale: float = 1.0, p0: Optional[ArrayLike] = None,
) -> JointFit:
    """Fit the learning-curve law ``L(N, S) = (N_c/N)^alpha_N + (S_c/S)^alpha_S`` (eq. 1.6) to
    losses of several model sizes N at several step counts S (use ``groups`` = run labels to
    resample whole learning curves).

    Parameters
    ----------
    N, S, L : array_like (n,)
        Parameters, optimiser steps and loss of each point (N, S > 0).
    n_resamples, groups, seed, level, log_residuals, loss, f_scale :
        As for :func:`fit_nd` (linear residuals by default here).
    p0 : array_like, optional
        Extra start ``(N_c, S_c, alpha_N, alpha_S)``.

    Returns
    -------
    JointFit

    >>> N, S = np.meshgrid(np.logspace(6, 9, 4), np.logspace(3, 5, 6))
    >>> fit = fit_ns(N.ravel(), S.ravel(), loss_NS(N, S).ravel())
    >>> {k: float(f"{v:.3g}") for k, v in fit.params.items()}
    {'N_c': 65000000000000.0, 'S_c': 2100.0, 'alpha_N': 0.077, 'alpha_S': 0.76}
    """
    return _fit_joint("kaplan_ns", N, S, L, n_resamples, groups, seed, level, log_residuals, loss,
                      f_scale, p0)


# ----------------------------------------------------------------------------- allocation
@dataclass(frozen=True, eq=False)
class Frontier:
    """The compute-efficient frontier at budgets ``C`` (FLOP).

    Attributes
    ----------
    C : ndarray
        Budgets in FLOP.
    N, S, B, D, L : ndarray
        Optimal non-embedding parameters, optimiser steps, batch (tokens), tokens ``B·S`` and the
        loss reached.
    """

    C: FloatArray
    N: FloatArray
    S: FloatArray
    B: FloatArray
    D: FloatArray
    L: FloatArray

    def exponent(self, what: str = "N") -> float:
        """Least-squares slope of log(what) against log C.

        Parameters
        ----------
        what : {"N", "S", "B", "D", "L"}
            The attribute whose exponent to fit; default ``"N"``. Needs at least 2 distinct
            budgets (a ValueError otherwise).
        """
        n_budgets = np.unique(self.C).size
        if n_budgets < 2:
            raise ValueError(f"an exponent needs at least 2 distinct budgets, the frontier has {n_budgets}")
        y = np.log(getattr(self, what))
        return float(np.polyfit(np.log(self.C), y, 1)[0])


def _budgets(C: ArrayLike) -> FloatArray:
    """Compute budgets as a non-empty 1-D array of finite values > 0, the first bad one named."""
    if isinstance(C, (str, bytes)):
        raise TypeError(f"C must be a number or an array of numbers, got {type(C).__name__} {C!r}")
    Cs = np.atleast_1d(_validate.as_float_array(C, "C"))
    if Cs.ndim != 1 or Cs.size == 0:
        raise ValueError(f"C must be a non-empty 1-D array of budgets in FLOP, got shape {Cs.shape}")
    _validate.check_finite(Cs, "C")
    _validate.check_positive(Cs, "C", "a compute budget in FLOP")
    return Cs


_GOLD = (np.sqrt(5.0) - 1.0) / 2.0
_WINDOW = np.log(1e6)  # half-width (in log N) of the size grid of frontier_from_laws
_MAX_SHIFTS = 60  # windows tried per budget: 6 decades a shift, 360 decades in all


def _log_loss_on_budget(logN: FloatArray, logC: FloatArray, c: KaplanConstants) -> FloatArray:
    """``log L`` of a model of ``N`` parameters that spends ``C_min = 6 N B_crit(L) S_min``.

    With ``S_min = C L^(1/alpha_B) / (6 N B*)`` the law
    ``L = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S`` reads ``L = a + K L^-r`` (``a = (N_c/N)^alpha_N``, ``K = (6 N B* S_c / C)^alpha_S``,
    ``r = alpha_S / alpha_B``): the right side decreases in ``L`` and the left increases, so the
    root is unique, and it lies in ``[a, a + K a^-r]``. Solved by bisection on ``log L``, in
    logs throughout (no overflow for sizes far from the optimum)."""
    log_a = c.ns_alpha_N * (np.log(c.ns_N_c) - logN)
    log_K = c.ns_alpha_S * (np.log(6.0 * c.B_star * c.ns_S_c) + logN - logC)
    r = c.ns_alpha_S * (1.0 / c.alpha_B)
    lo = np.array(log_a, dtype=np.float64)
    hi = np.logaddexp(log_a, log_K - r * log_a)
    for _ in range(200):
        m = 0.5 * (lo + hi)
        if np.all((m == lo) | (m == hi)):
            break
        above = m > np.logaddexp(log_a, log_K - r * m)  # L = e^m is above the root
        hi = np.where(above, m, hi)
        lo = np.where(above, lo, m)
    return np.asarray(0.5 * (lo + hi))


def frontier_from_laws(C: ArrayLike, c: KaplanConstants = KAPLAN_2020, n_grid: int = 2001) -> Frontier:
    """Derive the compute-efficient frontier from L(N, S_min) and B_crit(L) (Kaplan et al.,
    §6 and Appendix B), numerically.

    The budgets ``C`` are minimum compute ``C_min`` (Kaplan et al. eq. 5.5), spent as
    ``C_min = 6 N B_crit(L) S_min`` (training at ``B = B_crit`` itself takes twice the steps
    and compute); for each model size the number of steps ``S_min`` solves that equation (a
    fixed point in L, unique), and the size with the lowest ``L(N, S_min)`` wins. The sizes are
    a log grid of ``n_grid`` points over 12 decades that follows the budget: centred on Kaplan's
    fitted ``N_opt(C)`` and moved 6 decades at a time until the best size is inside it, then
    refined by golden-section search. Every budget is spent exactly (``6 N B S = C``). No fit is
    involved (nothing to batch). Kaplan et al. state ``N_opt ∝ C_min^0.73`` from the data and
    ``C_min^(alpha_C_min/alpha_N) ≈ C^0.7`` from the laws.

    Raises
    ------
    ValueError
        Naming the budget: ``C`` not finite and > 0; no interior optimum within 360 decades
        of sizes; an optimum that takes fewer than one step (``S_min < 1``, budgets below
        about 1e-40 FLOP) or is not representable as float64.

    Parameters
    ----------
    C : array_like
        Budgets ``C_min`` in FLOP: a number or a non-empty 1-D array, finite and > 0.
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.
    n_grid : int
        Points of the log grid of sizes spanning 12 decades (>= 3; a ValueError otherwise);
        default 2001.

    Examples
    --------
    >>> f = frontier_from_laws(np.logspace(18, 24, 7))
    >>> 0.65 < f.exponent("N") < 0.8
    True
    """
    c = _constants(c)
    Cs = _budgets(C)
    if not isinstance(n_grid, (int, np.integer)) or isinstance(n_grid, bool) or n_grid < 3:
        raise ValueError(f"n_grid must be >= 3 (sizes on the log grid), got {n_grid!r}")
    logC = np.log(Cs)
    u = np.linspace(-_WINDOW, _WINDOW, n_grid)
    h = u[1] - u[0]
    # the window's centre: Kaplan's fitted N_opt = N_opt_coef * (C / PF-day)^N_opt_exp
    centre = np.log(c.N_opt_coef) + c.N_opt_exp * (logC - np.log(PF_DAY))
    j = np.zeros(Cs.shape[0], dtype=np.int64)
    pending = np.ones(Cs.shape[0], dtype=bool)
    for _ in range(_MAX_SHIFTS):
        idx = np.flatnonzero(pending)
        t = centre[idx, None] + u[None, :]
        logL = _log_loss_on_budget(t, logC[idx, None], c)
        jj = np.argmin(np.where(np.isfinite(logL), logL, np.inf), axis=1)
        j[idx] = jj
        low, high = jj == 0, jj == n_grid - 1
        centre[idx] += np.where(low, -_WINDOW, np.where(high, _WINDOW, 0.0))
        pending[idx] = low | high
        if not pending.any():
            break
    if pending.any():
        i = int(np.flatnonzero(pending)[0])
        raise ValueError(
            f"C[{i}] = {float(Cs[i])!r} FLOP: no interior optimum of L(N, S_min) found for sizes "
            f"within {3 * _MAX_SHIFTS} decades of Kaplan's N_opt(C) (check the constants)"
        )
    # golden-section search of log N inside the two grid cells around the best grid size
    a = centre + u[j] - h
    b = centre + u[j] + h

    def f(t: FloatArray) -> FloatArray:
        v = _log_loss_on_budget(t, logC, c)
        return np.where(np.isfinite(v), v, np.inf)

    x1, x2 = b - _GOLD * (b - a), a + _GOLD * (b - a)
    f1, f2 = f(x1), f(x2)
    for _ in range(80):
        left = f1 <= f2
        b, a = np.where(left, x2, b), np.where(left, a, x1)
        x1, x2 = np.where(left, b - _GOLD * (b - a), x2), np.where(left, x1, a + _GOLD * (b - a))
        new = f(np.where(left, x1, x2))
        f1, f2 = np.where(left, new, f2), np.where(left, f1, new)
    t_best = centre + u[j]
    t_mid = 0.5 * (a + b)
    t_opt = np.where(f(t_mid) < f(t_best), t_mid, t_best)
    with np.errstate(over="ignore", under="ignore"):
        N_opt = np.exp(t_opt)
        L_opt = np.exp(_log_loss_on_budget(t_opt, logC, c))
        B = c.B_star / L_opt ** (1.0 / c.alpha_B)
        S_opt = Cs / (6.0 * N_opt * B)
        D = B * S_opt
    values = np.vstack([N_opt, S_opt, B, D, L_opt])
    bad = ~(np.isfinite(values) & (values > 0)).all(axis=0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"C[{i}] = {float(Cs[i])!r} FLOP: the optimal size, steps, batch or loss "
                         "is not representable as float64")
    few = S_opt < 1.0
    if few.any():
        i = int(np.flatnonzero(few)[0])
        raise ValueError(f"C[{i}] = {float(Cs[i])!r} FLOP is too small for the law: its optimum "
                         f"takes S_min = {float(S_opt[i]):.3g} < 1 optimiser step")
    return Frontier(C=Cs, N=N_opt, S=S_opt, B=B, D=D, L=L_opt)


def kaplan_optimal_N(C: ArrayLike, c: KaplanConstants = KAPLAN_2020) -> FloatArray:
    """Kaplan's fitted allocation ``N_opt = 1.3e9 · (C / PF-day)^0.73`` (C in FLOP).

    Parameters
    ----------
    C : array_like
        Compute in FLOP (finite, > 0).
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.
        Its ``N_opt_coef`` and ``N_opt_exp`` are used.

    Examples
    --------
    >>> f"{float(kaplan_optimal_N(8.64e19)):.2g}"
    '1.3e+09'
    """
    c = _constants(c)
    return c.N_opt_coef * to_pf_days(C) ** c.N_opt_exp


def chinchilla_optimal_N(C: ArrayLike, tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM,
                         exponent: float = 0.5) -> FloatArray:
    """Chinchilla's allocation, ``N_opt ∝ C^exponent`` through the 20-tokens-per-parameter rule:
    ``C = 6 N D``, ``D = 20 N`` gives ``N = sqrt(C / 120)`` at exponent 0.5 (C in FLOP); other
    exponents keep the rule exact at C = 5.76e23, the compute budget of Gopher and Chinchilla
    in Hoffmann et al. (2022) (Chinchilla's 70B on 1.4T tokens is ``6 N D = 5.88e23``).

    Parameters
    ----------
    C : array_like
        Compute in FLOP (finite, > 0).
    tokens_per_param : float
        Training tokens per parameter ``D / N`` of the rule (> 0); default 20
        (:data:`CHINCHILLA_TOKENS_PER_PARAM`).
    exponent : float
        The allocation exponent of ``N_opt ∝ C^exponent`` (finite); default 0.5.

    Examples
    --------
    >>> f"{float(chinchilla_optimal_N(5.88e23)):.3g}"
    '7e+10'
    """
    Ca = _validate.positive("C", C)
    tokens_per_param = _validate.positive_number(tokens_per_param, "tokens_per_param")
    exponent = float(_validate.finite("exponent", exponent, scalar=True))
    if exponent == 0.5:
        return np.sqrt(Ca / (6.0 * tokens_per_param))
    C_ref = 5.76e23
    N_ref = np.sqrt(C_ref / (6.0 * tokens_per_param))
    return np.asarray(N_ref * (Ca / C_ref) ** exponent)


@dataclass(frozen=True, eq=False)
class AllocationComparison:
    """Kaplan's and Chinchilla's compute-optimal allocations at budgets ``C`` (FLOP).

    Attributes
    ----------
    C : ndarray
    N_kaplan, D_kaplan, N_chinchilla, D_chinchilla : ndarray
        Parameters and tokens (D = C / 6N for both, so both spend exactly C).
    ratio : ndarray
        ``N_kaplan / N_chinchilla``: > 1 where Kaplan trains a bigger model on fewer tokens.
    crossover : float
        The budget (FLOP) where the two agree; they diverge as ``C^0.23`` away from it.
    """

    C: FloatArray
    N_kaplan: FloatArray
    D_kaplan: FloatArray
    N_chinchilla: FloatArray
    D_chinchilla: FloatArray
    ratio: FloatArray
    crossover: float

    def rows(self) -> list[dict[str, float]]:
        """One dict per budget: C, both allocations (N, D/N) and their ratio."""
        return [
            {"C": float(c), "N_kaplan": float(nk), "D/N kaplan": float(dk / nk),
             "N_chinchilla": float(nc), "D/N chinchilla": float(dc / nc), "ratio": float(r)}
            for c, nk, dk, nc, dc, r in zip(self.C, self.N_kaplan, self.D_kaplan, self.N_chinchilla,
                                            self.D_chinchilla, self.ratio)
        ]

    def __repr__(self) -> str:
        return (f"AllocationComparison(crossover at C = {self.crossover:.3g} FLOP)\n"
                + table(self.rows(), ".3g"))


def compare_allocations(
    C: ArrayLike, c: KaplanConstants = KAPLAN_2020,
    tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM, chinchilla_exponent: float = 0.5,
) -> AllocationComparison:
    """Where Kaplan's ``N_opt ∝ C^0.73`` and Chinchilla's ``N_opt ∝ C^0.5`` part ways.

    Both allocations spend the whole budget (``D = C / 6N``). Kaplan's N counts non-embedding
    parameters and its budget is C_min; the comparison treats both as C, which is how the two
    prescriptions are usually compared (Hoffmann et al., 2022, Fig. 1).

    Parameters
    ----------
    C : array_like
        Budgets in FLOP: a number or a non-empty 1-D array, finite and > 0.
    c : KaplanConstants
        The constants to use (anything else is a TypeError); default :data:`KAPLAN_2020`.
        Kaplan's side is :func:`kaplan_optimal_N` with it.
    tokens_per_param : float
        Chinchilla's tokens per parameter (> 0), as :func:`chinchilla_optimal_N`; default 20.
    chinchilla_exponent : float
        Chinchilla's allocation exponent, as ``exponent`` of :func:`chinchilla_optimal_N`:
        finite, > 0 and different from ``c.N_opt_exp`` (0.73; equal exponents never cross, a
        ValueError); default 0.5.

    Examples
    --------
    >>> cmp = compare_allocations([1e21, 1e24])
    >>> f"{cmp.crossover:.2g}", [round(float(r), 1) for r in cmp.ratio]
    ('1.4e+19', [2.7, 13.2])
    """
    c = _constants(c)
    Cs = _budgets(C)
    tokens_per_param = _validate.positive_number(tokens_per_param, "tokens_per_param")
    chinchilla_exponent = float(_validate.finite("chinchilla_exponent", chinchilla_exponent, scalar=True))
    if not (np.isfinite(chinchilla_exponent) and chinchilla_exponent > 0) or chinchilla_exponent == c.N_opt_exp:
        raise ValueError(f"chinchilla_exponent must be finite, > 0 and differ from Kaplan's {c.N_opt_exp} "
                         f"(equal exponents never cross), got {chinchilla_exponent!r}")
    Nk = kaplan_optimal_N(Cs, c)
    Nc = chinchilla_optimal_N(Cs, tokens_per_param, chinchilla_exponent)
    # log Nk = log a + p (log C - log PF_DAY);  log Nc = log b + q log C  (exponent q)
    if chinchilla_exponent == 0.5:
        log_b = -0.5 * np.log(6.0 * tokens_per_param)
    else:
        C_ref = 5.76e23
        log_b = 0.5 * np.log(C_ref / (6.0 * tokens_per_param)) - chinchilla_exponent * np.log(C_ref)
    p, q = c.N_opt_exp, chinchilla_exponent
    log_cross = (log_b - np.log(c.N_opt_coef) + p * np.log(PF_DAY)) / (p - q)
    return AllocationComparison(
        C=Cs, N_kaplan=Nk, D_kaplan=Cs / (6 * Nk), N_chinchilla=Nc, D_chinchilla=Cs / (6 * Nc),
        ratio=Nk / Nc, crossover=float(np.exp(log_cross)),
    )
