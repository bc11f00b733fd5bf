"""Test-time compute: pass@k, coverage against the number of samples, accuracy against
inference compute, and the choice between a larger model with fewer samples and a smaller one
with more under a FLOP budget.

- The unbiased pass@k estimator of Chen et al. (2021): from ``n`` samples of which ``c`` are
  correct, ``pass@k = 1 - C(n-c, k) / C(n, k)``.
- Coverage (the fraction of problems solved by at least one of k samples) follows an
  exponentiated power law in k (Brown et al., 2024, "Large Language Monkeys"):
  ``log(coverage) ≈ -a · k^(-b)``, i.e. ``-log(coverage)`` is a power law in k, fitted with the
  engine's ``power_law`` model (in log space by default). Many curves are one batch call.
- Generating one token costs about ``2·N`` FLOP, so k samples of T tokens from a model of N
  parameters cost ``2·N·T·k``: at a fixed budget a model ``r`` times smaller draws ``r`` times
  more samples.

>>> import numpy as np
>>> from scalingfit import testtime
>>> round(float(testtime.pass_at_k(10, 3, 1)), 12), round(float(testtime.pass_at_k(10, 3, 5)), 4)
(0.3, 0.9167)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._resample import LawFit, fit_many, table

FloatArray = NDArray[np.float64]


# ----------------------------------------------------------------------------- pass@k
def pass_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> FloatArray:
    """Unbiased pass@k from ``n`` samples with ``c`` correct (broadcast over arrays).

    ``1 - C(n-c, k)/C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i)`` (the numerically stable
    product of Chen et al.); 1 where ``n - c < k``.

    Raises
    ------
    ValueError
        Unless ``0 <= c <= n`` and ``1 <= k <= n`` (integers).

    >>> pass_at_k([5, 5, 5], [0, 1, 5], 2).round(12).tolist()
    [0.0, 0.4, 1.0]
    """
    nn, cc, kk = np.broadcast_arrays(np.asarray(n), np.asarray(c), np.asarray(k))
    for name, a in (("n", nn), ("c", cc), ("k", kk)):
        if not np.all(np.asarray(a) == np.round(np.asarray(a, dtype=np.float64))):
            raise ValueError(f"{name} must be integers, got {a!r}")
    nn, cc, kk = (np.asarray(a, dtype=np.int64) for a in (nn, cc, kk))
    if np.any(cc < 0) or np.any(cc > nn):
        raise ValueError("need 0 <= c <= n for every problem")
    if np.any(kk < 1) or np.any(kk > nn):
        raise ValueError("need 1 <= k <= n (pass@k is unbiased only for k up to the samples drawn)")
    out = np.ones(nn.shape, dtype=np.float64)
    m = nn - cc >= kk
    idx = np.flatnonzero(m.ravel())
    flat = out.reshape(-1)
    for i, n_, c_, k_ in zip(idx, nn.ravel()[idx], cc.ravel()[idx], kk.ravel()[idx]):
        # Chen et al. (2021): C(n-c, k)/C(n, k) = prod_{j=n-c+1}^{n} (1 - k/j)
        flat[i] = 1.0 - float(np.prod(1.0 - k_ / np.arange(n_ - c_ + 1, n_ + 1, dtype=np.float64)))
    return out


def coverage_curve(n: int, c: ArrayLike, ks: Optional[ArrayLike] = None) -> FloatArray:
    """Coverage at each k: the mean over problems of pass@k, with ``n`` samples per problem
    and ``c[j]`` correct for problem j. Exact products, vectorised over problems and k.

    >>> coverage_curve(4, [0, 2, 4], [1, 2, 4]).round(4).tolist()
    [0.5, 0.6111, 0.6667]
    """
    cc = np.asarray(c, dtype=np.int64).ravel()
    if np.any(cc < 0) or np.any(cc > n):
        raise ValueError(f"every c must be in [0, n={n}]")
    k_all = np.arange(1, n + 1) if ks is None else np.asarray(ks, dtype=np.int64).ravel()
    if np.any(k_all < 1) or np.any(k_all > n):
        raise ValueError(f"every k must be in [1, n={n}]")
    i = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = np.clip((n - cc[:, None] - i[None, :]) / (n - i[None, :]), 0.0, 1.0)  # (P, n)
    fail = np.cumprod(factors, axis=1)  # fail[:, k-1] = C(n-c,k)/C(n,k)
    return np.asarray(1.0 - fail[:, k_all - 1].mean(axis=0))


def simulate_samples(
    p: ArrayLike, n: int, rng: Optional[np.random.Generator] = None, seed: int = 0
) -> NDArray[np.int64]:
    """Number of correct samples out of ``n`` for problems with success probabilities ``p``.

    >>> simulate_samples([0.0, 1.0], 8).tolist()
    [0, 8]
    """
    g = np.random.default_rng(seed) if rng is None else rng
    return g.binomial(n, np.asarray(p, dtype=np.float64)).astype(np.int64)


def beta_coverage(k: ArrayLike, a: float, b: float) -> FloatArray:
    """Exact coverage at k when per-problem success probabilities are Beta(a, b) distributed:
    ``1 - B(a, b + k) / B(a, b)``; its tail is ``1 - coverage ∝ k^-a``, the exponentiated power
    law's regime.

    >>> round(float(beta_coverage(1, 2.0, 3.0)), 6)
    0.4
    """
    from math import lgamma

    kk = np.asarray(k, dtype=np.float64)
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
        return float(self.law.x[0])

    @property
    def b(self) -> float:
        return float(self.law.x[1])

    def interval(self, name: str, level: Optional[float] = None) -> tuple[float, float]:
        """Interval of ``"a"`` or ``"b"``."""
        key = {"a": "A", "b": "alpha"}.get(name)
        if key is None:
            raise ValueError(f"interval of {name!r}: choose 'a' or 'b'")
        return self.law.interval(key, level)

    def predict(self, x: ArrayLike) -> FloatArray:
        """Coverage at ``x``."""
        return _coverage_law(x, self.a, self.b)

    def band(self, x: ArrayLike, level: Optional[float] = None) -> FloatArray:
        """(2, n) interval of the predicted coverage."""
        xx = np.atleast_1d(np.asarray(x, dtype=np.float64))
        _, iv = self.law.derived(lambda p: _coverage_law(xx, p[..., 0, None], p[..., 1, None]), level)
        return np.sort(np.asarray(iv), axis=0)

    def samples_for(self, target: float) -> float:
        """Samples (or FLOP) needed to reach coverage ``target``: ``(a / -log target)^(1/b)``."""
        if not 0.0 < target < 1.0:
            raise ValueError(f"target coverage must be in (0, 1), got {target!r}")
        return float((self.a / -np.log(target)) ** (1.0 / self.b))

    def __repr__(self) -> str:
        rows = [{"param": n, "value": v, "lower": self.interval(n)[0], "upper": self.interval(n)[1]}
                for n, v in (("a", self.a), ("b", self.b))]
        return f"CoverageFit(coverage = exp(-a {self.x_name}^-b))\n" + table(rows)


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
        Number of samples k (or inference FLOP) and the coverage in (0, 1) at each; one array
        pair per curve. Points with coverage 0 or 1 carry no information on this scale and are
        dropped.
    n_resamples, scheme, seed, level :
        Bootstrap replicates per curve (0: Gauss–Newton intervals), ``"points"`` or
        ``"residuals"`` (fixed k, resampled residuals; better calibrated for short curves).
    log_residuals : bool
        Fit ``log(-log coverage)`` (relative errors; the default) rather than ``-log coverage``.

    Returns
    -------
    list of CoverageFit

    Examples
    --------
    >>> k = np.arange(1, 101)
    >>> fit, = fit_coverage([k], [np.exp(-2.0 * k ** -0.4)])
    >>> round(fit.a, 6), round(fit.b, 6)
    (2.0, 0.4)
    """
    X = [np.asarray(x, dtype=np.float64) for x in (xs if _is_seq(xs) else [xs])]  # type: ignore[union-attr]
    Y = [np.asarray(c, dtype=np.float64) for c in (coverages if _is_seq(coverages) else [coverages])]  # type: ignore[union-attr]
    if len(X) != len(Y):
        raise ValueError(f"{len(X)} x arrays but {len(Y)} coverage arrays")
    xs_f, ys_f = [], []
    for j, (x, y) in enumerate(zip(X, Y)):
        if x.shape != y.shape:
            raise ValueError(f"curve {j}: x has {x.shape[0]} points but coverage has {y.shape[0]}")
        keep = (y > 0) & (y < 1)
        if keep.sum() < 2:
            raise ValueError(f"curve {j} has fewer than 2 points with 0 < coverage < 1")
        xs_f.append(x[keep])
        ys_f.append(-np.log(y[keep]))
    many = fit_many("power_law", xs_f, ys_f, n_resamples=n_resamples, scheme=scheme, seed=seed,
                    level=level, log_residuals=log_residuals, bounds={"A": (0.0, np.inf)})
    return [CoverageFit(many.problem(j), x_name) for j in range(many.n_problems)]


def _is_seq(v: object) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and np.ndim(v[0]) >= 1


def inference_flops(N: ArrayLike, tokens_per_sample: float, k: ArrayLike) -> FloatArray:
    """FLOP to generate ``k`` samples of ``tokens_per_sample`` tokens: ``2 · N · T · k``.

    >>> float(inference_flops(7e9, 500, 10))
    70000000000000.0
    """
    return 2.0 * np.asarray(N, dtype=np.float64) * tokens_per_sample * np.asarray(k, dtype=np.float64)


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
    ``lo + (hi - lo) / (1 + exp(-k (log C - log_x0)))``; ``floor``/``ceiling`` fix ``lo``/``hi``.
    One batch call for all curves.

    >>> C = np.logspace(10, 16, 13)
    >>> acc = 0.1 + 0.7 / (1 + np.exp(-1.2 * (np.log(C) - np.log(1e13))))
    >>> fit, = fit_accuracy_vs_compute([C], [acc])
    >>> round(fit.params["hi"], 4), round(float(np.exp(fit.params["log_x0"])) / 1e13, 4)
    (0.8, 1.0)
    """
    X = [np.asarray(x, dtype=np.float64) for x in (flops if _is_seq(flops) else [flops])]  # type: ignore[union-attr]
    Y = [np.asarray(a, dtype=np.float64) for a in (accuracy if _is_seq(accuracy) else [accuracy])]  # type: ignore[union-attr]
    bounds: dict[str, tuple[float, float]] = {}
    if floor is not None:
        bounds["lo"] = (floor, floor)
    if ceiling is not None:
        bounds["hi"] = (ceiling, ceiling)
    many = fit_many("sigmoid", X, Y, n_resamples=n_resamples, seed=seed, level=level,
                    bounds=bounds or None)
    return [many.problem(j) for j in range(many.n_problems)]


# ----------------------------------------------------------------------------- the choice
@dataclass(frozen=True)
class ModelChoice:
    """Which model to sample from at each inference budget.

    Attributes
    ----------
    budget : ndarray (n_budgets,)
        FLOP per problem.
    N : ndarray (n_models,)
    samples : ndarray (n_budgets, n_models)
        Samples each model can afford, ``floor(budget / (2 N T))`` (0: cannot afford one).
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


def choose_model(
    fits: Sequence[CoverageFit],
    N: ArrayLike,
    budget: ArrayLike,
    tokens_per_sample: float,
) -> ModelChoice:
    """Given each model's fitted coverage-vs-samples curve and size N, choose the model with
    the highest coverage at each inference budget (FLOP per problem, ≈ 2·N per generated token).

    >>> k = np.arange(1, 201)
    >>> big, small = fit_coverage([k, k], [np.exp(-0.5 * k ** -0.2), np.exp(-1.2 * k ** -0.35)])
    >>> c = choose_model([big, small], N=[70e9, 7e9], budget=[1.4e13, 1.4e15], tokens_per_sample=100)
    >>> c.samples.tolist(), c.best.tolist()
    ([[1, 10], [100, 1000]], [0, 1])
    """
    Ns = np.asarray(N, dtype=np.float64).ravel()
    if Ns.shape[0] != len(fits):
        raise ValueError(f"{len(fits)} coverage fits but {Ns.shape[0]} model sizes")
    if tokens_per_sample <= 0:
        raise ValueError(f"tokens_per_sample must be > 0, got {tokens_per_sample!r}")
    B = np.atleast_1d(np.asarray(budget, dtype=np.float64))
    k = np.floor(B[:, None] / (2.0 * Ns[None, :] * tokens_per_sample)).astype(np.int64)
    cov = np.zeros(k.shape)
    for m, f in enumerate(fits):
        ok = k[:, m] >= 1
        cov[ok, m] = f.predict(k[ok, m])
    best = np.where((k >= 1).any(axis=1), np.argmax(np.where(k >= 1, cov, -1.0), axis=1), -1)
    return ModelChoice(budget=B, N=Ns, samples=k, coverage=cov, best=best.astype(np.int64))
