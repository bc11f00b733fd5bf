"""Input audit 5, Kaplan's laws and the compute helpers at extreme magnitudes: an
intermediate that overflowed float64 leaked numpy's RuntimeWarning (an error here) and gave
inf where the law's value is finite, or inf/0 for a value that float64 cannot hold; and
fit_power_law fitted a negative loss to N_c = 0 with only a convergence warning."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scalingfit import allocation, kaplan, testtime
from scalingfit.kaplan import KAPLAN_2020 as K


# ------------------------------------------------------------------ finite through logs
@pytest.mark.parametrize(("fn", "x_c", "alpha"), [
    (kaplan.loss_N, K.N_c, K.alpha_N), (kaplan.loss_D, K.D_c, K.alpha_D),
    (kaplan.loss_C_min, K.C_c_min, K.alpha_C_min)])
def test_single_variable_laws_at_a_tiny_input_are_finite(fn, x_c: float, alpha: float) -> None:
    """(x_c / 1e-300) passes 1.8e308, but its alpha-th power does not."""
    expect = math.exp(alpha * (math.log(x_c) - math.log(1e-300)))
    assert float(fn(1e-300)) == pytest.approx(expect, rel=1e-12)
    both = fn([1e9, 1e-300])
    assert both[0] == (x_c / 1e9) ** alpha  # bit for bit as before where nothing overflows
    assert both[1] == pytest.approx(expect, rel=1e-12)


def test_joint_laws_at_tiny_inputs_are_finite() -> None:
    a = K.nd_alpha_N / K.nd_alpha_D
    la = a * (math.log(K.nd_N_c) - math.log(1e-300))
    lb = math.log(K.nd_D_c) - math.log(1e-300)
    expect = math.exp(K.nd_alpha_D * (max(la, lb) + math.log1p(math.exp(-abs(la - lb)))))
    assert float(kaplan.loss_ND(1e-300, 1e-300)) == pytest.approx(expect, rel=1e-12)
    ns = (math.exp(K.ns_alpha_N * (math.log(K.ns_N_c) + 300 * math.log(10)))
          + math.exp(K.ns_alpha_S * (math.log(K.ns_S_c) + 300 * math.log(10))))
    assert float(kaplan.loss_NS(1e-300, 1e-300)) == pytest.approx(ns, rel=1e-12)
    assert float(kaplan.loss_ND(1e9, 1e10)) == ((K.nd_N_c / 1e9) ** a + K.nd_D_c / 1e10) ** K.nd_alpha_D


def test_critical_batch_underflows_to_zero_and_refuses_an_overflow() -> None:
    assert float(kaplan.critical_batch(1e300)) == 0.0  # B* 1e-1428: 0 is the rounded value
    assert float(kaplan.critical_batch(2.5)) == pytest.approx(K.B_star / 2.5 ** (1 / K.alpha_B), rel=1e-14)
    with pytest.raises(ValueError, match=r"^L must be larger \(a loss in nats per token\): B\* / L\^\(1/alpha_B\) "
                                         r"overflows float64 \(beyond 1\.8e308\) for L = 1e-300$"):
        kaplan.critical_batch(1e-300)
    with pytest.raises(ValueError, match=r"at index 2 for L\[2\] = 1e-300"):
        kaplan.critical_batch([2.0, 3.0, 1e-300])


# ------------------------------------------------------------------ products beyond float64
def test_compute_flops_that_overflows_names_N_and_D() -> None:
    with pytest.raises(ValueError, match=r"^N and D must be smaller: 6 N D overflows float64 \(beyond 1\.8e308\) "
                                         r"for N = 1e\+300, D = 1e\+09$"):
        kaplan.compute_flops(1e300, 1e9)
    with pytest.raises(ValueError, match=r"at index 1 for N\[1\] = 1e\+300, D = 1e\+09$"):
        kaplan.compute_flops([1e9, 1e300], 1e9)
    assert float(kaplan.compute_flops(70e9, 1.4e12)) == 6 * 70e9 * 1.4e12
    with pytest.raises(ValueError, match=r"^N and D must be smaller: 6 N D overflows .* for N = 1e\+200, "
                                         r"D = 1e\+200$"):
        allocation.flops(1e200, 1e200)


def test_inference_flops_that_overflows_names_its_inputs() -> None:
    with pytest.raises(ValueError, match=r"^N, tokens_per_sample and k must be smaller: 2 N T k overflows float64 "
                                         r"\(beyond 1\.8e308\) for N = 1e\+09, tokens_per_sample = 1e\+300, k = 4$"):
        testtime.inference_flops(1e9, 1e300, 4)
    assert float(testtime.inference_flops(7e9, 500, 10)) == 2 * 7e9 * 500 * 10


def test_rule_allocation_with_an_extreme_ratio() -> None:
    """C / (6 k) overflowed at k = 1e-300 although N = sqrt(C/6) / sqrt(k) = 4.1e160 is finite."""
    r = allocation.rule_allocation(1e22, tokens_per_param=1e-300)
    N = math.sqrt(1e22 / 6) / math.sqrt(1e-300)
    assert r.N_opt == pytest.approx(N, rel=1e-14)
    assert r.D_opt == pytest.approx(1e-300 * N, rel=1e-14)
    assert 6 * r.N_opt * (r.D_opt * 1e150) == pytest.approx(1e22 * 1e150, rel=1e-14)
    with pytest.raises(ValueError, match=r"^C and tokens_per_param must be nearer the sizes of real runs: "
                                         r"N = sqrt\(C / \(6 tokens_per_param\)\) overflows float64 .* for "
                                         r"C = 1\.7e\+308, tokens_per_param = 4\.94066e-324$"):
        allocation.rule_allocation(1.7e308, tokens_per_param=5e-324)
    with pytest.raises(ValueError, match=r"N = sqrt\(C / \(6 tokens_per_param\)\) underflows float64"):
        allocation.rule_allocation(1e-323, tokens_per_param=1e308)


# ------------------------------------------------------------------ 4. fit_power_law, L <= 0
def test_fit_power_law_refuses_a_loss_that_is_not_positive() -> None:
    N = np.logspace(6, 9, 10)
    L = kaplan.loss_N(N)
    with pytest.raises(ValueError, match=r"^y must be > 0 \(L = \(N_c/N\)\^alpha is positive; irreducible=True "
                                         r"fits E \+ \(N_c/N\)\^alpha\); y has 10 value\(s\) <= 0, the first at "
                                         r"index 0: -"):
        kaplan.fit_power_law(N, -L)
    bad = L.copy()
    bad[4] = 0.0
    with pytest.raises(ValueError, match=r"^losses\[1\] must be > 0 .* losses\[1\] has 1 value\(s\) <= 0, the "
                                         r"first at index 4: 0\.0$"):
        kaplan.fit_power_laws([N, N], [L, bad])
    with pytest.raises(ValueError, match=r"^y must be > 0 \(L = \(D_c/D\)\^alpha"):
        kaplan.fit_power_law(N, np.where(np.arange(10) == 7, -1.0, L), variable="D")
