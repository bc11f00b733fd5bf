"""The CUDA kernels' build and cache (scalingfit/_cuda_build.py): compiled once, loaded after.

Through the CUDA emulator (tests/cudaemu: its NVRTC stand-in builds the kernels with the host
compiler, its "cubin" names the library) for the load path, and through the real NVRTC (CuPy's
binding, no GPU needed; skipped where it is not installed) for the cubins and PTX themselves.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scalingfit
from scalingfit import _core, _cuda, _cuda_build
from scalingfit.cli import main
from test_cuda import _batch, _emulated, _nvrtc, simd  # noqa: F401 (simd: a fixture)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """The emulated backend with a kernel cache of its own (tmp_path / "cache")."""
    monkeypatch.setenv(_cuda_build.CACHE_ENV, str(tmp_path / "cache"))
    with _emulated(monkeypatch) as emulator:
        yield emulator


def _compiles(emulator: Any) -> int:
    return int(emulator.cuda.nvrtc.compiles)


def _fit_matches_cpu(model: str = "saturating_power_law") -> None:
    _core.set_simd_level("baseline")
    x, y, off, p0 = _batch(model, n_problems=5, n=20, seed=3)
    cpu = scalingfit.fit_batch(model, x, y, off, p0)
    gpu = scalingfit.fit_batch(model, x, y, off, p0, backend="cuda")
    np.testing.assert_array_equal(gpu.x, cpu.x)
    np.testing.assert_array_equal(gpu.status, cpu.status)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def test_a_module_is_compiled_once_then_loaded_from_the_cache(emu: Any, tmp_path: Path, simd: None) -> None:
    """The first use compiles (one NVRTC program: fit and bootstrap kernels) and leaves one
    whole entry (binary + JSON with the lowered names and the binary's sha256); a new process
    (the in-memory modules cleared) loads it without compiling, and its kernels give the CPU's
    bits."""
    spl = scalingfit.models.get("saturating_power_law").index
    before = _compiles(emu)
    _cuda._module(spl, 0)
    assert _compiles(emu) == before + 1
    (entry,) = _entries(tmp_path / "cache")
    meta = json.loads(entry.read_text())
    assert sorted(meta["lowered"]) == sorted(_cuda.kernel_names(spl, 0))
    assert meta["arch"] == "sm_90" and (tmp_path / "cache" / meta["binary"]).is_file()
    _cuda._module.cache_clear()
    _cuda._module(spl, 0)
    assert _compiles(emu) == before + 1
    _fit_matches_cpu()
    assert _compiles(emu) == before + 1
    assert not list((tmp_path / "cache").glob("*.tmp")) and not list((tmp_path / "cache").glob(".*"))


@pytest.mark.parametrize("damage", ["json_truncated", "json_garbage", "binary_changed", "binary_swapped",
                                    "binary_missing", "driver_refuses", "names_differ"])
def test_a_damaged_entry_is_compiled_again(emu: Any, tmp_path: Path, damage: str, simd: None,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """A cache entry that is cut short, altered, missing its binary, names other kernels, or
    whose binary the driver refuses (its sha256 right, but the image bad) is compiled again
    and the fit still gives the CPU's bits; nothing crashes. A binary swapped for another
    module's (which would load, and run the wrong model) is caught by its sha256."""
    spl = scalingfit.models.get("saturating_power_law").index
    _cuda._module(spl, 0)
    (entry,) = _entries(tmp_path / "cache")
    if damage == "binary_swapped":
        _cuda._module(0, 0)  # power_law: kernels of the same names in the emulated library
    meta = json.loads(entry.read_text())
    binary = tmp_path / "cache" / meta["binary"]
    if damage == "json_truncated":
        entry.write_text(entry.read_text()[:40])
    elif damage == "json_garbage":
        entry.write_bytes(b"\x00\xff not json")
    elif damage == "binary_changed":
        binary.write_bytes(binary.read_bytes() + b"x")
    elif damage == "binary_swapped":
        other = next(e for e in _entries(tmp_path / "cache") if e != entry)
        binary.write_bytes((tmp_path / "cache" / json.loads(other.read_text())["binary"]).read_bytes())
    elif damage == "binary_missing":
        binary.unlink()
    elif damage == "names_differ":
        meta["lowered"] = {"sf_fit<other>": "x", "sf_resample<other>": "y"}
        entry.write_text(json.dumps(meta))
    else:  # a valid checksum over an image the (emulated) driver cannot load
        bad = b"not a cubin"
        binary.write_bytes(bad)
        meta["sha256"] = hashlib.sha256(bad).hexdigest()
        entry.write_text(json.dumps(meta))
    _cuda._module.cache_clear()
    before = _compiles(emu)
    with caplog.at_level(logging.WARNING, logger="scalingfit"):
        _fit_matches_cpu()
    assert _compiles(emu) == before + 1, damage
    if damage == "driver_refuses":
        assert "could not be loaded" in caplog.text
    assert len(_entries(tmp_path / "cache")) == 1 + (damage == "binary_swapped")


def test_processes_compiling_the_same_module_at_once_leave_a_whole_entry(emu: Any, tmp_path: Path) -> None:
    """Several builders of one module at the same moment (threads here, as processes would):
    each gets a whole entry, and the entry left in the cache is whole and found after."""
    from concurrent.futures import ThreadPoolExecutor

    nvrtc, spec, folder = emu.cuda.nvrtc, _cuda_build.Spec(0, 1), tmp_path / "cache"
    with ThreadPoolExecutor(4) as pool:
        built = list(pool.map(lambda _: _cuda_build.build(spec, nvrtc, "sm_90", folder), range(8)))
    for b in built:  # each binary is there and is what its name says
        assert hashlib.sha256(b.path.read_bytes()).hexdigest()[:16] == b.path.stem.split("-")[1]
    (entry,) = _entries(folder)
    assert _cuda_build._read_entry(entry, spec) is not None
    assert not _cuda_build.build(spec, nvrtc, "sm_90", folder).compiled
    assert not list(folder.glob(".*"))


def test_a_binary_the_driver_refuses_right_after_compiling_is_an_error(emu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No loop: a module just compiled that cannot be loaded raises, naming the kernels."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("CUDA_ERROR_INVALID_IMAGE")

    monkeypatch.setattr(emu, "RawModule", refuse)
    with pytest.raises(RuntimeError, match=r"could not load the kernels .*sf_fit.*CUDA_ERROR_INVALID_IMAGE"):
        _cuda._module(0, 0)


def test_the_key_follows_every_input_of_the_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Precision, threads per item, kernels, architecture, NVRTC's version and the headers
    (through the source's hash) each give another entry; the same inputs the same one."""
    class Nvrtc:
        version: Any = (13, 0)

        @classmethod
        def getVersion(cls) -> Any:
            return cls.version

    S = _cuda_build.Spec
    key = _cuda_build._key
    base = key(S(2, 0), Nvrtc, "sm_90")
    assert key(S(2, 0), Nvrtc, "sm_90") == base
    others = [key(S(2, 0, True), Nvrtc, "sm_90"), key(S(2, 0, False, 32), Nvrtc, "sm_90"),
              key(S(2, 1), Nvrtc, "sm_90"), key(S(3, 0), Nvrtc, "sm_90"), key(S(), Nvrtc, "sm_90"),
              key(S(2, 0), Nvrtc, "sm_80"), key(S(2, 0), Nvrtc, "compute_90")]
    Nvrtc.version = (13, 1)
    others.append(key(S(2, 0), Nvrtc, "sm_90"))
    Nvrtc.version = (13, 0)
    monkeypatch.setattr(_cuda_build, "include_dir", lambda: Path("/elsewhere/include"))
    assert key(S(2, 0), Nvrtc, "sm_90") == base  # another installation, the same headers
    monkeypatch.setattr(_cuda_build, "kernel_source", lambda: "// other headers\n")
    others.append(key(S(2, 0), Nvrtc, "sm_90"))
    assert len(set(others)) == len(others) and base not in others


def test_the_cache_folder_turned_off_or_unwritable(emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture, simd: None) -> None:
    """SCALINGFIT_CUDA_CACHE=off, or a folder that cannot be made (under a file), compiles into
    a temporary folder for the process (the unwritable one noted once on the logger): the fits
    still run, and nothing is written where the cache was asked to be."""
    monkeypatch.setenv(_cuda_build.CACHE_ENV, "off")
    assert _cuda_build.cache_dir() is None
    _fit_matches_cpu()
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv(_cuda_build.CACHE_ENV, str(blocker / "cache"))
    _cuda._module.cache_clear()
    with caplog.at_level(logging.WARNING, logger="scalingfit"):
        _fit_matches_cpu("power_law")
    assert "cannot be written" in caplog.text and str(blocker / "cache") in caplog.text
    assert blocker.read_text() == ""
    monkeypatch.delenv(_cuda_build.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cuda_build.cache_dir() == tmp_path / "xdg" / "scalingfit" / "cuda"


def test_compile_kernels_fills_the_cache_ahead_on_threads(emu: Any, tmp_path: Path, simd: None) -> None:
    """compile_kernels builds every (model, loss, precision, threads per item) asked for, plus
    the untemplated module, on worker threads; asked again, it finds them all; the fits then
    compile nothing."""
    built = scalingfit.compile_cuda_kernels(["power_law", "saturating_power_law"], ["linear", "huber"],
                                            ("float64", "float32"), (1, 4), workers=2)
    assert len(built) == 2 * 2 * 2 * 2 + 1 and all(b.compiled for b in built)
    assert len(_entries(tmp_path / "cache")) == len(built)
    again = _cuda.compile_kernels(["power_law", "saturating_power_law"], ["linear", "huber"],
                                  ("float64", "float32"), (1, 4), workers=2)
    assert not any(b.compiled for b in again)
    _cuda._module.cache_clear()
    before = _compiles(emu)
    _fit_matches_cpu()
    assert _compiles(emu) == before


@pytest.mark.parametrize("kwargs, match", [
    ({"models": ["nope"]}, "unknown model 'nope'"),
    ({"losses": ["l2"]}, "unknown loss 'l2'"),
    ({"precisions": ("float16",)}, "precision must be"),
    ({"item_threads": (8,)}, "item_threads must be among"),
    ({"workers": 0}, "workers must be at least 1"),
])
def test_compile_kernels_names_a_bad_argument(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _cuda.compile_kernels(**kwargs, arch="sm_90")


def test_the_cli_compiles_ahead(emu: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`scalingfit cuda-compile` on the (emulated) device: a summary of what it compiled, then of
    what it found; a bad list is a usage error naming the option."""
    argv = ["cuda-compile", "--models", "power_law", "--losses", "linear,cauchy", "--item-threads", "1",
            "--workers", "2", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["modules"] == 3 and first["compiled"] == 3 and first["cache"] == str(tmp_path / "cache")
    assert main(argv[:-1] + ["--verbose"]) == 0
    out = capsys.readouterr()
    assert "3 kernel modules: 0 compiled" in out.out and "power_law / cauchy, float64" in out.err
    assert main(["cuda-compile", "--item-threads", "2,x"]) == 2  # usage
    assert "--item-threads" in capsys.readouterr().err


def test_target_architecture_and_real_nvrtc_binaries(tmp_path: Path) -> None:
    """With NVRTC (no GPU): sm_90 is a cubin (an ELF image) whose kernels' lowered names are
    C++ manglings of the templates; a device newer than NVRTC knows gets PTX for the newest
    architecture it knows (the driver compiles it); one older than all is an error. A second
    build finds the entries."""
    if not _nvrtc():
        pytest.skip("CuPy's NVRTC binding is not installed")
    nvrtc = _cuda_build.nvrtc_binding()
    archs = sorted(int(a) for a in nvrtc.getSupportedArchs())
    assert _cuda_build.target_arch(nvrtc, 90) == "sm_90"
    assert _cuda_build.target_arch(nvrtc, "90") == "sm_90"
    assert _cuda_build.target_arch(nvrtc, archs[-1] + 1) == f"compute_{archs[-1]}"
    with pytest.raises(_cuda.CudaUnavailableError, match="cannot compile for compute capability"):
        _cuda_build.target_arch(nvrtc, archs[0] - 1)
    spec = _cuda_build.Spec(0, 0)
    cubin = _cuda_build.build(spec, nvrtc, "sm_90", tmp_path)
    assert cubin.compiled and cubin.path.suffix == ".cubin"
    assert cubin.path.read_bytes()[:4] == b"\x7fELF"
    for name, low in cubin.lowered.items():
        assert low.startswith("_Z") and name.split("<")[0] in low
    ptx = _cuda_build.build(spec, nvrtc, "compute_90", tmp_path)
    assert ptx.path.suffix == ".ptx" and all(f".entry {low}" in ptx.path.read_text() for low in ptx.lowered.values())
    assert not _cuda_build.build(spec, nvrtc, "sm_90", tmp_path).compiled
    assert not _cuda_build.build(spec, nvrtc, "compute_90", tmp_path).compiled
