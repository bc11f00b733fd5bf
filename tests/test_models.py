"""Every built-in model's analytic Jacobian against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import scalingfit
from conftest import PROBLEM_SPECS, random_inputs, random_params

MODELS = scalingfit.models.names()


def test_registry_covers_every_model() -> None:
    assert set(MODELS) == set(PROBLEM_SPECS)
    for name in MODELS:
        m = scalingfit.models.get(name)
        assert m.n_params == len(m.param_names) <= 8
        assert m.lower.shape == m.upper.shape == (m.n_params,)
        assert len(m.input_names) == m.n_inputs


@pytest.mark.parametrize("name", MODELS)
def test_jacobian_matches_central_differences(name: str) -> None:
    rng = np.random.default_rng(7)
    m = scalingfit.models.get(name)
    worst = 0.0
    for _ in range(20):
        p = random_params(name, rng)
        x = random_inputs(name, 16, rng)
        J = m.jacobian(p, x)
        for a in range(m.n_params):
            h = 1e-6 * max(abs(p[a]), 1e-2)
            pp, pm = p.copy(), p.copy()
            pp[a] += h
            pm[a] -= h
            fd = (m.predict(pp, x) - m.predict(pm, x)) / (2 * h)
            scale = np.maximum(np.abs(fd), np.abs(J[:, a])).max() + 1e-300
            err = np.abs(fd - J[:, a]).max() / scale
            worst = max(worst, err)
    assert worst < 1e-6, f"{name}: max relative Jacobian error {worst:.2e}"


def test_closed_forms() -> None:
    """Values against the formulas written out in numpy."""
    N = np.array([1e8, 3e9]); D = np.array([2e10, 5e11])
    E, A, B, al, be = 1.69, 406.4, 410.7, 0.34, 0.28
    ref = E + A / N**al + B / D**be
    got = scalingfit.models.get("chinchilla").predict([E, A, B, al, be], np.column_stack([N, D]))
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    got = scalingfit.models.get("chinchilla_lse").predict(
        [np.log(A), np.log(B), np.log(E), al, be], np.column_stack([N, D]))
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    Nc, Dc, aN, aD = 8.8e13, 5.4e13, 0.076, 0.095
    ref = ((Nc / N) ** (aN / aD) + Dc / D) ** aD
    got = scalingfit.models.get("kaplan_nd").predict([Nc, Dc, aN, aD], np.column_stack([N, D]))
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    x = np.array([1e3, 1e6, 1e9])
    lo, hi, k, lx0 = 0.25, 0.8, 2.0, np.log(1e6)
    ref = lo + (hi - lo) / (1 + np.exp(-k * (np.log(x) - lx0)))
    np.testing.assert_allclose(scalingfit.models.get("sigmoid").predict([lo, hi, k, lx0], x), ref, rtol=1e-14)
    E, A, a, b, lxb, f = 0.5, 10.0, 0.2, 0.4, np.log(1e5), 0.7
    ref = E + A * x**-a * (1 + (x / np.exp(lxb)) ** (1 / f)) ** (-b * f)
    got = scalingfit.models.get("broken_power_law").predict([E, A, a, b, lxb, f], x)
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    ref = 2.0 + 0.1 * (np.log(x) - 10.0) ** 2
    got = scalingfit.models.get("isoflop_parabola").predict([2.0, 10.0, 0.1], x)
    np.testing.assert_allclose(got, ref, rtol=1e-14)


def test_losses_match_scipy_definitions() -> None:
    from scipy.optimize._lsq.least_squares import construct_loss_function  # the oracle

    z_r = np.linspace(-5, 5, 41)
    for name in ("linear", "huber", "soft_l1", "cauchy", "arctan"):
        ours = scalingfit.losses.rho(name, z_r**2)
        if name == "linear":
            ref = np.stack([z_r**2, np.ones_like(z_r), np.zeros_like(z_r)])
        else:
            ref = construct_loss_function(z_r.size, name, 1.0)(z_r, cost_only=False)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
