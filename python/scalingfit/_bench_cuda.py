"""GPU benchmark cases (the CUDA issue), timed against the CPU engine in the same run.

(a)  1,000,000 saturating power laws ``E + A x^-alpha`` of 10 points (``fit_batch``).
(b)  10,000 Chinchilla problems of 50 points x 1,000 bootstrap resamples, points scheme
     (``bootstrap_batch`` around given point fits: 10 million fits).

The GPU is timed on the whole batch, transfers included, after a warm-up call that compiles
the kernels (NVRTC; CuPy caches the binary). The CPU engine runs the same call on all hardware
threads (or ``threads``) on the first ``1/cpu_fraction`` of the problems, timed per fit. The
agreement columns compare the GPU with the CPU's baseline build (the same arithmetic: no fused
multiply-adds on either side) on the first 200 problems: the largest relative difference of
the parameters and the fraction of fits whose parameters are bit-identical.

Both cases run twice: float64, and precision="float32" (float data and per-point arithmetic on
the GPU). The CPU column is always the float64 engine (what a user without a GPU runs); the
float32 rows' agreement columns compare with the CPU's float32 build (the same arithmetic).
Case (b) runs three more times, for the backend's tuning knobs: with the shared-memory staging
of the problems' points switched off (``SCALINGFIT_CUDA_STAGE_POINTS=0``), and with a quad of
threads per item (``SCALINGFIT_CUDA_ITEM_THREADS=4``) in float64 and float32.

(c)  1,000 Chinchilla problems of 5,000 points (``fit_batch``: few problems, many points),
     with 1, 4 and 32 GPU threads per item and "auto" (the default; 32 on a GPU of at least
     125 multiprocessors): whether a warp per item pays where one thread per item leaves most
     of the GPU idle.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Callable, Optional

import numpy as np

from . import _core, _cuda, _warnings
from ._bench import Problems, make_problems
from ._fit import fit_batch
from ._warnings import ConvergenceWarning
from .bootstrap import bootstrap_batch


@dataclass
class GpuRow:
    case: str
    n_fits: int
    gpu_s: float
    gpu_fits_per_s: float
    cpu_threads: int
    cpu_fits_per_s: float
    ratio: float
    max_rel_diff_vs_cpu: float
    bitwise_equal: float
    device: str = ""
    note: str = ""


def device_name() -> str:
    """The GPU's name and the CUDA and CuPy versions ("" without a GPU)."""
    if not _cuda.available():
        return ""
    cp = _cuda._cupy()
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return (f"{name}, CUDA runtime {cp.cuda.runtime.runtimeGetVersion()}, "
            f"driver {cp.cuda.runtime.driverGetVersion()}, CuPy {cp.__version__}")


def _subset(p: Problems, n: int) -> Problems:
    k = min(n, p.n_problems)
    e = int(p.offsets[k])
    return Problems(p.model, p.x[:e], p.y[:e], p.offsets[: k + 1], p.p0[:k], p.truth[:k])


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _agreement(gpu: np.ndarray, cpu: np.ndarray) -> tuple[float, float]:
    ok = np.isfinite(gpu).all(axis=-1) & np.isfinite(cpu).all(axis=-1)
    if not ok.any():
        return float("nan"), float("nan")
    g, c = gpu[ok], cpu[ok]
    rel = np.abs(g - c) / np.maximum(np.abs(c), 1e-300)
    return float(rel.max()), float(np.mean((g == c).all(axis=-1)))


def _baseline(fn: Callable[[], Any]) -> Any:
    before = _core.simd_level()
    _core.set_simd_level("baseline")
    try:
        return fn()
    finally:
        _core.set_simd_level(before)


@contextlib.contextmanager
def _knobs(stage: bool, item_threads: int | str) -> Iterator[None]:
    """The CUDA backend's tuning knobs for the comparison rows: stage False keeps the problems'
    points in device memory (no shared-memory staging); item_threads: GPU threads per item
    (1, 4, 32 or "auto")."""
    settings = {_cuda.STAGE_ENV: None if stage else "0", _cuda.ITEM_THREADS_ENV: str(item_threads)}
    before = {k: os.environ.get(k) for k in settings}
    for k, v in settings.items():
        if v is not None:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def case_fits(n_problems: int, threads: int, cpu_fraction: int, precision: str = "float64") -> GpuRow:
    p = make_problems("saturating_power_law", n_problems, 10, seed=1)

    def run(q: Problems, backend: str, prec: str = precision) -> Any:
        return fit_batch(q.model, q.x, q.y, q.offsets, q.p0, compute_cov=False, backend=backend,
                         threads=threads if backend == "cpu" else None, precision=prec)

    run(_subset(p, 1000), "cuda")  # compiles the kernels
    gpu, t_gpu = _timed(lambda: run(p, "cuda"))
    sub = _subset(p, max(1, n_problems // cpu_fraction))
    _, t_cpu = _timed(lambda: run(sub, "cpu", "float64"))
    small = _subset(p, 200)
    ref = _baseline(lambda: run(small, "cpu"))
    diff, same = _agreement(gpu.x[:200], ref.x)
    cpu_rate = sub.n_problems / t_cpu
    tag = "" if precision == "float64" else f" {precision}"
    return GpuRow(f"(a) saturating power law, 10 pts{tag}", n_problems, t_gpu, n_problems / t_gpu,
                  threads, cpu_rate, (n_problems / t_gpu) / cpu_rate, diff, same, device_name(),
                  f"{int((gpu.status > 0).sum())}/{n_problems} converged on the GPU")


def case_bootstrap(n_problems: int, n_resamples: int, threads: int, cpu_fraction: int,
                   precision: str = "float64", stage: bool = True, item_threads: int | str = 1) -> GpuRow:
    p = make_problems("chinchilla", n_problems, 50, seed=5)
    center = fit_batch(p.model, p.x, p.y, p.offsets, p.p0, compute_cov=False).x

    def run(q: Problems, backend: str, R: int = n_resamples, prec: str = precision) -> Any:
        with _warnings.suppressed(_warnings.UncertaintyWarning):  # one start's fits: a few may not be the optimum
            return bootstrap_batch(q.model, q.x, q.y, q.offsets, n_resamples=R, seed=11,
                                   method="percentile", center=center[: q.n_problems], backend=backend,
                                   threads=threads if backend == "cpu" else None, precision=prec)

    with _knobs(stage, item_threads):
        run(_subset(p, 10), "cuda", 10)  # compiles the kernels
        gpu, t_gpu = _timed(lambda: run(p, "cuda"))
    sub = _subset(p, max(1, n_problems // cpu_fraction))
    _, t_cpu = _timed(lambda: run(sub, "cpu", prec="float64"))
    small = _subset(p, min(200, n_problems))
    ref = _baseline(lambda: run(small, "cpu"))
    diff, same = _agreement(np.asarray(gpu.samples)[: small.n_problems], np.asarray(ref.samples))
    n_fits = n_problems * n_resamples
    cpu_rate = sub.n_problems * n_resamples / t_cpu
    tag = (("" if precision == "float64" else f" {precision}") + ("" if stage else " unstaged")
           + ("" if item_threads == 1 else f" {item_threads} thr/item"))
    return GpuRow(f"(b) chinchilla bootstrap, 50 pts x {n_resamples}{tag}", n_fits, t_gpu,
                  n_fits / t_gpu, threads, cpu_rate, (n_fits / t_gpu) / cpu_rate, diff, same,
                  device_name(), "whole call: replicate -1 (point fits re-solved) + replicates + intervals")


def case_many_points(n_problems: int, n_points: int, threads: int, item_threads: int | str,
                     precision: str = "float64") -> GpuRow:
    """Case (c): fits of few Chinchilla problems with many points each; the CPU runs all of
    them."""
    p = make_problems("chinchilla", n_problems, n_points, seed=9)

    def run(q: Problems, backend: str, prec: str = precision) -> Any:
        return fit_batch(q.model, q.x, q.y, q.offsets, q.p0, backend=backend,
                         threads=threads if backend == "cpu" else None, precision=prec)

    with _knobs(True, item_threads):
        run(_subset(p, 2), "cuda")  # compiles the kernels
        gpu, t_gpu = _timed(lambda: run(p, "cuda"))
        used = _cuda.item_threads_for(None, n_problems, float(n_points), _cuda._Device(_cuda._cupy()).n_sm)
    _, t_cpu = _timed(lambda: run(p, "cpu", "float64"))
    small = _subset(p, min(100, n_problems))
    ref = _baseline(lambda: run(small, "cpu"))
    diff, same = _agreement(gpu.x[: small.n_problems], ref.x)
    tag = "" if precision == "float64" else f" {precision}"
    return GpuRow(f"(c) chinchilla, {n_points} pts, {item_threads} thr/item{tag}", n_problems, t_gpu,
                  n_problems / t_gpu, threads, n_problems / t_cpu, t_cpu / t_gpu, diff, same,
                  device_name(), f"GPU threads per item: {used}")


def cuda_suite(threads: Optional[int] = None, quick: bool = False) -> list[GpuRow]:
    """Cases (a) and (b), each in float64 and float32, (b)'s knob rows and (c)'s; ``quick``:
    100,000 fits, 1,000 x 1,000 resamples and 1,000 problems of 1,000 points. Raises
    ``CudaUnavailableError`` without a GPU."""
    _cuda._cupy()
    thr = int(threads or os.cpu_count() or 1)
    n_fits, n_boot, n_many = (100_000, 1_000, 1_000) if quick else (1_000_000, 10_000, 5_000)
    with _warnings.suppressed(ConvergenceWarning):
        return [case_fits(n_fits, thr, 10), case_fits(n_fits, thr, 10, "float32"),
                case_bootstrap(n_boot, 1_000, thr, 50), case_bootstrap(n_boot, 1_000, thr, 50, "float32"),
                case_bootstrap(n_boot, 1_000, thr, 50, stage=False),
                case_bootstrap(n_boot, 1_000, thr, 50, item_threads=4),
                case_bootstrap(n_boot, 1_000, thr, 50, "float32", item_threads=4)] + [
                    case_many_points(1_000, n_many, thr, g) for g in ("auto", 1, 4, 32)]


def format_table(rows: list[GpuRow]) -> str:
    head = (f"{'case':42} {'fits':>10} {'GPU s':>7} {'GPU fits/s':>11} {'CPU thr':>7} "
            f"{'CPU fits/s':>11} {'ratio':>7} {'max rel diff':>12} {'bitwise':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.case:42} {r.n_fits:10d} {r.gpu_s:7.3f} {r.gpu_fits_per_s:11.3g} "
                     f"{r.cpu_threads:7d} {r.cpu_fits_per_s:11.3g} {r.ratio:7.1f} "
                     f"{r.max_rel_diff_vs_cpu:12.1e} {r.bitwise_equal:7.3f}")
    if rows:
        lines.append(f"device: {rows[0].device}; CPU solver build {_core.simd_level()}")
    lines += [f"  {r.case}: {r.note}" for r in rows if r.note]
    return "\n".join(lines)


def as_dicts(rows: list[GpuRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
