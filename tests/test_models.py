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


def _grid_by_lstsq(x: np.ndarray, y: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Chinchilla's start grid one (alpha, beta) pair at a time with np.linalg.lstsq (SVD)."""
    grid = (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8)
    tn, td = np.log(x[:, 0]), np.log(x[:, 1])
    out = []
    for al in grid:
        for be in grid:
            M = np.column_stack([np.ones_like(tn), np.exp(-al * tn), np.exp(-be * td)])
            coef, *_ = np.linalg.lstsq(M, y, rcond=None)
            r = M @ coef - y
            sse = float(r @ r) * (10.0 if coef[1] <= 0 or coef[2] <= 0 else 1.0)
            out.append((sse, np.array([*coef, al, be])))
    out.sort(key=lambda c: c[0])
    return out


@pytest.mark.parametrize("case", ["isoflop", "noisy_small", "constant_D"])
def test_chinchilla_start_grid_matches_lstsq_per_pair(case: str) -> None:
    """The vectorised grid (centred 2 x 2 normal equations for all 49 pairs at once) picks the
    same three candidates as an SVD least-squares fit per pair, with the same coefficients;
    with D constant (the beta column collinear with the constant) it falls back to lstsq."""
    rng = np.random.default_rng(3)
    if case == "isoflop":
        N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), 120))
        D = 20 * N * np.exp(rng.uniform(-2, 2, 120))
    elif case == "noisy_small":
        N, D = np.exp(rng.uniform(15, 20, 8)), np.exp(rng.uniform(18, 23, 8))
    else:
        N, D = np.geomspace(1e8, 1.6e9, 5), np.full(5, 1e9)
    x = np.column_stack([N, D])
    y = 1.8 + 400 / N**0.34 + 2000 / D**0.28
    y = y * np.exp(0.02 * rng.standard_normal(len(y))) if case != "constant_D" else y
    got = scalingfit.models.get("chinchilla").initial_guesses(x, y)
    want = _grid_by_lstsq(x, y)
    assert got.shape == (3, 5)
    for k in range(3):
        np.testing.assert_allclose(got[k], want[k][1], rtol=1e-8, atol=1e-10 * np.abs(y).max())
