"""Values of the planning and uncertainty functions against independent references, for the
paths that defaults hid: a custom inference FLOP count, a prefill utilisation unlike the
training one, a data-wall FLOP count other than 6, HC2 against HC3, and the t degrees of
freedom of a delta-method interval with a fixed parameter.

References: scipy's bounded minimiser on the lifetime-FLOP objective itself, the closed
forms of the module docstrings evaluated here, numpy least squares (with the exponent held,
``E + A x^-alpha`` is linear in ``(E, A)``: hat matrix and sandwich by hand), and scipy's
Student t quantile.
"""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import DataWarning, uncertainty
from scalingfit.planning import (
    MUENNIGHOFF_2023,
    SARDANA_2023,
    Hardware,
    data_wall,
    inference_optimal,
    inference_optimal_cost,
)

optimize = pytest.importorskip("scipy.optimize")
stats = pytest.importorskip("scipy.stats")

LAW = SARDANA_2023


def _lifetime_optimum(L: float, I: float, c_train: float, c_inf: float) -> tuple[float, float]:
    """(N, D) minimising ``c_train N D + c_inf N I`` on ``L(N, D) = L``, by scipy on log N
    (D eliminated through the constraint)."""
    E, A, B, al, be = (LAW[k] for k in ("E", "A", "B", "alpha", "beta"))

    def D_of(logN: float) -> float:
        y = (L - E) - A * np.exp(-al * logN)
        return float((B / y) ** (1 / be)) if y > 0 else np.inf

    def total(logN: float) -> float:
        N = np.exp(logN)
        return float(np.log(c_train * N * D_of(logN) + c_inf * N * I))

    lo = np.log(A / (L - E)) / al + 1e-9  # below it the constraint has no D
    res = optimize.minimize_scalar(total, bounds=(lo, lo + 40), method="bounded",
                                   options={"xatol": 1e-12})
    return float(np.exp(res.x)), D_of(res.x)


@pytest.mark.parametrize("I", [1e11, 2e12, 5e13])
def test_custom_inference_flops_per_token_sets_the_optimum_and_the_flops(I: float) -> None:
    L = 2.05
    r = inference_optimal(L, I, LAW, train_flops_per_token=6.0, inference_flops_per_token=4.0)
    N, D = float(r.N), float(r.D)
    N_ref, D_ref = _lifetime_optimum(L, I, 6.0, 4.0)
    assert N == pytest.approx(N_ref, rel=1e-5) and D == pytest.approx(D_ref, rel=1e-5)
    # at the default 2 FLOPs per inference token the optimum is elsewhere (a real check)
    N2, _ = _lifetime_optimum(L, I, 6.0, 2.0)
    assert abs(N2 / N_ref - 1) > 1e-3
    # on the constraint, and stationary: alpha x / (beta y) = 1 + (4/6) I / D
    E, A, B, al, be = (LAW[k] for k in ("E", "A", "B", "alpha", "beta"))
    x, y = A * N**-al, B * D**-be
    assert E + x + y == pytest.approx(L, rel=1e-12)
    assert al * x / (be * y) == pytest.approx(1 + (4.0 / 6.0) * I / D, rel=1e-9)
    assert float(r.inference_flops) == pytest.approx(4.0 * N * I, rel=1e-14)
    assert float(r.train_flops) == pytest.approx(6.0 * N * D, rel=1e-14)
    assert float(r.total_flops) == pytest.approx(6.0 * N * D + 4.0 * N * I, rel=1e-14)
    Nc, Dc = float(r.chinchilla_N), float(r.chinchilla_D)
    assert float(r.chinchilla_total_flops) == pytest.approx(6.0 * Nc * Dc + 4.0 * Nc * I, rel=1e-14)


def test_train_flops_per_token_scales_k() -> None:
    """Only the ratio c_inf / c_train moves the optimum: (12, 8) has the optimum of (6, 4)."""
    a = inference_optimal(2.05, 2e12, LAW, train_flops_per_token=6.0, inference_flops_per_token=4.0)
    b = inference_optimal(2.05, 2e12, LAW, train_flops_per_token=12.0, inference_flops_per_token=8.0)
    assert float(b.N) == pytest.approx(float(a.N), rel=1e-12)
    assert float(b.inference_flops) == pytest.approx(8.0 * float(b.N) * 2e12, rel=1e-14)


def test_prefill_utilisation_prices_input_tokens() -> None:
    """A FLOP at utilisation m costs price / (3600 peak m): with one machine the input tokens
    are priced mfu_train / mfu_prefill training tokens each, the output ones mfu_train /
    mfu_decode."""
    hw = Hardware(price_per_hour=2.0, peak_flops=1e15, mfu_train=0.5, mfu_prefill=0.25, mfu_decode=0.1)
    L, d_in, d_out = 2.05, 1e12, 3e11
    r = inference_optimal_cost(L, d_in, d_out, LAW, train_hardware=hw)
    priced = d_in * 0.5 / 0.25 + d_out * 0.5 / 0.1
    assert float(r.priced_tokens) == pytest.approx(priced, rel=1e-14)
    N_ref, D_ref = _lifetime_optimum(L, priced, 6.0, 2.0)
    N, D = float(r.N), float(r.D)
    assert N == pytest.approx(N_ref, rel=1e-5) and D == pytest.approx(D_ref, rel=1e-5)
    usd = 2.0 / 3600 / 1e15
    cost = 6 * N * D * usd / 0.5 + 2 * N * d_in * usd / 0.25 + 2 * N * d_out * usd / 0.1
    assert float(r.cost) == pytest.approx(cost, rel=1e-12)
    Nc, Dc = float(r.chinchilla_N), float(r.chinchilla_D)
    cost_c = 6 * Nc * Dc * usd / 0.5 + 2 * Nc * d_in * usd / 0.25 + 2 * Nc * d_out * usd / 0.1
    assert float(r.chinchilla_cost) == pytest.approx(cost_c, rel=1e-12)
    # real counts: tokens served and 2 FLOPs per parameter per token
    assert float(r.inference_tokens) == d_in + d_out
    assert float(r.inference_flops) == pytest.approx(2 * N * (d_in + d_out), rel=1e-14)


def test_prefill_utilisation_of_separate_inference_hardware() -> None:
    train = Hardware(price_per_hour=1.0, peak_flops=1e15, mfu_train=0.4)
    serve = Hardware(price_per_hour=3.0, peak_flops=2e15, mfu_prefill=0.2, mfu_decode=0.05)
    d_in, d_out = 2e12, 1e11
    r = inference_optimal_cost(2.05, d_in, d_out, LAW, train_hardware=train, inference_hardware=serve)
    c_tr = 1.0 / (3600 * 1e15 * 0.4)
    c_pre, c_dec = 3.0 / (3600 * 2e15 * 0.2), 3.0 / (3600 * 2e15 * 0.05)
    assert float(r.priced_tokens) == pytest.approx((c_pre * d_in + c_dec * d_out) / c_tr, rel=1e-14)


# ------------------------------------------------------------------ data wall, 8 FLOPs a token
def _n_opt_for_data(law, D: float) -> float:  # type: ignore[no-untyped-def]
    c = law.chinchilla
    al, be, A, B = float(c.alpha), float(c.beta), float(c.A), float(c.B)
    G = (al * A / (be * B)) ** (1 / (al + be))
    return G * (D * G) ** (be / al)


def test_data_wall_without_repetition_at_8_flops_per_token() -> None:
    U = 1e12
    w = data_wall(U, MUENNIGHOFF_2023, epochs=(1, 4), flops_per_token=8.0)
    one, four = w.rows
    N1 = _n_opt_for_data(MUENNIGHOFF_2023, U)
    assert one.N == pytest.approx(N1, rel=1e-12)
    assert one.C == pytest.approx(8.0 * N1 * U, rel=1e-12)
    assert one.naive_C == pytest.approx(8.0 * N1 * U, rel=1e-12)
    assert one.naive_N == pytest.approx(N1, rel=1e-12)
    N4 = _n_opt_for_data(MUENNIGHOFF_2023, 4 * U)
    assert four.naive_N == pytest.approx(N4, rel=1e-12) and four.naive_D == 4 * U
    assert four.naive_C == pytest.approx(8.0 * N4 * 4 * U, rel=1e-12)
    # the data-constrained row spends its compute at 8 FLOPs per parameter per token
    assert four.C == pytest.approx(8.0 * four.N * four.D, rel=1e-6)
    assert four.D == pytest.approx(4 * U, rel=1e-6)
    # and is the 6-FLOP row's compute scaled by 8/6 (the FLOP count only rescales C)
    six = data_wall(U, MUENNIGHOFF_2023, epochs=(4,)).rows[0]
    assert four.C == pytest.approx(six.C * 8 / 6, rel=1e-6)
    assert four.N == pytest.approx(six.N, rel=1e-6)


def test_data_wall_on_a_plateau_at_8_flops_per_token() -> None:
    """On a loss plateau (R_D* = 0.02) the row reports the allocation that uses k epochs:
    N = C / (8 k U)."""
    U = 1e12
    small = MUENNIGHOFF_2023.with_decay(0.02, 5.3)
    with pytest.warns(DataWarning, match="not unique"):
        (row,) = data_wall(U, small, epochs=(16,), flops_per_token=8.0).rows
    assert row.D == 16 * U
    assert row.N == pytest.approx(row.C / (8.0 * 16 * U), rel=1e-14)
    assert row.loss == pytest.approx(float(small.loss(row.N, row.D, U)), abs=1e-14)


# ------------------------------------------------------------------ HC2 / HC3 by hand
ALPHA = 0.3


def _hetero_data(n: int = 25, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 10 ** rng.uniform(6, 10, n)
    f = 2.0 + 50.0 * x**-ALPHA
    y = f + 0.02 * f * (1 + 3 * (x < 1e7)) * rng.standard_normal(n)
    return x, y


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_sandwich_hc_kinds_match_a_hand_computation(kind: str, weighted: bool) -> None:
    """With alpha held the model is linear in (E, A): J = X = [1, x^-alpha], the bread is
    X'WX, h_i = w_i x_i'(X'WX)^-1 x_i and the scores w_i r_i x_i, scaled by (1 - h)^-1/2
    (HC2) or (1 - h)^-1 (HC3), or n / (n - p) overall (HC1)."""
    x, y = _hetero_data()
    n = x.size
    w = np.linspace(0.5, 2.0, n) if weighted else np.ones(n)
    r = scalingfit.fit("saturating_power_law", x, y, fixed={"alpha": ALPHA},
                       weights=w if weighted else None)
    C = uncertainty.sandwich_cov("saturating_power_law", x, y, r, kind=kind,
                                 weights=w if weighted else None)
    X = np.column_stack([np.ones(n), x**-ALPHA])
    res = X @ r.x[:2] - y
    bread_inv = np.linalg.inv(X.T @ (w[:, None] * X))
    h = w * np.einsum("ia,ab,ib->i", X, bread_inv, X)
    scale = {"HC0": np.ones(n), "HC1": np.ones(n) * np.sqrt(n / (n - 2)),
             "HC2": 1 / np.sqrt(1 - h), "HC3": 1 / (1 - h)}[kind]
    g = X * (w * res * scale)[:, None]
    ref = bread_inv @ (g.T @ g) @ bread_inv
    np.testing.assert_allclose(C[:2, :2], ref, rtol=1e-7)
    assert np.all(C[2] == 0) and np.all(C[:, 2] == 0)


def test_hc2_lies_between_hc0_and_hc3() -> None:
    x, y = _hetero_data()
    r = scalingfit.fit("saturating_power_law", x, y, fixed={"alpha": ALPHA})
    v = {k: np.diag(uncertainty.sandwich_cov("saturating_power_law", x, y, r, kind=k))[:2]
         for k in ("HC0", "HC2", "HC3")}
    assert np.all(v["HC0"] < v["HC2"]) and np.all(v["HC2"] < v["HC3"])


# ------------------------------------------------------------------ delta method dof
@pytest.mark.parametrize("n", [6, 9])
def test_delta_method_with_a_fixed_parameter_uses_n_minus_free_dof(n: int) -> None:
    rng = np.random.default_rng(11)
    x = np.logspace(6, 10, n)
    y = (2.0 + 50.0 * x**-ALPHA) * (1 + 0.01 * rng.standard_normal(n))
    r = scalingfit.fit("saturating_power_law", x, y, fixed={"E": 2.0})
    assert r.fixed == ("E",)
    se = float(np.sqrt(r.cov[1, 1]))
    A = r.params["A"]
    t = float(stats.t.ppf(0.975, n - 2))  # two free parameters
    d = uncertainty.delta_method("A", r)
    assert d.estimate == A
    assert d.stderr == pytest.approx(se, rel=1e-8)
    assert d.lower == pytest.approx(A - t * se, rel=1e-8)
    assert d.upper == pytest.approx(A + t * se, rel=1e-8)
    lo, hi = r.interval("A")
    assert d.lower == pytest.approx(lo, rel=1e-8) and d.upper == pytest.approx(hi, rel=1e-8)
    # a function of a free and the fixed parameter: the fixed one adds no variance
    f = uncertainty.delta_method(lambda q: q["A"] + q["E"], r)
    assert f.estimate == pytest.approx(A + 2.0, rel=1e-14)
    assert f.upper - f.estimate == pytest.approx(t * se, rel=1e-6)
