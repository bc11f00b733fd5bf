"""Test-time compute: pass@k, coverage against the number of samples, accuracy against
inference compute, and the choice between a larger model with fewer samples and a smaller one
with more under a FLOP budget.

- The unbiased pass@k estimator of Chen et al. (2021): from ``n`` samples of which ``c`` are
  correct, ``pass@k = 1 - C(n-c, k) / C(n, k)``.
- Coverage (the fraction of problems solved by at least one of k samples) follows an
  exponentiated power law in k (Brown et al., 2024, "Large Language Monkeys"):
  ``log(coverage) ≈ -a · k^(-b)``, i.e. ``-log(coverage)`` is a power law in k, fitted with the
  engine's ``power_law`` model (in log space by default). Many curves are one batch call.
  From per-problem counts, :func:`fit_coverage_from_counts` puts calibrated intervals on the
  fit by resampling whole problems.
- Generating one token costs about ``2·N`` FLOP, so k samples of T tokens from a model of N
  parameters cost ``2·N·T·k``: at a fixed budget a model ``r`` times smaller draws ``r`` times
  more samples.

>>> import numpy as np
>>> from scalingfit import testtime
>>> round(float(testtime.pass_at_k(10, 3, 1)), 12), round(float(testtime.pass_at_k(10, 3, 5)), 4)
(0.3, 0.9167)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _warnings
from ._resample import LawFit, fit_many, table
from ._validate import (
    as_float_array,
    broadcast,
    check_computed,
    check_finite,
    check_metric_scale,
    check_nonnegative,
    check_positive,
    finite,
    integer,
    nonnegative,
    positive,
    positive_number,
    suggest_argument_names,
)
from ._warnings import DataWarning
from .bootstrap import MIN_GROUPS, generator

__all__ = [
    "CoverageFit",
    "ModelChoice",
    "beta_coverage",
    "choose_model",
    "coverage_curve",
    "fit_accuracy_vs_compute",
    "fit_coverage",
    "fit_coverage_from_counts",
    "inference_flops",
    "pass_at_k",
    "simulate_samples",
]

FloatArray = NDArray[np.float64]

MAX_PRODUCT_TERMS = 10**7
"""Most factors :func:`pass_at_k` multiplies for one problem: ``c`` of them, or ``k`` when ``c``
is larger than this (a ValueError when both are)."""

MAX_COVERAGE_TABLE = 5 * 10**7
"""Most entries (distinct values of c × largest k) of the table :func:`coverage_curve` builds
(about 400 MB)."""

MAX_SAMPLES = 10**18
"""Samples per problem at which :func:`choose_model` saturates its sample counts (int64)."""


def _as_integers(value: ArrayLike, name: str) -> NDArray[np.int64]:
    """``value`` as int64, refusing non-numbers, NaN, inf, fractions and magnitudes past 2^62
    (naming the first)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be integers, got {value!r}")
    f = np.atleast_1d(arr.astype(np.float64))
    bad = ~np.isfinite(f) | (f != np.round(f)) | (np.abs(f) > 2.0**62)
    if bad.any():
        i = np.unravel_index(int(np.argmax(bad)), f.shape)
        at = f"[{', '.join(str(int(k)) for k in i)}]" if arr.ndim else ""
        raise ValueError(f"{name} must be integers (at most 2^62); {name}{at} = {float(f[i])!r}")
    return arr.astype(np.int64)


# ----------------------------------------------------------------------------- pass@k
def pass_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> FloatArray:
    """Unbiased pass@k from ``n`` samples with ``c`` correct (broadcast over arrays).

    ``1 - C(n-c, k)/C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i)`` (the numerically stable
    product of Chen et al.); 1 where ``n - c < k``.

    Each problem multiplies ``c`` factors, or ``k`` (``C(n-c, k)/C(n, k)`` is also the product
    over ``i < k`` of ``(n-c-i)/(n-i)``) when ``c`` exceeds :data:`MAX_PRODUCT_TERMS`.

    Raises
    ------
    ValueError
        Unless ``0 <= c <= n`` and ``1 <= k <= n`` (integers), or if both ``c`` and ``k``
        exceed :data:`MAX_PRODUCT_TERMS`.

    Parameters
    ----------
    n : array_like of int
        Samples drawn per problem.
    c : array_like of int
        Correct samples among them, ``0 <= c <= n``.
    k : array_like of int
        The k of pass@k, ``1 <= k <= n``; ``n``, ``c`` and ``k`` broadcast together.

    Examples
    --------
    >>> pass_at_k([5, 5, 5], [0, 1, 5], 2).round(12).tolist()
    [0.0, 0.4, 1.0]
    """
    nn, cc, kk = (_as_integers(a, name) for a, name in ((n, "n"), (c, "c"), (k, "k")))
    broadcast(n=nn, c=cc, k=kk)
    nn, cc, kk = np.broadcast_arrays(nn, cc, kk)
    for bad, what in (((cc < 0) | (cc > nn), "0 <= c <= n for every problem"),
                      ((kk < 1) | (kk > nn), "1 <= k <= n (pass@k is unbiased only for k up to the samples drawn)")):
        if bad.any():
            at = tuple(int(j) for j in np.unravel_index(int(np.argmax(bad)), bad.shape))
            where = f"at index [{', '.join(map(str, at))}]:" if bad.ndim else "got"
            raise ValueError(f"need {what}; {where} n = {int(nn[at])}, c = {int(cc[at])}, k = {int(kk[at])}")
    out = np.ones(nn.shape, dtype=np.float64)
    m = nn - cc >= kk
    idx = np.flatnonzero(m.ravel())
    flat = out.reshape(-1)
    too_many = (np.minimum(cc, kk).ravel() > MAX_PRODUCT_TERMS) & m.ravel()
    if too_many.any():
        b = int(np.argmax(too_many))
        raise ValueError(f"pass_at_k: c = {int(cc.ravel()[b])} and k = {int(kk.ravel()[b])} (index {b}) would "
                         f"multiply more than MAX_PRODUCT_TERMS = {MAX_PRODUCT_TERMS:.0e} factors")
    for i, n_, c_, k_ in zip(idx, nn.ravel()[idx], cc.ravel()[idx], kk.ravel()[idx]):
        # 1 - prod(1 - q) as -expm1(sum log1p(-q)): no cancellation when pass@k is tiny
        if c_ <= MAX_PRODUCT_TERMS:  # Chen et al. (2021): C(n-c, k)/C(n, k) = prod_{j=n-c+1}^{n} (1 - k/j)
            q = k_ / np.arange(n_ - c_ + 1, n_ + 1, dtype=np.float64)
        else:  # the same ratio as prod_{i<k} (n-c-i)/(n-i) = prod_{i<k} (1 - c/(n-i)): k factors
            q = c_ / (n_ - np.arange(k_, dtype=np.float64))
        flat[i] = 0.0 - math.expm1(float(np.sum(np.log1p(-q))))  # 0.0 - : no -0.0
    return out


def coverage_curve(n: int, c: ArrayLike, ks: Optional[ArrayLike] = None) -> FloatArray:
    """Coverage at each k: the mean over problems of pass@k, with ``n`` samples per problem
    and ``c[j]`` correct for problem j. Exact products, vectorised over the distinct values of
    c and over k (a table of at most :data:`MAX_COVERAGE_TABLE` entries).

    Parameters
    ----------
    n : int
        Samples drawn per problem (>= 1).
    c : array_like of int (n_problems,)
        Correct samples of each problem, each in ``[0, n]``; not empty.
    ks : array_like of int, optional
        The k at which to report coverage, each in ``[1, n]``; None (default): every k from 1
        to ``n``.

    Examples
    --------
    >>> coverage_curve(4, [0, 2, 4], [1, 2, 4]).round(4).tolist()
    [0.5, 0.6111, 0.6667]
    """
    nv = _as_integers(n, "n")
    if nv.ndim != 0 or nv < 1:
        raise ValueError(f"n (samples per problem) must be one integer >= 1, got {n!r}")
    n = int(nv)  # also for numpy integers
    cc = np.atleast_1d(_as_integers(c, "c"))
    if cc.ndim != 1 or cc.size == 0:
        raise ValueError(f"c must be a non-empty 1-D array (correct samples per problem), got shape {cc.shape}")
    if np.any(cc < 0) or np.any(cc > n):
        b = int(np.argmax((cc < 0) | (cc > n)))
        raise ValueError(f"every c must be in [0, n={n}]; c[{b}] = {int(cc[b])}")
    k_all = None if ks is None else _as_integers(ks, "ks").ravel()
    if k_all is not None and (np.any(k_all < 1) or np.any(k_all > n)):
        b = int(np.argmax((k_all < 1) | (k_all > n)))
        raise ValueError(f"every k must be in [1, n={n}]; ks[{b}] = {int(k_all[b])}")
    c_u, count = np.unique(cc, return_counts=True)
    k_max = n if k_all is None else (int(k_all.max()) if k_all.size else 0)
    if c_u.size * k_max > MAX_COVERAGE_TABLE:
        raise ValueError(
            f"coverage_curve: {c_u.size} distinct values of c and k up to {k_max} need a table of "
            f"{c_u.size * k_max:.3g} entries (more than MAX_COVERAGE_TABLE = {MAX_COVERAGE_TABLE:.0e}); "
            f"pass ks with a smaller largest k")
    if k_all is None:
        k_all = np.arange(1, n + 1)
    return np.asarray((count @ _pass_table(n, c_u, k_all, k_max)) / cc.size)


def _pass_table(n: int, c_u: NDArray[np.int64], k_all: NDArray[np.int64], k_max: int) -> FloatArray:
    """pass@k for every distinct c (rows) at every k of ``k_all`` (columns, each <= ``k_max``),
    from the running products of ``1 - c/(n - i)``."""
    i = np.arange(k_max)
    q = np.minimum(c_u[:, None] / (n - i[None, :]), 1.0)  # (U, k_max); n - i >= 1
    with np.errstate(divide="ignore"):  # log(0) = -inf where a factor vanishes: pass@k = 1
        log_fail = np.cumsum(np.log1p(-q), axis=1)  # log C(n-c,k)/C(n,k) at [:, k-1]
    # 1 - C(n-c,k)/C(n,k) as -expm1: exact to rounding however small the coverage
    return np.asarray(0.0 - np.expm1(log_fail[:, k_all - 1]))


@suggest_argument_names
def simulate_samples(
    p: ArrayLike, n: int, rng: Optional[np.random.Generator] = None,
    seed: Union[int, np.random.Generator, None] = 0,
) -> NDArray[np.int64]:
    """Number of correct samples out of ``n`` for problems with success probabilities ``p``.

    Parameters
    ----------
    p : array_like
        Success probability of each problem, in [0, 1].
    n : int
        Samples per problem.
    rng : numpy.random.Generator, optional
        The generator to draw from, instead of ``seed`` (give one of the two: a ``seed``
        other than the default 0 with ``rng`` is a ValueError).
    seed : int, numpy.random.Generator or None
        As for the ``scalingfit.simulate`` functions (default 0: reproducible).

    Returns
    -------
    ndarray of int, shaped like ``p``

    >>> simulate_samples([0.0, 1.0], 8).tolist()
    [0, 8]
    """
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed == 0):
            raise ValueError(f"give rng or seed, not both (rng was given with seed={seed!r}, which "
                             "it would override); seed also takes a Generator")
    n = integer("n", n)
    pp = finite("p", p)
    if ((pp < 0) | (pp > 1)).any():
        i = tuple(int(j) for j in np.argwhere(np.atleast_1d((pp < 0) | (pp > 1)))[0])
        raise ValueError(f"p must be probabilities in [0, 1]; p{list(i) if pp.ndim else ''} = "
                         f"{float(np.atleast_1d(pp)[i])!r}")
    g = generator(seed) if rng is None else rng
    return g.binomial(n, pp).astype(np.int64)


def beta_coverage(k: ArrayLike, a: float, b: float) -> FloatArray:
    """Exact coverage at k when per-problem success probabilities are Beta(a, b) distributed:
    ``1 - B(a, b + k) / B(a, b)``; its tail is ``1 - coverage ∝ k^-a``, the exponentiated power
    law's regime. ``a, b > 0``; ``k >= 0``.

    Parameters
    ----------
    k : array_like
        Samples (finite, >= 0; need not be whole).
    a, b : float
        The Beta distribution's shape parameters (> 0).

    Examples
    --------
    >>> round(float(beta_coverage(1, 2.0, 3.0)), 6)
    0.4
    """
    from math import lgamma

    positive_number(a, "a")
    positive_number(b, "b")
    kk = as_float_array(k, "k")
    check_finite(np.atleast_1d(kk), "k")
    check_nonnegative(np.atleast_1d(kk).ravel(), "k")
    lg = np.vectorize(lgamma, otypes=[np.float64])
    log_ratio = lg(b + kk) + lg(a + b) - lg(a + b + kk) - lg(b)
    return np.asarray(1.0 - np.exp(log_ratio))


# ----------------------------------------------------------------------------- fits
def _coverage_law(k: ArrayLike, a: ArrayLike, b: ArrayLike) -> FloatArray:
    with np.errstate(all="ignore"):
        return np.asarray(np.exp(-np.asarray(a) * np.asarray(k, dtype=np.float64) ** -np.asarray(b)))


@dataclass(frozen=True)
class CoverageFit:
    """``coverage(x) = exp(-a · x^(-b))`` fitted to one curve (x = samples k, or inference FLOP).

    Attributes
    ----------
    law : LawFit
        The engine's ``power_law`` fit of ``-log(coverage) = a · x^(-b)`` (parameters A = a,
        alpha = b), resamples included.
    x_name : str
    """

    law: LawFit
    x_name: str = "k"

    @property
    def a(self) -> float:
        """``a`` of ``coverage = exp(-a x^-b)``."""
        return float(self.law.x[0])

    @property
    def b(self) -> float:
        """``b`` of ``coverage = exp(-a x^-b)``."""
        return float(self.law.x[1])

    def interval(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """Interval of ``"a"`` or ``"b"``.

        Parameters
        ----------
        name : {"a", "b"}
            The parameter (another is a ValueError).
        level : float, optional
            The interval's level, in (0, 1); None (default): the fit's own.
        """
        key = {"a": "A", "b": "alpha"}.get(name)
        if key is None:
            raise ValueError(f"interval of {name!r}: choose 'a' or 'b'")
        return self.law.interval(key, level)

    def predict(self, x: ArrayLike) -> FloatArray:
        """Coverage at ``x`` (> 0).

        Parameters
        ----------
        x : array_like
            Samples k (or FLOP, as the fit's ``x_name``); > 0 (NaN passes through).
        """
        return _coverage_law(self._x(x), self.a, self.b)

    def band(self, x: ArrayLike, level: Optional[float] = None) -> FloatArray:
        """(2, n) interval of the predicted coverage.

        Parameters
        ----------
        x : array_like
            Samples k (or FLOP, as the fit's ``x_name``); > 0 (NaN passes through).
        level : float, optional
            The interval's level, in (0, 1); None (default): the fit's own.
        """
        xx = np.atleast_1d(self._x(x))
        _, iv = self.law.derived(lambda p: _coverage_law(xx, p[..., 0, None], p[..., 1, None]), level)
        return np.sort(np.asarray(iv), axis=0)

    def _x(self, x: ArrayLike) -> FloatArray:
        """``x`` as floats, each > 0 as the fitted ones (NaN passes): a ValueError naming it
        (0 gave coverage 0, -5 NaN)."""
        xa = as_float_array(x, "x")
        check_positive(xa, "x", f"the law is fitted to {self.x_name} > 0", nan_ok=True)
        return xa

    def samples_for(self, target: float) -> float:
        """Samples (or FLOP) needed to reach coverage ``target``: ``(a / -log target)^(1/b)``.

        Parameters
        ----------
        target : float
            The coverage to reach, in (0, 1) (a ValueError otherwise).
        """
        if not 0.0 < target < 1.0:
            raise ValueError(f"target coverage must be in (0, 1), got {target!r}")
        return float((self.a / -np.log(target)) ** (1.0 / self.b))

    def __repr__(self) -> str:
        rows = [{"param": n, "value": v, "lower": self.interval(n)[0], "upper": self.interval(n)[1]}
                for n, v in (("a", self.a), ("b", self.b))]
        return f"CoverageFit(coverage = exp(-a {self.x_name}^-b))\n" + table(rows)


@suggest_argument_names
def fit_coverage(
    xs: Sequence[ArrayLike] | ArrayLike,
    coverages: Sequence[ArrayLike] | ArrayLike,
    *,
    x_name: str = "k",
    n_resamples: int = 0,
    scheme: str = "points",
    seed: int = 0,
    level: float = 0.95,
    log_residuals: bool = True,
) -> list[CoverageFit]:
    """Fit ``log(coverage) = -a · x^(-b)`` to one or several coverage curves in one batch call.

    Parameters
    ----------
    xs, coverages : array or sequence of arrays
        Number of samples k (or inference FLOP; finite, > 0) and the coverage in [0, 1] at
        each; one 1-D array pair per curve. Points with coverage exactly 0 or 1 carry no
        information on this scale and are dropped; NaN or values outside [0, 1] are an error.
        Coverage cannot fall as k grows: a curve fitted with ``b < 0`` (decreasing) warns.
    n_resamples, scheme, seed, level :
        Bootstrap replicates per curve (0: Gauss–Newton intervals), ``"points"`` or
        ``"residuals"`` (fixed k, resampled residuals).
    log_residuals : bool
        Fit ``log(-log coverage)`` (relative errors; the default) rather than ``-log coverage``.
    x_name : str
        What ``xs`` counts (``"k"``, or e.g. ``"FLOP"``), in the fits' tables and messages.

    Returns
    -------
    list of CoverageFit

    Warns
    -----
    DataWarning
        A curve whose fitted ``b`` is negative (coverage falling as k grows), naming its
        first point below the one before it in k.

    Notes
    -----
    **The intervals of a coverage curve estimated from samples are too narrow.** Every point of
    such a curve comes from the same problems and the same samples, so its errors are strongly
    correlated across k, while the Gauss–Newton intervals and both bootstrap schemes here treat
    the points as independent. In a simulation (200 problems with success probabilities
    ~ Beta(0.3, 3), 100 samples each, 15 values of k, 150 replicates, 300 resamples) the 95%
    intervals covered the parameters of the population's curve (problems drawn afresh each
    replicate) in only 14-25% of replicates, and those of the fixed problem set's expected curve
    in 41-70%, whichever of the three was used. From
    the per-problem counts of correct samples, :func:`fit_coverage_from_counts` resamples whole
    problems instead: its intervals are the calibrated ones. The intervals here fit curves
    whose points have independent errors (a curve known up to independent noise per point).

    Examples
    --------
    >>> k = np.arange(1, 101)
    >>> fit, = fit_coverage([k], [np.exp(-2.0 * k ** -0.4)])
    >>> round(fit.a, 6), round(fit.b, 6)
    (2.0, 0.4)
    """
    if isinstance(xs, (list, tuple)) and len(xs) == 0:
        raise ValueError("no curves: xs is empty")
    X = [as_float_array(x, f"xs[{j}]") for j, x in enumerate(xs if _is_seq(xs) else [xs])]  # type: ignore[arg-type]
    cs = coverages if _is_seq(coverages) else [coverages]
    Y = [as_float_array(c, f"coverages[{j}]") for j, c in enumerate(cs)]  # type: ignore[arg-type]
    if len(X) != len(Y):
        raise ValueError(f"{len(X)} x arrays but {len(Y)} coverage arrays")
    xs_f, ys_f = [], []
    for j, (x, y) in enumerate(zip(X, Y)):
        if x.ndim != 1 or y.ndim != 1:
            raise ValueError(f"curve {j}: x and coverage must be 1-D (pass a list of arrays for several "
                             f"curves), got shapes {x.shape} and {y.shape}")
        if x.shape != y.shape:
            raise ValueError(f"curve {j}: x has {x.shape[0]} points but coverage has {y.shape[0]}")
        check_finite(x, f"xs[{j}]")
        check_positive(x, f"xs[{j}]", x_name)
        check_finite(y, f"coverages[{j}]")
        outside = (y < 0) | (y > 1)
        if outside.any():
            i = int(np.argmax(outside))
            raise ValueError(f"coverages[{j}] must be in [0, 1]; coverages[{j}] has {int(outside.sum())} "
                             f"value(s) outside, the first at index {i}: {float(y[i])!r}")
        keep = (y > 0) & (y < 1)
        if keep.sum() < 2:
            raise ValueError(f"curve {j} has fewer than 2 points with 0 < coverage < 1")
        distinct = np.unique(x[keep])
        if distinct.size < 2:  # was "no usable start for any problem of power_law: pass p0"
            raise ValueError(f"xs[{j}] has only one distinct value ({distinct[0]:g}) among its points with "
                             f"0 < coverage < 1: a and b need at least 2 distinct values of {x_name}")
        xs_f.append(x[keep])
        ys_f.append(-np.log(y[keep]))
    many = fit_many("power_law", xs_f, ys_f, n_resamples=n_resamples, scheme=scheme, seed=seed,
                    level=level, log_residuals=log_residuals, bounds={"A": (0.0, np.inf)})
    fits = [CoverageFit(many.problem(j), x_name) for j in range(many.n_problems)]
    for j, f in enumerate(fits):
        if f.b < 0:
            _warn_falling(X[j], Y[j], j, f.b, x_name)
    return fits


def _warn_falling(x: FloatArray, y: FloatArray, j: int, b: float, x_name: str) -> None:
    """The DataWarning of a coverage curve fitted with ``b < 0``, naming its first point (by
    index) whose coverage is below that of the point before it in ``x``; none when no point
    falls (a flat curve fits b = -2e-32, rounding, not a fall)."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    drop = np.flatnonzero((np.diff(xs) > 0) & (np.diff(ys) < 0))
    if not drop.size:
        return
    i0, i1 = int(order[drop[0]]), int(order[drop[0] + 1])
    points = (f"; {drop.size} point(s) lie below the one before them in {x_name}, the first "
              f"coverages[{j}][{i1}] = {y[i1]:g} at {x_name} = {x[i1]:g} after "
              f"coverages[{j}][{i0}] = {y[i0]:g} at {x_name} = {x[i0]:g}")
    _warnings.warn(
        f"coverages[{j}] falls as {x_name} grows: the fit's b = {b:.4g} < 0 makes coverage "
        f"decrease with {x_name}, which coverage (the chance that one of {x_name} samples is "
        f"right) cannot do{points}: are the coverages in the order of their {x_name}, and of "
        "one set of problems?", DataWarning, stacklevel=3)


@suggest_argument_names
def fit_coverage_from_counts(
    n: ArrayLike,
    c: Sequence[ArrayLike] | ArrayLike,
    ks: ArrayLike,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    log_residuals: bool = True,
) -> list[CoverageFit]:
    """Fit ``log(coverage) = -a · k^(-b)`` to coverage curves computed from per-problem counts,
    with intervals from a bootstrap over problems (the calibrated intervals of a coverage fit).

    Each curve is :func:`coverage_curve` of its problems' counts ``c`` (``n`` samples each) at
    ``ks``, fitted as :func:`fit_coverage` fits it. Replicate r draws the curve's problems with
    replacement (as many as it has), recomputes the coverage curve from their counts and refits
    it: the errors of a coverage curve are correlated across k (the same problems and samples
    at every k), and this keeps them so, where the intervals of :func:`fit_coverage` treat the
    points as independent and come out far too narrow.

    The intervals describe the population of problems the benchmark's problems were drawn
    from (whose curve the fit estimates), including the sampling noise of each problem's
    ``n`` samples. For the fixed problem set itself, with only the samples random, they are
    conservative. In the simulation of :func:`fit_coverage`'s Notes (200 problems, 100
    samples each, 15 values of k, 200 replicates of 1,000 resamples), the 95% intervals covered
    the population curve's a and b in 92% and 95% of replicates with the problems drawn
    afresh from Beta(0.3, 3) each time; with the problems held fixed, in 100%, with intervals 2
    (b) to 3.4 (a) times as wide as the estimates' spread needs.

    Parameters
    ----------
    n : int or sequence of int
        Samples per problem (>= 1): one for all curves, or one per curve.
    c : array or sequence of arrays
        Correct samples of each problem (integers in [0, n]), one 1-D array per curve (model),
        of at least 3 problems (the bootstrap resamples them).
    ks : array of int
        Values of k (in [1, n]) at which each curve is computed and fitted; points with
        coverage exactly 0 or 1 are dropped (as by :func:`fit_coverage`).
    n_resamples : int
        Bootstrap replicates per curve (>= 2), each curve's drawn independently.
    seed, level : the replicates' seed and the intervals' default level.
    log_residuals : bool
        Fit ``log(-log coverage)`` (the default) rather than ``-log coverage``.

    Returns
    -------
    list of CoverageFit
        Percentile intervals of the replicates (``law.samples``; a replicate whose curve has
        fewer than 2 points strictly between 0 and 1, or whose fit fails, is NaN and counted in
        ``law.n_failed``).

    Examples
    --------
    >>> p = np.random.default_rng(0).beta(0.4, 3.0, 300)
    >>> c = simulate_samples(p, 100, seed=1)
    >>> fit, = fit_coverage_from_counts(100, c, [1, 2, 5, 10, 20, 50, 100], n_resamples=200)
    >>> lo, hi = fit.interval("b")
    >>> bool(lo < fit.b < hi)
    True
    """
    from dataclasses import replace

    cs: list[Any] = list(c) if _is_seq(c) else [c]  # type: ignore[arg-type]
    T = len(cs)
    if T == 0:
        raise ValueError("no curves: c is empty")
    nv = np.atleast_1d(_as_integers(n, "n"))
    if nv.ndim != 1 or nv.shape[0] not in (1, T):
        raise ValueError(f"n must be one integer or one per curve ({T}), got shape {nv.shape}")
    ns = [int(v) for v in np.broadcast_to(nv, (T,))]
    B = integer("n_resamples", n_resamples, least=1)
    if B == 1:  # as _validate.resamples: its "interval" is one point, which need not hold the estimate
        raise ValueError("n_resamples must be an integer >= 2 (one resample is no distribution), got 1")
    kk = np.atleast_1d(_as_integers(ks, "ks"))
    if kk.ndim != 1 or kk.size < 2:
        raise ValueError(f"ks must be a 1-D array of at least 2 sample counts, got shape {kk.shape}")
    if np.unique(kk).size < 2:
        raise ValueError(f"ks must hold at least 2 distinct sample counts (a and b need them), got {kk.tolist()}")
    rng = generator(seed)
    curves, replicas = [], []
    for j in range(T):
        cname = f"c[{j}]" if T > 1 else "c"
        cj = np.atleast_1d(_as_integers(cs[j], cname))
        if cj.size < MIN_GROUPS:  # as bootstrap's groups: every replicate (nearly) the same curve
            raise ValueError(f"{cname} has {cj.size} problem(s): a bootstrap over problems needs at least "
                             f"{MIN_GROUPS} to resample (fit_coverage fits the curve without it)")
        if np.unique(cj).size == 1:
            _warnings.warn(f"every problem of {cname} has {int(cj[0])} correct samples: every replicate is "
                          "the same curve, so its intervals have zero width", DataWarning, stacklevel=2)
        try:
            curves.append(coverage_curve(ns[j], cj, kk))  # checks n, c and ks, naming them
        except ValueError as exc:
            raise ValueError(f"curve {j}: {exc}") from None
        c_u, count = np.unique(cj, return_counts=True)
        table_ = _pass_table(ns[j], c_u, kk, int(kk.max()))  # (U, K) pass@k of each distinct c
        # drawing the problems with replacement = drawing how many of each distinct c
        draws = rng.multinomial(cj.size, count / cj.size, size=B).astype(np.float64)
        replicas.append(draws @ table_ / cj.size)  # (B, K)
    point = fit_coverage([kk] * T, curves, log_residuals=log_residuals, level=level)
    xs_r, ys_r, ok = [], [], []
    for rep in replicas:
        for cur in rep:
            keep = (cur > 0) & (cur < 1)
            ok.append(keep.sum() >= 2)
            xs_r.append(kk[keep].astype(np.float64) if ok[-1] else kk[:2].astype(np.float64))
            ys_r.append(-np.log(cur[keep]) if ok[-1] else np.ones(2))
    many = fit_many("power_law", xs_r, ys_r, log_residuals=log_residuals, bounds={"A": (0.0, np.inf)},
                    level=level, warn=False)
    samples = np.where(np.asarray(ok)[:, None], many.params, np.nan).reshape(T, B, 2)
    failed = (~np.isfinite(samples).all(axis=2)).sum(axis=1)
    return [CoverageFit(replace(f.law, samples=samples[j], n_failed=int(failed[j])), "k")
            for j, f in enumerate(point)]


def _is_seq(v: object) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and np.ndim(v[0]) >= 1


def _curves(name: str, v: Any, check: Callable[..., FloatArray]) -> list[FloatArray]:
    """One array per curve (``v`` one array, or a sequence of arrays), each through ``check``
    (a :mod:`._validate` function) under its name, ``name[j]`` for several."""
    if _is_seq(v):
        return [check(f"{name}[{j}]", a) for j, a in enumerate(v)]
    return [check(name, v)]


def inference_flops(N: ArrayLike, tokens_per_sample: float, k: ArrayLike) -> FloatArray:
    """FLOP to generate ``k`` samples of ``tokens_per_sample`` tokens: ``2 · N · T · k``; a
    ValueError naming ``N``, ``tokens_per_sample`` and ``k`` where that passes float64's
    largest value (1.8e308).

    Parameters
    ----------
    N : array_like
        Parameters of the model (finite, > 0).
    tokens_per_sample : float
        Tokens generated per sample (finite, > 0).
    k : array_like
        Samples per problem (finite, >= 0); broadcast with ``N``.

    Examples
    --------
    >>> float(inference_flops(7e9, 500, 10))
    70000000000000.0
    """
    n = positive("N", N)
    t = float(positive("tokens_per_sample", tokens_per_sample, scalar=True))
    kk = nonnegative("k", k)
    broadcast(N=n, k=kk)
    with np.errstate(over="ignore"):
        flops = np.asarray(2.0 * n * t * kk)
    return np.asarray(check_computed(
        flops, "2 N T k", {"N": n, "tokens_per_sample": t, "k": kk},
        "N, tokens_per_sample and k must be smaller"))


@suggest_argument_names
def fit_accuracy_vs_compute(
    flops: Sequence[ArrayLike] | ArrayLike,
    accuracy: Sequence[ArrayLike] | ArrayLike,
    *,
    floor: Optional[float] = None,
    ceiling: Optional[float] = None,
    n_resamples: int = 0,
    seed: int = 0,
    level: float = 0.95,
) -> list[LawFit]:
    """Fit accuracy (e.g. majority vote, or best-of-k with a verifier) against inference
    compute with the engine's sigmoid in log compute,
    ``lo + (hi - lo) / (1 + exp(-k (log C - log_x0)))``; ``floor``/``ceiling`` fix ``lo``/``hi``,
    and an accuracy beyond them by more than their span (percent against a ceiling of 1) is a
    ValueError. One batch call for all curves.

    Parameters
    ----------
    flops : array_like or sequence of array_like
        Inference compute of each point (FLOP; finite, > 0): one 1-D array, or one per curve.
    accuracy : array_like or sequence of array_like
        Accuracy at each point (finite), one array per curve, as long as its ``flops``.
    floor : float, optional
        Fix ``lo`` at this value (finite; below ``ceiling``); None (default): fitted.
    ceiling : float, optional
        Fix ``hi`` at this value (finite); None (default): fitted.
    n_resamples : int
        Bootstrap replicates per curve, resampling points (0, the default: Gauss–Newton
        intervals only).
    seed : int
        Seed of the replicates: replicate r of curve j depends only on ``(seed, j, r)``;
        default 0.
    level : float
        Default level of the fits' intervals, in (0, 1); default 0.95.

    Examples
    --------
    >>> C = np.logspace(10, 16, 13)
    >>> acc = 0.1 + 0.7 / (1 + np.exp(-1.2 * (np.log(C) - np.log(1e13))))
    >>> fit, = fit_accuracy_vs_compute([C], [acc])
    >>> round(fit.params["hi"], 4), round(float(np.exp(fit.params["log_x0"])) / 1e13, 4)
    (0.8, 1.0)
    """
    X = _curves("flops", flops, positive)
    Y = _curves("accuracy", accuracy, finite)
    if len(X) != len(Y):
        raise ValueError(f"{len(X)} flops arrays but {len(Y)} accuracy arrays: one pair per curve")
    for j, (x, y) in enumerate(zip(X, Y)):
        at = f"[{j}]" if len(X) > 1 else ""
        if x.ndim != 1 or y.ndim != 1:
            raise ValueError(f"flops{at} and accuracy{at} must be 1-D (pass a list of arrays for several "
                             f"curves), got shapes {x.shape} and {y.shape}")
        if x.shape != y.shape:
            raise ValueError(f"curve {j}: accuracy{at} has {y.shape[0]} points but flops{at} has {x.shape[0]}")
    bounds: dict[str, tuple[float, float]] = {}
    lo = None if floor is None else float(finite("floor", floor, scalar=True))
    hi = None if ceiling is None else float(finite("ceiling", ceiling, scalar=True))
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"floor = {lo!r} must be below ceiling = {hi!r}")
    for j, y in enumerate(Y):
        check_metric_scale(y, f"accuracy[{j}]" if len(Y) > 1 else "accuracy", lo, hi)
    if lo is not None:
        bounds["lo"] = (lo, lo)
    if hi is not None:
        bounds["hi"] = (hi, hi)
    many = fit_many("sigmoid", X, Y, n_resamples=n_resamples, seed=seed, level=level,
                    bounds=bounds or None)
    return [many.problem(j) for j in range(many.n_problems)]


# ----------------------------------------------------------------------------- the choice
@dataclass(frozen=True, eq=False)
class ModelChoice:
    """Which model to sample from at each inference budget.

    Attributes
    ----------
    budget : ndarray (n_budgets,)
        FLOP per problem.
    N : ndarray (n_models,)
    samples : ndarray (n_budgets, n_models)
        Samples each model can afford, ``floor(budget / (2 N T))`` (0: cannot afford one;
        a budget within 8 ulps of ``k`` samples' cost affords ``k``), saturated at
        :data:`MAX_SAMPLES`.
    coverage : ndarray (n_budgets, n_models)
        Predicted coverage (0 where no sample is affordable).
    best : ndarray of int (n_budgets,)
        Index of the model with the highest predicted coverage (-1 if none is affordable).
    """

    budget: FloatArray
    N: FloatArray
    samples: NDArray[np.int64]
    coverage: FloatArray
    best: NDArray[np.int64]

    def crossovers(self) -> list[tuple[float, int, int]]:
        """Budgets where the best model changes: (budget, from, to)."""
        out = []
        for i in range(1, self.best.shape[0]):
            if self.best[i] != self.best[i - 1]:
                out.append((float(self.budget[i]), int(self.best[i - 1]), int(self.best[i])))
        return out

    def __repr__(self) -> str:
        rows = []
        for i, b in enumerate(self.budget):
            r: dict[str, object] = {"budget": float(b)}
            for m in range(self.N.shape[0]):
                r[f"k[{m}]"] = int(self.samples[i, m])
                r[f"cov[{m}]"] = float(self.coverage[i, m])
            r["best"] = int(self.best[i])
            rows.append(r)
        return "ModelChoice\n" + table(rows, ".3g")


#: Relative slack, in units of float64's epsilon, with which a budget affords a whole number of
#: samples in :func:`choose_model` (the rounding of ``budget / (2 N T)``).
_BUDGET_ULPS = 8


def choose_model(
    fits: Sequence[CoverageFit],
    N: ArrayLike,
    budget: ArrayLike,
    tokens_per_sample: float,
) -> ModelChoice:
    """Given each model's fitted coverage-vs-samples curve and size N, choose the model with
    the highest coverage at each inference budget (FLOP per problem, ≈ 2·N per generated token).
    ``N``, ``budget`` (a number or 1-D) and ``tokens_per_sample`` must be finite and > 0; every
    fit must be against the number of samples (``x_name="k"``, a ValueError otherwise).

    Parameters
    ----------
    fits : sequence of CoverageFit
        One coverage-vs-samples fit per model (:func:`fit_coverage`); not empty.
    N : array_like (n_models,)
        Parameters of each model, one per fit.
    budget : float or array_like (n_budgets,)
        Inference budgets, FLOP per problem.
    tokens_per_sample : float
        Tokens generated per sample; a sample costs ``2 N tokens_per_sample`` FLOP.

    Examples
    --------
    >>> k = np.arange(1, 201)
    >>> big, small = fit_coverage([k, k], [np.exp(-0.5 * k ** -0.2), np.exp(-1.2 * k ** -0.35)])
    >>> c = choose_model([big, small], N=[70e9, 7e9], budget=[1.4e13, 1.4e15], tokens_per_sample=100)
    >>> c.samples.tolist(), c.best.tolist()
    ([[1, 10], [100, 1000]], [0, 1])
    """
    if len(fits) == 0:
        raise ValueError("no coverage fits: pass one CoverageFit per model")
    for m, f in enumerate(fits):
        if not isinstance(f, CoverageFit):
            raise TypeError(f"fits[{m}] must be a CoverageFit (from fit_coverage), got {type(f).__name__}")
        if f.x_name != "k":
            raise ValueError(f"fits[{m}] was fitted against x_name={f.x_name!r}, but choose_model evaluates "
                             "each fit at sample counts: fit coverage against the number of samples "
                             "(x_name='k')")
    Ns = as_float_array(N, "N")
    if Ns.ndim > 1:
        raise ValueError(f"N must be 1-D (one size per model), got shape {Ns.shape}")
    Ns = Ns.ravel()
    if Ns.shape[0] != len(fits):
        raise ValueError(f"{len(fits)} coverage fits but {Ns.shape[0]} model sizes")
    check_finite(Ns, "N")
    check_positive(Ns, "N", "parameters")
    positive_number(tokens_per_sample, "tokens_per_sample")
    B = np.atleast_1d(as_float_array(budget, "budget"))
    if B.ndim != 1:
        raise ValueError(f"budget must be a number or a 1-D array (FLOP per problem), got shape {B.shape}")
    check_finite(B, "budget")
    check_positive(B, "budget", "FLOP per problem")
    with np.errstate(over="ignore"):  # a ratio past MAX_SAMPLES saturates
        ratio = B[:, None] / (2.0 * Ns[None, :] * float(tokens_per_sample))
    # a budget within rounding of k samples' cost (inference_flops(N, T, k) divided back by
    # 2 N T can land an ulp below k) affords k
    k = np.floor(np.minimum(ratio * (1.0 + _BUDGET_ULPS * np.finfo(float).eps), float(MAX_SAMPLES)))
    k = k.astype(np.int64)
    cov = np.zeros(k.shape)
    for m, f in enumerate(fits):
        ok = k[:, m] >= 1
        cov[ok, m] = f.predict(k[ok, m])
    best = np.where((k >= 1).any(axis=1), np.argmax(np.where(k >= 1, cov, -1.0), axis=1), -1)
    return ModelChoice(budget=B, N=Ns, samples=k, coverage=cov, best=best.astype(np.int64))
