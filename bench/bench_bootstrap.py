"""Bootstrap benchmark: 1,000 resamples of a 5-parameter Chinchilla fit on 200 points.

scalingfit's ``bootstrap`` (every replicate an item of one batched core call, resamples
regenerated from the counter-based generator, warm starts at the point fit) against a Python
loop of ``scipy.optimize.least_squares`` over the *same* resamples (the multiplicities come
from ``_core.resample_multiplicities``; scipy gets the points really repeated), analytic
Jacobian, same warm starts. The same law written as a :class:`~scalingfit.CustomModel` (numpy
``func`` and ``jac``) runs on the same resamples through the numpy solver (all replicates at
once): the row "custom law" and its largest difference from the core's replicates.

Run ``python bench/bench_bootstrap.py`` for the table, or
``python -m pytest bench/bench_bootstrap.py --benchmark-only``. Speed is reported, never
asserted.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import scalingfit
from scalingfit import _core
from scalingfit.bootstrap import SCHEMES, bootstrap

N_RESAMPLES = 1000
N_POINTS = 200
SEED = 7
TRUTH = np.array([1.82, 482.0, 2085.0, 0.348, 0.366])  # Epoch's fit of Chinchilla (2024)


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """200 runs of an IsoFLOP-style sweep (8 budgets x 25 sizes), 1% log-normal noise."""
    rng = np.random.default_rng(seed)
    C = np.logspace(18, 21.5, 8)
    x = np.array([(0.6 * (c / 6) ** 0.5 * 10**k, c / (6 * 0.6 * (c / 6) ** 0.5 * 10**k))
                  for c in C for k in np.linspace(-1, 1, N_POINTS // 8)])
    m = scalingfit.models.get("chinchilla")
    y = m.predict(TRUTH, x) * np.exp(0.01 * rng.standard_normal(len(x)))
    return x, y


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return float(best)


def scalingfit_run(x: np.ndarray, y: np.ndarray, threads: int, method: str = "percentile"):
    return bootstrap("chinchilla", x, y, n_resamples=N_RESAMPLES, seed=SEED, method=method,
                     threads=threads, keep_cov=False)


def _chinchilla_func(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]


def _chinchilla_jac(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    a, b = x[:, 0] ** -p[:, 3], x[:, 1] ** -p[:, 4]
    return np.column_stack([np.ones_like(a), a, b, -p[:, 1] * a * np.log(x[:, 0]), -p[:, 2] * b * np.log(x[:, 1])])


CUSTOM = scalingfit.CustomModel(_chinchilla_func, ("E", "A", "B", "alpha", "beta"), 2, jac=_chinchilla_jac,
                                name="chinchilla_numpy")


def custom_run(x: np.ndarray, y: np.ndarray, start: np.ndarray):
    """The Chinchilla law as a custom model: the same resamples (the same seed), solved by the
    numpy LM solver from the same point fit."""
    return bootstrap(CUSTOM, x, y, n_resamples=N_RESAMPLES, seed=SEED, method="percentile", p0=start,
                     keep_cov=False)


def scipy_run(x: np.ndarray, y: np.ndarray, start: np.ndarray, n: int = N_RESAMPLES) -> np.ndarray:
    """least_squares (method="lm", analytic Jacobian) over the same resamples."""
    from scalingfit._bench import core_residuals
    from scipy.optimize import least_squares

    m = scalingfit.models.get("chinchilla")
    M = _core.resample_multiplicities(SCHEMES["points"], SEED, 0, np.arange(n, dtype=np.int64),
                                      len(y), None, 0, 1)
    out = np.empty((n, 5))
    for k in range(n):
        idx = np.repeat(np.arange(len(y)), M[k])
        xs, ys = x[idx], y[idx]
        fun, jac = core_residuals(m, xs, ys)
        sol = least_squares(fun, start, jac=jac, method="lm", xtol=1e-10, ftol=1e-10)
        out[k] = sol.x if sol.success else np.nan
    return out


def run_table() -> list[dict[str, float]]:
    x, y = make_data()
    r1 = scalingfit_run(x, y, 1)
    start = r1.x
    t_sf1 = best_time(lambda: scalingfit_run(x, y, 1))
    t_sf2 = best_time(lambda: scalingfit_run(x, y, 2))
    t_bca = best_time(lambda: scalingfit_run(x, y, 2, "bca"))
    rc = custom_run(x, y, start)
    t_custom = best_time(lambda: custom_run(x, y, start), repeat=2)
    scipy_run(x, y, start, 3)  # warm-up (imports, first-call overheads)
    t0 = time.perf_counter()
    ref = scipy_run(x, y, start)
    t_sp = time.perf_counter() - t0
    ok = ~np.isnan(ref).any(axis=1) & ~np.isnan(r1.samples).any(axis=1)
    diff = float(np.max(np.abs(r1.samples[ok] - ref[ok]) / np.abs(ref[ok])))
    okc = ok & ~np.isnan(rc.samples).any(axis=1)
    diff_custom = float(np.max(np.abs(rc.samples[okc] - r1.samples[okc]) / np.abs(r1.samples[okc])))
    return [
        dict(case="scalingfit bootstrap, 1 thread", seconds=t_sf1, ratio=t_sp / t_sf1),
        dict(case="scalingfit bootstrap, 2 threads", seconds=t_sf2, ratio=t_sp / t_sf2),
        dict(case="  ... + BCa jackknife (200 fits), 2 thr", seconds=t_bca, ratio=t_sp / t_bca),
        dict(case="custom law (numpy solver, jac), 1 thread", seconds=t_custom, ratio=t_sp / t_custom),
        dict(case="scipy least_squares loop (lm)", seconds=t_sp, ratio=1.0),
        dict(case="max rel param diff vs scipy", seconds=float("nan"), ratio=diff),
        dict(case="max rel param diff, custom vs core", seconds=float("nan"), ratio=diff_custom),
    ]


def format_table(rows: list[dict[str, float]]) -> str:
    head = (f"{N_RESAMPLES} resamples, Chinchilla (5 params), {N_POINTS} points, scheme=points\n"
            f"{'case':42} {'seconds':>9} {'speed-up vs scipy':>18}")
    lines = [head, "-" * len(head.splitlines()[-1])]
    for r in rows:
        if r["case"].startswith("max rel"):
            lines.append(f"{r['case']:42} {'':>9} {r['ratio']:18.1e}")
        else:
            lines.append(f"{r['case']:42} {r['seconds']:9.3f} {r['ratio']:18.1f}")
    return "\n".join(lines)


def main() -> None:
    print(format_table(run_table()))


# ---------------------------------------------------------------- pytest-benchmark entry points
X, Y = make_data()


def test_bootstrap_scalingfit_2_threads(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(scalingfit_run, X, Y, 2)


def test_bootstrap_custom_law(benchmark) -> None:  # type: ignore[no-untyped-def]
    start = scalingfit.fit("chinchilla", X, Y).x
    benchmark.pedantic(custom_run, args=(X, Y, start), rounds=1)


def test_bootstrap_scipy_loop_100(benchmark) -> None:  # type: ignore[no-untyped-def]
    start = scalingfit.fit("chinchilla", X, Y).x
    benchmark.pedantic(scipy_run, args=(X, Y, start, 100), rounds=1)


if __name__ == "__main__":
    main()
