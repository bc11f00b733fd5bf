"""Bootstrap intervals for a bulk-refit chunk (all groups x resamples in one batched call).

Each group's resamples are keyed by a stable id derived from its group key, so a group gets
the same intervals whatever chunk (or Dask worker) it lands in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._warnings import ConvergenceWarning, suppressed
from .bootstrap import bootstrap_batch

FloatArray = NDArray[np.float64]


def group_stream_id(key: str) -> int:
    """A 56-bit stream id for a group key (the RNG takes problem ids modulo 2^56)."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:14], 16)


def group_rows(offsets: NDArray[np.int64], sel: NDArray[np.int64]) -> NDArray[np.int64]:
    """The rows of groups ``sel``, in that order, where group j owns rows
    ``offsets[j]:offsets[j + 1]`` (the concatenated ``arange`` of each, built at once)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    sel = np.asarray(sel, dtype=np.int64)
    starts = offsets[sel]
    counts = offsets[sel + 1] - starts
    before = np.cumsum(counts) - counts  # where each group's rows start in the result
    rows: NDArray[np.int64] = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - before, counts)
    return rows


def bootstrap_chunk(spec: Any, model: Any, x: FloatArray, y: FloatArray, offsets: NDArray[np.int64],
                    center: FloatArray, center_status: NDArray[np.int32], keys: Sequence[str],
                    config: Any, threads: Any,
                    backend: str = "cpu") -> tuple[FloatArray, FloatArray, NDArray[np.int64], FloatArray]:
    """(ci_low, ci_high, failed replicates, bootstrap stderr) per group, shape (n_groups, P)."""
    P = model.n_params
    n = offsets.shape[0] - 1
    ok = (center_status > 0) & np.isfinite(center).all(axis=1)
    lo = np.full((n, P), np.nan)
    hi = np.full((n, P), np.nan)
    se = np.full((n, P), np.nan)
    failed = np.zeros(n, dtype=np.int64)
    if not ok.any():
        return lo, hi, failed, se
    sel = np.flatnonzero(ok)
    counts = np.diff(offsets)[sel]
    idx = group_rows(offsets, sel)
    sub_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    # Failed replicates are recorded per group (n_boot_failed), not warned about per chunk (in
    # this thread only: warnings.catch_warnings would swap the process-wide filters).
    with suppressed(ConvergenceWarning):
        res = _run(spec, x, y, idx, sub_off, center, sel, keys, config, threads, backend)
    for a, name in enumerate(model.param_names):
        ci = res.ci(name)
        lo[sel, a] = ci[:, 0]
        hi[sel, a] = ci[:, 1]
        se[sel, a] = res.stderr(name)
    failed[sel] = res.n_failed
    return lo, hi, failed, se


def _run(spec: Any, x: FloatArray, y: FloatArray, idx: NDArray[np.int64], sub_off: NDArray[np.int64],
         center: FloatArray, sel: NDArray[np.int64], keys: Sequence[str], config: Any, threads: Any,
         backend: str) -> Any:
    return bootstrap_batch(
        spec.model, x[idx], y[idx], sub_off, n_resamples=config.bootstrap, seed=config.seed,
        level=config.level, method=config.ci_method, center=center[sel],
        problem_id=np.array([group_stream_id(keys[j]) for j in sel], dtype=np.int64),
        threads=threads, backend=backend, precision=config.precision,
        **config.fit_kwargs,
    )
