"""scalingfit.plot: every analysis writes a non-trivial PNG (Agg backend)."""

from __future__ import annotations

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

import matplotlib.pyplot as plt
from scalingfit import curves as cu
from scalingfit import emergence as em
from scalingfit import kaplan, plot
from scalingfit import testtime as tt


def _check(path) -> None:  # type: ignore[no-untyped-def]
    assert path.exists() and path.stat().st_size > 10_000, path
    plt.close("all")


def test_kaplan_plots(tmp_path) -> None:
    rng = np.random.default_rng(0)
    N = np.logspace(6, 9, 10)
    L = kaplan.loss_N(N) * (1 + 0.01 * rng.standard_normal(N.size))
    fit = kaplan.fit_power_law(N, L, n_resamples=100, seed=0)
    plot.plot_power_law(fit, N, L, path=tmp_path / "kaplan_L_of_N.png")
    _check(tmp_path / "kaplan_L_of_N.png")
    plot.plot_allocations(kaplan.compare_allocations(np.logspace(17, 26, 30)), path=tmp_path / "alloc.png")
    _check(tmp_path / "alloc.png")


def test_testtime_plots(tmp_path) -> None:
    k = np.unique(np.round(np.logspace(0, 3, 20)))
    covs = [np.exp(-0.5 * k ** -0.2), np.exp(-1.2 * k ** -0.35)]
    fits = tt.fit_coverage([k, k], covs, n_resamples=100, seed=0)
    plot.plot_coverage(fits, [k, k], covs, labels=["70B", "7B"], path=tmp_path / "coverage.png")
    _check(tmp_path / "coverage.png")
    ch = tt.choose_model(fits, [70e9, 7e9], np.logspace(13, 17, 60), 200.0)
    plot.plot_model_choice(ch, labels=["70B", "7B"], path=tmp_path / "choice.png")
    _check(tmp_path / "choice.png")


def test_emergence_plots(tmp_path) -> None:
    N = np.logspace(7, 12, 16)
    m = em.metrics_from_tokens(em.simulate_per_token(N, n_examples=300, seed=1))
    link, = em.fit_sigmoids([m["neg_log_likelihood"]], [m["exact_match"]], floor=0.0, ceiling=1.0,
                            n_resamples=100, seed=0)
    plot.plot_emergence(N, m["exact_match"], m["neg_log_likelihood"], link=link, scale_label="N",
                        thresholded_label="exact match", continuous_label="NLL",
                        path=tmp_path / "emergence.png")
    _check(tmp_path / "emergence.png")
    plot.plot_metric_choice(em.metric_choice(N, m), path=tmp_path / "metric_choice.png")
    _check(tmp_path / "metric_choice.png")


def test_curves_plot(tmp_path) -> None:
    out = []
    for i, total in enumerate((4000, 16000)):
        step = np.linspace(total / 50, total, 50)
        lr = cu.cosine_schedule(step, peak=1e-3, warmup=total / 20, total=total)
        S1, S2 = cu.lr_areas(step, lr)
        out.append(cu.Curve(f"run{i}", step, step * 2e6, (2.3 + 1.5 * (S1 / 1e3) ** -0.45) * (1 - 0.05 * S2), lr))
    p = cu.predict_final_loss(out, 0.25, n_resamples=100, seed=0)
    plot.plot_final_loss(out, p, path=tmp_path / "curves.png")
    _check(tmp_path / "curves.png")


def test_real_data_figures(tmp_path, shared_data) -> None:
    """The Pythia emergence figure and the OLMo-ladder early-checkpoint figure."""
    from scaling_data import ladder_curves, ladder_runs, pythia_lambada

    rows = [r for r in pythia_lambada() if r["model"] == "pythia-1.4b" and r["step"] > 0]
    nll_all = np.array([r["nll"] for r in pythia_lambada()])
    acc_all = np.array([r["acc"] for r in pythia_lambada()])
    link, = em.fit_sigmoids([nll_all], [acc_all], log_x=False, floor=0.0, ceiling=1.0, n_resamples=100, seed=0)
    plot.plot_emergence([r["step"] for r in rows], [r["acc"] for r in rows], [r["nll"] for r in rows],
                        link=link, scale_label="step (pythia-1.4b)", thresholded_label="LAMBADA accuracy",
                        continuous_label="LAMBADA NLL", path=tmp_path / "pythia_emergence.png")
    _check(tmp_path / "pythia_emergence.png")
    runs, cur = ladder_runs(), ladder_curves("c4_en")
    ten = [cu.Curve(r, cur[r]["step"], cur[r]["tokens"], cur[r]["loss"], cur[r]["lr"])
           for r in sorted(cur) if runs[r]["mult"] == 10]
    p = cu.predict_final_loss(ten, 0.25, n_resamples=100, seed=0)
    plot.plot_final_loss(ten, p, path=tmp_path / "olmo_curves.png")
    _check(tmp_path / "olmo_curves.png")


def test_missing_matplotlib_message(monkeypatch) -> None:
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):  # type: ignore[no-untyped-def]
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"pip install 'scalingfit\[plot\]'"):
        plot._plt()


def _sat(N: np.ndarray, E: float, A: float, alpha: float) -> np.ndarray:
    return E + A * N ** -alpha


def test_plot_fit_one_input_band_holds_the_truth(tmp_path) -> None:
    """A law of one input: the band drawn reaches x_max and holds the true curve over the
    data; the residual panel shows (y - f) / f in percent, f from the closed form."""
    import scalingfit

    rng = np.random.default_rng(3)
    N = np.logspace(7, 9, 30)
    truth = (1.7, 400.0, 0.34)
    y = _sat(N, *truth) * (1 + 0.01 * rng.standard_normal(N.size))
    b = scalingfit.bootstrap("saturating_power_law", N, y, n_resamples=300, seed=1, method="percentile")
    fig = plot.plot_fit(b, N, y, x_max=1e11, ylabel="loss", path=tmp_path / "fit.png")
    _check(tmp_path / "fit.png")
    left, right = fig.axes
    assert left.get_xscale() == "log" and right.get_xscale() == "log"
    (band,) = left.collections[:1]
    v = band.get_paths()[0].vertices
    assert v[:, 0].max() == pytest.approx(1e11) and v[:, 0].min() == pytest.approx(1e7)
    # the band's upper and lower edges at each grid point of the data's range
    g = np.unique(v[:, 0])
    g = g[g <= 1e9]
    lo = np.array([v[np.isclose(v[:, 0], t), 1].min() for t in g])
    hi = np.array([v[np.isclose(v[:, 0], t), 1].max() for t in g])
    inside = (lo <= _sat(g, *truth)) & (_sat(g, *truth) <= hi)
    assert inside.mean() > 0.9 and np.all(hi > lo)
    p = b.params
    f = _sat(N, p["E"], p["A"], p["alpha"])
    offs = right.collections[0].get_offsets()
    np.testing.assert_allclose(offs[:, 0], N)
    np.testing.assert_allclose(offs[:, 1], 100 * (y - f) / f, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::scalingfit.UncertaintyWarning")  # robust fits, stderr unused
def test_plot_fit_two_inputs_observed_against_fitted(tmp_path) -> None:
    """A law of N and D: observed against fitted (closed form), with log residuals for a fit
    of log residuals; a plain fit (no bootstrap) draws no band."""
    import scalingfit

    rng = np.random.default_rng(4)
    N = 10 ** rng.uniform(7.5, 10.5, 120)
    D = 10 ** rng.uniform(9.5, 12.0, 120)
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.01 * rng.standard_normal(120))
    r = scalingfit.fit("chinchilla_lse", (N, D), L, loss="huber", f_scale=1e-3, log_residuals=True)
    fig = plot.plot_fit(r, np.column_stack([N, D]), L, path=tmp_path / "nd.svg")
    assert (tmp_path / "nd.svg").read_text().lstrip().startswith("<?xml")
    left, right = fig.axes
    p = r.params
    f = np.exp(np.logaddexp(np.logaddexp(p["a"] - p["alpha"] * np.log(N), p["b"] - p["beta"] * np.log(D)), p["e"]))
    np.testing.assert_allclose(left.collections[0].get_offsets(), np.column_stack([f, L]), rtol=1e-9)
    np.testing.assert_allclose(right.collections[0].get_offsets()[:, 1], np.log(L) - np.log(f), atol=1e-9)
    assert right.get_ylabel() == "log y - log fit"
    # x as fit takes it, a tuple of columns: the same points (reshaping np.asarray((N, D))
    # paired N values with each other)
    cols = plot.plot_fit(r, (N, D), L)
    np.testing.assert_array_equal(cols.axes[0].collections[0].get_offsets(), left.collections[0].get_offsets())
    assert not any(type(c).__name__ == "PolyCollection" for c in left.collections)
    plt.close("all")


def test_plot_fit_refuses_what_it_cannot_draw() -> None:
    import scalingfit

    N = np.logspace(7, 9, 12)
    y = _sat(N, 1.7, 400.0, 0.34)
    r = scalingfit.fit("saturating_power_law", N, y)
    with pytest.raises(ValueError, match=r"x_max must be a finite number above the data's largest x \(1e\+09\)"):
        plot.plot_fit(r, N, y, x_max=1e8)
    with pytest.raises(ValueError, match="y has 11 points but x has 12"):
        plot.plot_fit(r, N, y[:-1])
    D = 20 * N
    with pytest.warns(scalingfit.IdentifiabilityWarning, match="nearly singular"):  # y ignores D
        r2 = scalingfit.fit("chinchilla", (N, D * np.linspace(1, 3, 12)), y + 0.1)
    with pytest.raises(ValueError, match="x_max extends a law of one input; chinchilla has inputs N, D"):
        plot.plot_fit(r2, np.column_stack([N, D * np.linspace(1, 3, 12)]), y + 0.1, x_max=1e12)
    with pytest.warns(scalingfit.ConvergenceWarning):
        bad = scalingfit.fit("saturating_power_law", N, y + 0.01 * np.sin(N), max_iter=1)
    assert not bad.success
    with pytest.raises(ValueError, match="the fit did not succeed"):
        plot.plot_fit(bad, N, y)
    plt.close("all")


def test_label_and_curve_counts_are_checked() -> None:
    """Too few labels was an IndexError after the figure was opened; fewer ks than fits were
    silently dropped by zip."""
    k = np.unique(np.round(np.logspace(0, 3, 20)))
    covs = [np.exp(-0.5 * k ** -0.2), np.exp(-1.2 * k ** -0.35)]
    fits = tt.fit_coverage([k, k], covs)
    n_open = len(plt.get_fignums())
    with pytest.raises(ValueError, match="labels has 1 entries for 2 curves"):
        plot.plot_coverage(fits, [k, k], covs, labels=["70B"])
    with pytest.raises(ValueError, match="2 fits, 1 ks and 2 coverages: one of each per curve"):
        plot.plot_coverage(fits, [k], covs)
    with pytest.raises(ValueError, match="labels has 3 entries for 2 curves"):
        plot.plot_model_choice(tt.choose_model(fits, [70e9, 7e9], np.logspace(13, 17, 5), 200.0),
                               labels=["a", "b", "c"])
    assert len(plt.get_fignums()) == n_open  # refused before a figure was opened


def test_empty_metric_and_task_plots_are_refused() -> None:
    """An empty metric choice was matplotlib's "Number of columns must be a positive integer",
    an empty list of task predictions an IndexError."""
    with pytest.raises(ValueError, match="metrics is empty"):
        em.metric_choice(np.logspace(6, 9, 8), {})
    with pytest.raises(ValueError, match="no task predictions to plot"):
        plot.plot_task_predictions([], [])
