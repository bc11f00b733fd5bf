"""Learning-curve benchmarks: many runs' curves fitted at once, and where the time goes.

``fit_many`` fits one law to each of 1,000 learning curves (40 checkpoints each) in one batch
call; every curve starts from the model's data-driven guesses. Those guesses are computed for
all curves at once (``scalingfit._fit.all_starts``: stacks of curves of one length, the same
values as the per-curve ``initial_guesses``, bit for bit). The baseline is the same call with
the vectorised guess switched off, so that the guesses come from the per-curve Python loop it
replaced; both runs give the same fits (the largest relative difference of the costs is in
the table). ``predict_final_loss`` (300 runs, the first 40% of each) is timed the same two ways.

Run ``python bench/bench_curves.py`` for the table, or
``python -m pytest bench/bench_curves.py --benchmark-only``. Speed is reported, never asserted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator

import numpy as np
import scalingfit
from bench_bootstrap import best_time
from scalingfit import models
from scalingfit._resample import fit_many
from scalingfit.curves import Curve, predict_final_loss


def curves(n_runs: int, n_points: int = 40, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Loss against step of ``n_runs`` runs: E + A (s + s0)^-alpha with 0.2% noise."""
    rng = np.random.default_rng(seed)
    s = np.linspace(100.0, 10000.0, n_points)
    xs, ys = [], []
    for _ in range(n_runs):
        E, A, a, s0 = rng.uniform(1.8, 2.5), rng.uniform(5, 20), rng.uniform(0.3, 0.6), rng.uniform(0, 500)
        xs.append(s.copy())
        ys.append((E + A * (s + s0) ** -a) * (1 + 0.002 * rng.standard_normal(n_points)))
    return xs, ys


@contextlib.contextmanager
def per_problem_guesses(*names: str) -> Iterator[None]:
    """The models' vectorised guesses switched off: the per-problem loop of initial_guesses."""
    saved = {n: models._REGISTRY[n] for n in names}
    try:
        for n in names:
            models._REGISTRY[n] = dataclasses.replace(saved[n], batch_guess=None, batch_guesses=None)
        yield
    finally:
        models._REGISTRY.update(saved)


def _costs(r: object, n: int) -> np.ndarray:
    return np.array([r.problem(j).cost for j in range(n)])  # type: ignore[attr-defined]


def run_table(n_runs: int = 1000) -> list[dict[str, float]]:
    rows = []
    xs, ys = curves(n_runs)
    for law in ("learning_curve", "saturating_power_law"):
        def run(law: str = law) -> object:
            return fit_many(law, xs, ys, warn=False)
        t_v = best_time(run, repeat=3)
        fast = _costs(run(), n_runs)
        with per_problem_guesses(law):
            t_l = best_time(run, repeat=2)
            slow = _costs(run(), n_runs)
        diff = float(np.nanmax(np.abs(fast - slow) / np.maximum(np.abs(slow), 1e-300)))
        rows.append(dict(case=f"fit_many {law}, {n_runs} curves x 40", seconds=t_v, loop=t_l, diff=diff))
    runs = [Curve(f"r{j}", step=x, tokens=x * 1e6, loss=y) for j, (x, y) in enumerate(zip(*curves(300, seed=1)))]

    def predict() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return predict_final_loss(runs, 0.4, method="learning_curve")
    t_v = best_time(predict, repeat=3)
    fast = predict().predicted  # type: ignore[attr-defined]
    with per_problem_guesses("learning_curve"):
        t_l = best_time(predict, repeat=2)
        slow = predict().predicted  # type: ignore[attr-defined]
    diff = float(np.nanmax(np.abs(fast - slow) / np.abs(slow)))
    rows.append(dict(case="predict_final_loss learning_curve, 300 runs", seconds=t_v, loop=t_l, diff=diff))
    return rows


STARTS_MODELS = ("power_law", "saturating_power_law", "isoflop_parabola", "sigmoid", "broken_power_law",
                 "learning_curve", "lr_annealing")


def starts_table(n_problems: int = 1000, n_points: int = 30) -> list[dict[str, float]]:
    """The data-driven starts alone, every start of every problem: the vectorised guess
    (``all_starts``) against the per-problem loop of ``initial_guesses`` (the same values;
    ``bench_compare.starts_times``)."""
    from bench_compare import starts_times

    rng = np.random.default_rng(0)
    rows = []
    for name in STARTS_MODELS:
        m = models.get(name)
        x = 10 ** rng.uniform(1, 4, (n_problems * n_points, m.n_inputs))
        if name == "lr_annealing":
            x[:, 1] = rng.uniform(0, 5, x.shape[0])
        pid = np.repeat(np.arange(n_problems), n_points)
        p = np.array([[2.0, 30.0, 0.4, 100.0, 20.0, 1.0][:m.n_params]])
        if name == "isoflop_parabola":
            p = np.array([[2.0, 5.0, 0.3]])
        elif name == "sigmoid":
            p = np.array([[0.25, 0.9, 2.0, 5.0]])
        elif name == "lr_annealing":
            p = np.array([[2.0, 30.0, 0.4, 0.05]])
        y = m.predict(p[0], x) * (1 + 0.01 * rng.standard_normal(pid.size)) + 0.01 * (pid % 7)
        off = np.arange(n_problems + 1) * n_points
        t_v, t_l = starts_times(name, x, y, off)
        rows.append(dict(case=f"starts of {n_problems} problems x {n_points}, {name}", seconds=t_v,
                         loop=t_l, diff=float("nan")))
    return rows


def format_table(rows: list[dict[str, float]]) -> str:
    """Vectorised and loop times, the ratio, and the largest relative difference of the
    results (blank where the two give the same starts by construction: tests/test_models.py)."""
    head = f"{'case':52} {'vectorised s':>12} {'loop s':>8} {'speed-up':>9} {'max rel diff':>13}"
    lines = [head, "-" * len(head)]
    for r in rows:
        diff = "" if np.isnan(r["diff"]) else f"{r['diff']:.1e}"
        lines.append(f"{r['case']:52} {r['seconds']:12.3f} {r['loop']:8.3f} {r['loop'] / r['seconds']:9.1f} "
                     f"{diff:>13}")
    return "\n".join(lines)


def main() -> None:
    print(f"scalingfit {scalingfit.__version__}: learning curves, data-driven starts of every curve at once")
    print(format_table(run_table()))
    print()
    print(format_table(starts_table()))


# ---------------------------------------------------------------- pytest-benchmark entry points
XS, YS = curves(1000)


def test_fit_many_learning_curve_1000(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(fit_many, "learning_curve", XS, YS, warn=False)


def test_fit_many_learning_curve_1000_per_curve_guesses(benchmark) -> None:  # type: ignore[no-untyped-def]
    with per_problem_guesses("learning_curve"):
        benchmark.pedantic(fit_many, args=("learning_curve", XS, YS), kwargs=dict(warn=False), rounds=2)


if __name__ == "__main__":
    main()
