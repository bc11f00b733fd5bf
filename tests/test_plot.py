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
    with pytest.raises(ImportError, match=r"pip install scalingfit\[plot\]"):
        plot._plt()
