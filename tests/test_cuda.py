"""The CUDA backend (scalingfit/_cuda.py, cpp/include/scalingfit/device.cuh).

Everywhere: the backend argument, the errors and the CPU fallback without a GPU, the kernels'
source, their compilation for Hopper (NVRTC through CuPy, or nvcc, where either is installed:
no GPU is needed to compile), and the GPU's order of arithmetic run on the CPU (the "plain"
build), which must give the bits of the CPU's baseline build.

Also everywhere: the float32 kernels (precision="float32") compile, and most of their
arithmetic is float.

Twice, on a GPU (marked ``gpu``, skipped with the reason where CuPy or a device is missing) and
emulated (tests/cudaemu: the kernels compiled by the host compiler and run on CPU threads
behind a CuPy stand-in, so the launch code and the thread-to-item mapping run in CI): the
backend against the CPU's baseline build (float64) and float32 build on every model and loss,
the bootstrap's resamples, chunked launches, results left on the device, a refit.

Emulated only: chunking on a small device, the emulator's own checks, the GPU bench's cases.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scalingfit
from conftest import PROBLEM_SPECS, make_problem, pack_problems
from cudaemu import cupy_emulator
from scalingfit import _core, _cuda, _cuda_build

MODELS = list(PROBLEM_SPECS)
LOSSES = list(scalingfit.models.LOSSES)
no_gpu = pytest.mark.skipif(_cuda.available(), reason="a CUDA GPU is present")


def _batch(model: str, n_problems: int = 12, n: int = 40, seed: int = 0, noise: float = 0.01):
    rng = np.random.default_rng(seed)
    ps = [make_problem(model, n, noise, rng) for _ in range(n_problems)]
    x, y, off = pack_problems(ps)
    p0 = np.array([p[2] for p in ps]) * (1 + 0.05 * rng.standard_normal((n_problems, len(ps[0][2]))))
    return x, y, off, p0


class _quiet:
    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)
        # the bootstraps here start from the generating parameters, not from fits: said, and
        # beside the point of bit-parity
        warnings.simplefilter("ignore", scalingfit.UncertaintyWarning)

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


@pytest.fixture
def simd() -> Iterator[None]:
    before = _core.simd_level()
    try:
        yield
    finally:
        _core.set_simd_level(before)


# ------------------------------------------------------------------ everywhere


def test_unknown_backend_is_a_value_error() -> None:
    x, y, off, p0 = _batch("power_law", 2)
    with pytest.raises(ValueError, match="backend must be one of"):
        scalingfit.fit_batch("power_law", x, y, off, p0, backend="tpu")


@no_gpu
def test_cuda_backend_without_a_gpu_raises_with_the_reason() -> None:
    x, y, off, p0 = _batch("power_law", 2)
    with pytest.raises(scalingfit.CudaUnavailableError, match="needs CuPy and a CUDA GPU") as e:
        scalingfit.fit_batch("power_law", x, y, off, p0, backend="cuda")
    assert _cuda.unavailable_reason() in str(e.value)
    assert not scalingfit.cuda_available()
    with pytest.raises(scalingfit.CudaUnavailableError):
        scalingfit.bootstrap("power_law", x[:40], y[:40], n_resamples=10, backend="cuda")
    with pytest.raises(scalingfit.CudaUnavailableError):
        scalingfit.compare_batch(["power_law", "saturating_power_law"], x, y, off, backend="cuda")


@no_gpu
def test_auto_falls_back_to_the_cpu_with_one_notice(caplog: pytest.LogCaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cuda, "_fallback_noted", False)
    x, y, off, p0 = _batch("chinchilla", 4)
    cpu = scalingfit.fit_batch("chinchilla", x, y, off, p0)
    with caplog.at_level(logging.WARNING, logger="scalingfit"):
        auto = scalingfit.fit_batch("chinchilla", x, y, off, p0, backend="auto")
        scalingfit.fit_batch("chinchilla", x, y, off, p0, backend="auto")
    notes = [r for r in caplog.records if "backend='auto' runs on the CPU" in r.getMessage()]
    assert len(notes) == 1 and "\n" not in notes[0].getMessage()
    assert np.array_equal(auto.x, cpu.x) and np.array_equal(auto.cost, cpu.cost)


def test_custom_models_are_cpu_only() -> None:
    m = scalingfit.CustomModel(lambda p, x: p[0] * x[:, 0] ** -p[1], ("A", "alpha"))
    x = np.logspace(1, 3, 10)
    with pytest.raises(ValueError, match="CPU only"):
        scalingfit.fit_batch(m, x, 2 * x**-0.5, [0, 10], [1.0, 0.3], backend="cuda")


def test_kernel_source_names_every_header_by_hash() -> None:
    src = _cuda_build.kernel_source()
    assert '#include "scalingfit/device.cuh"' in src
    inc = _cuda_build.include_dir() / "scalingfit"
    assert (inc / "items.hpp").is_file() and (inc / "device.cuh").is_file()
    assert len(src.split("sha256 ")[1].split()[0]) == 64
    fit, boot = _cuda.kernel_names(3, 1)
    assert fit == "sf_fit<scalingfit::ModelAt<3>::type, scalingfit::LossAt<1>::type>"
    assert boot.startswith("sf_resample<")


def _nvrtc() -> bool:
    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
        return True
    except Exception:
        return False


# Each model once (losses cycled) and each loss once: every piece of device code is compiled.
PAIRS = sorted({(i, i % len(LOSSES)) for i in range(len(MODELS))} | {(2, k) for k in range(len(LOSSES))})


def test_a_pair_is_named_by_the_model_and_loss_names_or_the_core_indices() -> None:
    """compile_ptx / kernel_resources take ("chinchilla", "huber") as the README shows, or the
    core's indices; an unknown name or an index out of range is refused, naming it."""
    chin = scalingfit.models.get("chinchilla").index
    spec = _cuda._pair_spec("chinchilla", "huber", False, 1)
    assert (spec.model, spec.loss) == (chin, LOSSES.index("huber"))
    assert _cuda._pair_spec(chin, LOSSES.index("huber"), True, 4) == _cuda_build.Spec(chin, LOSSES.index("huber"),
                                                                                       True, 4)
    assert spec.names() == _cuda_build.kernel_names(chin, LOSSES.index("huber"))
    with pytest.raises(ValueError, match="chinchila"):
        _cuda._pair_spec("chinchila", "linear", False, 1)
    with pytest.raises(ValueError, match="hubr"):
        _cuda._pair_spec("chinchilla", "hubr", False, 1)
    with pytest.raises(ValueError, match=f"model index must be in \\[0, {len(scalingfit.models.names())}\\)"):
        _cuda._pair_spec(len(scalingfit.models.names()), 0, False, 1)
    with pytest.raises(ValueError, match="loss index"):
        _cuda._pair_spec(0, -1, False, 1)


def test_kernels_compile_for_hopper(tmp_path: Path) -> None:
    """The fit and bootstrap kernels of every model and loss compile as device code for sm_90
    (NVRTC when CuPy's binding loads, else nvcc) without errors."""
    if _nvrtc():
        for model, loss in PAIRS:
            ptx = _cuda.compile_ptx(model, loss, arch="compute_90")
            assert ".entry" in ptx and "sf_multiplicities" in ptx
        return
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("neither CuPy's NVRTC nor nvcc is installed")
    src = tmp_path / "kernels.cu"
    lines = [_cuda_build.kernel_source()]
    fit_args = ("const double*, const double*, const double*, const long long*, const unsigned char*, "
                "long long, const long long*, const double*, long long, const double*, const double*, "
                "double, double, double, int, double, int, double*, double*, double*, int*, int*, long long, int")
    boot_args = ("const double*, const double*, const double*, const long long*, const unsigned char*, "
                 "long long, int, int, unsigned long long, const long long*, const int*, const long long*, "
                 "const double*, const double*, const double*, const long long*, const long long*, "
                 "long long, const double*, const double*, double, double, double, int, double, int, "
                 "double*, double*, double*, int*, int*, int*, int*, double*, long long, long long, long long, int")
    for model, loss in PAIRS:
        fit, boot = _cuda.kernel_names(model, loss)
        lines.append(f"template __global__ void {fit}({fit_args});")
        lines.append(f"template __global__ void {boot}({boot_args});")
    src.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([nvcc, "-std=c++17", "--fmad=false", "-arch=sm_90", "-cubin",
                           f"-I{_cuda_build.include_dir()}", "-o", str(tmp_path / "k.cubin"), str(src)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "k.cubin").stat().st_size > 0


def test_float32_kernels_compile_for_hopper() -> None:
    """precision="float32": the kernels of every model (losses cycled) and every loss compile
    with -DSF_FLOAT32_DATA=1, and their per-point work is float: in the Chinchilla kernels'
    PTX about half of the float64 build's double arithmetic became float. And the quad
    kernels (4 threads per item) of every model compile, with their butterfly shuffles, and a
    warp kernel (32 threads per item) with its ballots and indexed shuffles."""
    if not _nvrtc():
        pytest.skip("CuPy's NVRTC binding is not installed (the nvcc fallback builds float64 only)")
    for model, loss in PAIRS:
        ptx = _cuda.compile_ptx(model, loss, arch="compute_90", float32=True)
        assert ".entry" in ptx
    for model in range(len(MODELS)):  # the quad kernels (SF_ITEM_THREADS=4) of every model
        ptx = _cuda.compile_ptx(model, model % len(LOSSES), arch="compute_90", item_threads=4)
        assert "shfl.sync.bfly" in ptx
    ptx = _cuda.compile_ptx(0, 0, arch="compute_90", item_threads=32)  # a warp per item
    assert all(op in ptx for op in ("shfl.sync.bfly", "shfl.sync.idx", "vote.sync.ballot", "popc"))
    import re

    def ops(ptx: str, t: str) -> int:
        return len(re.findall(r"\b(?:add|mul|sub|div|fma)\.rn\." + t + r"\b", ptx))

    f32 = _cuda.compile_ptx(2, 0, arch="compute_90", float32=True)
    f64 = _cuda.compile_ptx(2, 0, arch="compute_90")
    # Static counts (measured: float64 kernels 4,806 double ops, 0 float; float32 kernels 2,247
    # float, 2,417 double: the solver's step, tests and covariance).
    assert ops(f64, "f32") == 0
    assert ops(f32, "f32") > 0.3 * ops(f64, "f64")
    assert ops(f32, "f64") < 0.7 * ops(f64, "f64")


@pytest.mark.skipif("plain" not in _core.simd_levels(), reason="built without the plain solver")
@pytest.mark.parametrize("model", MODELS)
def test_the_gpus_order_of_arithmetic_gives_the_baseline_bits(model: str, simd: None) -> None:
    """The plain build runs the CUDA driver's accumulator on the CPU with the baseline's flags:
    every fit, with and without weights (some zero), and every bootstrap replicate must be
    bit-identical to the baseline build's (the vectorised, blocked accumulator). Problems of
    150 points span three accumulator blocks."""
    x, y, off, p0 = _batch(model, n_problems=6, n=150, seed=1)
    w = np.random.default_rng(2).integers(0, 3, y.shape[0]).astype(float)
    runs = {}
    for lv in ("baseline", "plain"):
        _core.set_simd_level(lv)
        out = []
        for k, loss in enumerate(LOSSES):
            kw = dict(loss=loss, f_scale=0.02, log_residuals=k % 2 == 1)
            out.append(scalingfit.fit_batch(model, x, y, off, p0, **kw))
            out.append(scalingfit.fit_batch(model, x, y, off, p0, weights=w, **kw))
        with _quiet():
            out.append(scalingfit.bootstrap_batch(model, x, y, off, center=p0, n_resamples=20,
                                                  method="percentile", seed=5))
        runs[lv] = out
    for a, b in zip(runs["baseline"], runs["plain"]):
        if isinstance(a, scalingfit.BatchResult):
            assert np.array_equal(a.status, b.status)
            assert np.array_equal(a.iterations, b.iterations)
            np.testing.assert_array_equal(a.x, b.x)
            np.testing.assert_array_equal(a.cost, b.cost)
        else:
            np.testing.assert_array_equal(a.samples, b.samples)
            assert np.array_equal(a.status, b.status)


def test_log1p_within_a_few_ulps() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-0.999, 1, 100_000), 10.0 ** rng.uniform(-300, 300, 100_000),
                        -(10.0 ** rng.uniform(-300, -1, 50_000))])
    got = _core.elementary(2, x)
    ref = np.log1p(x)
    ulps = np.abs(got - ref) / np.spacing(np.abs(ref))
    assert ulps.max() < 4, (ulps.max(), x[np.argmax(ulps)])
    special = np.array([0.0, -0.0, -1.0, np.inf, -2.0, np.nan])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(_core.elementary(2, special), np.log1p(special))


# ------------------------------------------------------------------ on a GPU, or emulated
#
# Each test below runs twice: on a real GPU ("gpu", marked gpu, skipped without one) and on the
# test suite's CUDA emulator ("emulated", tests/cudaemu: the same kernel source and the same
# launch code, the kernels compiled by the host compiler and run on CPU threads). Emulated, the
# kernels' arithmetic is the host compiler's without contractions, i.e. the CPU's plain build:
# results must equal the CPU's bit for bit. On the GPU (NVRTC, CUDA's libm) 1e-10 relative.


@pytest.fixture(params=[pytest.param("gpu", marks=pytest.mark.gpu), "emulated"])
def device(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "gpu":
        if not _cuda.available():
            pytest.skip(f"no CUDA GPU: {_cuda.unavailable_reason()}")
        monkeypatch.setenv(_cuda.ITEM_THREADS_ENV, "1")  # as _emulated
        yield "gpu"
        return
    _prebuild_emulated()
    with _emulated(monkeypatch):
        yield "emulated"


@contextlib.contextmanager
def _emulated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The backend on the CUDA emulator (a default device), its kernel cache cleared before and
    after, one thread per item unless a test asks for more (item_threads "auto" would take a
    warp per item for most of the tests' small batches); skips without a C++ compiler."""
    if cupy_emulator.compiler() is None:
        pytest.skip("the CUDA emulator needs a C++ compiler")
    monkeypatch.setenv(_cuda.ITEM_THREADS_ENV, "1")
    cupy_emulator.configure()
    monkeypatch.setattr(_cuda, "_probe", lambda: (cupy_emulator, ""))
    _cuda._module.cache_clear()
    try:
        yield cupy_emulator
    finally:
        cupy_emulator.configure()
        _cuda._module.cache_clear()


def _fits_match(device: str, gpu: scalingfit.BatchResult, cpu: scalingfit.BatchResult, precision: str,
                loss: str) -> None:
    """Same statuses; parameters and costs within 1e-10 (float32's arctan loss: 1e-6, CUDA's
    atanf and glibc's may differ by an ulp), covariances 100x that; emulated: identical, and
    the same iteration counts."""
    msg = f"{precision} {loss}"
    assert np.array_equal(cpu.status, gpu.status), msg
    ok = cpu.status > 0
    rtol = 1e-6 if (precision, loss) == ("float32", "arctan") else 1e-10
    _close(device, gpu.x[ok], cpu.x[ok], rtol, msg)
    _close(device, gpu.cost[ok], cpu.cost[ok], rtol, msg)
    _close(device, gpu.cov[ok], cpu.cov[ok], 1e2 * rtol, msg, atol=1e-300)
    if device == "emulated":
        assert np.array_equal(gpu.iterations, cpu.iterations), msg


@functools.cache
def _prebuild_emulated() -> None:
    """Every kernel the tests launch, compiled on all cores at once (~1 s each, 155 of them)."""
    jobs = [(_cuda_build.kernel_source(), _cuda_build.options(f32), _cuda.kernel_names(m, k))
            for f32 in (False, True) for m in range(len(MODELS)) for k in range(len(LOSSES))]
    for i, name in enumerate(MODELS):  # test_items_of_several_threads_give_the_same_bits's
        m = scalingfit.models.get(name).index
        jobs += [(_cuda_build.kernel_source(), _cuda_build.options(f32, g), _cuda.kernel_names(m, k))
                 for g in _ITEM_THREADS_CASES for f32 in (False, True) for k in {0, 1 + i % 4}]
    cupy_emulator.prebuild(jobs + [(_cuda_build.kernel_source(), _cuda_build.options(), ["sf_multiplicities"])])


def _close(device: str, actual: np.ndarray, desired: np.ndarray, rtol: float, msg: str = "",
           atol: float = 0.0) -> None:
    """GPU: within rtol; emulated: identical."""
    if device == "emulated":
        np.testing.assert_array_equal(actual, desired, err_msg=msg)
    else:
        np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=msg)


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("model", MODELS)
def test_gpu_fits_match_the_cpu_baseline(model: str, precision: str, simd: None, device: str) -> None:
    """Every loss, plain and log residuals, with weights: the GPU's fits against the CPU's
    baseline build, or for precision="float32" its float32 build (the same arithmetic: no FMA
    on either side), to 1e-10 relative (float32's arctan loss: 1e-6, CUDA's atanf and glibc's
    may differ by an ulp)."""
    _core.set_simd_level("baseline")
    x, y, off, p0 = _batch(model, n_problems=30, n=60, seed=4)
    w = np.random.default_rng(5).integers(0, 3, y.shape[0]).astype(float)
    for k, loss in enumerate(LOSSES):
        kw = dict(loss=loss, f_scale=0.02, log_residuals=k % 2 == 1, weights=w if k % 2 else None,
                  precision=precision)
        cpu = scalingfit.fit_batch(model, x, y, off, p0, **kw)
        gpu = scalingfit.fit_batch(model, x, y, off, p0, backend="cuda", **kw)
        _fits_match(device, gpu, cpu, precision, loss)


@pytest.mark.parametrize("scheme", [0, 1, 4, 5])
def test_gpu_resamples_are_the_cpu_resamples(scheme: int, device: str) -> None:
    n, reps = 37, np.arange(-1, 300, dtype=np.int64)
    groups = (np.arange(n) % 7).astype(np.int32)
    use_groups = scheme in (1, 5)
    kw = dict(groups=groups if use_groups else None, n_groups=7 if use_groups else 0)
    cpu = _core.resample_multiplicities(scheme, 11, 123456789, reps if scheme < 4 else reps[1:8], n,
                                        kw["groups"], kw["n_groups"], 1)
    gpu = _cuda.resample_multiplicities(scheme, 11, 123456789, reps if scheme < 4 else reps[1:8], n, **kw)
    np.testing.assert_array_equal(gpu, cpu)


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("scheme", ["points", "residual", "wild"])
def test_gpu_bootstrap_matches_the_cpu(scheme: str, precision: str, simd: None, device: str) -> None:
    _core.set_simd_level("baseline")
    x, y, off, p0 = _batch("chinchilla", n_problems=20, n=50, seed=6)
    _bootstraps_match(device, x, y, off, center=p0, n_resamples=200, method="percentile",
                      scheme=scheme, seed=9, precision=precision)


def _bootstraps_match(device: str, x: np.ndarray, y: np.ndarray, off: np.ndarray,
                      **kw: Any) -> scalingfit.BootstrapBatchResult:
    """Chinchilla's bootstrap_batch on the GPU and the CPU: the same statuses, and replicates
    within 1e-10 (emulated: identical). Returns the CPU's."""
    with _quiet():
        cpu = scalingfit.bootstrap_batch("chinchilla", x, y, off, **kw)
        gpu = scalingfit.bootstrap_batch("chinchilla", x, y, off, backend="cuda", **kw)
    assert np.array_equal(cpu.status, gpu.status)
    ok = np.isfinite(cpu.samples)
    _close(device, gpu.samples[ok], cpu.samples[ok], 1e-10)
    return cpu


@pytest.mark.parametrize("scheme", ["points", "wild"])
def test_gpu_fixed_parameters_match_the_cpu(scheme: str, simd: None, device: str) -> None:
    """E held (fixed=, equal bounds): the fits, then the bootstrap replicates (the wild
    scheme's leverages count the free parameters only), as on the CPU."""
    _core.set_simd_level("baseline")
    x, y, off, p0 = _batch("chinchilla", n_problems=20, n=50, seed=6)
    fixed = {"E": 1.7}
    k = scalingfit.models.get("chinchilla").param_names.index("E")
    cpu = scalingfit.fit_batch("chinchilla", x, y, off, p0, fixed=fixed)
    gpu = scalingfit.fit_batch("chinchilla", x, y, off, p0, fixed=fixed, backend="cuda")
    _fits_match(device, gpu, cpu, "float64", "linear")
    assert cpu.success.all() and (gpu.x[:, k] == 1.7).all() and (gpu.cov[:, k] == 0).all()
    cpu_b = _bootstraps_match(device, x, y, off, center=cpu.x, n_resamples=100, method="percentile",
                              scheme=scheme, seed=9, fixed=fixed)
    ok = np.isfinite(cpu_b.samples)
    assert (cpu_b.samples[..., k][ok[..., k]] == 1.7).all()


def test_gpu_chunked_launches_and_device_results(device: str) -> None:
    x, y, off, p0 = _batch("saturating_power_law", n_problems=500, n=10, seed=7)
    P = p0.shape[1]
    m = scalingfit.models.get("saturating_power_law")
    lo, hi = np.full(P, -np.inf), np.full(P, np.inf)
    args = (m.index, 0, np.ascontiguousarray(x), y, None, off, np.arange(500, dtype=np.int64),
            np.ascontiguousarray(p0), lo, hi, 1e-12, 1e-10, 1e-10, 500, 1.0, False, True)
    whole = _cuda.solve_batch(*args)
    chunked = _cuda.solve_batch(*args, max_items_per_launch=7)
    on_device = _cuda.solve_batch(*args, return_cupy=True, max_items_per_launch=64)
    for a, b, c in zip(whole, chunked, on_device):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c.get())
    assert isinstance(on_device[0], _cuda._cupy().ndarray)  # left on the device


@no_gpu
def test_cli_backend_without_a_gpu(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("duckdb")
    from scalingfit import _synthdb, cli

    monkeypatch.setattr(_cuda, "_fallback_noted", False)
    runs, _ = _synthdb.chinchilla_sweeps(6, runs=25, checkpoints=2, seed=2)
    runs.to_csv(tmp_path / "runs.csv", index=False)
    assert cli.main(["refit", str(tmp_path / "runs.csv"), "--quiet", "--backend", "cuda"]) == 1
    assert "needs CuPy and a CUDA GPU" in capsys.readouterr().err
    assert cli.main(["refit", str(tmp_path / "runs.csv"), "--quiet", "--json", "--backend", "auto"]) == 0
    assert json.loads(capsys.readouterr().out)["n_fitted"] == 6
    assert cli.main(["bench", "--cuda", "--quick"]) == 1
    assert "needs CuPy and a CUDA GPU" in capsys.readouterr().err
    argv = ["compare-runs", str(tmp_path / "runs.csv"), "--models", "chinchilla,chinchilla_tied", "--quiet"]
    assert cli.main([*argv, "--backend", "cuda"]) == 1
    assert "needs CuPy and a CUDA GPU" in capsys.readouterr().err
    assert cli.main([*argv, "--json", "--backend", "auto"]) == 0
    assert json.loads(capsys.readouterr().out)["n_scored"] == 6


def test_gpu_refit_matches_the_cpu(tmp_path: Path, simd: None, device: str) -> None:
    """A run table refit end to end (multi-start fits, bootstrap intervals) on either backend,
    the CPU in its baseline build (the default AVX-512 / AVX2 builds contract into FMAs: their
    estimates differ from the GPU's by up to 3e-7 relative, the fits' own tolerance)."""
    pytest.importorskip("duckdb")
    _core.set_simd_level("baseline")
    from scalingfit import _synthdb
    from scalingfit.refit import LAWS, RefitConfig, fit_frame

    runs, _ = _synthdb.chinchilla_sweeps(40, runs=30, checkpoints=2, seed=3)
    config = RefitConfig(law="chinchilla", group_by=("sweep",), metric="loss", bootstrap=50, seed=1)
    assert "chinchilla" in LAWS
    with _quiet():
        cpu_rows, cpu, _ = fit_frame(runs, config)
        gpu_rows, gpu, _ = fit_frame(runs, config, backend="cuda")
    assert list(cpu["group_key"]) == list(gpu["group_key"])
    assert list(cpu_rows["status"]) == list(gpu_rows["status"])
    for col in ("estimate", "stderr", "ci_low", "ci_high"):
        a, b = cpu[col].to_numpy(dtype=float), gpu[col].to_numpy(dtype=float)
        ok = np.isfinite(a)
        _close(device, b[ok], a[ok], 1e-8, col)


def test_gpu_compare_batch_matches_the_cpu(simd: None, device: str) -> None:
    """Several laws scored on a batch, leave-one-out refits included, with the fits on either
    backend: the same statuses and criteria (the CPU in its baseline build)."""
    _core.set_simd_level("baseline")
    rng = np.random.default_rng(6)
    xs, ys = [], []
    for _ in range(12):
        N, D = 10 ** rng.uniform(7, 10, 14), 10 ** rng.uniform(9, 12, 14)
        xs.append(np.column_stack([N, D]))
        ys.append((1.8 + 400 * N ** -0.34 + 900 * D ** -0.3) * np.exp(0.01 * rng.standard_normal(14)))
    x, y = np.vstack(xs), np.concatenate(ys)
    off = np.arange(13) * 14
    laws = ["chinchilla", "chinchilla_tied"]
    with _quiet():
        cpu = scalingfit.compare_batch(laws, x, y, off, log_residuals=True, loo=True)
        gpu = scalingfit.compare_batch(laws, x, y, off, log_residuals=True, loo=True, backend="cuda")
    for a, b in zip(cpu.fits, gpu.fits):
        assert np.array_equal(a.status, b.status)
    ok = np.isfinite(cpu.aicc)
    _close(device, gpu.aicc[ok], cpu.aicc[ok], 1e-8, "aicc")
    _close(device, gpu.loo_rmse[ok], cpu.loo_rmse[ok], 1e-6, "loo_rmse")
    assert np.array_equal(gpu.best("aicc"), cpu.best("aicc"))


# ------------------------------------------------------------------ emulated only


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with _emulated(monkeypatch) as emu:
        yield emu


def test_a_small_device_streams_the_items_in_chunks(emulator: Any, simd: None) -> None:
    """On a device with little free memory the bootstrap's scratch takes at most half of what
    the call may use (fewer blocks per launch) and the items go through in several launches
    sized to the rest (two chunks in flight): the same bits as one launch and as the CPU. A
    device too small for one block's scratch raises MemoryError naming the sizes, and nothing is
    left allocated; a warp per item shares one scratch among its 32 threads and still fits."""
    _core.set_simd_level("baseline")
    x, y, off, p0 = _batch("chinchilla", n_problems=40, n=30, seed=8)
    kw = dict(center=p0, n_resamples=50, method="percentile", seed=3)
    with _quiet():
        cpu = scalingfit.bootstrap_batch("chinchilla", x, y, off, **kw)
        big = scalingfit.bootstrap_batch("chinchilla", x, y, off, backend="cuda", **kw)
        # One multiprocessor (8 blocks of 128 threads), 1.4 MB: a block's scratch is 128 x (30 x
        # 12 B + 4 B) = 46.6 kB, twice in flight; 8 blocks' would take 746 kB, more than half of
        # the call's 60% of the free memory: 4 blocks.
        emulator.configure(n_sm=1, total_bytes=1_400_000)
        n0 = len(emulator.STATE.grids)
        fewer = scalingfit.bootstrap_batch("chinchilla", x, y, off, backend="cuda", **kw)
        grids = emulator.STATE.grids[n0:]
        # 360 kB: 1 block, and 72 B per item in two chunks in flight: room for ~620 of the 2,040.
        emulator.configure(n_sm=1, total_bytes=360_000)
        n0 = len(emulator.STATE.grids)
        small = scalingfit.bootstrap_batch("chinchilla", x, y, off, backend="cuda", **kw)
        chunks = emulator.STATE.grids[n0:]
    for got in (big, fewer, small):
        np.testing.assert_array_equal(got.samples, cpu.samples)
    assert max(grids) == 4, grids
    assert len(chunks) >= 4 and set(chunks) == {1}, chunks  # the point fits' launch, then >= 3
    emulator.configure(n_sm=1, total_bytes=300_000)
    with pytest.raises(MemoryError, match="one block's scratch 46,592"):
        scalingfit.bootstrap_batch("chinchilla", x, y, off, backend="cuda", **kw)
    import gc

    gc.collect()
    assert emulator.STATE.used == 0
    few = dict(kw, center=p0[:3], n_resamples=3)
    with _quiet():
        cpu = scalingfit.bootstrap_batch("chinchilla", x[: off[3]], y[: off[3]], off[:4], **few)
    with _quiet(), pytest.MonkeyPatch.context() as mp:
        mp.setenv(_cuda.ITEM_THREADS_ENV, "32")
        warp = scalingfit.bootstrap_batch("chinchilla", x[: off[3]], y[: off[3]], off[:4], backend="cuda",
                                          **few)
    np.testing.assert_array_equal(warp.samples, cpu.samples)


def test_the_emulator_checks_kernel_arguments(emulator: Any) -> None:
    """The check the GPU cannot make: each argument's bytes against the kernel's parameter."""
    fn = _cuda._module().get_function("sf_multiplicities")
    off = emulator.asarray(np.array([0, 5], dtype=np.int64))
    out = emulator.empty(5, dtype=np.int32)
    args = [off, np.int32(0), np.uint64(1), off, off, off, off, off, np.int64(1), out, out,
            np.int64(5), np.int64(1), np.int32(0)]
    fn((1,), (32,), args)
    assert (out.get() >= 0).all()
    bad = list(args)
    bad[8] = np.int32(1)  # n_items is long long
    with pytest.raises(RuntimeError, match="argument 8 has 4 bytes, the kernel's parameter 8"):
        fn((1,), (32,), bad)
    bad[8] = 1
    with pytest.raises(TypeError, match="argument 8: int"):
        fn((1,), (32,), bad)
    with pytest.raises(RuntimeError, match="takes 14 arguments"):
        fn((1,), (32,), args[:-1])


def test_the_emulator_reports_a_barrier_that_not_every_thread_reaches(emulator: Any) -> None:
    """Shared memory and __syncthreads work across a block's threads, and a barrier inside a
    branch some threads skip is an error instead of a hang."""
    code = r'''
extern "C" __global__ void reverse(const double* in, double* out, int diverge) {
  double* s = static_cast<double*>(sf_emu_shared());
  const unsigned t = threadIdx.x, b = blockIdx.x, n = blockDim.x;
  s[t] = in[b * n + t];
  if (!diverge || t % 2 == 0) __syncthreads();
  out[b * n + t] = s[n - 1 - t];
}'''
    fn = emulator.RawModule(code=code).get_function("reverse")
    a = emulator.asarray(np.arange(128.0))
    out = emulator.zeros(128)
    fn((2,), (64,), [a, out, np.int32(0)], shared_mem=64 * 8)
    np.testing.assert_array_equal(out.get(), np.concatenate([np.arange(63.0, -1, -1), np.arange(127.0, 63, -1)]))
    with pytest.raises(RuntimeError, match="not every thread of the block reached the barrier"):
        fn((1,), (64,), [a, out, np.int32(1)], shared_mem=64 * 8)


def test_the_emulator_warp_intrinsics(emulator: Any) -> None:
    """__shfl_sync, __shfl_xor_sync and __ballot_sync on a block of two warps (40 shuffles in a
    row: the emulator's alternating slots), config.hpp's sf_nth_bit (a warp per item's point
    selection) on random masks, all against numpy; a shuffle one lane skips is an error."""
    code = _cuda_build.kernel_source() + r'''
extern "C" __global__ void warp_ops(const double* in, double* shfl, double* bfly, unsigned* ballot,
                                    const unsigned* masks, int* nth, int rounds, int diverge) {
  const unsigned t = threadIdx.x, lane = t & 31u;
  double v = in[t];
  for (int r = 0; r < rounds; ++r) v = __shfl_sync(0xFFFFFFFFu, v, (lane * 7 + r) & 31u) + 1.0;
  shfl[t] = v;
  bfly[t] = __shfl_xor_sync(0xFFFFFFFFu, in[t], 5);
  ballot[t] = __ballot_sync(0xFFFFFFFFu, in[t] > 0.0);
  const unsigned m = masks[t];
  for (int n = 0; n < __popc(m); ++n) nth[t * 32 + n] = scalingfit::sf_nth_bit(m, n);
  if (diverge && lane == 3) return;
  shfl[t] = __shfl_sync(0xFFFFFFFFu, v, 0);
}'''
    fn = emulator.RawModule(code=code, options=_cuda_build.options(False, 32)).get_function("warp_ops")
    rng = np.random.default_rng(3)
    x = rng.standard_normal(64)
    masks = rng.integers(0, 2**32, 64, dtype=np.uint64).astype(np.uint32)
    masks[:3] = [0, 0xFFFFFFFF, 0x80000001]
    d_in, d_masks = emulator.asarray(x), emulator.asarray(masks)
    shfl, bfly = emulator.zeros(64), emulator.zeros(64)
    ballot = emulator.zeros(64, dtype=np.uint32)
    nth = emulator.asarray(np.full(64 * 32, -1, dtype=np.int32))
    fn((1,), (64,), [d_in, shfl, bfly, ballot, d_masks, nth, np.int32(40), np.int32(0)])
    lanes = np.arange(32)
    want = x.reshape(2, 32).copy()
    for r in range(40):
        want = want[:, (lanes * 7 + r) % 32] + 1.0
    np.testing.assert_array_equal(shfl.get(), np.repeat(want[:, 0], 32))  # then lane 0's
    np.testing.assert_array_equal(bfly.get(), x.reshape(2, 32)[:, lanes ^ 5].ravel())
    bits = (x.reshape(2, 32) > 0).astype(np.uint64) << lanes.astype(np.uint64)
    np.testing.assert_array_equal(ballot.get(), np.repeat(bits.sum(axis=1), 32).astype(np.uint32))
    got = nth.get().reshape(64, 32)
    for t, m in enumerate(masks):
        places = [b for b in range(32) if int(m) >> b & 1]
        assert list(got[t, : len(places)]) == places and (got[t, len(places):] == -1).all(), hex(m)
    with pytest.raises(RuntimeError, match="not every thread of the mask reached it"):
        fn((1,), (64,), [d_in, shfl, bfly, ballot, d_masks, nth, np.int32(1), np.int32(1)])


def test_the_gpu_bench_runs_emulated(emulator: Any) -> None:
    """`scalingfit bench --cuda`'s cases, small, through the emulator: their agreement columns
    measure the emulated kernels against the CPU's baseline (float32: float32) build: identical."""
    from scalingfit import _bench_cuda

    env_before = os.environ.get(_cuda.ITEM_THREADS_ENV)
    with _quiet():
        rows = [_bench_cuda.case_fits(1_200, 1, 10), _bench_cuda.case_bootstrap(12, 20, 1, 4),
                _bench_cuda.case_fits(1_200, 1, 10, "float32"),
                _bench_cuda.case_bootstrap(12, 20, 1, 4, stage=False),
                _bench_cuda.case_bootstrap(12, 20, 1, 4, item_threads=4),
                _bench_cuda.case_many_points(4, 100, 1, "auto"),
                _bench_cuda.case_many_points(40, 100, 1, "auto")]
    # float32 against the CPU's float32 build, the others against its baseline build
    assert [r.max_rel_diff_vs_cpu for r in rows] == [0.0] * 7
    assert [r.bitwise_equal for r in rows] == [1.0] * 7
    assert rows[3].case.endswith("unstaged") and rows[4].case.endswith("4 thr/item")
    # case (c) on the emulated device (2 multiprocessors): auto takes a warp for 4 items, not 40
    assert rows[5].note.endswith(": 32") and rows[6].note.endswith(": 1"), (rows[5].note, rows[6].note)
    assert _cuda.STAGE_ENV not in os.environ and os.environ.get(_cuda.ITEM_THREADS_ENV) == env_before
    assert all(r.gpu_fits_per_s > 0 and r.cpu_fits_per_s > 0 for r in rows)
    assert "emulator" in rows[0].device
    assert "(b) chinchilla bootstrap" in _bench_cuda.format_table(rows)


def _plan_reference(offsets: np.ndarray, problem: np.ndarray, base: int, end: int, cap: int) -> tuple:
    """device.cuh's plan_stage, restated: the whole problems from the tile's first item's to its
    last item's that fit in cap points, counted from the first."""
    ja, jb = int(problem[base]), int(problem[end - 1])
    if cap <= 0 or ja < 0 or jb >= len(offsets) - 1 or jb < ja:
        return (0, -1, 0, 0)
    fits = [j for j in range(ja, jb + 1) if offsets[j + 1] - offsets[ja] <= cap]
    if not fits:
        return (0, -1, 0, 0)
    return (ja, fits[-1], int(offsets[ja]), int(offsets[fits[-1] + 1] - offsets[ja]))


def test_the_staging_plan(emulator: Any) -> None:
    """plan_stage (device.cuh) against its restatement, on tiles over sorted, unsorted and
    invalid items and capacities from 0 to all points; and stage_capacity's choice of the
    shared memory size."""
    code = _cuda_build.kernel_source() + r'''
extern "C" __global__ void plan(const long long* offsets, long long n_problems,
                                const long long* problem, const long long* tiles, long long n_tiles,
                                long long cap, long long* out) {
  using namespace scalingfit;
  const BatchData d{nullptr, nullptr, nullptr, offsets, nullptr, n_problems};
  for (long long i = threadIdx.x; i < n_tiles; i += blockDim.x) {
    const Stage s = plan_stage(d, problem, tiles[2 * i], tiles[2 * i + 1], cap);
    out[4 * i] = s.ja, out[4 * i + 1] = s.jc, out[4 * i + 2] = s.r0, out[4 * i + 3] = s.n;
  }
}'''
    fn = emulator.RawModule(code=code, options=_cuda_build.options()).get_function("plan")
    rng = np.random.default_rng(12)
    sizes = rng.integers(0, 30, 40)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    problem = np.concatenate([np.sort(rng.integers(0, 40, 300)), rng.integers(-2, 42, 100)]).astype(np.int64)
    tiles = np.array([(a, min(a + L, 400)) for L in (1, 7, 32, 128) for a in range(0, 400, L)], dtype=np.int64)
    for cap in (0, 1, 17, 29, 60, 200, int(offsets[-1])):
        out = emulator.zeros(4 * len(tiles), dtype=np.int64)
        fn((1,), (64,), [emulator.asarray(offsets), np.int64(40), emulator.asarray(problem),
                         emulator.asarray(tiles), np.int64(len(tiles)), np.int64(cap), out])
        got = out.get().reshape(-1, 4)
        want = np.array([_plan_reference(offsets, problem, a, b, cap) for a, b in tiles])
        np.testing.assert_array_equal(got, want, err_msg=f"cap {cap}")
    # The shared memory a launch asks for: the widest tile of 128 items, within 48 kB.
    items = np.repeat(np.arange(40, dtype=np.int64), 10)  # 10 starts per problem
    span = max(offsets[items[min(a + 127, 399)] + 1] - offsets[items[a]] for a in range(0, 400, 128))
    assert _cuda.stage_capacity(items, offsets, 24) == span
    assert _cuda.stage_capacity(items, offsets, 24 << 10) == 2  # 48 kB of 24 kB points
    assert _cuda.stage_capacity(items[::-1].copy(), offsets, 24) == 0  # unsorted: nothing staged
    assert _cuda.stage_capacity(items, offsets, 24, stage_points=5) == 5
    with pytest.raises(ValueError, match="stage_points"):
        _cuda.stage_capacity(items, offsets, 24, stage_points=-1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(_cuda.STAGE_ENV, "0")
        assert _cuda.stage_capacity(items, offsets, 24) == 0
        assert _cuda.stage_capacity(items, offsets, 24, stage_points=7) == 7  # the argument wins
        mp.setenv(_cuda.STAGE_ENV, "lots")
        with pytest.raises(ValueError, match="SCALINGFIT_CUDA_STAGE_POINTS must be an integer"):
            _cuda.stage_capacity(items, offsets, 24)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_staging_never_changes_a_bit(precision: str, device: str, simd: None) -> None:
    """Fits and bootstrap replicates (with weights, and the residual scheme's staged yhat and
    residuals) are the same bits with the automatic staging, none, a capacity of one problem
    or less, and with the items in random order (nothing staged): the copy is never read
    where it was not written (emulated: shared memory starts as NaN), and equal the CPU's."""
    _core.set_simd_level("baseline")
    f32 = precision == "float32"
    x, y, off, p0 = _batch("chinchilla", n_problems=24, n=30, seed=13)
    m = scalingfit.models.get("chinchilla")
    P = p0.shape[1]
    lo, hi = np.full(P, -np.inf), np.full(P, np.inf)
    w = np.random.default_rng(14).integers(0, 3, y.shape[0]).astype(float)
    starts = 6
    problem = np.repeat(np.arange(24, dtype=np.int64), starts)
    starts_p0 = np.repeat(p0, starts, axis=0) * (1 + 0.02 * np.random.default_rng(15).standard_normal((24 * starts, P)))
    order = np.random.default_rng(16).permutation(len(problem))
    fit_args = (m.index, 1, np.ascontiguousarray(x), y, w, off)
    tail = (lo, hi, 1e-12, 1e-10, 1e-10, 200, 0.05, False, True)
    cpu = _core.solve_batch(*fit_args, problem, starts_p0, *tail, 1, f32)
    cpu_shuffled = _core.solve_batch(*fit_args, problem[order], starts_p0[order], *tail, 1, f32)
    for stage in (None, 0, 30, 29, 61):
        gpu = _cuda.solve_batch(*fit_args, problem, starts_p0, *tail, None, f32, stage_points=stage)
        shuffled = _cuda.solve_batch(*fit_args, problem[order], starts_p0[order], *tail, None, f32,
                                     stage_points=stage)
        for name, a, b, c, d in zip(("x", "cov", "cost", "status", "iterations"), gpu, cpu, shuffled, cpu_shuffled):
            _close(device, a, b, 1e-10 if name != "cov" else 1e-8, f"fit {name}, stage {stage}")
            _close(device, c, d, 1e-10 if name != "cov" else 1e-8, f"shuffled {name}, stage {stage}")
    reps = np.arange(-1, 40, dtype=np.int64)
    item_p, item_r = np.repeat(np.arange(24, dtype=np.int64), len(reps)), np.tile(reps, 24)
    for scheme in (0, 2):  # points (multiplicities), residual (staged yhat and residuals)
        args = (m.index, 0, np.ascontiguousarray(x), y, w, off, p0, lo, hi, scheme, 0, 5, None, None,
                None, item_p, item_r, 1e-12, 1e-10, 1e-10, 200, 1.0, False, False)
        ref = _core.bootstrap_batch(*args, 1, f32)
        for stage in (None, 0, 30, 45):
            got = _cuda.bootstrap_batch(*args, None, f32, stage_points=stage)
            for name, a, b in zip(("x", "cov", "cost", "status", "iterations"), got, ref):
                if b is not None:
                    _close(device, a, b, 1e-10, f"bootstrap {name}, scheme {scheme}, stage {stage}")


def test_warp_items_with_any_staging(device: str, simd: None) -> None:
    """A warp per item (tiles of 4 items) with the automatic staging, none, and a capacity of
    one problem (items of staged and unstaged problems in one tile), items in order and
    in random order: fits and bootstrap replicates (points and residual schemes) keep the CPU
    baseline build's bits."""
    _core.set_simd_level("baseline")
    n_problems, n = 5, 70
    x, y, off, p0 = _batch("chinchilla", n_problems=n_problems, n=n, seed=31)
    m = scalingfit.models.get("chinchilla")
    P = p0.shape[1]
    lo, hi = np.full(P, -np.inf), np.full(P, np.inf)
    w = np.random.default_rng(32).integers(0, 3, y.shape[0]).astype(float)
    problem = np.repeat(np.arange(n_problems, dtype=np.int64), 2)
    starts = p0[problem] * (1 + 0.02 * np.random.default_rng(33).standard_normal((len(problem), P)))
    order = np.random.default_rng(34).permutation(len(problem))
    fit_args = (m.index, 0, np.ascontiguousarray(x), y, w, off)
    tail = (lo, hi, 1e-12, 1e-10, 1e-10, 200, 1.0, False, True)
    for items, p_start in ((problem, starts), (problem[order], starts[order])):
        cpu = _core.solve_batch(*fit_args, items, p_start, *tail, 1, False)
        for stage in (None, 0, n):
            gpu = _cuda.solve_batch(*fit_args, items, p_start, *tail, None, False, stage_points=stage,
                                    item_threads=32)
            for name, a, b in zip(("x", "cov", "cost", "status", "iterations"), gpu, cpu):
                _close(device, a, b, 1e-10 if name != "cov" else 1e-8, f"fit {name}, stage {stage}")
    reps = np.arange(-1, 2, dtype=np.int64)
    item_p, item_r = np.repeat(np.arange(n_problems, dtype=np.int64), len(reps)), np.tile(reps, n_problems)
    for scheme, stages in ((0, (None,)), (2, (None, n))):  # points; residual (staged yhat, residuals)
        args = (m.index, 0, np.ascontiguousarray(x), y, w, off, p0, lo, hi, scheme, 0, 5, None, None,
                None, item_p, item_r, 1e-12, 1e-10, 1e-10, 200, 1.0, False, False)
        ref = _core.bootstrap_batch(*args, 1, False)
        for stage in stages:
            got = _cuda.bootstrap_batch(*args, None, False, stage_points=stage, item_threads=32)
            for name, a, b in zip(("x", "cov", "cost", "status", "iterations"), got, ref):
                if b is not None:
                    _close(device, a, b, 1e-10, f"bootstrap {name}, scheme {scheme}, stage {stage}")


# Per threads per item: the test's batch (problems, points) and bootstrap resamples. The warp's
# batch is smaller (emulated, each of its shuffles is a barrier of 32 OS threads); its 70
# points take three rounds of 32, with weights of 0 making rounds of any count of points.
_ITEM_THREADS_CASES = {4: (9, 45, 30), 32: (3, 70, 4)}


@pytest.mark.parametrize("item_threads", sorted(_ITEM_THREADS_CASES))
@pytest.mark.parametrize("model", MODELS)
def test_items_of_several_threads_give_the_same_bits(model: str, item_threads: int, device: str,
                                                     simd: None) -> None:
    """item_threads=4 (a quad of GPU threads per item, each summing every fourth point of
    positive weight, combined by shuffles in the accumulator's order) and 32 (a warp per item:
    32 points evaluated at a time, their terms passed by shuffles to the threads of their
    partial sums): fits in both precisions, with weights (some zero) and without, plain and
    log residuals, and bootstrap replicates (multiplicities: the weighted path), against the
    CPU's baseline / float32 build (emulated: bit for bit, and iteration counts equal)."""
    _core.set_simd_level("baseline")
    n_problems, n, n_resamples = _ITEM_THREADS_CASES[item_threads]
    x, y, off, p0 = _batch(model, n_problems=n_problems, n=n, seed=21)
    w = np.random.default_rng(22).integers(0, 3, y.shape[0]).astype(float)
    k = MODELS.index(model)
    env = pytest.MonkeyPatch.context
    for precision in ("float64", "float32"):
        for loss, wts, log in (("linear", w, k % 2 == 1), (LOSSES[1 + k % 4], None, k % 2 == 0)):
            kw = dict(loss=loss, f_scale=0.05, log_residuals=log, weights=wts, precision=precision)
            cpu = scalingfit.fit_batch(model, x, y, off, p0, **kw)
            with env() as mp:
                mp.setenv(_cuda.ITEM_THREADS_ENV, str(item_threads))
                gpu = scalingfit.fit_batch(model, x, y, off, p0, backend="cuda", **kw)
            _fits_match(device, gpu, cpu, precision, loss)
    with _quiet():
        kw = dict(center=p0, n_resamples=n_resamples, method="percentile", seed=4)
        cpu_b = scalingfit.bootstrap_batch(model, x, y, off, **kw)
        with env() as mp:
            mp.setenv(_cuda.ITEM_THREADS_ENV, str(item_threads))
            gpu_b = scalingfit.bootstrap_batch(model, x, y, off, backend="cuda", **kw)
    assert np.array_equal(cpu_b.status, gpu_b.status)
    ok = np.isfinite(cpu_b.samples)
    _close(device, gpu_b.samples[ok], cpu_b.samples[ok], 1e-10)


def test_item_threads_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_cuda.ITEM_THREADS_ENV, raising=False)
    assert _cuda.item_threads_for() == 1  # auto, for a batch it knows nothing of
    assert _cuda.item_threads_for(4) == 4
    assert _cuda.item_threads_for("32") == 32
    monkeypatch.setenv(_cuda.ITEM_THREADS_ENV, "4")
    assert _cuda.item_threads_for() == 4
    assert _cuda.item_threads_for(1) == 1  # the argument wins
    with pytest.raises(ValueError, match="item_threads must be one of auto, 1, 4, 32, got 2"):
        _cuda.item_threads_for(2)
    monkeypatch.setenv(_cuda.ITEM_THREADS_ENV, "quad")
    with pytest.raises(ValueError, match="SCALINGFIT_CUDA_ITEM_THREADS must be one of auto, 1, 4, 32, got 'quad'"):
        _cuda.item_threads_for()


def test_item_threads_auto_takes_a_warp_for_few_items_of_many_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto: a warp per item when the batch has at most 8 items per multiprocessor and their
    problems have at least 32 points on average (items of no problem not counted), else one
    thread; the environment variable may say "auto" too (any case)."""
    monkeypatch.setenv(_cuda.ITEM_THREADS_ENV, "Auto")
    auto = _cuda.item_threads_for
    assert auto(None, 1056, 32.0, 132) == 32
    assert auto(None, 1057, 32.0, 132) == 1
    assert auto(None, 100, 31.9, 132) == 1
    assert auto(None, 0, 100.0, 132) == 1
    assert auto("auto", 16, 5000.0, 2) == 32
    offsets = np.array([0, 10, 110, 130], dtype=np.int64)  # problems of 10, 100, 20 points
    problem = np.array([0, 1, 1, 2, -1, 7], dtype=np.int64)
    assert _cuda._mean_points(problem, offsets) == pytest.approx((10 + 100 + 100 + 20) / 4)
    assert _cuda._mean_points(np.array([-1], dtype=np.int64), offsets) == 0.0


def test_item_threads_auto_on_the_emulator(emulator: Any, simd: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Through fit_batch on the emulated device (2 multiprocessors): 16 items of 40 points
    take a warp each, 17 a thread each (the kernels the launches asked for), and both give the
    CPU baseline build's bits."""
    _core.set_simd_level("baseline")
    monkeypatch.delenv(_cuda.ITEM_THREADS_ENV)
    asked: list[int] = []
    module = _cuda._module

    def spy(model: Any = None, loss: Any = None, float32: bool = False, item_threads: int = 1) -> Any:
        asked.append(item_threads)
        return module(model, loss, float32, item_threads)

    for n_problems, want in ((16, 32), (17, 1)):
        x, y, off, p0 = _batch("saturating_power_law", n_problems=n_problems, n=40, seed=5)
        cpu = scalingfit.fit_batch("saturating_power_law", x, y, off, p0)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_cuda, "_module", spy)
            gpu = scalingfit.fit_batch("saturating_power_law", x, y, off, p0, backend="cuda")
        assert asked[-1] == want, (n_problems, asked)
        _fits_match("emulated", gpu, cpu, "float64", "linear")


def test_kernels_of_several_threads_per_item_keep_chinchilla_in_registers() -> None:
    """What ptxas (through NVRTC) reports for sm_90: with one thread per item the Chinchilla
    kernels use all 255 registers and spill (the four partial sums of 21 entries are 84
    doubles); with a quad or a warp per item each thread holds one partial sum and (nearly)
    nothing spills, in float64 and float32; the saturating power law needs fewer registers too."""
    if not _nvrtc():
        pytest.skip("CuPy's NVRTC binding is not installed")
    chin, spl = scalingfit.models.get("chinchilla").index, scalingfit.models.get("saturating_power_law").index
    for float32 in (False, True):
        one = _cuda.kernel_resources(chin, 0, float32=float32)
        for g in (4, 32):
            many = _cuda.kernel_resources(chin, 0, float32=float32, item_threads=g)
            for kind in ("fit", "bootstrap"):
                # measured (NVRTC 13.5): float64 1,384 / 4,264 bytes of spill stores with one
                # thread per item, none with quads, 0 / 4 with a warp; float32 296 / 500 -> 0
                # (a bool array of fixed parameters kept across the iterations made quads spill
                # 76 bytes: solve reads lo == hi where it needs it instead)
                assert 20 * many[kind]["spill_stores"] <= one[kind]["spill_stores"], (float32, g, kind, one, many)
                assert many[kind]["spill_stores"] <= 64, (float32, g, kind, many)
    one, quad = _cuda.kernel_resources(spl, 0), _cuda.kernel_resources(spl, 0, item_threads=4)
    assert quad["fit"]["registers"] < one["fit"]["registers"] - 32, (one, quad)


def test_ptxas_log_counts_only_the_kernels_own_properties() -> None:
    """A function the kernel calls (not inlined) is reported after it with its own spills:
    they are not the kernel's (the parser once took the last such line for the kernel)."""
    log = """ptxas info    : 549 bytes gmem
ptxas info    : Compiling entry function '_Z11sf_resampleIfit' for 'sm_90'
ptxas info    : Function properties for _Z11sf_resampleIfit
ptxas         .     1616 bytes stack frame, 23544 bytes spill stores, 13352 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 1616 bytes cumulative stack size
ptxas info    : Compile time = 7176.432 ms
ptxas info    : Function properties for _ZN10scalingfit15DataConstrained4evalEPKdS2_Pd
ptxas         .     0 bytes stack frame, 624 bytes spill stores, 752 bytes spill loads
ptxas info    : Compiling entry function '_Z6sf_fitI' for 'sm_90'
ptxas info    : Function properties for _Z6sf_fitI
ptxas         .     8 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 128 registers, used 1 barriers, 8 bytes cumulative stack size
ptxas info    : Compiling entry function 'sf_multiplicities' for 'sm_90'
ptxas info    : Function properties for sf_multiplicities
ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 59 registers, used 0 barriers
"""
    out = _cuda.parse_ptxas_log(log, {"_Z11sf_resampleIfit": "bootstrap", "_Z6sf_fitI": "fit"})
    assert out == {
        "bootstrap": {"stack": 1616, "spill_stores": 23544, "spill_loads": 13352, "registers": 255},
        "fit": {"stack": 8, "spill_stores": 0, "spill_loads": 0, "registers": 128},
    }


def test_the_gpu_driver_checks_shapes_as_the_core_does(emulator: Any) -> None:
    """_cuda.solve_batch / bootstrap_batch are drop-ins for _core's: p0, bounds or center of
    another width than the model's parameter count, a problem_id of the wrong length and
    group ids outside their problem's range are refused (ValueError) before anything is
    launched, as _core refuses them; the kernels read and write with the model's stride, so a
    narrower p0 used to run past the device buffers (ASan, emulated) and return NaN."""
    spl = scalingfit.models.get("saturating_power_law").index
    rng = np.random.default_rng(0)
    x = np.tile(np.logspace(6, 9, 10), 2)[:, None].copy()
    y = 2.0 + 5.0 * x[:, 0]**-0.3 + 0.01 * rng.standard_normal(20)
    off = np.array([0, 10, 20], dtype=np.int64)
    items = np.array([0, 0, 1, 1], dtype=np.int64)
    opts = (1e-10, 1e-10, 1e-10, 100, 1.0, False, False)
    lo3, hi3 = np.full(3, -np.inf), np.full(3, np.inf)
    narrow = np.ones((4, 2))
    n0 = len(emulator.STATE.grids)
    for solver in (_core.solve_batch, _cuda.solve_batch):
        with pytest.raises(ValueError, match=r"p0 must have shape \(4, 3\)"):
            solver(spl, 0, x, y, None, off, items, narrow, lo3, hi3, *opts, 1)
        with pytest.raises(ValueError, match="bounds|lo|hi"):
            solver(spl, 0, x, y, None, off, items, np.ones((4, 3)), lo3[:2], hi3[:2], *opts, 1)
    center = np.tile([2.0, 5.0, 0.3], (2, 1))
    rep = np.array([0, 1, 0, 1], dtype=np.int64)
    from scalingfit.bootstrap import SCHEMES

    GROUPS = SCHEMES["groups"]
    groups = np.tile(np.arange(5, dtype=np.int32).repeat(2), 2)
    n_groups = np.array([5, 5], dtype=np.int64)
    tail = (1e-10, 1e-10, 1e-10, 100, 1.0, False, False, 1)
    for solver in (_core.bootstrap_batch, _cuda.bootstrap_batch):
        def boot(c: np.ndarray = center, pid: Any = None, g: Any = None, ng: Any = None, scheme: int = 0) -> Any:
            return solver(spl, 0, x, y, None, off, c, lo3, hi3, scheme, 0, 1, pid, g, ng, items, rep, *tail)

        with pytest.raises(ValueError, match="center"):
            boot(c=center[:, :2].copy())
        with pytest.raises(ValueError, match="problem_id must have one entry per problem"):
            boot(pid=np.array([0, 1, 2], dtype=np.int64))
        bad = groups.copy()
        bad[13] = 5
        with pytest.raises(ValueError, match=r"groups\[13\] = 5 is not a group id of its problem \(0\.\.4\)"):
            boot(g=bad, ng=n_groups, scheme=GROUPS)
        with pytest.raises(ValueError, match=r"n_groups\[1\] = 11 is not between 0"):
            boot(g=groups, ng=np.array([5, 11], dtype=np.int64), scheme=GROUPS)
    assert len(emulator.STATE.grids) == n0  # nothing was launched
