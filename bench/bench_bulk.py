"""Bulk bootstrap: 10,000 sweeps x Chinchilla on 50 points x 200 resamples (2 million fits).

One ``bootstrap_batch`` call per thread setting (the point fits are done first and not
timed), against ``scipy.optimize.least_squares(method="lm")`` on the first 10 resamples of
10 sweeps spread evenly over the batch, with the same warm starts (one sweep alone may be
atypically slow or fast for scipy); fits/s and the ratio are printed.

Run ``python bench/bench_bulk.py [n_sweeps]`` for the table (about 10 s of work at 10,000
sweeps on two cores), or ``python -m pytest bench/bench_bulk.py --benchmark-only``. Speed is
reported, never asserted.
"""

from __future__ import annotations

import sys
import warnings

from scalingfit import _bench
from scalingfit._warnings import ConvergenceWarning

N_SWEEPS = 10_000


def run_table(n_sweeps: int = N_SWEEPS, threads: int = 2) -> list[_bench.BenchRow]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _bench.bench_bulk(sorted({1, threads}), n_sweeps=n_sweeps)


def test_bulk_1000_sweeps_2_threads(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark.pedantic(run_table, args=(1000,), rounds=1, iterations=1)


if __name__ == "__main__":
    print(_bench.format_table(run_table(int(sys.argv[1]) if len(sys.argv) > 1 else N_SWEEPS)))
