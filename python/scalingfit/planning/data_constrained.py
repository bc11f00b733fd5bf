"""Data-constrained scaling (Muennighoff et al., "Scaling Data-Constrained Language Models", 2023).

Repeated tokens are worth less than fresh ones. With ``U_D`` unique tokens seen
``R_D = D / U_D - 1`` extra times, and the part of the model beyond the compute-optimal size
for ``U_D`` treated the same way, the law is

    L(N, D, U) = E + A / N'^alpha + B / D'^beta
    D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*))         (effective data)
    N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*))         (effective parameters)
    U_D = min(U, D),  U_N = min(N, N_opt(U_D)),  R_N = N / U_N - 1,
    N_opt(D) = G (D G)^(beta / alpha),  G = (alpha A / (beta B))^(1 / (alpha + beta)).

``R_D*`` is the decay constant (in repetitions) of the value of repeated data: after ``R_D``
repetitions a further token is worth ``exp(-R_D/R_D*)`` of a fresh one (so the k-th
repetition's tokens are worth ``R_D* (1 - exp(-1/R_D*)) exp(-(k-1)/R_D*)`` on average, 0.97
of ``exp(-(k-1)/R_D*)`` at ``R_D* = 15.4``), and no amount of repetition gives more than
``U_D (1 + R_D*)`` effective tokens.

Their two-stage fit: (1) ``E, A, B, alpha, beta`` from Chinchilla-style C4 data (the 54
digitised isoFLOP points are not redistributable: we take the published stage-1 values);
(2) ``R_D*, R_N*`` with those held fixed, on 182 runs, minimising the Huber loss
(``delta = 1e-3``) of ``log L_pred - log L`` summed over runs, from a grid of starts. Stage 2
runs here through the batched engine: the built-in C++ model ``data_constrained`` (all seven
constants, analytic Jacobian, fitted in the decay rates ``r = 1/R*``) with the stage-1 constants
held (``fixed=``); every start, and every bootstrap replicate, is an item of one ``fit_batch``
call.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _status, _validate, _warnings
from .._fit import fit_batch
from .._resample import table
from .._warnings import ConvergenceWarning, DataWarning, IdentifiabilityWarning
from ..losses import rho
from ..models import MUENNIGHOFF_2023_R_STAR, repeat_phi
from ..results import FitResult
from ._common import (
    FloatArray,
    Law,
    PathLike,
    broadcast_copy,
    check_epochs,
    check_finite,
    check_positive,
    d_to_n,
    law_repr,
    minimize_scalar,
    numeric,
    percentile_interval,
    quantities_repr,
    read_csv_columns,
    resolve_file,
)

__all__ = [
    "DEFAULT_STARTS",
    "MUENNIGHOFF_2023",
    "MUENNIGHOFF_2023_PUBLISHED",
    "PAPER_STARTS",
    "SEARCH_STARTS",
    "ConstrainedOptimum",
    "DataConstrainedBootstrap",
    "DataConstrainedFit",
    "DataConstrainedLaw",
    "Optimum",
    "RepetitionCost",
    "as_data_constrained_law",
    "bootstrap_data_constrained",
    "fit_data_constrained",
    "huber_log_objective",
    "load_muennighoff2023",
    "optimal_allocation_constrained",
    "repetition_cost",
    "simulate_data_constrained",
]

Num = Union[float, FloatArray]


@dataclass(frozen=True)
class DataConstrainedLaw:
    """Muennighoff et al.'s law. Fields are floats, or equally shaped arrays of replicates
    (then every method answers once per replicate).

    Attributes
    ----------
    E, A, B, alpha, beta : float or ndarray
        The Chinchilla part (stage 1).
    R_D, R_N : float or ndarray
        ``R_D*`` and ``R_N*`` (stage 2); ``inf`` means no decay (repeats as good as fresh).

    The effective counts are evaluated as ``U (1 + R phi(R / R*))`` with
    ``phi(z) = (1 - exp(-z)) / z``, which is exact at ``R = 0`` and at ``R* = inf``.
    """

    E: Num
    A: Num
    B: Num
    alpha: Num
    beta: Num
    R_D: Num
    R_N: Num

    @classmethod
    def from_log_params(
        cls, a: float, b: float, e: float, alpha: float, beta: float, R_D: float, R_N: float
    ) -> DataConstrainedLaw:
        """From the log-sum-exp parametrisation ``(a, b, e) = (log A, log B, log E)``."""
        return cls(
            E=float(np.exp(e)),
            A=float(np.exp(a)),
            B=float(np.exp(b)),
            alpha=alpha,
            beta=beta,
            R_D=R_D,
            R_N=R_N,
        )

    @property
    def chinchilla(self) -> Law:
        """The stage-1 law ``E + A/N^alpha + B/D^beta`` (no repetition)."""
        return Law(
            *(
                np.asarray(v, dtype=np.float64)
                for v in (self.E, self.A, self.B, self.alpha, self.beta)
            )
        )

    def __repr__(self) -> str:
        return law_repr("DataConstrainedLaw", "Muennighoff et al. (2023)", _FIELDS,
                        [getattr(self, k) for k in _FIELDS])

    def with_decay(self, R_D: Num, R_N: Num) -> DataConstrainedLaw:
        """The same stage-1 law with other decay constants (e.g. bootstrap replicates)."""
        return replace(self, R_D=R_D, R_N=R_N)

    def effective_data(self, D: ArrayLike, U: ArrayLike) -> FloatArray:
        """``D' = U_D (1 + R_D* (1 - exp(-R_D / R_D*)))`` with ``U_D = min(U, D)``."""
        d = check_positive("D", D)
        u = check_positive("U", U)
        _validate.broadcast(D=d, U=u, **{"the law (its replicates)": np.empty(law_shape(self))})
        return self._effective_data(d, u)

    def _effective_data(self, d: FloatArray, u: FloatArray) -> FloatArray:
        """:meth:`effective_data` of checked arrays (floats, finite and > 0, broadcasting with
        the law's fields), without checking them again."""
        ud = np.minimum(u, d)
        rd = np.maximum(d / ud - 1.0, 0.0)
        return np.asarray(ud * (1.0 + rd * repeat_phi(rd / np.asarray(self.R_D, dtype=np.float64))))

    def effective_params(self, N: ArrayLike, D: ArrayLike, U: ArrayLike) -> FloatArray:
        """``N' = U_N (1 + R_N* (1 - exp(-R_N / R_N*)))``, ``U_N = min(N, N_opt(U_D))``."""
        n = check_positive("N", N)
        u, d = check_positive("U", U), check_positive("D", D)
        _validate.broadcast(N=n, D=d, U=u, **{"the law (its replicates)": np.empty(law_shape(self))})
        return self._effective_params(n, d, u, self.chinchilla.n_for_data)

    def _effective_params(
        self, n: FloatArray, d: FloatArray, u: FloatArray, n_opt: Callable[[FloatArray], FloatArray]
    ) -> FloatArray:
        """:meth:`effective_params` of checked arrays, with ``n_opt`` the stage-1 law's
        ``optimal_n_for_data``."""
        ud = np.minimum(u, d)
        un = np.minimum(n, n_opt(ud))
        rn = np.maximum(n / un - 1.0, 0.0)
        return np.asarray(un * (1.0 + rn * repeat_phi(rn / np.asarray(self.R_N, dtype=np.float64))))

    def loss(self, N: ArrayLike, D: ArrayLike, U: ArrayLike) -> FloatArray:
        """Predicted loss of N parameters trained on D tokens drawn from U unique tokens."""
        return np.asarray(
            self.E
            + self.A * self.effective_params(N, D, U) ** -np.asarray(self.alpha)
            + self.B * self.effective_data(D, U) ** -np.asarray(self.beta)
        )

    def _loss(
        self, n: FloatArray, d: FloatArray, u: FloatArray, n_opt: Callable[[FloatArray], FloatArray]
    ) -> FloatArray:
        """:meth:`loss` of checked arrays (floats, finite and > 0, broadcasting with the law's
        fields), the same arithmetic without the checks: the allocation searches evaluate the
        loss ~200 times per budget (10,000 times in a ``data_wall``), and checking N, D, U
        and their shapes took more time than the loss itself."""
        return np.asarray(
            self.E
            + self.A * self._effective_params(n, d, u, n_opt) ** -np.asarray(self.alpha)
            + self.B * self._effective_data(d, u) ** -np.asarray(self.beta)
        )


#: The published law (C4, GPT-2 tokenizer): stage-1 a, b, e, alpha = beta of the notebook's
#: tied fit and stage-2 R_D* = 15.387756, R_N* = 5.309743 (datablations README).
MUENNIGHOFF_2023 = DataConstrainedLaw.from_log_params(
    6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596, *MUENNIGHOFF_2023_R_STAR
)

#: Published stage-2 results on the 182 runs (parametric_fit.ipynb): constants, the Huber sum
#: at the optimum, and R^2 of the law; and the README's two example losses.
MUENNIGHOFF_2023_PUBLISHED: dict[str, Any] = {
    "R_D": MUENNIGHOFF_2023_R_STAR[0],
    "R_N": MUENNIGHOFF_2023_R_STAR[1],
    "huber": 0.015825936570763588,
    "r2": 0.7722046084968408,
    "readme_examples": [
        ((6.34e9, 242e9, 25e9), 2.2256440889984477),
        ((8.67e9, 178e9, 25e9), 2.2269634075087867),
    ],
    # README: optimal_allocation(1e22, 25e9) by a 500-point grid search
    "readme_allocation": {"C": 1e22, "U": 25e9, "D": 237336955477.55075, "N": 7022364735.879969},
}

_FIELDS = ("E", "A", "B", "alpha", "beta", "R_D", "R_N")

#: What the planning functions of this module accept as a data-constrained law.
LawLike = Union[DataConstrainedLaw, Mapping[str, Any]]


def as_data_constrained_law(law: Any, name: str = "law") -> DataConstrainedLaw:
    """``law`` as a validated :class:`DataConstrainedLaw`: one already, or a mapping (or an
    object) with ``E, A, B, alpha, beta, R_D, R_N`` (floats, or equally shaped arrays of
    replicates).

    Raises
    ------
    TypeError
        If ``law`` is none of those: in particular a Chinchilla law alone (e.g.
        ``HOFFMANN_2022``), which has no decay constants ``R_D, R_N``.
    ValueError
        Naming ``name``'s field and index: ``E`` not finite, ``A, B, alpha, beta`` not finite
        and > 0, ``R_D, R_N`` not > 0 (``inf``, no decay, is allowed); fields that do not
        broadcast together, or arrays of replicates with none in them.
    """
    if isinstance(law, DataConstrainedLaw):
        vals = [getattr(law, k) for k in _FIELDS]
    elif isinstance(law, Mapping) and all(k in law for k in _FIELDS):
        vals = [law[k] for k in _FIELDS]
    elif not isinstance(law, Mapping) and all(hasattr(law, k) for k in _FIELDS):
        vals = [getattr(law, k) for k in _FIELDS]
    else:
        names = set(law) if isinstance(law, Mapping) else {k for k in _FIELDS if hasattr(law, k)}
        missing = [k for k in _FIELDS if k not in names]
        raise TypeError(
            f"{name} must be a DataConstrainedLaw (e.g. MUENNIGHOFF_2023) or a mapping with keys "
            f"{list(_FIELDS)}; got a {type(law).__name__} without {missing}. A Chinchilla law "
            "has no decay constants: use DataConstrainedLaw(**chinchilla_law, R_D=..., R_N=...)"
        )
    for k, v in zip(_FIELDS, vals):
        if k == "E":
            check_finite(f"{name}.{k}", v)
        else:
            check_positive(f"{name}.{k}", v, allow_inf=k in ("R_D", "R_N"))
    try:
        shape = np.broadcast_shapes(*(np.shape(v) for v in vals))
    except ValueError:
        shapes = {k: np.shape(v) for k, v in zip(_FIELDS, vals)}
        raise ValueError(f"{name}'s fields do not broadcast together: shapes {shapes}") from None
    if 0 in shape:
        raise ValueError(f"{name} has no replicates: its fields are empty arrays (shape {shape})")
    return law if isinstance(law, DataConstrainedLaw) else DataConstrainedLaw(*vals)


#: The paper's start grid ``R_D*, R_N* in linspace(0, 20, 4)`` without the zeros (the law
#: divides by ``R*``; the notebook's zero starts give NaN and are skipped by its ``<`` test).
PAPER_STARTS: FloatArray = np.array(
    [[rd, rn] for rd in np.linspace(0, 20, 4)[1:] for rn in np.linspace(0, 20, 4)[1:]]
)

#: A wider search: ``R_D*`` log-spaced over [5, 300] and ``R_N*`` over [0.5, 20], 12 x 12. The
#: objective has several local optima on the paper's runs (five from this grid); fitted in the
#: decay rates, all nine of the paper's starts reach the published one, not the lowest.
SEARCH_STARTS: FloatArray = np.array(
    [[rd, rn] for rd in np.geomspace(5, 300, 12) for rn in np.geomspace(0.5, 20, 12)]
)

#: What :func:`fit_data_constrained` starts from by default: the paper's grid, then the search.
DEFAULT_STARTS: FloatArray = np.vstack([PAPER_STARTS, SEARCH_STARTS])


# ------------------------------------------------------------------ the stage-2 fit
STAGE1 = ("E", "A", "B", "alpha", "beta")


def _stage2_batch(
    base: DataConstrainedLaw,
    x: FloatArray,
    y: FloatArray,
    offsets: NDArray[np.int64],
    rates: FloatArray,
    problem: NDArray[np.int64],
    *,
    delta: float,
    weights: Optional[FloatArray] = None,
    compute_cov: bool = True,
) -> Any:
    """Stage 2 as items of one batch call of the built-in ``data_constrained`` model (C++):
    ``base``'s stage-1 constants held (``fixed=``), the decay rates ``(1/R_D*, 1/R_N*)``
    fitted from each row of ``rates``; Huber loss (``delta``) on log residuals."""
    _validate.positive("delta", delta, scalar=True)  # named as the caller knows it (f_scale below)
    stage1 = {k: float(getattr(base, k)) for k in STAGE1}
    p0 = np.column_stack([np.tile([stage1[k] for k in STAGE1], (rates.shape[0], 1)), rates])
    return fit_batch(
        "data_constrained", x, y, offsets, p0=p0, problem=problem, weights=weights,
        loss="huber", f_scale=delta, log_residuals=True, fixed=stage1, compute_cov=compute_cov,
    )


def _inverse(r: FloatArray) -> FloatArray:
    """``R* = 1 / r`` (``inf`` for a rate of 0)."""
    with np.errstate(divide="ignore"):
        return np.asarray(1.0 / r)


def huber_log_objective(
    law: DataConstrainedLaw,
    N: ArrayLike,
    D: ArrayLike,
    U: ArrayLike,
    loss: ArrayLike,
    delta: float = 1e-3,
) -> float:
    """``sum_i huber_delta(log L_pred_i - log L_i)`` (torch's ``huber_loss``, summed): the
    objective the paper minimised and reports (0.0158259 at the published constants).

    Parameters
    ----------
    law : DataConstrainedLaw
        The law whose predictions ``L_pred`` are scored.
    N, D, U : array_like
        Each run's parameters, tokens trained on and unique tokens.
    loss : array_like
        Each run's observed (final) loss, > 0.
    delta : float
        The Huber threshold, in log-loss units (> 0).
    """
    delta = float(_validate.positive("delta", delta, scalar=True))
    r = np.log(law.loss(N, D, U)) - np.log(np.asarray(loss, dtype=np.float64))
    return float(0.5 * delta**2 * np.sum(rho("huber", r * r / delta**2)[0]))


def _r2(y: FloatArray, pred: FloatArray) -> float:
    """R^2; NaN for constant losses (no variance to explain)."""
    ss = float(np.sum((y - np.mean(y)) ** 2))
    return float(1.0 - np.sum((y - pred) ** 2) / ss) if ss > 0 else float("nan")


@dataclass(frozen=True)
class Optimum:
    """One distinct local optimum reached from the start grid."""

    R_D: float
    R_N: float
    cost: float
    n_starts: int


@dataclass(frozen=True)
class DataConstrainedFit:
    """Stage-2 fit.

    Attributes
    ----------
    law : DataConstrainedLaw
        The lowest-cost optimum over all starts, with the stage-1 constants of ``base``.
    fit : FitResult
        The engine's result for that optimum (cost = the Huber sum; Gauss–Newton stderr,
        too small under this Huber loss: Wald intervals from its ``cov`` covered 0.75-0.77
        of a nominal 95% in simulation; use :func:`bootstrap_data_constrained`).
    optima : list of Optimum
        Every distinct converged optimum, lowest cost first, with how many starts reached it:
        the objective is not convex in ``(R_D*, R_N*)`` (see the report in the tests).
    r2 : float
        R^2 of the law on the fitted losses.
    """

    law: DataConstrainedLaw
    fit: FitResult
    optima: list[Optimum]
    r2: float

    def __repr__(self) -> str:
        fit = self.fit
        head = quantities_repr(
            f"DataConstrainedFit: stage 2 of Muennighoff et al. (2023), {fit.n_points} runs, "
            f"status {fit.status} [{fit.message}], best of {fit.n_starts} starts reached by "
            f"{fit.n_best}",
            [("R_D", self.law.R_D), ("R_N", self.law.R_N), ("huber", fit.cost), ("r2", self.r2)],
        )
        rows = [{"optimum": i, "R_D": o.R_D, "R_N": o.R_N, "huber": o.cost, "starts": o.n_starts}
                for i, o in enumerate(self.optima[:5])]
        more = f" (the first 5 of {len(self.optima)})" if len(self.optima) > 5 else ""
        return f"{head}\ndistinct optima{more}:\n{table(rows)}" if rows else head

    def optimum_near(self, R_D: float, R_N: float, rtol: float = 0.02) -> Optional[Optimum]:
        """The optimum within ``rtol`` of ``(R_D, R_N)``, if any was reached."""
        for o in self.optima:
            if abs(o.R_D / R_D - 1) <= rtol and abs(o.R_N / R_N - 1) <= rtol:
                return o
        return None


def _as_inputs(
    N: ArrayLike, D: ArrayLike, U: ArrayLike, loss: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    n = check_positive("N", N).ravel()
    d = check_positive("D", D).ravel()
    u = check_positive("U", U).ravel()
    y = check_positive("loss", loss).ravel()
    if not (n.shape == d.shape == u.shape == y.shape):
        raise ValueError(
            f"N, D, U and loss must have equal lengths, got {n.size}, {d.size}, {u.size}, {y.size}"
        )
    if y.size < 2:
        raise ValueError(f"need at least 2 runs to fit R_D*, R_N*, got {y.size}")
    return np.column_stack([n, d, u]), y


def _check_identifiable(x: FloatArray, base: DataConstrainedLaw) -> None:
    """Raise unless some run repeats data (else the loss does not depend on ``R_D*``) and
    some run has excess parameters (else it does not depend on ``R_N*``): the fit would
    return its start value."""
    N, D, U = x[:, 0], x[:, 1], x[:, 2]
    ud = np.minimum(U, D)
    rd = np.maximum(D / ud - 1.0, 0.0)  # as in the model
    rn = np.maximum(N / np.minimum(N, base.chinchilla.n_for_data(ud)) - 1.0, 0.0)
    if not np.any(rd > 0):
        raise ValueError(
            "R_D* is not identifiable: no run repeats data (D <= U for every run), so the loss "
            "does not depend on it; include runs trained for more than one epoch"
        )
    if not np.any(rn > 0):
        raise ValueError(
            "R_N* is not identifiable: no run has more parameters than compute-optimal for its "
            "unique data (N <= N_opt(min(U, D)) for every run), so the loss does not depend on it"
        )


def _distinct(
    rates: FloatArray, cost: FloatArray, ok: NDArray[np.bool_], rtol: float = 1e-3
) -> list[Optimum]:
    """The distinct optima among converged items (decay rates within ``rtol`` are one),
    lowest cost first, as ``R* = 1 / rate``."""
    out: list[tuple[FloatArray, float, int]] = []
    for i in np.argsort(np.where(ok, cost, np.inf)):
        if not ok[i]:
            continue
        for j, (p, c, k) in enumerate(out):
            if np.all(np.abs(rates[i] - p) <= rtol * np.abs(p)):
                out[j] = (p, c, k + 1)
                break
        else:
            out.append((rates[i], float(cost[i]), 1))
    return [Optimum(float(_inverse(p[0])), float(_inverse(p[1])), c, k) for p, c, k in out]


#: Another optimum whose Huber sum is within this share of the best's, with a decay constant
#: off by more than RIVAL_FACTOR, means the data do not pin the constants down.
RIVAL_COST = 0.01
RIVAL_FACTOR = 2.0


def _rival_optimum(optima: list[Optimum]) -> str:
    """Why the best optimum's decay constants are not determined, or "": another distinct
    optimum nearly as good (Huber sum within :data:`RIVAL_COST`) with ``R_D*`` or ``R_N*``
    more than :data:`RIVAL_FACTOR` times apart (on the paper's 182 runs: 95.4 / 1.71 at
    0.0158047 and the paper's 15.39 / 5.31 at 0.0158259, 0.13% apart)."""
    if len(optima) < 2:
        return ""
    best = optima[0]
    for o in optima[1:]:
        if o.cost > best.cost * (1 + RIVAL_COST):
            break
        ratios = [1.0 if a == b else  # both inf (repeats as good as fresh) too
                  max(a / b, b / a) if a > 0 and b > 0 and np.isfinite(a) and np.isfinite(b) else np.inf
                  for a, b in ((o.R_D, best.R_D), (o.R_N, best.R_N))]
        if max(ratios) > RIVAL_FACTOR:
            return (f"another optimum fits nearly as well (Huber sum {o.cost:.6g}, {100 * (o.cost / best.cost - 1):.2g}% "
                    f"above the best's {best.cost:.6g}) at R_D* = {o.R_D:.4g}, R_N* = {o.R_N:.4g} against the "
                    f"best's {best.R_D:.4g}, {best.R_N:.4g}: the data do not pin the decay constants down. "
                    "See .optima and bootstrap_data_constrained's intervals before reading much into them")
    return ""


@_validate.suggest_argument_names
def fit_data_constrained(
    N: ArrayLike,
    D: ArrayLike,
    U: ArrayLike,
    loss: ArrayLike,
    base: DataConstrainedLaw = MUENNIGHOFF_2023,
    *,
    starts: Optional[ArrayLike] = None,
    delta: float = 1e-3,
) -> DataConstrainedFit:
    """Stage 2 of Muennighoff et al.: ``R_D*, R_N*`` with ``base``'s stage-1 constants fixed.

    Huber loss (``delta``) on log residuals, summed over runs, from ``starts`` (an (k, 2)
    array of ``(R_D*, R_N*)`` pairs; default: the paper's grid, :data:`PAPER_STARTS`, then the
    wider :data:`SEARCH_STARTS`, both in ``scalingfit.planning.data_constrained``: 153 in all, 0.1 s), all starts in one batch call.

    The objective is very flat in ``R_D*``: on the paper's own 182 runs the default starts
    find a lower Huber sum (0.0158047 at ``R_D* = 95.4, R_N* = 1.71``; standard error of
    ``R_D*`` about 37) than the paper's optimum (0.0158259 at 15.39 / 5.31), which its 9-start
    grid reaches (``starts=PAPER_STARTS``, as ``scalingfit reproduce`` does). Look at
    ``optima`` (every distinct converged optimum) and the bootstrap before reading much into
    ``R_D*``.

    The fit's ``cov`` (the reweighted Gauss–Newton covariance of the Huber fit, carried to
    ``R_D*, R_N*`` by the delta method) gives Wald intervals that are too narrow: with
    ``delta=1e-3`` most log residuals lie beyond the Huber threshold, where that covariance
    understates the uncertainty. On data simulated from :data:`MUENNIGHOFF_2023` at the
    paper's 182 runs (1% noise, 150-200 data sets, 95% nominal)
    :func:`scalingfit.uncertainty.wald_intervals` of this fit covered ``R_D*`` and ``R_N*``
    0.75-0.77 of the time; :func:`bootstrap_data_constrained`'s percentile intervals
    0.915-0.92 and 0.94-0.95. Use the bootstrap for intervals.

    Raises
    ------
    ValueError
        On bad runs (naming the input and index), fewer than 2 runs, or runs that cannot
        identify the constants: none repeats data (``R_D*``), or none has more parameters
        than compute-optimal for its unique data (``R_N*``).

    Warns
    -----
    IdentifiabilityWarning, ConvergenceWarning
        As :func:`scalingfit.fit`: the best start ended singular, or did not converge; and
        an IdentifiabilityWarning when another distinct optimum's Huber sum is within 1% of
        the best's with ``R_D*`` or ``R_N*`` more than 2x apart (the default starts on the
        paper's runs: 95.4 / 1.71 and 47.0 / 2.33, 0.017% apart).
    """
    return _fit_stage2(N, D, U, loss, base, starts=starts, delta=delta, rival=True)


def _fit_stage2(N: ArrayLike, D: ArrayLike, U: ArrayLike, loss: ArrayLike, base: DataConstrainedLaw, *,
                starts: Optional[ArrayLike], delta: float, rival: bool) -> DataConstrainedFit:
    """:func:`fit_data_constrained`; ``rival``: warn of a rival optimum (not for the point fit
    of :func:`bootstrap_data_constrained`, whose intervals show that spread)."""
    base = as_data_constrained_law(base, "base")
    x, y = _as_inputs(N, D, U, loss)
    _check_identifiable(x, base)
    R0 = DEFAULT_STARTS if starts is None else check_positive("starts", starts, allow_inf=True)
    if R0.ndim != 2 or R0.shape[0] == 0 or R0.shape[1] != 2:
        raise ValueError(f"starts must be a (k, 2) array of (R_D*, R_N*) pairs, k >= 1, got shape {R0.shape}")
    res = _stage2_batch(base, x, y, np.array([0, y.size], dtype=np.int64), _inverse(R0),
                        np.zeros(R0.shape[0], dtype=np.int64), delta=delta)
    b = int(res.best_index()[0])
    rates = res.x[:, 5:7]
    optima = _distinct(rates, res.cost, np.asarray(res.success, dtype=bool))
    R = _inverse(rates[b])
    law = base.with_decay(float(R[0]), float(R[1]))
    cov = np.full((2, 2), np.nan)
    if res.cov is not None:  # delta method: dR*/dr = -1/r^2
        g = -R * R
        cov = res.cov[b, 5:7, 5:7] * np.outer(g, g)
    best_cost = float(res.cost[b])
    n_best = int(np.sum(res.success & (res.cost <= best_cost * (1 + 1e-8))))
    fr = FitResult(
        model="data_constrained",
        param_names=("R_D", "R_N"),
        x=R.copy(),
        cost=best_cost,
        cov=cov,
        status=int(res.status[b]),
        iterations=int(res.iterations[b]),
        n_points=y.size,
        n_starts=R0.shape[0],
        n_best=n_best,
        loss="huber",
        log_residuals=True,
    )
    if fr.status == _status.SINGULAR:
        _warnings.warn(f"data_constrained fit: {fr.message}", IdentifiabilityWarning, stacklevel=3)
    elif not fr.success:
        _warnings.warn(
            f"data_constrained fit did not converge: {fr.message}", ConvergenceWarning, stacklevel=3
        )
    elif rival:
        note = _rival_optimum(optima)
        if note:
            _warnings.warn(f"data_constrained fit: {note}", IdentifiabilityWarning, stacklevel=3)
    return DataConstrainedFit(
        law=law, fit=fr, optima=optima, r2=_r2(y, law.loss(x[:, 0], x[:, 1], x[:, 2]))
    )


@dataclass(frozen=True, eq=False)
class DataConstrainedBootstrap:
    """Case (run) bootstrap of stage 2.

    Attributes
    ----------
    point : DataConstrainedFit
        The fit to all runs.
    rates : ndarray (n_boot, 2)
        Decay rates ``(1/R_D*, 1/R_N*)`` per replicate (NaN where the fit failed). A rate of
        0 (``R* = inf``, repeats as good as fresh) is a legitimate replicate: the data of that
        resample do not bound ``R*`` from above.
    laws : DataConstrainedLaw
        The successful replicates as one law with array fields: pass it to
        :func:`optimal_allocation_constrained`, :func:`repetition_cost`,
        :func:`scalingfit.planning.data_wall` to carry the uncertainty into a plan.
    seed, level : int, float
    """

    point: DataConstrainedFit
    rates: FloatArray
    laws: DataConstrainedLaw
    seed: int
    level: float

    @property
    def samples(self) -> FloatArray:
        """``(R_D*, R_N*)`` per replicate (``inf`` for a zero rate)."""
        return _inverse(self.rates)

    @property
    def n_failed(self) -> int:
        """Replicates whose fit failed (NaN ``rates``)."""
        return int(np.sum(~np.isfinite(self.rates).all(axis=1)))

    def __repr__(self) -> str:
        rows = []
        for k in ("R_D", "R_N"):
            lo, hi = self.ci(k)
            rows.append({"param": k, "estimate": float(getattr(self.point.law, k)),
                         "lower": lo, "upper": hi})
        stage1 = ", ".join(f"{k} = {float(getattr(self.point.law, k)):.4g}" for k in STAGE1)
        return (f"DataConstrainedBootstrap: run bootstrap of Muennighoff et al.'s stage 2, "
                f"{self.rates.shape[0]} replicates, {self.n_failed} failed, seed {self.seed}, "
                f"{100 * self.level:g}% percentile intervals\nstage 1 held: {stage1}\n"
                + table(rows))

    def ci(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """Percentile interval of ``"R_D"``, ``"R_N"`` (computed on the rates and inverted:
        percentile intervals follow monotone maps, and an upper limit may be ``inf``) or of
        the rates ``"r_D"``, ``"r_N"``."""
        names = {"R_D": 0, "R_N": 1, "r_D": 0, "r_N": 1}
        if name not in names:
            raise ValueError(f"name must be one of {list(names)}, got {name!r}")
        lo, hi = percentile_interval(
            self.rates[:, names[name]], self.level if level is None else level
        )
        if name.startswith("r"):
            return float(lo), float(hi)
        return float(_inverse(hi)), float(_inverse(lo))


def as_replicates(samples: Any, name: str = "samples") -> DataConstrainedLaw:
    """``samples`` of the data-wall functions as a validated :class:`DataConstrainedLaw`: a
    :class:`DataConstrainedBootstrap` (its ``laws``, the successful replicates) or a law whose
    fields are arrays of replicates (see :func:`as_data_constrained_law`). A
    ``scalingfit.bootstrap`` of a Chinchilla fit is a TypeError that says how to add decay
    constants to it."""
    from ..bootstrap import BootstrapResult

    if isinstance(samples, DataConstrainedBootstrap):
        return as_data_constrained_law(samples.laws, name)
    if isinstance(samples, BootstrapResult):
        raise TypeError(
            f"{name}: a bootstrap of a {samples.fit.model!r} fit has no decay constants R_D, R_N; "
            "give bootstrap_data_constrained(...) (or its .laws), or "
            "DataConstrainedLaw(**planning.replicate_law(boot).as_dict(), R_D=..., R_N=...)"
        )
    return as_data_constrained_law(samples, name)


def point_and_replicates(
    law: Optional[LawLike], samples: Any, name: str = "samples"
) -> tuple[DataConstrainedLaw, Optional[DataConstrainedLaw]]:
    """The point law and the replicates of a data-wall function, validated.

    Without ``law``, the point law is the refit's own when ``samples`` is a
    :class:`DataConstrainedBootstrap` (``samples.point.law``), else :data:`MUENNIGHOFF_2023`.
    A point law with a field outside the range of the replicates' values (``law`` defaulted to
    the published law while ``samples`` came from a refit, say) warns :class:`DataWarning`:
    the point values and their intervals would then describe different laws."""
    own = law is None and isinstance(samples, DataConstrainedBootstrap)  # the point of these replicates
    if law is None:
        law = samples.point.law if own else MUENNIGHOFF_2023
    point = as_data_constrained_law(law)
    if samples is None:
        return point, None
    reps = as_replicates(samples, name)
    if law_shape(reps) == ():
        raise ValueError(
            f"{name} must hold arrays of replicates (e.g. bootstrap_data_constrained(...)"
            ".laws), got a point law"
        )
    outside = []
    for k in () if own else _FIELDS:
        v = np.asarray(getattr(reps, k), dtype=float)
        v = v[~np.isnan(v)]  # an unbounded decay constant's replicates may be inf: they count
        p = float(getattr(point, k))
        if v.size and not (v.min() - 1e-12 * abs(v.min()) <= p <= v.max() + 1e-12 * abs(v.max())):
            outside.append(f"{k} = {p:.4g} (replicates {v.min():.4g} to {v.max():.4g})")
    if outside:
        _warnings.warn(
            f"the point law lies outside the range of {name}' replicates in "
            f"{', '.join(outside)}: the point values would come from one law and their intervals "
            f"from another; pass the refit's point law (law=boot.point.law), or give the "
            f"bootstrap itself as {name} and leave law out",
            DataWarning,
            stacklevel=3,
        )
    return point, reps


@_validate.suggest_argument_names
def bootstrap_data_constrained(
    N: ArrayLike,
    D: ArrayLike,
    U: ArrayLike,
    loss: ArrayLike,
    base: DataConstrainedLaw = MUENNIGHOFF_2023,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    starts: Optional[ArrayLike] = None,
    delta: float = 1e-3,
) -> DataConstrainedBootstrap:
    """Intervals the paper does not give: resample the runs with replacement (seeded numpy
    generator), refit stage 2 on each replicate, keep each replicate's lowest-cost converged
    start. All ``n_boot x n_starts`` fits are items of one ``fit_batch`` call (a resample is
    integer weights on shared data). Replicates are fitted in the decay-rate form
    (``1/R*``, bounded below by 0) from every distinct optimum of the point fit plus two
    corners of the paper's grid (the C++ model, stage-1 constants held: 1,000 replicates of
    the 182 runs, 7 starts each, take 2.9 s on two cores, 0.4 ms a fit; the pure-numpy
    custom-model path this replaced took 12.3 s for 5 starts each, 2.5 ms a fit). Several
    starts per replicate are why this is not ``scalingfit.bootstrap``, which warm-starts each
    replicate from the point fit only.

    Its percentile intervals covered ``R_D*`` 0.915-0.92 and ``R_N*`` 0.94-0.95 of a nominal
    95% on data simulated from :data:`MUENNIGHOFF_2023` at the paper's 182 runs (1% noise,
    150-200 data sets, 300 replicates each), where the Wald intervals from
    :func:`fit_data_constrained`'s ``cov`` covered 0.75-0.77.

    Parameters
    ----------
    N, D, U, loss : array_like
        Each run's parameters, tokens trained on, unique tokens and final loss (>= 2 runs).
    base : DataConstrainedLaw
        Supplies the stage-1 constants, held in every replicate.
    n_boot : int
        Replicates (>= 2).
    seed : int
        Seed of the run resampling.
    level : float in (0, 1)
        Default confidence level of the result's intervals.
    starts : array_like, shape (k, 2), optional
        ``(R_D*, R_N*)`` starts of the point fit (as for :func:`fit_data_constrained`); the
        replicates start from its distinct optima and two corners of the paper's grid.
    delta : float
        The Huber threshold on log residuals (see :func:`huber_log_objective`).
    """
    from ..bootstrap import _check_level, generator

    n_boot = _validate.integer("n_boot", n_boot, least=2)
    _check_level(level)
    rng = generator(seed)
    x, y = _as_inputs(N, D, U, loss)
    point = _fit_stage2(x[:, 0], x[:, 1], x[:, 2], y, base, starts=starts, delta=delta, rival=False)
    if not point.optima:
        raise ValueError(
            f"no start of the point fit converged ({point.fit.message}): nothing to bootstrap from"
        )
    n = y.size
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
    P0s = _inverse(np.vstack([[[o.R_D, o.R_N] for o in point.optima], PAPER_STARTS[[0, -1]]]))
    k = P0s.shape[0]
    res = _stage2_batch(
        base,
        np.tile(x, (n_boot, 1)),
        np.tile(y, n_boot),
        np.arange(n_boot + 1, dtype=np.int64) * n,
        np.tile(P0s, (n_boot, 1)),
        np.repeat(np.arange(n_boot, dtype=np.int64), k),
        delta=delta,
        weights=counts.ravel(),
        compute_cov=False,
    )
    best = res.best_index()
    ok = res.success[best]
    rates = np.where(ok[:, None], res.x[best, 5:7], np.nan)
    good = _inverse(rates[ok])
    laws = base.with_decay(good[:, 0].copy(), good[:, 1].copy())
    return DataConstrainedBootstrap(point=point, rates=rates, laws=laws, seed=seed, level=level)


@_validate.suggest_argument_names
def simulate_data_constrained(
    law: DataConstrainedLaw,
    N: ArrayLike,
    D: ArrayLike,
    U: ArrayLike,
    *,
    noise: float = 0.0,
    seed: int = 0,
) -> FloatArray:
    """Losses from ``law`` at the given runs, times ``exp(noise * eps)``, ``eps ~ N(0, 1)``
    (multiplicative noise, the scale the log-residual fit works in)."""
    law = as_data_constrained_law(law)
    noise = float(_validate.nonnegative("noise", noise, scalar=True))
    pred = law.loss(N, D, U)
    if noise == 0.0:
        return pred
    eps = np.random.default_rng(seed).standard_normal(pred.shape)
    return np.asarray(pred * np.exp(noise * eps))


# ------------------------------------------------------------------ planning with the law
def law_shape(law: DataConstrainedLaw) -> tuple[int, ...]:
    """Broadcast shape of the law's fields (``()`` for a point law)."""
    fields = (law.E, law.A, law.B, law.alpha, law.beta, law.R_D, law.R_N)
    return tuple(np.broadcast_shapes(*(np.shape(v) for v in fields)))


#: Losses within this many units in the last place of the minimum are equal to rounding.
FLAT_ULPS = 4.0
#: An optimum whose range of equally good sizes (``N_high / N_low``) is wider than
#: ``1 + PLATEAU_RTOL`` is not unique: :func:`optimal_allocation_constrained` warns.
PLATEAU_RTOL = 1e-2


@dataclass(frozen=True, eq=False)
class ConstrainedOptimum:
    """The loss-minimising allocation of compute ``C`` given ``U`` unique tokens.

    ``N, D, epochs (= D / U), loss`` are the data-constrained optimum; ``chinchilla_N,
    chinchilla_D, chinchilla_loss`` the unconstrained one (unlimited unique data) at the same
    compute; ``loss_penalty`` the difference.

    ``N_low, N_high`` (and ``epochs_low, epochs_high``, the epochs of ``N_high`` and ``N_low``)
    bound the sizes whose loss equals the minimum to rounding (within :data:`FLAT_ULPS` units
    in the last place), within the search range of ``N``. Around a unique optimum they agree
    with ``N`` to about 1e-6. Once repetition has stopped paying (``exp(-R_D / R_D*)`` and
    ``exp(-R_N / R_N*)`` below float64 resolution: hundreds of epochs with the published
    constants, a few with a small ``R_D*``) the loss is flat over a range of sizes, every one
    of them is optimal, and ``N`` is just one of them (``plateau``). ``wall_epochs`` is what
    :func:`scalingfit.planning.epochs_wall_compute` solves for.
    """

    C: FloatArray
    U: FloatArray
    N: FloatArray
    D: FloatArray
    epochs: FloatArray
    loss: FloatArray
    chinchilla_N: FloatArray
    chinchilla_D: FloatArray
    chinchilla_loss: FloatArray
    N_low: FloatArray
    N_high: FloatArray
    epochs_low: FloatArray
    epochs_high: FloatArray

    @property
    def loss_penalty(self) -> FloatArray:
        """``loss - chinchilla_loss``: what the limited unique data cost at this compute."""
        return np.asarray(self.loss - self.chinchilla_loss)

    @property
    def plateau(self) -> NDArray[np.bool_]:
        """Where the optimum is not unique: ``N_high / N_low > 1 + PLATEAU_RTOL``."""
        return np.asarray(self.N_high > self.N_low * (1.0 + PLATEAU_RTOL))

    @property
    def wall_epochs(self) -> FloatArray:
        """The most epochs among the optimal allocations: ``epochs`` where the optimum is
        unique, ``epochs_high`` on a plateau (defined there, unlike one point of the range)."""
        return np.asarray(np.where(self.plateau, self.epochs_high, self.epochs))

    def __repr__(self) -> str:
        flat = self.plateau
        note = (f"; not unique at {int(flat.sum())} of {flat.size} (every N in N_low..N_high "
                "is optimal)" if flat.any() else "")
        names = ("C", "U", "N", "D", "epochs", "loss", "chinchilla_N", "chinchilla_D",
                 "chinchilla_loss", "loss_penalty", "N_low", "N_high", "epochs_low", "epochs_high")
        return quantities_repr(
            "ConstrainedOptimum (Muennighoff et al. 2023): the loss-minimising N, D at compute C "
            f"with U unique tokens, vs chinchilla_* (unlimited unique data){note}",
            [(k, getattr(self, k)) for k in names],
        )


def _finite_positive(a: FloatArray, b: FloatArray) -> bool:
    """Whether every value of ``a`` and ``b`` is finite and > 0 (what ``check_positive``
    accepts; NaN is not)."""
    return bool(((a > 0) & (a < np.inf) & (b > 0) & (b < np.inf)).all())


def _allocation(
    cc: FloatArray, uu: FloatArray, law: DataConstrainedLaw, flops_per_token: float
) -> tuple[Any, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``min_N L(N, C / (6N), U)`` on ``log N`` in ``[log(N_chinchilla / 1e4),
    log(N_chinchilla * 1e2)]``: ``(f, lo, hi, t, f_min, N_chinchilla, D_chinchilla)`` with
    ``f`` the loss as a function of ``t = log N`` (shape ``S + (k,)``), ``t`` the minimiser."""
    chin = law.chinchilla
    Nc, Dc = chin.optimal_allocation(cc, flops_per_token)
    c6 = cc / flops_per_token
    lw = DataConstrainedLaw(
        *(
            np.asarray(v)[..., None]
            for v in (law.E, law.A, law.B, law.alpha, law.beta, law.R_D, law.R_N)
        )
    )

    # C and U were checked on entry, the law by as_data_constrained_law, and the shapes below:
    # f evaluates lw.loss without checking N, D, U again on every call, as long as N and D
    # are finite and > 0 (else lw.loss itself, which names the bad value)
    lw_chin = lw.chinchilla
    with np.errstate(all="ignore"):  # as where f computed them (inside the searches)
        G, n_exp = lw_chin.G, lw_chin.beta / lw_chin.alpha
    c6_, u_ = c6[..., None], uu[..., None]

    n_opt = functools.partial(d_to_n, G, n_exp)  # lw_chin.optimal_n_for_data, unchecked

    def f(t: FloatArray) -> FloatArray:
        n = np.exp(t)
        d = c6_ / n
        if not _finite_positive(n, d):
            return lw.loss(n, d, u_)
        return lw._loss(n, d, u_, n_opt)

    full = _validate.broadcast(C=cc, U=uu, **{"the law (its replicates)": np.empty(law_shape(law))})
    lo = np.broadcast_to(np.log(Nc) - np.log(1e4), full)
    hi = np.broadcast_to(np.log(Nc) + np.log(1e2), full)
    t, fmin = minimize_scalar(f, lo, hi)
    return f, lo, hi, t, fmin, Nc, Dc


def _flat_edge(f: Any, t: FloatArray, fmin: FloatArray, bound: FloatArray) -> FloatArray:
    """The end, towards ``bound``, of the range of ``t`` around the minimiser over which
    ``f`` equals ``fmin`` to rounding (``<= fmin + FLAT_ULPS`` ulps): bisection between ``t``
    (inside) and ``bound`` (returned when it is inside too)."""
    tol = FLAT_ULPS * np.spacing(np.abs(fmin))

    def inside(x: FloatArray) -> NDArray[np.bool_]:
        with np.errstate(all="ignore"):
            v = f(x[..., None])[..., 0]
            return np.asarray(np.isfinite(v) & (v <= fmin + tol))

    a = np.array(np.broadcast_to(t, np.shape(fmin)), dtype=np.float64)
    b = np.array(np.broadcast_to(bound, a.shape), dtype=np.float64)
    whole = inside(b)
    for _ in range(64):
        m = 0.5 * (a + b)
        if np.all((m == a) | (m == b)):
            break
        ins = inside(m)
        a = np.where(ins, m, a)
        b = np.where(ins, b, m)
    return np.asarray(np.where(whole, b, a))


@_validate.suggest_argument_names
def optimal_allocation_constrained(
    C: ArrayLike,
    U: ArrayLike,
    law: LawLike = MUENNIGHOFF_2023,
    *,
    flops_per_token: float = 6.0,
    warn: bool = True,
) -> ConstrainedOptimum:
    """Model size, tokens and epochs minimising the data-constrained loss at compute ``C``
    with ``U`` unique tokens: ``min_N L(N, C / (6N), U)``, solved on a grid in ``log N``
    (``N_chinchilla / 1e4 .. N_chinchilla * 1e2``) refined by golden-section search.

    ``C``, ``U`` and the law's fields broadcast together (numpy rules): for a grid of
    budgets times bootstrap replicates pass ``C[:, None]`` with a law of shape ``(n_boot,)``.
    ``law`` is a :class:`DataConstrainedLaw` or a mapping with its seven fields (see
    :func:`scalingfit.planning.data_constrained.as_data_constrained_law`; a Chinchilla law alone is a TypeError).

    The optimum need not be unique: once repeating data and adding parameters have stopped
    paying, the loss is flat to rounding over a range of sizes (see
    :class:`ConstrainedOptimum`). ``N_low .. N_high`` and ``epochs_low .. epochs_high`` give
    that range; with ``warn`` (default) a :class:`~scalingfit.DataWarning` names the first
    budget whose range is wider than ``1 + PLATEAU_RTOL`` in ``N``.

    A ``U`` so small beside the optimum's tokens that the epochs ``D / U`` pass float64's
    range (``C = 1e23, U = 1e-300``) is a ValueError naming ``C`` and ``U``.
    """
    warn = _validate.flag("warn", warn)
    cc = check_positive("C", C)
    uu = check_positive("U", U)
    law = as_data_constrained_law(law)
    check_positive("flops_per_token", flops_per_token, scalar=True)
    f, lo, hi, t, fmin, Nc, Dc = _allocation(cc, uu, law, flops_per_token)
    N = np.exp(t)
    c6 = cc / flops_per_token
    D = c6 / N
    N_low = np.exp(_flat_edge(f, t, fmin, lo))
    N_high = np.exp(_flat_edge(f, t, fmin, hi))
    shape = np.broadcast_shapes(N.shape, np.shape(Nc), np.shape(uu))
    with np.errstate(over="ignore"):  # D / U: a stock U tiny beside D gives epochs past float64
        epochs, epochs_high = D / uu, c6 / N_low / uu
    for v in (epochs, epochs_high):
        _validate.check_computed(v, "the epochs D / U", {"C": cc, "U": uu},
                                 "U must be larger (a stock of unique tokens)")

    def bc(v: ArrayLike) -> FloatArray:
        return broadcast_copy(v, shape)

    out = ConstrainedOptimum(
        C=bc(cc),
        U=bc(uu),
        N=bc(N),
        D=bc(D),
        epochs=bc(epochs),
        loss=bc(fmin),
        chinchilla_N=bc(Nc),
        chinchilla_D=bc(Dc),
        chinchilla_loss=bc(law.chinchilla.loss(Nc, Dc)),
        N_low=bc(N_low),
        N_high=bc(N_high),
        epochs_low=bc(c6 / N_high / uu),
        epochs_high=bc(epochs_high),
    )
    flat = out.plateau
    if warn and flat.any():
        i = tuple(int(j) for j in np.argwhere(flat)[0])
        at = f" at index {', '.join(map(str, i))}" if i else ""
        _warnings.warn(
            f"optimal_allocation_constrained: the optimum is not unique at {int(flat.sum())} "
            f"point(s), the first{at} (C = {float(out.C[i]):.4g}, U = {float(out.U[i]):.4g}): "
            f"the loss {float(out.loss[i])!r} is the same to rounding for every N in "
            f"[{float(out.N_low[i]):.4g}, {float(out.N_high[i]):.4g}], epochs in "
            f"[{float(out.epochs_low[i]):.4g}, {float(out.epochs_high[i]):.4g}] (repetition "
            "no longer changes the loss); N, D and epochs are one point of that range",
            DataWarning,
            stacklevel=2,
        )
    return out


@dataclass(frozen=True, eq=False)
class RepetitionCost:
    """What repeating data costs: the same ``N`` and ``D`` trained on ``D / epochs`` unique
    tokens instead of ``D`` unique ones.

    ``effective_fraction`` is ``D' / D``: the share of the repeated tokens' value, relative to
    fresh ones; ``delta`` is the loss increase, ``relative`` that over the unique-data loss.
    """

    epochs: FloatArray
    N: FloatArray
    D: FloatArray
    loss_repeated: FloatArray
    loss_unique: FloatArray
    effective_fraction: FloatArray

    @property
    def delta(self) -> FloatArray:
        """``loss_repeated - loss_unique``: the loss increase."""
        return np.asarray(self.loss_repeated - self.loss_unique)

    @property
    def relative(self) -> FloatArray:
        """``delta / loss_unique``: the increase relative to the unique-data loss."""
        return np.asarray(self.delta / self.loss_unique)

    def __repr__(self) -> str:
        names = ("epochs", "N", "D", "loss_repeated", "loss_unique", "delta", "relative",
                 "effective_fraction")
        return quantities_repr(
            "RepetitionCost (Muennighoff et al. 2023): N, D trained on D / epochs unique tokens "
            "vs on D unique ones",
            [(k, getattr(self, k)) for k in names],
        )


@_validate.suggest_argument_names
def repetition_cost(
    epochs: ArrayLike,
    law: LawLike = MUENNIGHOFF_2023,
    *,
    C: Optional[ArrayLike] = None,
    N: Optional[ArrayLike] = None,
    D: Optional[ArrayLike] = None,
    flops_per_token: float = 6.0,
) -> RepetitionCost:
    """Loss cost of repeating the data ``epochs`` times.

    Give either ``C`` (the model is the Chinchilla-optimal ``(N, D)`` for that compute) or
    ``N`` and ``D``. Compares ``L(N, D, U = D / epochs)`` with ``L(N, D, U = D)``. Inputs and
    the law's fields broadcast together (numpy rules). ``epochs`` must be finite and >= 1
    (a ValueError names the first that is not).
    """
    ep = check_epochs(epochs)
    law = as_data_constrained_law(law)
    check_positive("flops_per_token", flops_per_token, scalar=True)
    if C is not None:
        if N is not None or D is not None:
            raise ValueError("give either C or (N, D), not both")
        n, d = law.chinchilla.optimal_allocation(check_positive("C", C), flops_per_token)
    else:
        if N is None or D is None:
            raise ValueError("repetition_cost needs C, or both N and D")
        n, d = check_positive("N", N), check_positive("D", D)
    _validate.broadcast(epochs=ep, N=n, D=d, **{"the law (its replicates)": np.empty(law_shape(law))})
    ee = ep
    rep = law.loss(n, d, d / ee)
    uni = law.loss(n, d, d)
    shape = np.broadcast_shapes(rep.shape, uni.shape)

    def bc(v: ArrayLike) -> FloatArray:
        return broadcast_copy(v, shape)

    return RepetitionCost(
        epochs=bc(ee),
        N=bc(n),
        D=bc(d),
        loss_repeated=bc(rep),
        loss_unique=bc(uni),
        effective_fraction=bc(law.effective_data(d, d / ee) / d),
    )


# ------------------------------------------------------------------ the data set
def load_muennighoff2023(path: PathLike, *, which: str = "fit") -> dict[str, Any]:
    """The datablations runs: ``which="fit"`` the 182 runs of the published fit, ``"all"`` the
    296 rows before outlier removal. ``path`` is the data folder or the CSV itself.

    Returns ``{"name": list, "N", "D", "U", "loss": ndarray}``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    scalingfit.data.RunDataError
        (a ValueError) naming the file, the column and the row: an unreadable or empty file, a
        missing column (``name, N_params, D_tokens, U_unique_tokens, val_loss``), a cell that
        is not a finite number > 0.
    """
    files = {"fit": "datablations_fit_runs.csv", "all": "datablations_all_runs.csv"}
    if which not in files:
        raise ValueError(f"which must be 'fit' or 'all', got {which!r}")
    numbers = ("N_params", "D_tokens", "U_unique_tokens", "val_loss")
    cols = read_csv_columns(resolve_file(Path(path), files[which]), ("name", *numbers))

    def f(k: str) -> FloatArray:
        return numeric(cols, k, positive=True)

    return {
        "name": cols["name"],
        "N": f("N_params"),
        "D": f("D_tokens"),
        "U": f("U_unique_tokens"),
        "loss": f("val_loss"),
    }
