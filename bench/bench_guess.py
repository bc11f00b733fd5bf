"""Start-guess benchmarks: the vectorised data-driven starts of a batch (``_fit.guess_starts``,
fit_batch's one start per problem; ``_fit.all_starts``, compare_batch's every start) on the
two kinds of batch that used to fall off the fast path.

1. **Many distinct sizes.** Problems are stacked by size; real run databases hold sweeps of
   every size (5 to 200 runs), which made one stack per size. Rows are now padded to one of
   8 lengths an octave (``models._stack_len``; the single-problem guess pads the same way, so
   the starts stay bit for bit those of ``initial_guess``). Baseline, in the same run: the
   same number of problems all of one size (the mean), i.e. the same points in one stack
   length. The ratio is the time per problem of the mixed batch over that of the common size.
2. **Collinear grids.** Chinchilla sweeps whose runs all share one tokens-per-parameter
   ratio (D = M N) make the grid's alpha = beta columns collinear; those pairs are solved by
   least-norm least squares. They used to go to a per-problem Python loop (0.6-0.9 ms a
   problem); now all at once (``models._least_norm_stack``). Baseline, in the same run: the
   per-problem loop of ``initial_guess`` (what the fallback ran; the same values).

Run ``python bench/bench_guess.py`` for the table, or
``python -m pytest bench/bench_guess.py --benchmark-only``. Speed is reported, never asserted.
"""

from __future__ import annotations

import numpy as np
import scalingfit
from bench_bootstrap import best_time
from scalingfit import _fit, models


def sweeps(model: str, counts: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Problems of the given sizes: (N, D) log-uniform over 3 and 2.6 decades (or x for a
    one-input law), y from a law of the model's family with 1% noise; packed CSR-style."""
    rng = np.random.default_rng(seed)
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n = int(off[-1])
    if model in ("chinchilla", "kaplan_nd"):
        N, D = np.exp(rng.uniform(16, 23, n)), np.exp(rng.uniform(19, 25, n))
        x = np.column_stack([N, D])
        y = 1.8 + 400 / N**0.34 + 410 / D**0.28 if model == "chinchilla" else \
            ((8.8e13 / N) ** (0.076 / 0.095) + 5.4e13 / D) ** 0.095
    else:
        x = np.exp(rng.uniform(2, 20, (n, 1)))
        y = 1.7 + 30 / x[:, 0] ** 0.3
    return x, y * np.exp(rng.normal(0, 0.01, n)), off


def one_ratio(n_problems: int, n_points: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chinchilla sweeps, each at one tokens-per-parameter ratio (e^1..e^4): D = M N."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(16, 22, (n_problems, n_points)))
    D = N * np.exp(rng.uniform(1, 4, (n_problems, 1)))
    y = (1.8 + 400 / N**0.34 + 410 / D**0.28) * np.exp(rng.normal(0, 0.01, N.shape))
    return np.column_stack([N.ravel(), D.ravel()]), y.ravel(), np.arange(n_problems + 1, dtype=np.int64) * n_points


def guess(model: str, x: np.ndarray, y: np.ndarray, off: np.ndarray) -> np.ndarray:
    m = models.get(model)
    return _fit.guess_starts(m, x, y, off, m.lower, m.upper)


def loop(model: str, x: np.ndarray, y: np.ndarray, off: np.ndarray) -> np.ndarray:
    """The per-problem fallback of guess_starts: initial_guess problem by problem."""
    m = models.get(model)
    with _fit.quiet():
        return np.array([m.initial_guess(x[a:b], y[a:b]) for a, b in zip(off[:-1], off[1:])])


def sizes_table(n_problems: int = 10_000, names: tuple[str, ...] = ("chinchilla", "kaplan_nd",
                "saturating_power_law", "learning_curve")) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    rng = np.random.default_rng(1)
    mixed = rng.integers(5, 201, n_problems)
    common = np.full(n_problems, round(float(mixed.mean())))
    for name in names:
        a, b = sweeps(name, mixed), sweeps(name, common)
        t_mixed = best_time(lambda name=name, a=a: guess(name, *a), repeat=3)
        t_common = best_time(lambda name=name, b=b: guess(name, *b), repeat=3)
        rows.append(dict(case=f"{name}: {n_problems} problems of 5..200 points vs all {common[0]}",
                         seconds=t_mixed, baseline=t_common, per=t_mixed / n_problems * 1e6,
                         ratio=t_mixed / t_common))
    return rows


def collinear_table(n_problems: int = 5000) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    x, y, off = one_ratio(n_problems)
    sub = off[: n_problems // 10 + 1]  # the loop on a tenth of them, scaled
    for name in ("chinchilla", "chinchilla_tied"):
        got = guess(name, x, y, off)
        t_vec = best_time(lambda name=name: guess(name, x, y, off), repeat=3)
        t_loop = best_time(lambda name=name: loop(name, x, y, sub), repeat=1) * 10
        same = bool(np.array_equal(got[: sub.size - 1], loop(name, x, y, sub)))
        rows.append(dict(case=f"{name}: {n_problems} sweeps x 20 at one D/N, vs initial_guess loop",
                         seconds=t_vec, baseline=t_loop, per=t_vec / n_problems * 1e6,
                         ratio=t_vec / t_loop, same=same))
    return rows


def format_table(rows: list[dict[str, object]]) -> str:
    head = f"{'case':66} {'seconds':>8} {'baseline s':>10} {'us/problem':>10} {'ratio':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['case']!s:66} {r['seconds']:8.3f} {r['baseline']:10.3f} {r['per']:10.1f} "
                     f"{r['ratio']:6.2f}" + ("" if "same" not in r else f"  same values: {r['same']}"))
    return "\n".join(lines)


def main() -> None:
    print(f"scalingfit {scalingfit.__version__}: start guesses (ratio: time over the baseline's)")
    print(format_table(sizes_table()))
    print()
    print(format_table(collinear_table()))


# ---------------------------------------------------------------- pytest-benchmark entry points
MIXED = sweeps("chinchilla", np.random.default_rng(1).integers(5, 201, 2000))
COMMON = sweeps("chinchilla", np.full(2000, 103))
ONE_RATIO = one_ratio(2000)


def test_guess_chinchilla_2000_problems_of_5_to_200_points(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(guess, "chinchilla", *MIXED)


def test_guess_chinchilla_2000_problems_of_103_points(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(guess, "chinchilla", *COMMON)


def test_guess_chinchilla_2000_sweeps_at_one_ratio(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(guess, "chinchilla", *ONE_RATIO)


def test_guess_chinchilla_200_sweeps_at_one_ratio_per_problem_loop(benchmark) -> None:  # type: ignore[no-untyped-def]
    x, y, off = ONE_RATIO
    benchmark.pedantic(loop, args=("chinchilla", x, y, off[:201]), rounds=2)


if __name__ == "__main__":
    main()
