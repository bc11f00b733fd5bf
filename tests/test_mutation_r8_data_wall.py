"""Mutation round 8: planning/data_wall.py. max_factor's bound, the k = 1 row in closed form
(the no-repetition wall: N = N_opt(U), D = U, the Chinchilla loss there, exactly), an
unreached budget's row all NaN but its naive wall, and the plateau warning's range of
equally good epochs (it must contain the budget, at the FLOP count given).

References: Chinchilla's N_opt(D) = G (D G)^(beta / alpha), G = (alpha A / (beta B))^(1 /
(alpha + beta)), and the law E + A N^-alpha + B D^-beta written out here; the module's and
functions' docstrings."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from scalingfit import DataWarning
from scalingfit import planning as P
from scalingfit.planning import MUENNIGHOFF_2023


def _n_opt(law: Any, D: float) -> float:
    al, be, A, B = (float(getattr(law, k)) for k in ("alpha", "beta", "A", "B"))
    G = (al * A / (be * B)) ** (1 / (al + be))
    return float(G * (D * G) ** (be / al))


@pytest.mark.parametrize("mf", [1.0, 0.5])
def test_max_factor_must_exceed_one(mf: float) -> None:
    # "how far past the no-repetition wall to search": at most the wall itself (1) leaves
    # nothing to search; the docstring's ValueError names it.
    with pytest.raises(ValueError, match=r"max_factor .* must be finite and > 1, got"):
        P.epochs_wall_compute(1e10, 4.0, max_factor=mf)
    assert np.isfinite(P.epochs_wall_compute(1e10, 4.0, max_factor=1e3))  # above 1: searched


@pytest.mark.parametrize("U", [25e9, 1e12, 3.7e13])
def test_the_one_epoch_row_is_the_no_repetition_wall_exactly(U: float) -> None:
    # Module docstring: "C_1 equals the no-repetition wall" D_opt(C) = U, N = N_opt(U), C = 6 N U
    # (closed form); below it the two laws coincide, so the loss is Chinchilla's at (N_opt(U),
    # U). The row is that closed form, not a grid search's approximation of it (which was
    # 3e-8 off in N, and D != U).
    row = P.data_wall(U, MUENNIGHOFF_2023, epochs=(1,)).rows[0]
    N1 = _n_opt(MUENNIGHOFF_2023, U)
    L1 = MUENNIGHOFF_2023.E + MUENNIGHOFF_2023.A * N1**-MUENNIGHOFF_2023.alpha + MUENNIGHOFF_2023.B * U**-MUENNIGHOFF_2023.beta
    assert row.D == U
    assert row.N == pytest.approx(N1, rel=1e-14)
    assert row.C == pytest.approx(6 * N1 * U, rel=1e-14)
    assert row.loss == L1


def test_an_unreached_budget_has_nan_values_but_its_naive_wall() -> None:
    # U = 1e10, k = 1e10 epochs: not reached within max_factor 1e12 (a DataWarning): its C, N,
    # D and losses are NaN (no allocation to report), while the naive wall (k U = 1e20 fresh
    # tokens on the Chinchilla frontier) is the closed form.
    with pytest.warns(DataWarning, match=r"1 epoch budget\(s\) not reached"):
        w = P.data_wall(1e10, MUENNIGHOFF_2023, epochs=(1, 1e10))
    one, far = w.rows
    assert np.isfinite([one.C, one.N, one.D, one.loss, one.loss_unlimited]).all()
    assert np.isnan([far.C, far.N, far.D, far.loss, far.loss_unlimited]).all()
    assert far.naive_D == 1e20
    assert far.naive_N == pytest.approx(_n_opt(MUENNIGHOFF_2023, 1e20), rel=1e-12)
    assert far.naive_C == pytest.approx(6 * far.naive_N * 1e20, rel=1e-14)


@pytest.mark.parametrize("flops_per_token", [6.0, 8.0])
def test_the_plateau_warning_gives_a_range_of_epochs_holding_the_budget(flops_per_token: float) -> None:
    # With R_D* = 0.02 the loss is flat at C_16 (U = 1e12): the DataWarning names "every epoch
    # count in [lo, hi]" that gives the same loss; C_k is the least compute at which k = 16 is
    # among them, so lo <= 16 <= hi, lo < hi (a range, low end first), at the FLOP count
    # given (epochs = C / (flops_per_token N U)); and as C_k is where k becomes the most
    # epochs of that range, its high end is k (to the search's tolerance).
    small = MUENNIGHOFF_2023.with_decay(0.02, 5.3)
    with pytest.warns(DataWarning, match="the optimum at C_k is not unique") as rec:
        P.epochs_wall_compute(1e12, 16.0, small, flops_per_token=flops_per_token)
    msg = next(str(r.message) for r in rec if "not unique" in str(r.message))
    found = re.search(r"every epoch count in \[([^,]+), ([^\]]+)\]", msg)
    assert found is not None, msg
    lo, hi = float(found.group(1)), float(found.group(2))
    assert lo < hi
    assert lo <= 16.0 * (1 + 1e-3)
    assert hi == pytest.approx(16.0, rel=1e-3)
