"""The compute-optimal allocation when G = (alpha A / (beta B))^(1 / (alpha + beta)) passes
float64's range (numerical audit, stop 37): with alpha + beta = 0.02 the allocation is
representable (N_opt ~ 4e61) but G alone was 1e50 ... and at alpha + beta = 0.002 it was a bare
OverflowError(34, 'Numerical result out of range') from Python's float power, while the
bootstrap's derived N_opt went silently to inf and D_opt to 0."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np
import pytest
from scalingfit import allocation, planning
from scalingfit.bootstrap import chinchilla_derived
from scalingfit.chinchilla import ChinchillaLaw

SMALL = dict(E=1.0, A=10.0, B=1.0, alpha=0.01, beta=0.01)


def _reference(C: float, A: float, B: float, alpha: float, beta: float) -> tuple[Decimal, Decimal]:
    # Hoffmann et al. eq. 4 in 50-digit decimal arithmetic (no float range to pass)
    getcontext().prec = 50
    s = Decimal(alpha) + Decimal(beta)
    G = ((Decimal(alpha) * Decimal(A)) / (Decimal(beta) * Decimal(B))) ** (1 / s)
    c = Decimal(C) / 6
    N = G * c ** (Decimal(beta) / s)
    return N, c / N


@pytest.mark.parametrize("opt", [
    lambda C, p: (allocation.optimal_allocation(C, p).N_opt, allocation.optimal_allocation(C, p).D_opt),
    lambda C, p: ChinchillaLaw(**p).optimal_allocation(C),
    lambda C, p: planning.as_law(p).optimal_allocation(C),
])
def test_allocation_with_a_small_exponent_sum_matches_exact_arithmetic(opt) -> None:
    N, D = (float(v) for v in opt(1e24, SMALL))
    ref_N, ref_D = _reference(1e24, **{k: SMALL[k] for k in ("A", "B", "alpha", "beta")})
    assert N == pytest.approx(float(ref_N), rel=1e-12)
    assert D == pytest.approx(float(ref_D), rel=1e-12)
    # first-order condition on N D = C / 6: alpha A N^-alpha = beta B D^-beta
    lhs = 0.01 * 10.0 * math.exp(-0.01 * math.log(N))
    rhs = 0.01 * 1.0 * math.exp(-0.01 * math.log(D))
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize("opt", [
    lambda C, p: allocation.optimal_allocation(C, p),
    lambda C, p: ChinchillaLaw(**p).optimal_allocation(C),
    lambda C, p: planning.as_law(p).optimal_allocation(C),
])
def test_an_allocation_beyond_float64_is_a_value_error_naming_it(opt) -> None:
    # alpha + beta = 0.002: N_opt = 10^500 (1e24/6)^0.5, beyond 1.8e308
    p = dict(SMALL, alpha=1e-3, beta=1e-3)
    with pytest.raises(ValueError, match=r"N_opt = G \(C/6\)\^a overflows float64.*C = 1e\+24, alpha \+ beta = 0.002"):
        opt(1e24, p)


def test_g_is_inf_not_an_overflow_error() -> None:
    assert ChinchillaLaw(E=1.0, A=10.0, B=1.0, alpha=1e-3, beta=1e-3).G == math.inf
    assert planning.as_law(dict(E=1.0, A=10.0, B=1.0, alpha=1e-3, beta=1e-3)).G == math.inf


def test_bootstrap_derived_allocation_of_replicates_with_a_small_exponent_sum() -> None:
    # replicates as the bootstrap passes them (columns of parameter arrays): the derived N_opt
    # of each is a number where it is representable, not inf / 0 from an overflowing G
    d = chinchilla_derived(1e24)
    cols = {k: np.full(3, v) for k, v in SMALL.items()}
    cols["alpha"] = np.array([0.01, 0.34, 0.01])
    cols["beta"] = np.array([0.01, 0.28, 0.01])
    N = np.asarray(d["N_opt"](cols))
    D = np.asarray(d["D_opt"](cols))
    ref_N, ref_D = _reference(1e24, 10.0, 1.0, 0.01, 0.01)
    np.testing.assert_allclose(N[[0, 2]], float(ref_N), rtol=1e-12)
    np.testing.assert_allclose(D[[0, 2]], float(ref_D), rtol=1e-12)
    N1, D1 = _reference(1e24, 10.0, 1.0, 0.34, 0.28)
    assert N[1] == pytest.approx(float(N1), rel=1e-12) and D[1] == pytest.approx(float(D1), rel=1e-12)


def test_inference_aware_saving_is_never_negative() -> None:
    # the inference-aware optimum minimises training + inference FLOPs at the target loss, and
    # Chinchilla's split is one candidate: its saving is >= 0 (at loss 1.6905, just above
    # Hoffmann's E = 1.69, the difference was -7.7e25 FLOPs, -4.7e-16 of the total: rounding)
    L = np.array([1.6905, 1.7, 1.8, 2.0, 2.5])
    # the default law (Sardana et al.'s fit of Hoffmann's: alpha 0.336, beta 0.283)
    r = planning.inference_optimal(L[:, None], np.array([0.0, 1e9, 1e12, 1e15])[None, :])
    assert r.chinchilla_total_flops[0, 2] - r.total_flops[0, 2] < 0  # the rounding case
    assert (r.saving_flops >= 0).all() and (r.saving_fraction >= 0).all()
    diff = r.chinchilla_total_flops - r.total_flops
    big = diff > 1e-9 * r.total_flops  # a real saving is the difference itself
    assert big.sum() >= 8
    np.testing.assert_array_equal(r.saving_flops[big], diff[big])
    assert (r.saving_flops[~big] <= 1e-9 * r.total_flops[~big]).all()
