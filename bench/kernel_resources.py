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
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from scalingfit import _cuda, _cuda_build, models
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
    # The same list of modules as `scalingfit cuda-compile` (each name, loss, precision and
    # thread count checked there), less the untemplated sf_multiplicities.
    specs = [s for s in _cuda._specs(names, _csv(a.losses), _csv(a.precision),
                                     [int(g) for g in _csv(a.item_threads)]) if s.model is not None]
    t0 = time.perf_counter()

    def one(s: _cuda_build.Spec) -> dict[str, dict[str, int]]:
        assert s.model is not None and s.loss is not None
        return _cuda.kernel_resources(s.model, s.loss, a.arch, float32=s.float32, item_threads=s.item_threads)

    with ThreadPoolExecutor(max(1, a.workers)) as pool:
        reports = list(pool.map(one, specs))
    seconds = time.perf_counter() - t0
    cols = sorted({(s.float32, s.item_threads) for s in specs})
    print(f"{len(specs)} modules for {a.arch} in {seconds:.0f} s on {a.workers} worker(s); "
          "each cell: most registers / most spill-store bytes per thread over the losses and both kernels")
    print(f"{'model':22s}" + "".join(f"{('f32' if f else 'f64') + ' x' + str(g):>12s}" for f, g in cols))
    for n in names:
        index = models.get(n).index
        cells = []
        for col in cols:
            kernels = [v for s, r in zip(specs, reports) if s.model == index
                       and (s.float32, s.item_threads) == col for v in r.values()]
            cells.append(f"{max(v['registers'] for v in kernels)}/{max(v['spill_stores'] for v in kernels)}")
        print(f"{n:22s}" + "".join(f"{c:>12s}" for c in cells))
    if a.json:
        name_of = {models.get(n).index: n for n in models.names()}
        with open(a.json, "w") as fh:
            json.dump([{"model": name_of[s.model], "loss": LOSSES[s.loss], "float32": s.float32,
                        "item_threads": s.item_threads, "kernels": r}
                       for s, r in zip(specs, reports) if s.model is not None and s.loss is not None],
                      fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
