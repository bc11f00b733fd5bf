"""Mutation round 8: _identify.py. Which input each built-in exponent is checked against
(kaplan_nd's alpha_D and kaplan_ns's alpha_S on their second input, data_constrained's beta
on D, not U), the span per problem of a batch, the exclusive bound at one decade, inputs of
0 left out of the span (it does not depend on units), and the near-singular test's
infinite condition number, several near-null directions and a rounding-negative variance.
Spans are worked out by hand from the inputs (log10 of their ratio); the correlation
matrices' eigenvectors in closed form."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import _identify
from scalingfit._warnings import IdentifiabilityWarning


def _narrow(model: str, x: np.ndarray, offsets: list[int] | None = None,
            problems: list[int] | None = None, w: np.ndarray | None = None) -> dict[int, list[str]]:
    """narrow_exponents of ``model`` with every parameter free."""
    m = scalingfit.models.get(model)
    P = len(m.param_names)
    off = np.array([0, x.shape[0]] if offsets is None else offsets, dtype=np.int64)
    pr = np.array([0] if problems is None else problems, dtype=np.int64)
    return _identify.narrow_exponents(m, x, w, off, np.full(P, -np.inf), np.full(P, np.inf), pr)


@pytest.mark.parametrize(("model", "narrow", "exponent"), [
    ("kaplan_nd", "D", "alpha_D"), ("kaplan_ns", "S", "alpha_S"), ("kaplan_nd", "N", "alpha_N"),
])
def test_each_kaplan_exponent_is_checked_on_its_own_input(model: str, narrow: str, exponent: str) -> None:
    # L = (N_c / N)^alpha_N + (D_c / D)^alpha_D (and S for kaplan_ns): alpha_D acts on the
    # second input only. That input over 10^9 .. 10^9.5 spans 0.5 decades (by hand), the
    # other over 10^7 .. 10^10 three: one sentence, naming the narrow input and its exponent.
    wide, short = np.logspace(7, 10, 9), np.logspace(9, 9.5, 9)
    m = scalingfit.models.get(model)
    cols = {m.input_names[0]: wide, m.input_names[1]: wide}
    cols[narrow] = short
    x = np.column_stack([cols[n] for n in m.input_names])
    out = _narrow(model, x)
    assert list(out) == [0] and len(out[0]) == 1
    assert out[0][0].startswith(f"{narrow} spans 0.5 decades (under one), so {exponent} cannot")


def test_data_constrained_beta_is_checked_on_d_not_u() -> None:
    # Muennighoff et al.'s law: beta acts on D' (effective data, from D and U), alpha on N'.
    # D over 10^10 .. 10^10.4 (0.4 decades by hand) with N and U each over three decades:
    # the sentence names D and beta; U narrow instead (D wide) names nothing.
    wide, short = np.logspace(8, 11, 8), np.logspace(10, 10.4, 8)
    out = _narrow("data_constrained", np.column_stack([wide, short, wide]))
    assert list(out) == [0] and len(out[0]) == 1
    assert out[0][0].startswith("D spans 0.4 decades (under one), so beta cannot")
    assert _narrow("data_constrained", np.column_stack([wide, wide, short])) == {}


def test_spans_are_per_problem_of_a_batch() -> None:
    # Problem 0's x over 10^3 .. 10^6 (3 decades), problem 1's over 10^8 .. 10^8.5 (0.5):
    # only problem 1 is named, with its own span (pooled, or measured from problem 0's
    # lowest point, it would be 5.5 decades and silent).
    x = np.r_[np.logspace(3, 6, 6), np.logspace(8, 8.5, 6)][:, None]
    out = _narrow("power_law", x, offsets=[0, 6, 12], problems=[0, 1])
    assert list(out) == [1]
    assert out[1][0].startswith("x spans 0.5 decades (under one)")
    # asked about problem 1 alone: the same sentence
    assert _narrow("power_law", x, offsets=[0, 6, 12], problems=[1]) == out


def test_a_problem_without_a_usable_point_is_not_named() -> None:
    # "if s < MIN_DECADES:  # False for NaN (no usable point)": a problem whose points all
    # have weight 0 has no span to judge; the other problem (0.3 decades) is named.
    x = np.r_[np.logspace(3, 6, 4), np.logspace(5, 5.3, 4)][:, None]
    w = np.r_[np.zeros(4), np.ones(4)]
    out = _narrow("power_law", x, offsets=[0, 4, 8], problems=[0, 1], w=w)
    assert list(out) == [1] and out[1][0].startswith("x spans 0.3 decades")


def test_exactly_one_decade_is_enough() -> None:
    # "spanning under MIN_DECADES" (1.0): x from 10^8 to 10^9 spans exactly 1.0 decades
    # (log10 of both is exact), so a power law fitted there does not warn (warnings are
    # errors in this suite).
    x = np.logspace(8, 9, 12)
    assert np.log10(x[-1]) - np.log10(x[0]) == 1.0
    r = scalingfit.fit("power_law", x, 300 * x ** -0.3 * (1 + 0.01 * np.sin(np.arange(12))))
    assert r.success


def test_the_span_is_printed_to_two_significant_digits() -> None:
    # x over 10^8 .. 10^8.45: 0.45 decades, printed "0.45" ({s:.2g}), not rounded to "0.5".
    x = np.logspace(8, 8.45, 10)
    out = _narrow("power_law", x[:, None])
    assert out[0][0].startswith("x spans 0.45 decades")


def test_inputs_of_zero_are_left_out_of_the_span() -> None:
    # "The span of x does not depend on units": a learning curve measured at steps 0, 20 ..
    # 50 spans log10(50 / 20) = 0.40 decades over its positive steps (0 has no logarithm),
    # and so does the same curve in steps of 1/1000 (0, 20000 .. 50000). Counting 0 as 1
    # made the first span log10(50) = 1.7 decades and the second 4.7.
    steps = np.array([0.0, 20.0, 25.0, 30.0, 35.0, 40.0, 50.0])
    for scale in (1.0, 1000.0):
        out = _narrow("learning_curve", (scale * steps)[:, None])
        assert list(out) == [0] and out[0][0].startswith("x spans 0.4 decades (under one), so alpha")


def test_perfectly_correlated_parameters_are_nearly_singular() -> None:
    # The correlation matrix [[1, 1], [1, 1]] has eigenvalues 0 and 2: its condition number
    # is infinite (not 0), and both parameters carry the null direction (1, -1) / sqrt(2).
    scale = np.array([3.0, 1e-4])
    cov = np.ones((2, 2)) * np.outer(scale, scale)
    why = _identify.near_singular(("a", "b"), cov)
    assert why is not None
    assert "(condition number inf): a, b are not separately determined" in why


def test_every_near_null_direction_names_its_parameters() -> None:
    # Two independent pairs, correlations 1 - 1e-12 (a, b) and 1 - 1e-11 (c, d), and e
    # alone: the 2x2 blocks [[1, r], [r, 1]] have eigenvalues 1 - r (vector (1, -1) / sqrt 2)
    # and 1 + r, so the condition number is about 2 / 1e-12 and both 1e-12 and 1e-11 are below
    # the largest (2) over MAX_CONDITION (2e-10): both directions count, naming a, b, c, d
    # (the smallest alone named a, b only); e (its own eigenvalue 1) is not named.
    R = np.eye(5)
    R[0, 1] = R[1, 0] = 1 - 1e-12
    R[2, 3] = R[3, 2] = 1 - 1e-11
    scale = np.array([1e-3, 10.0, 1e4, 1.0, 0.2])
    why = _identify.near_singular(("a", "b", "c", "d", "e"), R * np.outer(scale, scale))
    assert why is not None and "): a, b, c, d are not separately determined" in why


def test_a_rounding_negative_variance_is_not_a_free_parameter() -> None:
    # d = sqrt(clip(diag(C), 0)): a variance of -1e-300 (rounding below 0) is no variance, so
    # that parameter is not free; a diagonal covariance is otherwise perfectly conditioned
    # (correlation matrix I): None. Taking |variance| gave it a correlation of -1 with itself,
    # a negative eigenvalue and a "nearly singular" message.
    assert _identify.near_singular(("a", "b", "c"), np.diag([1.0, 4.0, -1e-300])) is None


def test_the_fit_warns_of_a_learning_curve_measured_over_a_short_range() -> None:
    # Through scalingfit.fit: the same 0.4 decades (steps 0, 20 .. 50) warn.
    x = np.array([0.0, 20.0, 25.0, 30.0, 35.0, 40.0, 50.0])
    with pytest.warns(IdentifiabilityWarning, match=r"x spans 0\.4 decades \(under one\), so alpha"):
        scalingfit.fit("learning_curve", x, 1 + 30 * (x + 10) ** -0.5)
