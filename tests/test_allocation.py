"""Compute-optimal allocation: closed form vs brute force, C = 6ND helpers, verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import allocation as al
from scalingfit import chinchilla as ch

LAWS = [
    ch.HOFFMANN_2022,
    ch.HOFFMANN_2022_UNROUNDED,
    ch.EPOCH_2024,
    ch.ChinchillaLaw(E=2.0, A=1e3, B=50.0, alpha=0.5, beta=0.2),
]


def _brute_force_N(law: ch.ChinchillaLaw, C: float) -> float:
    """argmin over N of L(N, C / (6N)): scipy's bounded Brent in log N, to 1e-12."""
    from scipy.optimize import minimize_scalar

    def f(t: float) -> float:
        N = np.exp(t)
        return float(law.loss(N, C / (6.0 * N)))

    # Coarse scan first so that the bracket surely holds the minimum.
    ts = np.linspace(np.log(1e3), np.log(1e16), 2001)
    k = int(np.argmin([f(t) for t in ts]))
    r = minimize_scalar(
        f,
        bounds=(ts[max(k - 1, 0)], ts[min(k + 1, ts.size - 1)]),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(np.exp(r.x))


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("C", [1e18, 5.88e23, 1e26])
def test_closed_form_matches_brute_force(law: ch.ChinchillaLaw, C: float) -> None:
    r = al.optimal_allocation(C, law)
    assert abs(r.N_opt / _brute_force_N(law, C) - 1) < 1e-6
    assert 6 * r.N_opt * r.D_opt == pytest.approx(C, rel=1e-12)
    assert r.tokens_per_param == pytest.approx(r.D_opt / r.N_opt)
    assert r.loss == pytest.approx(float(law.loss(r.N_opt, r.D_opt)))
    assert r.a == pytest.approx(law.beta / (law.alpha + law.beta))
    # The optimum is a minimum along the budget line.
    for f in (0.9, 1.1):
        assert law.loss(f * r.N_opt, r.D_opt / f) > r.loss


def test_vectorised_and_exponents() -> None:
    C = np.logspace(18, 26, 9)
    r = al.optimal_allocation(C, ch.EPOCH_2024)
    assert r.N_opt.shape == (9,)
    slope = np.polyfit(np.log(C), np.log(r.N_opt), 1)[0]
    assert slope == pytest.approx(ch.EPOCH_2024.n_opt_exponent, abs=1e-12)
    assert r.a + r.b == pytest.approx(1.0)


def test_accepts_fit_results_and_mappings() -> None:
    class FitLike:
        law = ch.EPOCH_2024

    base = al.optimal_allocation(1e21, ch.EPOCH_2024).N_opt
    assert al.optimal_allocation(1e21, FitLike()).N_opt == base
    assert al.optimal_allocation(1e21, ch.EPOCH_2024.as_dict()).N_opt == pytest.approx(base)
    logs = dict(zip(("a", "b", "e", "alpha", "beta"), ch.EPOCH_2024.log_params()))
    assert al.optimal_allocation(1e21, logs).N_opt == pytest.approx(base)


def test_flop_helpers_round_trip() -> None:
    N, D = 70e9, 1.4e12
    C = al.flops(N, D)
    assert C == pytest.approx(5.88e23)
    assert al.tokens_for(C, N) == pytest.approx(D)
    assert al.params_for(C, D) == pytest.approx(N)


def test_rule_allocation() -> None:
    r = al.rule_allocation(5.88e23)
    assert r.D_opt == pytest.approx(20 * r.N_opt)
    assert 6 * r.N_opt * r.D_opt == pytest.approx(5.88e23)
    assert np.isnan(r.loss)
    assert (
        al.rule_allocation(5.88e23, params=ch.EPOCH_2024).loss
        > al.optimal_allocation(5.88e23, ch.EPOCH_2024).loss
    )


def test_training_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    v = al.training_verdict()
    out = capsys.readouterr().out
    for name in ("GPT-3", "Gopher", "Chinchilla", "LLaMA-3.1-8B", "under-trained", "over-trained"):
        assert name in out
    by = {x.name: x for x in v}
    assert by["GPT-3"].verdict_law == by["GPT-3"].verdict_rule == "under-trained"
    assert by["Gopher"].verdict_law == "under-trained"
    assert by["Chinchilla"].verdict_law == by["Chinchilla"].verdict_rule == "near-optimal"
    assert by["Chinchilla"].ratio_rule == pytest.approx(1.0)
    assert by["LLaMA-3.1-8B"].verdict_law == "over-trained"
    assert by["GPT-3"].C == pytest.approx(3.15e23)
    assert all(x.excess_loss >= 0 for x in v)
    # Under Hoffmann's own (rounded) law Chinchilla itself looks too big for its compute.
    h = {x.name: x for x in al.training_verdict(params=ch.HOFFMANN_2022, show=False)}
    assert h["Chinchilla"].ratio_law > 2
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: al.optimal_allocation(-1.0, ch.EPOCH_2024), r"C must be finite and > 0, got -1.0"),
        (
            lambda: al.optimal_allocation([1e20, np.nan], ch.EPOCH_2024),
            r"C must be finite and > 0; C\[1\] = ",
        ),
        (lambda: al.optimal_allocation(1e20, {"E": 1.0}), r"params must have keys"),
        (
            lambda: al.optimal_allocation(1e20, {**ch.EPOCH_2024.as_dict(), "beta": -0.1}),
            r"beta must be > 0",
        ),
        (lambda: al.flops(0.0, 1e9), r"N must be finite and > 0"),
        (lambda: al.rule_allocation(1e20, 0.0), r"tokens_per_param must be finite"),
        (
            lambda: al.training_verdict([("x", 1e9)], show=False),
            r"rows\[0\] must be \(name, N, D\)",
        ),
        (lambda: al.training_verdict([("x", 1e9, -5.0)], show=False), r"D of 'x' must be finite"),
        (lambda: al.training_verdict(tolerance=1.0, show=False), r"tolerance must be"),
        # numpy's "operands could not be broadcast together" and "only 0-dimensional arrays
        # can be converted to Python scalars" before:
        (lambda: al.flops([1e8, 2e8, 3e8], [1e9, 2e9]), r"N has shape \(3,\) and D \(2,\): give one value"),
        (lambda: al.params_for([1e20, 2e20], [1e9, 2e9, 3e9]), r"C has shape \(2,\) and D \(3,\)"),
        (lambda: al.rule_allocation(1e20, [20.0, 30.0]), r"tokens_per_param must be one number, got an array of shape \(2,\)"),
        (lambda: al.training_verdict([("x", [1e9, 2e9], 2e10)], show=False),
         r"N of 'x' must be one number, got an array of shape \(2,\)"),
    ],
)
def test_bad_input(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()


def test_python_integers_of_any_size_are_numbers() -> None:
    """Budgets and token counts given as Python ints past 2**64 (numpy makes object arrays of
    them) are numbers: the same allocation and verdict as their float values."""
    law = ch.EPOCH_2024
    a, b = al.optimal_allocation(10**25, law), al.optimal_allocation(1e25, law)
    assert a.N_opt == b.N_opt and a.D_opt == b.D_opt
    v1 = al.training_verdict([("big", 70 * 10**9, 10**20)], law, show=False)
    v2 = al.training_verdict([("big", 70e9, 1e20)], law, show=False)
    assert v1 == v2


def test_training_verdict_of_a_bootstrap_carries_its_uncertainty(capsys: pytest.CaptureFixture[str]) -> None:
    """A bootstrap as the law: the verdict of its point fit, the percentile interval of
    N / N_opt over the replicates and the share of replicates agreeing, each against the
    closed form N_opt = G (C / 6)^(beta / (alpha + beta)) computed here from the samples."""
    import scalingfit as sf

    rng = np.random.default_rng(4)
    N, D = (v.ravel() for v in np.meshgrid(np.geomspace(1e7, 1e10, 8), np.geomspace(1e9, 1e12, 6)))
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.02 * rng.standard_normal(N.size))
    b = sf.bootstrap("chinchilla", np.column_stack([N, D]), L, n_resamples=200, seed=3)
    rows = [("big", 175e9, 300e9), ("edge", 70e9, 1.4e12), ("small", 8e9, 15e12)]
    out = al.training_verdict(rows, b, level=0.9, show=True)
    table = capsys.readouterr().out
    assert "90% CI" in table and "agree" in table
    point = al.training_verdict(rows, b.fit, show=False)
    A, B, alpha, beta = (b.samples[:, i] for i in range(1, 5))
    ok = np.isfinite(b.samples).all(axis=1)
    G = (alpha[ok] * A[ok] / (beta[ok] * B[ok])) ** (1 / (alpha[ok] + beta[ok]))
    for v, p, (_, n, d) in zip(out, point, rows):
        assert (v.ratio_law, v.verdict_law) == (p.ratio_law, p.verdict_law)  # the point fit's verdict
        ratio = n / (G * (n * d) ** (beta[ok] / (alpha[ok] + beta[ok])))
        lo, hi = np.percentile(ratio, [5, 95])
        np.testing.assert_allclose([v.ratio_law_low, v.ratio_law_high], [lo, hi], rtol=1e-9)
        verdicts = np.where(ratio > 2, "under-trained", np.where(ratio < 0.5, "over-trained", "near-optimal"))
        assert v.agreement == pytest.approx(np.mean(verdicts == p.verdict_law), abs=1e-12)
        assert v.level == 0.9 and np.isnan(p.agreement) and np.isnan(p.ratio_law_low)
    assert out[0].agreement > 0.9 and out[2].agreement > 0.9  # far from the thresholds
    assert out[1].agreement < 1.0  # Chinchilla's own split sits near the tolerance edge here
    with pytest.raises(ValueError, match="level must be in"):
        al.training_verdict(rows, b, level=1.5, show=False)
