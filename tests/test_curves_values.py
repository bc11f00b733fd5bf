"""scalingfit.curves against independent references: the learning_curve prediction and its
delta-method interval from the fitted parameters by hand, predict_curve of the fixed-C
lr_annealing method by hand, the spread of C in the delta-method interval against a scipy
refit, the learning-rate area S2 of a long run against a plain-Python recursion, and the
spike flags against residuals of known robust spread."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit.curves as cu
from scipy import optimize, stats


def _t(dof: int, level: float = 0.95) -> float:
    return float(stats.t.ppf(0.5 + level / 2, dof))


# ----------------------------------------------------------------------------- learning_curve
def _lc_sweep() -> list[cu.Curve]:
    rng = np.random.default_rng(7)
    out = []
    for i, (x0, total) in enumerate(((800.0, 20000), (1500.0, 24000), (1200.0, 30000))):
        step = np.linspace(total / 100, total, 100)
        loss = 2.0 + 0.1 * i + 30.0 * (step + x0) ** -0.5
        loss = loss * (1 + 0.001 * rng.standard_normal(step.size))
        out.append(cu.Curve(f"lc{i}", step, step * 1e6, loss))
    return out


def test_learning_curve_prediction_uses_the_step_offset() -> None:
    curves = _lc_sweep()
    p = cu.predict_final_loss(curves, 0.5, method="learning_curve", n_resamples=0)
    assert p.method == "learning_curve"
    for j, cv in enumerate(curves):
        E, A, alpha, x0 = (float(v) for v in p.fits[j].x)
        assert x0 > 100.0, (j, p.fits[j].x)  # clearly nonzero offset: it matters below
        t = float(cv.step[-1])
        by_hand = E + A * (t + x0) ** -alpha
        without = E + A * t ** -alpha
        assert abs(by_hand - without) > 1e-3 * by_hand  # the offset moves the prediction
        assert p.predicted[j] == pytest.approx(by_hand, rel=1e-12)
        assert p.predicted[j] == pytest.approx(float(p.fits[j].predict(t)), rel=1e-12)
        # delta-method interval: analytic gradient, the fit's covariance, Student's t
        u = t + x0
        g = np.array([1.0, u ** -alpha, -A * np.log(u) * u ** -alpha, -alpha * A * u ** (-alpha - 1)])
        se = float(np.sqrt(g @ p.fits[j].cov @ g))
        z = _t(int(p.fits[j].dof))
        assert se > 0
        np.testing.assert_allclose(p.interval[j], [by_hand - z * se, by_hand + z * se], rtol=0, atol=1e-6 * se + 1e-12)
        assert p.interval[j].mean() == pytest.approx(by_hand, rel=1e-12)
        # predict_curve at every checkpoint: the same law by hand
        np.testing.assert_allclose(p.predict_curve(cv, j), E + A * (cv.step + x0) ** -alpha, rtol=1e-12)


# ----------------------------------------------------------------------------- lr_annealing, fixed C
def _ann_sweep(noise: float = 0.002) -> list[cu.Curve]:
    rng = np.random.default_rng(3)
    out = []
    for i, total in enumerate((4000, 8000, 16000)):
        step = np.linspace(total / 50, total, 50)
        lr = cu.cosine_schedule(step, peak=1e-3, warmup=total / 20, total=total)
        S1, S2 = cu.lr_areas(step, lr)
        L = (2.2 + 0.1 * i + 1.5 * (S1 / 1e3) ** -0.45) * (1 - 0.05 * S2)
        out.append(cu.Curve(f"a{i}", step, step * 2e6, L * (1 + noise * rng.standard_normal(step.size)), lr))
    return out


def _fixed_c_law(p: np.ndarray, s1: np.ndarray, s2: np.ndarray, c: float) -> np.ndarray:
    return (p[0] + p[1] * s1 ** -p[2]) * (1.0 - c * s2)


def test_lr_annealing_predict_curve_by_hand() -> None:
    curves = _ann_sweep()
    p = cu.predict_final_loss(curves, 0.3, annealing=0.05, annealing_sd=0)
    assert p.annealing == 0.05 and p.fits[0].model == "saturating_power_law"
    for j, cv in enumerate(curves):
        S1, S2 = cu.lr_areas(cv.step, cv.lr, decay=p.decay)
        assert S2[-1] > 0.5  # the annealing factor matters at the end
        by_hand = _fixed_c_law(p.fits[j].x, S1, S2, 0.05)
        got = p.predict_curve(cv, j)
        np.testing.assert_allclose(got, by_hand, rtol=1e-12)
        assert got[-1] == pytest.approx(p.predicted[j], rel=1e-12)
        assert p.predicted[j] == pytest.approx(by_hand[-1], rel=1e-12)
        # on the fitted checkpoints too (where S2 is still small but not all zero)
        sel = cv.window(0.3) & cv.after_warmup()
        np.testing.assert_allclose(got[sel], by_hand[sel], rtol=1e-12)


def _fixed_c_se_fit(p: cu.FinalLossPrediction, cv: cu.Curve, j: int) -> tuple[float, float, float]:
    """(value, se of the fit alone by an analytic delta method, t quantile)."""
    S1, S2 = cu.lr_areas(cv.step, cv.lr, decay=p.decay)
    E, A, alpha = (float(v) for v in p.fits[j].x)
    c = float(p.annealing)  # type: ignore[arg-type]
    t1, t2 = float(S1[-1]), float(S2[-1])
    f = (1 - c * t2)
    value = (E + A * t1 ** -alpha) * f
    g = f * np.array([1.0, t1 ** -alpha, -A * np.log(t1) * t1 ** -alpha])
    return value, float(np.sqrt(g @ p.fits[j].cov @ g)), _t(int(p.fits[j].dof))


def test_delta_interval_without_and_with_tiny_c_spread_is_the_fit_alone() -> None:
    curves = _ann_sweep()
    for sd in (0.0, 1e-9):
        p = cu.predict_final_loss(curves, 0.3, annealing=0.05, annealing_sd=sd)
        assert p.annealing_sd == sd
        for j, cv in enumerate(curves):
            value, se, z = _fixed_c_se_fit(p, cv, j)
            assert p.predicted[j] == pytest.approx(value, rel=1e-12)
            np.testing.assert_allclose(p.interval[j], [value - z * se, value + z * se], rtol=0, atol=1e-5 * z * se)


def _scipy_refit(cv: cu.Curve, c: float, p0: np.ndarray, decay: float) -> float:
    """Refit (E + A S1^-alpha)(1 - c S2) to the fitted window by scipy; the law at the last checkpoint."""
    S1, S2 = cu.lr_areas(cv.step, cv.lr, decay=decay)
    sel = cv.window(0.3) & cv.after_warmup()
    s1, s2, y = S1[sel], S2[sel], cv.loss[sel]
    r = optimize.least_squares(lambda q: _fixed_c_law(q, s1, s2, c) - y, p0, method="lm",
                               xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
    assert r.success
    return float(_fixed_c_law(r.x, S1[-1:], S2[-1:], c)[0])


def test_delta_interval_adds_the_c_spread_by_a_hand_central_difference() -> None:
    curves = _ann_sweep()
    C, sd = 0.05, 0.004
    base = cu.predict_final_loss(curves, 0.3, annealing=C, annealing_sd=0)
    p = cu.predict_final_loss(curves, 0.3, annealing=C, annealing_sd=sd)
    np.testing.assert_array_equal(p.predicted, base.predicted)
    for j, cv in enumerate(curves):
        value, se_fit, z = _fixed_c_se_fit(p, cv, j)
        lo = _scipy_refit(cv, C - sd, p.fits[j].x, p.decay)
        hi = _scipy_refit(cv, C + sd, p.fits[j].x, p.decay)
        slope = (hi - lo) / (2 * sd)
        se = np.sqrt(se_fit ** 2 + (slope * sd) ** 2)
        assert abs(slope) * sd > 0.2 * se_fit  # the spread visibly widens the interval
        np.testing.assert_allclose(p.interval[j], [value - z * se, value + z * se], rtol=0, atol=1e-6 * z * se)


# ----------------------------------------------------------------------------- lr_areas S2, long run
def _s2_recursion(eta: np.ndarray, lam: float) -> np.ndarray:
    """S2 by the documented recursion, one step at a time in plain Python."""
    e = (eta / eta.max()).tolist()
    ip = max(range(len(e)), key=e.__getitem__)
    m, acc, out = 0.0, 0.0, []
    for i, ei in enumerate(e):
        d = max(e[i - 1] - ei, 0.0) if i > ip else 0.0
        m = lam * m + d
        acc += m
        out.append((1.0 - lam) * acc)
    return np.array(out)


@pytest.mark.parametrize("lam", [0.999, 0.95])
def test_lr_areas_s2_matches_plain_recursion_past_the_filter_chunks(lam: float) -> None:
    n = 120_000
    s = np.arange(n + 1, dtype=np.float64)
    eta = cu.cosine_schedule(s, peak=2e-3, warmup=2000, total=n, final_ratio=0.05)
    # sharp drops right before the 50,000-step chunk boundaries, so the carried momentum matters
    eta = np.where(s >= 49_990, 0.8 * eta, eta)
    eta = np.where(s >= 99_995, 0.7 * eta, eta)
    steps = np.unique(np.r_[np.arange(1000, n + 1, 1000), 49_999, 50_000, 50_001, 50_010, 100_000, 100_003])
    ref = _s2_recursion(eta, lam)
    S1, S2 = cu.lr_areas(steps, lr_per_step=eta, decay=lam)
    idx = steps.astype(np.int64)
    np.testing.assert_allclose(S1, np.cumsum(eta / eta.max())[idx], rtol=1e-12)
    np.testing.assert_allclose(S2, ref[idx], rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------- spikes
def _excess(res: np.ndarray) -> np.ndarray:
    nb = np.r_[res[1], 0.5 * (res[:-2] + res[2:]), res[-2]]
    return res - nb


def _spike_residuals(height_sd: float) -> tuple[np.ndarray, int, float]:
    """Residuals of known robust spread with a spike at index 100 of ``height_sd`` robust SDs
    (1.4826 MAD of the neighbour excess, the spike included), tuned by fixed-point iteration."""
    rng = np.random.default_rng(11)
    base = 1e-3 * rng.standard_normal(201)
    k = 100
    h = 0.0
    for _ in range(50):
        res = base.copy()
        res[k] += h
        ex = _excess(res)
        med = np.median(ex)
        rsd = 1.4826 * np.median(np.abs(ex - med))
        h += height_sd * rsd + med - ex[k]
    res = base.copy()
    res[k] += h
    ex = _excess(res)
    med = np.median(ex)
    rsd = 1.4826 * np.median(np.abs(ex - med))
    return res, k, float((ex[k] - med) / rsd)


def test_spike_threshold_in_robust_standard_deviations() -> None:
    r4, k, z4 = _spike_residuals(4.0)
    r6, _, z6 = _spike_residuals(6.0)
    assert z4 == pytest.approx(4.0, abs=1e-6) and z6 == pytest.approx(6.0, abs=1e-6)
    # nothing else in the noise comes near 5 robust SDs (checked by hand)
    for r in (r4, r6):
        ex = _excess(r)
        rsd = 1.4826 * np.median(np.abs(ex - np.median(ex)))
        others = np.delete((ex - np.median(ex)) / rsd, k)
        assert others.max() < 3.5
    assert cu._robust_spikes(r4, 5.0).tolist() == []
    assert cu._robust_spikes(r6, 5.0).tolist() == [k]
    assert cu._robust_spikes(r4, 3.9).tolist() == [k]
    assert cu._robust_spikes(r6, 6.1).tolist() == []


def test_predict_final_loss_spikes_at_robust_threshold() -> None:
    """End to end: the flagged checkpoints are those whose residual (loss minus the run's fitted
    curve) exceeds its neighbours by more than spike_z robust SDs, computed by hand."""
    curves = _lc_sweep()
    cv = curves[0]
    loss = cv.loss.copy()
    loss[30] *= 1.03
    cv = cu.Curve("spiky", cv.step, cv.tokens, loss)
    for z in (5.0, 30.0):
        p = cu.predict_final_loss([cv], 0.6, method="learning_curve", spike_z=z, min_jump=0.0)
        sel = cv.window(0.6)
        idx = np.flatnonzero(sel)
        res = cv.loss[idx] - p.fits[0].predict(cv.step[idx])
        ex = _excess(res)
        med = np.median(ex)
        rsd = 1.4826 * np.median(np.abs(ex - med))
        expect = idx[(ex - med) > z * rsd]
        assert p.spikes[0].tolist() == expect.tolist()
        if z == 5.0:
            assert 30 in expect.tolist()
