"""The Chinchilla-fit plots render on log axes and save as PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from scalingfit import _synthdb, bootstrap, plot  # noqa: E402


def test_every_chinchilla_plot_saves_png_and_svg(tmp_path: Path) -> None:
    runs, truth = _synthdb.chinchilla_sweeps(1, runs=60, checkpoints=1, noise=0.005, seed=3)
    N, D, L = runs.N.to_numpy(), runs.D.to_numpy(), runs.value.to_numpy()
    b = bootstrap("chinchilla", (N, D), L, n_resamples=60, seed=1, method="percentile")
    params = b.params
    t = {k: float(truth[k].iloc[0]) for k in ("E", "A", "B", "alpha", "beta")}
    figs = {
        "frontier": plot.plot_compute_frontier(N, D, L, params, b.samples),
        "isoflop": plot.plot_isoflop_curves(N, D, L, params, budgets=[1e19, 1e20, 1e21]),
        "surface": plot.plot_loss_surface(N, D, L, params),
        "exponents": plot.plot_exponent_distributions(b.samples, truth=t),
    }
    Ns = np.logspace(7, 9, 8)
    y = 1.8 + 400 * Ns**-0.34
    b2 = bootstrap("saturating_power_law", Ns, y * (1 + 0.003 * np.sin(np.arange(8))), n_resamples=50,
                   method="percentile")
    figs["extrapolation"] = plot.plot_extrapolation_band(Ns, y, "saturating_power_law", b2.x, b2.samples,
                                                         np.logspace(7, 11, 50))
    for name, fig in figs.items():
        ax = fig.axes[0]
        assert ax.get_xscale() == "log" or name == "exponents", name
        assert ax.get_xlabel(), name
        paths = plot.save(fig, tmp_path / name, formats=("png", "svg"))
        assert [p.suffix for p in paths] == [".png", ".svg"]
        assert all(p.stat().st_size > 5_000 for p in paths), name
