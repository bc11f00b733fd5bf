"""GPU: 1,000,000 saturating power-law fits of 10 points, 10,000 Chinchilla problems of 50
points x 1,000 bootstrap resamples, and 1,000 Chinchilla problems of many points (1, 32 or
"auto" GPU threads per item), against the CPU engine on the same machine's cores.

Needs CuPy and a CUDA GPU (``pip install 'scalingfit[cuda]'``); skipped otherwise. Run
``python bench/bench_cuda.py [--quick]`` for the table (the same as ``scalingfit bench
--cuda``), or ``python -m pytest bench/bench_cuda.py --benchmark-only``. Speed is reported,
never asserted; the table also reports the GPU's agreement with the CPU's baseline build.
"""

from __future__ import annotations

import sys

import pytest
from scalingfit import _cuda

pytestmark = pytest.mark.skipif(not _cuda.available(), reason=f"no CUDA GPU: {_cuda.unavailable_reason()}")


def test_gpu_fits_100k(benchmark) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import _bench_cuda

    benchmark.pedantic(_bench_cuda.case_fits, args=(100_000, 2, 10), rounds=1, iterations=1)


def test_gpu_bootstrap_1000_x_1000(benchmark) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import _bench_cuda

    benchmark.pedantic(_bench_cuda.case_bootstrap, args=(1000, 1000, 2, 50), rounds=1, iterations=1)


def test_gpu_fits_100k_float32(benchmark) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import _bench_cuda

    benchmark.pedantic(_bench_cuda.case_fits, args=(100_000, 2, 10, "float32"), rounds=1, iterations=1)


def test_gpu_bootstrap_1000_x_1000_float32(benchmark) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import _bench_cuda

    benchmark.pedantic(_bench_cuda.case_bootstrap, args=(1000, 1000, 2, 50, "float32"), rounds=1,
                       iterations=1)


def test_gpu_bootstrap_1000_x_1000_quads(benchmark) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import _bench_cuda

    benchmark.pedantic(_bench_cuda.case_bootstrap, args=(1000, 1000, 2, 50), kwargs={"item_threads": 4},
                       rounds=1, iterations=1)


def test_gpu_bootstrap_1000_x_1000_unstaged(benchmark) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import _bench_cuda

    benchmark.pedantic(_bench_cuda.case_bootstrap, args=(1000, 1000, 2, 50), kwargs={"stage": False},
                       rounds=1, iterations=1)


@pytest.mark.parametrize("item_threads", ["auto", 1, 32])
def test_gpu_fits_1000_of_1000_points(benchmark, item_threads) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import _bench_cuda

    benchmark.pedantic(_bench_cuda.case_many_points, args=(1000, 1000, 2, item_threads), rounds=1,
                       iterations=1)


if __name__ == "__main__":
    from scalingfit import _bench_cuda

    print(_bench_cuda.format_table(_bench_cuda.cuda_suite(quick="--quick" in sys.argv)))
