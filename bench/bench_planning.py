"""Planning benchmarks (pytest-benchmark): how long the planning answers take.

Run: ``python -m pytest bench/bench_planning.py --benchmark-only`` (or
``python bench/bench_planning.py`` for a plain table). Never asserted in CI.

The stage-2 fit of Muennighoff et al.'s law runs on the built-in C++ model
``data_constrained`` (stage-1 constants held); its baseline, measured in the same run, is
scipy's ``least_squares`` (Huber, log residuals, the law evaluated in numpy) from the same nine
starts of the paper's grid, one call per start. Gadre et al.'s laws are custom models, so they
run on the engine's vectorised numpy path, not the C++ core.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from scalingfit import planning as P
from scalingfit.planning.data_constrained import PAPER_STARTS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MU = DATA / "muennighoff2023_datablations"

I_GRID = np.logspace(6, 17, 100_000)


def _runs():
    if not MU.is_dir():
        pytest.skip(f"no data at {MU}")
    return P.load_muennighoff2023(MU)


def test_inference_optimal_100k(benchmark):
    benchmark(P.inference_optimal, 2.1, I_GRID)


def test_optimal_allocation_constrained_1k(benchmark):
    C = np.logspace(19, 25, 1000)
    benchmark(P.optimal_allocation_constrained, C, 25e9)


def test_data_wall_3_budgets(benchmark):
    benchmark(P.data_wall, 100e12, epochs=(1, 4, 16))


def _scipy_stage2(d, starts=PAPER_STARTS):
    """The baseline: scipy least_squares from each start, in the decay rates as ours."""
    from scipy.optimize import least_squares

    N, D, U, y = d["N"], d["D"], d["U"], np.log(d["loss"])
    base = P.MUENNIGHOFF_2023

    def resid(r):
        with np.errstate(divide="ignore"):
            return np.log(base.with_decay(1 / r[0], 1 / r[1]).loss(N, D, U)) - y

    return [least_squares(resid, 1 / s0, loss="huber", f_scale=1e-3, bounds=(0, np.inf),
                          x_scale="jac") for s0 in starts]


def test_stage2_fit_paper_grid(benchmark):
    d = _runs()
    benchmark(P.fit_data_constrained, d["N"], d["D"], d["U"], d["loss"], starts=PAPER_STARTS)


def test_stage2_fit_paper_grid_scipy(benchmark):
    benchmark.pedantic(_scipy_stage2, args=(_runs(),), rounds=3)


def test_stage2_fit_default_starts(benchmark):
    d = _runs()
    benchmark(P.fit_data_constrained, d["N"], d["D"], d["U"], d["loss"])


def test_stage2_bootstrap_100(benchmark):
    d = _runs()
    benchmark.pedantic(
        P.bootstrap_data_constrained,
        args=(d["N"], d["D"], d["U"], d["loss"]),
        kwargs=dict(n_boot=100, seed=0),
        rounds=1,
    )


if __name__ == "__main__":
    cases = [
        ("inference_optimal, 100k demands", lambda: P.inference_optimal(2.1, I_GRID)),
        (
            "optimal_allocation_constrained, 1k budgets",
            lambda: P.optimal_allocation_constrained(np.logspace(19, 25, 1000), 25e9),
        ),
        ("data_wall, 3 epoch budgets", lambda: P.data_wall(100e12, epochs=(1, 4, 16))),
    ]
    if MU.is_dir():
        d = P.load_muennighoff2023(MU)
        cases += [
            (
                "stage-2 fit, 9 starts x 182 runs",
                lambda: P.fit_data_constrained(d["N"], d["D"], d["U"], d["loss"], starts=PAPER_STARTS),
            ),
            ("  baseline: scipy least_squares, 9 starts", lambda: _scipy_stage2(d)),
            (
                "stage-2 fit, 153 default starts",
                lambda: P.fit_data_constrained(d["N"], d["D"], d["U"], d["loss"]),
            ),
            (
                "stage-2 bootstrap, 100 replicates",
                lambda: P.bootstrap_data_constrained(
                    d["N"], d["D"], d["U"], d["loss"], n_boot=100, seed=0
                ),
            ),
        ]
    for name, fn in cases:
        t = time.perf_counter()
        fn()
        print(f"{name:45s} {time.perf_counter() - t:8.3f} s")
