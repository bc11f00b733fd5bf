"""What ptxas reports for every GPU kernel: registers, stack frame and spills per thread.

Needs NVRTC (CuPy's binding and the NVRTC library, as the test extra installs), not a GPU:
each (model, loss, precision, threads per item) module is compiled for ``--arch`` with
``-Xptxas=-v``. Prints, per model, the most registers and the most spill-store bytes over
its losses and its two kernels (fit and bootstrap), for each precision and threads per item.

    python bench/kernel_resources.py                       # all 330 modules, ~18 min on 2 cores
    python bench/kernel_resources.py --models chinchilla --item-threads 1,4 --json out.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from scalingfit import _cuda, models
from scalingfit.models import LOSSES

THREADS = (1, 4, 32)


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(models.names()))
    ap.add_argument("--losses", default=",".join(LOSSES))
    ap.add_argument("--precision", default="float64,float32")
    ap.add_argument("--item-threads", default="1,4,32")
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", metavar="PATH", help="also write every module's report here")
    a = ap.parse_args(argv)
    names = _csv(a.models)
    jobs = list(itertools.product([models.get(n).index for n in names],
                                  [LOSSES.index(k) for k in _csv(a.losses)],
                                  [p == "float32" for p in _csv(a.precision)],
                                  [int(g) for g in _csv(a.item_threads)]))
    t0 = time.perf_counter()

    def one(job: tuple[int, int, bool, int]) -> dict[str, dict[str, int]]:
        m, k, f32, g = job
        return _cuda.kernel_resources(m, k, a.arch, float32=f32, item_threads=g)

    with ThreadPoolExecutor(max(1, a.workers)) as pool:
        reports = list(pool.map(one, jobs))
    seconds = time.perf_counter() - t0
    cols = [(f32, g) for f32 in sorted({j[2] for j in jobs}) for g in sorted({j[3] for j in jobs})]
    print(f"{len(jobs)} modules for {a.arch} in {seconds:.0f} s on {a.workers} worker(s); "
          "each cell: most registers / most spill-store bytes per thread over the losses and both kernels")
    print(f"{'model':22s}" + "".join(f"{('f32' if f else 'f64') + ' x' + str(g):>12s}" for f, g in cols))
    for n in names:
        cells = []
        for f32, g in cols:
            rs = [r for j, r in zip(jobs, reports) if j[0] == models.get(n).index and j[2:] == (f32, g)]
            regs = max(v["registers"] for r in rs for v in r.values())
            spill = max(v["spill_stores"] for r in rs for v in r.values())
            cells.append(f"{regs}/{spill}")
        print(f"{n:22s}" + "".join(f"{c:>12s}" for c in cells))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump([{"model": models.names()[m], "loss": LOSSES[k], "float32": f32, "item_threads": g,
                        "kernels": r} for (m, k, f32, g), r in zip(jobs, reports)], fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
