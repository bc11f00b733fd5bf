"""Benchmark problems and timers shared by ``bench/`` and ``scalingfit bench``.

Every case times scalingfit's batched call and a scipy baseline in the same process, on the
same problems, and reports per-fit microseconds and their ratio. scipy is slow, so it is timed
on a subset of the problems (or resamples, or starts), spread over the batch where the
problems differ, and reported per fit (the subset's total time over its number of fits).

Cases (the performance issue's table):

P1    2,000 saturating power laws ``E + A x^-alpha`` of 10 points; scipy ``least_squares``
      (``method="lm"``, analytic Jacobian) in a Python loop.
P2    200 Chinchilla laws of 200 points, plain least squares; the same baseline.
P3    Epoch AI's approach-3 objective (Huber, delta 1e-3, on log residuals of the log-sum-exp
      Chinchilla law) from Hoffmann's grid of 4,500 starts on 240 points (Epoch's replication
      data when found, else a synthetic stand-in of the same shape); baseline: scipy
      ``minimize(method="L-BFGS-B")`` per start with finite-difference gradients, as Epoch ran
      it, on every 100th start.
P4    1,000 bootstrap resamples of a 200-point Chinchilla fit (``scalingfit.bootstrap``, one
      call, including the point fit and the percentile intervals); baseline: ``least_squares``
      on the same resamples with the points really repeated.
bulk  N sweeps x Chinchilla on 50 points x 200 resamples (``bootstrap_batch``, one call per
      thread setting; 10,000 sweeps in ``bench/bench_bulk.py``); baseline as P4, on the first
      resamples of 10 sweeps spread evenly over the batch (scipy's time per fit differs
      severalfold between sweeps).

scalingfit's timings of P1-P4 are the best of a few calls (``repeat``; the machine may be
shared); the bulk call, seconds long, is timed once per thread setting. Each scipy baseline is
timed once, after an untimed warm-up call. ``simd`` names the build of the solver that ran
(``_core.simd_level()``).
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import NDArray

from . import _core, _validate, _warnings, models
from ._fit import MAX_THREADS, fit_batch
from ._warnings import ConvergenceWarning

FloatArray = NDArray[np.float64]


@dataclass(eq=False)
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


def core_residuals(
    m: models.Model, xs: FloatArray, ys: FloatArray
) -> tuple[Callable[[FloatArray], FloatArray], Callable[[FloatArray], FloatArray]]:
    """The residual ``f(q) - ys`` and its analytic Jacobian for scipy, straight from the core's
    evaluation (no argument reading): the baseline pays for evaluating the law, as our solver
    does, not for :meth:`Model.predict`'s checks of its input (which cost ~30% of a 200-point
    evaluation)."""
    xa = np.ascontiguousarray(xs, dtype=np.float64).reshape(-1, m.n_inputs)

    def fun(q: FloatArray) -> FloatArray:
        return np.asarray(_core.evaluate(m.index, xa, np.ascontiguousarray(q, dtype=np.float64))[0]) - ys

    def jac(q: FloatArray) -> FloatArray:
        return np.asarray(_core.evaluate(m.index, xa, np.ascontiguousarray(q, dtype=np.float64))[1])

    return fun, jac


def _scipy_optimize() -> Any:
    """scipy.optimize, the baseline every case is timed against; an ImportError that says how to
    get it otherwise."""
    try:
        import scipy.optimize
    except ImportError:
        raise ImportError("scalingfit bench times the engine against scipy, which is not installed: "
                          "pip install scipy") from None
    return scipy.optimize


def scipy_loop(p: Problems, n: Optional[int] = None, **kw: Any) -> list[Any]:
    """scipy.optimize.least_squares over the first n problems (analytic Jacobian)."""
    least_squares = _scipy_optimize().least_squares

    m = models.get(p.model)
    out = []
    for j in range(p.n_problems if n is None else min(n, p.n_problems)):
        s, e = p.offsets[j], p.offsets[j + 1]
        xj, yj = p.x[s:e], p.y[s:e]
        fun, jac = core_residuals(m, xj, yj)
        out.append(least_squares(fun, p.p0[j], jac=jac, **kw))
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
    simd: str = ""
    note: str = ""


def _row(case: str, n_fits: int, threads: int, t_sf: float, us_scipy: float, diff: float,
         note: str = "") -> BenchRow:
    us_sf = 1e6 * t_sf / n_fits
    return BenchRow(case, n_fits, threads, us_sf, us_scipy, us_scipy / us_sf, 1e6 / us_sf, diff,
                    _core.simd_level(), note)


def _max_rel_diff(a: FloatArray, b: FloatArray) -> float:
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if not ok.any():
        return float("nan")
    return float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok])))


# ---------------------------------------------------------------- P1, P2: fit_batch vs lm loop
def scipy_reference(p: Problems, scipy_subset: int = 100) -> tuple[float, list[Any]]:
    """scipy's lm loop on the first ``scipy_subset`` problems of ``p``: (seconds per fit, its
    results). Timed once per problem set, so that the rows of several thread counts share one
    baseline (timed again for each row, the ratio moved with scipy's own noise: 21 vs 52)."""
    k = min(scipy_subset, p.n_problems)
    kw: dict[str, Any] = {"method": "lm", "xtol": 1e-10, "ftol": 1e-10}
    scipy_loop(p, 2, **kw)  # warm-up: imports and first-call overheads are not timed
    t_sp = best_time(lambda: scipy_loop(p, k, **kw), 1)
    return t_sp / k, scipy_loop(p, k, **kw)


def bench_case(name: str, p: Problems, threads: int, scipy_subset: int = 100,
               repeat: int = 3, scipy: Optional[tuple[float, list[Any]]] = None) -> BenchRow:
    """Times fit_batch on all problems against scipy's lm loop on a subset (``scipy``: its
    :func:`scipy_reference`, timed here when None); checks agreement."""
    res = fit_batch(p.model, p.x, p.y, p.offsets, p.p0, threads=threads, compute_cov=False)
    t_sf = best_time(lambda: fit_batch(p.model, p.x, p.y, p.offsets, p.p0, threads=threads,
                                       compute_cov=False), repeat)
    t_fit, ref = scipy if scipy is not None else scipy_reference(p, scipy_subset)
    k = len(ref)
    both = [j for j in range(k) if ref[j].status > 0 and res.status[j] > 0]
    diff = _max_rel_diff(res.x[both], np.array([ref[j].x for j in both]).reshape(len(both), -1))
    return _row(name, p.n_problems, threads, t_sf, 1e6 * t_fit, diff)


# ---------------------------------------------------------------- P3: the Hoffmann grid
EPOCH_DELTA = 1e-3
#: Epoch AI's best fit of the grid on their data, as rows (a, b, e, alpha, beta).
EPOCH_BEST = np.array([6.1693, 7.6704, 0.5973, 0.34731, 0.36718])


def hoffmann_grid() -> FloatArray:
    """Hoffmann's 4,500 starts as replicated by Epoch AI, rows (a, b, e, alpha, beta)."""
    ab = np.arange(0.0, 2.5, 0.5)
    e = np.arange(-1.0, 1.5, 0.5)
    ls = np.arange(0.0, 30.0, 5.0)
    rows = [(a, b, ee, al, be) for al, be, ee, a, b in itertools.product(ab, ab, e, ls, ls)]
    return np.ascontiguousarray(np.array(rows, dtype=np.float64))


def epoch_points(seed: int = 0) -> tuple[FloatArray, FloatArray, FloatArray, str]:
    """(N, D, loss, source): Epoch AI's 240 points (the 5 highest losses dropped) when their
    CSV is found (see ``scalingfit._demo.find_epoch_data``), else 240 synthetic points of the
    same ranges drawn from Epoch's fit with 1% noise."""
    from ._demo import find_epoch_data

    path = find_epoch_data()
    if path is not None:
        d = np.loadtxt(path, delimiter=",", skiprows=1)
        N, D, L = d[:, 0], d[:, 1], d[:, 3]
        keep = L < np.sort(L)[-5]
        return N[keep], D[keep], L[keep], "Epoch AI data"
    rng = np.random.default_rng(seed)
    C = 10 ** rng.uniform(18.2, 22.1, 240)
    N = 10 ** rng.uniform(7.8, 10.2, 240)
    D = C / (6 * N)
    a, b, e, al, be = EPOCH_BEST
    L = (np.exp(e) + np.exp(a) * N**-al + np.exp(b) * D**-be) * np.exp(0.01 * rng.standard_normal(240))
    return N, D, L, "synthetic stand-in"


def huber_objective(N: FloatArray, D: FloatArray, L: FloatArray) -> Callable[[FloatArray], float]:
    """Epoch's objective: sum of Huber(delta=1e-3) of log L_hat - log L."""
    tN, tD, y = np.log(N), np.log(D), np.log(L)

    def f(p: FloatArray) -> float:
        a, b, e, al, be = p
        u = np.stack([a - al * tN, b - be * tD, np.full(tN.shape, e)])
        m = u.max(axis=0)
        r = m + np.log(np.exp(u - m).sum(axis=0)) - y
        ar = np.abs(r)
        return float(np.where(ar <= EPOCH_DELTA, 0.5 * r * r,
                              EPOCH_DELTA * (ar - 0.5 * EPOCH_DELTA)).sum())

    return f


def p3_grid(N: FloatArray, D: FloatArray, L: FloatArray, starts: FloatArray,
            threads: Optional[int]) -> Any:
    """All starts of the grid in one fit_batch call (what chinchilla.fit_parametric runs)."""
    return fit_batch("chinchilla_lse", np.column_stack([N, D]), L, [0, N.shape[0]], starts,
                     problem=np.zeros(starts.shape[0], dtype=np.int64), loss="huber",
                     f_scale=EPOCH_DELTA, log_residuals=True, compute_cov=False, threads=threads)


def bench_p3(threads: Sequence[int], stride: int = 100, repeat: int = 2) -> list[BenchRow]:
    minimize = _scipy_optimize().minimize

    N, D, L, source = epoch_points()
    grid = hoffmann_grid()
    f = huber_objective(N, D, L)
    sub = grid[::stride]
    minimize(f, sub[0], method="L-BFGS-B")  # warm-up
    t0 = time.perf_counter()
    sols = [minimize(f, p0, method="L-BFGS-B") for p0 in sub]
    us_sp = 1e6 * (time.perf_counter() - t0) / sub.shape[0]
    best_sp = min(s.fun for s in sols)
    rows = []
    for t in threads:
        res = p3_grid(N, D, L, grid, t)
        t_sf = best_time(functools.partial(p3_grid, N, D, L, grid, t), repeat)
        b = int(res.best_index()[0])
        # The objective in Epoch's units is the core's cost (1/2 sum delta^2 rho = sum huber).
        best_sf = float(res.cost[b])
        note = (f"{source}; whole grid {t_sf:.2f} s; best objective {best_sf:.6e}, L-BFGS-B's "
                f"best of every {stride}th start {best_sp:.6e} (the diff column: their relative "
                f"difference); {int(res.success.sum())}/{grid.shape[0]} starts converged")
        diff = abs(best_sf - best_sp) / best_sp
        rows.append(_row("P3 Epoch grid, 4500 starts x 240 pts", grid.shape[0], t, t_sf, us_sp,
                         diff, note))
    return rows


# ---------------------------------------------------------------- P4 and bulk: bootstrap
def isoflop_data(n_points: int = 200, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    """n_points runs of an IsoFLOP-style sweep (8 budgets), Epoch's law, 1% log-normal noise."""
    rng = np.random.default_rng(seed)
    C = np.logspace(18, 21.5, 8)
    per = n_points // 8
    x = np.array([(0.6 * (c / 6) ** 0.5 * 10**k, c / (6 * 0.6 * (c / 6) ** 0.5 * 10**k))
                  for c in C for k in np.linspace(-1, 1, per)])
    truth = np.array([1.82, 482.0, 2085.0, 0.348, 0.366])
    y = models.get("chinchilla").predict(truth, x) * np.exp(0.01 * rng.standard_normal(len(x)))
    return x, y


def scipy_resamples(x: FloatArray, y: FloatArray, start: FloatArray, seed: int,
                    replicates: Sequence[int], problem_id: int = 0) -> FloatArray:
    """least_squares (lm, analytic Jacobian) on the given bootstrap resamples of one problem
    (multiplicities from the same counter-based generator; the points really repeated)."""
    least_squares = _scipy_optimize().least_squares

    from .bootstrap import SCHEMES

    m = models.get("chinchilla")
    M = _core.resample_multiplicities(SCHEMES["points"], seed, problem_id,
                                      np.asarray(replicates, dtype=np.int64), len(y), None, 0, 1)
    out = np.empty((len(replicates), m.n_params))
    for k in range(len(replicates)):
        idx = np.repeat(np.arange(len(y)), M[k])
        xs, ys = x[idx], y[idx]
        fun, jac = core_residuals(m, xs, ys)
        sol = least_squares(fun, start, jac=jac, method="lm", xtol=1e-10, ftol=1e-10)
        out[k] = sol.x if sol.success else np.nan
    return out


def bench_p4(threads: Sequence[int], n_resamples: int = 1000, scipy_subset: int = 100,
             repeat: int = 3) -> list[BenchRow]:
    from .bootstrap import bootstrap

    seed = 7
    x, y = isoflop_data()

    def run(t: int) -> Any:
        return bootstrap("chinchilla", x, y, n_resamples=n_resamples, seed=seed,
                         method="percentile", threads=t, keep_cov=False)

    r = run(1)
    k = min(scipy_subset, n_resamples)
    scipy_resamples(x, y, r.x, seed, range(2))  # warm-up
    t0 = time.perf_counter()
    ref = scipy_resamples(x, y, r.x, seed, range(k))
    us_sp = 1e6 * (time.perf_counter() - t0) / k
    diff = _max_rel_diff(r.samples[:k], ref)
    rows = []
    for t in threads:
        t_sf = best_time(functools.partial(run, t), repeat)
        rows.append(_row(f"P4 bootstrap, {n_resamples} x 200 pts", n_resamples, t, t_sf, us_sp,
                         diff, f"whole call {1e3 * t_sf:.1f} ms (point fit + resamples + intervals)"))
    return rows


def bench_bulk(threads: Sequence[int], n_sweeps: int = 2000, n_points: int = 50,
               n_resamples: int = 200, scipy_subset: int = 100,
               scipy_sweeps: int = 10) -> list[BenchRow]:
    """Times one ``bootstrap_batch`` call per thread setting, and scipy on about
    ``scipy_subset`` of the same resamples: the first ones of ``scipy_sweeps`` sweeps spread
    evenly over the batch (from the first to the last), each from its own sweep's center."""
    from .bootstrap import bootstrap_batch

    p = make_problems("chinchilla", n_sweeps, n_points, seed=5)
    seed = 11
    center = fit_batch(p.model, p.x, p.y, p.offsets, p.p0, compute_cov=False).x
    rows = []
    first = None
    for t in threads:
        t0 = time.perf_counter()
        with _warnings.suppressed(_warnings.UncertaintyWarning):  # one start's fits: not all optima
            b = bootstrap_batch("chinchilla", p.x, p.y, p.offsets, n_resamples=n_resamples, seed=seed,
                                method="percentile", center=center, threads=t)
        t_sf = time.perf_counter() - t0
        first = b if first is None else first
        rows.append((t, t_sf))
    # scipy on the first resamples of sweeps spread over the batch, same warm starts and
    # resamples (problem id j): one sweep alone may be atypically slow or fast.
    k = min(scipy_subset, n_resamples)
    sweeps = np.unique(np.linspace(0, n_sweeps - 1, max(1, min(scipy_sweeps, n_sweeps, k)))
                       .round().astype(np.int64))
    per = max(1, k // sweeps.size)

    def baseline(j: int, replicates: Sequence[int]) -> FloatArray:
        s, e = p.offsets[j], p.offsets[j + 1]
        return scipy_resamples(p.x[s:e], p.y[s:e], center[j], seed, replicates, problem_id=int(j))

    baseline(int(sweeps[0]), range(2))  # warm-up
    t0 = time.perf_counter()
    ref = [baseline(int(j), range(per)) for j in sweeps]
    us_sp = 1e6 * (time.perf_counter() - t0) / (per * sweeps.size)
    assert first is not None
    samples = np.asarray(first.samples)
    diff = _max_rel_diff(np.concatenate([samples[j, :per] for j in sweeps]), np.concatenate(ref))
    n_fits = n_sweeps * n_resamples
    note = f"scipy on {per} resample(s) of each of {sweeps.size} sweep(s) spread over the batch"
    return [_row(f"bulk {n_sweeps} sweeps x {n_points} pts x {n_resamples}", n_fits, t, t_sf,
                 us_sp, diff, f"whole call {t_sf:.1f} s; {note}") for t, t_sf in rows]


# ---------------------------------------------------------------- the suite
CASES = ("P1", "P2", "P3", "P4", "bulk")


def core_suite(threads: int = 2, quick: bool = False, bulk_sweeps: Optional[int] = None,
               cases: Sequence[str] = CASES) -> list[BenchRow]:
    """The performance issue's cases, each at 1 thread and at ``threads``; ``quick``: smaller
    batches and scipy subsets (a few seconds in all). ``cases``: some of P1, P2, P3, P4,
    bulk (one name or several)."""
    threads = _validate.integer("threads", threads, least=1, most=MAX_THREADS)
    if bulk_sweeps is not None:
        bulk_sweeps = _validate.integer("bulk_sweeps (--bulk-sweeps)", bulk_sweeps, least=1)
    cases = [cases] if isinstance(cases, str) else list(cases)
    unknown = [c for c in cases if c not in CASES]
    if unknown or not cases:
        raise ValueError(f"cases must name some of {', '.join(CASES)}, got "
                         f"{', '.join(map(repr, unknown)) if unknown else 'none'}")
    # A few bootstrap replicates of 50 noisy points do not converge; that is reported by
    # the bootstrap results, not by the benchmark.
    with _warnings.suppressed(ConvergenceWarning):
        return _suite(threads, quick, bulk_sweeps, cases)


def _suite(threads: int, quick: bool, bulk_sweeps: Optional[int],
           cases: Sequence[str]) -> list[BenchRow]:
    thr = sorted({1, int(threads)})
    rows: list[BenchRow] = []
    if "P1" in cases:
        p1 = make_problems("saturating_power_law", 500 if quick else 2000, 10, seed=1)
        ref1 = scipy_reference(p1, 30 if quick else 100)
        rows += [bench_case("P1 saturating power law, 10 pts", p1, t, scipy=ref1) for t in thr]
    if "P2" in cases:
        p2 = make_problems("chinchilla", 50 if quick else 200, 200, seed=2)
        ref2 = scipy_reference(p2, 10 if quick else 50)
        rows += [bench_case("P2 chinchilla, 200 pts", p2, t, scipy=ref2) for t in thr]
    if "P3" in cases:
        rows += bench_p3(thr, stride=500 if quick else 100, repeat=1 if quick else 2)
    if "P4" in cases:
        rows += bench_p4(thr, n_resamples=1000, scipy_subset=20 if quick else 100, repeat=2 if quick else 3)
    if "bulk" in cases:
        n = bulk_sweeps if bulk_sweeps is not None else (200 if quick else 2000)
        rows += bench_bulk(thr, n_sweeps=n, scipy_subset=20 if quick else 100)
    return rows


def format_table(rows: list[BenchRow]) -> str:
    head = (f"{'case':38} {'fits':>8} {'thr':>3} {'us/fit':>9} {'scipy us/fit':>13} {'ratio':>8} "
            f"{'fits/s':>10} {'max rel diff':>12}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.case:38} {r.n_fits:8d} {r.threads:3d} {r.scalingfit_us_per_fit:9.2f} "
                     f"{r.scipy_us_per_fit:13.1f} {r.ratio:8.1f} {r.fits_per_s:10.0f} "
                     f"{r.max_rel_diff_vs_scipy:12.1e}")
    notes = [f"  {r.case} ({r.threads} thr): {r.note}" for r in rows if r.note]
    simd = sorted({r.simd for r in rows if r.simd})
    lines.append(f"solver build: {', '.join(simd) or _core.simd_level()} "
                 f"(available: {', '.join(_core.simd_levels())}); "
                 f"{os.cpu_count()} hardware thread(s)")
    return "\n".join(lines + notes)


def as_dicts(rows: list[BenchRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


# ---------------------------------------------------------------- scaling plot
def scaling_curve(batch_sizes: Sequence[int] = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000),
                  threads: Sequence[int] = (1, 2), min_time: float = 0.05,
                  model: str = "saturating_power_law", n_points: int = 10) -> dict[int, list[float]]:
    """fits/s of fit_batch against batch size (P1-style problems), per thread count: each
    point the best of repeated calls over at least ``min_time`` (> 0) seconds."""
    batch_sizes = [_validate.integer(f"batch_sizes[{i}]", n, least=1) for i, n in enumerate(batch_sizes)]
    threads = [_validate.integer(f"threads[{i}]", t, least=1, most=MAX_THREADS) for i, t in enumerate(threads)]
    for name, v in (("batch_sizes", batch_sizes), ("threads", threads)):
        if not v:
            raise ValueError(f"{name} is empty: nothing to time")
    min_time = float(_validate.positive("min_time", min_time, scalar=True))
    p = make_problems(model, max(batch_sizes), n_points, seed=3)
    out: dict[int, list[float]] = {}
    for t in threads:
        rates = []
        for n in batch_sizes:
            x, y, off, p0 = p.x[: n * n_points], p.y[: n * n_points], p.offsets[: n + 1], p.p0[:n]
            fit_batch(model, x, y, off, p0, threads=t, compute_cov=False)
            best, spent = np.inf, 0.0
            while spent < min_time:
                t0 = time.perf_counter()
                fit_batch(model, x, y, off, p0, threads=t, compute_cov=False)
                dt = time.perf_counter() - t0
                best, spent = min(best, dt), spent + dt
            rates.append(n / best)
        out[t] = rates
    return out


def plot_scaling(path: str, threads: int = 2, quick: bool = False) -> tuple[list[int], dict[int, list[float]]]:
    """Writes fits/s against batch size (1 and ``threads`` threads) to ``path`` (PNG/PDF/SVG,
    whole or not at all; no pyplot figure is opened and the backend is left as it is);
    returns (batch sizes, fits/s per thread count)."""
    from .plot import _new_figure, write_figure

    threads = _validate.integer("threads", threads, least=1, most=MAX_THREADS)
    sizes = [1, 10, 100, 1000] if quick else [1, 3, 10, 30, 100, 300, 1000, 3000, 10000]
    thr = sorted({1, threads})
    curves = scaling_curve(sizes, thr, min_time=0.01 if quick else 0.05)
    fig = _new_figure((6, 4))
    ax = fig.subplots()
    for t, rates in curves.items():
        ax.loglog(sizes, rates, marker="o", label=f"{t} thread{'s' if t > 1 else ''}")
    ax.set_xlabel("fits per fit_batch call (batch size)")
    ax.set_ylabel("fits per second")
    ax.set_title(f"P1 (saturating power law, 10 points), solver build {_core.simd_level()}",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_figure(fig, path, dpi=120)
    return sizes, curves


def format_scaling(sizes: Sequence[int], curves: dict[int, list[float]]) -> str:
    head = f"{'batch size':>10} " + " ".join(f"{f'{t} thr fits/s':>14}" for t in curves)
    lines = [head]
    for i, n in enumerate(sizes):
        lines.append(f"{n:10d} " + " ".join(f"{curves[t][i]:14.0f}" for t in curves))
    return "\n".join(lines)
