"""The CUDA backend: the core's batched solver on an NVIDIA GPU, through CuPy.

NVRTC compiles ``cpp/include/scalingfit/device.cuh`` at the first call for a (model, loss)
pair (the kernels are templates over both) and scalingfit keeps the binary in its kernel cache
(``_cuda_build``: CuPy only loads it; :func:`compile_kernels` fills the cache ahead). That
file holds only the thread-to-item mapping: every item runs the same per-item
code as the CPU (``items.hpp``: solver, models, losses, exp/log, Philox streams), so results
agree with the CPU to rounding and bootstrap resamples are identical for the same seed.

The functions :func:`solve_batch` and :func:`bootstrap_batch` take the arguments of their
``_core`` namesakes and return the same tuples, so the Python layers switch backend by
switching the function. On the host they prepare the data as the CPU does
(``_core.prepare_batch``, ``_core.prepare_residuals``), copy it to the device once, and
stream the items through in chunks sized to the device's free memory: two chunks in flight on
two CUDA streams, outputs copied back into pinned staging buffers while the next chunk runs.
Results come back as NumPy arrays, or stay on the device as CuPy arrays
(``return_cupy=True``).

``float32=True`` (the public ``precision="float32"``) compiles the kernels with
``-DSF_FLOAT32_DATA=1``: the data live on the device as float32 and the per-point arithmetic
(model, Jacobian, loss, the sums over the points) runs in float, the solver's step in double:
the arithmetic of the CPU's "float32" build, whose results it reproduces.

CuPy is optional (``pip install 'scalingfit[cuda]'``); without it or without a device,
``backend="cuda"`` raises :class:`CudaUnavailableError` and ``backend="auto"`` runs on the CPU
after a one-line notice on the ``scalingfit`` logger.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import warnings
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import NDArray

from . import _core, _cuda_build
from ._cuda_build import CudaUnavailableError, kernel_names

BACKENDS = ("cpu", "cuda", "auto")
_BLOCK = 128  # threads per block
_BLOCKS_PER_SM = 8  # grid-stride launches: enough resident blocks to fill each multiprocessor
_STAGING_BYTES = 256 << 20  # pinned host staging per stream, outputs of one chunk
_DEVICE_FRACTION = 0.6  # of the free device memory, for one call's data, items and scratch
_SHARED_BYTES = 48 << 10  # the most dynamic shared memory a block may take without opting in
STAGE_ENV = "SCALINGFIT_CUDA_STAGE_POINTS"
ITEM_THREADS_ENV = "SCALINGFIT_CUDA_ITEM_THREADS"
ITEM_THREADS = ("auto", "1", "4", "32")  # the choices of item_threads_for
_WARP_ITEMS_PER_SM = 8  # item_threads "auto": a warp per item up to this many items per SM
_WARP_MIN_POINTS = 32  # ... whose problems have at least this many points on average
_FLAG_W, _FLAG_COV, _FLAG_PID, _FLAG_GROUPS, _FLAG_TARGETS = 1, 2, 4, 8, 16  # device.cuh
_TARGET_SCHEMES = (2, 3)  # residual, wild (bootstrap.hpp)
_GROUP_SCHEMES = (1, 5)  # groups, jackknife groups

_log = logging.getLogger("scalingfit")
_fallback_noted = False


_PROBE_LOCK = threading.Lock()


def _probe() -> tuple[Any, str]:
    """The CuPy module and "" where a GPU is usable, else None and why; probed once, under a
    lock (functools.cache alone let threads probe at once, each swapping the process-wide
    warnings filters around ``import cupy``, which could leave every later warning silenced)."""
    with _PROBE_LOCK:
        return _probe_once()


@functools.cache
def _probe_once() -> tuple[Any, str]:
    try:
        # CuPy may warn at import (a CUDA path it cannot find, say): recorded and logged, so that
        # a warnings-as-errors setting cannot turn a usable GPU into "no GPU".
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import cupy
        for w in caught:
            _log.info("scalingfit: CuPy warned at import: %s", w.message)
    except Exception as exc:  # ImportError, or a CuPy that fails to load its libraries
        return None, f"CuPy is not importable ({type(exc).__name__}: {exc}); install scalingfit[cuda]"
    try:
        n = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # no driver, driver too old for the runtime, ...
        return None, f"CuPy found no usable CUDA device ({type(exc).__name__}: {exc})"
    if n < 1:
        return None, "CuPy found no CUDA device"
    return cupy, ""


def available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return _probe()[0] is not None


def unavailable_reason() -> str:
    """Why :func:`available` is False ("" when it is True)."""
    return str(_probe()[1])


def _cupy() -> Any:
    cp, reason = _probe()
    if cp is None:
        raise CudaUnavailableError(f"backend='cuda' needs CuPy and a CUDA GPU: {reason}")
    return cp


def check_backend(backend: Any) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else a ValueError naming them (for callers
    that resolve it later, where the fits run)."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    return backend


def resolve_backend(backend: str) -> str:
    """"cpu" or "cuda" for a user's ``backend`` ("cpu", "cuda" or "auto"). "cuda" without a GPU
    raises :class:`CudaUnavailableError`; "auto" without one notes it once and gives "cpu"."""
    global _fallback_noted
    if check_backend(backend) == "cpu":
        return "cpu"
    if available():
        return "cuda"
    if backend == "cuda":
        _cupy()
    if not _fallback_noted:
        _log.warning("scalingfit: backend='auto' runs on the CPU (%s)", unavailable_reason())
        _fallback_noted = True
    return "cpu"


# ------------------------------------------------------------------------------ kernels


class _Kernels:
    """A loaded module: its kernels by name expression (``get_function``, as CuPy's
    ``RawModule`` with name expressions)."""

    def __init__(self, kernels: dict[str, Any]) -> None:
        self._kernels = kernels

    def get_function(self, name: str) -> Any:
        try:
            return self._kernels[name]
        except KeyError:
            raise ValueError(f"{name!r} is not a kernel of this module ({', '.join(self._kernels)})") from None


def _device_target(cp: Any) -> tuple[Any, str]:
    """NVRTC of ``cp`` and the -arch for its current device."""
    nvrtc = _cuda_build.nvrtc_binding(cp)
    return nvrtc, _cuda_build.target_arch(nvrtc, cp.cuda.Device().compute_capability)


def _load(cp: Any, spec: _cuda_build.Spec) -> _Kernels:
    nvrtc, arch = _device_target(cp)
    built = _cuda_build.build(spec, nvrtc, arch)
    for attempt in (0, 1):
        try:
            module = cp.RawModule(path=str(built.path))
            return _Kernels({n: module.get_function(low) for n, low in built.lowered.items()})
        except Exception as exc:  # the driver refused a cached binary: compile it once more
            if built.compiled or attempt:
                raise RuntimeError(f"CUDA could not load the kernels {list(spec.names())} compiled "
                                   f"for {arch} ({built.path}): {exc}") from exc
            _log.warning("scalingfit: the cached CUDA kernels %s could not be loaded (%s); compiling "
                         "them again", built.path, exc)
            _cuda_build.forget(built)
            built = _cuda_build.build(spec, nvrtc, arch)
    raise AssertionError("unreachable")


@functools.cache
def _module(model: Optional[int] = None, loss: Optional[int] = None, float32: bool = False,
            item_threads: int = 1) -> _Kernels:
    """The loaded module of one (model, loss) pair (float32: the float32 kernels;
    item_threads: GPU threads per item, 1, 4 or 32); without them, of the untemplated kernels only
    (sf_multiplicities). Compiled or read from the kernel cache, loaded once per process."""
    return _load(_cupy(), _cuda_build.Spec(model, loss, float32, item_threads))


def _specs(models: Optional[Sequence[str]], losses: Optional[Sequence[str]],
           precisions: Sequence[str], item_threads: Sequence[int]) -> list[_cuda_build.Spec]:
    from . import models as _models
    from ._fit import check_precision

    pairs = [_pair_spec(m, k, False, 1) for m in (models if models is not None else _models.names())
             for k in (losses if losses is not None else _models.LOSSES)]
    float32 = [check_precision(p) for p in precisions]
    for g in item_threads:
        if str(g) not in ITEM_THREADS[1:]:
            raise ValueError(f"item_threads must be among {', '.join(ITEM_THREADS[1:])}, got {g!r}")
    specs = [_cuda_build.Spec(p.model, p.loss, f32, int(g))
             for g in sorted({int(g) for g in item_threads}, reverse=True)
             for f32 in float32 for p in pairs]
    return specs + [_cuda_build.Spec()]


def compile_kernels(models: Optional[Sequence[str]] = None, losses: Optional[Sequence[str]] = None,
                    precisions: Sequence[str] = ("float64",), item_threads: Sequence[int] = (1, 32),
                    arch: Optional[str] = None, workers: Optional[int] = None,
                    progress: Optional[Callable[[Any], None]] = None) -> list[_cuda_build.Built]:
    """Compiles the CUDA kernels of ``models`` x ``losses`` (default: all) in ``precisions``
    for ``item_threads`` threads per item into the kernel cache, ``workers`` at a time (default:
    all cores), so that later processes load them instead of compiling (2-7 s per module).
    ``arch``: e.g. "sm_90" (then no GPU is needed, only NVRTC), default: the current device's.
    ``progress``: called with each module's record (``Built``: ``spec``, ``compiled``,
    ``seconds``, ...) as it is done, in the order of the modules; not for a module that failed
    (the first failure is raised once every build has finished).
    Returns one record per module (``compiled`` False where the cache had it).

    Parameters
    ----------
    models : sequence of str, optional
        Built-in model names (:func:`scalingfit.models.get`); None (default): every one.
    losses : sequence of str, optional
        Robust losses (``"linear"``, ``"huber"``, ...); None (default): every one.
    precisions : sequence of {"float64", "float32"}
        The kernels' precisions; default ``("float64",)``.
    item_threads : sequence of int
        Threads per item, each 1, 4 or 32 (a ValueError otherwise); default ``(1, 32)``.
    arch : str, optional
        Target architecture, real or virtual (``"sm_90"``, ``"compute_90"``; another form is
        a ValueError); None (default): the current device's.
    workers : int, optional
        Modules compiled at once (>= 1); None (default): all cores.
    progress : callable, optional
        Called with each module's ``Built`` record as it is done, as above; None (default):
        not called.
    """
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if arch is not None and not re.fullmatch(r"(sm|compute)_[0-9]+[af]?", arch):
        raise ValueError(f"arch must be a real or virtual architecture such as sm_90 or compute_90, got {arch!r}")
    specs = _specs(models, losses, precisions, item_threads)
    if arch is None:
        nvrtc, arch = _device_target(_cupy())
    else:
        cp, _ = _probe()
        nvrtc = _cuda_build.nvrtc_binding(cp)
    return _cuda_build.precompile(specs, nvrtc, arch, workers, progress=progress)


def _pair_spec(model: Union[str, int], loss: Union[str, int], float32: bool, item_threads: int) -> _cuda_build.Spec:
    """The module of a (model, loss) pair given by name ("chinchilla", "huber") or by the
    core's index (``scalingfit.models.get(name).index``, the position in ``models.LOSSES``)."""
    from . import _validate
    from . import models as _models

    m = model if isinstance(model, (int, np.integer)) else _models.get(model).index
    k = loss if isinstance(loss, (int, np.integer)) else _validate.check_loss(loss, _models.LOSSES)
    if not 0 <= int(m) < len(_models.names()):
        raise ValueError(f"model index must be in [0, {len(_models.names())}), got {m}")
    if not 0 <= int(k) < len(_models.LOSSES):
        raise ValueError(f"loss index must be in [0, {len(_models.LOSSES)}), got {k}")
    return _cuda_build.Spec(int(m), int(k), float32, item_threads)


def compile_ptx(model: Union[str, int], loss: Union[str, int] = "linear", arch: str = "compute_90",
                float32: bool = False, item_threads: int = 1) -> str:
    """PTX of the fit and bootstrap kernels of one (model, loss) pair (names such as
    ``("chinchilla", "huber")``, or the core's indices), compiled by NVRTC for ``arch`` with
    the options the backend uses (float32: of the float32 kernels). Needs CuPy's NVRTC binding
    and the NVRTC library, not a GPU: a check that an installation can build its kernels.
    Raises ``RuntimeError`` with NVRTC's log when the compilation fails."""
    spec = _pair_spec(model, loss, float32, item_threads)
    code, _, _ = _cuda_build.compile_program(_cuda_build.nvrtc_binding(), spec.names(), spec.options(arch), "ptx")
    return code.decode()


def parse_ptxas_log(log: str, kernels: dict[str, str]) -> dict[str, dict[str, int]]:
    """Registers, stack frame and spill stores / loads per kernel from ptxas's ``-v`` log;
    ``kernels`` maps the entry functions' (mangled) names to the names to report them under.
    Only an entry's own properties count: those of a function it calls (reported after it as
    "Function properties for" that function) are not the kernel's."""
    out: dict[str, dict[str, int]] = {}
    current: Optional[str] = None
    entry = ""
    own = False
    for line in log.splitlines():
        m = re.search(r"Compiling entry function '([^']+)'", line)
        if m:
            entry = m.group(1)
            current = kernels.get(entry)
            own = False
            continue
        if current is None:
            continue
        m = re.search(r"Function properties for (\S+)", line)
        if m:
            own = m.group(1) == entry
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m and own:
            out.setdefault(current, {}).update(
                stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3)))
        m = re.search(r"Used (\d+) registers", line)
        if m and own:
            out.setdefault(current, {})["registers"] = int(m.group(1))
    return out


def kernel_resources(model: Union[str, int], loss: Union[str, int] = "linear", arch: str = "sm_90",
                     float32: bool = False, item_threads: int = 1) -> dict[str, dict[str, int]]:
    """What ptxas reports for the fit and bootstrap kernels of one (model, loss) pair (names
    or indices, as :func:`compile_ptx`) compiled by NVRTC for ``arch`` (a real architecture,
    e.g. "sm_90"): per kernel ("fit", "bootstrap") its registers, stack frame and spill stores
    / loads in bytes per thread. Needs NVRTC only, not a GPU."""
    spec = _pair_spec(model, loss, float32, item_threads)
    _, log, lowered = _cuda_build.compile_program(_cuda_build.nvrtc_binding(), spec.names(),
                                                  spec.options(arch) + ("-Xptxas=-v",), None)
    out = parse_ptxas_log(log, {low: k for low, k in zip(lowered.values(), ("fit", "bootstrap"))})
    if set(out) != {"fit", "bootstrap"}:
        raise RuntimeError(f"no ptxas report for {list(spec.names())} in NVRTC's log:\n{log[-2000:]}")
    return out


# ------------------------------------------------------------------------------ launches


class _Device:
    """One call's context: the device's size, small constants, the data on the device."""

    def __init__(self, cp: Any) -> None:
        self.cp = cp
        dev = cp.cuda.Device()
        self.n_sm = int(dev.attributes["MultiProcessorCount"])
        self.max_blocks = self.n_sm * _BLOCKS_PER_SM  # fewer when their scratch would not fit
        self.dummy = cp.zeros(1, dtype=np.float64)  # stands for an absent optional array

    def grid(self, n_items: int, item_threads: int = 1) -> int:
        return max(1, min(-(-n_items * item_threads // _BLOCK), self.max_blocks))

    def put(self, a: Optional[NDArray[Any]]) -> Any:
        return self.dummy if a is None else self.cp.asarray(np.ascontiguousarray(a))

    def free_bytes(self) -> int:
        return int(self.cp.cuda.runtime.memGetInfo()[0])


def _pinned(cp: Any, shape: tuple[int, ...], dtype: Any) -> NDArray[Any]:
    dt = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    mem = cp.cuda.alloc_pinned_memory(max(count, 1) * dt.itemsize)
    return np.frombuffer(mem, dt, count).reshape(shape)


def _output_specs(P: int, compute_cov: bool) -> list[Optional[tuple[tuple[int, ...], Any]]]:
    """Row shape and dtype of each output (x, cov, cost, status, iterations); None: absent."""
    return [((P,), np.float64), ((P, P), np.float64) if compute_cov else None, ((), np.float64),
            ((), np.int32), ((), np.int32)]


def _row_bytes(spec: Optional[tuple[tuple[int, ...], Any]]) -> int:
    if spec is None:
        return 0
    shape, dt = spec
    return int(np.prod(shape, dtype=np.int64)) * int(np.dtype(dt).itemsize)


Launch = Callable[[list[Any], list[Any], int], None]


def _run_items(dev: _Device, n_items: int, P: int, compute_cov: bool,
               inputs: Sequence[NDArray[Any]], launch: Launch, reserved: int,
               per_block_scratch: int, return_cupy: bool,
               max_items_per_launch: Optional[int], tile: int = _BLOCK) -> tuple[Any, ...]:
    """Items [0, n_items) in chunks: per chunk, rows [a, b) of each of ``inputs`` go to the
    device and ``launch(device inputs, device outputs, n)`` runs them. ``reserved``: device bytes
    the data already hold; ``per_block_scratch``: device bytes of scratch per launched block
    (the launch allocates it; two launches may be in flight). When the full grid's scratch
    would take more than half of the memory for this call, launches take fewer blocks
    (``dev.max_blocks``): large problems then run with fewer threads instead of failing.
    Returns (x, cov or None, cost, status, iterations)."""
    cp = dev.cp
    specs = _output_specs(P, compute_cov)
    out_row = sum(_row_bytes(s) for s in specs)
    in_row = sum(int(a[:1].nbytes) for a in inputs)
    free = dev.free_bytes()
    budget = int(_DEVICE_FRACTION * free)
    if per_block_scratch > 0:
        blocks = (budget // 2) // (2 * per_block_scratch)
        if blocks < 1:
            raise MemoryError(
                f"the GPU has {free:,} bytes free; this batch's data take {reserved:,} and one "
                f"block's scratch {per_block_scratch:,} (two launches in flight: "
                f"{2 * per_block_scratch:,}), more than half of what a call may use, {budget:,}"
            )
        dev.max_blocks = min(dev.max_blocks, blocks)
    scratch = dev.max_blocks * per_block_scratch
    budget -= 2 * scratch
    slots = 1 if return_cupy else 2  # device buffers of two chunks in flight, or one
    per_item = in_row + out_row
    if budget < slots * per_item:
        raise MemoryError(
            f"the GPU has {free:,} bytes free; this batch's data take {reserved:,} and "
            f"its scratch {2 * scratch:,}, leaving no room for its items"
        )
    chunk = budget // (slots * per_item)
    if not return_cupy:
        chunk = min(chunk, max(1, _STAGING_BYTES // max(out_row, 1)))
    if max_items_per_launch is not None:
        chunk = min(chunk, int(max_items_per_launch))
    chunk = max(1, min(chunk, max(n_items, 1)))
    if chunk > tile:  # whole tiles (device.cuh): they then start where stage_capacity's do
        chunk -= chunk % tile
    ranges = [(a, min(a + chunk, n_items)) for a in range(0, n_items, chunk)]

    if return_cupy:
        # Outputs live on the device for the whole call; each chunk writes its rows.
        d_out = [None if s is None else cp.empty((n_items,) + s[0], dtype=s[1]) for s in specs]
        for a, b in ranges:
            d_in = [cp.asarray(np.ascontiguousarray(x[a:b])) for x in inputs]
            launch(d_in, [None if o is None else o[a:b] for o in d_out], b - a)
        cp.cuda.get_current_stream().synchronize()
        return tuple(d_out)

    host = [None if s is None else np.empty((n_items,) + s[0], dtype=s[1]) for s in specs]

    class Slot:  # one stream's device buffers and pinned staging, reused chunk after chunk
        def __init__(self) -> None:
            self.stream = cp.cuda.Stream(non_blocking=True)
            self.d_in = [cp.empty((chunk,) + x.shape[1:], dtype=x.dtype) for x in inputs]
            self.d_out = [None if s is None else cp.empty((chunk,) + s[0], dtype=s[1]) for s in specs]
            self.h_out = [None if s is None else _pinned(cp, (chunk,) + s[0], s[1]) for s in specs]
            self.pending: Optional[tuple[int, int]] = None

        def finish(self) -> None:
            if self.pending is None:
                return
            a, b = self.pending
            self.stream.synchronize()
            for dst, src in zip(host, self.h_out):
                if dst is not None and src is not None:
                    dst[a:b] = src[: b - a]
            self.pending = None

    pool = [Slot() for _ in range(min(slots, len(ranges)))]
    try:
        for i, (a, b) in enumerate(ranges):
            s = pool[i % len(pool)]
            s.finish()
            n = b - a
            with s.stream:
                d_in = [d[:n] for d in s.d_in]
                for d, x in zip(d_in, inputs):
                    d.set(np.ascontiguousarray(x[a:b]), stream=s.stream)
                d_out = [None if d is None else d[:n] for d in s.d_out]
                launch(d_in, d_out, n)
                for d, h in zip(d_out, s.h_out):
                    if d is not None and h is not None:
                        d.get(out=h[:n], stream=s.stream, blocking=False)
            s.pending = (a, b)
        for s in pool:
            s.finish()
    finally:
        for s in pool:  # after an interrupt: let the queued work end before buffers go
            s.stream.synchronize()
    return tuple(host)


def stage_capacity(item_problem: NDArray[np.int64], offsets: NDArray[np.int64],
                   point_bytes: int, stage_points: Optional[int] = None, tile: int = _BLOCK) -> int:
    """Points of shared memory per block for staging (device.cuh): enough for the widest tile
    of ``tile`` items (from its first item's problem to its last's), at most
    ``_SHARED_BYTES``. ``stage_points``, else the environment variable
    ``SCALINGFIT_CUDA_STAGE_POINTS``, overrides it (0: no staging; a tuning knob, results
    do not depend on it)."""
    if stage_points is None and os.environ.get(STAGE_ENV, "").strip():
        try:
            stage_points = int(os.environ[STAGE_ENV])
        except ValueError:
            raise ValueError(f"{STAGE_ENV} must be an integer, got {os.environ[STAGE_ENV]!r}") from None
    if stage_points is not None:
        if int(stage_points) < 0:
            raise ValueError("stage_points must be >= 0")
        return int(stage_points)
    n = int(item_problem.shape[0])
    n_problems = int(offsets.shape[0]) - 1
    if n == 0 or n_problems == 0:
        return 0
    first = item_problem[::tile]
    last = item_problem[np.minimum(np.arange(tile - 1, n + tile - 1, tile), n - 1)]
    ok = (first >= 0) & (last < n_problems) & (last >= first)
    span = offsets[last[ok] + 1] - offsets[first[ok]]
    return int(min(_SHARED_BYTES // max(int(point_bytes), 1), span.max(initial=0)))


def _f8(v: float) -> np.float64:
    return np.float64(v)


def _i4(v: int) -> np.int32:
    return np.int32(v)


def _i8(v: int) -> np.int64:
    return np.int64(v)


def _to_float32(arrays: Sequence[Optional[NDArray[Any]]], offsets: NDArray[np.int64],
                valid: NDArray[np.uint8]) -> tuple[list[Any], NDArray[np.uint8]]:
    """The per-point arrays of a float32 call, rounded to float32 as the CPU's float32 build
    rounds them (None stays None), and ``valid`` with every problem cleared whose rounded
    values are not all finite (finite in double, beyond float's range: |v| > 3.4e38), as that
    build marks them."""
    n = int(offsets[-1])
    bad = np.zeros(n, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf is what is looked for
        out = [None if a is None else np.ascontiguousarray(a, dtype=np.float32) for a in arrays]
        for a in out:
            if a is not None:
                bad |= ~np.isfinite(a.reshape(n, -1)).all(axis=1)
    if bad.any():
        cs = np.concatenate([[0], np.cumsum(bad)])
        valid = valid & (cs[offsets[1:]] == cs[offsets[:-1]]).astype(np.uint8)
    return out, valid


def item_threads_for(item_threads: Optional[int | str] = None, n_items: int = 0,
                     mean_points: float = 0.0, n_sm: int = 0) -> int:
    """GPU threads per item: ``item_threads``, else the environment variable
    ``SCALINGFIT_CUDA_ITEM_THREADS``, else "auto". Same results, bit for bit, with any of them.

    - 1: a thread solves each item; for batches of many items.
    - 4: a quad of threads solves each item, each summing a quarter of the points (a quarter of
      the per-point sums in each thread's registers: no spills in the Chinchilla kernels).
    - 32: a warp solves each item, evaluating 32 points at a time: for batches of few problems
      with many points, which one thread per item would leave on a small part of the GPU.
    - "auto": 32 when the batch has at most ``_WARP_ITEMS_PER_SM`` items per multiprocessor
      (``n_sm`` of them) and its items' problems have at least ``_WARP_MIN_POINTS`` points on
      average (``mean_points``), else 1. A kernel of 255 registers per thread (Chinchilla's)
      keeps 8 warps per multiprocessor resident: such a batch runs all its items at once either
      way, and a warp per item evaluates each round of 32 points in the time one thread takes
      for one point, where one thread per item would fill at most 8 of each multiprocessor's
      2,048 thread slots. A rule from the GPU's occupancy, not from timings (none measured)."""
    source = "item_threads"
    value: object = item_threads
    if item_threads is None:
        source, value = ITEM_THREADS_ENV, os.environ.get(ITEM_THREADS_ENV, "auto").strip() or "auto"
    if str(value).lower() not in ITEM_THREADS:
        raise ValueError(f"{source} must be one of {', '.join(ITEM_THREADS)}, got {value!r}")
    value = str(value).lower()
    if value == "auto":
        few = 0 < n_items <= _WARP_ITEMS_PER_SM * n_sm
        return 32 if few and mean_points >= _WARP_MIN_POINTS else 1
    return int(value)


def _mean_points(problem: NDArray[np.int64], offsets: NDArray[np.int64]) -> float:
    """The mean point count of the items' problems (items of no problem left out)."""
    sizes = np.diff(offsets)
    ok = (problem >= 0) & (problem < sizes.shape[0])
    return float(sizes[problem[ok]].mean()) if ok.any() else 0.0


def _n_inputs(t: NDArray[Any]) -> int:
    return int(t.shape[1]) if t.ndim == 2 else 1


def _n_params(model: int) -> int:
    """The parameter count of the core's model ``model`` (ValueError for an unknown index)."""
    info = _core.model_info()
    if not 0 <= int(model) < len(info):
        raise ValueError(f"unknown model index {model}")
    return int(info[int(model)]["n_params"])


def _check_items(model: int, n_items: int, p0: Optional[NDArray[Any]], lo: NDArray[Any],
                 hi: NDArray[Any]) -> int:
    """The model's parameter count P, once p0 (n_items, P) and the bounds (P,) have been
    checked against it, as ``_core`` checks them: the kernels read and write with the model's
    stride, so a wrong width would run past the device buffers."""
    P = _n_params(model)
    if p0 is not None and p0.shape != (n_items, P):
        raise ValueError(f"p0 must have shape ({n_items}, {P}), got {p0.shape}")
    if lo.shape != (P,) or hi.shape != (P,):
        raise ValueError(f"bounds must have one entry per parameter ({P}), got {lo.shape} and {hi.shape}")
    return P


def _check_resample_arrays(offsets: NDArray[np.int64], problem_id: Optional[NDArray[Any]],
                           groups: Optional[NDArray[Any]], n_groups: Optional[NDArray[Any]]) -> None:
    """problem_id (n_problems,), and groups (n_points,) with ids local to each problem below
    its n_groups (n_problems,), as ``_core.bootstrap_batch`` checks them."""
    n_problems = int(offsets.shape[0]) - 1
    if problem_id is not None and problem_id.shape != (n_problems,):
        raise ValueError(f"problem_id must have one entry per problem ({n_problems}), got shape {problem_id.shape}")
    if groups is None or n_groups is None:
        return
    if n_groups.shape != (n_problems,):
        raise ValueError(f"n_groups must have one entry per problem ({n_problems}), got shape {n_groups.shape}")
    if groups.shape != (int(offsets[-1]),):
        raise ValueError(f"groups must have one entry per point ({int(offsets[-1])}), got shape {groups.shape}")
    sizes = np.diff(offsets)
    bad = np.flatnonzero((n_groups < 0) | (n_groups > sizes))
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"n_groups[{j}] = {int(n_groups[j])} is not between 0 and the problem's number of "
                         f"points ({int(sizes[j])})")
    limit = np.repeat(n_groups, sizes)
    bad = np.flatnonzero((groups < 0) | (groups >= limit))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"groups[{i}] = {int(groups[i])} is not a group id of its problem (0..{int(limit[i]) - 1})")


def solve_batch(model: int, loss: int, x: NDArray[np.float64], y: NDArray[np.float64],
                weights: Optional[NDArray[np.float64]], offsets: NDArray[np.int64],
                problem: NDArray[np.int64], p0: NDArray[np.float64], lo: NDArray[np.float64],
                hi: NDArray[np.float64], ftol: float, xtol: float, gtol: float, max_iter: int,
                f_scale: float, log_residuals: bool, compute_cov: bool,
                n_threads: Optional[int] = None, float32: bool = False, *,
                return_cupy: bool = False, max_items_per_launch: Optional[int] = None,
                stage_points: Optional[int] = None,
                item_threads: Optional[int | str] = None) -> tuple[Any, ...]:
    """``_core.solve_batch`` on the GPU (``n_threads`` is ignored): (x, cov or None, cost,
    status, iterations) per item. ``stage_points``: shared memory per block, in points, for
    the problems' points (:func:`stage_capacity`; 0: read them from device memory);
    ``item_threads``: GPU threads per item (:func:`item_threads_for`)."""
    cp = _cupy()
    t, yt, valid = _core.prepare_batch(model, x, y, weights, offsets, log_residuals)
    if float32:
        (t, yt, weights), valid = _to_float32((t, yt, weights), offsets, valid)
    n_items = int(problem.shape[0])
    P = _check_items(model, n_items, p0, lo, hi)
    dev = _Device(cp)
    G = item_threads_for(item_threads, n_items, _mean_points(problem, offsets), dev.n_sm)
    fn = _module(model, loss, float32, G).get_function(kernel_names(model, loss)[0])
    d_t, d_y, d_w, d_off, d_valid = (dev.put(a) for a in (t, yt, weights, offsets, valid))
    d_lo, d_hi = dev.put(lo), dev.put(hi)
    reserved = sum(int(a.nbytes) for a in (t, yt, offsets, valid)) + (weights.nbytes if weights is not None else 0)
    n_problems = int(offsets.shape[0]) - 1
    flags = (_FLAG_W if weights is not None else 0) | (_FLAG_COV if compute_cov else 0)
    point_bytes = t.itemsize * (_n_inputs(t) + 1 + (weights is not None))
    cap = stage_capacity(problem, offsets, point_bytes, stage_points, _BLOCK // G)

    def launch(d_in: list[Any], d_out: list[Any], n: int) -> None:
        prob, start = d_in
        ox, ocov, ocost, ostatus, oiter = d_out
        fn((dev.grid(n, G),), (_BLOCK,), (
            d_t, d_y, d_w, d_off, d_valid, _i8(n_problems), prob, start, _i8(n), d_lo, d_hi,
            _f8(ftol), _f8(xtol), _f8(gtol), _i4(max_iter), _f8(f_scale), _i4(bool(log_residuals)),
            ox, dev.dummy if ocov is None else ocov, ocost, ostatus, oiter, _i8(cap), _i4(flags)),
           shared_mem=cap * point_bytes)

    return _run_items(dev, n_items, P, compute_cov, [problem, p0], launch, reserved, 0,
                      return_cupy, max_items_per_launch, _BLOCK // G)


def bootstrap_batch(model: int, loss: int, x: NDArray[np.float64], y: NDArray[np.float64],
                    weights: Optional[NDArray[np.float64]], offsets: NDArray[np.int64],
                    center: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64],
                    scheme: int, wild: int, seed: int, problem_id: Optional[NDArray[np.int64]],
                    groups: Optional[NDArray[np.int32]], n_groups: Optional[NDArray[np.int64]],
                    item_problem: NDArray[np.int64], item_replicate: NDArray[np.int64],
                    ftol: float, xtol: float, gtol: float, max_iter: int, f_scale: float,
                    log_residuals: bool, compute_cov: bool, n_threads: Optional[int] = None,
                    float32: bool = False, *, return_cupy: bool = False,
                    max_items_per_launch: Optional[int] = None,
                    stage_points: Optional[int] = None,
                    item_threads: Optional[int | str] = None) -> tuple[Any, ...]:
    """``_core.bootstrap_batch`` on the GPU (``n_threads`` is ignored): each item regenerates
    its resample from the Philox stream of (seed, problem, replicate) on its GPU thread.
    ``stage_points``, ``item_threads``: as for :func:`solve_batch`."""
    cp = _cupy()
    n_problems = int(offsets.shape[0]) - 1
    t, yt, valid = _core.prepare_batch(model, x, y, weights, offsets, log_residuals)
    P = _check_items(model, int(item_problem.shape[0]), None, lo, hi)
    if center.shape != (n_problems, P):
        raise ValueError(f"center must have shape ({n_problems}, {P}), got {center.shape}")
    if item_replicate.shape != item_problem.shape:
        raise ValueError("item_replicate must match item_problem")
    targets = scheme in _TARGET_SCHEMES
    use_groups = scheme in _GROUP_SCHEMES
    if use_groups and (groups is None or n_groups is None):
        raise ValueError("the groups schemes need groups and n_groups")
    _check_resample_arrays(offsets, problem_id, groups if use_groups else None, n_groups if use_groups else None)
    valid = valid & np.isfinite(center).all(axis=1).astype(np.uint8)
    yhat = resid = None
    if targets:
        yhat, resid, ok = _core.prepare_residuals(model, scheme, x, y, weights, offsets, center,
                                                  log_residuals, lo, hi)
        valid = valid & ok
    if float32:
        (t, yt, weights, yhat, resid), valid = _to_float32((t, yt, weights, yhat, resid), offsets, valid)
    real = np.float32 if float32 else np.float64
    sizes = np.diff(offsets)
    max_points = max(int(sizes.max(initial=0)), 1)
    max_groups = max(int(n_groups.max(initial=0)), 1) if use_groups and n_groups is not None else 1
    dev = _Device(cp)
    G = item_threads_for(item_threads, int(item_problem.shape[0]), _mean_points(item_problem, offsets),
                         dev.n_sm)
    fn = _module(model, loss, float32, G).get_function(kernel_names(model, loss)[1])
    arrays = (t, yt, weights, offsets, valid, problem_id, groups if use_groups else None,
              n_groups if use_groups else None, yhat, resid, center)
    (d_t, d_y, d_w, d_off, d_valid, d_pid, d_group, d_ng, d_yhat, d_resid,
     d_center) = (dev.put(a) for a in arrays)
    d_lo, d_hi = dev.put(lo), dev.put(hi)
    reserved = sum(int(a.nbytes) for a in arrays if a is not None)
    flags = ((_FLAG_W if weights is not None else 0) | (_FLAG_COV if compute_cov else 0)
             | (_FLAG_PID if problem_id is not None else 0) | (_FLAG_GROUPS if use_groups else 0)
             | (_FLAG_TARGETS if targets else 0))
    point_bytes = t.itemsize * (_n_inputs(t) + 1 + (weights is not None) + 2 * targets)
    cap = stage_capacity(item_problem, offsets, point_bytes, stage_points, _BLOCK // G)

    def launch(d_in: list[Any], d_out: list[Any], n: int) -> None:
        prob, rep = d_in
        ox, ocov, ocost, ostatus, oiter = d_out
        g = dev.grid(n, G)
        scratches = g * (_BLOCK // G)  # one per item's threads (device.cuh)
        mult = cp.empty(scratches * max_points, dtype=np.int32)
        gcount = cp.empty(scratches * max_groups, dtype=np.int32)
        ys = cp.empty(scratches * max_points, dtype=real)
        fn((g,), (_BLOCK,), (
            d_t, d_y, d_w, d_off, d_valid, _i8(n_problems), _i4(scheme), _i4(wild),
            np.uint64(seed), d_pid, d_group, d_ng, d_yhat, d_resid, d_center, prob, rep, _i8(n),
            d_lo, d_hi, _f8(ftol), _f8(xtol), _f8(gtol), _i4(max_iter), _f8(f_scale),
            _i4(bool(log_residuals)), ox, dev.dummy if ocov is None else ocov, ocost, ostatus,
            oiter, mult, gcount, ys, _i8(max_points), _i8(max_groups), _i8(cap), _i4(flags)),
           shared_mem=cap * point_bytes)

    scratch = ((4 + np.dtype(real).itemsize) * max_points + 4 * max_groups) * (_BLOCK // G)
    return _run_items(dev, int(item_problem.shape[0]), P, compute_cov, [item_problem, item_replicate],
                      launch, reserved, scratch, return_cupy, max_items_per_launch, _BLOCK // G)


def resample_multiplicities(scheme: int, seed: int, problem_id: int, replicates: NDArray[np.int64],
                            n_points: int, groups: Optional[NDArray[np.int32]] = None,
                            n_groups: int = 0) -> NDArray[np.int32]:
    """``_core.resample_multiplicities`` generated on the GPU (for tests): (R, n_points)."""
    cp = _cupy()
    fn = _module().get_function("sf_multiplicities")
    dev = _Device(cp)
    reps = np.ascontiguousarray(replicates, dtype=np.int64)
    R = int(reps.shape[0])
    use_groups = scheme in _GROUP_SCHEMES
    n = max(int(n_points), 1)
    g = dev.grid(R)
    out = cp.empty((R, n), dtype=np.int32)
    gcount = cp.empty(g * _BLOCK * max(int(n_groups), 1), dtype=np.int32)
    flags = _FLAG_PID | (_FLAG_GROUPS if use_groups else 0)
    fn((g,), (_BLOCK,), (
        dev.put(np.array([0, n_points], dtype=np.int64)), _i4(scheme), np.uint64(seed),
        dev.put(np.array([problem_id], dtype=np.int64)),
        dev.put(None if groups is None else np.ascontiguousarray(groups, dtype=np.int32)),
        dev.put(np.array([n_groups], dtype=np.int64)), dev.put(np.zeros(R, dtype=np.int64)),
        dev.put(reps), _i8(R), out, gcount, _i8(n), _i8(max(int(n_groups), 1)), _i4(flags)))
    return np.asarray(out.get())[:, : int(n_points)]
