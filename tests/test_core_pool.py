"""The core's thread pool as an embedding application sees it (embedding audit, stop 36): a
call of few items (a fit's starts: <= 64 items ran on the calling thread alone) still uses
its threads and hears Ctrl-C; concurrent callers share one bounded pool (each added its own
workers, which the process kept: 54 threads after 32 callers on 2 cores). Where an item runs
never changes its bits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scalingfit as sf
from scalingfit import _bench
from test_interrupt import HANG, _interrupt

LINUX = Path("/proc/self/status").exists()


def test_a_few_heavy_items_give_the_same_bits_on_any_thread_count() -> None:
    """8 starts on one problem of 200,000 points: the first items run on the calling thread,
    the rest (once they took 2 ms) on the pool."""
    p = _bench.make_problems("chinchilla", 1, 200_000, seed=4)
    p0 = np.tile(p.p0, (8, 1)) * np.linspace(0.8, 1.2, 8)[:, None]
    problem = np.zeros(8, dtype=np.int64)
    runs = [sf.fit_batch("chinchilla", p.x, p.y, p.offsets, p0, problem=problem, threads=t) for t in (1, 2, 4)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r.x, runs[0].x)
        np.testing.assert_array_equal(r.cost, runs[0].cost)
        np.testing.assert_array_equal(r.status, runs[0].status)
    assert (runs[0].status > 0).all()


@pytest.mark.skipif(not hasattr(os, "kill") or sys.platform == "win32", reason="POSIX signals")
def test_sigint_interrupts_a_call_of_few_items() -> None:
    """30 starts on one problem of 3 million points (several seconds of work): Ctrl-C was
    heard only once every start had been solved."""
    line, latency, _ = _interrupt("""
        import time
        import numpy as np
        import scalingfit
        from scalingfit import _bench
        p = _bench.make_problems("chinchilla", 1, 3_000_000, seed=0)
        p0 = np.tile(p.p0, (30, 1)) * np.linspace(0.5, 2.0, 30)[:, None]
        print("start", flush=True)
        t0 = time.perf_counter()
        try:
            scalingfit.fit_batch("chinchilla", p.x, p.y, p.offsets, p0, problem=np.zeros(30, dtype=np.int64),
                                 threads=1, max_iter=2000)
            print(f"finished {time.perf_counter() - t0:.2f}", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """)
    assert line == "interrupted", line
    assert latency < HANG, f"took {latency:.2f} s to stop"


@pytest.mark.skipif(not LINUX, reason="counts the process's threads in /proc/self/status")
def test_concurrent_callers_share_one_bounded_pool() -> None:
    script = textwrap.dedent("""
        import concurrent.futures as cf, os, time
        import numpy as np
        import scalingfit
        from scalingfit import _bench
        def threads():
            for line in open("/proc/self/status"):
                if line.startswith("Threads:"):
                    return int(line.split()[1])
        p = _bench.make_problems("saturating_power_law", 400, 20, seed=1)
        before = threads()
        ref = scalingfit.fit_batch("saturating_power_law", p.x, p.y, p.offsets, threads=8).x
        def call(_):
            r = scalingfit.fit_batch("saturating_power_law", p.x, p.y, p.offsets, threads=8)
            return bool(np.array_equal(r.x, ref, equal_nan=True))
        with cf.ThreadPoolExecutor(32) as ex:
            same = all(ex.map(call, range(64)))
        cap = max(16, 4 * (os.cpu_count() or 1))
        # Python's join returns when a thread's Python state is gone, a moment before the OS
        # thread exits: wait (up to 5 s) for the executor's threads to leave /proc's count. The
        # pool's threads never exit, so a pool past its cap still fails.
        for _ in range(100):
            if threads() - before <= cap:
                break
            time.sleep(0.05)
        print(threads() - before, cap, same)
    """)
    out = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    grown, cap, same = out.stdout.split()
    assert same == "True"
    assert int(grown) <= int(cap), out.stdout  # the executor's threads have exited by then
