"""Mutation round 4, scalingfit.chinchilla: fit_parametric's interval options reach the
bootstrap (checked against numpy quantiles of its replicates), fit_isoflop's budget bound and
grouping at their exact edges (hand-made budgets), the small-budget message at
budget_rtol=0.05, and as_law's message for an approach-1 fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scalingfit import allocation, simulate
from scalingfit import chinchilla as ch


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    N = 10 ** rng.uniform(7.5, 10.5, 60)
    D = 10 ** rng.uniform(9.5, 12, 60)
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.01 * rng.standard_normal(60))
    return N, D, L


def test_basic_intervals_at_the_asked_level_are_the_reflected_quantiles(points) -> None:
    """ci_method='basic', level=0.8: each interval is (2 t - q(0.9), 2 t - q(0.1)) of the
    replicates (numpy's linear quantiles), t the point estimate; interval(name, level=0.5)
    is (2 t - q(0.75), 2 t - q(0.25))."""
    f = ch.fit_parametric(*points, grid="guess", n_resamples=200, seed=2, ci_method="basic", level=0.8)
    b = f.bootstrap
    assert b is not None and b.method == "basic" and b.level == 0.8
    assert b.estimate("alpha") == pytest.approx(f.alpha, rel=1e-9)
    for name in ("alpha", "beta", "E", "a_opt"):
        t, v = b.estimate(name), b.values(name)
        assert np.isfinite(v).all()
        np.testing.assert_allclose(f.interval(name), 2 * t - np.quantile(v, [0.9, 0.1]), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(f.interval(name, level=0.5), 2 * t - np.quantile(v, [0.75, 0.25]),
                                   rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("bad", [None, "100"])
def test_an_n_resamples_that_is_no_integer_is_named(points, bad: object) -> None:
    with pytest.raises(ValueError, match=r"n_resamples must be an integer >= 2"):
        ch.fit_parametric(*points, grid="guess", n_resamples=bad)  # type: ignore[arg-type]


def _budget(C: list[float], centre: float) -> tuple[list[float], list[float], list[float]]:
    """Five runs of one budget at computes C: sizes e^-2 .. e^2 times N_opt = 0.1 sqrt(centre),
    losses 2 + 0.1 (log N - log N_opt)^2 (its vertex at N_opt exactly)."""
    t0 = np.log(0.1 * np.sqrt(centre))
    t = t0 + np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    return list(C), list(np.exp(t)), list(2.0 + 0.1 * (t - t0) ** 2)


def test_a_budget_spanning_exactly_1_5x_is_kept_and_centred_on_its_geometric_mean() -> None:
    """The middle budget's runs are at C = 1e19 (2), 1.2e19, 1.5e19 (2): with budget_rtol=0.25 each is
    at most 1.25 times the one before (1.2e19 x 1.25 = 1.5e19 exactly), so they form one
    budget, spanning exactly 1.5x: not more than 1.5x, so kept. Its C is the geometric mean
    1e19 * 2.7^(1/5); the exponent is numpy's slope through the three vertices."""
    mid = 1e19 * (1.2 * 1.5 * 1.5) ** (1 / 5)
    cols = [_budget([1e18] * 5, 1e18), _budget([1e19, 1e19, 1.2e19, 1.5e19, 1.5e19], mid),
            _budget([1e20] * 5, 1e20)]
    C, N, L = (np.concatenate([c[k] for c in cols]) for k in range(3))
    f = ch.fit_isoflop(C, N, L, budget_rtol=0.25, window=np.inf)
    np.testing.assert_allclose(f.budgets, [1e18, mid, 1e20], rtol=1e-12)
    assert list(f.n_sizes) == [5, 5, 5]
    want = np.polyfit(np.log([1e18, mid, 1e20]), np.log(0.1 * np.sqrt([1e18, mid, 1e20])), 1)[0]
    assert f.a == pytest.approx(want, abs=1e-6) and f.a == pytest.approx(0.5, abs=1e-6)
    # 1.5e19 a hair further (1.5x and one part in 1e12): more than 1.5x, refused
    C2 = C.copy()
    C2[9] = 1.5e19 * (1 + 1e-12)
    with pytest.raises(ValueError, match=r"spanning more than 1\.5x"):
        ch.fit_isoflop(C2, N, L, budget_rtol=0.25 + 1e-9, window=np.inf)


def test_at_budget_rtol_0_05_the_small_budget_message_does_not_suggest_0_05() -> None:
    """Runs 2.15x apart in C, one each: every budget has one size. With budget_rtol=0.05 the
    message says those runs are off the budgets at that tolerance, instead of suggesting
    budget_rtol=0.05, the value given."""
    C = np.geomspace(1e18, 1e21, 10)
    N = np.geomspace(1e8, 1e10, 10)
    L = np.full(10, 2.5)
    with pytest.raises(ValueError, match=r"with budget_rtol=0\.05, runs whose C is within 5% of the next share "
                                         r"a budget: these runs are off the sweep's budgets") as info:
        ch.fit_isoflop(C, N, L, budget_rtol=0.05)
    assert "pass budget_rtol=0.05" not in str(info.value)
    with pytest.raises(ValueError, match=r"pass budget_rtol=0\.05 to group runs"):
        ch.fit_isoflop(C, N, L, budget_rtol=0.04)


def test_an_approach_1_fit_is_not_a_law_and_says_how_to_allocate() -> None:
    s = simulate.isoflop_sweep(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a staircase of few sizes: beside the point here
        env = ch.fit_envelope(s.N, s.D, s.loss)
    assert isinstance(env, ch.EnvelopeFit)
    with pytest.raises(TypeError, match=r"^params must be a Chinchilla law, got an EnvelopeFit: an approach-1 "
                                        r"\(fit_envelope\) fit .*has no \(E, A, B, alpha, beta\).*"
                                        r"use fit\.predict\(C\), which gives \(N_opt, D_opt\)"):
        allocation.optimal_allocation(1e24, env)
    with pytest.raises(TypeError, match=r"^law must be a Chinchilla law, got an EnvelopeFit: an approach-1"):
        ch.as_law(env, name="law")
