"""Input audit 5, plots: an x_max of 1e300 (``scalingfit plot --extrapolate 1e300``) leaked
matplotlib's "overflow encountered" RuntimeWarning from the log axis' autoscale (an error
here); a path that is a folder wrote ``<folder>.png`` beside it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import scalingfit
from scalingfit import compare_models, kaplan, plot

N = np.logspace(6, 9, 10)
Y = 2.0 + (1e13 / N) ** 0.3


@pytest.fixture(scope="module")
def fit() -> Any:
    return scalingfit.fit("saturating_power_law", N, Y)


@pytest.mark.parametrize("x_max", [1e300, 1e262, 1.0000001e200])
def test_plot_fit_refuses_an_x_max_beyond_the_cap(fit: Any, x_max: float) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(
            f"x_max must be at most 1e+200 (beyond it the plot's log axis passes float64's range), got {x_max!r}")
            + "$"):
        plot.plot_fit(fit, N, Y, x_max=x_max)


def test_plot_fit_draws_up_to_the_cap(fit: Any) -> None:
    fig = plot.plot_fit(fit, N, Y, x_max=plot.X_MAX)
    gx, gy = fig.axes[0].get_lines()[0].get_data()
    assert gx.max() == pytest.approx(1e200)
    np.testing.assert_allclose(gy, fit.params["E"] + fit.params["A"] * gx ** -fit.params["alpha"], rtol=1e-12)


def test_plot_comparison_refuses_an_x_max_beyond_the_cap() -> None:
    L = 1.7 + 400.0 * N ** -0.34
    cmp = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True, loo=False)
    with pytest.raises(ValueError, match=r"^x_max must be at most 1e\+200"):
        plot.plot_comparison(cmp, x_max=1e300)


def test_extrapolate_in_decades_stops_at_the_cap() -> None:
    f = kaplan.fit_power_law(N, kaplan.loss_N(N))
    plot.plot_power_law(f, N, kaplan.loss_N(N), extrapolate=191)  # 1e9 * 1e191 = 1e200: drawn
    with pytest.raises(ValueError, match=r"^extrapolate = 192 decades beyond the largest value \(1e\+09\) passes "
                                         r"1e\+200, the farthest a plot extends to"):
        plot.plot_power_law(f, N, kaplan.loss_N(N), extrapolate=192)


def test_a_folder_as_path_is_refused(fit: Any, tmp_path: Path) -> None:
    folder = tmp_path / "figs"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=rf"cannot write {folder}: it is a folder; give a file name "
                                                rf"\(e\.g\. {folder}/figure\.png\)"):
        plot.plot_fit(fit, N, Y, path=folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs"]  # no figs.png beside it
    assert list(folder.iterdir()) == []
    plot.plot_fit(fit, N, Y, path=folder / "fit.png")
    assert (folder / "fit.png").stat().st_size > 0
