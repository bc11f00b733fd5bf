"""Plots of the scaling analyses: data, fitted curve and interval band, on log axes.

matplotlib is an optional dependency (``pip install 'scalingfit[plot]'``); it is imported when a
plotting function is called. Every function draws into ``ax`` when one is given (or a new
figure), saves to ``path`` when one is given (whole or not at all: :func:`write_figure`), and
returns the matplotlib ``Figure``. Figures are made without pyplot, so none is left open and
the backend is never changed; a returned figure still displays in Jupyter. Data must be finite
(and > 0 on a log axis): a bad value is an error naming the argument and its index, never a
silently missing point or curve.

>>> import numpy as np
>>> from scalingfit import kaplan, plot
>>> N = np.logspace(6, 9, 8)
>>> fig = plot.plot_power_law(kaplan.fit_power_law(N, kaplan.loss_N(N)), N, kaplan.loss_N(N))  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .bootstrap import BootstrapResult
    from .compare import Comparison
    from .curves import Curve, FinalLossPrediction
    from .emergence import MetricChoice, SigmoidFit, TaskPrediction
    from .kaplan import AllocationComparison, PowerLawFit
    from .results import FitResult
    from .testtime import CoverageFit, ModelChoice

PathLike = Union[str, "Any"]

_PARTIAL = itertools.count()  # write_figure's temporary names: one per call in this process


def _plt() -> Any:
    """matplotlib's ``Figure`` class, or an ImportError that says how to install matplotlib.

    Figures are made as plain ``Figure`` objects, never through pyplot: none is left open
    (a loop of plots does not grow pyplot's list, an error half-way leaves nothing to close),
    the backend is never changed, and a returned figure still displays in Jupyter."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "scalingfit.plot needs matplotlib: pip install 'scalingfit[plot]' (or pip install matplotlib)"
        ) from exc
    return Figure


def _new_figure(size: tuple[float, float]) -> Figure:
    """A plain Figure (no pyplot): see :func:`_plt`."""
    return _plt()(figsize=size)  # type: ignore[no-any-return]


def _axes(ax: Optional[Axes], ncols: int = 1, size: tuple[float, float] = (5.0, 3.8)) -> tuple[Figure, Any]:
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__} {ax!r}")
        return ax.get_figure(), ax  # type: ignore[return-value]
    fig = _new_figure((size[0] * ncols, size[1]))
    axs = fig.subplots(1, ncols, squeeze=False)
    return fig, (axs[0, 0] if ncols == 1 else list(axs[0]))


def _formats() -> dict[str, str]:
    """The figure formats matplotlib writes, ``{suffix: description}``."""
    _plt()
    from matplotlib.backend_bases import FigureCanvasBase

    return FigureCanvasBase.get_supported_filetypes()


def _format(fmt: Any, name: str = "format") -> str:
    """``fmt`` (``"png"``, ``".svg"``) as a format matplotlib writes; a ValueError naming
    ``name`` and the known formats otherwise."""
    if not isinstance(fmt, str):
        raise TypeError(f"{name} must be a format name such as 'png', got {type(fmt).__name__} {fmt!r}")
    f = fmt.lower().lstrip(".")
    known = _formats()
    if f not in known:
        raise ValueError(f"{name} {fmt!r} is not a figure format matplotlib writes; one of "
                         f"{', '.join(sorted(known))}")
    return f


def write_figure(fig: Any, path: PathLike, fmt: Optional[str] = None, **savefig: Any) -> Any:
    """Save ``fig`` to ``path`` all or nothing: into a temporary file beside ``path``, renamed
    onto it once complete, so a failed write (a full disk, a size limit, an error while
    drawing) leaves neither a half-written figure nor the temporary file. The format is
    ``fmt``, else the suffix of ``path`` (matplotlib's default format, added as the suffix,
    when there is none; an unknown suffix is a ValueError before anything is written).
    A file object is written directly; an existing folder is an IsADirectoryError (it was
    written as ``<folder>.png`` beside it). ``savefig`` goes to ``Figure.savefig``; returns the
    path written. Calls writing the same path at once (threads, processes) each write their
    own temporary file, so each succeeds and the path holds one complete figure, the last
    renamed.

    Parameters
    ----------
    fig : matplotlib Figure
        The figure to save (anything with ``savefig``).
    path : str, os.PathLike or file object
        The file to write; its folder must exist (a FileNotFoundError otherwise). A file object
        is passed to ``fig.savefig`` as it is, with no rename.
    fmt : str, optional
        Format name such as ``"png"`` or ``".svg"`` (case-insensitive), one matplotlib writes
        (a ValueError otherwise); None (default): from the suffix of ``path``.
    **savefig
        Keyword arguments of ``Figure.savefig`` (``dpi``, ``bbox_inches``, ...).
    """
    import errno
    import os
    import threading
    from pathlib import Path

    if not isinstance(path, (str, os.PathLike)):  # a file object: nothing to rename
        fig.savefig(path, format=fmt, **savefig)
        return path
    out = Path(path)
    if out.is_dir():  # it wrote "<folder>.png" beside the folder
        raise IsADirectoryError(errno.EISDIR, f"cannot write {out}: it is a folder; give a file name "
                                f"(e.g. {out / 'figure.png'})")
    if fmt is None:
        if out.suffix:
            fmt = _format(out.suffix, f"the suffix of {out.name!r}:")
        else:
            from matplotlib import rcParams

            fmt = _format(rcParams["savefig.format"], "rcParams['savefig.format']")
            out = out.with_name(out.name + "." + fmt)
    else:
        fmt = _format(fmt)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"cannot write {out}: the folder {out.parent} does not exist")
    # same folder: the rename is atomic; a name of this call's own (process, thread, call), so
    # that concurrent writers of one path never write or rename each other's file (savefig
    # creates it, so it gets the usual permissions, which mkstemp's 0600 file would not)
    partial = out.with_name(f".{out.name}.{os.getpid()}-{threading.get_ident()}-{next(_PARTIAL)}.partial")
    try:
        fig.savefig(partial, format=fmt, **savefig)
        partial.replace(out)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise type(exc)(exc.errno, f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return out


def _finish(fig: Figure, path: Optional[PathLike]) -> Figure:
    fig.tight_layout()
    if path is not None:
        write_figure(fig, path, dpi=120)
    return fig


def _points(name: str, value: Any, n: Optional[int] = None, of: str = "x", *,
            positive: bool = False) -> np.ndarray:
    """``value`` as a 1-D float array of points to plot: finite (and > 0 for a log axis),
    ``n`` long when ``n`` is given (the length of ``of``), else not empty. A NaN would
    silently drop a point or erase a curve, so it is an error naming ``name`` and its index."""
    from . import _validate

    v = _validate.positive(name, value) if positive else _validate.finite(name, value)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
    if n is not None and v.shape[0] != n:
        raise ValueError(f"{name} has {v.shape[0]} points but {of} has {n}")
    if v.shape[0] == 0:
        raise ValueError(f"{name} is empty: no points to plot")
    return v


#: The farthest x a plot extends to (``x_max``, ``extrapolate``): beyond about 1e260
#: matplotlib's log axis (its margins and ticks) passes float64's largest value, with an
#: "overflow encountered" RuntimeWarning, and no scaling law is read that far out.
X_MAX = 1e200


def _check_x_max(x_max: float, name: str = "x_max") -> None:
    """A ValueError naming ``name`` for an ``x_max`` beyond :data:`X_MAX`."""
    if x_max > X_MAX:
        raise ValueError(f"{name} must be at most {X_MAX:g} (beyond it the plot's log axis passes "
                         f"float64's range), got {x_max!r}")


def _extrapolated(x: np.ndarray, decades: Any, name: str = "extrapolate", n: int = 200) -> np.ndarray:
    """``n`` log-spaced points from the smallest ``x`` to ``decades`` (>= 0) decades beyond
    the largest; a ValueError naming ``name`` when that passes :data:`X_MAX`."""
    from . import _validate

    d = float(_validate.nonnegative(name, decades, scalar=True))
    hi = np.log10(x.max()) + d
    if not hi <= np.log10(X_MAX):
        raise ValueError(f"{name} = {decades!r} decades beyond the largest value ({x.max():.4g}) passes "
                         f"{X_MAX:g}, the farthest a plot extends to (beyond it the log axis passes "
                         "float64's range)")
    return np.asarray(np.logspace(np.log10(x.min()), hi, n))


def _log_y(a: Any, axis: str = "y") -> None:
    """Log y (or x) axis with plain-number tick labels (losses span less than a decade)."""
    from matplotlib.ticker import FormatStrFormatter

    getattr(a, f"set_{axis}scale")("log")
    lo, hi = getattr(a, f"get_{axis}lim")()
    if hi < 10 * lo:  # within a decade: label the minor ticks with plain numbers
        ax = a.yaxis if axis == "y" else a.xaxis
        ax.set_major_formatter(FormatStrFormatter("%.3g"))
        ax.set_minor_formatter(FormatStrFormatter("%.3g"))
        a.tick_params(axis=axis, which="minor", labelsize=7)


def _check_labels(labels: Optional[Sequence[str]], n: int) -> None:
    """``labels``, when given, has one entry per curve (before a figure is opened)."""
    if labels and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries for {n} curves")


def _grid(x: ArrayLike, n: int = 200, pad: float = 0.0, log: bool = True) -> np.ndarray:
    xa = np.asarray(x, dtype=np.float64)
    lo, hi = float(np.nanmin(xa)), float(np.nanmax(xa))
    if log:
        return np.logspace(np.log10(lo) - pad, np.log10(hi) + pad, n)
    span = hi - lo
    return np.linspace(lo - pad * span, hi + pad * span, n)


# ----------------------------------------------------------------------------- any fit
def plot_fit(
    result: Union[FitResult, BootstrapResult], x: ArrayLike, y: ArrayLike, *,
    x_max: Optional[float] = None, kind: str = "confidence", level: Optional[float] = None,
    xlabel: Optional[str] = None, ylabel: str = "y", path: Optional[PathLike] = None,
) -> Figure:
    """A fit of any built-in model beside its data, in two panels.

    Left, for a law of one input: the data, the fitted curve over the data and on to ``x_max``
    (the extrapolation shaded) and, for a ``BootstrapResult`` (what :func:`scalingfit.bootstrap`
    returns; ``from scalingfit.bootstrap import BootstrapResult``), its pointwise band
    (``kind`` ``"confidence"`` or ``"prediction"``, see ``predict``); for a law of several
    inputs (N, D): observed against fitted values, with the band as error bars.
    Right: the residuals against the first input, in the fit's own terms: relative
    (``(y - f) / f``, in percent) or, for a fit of log residuals, ``log y - log f``.

    ``result`` is what :func:`scalingfit.fit` or :func:`scalingfit.bootstrap` returned for
    ``(x, y)``; ``x`` and ``y`` must be finite, as ``fit`` takes them. ``kind`` and ``level``
    are checked for a plain fit too (which draws no band). ``x_max`` must be above the data's
    largest x and at most :data:`X_MAX` (1e200; a ValueError naming it otherwise). ``path``
    must not be an existing folder (an IsADirectoryError; see :func:`write_figure`).

    Parameters
    ----------
    result : FitResult or BootstrapResult
        The fit of ``(x, y)``; one that did not succeed is a ValueError.
    x : array_like
        The inputs as :func:`scalingfit.fit` takes them: ``(n,)``, ``(n, k)`` or a tuple of
        columns such as ``(N, D)``; finite.
    y : array_like (n,)
        The observed values; finite.
    x_max : float, optional
        For a law of one input, draw the curve on to this x and shade the extrapolation;
        None (default): up to the data's largest x.
    kind : {"confidence", "prediction"}
        The band's kind, as :meth:`BootstrapResult.predict`; default ``"confidence"``.
    level : float, optional
        The band's level, in (0, 1); None (default): the bootstrap result's own level.
    xlabel : str, optional
        x-axis label of the residual panel, and of the curve panel for a law of one input;
        None (default): the model's first input name (e.g. ``"N"``).
    ylabel : str
        y-axis label of the curve (or observed-against-fitted) panel; default ``"y"``.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    from . import _validate
    from .bootstrap import BootstrapResult, _finite_level
    from .models import get
    from .results import FitResult

    if not isinstance(result, (FitResult, BootstrapResult)):
        raise TypeError("result must be what scalingfit.fit or scalingfit.bootstrap returned (a FitResult "
                        f"or a BootstrapResult), got {type(result).__name__} {result!r}")
    if kind not in ("confidence", "prediction"):
        raise ValueError(f"kind must be 'confidence' or 'prediction', got {kind!r}")
    if level is not None:
        level = _finite_level(level)
    fit = result.fit if isinstance(result, BootstrapResult) else result
    m = get(fit.model)
    xa = _validate.as_inputs(x, m)  # as fit takes it: (n, k), or a tuple of columns such as (N, D)
    ya = _validate.as_targets(y, xa.shape[0])
    if xa.shape[0] == 0:
        raise ValueError("x is empty: no points to plot")
    _validate.check_finite(xa, "x", columns=m.input_names)
    _validate.check_finite(ya, "y")
    if not fit.success:
        raise ValueError(f"the fit did not succeed ({fit.message}): nothing to plot")
    first = xa[:, 0]
    if x_max is not None and m.n_inputs != 1:
        raise ValueError(f"x_max extends a law of one input; {fit.model} has inputs {', '.join(m.input_names)}")
    if x_max is not None and not (float(_validate.finite("x_max", x_max, scalar=True)) > first.max()):
        raise ValueError(f"x_max must be a finite number above the data's largest {m.input_names[0]} "
                         f"({first.max():.4g}), got {x_max!r}")
    if x_max is not None:
        _check_x_max(float(x_max))
    fig, (a, r) = _axes(None, ncols=2, size=(5.2, 3.9))
    logx = bool(m.positive_inputs and np.all(first > 0))
    fitted = m.predict(fit.x, xa)
    boot = result if isinstance(result, BootstrapResult) else None
    if m.n_inputs == 1:
        hi = float(first.max()) if x_max is None else float(x_max)
        g = (np.logspace(np.log10(first.min()), np.log10(hi), 300) if logx
             else np.linspace(first.min(), hi, 300))
        if boot is not None:
            band = boot.predict(g, level=level, kind=kind)
            a.fill_between(g, band.lower, band.upper, color="C0", alpha=0.25,
                           label=f"{100 * band.level:.0f}% {kind} band")
        a.plot(g, m.predict(fit.x, g), color="C0", label=f"fit: {fit.model}")
        if x_max is not None:
            a.axvspan(first.max(), hi, color="0.92", zorder=0, label="extrapolation")
        a.scatter(first, ya, color="k", s=14, zorder=3, label="data")
        a.set_xlabel(xlabel or m.input_names[0])
        a.set_ylabel(ylabel)
    else:
        if boot is not None:
            band = boot.predict(xa, level=level, kind=kind)
            a.errorbar(fitted, ya, xerr=[fitted - band.lower, band.upper - fitted], fmt="none",
                       ecolor="C0", alpha=0.5, lw=1, label=f"{100 * band.level:.0f}% {kind} band")
        a.scatter(fitted, ya, color="k", s=12, zorder=3, label="data")
        lim = [min(fitted.min(), ya.min()), max(fitted.max(), ya.max())]
        a.plot(lim, lim, color="C0", lw=1, label="observed = fitted")
        a.set_xlabel(f"fitted {fit.model}({', '.join(m.input_names)})")
        a.set_ylabel(ylabel)
    if m.n_inputs == 1 and logx:
        a.set_xscale("log")
    elif m.n_inputs > 1 and np.all(fitted > 0):
        _log_y(a, "x")
    if np.all(ya > 0) and np.all(fitted > 0):
        _log_y(a)
    a.legend(fontsize=7)
    a.set_title(", ".join(f"{k} = {v:.4g}" for k, v in fit.params.items()), fontsize=7)
    with np.errstate(all="ignore"):
        res = np.log(ya) - np.log(fitted) if fit.log_residuals else 100.0 * (ya - fitted) / fitted
    r.axhline(0.0, color="0.5", lw=1)
    r.scatter(first, res, color="k", s=12)
    if logx:
        r.set_xscale("log")
    r.set_xlabel(xlabel or m.input_names[0])
    r.set_ylabel("log y - log fit" if fit.log_residuals else "residual (y - fit) / fit, %")
    r.set_title(f"{fit.n_points} points, cost {fit.cost:.4g}, loss {fit.loss}", fontsize=8)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- comparison
def plot_comparison(
    cmp: Comparison, *, x_max: Optional[float] = None, xlabel: Optional[str] = None,
    ylabel: str = "y", path: Optional[PathLike] = None,
) -> Figure:
    """The laws of :func:`scalingfit.compare_models` beside the data, in two panels.

    Left, for laws of one input: the points (held-out ones open, in red), each law's curve
    fitted without the held-out points (all points when there are none) on to ``x_max``, and
    its predictions of the held-out points with their prediction intervals; for laws of
    several inputs: observed against predicted values, held-out points with their intervals.
    Right: each law's leave-one-out errors (in the fit's residual space) against the first
    input, or the product of the inputs (``N * D``) for several.

    Parameters
    ----------
    cmp : Comparison
        What :func:`scalingfit.compare_models` returned (anything else is a TypeError).
    x_max : float, optional
        For laws of one input, draw the curves on to this x: finite, above the data's largest
        x and at most :data:`X_MAX` (a ValueError otherwise); None (default): up to the
        largest x. Given for laws of several inputs it is a ValueError.
    xlabel : str, optional
        x-axis label of both panels for laws of one input, of the right panel for several;
        None (default): ``"x"``, or ``"product of the inputs (N D)"`` on the right for several.
    ylabel : str
        Label of the observed values, default ``"y"``: the left panel's y axis (``"observed
        <ylabel>"`` for laws of several inputs).
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    from . import _validate
    from .compare import Comparison

    if not isinstance(cmp, Comparison):
        raise TypeError(f"cmp must be what scalingfit.compare_models returned, got {type(cmp).__name__}")
    x, y = cmp.x, cmp.y
    one = x.shape[1] == 1
    first = x[:, 0] if one else np.prod(x, axis=1)
    if x_max is not None and not one:
        raise ValueError(f"x_max extends laws of one input; these take {x.shape[1]}")
    if x_max is not None and not (float(_validate.finite("x_max", x_max, scalar=True)) > first.max()):
        raise ValueError(f"x_max must be a finite number above the data's largest x ({first.max():.4g}), "
                         f"got {x_max!r}")
    if x_max is not None:
        _check_x_max(float(x_max))
    out = np.zeros(y.shape[0], dtype=bool)
    out[cmp.holdout_index] = True
    fig, (a, r) = _axes(None, ncols=2, size=(5.2, 3.9))
    logx = bool(np.all(first > 0))
    kept = "all points" if not out.any() else f"without the {int(out.sum())} held out"
    if one:
        hi = first.max() if x_max is None else float(x_max)
        g = np.logspace(np.log10(first.min()), np.log10(hi), 300) if logx else np.linspace(first.min(), hi, 300)
    for j, sc in enumerate(cmp.scores):
        colour = f"C{j}"
        fitted = sc.holdout_fit if sc.holdout_fit is not None else sc.fit
        if not fitted.success:  # listed, not drawn
            a.plot([], [], color=colour, ls=":", label=f"{sc.label} (fit failed: {fitted.message})")
            continue
        if one:
            a.plot(g, sc.law.predict(fitted.x, g.reshape(-1, 1)), color=colour, lw=1.2, label=sc.label)
        else:
            a.scatter(sc.law.predict(fitted.x, x[~out]), y[~out], color=colour, s=8, alpha=0.6,
                      label=sc.label)
        if out.any():
            pred, lo, hi_ = sc.holdout_pred, sc.holdout_lower, sc.holdout_upper
            err = [pred - lo, hi_ - pred] if np.isfinite(lo).all() else None
            xo = first[cmp.holdout_index] * (1 + 0.02 * (j - (len(cmp.scores) - 1) / 2)) if one else pred
            if one:
                a.errorbar(xo, pred, yerr=err, fmt="s", ms=3, color=colour, capsize=2, lw=1)
            else:
                a.errorbar(pred, y[cmp.holdout_index], xerr=err, fmt="s", ms=3, color=colour,
                           capsize=2, lw=1)
    if one:
        a.scatter(first[~out], y[~out], color="k", s=14, zorder=3, label="data")
        if out.any():
            a.scatter(first[out], y[out], facecolors="none", edgecolors="C3", s=30, zorder=3,
                      label="held out")
        if logx:
            a.set_xscale("log")
        a.set_xlabel(xlabel or "x")
        a.set_ylabel(ylabel)
    else:
        if out.any():
            a.scatter([], [], marker="s", color="0.3", s=9, label="held out (prediction interval)")
        y_lo, y_hi = float(min(y.min(), a.dataLim.x0)), float(max(y.max(), a.dataLim.x1))
        line = np.geomspace(y_lo, y_hi, 50) if y_lo > 0 else np.linspace(y_lo, y_hi, 50)
        a.plot(line, line, color="0.5", lw=1, label="observed = predicted")
        if y_lo > 0:
            _log_y(a, "x")
        a.set_xlabel("predicted")
        a.set_ylabel(f"observed {ylabel}")
    if np.all(y > 0):
        _log_y(a)
    a.legend(fontsize=7)
    a.set_title(f"fits {kept}; {100 * cmp.level:g}% prediction intervals", fontsize=8)
    r.axhline(0.0, color="0.5", lw=1)
    drawn = False
    for j, sc in enumerate(cmp.scores):
        ok = np.isfinite(sc.loo_errors)
        if ok.any():
            r.scatter(first[ok], sc.loo_errors[ok], color=f"C{j}", s=10,
                      label=f"{sc.label} (rmse {sc.loo_rmse:.3g})")
            drawn = True
    if drawn:
        r.legend(fontsize=7)
    else:
        r.text(0.5, 0.5, "no leave-one-out errors\n(loo=False, or the fits failed)", ha="center",
               va="center", transform=r.transAxes, fontsize=8)
    if logx:
        r.set_xscale("log")
    r.set_xlabel(xlabel or ("x" if one else "product of the inputs (N D)"))
    r.set_ylabel("leave-one-out: log f - log y" if cmp.log_residuals else "leave-one-out: f - y")
    return _finish(fig, path)


def plot_law_comparisons(table: Any, *, comparison: Optional[Union[str, Sequence[str]]] = None,
                         path: Optional[PathLike] = None) -> Figure:
    """Which law won where, over the groups of a run database (:func:`scalingfit.refit_compare.
    compare_refit`): ``table`` is :func:`~scalingfit.refit_compare.read_comparisons`' frame or
    the database's path; ``comparison`` picks one when the table holds several.

    Left: the share of groups each law won (grey: groups no law won). Right: per law, the
    empirical distribution over the groups of its AICc above the group's best (or, ranked by
    leave-one-out error, its error over the best's): a law that is never far behind is nearly
    as good where it does not win.

    Parameters
    ----------
    table : pandas DataFrame, str or os.PathLike
        :func:`~scalingfit.refit_compare.read_comparisons`' frame (with columns comparison,
        law, group_key, best, delta, criterion; a ValueError otherwise), or a database path
        read with it. Needs pandas.
    comparison : str or sequence of str, optional
        The comparison to plot, by its comma-separated law names (``"a,b"`` or
        ``["a", "b"]``); None (default): the table must hold exactly one (a ValueError
        otherwise).
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    from os import PathLike as _PathLike

    from . import data
    from .refit_compare import read_comparisons

    pd = data._need("pandas")
    if isinstance(table, (str, _PathLike)):
        table = read_comparisons(str(table), comparison)
    elif not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be read_comparisons' DataFrame or a database path, got {type(table).__name__}")
    need = {"comparison", "law", "group_key", "best", "delta", "criterion"}
    if not need <= set(table.columns):
        raise ValueError(f"table lacks column(s) {sorted(need - set(table.columns))}: give read_comparisons' frame")
    if comparison is not None:
        name = comparison if isinstance(comparison, str) else ",".join(comparison)
        table = table[table["comparison"] == ",".join(c.strip() for c in name.split(","))]
    names = list(dict.fromkeys(table["comparison"]))
    if len(names) != 1:
        raise ValueError("the table holds " + (f"several comparisons ({', '.join(names)}): pick one with comparison="
                                               if names else "no comparison (no rows)"))
    laws = names[0].split(",")
    criterion = str(table["criterion"].iloc[0])
    n_groups = int(table["group_key"].nunique())
    won = table[table["best"]].groupby("law").size().reindex(laws, fill_value=0)
    fig, (a, r) = _axes(None, ncols=2, size=(4.8, 3.6))
    shares = [100 * int(won[law]) / n_groups for law in laws]
    none = 100 - sum(shares)
    a.bar(range(len(laws)), shares, color=[f"C{j}" for j in range(len(laws))])
    if none > 0:
        a.bar([len(laws)], [none], color="0.6")
    a.set_xticks(range(len(laws) + (none > 0)), laws + (["none"] if none > 0 else []), rotation=20, fontsize=8)
    a.set_ylabel("groups won (%)")
    a.set_title(f"{n_groups} groups, best by {'AICc' if criterion == 'aicc' else 'leave-one-out error'}",
                fontsize=8)
    drawn = False
    for j, law in enumerate(laws):
        d = np.sort(table.loc[(table["law"] == law) & table["delta"].notna(), "delta"].to_numpy(dtype=float))
        d = d[np.isfinite(d)]
        if d.size:
            missing = n_groups - d.size  # its fit failed or had no score there: the curve stops short of 1
            r.step(d, np.arange(1, d.size + 1) / n_groups, where="post", color=f"C{j}",
                   label=law + (f" (no score in {missing} groups)" if missing else ""))
            drawn = True
    if criterion == "aicc":
        r.set_xscale("symlog", linthresh=1.0)
        r.axvline(2.0, color="0.5", lw=1, ls=":")
        r.set_xlabel("AICc above the group's best (dotted: 2)")
    else:
        r.set_xscale("log")
        r.set_xlabel("leave-one-out RMSE / the group's best")
    r.set_ylabel("share of groups at most this far")
    r.set_ylim(0, 1.02)
    if drawn:
        r.legend(fontsize=7)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- kaplan
def plot_power_law(
    fit: PowerLawFit, x: ArrayLike, L: ArrayLike, *, extrapolate: float = 1.0,
    ax: Optional[Axes] = None, path: Optional[PathLike] = None, label: str = "data",
) -> Figure:
    """Kaplan single-variable law: data, fit and band on log-log axes, extrapolated
    ``extrapolate`` (>= 0) decades beyond the data; ``x`` and ``L`` finite and > 0.

    Parameters
    ----------
    fit : PowerLawFit
        What :func:`scalingfit.kaplan.fit_power_law` returned; the band is at its level.
    x : array_like (n,)
        The law's variable (N, D or C; finite, > 0); its name labels the x axis from
        ``fit.variable``.
    L : array_like (n,)
        Losses at ``x`` (finite, > 0).
    extrapolate : float
        Decades beyond the largest ``x`` to draw the fit and band to (>= 0, and not past
        :data:`X_MAX`); default 1.
    ax : matplotlib Axes, optional
        Axes to draw into (anything else is a TypeError); None (default): a new figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    label : str
        Legend label of the data points; default ``"data"``.
    """
    xa = _points("x", x, positive=True)
    La = _points("L", L, xa.shape[0], positive=True)
    g = _extrapolated(xa, extrapolate)
    fig, a = _axes(ax)
    band = fit.band(g)
    a.fill_between(g, band[0], band[1], alpha=0.25, color="C0", label=f"{int(100 * fit.law.level)}% band")
    a.plot(g, fit.predict(g), color="C0", label=f"fit: alpha = {fit.alpha:.3f}")
    a.scatter(xa, La, color="k", s=18, zorder=3, label=label)
    a.set_xscale("log")
    _log_y(a)
    a.set_xlabel(fit.variable)
    a.set_ylabel("loss")
    a.legend(fontsize=8)
    return _finish(fig, path)


def plot_allocations(cmp: AllocationComparison, *, ax: Optional[Axes] = None,
                     path: Optional[PathLike] = None) -> Figure:
    """Kaplan's and Chinchilla's compute-optimal N against C (log-log), and their crossover.

    Parameters
    ----------
    cmp : AllocationComparison
        What :func:`scalingfit.kaplan.compare_allocations` returned.
    ax : matplotlib Axes, optional
        Axes to draw into (anything else is a TypeError); None (default): a new figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    fig, a = _axes(ax)
    a.plot(cmp.C, cmp.N_kaplan, label="Kaplan et al. (2020): N ∝ C^0.73")
    a.plot(cmp.C, cmp.N_chinchilla, label="Hoffmann et al. (2022): N ∝ C^0.5")
    a.axvline(cmp.crossover, color="gray", ls=":", label=f"crossover {cmp.crossover:.2g} FLOP")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("training compute C (FLOP)")
    a.set_ylabel("compute-optimal parameters N")
    a.legend(fontsize=8)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- test time
def plot_coverage(
    fits: Sequence[CoverageFit], ks: Sequence[ArrayLike], coverages: Sequence[ArrayLike], *,
    labels: Optional[Sequence[str]] = None, extrapolate: float = 1.0,
    ax: Optional[Axes] = None, path: Optional[PathLike] = None,
) -> Figure:
    """Coverage against samples k (log x): data, ``exp(-a k^-b)`` fits and bands; each ``ks[i]``
    finite and > 0, each ``coverages[i]`` finite, ``extrapolate`` >= 0 decades.

    Parameters
    ----------
    fits : sequence of CoverageFit
        One fit per curve (:func:`scalingfit.testtime.fit_coverage` or
        :func:`~scalingfit.testtime.fit_coverage_from_counts`); not empty. The first one's
        ``x_name`` labels the x axis.
    ks : sequence of array_like
        Per curve, the numbers of samples (1-D, finite, > 0).
    coverages : sequence of array_like
        Per curve, the coverage at each of its ``ks`` (1-D, finite, as long as ``ks[i]``).
    labels : sequence of str, optional
        One legend label per curve; None (default): ``"curve i"``.
    extrapolate : float
        Decades beyond each curve's largest k to draw its fit and band to (>= 0, and not
        past :data:`X_MAX`); default 1.
    ax : matplotlib Axes, optional
        Axes to draw into (anything else is a TypeError); None (default): a new figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    if not (len(fits) == len(ks) == len(coverages)):
        raise ValueError(f"{len(fits)} fits, {len(ks)} ks and {len(coverages)} coverages: one of each per curve")
    if not fits:
        raise ValueError("fits is empty: no curves to plot")
    _check_labels(labels, len(fits))
    k_arr = [_points(f"ks[{i}]", k, positive=True) for i, k in enumerate(ks)]
    c_arr = [_points(f"coverages[{i}]", c, k.shape[0], f"ks[{i}]") for i, (k, c) in enumerate(zip(k_arr, coverages))]
    grids = [_extrapolated(ka, extrapolate) for ka in k_arr]
    fig, a = _axes(ax)
    for i, (f, ka, c, g) in enumerate(zip(fits, k_arr, c_arr, grids)):
        lab = labels[i] if labels else f"curve {i}"
        band = f.band(g)
        a.fill_between(g, band[0], band[1], alpha=0.2, color=f"C{i}")
        a.plot(g, f.predict(g), color=f"C{i}", label=f"{lab}: a={f.a:.2f}, b={f.b:.2f}")
        a.scatter(ka, c, color=f"C{i}", s=12, zorder=3)
    a.set_xscale("log")
    a.set_xlabel(fits[0].x_name)
    a.set_ylabel("coverage")
    a.legend(fontsize=8)
    return _finish(fig, path)


def plot_model_choice(choice: ModelChoice, *, labels: Optional[Sequence[str]] = None,
                      ax: Optional[Axes] = None, path: Optional[PathLike] = None) -> Figure:
    """Predicted coverage of each model against the inference budget (log x); the best model
    at each budget is marked.

    Parameters
    ----------
    choice : ModelChoice
        What :func:`scalingfit.testtime.choose_model` returned.
    labels : sequence of str, optional
        One legend label per model (a ValueError for another count); None (default):
        ``"N = <N>"``.
    ax : matplotlib Axes, optional
        Axes to draw into (anything else is a TypeError); None (default): a new figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    _check_labels(labels, choice.N.shape[0])
    fig, a = _axes(ax)
    for m in range(choice.N.shape[0]):
        ok = choice.samples[:, m] >= 1
        lab = labels[m] if labels else f"N = {choice.N[m]:.3g}"
        a.plot(choice.budget[ok], choice.coverage[ok, m], color=f"C{m}", label=lab)
        best = ok & (choice.best == m)
        a.scatter(choice.budget[best], choice.coverage[best, m], color=f"C{m}", s=10)
    for b, _, _ in choice.crossovers():
        a.axvline(b, color="gray", ls=":")
    a.set_xscale("log")
    a.set_xlabel("inference FLOP per problem")
    a.set_ylabel("predicted coverage")
    a.legend(fontsize=8)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- emergence
def plot_emergence(
    scale: ArrayLike, thresholded: ArrayLike, continuous: ArrayLike, *,
    link: Optional[SigmoidFit] = None, scale_label: str = "scale",
    thresholded_label: str = "accuracy", continuous_label: str = "loss",
    log_continuous: bool = True, path: Optional[PathLike] = None,
) -> Figure:
    """Three panels: the thresholded metric and the continuous one against scale (log x), and
    the thresholded metric against the continuous one with the fitted link and its band.
    ``scale`` finite and > 0 (a log axis), the metrics finite, one value of each per scale
    (``continuous`` > 0 too when the link is fitted on a log axis).

    Parameters
    ----------
    scale : array_like (n,)
        Model scale (parameters, FLOP; finite, > 0).
    thresholded : array_like (n,)
        The thresholded metric (e.g. exact-match accuracy) at each scale; finite.
    continuous : array_like (n,)
        The continuous metric (e.g. loss) at each scale; finite.
    link : SigmoidFit, optional
        The fitted link of ``thresholded`` against ``continuous``
        (:func:`scalingfit.emergence.fit_sigmoids`), drawn with its band in the third panel;
        None (default): no link drawn.
    scale_label : str
        x-axis label of the first two panels; default ``"scale"``.
    thresholded_label : str
        Label of the thresholded metric's axes; default ``"accuracy"``.
    continuous_label : str
        Label of the continuous metric's axes; default ``"loss"``.
    log_continuous : bool
        Log y axis for the continuous metric's panel when all its values are > 0; default
        True.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    x = _points("scale", scale, positive=True)
    t = _points("thresholded", thresholded, x.shape[0], "scale")
    c = _points("continuous", continuous, x.shape[0], "scale",
                positive=link is not None and bool(link.log_x))
    fig, axs = _axes(None, ncols=3, size=(4.2, 3.6))
    axs[0].scatter(x, t, s=10, color="C3")
    axs[0].set_xscale("log")
    axs[0].set_xlabel(scale_label)
    axs[0].set_ylabel(thresholded_label)
    axs[0].set_title("thresholded: looks sudden", fontsize=9)
    axs[1].scatter(x, c, s=10, color="C0")
    axs[1].set_xscale("log")
    if log_continuous and np.all(c > 0):
        _log_y(axs[1])
    axs[1].set_xlabel(scale_label)
    axs[1].set_ylabel(continuous_label)
    axs[1].set_title("continuous: smooth", fontsize=9)
    axs[2].scatter(c, t, s=10, color="k", alpha=0.6)
    if link is not None:
        g = _grid(c, log=link.log_x)
        band = link.band(g)
        axs[2].fill_between(g, band[0], band[1], alpha=0.25, color="C2")
        axs[2].plot(g, link.predict(g), color="C2", label="one link")
        axs[2].legend(fontsize=8)
        if link.log_x:
            axs[2].set_xscale("log")
    axs[2].set_xlabel(continuous_label)
    axs[2].set_ylabel(thresholded_label)
    axs[2].set_title("metric vs loss", fontsize=9)
    return _finish(fig, path)


def plot_metric_choice(mc: MetricChoice, *, path: Optional[PathLike] = None) -> Figure:
    """Each metric against scale: the fit to the smallest scales (solid) and its
    extrapolation (dashed) against the held-out values, with sharpness and predictability.

    Parameters
    ----------
    mc : MetricChoice
        What :func:`scalingfit.emergence.metric_choice` returned (at least one metric).
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    names = list(mc.rows)
    if not names:
        raise ValueError("the metric choice has no metrics to plot")
    fig, axs = _axes(None, ncols=len(names), size=(3.4, 3.2))
    axs = axs if isinstance(axs, list) else [axs]
    x = mc.scale
    g = _grid(x)
    split = x[mc.n_fit - 1]
    for a, name in zip(axs, names):
        row = mc.rows[name]
        y = mc.values[name]
        a.scatter(x[: mc.n_fit], y[: mc.n_fit], s=12, color="k", label="fitted")
        a.scatter(x[mc.n_fit:], y[mc.n_fit:], s=12, facecolors="none", edgecolors="k", label="held out")
        if row.fit is not None and np.isfinite(row.fit.x).all():
            from .emergence import _sigmoid

            if row.kind == "bounded":
                lo, hi, k, u0 = row.fit.x
                curve = _sigmoid(np.log(g), lo, hi, k, u0)
            else:
                curve = row.fit.predict(g)
            a.plot(g[g <= split], curve[g <= split], color="C0")
            a.plot(g[g >= split], curve[g >= split], color="C0", ls="--")
        a.set_xscale("log")
        if row.kind == "loss":
            _log_y(a)
        a.set_title(f"{name}\nsharpness {row.sharpness:.2f}, predictability {row.predictability:.2f}", fontsize=8)
        a.set_xlabel("scale")
    axs[0].legend(fontsize=7)
    return _finish(fig, path)


def plot_task_predictions(
    preds: Sequence[TaskPrediction], actual: Sequence[float], *,
    published: Optional[Sequence[float]] = None, path: Optional[PathLike] = None,
) -> Figure:
    """Predicted accuracy with its interval against the actual accuracy, per task (and the
    published prediction when given).

    Parameters
    ----------
    preds : sequence of TaskPrediction
        What :func:`scalingfit.emergence.task_ladder` returned; not empty.
    actual : sequence of float
        The actual accuracy of each task, one per prediction; finite.
    published : sequence of float, optional
        A published prediction per task, drawn beside ours; finite. None (default): none.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    if not preds:
        raise ValueError("no task predictions to plot")
    for name, v in (("actual", actual), ("published", published)):
        if v is not None and len(v) != len(preds):
            raise ValueError(f"{name} has {len(v)} values for {len(preds)} task predictions")
    act = _points("actual", actual, len(preds), "preds")
    pub = None if published is None else _points("published", published, len(preds), "preds")
    fig, a = _axes(None, size=(7.0, 3.8))
    i = np.arange(len(preds))
    m = np.array([p.metric for p in preds])
    iv = np.array([p.metric_interval for p in preds])
    a.errorbar(i, m, yerr=[m - iv[:, 0], iv[:, 1] - m], fmt="o", color="C0", capsize=3, label="ours (95% interval)")
    a.scatter(i, act, marker="x", color="k", zorder=3, label="actual")
    if pub is not None:
        a.scatter(i + 0.15, pub, marker="s", s=14, color="C3", label="published prediction")
    a.set_xticks(i)
    a.set_xticklabels([p.task for p in preds], rotation=30, ha="right", fontsize=8)
    a.set_ylabel("accuracy")
    a.legend(fontsize=8)
    return _finish(fig, path)


# ----------------------------------------------------------------------------- curves
def plot_final_loss(
    curves: Sequence[Curve], prediction: FinalLossPrediction, *,
    ax: Optional[Axes] = None, path: Optional[PathLike] = None,
) -> Figure:
    """Loss curves against tokens (log x): the fitted window (filled markers), the rest of the
    curve (faint), and the predicted final loss with its interval (error bar) beside the actual.

    Parameters
    ----------
    curves : sequence of Curve
        The loss curves ``prediction`` was made from, in the same order.
    prediction : FinalLossPrediction
        What :func:`scalingfit.curves.predict_final_loss` or
        :func:`~scalingfit.curves.predict_final_loss_kaplan` returned for ``curves``.
    ax : matplotlib Axes, optional
        Axes to draw into (anything else is a TypeError); None (default): a new figure.
    path : str, os.PathLike or file object, optional
        Where to save the figure at 120 dpi, all or nothing (:func:`write_figure`: the format
        from the suffix; an existing folder is an IsADirectoryError); None (default): not
        saved.
    """
    fig, a = _axes(ax, size=(6.5, 4.5))
    for j, cv in enumerate(curves):
        col = f"C{j % 10}"
        a.plot(cv.tokens, cv.loss, color=col, alpha=0.3, lw=3)
        sel = cv.window(prediction.fraction)
        a.scatter(cv.tokens[sel], cv.loss[sel], s=6, color=col)
        after = cv.tokens >= cv.tokens[sel][-1] if sel.any() else np.ones(cv.tokens.shape[0], dtype=bool)
        a.plot(cv.tokens[after], prediction.predict_curve(cv, j)[after], color=col, ls="--", lw=1)
        p, (lo, hi) = prediction.predicted[j], prediction.interval[j]
        if np.isfinite(p):
            a.errorbar([cv.tokens[-1]], [p], yerr=[[p - lo], [hi - p]], fmt="o", color=col, capsize=3,
                       ms=4, label=f"{cv.name}: {100 * prediction.relative_error[j]:+.2f}%")
        a.scatter([cv.tokens[-1]], [cv.loss[-1]], marker="x", color="k", zorder=4)
        s = prediction.spikes[j]
        if s.size:
            a.scatter(cv.tokens[s], cv.loss[s], marker="^", color="r", s=30, zorder=5)
    a.set_xscale("log")
    _log_y(a)
    a.set_xlabel("tokens")
    a.set_ylabel("loss")
    a.set_title(f"{prediction.method}: first {100 * prediction.fraction:.0f}% fitted (dots), extrapolated "
                "(dashed); x = actual final", fontsize=9)
    a.legend(fontsize=6, ncol=2)
    return _finish(fig, path)


# Plots of Chinchilla-style fits (loss vs compute with the compute-optimal frontier and its
# bootstrap band, IsoFLOP slices with parabolas, the fitted L(N, D) surface, bootstrap
# distributions of the exponents, extrapolation bands); ``save`` writes PNG, SVG or any format
# matplotlib writes.
from ._plot_refit import compute_frontier as plot_compute_frontier
from ._plot_refit import exponent_distributions as plot_exponent_distributions
from ._plot_refit import extrapolation_band as plot_extrapolation_band
from ._plot_refit import isoflop_curves as plot_isoflop_curves
from ._plot_refit import loss_surface as plot_loss_surface
from ._plot_refit import save

__all__ = [
    "plot_allocations",
    "plot_comparison",
    "plot_compute_frontier",
    "plot_coverage",
    "plot_emergence",
    "plot_exponent_distributions",
    "plot_extrapolation_band",
    "plot_final_loss",
    "plot_fit",
    "plot_isoflop_curves",
    "plot_law_comparisons",
    "plot_loss_surface",
    "plot_metric_choice",
    "plot_model_choice",
    "plot_power_law",
    "plot_task_predictions",
    "save",
    "write_figure",
]
