"""Model-comparison benchmarks: leave-one-out refits of a Chinchilla fit on 200 points, and
``compare_batch`` of two laws on 1,000 sweeps against a loop of ``compare_models``.

``compare_models`` refits a law once per point left out, all 200 refits as items of one
batched core call warm-started at the full fit. The baseline is a Python loop of
``scipy.optimize.least_squares`` (method="lm", analytic Jacobian) over the same 200 data
sets from the same start. Both predict each left-out point; the table gives the time, the
ratio and the largest difference of those predictions.

Run ``python bench/bench_compare.py`` for the table, or
``python -m pytest bench/bench_compare.py --benchmark-only``. Speed is reported, never
asserted.
"""

from __future__ import annotations

import time

import numpy as np
import scalingfit
from bench_bootstrap import best_time, make_data


def scalingfit_run(x: np.ndarray, y: np.ndarray, threads: int) -> np.ndarray:
    cmp = scalingfit.compare_models({"chinchilla": "chinchilla"}, x, y, threads=threads)
    return cmp["chinchilla"].loo_errors


def scipy_run(x: np.ndarray, y: np.ndarray, start: np.ndarray, n: int) -> np.ndarray:
    """least_squares without point i, for the first ``n`` points; error of predicting it."""
    from scalingfit._bench import core_residuals
    from scipy.optimize import least_squares

    m = scalingfit.models.get("chinchilla")
    out = np.empty(n)
    for i in range(n):
        keep = np.arange(len(y)) != i
        xs, ys = x[keep], y[keep]
        fun, jac = core_residuals(m, xs, ys)
        sol = least_squares(fun, start, jac=jac, method="lm", xtol=1e-10, ftol=1e-10)
        out[i] = m.predict(sol.x, x[i:i + 1])[0] - y[i] if sol.success else np.nan
    return out


def run_table() -> list[dict[str, float]]:
    x, y = make_data()
    start = scalingfit.fit("chinchilla", x, y).x
    ours = scalingfit_run(x, y, 1)
    t1 = best_time(lambda: scalingfit_run(x, y, 1))
    t2 = best_time(lambda: scalingfit_run(x, y, 2))
    scipy_run(x, y, start, 3)  # warm-up
    t0 = time.perf_counter()
    ref = scipy_run(x, y, start, len(y))
    tsp = time.perf_counter() - t0
    ok = np.isfinite(ref)
    diff = float(np.max(np.abs(ours[ok] - ref[ok])) / np.std(y))
    return [
        dict(case="compare_models (fit + 200 LOO), 1 thread", seconds=t1, ratio=tsp / t1),
        dict(case="compare_models (fit + 200 LOO), 2 threads", seconds=t2, ratio=tsp / t2),
        dict(case="scipy least_squares loop (lm), 200 LOO", seconds=tsp, ratio=1.0),
        dict(case="max |LOO error diff| / std(y)", seconds=float("nan"), ratio=diff),
    ]


def sweeps(n_sweeps: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_sweeps`` Chinchilla sweeps of 50 runs (5 budgets x 10 sizes), 1% log noise."""
    rng = np.random.default_rng(seed)
    C = np.repeat(np.logspace(18, 20, 5), 10)
    N = np.tile(np.logspace(-0.8, 0.8, 10), 5) * 0.1 * np.sqrt(C / 6)
    x = np.tile(np.column_stack([N, C / (6 * N)]), (n_sweeps, 1))
    m = scalingfit.models.get("chinchilla")
    y = m.predict([1.7, 400.0, 410.0, 0.34, 0.28], x) * np.exp(0.01 * rng.standard_normal(len(x)))
    return x, y, np.arange(n_sweeps + 1) * 50


def batch_table(n_sweeps: int = 1000, threads: int = 2) -> list[dict[str, float]]:
    """compare_batch of chinchilla and kaplan_nd on ``n_sweeps`` sweeps, against a loop of
    compare_models over the same sweeps; criteria only, then with leave-one-out."""
    x, y, off = sweeps(n_sweeps)
    laws = ["chinchilla", "kaplan_nd"]
    rows = []
    t_one = best_time(lambda: scalingfit.compare_batch(laws, x, y, off, log_residuals=True, starts="one",
                                                       threads=threads), repeat=2)
    for loo in (False, True):
        t_b = best_time(lambda loo=loo: scalingfit.compare_batch(laws, x, y, off, log_residuals=True, loo=loo,
                                                                 threads=threads), repeat=2)
        k = 100  # the loop on a subset, scaled
        t0 = time.perf_counter()
        for j in range(k):
            scalingfit.compare_models(laws, x[off[j]:off[j + 1]], y[off[j]:off[j + 1]], log_residuals=True,
                                      loo=loo, threads=1)
        t_l = (time.perf_counter() - t0) * n_sweeps / k
        what = "criteria + LOO" if loo else "criteria"
        rows.append(dict(case=f"compare_batch {n_sweeps} sweeps, {what}, {threads} thr", seconds=t_b,
                         ratio=t_l / t_b))
        rows.append(dict(case=f"  compare_models loop (from {k}), {what}", seconds=t_l, ratio=1.0))
        if not loo:
            rows.append(dict(case="  compare_batch, one batched start per problem", seconds=t_one,
                             ratio=t_l / t_one))
            for law in laws:  # the starts="all" starts alone; ratio: the initial_guesses loop's time
                t_v, t_g = starts_times(law, x, y, off)
                rows.append(dict(case=f"  every start of every sweep, {law}", seconds=t_v, ratio=t_g / t_v))
    return rows


def starts_times(law: str, x: np.ndarray, y: np.ndarray, off: np.ndarray) -> tuple[float, float]:
    """compare_batch's data-driven starts (starts="all") of every problem: the model's
    vectorised all-starts guess, and the per-problem loop of initial_guesses it replaced."""
    from scalingfit._fit import all_starts, quiet

    m = scalingfit.models.get(law)

    def loop() -> None:
        with quiet():
            for j in range(len(off) - 1):
                m.initial_guesses(x[off[j]:off[j + 1]], y[off[j]:off[j + 1]])

    return best_time(lambda: all_starts(m, x, y, off, m.lower, m.upper), repeat=3), best_time(loop, repeat=2)


def format_table(rows: list[dict[str, float]]) -> str:
    head = f"{'case':44} {'seconds':>9} {'speed-up vs scipy':>18}"
    lines = ["leave-one-out, Chinchilla (5 params), 200 points", head, "-" * len(head)]
    for r in rows:
        if r["case"].startswith("max"):
            lines.append(f"{r['case']:44} {'':>9} {r['ratio']:18.1e}")
        else:
            lines.append(f"{r['case']:44} {r['seconds']:9.3f} {r['ratio']:18.1f}")
    return "\n".join(lines)


def main() -> None:
    print(format_table(run_table()))
    print()
    print(format_table(batch_table()).replace("leave-one-out, Chinchilla (5 params), 200 points",
                                             "chinchilla vs kaplan_nd, sweeps of 50 points"))


# ---------------------------------------------------------------- pytest-benchmark entry points
X, Y = make_data()


def test_loo_scalingfit_2_threads(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(scalingfit_run, X, Y, 2)


def test_compare_batch_200_sweeps(benchmark) -> None:  # type: ignore[no-untyped-def]
    x, y, off = sweeps(200)
    benchmark(scalingfit.compare_batch, ["chinchilla", "kaplan_nd"], x, y, off, log_residuals=True)


def test_all_starts_1000_sweeps(benchmark) -> None:  # type: ignore[no-untyped-def]
    from scalingfit._fit import all_starts

    x, y, off = sweeps(1000)
    m = scalingfit.models.get("kaplan_nd")
    benchmark(all_starts, m, x, y, off, m.lower, m.upper)


def test_loo_scipy_loop_20(benchmark) -> None:  # type: ignore[no-untyped-def]
    start = scalingfit.fit("chinchilla", X, Y).x
    benchmark.pedantic(scipy_run, args=(X, Y, start, 20), rounds=1)


if __name__ == "__main__":
    main()
