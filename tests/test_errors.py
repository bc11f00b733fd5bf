"""Bad input to fit raises ValueError naming the argument and the first offending index."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit

N = np.logspace(7, 10, 8)
Y = 1.7 + 400 * N**-0.34


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=np.where(np.arange(8) == 3, np.nan, N), y=Y), r"x must be finite.*row 3"),
        (dict(x=N, y=np.where(np.arange(8) == 5, np.inf, Y)), r"y must be finite.*index 5"),
        (dict(x=np.where(np.arange(8) == 2, -5.0, N), y=Y), r"x must be > 0.*row 2"),
        (dict(x=np.where(np.arange(8) == 6, 0.0, N), y=Y), r"x must be > 0.*row 6"),
        (dict(x=N, y=Y[:7]), r"y has 7 points but x has 8"),
        (dict(x=np.array([]), y=np.array([])), r"empty"),
        (dict(x=N[:2], y=Y[:2]), r"at least 3 points"),
        (dict(x=N, y=Y, p0=[1.0, 2.0]), r"p0 must have 3 entries"),
        (dict(x=N, y=Y, p0=[1.0, np.nan, 0.3]), r"p0 must be finite.*column A"),
        (dict(x=N, y=Y, p0=[1.7, 400, 0.9], bounds={"alpha": (0, 0.5)}), r"p0 is outside the bounds.*alpha"),
        (dict(x=N, y=Y, bounds={"alpha": (1.0, 0.5)}), r"lower bound 1.0 of alpha"),
        (dict(x=N, y=Y, bounds={"gamma": (0, 1)}), r"unknown parameter 'gamma'"),
        (dict(x=N, y=Y, loss="l2"), r"unknown loss 'l2'"),
        (dict(x=N, y=Y, f_scale=0.0), r"f_scale must be positive"),
        (dict(x=N, y=Y, weights=-np.ones(8)), r"weights must be >= 0; weights\[0\]"),
        (dict(x=N, y=-Y, log_residuals=True), r"y must be > 0.*log_residuals.*index 0"),
        (dict(x=N, y=Y, threads=0), r"threads must be a positive integer"),
    ],
)
def test_fit_rejects_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        scalingfit.fit("saturating_power_law", **kwargs)


def test_unknown_model() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'chinchila'.*chinchilla"):
        scalingfit.fit("chinchila", N, Y)


def test_two_input_shapes() -> None:
    D = 20 * N
    with pytest.raises(ValueError, match=r"shape \(n, 2\).*N, D"):
        scalingfit.fit("chinchilla", N, Y)
    with pytest.raises(ValueError, match=r"different lengths"):
        scalingfit.fit("chinchilla", (N, D[:5]), Y)
    with pytest.raises(ValueError, match=r"column D"):
        scalingfit.fit("chinchilla", (N, np.where(np.arange(8) == 4, np.nan, D)), Y)


def test_non_numeric() -> None:
    with pytest.raises(TypeError, match="x must be numeric"):
        scalingfit.fit("power_law", ["a", "b", "c"], [1.0, 2.0, 3.0])


def test_fit_batch_shape_errors() -> None:
    x = np.tile(N, 2)
    y = np.tile(Y, 2)
    with pytest.raises(ValueError, match=r"offsets\[-1\] must equal the number of points 16"):
        scalingfit.fit_batch("saturating_power_law", x, y, [0, 8, 15])
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing"):
        scalingfit.fit_batch("saturating_power_law", x, y, [0, 9, 8, 16])
    with pytest.raises(ValueError, match=r"p0 has 3 starts but there are 2 problems"):
        scalingfit.fit_batch("saturating_power_law", x, y, [0, 8, 16], np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"problem\[1\] = 5 is not a problem index"):
        scalingfit.fit_batch("saturating_power_law", x, y, [0, 8, 16], np.ones((3, 3)), problem=[0, 5, 1])


def test_nonconvergence_warns_with_own_class() -> None:
    with pytest.warns(scalingfit.ConvergenceWarning, match="iterations"):
        r = scalingfit.fit("saturating_power_law", N, Y, [1.0, 1.0, 0.1], max_iter=2)
    assert r.status == 0 and not r.success


def _closed_forms() -> list:
    from scalingfit import chinchilla, kaplan, planning

    law = chinchilla.as_law(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28))
    plaw = planning.as_law(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28))
    dc = planning.MUENNIGHOFF_2023
    return [
        (lambda: kaplan.loss_N(0.0), "N must be finite and > 0, got 0.0"),
        (lambda: kaplan.loss_D([1e9, -1.0]), r"D must be finite and > 0; D\[1\] = -1.0"),
        (lambda: kaplan.loss_ND(1e9, np.nan), "D must be finite and > 0, got nan"),
        (lambda: kaplan.loss_NS(-5.0, 1e5), "N must be finite and > 0"),
        (lambda: kaplan.loss_C_min(0.0), "C_min must be finite and > 0"),
        (lambda: kaplan.compute_flops(1e9, 0.0), "D must be finite and > 0"),
        (lambda: kaplan.critical_batch(-2.0), "L must be finite and > 0"),
        (lambda: kaplan.kaplan_optimal_N(0.0), "flops must be finite and > 0"),
        (lambda: kaplan.chinchilla_optimal_N(-1.0), "C must be finite and > 0"),
        (lambda: law.loss(0.0, 1e9), "N must be finite and > 0"),
        (lambda: plaw.loss(1e9, [1e9, 0.0]), r"D must be finite and > 0; D\[1\] = 0.0"),
        (lambda: plaw.optimal_allocation(-1e21), "C must be finite and > 0"),
        (lambda: plaw.optimal_n_for_data(np.inf), "D must be finite and > 0"),
        (lambda: dc.loss(1e9, 1e10, 0.0), "U must be finite and > 0"),
        (lambda: dc.effective_data(-1.0, 1e9), "D must be finite and > 0"),
    ]


@pytest.mark.parametrize("case", range(15))
def test_closed_forms_name_sizes_that_are_not_positive(case: int) -> None:
    """Before: inf or NaN came back without a word (L(N=0) = inf, L(N<0) = NaN)."""
    call, match = _closed_forms()[case]
    with pytest.raises(ValueError, match=match):
        call()


def test_closed_forms_still_agree_with_their_formulas() -> None:
    from scalingfit import kaplan

    N = np.array([1e8, 1e9, 1e10])
    np.testing.assert_allclose(kaplan.loss_N(N), (8.8e13 / N) ** 0.076, rtol=1e-12)
    assert float(kaplan.compute_flops(70e9, 1.4e12)) == 6 * 70e9 * 1.4e12
