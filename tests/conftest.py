"""Shared fixtures: seeded synthetic-data factories and the path to ../shared/data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

#: With this environment variable set to 1 (CI sets it), a test skipped because the published
#: data are missing fails instead: the comparisons with published numbers cannot vanish unseen.
REQUIRE_DATA = "SCALINGFIT_REQUIRE_DATA"
_DATA_SKIP = ("shared data", "shared/data", "data not found")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:  # type: ignore[type-arg]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get(REQUIRE_DATA) == "1":
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if any(s in reason for s in _DATA_SKIP):
            report.outcome = "failed"
            report.longrepr = f"{REQUIRE_DATA}=1 but the published data are missing: {reason}"

# Plausible parameter boxes per model, for random problems (each fit is well posed inside).
# Inputs are drawn log-uniformly in x_range (per input column).
PROBLEM_SPECS: dict[str, dict] = {
    "power_law": {"box": [(0.5, 50.0), (0.1, 0.8)], "x_range": [(1e1, 1e5)]},
    "saturating_power_law": {"box": [(1.0, 3.0), (50.0, 500.0), (0.2, 0.4)], "x_range": [(1e6, 1e10)]},
    "chinchilla": {
        "box": [(1.5, 2.0), (200.0, 600.0), (400.0, 2000.0), (0.25, 0.4), (0.25, 0.35)],
        "x_range": [(1e7, 1e10), (1e9, 3e11)],
    },
    "chinchilla_tied": {
        "box": [(1.5, 2.0), (200.0, 600.0), (400.0, 2000.0), (0.25, 0.4)],
        "x_range": [(1e7, 1e10), (1e9, 3e11)],
    },
    "chinchilla_lse": {
        "box": [(5.3, 6.4), (6.0, 7.6), (0.4, 0.7), (0.25, 0.4), (0.25, 0.35)],
        "x_range": [(1e7, 1e10), (1e9, 3e11)],
    },
    "kaplan_nd": {
        "box": [(1e13, 1e14), (1e13, 1e14), (0.06, 0.1), (0.08, 0.12)],
        "x_range": [(1e8, 1e11), (1e8, 1e11)],
    },
    "isoflop_parabola": {"box": [(2.0, 3.0), (18.0, 22.0), (0.02, 0.2)], "x_range": [(1e7, 1e10)]},
    "sigmoid": {"box": [(0.2, 0.3), (0.7, 0.9), (1.0, 3.0), (19.0, 21.0)], "x_range": [(1e7, 1e10)]},
    "broken_power_law": {
        "box": [(0.5, 1.0), (5.0, 20.0), (0.1, 0.3), (0.3, 0.6), (10.0, 13.0), (0.5, 1.0)],
        "x_range": [(1e2, 1e8)],
    },
    "kaplan_ns": {
        "box": [(1e13, 1e14), (1e3, 5e3), (0.06, 0.1), (0.6, 0.9)],
        "x_range": [(1e6, 1e10), (1e3, 1e5)],
    },
    "learning_curve": {"box": [(1.0, 3.0), (10.0, 100.0), (0.4, 0.8), (5.0, 50.0)], "x_range": [(1.0, 1e5)]},
    "lr_annealing": {
        "box": [(2.0, 3.0), (0.5, 2.0), (0.3, 0.8), (0.03, 0.07)],
        "x_range": [(1.0, 200.0), (1e-2, 0.9)],
    },
    # Around Muennighoff et al.'s constants (rates 1/R*); N mostly above N_opt(U_D) and D up
    # to ~300 epochs of U, so both decay rates act.
    "data_constrained": {
        "box": [(1.7, 2.0), (300.0, 700.0), (1000.0, 2000.0), (0.33, 0.38), (0.33, 0.38),
                (0.04, 0.1), (0.1, 0.3)],
        "x_range": [(1e7, 1e10), (1e9, 3e11), (1e8, 1e11)],
    },
}


def random_params(model: str, rng: np.random.Generator) -> np.ndarray:
    box = PROBLEM_SPECS[model]["box"]
    return np.array([rng.uniform(lo, hi) for lo, hi in box])


def random_inputs(model: str, n: int, rng: np.random.Generator) -> np.ndarray:
    cols = [10 ** rng.uniform(np.log10(lo), np.log10(hi), n) for lo, hi in PROBLEM_SPECS[model]["x_range"]]
    return np.column_stack(cols)


def make_problem(model: str, n: int, noise: float, rng: np.random.Generator):
    """(x, y, true params): y = model(true, x) * (1 + noise * eps), eps ~ N(0, 1)."""
    import scalingfit

    m = scalingfit.models.get(model)
    p = random_params(model, rng)
    x = random_inputs(model, n, rng)
    y = m.predict(p, x) * (1.0 + noise * rng.standard_normal(n))
    return x, y, p


def pack_problems(problems: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, offsets) of a batch: the (x, y, ...) problems of make_problem stacked CSR-style."""
    xs = np.vstack([p[0] for p in problems])
    ys = np.concatenate([p[1] for p in problems])
    offsets = np.concatenate([[0], np.cumsum([len(p[1]) for p in problems])]).astype(np.int64)
    return xs, ys, offsets


@pytest.fixture(scope="session", autouse=True)
def _cuda_kernel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CUDA backend's kernel cache for the run: a fresh folder, not the user's, unless
    SCALINGFIT_CUDA_CACHE is set (.ci/gpu sets it to the cache it filled before the tests)."""
    env = "SCALINGFIT_CUDA_CACHE"
    if env in os.environ:
        yield
        return
    os.environ[env] = str(tmp_path_factory.mktemp("cuda-kernels"))
    yield
    os.environ.pop(env, None)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


def shared_set(name: str) -> Path:
    """The folder of one shared data set, or a skip (a failure where CI requires the data)."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared data folder not found at {path}")
    return path


def muennighoff_runs() -> dict:
    """Muennighoff et al.'s 182 runs (``planning.load_muennighoff2023``), for module fixtures."""
    from scalingfit import planning

    d = planning.load_muennighoff2023(shared_set("muennighoff2023_datablations"))
    assert len(d["name"]) == 182
    return d


def gadre_runs() -> dict:
    """Gadre et al.'s 104 runs (``planning.load_gadre2024``), for module fixtures."""
    from scalingfit import planning

    d = planning.load_gadre2024(shared_set("gadre2024_overtraining"))
    assert len(d["name"]) == 104
    return d
