"""Tail probabilities of the F, chi-square and Student t distributions, and t's quantile, in
plain Python, so that the nested-model tests and every t interval need no scipy (the core
import needs only numpy, and the demo's install has no scipy; importing scipy.stats alone took
0.7-1.3 s of a refit's time).

``F(d1, d2)``'s upper tail is the regularized incomplete beta function,
``P(F > f) = I_x(d2/2, d1/2)`` with ``x = d2 / (d2 + d1 f)`` (Abramowitz & Stegun 26.6.2),
evaluated by its continued fraction (A&S 26.5.8) with the modified Lentz method, on the side
of ``x`` where the fraction converges fast (A&S 26.5.2: ``I_x(a, b) = 1 - I_{1-x}(b, a)``).
Logarithms throughout, so that p-values far below 1e-308 keep their size (Fisher's method
sums their logs). The chi-square upper tail with an even number ``2k`` of degrees of freedom
is a Poisson sum, ``P(X > x) = exp(-x/2) sum_{j<k} (x/2)^j / j!`` (A&S 26.4.21); with an
odd number ``2k + 1``, ``erfc(sqrt(x/2)) + exp(-x/2) sum_{j=1..k} (x/2)^(j-1/2) / Gamma(j+1/2)``
(A&S 26.4.4 and 26.4.5 in the regularized upper incomplete gamma function).
Student's t upper tail is ``P(T > t) = I_x(v/2, 1/2) / 2`` with ``x = v / (v + t^2)``
(A&S 26.7.1); its quantile solves that by Newton's method on the log of the tail, kept inside
a bracket (bisection when a step leaves it), from the Cornish-Fisher start (A&S 26.7.5); from
5,000 degrees of freedom on that expansion is the answer (its next term is O(v^-5): 3e-14
relative at p = 1e-15 there, where the lgamma values of the tail's front lose ~1e-12).
Closed forms at 1 and 2 degrees of freedom (A&S 26.7.3 and 26.7.4).
Tested against scipy (tests/test_stats.py).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Optional

__all__ = ["chi2_even_logsf", "chi2_sf", "f_logsf", "t_logsf", "t_quantile"]

_EPS = 1e-15
_TINY = 1e-300
# The continued fraction needs about sqrt(d2 / 2) terms near its switch point. Against scipy:
# 1e-9 relative in log p up to d2 ~ 1e6 points, 1e-7 at 1e9 and 1e-6 at 1e11 (the fraction's
# terms cancel near x ~ 1 there); scaling sweeps have hundreds of points.
_MAX_TERMS = 1_000_000


def _log_beta_cf(a: float, b: float, x: float) -> float:
    """log of the continued fraction of I_x(a, b) (A&S 26.5.8), by the modified Lentz method;
    converges fast for x < (a + 1) / (a + b + 2)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + num / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return math.log(h)


def _log_beta(a: float, b: float) -> float:
    """log B(a, b). For a large argument, ``lgamma(big + small) - lgamma(big)`` by Stirling's
    series written without cancellation, ``(big - 1/2) log1p(small/big) + small log(big +
    small) - small - small / (12 big (big + small))`` (error O(big^-3)): the difference of two
    lgamma values near 1e10 (d2 = 1e9 points) had lost seven digits."""
    big, small = max(a, b), min(a, b)
    if big < 1e5:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    diff = ((big - 0.5) * math.log1p(small / big) + small * math.log(big + small) - small
            - small / (12.0 * big * (big + small)))
    return math.lgamma(small) - diff


def _log_front(a: float, b: float, log_x: float, log_1mx: float) -> float:
    """log of x^a (1-x)^b / (a B(a, b)), from log x and log(1 - x) (given, not taken of a
    rounded x: times a = 5e8, the rounding of x alone moved the result by 5e-8)."""
    return a * log_x + b * log_1mx - math.log(a) - _log_beta(a, b)


def _log_betainc(a: float, b: float, x: float, log_x: float, log_1mx: float) -> float:
    """log I_x(a, b), the regularized incomplete beta function, for 0 < x < 1 (with its
    logs log x and log(1 - x))."""
    if x < (a + 1.0) / (a + b + 2.0):
        return _log_front(a, b, log_x, log_1mx) + _log_beta_cf(a, b, x)
    other = math.exp(_log_front(b, a, log_1mx, log_x) + _log_beta_cf(b, a, 1.0 - x))  # I_{1-x}(b, a)
    return math.log1p(-other) if other < 1.0 else -math.inf


def _edge(x: float, at_zero: float, at_inf: float) -> Optional[float]:
    """A tail's value where ``x`` is NaN, <= 0 or inf (its argument), else None."""
    if math.isnan(x):
        return math.nan
    if x <= 0:
        return at_zero
    return at_inf if math.isinf(x) else None


def f_logsf(f: float, d1: float, d2: float) -> float:
    """log P(F > f) for F ~ F(d1, d2) (degrees of freedom > 0); 0 for f <= 0, -inf for f = inf."""
    if not (d1 > 0 and d2 > 0):
        raise ValueError(f"degrees of freedom must be > 0, got {d1}, {d2}")
    edge = _edge(f, 0.0, -math.inf)
    if edge is not None:
        return edge
    r = d1 * f / d2  # x = d2 / (d2 + d1 f) = 1 / (1 + r), 1 - x = r / (1 + r)
    log_x = -math.log1p(r)
    return min(0.0, _log_betainc(d2 / 2.0, d1 / 2.0, 1.0 / (1.0 + r), log_x, math.log(r) + log_x))


def chi2_even_logsf(x: float, dof: int) -> float:
    """log P(X > x) for X ~ chi-square with an even number ``dof`` of degrees of freedom (the
    statistic of Fisher's method): the Poisson sum, its terms added in logs."""
    if dof < 2 or dof % 2:
        raise ValueError(f"dof must be an even number >= 2, got {dof}")
    edge = _edge(x, 0.0, -math.inf)
    if edge is not None:
        return edge
    h = x / 2.0
    terms = [j * math.log(h) - math.lgamma(j + 1.0) for j in range(dof // 2)]
    top = max(terms)
    return min(0.0, -h + top + math.log(math.fsum(math.exp(t - top) for t in terms)))


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for X ~ chi-square with a whole number ``dof`` >= 1 of degrees of freedom."""
    if dof < 1 or int(dof) != dof:
        raise ValueError(f"dof must be a whole number >= 1, got {dof}")
    dof = int(dof)
    if dof % 2 == 0:
        return math.exp(chi2_even_logsf(x, dof))
    edge = _edge(x, 1.0, 0.0)
    if edge is not None:
        return edge
    h = x / 2.0
    rest = math.fsum(math.exp((j - 0.5) * math.log(h) - math.lgamma(j + 0.5) - h) for j in range(1, (dof - 1) // 2 + 1))
    return min(1.0, math.erfc(math.sqrt(h)) + rest)


def _t_logpdf(t: float, v: float) -> float:
    """log of Student's t density at ``t`` on ``v`` degrees of freedom."""
    return (math.lgamma((v + 1.0) / 2.0) - math.lgamma(v / 2.0) - 0.5 * math.log(v * math.pi)
            - (v + 1.0) / 2.0 * math.log1p(t * t / v))


def t_logsf(t: float, v: float) -> float:
    """log P(T > t) for T ~ Student's t on ``v`` > 0 degrees of freedom, for ``t`` > 0 (the
    tail beyond the median; A&S 26.7.1 in the incomplete beta function)."""
    if not v > 0:
        raise ValueError(f"degrees of freedom must be > 0, got {v}")
    if not t > 0:
        raise ValueError(f"t must be > 0, got {t}")
    if math.isinf(t):
        return -math.inf
    r = t * t / v  # x = v / (v + t^2) = 1 / (1 + r), 1 - x = r / (1 + r)
    log_x = -math.log1p(r)
    return math.log(0.5) + min(0.0, _log_betainc(v / 2.0, 0.5, 1.0 / (1.0 + r), log_x,
                                                  2.0 * math.log(t) - math.log(v) + log_x))


def _cornish_fisher(z: float, v: float) -> float:
    """The t quantile from the normal's ``z`` to O(v^-5) (A&S 26.7.5)."""
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))


def _t_upper(p: float, v: float) -> float:
    """t > 0 with P(T > t) = p, for 0 < p < 1/2."""
    if v == 1.0:  # Cauchy (A&S 26.7.3)
        return 1.0 / math.tan(math.pi * p)
    if v == 2.0:  # A&S 26.7.4: P(T > t) = (1 - t / sqrt(2 + t^2)) / 2
        return (1.0 - 2.0 * p) / math.sqrt(2.0 * p * (1.0 - p))
    z = -NormalDist().inv_cdf(p)
    t = _cornish_fisher(z, v)
    if v >= 5000.0:
        return t
    log_p = math.log(p)
    lo, hi = 0.0, math.inf
    if not (math.isfinite(t) and t > 0):
        t = z
    for _ in range(200):
        ls = t_logsf(t, v)
        g = ls - log_p  # > 0: the tail beyond t is too heavy, t too small
        if g == 0.0:
            return t
        if g > 0:
            lo = t
        else:
            hi = t
        nxt = t + g * math.exp(ls - _t_logpdf(t, v))  # Newton on log P(T > t)
        if not lo < nxt < hi:
            nxt = 2.0 * lo if math.isinf(hi) else 0.5 * (lo + hi)
        if abs(nxt - t) <= 4e-16 * t:
            return nxt
        t = nxt
    return t


def t_quantile(q: float, v: float) -> float:
    """The ``q`` quantile of Student's t on ``v`` > 0 degrees of freedom (any positive real),
    for 0 < q < 1."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be a probability in (0, 1), got {q!r}")
    if not v > 0:
        raise ValueError(f"degrees of freedom must be > 0, got {v}")
    if q == 0.5:
        return 0.0
    return _t_upper(1.0 - q, v) if q > 0.5 else -_t_upper(q, v)
