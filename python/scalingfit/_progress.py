"""Progress of long work on stderr: tqdm when installed, else a plain line per update."""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional


def progress_bar(total: int, enabled: bool, unit: str = "group") -> Callable[[Optional[int]], None]:
    """A callback ``update(n)``: ``n`` more of ``total`` done; ``update(None)`` closes the bar.
    A no-op when not ``enabled``."""
    if not enabled:
        return lambda n: None
    try:
        from tqdm import tqdm

        bar = tqdm(total=total, unit=unit, file=sys.stderr, smoothing=0.1, dynamic_ncols=True)

        def update(n: Optional[int]) -> None:
            if n is None:
                bar.close()
            else:
                bar.update(n)

        return update
    except ImportError:
        state = {"done": 0, "t0": time.perf_counter()}

        def update_plain(n: Optional[int]) -> None:
            if n is None:
                return
            state["done"] += n
            dt = time.perf_counter() - state["t0"]
            rate = state["done"] / dt if dt > 0 else 0.0
            eta = (total - state["done"]) / rate if rate > 0 else float("nan")
            print(f"  {state['done']}/{total} {unit}s, {rate:,.0f} {unit}s/s, ETA {eta:.0f} s",
                  file=sys.stderr, flush=True)

        return update_plain
