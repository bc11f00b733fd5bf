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


def test_segment_qr2_matches_lstsq_per_segment() -> None:
    """The two-column QR least squares of every segment at once against np.linalg.lstsq on
    each segment, with columns of very different scales (N^-4 beside 1/D)."""
    from scalingfit.models import _segment_qr2

    rng = np.random.default_rng(7)
    sizes = rng.integers(3, 40, 25)
    pid = np.repeat(np.arange(25), sizes)
    N, D = 10 ** rng.uniform(7, 10, pid.size), 10 ** rng.uniform(9, 12, pid.size)
    c1, c2 = (N / 1e7) ** -4.0, 1e9 / D
    y = 3 * c1 + 0.5 * c2 + 0.01 * rng.standard_normal(pid.size)
    got = _segment_qr2(c1, c2, y, pid, 25)
    for j in range(25):
        s = pid == j
        want, *_ = np.linalg.lstsq(np.column_stack([c1[s], c2[s]]), y[s], rcond=None)
        np.testing.assert_allclose(got[j], want, rtol=1e-8, atol=1e-12)


def test_kaplan_batch_guess_is_the_single_guess_and_leads_to_the_best_fit() -> None:
    """fit_batch's start for kaplan_nd (every problem's exponent grid in one pass) is the best
    candidate of the single-problem guess, and from it the fit reaches the best cost of fit()'s
    five starts on nearly every problem (from the per-problem lstsq grid it used: 264 of 300)."""
    import warnings

    m = scalingfit.models.get("kaplan_nd")
    rng = np.random.default_rng(0)
    xs, ys = [], []
    for _ in range(120):
        x = random_inputs("kaplan_nd", 30, rng)
        xs.append(x)
        ys.append(m.predict(random_params("kaplan_nd", rng), x) * (1 + 0.01 * rng.standard_normal(30)))
    x, y = np.vstack(xs), np.concatenate(ys)
    off = np.arange(121) * 30
    batch = m.batch_guess(x, y, np.repeat(np.arange(120), 30), 120)
    single = np.array([m.initial_guess(a, b) for a, b in zip(xs, ys)])
    np.testing.assert_allclose(batch, single, rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rb = scalingfit.fit_batch("kaplan_nd", x, y, off, log_residuals=True)
        best = np.array([scalingfit.fit("kaplan_nd", a, b, log_residuals=True).cost for a, b in zip(xs, ys)])
    assert (rb.status > 0).all()
    assert (rb.cost <= best * (1 + 1e-9)).sum() >= 114, (rb.cost > best * (1 + 1e-9)).sum()


def test_chinchilla_tied_is_chinchilla_with_equal_exponents() -> None:
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(np.log(1e7), np.log(1e11), (50, 2)))
    tied = scalingfit.models.get("chinchilla_tied")
    full = scalingfit.models.get("chinchilla")
    p = np.array([1.7, 400.0, 900.0, 0.31])
    np.testing.assert_allclose(tied.predict(p, x), full.predict(np.r_[p, p[3]], x), rtol=1e-14)
    Jf = full.jacobian(np.r_[p, p[3]], x)
    np.testing.assert_allclose(tied.jacobian(p, x), np.column_stack([Jf[:, :3], Jf[:, 3] + Jf[:, 4]]),
                               rtol=1e-13)
