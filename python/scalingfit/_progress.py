"""Progress of long work on stderr: tqdm when installed, else a plain line per update."""

from __future__ import annotations

import math
import sys
import time
from typing import Optional, Protocol


class Progress(Protocol):
    """The callback :func:`progress_bar` returns."""

    def __call__(self, n: Optional[int], skipped: int = 0) -> None: ...


def progress_bar(total: int, enabled: bool, unit: str = "group") -> Progress:
    """A callback ``update(n, skipped=0)``: ``n`` more of ``total`` done, and ``skipped`` more
    found done already (by an earlier run, when a run resumes); ``update(None)`` closes the bar.
    A no-op when not ``enabled``.

    The rate and the ETA are of this run's work only: the skipped items are taken off the total
    (the bar counts what is left to do, and says beside it how many were already done), and the
    time spent on updates that did no work is not part of the rate (a resumed refit passes the
    chunks done before in a fraction of the time one takes to fit)."""
    if not enabled:
        return lambda n, skipped=0: None
    try:
        from tqdm import tqdm

        bar = tqdm(total=total, unit=unit, file=sys.stderr, smoothing=0.1, dynamic_ncols=True)
        already = [0]

        def update(n: Optional[int], skipped: int = 0) -> None:
            if n is None:
                bar.close()
                return
            if skipped:
                already[0] += skipped
                bar.total -= skipped
                bar.set_postfix_str(f"{already[0]:,} already done", refresh=False)
            bar.update(n)  # an update of 0 does not count in tqdm's smoothed rate
            if skipped and not n:
                bar.refresh()

        return update
    except ImportError:
        state = {"done": 0, "skipped": 0, "busy": 0.0, "last": time.perf_counter()}

        def update_plain(n: Optional[int], skipped: int = 0) -> None:
            if n is None:
                return
            now = time.perf_counter()
            if n:  # the time since the last update went into this work
                state["busy"] += now - state["last"]
            state["last"] = now
            state["done"] += n
            state["skipped"] += skipped
            done, left = int(state["done"]), total - int(state["skipped"])
            rate = done / state["busy"] if state["busy"] > 0 else 0.0
            eta = (left - done) / rate if rate > 0 else float("nan")
            note = f" ({int(state['skipped']):,} already done)" if state["skipped"] else ""
            print(f"  {done}/{left} {unit}s{note}, {rate:,.0f} {unit}s/s, "
                  f"ETA {f'{eta:.0f} s' if math.isfinite(eta) else '?'}",
                  file=sys.stderr, flush=True)

        return update_plain
