"""Benchmark problems and timers shared by ``bench/`` and ``scalingfit bench``.

Each case times scalingfit's batched call and the scipy baseline (a Python loop of
``scipy.optimize.least_squares`` with the analytic Jacobian, ``method="lm"``) in the same
process, on the same problems, and reports per-fit microseconds and their ratio. scipy is
timed on a subset of the problems (it is slow) and reported per fit.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numpy as np
from numpy.typing import NDArray

from . import models
from ._fit import fit_batch

FloatArray = NDArray[np.float64]


@dataclass
class Problems:
    model: str
    x: FloatArray
    y: FloatArray
    offsets: NDArray[np.int64]
    p0: FloatArray
    truth: FloatArray

    @property
    def n_problems(self) -> int:
        return int(self.offsets.shape[0] - 1)


def make_problems(model: str, n_problems: int, n_points: int, seed: int = 0,
                  noise: float = 0.01) -> Problems:
    """Random problems of a built-in model from plausible parameters, with relative noise;
    starts are the truth perturbed by 10%."""
    rng = np.random.default_rng(seed)
    m = models.get(model)
    if model == "saturating_power_law":
        truth = np.column_stack([rng.uniform(1.5, 2.5, n_problems), rng.uniform(100, 500, n_problems),
                                 rng.uniform(0.25, 0.4, n_problems)])
        x = 10 ** rng.uniform(6, 10, (n_problems, n_points, 1))
    elif model in ("chinchilla", "chinchilla_lse"):
        truth = np.column_stack([rng.uniform(1.6, 1.9, n_problems), rng.uniform(300, 600, n_problems),
                                 rng.uniform(400, 2000, n_problems), rng.uniform(0.3, 0.38, n_problems),
                                 rng.uniform(0.28, 0.36, n_problems)])
        x = np.stack([10 ** rng.uniform(7, 10, (n_problems, n_points)),
                      10 ** rng.uniform(9, 11.5, (n_problems, n_points))], axis=-1)
        if model == "chinchilla_lse":
            truth = np.column_stack([np.log(truth[:, 1]), np.log(truth[:, 2]), np.log(truth[:, 0]),
                                     truth[:, 3], truth[:, 4]])
    else:
        raise ValueError(f"no benchmark generator for {model!r}")
    y = np.empty((n_problems, n_points))
    for j in range(n_problems):
        y[j] = m.predict(truth[j], x[j]) * (1 + noise * rng.standard_normal(n_points))
    p0 = truth * (1 + 0.1 * rng.standard_normal(truth.shape))
    offsets = np.arange(n_problems + 1, dtype=np.int64) * n_points
    return Problems(model, np.ascontiguousarray(x.reshape(-1, m.n_inputs)), y.ravel(), offsets, p0, truth)


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls (seconds)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return float(best)


def scipy_loop(p: Problems, n: Optional[int] = None, **kw: object) -> list:
    """scipy.optimize.least_squares over the first n problems (analytic Jacobian)."""
    from scipy.optimize import least_squares

    m = models.get(p.model)
    out = []
    for j in range(p.n_problems if n is None else min(n, p.n_problems)):
        s, e = p.offsets[j], p.offsets[j + 1]
        xj, yj = p.x[s:e], p.y[s:e]
        out.append(least_squares(lambda q: m.predict(q, xj) - yj, p.p0[j],
                                 jac=lambda q: m.jacobian(q, xj), **kw))
    return out


@dataclass
class BenchRow:
    case: str
    n_fits: int
    threads: int
    scalingfit_us_per_fit: float
    scipy_us_per_fit: float
    ratio: float
    fits_per_s: float
    max_rel_diff_vs_scipy: float


def bench_case(name: str, p: Problems, threads: int, scipy_subset: int = 100,
               repeat: int = 3) -> BenchRow:
    """Times fit_batch on all problems and scipy's lm loop on a subset; checks agreement."""
    res = fit_batch(p.model, p.x, p.y, p.offsets, p.p0, threads=threads, compute_cov=False)
    t_sf = best_time(lambda: fit_batch(p.model, p.x, p.y, p.offsets, p.p0, threads=threads,
                                       compute_cov=False), repeat)
    k = min(scipy_subset, p.n_problems)
    kw = dict(method="lm", xtol=1e-10, ftol=1e-10)
    scipy_loop(p, 2, **kw)  # warm-up: imports and first-call overheads are not timed
    t_sp = best_time(lambda: scipy_loop(p, k, **kw), 1)
    ref = scipy_loop(p, k, **kw)
    both = [j for j in range(k) if ref[j].status > 0 and res.status[j] > 0]
    diff = max((float(np.max(np.abs(res.x[j] - ref[j].x) / np.abs(ref[j].x))) for j in both), default=np.nan)
    us_sf = 1e6 * t_sf / p.n_problems
    us_sp = 1e6 * t_sp / k
    return BenchRow(name, p.n_problems, threads, us_sf, us_sp, us_sp / us_sf, 1e6 / us_sf, diff)


def core_suite(threads: int = 2, quick: bool = False) -> list[BenchRow]:
    """The core-engine cases: 2,000 saturating power-law problems of 10 points (P1) and 200
    Chinchilla problems of 200 points (P2), each against scipy's lm loop."""
    scale = 4 if quick else 1
    p1 = make_problems("saturating_power_law", 2000 // scale, 10, seed=1)
    p2 = make_problems("chinchilla", 200 // scale, 200, seed=2)
    rows = []
    for t in sorted({1, threads}):
        rows.append(bench_case("P1 saturating power law, 10 pts", p1, t))
        rows.append(bench_case("P2 chinchilla, 200 pts", p2, t, scipy_subset=50))
    return rows


def format_table(rows: list[BenchRow]) -> str:
    head = f"{'case':34} {'fits':>6} {'thr':>3} {'us/fit':>9} {'scipy us/fit':>13} {'ratio':>8} {'fits/s':>10} {'max rel diff':>12}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.case:34} {r.n_fits:6d} {r.threads:3d} {r.scalingfit_us_per_fit:9.2f} "
                     f"{r.scipy_us_per_fit:13.1f} {r.ratio:8.1f} {r.fits_per_s:10.0f} {r.max_rel_diff_vs_scipy:12.1e}")
    return "\n".join(lines)


def as_dicts(rows: list[BenchRow]) -> list[dict]:
    return [asdict(r) for r in rows]
