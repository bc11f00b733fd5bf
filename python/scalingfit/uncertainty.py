"""The cheap alternatives to the bootstrap: Gauss–Newton and sandwich covariances, delta-method
(Wald) intervals, and profile-likelihood intervals.

All work in the space the fit works in (``log model - log y`` under ``log_residuals``) and use
the same objective as the core, ``cost = 1/2 sum w f^2 rho(r^2 / f^2)``. For robust losses the
Gauss–Newton matrix is the iteratively reweighted one, ``H = sum w rho' J J^T`` (as in the core).

- :func:`gauss_newton_cov` — ``s^2 H^-1``, ``s^2 = 2 cost / (n - p)``: right when errors are
  homoskedastic and the model nearly linear over the interval. Here and below ``n`` counts the
  points of positive weight (one of weight 0 adds nothing: the results equal those with it
  dropped) and ``p`` the free parameters.
- :func:`sandwich_cov` — ``H^-1 (sum g_i g_i^T) H^-1`` with per-point (HC0–HC3) or per-run
  (cluster, CR1) scores: robust to heteroskedastic or clustered errors. A cluster-robust one
  carries its ``G - 1`` degrees of freedom into the intervals below; one that is not a
  covariance (not positive semi-definite) is NaN, with a warning.
- :func:`delta_method` — standard error and Wald interval (Student t with ``n - p`` degrees of
  freedom) of any function of the parameters, by central differences; on the log scale for a
  positive quantity (``scale="log"``, the default for those marked positive, such as the
  N_opt and D_opt of ``from scalingfit.bootstrap import Positive, chinchilla_derived``).
- :func:`profile_interval` — the profile-t interval of one parameter (Bates & Watts 1988):
  refits with that parameter fixed, in one core call per trial value, until
  ``tau(v) = sign(v - theta) sqrt(2 (cost(v) - cost) / s^2)`` reaches the t quantile.
  Follows the curvature that Wald intervals ignore.

>>> import numpy as np, scalingfit
>>> from scalingfit import uncertainty
>>> N = np.logspace(7, 10, 8)
>>> y = (1.7 + 400 * N ** -0.34) * (1 + 0.01 * np.random.default_rng(0).standard_normal(8))
>>> f = scalingfit.fit("saturating_power_law", N, y)
>>> pr = uncertainty.profile_interval("saturating_power_law", N, y, "alpha", level=0.9)
>>> bool(pr.lower < f.params["alpha"] < pr.upper)
True
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _stats, _validate, _warnings
from ._custom import CustomModel
from ._fit import (
    DEFAULT_FTOL,
    DEFAULT_GTOL,
    DEFAULT_MAX_ITER,
    DEFAULT_XTOL,
    ModelLike,
    _prepare_points,
    errors_unused,
    fit,
    resolve_model,
    solve,
)
from ._warnings import ConvergenceWarning, DataWarning, UncertaintyWarning
from .losses import rho as loss_rho
from .models import Model
from .results import FitResult

__all__ = [
    "ClusterCovariance",
    "DeltaResult",
    "ProfileResult",
    "delta_method",
    "gauss_newton_cov",
    "profile_interval",
    "sandwich_cov",
    "wald_intervals",
]

FloatArray = NDArray[np.float64]
ParamFunc = Callable[[dict[str, FloatArray]], ArrayLike]


# ------------------------------------------------------------------ quantiles
def t_quantile(q: float, dof: Optional[float]) -> float:
    """Student-t quantile (normal for ``dof`` None or infinite, NaN for ``dof <= 0``), in plain
    Python (:func:`scalingfit._stats.t_quantile`: within 3e-12 of scipy's, without its import)."""
    if not 0 < q < 1:
        raise ValueError(f"q must be a probability in (0, 1), got {q!r}")
    if dof is None or not math.isfinite(dof):
        return statistics.NormalDist().inv_cdf(q)
    if dof <= 0:
        return math.nan
    return _stats.t_quantile(q, float(dof))


# ------------------------------------------------------------------ residuals and Jacobian
@dataclass(frozen=True, eq=False)
class _Pieces:
    r: FloatArray  # residuals in the fit's space
    J: FloatArray  # (n, p) Jacobian of the residuals
    w: FloatArray  # weights (ones when none)
    rho: FloatArray  # (3, n): rho, rho', rho'' at z = r^2 / f^2
    f_scale: float

    @property
    def cost(self) -> float:
        return float(0.5 * self.f_scale**2 * np.sum(self.w * self.rho[0]))

    @property
    def n_eff(self) -> int:
        return int(np.sum(self.w > 0))

    @property
    def H(self) -> FloatArray:
        """The (IRLS) Gauss–Newton matrix sum w rho' J J^T."""
        a = self.w * self.rho[1]
        return np.asarray((self.J * a[:, None]).T @ self.J, dtype=np.float64)

    @property
    def bread(self) -> FloatArray:
        """The derivative of the scores, ``sum w (rho' + 2 z rho'') J J^T`` (``z = r^2 / f^2``):
        the sandwich's bread. With the linear loss it is ``H``; under a robust loss a point in
        the loss's flat part (Huber's linear region) adds nothing, where ``H`` counts it with
        weight ``rho'``."""
        z = (self.r / self.f_scale) ** 2
        a = self.w * (self.rho[1] + 2.0 * z * self.rho[2])
        return np.asarray((self.J * a[:, None]).T @ self.J, dtype=np.float64)

    @property
    def scores(self) -> FloatArray:
        """Per-point gradient contributions g_i = w rho' r J_i, shape (n, p)."""
        return np.asarray(self.J * (self.w * self.rho[1] * self.r)[:, None], dtype=np.float64)


AnyModel = Union[Model, CustomModel]


def _params(m: AnyModel, params: Union[ArrayLike, dict[str, float], FitResult]) -> FloatArray:
    if isinstance(params, FitResult):
        return params.x.copy()
    if isinstance(params, dict):
        missing = [n for n in m.param_names if n not in params]
        unknown = [n for n in params if n not in m.param_names]
        if missing or unknown:
            raise ValueError(f"params must name exactly the parameters of {m.name} "
                             f"({', '.join(m.param_names)}); missing {missing}, unknown {unknown}")
        params = [params[n] for n in m.param_names]
    p = _validate.as_float_array(params, "params").reshape(-1)
    if p.shape != (m.n_params,):
        raise ValueError(f"params must have {m.n_params} entries for {m.name}, got {p.shape[0]}")
    _validate.check_finite(p, "params")
    return p


def _pieces(
    m: AnyModel,
    x: FloatArray,
    y: FloatArray,
    p: FloatArray,
    w: Optional[FloatArray],
    loss: str,
    f_scale: float,
    log_residuals: bool,
) -> _Pieces:
    if isinstance(m, CustomModel):  # its jac, or finite differences inside its bounds
        f, J = m.value_and_jacobian(x, np.broadcast_to(p, (x.shape[0], m.n_params)))
    else:
        f = m.predict(p, x)
        J = m.jacobian(p, x)
    if log_residuals:
        if not (f > 0).all():
            raise ValueError("the model is not positive at every point: log residuals undefined")
        r = np.log(f) - np.log(y)
        J = J / f[:, None]
    else:
        r = f - y
    ww = np.ones_like(y) if w is None else w
    rr = loss_rho(loss, (r / f_scale) ** 2)
    return _Pieces(r=r, J=J, w=ww, rho=rr, f_scale=float(f_scale))


def _free(m: AnyModel, params: Any) -> NDArray[np.bool_]:
    """The parameters a fit varied: all but a FitResult's ``fixed`` ones."""
    held = params.fixed if isinstance(params, FitResult) else ()
    return np.array([n not in held for n in m.param_names])


def _inv(H: FloatArray, free: Optional[NDArray[np.bool_]] = None) -> FloatArray:
    """Inverse of a symmetric positive definite matrix with Jacobi scaling; NaN if singular.
    With ``free``: the inverse of its free rows and columns, 0 in the others (fixed
    parameters have no variance)."""
    if free is not None and not free.all():
        out = np.zeros(H.shape)
        out[np.ix_(free, free)] = _inv(H[np.ix_(free, free)])
        return out
    d = np.sqrt(np.clip(np.diag(H), 0, None))
    if not (d > 0).all():
        return np.full(H.shape, np.nan)
    S = H / np.outer(d, d)
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        return np.full(H.shape, np.nan)
    Li = np.linalg.inv(L)
    return (Li.T @ Li) / np.outer(d, d)  # type: ignore[no-any-return]


def _setup(
    model: ModelLike, x: Any, y: ArrayLike, params: Any, weights: Optional[ArrayLike],
    loss: str, f_scale: float, log_residuals: bool,
) -> tuple[AnyModel, _Pieces]:
    m = resolve_model(model)
    xa, ya, w = _prepare_points(m, x, y, weights, log_residuals)
    p = _params(m, params)
    return m, _pieces(m, xa, ya, p, w, loss, f_scale, log_residuals)


# ------------------------------------------------------------------ covariances
@_validate.suggest_argument_names
def gauss_newton_cov(
    model: ModelLike,
    x: Any,
    y: ArrayLike,
    params: Union[ArrayLike, dict[str, float], FitResult],
    *,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
) -> FloatArray:
    """Gauss–Newton covariance ``s^2 (sum w rho' J J^T)^-1`` with ``s^2 = 2 cost / (n - p)``
    (what :attr:`FitResult.cov` holds), NaN where singular or with no degree of freedom. For a
    FitResult with fixed parameters, over the free ones (``p`` of them; 0 for the fixed).

    Parameters
    ----------
    model : str, Model or CustomModel
        The model (a custom one's Jacobian: its ``jac``, or finite differences).
    x, y : array_like
        The data, as for :func:`scalingfit.fit`.
    params : array_like, dict or FitResult
        The parameters at which the covariance is evaluated (a FitResult: its ``x`` and
        ``fixed``; its loss, weights and ``log_residuals`` are not read, pass them again).
    weights, loss, f_scale, log_residuals :
        The objective, as for :func:`scalingfit.fit`.

    Returns
    -------
    ndarray, shape (n_params, n_params)
    """
    m, pc = _setup(model, x, y, params, weights, loss, f_scale, log_residuals)
    free = _free(m, params)
    dof = pc.n_eff - int(free.sum())
    s2 = 2 * pc.cost / dof if dof > 0 else math.nan
    cov = _inv(pc.H, free)
    return np.where(np.outer(free, free), cov * s2, 0.0)


class ClusterCovariance(np.ndarray):
    """A cluster-robust covariance from :func:`sandwich_cov` with ``groups``: an ndarray of
    shape (p, p) that also carries the number of clusters, so that the intervals built from
    it (:func:`wald_intervals`, :func:`delta_method`) take Student's t on ``dof = G - 1``
    degrees of freedom, the usual reference for cluster-robust inference (Cameron & Miller
    2015), not the ``n - p`` of the points. Views of it (a copy, the transpose) keep the
    attribute; arithmetic and reductions give plain arrays and numbers (a scaled or reduced
    matrix is no longer this covariance), and ``np.asarray(C)`` is the plain matrix."""

    n_groups: int = 0

    def __array_finalize__(self, obj: Any) -> None:
        self.n_groups = int(getattr(obj, "n_groups", 0))

    def __array_wrap__(self, arr: Any, context: Any = None, return_scalar: bool = False) -> Any:
        out = np.asarray(arr)  # a ufunc's or a reduction's result: plain
        return out[()] if return_scalar else out

    @property
    def dof(self) -> Optional[int]:
        """``G - 1``: the t degrees of freedom of intervals from this covariance (None for
        an array that lost its clusters)."""
        return self.n_groups - 1 if self.n_groups > 1 else None

    def __reduce__(self) -> tuple[Any, ...]:
        reduced = super().__reduce__()  # (reconstruct, args, state) for an ndarray
        assert isinstance(reduced, tuple)
        fn, args, state = reduced[:3]
        return fn, args, (state, self.n_groups)

    def __setstate__(self, state: Any) -> None:
        base, self.n_groups = state
        super().__setstate__(base)


#: Leverage (of the sandwich's bread) at which HC2/HC3 give up: their corrections divide a
#: point's score by ``(1 - h)^(1/2)`` or ``(1 - h)``, unbounded at h = 1.
_MAX_LEVERAGE = 1.0 - 1e-8


def _nan_cov(free: NDArray[np.bool_]) -> FloatArray:
    return np.where(np.outer(free, free), math.nan, 0.0)


def _bread_note(pc: _Pieces, a: FloatArray, loss: str) -> str:
    k, n = int(np.sum(a > 1e-12)), pc.n_eff
    if loss == "linear":
        return f"{k} of {n} points carry weight in the bread"
    return (f"only the {k} of {n} points whose residuals lie within f_scale = {pc.f_scale:g} carry "
            f"weight in the bread (a point in the {loss} loss's flat part adds nothing)")


def _psd_or_nan(C: FloatArray, free: NDArray[np.bool_], what: str, note: str) -> FloatArray:
    """``C`` made exactly symmetric, or NaN (with an UncertaintyWarning) when it is not
    positive semi-definite: a negative variance, or a correlation matrix with an eigenvalue
    below -1e-7 of its largest (rounding stays far inside that)."""
    C = 0.5 * (C + C.T)
    sub = C[np.ix_(free, free)]
    if not np.isfinite(sub).all():  # a singular bread: NaN already, as gauss_newton_cov
        return C
    d = np.diag(sub)
    worst = -math.inf
    if (d >= 0).all():
        s = np.sqrt(np.where(d > 0, d, 1.0))
        ev = np.linalg.eigvalsh(sub / np.outer(s, s))
        worst = float(ev[0] / max(ev[-1], 1e-300))
    if worst >= -1e-7:
        return C
    why = ("a variance is negative" if not (d >= 0).all()
           else f"its correlation matrix has an eigenvalue {worst:.2g} of its largest")
    _warnings.warn(f"sandwich_cov: the {what} covariance is not positive semi-definite ({why}); "
                  f"the bread is too poorly determined: {note}. Returned NaN: take intervals from "
                  "scalingfit.bootstrap or profile_interval", UncertaintyWarning, stacklevel=3)
    return _nan_cov(free)


@_validate.suggest_argument_names
def sandwich_cov(
    model: ModelLike,
    x: Any,
    y: ArrayLike,
    params: Union[ArrayLike, dict[str, float], FitResult],
    *,
    groups: Optional[ArrayLike] = None,
    kind: str = "HC1",
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
) -> FloatArray:
    """Heteroskedasticity- (or cluster-) robust sandwich covariance ``B^-1 M B^-1``.

    ``B = sum w (rho' + 2 z rho'') J J^T`` (``z = r^2 / f_scale^2``: the derivative of the
    scores, which under a robust loss is not the Gauss–Newton ``sum w rho' J J^T``; with the
    linear loss the two agree), ``M = sum g_i g_i^T`` with scores ``g_i = w rho' r J_i`` summed
    per run when ``groups`` is given. ``kind``: ``"HC0"`` (none), ``"HC1"`` (``n / (n - p)``;
    for clusters CR1, ``G/(G-1) (n-1)/(n-p)``), ``"HC2"`` (scores / sqrt(1 - h)), ``"HC3"``
    (scores / (1 - h)); HC2 and HC3 are per point only. For a FitResult with fixed
    parameters, over the free ones (``p`` of them; 0 for the fixed).

    With ``groups`` (CR0 with ``kind="HC0"``, CR1 with ``"HC1"``) the result is a
    :class:`ClusterCovariance`, which carries ``G``: :func:`wald_intervals` and
    :func:`delta_method` then use Student's t on ``G - 1`` degrees of freedom, not ``n - p``
    (with 30 runs of 3 checkpoints: t on 29, not 85). Measured (95% nominal): CR1 Wald
    intervals of a Chinchilla fit on 30 such runs covered 0.90-0.93 with t on ``n - p`` and
    0.91-0.94 with ``G - 1`` (1000 data sets); with 4 clusters of 5 points (a 3-parameter
    law, 300 data sets) 0.82-0.91 and 0.92-0.97. Pass ``dof`` to those functions to use
    another.

    NaN (as :func:`gauss_newton_cov`) with no more points of positive weight than free
    parameters: the fit interpolates, its residuals and so the meat are ~0, whatever the
    uncertainty. NaN with an :class:`~scalingfit.UncertaintyWarning` when the result is not
    a covariance (not positive semi-definite: a poorly determined bread, e.g. under Huber
    with a small ``f_scale``, where only the few points inside ``f_scale`` count: Chinchilla
    on 30 runs at 1% noise with ``f_scale=1e-3`` left 5-12 inside, and HC3 gave negative
    variances in 12 of 400 fits) and, for HC2/HC3, when a point has leverage 1 in the bread
    (their correction divides by ``1 - h``; the same Huber fits had one in 54 of 400).

    Parameters
    ----------
    model, x, y, params :
        As for :func:`gauss_newton_cov`.
    groups : array_like, shape (n,), optional
        Run (cluster) label of each point: the scores are summed per run (at least 2 runs).
    kind : {"HC0", "HC1", "HC2", "HC3"}
        The small-sample correction (above).
    weights, loss, f_scale, log_residuals :
        The objective, as for :func:`scalingfit.fit`.

    Returns
    -------
    ndarray or ClusterCovariance, shape (n_params, n_params)
        A :class:`ClusterCovariance` with ``groups``, else a plain ndarray.
    """
    if kind not in ("HC0", "HC1", "HC2", "HC3"):
        raise ValueError(f"kind must be one of HC0, HC1, HC2, HC3, got {kind!r}")
    m, pc = _setup(model, x, y, params, weights, loss, f_scale, log_residuals)
    free = _free(m, params)
    P = int(free.sum())
    n = pc.n_eff
    if n <= P:  # an interpolating fit: zero residuals, a falsely exact (~0) meat; HC1 had no n - p
        return _nan_cov(free)
    Binv = _inv(pc.bread, free)
    a = pc.w * (pc.rho[1] + 2.0 * (pc.r / pc.f_scale) ** 2 * pc.rho[2])  # the bread's weights
    g = pc.scores
    if groups is not None:
        lab = np.asarray(groups)
        if lab.shape != (pc.r.shape[0],):
            raise ValueError(f"groups must have one label per point ({pc.r.shape[0]}), got shape {lab.shape}")
        if kind in ("HC2", "HC3"):
            raise ValueError("HC2/HC3 are per-point corrections; use kind='HC0' or 'HC1' with groups")
        _, codes = np.unique(lab, return_inverse=True)
        codes = codes.reshape(-1)
        G = int(codes.max()) + 1
        if G < 2:  # the scores sum to ~0 at the optimum: one cluster's meat is ~0, falsely exact
            raise ValueError(f"a cluster-robust covariance needs at least 2 groups, got {G}")
        if G <= P:
            _warnings.warn(f"cluster-robust covariance from {G} groups for {P} parameters: its rank is "
                          f"at most {G - 1}, so some variances are falsely small; use more groups or "
                          "the bootstrap over groups", DataWarning, stacklevel=2)
        gs = np.zeros((G, P))
        np.add.at(gs, codes, g)
        meat = gs.T @ gs
        factor = (G / (G - 1)) * ((n - 1) / (n - P)) if kind == "HC1" and G > 1 and n > P else 1.0
        C = _psd_or_nan(Binv @ meat @ Binv * factor, free, "CR" + kind[-1], _bread_note(pc, a, loss))
        out = C.view(ClusterCovariance)
        out.n_groups = G
        return out
    if kind in ("HC2", "HC3"):
        h = np.einsum("ij,jk,ik->i", pc.J, Binv, pc.J) * a
        if np.max(h[np.isfinite(h)], initial=0.0) >= _MAX_LEVERAGE:
            _warnings.warn(f"sandwich_cov: a point has leverage 1 in the bread, so the {kind} "
                          "correction (a division by 1 - h) is unbounded; "
                          f"{_bread_note(pc, a, loss)}. Returned NaN: use kind='HC1', "
                          "scalingfit.bootstrap or profile_interval", UncertaintyWarning, stacklevel=2)
            return _nan_cov(free)
        h = np.clip(h, 0, 1)
        g = g / ((1 - h) ** (0.5 if kind == "HC2" else 1.0))[:, None]
    meat = g.T @ g
    factor = n / (n - P) if kind == "HC1" and n > P else 1.0
    return _psd_or_nan(Binv @ meat @ Binv * factor, free, kind, _bread_note(pc, a, loss))


# ------------------------------------------------------------------ delta method
SCALES: tuple[str, ...] = ("linear", "log")


@dataclass(frozen=True, eq=False)
class DeltaResult:
    """Delta-method estimate, standard error and Wald interval of a function of the parameters.

    ``stderr`` is the delta-method standard error of the quantity itself, ``sqrt(g C g)`` with
    ``g`` its ``gradient``, on either scale. With ``scale="linear"`` the interval is
    ``estimate +- t stderr``; with ``scale="log"`` it is ``estimate * exp(+-t stderr /
    estimate)`` (the Wald interval of ``log q``, whose standard error is ``stderr /
    estimate``, exponentiated): positive, and longer above the estimate than below.

    Attributes
    ----------
    estimate : float
        The quantity at the parameters given.
    stderr : float
        Its delta-method standard error.
    lower, upper : float
        The Wald interval, on ``scale``.
    level : float
        The interval's level.
    gradient : ndarray (n_params,)
        The quantity's gradient in the parameters.
    scale : {"linear", "log"}
        The scale the interval was built on.
    """

    estimate: float
    stderr: float
    lower: float
    upper: float
    level: float
    gradient: FloatArray
    scale: str = "linear"


@_validate.suggest_argument_names
def delta_method(
    fn: Union[ParamFunc, str],
    params: Union[ArrayLike, Mapping[str, float], FitResult],
    cov: Optional[ArrayLike] = None,
    *,
    names: Optional[Sequence[str]] = None,
    level: float = 0.95,
    dof: Optional[float] = None,
    scale: Optional[str] = None,
) -> DeltaResult:
    """Standard error and Wald interval of ``fn(params)`` by the delta method.

    Parameters
    ----------
    fn : callable or str
        ``fn(p) -> value`` with ``p`` mapping parameter names to 1-element arrays (the same
        callables as the bootstrap's ``derived``), or a parameter name.
    params : array_like, mapping or FitResult
        Parameters: values (in the order of ``names``), a mapping ``{name: value}`` (its
        keys are the names), or a FitResult (which also supplies ``cov``, ``names`` and
        ``dof``, its points of positive weight minus its free parameters).
    cov : array_like, optional
        Covariance of the parameters (default: the FitResult's Gauss–Newton covariance). A
        cluster-robust one from :func:`sandwich_cov` (``groups=``) carries its degrees of
        freedom, ``G - 1``, which are then the default ``dof``.
    names : sequence of str, optional
        Parameter names, in the order of ``params`` and ``cov`` (default: a FitResult's or a
        mapping's, else ``p0, p1, ...``).
    level : float in (0, 1)
    dof : float, optional
        Degrees of freedom of the t quantile (default: ``G - 1`` for a cluster-robust
        ``cov``, else a FitResult's :attr:`~scalingfit.FitResult.dof`, else None: normal).
    scale : {"linear", "log"}, optional
        Where the Wald interval is built. ``"log"``: on ``log q``, then exponentiated, for a
        quantity that is positive (``q > 0`` at the estimate, else a ValueError); the
        interval is asymmetric and never reaches 0. Default: ``"log"`` when ``fn`` is marked
        positive (a true ``positive`` attribute, as the ``Positive`` quantities of
        ``chinchilla_derived`` have, both ``from scalingfit.bootstrap import ...``: N_opt,
        D_opt, tokens per parameter, L_opt, and E, A, B of ``chinchilla_lse``), else
        ``"linear"``.
        For a Chinchilla fit on 30 runs (log residuals, 95% nominal) the natural-scale
        interval of tokens per parameter at 1e24 FLOP covered 0.85 at 1% noise and 0.79 at
        2% (N_opt 0.93 / 0.88, D_opt 0.91 / 0.85), every miss above the interval; on the log
        scale all three covered 0.95.

    Returns
    -------
    DeltaResult
        The estimate, its delta-method standard error (of ``q``, on either scale), the
        interval and the gradient of ``q``.

    Examples
    --------
    >>> import numpy as np, scalingfit
    >>> from scalingfit import uncertainty
    >>> from scalingfit.bootstrap import chinchilla_derived
    >>> N = np.repeat(np.logspace(7, 9, 6), 5); D = N * np.tile([5, 10, 20, 40, 80], 6)
    >>> y = (1.69 + 406.4 * N**-0.34 + 410.7 * D**-0.28) * np.exp(
    ...     0.01 * np.random.default_rng(0).standard_normal(30))
    >>> r = scalingfit.fit("chinchilla", (N, D), y, log_residuals=True)
    >>> d = uncertainty.delta_method(chinchilla_derived(1e24)["tokens_per_param"], r)
    >>> d.scale, bool(0 < d.lower < d.estimate < d.upper)
    ('log', True)
    >>> bool(d.upper - d.estimate > d.estimate - d.lower)  # skewed like the quantity
    True
    """
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if dof is not None and not dof > 0:  # a fit's own dof may be 0: NaN interval, as documented
        raise ValueError(f"dof must be > 0 (or None for the normal quantile), got {dof!r}")
    if scale is None:
        scale = "log" if getattr(fn, "positive", False) is True else "linear"
    elif scale not in SCALES:
        raise ValueError(f"scale must be 'linear' or 'log' (or None: log for a quantity marked "
                         f"positive), got {scale!r}")
    if dof is None:
        dof = getattr(cov, "dof", None)  # a cluster-robust covariance's G - 1
    if isinstance(params, FitResult):
        names = params.param_names if names is None else names
        cov = params.cov if cov is None else cov
        if dof is None:
            dof = params.dof
        p = params.x.astype(np.float64)
    elif isinstance(params, Mapping):  # {name: value}, e.g. a FitResult's .params
        if names is None:
            names = tuple(params)
        elif set(names) != set(params):
            raise ValueError(f"params names {sorted(map(str, params))} but names= gives "
                             f"{sorted(names)}: they must be the same parameters")
        p = np.array([float(_validate.finite(f"params[{n!r}]", params[n], scalar=True))
                      for n in names])
    else:
        p = _validate.as_float_array(params, "params").reshape(-1)
    if cov is None:
        raise ValueError("delta_method needs cov (or a FitResult)")
    names = tuple(names) if names is not None else tuple(f"p{i}" for i in range(p.size))
    if len(names) != p.size:
        raise ValueError(f"names has {len(names)} entries for {p.size} parameters")
    C = _user_cov(cov, p.size, names, ", ".join(names))
    if isinstance(fn, str):
        if fn not in names:
            raise ValueError(f"unknown parameter {fn!r}; parameters: {', '.join(names)}")
        name = fn
        func: ParamFunc = lambda q: q[name]
    else:
        func = fn

    def value(v: FloatArray) -> float:
        out = np.asarray(func({n: v[i : i + 1] for i, n in enumerate(names)}), dtype=np.float64)
        return float(out.reshape(-1)[0])

    est = value(p)
    if scale == "log" and est <= 0:  # NaN passes: a NaN result, as on the linear scale
        raise ValueError(f"scale='log' needs a positive quantity, but it is {est!r} at these "
                         "parameters: use scale='linear'")
    sd = np.sqrt(np.clip(np.diag(C), 0, None))
    h = np.where(np.isfinite(sd) & (sd > 0), 1e-4 * sd, 1e-7 * np.maximum(np.abs(p), 1.0))
    grad = np.empty(p.size)
    for i in range(p.size):
        e = np.zeros(p.size)
        e[i] = h[i]
        grad[i] = (value(p + e) - value(p - e)) / (2 * h[i])
    var = float(grad @ C @ grad)
    se = math.sqrt(var) if var >= 0 else math.nan
    tq = t_quantile(1 - (1 - level) / 2, dof)
    if scale == "log":  # d log q = dq / q: the Wald interval of log q, exponentiated
        half = tq * se / est
        if math.isnan(half):
            lo = hi = math.nan
        else:  # exp overflows past ~709: an unbounded upper end
            lo = est * math.exp(-min(half, 700.0))
            hi = est * math.exp(half) if half < 700 else math.inf
        return DeltaResult(est, se, lo, hi, level, grad, scale)
    return DeltaResult(est, se, est - tq * se, est + tq * se, level, grad, scale)


@_validate.suggest_argument_names
def wald_intervals(
    result: FitResult, level: float = 0.95, cov: Optional[ArrayLike] = None, *,
    dof: Optional[float] = None,
) -> dict[str, tuple[float, float]]:
    """Wald intervals ``x +- t_dof se`` of every parameter of a fit (Gauss–Newton
    covariance unless ``cov`` is given). ``dof``, the degrees of freedom of the t quantile:
    by default ``G - 1`` for a cluster-robust ``cov`` from :func:`sandwich_cov` with
    ``groups`` (a :class:`ClusterCovariance`), else the fit's
    :attr:`~scalingfit.FitResult.dof` (its points of positive weight minus its free
    parameters); ``math.inf`` gives the normal quantile.

    Parameters
    ----------
    result : FitResult
        A fit (:func:`scalingfit.fit`); anything else is a TypeError.
    level : float
        The intervals' level, in (0, 1); default 0.95.
    cov : array_like (n_params, n_params), optional
        A covariance of the parameters to use instead of ``result.cov`` (e.g.
        :func:`sandwich_cov`'s), with no negative variance; None (default): ``result.cov``.
    dof : float, optional
        Degrees of freedom of the t quantile (> 0; ``math.inf``: normal); None (default): as
        above.
    """
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not isinstance(result, FitResult):
        raise TypeError(f"result must be a FitResult (scalingfit.fit's), got {type(result).__name__}")
    if dof is not None and not dof > 0:
        raise ValueError(f"dof must be > 0 (math.inf for the normal quantile), got {dof!r}")
    if dof is None:
        dof = getattr(cov, "dof", None)  # a cluster-robust covariance's G - 1
    if dof is None:
        dof = result.dof
    P = len(result.param_names)
    C = result.cov if cov is None else _user_cov(cov, P, result.param_names, result.model)
    se = np.sqrt(np.clip(np.diag(C), 0, None))
    tq = t_quantile(1 - (1 - level) / 2, dof)
    return {n: (float(v - tq * s), float(v + tq * s)) for n, v, s in zip(result.param_names, result.x, se)}


def _user_cov(cov: ArrayLike, P: int, names: Sequence[str], owner: str) -> FloatArray:
    """A (P, P) covariance of the parameters of ``owner`` whose variances are not negative
    (NaN, "not estimable", passes)."""
    C = _validate.as_float_array(cov, "cov")
    if C.shape != (P, P):
        raise ValueError(f"cov must have shape ({P}, {P}) for the parameters of {owner}, got {C.shape}")
    d = np.diag(C)
    if (d < 0).any():
        i = int(np.argmax(d < 0))
        raise ValueError(f"cov is not a covariance: the variance of {names[i]} is {float(d[i])!r} < 0")
    return C


# ------------------------------------------------------------------ profile likelihood
def _check_fit_settings(
    result: FitResult, m: AnyModel, n: int, loss: str, log_residuals: bool,
    lo: FloatArray, hi: FloatArray,
) -> None:
    """A ValueError when ``result`` is not a fit of this model, on these points, with this
    loss, residual space and set of fixed parameters: its cost is the profile's reference,
    so a fit made otherwise gives a meaningless interval (zero-width, without a warning)."""
    if result.model != m.name:
        raise ValueError(f"fit_result is a fit of {result.model!r}, not of {m.name!r}")
    fixed = tuple(name for name, a, b in zip(m.param_names, lo, hi) if a == b)
    differ = [
        f"{what} {theirs!r} (this call: {ours!r})"
        for what, theirs, ours in (
            ("loss", result.loss, loss),
            ("log_residuals", result.log_residuals, log_residuals),
            ("fixed", tuple(sorted(result.fixed)), tuple(sorted(fixed))),
            ("points", result.n_points, n),
        )
        if theirs != ours
    ]
    if differ:
        raise ValueError(
            "fit_result was fitted with other settings than this profile: " + "; ".join(differ)
            + ". Pass the same loss, log_residuals, fixed and data as the fit (or leave "
            "fit_result out to fit here)"
        )


def _check_fit_cost(
    result: FitResult, m: AnyModel, x: FloatArray, y: FloatArray, w: Optional[FloatArray],
    loss: str, f_scale: float, log_residuals: bool,
) -> None:
    """A ValueError unless ``result.cost`` is the cost of ``result.x`` on these data (with this
    loss, f_scale, residual space and weights): a fit of other data with the same settings
    passes :func:`_check_fit_settings`, and its cost, the profile's reference, would give a
    zero-width interval around its own estimate."""
    p = np.asarray(result.x, dtype=np.float64)
    if not np.isfinite(p).all():
        raise ValueError(f"fit_result has non-finite parameters {p.tolist()}: it is not a fit "
                         "to profile (leave fit_result out to fit here)")
    with np.errstate(all="ignore"):
        try:
            cost = _pieces(m, x, y, p, w, loss, f_scale, log_residuals).cost
        except ValueError:  # the model is not positive on these data: not their fit
            cost = math.nan
    ref = float(result.cost)
    if not abs(cost - ref) <= 1e-8 * max(abs(cost), abs(ref)) + 1e-300:
        raise ValueError(
            f"fit_result does not belong to these data: the cost of its parameters on x and y "
            f"is {cost!r}, its recorded cost {ref!r}. Pass the fit of these x, y (and weights, "
            "f_scale), or leave fit_result out to fit here"
        )


@dataclass(frozen=True, eq=False)
class ProfileResult:
    """Profile-t interval of one parameter.

    ``values`` are the trial values of the parameter (sorted) and ``tau`` the signed root
    deviance there; an endpoint is the parameter's bound when the profile stays below the
    threshold up to a finite bound (e.g. ``E = 0`` for an estimate on its lower bound 0), and
    ``-inf``/``+inf`` when it never reaches the threshold (the parameter is not bounded by the
    data at this level).

    Attributes
    ----------
    name : str
        The parameter.
    estimate : float
        Its value at the fit.
    lower, upper : float
        The interval's ends (a finite bound or infinite, as above).
    level : float
        The interval's level.
    threshold : float
        The Student t quantile ``t(1 - (1 - level) / 2)`` on the fit's residual degrees of
        freedom that ``|tau|`` must reach at an end.
    values : ndarray
        Trial values of the parameter, sorted.
    tau : ndarray
        Signed root deviance at each of ``values``.
    """

    name: str
    estimate: float
    lower: float
    upper: float
    level: float
    threshold: float
    values: FloatArray
    tau: FloatArray


@_validate.suggest_argument_names
def profile_interval(
    model: ModelLike,
    x: Any,
    y: ArrayLike,
    param: str,
    *,
    level: float = 0.95,
    fit_result: Optional[FitResult] = None,
    p0: Optional[ArrayLike] = None,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
    bounds: _validate.BoundsLike = None,
    fixed: _validate.FixedLike = None,
    max_steps: int = 40,
    rtol: float = 1e-6,
    max_iter: int = DEFAULT_MAX_ITER,
    ftol: float = DEFAULT_FTOL,
    xtol: float = DEFAULT_XTOL,
    gtol: float = DEFAULT_GTOL,
) -> ProfileResult:
    """Profile-likelihood (profile-t) interval of one parameter.

    The parameter is fixed at trial values (bounds lo = hi) and the others refitted, each
    trial warm-started from the previous one. The endpoints solve ``|tau(v)| = t_{n-p}``
    (``1 - (1 - level)/2`` quantile) by stepping out in half standard errors, then bisection to
    ``rtol`` standard errors. Under a robust loss the same statistic is used with its
    reweighted scale (an approximation). ``fixed`` holds other parameters at a value
    throughout (see :func:`scalingfit.fit`); the degrees of freedom count the free ones.

    Parameters
    ----------
    model : str, Model or CustomModel
        The model (a custom one needs ``p0`` or ``fit_result``; its constrained fits run on
        the numpy solver).
    x, y : array_like
        The data, as for :func:`scalingfit.fit`.
    param : str
        The parameter to profile.
    level : float in (0, 1)
        Confidence level of the interval.
    fit_result : FitResult, optional
        The fit of these data to start from (saves one fit). It must be the fit of these
        ``x``, ``y`` (and ``weights``) with the same ``loss``, ``f_scale``,
        ``log_residuals`` and fixed parameters: its cost is the profile's reference, so it is
        recomputed at its parameters here and a fit of other data is a ValueError (it would
        give a zero-width interval around its own estimate). Omitted: fitted here.
    p0 : array_like, optional
        Start of that fit (omitted: the model's data-driven guesses).
    weights, loss, f_scale, log_residuals, bounds, fixed :
        The objective and constraints, as for :func:`scalingfit.fit` (used by the fit and by
        every constrained refit).
    max_steps : int
        Steps of half a standard error (doubling after 8) out from the estimate on each side
        before an endpoint is reported as infinite (with a ConvergenceWarning).
    rtol : float
        Bisection tolerance of the endpoints, in standard errors.
    max_iter, ftol, xtol, gtol :
        Stopping rules of every fit (see :func:`scalingfit.fit`).

    Returns
    -------
    ProfileResult
        The estimate, the interval (the bound for an endpoint the data do not bound before a
        finite bound, ``-inf``/``+inf`` for one they do not bound at all, NaN where a
        constrained fit failed), and the profile trace.

    Raises
    ------
    ValueError
        An unknown or fixed ``param``, ``level`` outside (0, 1), no more points than free
        parameters, an exact fit (no residual scatter), or a ``fit_result`` of another model,
        other settings or other data.
    """
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    m = resolve_model(model)
    if param not in m.param_names:
        raise ValueError(f"unknown parameter {param!r}; {m.name} has {', '.join(m.param_names)}")
    k = m.param_names.index(param)
    if int(max_steps) < 1:
        raise ValueError(f"max_steps must be >= 1 (half-standard-error steps out from the estimate), got {max_steps!r}")
    xa, ya, w = _prepare_points(m, x, y, weights, log_residuals)
    n = int(ya.shape[0]) if w is None else int(np.sum(w > 0))
    lo, hi = _validate.as_bounds(bounds, m, fixed)
    if lo[k] == hi[k]:
        raise ValueError(f"{param} is fixed at {float(lo[k])!r}: it has no interval to profile")
    P = _validate.n_free(lo, hi)
    if n <= P:
        raise ValueError(f"a profile interval needs more points than free parameters ({P}), got {n}")
    if fit_result is not None:
        _check_fit_settings(fit_result, m, int(ya.shape[0]), loss, log_residuals, lo, hi)
        _check_fit_cost(fit_result, m, xa, ya, w, loss, f_scale, log_residuals)
    else:
        with errors_unused():  # the profile is the interval, not the fit's stderr
            fit_result = fit(m, xa, ya, p0, weights=w, loss=loss, f_scale=f_scale, bounds=(lo, hi),
                             log_residuals=log_residuals, max_iter=max_iter, ftol=ftol, xtol=xtol,
                             gtol=gtol)
    theta = fit_result.x.copy()
    cost0 = float(fit_result.cost)
    s2 = 2 * cost0 / (n - P)
    if not s2 > 0:
        raise ValueError(
            f"the fit is exact (cost {cost0!r}): with no residual scatter the profile has no scale, "
            "so there is no interval to compute"
        )
    thr = t_quantile(1 - (1 - level) / 2, n - P)
    se = float(np.sqrt(fit_result.cov[k, k])) if np.isfinite(fit_result.cov[k, k]) else math.nan
    if not (se > 0):
        se = 1e-3 * max(abs(theta[k]), 1e-3)
    off = np.array([0, ya.shape[0]], dtype=np.int64)
    prob = np.zeros(1, dtype=np.int64)
    trace: dict[float, float] = {float(theta[k]): 0.0}

    def constrained(v: float, start: FloatArray) -> tuple[float, FloatArray]:
        lo_k, hi_k = lo.copy(), hi.copy()
        lo_k[k] = hi_k[k] = v
        p_start = np.clip(start, lo_k, hi_k)
        p_start[k] = v
        res = solve(
            m, xa, ya, w, off, prob, np.ascontiguousarray(p_start.reshape(1, -1)), lo_k, hi_k,
            loss=loss, f_scale=f_scale, log_residuals=log_residuals, threads=1,
            compute_cov=False, max_iter=max_iter, ftol=ftol, xtol=xtol, gtol=gtol,
        )
        c = float(res.cost[0])
        ok = res.status[0] >= 0 and math.isfinite(c)
        d = max(c - cost0, 0.0)
        tau = math.copysign(math.sqrt(2 * d / s2), v - theta[k]) if ok else math.nan
        trace[float(v)] = tau
        return tau, res.x[0]

    def endpoint(direction: float) -> float:
        limit = hi[k] if direction > 0 else lo[k]
        prev_v, prev_p = float(theta[k]), theta.copy()
        step = 0.5 * se
        for _ in range(max_steps):
            v = prev_v + direction * step
            if (direction > 0 and v >= limit) or (direction < 0 and v <= limit):
                v = float(limit)
                if not math.isfinite(v):
                    break
            tau, p = constrained(v, prev_p)
            if math.isnan(tau):
                _warnings.warn(
                    f"profile of {param}: the constrained fit failed at {v!r}; endpoint unknown",
                    ConvergenceWarning, stacklevel=3,
                )
                return math.nan
            if abs(tau) >= thr:
                a, b, pa = prev_v, v, prev_p  # bracket: |tau(a)| < thr <= |tau(b)|
                for _ in range(200):
                    if abs(b - a) <= rtol * se:
                        break
                    mid = 0.5 * (a + b)
                    tm, pm = constrained(mid, pa)
                    if math.isnan(tm) or abs(tm) >= thr:
                        b = mid
                    else:
                        a, pa = mid, pm
                return 0.5 * (a + b)
            if v == limit:  # a finite bound inside the region: every value up to it is in
                return float(limit)
            prev_v, prev_p = v, p
            if _ > 8:
                step *= 2.0  # a flat profile: widen the search
        else:
            _warnings.warn(
                f"profile of {param}: {max_steps} steps {'up' if direction > 0 else 'down'} to "
                f"{prev_v!r} did not reach the threshold (|tau| {abs(tau):.3g} < {thr:.3g}); the "
                f"{'upper' if direction > 0 else 'lower'} endpoint is reported as "
                f"{'+' if direction > 0 else '-'}inf: raise max_steps to search further",
                ConvergenceWarning, stacklevel=3,
            )
        return direction * math.inf

    lower = endpoint(-1.0)
    upper = endpoint(+1.0)
    vals = np.array(sorted(trace))
    taus = np.array([trace[v] for v in vals])
    return ProfileResult(param, float(theta[k]), lower, upper, level, thr, vals, taus)
