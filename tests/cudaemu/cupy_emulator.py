"""A CPU stand-in for the part of CuPy that scalingfit's CUDA backend uses, for the test suite.

The backend (``scalingfit/_cuda.py``) never ran on a GPU in CI: CI has none. This module lets
it run there anyway, unchanged: tests hand it to ``_cuda`` in place of CuPy, and then

- ``RawModule`` compiles the kernels' real source (``device.cuh`` and the core's headers, as
  NVRTC would get it, with the same ``-D``/``-I`` options) with the host C++ compiler and
  ``cuda_emu.hpp``, the CUDA run time on CPU threads: a launch runs each block of the grid as
  ``blockDim.x`` threads, with working ``__syncthreads`` and dynamic shared memory;
- ``cuda.nvrtc`` does the same for the backend's own compilation (``_cuda_build``): its cubin
  is a line naming the compiled library, which ``RawModule(path=...)`` loads (an image that
  is not one fails to load, as the driver's would);
- kernel arguments are packed as CuPy packs them (an array as its data pointer, a NumPy scalar
  as its bytes) and checked against the kernel's parameter sizes, which the GPU cannot do;
  Python numbers, host arrays and non-contiguous arrays are refused;
- device arrays are host memory behind a CuPy-like type (``set``/``get`` with CuPy's checks),
  counted against an emulated device memory so that the backend's chunking sees a device
  of any size (``Device(total_bytes=...)``); streams run in order.

What it checks: the thread-to-item mapping of the kernels, the launch code's argument lists,
chunking, staging and the copies back, against the CPU engine. What it cannot: NVRTC's code
generation, CUDA's libm, and anything about speed. Not shipped with the package.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np

__version__ = "emulator"
#: Set to 1 to compile the kernels with AddressSanitizer and UBSan (the process must have the
#: ASan runtime preloaded, as .ci/sanitize does): an out-of-bounds read or write of a kernel,
#: in device arrays, shared memory or its own scratch, then stops the run with a report. Set to
#: "thread" for ThreadSanitizer (the TSan runtime preloaded): a data race between the threads of
#: a block (shared memory, or an item's scratch shared by its threads, read and written without
#: a barrier between) stops the run with a report, like CUDA's racecheck.
SANITIZE_ENV = "SCALINGFIT_CUDAEMU_SANITIZE"
#: Set to 0 to skip prebuild() (see there).
PREBUILD_ENV = "SCALINGFIT_CUDAEMU_PREBUILD"
HERE = Path(__file__).resolve().parent
_LAUNCH_ARGS = (ctypes.c_uint, ctypes.c_uint, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p),
                ctypes.POINTER(ctypes.c_longlong), ctypes.c_int, ctypes.c_char_p, ctypes.c_int)


def compiler() -> Optional[str]:
    """The host C++ compiler the emulator uses (``$CXX``, else c++/g++/clang++), or None."""
    for c in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if c and shutil.which(c):
            return c
    return None


# ------------------------------------------------------------------------------ the device


class _DeviceState:
    """The emulated GPU: its multiprocessor count and memory (live allocations counted)."""

    def __init__(self) -> None:
        self.n_sm = 2
        self.total_bytes = 1 << 30
        self.used = 0
        self.lock = threading.Lock()
        self.launches = 0
        self.grids: list[int] = []  # the grid (blocks) of every launch

    def allocate(self, nbytes: int) -> None:
        with self.lock:
            if self.used + nbytes > self.total_bytes:
                raise MemoryError(f"out of emulated device memory: {nbytes:,} bytes asked, "
                                  f"{self.total_bytes - self.used:,} free")
            self.used += nbytes

    def release(self, nbytes: int) -> None:
        with self.lock:
            self.used -= nbytes


STATE = _DeviceState()


def configure(n_sm: int = 2, total_bytes: int = 1 << 30) -> None:
    """Sets the emulated device's multiprocessor count and memory size."""
    STATE.n_sm = int(n_sm)
    STATE.total_bytes = int(total_bytes)


class ndarray:
    """A device array: host memory, CuPy's interface for what the backend calls."""

    def __init__(self, host: np.ndarray, base: Optional[ndarray] = None) -> None:
        self._a = host
        self._base = base
        if base is None:
            n = int(host.nbytes)
            STATE.allocate(n)
            weakref.finalize(self, STATE.release, n)

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    nbytes = property(lambda self: self._a.nbytes)
    size = property(lambda self: self._a.size)
    ndim = property(lambda self: self._a.ndim)

    def __len__(self) -> int:
        return len(self._a)

    def __getitem__(self, key: Any) -> ndarray:
        if not isinstance(key, slice) and not (isinstance(key, tuple) and all(isinstance(k, slice) for k in key)):
            raise TypeError("the emulator supports basic slicing of device arrays only")
        return ndarray(self._a[key], base=self)

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        if not isinstance(arr, np.ndarray):
            raise TypeError("set() takes a numpy.ndarray")
        if arr.dtype != self.dtype:
            raise TypeError(f"dtype mismatch: {self.dtype} != {arr.dtype}")
        if arr.shape != self.shape:
            raise ValueError(f"shape mismatch: {self.shape} != {arr.shape}")
        self._a[...] = arr

    def get(self, stream: Any = None, order: str = "C", out: Optional[np.ndarray] = None,
            blocking: bool = True) -> np.ndarray:
        if out is None:
            return np.array(self._a, order=order)
        if out.dtype != self.dtype or out.shape != self.shape:
            raise ValueError(f"out must be {self.shape} {self.dtype}, got {out.shape} {out.dtype}")
        if not out.flags.c_contiguous:
            raise ValueError("out must be C-contiguous")
        out[...] = self._a
        return out

    def _pointer(self) -> int:
        if not self._a.flags.c_contiguous:
            raise ValueError("a non-contiguous device array passed to a kernel (it reads it as contiguous)")
        return int(self._a.ctypes.data)


def asarray(a: Any, dtype: Any = None) -> ndarray:
    host = a._a if isinstance(a, ndarray) else np.asarray(a)
    return ndarray(np.array(host, dtype=dtype, order="C", copy=True))


def empty(shape: Any, dtype: Any = np.float64) -> ndarray:
    return ndarray(_garbage(shape, dtype))


def _garbage(shape: Any, dtype: Any) -> np.ndarray:
    """Uninitialised device memory, made visible: every byte 0xFF (NaN for floats, -1 for ints),
    so that an output a kernel fails to write shows up instead of reading as zero."""
    a = np.empty(shape, dtype=dtype)
    a.view(np.uint8).fill(0xFF)
    return a


def zeros(shape: Any, dtype: Any = np.float64) -> ndarray:
    return ndarray(np.zeros(shape, dtype=dtype))


# ------------------------------------------------------------------------------ kernels


def _cache_dir() -> Path:
    d = Path(os.environ.get("SCALINGFIT_CUDAEMU_CACHE", Path(tempfile.gettempdir()) / f"scalingfit-cudaemu-{os.getuid()}"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _host_options(options: Sequence[str]) -> list[str]:
    out = []
    for o in options:
        if o.startswith(("-D", "-I")):
            out.append(o)
        elif o in ("-std=c++17", "--fmad=false") or o.startswith("-arch="):
            pass  # the emulator always compiles C++17 without contractions
        else:
            raise ValueError(f"the CUDA emulator does not know the NVRTC option {o!r}")
    return out


def _build(code: str, options: Sequence[str], names: Sequence[str], load: bool = True) -> Optional[ctypes.CDLL]:
    lib = _build_library(code, options, names)
    return ctypes.CDLL(str(lib)) if load else None


def _build_library(code: str, options: Sequence[str], names: Sequence[str]) -> Path:
    """The kernels' shared library in the cache (compiled unless it is there): the emulator's
    cubin. Its kernel ``names[i]`` is the symbol ``sf_emu_kernel_{i}``."""
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("the CUDA emulator needs a C++ compiler (set CXX)")
    wrappers = "".join(
        f'extern "C" int sf_emu_kernel_{i}(unsigned g, unsigned b, size_t sm, void** a, const long long* s, '
        f"int n, char* e, int el) {{ return sf_emu::launch(&{name}, g, b, sm, a, s, n, e, el); }}\n"
        for i, name in enumerate(names))
    source = f'#include "cuda_emu.hpp"\n{code}\n{wrappers}'
    flags = ["-std=c++17", "-O1", "-fPIC", "-shared", "-pthread", "-ffp-contract=off",
             "-fno-trapping-math", "-fno-math-errno", "-DSF_CUDA_EMULATION=1", f"-I{HERE}",
             *_host_options(options)]
    sanitize = os.environ.get(SANITIZE_ENV, "")
    if sanitize == "1":  # the kernels under ASan + UBSan (.ci/sanitize)
        flags += ["-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                  "-fno-sanitize-recover=undefined"]
    elif sanitize == "thread":  # under ThreadSanitizer: data races between a block's threads
        flags += ["-g", "-fsanitize=thread"]
    h = hashlib.sha256("\0".join([source, *flags, (HERE / "cuda_emu.hpp").read_text()]).encode())
    lib = _cache_dir() / f"{h.hexdigest()[:32]}.so"
    if not lib.exists():
        tag = f"{os.getpid()}-{threading.get_ident()}"
        src = lib.with_suffix(f".{tag}.cpp")
        src.write_text(source)
        tmp = lib.with_suffix(f".{tag}.tmp")
        proc = subprocess.run([cxx, *flags, str(src), "-o", str(tmp)], capture_output=True, text=True,
                              check=False)
        src.unlink()
        if proc.returncode != 0:
            raise RuntimeError(f"the CUDA emulator's compiler failed on {list(names)}:\n{proc.stderr[-4000:]}")
        os.replace(tmp, lib)
    return lib


def prebuild(modules: Sequence[tuple[str, Sequence[str], Sequence[str]]], workers: Optional[int] = None) -> None:
    """Compiles (code, options, name expressions) modules into the cache, ``workers`` at a time
    (default: the machine's cores), so that later ``RawModule``s load instead of compiling.
    With ``SCALINGFIT_CUDAEMU_PREBUILD=0`` it does nothing (a run of a few tests then compiles
    only the modules they use, when they use them)."""
    from concurrent.futures import ThreadPoolExecutor

    if os.environ.get(PREBUILD_ENV, "1") == "0":
        return

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for f in [pool.submit(_build, c, o, n, False) for c, o, n in modules]:
            f.result()


class RawModule:
    """``cupy.RawModule``: the kernels named by ``name_expressions`` (or, without them, the
    extern "C" kernel asked for by name) compiled at the first ``get_function``; or, with
    ``path``, the module of an emulated cubin (:class:`_Nvrtc`'s ``getCUBIN``), its kernels
    asked for by their lowered names."""

    def __init__(self, code: Optional[str] = None, options: Sequence[str] = (),
                 name_expressions: Optional[Sequence[str]] = None, path: Optional[str] = None) -> None:
        if (code is None) == (path is None):
            raise TypeError("RawModule takes code or path, not both")
        self.code = code
        self.options = tuple(options)
        self.names = list(name_expressions) if name_expressions else None
        self._lib: dict[tuple[str, ...], ctypes.CDLL] = {}
        self._path_lib: Optional[ctypes.CDLL] = None
        if path is not None:
            self._path_lib = _load_cubin(Path(path).read_bytes())

    def get_function(self, name: str) -> RawKernel:
        if self._path_lib is not None:
            if not hasattr(self._path_lib, name):
                raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: no kernel {name!r} in the module")
            return RawKernel(name, getattr(self._path_lib, name))
        names = tuple(self.names) if self.names is not None else (name,)
        if name not in names:
            raise ValueError(f"{name!r} is not among the module's name expressions")
        if names not in self._lib:
            lib = _build(self.code, self.options, names)
            assert lib is not None
            self._lib[names] = lib
        return RawKernel(name, getattr(self._lib[names], f"sf_emu_kernel_{names.index(name)}"))


class RawKernel:
    def __init__(self, name: str, fn: Any) -> None:
        self.name = name
        fn.argtypes = _LAUNCH_ARGS
        fn.restype = ctypes.c_int
        self._fn = fn

    def __call__(self, grid: tuple[int, ...], block: tuple[int, ...], args: Sequence[Any],
                 shared_mem: int = 0, stream: Any = None) -> None:
        grid, block = tuple(grid), tuple(block)
        if any(int(v) != 1 for v in (*grid[1:], *block[1:])):
            raise ValueError("the emulator launches one-dimensional grids only")
        keep = []
        for i, a in enumerate(args):
            if isinstance(a, ndarray):
                keep.append(ctypes.c_void_p(a._pointer()))
            elif isinstance(a, np.generic):
                keep.append(ctypes.create_string_buffer(np.asarray(a).tobytes(), a.itemsize))
            else:
                raise TypeError(f"kernel {self.name} argument {i}: {type(a).__name__} (pass device arrays "
                                "and NumPy scalars, whose type fixes the bytes the kernel reads)")
        sizes = [8 if isinstance(a, ndarray) else a.itemsize for a in args]
        argv = (ctypes.c_void_p * max(len(keep), 1))(*[ctypes.addressof(k) for k in keep])
        size_arr = (ctypes.c_longlong * max(len(sizes), 1))(*sizes)
        err = ctypes.create_string_buffer(1024)
        rc = self._fn(int(grid[0]), int(block[0]), int(shared_mem), argv, size_arr, len(keep), err, 1024)
        STATE.launches += 1
        STATE.grids.append(int(grid[0]))
        if rc != 0:
            raise RuntimeError(f"kernel {self.name}: {err.value.decode()}")


# ------------------------------------------------------------------------------ NVRTC

_CUBIN_MAGIC = b"scalingfit-cuda-emulator-module\n"


def _load_cubin(data: bytes) -> ctypes.CDLL:
    """The library an emulated cubin names (a driver's cuModuleLoad: a damaged image fails)."""
    if not data.startswith(_CUBIN_MAGIC):
        raise RuntimeError("CUDA_ERROR_INVALID_IMAGE: not a module of the CUDA emulator")
    lib = Path(data[len(_CUBIN_MAGIC):].decode(errors="replace").strip())
    if not lib.is_file():
        raise RuntimeError(f"CUDA_ERROR_INVALID_IMAGE: the emulated module's library {lib} is missing")
    return ctypes.CDLL(str(lib))


class _Program:
    def __init__(self, source: str) -> None:
        self.source = source
        self.names: list[str] = []
        self.lib: Optional[Path] = None
        self.log = ""


class _Nvrtc:
    """``cupy.cuda.nvrtc`` for the backend's own compilation: the host compiler builds the
    program's kernels into a shared library (the emulator's cubin is a line naming it); a
    kernel's lowered name is its wrapper's symbol. ``compiles`` counts compilations."""

    compiles = 0
    _lock = threading.Lock()

    @staticmethod
    def getVersion() -> tuple[str, str]:
        return ("cuda-emulator", os.environ.get(SANITIZE_ENV, ""))

    @staticmethod
    def getSupportedArchs() -> tuple[int, ...]:
        return (75, 80, 86, 89, 90)

    @staticmethod
    def createProgram(src: str, name: str, headers: Sequence[str], include_names: Sequence[str]) -> _Program:
        return _Program(src)

    @staticmethod
    def addNameExpression(prog: _Program, name: str) -> None:
        prog.names.append(name)

    @classmethod
    def compileProgram(cls, prog: _Program, options: Sequence[str]) -> None:
        with cls._lock:
            cls.compiles += 1
        try:
            prog.lib = _build_library(prog.source, options, prog.names)
        except RuntimeError as exc:
            prog.log = str(exc)
            raise RuntimeError("NVRTC_ERROR_COMPILATION (6)") from None

    @staticmethod
    def getLoweredName(prog: _Program, name: str) -> str:
        return f"sf_emu_kernel_{prog.names.index(name)}"

    @staticmethod
    def getCUBIN(prog: _Program) -> bytes:
        assert prog.lib is not None
        return _CUBIN_MAGIC + str(prog.lib).encode()

    @staticmethod
    def getPTX(prog: _Program) -> bytes:
        raise RuntimeError("the CUDA emulator makes no PTX")

    @staticmethod
    def getProgramLog(prog: _Program) -> str:
        return prog.log

    @staticmethod
    def destroyProgram(prog: _Program) -> None:
        pass


# ------------------------------------------------------------------------------ cupy.cuda


class _Stream:
    _current: Optional[_Stream] = None

    def __init__(self, null: bool = False, non_blocking: bool = False) -> None:
        self._prev: list[Optional[_Stream]] = []

    def __enter__(self) -> _Stream:  # noqa: PYI034 - Python 3.9 has no typing.Self
        self._prev.append(_Stream._current)
        _Stream._current = self
        return self

    def __exit__(self, *exc: object) -> None:
        _Stream._current = self._prev.pop()

    def synchronize(self) -> None:  # work runs in order, at once
        pass


_NULL_STREAM = _Stream(null=True)


class _Device:
    def __init__(self, device: int = 0) -> None:
        if device != 0:
            raise ValueError("the emulator has one device")
        self.id = 0

    @property
    def attributes(self) -> dict[str, int]:
        return {"MultiProcessorCount": STATE.n_sm}

    compute_capability = "90"


class _Runtime:
    @staticmethod
    def getDeviceCount() -> int:
        return 1

    @staticmethod
    def memGetInfo() -> tuple[int, int]:
        return STATE.total_bytes - STATE.used, STATE.total_bytes

    @staticmethod
    def getDeviceProperties(device: int) -> dict[str, Any]:
        return {"name": b"scalingfit CUDA emulator (CPU threads)", "multiProcessorCount": STATE.n_sm}

    @staticmethod
    def runtimeGetVersion() -> int:
        return 0

    @staticmethod
    def driverGetVersion() -> int:
        return 0


class _Cuda:
    Stream = _Stream
    Device = _Device
    runtime = _Runtime()
    nvrtc = _Nvrtc

    @staticmethod
    def get_current_stream() -> _Stream:
        return _Stream._current or _NULL_STREAM

    @staticmethod
    def alloc_pinned_memory(nbytes: int) -> bytearray:
        return bytearray(int(nbytes))


cuda = _Cuda()
