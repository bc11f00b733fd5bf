"""The plots leave no pyplot state and no half-written files, and refuse what they cannot draw
faithfully with errors that name the argument (an audit's findings, one test per kind)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt
import scalingfit
from matplotlib.figure import Figure
from scalingfit import _bench, kaplan, planning, plot
from scalingfit import testtime as tt
from scalingfit.cli import main

LAW = {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}
N = np.logspace(7, 9, 12)
Y = 1.7 + 400.0 * N**-0.34 * (1 + 0.005 * np.sin(np.arange(12)))


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    return {
        "fit": scalingfit.fit("saturating_power_law", N, Y),
        "boot": scalingfit.bootstrap("saturating_power_law", N, Y, n_resamples=30, seed=1,
                                     method="percentile"),
    }


def _isoflop(budgets: Any = (1e19, 1e20, 1e21), n_sizes: int = 7) -> tuple[np.ndarray, ...]:
    from scalingfit import simulate

    s = simulate.isoflop_sweep(LAW, np.asarray(budgets, dtype=float), n_sizes=n_sizes, noise=0.002, seed=0)
    return s.N, s.D, s.loss


def _samples(n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.array([LAW[k] for k in ("E", "A", "B", "alpha", "beta")]) * (1 + 0.02 * rng.standard_normal((n, 5)))


@pytest.fixture
def no_pyplot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if a plot opens a pyplot figure or switches the backend."""
    def refuse(*a: Any, **k: Any) -> None:
        raise AssertionError("pyplot or matplotlib.use was called")

    for name in ("figure", "subplots", "close"):
        monkeypatch.setattr(plt, name, refuse)
    monkeypatch.setattr(mpl, "use", refuse)


# ------------------------------------------------------------------ 1. no pyplot state
def test_plots_leave_no_open_figure_and_keep_the_backend(tmp_path: Path, fits: dict[str, Any],
                                                         no_pyplot: None) -> None:
    backend, before = mpl.get_backend(), plt.get_fignums()
    made = []
    for _ in range(3):
        made.append(plot.plot_fit(fits["boot"], N, Y, x_max=1e10))
        made.append(plot.plot_fit(fits["fit"], N, Y))
    iN, iD, iL = _isoflop()
    made += [
        plot.plot_compute_frontier(iN, iD, iL, LAW, _samples()),
        plot.plot_isoflop_curves(iN, iD, iL, LAW),
        plot.plot_loss_surface(iN, iD, iL, LAW),
        plot.plot_exponent_distributions(_samples(), truth=LAW),
        plot.plot_extrapolation_band(N, Y, "saturating_power_law", fits["boot"].x, fits["boot"].samples,
                                     np.logspace(7, 11, 20)),
        planning.plot_frontier(),
        planning.plot_inference_aware(2.2),
        planning.plot_data_wall(1e10),
    ]
    with pytest.raises(ValueError):  # a figure half-drawn before an error is not left open either
        plot.plot_fit(fits["fit"], N, Y, x_max=1e3)
    assert plot.save(made[-1], tmp_path / "wall", formats=("png", "svg"))
    _, curves = _bench.plot_scaling(str(tmp_path / "scaling.png"), threads=1, quick=True)
    assert (tmp_path / "scaling.png").stat().st_size > 1000 and list(curves) == [1]
    assert all(isinstance(f, Figure) for f in made)
    assert plt.get_fignums() == before and mpl.get_backend() == backend


# ------------------------------------------------------------------ 2. all-or-nothing writes
def _failing_savefig(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Figure.savefig writes a few bytes to its file, then fails as a full disk would."""
    seen: list[str] = []

    def savefig(self: Figure, fname: Any, *a: Any, **k: Any) -> None:
        seen.append(str(fname))
        with open(fname, "wb") as f:
            f.write(b"%PDF-1.4 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", savefig)
    return seen


def test_a_failed_write_leaves_no_file(tmp_path: Path, fits: dict[str, Any],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fig = planning.plot_frontier()
    seen = _failing_savefig(monkeypatch)
    writes = [
        lambda: plot.plot_fit(fits["fit"], N, Y, path=tmp_path / "fit.pdf"),
        lambda: plot.plot_power_law(kaplan.fit_power_law(N, Y), N, Y, path=tmp_path / "pl.svg"),
        lambda: plot.save(fig, tmp_path / "saved", formats=("png", "svg")),
        lambda: plot.write_figure(fig, tmp_path / "w.pdf"),
        lambda: planning.plot_frontier(path=tmp_path / "frontier.pdf"),
        lambda: planning.plot_data_wall(1e10, path=tmp_path / "wall.svg"),
        lambda: planning.plot_inference_aware(2.2, path=tmp_path / "inf.png"),
        lambda: _bench.plot_scaling(str(tmp_path / "scaling.pdf"), threads=1, quick=True),
    ]
    for write in writes:
        with pytest.raises(OSError, match="No space left"):
            write()
        assert list(tmp_path.iterdir()) == [], seen[-1]
    assert len(seen) == len(writes) and all(Path(s).parent == tmp_path for s in seen)
    # the command line: exit status 1 and nothing at --plot
    assert main(["bench", "--plot", str(tmp_path / "s.png"), "--quick"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_concurrent_writes_of_one_path_both_succeed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers of one path shared the temporary name '.NAME.partial': one renamed the
    file the other was still writing, whose rename then failed (FileNotFoundError). Each
    savefig here waits for the other to have written its temporary file, so the two overlap
    every time."""
    import threading

    fig = planning.plot_frontier()
    barrier = threading.Barrier(2)
    seen: list[Path] = []
    real = Figure.savefig

    def savefig(self: Figure, fname: Any, *args: Any, **kwargs: Any) -> None:
        real(self, fname, *args, **kwargs)
        seen.append(Path(fname))
        barrier.wait(timeout=60)  # both temporary files exist before either is renamed

    monkeypatch.setattr(Figure, "savefig", savefig)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            plot.write_figure(fig, tmp_path / "same.png")
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(seen)) == 2 and all(s.parent == tmp_path for s in seen), seen  # own names, same folder
    assert [p.name for p in tmp_path.iterdir()] == ["same.png"]  # no temporary file left
    data = (tmp_path / "same.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[-8:-4] == b"IEND"
    assert plt.imread(tmp_path / "same.png").ndim == 3


def test_a_good_write_leaves_only_the_figure(tmp_path: Path) -> None:
    fig = planning.plot_frontier(path=tmp_path / "f.pdf")
    assert [p.name for p in tmp_path.iterdir()] == ["f.pdf"]
    assert (tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"
    buf = io.BytesIO()  # a file object is written directly
    plot.write_figure(fig, buf, "svg")
    assert buf.getvalue().lstrip().startswith(b"<?xml")
    assert plot.write_figure(fig, tmp_path / "plain") == tmp_path / "plain.png"  # matplotlib's default
    with pytest.raises(ValueError, match=r"'\.xyz' is not a figure format matplotlib writes; one of .*png"):
        plot.write_figure(fig, tmp_path / "f.xyz")
    with pytest.raises(FileNotFoundError, match="the folder .*nope does not exist"):
        plot.write_figure(fig, tmp_path / "nope" / "f.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "plain.png"]


# ------------------------------------------------------------------ 3. save's formats
def test_save_takes_the_format_from_the_suffix_and_checks_formats_first(tmp_path: Path) -> None:
    fig = planning.plot_frontier()
    assert plot.save(fig, tmp_path / "out" / "run.v2") == [tmp_path / "out" / "run.v2.png"]
    assert plot.save(fig, tmp_path / "fig.svg") == [tmp_path / "fig.svg"]
    assert (tmp_path / "fig.svg").read_text().lstrip().startswith("<?xml")
    assert plot.save(fig, tmp_path / "g", formats="svg") == [tmp_path / "g.svg"]  # one format, not 3 letters
    assert plot.save(fig, tmp_path / "two.svg", formats=("png", ".SVG")) == [tmp_path / "two.png",
                                                                          tmp_path / "two.svg"]
    assert (tmp_path / "two.png").read_bytes()[:4] == b"\x89PNG"
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ValueError, match=r"formats\[1\] 'xyz' is not a figure format"):
        plot.save(fig, tmp_path / "h", formats=("png", "xyz"))
    with pytest.raises(ValueError, match="formats is empty"):
        plot.save(fig, tmp_path / "h", formats=())
    with pytest.raises(TypeError, match=r"formats\[0\] must be a format name"):
        plot.save(fig, tmp_path / "h", formats=(3,))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written before the error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["run.v2.png"]


# ------------------------------------------------------------------ 4. no silently wrong plot
def test_nan_and_nonpositive_points_are_refused(fits: dict[str, Any]) -> None:
    r = fits["fit"]
    with pytest.raises(ValueError, match=r"x must be finite; x has 1 non-finite value\(s\), the first at row 11"):
        plot.plot_fit(r, np.r_[N[:-1], np.nan], Y)
    with pytest.raises(ValueError, match="y must be finite; .* the first at index 3: inf"):
        plot.plot_fit(r, N, np.where(np.arange(12) == 3, np.inf, Y))
    pl = kaplan.fit_power_law(N, Y)
    with pytest.raises(ValueError, match=r"x must be finite and > 0; x\[0\] = nan"):
        plot.plot_power_law(pl, np.r_[np.nan, N[1:]], Y)
    with pytest.raises(ValueError, match=r"L must be finite and > 0; L\[2\] = -1.0"):
        plot.plot_power_law(pl, N, np.where(np.arange(12) == 2, -1.0, Y))
    for bad in (np.nan, -5.0):
        with pytest.raises(ValueError, match="extrapolate must be finite and >= 0"):
            plot.plot_power_law(pl, N, Y, extrapolate=bad)
    with pytest.raises(ValueError, match=r"extrapolate = 1000000.0 decades beyond the largest value \(1e\+09\) passes"):
        plot.plot_power_law(pl, N, Y, extrapolate=1e6)  # drew 1 of 200 curve points
    iN, iD, iL = _isoflop()
    with pytest.raises(ValueError, match=r"N must be finite and > 0; N\[3\] = nan"):
        plot.plot_compute_frontier(np.where(np.arange(iN.size) == 3, np.nan, iN), iD, iL, LAW)
    with pytest.raises(ValueError, match=r"runs\[2\] must be finite and > 0; runs\[2\]\[1\] = -1.0"):
        planning.plot_frontier(runs=(iN[:4], iD[:4], [2.0, -1.0, 2.0, 2.0]))
    with pytest.raises(ValueError, match=r"runs\[1\] has 3 points but runs\[0\] has 4"):
        planning.plot_frontier(runs=(iN[:4], iD[:3], iL[:4]))
    # the valid plot draws the whole curve and every point
    fig = plot.plot_fit(r, N, Y)
    curve = fig.axes[0].lines[0].get_xydata()
    assert curve.shape == (300, 2) and np.isfinite(curve).all()


# ------------------------------------------------------------------ 5. IsoFLOP budgets
def test_isoflop_budgets_take_only_runs_within_five_percent() -> None:
    from matplotlib.collections import PathCollection

    iN, iD, iL = _isoflop(n_sizes=7)
    ax = plot.plot_isoflop_curves(iN, iD, iL, LAW, budgets=[1e19]).axes[0]
    (sc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(sc.get_offsets()) == 7 and sc.get_label() == "C = 1.0e+19"
    np.testing.assert_allclose(6 * sc.get_offsets()[:, 0] * iD[:7], 1e19, rtol=0.05)
    with pytest.raises(ValueError, match=r"budgets\[1\] = 3e\+19: 0 run\(s\) have a compute C = 6ND within 5%"):
        plot.plot_isoflop_curves(iN, iD, iL, budgets=[1e19, 3e19])
    with pytest.raises(ValueError, match=r"budgets must be finite and > 0; budgets\[0\] = -1e\+19"):
        plot.plot_isoflop_curves(iN, iD, iL, budgets=[-1e19])
    with pytest.raises(ValueError, match="budgets must be a non-empty list"):
        plot.plot_isoflop_curves(iN, iD, iL, budgets=[])
    with pytest.raises(ValueError, match=r"N must be finite and > 0; N\[0\] = nan"):
        plot.plot_isoflop_curves(np.r_[np.nan, iN[1:]], iD, iL)


def test_curves_a_log_axis_cannot_show_are_named_not_dropped() -> None:
    """A frontier or extrapolation <= 0 vanished from the log loss axis with no word, and
    all-NaN samples left a legend entry for a band that was not drawn (an 'All-NaN slice'
    RuntimeWarning the only sign); an unsorted x_new drew the fitted line as a zigzag. Now a
    curve with nothing to show is an error naming it, a part left out is a DataWarning saying
    where (the line has gaps there, the band no fill), and x_new is drawn in order."""
    from scalingfit._warnings import DataWarning

    iN, iD, iL = _isoflop()
    S = _samples()
    with pytest.raises(ValueError, match=r"params' compute-optimal frontier L_opt\(C\) is <= 0 or not finite "
                                         r"at every point \(C from 3\.\d+e\+18 to 1e\+23\)"):
        plot.plot_compute_frontier(iN, iD, iL, {**LAW, "E": -5.0})
    with pytest.raises(ValueError, match=r"samples has no row of finite values \(5 rows\): no band to draw"):
        plot.plot_compute_frontier(iN, iD, iL, LAW, np.full((5, 5), np.nan))
    with pytest.warns(DataWarning, match=r"frontier L_opt\(C\) is <= 0 or not finite at (\d+) of 120 points "
                                         r"\(C from .* to 1e\+23\), which a log axis cannot show: left out") as w:
        ax = plot.plot_compute_frontier(iN, iD, iL, {**LAW, "E": -0.6}).axes[0]
    y = ax.lines[0].get_ydata()
    assert f" {np.isnan(y).sum()} of 120 points" in str(w[0].message) and 0 < np.isnan(y).sum() < 120
    assert np.all(y[~np.isnan(y)] > 0)
    Sneg = S.copy()
    Sneg[:, 0] = -0.6
    with pytest.warns(DataWarning, match=r"the 90% bootstrap band of samples is <= 0 or not finite at \d+ of 120"):
        plot.plot_compute_frontier(iN, iD, iL, LAW, np.r_[Sneg, np.full((3, 5), np.nan)])

    with pytest.raises(ValueError, match=r"the fitted saturating_power_law of params is <= 0 or not finite at every "
                                         r"point \(x_new from 1e\+10 to 1e\+13\)"):
        plot.plot_extrapolation_band(N, Y, "saturating_power_law", [-3, 400, 0.34], [[1.7, 400, 0.34]] * 3,
                                     np.logspace(10, 13, 50))
    with pytest.warns(DataWarning, match=r"the fitted saturating_power_law of params is <= 0 or not finite at "
                                         r"\d+ of 50 points \(x_new from .* to 1e\+20\)"):
        ax = plot.plot_extrapolation_band(N, Y, "saturating_power_law", [-0.01, 400, 0.34],
                                          [[1.7, 400, 0.34]] * 3, np.logspace(8, 20, 50)).axes[0]
    assert 0 < np.isnan(ax.lines[0].get_ydata()).sum() < 50
    ax = plot.plot_extrapolation_band(N, Y, "saturating_power_law", [1.7, 400, 0.34], [[1.7, 400, 0.34]] * 3,
                                      [1e11, 1e9, 1e10, 1e12]).axes[0]
    assert list(ax.lines[0].get_xdata()) == [1e9, 1e10, 1e11, 1e12]


# ------------------------------------------------------------------ 6. two-panel plots
def test_two_panel_planning_plots_need_a_pair_of_axes() -> None:
    one = Figure().subplots()
    for draw in (lambda ax: planning.plot_data_wall(1e10, ax=ax),
                 lambda ax: planning.plot_inference_aware(2.2, ax=ax)):
        with pytest.raises(ValueError, match=r"ax must be a pair of matplotlib Axes \(the plot has 2 panels\), got 1"):
            draw(one)
        pair = Figure().subplots(1, 2)
        fig = draw(pair)
        assert fig is pair[0].figure and all(a.lines for a in pair)
    assert not one.lines


# ------------------------------------------------------------------ 7. errors that name the argument
def test_plot_fit_names_bad_arguments(fits: dict[str, Any]) -> None:
    r = fits["fit"]
    for bad in ("abc", None):
        with pytest.raises(TypeError, match="result must be what scalingfit.fit or scalingfit.bootstrap returned"):
            plot.plot_fit(bad, N, Y)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="x_max must be a number, got str '1e10'"):
        plot.plot_fit(r, N, Y, x_max="1e10")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x is empty: no points to plot"):
        plot.plot_fit(r, [], [])
    with pytest.raises(ValueError, match="kind must be 'confidence' or 'prediction', got 'foo'"):
        plot.plot_fit(r, N, Y, kind="foo")
    for bad in (2, np.nan):
        with pytest.raises(ValueError, match=r"level must be (in \(0, 1\)|finite)"):
            plot.plot_fit(r, N, Y, level=bad)
    with pytest.raises(ValueError, match="fits is empty: no curves to plot"):
        plot.plot_coverage([], [], [])
    k = np.unique(np.round(np.logspace(0, 3, 12)))
    cov = np.exp(-0.5 * k**-0.2)
    (cf,) = tt.fit_coverage([k], [cov])
    with pytest.raises(ValueError, match=r"coverages\[0\] has 11 points but ks\[0\] has 12"):
        plot.plot_coverage([cf], [k], [cov[:-1]])
    with pytest.raises(ValueError, match=r"scale must be finite and > 0; scale\[0\] = -10000000.0 \(12 bad values\)"):
        plot.plot_emergence(-N, np.linspace(0, 1, 12), Y)
    with pytest.raises(ValueError, match="thresholded has 11 points but scale has 12"):
        plot.plot_emergence(N, np.linspace(0, 1, 11), Y)


def test_chinchilla_plots_name_bad_arguments(fits: dict[str, Any]) -> None:
    iN, iD, iL = _isoflop()
    S = _samples()
    partial = {k: v for k, v in LAW.items() if k != "beta"}
    cases: list[tuple[Any, type[Exception], str]] = [
        (lambda: plot.plot_compute_frontier(iN, iD, iL, partial), ValueError, "params lacks beta"),
        (lambda: plot.plot_compute_frontier(iN, iD, iL, LAW, S[:, :3]), ValueError,
         r"samples must have 5 columns \(E, A, B, alpha, beta\), one row per parameter set, got shape \(40, 3\)"),
        (lambda: plot.plot_compute_frontier(iN, iD, iL, LAW, np.c_[S, S[:, 0]]), ValueError,
         r"samples must have 5 columns .* got shape \(40, 6\)"),
        (lambda: plot.plot_compute_frontier(iN, iD, iL, LAW, S, level=2), ValueError, r"level must be in \(0, 1\)"),
        (lambda: plot.plot_compute_frontier(iN, iD, iL, LAW, S, level=np.nan), ValueError, "level must be finite"),
        (lambda: plot.plot_compute_frontier(iN, iD, iL, LAW, C_range=(1e18, 1e20, 1e22)), ValueError,
         r"C_range is the x axis: two values \(low, high\)"),
        (lambda: plot.plot_compute_frontier(iN, iD[:-1], iL, LAW), ValueError,
         f"D has {iN.size - 1} points but N has {iN.size}"),
        (lambda: plot.plot_loss_surface(iN, iD, iL, None), TypeError,
         "params must be a mapping of E, A, B, alpha, beta or rows of those 5 values, got None"),
        (lambda: plot.plot_extrapolation_band(iN, iL, "chinchilla", [1, 2, 3, 0.3, 0.3], S, N), ValueError,
         "model 'chinchilla' has inputs N, D: the extrapolation band is drawn for a law of one input"),
        (lambda: plot.plot_extrapolation_band(N, Y, "saturating_power_law", fits["boot"].x,
                                              fits["boot"].samples[:, 0], N), ValueError,
         r"samples must have shape \(R, 3\)"),
        (lambda: plot.plot_extrapolation_band(N, Y, "saturating_power_law", fits["boot"].x,
                                              np.full((5, 3), np.nan), N), ValueError,
         "samples has no row of finite values"),
        (lambda: plot.plot_exponent_distributions(np.full((5, 5), np.nan)), ValueError,
         r"samples has no finite alpha value \(5 rows\)"),
        (lambda: plot.plot_exponent_distributions(np.empty((0, 5))), ValueError, r"samples is empty \(shape \(0, 5\)\)"),
    ]
    for call, exc, message in cases:
        with pytest.raises(exc, match=message):
            call()


def test_planning_plots_name_bad_arguments() -> None:
    one = Figure().subplots()
    cases: list[tuple[Any, type[Exception], str]] = [
        (lambda: planning.plot_frontier(ax=[]), ValueError, "ax must be one matplotlib Axes, got 0"),
        (lambda: planning.plot_frontier(ax="a"), TypeError, "ax must be one matplotlib Axes, got str 'a'"),
        (lambda: planning.plot_frontier(runs=[1.0, 2.0]), TypeError, r"runs must be a tuple \(N, D, loss\)"),
        (lambda: planning.plot_data_wall(1e300), ValueError,
         r"unique_tokens = 1e\+300 with span = 10000: the compute axis"),
        (lambda: planning.plot_data_wall(1e10, span=1e300), ValueError, r"unique_tokens = 1e\+10 with span = 1e\+300"),
        (lambda: planning.plot_data_wall(1e10, epochs=("a",)), TypeError, "epochs must be a number"),
        (lambda: planning.plot_data_wall(1e10, level=2), ValueError, r"level must be in \(0, 1\)"),
        (lambda: planning.plot_data_wall(1e10, ax=[one, "b"]), TypeError, "ax must be a pair of matplotlib Axes"),
    ]
    for call, exc, message in cases:
        with pytest.raises(exc, match=message):
            call()
    # one model size is one curve (it was "'float' object is not iterable")
    assert len(planning.plot_frontier(model_sizes=1e9).axes[0].lines) == 2


# ------------------------------------------------------------------ 8. the benchmark harness
def test_bench_arguments_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="min_time must be finite and > 0"):
            _bench.scaling_curve([10], [1], min_time=bad)
    with pytest.raises(ValueError, match="batch_sizes is empty: nothing to time"):
        _bench.scaling_curve([])
    with pytest.raises(ValueError, match=r"batch_sizes\[1\] must be a positive integer, got 0"):
        _bench.scaling_curve([1, 0])
    with pytest.raises(ValueError, match="cases must name some of P1, P2, P3, P4, bulk, got 'P9'"):
        _bench.core_suite(cases=("P9",))
    with pytest.raises(ValueError, match="threads must be at most 4096"):
        _bench.core_suite(threads=100000, cases=("P1",))
    for argv, message in (
        (["--threads", "100000"], "--threads must be at most 4096, got 100000"),
        (["--cuda", "--plot", "x.png"], "--plot: no effect with --cuda"),
        (["--cuda", "--bulk-sweeps", "5"], "--bulk-sweeps: no effect with --cuda"),
        (["--plot", "x.png", "--bulk-sweeps", "5"], "--bulk-sweeps sizes the table's bulk case and has no effect with --plot"),
    ):
        assert main(["bench", *argv]) == 2, argv
        assert message in capsys.readouterr().err
