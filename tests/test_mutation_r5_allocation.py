"""Mutation round 5, allocation: the rule's exponents, the verdict at the tolerance edge, the
rule's tokens per parameter inside training_verdict, a bootstrap's agreement when the law and
the rule disagree, and a verdict's own tokens per parameter (closed forms, computed here)."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import allocation as al
from scalingfit import chinchilla as ch


def test_rule_allocation_exponents_are_one_half() -> None:
    """D = k N and C = 6 N D give N = sqrt(C / 6k): N and D both scale as C^(1/2)."""
    C = np.logspace(18, 26, 5)
    r = al.rule_allocation(C, 20.0)
    assert (r.a, r.b) == (0.5, 0.5)
    assert np.polyfit(np.log(C), np.log(r.N_opt), 1)[0] == pytest.approx(r.a, abs=1e-12)
    assert np.polyfit(np.log(C), np.log(r.D_opt), 1)[0] == pytest.approx(r.b, abs=1e-12)


def test_a_ratio_exactly_at_the_tolerance_is_near_optimal() -> None:
    """Under-trained means N / N_opt *above* the tolerance, over-trained *below* 1 / tolerance.
    Powers of two make the rule's ratios exactly 2 and 1/2: N = 2^30 on D = 2^32 tokens with
    k = 16 gives C = 6 * 2^62, N_rule = sqrt(C / 96) = 2^29 (ratio 2); N = 2^30 on D = 2^36
    gives N_rule = 2^31 (ratio 1/2). Both sit on the edge and are near-optimal."""
    rows = [("edge-up", 2.0**30, 2.0**32), ("edge-down", 2.0**30, 2.0**36)]
    out = al.training_verdict(rows, ch.EPOCH_2024, tokens_per_param=16.0, tolerance=2.0, show=False)
    assert out[0].N_opt_rule == 2.0**29 and out[0].ratio_rule == 2.0
    assert out[1].N_opt_rule == 2.0**31 and out[1].ratio_rule == 0.5
    assert [v.verdict_rule for v in out] == ["near-optimal", "near-optimal"]
    # just past the edges
    past = al.training_verdict([("up", 2.0**30 * 1.001, 2.0**32 / 1.001),
                                ("down", 2.0**30 / 1.001, 2.0**36 * 1.001)],
                               ch.EPOCH_2024, tokens_per_param=16.0, show=False)
    assert [v.verdict_rule for v in past] == ["under-trained", "over-trained"]


def test_training_verdict_uses_its_tokens_per_param_rule() -> None:
    """The rule compared alongside is D = k N with the k given: N_rule = sqrt(C / 6k)."""
    for k in (5.0, 20.0, 80.0):
        (v,) = al.training_verdict([("GPT-3", 175e9, 300e9)], ch.EPOCH_2024, tokens_per_param=k,
                                   show=False)
        C = 6 * 175e9 * 300e9
        assert v.N_opt_rule == pytest.approx(np.sqrt(C / (6 * k)), rel=1e-12)
        assert v.D_opt_rule == pytest.approx(k * np.sqrt(C / (6 * k)), rel=1e-12)
        assert v.ratio_rule == pytest.approx(175e9 / np.sqrt(C / (6 * k)), rel=1e-12)


def test_verdict_tokens_per_param_is_d_over_n() -> None:
    out = al.training_verdict(al.KNOWN_MODELS, ch.EPOCH_2024, show=False)
    for v, (_, n, d) in zip(out, al.KNOWN_MODELS):
        assert v.tokens_per_param == pytest.approx(d / n, rel=1e-15)
    assert out[2].tokens_per_param == pytest.approx(20.0)  # Chinchilla: 1.4T tokens on 70B


def test_bootstrap_agreement_is_with_the_law_verdict_not_the_rule() -> None:
    """With a rule of 2000 tokens per parameter every model here is under-trained by the rule,
    while the law calls the small model over-trained: its agreement is the share of
    replicates whose law verdict is over-trained (closed form N_opt from the samples)."""
    import scalingfit as sf

    rng = np.random.default_rng(4)
    N, D = (v.ravel() for v in np.meshgrid(np.geomspace(1e7, 1e10, 8), np.geomspace(1e9, 1e12, 6)))
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.02 * rng.standard_normal(N.size))
    b = sf.bootstrap("chinchilla", np.column_stack([N, D]), L, n_resamples=200, seed=3)
    rows = [("small", 8e9, 15e12)]
    (v,) = al.training_verdict(rows, b, tokens_per_param=2000.0, show=False)
    assert v.verdict_law == "over-trained" and v.verdict_rule != v.verdict_law
    A, B, alpha, beta = (b.samples[:, i] for i in range(1, 5))
    ok = np.isfinite(b.samples).all(axis=1)
    G = (alpha[ok] * A[ok] / (beta[ok] * B[ok])) ** (1 / (alpha[ok] + beta[ok]))
    ratio = 8e9 / (G * (8e9 * 15e12) ** (beta[ok] / (alpha[ok] + beta[ok])))
    share = np.mean(ratio < 0.5)
    assert share > 0.5
    assert v.agreement == pytest.approx(share, abs=1e-12)


def test_verdict_table_writes_exact_powers_in_the_larger_unit() -> None:
    """1e12 tokens is "1T" and 1e9 parameters "1B" (not "1e+03B", "1e+03M")."""
    out = al.training_verdict([("round", 1e9, 1e12)], ch.EPOCH_2024, show=False)
    row = al.format_verdicts(out).splitlines()[-1].split()
    assert row[:3] == ["round", "1B", "1T"]
