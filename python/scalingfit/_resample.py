"""Many problems, their multi-start point fits and bootstrap resamples, in two batched calls.

The analyses (``kaplan``, ``emergence``, ``curves``, ``testtime``) all need the same thing:
fit a law to several problems at once (sizes of a sweep, tasks, runs, curves) and put an
interval on each parameter and on quantities derived from it. This module is the one place
that does it.

The point fits of all problems (every start of each) are one ``fit_batch`` call; all
resamples of all problems are then one :func:`scalingfit.bootstrap.bootstrap_batch` call,
warm-started at the point fits (counter-based resamples regenerated inside the core: points,
groups, residuals or wild; nothing copied). Intervals are percentile intervals of the
replicates; a problem whose point fit failed has NaN replicates.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate, _warnings
from ._fit import _prepare_points, all_starts, fit_batch, resolve_model
from ._status import SINGULAR
from ._warnings import ConvergenceWarning, IdentifiabilityWarning
from .bootstrap import MIN_GROUPS, _check_level, _check_seed, bootstrap_batch
from .models import Model
from .uncertainty import t_quantile

FloatArray = NDArray[np.float64]
BoundsLike = _validate.BoundsLike


def percentile_interval(samples: ArrayLike, level: float = 0.95, axis: int = 0) -> FloatArray:
    """Percentile interval of ``samples`` along ``axis`` (NaN replicates ignored).

    Returns an array with a leading axis of length 2: (lower, upper).

    >>> percentile_interval(np.arange(101.0), 0.9)
    array([ 5., 95.])
    """
    level = _check_level(level)
    s = np.asarray(samples, dtype=np.float64)
    a = 50.0 * (1.0 - level)
    return _validate.nan_percentile(s, [a, 100.0 - a], axis)  # all-NaN slices give NaN


@dataclass(frozen=True, eq=False)
class ManyFits:
    """Point fits of ``n_problems`` problems and, optionally, their resampled refits.

    Attributes
    ----------
    model : str
    param_names : tuple of str
    params : ndarray (n_problems, n_params)
        Best start of each problem on its data: converged, or converged with a singular
        ``J^T J`` (status -2, kept: the curve is a least-squares solution even when a parameter
        is not identifiable); NaN where the fit failed.
    cost, status : ndarray (n_problems,)
    cov : ndarray (n_problems, n_params, n_params)
        Gauss–Newton covariance of the point fits.
    samples : ndarray (n_problems, n_resamples, n_params) or None
        Refits on resampled data; NaN where the replicate failed.
    n_failed : ndarray (n_problems,) of int
        Failed replicates per problem (never silently inside an interval).
    seed : int
    level : float
        Default level of :meth:`interval`.
    dof : ndarray (n_problems,) of int, optional
        Residual degrees of freedom of each point fit (points of positive weight minus free
        parameters): the Gauss–Newton intervals use Student's t with them (normal when None).
    """

    model: str
    param_names: tuple[str, ...]
    params: FloatArray
    cost: FloatArray
    status: NDArray[np.int32]
    cov: FloatArray
    samples: Optional[FloatArray]
    n_failed: NDArray[np.int64]
    seed: int
    level: float = 0.95
    dof: Optional[NDArray[np.int64]] = None

    @property
    def n_problems(self) -> int:
        return int(self.params.shape[0])

    @property
    def success(self) -> NDArray[np.bool_]:
        return self.status > 0

    @property
    def stderr(self) -> FloatArray:
        """Gauss–Newton standard errors, (n_problems, n_params)."""
        d = np.diagonal(self.cov, axis1=1, axis2=2).copy()
        d[~(d >= 0)] = np.nan
        return np.sqrt(d)

    def index(self, name: str) -> int:
        try:
            return self.param_names.index(name)
        except ValueError:
            raise ValueError(f"{self.model} has no parameter {name!r}; it has {self.param_names}") from None

    def interval(self, name: str, level: Optional[float] = None) -> FloatArray:
        """Interval of parameter ``name`` per problem, shape (n_problems, 2).

        Percentile bootstrap when resamples exist, else the Gauss–Newton interval with
        Student's t quantile on each fit's residual degrees of freedom.
        """
        lvl = self.level if level is None else level
        j = self.index(name)
        if self.samples is not None:
            return percentile_interval(self.samples[:, :, j], lvl, axis=1).T
        z = two_sided_quantile(lvl, self.dof)
        se = self.stderr[:, j]
        return np.column_stack([self.params[:, j] - z * se, self.params[:, j] + z * se])

    def derived(
        self, func: Callable[[FloatArray], FloatArray], level: Optional[float] = None
    ) -> tuple[FloatArray, Optional[FloatArray]]:
        """A derived quantity ``func(params)`` (vectorised over leading axes) at the point fits,
        and its percentile interval over resamples (None without resamples).

        Returns ``(value, interval)`` with ``value`` of shape ``(n_problems, ...)`` and
        ``interval`` of shape ``(n_problems, 2, ...)``.
        """
        lvl = self.level if level is None else level
        with np.errstate(all="ignore"):
            value = np.asarray(func(self.params))
            if self.samples is None:
                return value, delta_interval(func, self.params, self.cov, lvl, self.dof)
            s = np.asarray(func(self.samples))  # (n_problems, n_resamples, ...)
        return value, np.moveaxis(percentile_interval(s, lvl, axis=1), 0, 1)

    def problem(self, j: int, model: Optional[object] = None) -> LawFit:
        """Problem ``j`` as a :class:`LawFit`."""
        return LawFit(
            model=self.model, param_names=self.param_names, x=self.params[j], cov=self.cov[j],
            status=int(self.status[j]), cost=float(self.cost[j]),
            samples=None if self.samples is None else self.samples[j],
            n_failed=int(self.n_failed[j]), level=self.level,
            dof=None if self.dof is None else int(self.dof[j]),
        )


def two_sided_quantile(level: float, dof: Union[None, int, NDArray[np.int64]] = None) -> Any:
    """The quantile of a two-sided interval at ``level``: Student's t on ``dof`` residual
    degrees of freedom (a number, or an array: one quantile each; NaN where ``dof <= 0``), the
    normal's without ``dof`` (1.96 at 0.95)."""
    z = normal_z(level)
    if dof is None:
        return z
    d = np.asarray(dof)
    if not d.ndim:
        return _t_two_sided(float(level), int(d))
    u, inv = np.unique(d, return_inverse=True)
    return np.array([_t_two_sided(float(level), int(v)) for v in u])[inv.reshape(d.shape)]


@functools.lru_cache(maxsize=1024)
def _t_two_sided(level: float, dof: int) -> float:
    """Student's t quantile of a two-sided ``level`` interval on ``dof`` (NaN for dof <= 0),
    cached: fits of one sweep share a few point counts, and a quantile costs ~0.1 ms."""
    return t_quantile(0.5 + level / 2, dof) if dof > 0 else float("nan")


def delta_interval(
    func: Callable[[FloatArray], FloatArray], params: FloatArray, cov: FloatArray, level: float,
    dof: Union[None, int, NDArray[np.int64]] = None,
) -> FloatArray:
    """Delta-method interval of ``func(params)`` from the Gauss–Newton covariance, with a
    central-difference gradient and Student's t on ``dof`` (per leading index; normal without).
    ``params`` (..., P), ``cov`` (..., P, P); returns (..., 2, *func_shape)."""
    p = np.asarray(params, dtype=np.float64)
    P = p.shape[-1]
    with np.errstate(all="ignore"):
        f0 = np.asarray(func(p))
        grads = []
        for a in range(P):
            h = 1e-6 * np.maximum(np.abs(p[..., a]), 1e-8)
            pp, pm = p.copy(), p.copy()
            pp[..., a] += h
            pm[..., a] -= h
            d = (np.asarray(func(pp)) - np.asarray(func(pm)))
            grads.append(d / (2 * h).reshape(h.shape + (1,) * (d.ndim - h.ndim)))
        G = np.stack(grads, axis=-1)  # (..., *fshape, P)
        extra = f0.ndim - (p.ndim - 1)
        C = cov.reshape(cov.shape[:-2] + (1,) * extra + (P, P))
        var = np.einsum("...a,...ab,...b->...", G, C, G)
        se = np.sqrt(np.where(var >= 0, var, np.nan))
    z = np.asarray(two_sided_quantile(level, dof))
    z = z.reshape(z.shape + (1,) * (se.ndim - z.ndim))
    return np.stack([f0 - z * se, f0 + z * se], axis=p.ndim - 1)


@dataclass(frozen=True, eq=False)
class LawFit:
    """One fitted law with its uncertainty (a problem of a :class:`ManyFits`).

    Attributes
    ----------
    model : str
    param_names : tuple of str
    x : ndarray (n_params,)
        Parameters at the point fit.
    cov : ndarray (n_params, n_params)
        Gauss–Newton covariance.
    status : int
    cost : float
    samples : ndarray (n_resamples, n_params) or None
        Bootstrap refits (NaN where a replicate failed).
    n_failed : int
    level : float
    dof : int, optional
        Residual degrees of freedom of the point fit: Student's t for the Gauss–Newton
        intervals (normal when None).
    """

    model: str
    param_names: tuple[str, ...]
    x: FloatArray
    cov: FloatArray
    status: int
    cost: float
    samples: Optional[FloatArray]
    n_failed: int
    level: float = 0.95
    dof: Optional[int] = None

    @property
    def params(self) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.param_names, self.x)}

    @property
    def success(self) -> bool:
        return self.status > 0

    @property
    def stderr(self) -> FloatArray:
        d = np.diag(self.cov).copy()
        d[~(d >= 0)] = np.nan
        return np.sqrt(d)

    def interval(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """Percentile bootstrap interval of one parameter (Gauss–Newton with Student's t on the
        fit's residual degrees of freedom without resamples)."""
        if name not in self.param_names:
            raise ValueError(f"{self.model} has no parameter {name!r}; it has {', '.join(self.param_names)}")
        lo, hi = self.derived(lambda p: p[..., self.param_names.index(name)], level)[1]
        return float(lo), float(hi)

    def derived(
        self, func: Callable[[FloatArray], FloatArray], level: Optional[float] = None
    ) -> tuple[FloatArray, FloatArray]:
        """``func(params)`` at the point fit and its interval (bootstrap percentile, or delta
        method without resamples); ``func`` must be vectorised over leading axes."""
        lvl = self.level if level is None else level
        with np.errstate(all="ignore"):
            value = np.asarray(func(self.x))
            if self.samples is None:
                return value, delta_interval(func, self.x, self.cov, lvl, self.dof)
            return value, percentile_interval(np.asarray(func(self.samples)), lvl, axis=0)

    def predict(self, x: object) -> FloatArray:
        """The law at inputs ``x`` (as ``scalingfit.fit`` accepts them; a scalar is one point)."""
        from .models import get

        m = get(self.model)
        out = m.predict(self.x, _validate.as_inputs(_points(x), m))
        return out[0] if _is_scalar(x) else out

    def band(self, x: object, level: Optional[float] = None) -> FloatArray:
        """Interval of the prediction at each input, shape (2, n) ((2,) for a scalar):
        percentiles of the resampled curves (delta method without resamples)."""
        from .models import get

        m = get(self.model)
        xa = m._args(self.x, _validate.as_inputs(_points(x), m))[0]  # read and checked as predict does

        def f(p: FloatArray) -> FloatArray:
            flat = p.reshape(-1, p.shape[-1])
            good = np.isfinite(flat).all(axis=1)
            out = np.full((flat.shape[0], xa.shape[0]), np.nan)
            out[good] = m.predict_many(flat[good], xa)  # one core call for every resample
            return out.reshape(p.shape[:-1] + (xa.shape[0],))

        band = self.derived(f, level)[1]
        return band[:, 0] if _is_scalar(x) else band

    def __repr__(self) -> str:
        rows = []
        for i, n in enumerate(self.param_names):
            lo, hi = self.interval(n)
            rows.append({"param": n, "value": float(self.x[i]), "stderr": float(self.stderr[i]),
                         "lower": lo, "upper": hi})
        kind = f"bootstrap, {self.samples.shape[0]} resamples, {self.n_failed} failed" \
            if self.samples is not None else "Gauss-Newton"
        return (f"LawFit(model={self.model!r}, status={self.status}, "
                f"{round(100 * self.level)}% intervals: {kind})\n" + table(rows))


def normal_z(level: float) -> float:
    """The normal quantile of a two-sided interval at ``level`` (1.96 at 0.95); ``level`` is
    checked and named."""
    return NormalDist().inv_cdf(0.5 + _check_level(level) / 2)


def resample_weights(n: int, n_resamples: int, rng: np.random.Generator) -> FloatArray:
    """Integer weights (n_resamples, n): each row counts how often a point was drawn in a
    bootstrap resample of the same size."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)


def _is_scalar(x: object) -> bool:
    return isinstance(x, (int, float, np.number)) or (isinstance(x, np.ndarray) and x.ndim == 0)


def _points(x: Any) -> Any:
    """A scalar input becomes one point."""
    return np.atleast_1d(np.asarray(x, dtype=np.float64)) if _is_scalar(x) else x


def _starts(  # type: ignore[no-untyped-def]
    m, data: Sequence[tuple[FloatArray, FloatArray, FloatArray]], extras: Sequence[Optional[FloatArray]],
    lo: FloatArray, hi: FloatArray, guess: bool
) -> list[FloatArray]:
    """Start vectors of each problem, clipped into the bounds: its extra starts, then (with
    ``guess``) the model's data-driven ones, computed for all problems at once
    (:func:`all_starts`); possibly none (the problem then has no item and reports status -3)."""
    n_prob = len(data)
    found: list[list[FloatArray]] = [[] for _ in range(n_prob)]
    for j, extra in enumerate(extras):
        if extra is not None:
            found[j].append(extra)
    if guess and getattr(m, "guess", None) is not None:
        sizes = np.array([d[1].shape[0] for d in data], dtype=np.int64)
        off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        x = np.vstack([d[0].reshape(-1, m.n_inputs) for d in data])
        g, prob = all_starts(m, x, np.concatenate([d[1] for d in data]), off, m.lower, m.upper)
        cut = np.searchsorted(prob, np.arange(n_prob + 1))
        for j in range(n_prob):
            if cut[j + 1] > cut[j]:
                found[j].append(g[cut[j]:cut[j + 1]])
    out = []
    for j, rows in enumerate(found):
        if not rows:
            if getattr(m, "guess", None) is None and extras[j] is None:
                raise ValueError(f"model {m.name!r} needs starts (p0): it has no initial guess")
            out.append(np.zeros((0, lo.shape[0])))
            continue
        P = np.clip(np.vstack(rows), lo, hi)
        out.append(P[np.all(np.isfinite(P), axis=1)])
    return out


def _start_rows(a: ArrayLike, P: int, model: str, what: str) -> FloatArray:
    """Starts as (k, P) rows; a length that is not a multiple of P is named."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape[-1:] != (P,) or arr.ndim > 2:
        raise ValueError(f"{what} must have shape ({P},) or (k, {P}) for the {P} parameters of {model}, "
                         f"got shape {arr.shape}")
    return arr.reshape(-1, P)


def fit_many(
    model: Union[str, object],
    xs: Sequence[ArrayLike],
    ys: Sequence[ArrayLike],
    *,
    weights: Optional[Sequence[Optional[ArrayLike]]] = None,
    p0: Optional[ArrayLike] = None,
    p0s: Optional[Sequence[Optional[ArrayLike]]] = None,
    guess: bool = True,
    n_resamples: int = 0,
    scheme: str = "points",
    groups: Optional[Sequence[Optional[ArrayLike]]] = None,
    seed: int = 0,
    level: float = 0.95,
    bounds: BoundsLike = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
    max_iter: int = 500,
    threads: Optional[int] = None,
    warn: bool = True,
    names: tuple[str, str] = ("xs", "ys"),
    one_names: tuple[str, str] = ("x", "y"),
) -> ManyFits:
    """Fit ``model`` to each problem ``(xs[j], ys[j])`` and to ``n_resamples`` seeded
    resamples of each: one batch call for the point fits, one for all replicates.

    Parameters
    ----------
    xs, ys : sequences of arrays
        One entry per problem (``x`` as ``fit`` accepts it).
    weights : sequence of arrays or None, optional
        Per-point weights of each problem.
    p0 : array_like, optional
        Extra starts, ``(n_params,)`` or ``(k, n_params)``, for every problem.
    p0s : sequence of array_like or None, optional
        Extra starts per problem (added to ``p0``).
    guess : bool
        Also start from the model's data-driven guesses (default).
    n_resamples : int
        Bootstrap replicates per problem (0: point fits and Gauss–Newton intervals only).
    scheme : {"points", "residuals", "wild"}
        ``"points"``: resample points (or, with ``groups``, whole groups: a cluster
        bootstrap). ``"residuals"``: keep the design fixed and add resampled, leverage-adjusted
        residuals of the point fit (in log space with ``log_residuals``); every design point
        stays, but with few points its percentile intervals are too narrow (0.88-0.90 of 95%
        at 8 points; see :mod:`scalingfit.bootstrap`). ``"wild"``: Rademacher multipliers on
        each residual (0.85-0.89 there).
    groups : sequence of arrays, optional
        Group label per point of each problem: resample whole groups (cluster bootstrap; only
        with ``scheme="points"``).
    seed : int
        Replicate r of problem j depends only on ``(seed, j, r)``.
    names, one_names : pairs of str
        How error messages name the data: ``xs[j]`` and ``ys[j]`` (``names``) of several
        problems, ``x`` and ``y`` (``one_names``) of one; callers pass their own arguments'
        names (``losses``, ``L``).

    Returns
    -------
    ManyFits
        A problem whose targets do not vary leaves some parameters undetermined (a sigmoid's
        ``k`` and ``log_x0``, :data:`FLAT_UNPINNED`): they are NaN (in ``params``, ``cov`` and
        ``samples``), its status SINGULAR (-2), with an IdentifiabilityWarning when ``warn``.

    Examples
    --------
    >>> x = np.logspace(6, 9, 8); rng = np.random.default_rng(0)
    >>> ys = [2 + 300 * x ** -0.3 * (1 + 0.002 * rng.standard_normal(8)) for _ in range(3)]
    >>> r = fit_many("saturating_power_law", [x] * 3, ys, n_resamples=50, seed=1)
    >>> r.params.shape, r.samples.shape
    ((3, 3), (3, 50, 3))
    """
    guess, warn = _validate.flag("guess", guess), _validate.flag("warn", warn)
    log_residuals = _validate.flag("log_residuals", log_residuals)
    schemes = {"points": "points", "residuals": "residual", "residual": "residual", "wild": "wild"}
    if scheme not in schemes:
        raise ValueError(f"scheme must be one of {sorted(schemes)}, got {scheme!r}")
    if groups is not None and schemes[scheme] != "points" and any(g is not None for g in groups):
        raise ValueError(f"groups= resamples whole groups of points (a cluster bootstrap, "
                         f"scheme='points'); it cannot be combined with scheme={scheme!r}")
    m = resolve_model(model)  # type: ignore[arg-type]
    n_prob = len(xs)
    if len(ys) != n_prob:
        raise ValueError(f"{names[1]} has {len(ys)} data sets but {names[0]} has {n_prob}: pass "
                         "one array of each per data set (a list of arrays)")
    if n_prob == 0:
        raise ValueError("no problems to fit")
    n_resamples = _validate.resamples("n_resamples", n_resamples)
    level = _check_level(level)
    seed = _check_seed(seed)
    lo, hi = _validate.as_bounds(bounds, m)
    P = m.n_params
    if p0s is not None and len(p0s) != n_prob:
        raise ValueError(f"p0s has {len(p0s)} entries but there are {n_prob} problems")

    R = int(n_resamples)
    data: list[tuple[FloatArray, FloatArray, FloatArray]] = []
    extras: list[Optional[FloatArray]] = []
    for j in range(n_prob):
        # every value checked as fit checks it: a NaN or a size <= 0 is named with its index
        # (it was "no usable start ... pass p0", or a silent NaN fit with status -3); an empty
        # problem stays a problem not fitted (status -3), as callers use it
        xname, yname = one_names if n_prob == 1 else (f"{names[0]}[{j}]", f"{names[1]}[{j}]")
        wj0 = None if weights is None else weights[j]
        xj = _validate.as_inputs(xs[j], m, xname)
        if xj.shape[0]:
            xj, yj, wj0 = _prepare_points(m, xj, ys[j], wj0, log_residuals, xname, yname)
            if yj.shape[0] < P:
                raise ValueError(f"{yname} has {yj.shape[0]} point(s): too few for the {P} parameters "
                                 f"of {m.name}")
        else:
            yj = _validate.as_targets(ys[j], 0, yname, xname)
            wj0 = _validate.as_weights(wj0, 0)
        n = yj.shape[0]
        wj = np.ones(n) if wj0 is None else wj0
        extra = [_start_rows(a, P, m.name, what) for a, what in ((p0, "p0"), (None if p0s is None else p0s[j], f"p0s[{j}]"))
                 if a is not None]
        extras.append(np.vstack(extra) if extra else None)
        data.append((xj, yj, wj))
        gj = None if groups is None else groups[j]
        if R and gj is not None and np.asarray(gj).shape != (n,):
            raise ValueError(f"groups[{j}] must have one label per point ({n}), got {np.asarray(gj).shape}")
        n_groups = 0 if not (R and gj is not None and n) else np.unique(np.asarray(gj)).size
        if 0 < n_groups < MIN_GROUPS:  # every replicate was NaN
            raise ValueError(f"groups[{j}]: a bootstrap over groups needs at least {MIN_GROUPS} groups to "
                             f"resample, got {n_groups}")
    starts = _starts(m, data, extras, lo, hi, guess)
    if sum(a.shape[0] for a in starts) == 0:
        raise ValueError(f"no usable start for any problem of {m.name}: pass p0")
    opts = {"loss": loss, "f_scale": f_scale, "lo": lo, "hi": hi, "log_residuals": log_residuals,
            "max_iter": max_iter, "threads": threads}
    x0, st0, cost, cov = _solve(m, [(d[0], d[1], d[2], s0) for d, s0 in zip(data, starts)], **opts)  # type: ignore[arg-type]
    samples = None
    n_failed = np.zeros(n_prob, dtype=np.int64)
    if R:
        usable0 = ((st0 > 0) | (st0 == SINGULAR)) & np.isfinite(x0).all(axis=1)
        g_all = None
        if groups is not None and any(g is not None for g in groups):
            g_all = np.concatenate([np.asarray(groups[j]) if groups[j] is not None
                                    else np.arange(data[j][1].shape[0]) for j in range(n_prob)])
        sch = "groups" if g_all is not None else schemes[scheme]
        sizes = np.array([d[1].shape[0] for d in data], dtype=np.int64)
        with _warnings.suppressed(ConvergenceWarning):  # failures are counted below
            boot = bootstrap_batch(
                m, np.vstack([d[0] for d in data]), np.concatenate([d[1] for d in data]),
                np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), n_resamples=R,
                seed=int(seed), scheme=sch, groups=g_all, level=level, method="percentile",
                center=np.where(usable0[:, None], x0, np.nan),
                weights=np.concatenate([d[2] for d in data]), loss=loss, f_scale=f_scale,
                log_residuals=log_residuals, bounds=(lo, hi), max_iter=max_iter, threads=threads,
            )
        samples = np.where(usable0[:, None, None], boot.samples, np.nan)
        n_failed = np.isnan(samples).any(axis=2).sum(axis=1).astype(np.int64)
    # A converged fit whose J^T J is singular at the solution (status -2: some parameter is not
    # identifiable) still is a least-squares solution; its curve is kept, its status reported.
    params = np.where(((st0 > 0) | (st0 == SINGULAR))[:, None], x0, np.nan)
    if warn and not (st0 > 0).all():
        bad = np.flatnonzero(st0 <= 0)
        _warnings.warn(
            f"{m.name}: the point fit of problem(s) {bad.tolist()} did not converge "
            f"(status {st0[bad].tolist()})", ConvergenceWarning, stacklevel=2,
        )
    flat, cols = _flat_problems(m, data, lo, hi)
    if flat:
        st0, cov = st0.copy(), cov.copy()
        for j in flat:
            params[j, cols] = np.nan
            cov[j, cols, :] = cov[j, :, cols] = np.nan
            if samples is not None:
                samples[j][:, cols] = np.nan
            if st0[j] > 0:
                st0[j] = SINGULAR
        if warn:
            which = [one_names[1] if n_prob == 1 else f"{names[1]}[{j}]" for j in flat]
            level_of = [float(data[j][1][data[j][2] > 0][0]) for j in flat]
            unpinned = " and ".join(m.param_names[c] for c in cols)
            _warnings.warn(
                f"{m.name}: {', '.join(w + f' (every value {v:.4g})' for w, v in zip(which, level_of))} "
                f"{'does' if len(flat) == 1 else 'do'} not vary, so {unpinned} are not identifiable "
                f"(any value fits): reported as NaN, with status {SINGULAR} (singular)",
                IdentifiabilityWarning, stacklevel=2,
            )
    dof = np.array([int(np.count_nonzero(d[2] > 0)) for d in data], dtype=np.int64) - _validate.n_free(lo, hi)
    return ManyFits(
        model=m.name, param_names=m.param_names, params=params, cost=cost,
        status=st0.astype(np.int32), cov=cov, samples=samples, n_failed=n_failed,
        seed=int(seed), level=level, dof=dof,
    )


# Parameters that a target which does not vary leaves undetermined: a flat sigmoid (a metric
# all 0, all 1, all at chance) is fitted by any slope k at any midpoint, and "converged" to
# arbitrary ones with intervals that need not hold them. fit_many reports them as NaN, the
# fit's status as SINGULAR, with an IdentifiabilityWarning.
FLAT_UNPINNED: dict[str, tuple[str, ...]] = {"sigmoid": ("k", "log_x0")}


def _flat_problems(m: Any, data: Sequence[tuple[FloatArray, FloatArray, FloatArray]],
                   lo: FloatArray, hi: FloatArray) -> tuple[list[int], list[int]]:
    """The problems whose targets (of positive weight) all take one value, and the indices of
    the free parameters such a target leaves undetermined (:data:`FLAT_UNPINNED`); none
    without such parameters."""
    names = FLAT_UNPINNED.get(m.name, ()) if isinstance(m, Model) else ()
    cols = [i for i in (m.param_names.index(p) for p in names) if lo[i] < hi[i]]
    if not cols:
        return [], []
    return [j for j, (_, y, w) in enumerate(data) if does_not_vary(y[w > 0])], cols


def does_not_vary(v: FloatArray) -> bool:
    """Whether the (non-empty) values ``v`` all take one value, to within 1e-12 of their size."""
    return bool(v.size) and bool(np.ptp(v) <= 1e-12 * np.max(np.abs(v)))


def _solve(  # type: ignore[no-untyped-def]
    m, problems: list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]], *, loss: str,
    f_scale: float, lo: FloatArray, hi: FloatArray, log_residuals: bool, max_iter: int,
    threads: Optional[int], compute_cov: bool = True,
) -> tuple[FloatArray, NDArray[np.int32], FloatArray, FloatArray]:
    """Pack ``(x, y, w, starts)`` problems CSR-style and solve them in one ``fit_batch`` call;
    the best start of each problem: (params, status, cost, cov)."""
    P = m.n_params
    sizes = np.array([p[1].shape[0] for p in problems], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n_starts = np.array([p[3].shape[0] for p in problems], dtype=np.int64)
    item_problem = np.repeat(np.arange(len(problems), dtype=np.int64), n_starts)
    P0 = np.vstack([p[3] for p in problems]) if n_starts.sum() else np.zeros((0, P))
    batch = fit_batch(
        m, np.ascontiguousarray(np.vstack([p[0] for p in problems])),
        np.ascontiguousarray(np.concatenate([p[1] for p in problems])), offsets,
        np.ascontiguousarray(P0), problem=item_problem,
        weights=np.ascontiguousarray(np.concatenate([p[2] for p in problems])), loss=loss,
        f_scale=f_scale, bounds=(lo, hi), log_residuals=log_residuals, max_iter=max_iter,
        threads=threads, compute_cov=compute_cov,
    )
    best = batch.best_per_problem()
    cov = best.cov if best.cov is not None else np.full((len(problems), P, P), np.nan)
    return best.x, best.status, best.cost, cov


def as_list(values: Union[ArrayLike, Sequence[ArrayLike]], n: int, name: str) -> list[ArrayLike]:
    """Broadcast one array (or a sequence of ``n`` arrays) to a list of ``n`` arrays."""
    if isinstance(values, (list, tuple)) and len(values) == n and n > 0 and np.ndim(values[0]) >= 1:
        return list(values)
    return [values] * n  # type: ignore[list-item]


def table(rows: Sequence[Mapping[str, object]], floatfmt: str = ".4g") -> str:
    """A plain-text table of dict rows (for reprs and reports)."""
    if not rows:
        return ""
    cols = list(rows[0])

    def fmt(v: object) -> str:
        if isinstance(v, (float, np.floating)):
            return format(float(v), floatfmt)
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
