"""Plots of the planning tools (matplotlib, imported only when a plot is made:
``pip install 'scalingfit[plot]'``). Each function draws on ``ax`` (or a new figure), saves to
``path`` when given (whole or not at all), and returns the matplotlib ``Figure``. No pyplot
state is touched. The two-panel plots (:func:`plot_inference_aware`, :func:`plot_data_wall`)
take a pair of axes as ``ax``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike

from ._common import (
    HOFFMANN_2022,
    SARDANA_2023,
    FloatArray,
    PathLike,
    as_law,
    check_positive,
    percentile_interval,
)
from .data_constrained import (
    MUENNIGHOFF_2023,
    DataConstrainedBootstrap,
    DataConstrainedLaw,
    LawLike,
    as_data_constrained_law,
    optimal_allocation_constrained,
    point_and_replicates,
)
from .data_wall import epochs_wall_compute
from .inference import inference_optimal

__all__ = ["plot_data_wall", "plot_frontier", "plot_inference_aware"]


def _figure(
    ax: Any, ncols: int = 1, size: tuple[float, float] = (6.4, 4.8)
) -> tuple[Any, list[Any]]:
    """The figure and its ``ncols`` axes: ``ax`` (one Axes, or a sequence of ``ncols``), else
    a new figure's."""
    try:
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("plots need matplotlib: pip install 'scalingfit[plot]'") from None
    if ax is not None:
        seq = isinstance(ax, (list, tuple, np.ndarray))
        axes = list(np.ravel(np.asarray(ax, dtype=object))) if seq else [ax]
        want = "one matplotlib Axes" if ncols == 1 else f"a pair of matplotlib Axes (the plot has {ncols} panels)"
        bad = [a for a in axes if not isinstance(a, Axes)]
        if bad:
            raise TypeError(f"ax must be {want}, got {type(bad[0]).__name__} {bad[0]!r}")
        if len(axes) != ncols:
            raise ValueError(f"ax must be {want}, got {len(axes)}")
        return axes[0].figure, axes
    fig = Figure(figsize=size, layout="constrained")
    return fig, list(np.atleast_1d(fig.subplots(1, ncols)))


def _runs(runs: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``runs = (N, D, loss)``: three arrays of one length, finite and > 0 (log axes)."""
    from ..plot import _points

    if isinstance(runs, (str, bytes)) or not hasattr(runs, "__len__") or len(runs) != 3:
        raise TypeError(f"runs must be a tuple (N, D, loss) of three arrays, got {runs!r}")
    rn = _points("runs[0]", runs[0], positive=True)
    rd = _points("runs[1]", runs[1], rn.shape[0], "runs[0]", positive=True)
    ry = _points("runs[2]", runs[2], rn.shape[0], "runs[0]", positive=True)
    return rn, rd, ry


def _log_range(name: str, bounds: Sequence[float], n: int) -> FloatArray:
    """``n`` log-spaced points between the two values of ``bounds`` (the x-axis range)."""
    b = check_positive(name, bounds)
    if b.shape != (2,) or b[0] == b[1]:
        raise ValueError(
            f"{name} is the plotted (log) axis range: two different values (low, high) are "
            f"needed, got {bounds!r}"
        )
    return np.asarray(np.logspace(np.log10(b.min()), np.log10(b.max()), n))


def _save(fig: Any, path: Optional[PathLike]) -> Any:
    if path is not None:
        from ..plot import write_figure

        write_figure(fig, path, dpi=120)  # a failed write leaves no half-written file
    return fig


def plot_frontier(
    law: Any = HOFFMANN_2022,
    *,
    compute: Sequence[float] = (1e18, 1e26),
    model_sizes: Sequence[float] = (1e8, 1e9, 1e10, 1e11),
    unique_tokens: Optional[float] = None,
    decay: LawLike = MUENNIGHOFF_2023,
    runs: Optional[tuple[ArrayLike, ArrayLike, ArrayLike]] = None,
    ax: Any = None,
    path: Optional[PathLike] = None,
) -> Any:
    """Loss against training compute: the compute-optimal frontier of ``law``, fixed-size
    curves ``L(N, C / 6N)`` for ``model_sizes``, optionally observed ``runs = (N, D, loss)``,
    and with ``unique_tokens`` the data-constrained frontier (``decay``'s ``R_D*, R_N*``) and
    the wall where the optimal token count reaches the stock. ``compute`` is the range of the
    x axis: ``(low, high)`` in FLOPs (a single budget is a ValueError: there is no curve to
    draw through one point). ``model_sizes`` may be one size; ``runs`` are finite and > 0.

    Parameters
    ----------
    law : Law, mapping or fit
        The Chinchilla law ``E + A / N^alpha + B / D^beta``, anything :func:`as_law` takes;
        default :data:`HOFFMANN_2022`.
    compute : (float, float)
        The x-axis range (low, high) in FLOP, both > 0 and different; default
        ``(1e18, 1e26)``.
    model_sizes : sequence of float
        Parameter counts (> 0) of the fixed-size curves; default ``(1e8, 1e9, 1e10, 1e11)``.
    unique_tokens : float, optional
        A stock of unique tokens (> 0): draws the data-constrained frontier and the 1-epoch
        data wall; None (default): neither.
    decay : DataConstrainedLaw or mapping
        Where ``R_D``, ``R_N`` of the data-constrained frontier come from (with ``law``'s
        other five values); used only with ``unique_tokens``. Default
        :data:`MUENNIGHOFF_2023`.
    runs : (N, D, loss), optional
        Observed runs drawn at ``C = 6 N D``: three arrays of one length, finite and > 0;
        None (default): none.
    ax : matplotlib Axes, optional
        Axes to draw into (anything else is a TypeError); None (default): a new figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, whole or not at all
        (:func:`scalingfit.plot.write_figure`); None (default): not saved.
    """
    lw = as_law(law)
    C = _log_range("compute", compute, 200)
    sizes = np.atleast_1d(check_positive("model_sizes", model_sizes))
    if sizes.ndim != 1:
        raise ValueError(f"model_sizes must be a list of parameter counts, got shape {sizes.shape}")
    if unique_tokens is not None:
        unique_tokens = float(check_positive("unique_tokens", unique_tokens, scalar=True))
        dlaw = as_data_constrained_law(decay, "decay")
    run_cols = None if runs is None else _runs(runs)
    fig, (a,) = _figure(ax)
    for n in sizes:
        a.plot(C, lw.loss(n, C / (6 * n)), color="0.75", lw=0.8)
        a.annotate(
            f"N={n:.0e}",
            (C[-1], float(lw.loss(n, C[-1] / (6 * n)))),
            fontsize=7,
            color="0.5",
            ha="right",
            va="bottom",
        )
    a.plot(C, lw.optimal_loss(C), color="C0", lw=2, label="compute-optimal frontier")
    if unique_tokens is not None:
        dc = DataConstrainedLaw(
            **{k: float(v) for k, v in lw.as_dict().items()}, R_D=dlaw.R_D, R_N=dlaw.R_N
        )
        opt = optimal_allocation_constrained(C, unique_tokens, dc)
        a.plot(
            C,
            opt.loss,
            color="C3",
            lw=2,
            ls="--",
            label=f"data-constrained, U = {unique_tokens:.2g} tokens",
        )
        c1 = float(epochs_wall_compute(unique_tokens, 1.0, dc))
        a.axvline(c1, color="C3", lw=0.8, ls=":")
        a.text(
            c1,
            0.98,
            " data wall (1 epoch)",
            transform=a.get_xaxis_transform(),
            fontsize=8,
            color="C3",
            rotation=90,
            ha="right",
            va="top",
        )
    if run_cols is not None:
        rn, rd, ry = run_cols
        a.scatter(6 * rn * rd, ry, s=12, color="k", zorder=3, label="runs")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("training compute C = 6ND (FLOP)")
    a.set_ylabel("loss")
    a.set_title("Loss vs compute")
    a.legend(fontsize=8)
    return _save(fig, path)


def plot_inference_aware(
    target_loss: float,
    *,
    inference_tokens: Sequence[float] = (1e9, 1e16),
    law: Any = SARDANA_2023,
    ax: Any = None,
    path: Optional[PathLike] = None,
) -> Any:
    """The inference-aware optimum against lifetime inference demand: parameters and tokens
    per parameter (left), lifetime FLOPs saved against the Chinchilla-optimal model of the
    same loss (right). ``inference_tokens`` is the range of the x axis: ``(low, high)``, both
    > 0 (a log axis; a single value is a ValueError: there is no curve through one point).
    ``ax``, when given, is a pair of axes, one per panel.

    Parameters
    ----------
    target_loss : float
        The loss the model must reach, as :func:`inference_optimal` (above the law's ``E``).
    inference_tokens : (float, float)
        The x-axis range of lifetime inference tokens, (low, high); default ``(1e9, 1e16)``.
    law : Law, mapping or fit
        The Chinchilla law, anything :func:`as_law` takes; default :data:`SARDANA_2023`.
    ax : pair of matplotlib Axes, optional
        Axes for the two panels (a TypeError or ValueError otherwise); None (default): a new
        figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, whole or not at all
        (:func:`scalingfit.plot.write_figure`); None (default): not saved.
    """
    D_inf = _log_range("inference_tokens", inference_tokens, 120)
    r = inference_optimal(target_loss, D_inf, law)
    fig, axes = _figure(ax, ncols=2, size=(10.0, 4.2))
    a0 = axes[0]
    a0.plot(D_inf, r.N, color="C0", label="parameters N")
    a0.axhline(float(r.chinchilla_N[0]), color="C0", ls=":", lw=0.8, label="Chinchilla-optimal N")
    a0.set_xscale("log")
    a0.set_yscale("log")
    a0.set_xlabel("lifetime inference tokens")
    a0.set_ylabel("parameters", color="C0")
    t = a0.twinx()
    t.plot(D_inf, r.tokens_per_param, color="C1", label="tokens per parameter")
    t.set_yscale("log")
    t.set_ylabel("training tokens per parameter", color="C1")
    a0.set_title(f"Lifetime-optimal model for loss {target_loss:g}")
    a0.legend(fontsize=8, loc="upper left")
    a1 = axes[1]
    a1.plot(D_inf, 100 * r.saving_fraction, color="C2")
    a1.set_xscale("log")
    a1.set_xlabel("lifetime inference tokens")
    a1.set_ylabel("lifetime FLOPs saved vs Chinchilla-optimal (%)")
    a1.set_title("Saving")
    return _save(fig, path)


def plot_data_wall(
    unique_tokens: float,
    law: Optional[LawLike] = None,
    *,
    samples: Optional[Union[LawLike, DataConstrainedBootstrap]] = None,
    epochs: Sequence[float] = (1, 4, 16),
    span: float = 1e4,
    level: float = 0.95,
    ax: Any = None,
    path: Optional[PathLike] = None,
) -> Any:
    """Optimal model size (left) and epochs (right) against compute for a stock of
    ``unique_tokens``: Chinchilla (unlimited data) vs data-constrained, the compute at which
    ``epochs`` epochs become optimal marked, and percentile bands over ``samples`` replicates
    (a law with array fields, or a :func:`bootstrap_data_constrained` result, as for
    :func:`data_wall`). Without ``law``, the bootstrap's point fit when ``samples`` is one,
    else :data:`MUENNIGHOFF_2023` (as for :func:`data_wall`).
    The compute axis runs from 1/100 of the no-repetition wall to ``span`` times it.
    ``ax``, when given, is a pair of axes, one per panel.

    Parameters
    ----------
    unique_tokens : float
        The stock of unique tokens (> 0).
    law : DataConstrainedLaw or mapping, optional
        The point law (``E, A, B, alpha, beta, R_D, R_N``); None (default): as above.
    samples : DataConstrainedLaw, mapping or DataConstrainedBootstrap, optional
        Replicates of the law for the bands; None (default): no bands.
    epochs : sequence of float
        Epoch counts (> 0) whose walls (:func:`epochs_wall_compute`) are marked; default
        ``(1, 4, 16)``.
    span : float
        How far the compute axis runs past the no-repetition wall, as a factor (> 0.01);
        default 1e4.
    level : float
        The bands' level, in (0, 1); default 0.95.
    ax : pair of matplotlib Axes, optional
        Axes for the two panels (a TypeError or ValueError otherwise); None (default): a new
        figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, whole or not at all
        (:func:`scalingfit.plot.write_figure`); None (default): not saved.
    """
    from ..bootstrap import _finite_level as _level

    law, samples = point_and_replicates(law, samples, "samples")
    level = _level(level)
    unique_tokens = float(check_positive("unique_tokens", unique_tokens, scalar=True))
    ep = np.atleast_1d(check_positive("epochs", epochs))
    if ep.ndim != 1:
        raise ValueError(f"epochs must be a list of epoch counts, got shape {ep.shape}")
    span = float(check_positive("span", span, scalar=True))
    if not span > 1e-2:
        raise ValueError(
            f"span must be > 0.01: the compute axis runs from 1/100 of the no-repetition wall to "
            f"span times it, got {span!r}"
        )
    with np.errstate(over="ignore"):  # the no-repetition wall (epochs_wall_compute at 1 epoch)
        c1 = float(6.0 * law.chinchilla.n_for_data(unique_tokens) * unique_tokens)
        top = c1 * span
    if not c1 > 0:
        raise ValueError(
            f"unique_tokens = {unique_tokens:g}: its no-repetition wall rounds to 0 FLOP (below "
            "float64's smallest value); give a larger unique_tokens"
        )
    if not np.isfinite(top):
        raise ValueError(
            f"unique_tokens = {unique_tokens:g} with span = {span:g}: the compute axis (span times "
            f"the no-repetition wall, {c1:.3g} FLOP) passes the largest float; give a smaller "
            "unique_tokens or span"
        )
    fig, axes = _figure(ax, ncols=2, size=(10.0, 4.2))
    C = np.logspace(np.log10(c1) - 2, np.log10(top), 90)
    opt = optimal_allocation_constrained(C, unique_tokens, law)
    a0, a1 = axes
    a0.plot(C, opt.chinchilla_N, color="0.5", ls=":", label="Chinchilla (unlimited unique data)")
    a0.plot(C, opt.N, color="C0", label="data-constrained optimum")
    a1.plot(C, opt.epochs, color="C1", label="optimal epochs")
    if samples is not None:
        so = optimal_allocation_constrained(C[:, None], unique_tokens, samples)
        for a, v, col in ((a0, so.N, "C0"), (a1, so.epochs, "C1")):
            lo, hi = percentile_interval(v, level, axis=1)
            a.fill_between(C, lo, hi, color=col, alpha=0.25, lw=0, label=f"{100 * level:g}% band")
    ck = epochs_wall_compute(unique_tokens, ep, law)
    for k, c in zip(ep, np.atleast_1d(ck)):
        if np.isfinite(c):
            for a in (a0, a1):
                a.axvline(c, color="C3", lw=0.8, ls="--")
            a1.annotate(f"{k:g} ep", (c, float(k)), fontsize=8, color="C3", ha="right", va="bottom")
    for a in (a0, a1):
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("training compute (FLOP)")
    a0.set_ylabel("parameters N")
    a1.set_ylabel("epochs over the unique tokens")
    a0.set_title(f"Data wall: U = {unique_tokens:.3g} unique tokens")
    a0.legend(fontsize=8)
    a1.legend(fontsize=8)
    return _save(fig, path)
