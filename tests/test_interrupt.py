"""Ctrl-C during a long batch returns promptly with KeyboardInterrupt, leaking no threads."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time


def test_sigint_interrupts_a_long_fit_batch_within_a_second() -> None:
    script = textwrap.dedent("""
        import sys, threading, time
        import numpy as np
        import scalingfit
        from scalingfit import _bench
        p = _bench.make_problems("chinchilla", 2000, 200, seed=0)
        # 400,000 items over the same 2,000 problems (~10 s of work): no data is copied.
        p0 = np.tile(p.p0, (200, 1))
        problem = np.tile(np.arange(2000), 200)
        print("start", flush=True)
        t0 = time.perf_counter()
        try:
            scalingfit.fit_batch("chinchilla", p.x, p.y, p.offsets, p0, problem=problem, threads=2)
            print("finished", flush=True)
        except KeyboardInterrupt:
            print(f"interrupted {time.perf_counter() - t0:.3f} threads={threading.active_count()}", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start"
        time.sleep(0.5)
        t_sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().strip()
        latency = time.perf_counter() - t_sent
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert line.startswith("interrupted"), line
    assert line.endswith("threads=1"), line  # every worker thread joined
    assert latency < 1.0, f"took {latency:.2f} s to stop"
