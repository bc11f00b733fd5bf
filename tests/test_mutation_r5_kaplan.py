"""Mutation round 5, kaplan: the published constants that no law of the module reads (checked
against Kaplan et al. 2020, arXiv:2001.08361, as printed) and their internal consistency."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import kaplan


def test_constants_as_printed_in_kaplan_2020() -> None:
    """Eq. 1.1-1.4 and 1.5-1.6 (Tables 2, 3), the naive L(C) of Appendix A / Table 4
    (alpha_C ~ 0.057, C_c ~ 1.6e7 PF-days), and the compute-efficient allocation of Fig. 14 /
    eq. 6.1-6.2: N_opt = 1.3e9 C^0.73, S_min = 5.4e3 C^0.03, D_opt = 2e10 C^0.27, B ~ C^0.24."""
    c = kaplan.KAPLAN_2020
    printed = {
        "alpha_N": 0.076, "N_c": 8.8e13, "alpha_D": 0.095, "D_c": 5.4e13,
        "alpha_C_min": 0.050, "C_c_min": 3.1e8, "alpha_C": 0.057, "C_c": 1.6e7,
        "nd_alpha_N": 0.076, "nd_alpha_D": 0.103, "nd_N_c": 6.4e13, "nd_D_c": 1.8e13,
        "ns_alpha_N": 0.077, "ns_alpha_S": 0.76, "ns_N_c": 6.5e13, "ns_S_c": 2.1e3,
        "B_star": 2e8, "alpha_B": 0.21, "N_opt_coef": 1.3e9, "N_opt_exp": 0.73,
        "S_opt_coef": 5.4e3, "S_opt_exp": 0.03, "D_opt_coef": 2e10, "D_opt_exp": 0.27,
        "B_opt_exp": 0.24,
    }
    for name, value in printed.items():
        assert getattr(c, name) == value, name


def test_allocation_exponents_spend_the_whole_budget() -> None:
    """C_min = 6 N B S: the exponents of N, B and S in C_min sum to 1, and D = B S has the
    exponent of B plus that of S (0.24 + 0.03 = 0.27 = 1 - 0.73)."""
    c = kaplan.KAPLAN_2020
    assert c.N_opt_exp + c.B_opt_exp + c.S_opt_exp == pytest.approx(1.0, abs=1e-12)
    assert c.B_opt_exp + c.S_opt_exp == pytest.approx(c.D_opt_exp, abs=1e-12)
    assert c.N_opt_exp + c.D_opt_exp == pytest.approx(1.0, abs=1e-12)


def test_chinchilla_optimal_N_uses_its_tokens_per_param() -> None:
    """D = k N and C = 6 N D give N = sqrt(C / 6k) for any k (exponent 0.5)."""
    C = np.array([1e21, 5.88e23])
    for k in (10.0, 20.0, 40.0):
        np.testing.assert_allclose(kaplan.chinchilla_optimal_N(C, tokens_per_param=k),
                                   np.sqrt(C / (6 * k)), rtol=1e-15)
