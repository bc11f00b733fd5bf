"""Type stubs of the C++ extension (cpp/src/bindings.cpp)."""

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np
from numpy.typing import NDArray

def model_info() -> list[dict[str, Any]]: ...
def loss_names() -> list[str]: ...
def hardware_threads() -> int: ...
def simd_levels() -> list[str]: ...
def simd_level() -> str: ...
def set_simd_level(name: str) -> None: ...
def elementary(fn: int, x: NDArray[np.float64], float32: bool = False) -> NDArray[np.float64]: ...
def evaluate(
    model: int, x: NDArray[np.float64], p: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def evaluate_many(model: int, x: NDArray[np.float64], params: NDArray[np.float64]) -> NDArray[np.float64]: ...
def evaluate_pairs(model: int, x: NDArray[np.float64], params: NDArray[np.float64]) -> NDArray[np.float64]: ...
def solve_batch(
    model: int,
    loss: int,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: Optional[NDArray[np.float64]],
    offsets: NDArray[np.int64],
    problem: NDArray[np.int64],
    p0: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    ftol: float,
    xtol: float,
    gtol: float,
    max_iter: int,
    f_scale: float,
    log_residuals: bool,
    compute_cov: bool,
    n_threads: int,
    float32: bool = False,
) -> tuple[
    NDArray[np.float64],
    Optional[NDArray[np.float64]],
    NDArray[np.float64],
    NDArray[np.int32],
    NDArray[np.int32],
]: ...
def prepare_batch(
    model: int,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: Optional[NDArray[np.float64]],
    offsets: NDArray[np.int64],
    log_residuals: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]]: ...
def bootstrap_batch(
    model: int,
    loss: int,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: Optional[NDArray[np.float64]],
    offsets: NDArray[np.int64],
    center: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    scheme: int,
    wild: int,
    seed: int,
    problem_id: Optional[NDArray[np.int64]],
    groups: Optional[NDArray[np.int32]],
    n_groups: Optional[NDArray[np.int64]],
    item_problem: NDArray[np.int64],
    item_replicate: NDArray[np.int64],
    ftol: float,
    xtol: float,
    gtol: float,
    max_iter: int,
    f_scale: float,
    log_residuals: bool,
    compute_cov: bool,
    n_threads: int,
    float32: bool = False,
) -> tuple[
    NDArray[np.float64],
    Optional[NDArray[np.float64]],
    NDArray[np.float64],
    NDArray[np.int32],
    NDArray[np.int32],
]: ...
def prepare_residuals(
    model: int,
    scheme: int,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: Optional[NDArray[np.float64]],
    offsets: NDArray[np.int64],
    center: NDArray[np.float64],
    log_residuals: bool,
    lo: Optional[NDArray[np.float64]] = None,
    hi: Optional[NDArray[np.float64]] = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]]: ...
def resample_multiplicities(
    scheme: int,
    seed: int,
    problem_id: int,
    replicates: NDArray[np.int64],
    n_points: int,
    groups: Optional[NDArray[np.int32]],
    n_groups: int,
    n_threads: int,
) -> NDArray[np.int32]: ...
def resample_targets(
    scheme: int,
    wild: int,
    seed: int,
    problem_id: int,
    replicates: NDArray[np.int64],
    y: NDArray[np.float64],
    yhat: NDArray[np.float64],
    resid: NDArray[np.float64],
    weights: Optional[NDArray[np.float64]],
    n_threads: int,
) -> NDArray[np.float64]: ...
def philox4x32_10(counter: Sequence[int], key: Sequence[int]) -> tuple[int, int, int, int]: ...
def philox_stream(seed: int, s1: int, s2: int, s3: int, start: int, n: int) -> NDArray[np.uint32]: ...
