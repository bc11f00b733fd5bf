"""Mutation round 8: _refit_boot.py (the bootstrap of a refit chunk). The group stream id's
56 bits; a group's intervals independent of the groups before it in its chunk (its stream
id follows its own key, not its position); the stored centre and the configured precision
handed to the engine; and a group whose centre is not finite left unresampled. Each against
scalingfit.bootstrap_batch called here on the group alone, or the docstrings' contract."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("pandas")
import scalingfit
from scalingfit import _synthdb
from scalingfit import refit as rf
from scalingfit._refit_boot import bootstrap_chunk, group_stream_id

MODEL = scalingfit.models.get("chinchilla")
SPEC = rf.LAWS["chinchilla"]


def _groups(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` groups of 20 final-loss points (the synthetic sweeps the refit tests use)."""
    df, _ = _synthdb.chinchilla_sweeps(n, runs=20, checkpoints=1, noise=0.005, seed=4)
    xs, ys, off = [], [], [0]
    for sweep in range(n):
        g = df[df.sweep == sweep]
        xs.append(g[["N", "D"]].to_numpy(dtype=float))
        ys.append(g["value"].to_numpy(dtype=float))
        off.append(off[-1] + len(g))
    return np.vstack(xs), np.concatenate(ys), np.array(off, dtype=np.int64)


def _reference(x: np.ndarray, y: np.ndarray, center: np.ndarray, key: str,
               config: rf.RefitConfig) -> scalingfit.BootstrapBatchResult:
    """bootstrap_batch on one group alone, around ``center``, with the group's stream id."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)
        return scalingfit.bootstrap_batch(
            "chinchilla", x, y, np.array([0, y.size], dtype=np.int64), n_resamples=config.bootstrap,
            seed=config.seed, level=config.level, method=config.ci_method, center=center[None, :],
            problem_id=np.array([group_stream_id(key)], dtype=np.int64), precision=config.precision)


def _intervals(ref: scalingfit.BootstrapBatchResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ci = np.array([ref.ci(name)[0] for name in MODEL.param_names])
    se = np.array([ref.stderr(name)[0] for name in MODEL.param_names])
    return ci[:, 0], ci[:, 1], se


def test_group_stream_ids_use_all_56_bits() -> None:
    # "A 56-bit stream id (the RNG takes problem ids modulo 2^56)": every id is in [0, 2^56),
    # and over 256 keys of a well-mixed hash some id is >= 2^55 (all 256 below it has
    # probability 2^-256); 52 bits (13 hex digits) would keep every id below 2^52.
    ids = [group_stream_id(f"sweep={i}") for i in range(256)]
    assert all(0 <= v < 2**56 for v in ids)
    assert max(ids) >= 2**55
    assert len(set(ids)) == 256


def test_a_groups_intervals_do_not_depend_on_the_groups_before_it() -> None:
    # Module docstring: "a group gets the same intervals whatever chunk it lands in". Group
    # "b" after a group that is not bootstrapped (its fit failed: status -3) must get the
    # intervals of bootstrap_batch on "b" alone with b's stream id (not the stream of the key
    # at its position in the bootstrapped subset, which is "a"'s).
    x, y, off = _groups(2)
    fit = scalingfit.fit_batch("chinchilla", x, y, off)
    assert (fit.status > 0).all()
    status = fit.status.copy()
    status[0] = -3
    config = rf.RefitConfig("chinchilla", ("sweep",), bootstrap=40, seed=2)
    lo, hi, failed, se = bootstrap_chunk(SPEC, MODEL, x, y, off, fit.x, status, ["a", "b"], config, 1)
    assert np.isnan(lo[0]).all() and np.isnan(hi[0]).all() and failed[0] == 0
    ref = _reference(x[20:], y[20:], fit.x[1], "b", config)
    want_lo, want_hi, want_se = _intervals(ref)
    np.testing.assert_allclose(lo[1], want_lo, rtol=1e-12)
    np.testing.assert_allclose(hi[1], want_hi, rtol=1e-12)
    np.testing.assert_allclose(se[1], want_se, rtol=1e-12)
    assert failed[1] == int(ref.n_failed[0])


def test_the_chunk_is_bootstrapped_around_the_stored_centre_bit_for_bit() -> None:
    # The intervals are bootstrap_batch's around the stored fit (center=): a stored fit that
    # converged from another start (same optimum, other last bits) gives bootstrap_batch's
    # bits around that centre, not those around a centre re-fitted from the default start.
    x, y, off = _groups(1)
    p0 = np.array([1.8, 450.0, 1500.0, 0.3, 0.3])
    center = scalingfit.fit_batch("chinchilla", x, y, off, p0=p0[None, :]).x
    default = scalingfit.fit_batch("chinchilla", x, y, off).x
    assert not np.array_equal(center, default)  # the premise: another start, other bits
    np.testing.assert_allclose(center, default, rtol=1e-4)
    config = rf.RefitConfig("chinchilla", ("sweep",), bootstrap=40, seed=3)
    lo, hi, _, se = bootstrap_chunk(SPEC, MODEL, x, y, off, center, np.array([1], dtype=np.int32),
                                         ["k"], config, 1)
    want_lo, want_hi, want_se = _intervals(_reference(x, y, center[0], "k", config))
    np.testing.assert_array_equal(lo[0], want_lo)
    np.testing.assert_array_equal(hi[0], want_hi)
    np.testing.assert_array_equal(se[0], want_se)


def test_the_configured_precision_reaches_the_engine() -> None:
    # RefitConfig.precision is "of the solves (results differ in the last digits: hashed)":
    # a float32 configuration gives the float32 solves' intervals (bootstrap_batch with
    # precision="float32", bit for bit), which differ from the float64 ones.
    x, y, off = _groups(1)
    fit = scalingfit.fit_batch("chinchilla", x, y, off)
    config = rf.RefitConfig("chinchilla", ("sweep",), bootstrap=40, seed=1, precision="float32")
    lo, hi, _, se = bootstrap_chunk(SPEC, MODEL, x, y, off, fit.x, fit.status, ["0"], config, 1)
    want_lo, want_hi, want_se = _intervals(_reference(x, y, fit.x[0], "0", config))
    np.testing.assert_array_equal(lo[0], want_lo)
    np.testing.assert_array_equal(hi[0], want_hi)
    np.testing.assert_array_equal(se[0], want_se)
    f64 = rf.RefitConfig("chinchilla", ("sweep",), bootstrap=40, seed=1)
    lo64, _, _, _ = bootstrap_chunk(SPEC, MODEL, x, y, off, fit.x, fit.status, ["0"], f64, 1)
    assert not np.array_equal(lo[0], lo64[0])


def test_a_group_without_a_finite_centre_is_not_resampled() -> None:
    # bootstrap_chunk bootstraps the groups whose centre converged AND is finite: a group with
    # a positive status but a NaN in its stored fit gets NaN intervals and 0 failed
    # replicates (nothing was resampled), and the other group its own intervals.
    x, y, off = _groups(2)
    fit = scalingfit.fit_batch("chinchilla", x, y, off)
    center = fit.x.copy()
    center[0, 3] = np.nan
    config = rf.RefitConfig("chinchilla", ("sweep",), bootstrap=40, seed=1)
    lo, hi, failed, se = bootstrap_chunk(SPEC, MODEL, x, y, off, center, fit.status, ["0", "1"], config, 1)
    assert np.isnan(lo[0]).all() and np.isnan(hi[0]).all() and np.isnan(se[0]).all()
    assert failed.tolist()[0] == 0
    assert np.isfinite(lo[1]).all() and np.isfinite(hi[1]).all()
