"""Mutation round 7: planning/overtraining.py. The error link's refusal of percent, the
held-out runs' nominal multiplier (Gadre et al.'s notebook) and the signed relative errors,
each against the law's formula written out or a hand-worked number."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import gadre_runs
from scalingfit.planning import overtraining as ot


def test_error_link_refuses_error_rates_in_percent() -> None:
    L = np.array([3.0, 3.2, 3.5, 3.9, 4.3, 2.8])
    err = 0.9 - 0.5 * np.exp(-0.3 * L)
    ot.fit_error_link(L, err)  # fractions: fine
    with pytest.raises(ValueError, match=r"error\[0\] = .* is far outside"):
        ot.fit_error_link(L, 100.0 * err)


def test_held_out_runs_are_predicted_at_the_nominal_multiplier() -> None:
    # "the notebook predicts at the nominal M = 20 * chinchilla_mult and the model's N": a
    # held-out run whose measured tokens per parameter differ from the nominal is predicted
    # at the nominal 640
    data = gadre_runs()
    data = dict(data, M=data["M"].copy())
    i = int(np.flatnonzero((np.array(data["dataset"]) == "rpj") & (np.array(data["model"]) == "open_lm_1b")
                           & (data["chinchilla_mult"] == 32.0))[0])
    data["M"][i] *= 1.05
    rep = ot.reproduce_gadre2024(data, "rpj")
    h = next(h for h in rep.held_out if h.model == "open_lm_1b" and h.M != 20.0)
    assert h.M == 640.0
    p0, p1, q, E = rep.law.p0, rep.law.p1, rep.law.q, rep.law.E
    N = data["N"][i]
    assert h.loss_pred == pytest.approx(p0 * N**q + p1 * 6.0 ** (q / 2) * (640.0 * N) ** q + E, rel=1e-13)


def test_signed_relative_errors_are_prediction_minus_actual() -> None:
    h = ot.HeldOutRun(model="m", N=1e9, M=20.0, loss=2.0, loss_pred=2.1, error=0.5, error_pred=0.45)
    assert h.loss_signed_pct == pytest.approx(5.0, rel=1e-12)  # over-predicted: positive
    assert h.error_signed_pct == pytest.approx(-10.0, rel=1e-12)
    assert h.loss_rel_pct == pytest.approx(5.0, rel=1e-12) and h.error_rel_pct == pytest.approx(10.0, rel=1e-12)
