"""Building the CUDA kernels: NVRTC compiles them, scalingfit keeps the binaries.

One (model, loss) module (the fit and bootstrap kernels) takes NVRTC and ptxas 2-7 s, and
the CUDA test run or a user's sweep over losses and precisions needs dozens of them. CuPy's
kernel cache cannot be counted on for template kernels (CuPy 14.1 and older compile a
``RawModule`` with name expressions again in every process), so the backend compiles its
kernels itself and keeps them in a folder of its own:

- for the device's architecture: a cubin for ``sm_XY`` when NVRTC knows the device, else PTX
  for the newest ``compute_XY`` it knows below it (the driver compiles that on load);
- an entry is ``<key>.json`` (the kernels' lowered names, the binary's name and sha256) and
  its binary ``<key>-<sha256[:16]>.cubin`` (or ``.ptx``). The key is a sha256 of the source
  (which carries a hash of every header), the options, the architecture and NVRTC's version,
  so a changed header never loads an old binary. Files are written under temporary names and renamed into place, the JSON
  last: a process killed mid-write leaves no entry that looks whole; an entry whose binary
  does not match its sha256, or whose JSON does not parse, is compiled again;
- :func:`precompile` compiles many modules at once on threads (NVRTC releases the GIL): the
  CLI's ``scalingfit cuda-compile``, and ``.ci/gpu`` before the GPU tests.

The folder: ``$SCALINGFIT_CUDA_CACHE``, else ``$XDG_CACHE_HOME/scalingfit/cuda``, else
``~/.cache/scalingfit/cuda``. ``SCALINGFIT_CUDA_CACHE=off`` (or a folder that cannot be
written) keeps the binaries in a temporary folder for the process only.

Everything here needs NVRTC (CuPy's binding), not a GPU, except finding the architecture of
the device at hand.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

CACHE_ENV = "SCALINGFIT_CUDA_CACHE"
#: NVRTC options of every kernel (the include path is added at compile time). No fused
#: multiply-adds: with them off, an item's arithmetic is that of the CPU's baseline build.
COMPILE_OPTIONS = ("-std=c++17", "--fmad=false")
#: The extra NVRTC option of the float32 kernels (config.hpp: float data and point arithmetic).
FLOAT32_OPTION = "-DSF_FLOAT32_DATA=1"
_FORMAT = 1  # of a cache entry; part of the key
_OFF = ("off", "0", "none", "")

_log = logging.getLogger("scalingfit")


class CudaUnavailableError(RuntimeError):
    """``backend="cuda"`` where CuPy or a CUDA device is missing."""


def include_dir() -> Path:
    """The folder holding ``scalingfit/*.hpp`` and ``device.cuh``: installed with the package
    (``scalingfit/include``), or the source tree's ``cpp/include`` for an editable install."""
    here = Path(__file__).resolve().parent
    for d in (here / "include", here.parent.parent / "cpp" / "include"):
        if (d / "scalingfit" / "device.cuh").is_file():
            return d
    raise CudaUnavailableError("the core's headers (scalingfit/include) are missing from this installation")


@functools.cache
def kernel_source() -> str:
    """The NVRTC source: one include, preceded by a hash of every header, so that a cache keyed
    by source and options never serves a binary of older headers."""
    h = hashlib.sha256()
    for p in sorted((include_dir() / "scalingfit").iterdir()):
        if p.suffix in (".hpp", ".cuh"):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return f'// scalingfit core headers, sha256 {h.hexdigest()}\n#include "scalingfit/device.cuh"\n'


def kernel_names(model: int, loss: int) -> tuple[str, str]:
    """NVRTC name expressions of the fit and bootstrap kernels of one (model, loss) pair."""
    t = f"scalingfit::ModelAt<{int(model)}>::type, scalingfit::LossAt<{int(loss)}>::type"
    return f"sf_fit<{t}>", f"sf_resample<{t}>"


def options(float32: bool = False, item_threads: int = 1) -> tuple[str, ...]:
    """NVRTC options of the kernels of one precision and count of threads per item (no -arch)."""
    return (COMPILE_OPTIONS + ((FLOAT32_OPTION,) if float32 else ())
            + ((f"-DSF_ITEM_THREADS={item_threads}",) if item_threads != 1 else ())
            + (f"-I{include_dir()}",))


@dataclass(frozen=True)
class Spec:
    """One module: the fit and bootstrap kernels of (model, loss) in a precision, for a count
    of threads per item; without model and loss, the untemplated ``sf_multiplicities``."""

    model: Optional[int] = None
    loss: Optional[int] = None
    float32: bool = False
    item_threads: int = 1

    def names(self) -> tuple[str, ...]:
        if self.model is None or self.loss is None:
            return ("sf_multiplicities",)
        return kernel_names(self.model, self.loss)

    def options(self, arch: str) -> tuple[str, ...]:
        return options(self.float32, self.item_threads) + (f"-arch={arch}",)


@dataclass(frozen=True)
class Built:
    """A module's entry in the cache: its binary, the lowered name of each name expression,
    and whether this call compiled it (False: found in the cache) and in how many seconds."""

    spec: Spec
    path: Path
    lowered: dict[str, str]
    compiled: bool
    seconds: float
    entry: Path  # the JSON


def nvrtc_binding(cp: Any = None) -> Any:
    """NVRTC: ``cp.cuda.nvrtc`` of a CuPy-like module, else CuPy's binding (no GPU needed)."""
    if cp is not None:
        return cp.cuda.nvrtc
    try:
        from cupy_backends.cuda.libs import nvrtc
    except Exception as exc:
        raise CudaUnavailableError(f"CuPy's NVRTC binding is not importable ({exc}); install scalingfit[cuda]") from exc
    return nvrtc


def target_arch(nvrtc: Any, compute_capability: int | str) -> str:
    """The -arch for a device of ``compute_capability`` (e.g. 90): ``sm_90`` (a cubin) when this
    NVRTC compiles for it, else ``compute_XY`` (PTX, which the driver compiles on load) for the
    newest architecture NVRTC knows below it."""
    cc = int(compute_capability)
    supported = sorted(int(a) for a in nvrtc.getSupportedArchs())
    if cc in supported:
        return f"sm_{cc}"
    below = [a for a in supported if a < cc]
    if not below:
        raise CudaUnavailableError(f"NVRTC {nvrtc.getVersion()} cannot compile for compute capability {cc} "
                                   f"(it knows {supported[0]}-{supported[-1]})")
    return f"compute_{below[-1]}"


def compile_program(nvrtc: Any, names: Sequence[str], opts: Sequence[str],
                    output: Optional[str]) -> tuple[bytes, str, dict[str, str]]:
    """NVRTC on the kernel source with ``names`` as name expressions: (the binary, "cubin" or
    "ptx" as ``output`` asks, else b""; NVRTC's log; name expression -> lowered name). Raises
    ``RuntimeError`` with the log when the compilation fails."""
    prog = nvrtc.createProgram(kernel_source(), "scalingfit.cu", [], [])
    try:
        for n in names:
            nvrtc.addNameExpression(prog, n)
        try:
            nvrtc.compileProgram(prog, list(opts))
        except Exception as exc:
            raise RuntimeError(f"NVRTC failed on {list(names)}:\n{nvrtc.getProgramLog(prog)}") from exc
        lowered = {}
        for n in names:
            low = nvrtc.getLoweredName(prog, n)
            if not low:
                raise RuntimeError(f"NVRTC produced no kernel for {n}")
            lowered[n] = str(low)
        code: Any = b""
        if output == "cubin":
            code = nvrtc.getCUBIN(prog)
        elif output == "ptx":
            code = nvrtc.getPTX(prog)
        log = nvrtc.getProgramLog(prog)
    finally:
        nvrtc.destroyProgram(prog)
    if isinstance(code, str):
        code = code.encode()
    return bytes(code), log.decode() if isinstance(log, bytes) else str(log), lowered


# ------------------------------------------------------------------------------ the cache

_temp_lock = threading.Lock()
_temp: list[Path] = []


def _temporary_folder() -> Path:
    with _temp_lock:
        if not _temp:
            d = Path(tempfile.mkdtemp(prefix="scalingfit-cuda-"))
            atexit.register(shutil.rmtree, d, True)
            _temp.append(d)
        return _temp[0]


def cache_dir() -> Optional[Path]:
    """The kernel cache's folder (see the module's notes), or None when it is turned off."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scalingfit" / "cuda"


_unwritable_noted: set[str] = set()


def _folder(directory: Optional[Path] = None) -> Path:
    """Where entries go: ``directory``, else :func:`cache_dir`; a folder that cannot be made
    or written is noted once on the ``scalingfit`` logger and replaced by a temporary one."""
    d = directory if directory is not None else cache_dir()
    if d is None:
        return _temporary_folder()
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / f".probe.{os.getpid()}.{threading.get_ident()}"
        probe.write_bytes(b"")
        probe.unlink()
        return d
    except OSError as exc:
        if str(d) not in _unwritable_noted:
            _unwritable_noted.add(str(d))
            _log.warning("scalingfit: the CUDA kernel cache %s cannot be written (%s); kernels are "
                         "compiled for this process only (set %s)", d, exc, CACHE_ENV)
        return _temporary_folder()


def _key(spec: Spec, nvrtc: Any, arch: str) -> str:
    """The entry's name. The include folder's path is left out (the source's hash covers the
    headers it holds): another installation of the same scalingfit finds the same entries."""
    opts = [o for o in spec.options(arch) if not o.startswith("-I")]
    parts = [str(_FORMAT), kernel_source(), "\0".join(opts), repr(nvrtc.getVersion()),
             "\0".join(spec.names())]
    return hashlib.sha256("\x01".join(parts).encode()).hexdigest()[:40]


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_entry(meta_path: Path, spec: Spec) -> Optional[tuple[Path, dict[str, str]]]:
    """A whole entry's (binary, lowered names), or None (absent, unreadable, or damaged)."""
    try:
        meta = json.loads(meta_path.read_text())
        binary = meta_path.with_name(str(meta["binary"]))
        lowered = {str(k): str(v) for k, v in dict(meta["lowered"]).items()}
        if sorted(lowered) != sorted(spec.names()) or binary.parent != meta_path.parent:
            return None
        if hashlib.sha256(binary.read_bytes()).hexdigest() != meta["sha256"]:
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return binary, lowered


def forget(built: Built) -> None:
    """Removes a module's entry (a binary the driver refused): the next build compiles it."""
    built.entry.unlink(missing_ok=True)
    built.path.unlink(missing_ok=True)


def build(spec: Spec, nvrtc: Any, arch: str, directory: Optional[Path] = None) -> Built:
    """The module's entry: found in the cache, else compiled by NVRTC and stored."""
    t0 = time.perf_counter()
    folder = _folder(directory)
    key = _key(spec, nvrtc, arch)
    meta_path = folder / f"{key}.json"
    found = _read_entry(meta_path, spec)
    if found is not None:
        return Built(spec, found[0], found[1], False, time.perf_counter() - t0, meta_path)
    output = "cubin" if arch.startswith("sm_") else "ptx"
    code, _, lowered = compile_program(nvrtc, spec.names(), spec.options(arch), output)
    digest = hashlib.sha256(code).hexdigest()
    # Named by its content too: two processes compiling the same module at once each point
    # their JSON at their own binary, so no JSON names a binary it does not describe.
    binary = folder / f"{key}-{digest[:16]}.{output}"
    _write(binary, code)
    meta = {"binary": binary.name, "sha256": digest, "lowered": lowered,
            "names": list(spec.names()), "options": list(spec.options(arch)[:-1]), "arch": arch,
            "nvrtc": repr(nvrtc.getVersion())}
    _write(meta_path, json.dumps(meta, indent=1).encode())
    return Built(spec, binary, lowered, True, time.perf_counter() - t0, meta_path)


def precompile(specs: Iterable[Spec], nvrtc: Any, arch: str, workers: Optional[int] = None,
               directory: Optional[Path] = None,
               progress: Optional[Callable[[Built], None]] = None) -> list[Built]:
    """:func:`build` of every spec (duplicates once), ``workers`` at a time (default: the
    machine's cores); ``progress`` is called with each, in the order given. The first failure
    is raised once every build has finished."""
    todo = list(dict.fromkeys(specs))
    folder = _folder(directory)
    n = max(1, min(int(workers or os.cpu_count() or 1), len(todo) or 1))
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(build, s, nvrtc, arch, folder) for s in todo]
        done: list[Built] = []
        error: Optional[BaseException] = None
        for f in futures:
            try:
                b = f.result()
            except Exception as exc:
                error = error or exc
                continue
            done.append(b)
            if progress is not None:
                progress(b)
    if error is not None:
        raise error
    return done
