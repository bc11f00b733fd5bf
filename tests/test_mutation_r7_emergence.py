"""Mutation round 7: emergence.py. The small metrics on hand-worked cases, Spearman's
correlation against scipy, the sigmoid's orientation flip as an exact reparametrisation, and
the task ladder's ideal point, true-loss prediction and interval law against the formulas
written out."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scalingfit import emergence as em

st = pytest.importorskip("scipy.stats")


def test_sharpness_needs_three_distinct_scales() -> None:
    with pytest.raises(ValueError, match="sharpness needs at least 3 distinct scales"):
        em.sharpness([1e6, 1e6, 1e7], [0.1, 0.2, 0.5])


def test_sharpness_averages_points_at_equal_scales() -> None:
    # scales 10, 10, 100, 1000 (u = 1, 1, 2, 3): y at u = 1 is the mean of 0 and 2 = 1, then
    # 2, 2: |dy| = 1, 0 over du = 1, 1: max 1 over the average 1/2 = 2
    assert em.sharpness([10.0, 10.0, 100.0, 1000.0], [0.0, 2.0, 2.0, 2.0]) == pytest.approx(2.0, rel=1e-14)


def test_hidden_progress_counts_a_value_at_the_threshold_as_hidden() -> None:
    # "while the thresholded metric is still at or below threshold": the third point (0.01)
    # is hidden, so 4 of the 6 units of the continuous metric's fall are
    x = np.arange(1.0, 6.0)
    c = [10.0, 8.0, 6.0, 5.0, 4.0]
    assert em.hidden_progress(x, [0.0, 0.0, 0.01, 0.5, 0.9], c, threshold=0.01) == pytest.approx(4.0 / 6.0)
    # above the threshold from the first point: nothing hidden
    assert em.hidden_progress(x, [0.5, 0.6, 0.7, 0.8, 0.9], c, threshold=0.01) == 0.0


def test_rank_correlation_with_ties_is_spearmans() -> None:
    x = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 7.0]
    y = [0.3, 0.1, 0.5, 0.5, 0.2, 0.9, 0.9, 0.4]
    ref = st.spearmanr(x, y).statistic if hasattr(st.spearmanr(x, y), "statistic") else st.spearmanr(x, y)[0]
    assert em.rank_correlation(x, y) == pytest.approx(float(ref), rel=1e-12)


def test_metrics_from_tokens_on_a_hand_worked_case() -> None:
    # 1 scale, 2 examples of 2 tokens
    prob = np.array([[[0.5, 1.0], [0.25, 0.5]]])
    correct = np.array([[[True, True], [False, True]]])
    m = em.metrics_from_tokens(em.PerToken(scale=np.array([1e9]), correct=correct, prob=prob))
    assert m["exact_match"].tolist() == [0.5]
    assert m["token_accuracy"].tolist() == [0.75]
    assert m["token_error_rate"].tolist() == [0.25]
    # sum over tokens, mean over examples: (-(ln .5 + ln 1) - (ln .25 + ln .5)) / 2
    assert m["neg_log_likelihood"][0] == pytest.approx((math.log(2) + math.log(4) + math.log(2)) / 2, rel=1e-14)
    # mean (1 - p)^2: (0.25 + 0 + 0.5625 + 0.25) / 4
    assert m["brier"][0] == pytest.approx((0.25 + 0.0 + 0.5625 + 0.25) / 4, rel=1e-14)


def test_canonical_orientation_undoes_the_flip_exactly() -> None:
    # (lo, hi, k, u0) -> (hi, lo, -k, u0) is a linear reparametrisation T: the covariance of
    # the flipped fit is T C T; _canonical must map both back
    from scalingfit._resample import fit_many

    x = np.logspace(7, 10, 14)
    y = 0.2 + 0.6 / (1 + np.exp(-2.0 * (np.log(x) - np.log(1e8)))) + 0.01 * np.sin(np.arange(14))
    many = fit_many("sigmoid", [x], [y], warn=False)
    p = many.params
    assert p[0, 0] < p[0, 1]  # reported with lo <= hi
    T = np.array([[0.0, 1, 0, 0], [1, 0, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]])
    flipped = dataclasses.replace(many, params=p @ T.T, cov=T @ many.cov @ T.T)
    back = em._canonical(flipped)
    np.testing.assert_allclose(back.params, p, rtol=1e-15)
    np.testing.assert_allclose(back.cov, many.cov, rtol=1e-15, atol=0)
    assert many.cov[0, 2, 0] != 0  # the k-lo covariance is there to get wrong


def test_chained_bootstrap_band_on_log_loss_is_the_percentiles_of_the_chain() -> None:
    N = np.logspace(7, 10, 12)
    L = (1.8 + 300 * N**-0.3) * (1 + 0.005 * np.sin(np.arange(12)))
    acc = 0.25 + 0.7 / (1 + np.exp(5.0 * (L - 2.6))) + 0.01 * np.cos(np.arange(12))
    two = em.fit_two_step(N, L, np.clip(acc, 0, 1), n_resamples=40, seed=3)
    s1, s2 = two.step1, two.step2.law
    xs = np.array([1e9, 1e11])
    band = em.chain_band(s1, s2, xs, 0.9, log_x2=True)
    preds = []
    for p1, p2 in zip(s1.samples, s2.samples):
        if np.isfinite(p1).all() and np.isfinite(p2).all():
            loss = p1[0] + p1[1] * xs ** -p1[2]  # E + A x^-alpha
            lo, hi, k, u0 = p2
            preds.append(lo + (hi - lo) / (1 + np.exp(-k * (np.log(loss) - u0))))
    ref = np.percentile(np.array(preds), [5.0, 95.0], axis=0)
    np.testing.assert_allclose(band, ref, rtol=1e-12)


def test_fit_two_step_resamples_step_two_with_the_next_seed() -> None:
    # "seed: Seed of step 1's resamples; step 2's use seed + 1"
    N = np.logspace(7, 10, 12)
    L = (1.8 + 300 * N**-0.3) * (1 + 0.005 * np.sin(np.arange(12)))
    acc = np.clip(0.25 + 0.7 / (1 + np.exp(5.0 * (L - 2.6))) + 0.01 * np.cos(np.arange(12)), 0, 1)
    two = em.fit_two_step(N, L, acc, n_resamples=10, seed=7)
    alone, = em.fit_sigmoids([L], [acc], log_x=False, n_resamples=10, seed=8)
    assert np.array_equal(two.step2.law.samples, alone.law.samples)


def test_predictability_is_never_below_zero() -> None:
    # a bounded metric rising to 0.1 on the fitted scales, back at 0 on the held-out ones: the
    # sigmoid (floor 0, ceiling 1) predicts more than 0.1 there, an error beyond the range
    x = np.logspace(7, 11, 9)
    a = np.array([0.0, 0.01, 0.03, 0.06, 0.1, 0.0, 0.0, 0.0, 0.0])
    row = em.metric_choice(x, {"accuracy": a}, n_fit=5)["accuracy"]
    ref = float(np.mean(np.abs(row.predicted - 0.0)) / 0.1)
    assert row.extrapolation_error == pytest.approx(ref, rel=1e-12) and ref > 1
    assert row.predictability == 0.0


def _ladder(**kw: object) -> list[em.TaskPrediction]:
    N = np.geomspace(2e8, 3e9, 6)
    D = 20 * N * np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    loss = 0.6 + 300.0 * N**-0.35 + 900.0 * D**-0.3
    x2 = [np.linspace(0.8, 1.6, 12)]
    y2 = [np.clip(0.25 + 0.6 / (1 + np.exp(4.0 * (x2[0] - 1.2))) + 0.01 * np.sin(np.arange(12)), 0, 1)]
    return em.task_ladder(["t"], N, D, [loss * (1 + 0.002 * np.cos(np.arange(6)))], x2, y2, 7e9, 1.4e11,
                          **kw)  # type: ignore[arg-type]


def test_ceiling_point_must_be_an_accuracy() -> None:
    with pytest.raises(ValueError, match=r"ceiling_point = 1.5 is not an accuracy in \[0, 1\]"):
        _ladder(ceiling_point=1.5)


def test_metric_at_true_loss_is_step_two_at_the_target_loss() -> None:
    tp, = _ladder(target_loss=[0.9])
    s = tp.step2
    assert s.log_x is False
    ref = s.lo + (s.hi - s.lo) / (1 + math.exp(-s.k * (0.9 - s.x0)))
    assert tp.metric_at_true_loss == pytest.approx(ref, rel=1e-12)
    assert tp.relative_error(0.5) == pytest.approx((tp.metric - 0.5) / 0.5, rel=1e-15)


def test_relative_error_is_over_the_actual_value() -> None:
    tp = em.TaskPrediction(task="t", loss=1.0, loss_interval=(0.9, 1.1), metric=0.6,
                           metric_interval=(0.5, 0.7), metric_at_true_loss=float("nan"),
                           step1=None, step2=None)  # type: ignore[arg-type]
    assert tp.relative_error(0.5) == pytest.approx(0.2, rel=1e-14)


def test_ladder_interval_law_is_chinchillas() -> None:
    # E + A N^-alpha + B D^-beta, with alpha != beta
    p = np.array([[0.5, 300.0, 900.0, 0.35, 0.3]])
    ref = 0.5 + 300.0 * 7e9**-0.35 + 900.0 * 1.4e11**-0.3
    assert em._chinchilla(p, 7e9, 1.4e11)[0] == pytest.approx(ref, rel=1e-14)


def test_the_ideal_point_is_a_group_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # the point (loss 0, accuracy 1) belongs to no run: resampled on its own, not with the last run
    seen: list[object] = []
    real = em.fit_many

    def spy(model: object, *a: object, **kw: object) -> object:
        if model == "sigmoid":
            seen.append((a[0], a[1], kw.get("groups")))
        return real(model, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(em, "fit_many", spy)
    groups = np.repeat(np.arange(4), 3)
    _ladder(step2_groups=[groups], n_resamples=4)
    (xs, ys, gs), = seen  # type: ignore[misc]
    assert np.asarray(gs[0]).tolist() == groups.tolist() + [4]
    # at loss 0 (the sigmoid in the loss itself receives exp(loss) = 1), accuracy 1
    assert xs[0][-1] == 1.0 and ys[0][-1] == 1.0 and len(xs[0]) == 13


def test_fit_two_step_refuses_a_metric_in_percent() -> None:
    N = np.logspace(7, 10, 12)
    L = 1.8 + 300 * N**-0.3
    acc = 0.25 + 0.7 / (1 + np.exp(5.0 * (L - 2.6)))
    with pytest.raises(ValueError, match=r"metric\[0\] = .* is far outside"):
        em.fit_two_step(N, L, 100 * acc)


def test_a_floor_at_or_above_the_ceiling_is_refused() -> None:
    x = np.logspace(7, 10, 10)
    acc = 0.25 + 0.6 / (1 + np.exp(-3 * (np.log(x) - np.log(1e8))))
    for floor in (0.9, 0.5):
        with pytest.raises(ValueError, match=rf"floor = {floor!r} must be below ceiling = 0.5"):
            em.fit_sigmoids([x], [acc], floor=floor, ceiling=0.5)
