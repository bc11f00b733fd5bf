"""Bootstrap confidence intervals at batch scale.

Every replicate is an item of one batched call of the C++ core. A resample is a pure function
of ``(seed, problem, replicate)``: the worker thread that solves an item regenerates its
resample from a Philox4x32-10 counter-based stream (``cpp/include/scalingfit/rng.hpp``) into
a scratch buffer of its own, so nothing is copied, nothing is stored per replicate, and the
samples are bit-identical for any thread count. Each replicate is warm-started at the point
fit. Replicate ``-1`` is the original data.

Schemes
-------
``"points"``
    Nonparametric bootstrap: n points drawn with replacement, as integer multiplicities.
``"groups"``
    Cluster bootstrap: whole groups (runs) drawn with replacement, every point of a run
    carrying its run's count. The right default when one run contributes several points
    (checkpoints), since those share errors.
``"residual"``
    Model-based: ``y* = yhat + u_J`` with ``J`` uniform and ``u`` the centred,
    leverage-adjusted residuals ``e / sqrt(1 - h)`` of the point fit (Davison & Hinkley 1997,
    alg. 6.3); assumes exchangeable errors.
``"wild"``
    ``y*_i = yhat_i + v_i e_i / sqrt(1 - h_i)`` with iid multipliers ``v`` (Rademacher, Webb's
    six-point, or Mammen): keeps every design point (a resample of points loses some, which
    with few points can leave a law unidentified) and allows heteroskedastic errors.

Measured coverage (95% nominal, synthetic data with known truth):

- A Chinchilla fit on 30 runs (6 sizes x 5 tokens-per-parameter ratios, log residuals, 1% and
  2% noise, 400-600 data sets, 1000 resamples): the ``"points"`` and ``"residual"`` schemes'
  percentile and BCa intervals covered 0.92-0.97 for every parameter and derived quantity
  (the residual scheme's lowest: B and beta, 0.92 at 1% noise in a re-measurement of 500).
  ``"basic"`` badly under-covers skewed quantities, every miss on the same side (it reflects
  the bootstrap distribution, so its skew points the wrong way): tokens per parameter 0.70-0.76
  at 1% noise and 0.61-0.66 at 2%, N_opt 0.85 / 0.73, A 0.89 / 0.75. The ``"wild"`` scheme
  under-covers with every method (0.90-0.93; 0.93-0.95 at 40 runs), and its studentized
  intervals do not fix that (0.90-0.95).
- A saturating power law on 8 sizes (500 simulations): the wild and residual schemes'
  percentile, basic and BCa intervals covered 0.85-0.90 (too narrow by about the gap between
  the normal and Student's t on ``n - p``), their studentized intervals 0.91-0.95, the points
  scheme's BCa 0.94-0.99. At 20 points (1% noise, log residuals, 1000 simulations of 1000
  resamples, binomial SE 0.007): the points and residual schemes' percentile and BCa
  intervals 0.92-0.94, their studentized 0.94, basic 0.90-0.93; the wild scheme's percentile
  and BCa 0.90-0.91, studentized 0.92, basic 0.88-0.91.

So use percentile or BCa (the default) intervals with the ``"points"`` (or ``"groups"``) or
``"residual"`` scheme; avoid ``"basic"`` for positive, skewed quantities (sizes, token counts,
their ratio, amplitudes); take ``"wild"`` only for errors known to be heteroskedastic, and
expect it to cover a few points less. On very small sweeps (under ~10 points) the point
fit's Gauss–Newton intervals with Student's t (:func:`scalingfit.uncertainty.wald_intervals`)
or its profile intervals (:func:`scalingfit.uncertainty.profile_interval`) are an
alternative.

Residual-space quantities are those the solver works in: with ``log_residuals=True`` the
residuals are ``log y - log yhat`` and the perturbed targets are ``exp(log yhat + ...)``. The
fitted values and adjusted residuals are computed once per problem in C++ (``n`` numbers, like
the data); the perturbed targets of each replicate are regenerated per item, never stored.

Intervals
---------
``"percentile"`` (Efron), ``"basic"`` (reverse percentile), ``"bca"`` (bias-corrected and
accelerated, with the acceleration from a leave-one-out jackknife over points, or over groups
for the cluster scheme) and ``"studentized"`` (bootstrap-t, with each replicate's
Gauss–Newton standard error, and the delta method for derived quantities; a
:class:`Positive` quantity's is built on its log and exponentiated). Failed replicates
(status <= 0 or singular) are counted, reported and left out of every interval (their rows of
``samples`` are NaN): never silently mixed in.

Derived quantities are vectorised callables ``f(p) -> array`` where ``p`` maps each parameter
name to a 1-D array over replicates; helpers for the Chinchilla law are below
(:func:`chinchilla_derived`).

>>> import numpy as np, scalingfit
>>> from scalingfit.bootstrap import bootstrap
>>> N = np.logspace(7, 10, 8)
>>> y = (1.7 + 400 * N ** -0.34) * (1 + 0.01 * np.random.default_rng(0).standard_normal(8))
>>> r = bootstrap("saturating_power_law", N, y, scheme="wild", n_resamples=500, seed=1)
>>> lo, hi = r.ci("alpha", method="percentile", level=0.9)
>>> bool(lo < r.params["alpha"] < hi)
True
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _cuda, _fit, _precision, _validate, _warnings
from ._custom import CopiesKeepModel, CustomModel
from ._fit import (
    DEFAULT_FTOL,
    DEFAULT_GTOL,
    DEFAULT_MAX_ITER,
    DEFAULT_XTOL,
    ModelLike,
    _check_threads,
    _prepare_points,
    default_threads,
    fit,
    fit_batch,
    resolve_model,
)
from ._optimal import optimal_sizes
from ._warnings import ConvergenceWarning, DataWarning, UncertaintyWarning
from .models import LOSSES, Model
from .results import FitResult

__all__ = [
    "Band",
    "BootstrapBatchResult",
    "BootstrapResult",
    "BootstrapSummary",
    "Positive",
    "SummaryRow",
    "allocation_exponent_a",
    "allocation_exponent_b",
    "bootstrap",
    "bootstrap_batch",
    "chinchilla_derived",
    "optimal_loss",
    "optimal_params",
    "optimal_tokens",
    "predicted_value",
    "tokens_per_parameter",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ParamColumns = Mapping[str, FloatArray]
Derived = Callable[[ParamColumns], ArrayLike]

# Fixed values of the C++ enums Scheme and WildWeights (bootstrap.hpp).
SCHEMES: dict[str, int] = {"points": 0, "groups": 1, "residual": 2, "wild": 3}
_JACKKNIFE_POINTS = 4
_JACKKNIFE_GROUPS = 5
WILD: dict[str, int] = {"rademacher": 0, "webb": 1, "mammen": 2}
METHODS: tuple[str, ...] = ("bca", "percentile", "basic", "studentized")

_NORMAL = statistics.NormalDist()
_norm_cdf = np.frompyfunc(_NORMAL.cdf, 1, 1)
_norm_ppf_scalar = _NORMAL.inv_cdf


def _norm_ppf(p: FloatArray) -> FloatArray:
    """Standard normal quantile, elementwise; -inf / +inf at 0 / 1, NaN for NaN."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    inside = (p > 0) & (p < 1)
    out[p <= 0] = -np.inf
    out[p >= 1] = np.inf
    out[inside] = [_norm_ppf_scalar(float(v)) for v in p[inside]]
    return out


def _phi(x: FloatArray) -> FloatArray:
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    out[ok] = np.asarray(_norm_cdf(x[ok]), dtype=np.float64)
    return out


# ------------------------------------------------------------------ validation
def _check_level(level: float) -> float:
    if isinstance(level, (str, bytes, bool)):  # float("0.9") would pass
        raise TypeError(f"level must be a number in (0, 1), got {type(level).__name__} {level!r}")
    try:
        lv = float(level)
    except (TypeError, ValueError):
        raise TypeError(f"level must be a number in (0, 1), got {level!r}") from None
    if not (0.0 < lv < 1.0 and 0.5 + lv / 2 < 1.0):  # and the upper quantile is below 1
        raise ValueError(f"level must be in (0, 1) (e.g. 0.95 for a 95% interval), got {level!r}")
    return lv


def _finite_level(level: Any) -> float:
    """:func:`_check_level` after a finite-number check: NaN and text are named as such
    ("level must be finite", "level must be a number"), as the plots and refit word them."""
    return _check_level(float(_validate.finite("level", level, scalar=True)))


def _check_method(method: Any) -> str:
    if method not in METHODS:
        hint = ""
        if isinstance(method, (float, np.floating)) and 0.0 < float(method) < 1.0:  # ci("alpha", 0.9)
            hint = f" ({method!r} looks like a level: pass level={method!r}; ci takes (name, method, level))"
        raise ValueError(f"unknown interval method {method!r}; choose one of {', '.join(METHODS)}{hint}")
    return str(method)


def _check_seed(seed: Optional[int]) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy) % (1 << 64)  # type: ignore[arg-type]
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)) \
            or not (0 <= int(seed) < 1 << 64):
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    return int(seed)


def generator(seed: Union[None, int, np.random.Generator]) -> np.random.Generator:
    """numpy's generator for ``seed`` (a Generator as it is; an integer checked and named)."""
    if isinstance(seed, np.random.Generator) or seed is None:
        return np.random.default_rng(seed)
    return np.random.default_rng(_check_seed(seed))


def _check_scheme(scheme: str, wild: str) -> tuple[int, int]:
    for name, value in (("scheme", scheme), ("wild", wild)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a name (str), got {type(value).__name__} {value!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    if wild not in WILD:
        raise ValueError(f"unknown wild distribution {wild!r}; choose one of {', '.join(WILD)}")
    return SCHEMES[scheme], WILD[wild]


def _check_flags(keep_cov: Any, log_residuals: Any, max_memory: Any) -> tuple[bool, bool]:
    """``keep_cov`` and ``log_residuals`` as bools and ``max_memory`` checked, each named
    (``keep_cov="no"`` was pybind11's "incompatible function arguments")."""
    _fit.check_max_memory(max_memory)
    return _validate.flag("keep_cov", keep_cov), _validate.flag("log_residuals", log_residuals)


def _check_n_resamples(n_resamples: int) -> int:
    """2 or more, and replicate indices fit the generator's 32-bit counter word."""
    return _validate.integer("n_resamples", n_resamples, least=2, most=(1 << 32) - 1)


def min_points(scheme: str, n_params: int) -> int:
    """Fewest points a problem needs for the scheme: a leave-one-out fit must still have more
    points than parameters (points), residuals need a degree of freedom (residual, wild)."""
    return n_params + 2 if scheme in ("points", "groups") else n_params + 1


MIN_GROUPS = 3


def _private(*arrays: Any) -> tuple[Any, ...]:
    """Copies of the validated ``arrays`` (None stays None) that a result keeps: as given, a
    float64 C-contiguous array is the caller's own buffer, and a caller that reused it changed
    the result's later answers (a prediction band from ``y_data``, a lazy jackknife)."""
    return tuple(None if a is None else np.array(a, copy=True) for a in arrays)


def _dense_groups(
    groups: ArrayLike, offsets: IntArray, n_points: int
) -> tuple[NDArray[np.int32], IntArray]:
    """Group labels (any hashable dtype numpy can sort) -> ids local to each problem, and the
    number of groups of each problem."""
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n_points:
        raise ValueError(f"groups must have one label per point ({n_points}), got shape {g.shape}")
    if g.dtype.kind == "f" and not np.isfinite(g).all():
        i = int(np.argmax(~np.isfinite(g)))
        raise ValueError(f"groups must be finite labels; groups[{i}] = {float(g[i])}")
    try:
        _, codes = np.unique(g, return_inverse=True)
    except TypeError:  # e.g. None among numbers: labels numpy cannot sort
        raise TypeError(
            "groups must be labels of one sortable kind (numbers or strings), got a mix such as "
            f"{sorted({type(v).__name__ for v in g.tolist()})}"
        ) from None
    codes = codes.reshape(-1).astype(np.int64)
    n_problems = offsets.shape[0] - 1
    prob = np.repeat(np.arange(n_problems), np.diff(offsets))
    key = prob * (int(codes.max(initial=0)) + 1) + codes
    _, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1).astype(np.int64)
    first = np.zeros(n_problems, dtype=np.int64)
    counts = np.zeros(n_problems, dtype=np.int64)
    for j in range(n_problems):  # cheap: one slice per problem
        s, e = offsets[j], offsets[j + 1]
        if e > s:
            first[j] = inv[s:e].min()
            counts[j] = inv[s:e].max() - first[j] + 1
    local = (inv - np.repeat(first, np.diff(offsets))).astype(np.int32)
    return np.ascontiguousarray(local), counts


# ------------------------------------------------------------------ interval math (rows)
def _sorted_rows(samples: FloatArray) -> tuple[FloatArray, IntArray]:
    """Rows sorted ascending with NaN last, and the count of finite values per row."""
    srt = np.sort(samples, axis=-1)
    cnt = np.sum(~np.isnan(samples), axis=-1)
    return srt, cnt


def _quantile_rows(srt: FloatArray, cnt: IntArray, q: ArrayLike) -> FloatArray:
    """Quantile q (scalar or one per row) of each sorted row's finite values, by numpy's
    default linear interpolation; NaN for rows with no finite value or q NaN."""
    m = srt.shape[0]
    qa = np.broadcast_to(np.asarray(q, dtype=np.float64), (m,))
    out = np.full(m, np.nan)
    ok = (cnt > 0) & ~np.isnan(qa)
    if not ok.any():
        return out
    rows = np.nonzero(ok)[0]
    qq = np.clip(qa[rows], 0.0, 1.0)
    pos = qq * (cnt[rows] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, cnt[rows] - 1)
    frac = pos - lo
    a = srt[rows, lo]
    b = srt[rows, hi]
    out[rows] = a + frac * (b - a)
    return out


def _jackknife_acceleration(values: FloatArray, offsets: IntArray) -> FloatArray:
    """BCa acceleration a = sum d^3 / (6 (sum d^2)^1.5), d = mean - theta_(i), per problem
    (ragged leave-one-out values, NaN = failed fit, left out). 0 where undefined."""
    m = offsets.shape[0] - 1
    seg = np.repeat(np.arange(m), np.diff(offsets))
    ok = ~np.isnan(values)
    v0 = np.where(ok, values, 0.0)
    n = np.bincount(seg, weights=ok.astype(np.float64), minlength=m)
    s = np.bincount(seg, weights=v0, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
    d = np.where(ok, mean[seg] - v0, 0.0)
    s2 = np.bincount(seg, weights=d * d, minlength=m)
    s3 = np.bincount(seg, weights=d * d * d, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = s3 / (6.0 * s2**1.5)
    return np.where(np.isfinite(a), a, 0.0)


def _log_studentized_rows(
    level: float, point: FloatArray, samples: FloatArray, se_point: FloatArray, se_samples: FloatArray
) -> FloatArray:
    """Studentized intervals of a :class:`Positive` quantity built on its log (se(log q) =
    se(q) / q, the delta method) and exponentiated: positive, and skewed like the quantity.
    On the natural scale the lower end of tokens per parameter at 1e22 FLOP was <= 0 in 244 of
    300 simulated Chinchilla sweeps (30 runs, 2% noise, 200 resamples)."""
    def log(v: FloatArray) -> FloatArray:
        return np.log(np.where(v > 0, v, np.nan))

    return np.exp(_interval_rows("studentized", level, log(point), log(samples), None,
                                 se_point / point, se_samples / samples))


def _interval_rows(
    method: str,
    level: float,
    point: FloatArray,
    samples: FloatArray,
    jack: Optional[tuple[FloatArray, IntArray]] = None,
    se_point: Optional[FloatArray] = None,
    se_samples: Optional[FloatArray] = None,
) -> FloatArray:
    """(m, 2) intervals of one quantity for m problems: point (m,), samples (m, R)."""
    alpha = 1.0 - level
    q_lo, q_hi = alpha / 2.0, 1.0 - alpha / 2.0
    if method == "studentized":
        assert se_point is not None and se_samples is not None
        d = samples - point[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = d / se_samples
        # a replicate equal to the estimate with zero se (a fixed parameter) has t = 0
        t = np.where(np.isfinite(t), t, np.where((d == 0) & (se_samples == 0), 0.0, np.nan))
        srt, cnt = _sorted_rows(t)
        t_lo = _quantile_rows(srt, cnt, q_lo)
        t_hi = _quantile_rows(srt, cnt, q_hi)
        return np.column_stack([point - se_point * t_hi, point - se_point * t_lo])
    srt, cnt = _sorted_rows(samples)
    if method == "percentile":
        return np.column_stack([_quantile_rows(srt, cnt, q_lo), _quantile_rows(srt, cnt, q_hi)])
    if method == "basic":
        return np.column_stack(
            [2 * point - _quantile_rows(srt, cnt, q_hi), 2 * point - _quantile_rows(srt, cnt, q_lo)]
        )
    # BCa (Efron 1987; DiCiccio & Efron 1996): bias correction z0 from the share of replicates
    # below the estimate (ties count half), acceleration from the jackknife. The share is kept
    # within [1 / 2B, 1 - 1 / 2B] (B finite replicates): with every replicate on one side of
    # the estimate z0 would be infinite and the ends NaN, a point or the whole range by the
    # sign of the acceleration. (Also chinchilla.fit_isoflop's BCa.)
    assert jack is not None
    below = np.sum(samples < point[:, None], axis=1) + 0.5 * np.sum(samples == point[:, None], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z0 = _norm_ppf(np.clip(below / cnt, 0.5 / cnt, 1.0 - 0.5 / cnt))
    acc = _jackknife_acceleration(*jack)
    ends = []
    for q in (q_lo, q_hi):
        zq = _norm_ppf_scalar(q)
        num = z0 + zq
        with np.errstate(invalid="ignore", divide="ignore"):
            adj = _phi(z0 + num / (1.0 - acc * num))
        # A pathological acceleration (1 - a num <= 0) would flip the tail: use the extreme.
        adj = np.where(1.0 - acc * num > 0, adj, 0.0 if q < 0.5 else 1.0)
        ends.append(_quantile_rows(srt, cnt, adj))
    return np.column_stack(ends)


# ------------------------------------------------------------------ derived quantities
def _columns(X: FloatArray, names: Sequence[str]) -> dict[str, FloatArray]:
    return {n: X[:, i] for i, n in enumerate(names)}


def _eval_derived(fn: Derived, X: FloatArray, names: Sequence[str], label: str) -> FloatArray:
    """fn over the rows of X (k, p) -> (k,); NaN rows stay NaN."""
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(_columns(X, names)), dtype=np.float64)
    except KeyError as exc:  # e.g. chinchilla_derived() on a law without B
        raise ValueError(
            f"derived quantity {label!r} reads parameter {exc} that the model lacks (it has "
            f"{', '.join(names)})"
        ) from None
    except Exception as exc:  # the user's function: say which one failed, keep the error
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(f"(raised by derived quantity {label!r}, called with a dict of parameter "
                         f"arrays {', '.join(names)}, one value per replicate)")
        raise
    out = np.broadcast_to(out, (X.shape[0],)) if out.ndim == 0 else out
    if out.shape != (X.shape[0],):
        raise ValueError(
            f"derived quantity {label!r} must return one value per parameter vector "
            f"({X.shape[0]},), got shape {out.shape}"
        )
    out = out.copy()
    out[np.isnan(X).any(axis=1)] = np.nan
    return out


def _delta_se(fn: Derived, X: FloatArray, C: FloatArray, names: Sequence[str], label: str) -> FloatArray:
    """Delta-method standard error of fn at the rows of X (k, p) with covariances C (k, p, p);
    central differences with steps of 1e-4 standard errors."""
    k, p = X.shape
    sd = np.sqrt(np.clip(np.diagonal(C, axis1=1, axis2=2), 0, None))
    h = np.where(np.isfinite(sd) & (sd > 0), 1e-4 * sd, 1e-7 * np.maximum(np.abs(X), 1.0))
    G = np.empty((k, p))
    for j in range(p):
        Xp, Xm = X.copy(), X.copy()
        Xp[:, j] += h[:, j]
        Xm[:, j] -= h[:, j]
        G[:, j] = (_eval_derived(fn, Xp, names, label) - _eval_derived(fn, Xm, names, label)) / (
            2 * h[:, j]
        )
    var = np.einsum("ki,kij,kj->k", G, C, G)
    return np.sqrt(np.where(var >= 0, var, np.nan))


def _chinchilla_terms(p: ParamColumns) -> tuple[FloatArray, ...]:
    """(E, A, B, alpha, beta) from the parameters of ``chinchilla`` or ``chinchilla_lse``."""
    if "A" in p:
        return p["E"], p["A"], p["B"], p["alpha"], p["beta"]
    if "e" in p and "a" in p:
        return np.exp(p["e"]), np.exp(p["a"]), np.exp(p["b"]), p["alpha"], p["beta"]
    raise KeyError("a Chinchilla helper needs the parameters of chinchilla or chinchilla_lse")


def allocation_exponent_a(p: ParamColumns) -> FloatArray:
    """Compute-optimal exponent a = beta / (alpha + beta) of N_opt ∝ C^a.

    Parameters
    ----------
    p : mapping of str to array_like
        Parameter columns of a ``chinchilla`` fit (``E, A, B, alpha, beta``) or a
        ``chinchilla_lse`` one (``e, a, b, alpha, beta``), scalars or arrays of replicates
        (vectorised); other names are a KeyError.
    """
    _, _, _, al, be = _chinchilla_terms(p)
    return be / (al + be)


def allocation_exponent_b(p: ParamColumns) -> FloatArray:
    """Compute-optimal exponent b = alpha / (alpha + beta) of D_opt ∝ C^b.

    Parameters
    ----------
    p : mapping of str to array_like
        Parameter columns of a ``chinchilla`` fit (``E, A, B, alpha, beta``) or a
        ``chinchilla_lse`` one (``e, a, b, alpha, beta``), scalars or arrays of replicates
        (vectorised); other names are a KeyError.
    """
    _, _, _, al, be = _chinchilla_terms(p)
    return al / (al + be)


def _allocation(p: ParamColumns, C: float) -> tuple[FloatArray, FloatArray]:
    """N_opt, D_opt at compute C = 6 N D: N_opt = G (C/6)^a, D_opt = (C/6)^b / G with
    G = (alpha A / (beta B))^(1 / (alpha + beta)) (Hoffmann et al. 2022, eq. 4)."""
    _, A, B, al, be = _chinchilla_terms(p)
    return optimal_sizes(A, B, al, be, C / 6.0)


class Positive:
    """A derived quantity that is positive wherever it is defined (a size, a token count, a
    ratio of them, a loss, a scale constant), marked so that
    :func:`scalingfit.uncertainty.delta_method` (by default) and the studentized bootstrap
    build its interval on the log scale: ``exp(log q +- t se(log q))``, which stays positive
    and follows the right skew of such quantities (the Wald interval on the natural scale missed on one side only:
    tokens per parameter at 1e24 FLOP covered 0.85 of a nominal 95% at 1% noise, 0.79 at
    2%; on the log scale 0.95). Calls ``fn``; pickles when ``fn`` does (a module-level
    function or a ``functools.partial`` of one, not a lambda).

    Parameters
    ----------
    fn : callable
        The quantity, ``fn(p) -> array`` over parameter columns ``p[name]`` (vectorised over
        replicates); not callable is a TypeError.

    Examples
    --------
    >>> from scalingfit.bootstrap import Positive
    >>> q = Positive(lambda p: p["A"] ** (1 / p["alpha"]))
    >>> q.positive, float(q({"A": 4.0, "alpha": 0.5}))
    (True, 16.0)
    """

    positive = True

    def __init__(self, fn: Derived) -> None:
        if not callable(fn):
            raise TypeError(f"Positive needs a callable f(params) -> array, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, p: ParamColumns) -> ArrayLike:
        return self.fn(p)

    def __repr__(self) -> str:
        return f"Positive({self.fn!r})"


# The derived quantities below are module-level functions bound with functools.partial (not
# closures), so that a bootstrap result holding them pickles; the positive ones are wrapped in
# Positive (delta_method then works on their log scale).
def _n_opt(C: float, p: ParamColumns) -> FloatArray:
    return _allocation(p, C)[0]


def _d_opt(C: float, p: ParamColumns) -> FloatArray:
    return _allocation(p, C)[1]


def _tokens_per_param(C: float, p: ParamColumns) -> FloatArray:
    n, d = _allocation(p, C)
    return d / n


def _l_opt(C: float, p: ParamColumns) -> FloatArray:
    E, A, B, al, be = _chinchilla_terms(p)
    n, d = _allocation(p, C)
    return E + A * n**-al + B * d**-be


def _exp_of(name: str, p: ParamColumns) -> FloatArray:
    return np.exp(p[name])


def _prediction(m: Union[Model, CustomModel], xa: FloatArray, p: ParamColumns) -> FloatArray:
    return m.predict_many(np.column_stack([p[n] for n in m.param_names]), xa)[:, 0]


def optimal_params(C: float) -> Derived:
    """N_opt at training compute C (FLOP, C = 6 N D); :class:`Positive`.

    Parameters
    ----------
    C : float
        Training compute in FLOP (``C = 6 N D``).
    """
    return Positive(functools.partial(_n_opt, C))


def optimal_tokens(C: float) -> Derived:
    """D_opt at training compute C; :class:`Positive`.

    Parameters
    ----------
    C : float
        Training compute in FLOP (``C = 6 N D``).
    """
    return Positive(functools.partial(_d_opt, C))


def tokens_per_parameter(C: float) -> Derived:
    """D_opt / N_opt at training compute C; :class:`Positive`.

    Parameters
    ----------
    C : float
        Training compute in FLOP (``C = 6 N D``).
    """
    return Positive(functools.partial(_tokens_per_param, C))


def optimal_loss(C: float) -> Derived:
    """Predicted loss of the compute-optimal model at compute C; :class:`Positive`.

    Parameters
    ----------
    C : float
        Training compute in FLOP (``C = 6 N D``).
    """
    return Positive(functools.partial(_l_opt, C))


def predicted_value(model: Union[str, Model, CustomModel], x_new: ArrayLike) -> Derived:
    """The model's prediction at one new point (e.g. a loss at a new (N, D)), as a derived
    quantity. For bands over many points see :meth:`BootstrapResult.predict`.

    ``x_new`` is one point: a number for a one-input law, ``n_inputs`` numbers such as
    ``(N, D)`` for a law of several, or an array of shape (1, n_inputs).

    Parameters
    ----------
    model : str, Model or CustomModel
        The law, by built-in name (:func:`scalingfit.models.get`) or as a model object.
    x_new : array_like
        The one point, as above: finite, and > 0 for a law with positive inputs.

    Raises
    ------
    ValueError
        Naming ``x_new``: more than one point (make one quantity per point, or take a band),
        a non-finite input, or an input <= 0 of a law with positive inputs (a power law's
        prediction there is not finite), with its index.
    """
    m = resolve_model(model)
    x, _ = _validate.one_point(x_new, m.n_inputs, "x_new")  # as FitResult.predict reads a point
    xa = _validate.as_inputs(x, m, "x_new")  # also a tuple of columns, ([N], [D])
    if xa.shape[0] != 1:
        raise ValueError(
            f"x_new must be one point of {m.name} ({', '.join(m.input_names)}), got "
            f"{xa.shape[0]} points (shape {np.shape(x_new)}): make one predicted_value per "
            "point, or take a band over many with BootstrapResult.predict"
        )
    _validate.check_finite(xa, "x_new", m.input_names)
    if m.positive_inputs:  # a power law at x <= 0: not finite on any replicate
        _validate.check_positive(xa, "x_new", f"{m.name} is a power law in its inputs, not "
                                 "finite at 0 or below", m.input_names)
    return functools.partial(_prediction, m, xa)


def chinchilla_derived(
    C: Optional[Union[float, Sequence[float]]] = None, *, model: str = "chinchilla"
) -> dict[str, Derived]:
    """The usual derived quantities of a Chinchilla fit.

    Always ``a_opt`` = beta/(alpha+beta) and ``b_opt`` = alpha/(alpha+beta) (N_opt ∝ C^a,
    D_opt ∝ C^b); for ``model="chinchilla_lse"`` also ``E``, ``A``, ``B`` in natural units
    (exp of e, a, b). With a compute budget ``C`` (or several) also ``N_opt``, ``D_opt``,
    ``tokens_per_param`` and ``L_opt`` at each budget (suffixed ``@C`` for several budgets).

    Parameters
    ----------
    C : float or sequence of float, optional
        Compute budgets in FLOP (finite, > 0, no budget twice); None (default): the exponents
        (and ``E, A, B``) only.
    model : {"chinchilla", "chinchilla_lse"}
        The model the quantities read their parameters from; default ``"chinchilla"``.
    """
    if model not in ("chinchilla", "chinchilla_lse"):
        raise ValueError(f"model must be 'chinchilla' or 'chinchilla_lse', got {model!r}")
    out: dict[str, Derived] = {"a_opt": allocation_exponent_a, "b_opt": allocation_exponent_b}
    if model == "chinchilla_lse":
        out["E"] = Positive(functools.partial(_exp_of, "e"))
        out["A"] = Positive(functools.partial(_exp_of, "a"))
        out["B"] = Positive(functools.partial(_exp_of, "b"))
    if C is not None:
        budgets = [float(c) for c in np.atleast_1d(_validate.positive("C", C))]
        if len(set(budgets)) < len(budgets):
            raise ValueError(f"C has a budget twice: {budgets}")
        digits = 3  # the shortest suffixes that tell the budgets apart (1e+20, 1.0001e+20, ...)
        while len({f"{c:.{digits}g}" for c in budgets}) < len(budgets):
            digits += 1
        for c in budgets:
            sfx = "" if len(budgets) == 1 else f"@{c:.{digits}g}"
            out["N_opt" + sfx] = optimal_params(c)
            out["D_opt" + sfx] = optimal_tokens(c)
            out["tokens_per_param" + sfx] = tokens_per_parameter(c)
            out["L_opt" + sfx] = optimal_loss(c)
    return out


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class SummaryRow:
    """One row of a :class:`BootstrapSummary`: a parameter's or derived quantity's estimate,
    bootstrap standard error and interval, and the converged replicates left out of it
    (``n_undefined``: the quantity is NaN there; ``n_no_se``: no standard error, studentized
    intervals only).

    Attributes
    ----------
    name : str
        The parameter or derived quantity.
    estimate : float
        Its value at the point fit.
    stderr : float
        Bootstrap standard error (NaN with fewer than 2 finite replicates).
    lower, upper : float
        The interval, of the summary's method and level.
    derived : bool
        True for a derived quantity, False for a parameter.
    n_undefined : int
        Converged replicates where the quantity is NaN, left out (0 for a parameter).
    n_no_se : int
        Studentized intervals: converged replicates without a usable standard error, left
        out (0 for other methods).
    """

    name: str
    estimate: float
    stderr: float
    lower: float
    upper: float
    derived: bool
    n_undefined: int = 0  # converged replicates where a derived quantity is NaN (left out)
    n_no_se: int = 0  # studentized: converged replicates without a usable standard error (left out)


@dataclass(frozen=True)
class BootstrapSummary:
    """Estimate, bootstrap standard error and interval of every parameter and derived
    quantity; ``str()`` renders the table.

    Attributes
    ----------
    rows : tuple of SummaryRow
        One per parameter, then per derived quantity.
    method : str
        The intervals' method (``"bca"``, ``"percentile"``, ``"basic"``, ``"studentized"``).
    level : float
        The intervals' level.
    scheme : str
        The resampling scheme.
    n_resamples : int
        Replicates drawn.
    n_failed : int
        Replicates that failed, left out.
    seed : int
        The generator's seed.
    """

    rows: tuple[SummaryRow, ...]
    method: str
    level: float
    scheme: str
    n_resamples: int
    n_failed: int
    seed: int

    def to_dict(self) -> dict[str, dict[str, float]]:
        """{name: {estimate, stderr, lower, upper}} of every row."""
        return {
            r.name: {"estimate": r.estimate, "stderr": r.stderr, "lower": r.lower, "upper": r.upper}
            for r in self.rows
        }

    def __str__(self) -> str:
        w = max([len(r.name) for r in self.rows] + [8])
        pct = f"{100 * self.level:g}%"
        head = (
            f"bootstrap: scheme={self.scheme}, {self.n_resamples} resamples "
            f"({self.n_failed} failed, left out), seed={self.seed}, {pct} {self.method} intervals"
        )
        lines = [head, f"  {'quantity'.ljust(w)}  {'estimate':>12}  {'stderr':>11}  {'lower':>12}  {'upper':>12}"]
        for r in self.rows:
            name = r.name if not r.derived else r.name + "*"
            lines.append(
                f"  {name.ljust(w)}  {r.estimate:>12.6g}  {r.stderr:>11.4g}  {r.lower:>12.6g}  {r.upper:>12.6g}"
            )
        if any(r.derived for r in self.rows):
            lines.append("  (* derived quantity)")
        for r in self.rows:
            if r.n_undefined:
                lines.append(f"  {r.name}: undefined (NaN) on {r.n_undefined} converged replicate(s), "
                             "left out of its interval")
        by_count: dict[int, list[str]] = {}
        for r in self.rows:
            if r.n_no_se:
                by_count.setdefault(r.n_no_se, []).append(r.name)
        for k, names in by_count.items():
            lines.append(f"  {', '.join(names)}: no standard error on {k} converged replicate(s) "
                         "(singular or zero-residual fits), left out of the studentized interval")
        return "\n".join(lines)

    __repr__ = __str__


@dataclass(frozen=True, eq=False)
class Band:
    """A pointwise band at new inputs: estimate (the point fit) and [lower, upper].

    Attributes
    ----------
    x : ndarray (n, n_inputs)
        The inputs, as the model reads them.
    estimate : ndarray (n,)
        The point fit's prediction.
    lower, upper : ndarray (n,)
        The band: percentiles of the replicates' predictions.
    level : float
        The band's level.
    kind : {"confidence", "prediction"}
        Curve only, or also a new observation's scatter (:meth:`BootstrapResult.predict`).
    """

    x: FloatArray
    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    kind: str


@dataclass(frozen=True, eq=False)
class BootstrapBatchResult(CopiesKeepModel):
    """Bootstrap of many problems (one batched call of the core).

    Attributes
    ----------
    model : str
    param_names : tuple of str
    center : ndarray (n_problems, n_params)
        The point fit of each problem (replicates are warm-started there).
    center_status : ndarray (n_problems,)
        Status of the point fit re-solved as replicate -1 (<= 0: the problem's intervals are NaN).
    center_cov : ndarray (n_problems, n_params, n_params)
        Gauss–Newton covariance at the point fit.
    samples : ndarray (n_problems, n_resamples, n_params)
        Replicate fits; NaN rows where the replicate failed.
    status : ndarray (n_problems, n_resamples)
        Per-replicate status (``> 0`` converged); failed replicates are left out of intervals.
    sample_cov : ndarray (n_problems, n_resamples, n_params, n_params) or None
        Replicate covariances (for studentized intervals), when kept.
    scheme, method, level, seed, wild :
        How the resamples were drawn and which interval is the default.
    problem_id : ndarray (n_problems,)
        The stream id of each problem's resamples (default: its index).
    derived : dict
        Derived quantities (name -> vectorised callable).
    custom_model : CustomModel or None
        The model object when it is a custom one (built-in models are looked up by
        ``model``); not pickled when it does not pickle.
    """

    model: str
    param_names: tuple[str, ...]
    center: FloatArray
    center_status: NDArray[np.int32]
    center_cov: FloatArray
    samples: FloatArray
    status: NDArray[np.int32]
    sample_cov: Optional[FloatArray]
    scheme: str
    method: str
    level: float
    seed: int
    wild: str
    problem_id: IntArray
    derived: Mapping[str, Derived] = field(default_factory=dict)
    _jackknife: Optional[Callable[[], tuple[FloatArray, IntArray]]] = field(
        default=None, repr=False, compare=False
    )
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    #: The model object when it is a custom one (built-in models are looked up by ``model``).
    custom_model: Optional[CustomModel] = field(default=None, repr=False, compare=False)
    #: The parameters' bounds of the fits (P,) each, which a parameter's interval is held
    #: within (None: unbounded).
    lower: Optional[FloatArray] = field(default=None, repr=False, compare=False)
    upper: Optional[FloatArray] = field(default=None, repr=False, compare=False)

    def model_object(self) -> Union[Model, CustomModel]:
        """The model bootstrapped: the custom one it was given, or the built-in of that name."""
        from ._custom import kept_model

        return kept_model(self.model, self.custom_model)  # type: ignore[no-any-return]

    def __post_init__(self) -> None:
        # Frozen means frozen: a caller that edits what samples or values() return would
        # otherwise change later intervals while the cached ones stay (read-only views).
        for name in ("center", "center_status", "center_cov", "samples", "status", "sample_cov",
                     "problem_id"):
            arr = getattr(self, name)
            if isinstance(arr, np.ndarray):
                arr.flags.writeable = False

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (for Dask and multiprocessing) with the jackknife, the one costly cached
        # value; the others are recomputed on demand, read-only again.
        state = dict(self.__dict__)
        state["_cache"] = {k: v for k, v in self._cache.items() if k == "jackknife"}
        from ._custom import picklable

        if not picklable(self.custom_model):  # a law made of lambdas: pickled without it
            state["custom_model"] = None
            state["_jackknife"] = None  # it refits with the model; a computed one is kept
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()  # unpickled arrays are writeable

    @property
    def n_problems(self) -> int:
        """Problems bootstrapped."""
        return int(self.center.shape[0])

    @property
    def n_resamples(self) -> int:
        """Replicates drawn per problem."""
        return int(self.samples.shape[1])

    @property
    def n_failed(self) -> IntArray:
        """Failed replicates per problem (status <= 0 or singular), left out of intervals."""
        return np.asarray(np.sum(self.status <= 0, axis=1), dtype=np.int64)

    @property
    def names(self) -> tuple[str, ...]:
        """Parameters, then derived quantities."""
        return self.param_names + tuple(self.derived)

    def _param_index(self, name: str) -> int:
        return self.param_names.index(name)

    def _check_name(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"a quantity is named by a str, got {type(name).__name__} {name!r}")
        if name not in self.param_names and name not in self.derived:
            raise ValueError(
                f"unknown quantity {name!r}; parameters: {', '.join(self.param_names)}"
                + (f"; derived: {', '.join(self.derived)}" if self.derived else "")
            )

    def estimate(self, name: str) -> FloatArray:
        """The point estimate of a parameter or derived quantity, per problem.

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        self._check_name(name)
        key = ("estimate", name)
        if key not in self._cache:
            if name in self.param_names:
                v = self.center[:, self._param_index(name)].copy()
            else:
                v = _eval_derived(self.derived[name], self.center, self.param_names, name)
            v.flags.writeable = False  # cached: callers must not edit it
            self._cache[key] = v
        return self._cache[key]  # type: ignore[no-any-return]

    def values(self, name: str) -> FloatArray:
        """Replicate values (n_problems, n_resamples) of a parameter or derived quantity.

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        self._check_name(name)
        key = ("values", name)
        if key not in self._cache:
            if name in self.param_names:
                v = self.samples[:, :, self._param_index(name)]
            else:
                flat = self.samples.reshape(-1, len(self.param_names))
                v = _eval_derived(self.derived[name], flat, self.param_names, name).reshape(
                    self.samples.shape[:2]
                )
                v.flags.writeable = False
            self._cache[key] = v
        return self._cache[key]  # type: ignore[no-any-return]

    def n_undefined(self, name: str) -> NDArray[np.int64]:
        """Per problem, the converged replicates on which ``name`` is NaN (a derived quantity
        undefined there, e.g. a logarithm of a negative value): left out of its interval and
        standard error like failed replicates, and counted here (0 for a parameter).

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        v = self.values(name)
        converged = ~np.isnan(self.samples).any(axis=2)
        return np.asarray(np.sum(converged & np.isnan(v), axis=1), dtype=np.int64)

    def n_no_se(self, name: str) -> NDArray[np.int64]:
        """Per problem, the converged replicates with a value of ``name`` but no usable
        standard error (NaN, or zero while the value differs from the estimate: a singular
        or zero-residual fit, e.g. a resample with as many distinct points as free
        parameters). The studentized interval leaves them out; counted here. Needs the
        replicates' covariances (``keep_cov``; a ValueError otherwise).

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        _, se = self._se(name)
        v = self.values(name)
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(v) & (np.isnan(se) | ((se == 0) & (v != self.estimate(name)[:, None])))
        return np.asarray(np.sum(bad, axis=1), dtype=np.int64)

    def stderr(self, name: str) -> FloatArray:
        """Bootstrap standard error (sd of the converged replicates), per problem; NaN where
        fewer than 2 replicates are finite (a quantity infinite on every replicate has none).

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        v = self.values(name)
        ok = np.sum(np.isfinite(v), axis=1)
        sd = np.full(v.shape[0], np.nan)
        r = ok > 1  # the rows with a spread (others NaN, without numpy's warnings)
        if r.any():
            # about the median: equal replicates (a fixed parameter) give exactly 0, not the
            # rounding of their mean (8.9e-16 for 1.7), and large offsets lose no digits
            vr = v[r]
            # np.median where no replicate is NaN: the same value, and numpy's nanmedian takes
            # np.ma.median for rows under 600 (10x slower: most of summary()'s time)
            med = np.nanmedian if np.isnan(vr).any() else np.median
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                sd[r] = np.nanstd(vr - med(vr, axis=1, keepdims=True), axis=1, ddof=1)
        return sd

    def jackknife(self) -> tuple[FloatArray, IntArray]:
        """Leave-one-out fits (points, or groups for the cluster scheme) of every problem:
        (values (n_total, n_params), offsets (n_problems + 1)); computed once, on first use."""
        if "jackknife" not in self._cache:
            if self._jackknife is None:
                raise ValueError("this result has no jackknife (BCa is unavailable)")
            self._cache["jackknife"] = self._jackknife()
        return self._cache["jackknife"]  # type: ignore[no-any-return]

    def _jack_values(self, name: str) -> tuple[FloatArray, IntArray]:
        X, off = self.jackknife()
        if name in self.param_names:
            return X[:, self._param_index(name)], off
        return _eval_derived(self.derived[name], X, self.param_names, name), off

    def _se(self, name: str) -> tuple[FloatArray, FloatArray]:
        """(se at the point fit (m,), se of each replicate (m, R)) for studentized intervals."""
        if self.sample_cov is None:
            raise ValueError(
                "studentized intervals need each replicate's covariance: run the bootstrap "
                "with method='studentized' (or keep_cov=True)"
            )
        key = ("se", name)
        if key not in self._cache:  # the intervals and n_no_se both need it
            if name in self.param_names:
                i = self._param_index(name)
                with np.errstate(invalid="ignore"):
                    pair = np.sqrt(self.center_cov[:, i, i]), np.sqrt(self.sample_cov[:, :, i, i])
            else:
                fn = self.derived[name]
                P = len(self.param_names)
                pair = _delta_se(fn, self.center, self.center_cov, self.param_names, name), _delta_se(
                    fn, self.samples.reshape(-1, P), self.sample_cov.reshape(-1, P, P),
                    self.param_names, name).reshape(self.samples.shape[:2])
            self._cache[key] = pair
        return self._cache[key]  # type: ignore[no-any-return]

    def ci(self, name: str, method: Optional[str] = None, level: Optional[float] = None) -> FloatArray:
        """Intervals (n_problems, 2) for a parameter or derived quantity.

        ``method`` and ``level`` default to the ones the bootstrap was run with. Problems
        whose point fit failed get NaN.

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        method : {"bca", "percentile", "basic", "studentized"}, optional
            The interval; None (default): the bootstrap's ``method``.
        level : float, optional
            The level, in (0, 1); None (default): the bootstrap's ``level``.
        """
        method = _check_method(self.method if method is None else method)
        lv = _check_level(self.level if level is None else level)
        self._check_name(name)
        key = ("ci", name, method, lv)
        if key not in self._cache:
            point = self.estimate(name)
            samples = self.values(name)
            jack = self._jack_values(name) if method == "bca" else None
            se0, se = self._se(name) if method == "studentized" else (None, None)
            with np.errstate(all="ignore"):  # values near the double limit: inf, not a warning
                if se0 is not None and se is not None and getattr(self.derived.get(name), "positive", False):
                    out = _log_studentized_rows(lv, point, samples, se0, se)
                else:
                    out = _interval_rows(method, lv, point, samples, jack, se0, se)
            out[self.center_status <= 0] = np.nan
            if name in self.param_names and self.lower is not None and self.upper is not None:
                # the basic and studentized intervals reflect the replicates about the
                # estimate, and can cross a bound the parameter cannot (E < 0 for E >= 0)
                k = self.param_names.index(name)
                out = np.clip(out, self.lower[k], self.upper[k])
            out.flags.writeable = False  # cached: callers must not edit it
            self._cache[key] = out
        return self._cache[key]  # type: ignore[no-any-return]

    def problem(self, j: int) -> BootstrapBatchResult:
        """The bootstrap of problem j alone (a batch of one).

        Parameters
        ----------
        j : int
            The problem's index, in ``[-n_problems, n_problems)`` (negative from the end);
            another is an IndexError.
        """
        n = self.center.shape[0]
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not -n <= j < n:
            raise IndexError(f"problem {j!r} is not a problem index of this batch (0..{n - 1})")
        j = int(j) % n
        sl = slice(j, j + 1)
        jk = self._jackknife
        if "jackknife" in self._cache:  # computed: problem j's rows alone
            X, off = self._cache["jackknife"]
            jk = functools.partial(_given_jackknife, X[off[j]:off[j + 1]].copy())
        elif isinstance(jk, functools.partial) and jk.func is _jackknife:
            # problem j's data alone, so that the result pickles small (not the whole batch)
            jk = functools.partial(_jackknife, jk.args[0].problem(j), *jk.args[1:])
        elif jk is not None:
            jk = functools.partial(_problem_jackknife, self, j)
        return BootstrapBatchResult(
            model=self.model,
            param_names=self.param_names,
            center=self.center[sl],
            center_status=self.center_status[sl],
            center_cov=self.center_cov[sl],
            samples=self.samples[sl],
            status=self.status[sl],
            sample_cov=None if self.sample_cov is None else self.sample_cov[sl],
            scheme=self.scheme,
            method=self.method,
            level=self.level,
            seed=self.seed,
            wild=self.wild,
            problem_id=self.problem_id[sl],
            derived=self.derived,
            _jackknife=jk,
            custom_model=self.custom_model,
            lower=self.lower,
            upper=self.upper,
        )

    def __repr__(self) -> str:
        return (
            f"BootstrapBatchResult(model={self.model!r}, n_problems={self.n_problems}, "
            f"n_resamples={self.n_resamples}, scheme={self.scheme!r}, seed={self.seed}, "
            f"failed={int(self.n_failed.sum())}/{self.status.size})"
        )


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap of one fit.

    Attributes
    ----------
    fit : FitResult
        The point fit.
    batch : BootstrapBatchResult
        The same bootstrap as a batch of one (arrays with a leading problem axis).
    x_data, y_data : ndarray
        The data (kept for prediction bands).
    log_residuals : bool
    w_data : ndarray or None
        The fit's weights (None: all 1).
    """

    fit: FitResult
    batch: BootstrapBatchResult
    x_data: FloatArray = field(repr=False)
    y_data: FloatArray = field(repr=False)
    log_residuals: bool = False
    w_data: Optional[FloatArray] = field(default=None, repr=False)

    @property
    def params(self) -> dict[str, float]:
        """The point fit's parameters by name."""
        return self.fit.params

    @property
    def x(self) -> FloatArray:
        """The point fit's parameter vector."""
        return self.fit.x

    @property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names, in the order of :attr:`x`."""
        return self.batch.param_names

    @property
    def samples(self) -> FloatArray:
        """Replicate parameters (n_resamples, n_params); NaN rows for failed replicates."""
        return np.asarray(self.batch.samples[0], dtype=np.float64)

    @property
    def status(self) -> NDArray[np.int32]:
        """Per-replicate status (> 0 converged; the others are left out)."""
        return np.asarray(self.batch.status[0], dtype=np.int32)

    @property
    def n_resamples(self) -> int:
        """Replicates drawn."""
        return self.batch.n_resamples

    @property
    def n_failed(self) -> int:
        """Replicates that failed (status <= 0 or singular): counted, left out of intervals."""
        return int(self.batch.n_failed[0])

    @property
    def failures(self) -> dict[int, int]:
        """Failed replicates by status code."""
        s = self.status[self.status <= 0]
        codes, counts = np.unique(s, return_counts=True)
        return {int(c): int(n) for c, n in zip(codes, counts)}

    @property
    def seed(self) -> int:
        """The seed the resamples were drawn from."""
        return self.batch.seed

    @property
    def scheme(self) -> str:
        """The resampling scheme."""
        return self.batch.scheme

    @property
    def method(self) -> str:
        """The default interval method."""
        return self.batch.method

    @property
    def level(self) -> float:
        """The default confidence level."""
        return self.batch.level

    @property
    def derived(self) -> Mapping[str, Derived]:
        """Derived quantities (name -> vectorised callable)."""
        return self.batch.derived

    @property
    def derived_samples(self) -> dict[str, FloatArray]:
        """Replicate values of every derived quantity."""
        return {n: self.batch.values(n)[0] for n in self.batch.derived}

    @property
    def cov(self) -> FloatArray:
        """Bootstrap covariance of the parameters (converged replicates)."""
        s = self.samples[~np.isnan(self.samples).any(axis=1)]
        if s.shape[0] < 2:  # no spread to estimate (every replicate failed, or one left)
            return np.full((s.shape[1],) * 2, np.nan)
        return np.atleast_2d(np.cov(s, rowvar=False))

    def estimate(self, name: str) -> float:
        """The point estimate of a parameter or derived quantity.

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        return float(self.batch.estimate(name)[0])

    def values(self, name: str) -> FloatArray:
        """Replicate values of a parameter or derived quantity (NaN where failed).

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        return np.asarray(self.batch.values(name)[0], dtype=np.float64)

    def stderr(self, name: str) -> float:
        """Bootstrap standard error of a parameter or derived quantity.

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        """
        return float(self.batch.stderr(name)[0])

    def ci(self, name: str, method: Optional[str] = None, level: Optional[float] = None) -> tuple[float, float]:
        """Interval (lower, upper) of a parameter or derived quantity; method and level
        default to the bootstrap's.

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        method : {"bca", "percentile", "basic", "studentized"}, optional
            The interval; None (default): the bootstrap's ``method``.
        level : float, optional
            The level, in (0, 1); None (default): the bootstrap's ``level``.
        """
        lo, hi = self.batch.ci(name, method, level)[0]
        return float(lo), float(hi)

    def interval(self, name: str, level: Optional[float] = None, method: Optional[str] = None) -> tuple[float, float]:
        """:meth:`ci` under the name :meth:`FitResult.interval` has (the same interval).

        Parameters
        ----------
        name : str
            A parameter of the model or a derived quantity of the bootstrap (``names``); another
            is a ValueError, a non-str a TypeError.
        level : float, optional
            The level, in (0, 1); None (default): the bootstrap's ``level``.
        method : {"bca", "percentile", "basic", "studentized"}, optional
            The interval; None (default): the bootstrap's ``method``.
        """
        return self.ci(name, method, level)

    def summary(self, method: Optional[str] = None, level: Optional[float] = None) -> BootstrapSummary:
        """Table of estimate, bootstrap stderr and interval per parameter and derived quantity.

        Parameters
        ----------
        method : {"bca", "percentile", "basic", "studentized"}, optional
            The interval; None (default): the bootstrap's ``method``.
        level : float, optional
            The level, in (0, 1); None (default): the bootstrap's ``level``.
        """
        method = _check_method(self.method if method is None else method)
        lv = _check_level(self.level if level is None else level)
        rows = []
        for name in self.batch.names:
            lo, hi = self.ci(name, method, lv)
            no_se = int(self.batch.n_no_se(name)[0]) if method == "studentized" else 0
            rows.append(
                SummaryRow(name, self.estimate(name), self.stderr(name), lo, hi, name in self.derived,
                           int(self.batch.n_undefined(name)[0]), no_se)
            )
        return BootstrapSummary(
            rows=tuple(rows), method=method, level=lv, scheme=self.scheme,
            n_resamples=self.n_resamples, n_failed=self.n_failed, seed=self.seed,
        )

    def predict(self, x_new: Any, level: Optional[float] = None, kind: str = "confidence") -> Band:
        """Pointwise percentile band of the model at new inputs.

        ``kind="confidence"``: parameter uncertainty only (the curve). ``"prediction"``: also
        the scatter of a new observation (of weight 1), by adding a residual of the point fit
        (drawn with a generator seeded from the bootstrap's seed) to each replicate's
        prediction, in the residual space (multiplicatively under log residuals). The residuals
        are leverage-adjusted, ``e_i sqrt(w_i) / sqrt(1 - h_i)``, and centred: raw residuals
        are smaller than the noise by the leverage (their variance is ``sigma^2 (1 - h_i)``).
        Percentile bands of this kind still under-cover with few points (the spread of the
        parameters is itself underestimated): 8 points of a 3-parameter law, 95% nominal,
        covered a new observation 0.88 of the time (0.84 with raw residuals); a t-based
        prediction interval covered 0.95.

        Both kinds are percentile bands, and under-cover on small sweeps. Measured (95%
        nominal, 1000 simulations, at the middle and edge of the data and at 10x and 100x
        beyond it): a saturating power law on 8 sizes covered the true curve 0.90-0.97 with
        the points scheme, 0.89-0.90 with residual and 0.81-0.85 with wild, and a new
        observation 0.88-0.96, 0.86-0.89 and 0.86-0.87; on 20 sizes (2000 simulations, SE
        0.005) the true curve 0.89-0.93 with points, 0.93-0.94 with residual and 0.90-0.91 with
        wild, a new observation 0.91-0.93, 0.93 and 0.92-0.93. A Chinchilla fit on 30 runs (600 simulations): 0.92-0.96
        with points and residual, 0.90-0.95 with wild. With fewer than ~20 points read the
        band as narrower than nominal, and prefer the points scheme.

        Parameters
        ----------
        x_new : array_like
            The inputs, as :func:`scalingfit.fit` takes ``x`` (``(n,)``, ``(n, k)`` or a tuple
            of columns such as ``(N, D)``), or one point as ``FitResult.predict`` takes it (a
            number, ``(N, D)`` numbers): the band then has one entry; finite, and > 0 for a
            law with positive inputs.
        level : float, optional
            The band's level, in (0, 1); None (default): the bootstrap's ``level``.
        kind : {"confidence", "prediction"}
            As above; default ``"confidence"``.
        """
        lv = _check_level(self.level if level is None else level)
        if kind not in ("confidence", "prediction"):
            raise ValueError(f"kind must be 'confidence' or 'prediction', got {kind!r}")
        m = self.batch.model_object()
        xa = _validate.as_inputs(_validate.one_point(x_new, m.n_inputs, "x_new")[0], m, "x_new")
        _validate.check_finite(xa, "x_new", m.input_names)
        if m.positive_inputs:  # a power law at x <= 0: NaN everywhere, not a band
            _validate.check_positive(xa, "x_new", f"{m.name} is a power law in its inputs", m.input_names)
        est = m.predict(self.x, xa)
        S = self.samples[~np.isnan(self.samples).any(axis=1)]
        if S.shape[0] == 0:
            raise ValueError(f"no band: none of the {self.samples.shape[0]} replicates converged")
        F = m.predict_many(S, xa)
        if kind == "prediction":
            e = self.prediction_residuals()
            rng = np.random.default_rng([self.seed, 0x70726564])
            draw = e[rng.integers(0, e.size, size=F.shape)]
            F = F * np.exp(draw) if self.log_residuals else F + draw
        a = 1.0 - lv
        lo, hi = np.quantile(F, [a / 2, 1 - a / 2], axis=0)
        return Band(x=xa, estimate=est, lower=lo, upper=hi, level=lv, kind=kind)

    def prediction_residuals(self) -> FloatArray:
        """The point fit's residuals (in the residual space) that :meth:`predict` adds for
        ``kind="prediction"``: those the residual scheme resamples (``_core.prepare_residuals``),
        ``e_i sqrt(w_i) / sqrt(1 - h_i)``, centred, over the points of positive weight, with
        ``h_i`` the leverages of the weighted Gauss–Newton hat matrix of the free parameters."""
        m = self.batch.model_object()
        P = len(self.param_names)
        fixed = [self.param_names.index(n) for n in self.fit.fixed]
        lo, hi = np.full(P, -np.inf), np.full(P, np.inf)
        lo[fixed] = hi[fixed] = self.x[fixed]
        keep = np.ones(self.y_data.shape[0], dtype=bool) if self.w_data is None else self.w_data > 0
        if isinstance(m, CustomModel):
            from ._custom_boot import prepare_residuals

            prep = prepare_residuals(m, self.x_data, self.y_data, self.w_data, self.x, self.log_residuals,
                                     SCHEMES["residual"], lo, hi)
            if prep is None:
                raise ValueError(f"{m.name} is not finite (or not positive, on log residuals) at "
                                 "the point fit on some data point")
            return prep[1][keep]
        _, resid, _ = _core.prepare_residuals(
            m.index, SCHEMES["residual"], np.ascontiguousarray(self.x_data), self.y_data,
            self.w_data, np.array([0, self.y_data.shape[0]], dtype=np.int64),
            np.ascontiguousarray(self.x.reshape(1, P)), self.log_residuals, lo, hi)
        return np.asarray(resid)[keep]

    def __repr__(self) -> str:
        return str(self.summary())


# ------------------------------------------------------------------ drivers
def _warn_at_bound(model: str, point: FitResult) -> None:
    """An UncertaintyWarning when the point fit ended on a bound: the bootstrap is not
    consistent there (Andrews 2000), and its intervals of every parameter under-cover."""
    if point.at_bound:
        on = ", ".join(f"{n} = {point.params[n]:.6g}" for n in point.at_bound)
        _warnings.warn(
            f"{model} bootstrap: the point fit ended on a bound ({on}); bootstrap intervals are "
            "not reliable there (resamples pile up on the bound: with E on its bound 0, 95% "
            "percentile intervals of a saturating power law's alpha covered 85% in simulation). "
            "Widen the bound, hold the parameter with fixed=, or take a profile interval "
            "(scalingfit.uncertainty.profile_interval), which respects the bound",
            UncertaintyWarning, stacklevel=3,
        )


def _warn_failed(n_failed: int, n_total: int, what: str) -> None:
    if n_failed:
        _warnings.warn(
            f"{n_failed} of {n_total} {what} failed to converge (or were singular); they are "
            "counted in n_failed and left out of the intervals",
            ConvergenceWarning,
            stacklevel=3,
        )


@dataclass(frozen=True, eq=False)
class _Engine:
    """What a batched core call of a bootstrap needs besides its items: the validated data,
    the point fits, the resampling and solver options. Kept (and pickled) with a result for
    its lazy jackknife, so it holds only arrays, numbers and names (the solver is looked up
    per call)."""

    m: Union[Model, CustomModel]
    x: FloatArray
    y: FloatArray
    w: Optional[FloatArray]
    offsets: IntArray
    center: FloatArray
    lo: FloatArray
    hi: FloatArray
    loss_index: int
    wild: int
    seed: int
    problem_id: IntArray
    groups: Optional[NDArray[np.int32]]
    n_groups: Optional[IntArray]
    common: dict[str, Any]
    threads: Optional[int]
    max_memory: Optional[int]
    on_gpu: bool
    fixed_bytes: int

    def problem(self, j: int) -> _Engine:
        """The engine of problem j alone (its data, point fit, id and groups): its items give
        the same bits as problem j's items of the whole batch (each item depends only on its
        problem, its replicate and the seed)."""
        a, b = int(self.offsets[j]), int(self.offsets[j + 1])
        sl = slice(j, j + 1)
        return replace(
            self, x=self.x[a:b].copy(), y=self.y[a:b].copy(),
            w=None if self.w is None else self.w[a:b].copy(),
            offsets=np.array([0, b - a], dtype=self.offsets.dtype), center=self.center[sl].copy(),
            problem_id=self.problem_id[sl].copy(),
            groups=None if self.groups is None else self.groups[a:b].copy(),
            n_groups=None if self.n_groups is None else self.n_groups[sl].copy(),
        )

    def solve_items(
        self, n_items: int, items: Callable[[int, int], tuple[IntArray, IntArray]],
        scheme_index: int, compute_cov: bool,
    ) -> tuple[FloatArray, Optional[FloatArray], NDArray[np.int32]]:
        """(x, cov, status) of items [0, n_items); items(a, b) names the (problem, replicate)
        of items [a, b). In consecutive core calls of at most ``max_memory`` bytes (a custom
        model's by :mod:`scalingfit._custom_boot`, on the same resamples)."""
        X, C, _, S = self.solve_items_cost(n_items, items, scheme_index, compute_cov)
        return X, C, S

    def solve_items_cost(
        self, n_items: int, items: Callable[[int, int], tuple[IntArray, IntArray]],
        scheme_index: int, compute_cov: bool,
    ) -> tuple[FloatArray, Optional[FloatArray], FloatArray, NDArray[np.int32]]:
        """:meth:`solve_items` with each item's final cost: (x, cov, cost, status)."""
        if isinstance(self.m, CustomModel):
            from . import _custom_boot

            return _custom_boot.solve_items(self, n_items, items, scheme_index, compute_cov)
        P = self.m.n_params
        item_bytes = 8 * P + (8 * P * P if compute_cov else 0) + 32  # + cost, status, iters, ids
        chunks = _fit.item_chunks(n_items, item_bytes, self.fixed_bytes, self.max_memory)
        solver = _cuda.bootstrap_batch if self.on_gpu else _core.bootstrap_batch

        def call(a: int, b: int) -> tuple[Any, ...]:
            prob, rep = items(a, b)
            return tuple(_fit.timed_core(lambda: solver(
                self.m.index, self.loss_index, self.x, self.y, self.w, self.offsets, self.center,
                self.lo, self.hi, scheme_index, self.wild, self.seed, self.problem_id,
                self.groups, self.n_groups, np.ascontiguousarray(prob, dtype=np.int64),
                np.ascontiguousarray(rep, dtype=np.int64), compute_cov=compute_cov,
                n_threads=_check_threads(self.threads, b - a), **self.common,
            )))

        X, C, cost, S, _ = _fit.gather(chunks, call, P, compute_cov)
        return X, C, cost, S


#: A given center is not its problem's optimum when re-solving from it lowers the cost by more
#: than this (relative), unless its cost is below ``EXACT_FIT`` of ``1/2 sum w (y^2 + 1)`` (y in
#: the fit's space): an exact fit, whose parameters may wander at no cost (a flat metric).
CENTER_COST_RTOL = 1e-6
EXACT_FIT = 1e-14


def _exact_cost(y: FloatArray, w: Optional[FloatArray], offsets: IntArray, log_residuals: bool) -> FloatArray:
    """Per problem, ``EXACT_FIT`` of ``1/2 sum w (y^2 + 1)``, y in the fit's space (the 1: a
    metric that is 0 everywhere still has a scale)."""
    with np.errstate(all="ignore"):
        t = np.log(y) if log_residuals else y
        v = (np.where(np.isfinite(t), t * t, 0.0) + 1.0) * (1.0 if w is None else np.where(np.isfinite(w), w, 0.0))
    sums = np.add.reduceat(np.r_[v, 0.0], offsets[:-1]) if offsets.shape[0] > 1 else np.zeros(0)
    sums = np.where(np.diff(offsets) > 0, sums, 0.0)
    return np.asarray(EXACT_FIT * 0.5 * sums)


def _warn_moved_centers(center: FloatArray, x0: FloatArray, status: NDArray[np.int32],
                        cost_center: FloatArray, cost0: FloatArray, exact: FloatArray,
                        names: tuple[str, ...]) -> None:
    """An ``UncertaintyWarning`` when a given ``center`` is not its problem's optimum:
    re-solved from it on the original data (replicate -1), the fit converges at a cost lower
    by more than ``CENTER_COST_RTOL`` (the message names the parameter that moved most,
    relative to its size). The replicates start there and the intervals are read around it: a
    center of alpha = 0.2 where the fit is 0.34 gave an interval (0.305, 0.348) excluding its
    own estimate."""
    with np.errstate(invalid="ignore"):
        lower = (status > 0) & (cost_center > exact) & (cost_center - cost0 > CENTER_COST_RTOL * cost_center)
    bad = np.flatnonzero(lower)
    if bad.size:
        j = int(bad[0])
        with np.errstate(all="ignore"):
            k = int(np.nanargmax(np.abs(x0[j] - center[j]) / np.fmax(np.abs(center[j]), 1e-300)))
        _warnings.warn(
            f"center is not the optimum of its data for {bad.size} of {center.shape[0]} problem(s): "
            f"re-solved from it, problem {j}'s {names[k]} moves from {center[j, k]:.6g} to "
            f"{x0[j, k]:.6g}; the replicates start there and the intervals are read around it: "
            "pass each problem's point fit as center (or omit center)",
            UncertaintyWarning, stacklevel=4,
        )


def _jackknife(engine: _Engine, by_groups: bool) -> tuple[FloatArray, IntArray]:
    """Leave-one-out fits (of points, or of groups) of every problem: (values (n_total,
    n_params), offsets (n_problems + 1)), NaN rows where a fit failed. A module-level function
    (bound with functools.partial) so that a result holding it pickles."""
    sizes = engine.n_groups if by_groups else np.diff(engine.offsets)
    assert sizes is not None
    off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    prob = np.repeat(np.arange(sizes.shape[0], dtype=np.int64), sizes)
    rep = np.arange(off[-1], dtype=np.int64) - np.repeat(off[:-1], sizes)
    scheme = _JACKKNIFE_GROUPS if by_groups else _JACKKNIFE_POINTS
    Xj, _, sj = engine.solve_items(int(off[-1]), lambda a, b: (prob[a:b], rep[a:b]), scheme, False)
    Xj[sj <= 0] = np.nan
    if engine.w is not None:  # leaving out a point (group) of weight 0 leaves the fit as it is:
        # such copies of the full-data fit would pull the mean and shrink the acceleration
        if by_groups:
            assert engine.groups is not None
            points = np.repeat(off[:-1], np.diff(engine.offsets)) + engine.groups
            empty = np.bincount(points, weights=engine.w, minlength=int(off[-1])) <= 0
        else:
            empty = engine.w <= 0
        Xj[empty] = np.nan
    return Xj, off


def _given_jackknife(X: FloatArray) -> tuple[FloatArray, IntArray]:
    """A problem's jackknife already computed (for :meth:`BootstrapBatchResult.problem`)."""
    return X, np.array([0, X.shape[0]], dtype=np.int64)


def _problem_jackknife(parent: BootstrapBatchResult, j: int) -> tuple[FloatArray, IntArray]:
    """Problem j's rows of ``parent``'s jackknife (for :meth:`BootstrapBatchResult.problem`)."""
    X, off = parent.jackknife()
    return X[off[j] : off[j + 1]], np.array([0, off[j + 1] - off[j]], dtype=np.int64)


def _check_result_memory(n_items: int, P: int, keep_cov: bool) -> None:
    """A MemoryError before any fitting when the result cannot fit in the memory available
    (RAM and swap): its samples (and covariances with ``keep_cov``), the solver's outputs
    gathered for them, and a sorted copy for the intervals. 1,000 problems x 500,000
    resamples were accepted on a 24 GB machine and grew toward the OOM killer for about 35
    minutes."""
    need = n_items * (2 * 8 * P + (8 * P * P if keep_cov else 0) + 16)
    if need < 64 << 20:  # not worth reading /proc and the cgroup files (0.15 ms a call)
        return
    free = _fit.available_memory()
    if free is not None and need > free:
        raise MemoryError(
            f"this bootstrap's {n_items:,} replicates need about {need / 2**30:.1f} GiB for their results "
            f"(samples{', covariances' if keep_cov else ''} and a sorted copy), more than the "
            f"{free / 2**30:.1f} GiB of memory available: ask for fewer resamples, or bootstrap the "
            "problems in parts")


def _run(
    m: Union[Model, CustomModel],
    x: FloatArray,
    y: FloatArray,
    w: Optional[FloatArray],
    offsets: IntArray,
    center: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    *,
    scheme: str,
    wild: str,
    seed: int,
    problem_id: IntArray,
    groups: Optional[NDArray[np.int32]],
    n_groups: Optional[IntArray],
    n_resamples: int,
    method: str,
    level: float,
    derived: Mapping[str, Derived],
    keep_cov: bool,
    loss: str,
    f_scale: float,
    log_residuals: bool,
    max_iter: int,
    ftol: float,
    xtol: float,
    gtol: float,
    threads: Optional[int],
    max_memory: Optional[int],
    backend: str = "cpu",
    precision: str = "float64",
    check_center: bool = False,
) -> BootstrapBatchResult:
    """The engine: replicate -1 (point fit re-solved, for its covariance) and replicates
    0..R-1 of every problem, as items of batched core calls of at most ``max_memory`` bytes of
    working memory each (the items are independent: any split gives the same bits)."""
    n_problems = offsets.shape[0] - 1
    P = m.n_params
    loss_index = _validate.check_loss(loss, LOSSES)
    _validate.check_options(f_scale, max_iter, ftol, xtol, gtol)
    scheme_i, wild_i = _check_scheme(scheme, wild)
    R = n_resamples
    _check_threads(threads, n_problems * R)
    float32 = _fit.check_precision(precision, m)
    _check_result_memory(n_problems * R, P, keep_cov)
    # Scratch of one call: prepared inputs and targets, fitted values and residuals (residual
    # and wild schemes), and per thread one resample of the largest problem (multiplicities,
    # then its drawn points compacted: inputs, target and weight each).
    n_points = y.shape[0]
    max_points = int(np.diff(offsets).max(initial=0))
    max_groups = int(n_groups.max(initial=0)) if n_groups is not None else 0
    n_threads = threads or default_threads(n_problems * R)
    engine = _Engine(
        m=m, x=x, y=y, w=w, offsets=offsets, center=center, lo=lo, hi=hi, loss_index=loss_index,
        wild=wild_i, seed=seed, problem_id=problem_id, groups=groups, n_groups=n_groups,
        common=dict(ftol=float(ftol), xtol=float(xtol), gtol=float(gtol), max_iter=int(max_iter),
                    f_scale=float(f_scale), log_residuals=bool(log_residuals), float32=float32),
        threads=threads, max_memory=max_memory, on_gpu=_fit.resolve_backend(backend, m) == "cuda",
        fixed_bytes=(8 * (x.size + 3 * n_points) + n_problems
                     + n_threads * ((4 + 8 * (m.n_inputs + 2)) * max(max_points, 1)
                                    + 4 * max(max_groups, 1))),
    )

    # Replicate -1 of every problem (the point fit re-solved, with its covariance), then the
    # replicates, problem by problem: item q is (q // R, q % R).
    all_problems = np.arange(n_problems, dtype=np.int64)
    def originals(a: int, b: int) -> tuple[IntArray, IntArray]:
        return all_problems[a:b], np.full(b - a, -1, dtype=np.int64)

    x0, c0, cost0, center_status = engine.solve_items_cost(n_problems, originals, scheme_i, True)
    assert c0 is not None
    if float32:
        flagged = _precision.rounding_items(y, w, offsets, all_problems, cost0, center_status,
                                            bool(log_residuals))
        _precision.warn_rounding(m.name, flagged, all_problems, "their replicates stop where they "
                                 "start, so their intervals are rounding too (often of zero width)")
    center_cov = c0.reshape(n_problems, P, P)
    if check_center and not float32:  # the cost at each given center: the same items stopped before a step
        at_center = replace(engine, common={**engine.common, "max_iter": 0})
        cost_center = at_center.solve_items_cost(n_problems, originals, scheme_i, False)[2]
        _warn_moved_centers(center, x0, center_status, cost_center, cost0,
                            _exact_cost(y, w, offsets, bool(log_residuals)), m.param_names)
    X, cov, status = engine.solve_items(
        n_problems * R, lambda a, b: divmod(np.arange(a, b, dtype=np.int64), R), scheme_i, keep_cov
    )
    samples = X.reshape(n_problems, R, P)
    st = status.reshape(n_problems, R)
    samples[st <= 0] = np.nan
    sample_cov: Optional[FloatArray] = None
    if cov is not None:
        sample_cov = cov.reshape(n_problems, R, P, P)
        sample_cov[st <= 0] = np.nan
    jackknife = functools.partial(_jackknife, engine, scheme == "groups")

    result = BootstrapBatchResult(
        model=m.name,
        param_names=m.param_names,
        center=center.copy(),
        center_status=center_status,
        center_cov=center_cov,
        samples=samples,
        status=st,
        sample_cov=sample_cov,
        scheme=scheme,
        method=method,
        level=level,
        seed=seed,
        wild=wild,
        problem_id=problem_id,
        derived=dict(derived),
        _jackknife=jackknife,
        custom_model=m if isinstance(m, CustomModel) else None,
        lower=np.array(lo, dtype=np.float64),
        upper=np.array(hi, dtype=np.float64),
    )
    for name in result.derived:  # fail early on a derived callable of the wrong shape
        result.estimate(name)
        bad = result.n_undefined(name)
        if bad.any():
            j = int(np.argmax(bad))
            _warnings.warn(
                f"derived quantity {name!r} is NaN on {int(bad.sum())} converged replicate(s)"
                + (f" ({int(bad[j])} of problem {j})" if bad.size > 1 else "")
                + "; they are left out of its interval and standard error, which then describe "
                "only the replicates where it is defined", DataWarning, stacklevel=3)
    if method == "studentized":
        for name in result.names:
            bad = result.n_no_se(name)
            if bad.any():
                _warnings.warn(
                    f"{int(bad.sum())} converged replicate(s) have no standard error (singular or "
                    "zero-residual fits, e.g. resamples with as many distinct points as free "
                    "parameters); they are left out of the studentized intervals, which then "
                    "describe only the better-determined resamples: compare with method='bca'",
                    DataWarning, stacklevel=3)
                break
    if method == "bca":
        result.jackknife()
    return result


def _check_derived(derived: Optional[Mapping[str, Derived]], m: Union[Model, CustomModel]) -> dict[str, Derived]:
    if derived is None:
        return {}
    if not isinstance(derived, Mapping):
        raise TypeError("derived must be a mapping {name: callable(params) -> array}")
    out = {}
    for name, fn in derived.items():
        if not isinstance(name, str):
            raise TypeError(f"derived quantities are named by str, got {type(name).__name__} {name!r}")
        if not callable(fn):
            raise TypeError(f"derived[{name!r}] must be callable, got {type(fn).__name__}")
        if name in m.param_names:
            raise ValueError(f"derived name {name!r} clashes with a parameter of {m.name}")
        out[str(name)] = fn
    return out


@_validate.suggest_argument_names
def bootstrap(
    model: ModelLike,
    x: Any,
    y: ArrayLike,
    *,
    n_resamples: int = 1000,
    seed: Optional[int] = 0,
    scheme: str = "points",
    groups: Optional[ArrayLike] = None,
    level: float = 0.95,
    method: str = "bca",
    derived: Optional[Mapping[str, Derived]] = None,
    p0: Optional[ArrayLike] = None,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
    bounds: _validate.BoundsLike = None,
    fixed: _validate.FixedLike = None,
    wild: str = "rademacher",
    keep_cov: bool = True,
    max_iter: int = DEFAULT_MAX_ITER,
    ftol: float = DEFAULT_FTOL,
    xtol: float = DEFAULT_XTOL,
    gtol: float = DEFAULT_GTOL,
    threads: Optional[int] = None,
    max_memory: Optional[int] = None,
    backend: str = "cpu",
    precision: str = "float64",
) -> BootstrapResult:
    """Bootstrap a fit: the point fit, ``n_resamples`` refits, intervals.

    Parameters
    ----------
    model, x, y, p0, weights, loss, f_scale, log_residuals, bounds, fixed :
        As for :func:`scalingfit.fit` (the point fit and every replicate use them; a fixed
        parameter is the same in every replicate, its interval a single point). A
        :class:`~scalingfit.CustomModel` (with ``p0``) is bootstrapped on the same resamples as
        a built-in model for the same seed (the core's generators draw them), each solved by
        the Python LM solver, all replicates at once (CPU, float64; 1,000 resamples of 12-50
        points in 0.06-0.08 s with ``jac``, 0.11-0.15 s without, where a loop of scipy's
        least_squares from the same start takes 0.14-0.17 s with ``method="lm"`` and the
        same jac, 0.54-0.71 s with its default); its replicates agree with an equivalent
        built-in law's to the solvers' tolerance (~1e-7).
    max_iter, ftol, xtol, gtol, threads :
        The solver's controls, as for :func:`scalingfit.fit`, for the point fit and every
        replicate.
    n_resamples : int
        Replicates (>= 2; 1000 or more for 95% BCa intervals).
    seed : int or None
        Seed of the counter-based generator, in [0, 2**64); recorded in the result. ``None``
        draws one from the OS (and records it).
    scheme : {"points", "groups", "residual", "wild"}
        How to resample (see the module docstring). ``"groups"`` needs ``groups``.
    groups : array_like, shape (n,), optional
        Run (cluster) label of each point for ``scheme="groups"``.
    level : float in (0, 1)
        Default confidence level of :meth:`BootstrapResult.ci` and ``summary``.
    method : {"bca", "percentile", "basic", "studentized"}
        Default interval. BCa runs the jackknife up front; the others compute it on demand.
        ``"basic"`` under-covers skewed quantities badly (tokens per parameter 0.61-0.76 of a
        nominal 95%; see the module docstring): prefer BCa or percentile.
    derived : mapping name -> callable, optional
        Derived quantities ``f(p) -> array`` over columns ``p[name]`` (vectorised over
        replicates), e.g. :func:`chinchilla_derived`.
    wild : {"rademacher", "webb", "mammen"}
        Multipliers of the wild bootstrap.
    keep_cov : bool
        Keep each replicate's covariance (needed by ``method="studentized"``).
    max_memory : int, optional
        Cap in bytes on the working memory of a core call (the prepared data, per-thread
        resample scratch, and the outputs of the replicates it solves) beyond the returned
        result; the replicates are solved in as many consecutive batched calls as that needs,
        with bit-identical results. Default: the data plus 256 MiB for the items.
    backend : {"cpu", "cuda", "auto"}
        Where the replicates are solved (see :func:`scalingfit.fit_batch`); the resamples are
        the same on either (the same Philox streams), the fits agree to rounding.
    precision : {"float64", "float32"}
        Of the replicates (see :func:`scalingfit.fit_batch`); the point fit is float64.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ValueError
        Bad data (as for ``fit``), too few points or groups for the scheme, ``level`` outside
        (0, 1), an unknown scheme, method or wild distribution, a point fit that did not
        converge (status 0, the iteration limit), failed with another negative status, or has
        non-finite parameters.
    Warns
    -----
    UncertaintyWarning
        The point fit ended on a bound (``fit.at_bound``): the bootstrap is not consistent
        there and its intervals under-cover; a basic or studentized interval is held within
        the parameter's bounds.
    IdentifiabilityWarning
        A singular point fit (status -2, e.g. constant ``y`` with a saturating law) does not
        raise: it is bootstrapped as it is. When its replicates are singular too (as with
        constant ``y``) every one fails, a ``ConvergenceWarning`` says so, and the intervals
        and standard errors are NaN.
    """
    lv = _check_level(level)
    method = _check_method(method)
    R = _check_n_resamples(n_resamples)
    seed_v = _check_seed(seed)
    _check_scheme(scheme, wild)
    keep_cov, log_residuals = _check_flags(keep_cov, log_residuals, max_memory)
    m = resolve_model(model)
    dv = _check_derived(derived, m)
    xa, ya, w = _private(*_prepare_points(m, x, y, weights, log_residuals))
    n = ya.shape[0]
    P = m.n_params
    lo, hi = _validate.as_bounds(bounds, m, fixed)
    k_free = _validate.n_free(lo, hi)
    need = min_points(scheme, k_free)
    if n < need:
        raise ValueError(
            f"scheme={scheme!r} needs at least {need} points to bootstrap the {k_free} free "
            f"parameters of {m.name}, got {n}"
        )
    offsets = np.array([0, n], dtype=np.int64)
    g = ng = None
    if scheme == "groups":
        if groups is None:
            raise ValueError("scheme='groups' needs groups= (the run label of each point)")
        g, ng = _dense_groups(groups, offsets, n)
        if ng[0] < MIN_GROUPS:
            raise ValueError(
                f"scheme='groups' needs at least {MIN_GROUPS} groups to resample, got {int(ng[0])}"
            )
    elif groups is not None:
        raise ValueError(f"groups= is only used by scheme='groups', not {scheme!r}")
    if scheme == "residual" and w is not None and not (w > 0).all():
        raise ValueError("scheme='residual' needs positive weights (it rescales residuals by them)")
    with _fit.errors_unused():  # the intervals are the resamples', not Gauss-Newton's
        point = fit(
            m, xa, ya, p0, weights=w, loss=loss, f_scale=f_scale, bounds=(lo, hi),
            log_residuals=log_residuals, max_iter=max_iter, ftol=ftol, xtol=xtol, gtol=gtol,
            threads=threads,
        )
    if not np.isfinite(point.x).all() or (point.status <= 0 and point.status != -2):
        raise ValueError(f"the point fit failed ({point.message}); cannot bootstrap it"
                         + ("; raise max_iter or give p0 near the optimum" if point.status == 0 else ""))
    _warn_at_bound(m.name, point)
    center = np.ascontiguousarray(point.x.reshape(1, P))
    batch = _run(
        m, xa, ya, w, offsets, center, lo, hi, scheme=scheme, wild=wild, seed=seed_v,
        problem_id=np.zeros(1, dtype=np.int64), groups=g, n_groups=ng, n_resamples=R,
        method=method, level=lv, derived=dv, keep_cov=keep_cov or method == "studentized",
        loss=loss, f_scale=f_scale, log_residuals=log_residuals, max_iter=max_iter, ftol=ftol,
        xtol=xtol, gtol=gtol, threads=threads, max_memory=max_memory, backend=backend,
        precision=precision,
    )
    _warn_failed(int(batch.n_failed[0]), R, "bootstrap replicates")
    return BootstrapResult(fit=point, batch=batch, x_data=xa, y_data=ya, log_residuals=log_residuals, w_data=w)


@_validate.suggest_argument_names
def bootstrap_batch(
    model: ModelLike,
    x: Any,
    y: ArrayLike,
    offsets: ArrayLike,
    *,
    n_resamples: int = 1000,
    seed: Optional[int] = 0,
    scheme: str = "points",
    groups: Optional[ArrayLike] = None,
    level: float = 0.95,
    method: str = "bca",
    derived: Optional[Mapping[str, Derived]] = None,
    center: Optional[ArrayLike] = None,
    problem_id: Optional[ArrayLike] = None,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
    bounds: _validate.BoundsLike = None,
    fixed: _validate.FixedLike = None,
    wild: str = "rademacher",
    keep_cov: bool = False,
    max_iter: int = DEFAULT_MAX_ITER,
    ftol: float = DEFAULT_FTOL,
    xtol: float = DEFAULT_XTOL,
    gtol: float = DEFAULT_GTOL,
    threads: Optional[int] = None,
    max_memory: Optional[int] = None,
    backend: str = "cpu",
    precision: str = "float64",
) -> BootstrapBatchResult:
    """Bootstrap many problems at once (CSR-packed like :func:`scalingfit.fit_batch`).

    All replicates of all problems are items of one batched call. Problem j's resamples are
    named by ``problem_id[j]`` (default j): pass stable ids (e.g. global group numbers) so that
    a problem's resamples do not depend on how a large job is chunked.

    Parameters
    ----------
    model : str, Model or CustomModel
        A built-in model, or a custom one (then ``center`` is needed: a custom law has no
        data-driven start); see :func:`bootstrap` for how a custom model is bootstrapped.
    x, y : array_like
        The points of every problem, packed: ``x`` as for :func:`scalingfit.fit_batch`
        ((n,) or (n, n_inputs), or a tuple of columns), ``y`` (n,).
    offsets : array_like of int, shape (n_problems + 1,)
        Problem j owns rows ``offsets[j]:offsets[j+1]``.
    center : array_like (n_problems, n_params), optional
        Point fits to bootstrap around (warm starts). Omitted: fitted here, each problem from
        its data-driven initial guesses. A NaN in a row marks a problem whose point fit
        failed (``best_per_problem()`` gives such rows): it is skipped (``center_status``
        -3, intervals NaN), with a ConvergenceWarning naming it; an infinite value is a
        ValueError naming the problem and the parameter.
    problem_id : array_like of int (n_problems,), optional
        The id of each problem's resample stream (default: its index); integers only (as
        ``fit_batch``'s ``problem``: floats are refused, not truncated).
    groups : array_like (n,), optional
        Run label of each point for ``scheme="groups"`` (labels are local to each problem).
    weights : array_like (n,), optional
        Non-negative weights of the points (see :func:`scalingfit.fit`).
    keep_cov : bool
        Keep every replicate's covariance (n_problems x R x P x P floats), needed by
        studentized intervals; implied by ``method="studentized"``. Default False here (True
        for :func:`bootstrap`): it is the bulk of a large batch's memory.
    max_memory : int, optional
        As for :func:`bootstrap`: 10 million replicates of small problems fit in well under
        2 GiB of memory.
    backend : {"cpu", "cuda", "auto"}
        Where the point fits (when ``center`` is omitted) and the replicates are solved (see
        :func:`scalingfit.fit_batch`).
    precision : {"float64", "float32"}
        Of the point fits (when ``center`` is omitted) and the replicates (see
        :func:`scalingfit.fit_batch`).
    n_resamples, seed, scheme, level, method, derived, loss, f_scale, log_residuals, bounds, fixed, wild, max_iter, ftol, xtol, gtol, threads :
        As for :func:`bootstrap` (applied to every problem).

    Problems with too few points (or groups) for the scheme, unusable data or a failed point
    fit are not exceptions here: their ``center_status`` is -3 (or the fit's status) and their
    intervals NaN. Malformed arrays, an unknown scheme/method, or ``level`` outside (0, 1) raise.

    Returns
    -------
    BootstrapBatchResult
    """
    lv = _check_level(level)
    method = _check_method(method)
    R = _check_n_resamples(n_resamples)
    seed_v = _check_seed(seed)
    _check_scheme(scheme, wild)
    keep_cov, log_residuals = _check_flags(keep_cov, log_residuals, max_memory)
    m = resolve_model(model)
    dv = _check_derived(derived, m)
    xa = _validate.as_inputs(x, m)
    ya = _validate.as_targets(y, xa.shape[0])
    off = _validate.as_offsets(offsets, ya.shape[0])
    n_problems = off.shape[0] - 1
    P = m.n_params
    w = None
    if weights is not None:
        w = _validate.as_targets(weights, ya.shape[0], name="weights", x_name="y")
    xa, ya, w, off = _private(xa, ya, w, off)
    lo, hi = _validate.as_bounds(bounds, m, fixed)
    if problem_id is None:
        pid = np.arange(n_problems, dtype=np.int64)
    else:
        pid = np.asarray(problem_id)
        if pid.dtype == np.bool_ or not np.issubdtype(pid.dtype, np.integer):  # as fit_batch's problem
            raise TypeError(f"problem_id must hold integer ids (one per problem), got dtype "
                            f"{pid.dtype}: {problem_id!r}")
        pid = np.array(pid, dtype=np.int64)  # a copy: the result makes its problem_id read-only
        if pid.shape != (n_problems,):
            raise ValueError(f"problem_id must have one entry per problem ({n_problems}), got shape {pid.shape}")
    g = ng = None
    if scheme == "groups":
        if groups is None:
            raise ValueError("scheme='groups' needs groups= (the run label of each point)")
        g, ng = _dense_groups(groups, off, ya.shape[0])
    elif groups is not None:
        raise ValueError(f"groups= is only used by scheme='groups', not {scheme!r}")
    fit_kw = dict(
        loss=loss, f_scale=f_scale, log_residuals=log_residuals, max_iter=max_iter,
        ftol=ftol, xtol=xtol, gtol=gtol, threads=threads, max_memory=max_memory, backend=backend,
        precision=precision,
    )
    if center is None:
        if isinstance(m, CustomModel):
            raise ValueError(f"custom model {m.name!r} has no data-driven start: pass center= (each "
                             "problem's point fit, e.g. fit_batch's best_per_problem() from your p0)")
        c = _fit_centers(m, xa, ya, w, off, lo, hi, fit_kw)
    else:
        c = _validate.as_float_array(center, "center")
        if c.shape != (n_problems, P):
            raise ValueError(f"center must have shape ({n_problems}, {P}), got {c.shape}")
        c = np.ascontiguousarray(_validate.pin_fixed(c, lo, hi).copy())
        c[_skipped_centers(c, m.param_names)] = np.nan
        outside = (c < lo) | (c > hi)  # a NaN row (a failed point fit) is a status, not this
        if outside.any():
            j, k = (int(i) for i in np.argwhere(outside)[0])
            raise ValueError(
                f"center of problem {j} is outside the bounds at {m.param_names[k]}: "
                f"{float(c[j, k])!r} not in [{float(lo[k])!r}, {float(hi[k])!r}]"
            )
    too_few = np.diff(off) < min_points(scheme, _validate.n_free(lo, hi))
    if ng is not None:
        too_few |= ng < MIN_GROUPS
    c[too_few] = np.nan
    batch = _run(
        m, xa, ya, w, off, c, lo, hi, check_center=center is not None, scheme=scheme, wild=wild,
        seed=seed_v, problem_id=pid,
        groups=g, n_groups=ng, n_resamples=R, method=method, level=lv, derived=dv,
        keep_cov=keep_cov or method == "studentized", max_iter=max_iter, ftol=ftol,
        xtol=xtol, gtol=gtol, threads=threads, loss=loss, f_scale=f_scale,
        log_residuals=log_residuals, max_memory=max_memory, backend=backend, precision=precision,
    )
    ok = batch.center_status > 0
    _warn_failed(int(batch.n_failed[ok].sum()), int(ok.sum()) * R, "bootstrap replicates")
    return batch


def _skipped_centers(c: FloatArray, names: tuple[str, ...]) -> NDArray[np.bool_]:
    """The problems whose ``center`` row holds a NaN (a failed point fit, as
    ``best_per_problem()`` gives one): skipped, with a ConvergenceWarning naming them and the
    first one's NaN parameters. An infinite value is a ValueError naming its problem and
    parameter."""
    inf = np.isinf(c)
    if inf.any():
        j, k = (int(i) for i in np.argwhere(inf)[0])
        raise ValueError(
            f"center must be finite; center of problem {j} has {names[k]} = {float(c[j, k])!r} "
            "(NaN in a row marks a problem whose point fit failed, skipped)"
        )
    skip = np.isnan(c).any(axis=1)
    if skip.any():
        rows = np.flatnonzero(skip)
        shown = ", ".join(str(int(j)) for j in rows[:10]) + (" ..." if rows.size > 10 else "")
        at = ", ".join(names[k] for k in np.flatnonzero(np.isnan(c[rows[0]])))
        _warnings.warn(
            f"center is NaN for {rows.size} of {c.shape[0]} problem(s) ({shown}; problem "
            f"{int(rows[0])} at {at}), as for a failed point fit: they are not bootstrapped "
            "(center_status -3, intervals NaN)", ConvergenceWarning, stacklevel=3)
    return np.asarray(skip)


def _fit_centers(
    m: Union[Model, CustomModel],
    x: FloatArray,
    y: FloatArray,
    w: Optional[FloatArray],
    off: IntArray,
    lo: FloatArray,
    hi: FloatArray,
    fit_kw: dict[str, Any],
) -> FloatArray:
    """Point fits of every problem from its data-driven initial guesses (every problem's at
    once, :func:`scalingfit._fit.all_starts`), in one batch call."""
    starts, prob = _fit.all_starts(m, x, y, off, lo, hi)
    n_problems = off.shape[0] - 1
    out = np.full((n_problems, m.n_params), np.nan)
    if not starts.shape[0]:
        return out
    res = fit_batch(
        m, x, y, off, starts, problem=prob, weights=w,
        bounds=(lo, hi), compute_cov=False, **fit_kw,
    )
    best = res.best_per_problem()
    good = (best.status > 0) | (best.status == -2)
    out[good] = best.x[good]
    return np.ascontiguousarray(out)
