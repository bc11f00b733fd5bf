"""A robust loss whose f_scale lies beyond every residual is (close to) least squares: fit
says so (loss="huber" with the default f_scale=1 on losses to 1% silently gave the least-squares
parameters)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit

rng = np.random.default_rng(0)
N = 10 ** rng.uniform(7.5, 10.5, 60)
D = 10 ** rng.uniform(9.5, 12, 60)
L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * (1 + 0.01 * rng.standard_normal(60))


def test_huber_with_every_residual_inside_is_least_squares_and_warns() -> None:
    with pytest.warns(scalingfit.DataWarning, match=r"every residual lies within f_scale = 1 .*least squares") as w:
        r = scalingfit.fit("chinchilla", (N, D), L, loss="huber")
    ls = scalingfit.fit("chinchilla", (N, D), L)
    np.testing.assert_allclose(r.x, ls.x, rtol=1e-8)  # what the warning says
    res = np.abs(scalingfit.models.get("chinchilla").predict(r.x, np.column_stack([N, D])) - L)
    assert f"the largest |r| is {res.max():.3g}" in str(w[0].message)
    assert f"about {1.4826 * np.median(res) * np.sqrt(60 / 55):.2g} here" in str(w[0].message)


@pytest.mark.parametrize("loss", ["soft_l1", "cauchy"])
def test_other_robust_losses_say_close_to(loss: str) -> None:
    with pytest.warns(scalingfit.DataWarning, match="close to least squares"):
        scalingfit.fit("chinchilla", (N, D), L, loss=loss)


def test_no_warning_where_the_scale_bites_or_the_loss_is_linear() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scalingfit.fit("chinchilla", (N, D), L)
        scalingfit.fit("chinchilla", (N, D), L, loss="huber", f_scale=0.02)  # some residuals beyond


def test_a_textbook_scale_does_not_warn() -> None:
    """Huber's usual f_scale = 1.345 sigma: on 8 points the largest residual lies below f_scale
    itself in about half the data sets, which warned (48% of 200); the note now needs every
    residual under a third of f_scale."""
    rng = np.random.default_rng(1)
    x = np.logspace(7, 10, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalingfit.DataWarning)
        for _ in range(60):
            y = (1.7 + 400 * x**-0.34) * np.exp(0.01 * rng.standard_normal(8))
            scalingfit.fit("saturating_power_law", x, y, loss="huber", f_scale=1.345 * 0.01, log_residuals=True)
