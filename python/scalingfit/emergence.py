"""Emergence versus metric choice: sigmoid fits of bounded metrics against scale, the two-step
loss → metric link, Schaeffer et al.'s (2023) metric-choice analysis, sharpness and
predictability scores, and the two-step task prediction of Bhagia et al. (2024).

The picture these tools test: a thresholded metric (exact match over L tokens, multiple-choice
accuracy) can look like it appears suddenly with scale while a continuous metric of the same
outputs (per-token log-likelihood, Brier score, task bits-per-byte) improves smoothly, and one
smooth link from the continuous metric to the thresholded one explains both.

- :func:`fit_sigmoids` — ``lo + (hi - lo) / (1 + exp(-k (u - u0)))`` with ``u = log x`` (scale)
  or ``u = x`` (a loss), the engine's ``sigmoid`` model; floor/ceiling can be fixed.
- :func:`fit_two_step` — loss against scale, then metric against loss, chained, with paired
  bootstrap intervals (without resamples, the delta method through both steps).
- :func:`simulate_per_token`, :func:`metrics_from_tokens`, :func:`metric_choice` — the
  simulator and the per-metric sharpness/predictability table.
- :func:`task_ladder` — Bhagia et al.'s chained prediction of downstream accuracy from (N, D).

Every fit is batched: all curves of one model family (all metrics, all tasks) are one
``fit_batch`` call, and all their bootstrap resamples one ``bootstrap_batch`` call.

>>> import numpy as np
>>> from scalingfit import emergence
>>> x = np.logspace(7, 11, 9)
>>> fit, = emergence.fit_sigmoids([x], [0.25 + 0.5 / (1 + (3e9 / x) ** 2.0)])
>>> round(fit.k, 3), f"{fit.x0:.2g}"
(2.0, '3e+09')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from ._resample import (
    LawFit,
    ManyFits,
    _start_rows,
    fit_many,
    percentile_interval,
    table,
    two_sided_quantile,
)
from .bootstrap import generator

__all__ = [
    "METRIC_KINDS",
    "MetricChoice",
    "MetricChoiceRow",
    "PerToken",
    "SigmoidFit",
    "TaskPrediction",
    "TwoStepFit",
    "chain_band",
    "fit_sigmoids",
    "fit_two_step",
    "hidden_progress",
    "metric_choice",
    "metrics_from_tokens",
    "moving_average",
    "rank_correlation",
    "sharpness",
    "simulate_per_token",
    "task_ladder",
]

FloatArray = NDArray[np.float64]
ArrayList = Sequence[ArrayLike]

LN10 = float(np.log(10.0))


def _floats(name: str, value: Any) -> FloatArray:
    """``value`` as floats: text, objects and complex refused naming ``name`` (a TypeError);
    NaN and inf kept for the caller's check, whose message names the first."""
    try:
        return _validate.finite(name, value)
    except ValueError:  # numbers, some not finite
        return _validate.as_float_array(value, name)


def _seq(v: Union[ArrayLike, ArrayList], name: str) -> list[FloatArray]:
    if isinstance(v, (list, tuple)) and len(v) > 0 and np.ndim(v[0]) >= 1:
        return [_floats(f"{name}[{i}]" if len(v) > 1 else name, a) for i, a in enumerate(v)]
    return [_floats(name, v)]


# ----------------------------------------------------------------------------- sigmoids
def _sigmoid(u: FloatArray, lo: Any, hi: Any, k: Any, u0: Any) -> FloatArray:
    with np.errstate(over="ignore"):
        return np.asarray(lo + (hi - lo) / (1.0 + np.exp(-k * (u - u0))))


@dataclass(frozen=True)
class SigmoidFit:
    """``metric = lo + (hi - lo) / (1 + exp(-k (u - u0)))`` with ``u = log x`` (``log_x``) or
    ``u = x``.

    Attributes
    ----------
    law : LawFit
        The engine's ``sigmoid`` fit (parameters lo, hi, k, log_x0 in the ``u`` variable).
    log_x : bool
    """

    law: LawFit
    log_x: bool = True

    @property
    def lo(self) -> float:
        """The metric's value far below the midpoint (the floor when increasing)."""
        return float(self.law.x[0])

    @property
    def hi(self) -> float:
        """The metric's value far above the midpoint."""
        return float(self.law.x[1])

    @property
    def k(self) -> float:
        """Slope in ``u``: per e-fold of x when ``log_x``, per unit of x otherwise."""
        return float(self.law.x[2])

    @property
    def x0(self) -> float:
        """Midpoint, in units of x."""
        return float(np.exp(self.law.x[3])) if self.log_x else float(self.law.x[3])

    def _u(self, x: ArrayLike) -> FloatArray:
        xa = _validate.as_float_array(x, "x")
        if not self.log_x:
            return xa
        # log of 0 or -5: -inf or NaN with numpy's warning, and the floor or NaN as the answer
        _validate.check_positive(xa, "x", "the sigmoid is in log x", nan_ok=True)
        return np.log(xa)

    def predict(self, x: ArrayLike) -> FloatArray:
        """The fitted sigmoid at ``x``. NaN for a metric that did not vary (all at chance, or
        all 1): its data say nothing of where or how steeply it would rise (``k`` and ``x0``
        are NaN, the fit's status -2, with an IdentifiabilityWarning), so no value is
        extrapolated, not even the flat level."""
        lo, hi, k, u0 = self.law.x
        return _sigmoid(self._u(x), lo, hi, k, u0)

    def band(self, x: ArrayLike, level: Optional[float] = None) -> FloatArray:
        """(2, n) interval of the fitted curve at ``x``."""
        u = np.atleast_1d(self._u(x))
        return np.sort(self.law.derived(lambda p: _sigmoid(u, p[..., 0, None], p[..., 1, None], p[..., 2, None],
                                                           p[..., 3, None]), level)[1], axis=0)

    def interval(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """Interval of ``lo``, ``hi``, ``k`` or ``x0``."""
        if name == "x0":
            lo, hi = self.law.derived(lambda p: np.exp(p[..., 3]) if self.log_x else p[..., 3], level)[1]
            return float(lo), float(hi)
        return self.law.interval(name, level)

    @property
    def max_slope(self) -> float:
        """Steepest change of the metric per decade of x (``log_x``) or per unit of x:
        ``|hi - lo| |k| / 4`` (× ln 10 per decade)."""
        s = abs(self.hi - self.lo) * abs(self.k) / 4.0
        return s * LN10 if self.log_x else s

    def __repr__(self) -> str:
        rows = [{"param": n, "value": float(v), "lower": self.interval(n)[0], "upper": self.interval(n)[1]}
                for n, v in (("lo", self.lo), ("hi", self.hi), ("k", self.k), ("x0", self.x0))]
        u = "log x" if self.log_x else "x"
        return f"SigmoidFit(lo + (hi - lo) / (1 + exp(-k ({u} - u0))))\n" + table(rows)


@_validate.suggest_argument_names
def fit_sigmoids(
    xs: Union[ArrayLike, ArrayList],
    ys: Union[ArrayLike, ArrayList],
    *,
    floor: Optional[Union[float, Sequence[Optional[float]]]] = None,
    ceiling: Optional[Union[float, Sequence[Optional[float]]]] = None,
    log_x: bool = True,
    increasing: Optional[bool] = None,
    p0: Optional[ArrayLike] = None,
    n_resamples: int = 0,
    scheme: str = "points",
    groups: Optional[Sequence[Optional[ArrayLike]]] = None,
    seed: int = 0,
    level: float = 0.95,
    loss: str = "linear",
    f_scale: float = 1.0,
    warn: bool = True,
) -> list[SigmoidFit]:
    """Fit a sigmoid with floor and ceiling to each (x, metric) curve; one batch call for all.

    Parameters
    ----------
    xs, ys : array or sequence of arrays
        Scale (compute, N, tokens: ``log_x=True``) or a loss (``log_x=False``) and the bounded
        metric at each point.
    floor, ceiling : float or sequence, optional
        Fix ``lo`` (e.g. chance accuracy) or ``hi`` (e.g. 1.0); one value for all curves or one
        per curve (None: free).
    log_x : bool
        Sigmoid in ``log x`` (scale) or in ``x`` itself (a loss, bits-per-byte). The core model
        is a sigmoid in ``log x``; with ``log_x=False`` it receives ``exp(x)``, so x must stay
        below ~700.
    increasing : bool, optional
        Constrain the sign of k (True: metric rises with x). Default: free, and with both ends
        free the fit is reported with ``lo <= hi``. (With both ends free the sigmoid can swap
        them, so the constraint only bites when ``floor`` or ``ceiling`` is fixed.)
    p0 : array_like, optional
        Extra start ``(lo, hi, k, u0)`` for every curve (added to the data-driven guesses).
    n_resamples, scheme, groups, seed, level, loss, f_scale :
        Bootstrap and objective options (see ``_resample.fit_many``).
    warn : bool
        Warn (``ConvergenceWarning``) when a point fit fails, and (``IdentifiabilityWarning``)
        when a metric does not vary (all 0, all 1, all at chance): its ``k`` and ``x0`` are
        then NaN and its status -2, as any slope at any midpoint fits it.

    Returns
    -------
    list of SigmoidFit

    Examples
    --------
    >>> bpb = np.linspace(0.6, 1.6, 30)
    >>> acc = 0.25 + 0.6 / (1 + np.exp(4.0 * (bpb - 1.0)))
    >>> fit, = fit_sigmoids([bpb], [acc], log_x=False, floor=0.25)
    >>> round(fit.k, 4), round(fit.x0, 4), round(fit.hi, 4)
    (-4.0, 1.0, 0.85)
    """
    log_x, warn = _validate.flag("log_x", log_x), _validate.flag("warn", warn)
    increasing = _validate.optional_flag("increasing", increasing)
    X, Y = _seq(xs, "xs"), _seq(ys, "ys")
    if len(X) != len(Y):
        raise ValueError(f"{len(X)} x arrays but {len(Y)} metric arrays")
    n = len(X)
    floors, ceils = _per_curve("floor", floor, n), _per_curve("ceiling", ceiling, n)
    for i in range(n):  # before the starts, which take min, log and correlations of the data
        _check_curve(X[i], Y[i], "" if n == 1 else f"[{i}]", log_x, floors[i], ceils[i])
    if not log_x:
        big = [float(np.max(x)) for x in X if np.max(x) > 700]
        if big:
            raise ValueError(f"log_x=False needs x < 700 (it is passed as exp(x)); got {big[0]!r}")
        X = [np.exp(x) for x in X]
    # Different fixed floors/ceilings per curve need different bounds: group curves by bounds
    # (one batch call per distinct bound set; usually one).
    keys: list[tuple[Optional[float], Optional[float]]] = [
        (None if f is None else float(f), None if c is None else float(c)) for f, c in zip(floors, ceils)
    ]
    out: list[Optional[SigmoidFit]] = [None] * n
    for key in dict.fromkeys(keys):
        idx = [i for i, kk in enumerate(keys) if kk == key]
        b: dict[str, tuple[float, float]] = {}
        if key[0] is not None:
            b["lo"] = (key[0], key[0])
        if key[1] is not None:
            b["hi"] = (key[1], key[1])
        if increasing is not None:
            b["k"] = (0.0, np.inf) if increasing else (-np.inf, 0.0)
        extra = [] if p0 is None else [_start_rows(p0, 4, "sigmoid", "p0")]
        starts = []
        for i in idx:
            s = _sigmoid_starts(np.log(X[i]), Y[i], key[0], key[1], increasing)
            starts.append(np.vstack(extra + [s]))
        many = fit_many(
            "sigmoid", [X[i] for i in idx], [Y[i] for i in idx], p0s=starts, guess=False,
            bounds=b or None, n_resamples=n_resamples, scheme=scheme,
            groups=None if groups is None else [groups[i] for i in idx], seed=seed, level=level,
            loss=loss, f_scale=f_scale, warn=warn,
        )
        if key[0] is None and key[1] is None and increasing is None:
            many = _canonical(many)
        for jj, i in enumerate(idx):
            out[i] = SigmoidFit(many.problem(jj), log_x)
    return [o for o in out if o is not None]


def _per_curve(name: str, value: Any, n: int) -> list[Optional[float]]:
    """``floor`` or ``ceiling`` of ``fit_sigmoids``: None or one number for all ``n`` curves, or
    a sequence or 1-D array of one per curve (None: free), each finite (named otherwise)."""
    if value is None or np.ndim(value) == 0:
        vals: list[Any] = [value] * n
        names = [name] * n
    else:
        if not isinstance(value, (list, tuple, np.ndarray)) or np.ndim(value) != 1:
            raise ValueError(f"{name} must be one number or a 1-D sequence (one per curve), got "
                             f"shape {np.shape(value)}")
        vals = list(value)
        names = [f"{name}[{i}]" for i in range(len(vals))]
        if len(vals) != n:
            raise ValueError(f"{name} has {len(vals)} values for {n} curves: pass one per curve "
                             "(None: free) or one number for all")
    return [None if v is None else float(_validate.finite(nm, v, scalar=True)) for nm, v in zip(names, vals)]


def _check_curve(x: FloatArray, y: FloatArray, where: str, log_x: bool, floor: Optional[float],
                 ceiling: Optional[float]) -> None:
    """One curve of ``fit_sigmoids``: matching non-empty 1-D arrays of finite values (x > 0 in
    log scale), and a metric on the scale of its fixed floor and ceiling: a value beyond them
    by more than their span (accuracy in percent against a ceiling of 1) is refused."""
    xn, yn = f"xs{where}", f"ys{where}"
    if x.ndim != 1:
        raise ValueError(f"{xn} must be 1-D, got shape {x.shape}")
    _validate.as_targets(y, x.shape[0], yn, xn)
    if x.shape[0] == 0:
        raise ValueError(f"{xn} and {yn} are empty: nothing to fit")
    _validate.check_finite(x, xn)
    _validate.check_finite(y, yn)
    if log_x:
        _validate.check_positive(x, xn, "the sigmoid is in log x; log_x=False for a loss")
    if ceiling is None:
        return
    if floor is not None and not floor < ceiling:
        raise ValueError(f"floor{where} = {floor!r} must be below ceiling{where} = {ceiling!r}")
    _validate.check_metric_scale(y, yn, floor, ceiling)


def _canonical(many: ManyFits) -> ManyFits:
    """The sigmoid is symmetric under (lo, hi, k) -> (hi, lo, -k); with both ends free, report
    the orientation with lo <= hi (k's sign then gives the direction)."""
    from dataclasses import replace

    def flip(p: FloatArray) -> FloatArray:
        q = p.copy()
        sw = q[..., 0] > q[..., 1]
        q[sw, 0], q[sw, 1] = p[sw, 1], p[sw, 0]
        q[sw, 2] = -p[sw, 2]
        return q

    cov = many.cov.copy()
    sw = many.params[:, 0] > many.params[:, 1]
    if sw.any():
        T = np.eye(4)
        T[:2, :2] = [[0, 1], [1, 0]]
        T[2, 2] = -1
        cov[sw] = T @ cov[sw] @ T.T
    return replace(many, params=flip(many.params), cov=cov,
                   samples=None if many.samples is None else flip(many.samples))


def _sigmoid_starts(u: FloatArray, y: FloatArray, floor: Optional[float], ceil: Optional[float],
                    increasing: Optional[bool]) -> FloatArray:
    """A small grid of starts (midpoint across the data, both signs of k, several widths),
    with fixed floor/ceiling respected."""
    ymin, ymax = float(np.min(y)), float(np.max(y))
    span_u = max(float(np.ptp(u)), 1e-6)
    lo = ymin if floor is None else floor
    hi = ymax if ceil is None else ceil
    if hi == lo:
        hi = lo + 1e-3
    c = np.corrcoef(u, y)[0, 1] if np.ptp(y) > 0 and np.ptp(u) > 0 else 1.0
    signs = [1.0 if c >= 0 else -1.0] if increasing is None else [1.0 if increasing else -1.0]
    if increasing is None:
        signs.append(-signs[0])
    rows = []
    for sgn in signs:
        for width in (0.25, 1.0):
            for q in (0.1, 0.5, 0.9, 1.3):
                u0 = float(np.min(u)) + q * span_u
                k = sgn * 4.0 / (width * span_u)
                rows.append([lo, hi, k, u0])
    # hi/lo swapped: sigmoid decreasing in u with the same orientation
    return np.asarray(rows, dtype=np.float64)


def sharpness(x: ArrayLike, y: ArrayLike, *, log_x: bool = True, log_y: bool = False) -> float:
    """How sudden a trend looks: the steepest slope between neighbouring scales divided by
    the average slope over the whole range, ``max_i |Δy_i| / Δu_i`` over ``Σ|Δy_i| / Σ Δu_i``
    (``u = log10 x``, or ``x`` without ``log_x``).

    1 when ``|Δy| / Δu`` is the same in every gap (a metric linear in u); more than 1
    otherwise. A single jump between neighbouring scales i and i + 1 scores ``(u_max - u_min)
    / Δu_i``, the whole range over the width of the gap it happens in: ``n - 1`` for ``n``
    evenly spaced scales, more where the jump falls between close scales, and without bound
    as two scales approach each other (noise between nearly equal scales then dominates).
    Compare scores of metrics measured at the same scales. Points at equal x are averaged
    first; NaN for a flat metric. ``log_y`` measures changes of ``log y``: a power law (a
    straight line on log-log axes, the natural shape of a loss) then scores 1.

    >>> x = np.logspace(6, 10, 5)
    >>> sharpness(x, [1.0, 2.0, 3.0, 4.0, 5.0]), sharpness(x, [0, 0, 0, 1.0, 1.0])
    (1.0, 4.0)
    """
    log_x, log_y = _validate.flag("log_x", log_x), _validate.flag("log_y", log_y)
    cols, _ = _validate.columns({"x": x, "y": y}, offers_omit=False)
    xa, ya = cols["x"], cols["y"]
    if log_x:
        _validate.check_positive(xa, "x", "log_x=True")
    u = np.log10(xa) if log_x else xa
    if log_y:
        if np.any(ya <= 0):
            raise ValueError("log_y needs y > 0")
        ya = np.log(ya)
    uu, inv = np.unique(u, return_inverse=True)
    yy = np.bincount(inv, weights=ya) / np.bincount(inv)
    if uu.shape[0] < 3:
        raise ValueError("sharpness needs at least 3 distinct scales")
    du, dy = np.diff(uu), np.abs(np.diff(yy))
    total = dy.sum()
    if total == 0:
        return float("nan")
    return float(np.max(dy / du) / (total / du.sum()))


def hidden_progress(
    x: ArrayLike, thresholded: ArrayLike, continuous: ArrayLike, *, threshold: float
) -> float:
    """The fraction of a continuous metric's total change (first to last point, in order of x)
    made while the thresholded metric is still at or below ``threshold``: progress that the
    thresholded metric does not show.

    >>> x = np.arange(1.0, 6.0)
    >>> hidden_progress(x, [0, 0, 0, 0.5, 0.9], [10.0, 8.0, 6.0, 5.0, 4.0], threshold=0.01)
    0.6666666666666666
    """
    cols, _ = _validate.columns(
        {"x": x, "thresholded": thresholded, "continuous": continuous}, offers_omit=False
    )
    xa, t, c = cols["x"], cols["thresholded"], cols["continuous"]
    threshold = float(_validate.finite("threshold", threshold, scalar=True))
    order = np.argsort(xa, kind="mergesort")
    t, c = t[order], c[order]
    total = c[-1] - c[0]
    if total == 0:
        return float("nan")
    above = np.flatnonzero(t > threshold)
    last_hidden = (above[0] - 1) if above.size else c.shape[0] - 1
    if last_hidden < 0:
        return 0.0
    return float((c[last_hidden] - c[0]) / total)


def rank_correlation(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rank correlation (average ranks for ties).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in length, hold NaN or inf, have fewer than 2 points, or one
        of them is constant (its ranks are all tied: the correlation is undefined; scipy's
        ``spearmanr`` returns NaN with a warning there).

    >>> rank_correlation([1, 2, 3, 4], [10, 20, 25, 40]), rank_correlation([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    """

    def ranks(a: FloatArray) -> FloatArray:
        order = np.argsort(a, kind="mergesort")
        r = np.empty(a.shape[0])
        r[order] = np.arange(a.shape[0], dtype=np.float64)
        _, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
        sums = np.bincount(inv, weights=r)
        return np.asarray(sums[inv] / counts[inv])

    # a NaN's rank is not defined (it was ranked last)
    cols, _ = _validate.columns({"x": x, "y": y}, offers_omit=False)
    xa, ya = cols["x"], cols["y"]
    if xa.shape[0] < 2:
        raise ValueError(f"a rank correlation needs at least 2 points, got {xa.shape[0]}")
    for name, a in (("x", xa), ("y", ya)):
        if np.all(a == a[0]):
            raise ValueError(f"{name} is constant (all {a.shape[0]} values are {float(a[0])!r}): its "
                             "ranks are all tied, so the rank correlation is undefined")
    rx, ry = ranks(xa), ranks(ya)
    return float(np.corrcoef(rx, ry)[0, 1])


# ----------------------------------------------------------------------------- two steps
@dataclass(frozen=True)
class TwoStepFit:
    """Loss against scale (step 1), metric against loss (step 2), chained.

    Attributes
    ----------
    step1 : LawFit
        ``saturating_power_law`` in one scale variable, or ``chinchilla`` in (N, D).
    step2 : SigmoidFit
        Metric against loss (``log_x=False``).
    """

    step1: LawFit
    step2: SigmoidFit

    def predict_loss(self, scale: Any) -> FloatArray:
        """Step 1's loss at ``scale`` (x, or a tuple (N, D): one point or columns)."""
        xs, one = _step1_inputs(self.step1.model, scale)
        out = np.atleast_1d(self.step1.predict(xs))
        return out[0] if one else out

    def predict(self, scale: Any) -> FloatArray:
        """The chained prediction of the metric at ``scale`` (x, or a tuple (N, D): one point
        or columns)."""
        return self.step2.predict(self.predict_loss(scale))

    def band(self, scale: Any, level: Optional[float] = None) -> FloatArray:
        """(2, n) interval ((2,) for a scalar or one (N, D) point) of the chained prediction
        (see :func:`chain_band`): with resamples, replicate r of step 1 feeds replicate r of
        step 2 (independent resamples of the two data sets); without, the delta method on the
        composition with both steps' Gauss–Newton covariances."""
        _, one = _step1_inputs(self.step1.model, scale)
        b = chain_band(self.step1, self.step2.law, scale, level)
        return b[:, 0] if one else b

    def __repr__(self) -> str:
        return f"TwoStepFit\n step 1: {self.step1!r}\n step 2: {self.step2!r}"


def _step1_inputs(model: str, scale: Any) -> tuple[Any, bool]:
    """``scale`` as step 1's inputs, and whether it is one point: a scalar, or for a model of
    several inputs (``chinchilla``) a tuple of one number per input, ``(N, D)``, is one row."""
    from ._resample import _is_scalar
    from .models import get

    k = get(model).n_inputs
    if k > 1 and isinstance(scale, tuple) and len(scale) == k and all(np.ndim(c) == 0 for c in scale):
        return np.array([[_validate.as_float_array(c, f"scale[{i}]") for i, c in enumerate(scale)]],
                        dtype=np.float64), True
    return scale, _is_scalar(scale)


def _chain_delta(step1: LawFit, step2: LawFit, xs: FloatArray, level: float,
                 log_x2: bool) -> FloatArray:
    """Delta-method band of ``f2(p2, u(f1(p1, x)))`` (``u`` the loss, or its log with
    ``log_x2``) at the rows ``xs``: ``var = g1' C1 g1 + g2' C2 g2`` with the two steps'
    Gauss–Newton covariances (independent fits) and the analytic gradients, ``g1`` by the chain
    rule ``df2/du · du/dloss · dloss/dp1`` (the model's Jacobian) and ``g2`` the sigmoid's own.
    Returns (2, n): value ∓ z·se, ``z`` Student's t on the smaller residual degrees of freedom
    of the two fits."""
    from .models import get

    m1 = get(step1.model)
    lo, hi, k, u0 = (float(v) for v in step2.x)
    with np.errstate(all="ignore"):
        loss = m1.predict(step1.x, xs)
        J1 = m1.jacobian(step1.x, xs)  # (n, P1): d loss / d p1
        u = np.log(loss) if log_x2 else loss
        du = 1.0 / loss if log_x2 else np.ones_like(loss)
        s = 1.0 / (1.0 + np.exp(-k * (u - u0)))
        value = lo + (hi - lo) * s
        ds = s * (1.0 - s)  # d s / d(k (u - u0))
        g2 = np.column_stack([1.0 - s, s, (hi - lo) * ds * (u - u0), -(hi - lo) * ds * k])
        g1 = ((hi - lo) * ds * k * du)[:, None] * J1
        var = (np.einsum("na,ab,nb->n", g1, step1.cov, g1)
               + np.einsum("na,ab,nb->n", g2, step2.cov, g2))
        se = np.sqrt(np.where(var >= 0, var, np.nan))
    # Student's t on the smaller of the two fits' residual degrees of freedom (conservative;
    # normal where a fit does not know its own)
    dofs = [d for d in (step1.dof, step2.dof) if d is not None]
    z = two_sided_quantile(level, min(dofs) if len(dofs) == 2 else None)
    return np.vstack([value - z * se, value + z * se])


@_validate.suggest_argument_names
def chain_band(step1: LawFit, step2: LawFit, scale: Any, level: Optional[float] = None,
               log_x2: bool = False) -> FloatArray:
    """Interval (2, n) of the chained prediction ``sigmoid_2(law_1(scale))``.

    With bootstrap replicates in both fits: percentiles over paired replicates (replicate r of
    step 1 feeds replicate r of step 2). Without: a normal interval from the delta method on
    the composition, which propagates **both** steps' Gauss–Newton covariances (the gradient
    with respect to step 1's parameters by the chain rule through the sigmoid, and the
    sigmoid's own gradient for step 2's), the two fits treated as independent.

    ``scale``: x, columns (N, D), an (n, 2) array, or one point as a tuple (N, D).
    """
    from .models import get

    log_x2 = _validate.flag("log_x2", log_x2)
    lvl = step1.level if level is None else level
    m1 = get(step1.model)
    from ._resample import _points
    from ._validate import as_inputs

    pts, _ = _step1_inputs(step1.model, scale)
    xs = as_inputs(_points(pts), m1)
    if step1.samples is None or step2.samples is None:
        return _chain_delta(step1, step2, xs, lvl, log_x2)
    R = min(step1.samples.shape[0], step2.samples.shape[0])
    preds = np.full((R, xs.shape[0]), np.nan)
    for r in range(R):
        p1, p2 = step1.samples[r], step2.samples[r]
        if np.isfinite(p1).all() and np.isfinite(p2).all():
            loss = m1.predict(p1, xs)
            preds[r] = _sigmoid(np.log(loss) if log_x2 else loss, *p2)
    return percentile_interval(preds, lvl, axis=0)


@_validate.suggest_argument_names
def fit_two_step(
    scale: Any,
    loss: ArrayLike,
    metric: ArrayLike,
    *,
    step1_model: str = "saturating_power_law",
    loss_for_step2: Optional[ArrayLike] = None,
    metric_for_step2: Optional[ArrayLike] = None,
    floor: Optional[float] = None,
    ceiling: Optional[float] = None,
    n_resamples: int = 0,
    seed: int = 0,
    level: float = 0.95,
    step1_kwargs: Optional[Mapping[str, Any]] = None,
) -> TwoStepFit:
    """Fit the smooth two-step link: ``loss = f(scale)`` then ``metric = sigmoid(loss)``.

    Parameters
    ----------
    scale : array or tuple (N, D)
        Scale of each step-1 point (with ``step1_model="chinchilla"``, a tuple (N, D)).
    loss, metric : arrays
        Continuous metric (step-1 target) and the bounded metric at the same points, as a
        fraction (accuracy 0.42, not 42%): a value far outside [0, 1] (or, with a fixed
        ``ceiling``, outside the floor and ceiling by more than their span) is a ValueError
        naming ``metric`` (or ``metric_for_step2``) and its first such index.
    loss_for_step2, metric_for_step2 : arrays, optional
        Different (usually more) points for step 2, e.g. every intermediate checkpoint.
    floor, ceiling : float, optional
        Fix the sigmoid's floor (chance) or ceiling (on the metric's scale).
    n_resamples : int
        Bootstrap resamples (over points) of each step, 0 or >= 2; 0: intervals by the delta
        method with the Gauss–Newton covariances. Replicate r of step 1 feeds replicate r of
        step 2 in :meth:`TwoStepFit.band`.
    seed : int
        Seed of step 1's resamples; step 2's use ``seed + 1`` (independent resamples).
    level : float in (0, 1)
        Default confidence level of the fits' intervals and of :meth:`TwoStepFit.band`.
    step1_kwargs : mapping, optional
        Extra options for the step-1 fit (``log_residuals``, ``loss``, ``f_scale``, ``bounds``).

    Examples
    --------
    >>> N = np.logspace(7, 10, 12)
    >>> L = 1.8 + 300 * N ** -0.3
    >>> acc = 0.25 + 0.7 / (1 + np.exp(5.0 * (L - 2.6)))
    >>> two = fit_two_step(N, L, acc, floor=0.25)
    >>> round(float(two.predict(1e12)), 4), round(float(0.25 + 0.7 / (1 + np.exp(5.0 * (1.8 + 300 * 1e12 ** -0.3 - 2.6)))), 4)
    (0.9318, 0.9318)
    """
    kw = dict(step1_kwargs or {})
    s1 = fit_many(step1_model, [scale], [loss], n_resamples=n_resamples, seed=seed, level=level,
                  **kw).problem(0)
    x2 = _floats("loss", loss) if loss_for_step2 is None else _floats("loss_for_step2", loss_for_step2)
    y2 = _floats("metric", metric) if metric_for_step2 is None else _floats("metric_for_step2", metric_for_step2)
    y2_name = "metric" if metric_for_step2 is None else "metric_for_step2"
    if ceiling is not None:  # as fit_sigmoids checks it, named here as the argument
        _validate.check_metric_scale(np.atleast_1d(y2), y2_name, floor, ceiling)
    elif floor is None or 0.0 <= floor <= 1.0:  # a floor of 25 says the metric is in percent, on purpose
        _validate.check_fraction(np.atleast_1d(y2), y2_name, "a bounded metric (an accuracy)")
    s2, = fit_sigmoids([x2], [y2],
                       log_x=False, floor=floor, ceiling=ceiling, n_resamples=n_resamples,
                       seed=seed + 1, level=level)
    return TwoStepFit(s1, s2)


# ----------------------------------------------------------------------------- Schaeffer et al.
@dataclass(frozen=True, eq=False)
class PerToken:
    """Per-example, per-token outcomes at each scale.

    Attributes
    ----------
    scale : ndarray (n_scales,)
    correct : ndarray of bool (n_scales, n_examples, length)
        Whether the model's token equals the target token.
    prob : ndarray (n_scales, n_examples, length)
        Probability the model assigns to the target token.
    """

    scale: FloatArray
    correct: NDArray[np.bool_]
    prob: FloatArray


def simulate_per_token(
    scale: ArrayLike,
    *,
    n_examples: int = 400,
    length: int = 8,
    N_c: float = 3e9,
    alpha: float = 0.6,
    spread: float = 0.3,
    seed: int = 0,
) -> PerToken:
    """Schaeffer et al.'s (2023) simulator: per-token cross-entropy falls smoothly as a power
    law, ``CE(N) = (N_c / N)^alpha`` (times a per-example difficulty ``exp(spread · z)``); the
    target token's probability is ``p = exp(-CE)``, and each token is right with probability p.

    >>> sim = simulate_per_token(np.logspace(7, 11, 5), n_examples=50, length=4)
    >>> sim.correct.shape, bool(np.all(np.diff(sim.prob.mean(axis=(1, 2))) > 0))
    ((5, 50, 4), True)
    """
    N = _validate.positive("scale", scale).ravel()
    n_examples = _validate.integer("n_examples", n_examples, least=1)
    length = _validate.integer("length", length, least=1)
    N_c = float(_validate.positive("N_c", N_c, scalar=True))
    alpha = float(_validate.positive("alpha", alpha, scalar=True))
    spread = float(_validate.nonnegative("spread", spread, scalar=True))
    rng = generator(seed)
    z = rng.standard_normal(n_examples)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # CE = inf: p = 0
        ce = (N_c / N)[:, None, None] ** alpha * np.exp(spread * z)[None, :, None]
    if np.isnan(ce).any():  # inf × 0: a difficulty factor that under- and overflows
        raise ValueError(f"spread = {spread!r} is too large for N_c / scale: the per-token "
                         "cross-entropy is inf × 0")
    prob = np.broadcast_to(np.exp(-ce), (N.shape[0], n_examples, length)).copy()
    correct = rng.random(prob.shape) < prob
    return PerToken(scale=N, correct=correct, prob=prob)


def metrics_from_tokens(tokens: PerToken) -> dict[str, FloatArray]:
    """Per-scale means of one thresholded and four continuous metrics of the same outputs.

    - ``exact_match``: all L tokens right (thresholded; the "emergent" one);
    - ``token_accuracy``: fraction of tokens right;
    - ``token_error_rate``: Schaeffer et al.'s token edit distance divided by L (tokens to
      change, per token; lower is better);
    - ``neg_log_likelihood``: ``-Σ log p`` over the L target tokens (lower is better);
    - ``brier``: mean ``(1 - p)^2`` over target tokens (lower is better).

    >>> sim = simulate_per_token([1e8, 1e12], n_examples=20, length=3, seed=1)
    >>> sorted(metrics_from_tokens(sim))
    ['brier', 'exact_match', 'neg_log_likelihood', 'token_accuracy', 'token_error_rate']
    """
    c, p = tokens.correct, tokens.prob
    return {
        "exact_match": c.all(axis=2).mean(axis=1),
        "token_accuracy": c.mean(axis=(1, 2)),
        "token_error_rate": (~c).mean(axis=(1, 2)).astype(np.float64),
        "neg_log_likelihood": -np.log(np.maximum(p, 1e-300)).sum(axis=2).mean(axis=1),
        "brier": ((1.0 - p) ** 2).mean(axis=(1, 2)),
    }


METRIC_KINDS: dict[str, str] = {
    "exact_match": "bounded", "token_accuracy": "bounded", "accuracy": "bounded",
    "token_error_rate": "bounded", "brier": "bounded",
    "neg_log_likelihood": "loss", "nll": "loss", "bpb": "loss", "loss": "loss",
}
"""How :func:`metric_choice` models each metric by default: ``bounded`` metrics in [0, 1] with
a sigmoid in log scale (either direction), ``loss``-like ones (unbounded above, lower is
better) with a saturating power law and their sharpness measured on log y."""


@dataclass(frozen=True, eq=False)
class MetricChoiceRow:
    """One metric's scores (see :func:`metric_choice`)."""

    metric: str
    kind: str
    sharpness: float
    extrapolation_error: float
    predictability: float
    predicted: FloatArray
    actual: FloatArray
    fit: Optional[LawFit] = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class MetricChoice:
    """Sharpness and predictability of every metric of the same outputs.

    Attributes
    ----------
    scale : ndarray
    n_fit : int
        The smallest ``n_fit`` scales are fitted; the rest are predicted.
    rows : dict of MetricChoiceRow
    values : dict of ndarray
        Each metric's values in increasing order of scale.
    """

    scale: FloatArray
    n_fit: int
    rows: dict[str, MetricChoiceRow]
    values: dict[str, FloatArray] = field(default_factory=dict, repr=False)

    def __getitem__(self, metric: str) -> MetricChoiceRow:
        return self.rows[metric]

    def __repr__(self) -> str:
        return (f"MetricChoice(fit on the {self.n_fit} smallest of {self.scale.shape[0]} scales)\n"
                + table([{"metric": r.metric, "kind": r.kind, "sharpness": r.sharpness,
                          "extrap. error": r.extrapolation_error, "predictability": r.predictability}
                         for r in self.rows.values()]))


def metric_choice(
    scale: ArrayLike,
    metrics: Mapping[str, ArrayLike],
    *,
    kinds: Optional[Mapping[str, str]] = None,
    n_fit: Optional[int] = None,
    bounded_floor: float = 0.0,
    bounded_ceiling: float = 1.0,
) -> MetricChoice:
    """Schaeffer et al.'s metric-choice analysis on per-scale metric values.

    For each metric: the **sharpness** of its trend (:func:`sharpness`; on log y for losses),
    and how well a smooth fit to the ``n_fit`` smallest scales (at least 4 and at most
    ``n - 1`` of the n >= 5 scales; default ``max(4, (n + 1) // 2)``, about half) **predicts**
    the larger ones: the mean absolute error
    on the held-out scales as a fraction of the metric's observed range
    (``extrapolation_error``), and ``predictability = max(0, 1 - extrapolation_error)``.
    Bounded metrics are fitted with a sigmoid in log scale between ``bounded_floor`` and
    ``bounded_ceiling``, loss-like ones with ``E + A·x^-alpha``; all sigmoid fits are one batch
    call and all power-law fits another.

    When a smooth fit fails (parameters not finite, e.g. ``exact_match`` 0 at every fitted
    scale), its ``predicted`` values are NaN, ``extrapolation_error`` is ``inf`` and
    ``predictability`` 0, without a warning. A constant metric (range 0) also gets
    ``extrapolation_error = inf`` (not NaN) and ``predictability`` 0; its sharpness is NaN.

    Parameters
    ----------
    scale : array_like
        The n >= 5 scales (> 0; e.g. parameters), in any order (sorted here).
    metrics : mapping name -> array_like
        Each metric's finite value at every scale.
    kinds : mapping name -> {"bounded", "loss"}, optional
        How to model each metric, added to (and overriding) :data:`METRIC_KINDS`; a metric
        whose name is in neither raises ValueError.
    n_fit : int, optional
        Scales fitted (the smallest), in [4, n - 1].
    bounded_floor, bounded_ceiling : float
        The sigmoid's fixed floor and ceiling for bounded metrics.

    Returns
    -------
    MetricChoice
        Each metric's :class:`MetricChoiceRow` (``result[name]``): its sharpness, predictions
        and extrapolation error.

    Examples
    --------
    >>> N = np.logspace(7, 11, 12)
    >>> mc = metric_choice(N, metrics_from_tokens(simulate_per_token(N, seed=3)), n_fit=7)
    >>> mc["exact_match"].sharpness > mc["neg_log_likelihood"].sharpness
    True
    """
    x = _validate.positive("scale", scale).ravel()
    order = np.argsort(x, kind="mergesort")
    x = x[order]
    n = x.shape[0]
    if n < 5:
        raise ValueError(f"metric_choice needs at least 5 scales (a fit on 4 or more, at least one "
                         f"to predict), got {n}")
    try:
        nf = min(max(4, (n + 1) // 2), n - 1) if n_fit is None else \
            _validate.integer("n_fit", n_fit, least=4, most=n - 1)
    except ValueError:  # text, a fraction, out of range
        raise ValueError(f"n_fit must be an integer in [4, {n - 1}] for {n} scales, got {n_fit!r}") from None
    lo_b = float(_validate.finite("bounded_floor", bounded_floor, scalar=True))
    hi_b = float(_validate.finite("bounded_ceiling", bounded_ceiling, scalar=True))
    if not lo_b < hi_b:
        raise ValueError(f"bounded_floor = {lo_b!r} must be below bounded_ceiling = {hi_b!r}")
    for what, given in (("metrics", metrics), ("kinds", kinds)):
        if not isinstance(given, Mapping) and not (what == "kinds" and given is None):
            raise TypeError(f"{what} must be a mapping {{name: ...}}, got {type(given).__name__}")
    if not metrics:
        raise ValueError("metrics is empty: pass {name: values per scale}")
    kinds_all = {**METRIC_KINDS, **(kinds or {})}
    odd = {k: v for k, v in kinds_all.items() if v not in ("bounded", "loss")}
    if odd:
        raise ValueError(f"kinds must be 'bounded' or 'loss', got {odd}")
    vals = {}
    for name, v in metrics.items():
        a = _validate.finite(f"metrics[{name!r}]", v).ravel()
        if a.shape[0] != n:
            raise ValueError(f"metric {name!r} has {a.shape[0]} values for {n} scales")
        if name not in kinds_all:
            raise ValueError(f"kind of metric {name!r} unknown: pass kinds={{{name!r}: 'bounded' or 'loss'}}")
        vals[name] = a[order]
    bounded = [m for m in vals if kinds_all[m] == "bounded"]
    losses = [m for m in vals if kinds_all[m] == "loss"]
    fits: dict[str, tuple[LawFit, Any]] = {}
    if bounded:
        sf = fit_sigmoids([x[:nf]] * len(bounded), [vals[m][:nf] for m in bounded],
                          floor=lo_b, ceiling=hi_b, warn=False)
        for m, f in zip(bounded, sf):
            fits[m] = (f.law, f.predict)
    if losses:
        many: ManyFits = fit_many("saturating_power_law", [x[:nf]] * len(losses),
                                  [vals[m][:nf] for m in losses], warn=False)
        for j, m in enumerate(losses):
            law = many.problem(j)
            fits[m] = (law, law.predict)
    rows = {}
    for m, a in vals.items():
        law, pred_fn = fits[m]
        with np.errstate(all="ignore"):
            pred = np.asarray(pred_fn(x[nf:])) if np.isfinite(law.x).all() else np.full(n - nf, np.nan)
        rng_ = float(np.ptp(a))
        err = float(np.mean(np.abs(pred - a[nf:])) / rng_) if rng_ > 0 else float("nan")
        if not np.isfinite(err):
            err = float("inf")
        rows[m] = MetricChoiceRow(
            metric=m, kind=kinds_all[m], sharpness=sharpness(x, a, log_y=kinds_all[m] == "loss"),
            extrapolation_error=err,
            predictability=max(0.0, 1.0 - err), predicted=pred, actual=a[nf:], fit=law,
        )
    return MetricChoice(scale=x, n_fit=nf, rows=rows, values=vals)


# ----------------------------------------------------------------------------- Bhagia et al.
@dataclass(frozen=True)
class TaskPrediction:
    """One task's chained prediction at the target (N, D).

    Attributes
    ----------
    task : str
    loss, loss_interval : predicted task loss (step 1) and its interval
    metric, metric_interval : predicted metric (step 2 at the predicted loss) and interval
    metric_at_true_loss : step 2 alone, at ``target_loss`` when given (else NaN)
    step1, step2 : the fits
    """

    task: str
    loss: float
    loss_interval: tuple[float, float]
    metric: float
    metric_interval: tuple[float, float]
    metric_at_true_loss: float
    step1: LawFit
    step2: SigmoidFit

    def relative_error(self, actual: float) -> float:
        """``(metric - actual) / actual`` of the predicted metric."""
        return (self.metric - actual) / actual


# Bhagia et al. (2024), step 1: task loss = A/N^alpha + B/D^beta + E with A = e^a, B = e^b,
# a, b, alpha, beta, E >= 0; Huber loss (delta 1e-3) on log residuals; start [3, 6, 0.1, 0.2, 1].
LADDER_STEP1_P0 = np.array([1.0, np.exp(3.0), np.exp(6.0), 0.1, 0.2])
LADDER_STEP1_BOUNDS = ((0.0, 1.0, 1.0, 0.0, 0.0), (np.inf, np.inf, np.inf, np.inf, np.inf))


@_validate.suggest_argument_names
def task_ladder(
    tasks: Sequence[str],
    N: ArrayLike,
    D: ArrayLike,
    final_loss: Sequence[ArrayLike],
    step2_loss: Sequence[ArrayLike],
    step2_metric: Sequence[ArrayLike],
    target_N: float,
    target_D: float,
    *,
    chance: Optional[Sequence[float]] = None,
    ceiling_point: Optional[float] = 1.0,
    step2_groups: Optional[Sequence[Optional[ArrayLike]]] = None,
    target_loss: Optional[Sequence[float]] = None,
    n_resamples: int = 0,
    seed: int = 0,
    level: float = 0.95,
) -> list[TaskPrediction]:
    """Bhagia et al.'s (2024) two-step task prediction, for several tasks at once.

    Step 1: each task's loss (bits-per-byte of the correct answer) at the end of each ladder
    run is ``E + A/N^alpha + B/D^beta`` (the engine's ``chinchilla`` model, Huber loss with
    scale 1e-3 on log residuals, A, B >= 1 and exponents, E >= 0, as in the paper). Step 2:
    accuracy is a sigmoid in the task loss fitted on intermediate checkpoints, with the paper's
    "ideal point" (loss 0, accuracy ``ceiling_point``) added. The two are chained at the
    target (N, D). All tasks' step-1 fits are one batch call, all step-2 fits another (and
    one bootstrap call for each step's resamples, whole runs resampled in step 2).

    Parameters
    ----------
    tasks : names
    N, D : arrays (n_runs,)
        Parameters and tokens of the ladder runs (shared by all tasks).
    final_loss : sequence of arrays (n_runs,)
        Each task's loss at the end of each run.
    step2_loss, step2_metric : sequences of arrays
        Each task's (loss, accuracy) pairs for step 2.
    target_N, target_D : float
        The target model's parameters and tokens, where both steps are chained.
    chance : sequence of float, optional
        Chance accuracy per task (used for starts only; the floor stays free as in the paper).
    ceiling_point : float or None
        The accuracy of the paper's "ideal point" at loss 0 added to every task's step-2
        points (default 1.0); None adds no such point.
    step2_groups : sequence of arrays, optional
        Run label of each step-2 point: resample whole runs.
    target_loss : sequence of float, optional
        The target's true task loss, to report step 2 alone.
    n_resamples : int
        Bootstrap replicates (paired across the two steps) for the intervals. With 0, the
        delta method on the chained prediction with both steps' Gauss–Newton covariances
        (:func:`chain_band`); those treat every step-2 point as independent, so with the
        correlated, smoothed checkpoints of a few runs they are narrower than the bootstrap
        over whole runs (40-60% as wide on the OLMo ladder's 8 tasks): use resamples there.
        They also understate step 1's uncertainty: its Huber scale (1e-3) is small next to
        the usual noise of a task loss, so most residuals lie beyond it, where the
        reweighted Gauss–Newton covariance of a robust fit is too small. On simulated
        ladders (20 runs, 1% noise on the task loss, 400 tasks, 95% nominal) the default
        intervals held the true target loss 0.79 of the time and the true target accuracy
        0.80; with 200 resamples both 0.99. Pass ``n_resamples`` (a few hundred) for
        intervals you report.
    seed : int
        Seed of the resamples.
    level : float in (0, 1)
        Level of the intervals.

    Returns
    -------
    list of TaskPrediction
    """
    if isinstance(tasks, str):
        raise TypeError(f"tasks must be a sequence of task names, got one str {tasks!r}: wrap it in a list")
    Na, Da = _floats("N", N), _floats("D", D)
    T = len(tasks)
    if not (len(final_loss) == len(step2_loss) == len(step2_metric) == T):
        raise ValueError("final_loss, step2_loss and step2_metric need one array per task")
    t_N = float(_validate.positive("target_N", target_N, scalar=True))
    t_D = float(_validate.positive("target_D", target_D, scalar=True))
    t_loss = None if target_loss is None else _validate.finite("target_loss", target_loss)
    ch_in = None if chance is None else _validate.finite("chance", chance)
    for name, v in (("target_loss", t_loss), ("chance", ch_in)):
        if v is not None and v.shape != (T,):
            raise ValueError(f"{name} has shape {v.shape} for {T} tasks: one value per task")
    if step2_groups is not None and len(step2_groups) != T:
        raise ValueError(f"step2_groups has {len(step2_groups)} entries for {T} tasks")
    if ceiling_point is not None:
        ceiling_point = float(_validate.finite("ceiling_point", ceiling_point, scalar=True))
        if not 0.0 <= ceiling_point <= 1.0:
            raise ValueError(f"ceiling_point = {ceiling_point:g} is not an accuracy in [0, 1]")
    L1 = [_floats(f"final_loss[{t}]", final_loss[t]) for t in range(T)]
    for name, v in (("N", Na), ("D", Da)) + tuple((f"final_loss[{t}]", L1[t]) for t in range(T)):
        if v.shape != Na.shape:
            raise ValueError(f"{name} has shape {v.shape}; N has {Na.shape} (one value per run)")
        _validate.check_finite(v, name)
        _validate.check_positive(v, name, "step 1 fits log loss against log N and log D")
    X2 = [_floats(f"step2_loss[{t}]", step2_loss[t]) for t in range(T)]
    Y2 = [_floats(f"step2_metric[{t}]", step2_metric[t]) for t in range(T)]
    for t in range(T):
        x, acc = X2[t], Y2[t]
        if x.ndim != 1 or acc.shape != x.shape:
            raise ValueError(f"step2_loss[{t}] and step2_metric[{t}] need one value per point (1-D, "
                             f"equal lengths), got shapes {x.shape} and {acc.shape}")
        _validate.check_finite(x, f"step2_loss[{t}]")
        _validate.check_finite(acc, f"step2_metric[{t}]")
        if ((acc < 0) | (acc > 1)).any():
            i = int(np.argmax((acc < 0) | (acc > 1)))
            raise ValueError(f"step2_metric[{t}][{i}] = {acc[i]:g} is not an accuracy in [0, 1] "
                             "(fractions, not percent?)")
    s1 = fit_many(
        "chinchilla", [(Na, Da)] * T, L1, p0=LADDER_STEP1_P0, bounds=LADDER_STEP1_BOUNDS,
        loss="huber", f_scale=1e-3, log_residuals=True, n_resamples=n_resamples, seed=seed,
        level=level, max_iter=2000,
    )
    xs2, ys2, groups2 = [], [], []
    for t in range(T):
        x, y = X2[t], Y2[t]
        g = None if step2_groups is None or step2_groups[t] is None else np.asarray(step2_groups[t])
        if ceiling_point is not None:
            x = np.append(x, 0.0)
            y = np.append(y, ceiling_point)
            if g is not None:
                g = np.append(g, np.max(g) + 1 if np.issubdtype(g.dtype, np.number) else "__ideal__")
        xs2.append(x)
        ys2.append(y)
        groups2.append(g)
    ch = [float(c) for c in ch_in] if ch_in is not None else [float(np.min(y)) for y in ys2]
    # paper's start: a = min - 1, x0 = 0.9, k = 3, b = max = 1, i.e. (lo, hi, k, u0) =
    # (chance, 1, -3, 0.9) in the engine's orientation
    p0s = [np.array([[c, 1.0, -3.0, 0.9]]) for c in ch]
    s2 = _fit_step2(xs2, ys2, p0s, groups2, n_resamples, seed + 1, level)
    out = []
    target = np.array([[t_N, t_D]])
    for t, name in enumerate(tasks):
        law1 = s1.problem(t)
        loss_hat = float(law1.predict(target)[0])
        _, liv = law1.derived(lambda p: _chinchilla(p, t_N, t_D), level)
        m_hat = float(s2[t].predict(loss_hat))
        band = chain_band(law1, s2[t].law, target, level, log_x2=False)
        true_l = float("nan") if t_loss is None else float(s2[t].predict(t_loss[t]))
        out.append(TaskPrediction(
            task=name, loss=loss_hat, loss_interval=(float(np.min(liv)), float(np.max(liv))),
            metric=m_hat, metric_interval=(float(band[0, 0]), float(band[1, 0])),
            metric_at_true_loss=true_l, step1=law1, step2=s2[t],
        ))
    return out


def _chinchilla(p: FloatArray, N: float, D: float) -> FloatArray:
    return np.asarray(p[..., 0] + p[..., 1] * N ** -p[..., 3] + p[..., 2] * D ** -p[..., 4])


def _fit_step2(xs: list[FloatArray], ys: list[FloatArray], p0s: list[FloatArray],
               groups: Sequence[Optional[ArrayLike]], n_resamples: int, seed: int,
               level: float) -> list[SigmoidFit]:
    # Bhagia et al.: b + a/(1 + exp(-k(x - x0))), a in [-1, 0], k, x0 >= 0, b in [0, 1]; in the
    # engine's orientation lo = a + b in [-1, 1], hi = b in [0, 1], k' = -k <= 0, u0 = x0 >= 0.
    bounds = ((-1.0, 0.0, -np.inf, 0.0), (1.0, 1.0, 0.0, np.inf))
    starts = [np.vstack([p, _sigmoid_starts(x, y, None, None, False)]) for p, x, y in zip(p0s, xs, ys)]
    starts = [np.clip(s, bounds[0], bounds[1]) for s in starts]
    many = fit_many(
        "sigmoid", [np.exp(x) for x in xs], ys, p0s=starts, guess=False, bounds=bounds,
        n_resamples=n_resamples, groups=groups if any(g is not None for g in groups) else None,
        seed=seed, level=level,
    )
    return [SigmoidFit(many.problem(t), log_x=False) for t in range(len(xs))]


def moving_average(a: ArrayLike, n: int) -> FloatArray:
    """Trailing moving average with a growing window at the start (OLMo-ladder's smoothing).
    ``a`` must be a 1-D series of finite numbers (a NaN would spread through the running sum).

    >>> moving_average([1.0, 2.0, 3.0, 4.0], 2).tolist()
    [1.0, 1.5, 2.5, 3.5]
    """
    try:  # int(n) of NaN or inf raised numpy's and Python's own errors, not naming n
        n = _validate.integer("n", n, least=1)
    except ValueError:
        raise ValueError(f"n (the window) must be an integer >= 1, got {n!r}") from None
    x = _floats("a", a)
    if x.ndim != 1:
        raise ValueError(f"a must be 1-D (one series), got shape {x.shape}")
    _validate.check_finite(x, "a")  # a NaN would spread to every later window
    c = np.cumsum(x)
    out = c.copy()
    if x.shape[0] >= n:
        out[n:] = c[n:] - c[:-n]
        out[n - 1:] = out[n - 1:] / n
        out[: n - 1] = c[: n - 1] / np.arange(1, n)
    else:
        out = c / np.arange(1, x.shape[0] + 1)
    return out
