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
    assert f"about {1.4826 * np.median(res):.2g} here" in str(w[0].message)


@pytest.mark.parametrize("loss", ["soft_l1", "cauchy"])
def test_other_robust_losses_say_close_to(loss: str) -> None:
    with pytest.warns(scalingfit.DataWarning, match="close to least squares"):
        scalingfit.fit("chinchilla", (N, D), L, loss=loss)


def test_no_warning_where_the_scale_bites_or_the_loss_is_linear() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scalingfit.fit("chinchilla", (N, D), L)
        scalingfit.fit("chinchilla", (N, D), L, loss="huber", f_scale=0.02)  # some residuals beyond
