"""Mutation round 6: simulate.py. Each test compares with the module's documented contract
(docstrings) or a closed form, never with the code's own output."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import simulate


def test_noise_is_log_normal_even_when_large() -> None:
    # "times exp(noise * eps) with eps ~ N(0, 1)": at noise = 1 every loss stays > 0 and
    # log(loss / law) has standard deviation 1 (a factor 1 + noise * eps would go negative)
    s = simulate.isoflop_sweep(budgets=np.logspace(18, 21, 40), n_sizes=50, noise=1.0, seed=7)
    assert np.all(s.loss > 0)
    r = np.log(s.loss / s.truth.loss(s.N, s.D))
    assert r.std() == pytest.approx(1.0, rel=0.06)
    assert abs(r.mean()) < 0.08
    t = simulate.training_curves(sizes=np.logspace(8, 10, 20), n_points=100, noise=1.0, seed=8)
    assert np.all(t.loss > 0)
    assert np.log(t.loss / t.truth.loss(t.N, t.D)).std() == pytest.approx(1.0, rel=0.06)


@pytest.mark.parametrize("call", [
    lambda: simulate.isoflop_sweep(budgets=[]),
    lambda: simulate.isoflop_sweep(budgets=np.zeros(0)),
    lambda: simulate.training_curves(sizes=[]),
])
def test_empty_budgets_or_sizes_are_refused(call: object) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        call()  # type: ignore[operator]


def test_span_and_shift_limits_are_inclusive() -> None:
    # documented ranges: span in (0, 10], shift in [-10, 10] (decades of N)
    s = simulate.isoflop_sweep(budgets=[1e20], n_sizes=3, span=10.0, noise=0.0)
    N_opt, _ = s.truth.optimal_allocation(1e20)
    assert np.log10(s.N / N_opt) == pytest.approx([-10.0, 0.0, 10.0])
    for shift in (10.0, -10.0):
        s = simulate.isoflop_sweep(budgets=[1e20], n_sizes=3, span=1.0, shift=shift, noise=0.0)
        assert np.log10(s.N / N_opt) == pytest.approx([shift - 1.0, shift, shift + 1.0])
    with pytest.raises(ValueError, match="span"):
        simulate.isoflop_sweep(span=10.001)
    with pytest.raises(ValueError, match="shift"):
        simulate.isoflop_sweep(shift=-10.001)


def test_numpy_integer_seed_is_recorded() -> None:
    # "seed : int or None" on the result: a numpy integer is an int seed (reproducible), not
    # fresh entropy
    for seed in (np.int64(5), np.int32(5)):
        assert simulate.isoflop_sweep(seed=seed).seed == 5
        assert simulate.training_curves(seed=seed).seed == 5
    assert np.array_equal(simulate.isoflop_sweep(seed=np.int64(5)).loss, simulate.isoflop_sweep(seed=5).loss)


def test_flops_range_must_be_strictly_increasing() -> None:
    with pytest.raises(ValueError, match="0 < low < high"):
        simulate.training_curves(flops_range=(1e18, 1e18))
    with pytest.raises(ValueError, match="0 < low < high"):
        simulate.training_curves(flops_range=(1e20, 1e18))


def test_default_grids_are_as_documented() -> None:
    # "7 budgets from 1e18 to 1e21" and "25 sizes from 3.2e7 to 3.2e10", log-spaced
    assert np.allclose(simulate.DEFAULT_BUDGETS, 10.0 ** np.linspace(18, 21, 7), rtol=1e-12)
    assert np.allclose(simulate.DEFAULT_SIZES, 10.0 ** np.linspace(7.5, 10.5, 25), rtol=1e-12)
    t = simulate.training_curves(n_points=2, noise=0.0)
    assert np.unique(t.run).size == 25 and t.N.min() == pytest.approx(10**7.5)
