"""Chinchilla scaling: Hoffmann et al. (2022) approaches 1, 2 and 3, done the careful way.

The law is ``L(N, D) = E + A / N^alpha + B / D^beta`` (N parameters, D training tokens).

* **Approach 3** (:func:`fit_parametric`): fit the law to (N, D, loss) points with a Huber
  loss on log residuals, summed over points, in the log-sum-exp parametrisation
  (``a = log A, b = log B, e = log E``), from Hoffmann's grid of 4,500 starts solved as one
  batch call; the best start is kept and the spread of the starts that reach it is reported.
  A second, independent solver (variable projection over ``(alpha, beta)``) is available and
  checked against the first. With Epoch AI's data and procedure this reproduces the best
  fit of Epoch AI's replication notebook (Besiroglu et al. 2024, the grid's best L-BFGS-B
  start): E = 1.8172, A = 477.84, B = 2143.86, alpha = 0.34731, beta = 0.36718, to 2e-4
  relative (the paper's headline estimate, from BFGS on a Huber likelihood, is E = 1.817,
  A = 482.01, B = 2085.43, alpha = 0.3478, beta = 0.3659: `scalingfit reproduce` compares
  them).
* **Approach 1** (:func:`fit_envelope`): the lower envelope of training curves over compute;
  the size attaining it at each compute gives ``N_opt ∝ C^a``.
* **Approach 2** (:func:`fit_isoflop`; :func:`fit_optima` for optima found otherwise): one parabola in ``log N`` per compute budget (IsoFLOP
  profile), fitted on a window of sizes around the budget's minimum; the minima give
  ``N_opt ∝ C^a``; a bootstrap of the whole procedure gives an interval on ``a``; sweeps whose
  minimum is off-centre or outside the sampled range are flagged (:class:`DataWarning`).

Compute-optimal allocation under a fitted law lives in :mod:`scalingfit.allocation`; synthetic
sweeps for tests and demos in :mod:`scalingfit.simulate`.

>>> from scalingfit import chinchilla
>>> law = chinchilla.HOFFMANN_2022
>>> round(law.n_opt_exponent, 4)
0.4516
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate, _warnings
from ._fit import DEFAULT_FTOL, DEFAULT_GTOL, DEFAULT_MAX_ITER, DEFAULT_XTOL, fit_batch
from ._optimal import checked_sizes
from ._warnings import ConvergenceWarning, DataWarning, IdentifiabilityWarning
from .models import LOSSES
from .results import BatchResult, FitResult

if TYPE_CHECKING:  # pragma: no cover
    from .bootstrap import BootstrapResult

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

__all__ = [
    "DEFAULT_SCAN_WINDOWS",
    "EPOCH_2024",
    "EPOCH_2024_GRID",
    "HOFFMANN_2022",
    "HOFFMANN_2022_UNROUNDED",
    "ChinchillaLaw",
    "EnvelopeFit",
    "IsoflopFit",
    "OptimaFit",
    "ParametricFit",
    "SolverOutcome",
    "as_law",
    "fit_envelope",
    "fit_isoflop",
    "fit_optima",
    "fit_parametric",
    "hoffmann_grid",
    "huber_objective",
]


# ============================================================================ the law
@dataclass(frozen=True)
class ChinchillaLaw:
    """``L(N, D) = E + A / N^alpha + B / D^beta``.

    Attributes
    ----------
    E, A, B, alpha, beta : float

    The compute-optimal frontier under ``C = 6 N D`` (Hoffmann et al., eq. 4) is
    ``N_opt = G (C/6)^a``, ``D_opt = G^-1 (C/6)^b`` with ``a = beta / (alpha + beta)``,
    ``b = alpha / (alpha + beta)`` and ``G = (alpha A / (beta B))^(1 / (alpha + beta))``.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, N: ArrayLike, D: ArrayLike) -> FloatArray:
        """Predicted loss at N parameters and D tokens (broadcasts).

        Parameters
        ----------
        N : array_like
            Parameters (finite, > 0).
        D : array_like
            Training tokens (finite, > 0); broadcast with ``N``.
        """
        n = _validate.positive("N", N)
        d = _validate.positive("D", D)
        return np.asarray(self.E + self.A * n**-self.alpha + self.B * d**-self.beta)

    @property
    def n_opt_exponent(self) -> float:
        """``a`` in ``N_opt ∝ C^a``: ``beta / (alpha + beta)``."""
        return self.beta / (self.alpha + self.beta)

    @property
    def d_opt_exponent(self) -> float:
        """``b`` in ``D_opt ∝ C^b``: ``alpha / (alpha + beta)``."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        """``(alpha A / (beta B))^(1 / (alpha + beta))``; inf where it overflows float64 (a
        small ``alpha + beta``), not Python's OverflowError."""
        with np.errstate(over="ignore"):
            return float(np.float64(self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta)))

    def optimal_allocation(self, C: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(N_opt, D_opt)`` minimising the law on ``6 N D = C`` (closed form); a ValueError
        unless ``A, B, alpha, beta`` are finite and > 0.

        Parameters
        ----------
        C : array_like
            Training compute in FLOP (finite, > 0).
        """
        for name in ("A", "B", "alpha", "beta"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"a compute-optimal allocation needs {name} finite and > 0; this law has {name} = {v!r}")
        Ca = np.asarray(C, dtype=np.float64)
        _validate.check_finite(Ca, "C")
        _validate.check_positive(Ca, "C", "a compute budget in FLOP")
        N, D = checked_sizes(self.A, self.B, self.alpha, self.beta, Ca)
        return np.asarray(N), np.asarray(D)

    def log_params(self) -> FloatArray:
        """``(a, b, e, alpha, beta) = (log A, log B, log E, alpha, beta)``: the parameter order
        of the core's ``chinchilla_lse`` model."""
        return np.array([np.log(self.A), np.log(self.B), np.log(self.E), self.alpha, self.beta])

    @classmethod
    def from_log_params(cls, p: ArrayLike) -> ChinchillaLaw:
        """From ``(a, b, e, alpha, beta)`` (``chinchilla_lse`` order).

        Parameters
        ----------
        p : array_like (5,)
            ``log A, log B, log E, alpha, beta`` (any shape of 5 values, read flattened).
        """
        a, b, e, al, be = (float(v) for v in np.asarray(p, dtype=np.float64).ravel())
        return cls(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)), alpha=al, beta=be)

    def as_dict(self) -> dict[str, float]:
        """``{E, A, B, alpha, beta}`` as floats."""
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}


#: Hoffmann et al. (2022), eq. 10, as printed (rounded).
HOFFMANN_2022 = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
#: Hoffmann et al.'s unrounded values, as used by Epoch AI (``true_params`` in their notebook).
HOFFMANN_2022_UNROUNDED = ChinchillaLaw.from_log_params(
    [6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083]
)
#: Besiroglu et al. (2024, Epoch AI), the paper's point estimate on the 240 points of Fig. 4.
EPOCH_2024 = ChinchillaLaw.from_log_params([6.17796, 7.64273, 0.59711, 0.34781, 0.36585])
#: Epoch AI's best start of the Hoffmann grid (L-BFGS-B, Huber sum 1.01827e-3).
EPOCH_2024_GRID = ChinchillaLaw.from_log_params([6.1693, 7.6704, 0.5973, 0.34731, 0.36718])

_LAW_NAMES = ("E", "A", "B", "alpha", "beta")
_LOG_NAMES = ("a", "b", "e", "alpha", "beta")  # E = e^e, A = e^a, B = e^b


def _law_value(key: str, value: Any) -> float:
    """One parameter of a mapping: a number (text, None or an array is a TypeError naming
    it); finiteness and signs are checked on the law."""
    try:
        return float(_validate.finite(f"params[{key!r}]", value, scalar=True))
    except ValueError:  # not finite: named by as_law's own check
        return float(value)


# Models whose fit is a ChinchillaLaw: their parameters by name (chinchilla_lse's in logs,
# which as_law reads; chinchilla_tied's one exponent is both alpha and beta).
_CHINCHILLA_MODELS = ("chinchilla", "chinchilla_lse", "chinchilla_tied")


def _fit_params(fit: FitResult, name: str) -> dict[str, float]:
    """The parameters of a fit of a Chinchilla-form model (:data:`_CHINCHILLA_MODELS`) by name,
    ``beta = alpha`` for the tied law; a ValueError naming ``name`` for another model's fit or
    a failed one."""
    if fit.model not in _CHINCHILLA_MODELS:
        raise ValueError(f"{name}: a fit of {fit.model!r} is not a Chinchilla law; give a fit of "
                         f"{', '.join(map(repr, _CHINCHILLA_MODELS))}, a ChinchillaLaw or a "
                         "mapping of E, A, B, alpha, beta")
    if not fit.success:
        raise ValueError(f"{name}: the fit of {fit.model!r} failed ({fit.message}); its "
                         "parameters are not a law")
    params = fit.params
    if fit.model == "chinchilla_tied":
        params["beta"] = params["alpha"]
    return params


#: What :func:`as_law` takes, for its messages.
_LAW_INPUTS = (
    "a ChinchillaLaw, an approach-3 fit (fit_parametric's result, or scalingfit.fit of "
    f"{', '.join(map(repr, _CHINCHILLA_MODELS))}, or a bootstrap of one), a mapping of E, A, B, "
    "alpha, beta (or a, b, e, alpha, beta in logs) or a sequence (E, A, B, alpha, beta)"
)


def _not_a_law(params: Any, name: str) -> str:
    """Why a compute-optimal fit (approach 1 or 2, or :func:`fit_optima`'s) is not a law, and
    how to read its allocation instead."""
    if isinstance(params, IsoflopFit):
        what, gives = "an approach-2 (fit_isoflop)", "(N_opt, D_opt)"
    elif isinstance(params, EnvelopeFit):
        what, gives = "an approach-1 (fit_envelope)", "(N_opt, D_opt)"
    else:
        what, gives = "a fit_optima", "N_opt (and D_opt = C / (6 N_opt))"
    return (
        f"{name} must be a Chinchilla law, got an {type(params).__name__}: {what} fit is the "
        f"power law N_opt = G_N C^a (a = {params.a:.4g}) through compute-optimal sizes and has "
        "no (E, A, B, alpha, beta), so no loss to minimise; for its allocation at compute C use "
        f"fit.predict(C), which gives {gives}; for a law, fit approach 3: "
        f"chinchilla.fit_parametric(N, D, loss). {name} takes {_LAW_INPUTS}"
    )


def as_law(params: Any, *, name: str = "params") -> ChinchillaLaw:
    """A :class:`ChinchillaLaw` from a law, a fit result (a :class:`~scalingfit.FitResult` of
    ``chinchilla``, ``chinchilla_lse`` or ``chinchilla_tied``, a bootstrap of one (its point
    fit), anything with ``.law`` or with attributes ``E, A, B, alpha, beta``), a mapping with
    keys ``E, A, B, alpha, beta`` (or ``a, b, e, alpha, beta`` in logs), or a sequence
    ``(E, A, B, alpha, beta)``. ``name`` is the caller's argument, for messages about fits.

    Raises ``ValueError`` unless every value is finite and ``A, B, alpha, beta > 0``, when
    a mapping has keys beyond one of those two sets (a misspelt key was ignored), or for a fit
    of another model or a failed fit; ``TypeError`` listing what it takes for anything else,
    e.g. an approach-1 or -2 fit (:class:`EnvelopeFit`, :class:`IsoflopFit`,
    :class:`OptimaFit`: a power law ``N_opt ∝ C^a`` without ``E, A, B, alpha, beta``; the
    message says how to read its own allocation, ``fit.predict(C)``).

    Parameters
    ----------
    params : ChinchillaLaw, FitResult, BootstrapResult, mapping or sequence
        The law, in any of the forms above.
    name : str
        The caller's name for ``params``, used in messages; default ``"params"``.
    """
    law: ChinchillaLaw
    fit = params if isinstance(params, FitResult) else getattr(params, "fit", None)
    if isinstance(fit, FitResult):  # a fit, or a bootstrap's point fit
        params = _fit_params(fit, name)
    if isinstance(params, ChinchillaLaw):
        law = params
    elif isinstance(getattr(params, "law", None), ChinchillaLaw):
        law = params.law
    elif isinstance(params, Mapping):
        keys = next((ks for ks in (_LAW_NAMES, _LOG_NAMES) if all(k in params for k in ks)), None)
        if keys is None:
            raise ValueError(
                "params must have keys E, A, B, alpha, beta (or a, b, e, alpha, beta); "
                f"got {sorted(map(str, params))}"
            )
        extra = [k for k in params if k not in keys]
        if extra:  # a misspelt or foreign key was ignored
            raise ValueError(
                f"params has unknown key(s) {', '.join(map(repr, extra))}: a law takes exactly "
                f"{', '.join(keys)}" + (" (or a, b, e, alpha, beta in logs)" if keys is _LAW_NAMES
                                        else " (or E, A, B, alpha, beta)")
            )
        vals = [_law_value(k, params[k]) for k in keys]
        law = ChinchillaLaw(*vals) if keys is _LAW_NAMES else ChinchillaLaw.from_log_params(vals)
    elif all(hasattr(params, k) for k in _LAW_NAMES):
        law = ChinchillaLaw(*(float(getattr(params, k)) for k in _LAW_NAMES))
    elif isinstance(params, (IsoflopFit, EnvelopeFit, OptimaFit)):
        raise TypeError(_not_a_law(params, name))
    else:
        try:
            arr = _validate.as_float_array(params, name).ravel()
        except TypeError as exc:
            raise TypeError(f"{exc}; {name} takes {_LAW_INPUTS}") from None
        if arr.shape != (5,):
            raise ValueError(
                f"params must have 5 entries (E, A, B, alpha, beta), got shape {np.shape(params)}"
            )
        law = ChinchillaLaw(*(float(v) for v in arr))
    for k in _LAW_NAMES:
        v = getattr(law, k)
        if not np.isfinite(v):
            raise ValueError(f"params: {k} must be finite, got {v!r}")
        if k != "E" and not v > 0:
            raise ValueError(f"params: {k} must be > 0, got {v!r}")
    return law


# ============================================================================ input checks
_LOG_WHY = "it enters the law through its logarithm"  # why N, D, loss (and C) must be > 0


# ============================================================================ approach 3
def hoffmann_grid() -> FloatArray:
    """Hoffmann et al.'s initialisation grid, as replicated by Epoch AI: alpha, beta in
    {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}; 4,500 starts, in
    Epoch's loop order, as rows ``(a, b, e, alpha, beta)`` (the ``chinchilla_lse`` order)."""
    ab = np.arange(0.0, 2.5, 0.5)
    e = np.arange(-1.0, 1.5, 0.5)
    ls = np.arange(0.0, 30.0, 5.0)
    rows = [(a, b, ee, al, be) for al, be, ee, a, b in itertools.product(ab, ab, e, ls, ls)]
    return np.ascontiguousarray(np.array(rows, dtype=np.float64))


def huber_objective(
    params: Any, N: ArrayLike, D: ArrayLike, loss: ArrayLike, delta: float = 1e-3
) -> float:
    """Epoch AI's objective, computed independently of the core: ``sum_i h(log L_hat_i -
    log L_i)`` with ``h(r) = r^2 / 2`` for ``|r| <= delta`` and ``delta (|r| - delta / 2)``
    beyond (``scipy.special.huber(delta, r)``). With ``loss_fn="huber", f_scale=delta`` the
    core's cost ``1/2 sum delta^2 rho(r^2 / delta^2)`` is exactly this sum.

    Parameters
    ----------
    params : ChinchillaLaw, mapping, sequence or fit
        The law, anything :func:`as_law` takes.
    N, D : array_like
        Parameters and training tokens of each run (finite, > 0).
    loss : array_like
        Observed loss of each run (finite, > 0); ``N``, ``D`` and ``loss`` of one shape.
    delta : float
        The Huber threshold in log-loss units (> 0); default 1e-3, Epoch AI's.
    """
    law = as_law(params)
    n, d, lv = (_validate.finite(name, v) for name, v in (("N", N), ("D", D), ("loss", loss)))
    for name, v in (("N", n), ("D", d), ("loss", lv)):
        if v.shape != n.shape:
            raise ValueError(f"{name} has shape {v.shape}; N has {n.shape}")
        _validate.check_positive(v, name, "the objective is in log space")
    delta = _validate.positive_number(delta, "delta")
    y = np.log(lv)
    u = np.stack(
        [
            np.log(law.A) - law.alpha * np.log(n),
            np.log(law.B) - law.beta * np.log(d),
            np.full(n.shape, np.log(law.E)),
        ]
    )
    m = u.max(axis=0)
    r = m + np.log(np.exp(u - m).sum(axis=0)) - y
    ar = np.abs(r)
    h = np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta))
    return float(h.sum())


@dataclass(frozen=True)
class SolverOutcome:
    """What one solver found: its law, objective and whether it converged.

    Attributes
    ----------
    solver : {"lm", "varpro"}
        The solver.
    law : ChinchillaLaw
        The law it found.
    objective : float
        Its objective there, in the units of :attr:`ParametricFit.objective` (inf when
        variable projection found no finite value).
    success : bool
        Whether it converged (LM: its best start; variable projection: the inner fit at the
        best ``(alpha, beta)``, status > 0 or -2, with a finite objective).
    detail : str
        How it got there, in words (starts converged; the profile grid and zoom levels).
    """

    solver: str
    law: ChinchillaLaw
    objective: float
    success: bool
    detail: str = ""


@dataclass(frozen=True, eq=False)
class ParametricFit:
    """Approach 3: the fitted law and how reliably the starts found it.

    Attributes
    ----------
    E, A, B, alpha, beta : float
        The law.
    a, b, e : float
        ``log A, log B, log E`` (the ``chinchilla_lse`` parameters).
    objective : float
        The objective at the solution. For ``loss_fn="huber"`` this is in Epoch AI's units,
        ``sum_i huber_delta(log L_hat_i - log L_i)`` (see :func:`huber_objective`); for other
        losses it is the core's cost ``1/2 sum f_scale^2 rho(r^2 / f_scale^2)``.
    loss_fn, delta : str, float
    solver : str
        The solver whose parameters these are (``"lm"`` or ``"varpro"``; with
        ``solver="both"``, LM's when the two agree, else the one with the lower objective).
    status : int
        Core status of the winning LM start (``> 0`` converged); for variable projection,
        the status of the inner fit at the best ``(alpha, beta)``.
    n_points : int
        Points fitted.
    dropped : ndarray of int
        Input rows not fitted (``drop_highest`` and, with ``nan_policy="omit"``, NaN rows).
    n_starts, n_converged, n_best : int
        LM starts tried, converged (status > 0), and converged to within ``best_rtol`` of the
        best objective (0 when LM was not run).
    spread : dict
        ``max - min`` of each of E, A, B, alpha, beta over the ``n_best`` starts: how exactly
        the optimum is reproduced from different starts.
    outcomes : dict
        :class:`SolverOutcome` of every solver run, by name.
    agree : bool or None
        With ``solver="both"``: whether the two solvers found the same optimum (objectives
        within 1e-6 relative, or 1e-14 per point absolute, and log A, log B, log E, alpha,
        beta within 1e-3).
    batch : BatchResult or None
        Every LM start (parameters in ``chinchilla_lse`` order).
    bootstrap : BootstrapResult or None
        With ``n_resamples``: the bootstrap of the fitted points (``chinchilla_lse``'s
        parameters ``a, b, e, alpha, beta`` and the derived ``E, A, B, a_opt, b_opt``); see
        :meth:`interval`.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    a: float
    b: float
    e: float
    objective: float
    loss_fn: str
    delta: float
    solver: str
    status: int
    n_points: int
    dropped: IntArray
    n_starts: int
    n_converged: int
    n_best: int
    spread: dict[str, float]
    outcomes: dict[str, SolverOutcome]
    agree: Optional[bool] = None
    batch: Optional[BatchResult] = field(default=None, repr=False, compare=False)
    bootstrap: Optional[BootstrapResult] = field(default=None, repr=False, compare=False)

    def interval(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """The bootstrap interval of ``E``, ``A``, ``B``, ``alpha``, ``beta``, ``a_opt`` (N_opt
        ∝ C^a) or ``b_opt`` (or ``a``, ``b``, ``e``: log A, log B, log E), at the fit's level
        unless ``level`` is given; a fit without ``n_resamples`` has none (a ValueError).

        Parameters
        ----------
        name : str
            One of the names above.
        level : float, optional
            The interval's level, in (0, 1); None (default): the fit's.
        """
        if self.bootstrap is None:
            raise ValueError("this fit has no bootstrap: fit with n_resamples=1000 (say) for intervals")
        return self.bootstrap.ci(name, level=level)

    @property
    def law(self) -> ChinchillaLaw:
        """The fitted law as a :class:`ChinchillaLaw`."""
        return ChinchillaLaw(self.E, self.A, self.B, self.alpha, self.beta)

    @property
    def params(self) -> dict[str, float]:
        """``{E, A, B, alpha, beta}`` of the fit."""
        return self.law.as_dict()

    @property
    def n_opt_exponent(self) -> float:
        """``a = beta / (alpha + beta)`` in ``N_opt ∝ C^a``."""
        return self.law.n_opt_exponent

    @property
    def d_opt_exponent(self) -> float:
        """``b`` in ``D_opt ∝ C^b``."""
        return self.law.d_opt_exponent

    @property
    def success(self) -> bool:
        """Whether the best start converged."""
        return self.status > 0 or (self.solver == "varpro" and self.status == -2)

    def predict(self, N: ArrayLike, D: ArrayLike) -> FloatArray:
        """Predicted loss at N parameters and D tokens, as :meth:`ChinchillaLaw.loss`.

        Parameters
        ----------
        N : array_like
            Parameters (finite, > 0).
        D : array_like
            Training tokens (finite, > 0); broadcast with ``N``.
        """
        return self.law.loss(N, D)

    def __repr__(self) -> str:
        lines = [
            (
                f"ParametricFit(solver={self.solver!r}, loss_fn={self.loss_fn!r}, "
                f"delta={self.delta:g}, objective={self.objective:.6g}, n_points={self.n_points}, "
                f"dropped={self.dropped.size}, starts: {self.n_best} at best / "
                f"{self.n_converged} converged / {self.n_starts})"
            ),
        ]
        for k in _LAW_NAMES:
            spread = self.spread.get(k, np.nan)
            lines.append(f"  {k:<6} {getattr(self, k):>12.6g}   start spread {spread:.2g}")
        lines.append(f"  a = beta/(alpha+beta) = {self.n_opt_exponent:.4f}")
        if self.agree is not None:
            other = [f"{o.solver}: objective {o.objective:.8g}" for o in self.outcomes.values()]
            lines.append(f"  solvers {'agree' if self.agree else 'DISAGREE'} ({'; '.join(other)})")
        return "\n".join(lines)


def _drop_highest(loss: FloatArray, k: int) -> BoolArray:
    """Epoch's rule: keep ``loss < sorted(loss)[-k]`` (so ties with the k-th highest go too)."""
    try:
        k = _validate.integer("drop_highest", k)
    except ValueError:
        raise ValueError(f"drop_highest must be a non-negative integer, got {k!r}") from None
    if k == 0:
        return np.ones(loss.shape[0], dtype=bool)
    if k >= loss.shape[0]:
        raise ValueError(f"drop_highest={k} would drop all {loss.shape[0]} points")
    return np.asarray(loss < np.sort(loss)[-k])


def _starts(grid: Union[str, ArrayLike], N: FloatArray, D: FloatArray, L: FloatArray) -> FloatArray:
    if isinstance(grid, str):
        if grid == "hoffmann":
            return hoffmann_grid()
        if grid == "guess":
            from .models import get

            return get("chinchilla_lse").initial_guesses(np.column_stack([N, D]), L)
        raise ValueError(
            f"grid must be 'hoffmann', 'guess' or an (k, 5) array of starts, got {grid!r}"
        )
    arr = _validate.as_float_array(grid, "grid")
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != 5 or arr.shape[0] == 0:
        raise ValueError(
            f"grid must have 5 columns (a, b, e, alpha, beta) and at least one row, got shape {np.shape(grid)}"
        )
    _validate.check_finite(arr, "grid", ("a", "b", "e", "alpha", "beta"))
    return np.ascontiguousarray(arr)


@_validate.suggest_argument_names
def fit_parametric(
    N: ArrayLike,
    D: ArrayLike,
    loss: ArrayLike,
    *,
    loss_fn: str = "huber",
    delta: float = 1e-3,
    grid: Union[str, ArrayLike] = "hoffmann",
    drop_highest: int = 0,
    solver: str = "lm",
    nan_policy: str = "raise",
    best_rtol: float = 1e-6,
    max_iter: int = DEFAULT_MAX_ITER,
    ftol: float = DEFAULT_FTOL,
    xtol: float = DEFAULT_XTOL,
    gtol: float = DEFAULT_GTOL,
    threads: Optional[int] = None,
    n_resamples: int = 0,
    seed: int = 0,
    level: float = 0.95,
    ci_method: str = "percentile",
) -> ParametricFit:
    """Approach 3: fit ``L = E + A/N^alpha + B/D^beta`` to (N, D, loss) points.

    The objective is ``sum_i rho(log L_hat_i - log L_i)`` with ``rho`` the robust loss
    ``loss_fn`` at scale ``delta`` (Hoffmann et al.: Huber, delta = 1e-3), a sum and not a
    mean (Epoch AI: a mean makes quasi-Newton solvers stop early). The law is parametrised as
    ``log L_hat = LSE(a - alpha log N, b - beta log D, e)``.

    Parameters
    ----------
    N, D, loss : array_like
        Parameters, training tokens and final loss of each run (all > 0).
    loss_fn : {"huber", "linear", "soft_l1", "cauchy", "arctan"}
    delta : float
        Scale of the robust loss, in log-loss units.
    grid : "hoffmann", "guess" or array_like (k, 5)
        LM starts as rows ``(a, b, e, alpha, beta)``: Hoffmann's 4,500-point grid (default),
        the model's data-driven guesses, or your own; all solved in ONE batch call.
    drop_highest : int
        Drop the points with the k highest losses first (Epoch AI drop 5 on Hoffmann's
        Figure 4 data; their rule ``loss < sorted(loss)[-k]`` is used, so ties go too).
    solver : {"lm", "varpro", "both"}
        ``"lm"``: Levenberg–Marquardt from every start. ``"varpro"``: variable projection —
        for each ``(alpha, beta)`` on a grid, E, A, B >= 0 are fitted exactly under the same
        objective (one batch call; see Notes), then the grid is refined around the best
        basins. ``"both"``: run both and compare; if they disagree, warn
        (:class:`ConvergenceWarning`) and keep the lower objective.
    nan_policy : {"raise", "omit"}
        Rows with NaN/inf: raise, or drop with a :class:`DataWarning` naming them.
    best_rtol : float
        Relative tolerance (finite, >= 0) on the objective for a start to count as reaching
        the best.
    max_iter, ftol, xtol, gtol, threads :
        Options of the core solver.
    n_resamples : int
        Bootstrap resamples of the fitted points for intervals (0: none; Epoch AI's
        replication: the points resampled, percentile intervals). Each replicate is the same
        objective solved from the fit, in one batched call; see
        :meth:`ParametricFit.interval`. With the default ``delta = 1e-3`` on noisier data the
        intervals are conservative: on 30 runs (6 sizes x 5 ratios) at 1% noise they covered
        every parameter and ``a_opt`` 0.99 of the time at 95%, at 2% noise 0.97-0.99 (300
        simulations each, SE 0.013); with ``delta = 1e-2`` at 1% noise 0.94-0.97.
    seed, level, ci_method :
        Of the bootstrap (as :func:`scalingfit.bootstrap`'s ``seed``, ``level``, ``method``).

    Returns
    -------
    ParametricFit

    Notes
    -----
    Variable projection. For fixed ``(alpha, beta)`` the law is linear in ``(E, A, B)``, but
    the objective (robust loss of *log* residuals) is not a linear least-squares problem, so
    "solving E, A, B exactly" means a small bounded nonlinear fit. Every ``(alpha, beta)``
    node becomes one problem of one batch: its inputs are transformed to ``(N^alpha,
    D^beta)`` and the core's plain ``chinchilla`` model is fitted with ``alpha = beta = 1``
    pinned by bounds and ``E, A, B >= 0``, started from the exact non-negative least-squares
    solution of the linearised problem (relative residuals ``(L_hat - L) / L``). The profile
    ``P(alpha, beta) = min_{E,A,B >= 0} objective`` is scanned on a 45 x 45 grid over
    ``[0.02, 2]^2``; its three lowest local minima are refined by repeated 9 x 9 zooms
    (each zoom one batch call) until the node spacing is below 1e-7.

    Raises
    ------
    ValueError
        Non-positive N, D or loss (naming the row), NaN rows (unless ``nan_policy="omit"``),
        mismatched lengths, fewer than 6 points (after ``drop_highest``; 5 points leave no
        residual degrees of freedom), unknown options.
    """
    if solver not in ("lm", "varpro", "both"):
        raise ValueError(f"solver must be 'lm', 'varpro' or 'both', got {solver!r}")
    try:
        delta = float(_validate.positive("delta", delta, scalar=True))
    except ValueError:
        raise ValueError(f"delta must be positive and finite, got {delta!r}") from None
    best_rtol = float(_validate.nonnegative("best_rtol", best_rtol, scalar=True))
    if n_resamples != 0:  # checked before the fit, which may take a while
        from .bootstrap import _check_method, _check_n_resamples, _check_seed, _finite_level

        _check_n_resamples(n_resamples)
        _check_seed(seed)
        _finite_level(level)
        _check_method(ci_method)
    cols, kept = _validate.columns(
        {"N": N, "D": D, "loss": loss},
        nan_policy=nan_policy,
        positive=("N", "D", "loss"),
        why=_LOG_WHY,
    )
    n_in = _validate.as_float_array(N, "N").shape[0]
    keep = _drop_highest(cols["loss"], drop_highest)
    Nk, Dk, Lk = cols["N"][keep], cols["D"][keep], cols["loss"][keep]
    if Nk.shape[0] < 6:  # 5 points fit the 5 parameters exactly: any objective reaches 0
        raise ValueError(
            "need at least 6 points to fit the 5 parameters of the Chinchilla law (5 points "
            "leave no residual degrees of freedom: the law can pass through every one, "
            f"objective 0, often with extreme parameters), got {Nk.shape[0]}"
            + (f" after drop_highest={drop_highest}" if drop_highest else "")
        )
    used = kept[keep]
    dropped = np.setdiff1d(np.arange(n_in, dtype=np.int64), used)
    opts: dict[str, Any] = dict(max_iter=max_iter, ftol=ftol, xtol=xtol, gtol=gtol, threads=threads)

    outcomes: dict[str, SolverOutcome] = {}
    batch: Optional[BatchResult] = None
    n_starts = n_conv = n_best = 0
    spread: dict[str, float] = {}
    lm_status = vp_status = -3
    if solver in ("lm", "both"):
        starts = _starts(grid, Nk, Dk, Lk)
        batch = fit_batch(
            "chinchilla_lse",
            (Nk, Dk),
            Lk,
            [0, Nk.shape[0]],
            starts,
            problem=np.zeros(starts.shape[0], dtype=np.int64),
            loss=loss_fn,
            f_scale=delta,
            log_residuals=True,
            compute_cov=False,
            **opts,
        )
        b = int(batch.best_index()[0])
        best_cost = float(batch.cost[b])
        lm_status = int(batch.status[b])
        n_starts = batch.n_items
        n_conv = int(batch.success.sum())
        at_best = batch.success & (batch.cost <= best_cost + best_rtol * abs(best_cost))
        n_best = int(at_best.sum())
        if n_best:
            xs = batch.x[at_best]
            nat = np.column_stack(
                [np.exp(xs[:, 2]), np.exp(xs[:, 0]), np.exp(xs[:, 1]), xs[:, 3], xs[:, 4]]
            )
            spread = {k: float(np.ptp(nat[:, i])) for i, k in enumerate(_LAW_NAMES)}
        law = ChinchillaLaw.from_log_params(batch.x[b])
        outcomes["lm"] = SolverOutcome(
            "lm",
            law,
            best_cost,
            lm_status > 0,
            f"best of {n_starts} starts; {n_conv} converged, {n_best} at the best objective",
        )
        if lm_status <= 0:
            _warnings.warn(
                f"no LM start converged (best start: {batch.messages()[b]})",
                ConvergenceWarning,
                stacklevel=2,
            )
    if solver in ("varpro", "both"):
        outcome, vp_status = _varpro(Nk, Dk, Lk, loss_fn=loss_fn, delta=delta, **opts)
        outcomes["varpro"] = outcome

    agree: Optional[bool] = None
    if solver == "both":
        agree, why = _compare(outcomes["lm"], outcomes["varpro"], int(Nk.shape[0]))
        if not agree:
            _warnings.warn(
                f"LM and variable projection disagree: {why}", ConvergenceWarning, stacklevel=2
            )
    if agree:
        winner = outcomes["lm"]  # the same optimum; LM's is the Newton-refined one
    else:
        winner = min(
            outcomes.values(), key=lambda o: o.objective if np.isfinite(o.objective) else np.inf
        )
    w = winner.law
    with np.errstate(divide="ignore"):  # varpro may put E, A or B on its bound 0
        logs = np.log([w.A, w.B, w.E])
    boot = None
    if n_resamples:
        from .bootstrap import bootstrap, chinchilla_derived

        start = np.array([logs[0], logs[1], logs[2], w.alpha, w.beta])
        if not np.isfinite(start).all():
            raise ValueError(f"the fit put E, A or B at 0 (E={w.E:g}, A={w.A:g}, B={w.B:g}): its "
                             "parameters as chinchilla_lse's logs are not finite, so no bootstrap")
        boot = bootstrap("chinchilla_lse", (Nk, Dk), Lk, n_resamples=n_resamples, seed=seed,
                         loss=loss_fn, f_scale=delta, log_residuals=True, method=ci_method,
                         level=level, derived=chinchilla_derived(model="chinchilla_lse"),
                         p0=start, **opts)
    return ParametricFit(
        E=w.E,
        A=w.A,
        B=w.B,
        alpha=w.alpha,
        beta=w.beta,
        a=float(logs[0]),
        b=float(logs[1]),
        e=float(logs[2]),
        objective=winner.objective,
        loss_fn=loss_fn,
        delta=float(delta),
        solver=winner.solver,
        status=lm_status if winner.solver == "lm" else vp_status,
        n_points=int(Nk.shape[0]),
        dropped=dropped,
        n_starts=n_starts,
        n_converged=n_conv,
        n_best=n_best,
        spread=spread,
        outcomes=outcomes,
        agree=agree,
        batch=batch,
        bootstrap=boot,
    )


def _compare(
    p: SolverOutcome, q: SolverOutcome, n: int, rtol: float = 1e-6, ptol: float = 1e-3
) -> tuple[bool, str]:
    """Same optimum? Objectives within ``rtol`` (relative; absolute 1e-14 per point for fits
    of noise-free data, whose objective is ~0) and log A, log B, log E, alpha, beta within
    ``ptol``."""
    diff = abs(p.objective - q.objective)
    d_obj = diff / max(abs(p.objective), abs(q.objective), 1e-300)
    same_obj = d_obj <= rtol or diff <= 1e-14 * n
    with np.errstate(divide="ignore"):
        lp = np.array([np.log(p.law.A), np.log(p.law.B), np.log(p.law.E), p.law.alpha, p.law.beta])
        lq = np.array([np.log(q.law.A), np.log(q.law.B), np.log(q.law.E), q.law.alpha, q.law.beta])
    d_par = float(np.max(np.abs(lp - lq)))
    if not np.isfinite(d_par):
        d_par = np.inf
    ok = bool(same_obj and d_par <= ptol)
    why = (
        f"objectives {p.solver} {p.objective:.10g} vs {q.solver} {q.objective:.10g} (relative "
        f"difference {d_obj:.2g}); largest difference in (log A, log B, log E, alpha, beta) "
        f"{d_par:.2g}"
    )
    return ok, why


# ---------------------------------------------------------------- variable projection
def _nnls3(M: FloatArray, y: FloatArray) -> FloatArray:
    """Exact non-negative least squares ``min ||M_k theta - y||, theta >= 0`` for a batch of
    (n, 3) matrices M (shape (K, n, 3)) and one target y (n,), by enumerating the 7 supports
    (the optimum is the unconstrained optimum on its support, and is feasible)."""
    K = M.shape[0]
    scale = np.sqrt(np.einsum("kni,kni->ki", M, M))
    scale[scale == 0] = 1.0
    Ms = M / scale[:, None, :]
    G = np.einsum("kni,knj->kij", Ms, Ms)
    c = np.einsum("kni,n->ki", Ms, y)
    yy = float(y @ y)
    best = np.full(K, np.inf)
    theta = np.zeros((K, 3))
    for r in (1, 2, 3):
        for S in itertools.combinations(range(3), r):
            idx = np.array(S)
            Gs = G[:, idx[:, None], idx[None, :]]
            cs = c[:, idx]
            ts = np.einsum("kij,kj->ki", np.linalg.pinv(Gs), cs)
            feasible = np.all(ts >= 0, axis=1)
            obj = yy - np.einsum("ki,ki->k", cs, ts)
            better = feasible & (obj < best)
            best[better] = obj[better]
            th = np.zeros((K, 3))
            th[:, idx] = ts
            theta[better] = th[better]
    out: FloatArray = theta / scale
    return out


def _profile(
    alphas: FloatArray,
    betas: FloatArray,
    theta0: Optional[FloatArray],
    N: FloatArray,
    D: FloatArray,
    L: FloatArray,
    *,
    loss_fn: str,
    delta: float,
    **opts: Any,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """For each node (alpha_k, beta_k): min over E, A, B >= 0 of the objective, as one batch
    call. Returns (objective (K,), theta = (E, A, B) (K, 3), status (K,))."""
    K, n = alphas.shape[0], N.shape[0]
    tN, tD = np.log(N), np.log(D)
    Xa = np.exp(alphas[:, None] * tN[None, :])  # N^alpha: the model divides by it
    Xb = np.exp(betas[:, None] * tD[None, :])
    if theta0 is None:
        M = np.stack([np.broadcast_to(1.0 / L, (K, n)), 1.0 / (Xa * L), 1.0 / (Xb * L)], axis=-1)
        theta0 = _nnls3(M, np.ones(n))
    p0 = np.column_stack([theta0, np.ones(K), np.ones(K)])
    x = np.column_stack([Xa.ravel(), Xb.ravel()])
    inf = np.inf
    res = fit_batch(
        "chinchilla",
        x,
        np.tile(L, K),
        np.arange(K + 1, dtype=np.int64) * n,
        p0,
        bounds=([0.0, 0.0, 0.0, 1.0, 1.0], [inf, inf, inf, 1.0, 1.0]),
        loss=loss_fn,
        f_scale=delta,
        log_residuals=True,
        compute_cov=False,
        **opts,
    )
    ok = (res.status >= -2) & np.isfinite(res.cost)
    cost = np.where(ok, res.cost, np.inf)
    return cost, res.x[:, :3], res.status.astype(np.int64)


def _local_minima(P: FloatArray, k: int) -> list[tuple[int, int]]:
    """Up to k lowest local minima (8-neighbourhood) of a 2-D array, lowest first."""
    padded = np.pad(P, 1, constant_values=np.inf)
    is_min = np.ones(P.shape, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di == 0 and dj == 0:
                continue
            nb = padded[1 + di : 1 + di + P.shape[0], 1 + dj : 1 + dj + P.shape[1]]
            is_min &= P <= nb
    is_min &= np.isfinite(P)
    cand = np.argwhere(is_min)
    order = np.argsort(P[is_min])
    return [(int(cand[i][0]), int(cand[i][1])) for i in order[:k]]


def _varpro(
    N: FloatArray,
    D: FloatArray,
    L: FloatArray,
    *,
    loss_fn: str,
    delta: float,
    n_grid: int = 45,
    span: tuple[float, float] = (0.02, 2.0),
    n_basins: int = 3,
    zoom: int = 9,
    xtol_ab: float = 1e-7,
    max_levels: int = 200,
    **opts: Any,
) -> tuple[SolverOutcome, int]:
    g = np.linspace(span[0], span[1], n_grid)
    A_, B_ = np.meshgrid(g, g, indexing="ij")
    cost, theta, status = _profile(
        A_.ravel(), B_.ravel(), None, N, D, L, loss_fn=loss_fn, delta=delta, **opts
    )
    P = cost.reshape(n_grid, n_grid)
    basins = _local_minima(P, n_basins)
    if not basins:
        law = ChinchillaLaw(np.nan, np.nan, np.nan, np.nan, np.nan)
        return SolverOutcome(
            "varpro", law, np.inf, False, "no finite profile value on the grid"
        ), -3
    h0 = float(g[1] - g[0])
    # Each basin: [alpha, beta, profile value, (E, A, B), status, half-width of its window].
    centres = [
        [
            float(g[i]),
            float(g[j]),
            float(P[i, j]),
            theta[i * n_grid + j],
            int(status[i * n_grid + j]),
            h0,
        ]
        for i, j in basins
    ]
    offs = np.linspace(-1.0, 1.0, zoom)
    levels = 0
    while max(c[5] for c in centres) > xtol_ab and levels < max_levels:
        live = [c for c in centres if c[5] > xtol_ab]
        al, be, th0 = [], [], []
        for ca, cb, _, th, _, h in live:
            aa, bb = np.meshgrid(ca + h * offs, cb + h * offs, indexing="ij")
            al.append(aa.ravel())
            be.append(bb.ravel())
            th0.append(np.broadcast_to(th, (zoom * zoom, 3)))
        a_all = np.maximum(np.concatenate(al), 0.0)
        b_all = np.maximum(np.concatenate(be), 0.0)
        c, t, s = _profile(
            a_all,
            b_all,
            np.ascontiguousarray(np.vstack(th0)),
            N,
            D,
            L,
            loss_fn=loss_fn,
            delta=delta,
            **opts,
        )
        for k, centre in enumerate(live):
            sl = slice(k * zoom * zoom, (k + 1) * zoom * zoom)
            i = int(np.argmin(c[sl]))
            j = k * zoom * zoom + i
            on_edge = i // zoom in (0, zoom - 1) or i % zoom in (0, zoom - 1)
            improved = bool(c[j] < centre[2])
            if improved:
                centre[:5] = [float(a_all[j]), float(b_all[j]), float(c[j]), t[j], int(s[j])]
            # The minimum on the window's edge: walk (same width) along the valley; else zoom in.
            if not (improved and on_edge):
                centre[5] *= 2.0 / (zoom - 1)
        levels += 1
    ca, cb, cbest, th, st, _ = min(centres, key=lambda z: float(z[2]))
    law = ChinchillaLaw(E=float(th[0]), A=float(th[1]), B=float(th[2]), alpha=ca, beta=cb)
    ok = bool(np.isfinite(cbest) and (st > 0 or st == -2))
    detail = (
        f"profile over (alpha, beta): {n_grid}x{n_grid} grid on [{span[0]}, {span[1]}]^2, "
        f"{len(basins)} basin(s) refined by {levels} zoom levels"
    )
    return SolverOutcome("varpro", law, float(cbest), ok, detail), st


# ============================================================================ approach 1
@dataclass(frozen=True, eq=False)
class EnvelopeFit:
    """Approach 1: the compute-optimal frontier read off the envelope of training curves.

    Attributes
    ----------
    a, b : float
        Exponents of ``N_opt = G_N C^a`` and ``D_opt = G_D C^b`` (``b = 1 - a`` under
        ``C = 6 N D``).
    G_N, G_D : float
    flops : ndarray
        The compute grid (FLOP).
    N_opt, D_opt, loss_opt : ndarray
        At each compute: the size of the run with the lowest loss, its tokens ``C / (6 N)``
        and that lowest loss (NaN where no run reaches that compute).
    used : ndarray of bool
        Compute values entering the fit: the winning run is strictly between the smallest and
        the largest run defined there (elsewhere the envelope is cut off by the sweep's edge).
    n_runs : int
    """

    a: float
    b: float
    G_N: float
    G_D: float
    flops: FloatArray
    N_opt: FloatArray
    D_opt: FloatArray
    loss_opt: FloatArray
    used: BoolArray
    n_runs: int

    def predict(self, C: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(N_opt, D_opt)`` at compute C from the fitted power laws.

        Parameters
        ----------
        C : array_like
            Training compute in FLOP (``C = 6 N D``; not checked: 0 or below gives 0, inf or
            NaN).
        """
        c = np.asarray(C, dtype=np.float64)
        return self.G_N * c**self.a, self.G_D * c**self.b

    def __repr__(self) -> str:
        return (
            f"EnvelopeFit(a={self.a:.4f}, b={self.b:.4f}, n_runs={self.n_runs}, "
            f"compute points used={int(self.used.sum())}/{self.flops.size})"
        )


_MIN_WINNERS = 3  # fit_envelope warns below this many distinct compute-optimal sizes


@_validate.suggest_argument_names
def fit_envelope(
    N: ArrayLike,
    D: ArrayLike,
    loss: ArrayLike,
    *,
    run: Optional[ArrayLike] = None,
    n_flops: int = 1500,
    nan_policy: str = "raise",
) -> EnvelopeFit:
    """Approach 1: minimum over training curves at each compute, then ``N_opt ∝ C^a``.

    Each run's loss is interpolated linearly in ``log C`` (``C = 6 N D``, D = tokens seen so
    far) onto ``n_flops`` log-spaced compute values (Hoffmann et al. use 1,500); at each
    compute the run with the lowest loss gives ``N_opt`` and ``D_opt = C / (6 N_opt)``. The
    power law is fitted by least squares in log-log space over the compute values where the
    winner is strictly inside the range of sizes defined there.

    Parameters
    ----------
    N, D, loss : array_like
        One row per logged point: parameters of the run, tokens seen, loss.
    run : array_like, optional
        Run label of each row (default: runs are told apart by N). Several runs of one size
        (e.g. different schedule lengths) need labels.
    n_flops : int
    nan_policy : {"raise", "omit"}

    Raises
    ------
    ValueError
        Bad input; a run whose N varies; fewer than 3 runs; an envelope never strictly
        inside the sizes (the sweep does not bracket the optimum), or always at one size (a
        constant N_opt, e.g. with 3 runs: the exponent needs 2 distinct winners).

    Warns
    -----
    IdentifiabilityWarning
        The winners inside the sizes take fewer than 3 distinct sizes: the exponent rests on
        a staircase of two levels.
    """
    arrays: dict[str, ArrayLike] = {"N": N, "D": D, "loss": loss}
    cols, kept = _validate.columns(
        arrays, nan_policy=nan_policy, positive=("N", "D", "loss"), why=_LOG_WHY
    )
    try:
        n_flops = _validate.integer("n_flops", n_flops, least=2, most=1_000_000)
    except ValueError:
        raise ValueError(f"n_flops must be an integer in [2, 1000000] (Hoffmann et al. use 1500), got {n_flops!r}") from None
    Nc, Dc, Lc = cols["N"], cols["D"], cols["loss"]
    if run is None:
        labels = Nc
    else:
        labels = np.asarray(run)
        if labels.ndim != 1 or labels.shape[0] != _validate.as_float_array(N, "N").shape[0]:
            raise ValueError(f"run must be 1-D with one label per row, got shape {labels.shape}")
        labels = labels[kept]
    try:
        _, rid = np.unique(labels, return_inverse=True)
    except TypeError:  # e.g. None among the labels: not orderable
        raise ValueError(f"run labels must be of one orderable kind (numbers or strings), got {labels[:3].tolist()}...") from None
    rid = rid.ravel()
    n_runs = int(rid.max()) + 1
    logC = np.log(6.0 * Nc * Dc)
    grid = np.linspace(logC.min(), logC.max(), n_flops)
    Lgrid = np.full((n_runs, grid.size), np.nan)
    Nrun = np.empty(n_runs)
    for r in range(n_runs):
        rows = np.flatnonzero(rid == r)
        nr = Nc[rows]
        if np.ptp(nr) > 1e-9 * nr[0]:
            raise ValueError(
                f"run {labels[rows[0]]!r} has several values of N "
                f"({nr.min():.4g} .. {nr.max():.4g})"
            )
        Nrun[r] = nr[0]
        order = np.argsort(logC[rows], kind="stable")
        x, y = logC[rows][order], Lc[rows][order]
        inside = (grid >= x[0]) & (grid <= x[-1])
        Lgrid[r, inside] = np.interp(grid[inside], x, y)
    if n_runs < 3:
        raise ValueError(f"approach 1 needs at least 3 runs (model sizes), got {n_runs}")
    defined = np.isfinite(Lgrid)
    any_def = defined.any(axis=0)
    best = np.argmin(np.where(defined, Lgrid, np.inf), axis=0)
    N_best = np.where(any_def, Nrun[best], np.nan)
    n_lo = np.where(defined, Nrun[:, None], np.inf).min(axis=0)  # inf / -inf where none:
    n_hi = np.where(defined, Nrun[:, None], -np.inf).max(axis=0)  # not used (any_def)
    used = any_def & (N_best > n_lo) & (N_best < n_hi)
    if used.sum() < 2:
        raise ValueError(
            "the lowest loss is at the smallest or largest run at (almost) every compute: the "
            "sizes do not bracket the compute-optimal size"
        )
    winners = np.unique(N_best[used])
    if winners.size < 2:  # a constant N_opt: the slope is exactly 0, whatever the data
        raise ValueError(
            f"the lowest loss strictly inside the sizes is the run of N = {winners[0]:.4g} at every "
            "compute used: N_opt ∝ C^a needs at least 2 distinct compute-optimal sizes (with 3 "
            "runs only the middle one can win inside the range); add model sizes (runs)"
        )
    if winners.size < _MIN_WINNERS:
        _warnings.warn(
            f"fit_envelope: a rests on only {winners.size} distinct compute-optimal sizes "
            f"({', '.join(f'{v:.4g}' for v in winners)}): a staircase of {winners.size} levels "
            "places the exponent only roughly; add model sizes (runs) between them",
            IdentifiabilityWarning, stacklevel=2,
        )
    a, logG = np.polyfit(grid[used], np.log(N_best[used]), 1)
    flops = np.exp(grid)
    N_opt = N_best
    D_opt = flops / (6.0 * N_opt)
    loss_opt = np.where(any_def, Lgrid[best, np.arange(grid.size)], np.nan)
    G_N = float(np.exp(logG))
    return EnvelopeFit(
        a=float(a),
        b=float(1.0 - a),
        G_N=G_N,
        G_D=1.0 / (6.0 * G_N),
        flops=flops,
        N_opt=N_opt,
        D_opt=D_opt,
        loss_opt=loss_opt,
        used=used,
        n_runs=n_runs,
    )


# ============================================================================ approach 2
# Per-budget flags (bit mask). FAILED, FLAT and OUTSIDE make the minimum unusable or an
# extrapolation; OFF_CENTRE and NARROW make it biased or noisy; EXACT (a 3-point parabola
# window whose curvature cannot be tested: no budget of the fit has residual degrees of
# freedom) is information only and never excludes a budget.
_FAILED, _FLAT, _OUTSIDE, _OFF_CENTRE, _NARROW, _EXACT = 1, 2, 4, 8, 16, 32
_FLAG_NAMES = {
    _FAILED: "failed",
    _FLAT: "flat",
    _OUTSIDE: "outside",
    _OFF_CENTRE: "off-centre",
    _NARROW: "narrow",
    _EXACT: "exact",
}
_EXCLUDE = {
    "none": _FAILED | _FLAT,
    "outside": _FAILED | _FLAT | _OUTSIDE,
    "off-centre": _FAILED | _FLAT | _OUTSIDE | _OFF_CENTRE | _NARROW,
}
DEFAULT_SCAN_WINDOWS: tuple[float, ...] = (2.0, 3.0, 4.0, 6.0, 10.0, np.inf)


@dataclass(frozen=True, eq=False)
class IsoflopFit:
    """Approach 2: IsoFLOP minima per budget and the power law through them.

    Attributes
    ----------
    a, b : float
        ``N_opt = G_N C^a``, ``D_opt = G_D C^b`` (``b = 1 - a``).
    G_N, G_D : float
    budgets : ndarray (J,)
        Compute budgets (FLOP), ascending.
    N_opt, D_opt, loss_opt : ndarray (J,)
        Each budget's fitted minimum (NaN where the fit failed).
    log_N_opt_se : ndarray (J,)
        Standard error of ``log N_opt`` (natural log) from the parabola's Gauss–Newton
        covariance (NaN for the cubic). A 3-point window has no residual degrees of freedom:
        its standard error uses the noise pooled over the fit's other budgets (see
        ``flags``), NaN where no budget has any.
    n_sizes, n_window : ndarray of int (J,)
        Distinct sizes in each budget; points in its fitted window.
    flags : tuple of tuple of str
        Per budget, any of ``"failed"``, ``"flat"`` (no minimum: the curve is not convex),
        ``"outside"`` (minimum outside the sampled sizes: an extrapolation), ``"off-centre"``
        (fewer than ``min_side`` sizes on one side of the minimum), ``"narrow"`` (the
        curvature ``k`` is not significantly > 0: ``k - t se_k <= 0``, ``t`` Student's at
        one-sided 0.977, two normal standard errors' level, on ``se_k``'s degrees of freedom:
        4.5, 3.3, 2.9 for 2, 3, 4 of them),
        ``"exact"`` (parabola only: a 3-point window whose curvature cannot be tested, see
        below; the budget is still used). A 3-point window (``n_window == 3``) fits the
        parabola exactly, so its own residuals say nothing about the noise: its ``se_k``
        comes from the noise pooled over the budgets of the same fit whose windows have
        residual degrees of freedom (their sum of squared residuals over the sum of their
        degrees of freedom, ``n_window - 3`` each) and the window's design. When no budget
        of the fit has any, such budgets are flagged ``"exact"`` instead.
    used : ndarray of bool (J,)
        Budgets in the power-law fit (see ``exclude``).
    window : float
        Sizes within a factor ``window`` of each budget's lowest-loss size were fitted.
    degree : int
    interval : (float, float)
        Bootstrap interval on ``a`` (NaN without bootstrap).
    interval_method : str
        ``"percentile"`` or ``"bca"``.
    confidence : float
    a_bootstrap : ndarray
        ``a`` of every valid bootstrap replicate.
    n_bootstrap : int
        Replicates drawn (``a_bootstrap.size`` of them were valid).
    resample : str
    window_scan : dict
        ``a`` fitted with other windows (same data, same rules): how the exponent moves
        with the window.
    seed : int or None
        The bootstrap's seed (None when a Generator was given).
    """

    a: float
    b: float
    G_N: float
    G_D: float
    budgets: FloatArray
    N_opt: FloatArray
    D_opt: FloatArray
    loss_opt: FloatArray
    log_N_opt_se: FloatArray
    n_sizes: IntArray
    n_window: IntArray
    flags: tuple[tuple[str, ...], ...]
    used: BoolArray
    window: float
    degree: int
    interval: tuple[float, float]
    interval_method: str
    confidence: float
    a_bootstrap: FloatArray
    n_bootstrap: int
    resample: str
    window_scan: dict[float, float]
    seed: Optional[int] = None

    def predict(self, C: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(N_opt, D_opt)`` at compute C from the fitted power laws.

        Parameters
        ----------
        C : array_like
            Training compute in FLOP (``C = 6 N D``; not checked: 0 or below gives 0, inf or
            NaN).
        """
        c = np.asarray(C, dtype=np.float64)
        return self.G_N * c**self.a, self.G_D * c**self.b

    def table(self) -> str:
        """One line per budget: C, N_opt, D_opt, D/N, loss, window points, flags."""
        head = (
            f"{'C':>10} {'N_opt':>10} {'D_opt':>10} {'D/N':>8} {'loss':>8} {'sizes':>5} "
            f"{'fit':>4}  flags"
        )
        lines = [head]
        for j in range(self.budgets.size):
            mark = "" if self.used[j] else "  (excluded)"
            lines.append(
                f"{self.budgets[j]:10.3g} {self.N_opt[j]:10.3g} {self.D_opt[j]:10.3g} "
                f"{self.D_opt[j] / self.N_opt[j]:8.3g} {self.loss_opt[j]:8.4f} "
                f"{self.n_sizes[j]:5d} "
                f"{self.n_window[j]:4d}  {','.join(self.flags[j]) or 'ok'}{mark}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        ci = ""
        if np.isfinite(self.interval[0]):
            lo, hi = self.interval
            ci = (
                f", {100 * self.confidence:g}% interval ({lo:.4f}, {hi:.4f}) from "
                f"{self.a_bootstrap.size}/{self.n_bootstrap} {self.resample} replicates"
            )
        scan = ", ".join(f"{w:g}: {v:.4f}" for w, v in self.window_scan.items())
        used = f"{int(self.used.sum())}/{self.budgets.size}"
        exact = [j for j, fl in enumerate(self.flags) if "exact" in fl]
        note = ""
        if exact:
            cs = ", ".join(f"{self.budgets[j]:.3g}" for j in exact)
            note = (
                f"\n  exact: curvature not testable at C = {cs} (3-point windows and no "
                "budget with residual degrees of freedom to estimate the noise)"
            )
        return (
            f"IsoflopFit(a={self.a:.4f}{ci}, budgets used {used}, window={self.window:g}, "
            f"degree={self.degree})\n  a by window: {scan}{note}"
        )


#: A budget of fit_isoflop whose runs' C span more than this factor is refused: its runs are
#: not on one IsoFLOP budget (the same bound as plot_isoflop_curves' slices; Epoch's digitised
#: Chinchilla budgets, grouped at budget_rtol=0.05, span up to 1.28x).
_MAX_BUDGET_SPAN = 1.5


def _group_budgets(C: FloatArray, rtol: float = 1e-6) -> tuple[FloatArray, IntArray]:
    """Budgets (ascending) and each point's budget index. Sorted by C, a run joins the
    budget of the run before it when its C is at most ``1 + rtol`` times that run's (single
    linkage in ``log C``: a budget may span more than ``1 + rtol``); a budget's C is the
    geometric mean of its runs' C."""
    order = np.argsort(C, kind="stable")
    cs = C[order]
    new = np.ones(cs.size, dtype=bool)
    new[1:] = cs[1:] > cs[:-1] * (1.0 + rtol)
    gid_sorted = np.cumsum(new) - 1
    gid = np.empty(C.size, dtype=np.int64)
    gid[order] = gid_sorted
    budgets = np.exp(np.bincount(gid, weights=np.log(C)) / np.bincount(gid))
    return budgets, gid


def _budget_rtol(value: Any) -> float:
    """``budget_rtol`` of :func:`fit_isoflop` as a float in ``[0, 1)``; a TypeError naming it
    for text or an array, a ValueError naming it otherwise."""
    try:
        r = float(_validate.nonnegative("budget_rtol", value, scalar=True))
    except ValueError:
        r = float("nan")
    if not 0.0 <= r < 1.0:
        raise ValueError(
            "budget_rtol must be a finite relative tolerance in [0, 1) (e.g. 0.05: runs whose C "
            f"differ by up to 5% share a budget), got {value!r}"
        )
    return r


def _rtol_text(r: float) -> str:
    """``r`` as a message writes it: ``1e-6`` (not ``1e-06``), ``0.05``."""
    return f"{r:g}".replace("e-0", "e-")


def _poly_lstsq(
    s: FloatArray, y: FloatArray, w: FloatArray, starts: IntArray, degree: int
) -> FloatArray:
    """Weighted polynomial least squares for CSR segments (all non-empty): coefficients
    (P, degree + 1), lowest power first. Rank-deficient segments get the minimum-norm
    solution."""
    k = degree + 1
    pw = s[:, None] ** np.arange(2 * k - 1)[None, :]
    S = np.add.reduceat(w[:, None] * pw, starts, axis=0)
    T = np.add.reduceat((w * y)[:, None] * pw[:, :k], starts, axis=0)
    idx = np.arange(k)
    M = S[:, idx[:, None] + idx[None, :]]
    coef: FloatArray = np.einsum("pij,pj->pi", np.linalg.pinv(M), T)
    return coef


def _window_mask(
    tj: FloatArray, yj: FloatArray, present: BoolArray, log_window: FloatArray, need: int
) -> tuple[BoolArray, FloatArray]:
    """Per row (yj, present: (R, n_j)): the present points within ``log_window[r]`` of the
    row's lowest-loss point, or, if those hold fewer than ``need`` distinct sizes, the points
    of the ``need`` nearest present sizes (repeated runs of one size, e.g. seeds, count once).
    Returns the mask (R, n_j) and each row's centre (log N of its lowest-loss point)."""
    c = np.argmin(np.where(present, yj, np.inf), axis=1)
    tc = tj[c]
    ts, size_of = np.unique(tj, return_inverse=True)  # distinct sizes, ascending
    size_of = size_of.ravel()
    has = (present[:, :, None] & (size_of[None, :, None] == np.arange(ts.size)[None, None, :])).any(axis=1)
    dist = np.where(has, np.abs(ts[None, :] - tc[:, None]), np.inf)  # (R, n_sizes)
    inwin = dist <= log_window[:, None] * (1 + 1e-12)
    rank = np.argsort(np.argsort(dist, axis=1, kind="stable"), axis=1, kind="stable")
    pick = np.where(inwin.sum(axis=1, keepdims=True) >= need, inwin, (rank < need) & has)
    return pick[:, size_of] & present, tc


#: One-sided level of the "narrow" flag's test of the curvature: that of 2 standard errors
#: under the normal (0.977), taken from Student's t on the curvature's degrees of freedom.
_NARROW_LEVEL = 0.5 + math.erf(2.0 / math.sqrt(2.0)) / 2.0


def _narrow_quantile(dof: IntArray) -> FloatArray:
    """Student's t quantile at :data:`_NARROW_LEVEL` for each degrees of freedom (inf where
    there are none: nothing can be tested). A flat 2 (the normal's) let a curve without
    curvature escape the flag in 13.9% of 4-point windows, 9.2% of 5-point and 6.6% of
    6-point ones, against the 2.3% it means (5.2% at 8 points)."""
    from .uncertainty import t_quantile

    d = np.asarray(dof, dtype=np.int64)
    out = np.full(d.shape, np.inf)
    for v in np.unique(d[d > 0]):
        out[d == v] = t_quantile(_NARROW_LEVEL, float(v))
    return out


def _pooled_se(
    s: FloatArray,
    w: FloatArray,
    starts: IntArray,
    dof: IntArray,
    ssr: FloatArray,
    status: IntArray,
    J: int,
    R: int,
    k: FloatArray,
    vertex: FloatArray,
) -> tuple[FloatArray, BoolArray, FloatArray, IntArray]:
    """Standard error of the curvature ``k`` of parabola windows with no residual degrees of
    freedom (3 points, ``dof == 0``), from the noise pooled over the budgets of the same row
    that have some: ``sigma^2 = sum SSR / sum dof`` over the converged problems with ``dof >
    0``, and ``se_k = sigma sqrt(inv(X^T W X)[2, 2])`` with the window's design ``X = [1, s,
    s^2]`` (``k`` is its ``s^2`` coefficient, so the vertex form's Gauss–Newton variance of
    ``k`` is the same). Problems are ordered (budget, row); ``s`` (window sizes in log N,
    any origin), ``w`` (weights) and ``ssr`` (weighted sums of squared residuals, the core's
    ``2 cost``) are per problem as in :func:`_isoflop_minima`. Returns ``se_k`` (P,), NaN
    where ``dof != 0`` or the window is singular, the zero-dof problems whose row has no
    pooled noise (the curvature cannot be tested: ``"exact"``), and, from each problem's
    curvature ``k`` and ``vertex`` (in the coordinates of ``s``), the standard error of the
    vertex (``log N_opt``) by the delta method on ``v = -c1 / (2 c2)``, gradient ``(0,
    -1 / (2 k), -v / k)`` in ``(c0, c1, c2)``: what the core's Gauss–Newton covariance of the
    vertex form gives a window with residual degrees of freedom (NaN where ``se_k`` is), and
    the degrees of freedom of each ``se_k`` (the window's own, or the pooled ones)."""
    P = starts.size
    zero = dof == 0
    pool = (dof > 0) & (status > 0) & np.isfinite(ssr)
    ssr_row = np.where(pool, ssr, 0.0).reshape(J, R).sum(axis=0)
    dof_row = np.where(pool, dof, 0).reshape(J, R).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.repeat(np.where(dof_row > 0, ssr_row / dof_row, np.nan)[None, :], J, axis=0)
    s2 = s2.ravel()  # (P,), (budget, row) order
    se = np.full(P, np.nan)
    se_v = np.full(P, np.nan)
    if zero.any():
        pw = s[:, None] ** np.arange(5)[None, :]
        S = np.add.reduceat(w[:, None] * pw, starts, axis=0)[zero]  # sums of w s^0..s^4
        idx = np.arange(3)
        M = S[:, idx[:, None] + idx[None, :]]
        det = np.linalg.det(M)
        scale = M[:, 0, 0] * M[:, 1, 1] * M[:, 2, 2]  # Hadamard: det <= scale
        ok = det > 1e-12 * scale
        V = np.full(M.shape, np.nan)
        V[ok] = np.linalg.inv(M[ok])  # (X^T W X)^-1 of each well-conditioned window
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            se[zero] = np.sqrt(s2[zero] * V[:, 2, 2])
            g1, g2 = -0.5 / k[zero], -vertex[zero] / k[zero]
            var_v = g1 * g1 * V[:, 1, 1] + 2 * g1 * g2 * V[:, 1, 2] + g2 * g2 * V[:, 2, 2]
            se_v[zero] = np.sqrt(s2[zero] * var_v)
    pooled_dof = np.repeat(dof_row[None, :], J, axis=0).ravel()
    return se, zero & ~np.isfinite(s2), se_v, np.where(zero, pooled_dof, dof)


def _isoflop_minima(
    t: Sequence[FloatArray],
    y: Sequence[FloatArray],
    mult: Sequence[IntArray],
    log_window: FloatArray,
    *,
    degree: int,
    min_side: int,
    loss_fn: str,
    f_scale: float,
    threads: Optional[int],
) -> dict[str, NDArray[Any]]:
    """Fits every (row, budget) of the replicate rows in one batch. Budget j has sizes t[j]
    (log N, ascending), losses y[j] ((n_j,) or per row (R, n_j)), and per-row multiplicities
    mult[j] (R, n_j); row r fits the points of :func:`_window_mask`. Returns (R, J) arrays."""
    R, J = log_window.shape[0], len(t)
    need = degree + 1
    xs, ys, ws, cs, counts = [], [], [], [], []
    t_lo, t_hi = np.empty((R, J)), np.empty((R, J))
    for j in range(J):
        tj, mj = t[j], mult[j]
        yj = np.broadcast_to(y[j], (R, tj.size))
        present = mj > 0
        mask, tc = _window_mask(tj, yj, present, log_window, need)
        r_idx, i_idx = np.nonzero(mask)
        xs.append(tj[i_idx])
        ys.append(yj[r_idx, i_idx])
        ws.append(mj[r_idx, i_idx].astype(np.float64))
        cs.append(tc[r_idx])
        counts.append(mask.sum(axis=1))
        t_lo[:, j] = np.min(np.where(present, tj[None, :], np.inf), axis=1)
        t_hi[:, j] = np.max(np.where(present, tj[None, :], -np.inf), axis=1)
    # Problems ordered (budget, row); the returned arrays are (row, budget).
    n_pts = np.concatenate(counts).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_pts)]).astype(np.int64)
    tt, yy, ww, tc_all = (np.concatenate(v) for v in (xs, ys, ws, cs))
    starts = offsets[:-1]
    centre = tc_all[starts]
    coef = _poly_lstsq(tt - tc_all, yy, ww, starts, degree)
    P = n_pts.size
    status = np.ones(P, dtype=np.int64)
    se_v = np.full(P, np.nan)
    if degree == 2:
        c0, c1, c2 = coef[:, 0], coef[:, 1], coef[:, 2]
        good = c2 > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(good, np.clip(-c1 / (2 * np.where(good, c2, 1.0)), -20.0, 20.0), 0.0)
        ymin = np.minimum.reduceat(yy, starts)
        yptp = np.maximum.reduceat(yy, starts) - ymin
        L0 = np.where(good, c0 + c1 * v + c2 * v * v, ymin)
        k0 = np.where(good, c2, 1e-3 * (yptp + 1e-12))
        p0 = np.column_stack([L0, centre + v, k0])
        res = fit_batch(
            "isoflop_parabola",
            np.exp(tt),
            yy,
            offsets,
            p0,
            weights=ww,
            loss=loss_fn,
            f_scale=f_scale,
            compute_cov=True,
            threads=threads,
        )
        status = res.status.astype(np.int64)
        L_opt, vert, k = res.x[:, 0], res.x[:, 1], res.x[:, 2]
        k = np.where(yptp > 0, k, 0.0)  # equal losses: no minimum (k stays at its tiny start)
        assert res.cov is not None
        with np.errstate(invalid="ignore"):
            se_v = np.sqrt(res.cov[:, 1, 1])
            se_k = np.sqrt(res.cov[:, 2, 2])
        # A 3-point window has no residual degrees of freedom, so the core's se_k is NaN:
        # estimate its noise from the budgets of the same row (same fit) that have some.
        se_k0, exact, se_v0, dof_k = _pooled_se(
            tt - tc_all, ww, starts, n_pts - need, 2.0 * res.cost, status, J, R, k, vert - centre
        )
        se_k = np.where(n_pts == need, se_k0, se_k)
        se_v = np.where(n_pts == need, se_v0, se_v)
        narrow = np.isfinite(se_k) & (k - _narrow_quantile(dof_k) * se_k <= 0)
    else:
        c0, c1, c2, c3 = (coef[:, i] for i in range(4))
        disc = 4 * c2 * c2 - 12 * c3 * c1
        root = np.sqrt(np.maximum(disc, 0.0))
        den = 2 * c2 + root
        with np.errstate(divide="ignore", invalid="ignore"):
            s_min = np.where((disc >= 0) & (den > 0), -2 * c1 / den, np.nan)
        vert = centre + s_min
        L_opt = c0 + c1 * s_min + c2 * s_min**2 + c3 * s_min**3
        k = np.where(np.isfinite(s_min), root / 2, -1.0)
        new_size = np.r_[True, tt[1:] != tt[:-1]]  # a window's points ascend in size
        new_size[starts] = True
        status[np.add.reduceat(new_size.astype(np.int64), starts) < need] = -3  # distinct sizes
        narrow = np.zeros(P, dtype=bool)
        exact = np.zeros(P, dtype=bool)

    # Back to (row, budget) arrays.
    def rb(v: ArrayLike) -> FloatArray:
        return np.asarray(v).reshape(J, R).T

    vert_rb, k_rb, st_rb = rb(vert), rb(k), rb(status)
    flags = np.zeros((R, J), dtype=np.int64)
    failed = (st_rb < 0) | ~np.isfinite(vert_rb)
    flags[failed] |= _FAILED
    flat = ~failed & ~(k_rb > 0)
    flags[flat] |= _FLAT
    ok = ~failed & ~flat
    outside = ok & ((vert_rb < t_lo) | (vert_rb > t_hi))
    flags[outside] |= _OUTSIDE
    n_left = np.zeros((R, J), dtype=np.int64)
    n_right = np.zeros((R, J), dtype=np.int64)
    for j in range(J):
        present = mult[j] > 0
        n_left[:, j] = np.sum(present & (t[j][None, :] < vert_rb[:, j : j + 1] - 1e-12), axis=1)
        n_right[:, j] = np.sum(present & (t[j][None, :] > vert_rb[:, j : j + 1] + 1e-12), axis=1)
    flags[ok & ~outside & (np.minimum(n_left, n_right) < min_side)] |= _OFF_CENTRE
    flags[ok & rb(narrow).astype(bool)] |= _NARROW
    flags[ok & rb(exact).astype(bool)] |= _EXACT
    return {
        "log_N": vert_rb,
        "loss": rb(L_opt),
        "se": rb(se_v),
        "flags": flags,
        "n_window": rb(n_pts),
        "status": st_rb,
    }


def _window_fits(
    t: Sequence[FloatArray], y: Sequence[FloatArray], log_window: float, degree: int
) -> list[tuple[BoolArray, FloatArray, FloatArray, FloatArray]]:
    """Each budget's polynomial least-squares fit in the data's window: (window mask (n_j,),
    fitted values, residuals, leverages (each (n_window,)))."""
    out = []
    for tj, yj in zip(t, y):
        mask, tc = _window_mask(
            tj, yj[None, :], np.ones((1, tj.size), dtype=bool), np.array([log_window]), degree + 1
        )
        win = mask[0]
        X = np.vander(tj[win] - tc[0], degree + 1, increasing=True)
        pinv = np.linalg.pinv(X)
        fitted = X @ (pinv @ yj[win])
        out.append((win, fitted, yj[win] - fitted, np.einsum("ij,ji->i", X, pinv)))
    return out


def _noise_scale(parts: Sequence[tuple[BoolArray, FloatArray, FloatArray, FloatArray]], degree: int) -> float:
    """The residual standard deviation pooled over the budgets whose windows have residual
    degrees of freedom (sum of squared residuals over the sum of ``n_window - degree - 1``);
    NaN when none has any."""
    ssr = sum(float(r @ r) for _, _, r, _ in parts if r.size > degree + 1)
    dof = sum(r.size - degree - 1 for _, _, r, _ in parts if r.size > degree + 1)
    return float(np.sqrt(ssr / dof)) if dof > 0 else float("nan")


def _robust_scale(parts: Sequence[tuple[BoolArray, FloatArray, FloatArray, FloatArray]]) -> float:
    """1.4826 times the median absolute leverage-corrected residual of the window fits (a
    noise scale an outlier does not inflate); NaN without residual degrees of freedom."""
    r = [res[lev < 1 - 1e-9] / np.sqrt(1 - lev[lev < 1 - 1e-9]) for _, _, res, lev in parts]
    allr = np.abs(np.concatenate(r)) if r else np.zeros(0)
    return float(1.4826 * np.median(allr)) if allr.size else float("nan")


def _wild_replicates(
    yj: FloatArray, part: tuple[BoolArray, FloatArray, FloatArray, FloatArray], sigma: float, B: int,
    rng: np.random.Generator,
) -> FloatArray:
    """B wild-bootstrap copies of one budget's losses (B, n_j): in the data's window, fitted
    polynomial plus leverage-corrected residual times a random sign (Rademacher); outside
    the window, the observed losses. A point the window fits exactly (leverage 1, e.g. every
    point of a 3-size window) has no residual to resample: it takes ``sigma``, the noise
    pooled over the budgets that have residual degrees of freedom."""
    win, fitted, res, lev = part
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(lev < 1 - 1e-9, res / np.sqrt(np.maximum(1 - lev, 1e-300)), sigma)
    out = np.repeat(yj[None, :], B, axis=0)
    out[:, win] = fitted[None, :] + r[None, :] * rng.choice([-1.0, 1.0], size=(B, int(win.sum())))
    return out


def _slopes(logC: FloatArray, v: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Weighted least-squares slope and intercept of v (R, J) on logC (J,) per row; w (R, J)
    are weights (0 = excluded). NaN for rows with fewer than 2 distinct budgets."""
    v = np.where(w > 0, v, 0.0)
    sw = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        xm = (w * logC).sum(axis=1) / sw
        ym = (w * v).sum(axis=1) / sw
        dx = logC[None, :] - xm[:, None]
        sxx = (w * dx * dx).sum(axis=1)
        sxy = (w * dx * (v - ym[:, None])).sum(axis=1)
        slope = sxy / sxx
    bad = ((w > 0).sum(axis=1) < 2) | ~(sxx > 1e-12)
    slope[bad] = np.nan
    return slope, ym - slope * xm


@_validate.suggest_argument_names
def fit_isoflop(
    C: ArrayLike,
    N: ArrayLike,
    loss: ArrayLike,
    *,
    window: float = 6.0,
    degree: int = 2,
    exclude: str = "outside",
    weighted: bool = False,
    n_bootstrap: int = 0,
    resample: str = "residuals",
    confidence: float = 0.95,
    interval_method: str = "percentile",
    seed: Union[int, np.random.Generator, None] = 0,
    scan_windows: Iterable[float] = DEFAULT_SCAN_WINDOWS,
    min_side: int = 2,
    on_small: str = "raise",
    loss_fn: str = "linear",
    f_scale: Optional[float] = None,
    nan_policy: str = "raise",
    threads: Optional[int] = None,
    budget_rtol: float = 1e-6,
) -> IsoflopFit:
    """Approach 2: a parabola (or cubic) in ``log N`` per compute budget, its minimum, and
    ``N_opt ∝ C^a`` through the minima.

    Parameters
    ----------
    C, N, loss : array_like
        One row per run: compute budget (FLOP; rows whose C agree within ``budget_rtol``
        form one budget), parameters, final loss.
    window : float
        Fit only the sizes within a factor ``window`` of the budget's lowest-loss size
        (``np.inf``: every size). A wide sweep biases a parabola fitted to every point: the
        IsoFLOP curve is not symmetric in log N, so the bias changes with where the sweep
        sits around the minimum (and tilts ``a`` when that drifts across budgets). A narrow
        window has few points and a noisy minimum. The default 6 (0.78 decades either side)
        is the compromise measured on synthetic sweeps (fixed size grid, optimum drifting
        across the sweep, 0.2-0.5 % noise): bias of ``a`` at most 0.003 against 0.004-0.007
        with every size, at a standard deviation 15-35 % above the all-points fit (windows
        of 3 give 1.6-2.3 times it). On real sweeps the curves are less parabolic than the
        law and the window matters more (Porian et al.'s data: up to 0.08 in ``a``).
        Windows holding fewer than ``degree + 1`` sizes are widened to the nearest
        ``degree + 1``; a parabola on 3 points has no residuals, so its curvature is tested
        against the noise of the fit's other budgets (see :attr:`IsoflopFit.flags`). See
        :attr:`IsoflopFit.window_scan`.
    degree : {2, 3}
        Parabola (the core's ``isoflop_parabola`` model, one batch call for every budget,
        bootstrap replicate and scanned window) or cubic (exact weighted least squares in
        numpy; its minimum is the local minimum of the cubic).
    exclude : {"outside", "off-centre", "none"}
        Budgets left out of the power-law fit: failed or flat fits always; ``"outside"``
        (default) also those whose minimum lies outside the sampled sizes (an
        extrapolation); ``"off-centre"`` also off-centre and narrow ones. Budgets flagged
        ``"exact"`` (3-point windows whose curvature cannot be tested) are never excluded.
    weighted : bool
        Weight budgets by ``1 / se(log N_opt)^2`` (parabola only; budgets without a
        standard error are left out).
    n_bootstrap : int
        Bootstrap replicates of the whole procedure (window choice, fits, exclusion and the
        power law) for an interval on ``a``.
    resample : {"residuals", "points", "budgets"}
        ``"residuals"`` (default): a wild bootstrap — in each budget's window, the fitted
        curve plus its leverage-corrected residuals times random signs; sizes stay as
        designed. ``"points"``: runs resampled with replacement within each budget (a pairs
        bootstrap; it loses sizes, so replicates' minima wander and its intervals are
        conservative). ``"budgets"``: whole budgets resampled (minima not refitted; with
        few budgets its intervals are too narrow). With "residuals" and "points" every
        budget of every replicate is refitted in the same single batch call. Coverage of
        ``a`` (95 % nominal; 500 sweeps of :func:`scalingfit.simulate.isoflop_sweep`, 7
        budgets of 9 sizes, 0.3 % and 1 % noise, optimum centred or 0.3 decades off):
        "residuals" + percentile 0.90-0.95 (intervals 0.017-0.067 wide); "points" 1.00 with
        percentile and 0.99-1.00 with BCa (0.07-0.19 wide: conservative, 2.5-5 times as wide);
        "budgets" 0.87-0.89. "residuals" + BCa under-covers: 0.83-0.88 (see
        ``interval_method``).
    confidence : float
        Of the interval.
    interval_method : {"percentile", "bca"}
        Plain percentile, or bias-corrected and accelerated (Efron 1987; the acceleration
        from a jackknife of the whole procedure, leaving out one run — one budget with
        ``resample="budgets"`` — at a time, fitted in the same batch call). Use BCa with
        ``resample="points"``: resampling runs loses sizes, which biases the replicates (on
        Porian et al.'s sweeps up to three quarters of them fall on one side of the estimate);
        its intervals covered 0.99-1.00 in the simulation above. Not with
        ``resample="residuals"`` (the default): its replicates are generated from the fitted
        curves and scatter about the estimate with no bias to correct, so BCa's ``z0`` (from
        the share of replicates below the estimate) measures noise of the whole procedure
        (window choice, exclusions) instead: its median ``|z0|`` was 0.23, which moved the
        interval by a median 0.12 of its width in a random direction, and coverage fell to
        0.83-0.88 (percentile 0.90-0.95). Keep percentile there.
    seed : int, numpy.random.Generator or None
        Of the bootstrap (default 0: two identical calls give the same interval, as
        everywhere in scalingfit); recorded in :attr:`IsoflopFit.seed`. ``None`` draws one
        from the OS (and records it); a Generator is used as it is (recorded as None).
    scan_windows : iterable of float
        Windows for :attr:`IsoflopFit.window_scan`.
    min_side : int
        A minimum with fewer sampled sizes than this on one side is ``"off-centre"``.
    on_small : {"raise", "skip"}
        A budget with fewer than ``degree + 1`` distinct sizes: ``ValueError``, or skipped
        with a :class:`DataWarning` naming it.
    loss_fn : str
        Loss of the parabola fits: ``"linear"`` (ordinary least squares) or a robust one
        (``"huber"``, ``"soft_l1"``, ``"cauchy"``, ...), which bounds the pull of a run with a
        bad loss (a diverged or mis-logged run). Parabola only.
    f_scale : float, optional
        The robust loss's scale, in units of loss: residuals beyond it count as outliers.
        Default: 1.345 times a robust estimate of the noise (1.4826 times the median
        absolute leverage-corrected residual of the windows' least-squares fits; Huber's
        tuning for 95 % efficiency on normal noise), 1 where the windows have no residuals.
        Ignored with the linear loss.
    nan_policy : {"raise", "omit"}
    threads : int, optional
    budget_rtol : float
        Relative tolerance (in ``[0, 1)``) within which runs' C are one budget: sorted by C,
        a run joins the budget of the run before it when its C is at most ``1 + budget_rtol``
        times that run's (single linkage in ``log C``, so a budget's runs may span more than
        ``1 + budget_rtol`` when each is close to the next); a budget's C is the geometric
        mean of its runs' C (the centre of the ``log C`` the power law is fitted in). The
        default 1e-6 groups only C written to the same budget. C computed per run (``6 N D``
        of the actual runs, or read off a figure) scatters around the sweep's budgets: pass
        e.g. 0.05, the grouping of :func:`scalingfit.plot.plot_isoflop_curves` (on Epoch AI's
        digitised Chinchilla runs it gives budgets spanning up to 1.28x, and groups of
        runs that are off the IsoFLOP budgets, which ``on_small="skip"`` skips; a budget
        bounded by ``1 + budget_rtol`` times its smallest C instead would cut those budgets
        in pieces). A budget
        whose runs' C span more than a factor 1.5 is refused (a ValueError naming
        ``budget_rtol``): such runs spread continuously in C and are not on one budget; mixing
        computes that far apart tilts the curve.

    Warns
    -----
    DataWarning
        Budgets whose minimum is outside the sampled sizes, off-centre, or whose curvature is
        not significant: IsoFLOP minima are biased there; centre those sweeps on the minimum.
    """
    try:
        degree = _validate.integer("degree", degree, least=2, most=3)
    except ValueError:
        raise ValueError(f"degree must be 2 (parabola) or 3 (cubic), got {degree!r}") from None
    weighted = _validate.flag("weighted", weighted)
    if exclude not in _EXCLUDE:
        raise ValueError(
            f"exclude must be one of {', '.join(map(repr, _EXCLUDE))}, got {exclude!r}"
        )
    if resample not in ("points", "residuals", "budgets"):
        raise ValueError(f"resample must be 'points', 'residuals' or 'budgets', got {resample!r}")
    if on_small not in ("raise", "skip"):
        raise ValueError(f"on_small must be 'raise' or 'skip', got {on_small!r}")
    if isinstance(scan_windows, (str, bytes)) or not isinstance(scan_windows, Iterable):
        raise TypeError(f"scan_windows must be an iterable of window factors, got {scan_windows!r}")
    scan_w = _validate.positive("scan_windows", list(scan_windows), allow_inf=True).ravel()
    windows = [float(_validate.positive("window", window, scalar=True, allow_inf=True))]
    windows += [float(w) for w in scan_w]
    for w in windows:
        if not w > 1:
            raise ValueError(f"windows are factors in N and must be > 1, got {w!r}")
    n_bootstrap = _validate.resamples("n_bootstrap", n_bootstrap)
    confidence = _confidence(confidence)
    if interval_method not in ("bca", "percentile"):
        raise ValueError(f"interval_method must be 'bca' or 'percentile', got {interval_method!r}")
    min_side = _validate.integer("min_side", min_side)
    if weighted and degree != 2:
        raise ValueError("weighted=True needs the parabola's standard errors (degree=2)")
    if loss_fn not in LOSSES:
        raise ValueError(f"loss_fn must be one of {', '.join(LOSSES)}, got {loss_fn!r}")
    if loss_fn != "linear" and degree != 2:
        raise ValueError(f"loss_fn={loss_fn!r} needs the parabola (degree=2): the cubic is fitted by "
                         "ordinary least squares")
    if f_scale is not None:
        f_scale = _validate.positive_number(f_scale, "f_scale")
    budget_rtol = _budget_rtol(budget_rtol)
    cols, _ = _validate.columns(
        {"C": C, "N": N, "loss": loss}, nan_policy=nan_policy, positive=("C", "N", "loss"),
        why="it is a compute budget, a size or a loss",
    )
    budgets, gid = _group_budgets(cols["C"], budget_rtol)
    c_lo = np.full(budgets.size, np.inf)
    c_hi = np.zeros(budgets.size)
    np.minimum.at(c_lo, gid, cols["C"])
    np.maximum.at(c_hi, gid, cols["C"])
    wide = np.flatnonzero(c_hi > _MAX_BUDGET_SPAN * c_lo)
    if wide.size:
        j = int(wide[np.argmax(c_hi[wide] / c_lo[wide])])
        raise ValueError(
            f"budget_rtol={_rtol_text(budget_rtol)} chains runs whose C spread continuously into "
            f"{wide.size} budget(s) spanning more than {_MAX_BUDGET_SPAN:g}x (the widest "
            f"{c_lo[j]:.3g} to {c_hi[j]:.3g} FLOP, {int(np.sum(gid == j))} runs): those runs "
            "are not on one IsoFLOP budget; pass a smaller budget_rtol or round C to the "
            "sweep's nominal budgets"
        )
    need = degree + 1
    t: list[FloatArray] = []
    y: list[FloatArray] = []
    keep_b: list[int] = []
    small: list[str] = []
    n_sizes: list[int] = []
    for j in range(budgets.size):
        rows = np.flatnonzero(gid == j)
        order = np.argsort(cols["N"][rows], kind="stable")
        tj = np.log(cols["N"][rows][order])
        ns = np.unique(tj).size
        if ns < need:
            small.append(f"C={budgets[j]:.3g} ({ns} size{'s' if ns != 1 else ''})")
            continue
        keep_b.append(j)
        t.append(tj)
        y.append(cols["loss"][rows][order])
        n_sizes.append(ns)
    if small:
        msg = f"budget(s) with fewer than {need} distinct sizes: {', '.join(small)}"
        rt = _rtol_text(budget_rtol)
        if len(small) > len(budgets) // 2 and budget_rtol < 0.05:  # C computed per run?
            msg += (f" (runs form one budget when their C agree to {rt} relative, budget_rtol; "
                    "if C was computed per run, e.g. as 6ND of the actual runs, and scatters "
                    "around the sweep's budgets, pass budget_rtol=0.05 to group runs whose C "
                    "differ by up to 5% (each from the next), or round C to the sweep's nominal "
                    "budgets)")
        elif len(small) > len(budgets) // 2:
            msg += (f" (with budget_rtol={rt}, runs whose C is within {100 * budget_rtol:g}% of "
                    "the next share a budget: these runs are off the sweep's budgets, or their C "
                    "scatter more than that)")
        if on_small == "raise":
            raise ValueError(
                msg + "; a curve needs at least that many (pass on_small='skip' to skip them)"
            )
        _warnings.warn(msg + "; skipped", DataWarning, stacklevel=2)
    budgets = budgets[keep_b]
    J = budgets.size
    if J < 2:
        raise ValueError(f"approach 2 needs at least 2 budgets with {need}+ sizes, got {J}")
    seed, rng = _seeded(seed)
    B = int(n_bootstrap)
    by_points = resample in ("points", "residuals") and B > 0
    jack = interval_method == "bca" and B > 0
    sizes = [tj.size for tj in t]
    n_total = int(sum(sizes))
    # Replicate rows, all fitted in one batch: the data at `window`; resampled runs
    # ("points"); leave-one-run-out jackknife (BCa with "points"); the window scan.
    # The windows' least-squares fits at the data's window: what the wild bootstrap resamples
    # and the robust loss's default scale is read from (only computed for those)
    wild = resample == "residuals" and B > 0
    robust_default = loss_fn != "linear" and f_scale is None
    parts = _window_fits(t, y, np.log(windows[0]), degree) if wild or robust_default else []
    sigma = _noise_scale(parts, degree)
    no_noise = wild and not np.isfinite(sigma)
    if no_noise:
        _warnings.warn(
            "resample='residuals': no budget's window holds more than the "
            f"{need} sizes the curve needs, so the fits have no residuals to resample and "
            "the interval is NaN; widen window or use resample='points'",
            DataWarning, stacklevel=2,
        )
    if f_scale is None:
        f_scale = 1.0
        if robust_default:  # Huber's tuning: 1.345 noise standard deviations
            rs = _robust_scale(parts)
            f_scale = 1.345 * rs if np.isfinite(rs) and rs > 0 else 1.0
    if resample == "budgets" and B > 0 and J < 3:
        raise ValueError(
            f"resample='budgets' needs at least 3 budgets to resample, got {J} (with 2, half "
            "the replicates hold one budget and the rest repeat the data: a zero-width "
            "interval); use resample='residuals' or 'points'"
        )
    n_boot_rows = B if by_points else 0
    n_jack_rows = n_total if (jack and by_points) else 0
    r_boot = 1
    r_jack = r_boot + n_boot_rows
    r_scan = r_jack + n_jack_rows
    R = r_scan + len(windows) - 1
    log_w = np.full(R, np.log(windows[0]))
    log_w[r_scan:] = [np.log(w) for w in windows[1:]]
    mult = []
    y_rows: list[FloatArray] = []
    first = 0
    for j in range(J):
        n_j = sizes[j]
        m = np.ones((R, n_j), dtype=np.int64)
        yj: FloatArray = y[j]
        if n_boot_rows and resample == "points":
            m[r_boot:r_jack] = rng.multinomial(n_j, np.full(n_j, 1.0 / n_j), size=B)
        elif n_boot_rows:
            yj = np.repeat(y[j][None, :], R, axis=0)
            yj[r_boot:r_jack] = _wild_replicates(y[j], parts[j], sigma if np.isfinite(sigma) else 0.0, B, rng)
        if n_jack_rows:
            m[r_jack + first + np.arange(n_j), np.arange(n_j)] = 0
        first += n_j
        mult.append(m)
        y_rows.append(yj)
    fits = _isoflop_minima(
        t, y_rows, mult, log_w, degree=degree, min_side=min_side, loss_fn=loss_fn,
        f_scale=float(f_scale), threads=threads,
    )
    logC = np.log(budgets)
    excl = _EXCLUDE[exclude]
    usable = (fits["flags"] & excl) == 0
    if weighted:
        with np.errstate(divide="ignore"):
            wts = np.where(
                usable & np.isfinite(fits["se"]) & (fits["se"] > 0), 1.0 / fits["se"] ** 2, 0.0
            )
    else:
        wts = usable.astype(np.float64)
    slope, icpt = _slopes(logC, fits["log_N"], wts)
    a = float(slope[0])
    if not np.isfinite(a):
        raise ValueError(
            "fewer than 2 budgets have a usable minimum (see the flags: "
            + "; ".join(
                f"C={budgets[j]:.3g}: {_flag_names(int(fits['flags'][0, j]))}" for j in range(J)
            )
            + ")"
        )
    G_N = float(np.exp(icpt[0]))
    flags0 = tuple(_flag_names(int(f)) for f in fits["flags"][0])
    _warn_flags(budgets, fits["flags"][0], usable[0])
    a_boot = np.empty(0)
    a_jack = np.empty(0)
    if by_points:
        a_boot = slope[r_boot:r_jack]
        a_jack = slope[r_jack:r_scan]
    elif B:
        # Whole budgets resampled: the minima are not refitted, only the power law.
        cnt = rng.multinomial(J, np.full(J, 1.0 / J), size=B).astype(np.float64)
        a_boot, _ = _slopes(
            logC, np.broadcast_to(fits["log_N"][0], cnt.shape), cnt * wts[0][None, :]
        )
        if jack:
            keep = 1.0 - np.eye(J)
            a_jack, _ = _slopes(
                logC, np.broadcast_to(fits["log_N"][0], keep.shape), keep * wts[0][None, :]
            )
    a_boot = a_boot[np.isfinite(a_boot)] if not no_noise else np.empty(0)
    interval = _interval(a, a_boot, a_jack[np.isfinite(a_jack)], confidence, interval_method)
    scan = {w: float(v) for w, v in zip(windows[1:], slope[r_scan:])}
    failed = (fits["flags"][0] & _FAILED) != 0
    N_opt = np.where(failed, np.nan, np.exp(fits["log_N"][0]))
    return IsoflopFit(
        a=a,
        b=1.0 - a,
        G_N=G_N,
        G_D=float(np.exp(-icpt[0]) / 6.0),
        budgets=budgets,
        N_opt=N_opt,
        D_opt=budgets / (6.0 * N_opt),
        loss_opt=np.where(failed, np.nan, fits["loss"][0]),
        log_N_opt_se=np.where(failed, np.nan, fits["se"][0]),
        n_sizes=np.array(n_sizes, dtype=np.int64),
        n_window=fits["n_window"][0].astype(np.int64),
        flags=flags0,
        used=usable[0] & (wts[0] > 0),
        window=float(window),
        degree=int(degree),
        interval=interval,
        interval_method=interval_method,
        confidence=float(confidence),
        a_bootstrap=a_boot,
        n_bootstrap=int(n_bootstrap),
        resample=resample,
        window_scan=scan,
        seed=seed,
    )


# ------------------------------------------------------------------ optima found elsewhere
@dataclass(frozen=True, eq=False)
class OptimaFit:
    """``N_opt = G_N C^a`` through compute-optimal sizes found by any method.

    Attributes
    ----------
    a, b : float
        Exponents of ``N_opt ∝ C^a`` and ``D_opt ∝ C^b`` (``b = 1 - a``, with ``C = 6 N D``).
    G_N, G_D : float
        ``N_opt = G_N C^a``, ``D_opt = G_D C^b``.
    budgets, N_opt : ndarray (J,)
        The data, ascending in compute.
    log_se : ndarray (J,) or None
        Standard errors of ``log N_opt`` (natural log), when given: the fit is then weighted
        by ``1 / log_se^2``.
    r2 : float
        Unweighted R^2 of the fitted line on ``(log C, log N_opt)`` (as scikit-learn's
        ``LinearRegression.score`` without weights reports it).
    interval : (float, float)
        Interval on ``a`` by :attr:`interval_method` (NaN when it cannot be formed: ``"t"``
        with 2 points, ``"percentile"`` without bootstrap).
    interval_method : str
        ``"t"`` (least squares' Student t interval) or ``"percentile"`` (of the bootstrap's
        replicates); see :func:`fit_optima`.
    confidence : float
    a_bootstrap : ndarray
        ``a`` of every valid replicate.
    n_bootstrap : int
    resample : str
        What the bootstrap redrew: ``"parametric"`` (each ``log N_opt`` from a normal with its
        ``log_se``), ``"budgets"`` (budgets resampled with replacement) or ``"none"``.
    seed : int or None
        The bootstrap's seed (None when a Generator was given).
    """

    a: float
    b: float
    G_N: float
    G_D: float
    budgets: FloatArray
    N_opt: FloatArray
    log_se: Optional[FloatArray]
    r2: float
    interval: tuple[float, float]
    confidence: float
    a_bootstrap: FloatArray
    n_bootstrap: int
    resample: str
    seed: Optional[int] = None
    #: Last, with a default: a result pickled before the field existed reads back with the
    #: method it was made by.
    interval_method: str = "percentile"

    def predict(self, C: ArrayLike) -> FloatArray:
        """Compute-optimal size ``G_N C^a`` at budgets ``C`` (each finite and > 0).

        Parameters
        ----------
        C : array_like
            Training compute budgets in FLOP (finite, > 0).
        """
        c = _validate.positive("C", C)
        return np.asarray(self.G_N * c**self.a)

    def __repr__(self) -> str:
        ci = ""
        if np.all(np.isfinite(self.interval)):
            how = ("t" if self.interval_method == "t"
                   else f"{self.resample} bootstrap {self.interval_method}")
            ci = (f" [{self.interval[0]:.4f}, {self.interval[1]:.4f}] "
                  f"({100 * self.confidence:g}%, {how})")
        w = "weighted" if self.log_se is not None else "unweighted"
        return (f"OptimaFit(a={self.a:.4f}{ci}, G_N={self.G_N:.4g}, {self.budgets.size} budgets, "
                f"{w}, R^2={self.r2:.4f})")


@_validate.suggest_argument_names
def fit_optima(
    C: ArrayLike,
    N_opt: ArrayLike,
    log_se: Optional[ArrayLike] = None,
    *,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    interval_method: Optional[str] = None,
    seed: Union[int, np.random.Generator, None] = 0,
) -> OptimaFit:
    """The power law ``N_opt = G_N C^a`` through compute-optimal sizes found by any method
    (the second stage of approach 2, for optima from interpolation, another paper, ...).

    Least squares of ``log N_opt`` on ``log C``, weighted by ``1 / log_se^2`` when the
    standard errors of ``log N_opt`` are given: Porian et al. (2024)'s weighted fit, which
    on their published optima gives their published exponents to 1e-9.

    The interval on ``a`` (``interval_method``):

    * ``"t"`` (the default without ``log_se``): least squares' Student t interval,
      ``a ± t(n - 2) s / sqrt(sum w (log C - m)^2)`` over the ``n`` optima, ``m`` the
      ``w``-weighted mean of ``log C``, ``s^2 = sum w r^2 / (n - 2)`` from the residuals ``r``
      (``w`` = 1, or ``1 / log_se^2``: then the ``log_se`` are relative). Exact when the
      ``log N_opt`` scatter about the line is normal with one variance (or variances
      proportional to ``log_se^2``); needs no bootstrap; NaN with 2 points.
    * ``"percentile"`` (the default with ``log_se``): percentiles of the ``n_bootstrap``
      replicates (NaN without). With ``log_se`` the replicates are parametric (each
      ``log N_opt`` redrawn from a normal with its standard error, the fit repeated); without,
      the budgets are resampled with replacement (replicates with fewer than 2 distinct
      budgets are dropped).

    Coverage of the nominal 95% interval on ``a``, measured by simulation (``a = 0.5``,
    budgets evenly spaced in ``log C`` over 1e18-1e21, normal scatter in ``log N_opt`` of sd
    0.1, or of sd 0.05-0.2 given as ``log_se`` in the last two columns; 4000 sets per entry,
    2000 replicates per bootstrap; binomial SE 0.0034):

    =======  ==========  ==================  ==========  ==========  ==========
    budgets  t           budgets percentile  parametric  parametric  weighted t
             (default)   (the old default)   (sd 0.1)    (unequal)   (unequal)
    =======  ==========  ==================  ==========  ==========  ==========
    5        0.947       0.893               0.951       0.955       0.951
    7        0.957       0.905               0.950       0.947       0.952
    10       0.952       0.909               0.951       0.948       0.951
    15       0.950       0.911               0.949       0.945       0.948
    =======  ==========  ==================  ==========  ==========  ==========

    The budgets percentile interval is too narrow at these sizes (mean width 0.086 against
    the t interval's 0.107 at 5 budgets, 0.046 against 0.051 at 15): the spread of slopes
    over resampled budgets approximates a heteroscedasticity-robust (HC0) variance, biased
    low with few points, and its percentiles make no allowance for the scatter being
    estimated. It stays available as ``interval_method="percentile"`` (with ``n_bootstrap``);
    under scatter far from normal or of unequal variance the t interval is not exact either
    (not measured here).
    With ``log_se`` known, the parametric interval is narrower than the t (0.072 against
    0.107 at 5 budgets): it takes the standard errors as exact rather than estimating a scale.
    (Porian et al.'s own intervals come from their per-budget bootstrap draws, whose spread
    can be smaller than the ``log_se`` they report, which has a floor: from their stored
    standard errors the parametric interval is up to 3x wider on their RefinedWeb sweeps.)

    Parameters
    ----------
    C, N_opt : array_like (J,)
        Budgets (FLOP) and the compute-optimal size at each (finite, > 0).
    log_se : array_like (J,), optional
        Standard errors of ``log N_opt`` (natural log): weights, and the parametric bootstrap.
    n_bootstrap : int
        Replicates of the bootstrap (0: none), kept in :attr:`OptimaFit.a_bootstrap`; the
        ``"percentile"`` interval is made from them (the ``"t"`` interval does not use them).
    confidence : float
        Of the interval.
    interval_method : {"t", "percentile"}, optional
        How the interval on ``a`` is made (above). Default: ``"t"`` without ``log_se``,
        ``"percentile"`` (of the parametric bootstrap) with it.
    seed : int, numpy.random.Generator or None
        Of the bootstrap (default 0: reproducible); recorded in :attr:`OptimaFit.seed`
        (``None`` draws one from the OS and records it; a Generator is recorded as None).

    Returns
    -------
    OptimaFit

    Raises
    ------
    ValueError
        Naming the argument and index: a value that is not finite, a budget, size or
        standard error <= 0, lengths that differ, fewer than 2 distinct budgets (3 for the
        bootstrap over budgets), a bad ``n_bootstrap``, ``confidence`` or
        ``interval_method``.
    """
    c = _validate.positive("C", C)
    n = _validate.positive("N_opt", N_opt)
    if c.ndim != 1 or n.shape != c.shape:
        raise ValueError(
            f"C and N_opt need one value per budget (1-D, equal lengths), got shapes "
            f"{c.shape} and {n.shape}"
        )
    se = None
    if log_se is not None:
        se = _validate.positive("log_se", log_se)
        if se.shape != c.shape:
            raise ValueError(f"log_se has shape {se.shape} but C has {c.shape}")
    if np.unique(c).size < 2:
        raise ValueError(f"need at least 2 distinct budgets, got {np.unique(c).size}")
    B = _validate.resamples("n_bootstrap", n_bootstrap, most=10_000_000)
    confidence = _confidence(confidence)
    if interval_method is None:
        interval_method = "t" if se is None else "percentile"
    if not isinstance(interval_method, str) or interval_method not in ("t", "percentile"):
        raise ValueError(
            f"interval_method must be 't', 'percentile' or None (t without log_se, percentile "
            f"with it), got {interval_method!r}"
        )
    order = np.argsort(c, kind="mergesort")
    c, n = c[order], n[order]
    se = None if se is None else se[order]
    logC, v = np.log(c), np.log(n)
    w = np.ones_like(v) if se is None else 1.0 / se**2
    slope, icpt = _slopes(logC, v[None, :], w[None, :])
    a, b0 = float(slope[0]), float(icpt[0])
    resid = v - (b0 + a * logC)
    r2 = float(1.0 - np.sum(resid**2) / np.sum((v - v.mean()) ** 2)) if np.ptp(v) > 0 else 1.0
    seed, rng = _seeded(seed)
    a_boot = np.empty(0)
    resample = "none"
    if B:
        if se is not None:
            resample = "parametric"
            vb = v[None, :] + se[None, :] * rng.standard_normal((B, v.size))
            a_boot, _ = _slopes(logC, vb, np.broadcast_to(w, vb.shape))
        else:
            resample = "budgets"
            if np.unique(c).size < 3:
                raise ValueError(
                    f"a bootstrap over budgets needs at least 3 distinct budgets, got "
                    f"{np.unique(c).size} (with 2, every replicate holds one budget or repeats the "
                    "data: a zero-width interval); pass log_se for the parametric bootstrap"
                )
            cnt = rng.multinomial(v.size, np.full(v.size, 1.0 / v.size), size=B)
            cnt = cnt.astype(np.float64)
            a_boot, _ = _slopes(logC, np.broadcast_to(v, cnt.shape), cnt * w[None, :])
        a_boot = a_boot[np.isfinite(a_boot)]
    if interval_method == "t":
        interval = _slope_t_interval(logC, resid, w, a, confidence)
    else:
        interval = _interval(a, a_boot, np.empty(0), confidence, "percentile")
    return OptimaFit(
        a=a, b=1.0 - a, G_N=float(np.exp(b0)), G_D=float(np.exp(-b0) / 6.0), budgets=c,
        N_opt=n, log_se=se, r2=r2, interval=interval, interval_method=interval_method,
        confidence=confidence, a_bootstrap=a_boot, n_bootstrap=B, resample=resample, seed=seed,
    )


def _slope_t_interval(
    x: FloatArray, resid: FloatArray, w: FloatArray, slope: float, confidence: float
) -> tuple[float, float]:
    """Student t interval on the (weighted) least-squares slope of a line: ``slope ± t(n - 2)
    sqrt(s^2 / sum w (x - xbar_w)^2)``, ``s^2 = sum w resid^2 / (n - 2)``; NaN for n <= 2."""
    from .uncertainty import t_quantile

    dof = x.size - 2
    if dof <= 0:
        return (np.nan, np.nan)
    dx = x - np.sum(w * x) / np.sum(w)
    s2 = float(np.sum(w * resid**2)) / dof
    half = t_quantile(0.5 + confidence / 2, dof) * math.sqrt(s2 / float(np.sum(w * dx**2)))
    return (slope - half, slope + half)


def _seeded(
    seed: Union[int, np.random.Generator, None],
) -> tuple[Optional[int], np.random.Generator]:
    """(the seed to record, the generator) for ``seed``: an integer (checked and named) as
    it is, ``None`` as one drawn from the OS (so the result still records the seed it used),
    a Generator as it is (no seed to record)."""
    from .bootstrap import _check_seed, generator

    if isinstance(seed, np.random.Generator):
        return None, seed
    used = _check_seed(seed)
    return used, generator(used)


def _confidence(value: Any) -> float:
    """An interval's confidence: one number in (0, 1) (text a TypeError, naming it)."""
    c = float(_validate.finite("confidence", value, scalar=True))
    if not 0 < c < 1:
        raise ValueError(f"confidence must be in (0, 1), got {value!r}")
    return c


def _interval(
    est: float, boot: FloatArray, jack: FloatArray, confidence: float, method: str
) -> tuple[float, float]:
    """Percentile or BCa interval from bootstrap replicates ``boot`` (and, for BCa, the
    jackknife values ``jack``); NaN without replicates. BCa is
    :mod:`scalingfit.bootstrap`'s (Efron's z0 with ties counted half, the jackknife
    acceleration ``sum d^3 / (6 (sum d^2)^1.5)``, ``d = mean(jack) - jack``)."""
    if boot.size == 0:
        return (np.nan, np.nan)
    if method == "bca":
        from .bootstrap import _interval_rows

        offsets = np.array([0, jack.size], dtype=np.int64)
        lo, hi = _interval_rows("bca", confidence, np.array([est]), boot[None, :], (jack, offsets))[0]
        return (float(lo), float(hi))
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    return (float(np.quantile(boot, lo_q)), float(np.quantile(boot, hi_q)))


def _flag_names(f: int) -> tuple[str, ...]:
    return tuple(name for bit, name in _FLAG_NAMES.items() if f & bit)


def _warn_flags(budgets: FloatArray, flags: IntArray, used: BoolArray) -> None:
    parts = []
    for bit, text in (
        (_OUTSIDE, "the minimum lies outside the sampled sizes (an extrapolation)"),
        (_OFF_CENTRE, "the minimum is near the edge of the sampled sizes (off-centre sweep)"),
        (_NARROW, "the curvature is not significant (sweep too narrow for its noise)"),
        (_FLAT, "no minimum (the curve is not convex)"),
        (_FAILED, "the fit failed"),
    ):
        hit = np.flatnonzero(flags & bit)
        if hit.size:
            cs = ", ".join(f"{budgets[j]:.3g}{'' if used[j] else ' (excluded)'}" for j in hit)
            parts.append(f"{text} at C = {cs}")
    if parts:
        _warnings.warn(
            "IsoFLOP sweeps: " + "; ".join(parts) + ". Parabola minima are biased where the sweep "
            "does not bracket the minimum well; centre such sweeps on the minimum.",
            DataWarning,
            stacklevel=3,
        )
