"""The solver's own exp/log and its builds per instruction set (cpp/src/kernels.hpp).

sf_exp and sf_log are measured in ulps against long-double references over the whole double
range, special values included, in every build this CPU runs; the builds give the same fits
to rounding, and each is bit-identical for any thread count. The persistent thread pool
survives a fork.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import numpy as np
import pytest
import scalingfit
from conftest import make_problem, pack_problems
from scalingfit import _core

LEVELS = _core.simd_levels()


@pytest.fixture(params=LEVELS)
def level(request: pytest.FixtureRequest) -> Iterator[str]:
    before = _core.simd_level()
    _core.set_simd_level(request.param)
    try:
        yield request.param
    finally:
        _core.set_simd_level(before)


def ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - ref| in units of the spacing of doubles at ref (subnormal spacing below 2^-1022)."""
    spacing = np.spacing(np.abs(ref.astype(np.float64))).astype(np.longdouble)
    return np.asarray(np.abs(got.astype(np.longdouble) - ref) / spacing, dtype=np.float64)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs 80-bit long double references")
def test_exp_within_about_one_ulp_over_the_whole_range(level: str) -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-745.1, 709.78, 400_000), rng.uniform(-1, 1, 100_000),
                        rng.uniform(-745.13, -708.4, 50_000),  # subnormal results
                        rng.uniform(709.0, 709.78, 20_000)])
    got = _core.elementary(0, x)
    ref = np.exp(x.astype(np.longdouble))
    u = ulps(got, ref)
    assert u.max() < 1.1, (u.max(), x[np.argmax(u)])
    assert np.mean(got == np.exp(x)) > 0.85  # mostly the correctly rounded value


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs 80-bit long double references")
def test_log_within_one_ulp_over_the_whole_range(level: str) -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([np.exp(rng.uniform(-744, 709, 400_000)), rng.uniform(0.5, 2, 100_000),
                        1 + rng.uniform(-1e-6, 1e-6, 20_000),
                        rng.uniform(5e-324, 2.2e-308, 20_000)])  # subnormal arguments
    got = _core.elementary(1, x)
    ref = np.log(x.astype(np.longdouble))
    u = ulps(got, ref)
    assert u.max() < 1.0, (u.max(), x[np.argmax(u)])


def test_special_values(level: str) -> None:
    inf, nan = np.inf, np.nan
    x = np.array([0.0, -0.0, 746.0, 710.0, 709.79, 1e308, inf, -745.2, -746.0, -1e308, -inf, nan])
    with np.errstate(over="ignore"):
        expect = np.exp(x)
    np.testing.assert_array_equal(_core.elementary(0, x), expect)
    x = np.array([0.0, -0.0, 1.0, inf, -1.0, -inf, nan, 5e-324, 2.2250738585072014e-308,
                  1.7976931348623157e308])
    with np.errstate(divide="ignore", invalid="ignore"):
        expect = np.log(x)
    np.testing.assert_array_equal(_core.elementary(1, x), expect)


def test_every_build_is_thread_count_invariant_and_agrees_with_the_baseline() -> None:
    rng = np.random.default_rng(21)
    problems = [make_problem("chinchilla", 90, 0.01, rng) for _ in range(150)]
    x, y, offsets = pack_problems(problems)
    w = rng.integers(0, 3, y.shape[0]).astype(float)  # points of weight 0 are skipped
    before = _core.simd_level()
    results = {}
    try:
        for lv in LEVELS:
            _core.set_simd_level(lv)
            runs = [scalingfit.fit_batch("chinchilla", x, y, offsets, weights=w, threads=t)
                    for t in (1, 2, 3)]
            for r in runs[1:]:
                assert np.array_equal(r.x, runs[0].x), lv
                assert np.array_equal(r.cost, runs[0].cost), lv
                assert np.array_equal(r.iterations, runs[0].iterations), lv
            results[lv] = runs[0]
    finally:
        _core.set_simd_level(before)
    base = results["baseline"]
    for lv, r in results.items():
        ok = (r.status > 0) & (base.status > 0)
        assert ok.mean() > 0.9
        np.testing.assert_allclose(r.cost[ok], base.cost[ok], rtol=1e-9)
        np.testing.assert_allclose(r.x[ok], base.x[ok], rtol=1e-5)


def test_unknown_level_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="instruction-set level"):
        _core.set_simd_level("sse9")


def test_thread_pool_survives_fork() -> None:
    script = textwrap.dedent("""
        import os, sys, warnings
        warnings.simplefilter("ignore")
        import scalingfit
        from scalingfit import _bench
        p = _bench.make_problems("saturating_power_law", 400, 10, seed=0)
        a = scalingfit.fit_batch(p.model, p.x, p.y, p.offsets, p.p0, threads=2).x
        pid = os.fork()
        if pid == 0:
            b = scalingfit.fit_batch(p.model, p.x, p.y, p.offsets, p.p0, threads=2).x
            os._exit(0 if (a == b).all() else 3)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    """)
    if not hasattr(__import__("os"), "fork"):
        pytest.skip("no fork on this platform")
    proc = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
