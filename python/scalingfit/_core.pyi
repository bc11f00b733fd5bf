"""Type stubs of the C++ extension (cpp/src/bindings.cpp)."""

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
def __getattr__(name: str) -> Any: ...
