"""Mutation round 9, losses.py and _optimal.py: an unknown loss name is a ValueError (not a
silent None); the checked compute-optimal allocation (Hoffmann et al. 2022, eq. 4) refuses an
N_opt that underflows to 0 while D_opt is a number, and a D_opt that overflows while N_opt is
a number, each by its own name (the two sides are checked separately: one side alone out of
float64's range is the case neither other check sees). References in 50-digit decimals."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pytest
from scalingfit import _optimal, losses, planning
from scalingfit.chinchilla import ChinchillaLaw


def test_unknown_loss_name_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        losses.rho("l1", np.array([0.5, 2.0]))


def _eq4(A: float, B: float, alpha: float, beta: float, C: float) -> tuple[Decimal, Decimal]:
    with localcontext() as ctx:
        ctx.prec = 50
        a, b = Decimal(alpha), Decimal(beta)
        s = a + b
        G = ((a * Decimal(A)) / (b * Decimal(B))) ** (1 / s)
        c = Decimal(C) / 6
        N = G * c ** (b / s)
        return N, c / N


# alpha + beta = 0.002: G = (A / B)^500 moves N_opt and D_opt by hundreds of decades
D_OVER = (dict(E=1.0, A=1.0, B=2.1, alpha=1e-3, beta=1e-3), 1e300)  # N ~ 3e-12, D ~ 5e310
D_UNDER = (dict(E=1.0, A=4.5, B=1.0, alpha=1e-3, beta=1e-3), 6e-100)  # N ~ 4e276, D ~ 2e-377
N_UNDER = (dict(E=1.0, A=1.0, B=4.5, alpha=1e-3, beta=1e-3), 6e-100)  # N ~ 2e-377, D ~ 4e276


def test_the_cases_are_what_they_claim() -> None:
    N, D = _eq4(**{k: D_OVER[0][k] for k in ("A", "B", "alpha", "beta")}, C=D_OVER[1])
    assert Decimal("1e-300") < N < Decimal("1e300") and D > Decimal("1.8e308")
    N, D = _eq4(**{k: N_UNDER[0][k] for k in ("A", "B", "alpha", "beta")}, C=N_UNDER[1])
    assert N < Decimal("2e-324") and Decimal("1e-300") < D < Decimal("1.7e308")
    N, D = _eq4(**{k: D_UNDER[0][k] for k in ("A", "B", "alpha", "beta")}, C=D_UNDER[1])
    assert D < Decimal("2e-324") and Decimal("1e-300") < N < Decimal("1.7e308")


@pytest.mark.parametrize("opt", [
    lambda p, C: _optimal.checked_sizes(p["A"], p["B"], p["alpha"], p["beta"], C),
    lambda p, C: ChinchillaLaw(**p).optimal_allocation(C),
    lambda p, C: planning.as_law(p).optimal_allocation(C),
])
def test_a_d_opt_beyond_float64_alone_is_refused_by_name(opt) -> None:
    p, C = D_OVER
    with pytest.raises(ValueError, match=r"D_opt = \(C/6\)\^b / G overflows float64"):
        opt(p, C)


@pytest.mark.parametrize("opt", [
    lambda p, C: _optimal.checked_sizes(p["A"], p["B"], p["alpha"], p["beta"], C),
    lambda p, C: ChinchillaLaw(**p).optimal_allocation(C),
])
def test_an_n_opt_that_rounds_to_0_alone_is_refused_by_name(opt) -> None:
    p, C = N_UNDER
    with pytest.raises(ValueError, match=r"N_opt = G \(C/6\)\^a underflows float64"):
        opt(p, C)


@pytest.mark.parametrize("opt", [
    lambda p, C: _optimal.checked_sizes(p["A"], p["B"], p["alpha"], p["beta"], C),
    lambda p, C: planning.as_law(p).optimal_allocation(C),
])
def test_a_d_opt_that_rounds_to_0_alone_is_refused_by_name(opt) -> None:
    p, C = D_UNDER
    with pytest.raises(ValueError, match=r"D_opt = \(C/6\)\^b / G underflows float64"):
        opt(p, C)
