"""Core engine benchmarks (pytest-benchmark): fit_batch vs a loop of scipy least_squares.

Run: ``python -m pytest bench/bench_core.py --benchmark-only`` (or ``python bench/bench_core.py``
for the ratio table). Never asserted in CI: speed is reported, not tested.
"""

from __future__ import annotations

import pytest
from scalingfit import _bench, fit_batch

P1 = _bench.make_problems("saturating_power_law", 2000, 10, seed=1)
P2 = _bench.make_problems("chinchilla", 200, 200, seed=2)


@pytest.mark.parametrize("threads", [1, 2])
def test_p1_scalingfit(benchmark, threads):
    benchmark(fit_batch, P1.model, P1.x, P1.y, P1.offsets, P1.p0, threads=threads, compute_cov=False)


@pytest.mark.parametrize("threads", [1, 2])
def test_p2_scalingfit(benchmark, threads):
    benchmark(fit_batch, P2.model, P2.x, P2.y, P2.offsets, P2.p0, threads=threads, compute_cov=False)


def test_p1_scipy_100(benchmark):
    benchmark.pedantic(_bench.scipy_loop, args=(P1, 100), kwargs=dict(method="lm"), rounds=1)


def test_p2_scipy_20(benchmark):
    benchmark.pedantic(_bench.scipy_loop, args=(P2, 20), kwargs=dict(method="lm"), rounds=1)


if __name__ == "__main__":
    print(_bench.format_table(_bench.core_suite(cases=("P1", "P2"))))
