"""Mutation round 5, bootstrap: the prediction band under log residuals is multiplicative,
and BCa's fallback to the extreme replicate when the acceleration would flip a tail (Efron
1987's formula, evaluated here)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
import scalingfit as sf
from scalingfit.bootstrap import _interval_rows


def test_prediction_band_under_log_residuals_is_relative() -> None:
    """Targets ~1000 with 1% multiplicative noise, fitted with log residuals: a new
    observation lies within about +-2% of the curve, so the 95% prediction band is at least
    +-1% wide relative to the estimate (an additive log residual would be ~1e-5 of it)."""
    rng = np.random.default_rng(11)
    x = np.logspace(6, 9, 30)
    y = (2.0 + 300.0 * x**-0.3) * 1000.0 * np.exp(0.01 * rng.standard_normal(x.size))
    b = sf.bootstrap("saturating_power_law", x, y, n_resamples=200, seed=1, log_residuals=True,
                     method="percentile")
    band = b.predict(np.array([1e7, 1e8]), kind="prediction")
    rel_lo = band.lower / band.estimate
    rel_hi = band.upper / band.estimate
    assert np.all(rel_lo < 0.99) and np.all(rel_lo > 0.95)
    assert np.all(rel_hi > 1.01) and np.all(rel_hi < 1.05)


def test_bca_falls_back_to_the_extreme_when_the_acceleration_flips_a_tail() -> None:
    """With acceleration a and z0 + z_q = num, BCa reads the quantile Phi(z0 + num / (1 - a
    num)); where 1 - a num <= 0 the formula would wrap to the other tail, and the end is
    the extreme replicate of its own side. Here 1000 replicates with 990 below the estimate
    (z0 = Phi^-1(0.99)), a jackknife with one outlier (a ~ 0.154) and level 0.999999 make
    the upper end's 1 - a num negative: it must be the largest replicate."""
    samples = np.concatenate([np.linspace(0.0, 0.99, 990), np.linspace(1.01, 1.2, 10)])[None, :]
    point = np.array([1.0])
    jack = np.concatenate([np.zeros(19), [-100.0]])
    d = jack.mean() - jack
    a = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    level = 0.999999
    z0 = NormalDist().inv_cdf(0.99)
    num_hi = z0 + NormalDist().inv_cdf(1 - (1 - level) / 2)
    assert 1 - a * num_hi < 0  # the case under test
    num_lo = z0 + NormalDist().inv_cdf((1 - level) / 2)
    q_lo = NormalDist().cdf(z0 + num_lo / (1 - a * num_lo))
    out = _interval_rows("bca", level, point, samples,
                            (jack, np.array([0, jack.size], dtype=np.int64)))
    assert out[0, 1] == samples.max()
    assert out[0, 0] == pytest.approx(np.quantile(samples[0], q_lo), rel=1e-9, abs=1e-12)
