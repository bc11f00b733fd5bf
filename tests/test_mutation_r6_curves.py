"""Mutation round 6: curves.py. Closed forms of the schedule and the learning-rate areas by
hand, and the lr_annealing objective against an independent fit of the full law."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import curves as cu


def test_cosine_schedule_without_warmup_starts_at_peak() -> None:
    # warmup 0: the cosine from step 0, peak * (0.1 + 0.9 * (1 + cos(pi s / total)) / 2)
    lr = cu.cosine_schedule([0, 500, 1000], peak=2.0, warmup=0, total=1000)
    assert lr == pytest.approx([2.0, 2.0 * 0.55, 2.0 * 0.1], rel=1e-12)


def test_cosine_schedule_limits_are_inclusive() -> None:
    # warmup <= total and final_ratio in [0, 1] (both ends allowed)
    lr = cu.cosine_schedule([0, 500, 1000, 2000], peak=1.0, warmup=1000, total=1000)
    assert lr == pytest.approx([0.0, 0.5, 1.0, 0.1], abs=1e-12)
    flat = cu.cosine_schedule([0, 50, 100, 550, 1000], peak=1.0, warmup=100, total=1000, final_ratio=1.0)
    assert flat == pytest.approx([0.0, 0.5, 1.0, 1.0, 1.0], abs=1e-12)
    with pytest.raises(ValueError, match="warmup must be <= total"):
        cu.cosine_schedule([0], peak=1.0, warmup=1001, total=1000)
    with pytest.raises(ValueError, match="final_ratio"):
        cu.cosine_schedule([0], peak=1.0, warmup=0, total=1000, final_ratio=1.0001)


def test_rewarming_does_not_anneal() -> None:
    # per-step lr 1, 0.5, 1, 0.5 (peak 1, lambda = 0.5): drops 0, 0.5, 0 (a rise counts 0), 0.5;
    # m = 0, 0.5, 0.25, 0.625; S2 = (1 - lambda) * cumsum(m) = 0, 0.25, 0.375, 0.6875
    S1, S2 = cu.lr_areas([0, 1, 2, 3], lr_per_step=[1.0, 0.5, 1.0, 0.5], decay=0.5)
    assert S1 == pytest.approx([1.0, 1.5, 2.5, 3.0], rel=1e-15)
    assert S2 == pytest.approx([0.0, 0.25, 0.375, 0.6875], rel=1e-15)


def test_window_leaves_out_step_0_even_with_tokens() -> None:
    # "after step 0 (the laws of loss against tokens or steps are singular there)": a run whose
    # token count does not start at 0 (continued training) still never fits its step 0
    c = cu.Curve("c", [0, 1, 2, 3], [10.0, 20.0, 30.0, 40.0], [3.0, 2.9, 2.8, 2.7])
    assert c.window(1.0).tolist() == [False, True, True, True]
    assert c.window(0.5).tolist() == [False, True, False, False]


def test_start_fraction_equal_to_fraction_is_refused_by_name() -> None:
    step = np.arange(100, 5001, 100.0)
    c = cu.Curve("c", step, step * 1e6, 2.0 + step**-0.3)
    with pytest.raises(ValueError, match=r"start_fraction must be in \[0, fraction\), got 0.5"):
        cu.predict_final_loss([c], 0.5, start_fraction=0.5, method="power_law")


def test_fixed_c_fit_is_the_least_squares_fit_of_the_full_law() -> None:
    # "With C fixed the model is a saturating power law in S1 of L / (1 - C·S2), fitted with
    # weights (1 - C·S2)^2 (the same objective)": the same parameters as lr_annealing fitted
    # directly to L with C held at its value
    step = np.arange(200, 20001, 200.0)
    lr = cu.cosine_schedule(step, peak=1e-3, warmup=1000, total=20000)
    S1, S2 = cu.lr_areas(step, lr)
    rng = np.random.default_rng(4)
    loss = (2.5 + 30.0 * S1 ** -0.5) * (1 - 0.05 * S2) * np.exp(0.01 * rng.standard_normal(step.size))
    c = cu.Curve("toy", step, step * 1e6, loss, lr)
    p = cu.predict_final_loss([c], 0.8, annealing=0.05, annealing_sd=0.0)
    sel = c.window(0.8) & c.after_warmup()
    ref = scalingfit.fit("lr_annealing", (S1[sel], S2[sel]), loss[sel], p0=[2.5, 30.0, 0.5, 0.05],
                         fixed={"C": 0.05})
    got = p.fits[0].params
    for a, b in (("E", "L0"), ("A", "A"), ("alpha", "alpha")):
        assert got[a] == pytest.approx(ref.params[b], rel=1e-6)
    assert p.predicted[0] == pytest.approx(float(ref.predict(np.array([[S1[-1], S2[-1]]]))[0]), rel=1e-9)


def test_a_spike_must_rise_above_both_neighbours() -> None:
    # the residual at 4 jumps (excess 1 over its neighbours' mean, far above the 0.01 noise);
    # the loss there rises from checkpoint 3 but checkpoint 5 is higher still: a step, not a spike
    res = 0.01 * (-1.0) ** np.arange(9)
    res[4] += 1.0
    step_up = np.array([5.0, 4.0, 3.0, 2.0, 2.5, 2.6, 2.0, 1.9, 1.8])
    assert cu._robust_spikes(res, 6.0, step_up, 0.01).tolist() == []
    spike = step_up.copy()
    spike[5] = 2.1  # now above both neighbours
    assert cu._robust_spikes(res, 6.0, spike, 0.01).tolist() == [4]


def _run(name: str, n: int, N: float) -> cu.Curve:
    step = np.arange(1, n + 1, dtype=float)
    return cu.Curve(name, step, step * 1e6, (1e13 / N) ** 0.08 + (1e3 / step) ** 0.7, N=N)


def test_kaplan_needs_more_checkpoints_than_parameters() -> None:
    # "a ValueError ... if that leaves ... fewer than 5 checkpoints for the 4 parameters":
    # two runs of 2 fitted checkpoints each (4 in all) are refused
    runs = [_run("a", 10, 1e8), _run("b", 10, 1e9)]
    with pytest.raises(ValueError, match="too few checkpoints in the first 0.2 of the runs to fit kaplan_ns"):
        cu.predict_final_loss_kaplan(runs, 0.2, min_points=2)


def test_fewer_checkpoints_than_parameters_are_not_fitted_whatever_min_points() -> None:
    # "Curves with fewer checkpoints in the window (or fewer than the model's parameters) are
    # not fitted (NaN prediction, status -3, one DataWarning naming them)": 2 points, 3 parameters
    short, long_ = _run("short", 10, 1e8), _run("long", 40, 1e8)
    with pytest.warns(scalingfit.DataWarning, match=r"1 curve\(s\) have fewer than 3 checkpoints.*\['short'\]"):
        p = cu.predict_final_loss([short, long_], 0.2, method="power_law", min_points=1)
    assert p.status[0] == -3 and np.isnan(p.predicted[0]) and p.n_points[0] == 0
    assert p.reasons[0].startswith("2 checkpoint(s) in the window") and "3 needed" in p.reasons[0]


def test_c_plus_its_spread_must_keep_one_minus_c_s2_positive() -> None:
    # the delta method refits at C + annealing_sd = 1.25; with S2 past 0.8 at the end of the
    # run, 1 - 1.25 S2 < 0: refused by name before any fit
    step = np.arange(200, 20001, 200.0)
    lr = cu.cosine_schedule(step, peak=1e-3, warmup=1000, total=20000)
    S1, S2 = cu.lr_areas(step, lr)
    assert S2[-1] > 0.8
    c = cu.Curve("toy", step, step * 1e6, (2.5 + 30.0 * S1 ** -0.5) * (1 - 0.05 * S2), lr)
    with pytest.raises(ValueError, match=r"curve 'toy': 1 - C·S2 must stay > 0, but C = 1.25"):
        cu.predict_final_loss([c], 0.5, annealing=0.95, annealing_sd=0.3)
