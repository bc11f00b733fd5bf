"""The built-in models' data-driven initial guesses, and ``repeat_phi``, against closed forms
and hand computations: on noise-free data whose exponents lie on a guess's grid, the guess
recovers the true parameters (its linear fits are then exact); the sigmoid's guess takes the
direction of the data (the sign of the covariance of log x and y, by hand) and the fit from it
the generating parameterisation; ``repeat_phi(z)`` against 40-digit decimal arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit.models import repeat_phi


@pytest.mark.parametrize("k", [1.5, -1.5])
def test_sigmoid_guess_follows_the_direction_of_the_data(k: float) -> None:
    """Logistic data on 3 decades (lo 0.25, hi 0.9, slope k = +-1.5 in log x, midpoint 19.5,
    noise 0.005): the guess is the floor min(y), the ceiling max(y), the slope 8 / range of
    log x with the sign of cov(log x, y) (+1 for rising data), the midpoint at the point
    nearest halfway, all by hand. The fit from it lands on the generating parameters within 4
    standard errors. A guess with the slope's sign flipped started on the mirror branch:
    the fit converged to the same curve as lo = 0.894, hi = 0.249, k = -1.498."""
    m = scalingfit.models.get("sigmoid")
    rng = np.random.default_rng(5 if k > 0 else 6)
    x = np.logspace(7, 10, 25)
    t = np.log(x)
    truth = np.array([0.25, 0.9, k, 19.5])
    y = 0.25 + 0.65 / (1 + np.exp(-k * (t - 19.5))) + 0.005 * rng.standard_normal(25)
    direction = np.sign(np.sum((t - t.mean()) * (y - y.mean())))
    assert direction == np.sign(k)
    g = m.initial_guess(x[:, None], y)
    half = 0.5 * (y.min() + y.max())
    expected = [y.min(), y.max(), direction * 8 / (t[-1] - t[0]), t[np.argmin(np.abs(y - half))]]
    np.testing.assert_allclose(g, expected, rtol=1e-12)
    r = scalingfit.fit("sigmoid", x, y)
    assert r.success
    assert np.all(np.abs(r.x - truth) < 4 * r.stderr), (r.x, r.stderr)


def test_kaplan_ns_guess_is_exact_on_a_grid_pair() -> None:
    """Noise-free (N_c / N)^0.05 + (S_c / S)^0.4 on a 6 x 5 grid of (N, S): for the grid pair
    (0.05, 0.4) the law is linear in c1 = N_c^0.05, c2 = S_c^0.4 with zero residual, so the
    first guess is (N_c, S_c, 0.05, 0.4) = (6.5e13, 5e3, ...) to rounding: N_c = c1^(1/0.05),
    S_c = c2^(1/0.4). S_c computed with 1/alpha_N instead read 4.1e29."""
    m = scalingfit.models.get("kaplan_ns")
    N, S = (v.ravel() for v in np.meshgrid(np.logspace(6, 10, 6), np.logspace(3, 5, 5)))
    truth = np.array([6.5e13, 5.0e3, 0.05, 0.4])
    y = (truth[0] / N) ** 0.05 + (truth[1] / S) ** 0.4
    g = m.initial_guesses(np.column_stack([N, S]), y)
    np.testing.assert_allclose(g[0], truth, rtol=1e-10)


@pytest.mark.parametrize("C", [0.0, 0.02, 0.05, 0.1])
def test_lr_annealing_guess_recovers_C_on_exact_data(C: float) -> None:
    """Noise-free (2 + 30 S1^-0.5) (1 - C S2) with S1 over a factor 25 (so that the
    saturating guess's asymptote candidate min - 0.25 span is exactly 2: (2500 / 100)^0.5 = 5
    = 1.25 / 0.25) and S2 in [0, 8]. For the true C, y / (1 - C S2) is that saturating power
    law with zero error, so the guess is (2, 30, 0.5, C) to rounding. Ranking the C candidates
    by the error of y / (1 - C S2) against y itself (the factor dropped) chose C = 0."""
    m = scalingfit.models.get("lr_annealing")
    S1 = np.geomspace(100.0, 2500.0, 20)
    S2 = np.linspace(0.0, 8.0, 20)[np.argsort(np.sin(np.arange(20)))]  # S2 not monotone in S1
    truth = np.array([2.0, 30.0, 0.5, C])
    y = (2.0 + 30.0 * S1 ** -0.5) * (1 - C * S2)
    g = m.initial_guess(np.column_stack([S1, S2]), y)
    assert g[3] == C
    np.testing.assert_allclose(g[:3], truth[:3], rtol=1e-9)


def test_repeat_phi_to_a_few_ulps() -> None:
    """phi(z) = (1 - exp(-z)) / z against 40-digit decimal arithmetic (independent of numpy's
    expm1) from z = 1e-12 to 30: within 4 ulps. A series to z^2 below z = 1e-4 was off by
    z^3/24 (4.2e-14 at 1e-4); without its z^2/6 term, by up to 1.7e-9."""
    from decimal import Decimal, getcontext

    getcontext().prec = 40
    z = np.r_[np.geomspace(1e-12, 0.999e-4, 120), np.geomspace(1e-4, 30.0, 80)]
    ref = np.array([float((1 - (-Decimal(float(v))).exp()) / Decimal(float(v))) for v in z])
    got = repeat_phi(z)
    assert np.all(np.abs(got - ref) <= 4 * np.spacing(ref)), z[np.abs(got - ref) > 4 * np.spacing(ref)]
    assert repeat_phi(np.array([0.0]))[0] == 1.0
