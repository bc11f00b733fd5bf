"""The Chinchilla-fit plots render on log axes and save as PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from scalingfit import _synthdb, bootstrap, plot


def _isoflop_runs(law, budgets, n_sizes=9):  # type: ignore[no-untyped-def]
    from scalingfit import simulate

    s = simulate.isoflop_sweep(law, np.asarray(budgets, dtype=float), n_sizes=n_sizes, noise=0.002, seed=0)
    return s.N, s.D, s.loss


def test_every_chinchilla_plot_saves_png_and_svg(tmp_path: Path) -> None:
    runs, truth = _synthdb.chinchilla_sweeps(1, runs=60, checkpoints=1, noise=0.005, seed=3)
    N, D, L = runs.N.to_numpy(), runs.D.to_numpy(), runs.value.to_numpy()
    b = bootstrap("chinchilla", (N, D), L, n_resamples=60, seed=1, method="percentile")
    params = b.params
    t = {k: float(truth[k].iloc[0]) for k in ("E", "A", "B", "alpha", "beta")}
    figs = {
        "frontier": plot.plot_compute_frontier(N, D, L, params, b.samples),
        # these runs are scattered in (N, D): IsoFLOP slices from runs at three budgets
        "isoflop": plot.plot_isoflop_curves(*_isoflop_runs(t, [1e19, 1e20, 1e21]), params,
                                            budgets=[1e19, 1e20, 1e21]),
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


def test_isoflop_plot_fits_a_parabola_per_budget_or_says_there_is_none() -> None:
    """IsoFLOP runs give one scatter and one parabola per budget, each parabola's minimum near
    the law's compute-optimal N; runs scattered in (N, D) give one scatter coloured by compute,
    a title that says there are no slices, and no warning (an empty legend used to warn)."""
    from matplotlib.collections import PathCollection
    from scalingfit import simulate

    law = {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}
    budgets = np.logspace(18, 21, 4)
    s = simulate.isoflop_sweep(law, budgets, n_sizes=9, noise=0.002, seed=0)
    ax = plot.plot_isoflop_curves(s.N, s.D, s.loss, law).axes[0]
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 4
    stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
    N_opt, _ = simulate.as_law(law).optimal_allocation(budgets)
    got = np.sort([float(ln.get_xdata()[0]) for ln in stars])
    np.testing.assert_allclose(np.log10(got), np.log10(np.sort(N_opt)), atol=0.15)

    runs, _ = _synthdb.chinchilla_sweeps(1, runs=30, checkpoints=1, seed=3)
    fig = plot.plot_isoflop_curves(runs.N.to_numpy(), runs.D.to_numpy(), runs.value.to_numpy(), law)
    ax = fig.axes[0]
    assert "no IsoFLOP slices" in ax.get_title()
    (sc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(sc.get_offsets()) == 30 and ax.get_legend() is None and len(fig.axes) == 2  # + colorbar


def test_isoflop_plot_without_budgets_does_not_chain_spread_runs() -> None:
    """Runs were grouped by consecutive gaps of at most 5% in compute, so 1,000 runs of
    log-uniform N and D made one 'IsoFLOP slice' of 748 runs over 2 decades of compute, with
    one parabola. Runs whose computes spread continuously are on no budget: no slice is drawn
    (every run coloured by its compute), and a DataWarning asks for budgets, which slice the
    IsoFLOP runs among them."""
    from matplotlib.collections import PathCollection
    from scalingfit import simulate
    from scalingfit._warnings import DataWarning

    law = simulate.as_law({"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366})
    rng = np.random.default_rng(0)
    N, D = 10 ** rng.uniform(7.5, 9.5, 1000), 10 ** rng.uniform(9.5, 11.5, 1000)
    with pytest.warns(DataWarning, match=r"^8\d\d of 1000 runs have computes C = 6ND spread continuously "
                                         r".* no IsoFLOP slice is drawn; pass budgets"):
        ax = plot.plot_isoflop_curves(N, D, law.loss(N, D)).axes[0]
    assert ax.get_title() == "no IsoFLOP slices (computes spread continuously: pass budgets)"
    (sc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(sc.get_offsets()) == 1000 and not ax.lines

    budgets = [1e19, 1e20, 1e21]
    iN, iD, iL = _isoflop_runs(law.as_dict(), budgets, n_sizes=7)
    sN, sD = 10 ** rng.uniform(8, 9, 200), 10 ** rng.uniform(10, 11, 200)  # 2e18 .. 6e20 FLOP
    aN, aD, aL = np.r_[iN, sN], np.r_[iD, sD], np.r_[iL, law.loss(sN, sD)]
    with pytest.warns(DataWarning, match="pass budgets"):
        ax = plot.plot_isoflop_curves(aN, aD, aL).axes[0]
    assert "no IsoFLOP slices" in ax.get_title()
    ax = plot.plot_isoflop_curves(aN, aD, aL, budgets=budgets).axes[0]  # no warning
    slices = [c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, PathCollection)]
    assert len(slices) == 3 and len([ln for ln in ax.lines if ln.get_marker() == "*"]) == 3
    for n, c in zip(slices, budgets):
        C = 6 * aN * aD
        assert len(n) >= 7 and np.all(np.abs(np.log(C[np.isin(aN, n)] / c)) <= np.log(1.05))

    # budgets read off a figure scatter by up to ~12% (Epoch's Chinchilla runs: 1.28x spans)
    # are still slices, without budgets and without a warning
    wN = iN * np.exp(np.tile(np.linspace(-0.12, 0.12, 7), 3))
    ax = plot.plot_isoflop_curves(wN, iD, law.loss(wN, iD)).axes[0]
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 3
