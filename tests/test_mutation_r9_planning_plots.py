"""Mutation round 9, planning/plots.py: what the frontier plot draws, read back from its
artists, against Hoffmann et al.'s closed forms computed here (eq. 4 for the compute-optimal
N and D; L = E + A / N^alpha + B / D^beta), and the keyword-only signature the docs give
(``law`` first, by position or by name; everything else by name)."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import planning as P

pytest.importorskip("matplotlib")

H = dict(P.HOFFMANN_2022)


def _loss(N: np.ndarray, D: np.ndarray) -> np.ndarray:
    return H["E"] + H["A"] / N ** H["alpha"] + H["B"] / D ** H["beta"]


def _optimal_loss(C: np.ndarray) -> np.ndarray:
    a, b, s = H["alpha"], H["beta"], H["alpha"] + H["beta"]
    G = (a * H["A"] / (b * H["B"])) ** (1 / s)
    c = C / 6
    return _loss(G * c ** (b / s), c ** (a / s) / G)


def test_frontier_lines_are_the_closed_forms() -> None:
    fig = P.plot_frontier(law=H, compute=(1e19, 1e25), model_sizes=(1e9, 1e10))
    (ax,) = fig.axes
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    front = lines["compute-optimal frontier"]
    C = np.asarray(front.get_xdata(), dtype=float)
    np.testing.assert_allclose(C[[0, -1]], [1e19, 1e25], rtol=1e-12)
    np.testing.assert_allclose(np.diff(np.log(C)), np.log(1e6) / (C.size - 1), rtol=1e-9)  # log-spaced
    np.testing.assert_allclose(front.get_ydata(), _optimal_loss(C), rtol=1e-12)
    fixed = [ln for ln in ax.get_lines() if ln.get_label().startswith("_")]
    assert len(fixed) == 2
    for n, ln in zip((1e9, 1e10), fixed):
        np.testing.assert_allclose(ln.get_ydata(), _loss(n, C / (6 * n)), rtol=1e-12)
        assert np.all(np.asarray(ln.get_ydata()) >= _optimal_loss(C) * (1 - 1e-12))  # the frontier is below
    # each fixed-size curve is labelled at its right end
    marks = {t.get_text(): t.xy for t in ax.texts}
    for n, name in ((1e9, "N=1e+09"), (1e10, "N=1e+10")):
        x, y = marks[name]
        assert x == pytest.approx(1e25, rel=1e-12)
        assert y == pytest.approx(float(_loss(n, 1e25 / (6 * n))), rel=1e-12)


def test_frontier_runs_are_drawn_at_six_n_d() -> None:
    N = np.array([1e8, 1e9, 1e10])
    D = np.array([2e9, 2e10, 2e11])
    y = _loss(N, D)
    fig = P.plot_frontier(H, runs=(N, D, y))
    (pts,) = fig.axes[0].collections
    np.testing.assert_allclose(pts.get_offsets(), np.column_stack([6 * N * D, y]), rtol=1e-12)


def test_frontier_takes_only_law_by_position() -> None:
    P.plot_frontier(law=H)  # by name, as documented
    with pytest.raises(TypeError):
        P.plot_frontier(H, (1e18, 1e26))  # the rest are keyword-only


def _wall_compute(law: P.DataConstrainedLaw, U: float) -> float:
    """6 N D at the compute whose optimal D (eq. 4) is U: (C / 6)^b / G = U."""
    a, b = float(law.alpha), float(law.beta)
    G = (a * float(law.A) / (b * float(law.B))) ** (1 / (a + b))
    c = (U * G) ** ((a + b) / a)
    return 6 * c


def test_data_wall_axis_runs_from_a_hundredth_of_the_wall_to_span_times_it() -> None:
    law = P.MUENNIGHOFF_2023
    fig = P.plot_data_wall(1e12, law, span=50.0)
    c1 = _wall_compute(law, 1e12)
    x = np.asarray(fig.axes[0].get_lines()[0].get_xdata(), dtype=float)
    np.testing.assert_allclose(x[[0, -1]], [c1 / 100, 50 * c1], rtol=1e-9)
    # the default epochs (1, 4, 16) are the ones marked on the right panel
    assert sorted(t.get_text() for t in fig.axes[1].texts) == sorted(["1 ep", "4 ep", "16 ep"])


def test_data_wall_of_a_stock_whose_wall_is_under_one_flop_is_drawn() -> None:
    # U = 1e-6 tokens: the no-repetition wall is ~1e-12 FLOP, a number (only 0 is refused)
    law = P.MUENNIGHOFF_2023
    c1 = _wall_compute(law, 1e-6)
    assert 0 < c1 < 1
    fig = P.plot_data_wall(1e-6, law, epochs=(1,))
    x = np.asarray(fig.axes[0].get_lines()[0].get_xdata(), dtype=float)
    assert x[0] == pytest.approx(c1 / 100, rel=1e-9)


def test_data_wall_span_must_exceed_a_hundredth() -> None:
    with pytest.raises(ValueError, match="span must be > 0.01"):
        P.plot_data_wall(1e12, span=0.01)  # the axis would be one point
    P.plot_data_wall(1e12, span=0.0101)


def test_data_wall_takes_law_by_position_and_the_rest_by_name() -> None:
    P.plot_data_wall(1e12, P.MUENNIGHOFF_2023)
    P.plot_data_wall(unique_tokens=1e12, law=P.MUENNIGHOFF_2023)
    with pytest.raises(TypeError):
        P.plot_data_wall(1e12, P.MUENNIGHOFF_2023, None)  # samples is keyword-only


def test_every_panel_names_its_log_x_axis() -> None:
    # the x axis is lifetime inference tokens (inference-aware) and compute (data wall), log scale
    for fig, what in ((P.plot_inference_aware(2.05), "inference tokens"), (P.plot_data_wall(1e12), "compute")):
        main = [a for a in fig.axes if a.get_xlabel()]
        assert len(main) == 2, [a.get_xlabel() for a in fig.axes]
        for a in main:
            assert what in a.get_xlabel() and a.get_xscale() == "log"
    assert "U = 1e+12 unique tokens" in P.plot_data_wall(1e12).axes[0].get_title()  # the stock drawn


@pytest.mark.parametrize("runs", ["abc", 5, (np.ones(3), np.ones(3))])
def test_runs_that_are_not_three_arrays_are_named(runs) -> None:
    with pytest.raises(TypeError, match=r"runs must be a tuple \(N, D, loss\) of three arrays"):
        P.plot_frontier(runs=runs)


def test_frontier_names_its_axes() -> None:
    a = P.plot_frontier().axes[0]
    assert "compute" in a.get_xlabel() and a.get_xscale() == "log" and a.get_ylabel() == "loss"
