"""Mutation round 5, _resample: "does not vary" means equal to within 1e-12 of the values' size
(a genuine power law whose loss moves by 1e-7 over three decades is fitted, without an
IdentifiabilityWarning), and a point fit that converged with a singular J^T J (status -2) is
kept and bootstrapped, not dropped."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scalingfit import kaplan
from scalingfit._resample import fit_many


def test_a_loss_that_moves_by_1e_7_is_a_power_law_not_a_flat_one() -> None:
    """L = 2 (x / 1e6)^-1e-8 over x in [1e6, 1e9]: its range is 2 (1 - 1000^-1e-8) ~ 1.4e-7
    (far above rounding), and the fit recovers alpha = 1e-8 (warnings are errors here)."""
    x = np.logspace(6, 9, 10)
    y = 2.0 * (x / 1e6) ** -1e-8
    assert 1e-8 < np.ptp(y) / 2.0 < 1e-6
    f = kaplan.fit_power_law(x, y)
    assert f.law.success
    assert f.alpha == pytest.approx(1e-8, rel=1e-3)


def test_a_singular_point_fit_is_bootstrapped() -> None:
    """A flat target fitted by E + A x^-alpha converges with E and A not separable (status -2,
    SINGULAR): the curve is a least-squares solution and is kept, so its replicates are
    refitted from it (some converge), not all reported failed."""
    x = np.logspace(6, 9, 10)
    y = 3.0 + 1e-3 * np.random.default_rng(1).standard_normal(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit_many("saturating_power_law", [x], [y], n_resamples=50, seed=0)
    assert m.status[0] == -2
    assert np.isfinite(m.params[0]).all()
    assert m.samples is not None and m.n_failed[0] < 50
    assert np.isfinite(m.samples[0]).all(axis=1).sum() == 50 - m.n_failed[0]
    # the converged replicates fit the same flat curve: their predictions stay near y's mean
    good = m.samples[0][np.isfinite(m.samples[0]).all(axis=1)]
    E, A, al = good.T
    pred = E[:, None] + A[:, None] * x[None, :] ** -al[:, None]
    assert np.all(np.abs(pred - y.mean()) < 0.01)
