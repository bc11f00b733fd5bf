"""Plots of Chinchilla-style fits (matplotlib, optional: ``pip install 'scalingfit[plot]'``).

Every function takes data and fitted parameters (and optionally bootstrap samples), draws on
log axes with labelled units, and returns a matplotlib Figure (made without pyplot: none is
left open and the backend is never changed); :func:`save` writes it as PNG, SVG or any
format matplotlib writes. Data must be finite (and > 0 on a log axis); a bad value is an
error naming the argument and its index, never a silently missing point or curve. A curve or
band computed from the parameters (the frontier, an extrapolation) that is <= 0 or not finite
somewhere (a law with E < 0, say) cannot be shown on the log loss axis there: that part is left
out with a DataWarning naming the curve and where, and a curve with no such point to show is
an error naming it, as are bootstrap samples with no finite row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _warnings
from ._warnings import DataWarning
from .bootstrap import allocation_exponent_a, optimal_loss, optimal_params

FloatArray = NDArray[np.float64]
NAMES = ("E", "A", "B", "alpha", "beta")


def _figure(size: tuple[float, float], ncols: int = 1) -> tuple[Any, Any]:
    """A plain Figure (no pyplot) of total ``size`` and its axes (a list when ``ncols`` > 1)."""
    from .plot import _axes

    return _axes(None, ncols, (size[0] / ncols, size[1]))


def save(fig: Any, path: Union[str, Path], formats: Union[str, Sequence[str], None] = None,
         dpi: int = 120) -> list[Path]:
    """Write ``fig`` to ``path`` in each of ``formats``; returns the paths written.

    Without ``formats``, the format is the suffix of ``path`` when it is one matplotlib writes
    (``fig.svg`` is SVG), else PNG, added as a suffix (``out/run.v2`` becomes
    ``out/run.v2.png``). With ``formats`` (one name, ``"svg"``, or several, ``("png",
    "svg")``), each is written beside ``path``: its known suffix replaced by each format's
    (``fig.svg`` with ``("png", "svg")`` writes ``fig.png`` and ``fig.svg``). Every format is
    checked before anything is written; the folder is created when missing; each file is
    written whole or not at all (see :func:`scalingfit.plot.write_figure`). A figure made
    with pyplot is closed afterwards (as before).

    Parameters
    ----------
    fig : matplotlib Figure
        The figure to write.
    path : str or pathlib.Path
        The file to write, or the base name of the files when ``formats`` is given.
    formats : str or sequence of str, optional
        Format names (``"png"``, ``"svg"``; a ValueError for one matplotlib does not write, or
        for an empty sequence); None (default): from the suffix of ``path``, else PNG.
    dpi : int
        Resolution of raster formats, dots per inch (passed to ``Figure.savefig``, with
        ``bbox_inches="tight"``); default 120.
    """
    import sys

    from .plot import _format, _formats, write_figure

    p = Path(path)
    known = p.suffix.lower().lstrip(".") in _formats()
    base = p.with_suffix("") if known else p
    if formats is None:
        fmts = [_format(p.suffix, f"the suffix of {p.name!r}:") if known else "png"]
    else:
        names = [formats] if isinstance(formats, str) else list(formats)
        if not names:
            raise ValueError("formats is empty: name at least one format, e.g. 'png'")
        fmts = [_format(f, f"formats[{i}]") for i, f in enumerate(names)]
    outs = [p] if formats is None and known else [base.with_name(f"{base.name}.{f}") for f in fmts]
    base.parent.mkdir(parents=True, exist_ok=True)
    for out, f in zip(outs, fmts):
        write_figure(fig, out, f, dpi=dpi, bbox_inches="tight")
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and getattr(fig.canvas, "manager", None) is not None:  # pyplot's figure
        plt.close(fig)
    return outs


def _cols(params: Union[Mapping[str, float], ArrayLike], name: str = "params",
          finite: bool = True) -> dict[str, FloatArray]:
    """``params`` (a mapping with E, A, B, alpha, beta, or rows of those 5 values) as columns;
    each value finite unless ``finite`` is False (bootstrap samples: failed resamples are NaN
    rows)."""
    from . import _validate

    if isinstance(params, Mapping):
        missing = [k for k in NAMES if k not in params]
        if missing:
            raise ValueError(f"{name} lacks {', '.join(missing)}: it needs {', '.join(NAMES)}")
        return {k: np.atleast_1d(_validate.finite(f"{name}[{k!r}]", params[k]) if finite
                                 else _validate.as_float_array(params[k], f"{name}[{k!r}]")) for k in NAMES}
    if params is None or isinstance(params, (str, bytes)):
        raise TypeError(f"{name} must be a mapping of {', '.join(NAMES)} or rows of those 5 values, "
                        f"got {params!r}")
    arr = _validate.finite(name, params) if finite else _validate.as_float_array(params, name)
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or arr.shape[1] != len(NAMES):
        raise ValueError(f"{name} must have {len(NAMES)} columns ({', '.join(NAMES)}), one row per "
                         f"parameter set, got shape {np.shape(params)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}): no parameter set to draw")
    return {k: arr[:, i] for i, k in enumerate(NAMES)}


def _runs(N: ArrayLike, D: ArrayLike, L: ArrayLike, log_L: bool = False) -> tuple[FloatArray, ...]:
    """Runs (N, D, L): N and D finite and > 0, L finite (and > 0 on a log axis), one length."""
    from .plot import _points

    n = _points("N", N, positive=True)
    return n, _points("D", D, n.shape[0], "N", positive=True), _points("L", L, n.shape[0], "N", positive=log_L)


def _finite_rows(s: dict[str, FloatArray]) -> dict[str, FloatArray]:
    """Bootstrap samples' rows that are finite (failed resamples are NaN rows); a ValueError
    when none is: no band to draw."""
    ok = np.logical_and.reduce([np.isfinite(v) for v in s.values()])
    if not ok.any():
        raise ValueError(f"samples has no row of finite values ({ok.size} rows): no band to draw")
    return {k: v[ok] for k, v in s.items()}


def _shown(what: str, x: FloatArray, xname: str, *curves: FloatArray) -> NDArray[np.bool_]:
    """Where ``curves`` (values at ``x``) are all finite and > 0, so a log axis shows them: a
    DataWarning naming ``what`` and the range of ``x`` left out when that is not everywhere, a
    ValueError when it is nowhere."""
    ok: NDArray[np.bool_] = np.logical_and.reduce([np.isfinite(c) & (c > 0) for c in curves])
    if not ok.any():
        raise ValueError(f"{what} is <= 0 or not finite at every point ({xname} from {x.min():.3g} to "
                         f"{x.max():.3g}): a log axis cannot show it")
    if not ok.all():
        bad = x[~ok]
        _warnings.warn(f"{what} is <= 0 or not finite at {bad.size} of {x.size} points ({xname} from "
                      f"{bad.min():.3g} to {bad.max():.3g}), which a log axis cannot show: left out",
                      DataWarning, stacklevel=3)
    return ok


def _law(p: Mapping[str, FloatArray], N: FloatArray, D: FloatArray) -> FloatArray:
    return p["E"] + p["A"] * N ** -p["alpha"] + p["B"] * D ** -p["beta"]


def compute_frontier(N: ArrayLike, D: ArrayLike, L: ArrayLike, params: Mapping[str, float],
                     samples: Optional[ArrayLike] = None, level: float = 0.9,
                     C_range: Optional[tuple[float, float]] = None, title: str = "") -> Any:
    """Loss vs training compute C = 6ND for every run, the compute-optimal frontier
    L_opt(C) of the fitted law, and its bootstrap band (``samples``: (R, 5) E, A, B, alpha, beta;
    NaN rows, failed resamples, are left out). ``C_range``: the x axis, (low, high) FLOPs.

    Parameters
    ----------
    N, D : array_like (n,)
        Parameters and training tokens of each run (finite, > 0).
    L : array_like (n,)
        Final loss of each run (nats/token; finite, > 0: a log axis).
    params : mapping
        The fitted law ``E + A / N^alpha + B / D^beta``: a mapping with keys E, A, B, alpha,
        beta (finite; a row of those 5 values is taken too).
    samples : array_like (R, 5), optional
        Bootstrap replicates of E, A, B, alpha, beta, one row each (or a mapping of those 5
        columns), for the frontier's band; NaN rows (failed resamples) are left out, and none
        finite is a ValueError. None (default): no band.
    level : float
        The band's level, in (0, 1); default 0.9.
    C_range : (float, float), optional
        The frontier's range of compute, (low, high) FLOP with 0 < low < high; None
        (default): a third of the smallest run's ``6 N D`` to 100 times the largest's.
    title : str
        The axes' title; ``""`` (default): a fixed one naming the plot.
    """
    from . import _validate
    from .bootstrap import _finite_level as _level

    N, D, L = _runs(N, D, L, log_L=True)
    p = _cols(params)
    s = None if samples is None else _finite_rows(_cols(samples, "samples", finite=False))
    level = _level(level)
    C = 6 * N * D
    if C_range is None:
        lo_c, hi_c = C.min() / 3, C.max() * 100
    else:
        rng = _validate.positive("C_range", C_range)
        if rng.shape != (2,) or not rng[0] < rng[1]:
            raise ValueError(f"C_range is the x axis: two values (low, high), low < high, got {C_range!r}")
        lo_c, hi_c = rng
    grid = np.logspace(np.log10(lo_c), np.log10(hi_c), 120)
    with np.errstate(all="ignore"):  # a bad law's NaN or <= 0 values are named below
        front = np.array([np.asarray(optimal_loss(c)(p))[0] for c in grid])
    ok = _shown("params' compute-optimal frontier L_opt(C)", grid, "C", front)
    if s is not None:
        q = (1 - level) / 2
        with np.errstate(all="ignore"):  # an all-NaN C: NaN, named by _shown
            vals = np.array([optimal_loss(c)(s) for c in grid])
        lo, hi = _validate.nan_percentile(vals, [100 * q, 100 * (1 - q)], 1)
        band = _shown(f"the {100 * level:.0f}% bootstrap band of samples", grid, "C", lo, hi)
    fig, ax = _figure((6.4, 4.4))
    sc = ax.scatter(C, L, c=np.log10(N), s=10, cmap="viridis", alpha=0.8)
    fig.colorbar(sc, ax=ax, label="log10 N (parameters)")
    ax.plot(grid, np.where(ok, front, np.nan), "k-", lw=2, label="compute-optimal frontier")
    if s is not None:
        ax.fill_between(grid, lo, hi, where=band, color="k", alpha=0.2,
                        label=f"{100 * level:.0f}% bootstrap band")
    ax.set(xscale="log", yscale="log", xlabel="training compute C = 6ND (FLOP)",
           ylabel="final loss (nats/token)", title=title or "Loss vs compute")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def isoflop_curves(N: ArrayLike, D: ArrayLike, L: ArrayLike, params: Optional[Mapping[str, float]] = None,
                   budgets: Optional[ArrayLike] = None, title: str = "") -> Any:
    """Loss vs N at fixed compute (IsoFLOP slices), coloured by budget, with each budget's
    fitted parabola in log N (all budgets in one batched fit) and the law's slice if given.

    Without ``budgets``, a slice is 3 or more runs whose computes C = 6ND each lie within 5% of
    the next (the largest at most 1.5 times the smallest: budgets read off a paper's figure
    scatter that much) and more than 5% from every other run's. When some runs' computes
    spread continuously instead (each within 5% of the next over a wider range), the runs are
    not on IsoFLOP budgets: no slice is drawn, and a
    DataWarning says so and asks for ``budgets``. When no slice is drawn, all runs are drawn
    coloured by their compute instead, and the title says why. With ``budgets`` (FLOPs, > 0),
    a slice is the runs within 5% of a budget's compute; runs further than that from every
    budget are in no slice, and a budget with fewer than 3 runs is an error naming it.

    Parameters
    ----------
    N, D : array_like (n,)
        Parameters and training tokens of each run (finite, > 0).
    L : array_like (n,)
        Final loss of each run (nats/token; finite).
    params : mapping, optional
        A fitted law ``E + A / N^alpha + B / D^beta`` (keys E, A, B, alpha, beta; finite),
        drawn dotted along each slice at the slice's median compute; None (default): none.
    budgets : array_like, optional
        Compute budgets (FLOP, > 0, 1-D, not empty) that define the slices; None (default):
        found from the runs' computes as above.
    title : str
        The axes' title; ``""`` (default): a fixed one naming the plot.
    """
    from matplotlib import colormaps

    from . import _validate
    from ._fit import fit_batch

    N, D, L = _runs(N, D, L)
    if params is not None:
        _cols(params)
    C = 6 * N * D
    tol = np.log(1.05)
    why = "no 3 runs share a compute budget"
    if budgets is None:  # runs apart from all others by more than 5%, within 5% of one compute
        order = np.argsort(C)
        groups = np.split(order, np.flatnonzero(np.diff(np.log(C[order])) > tol) + 1)
        width = np.array([np.log(C[g[-1]] / C[g[0]]) for g in groups])
        wide = width > np.log(1.5)  # Epoch's digitised Chinchilla budgets span up to 1.28x
        if wide.any():
            k = int(np.argmax(width))
            _warnings.warn(
                f"{sum(g.size for g, w in zip(groups, wide) if w)} of {C.size} runs have computes "
                "C = 6ND spread continuously (each within 5% of the next over more than 1.5x; the "
                f"widest stretch {C[groups[k][0]]:.3g} to {C[groups[k][-1]]:.3g} FLOP): the runs are "
                "not on IsoFLOP budgets, so no IsoFLOP slice is drawn; pass budgets=[...] (FLOPs) "
                "to choose the slices", DataWarning, stacklevel=2)
            groups, why = [], "computes spread continuously: pass budgets"
    else:
        b = _validate.positive("budgets", budgets)
        if b.ndim != 1 or b.size == 0:
            raise ValueError(f"budgets must be a non-empty list of compute budgets (FLOPs), got {budgets!r}")
        dist = np.abs(np.log(C)[:, None] - np.log(b)[None, :])
        near = np.argmin(dist, axis=1)
        within = dist[np.arange(C.size), near] <= tol
        groups = [np.flatnonzero(within & (near == k)) for k in range(b.size)]
        for k, g in enumerate(groups):
            if g.size < 3:
                raise ValueError(f"budgets[{k}] = {b[k]:.3g}: {g.size} run(s) have a compute C = 6ND within "
                                 "5% of it; an IsoFLOP slice needs at least 3")
    groups = [g[np.argsort(N[g])] for g in groups if g.size >= 3]
    fig, ax = _figure((6.4, 4.4))
    cmap = colormaps["plasma"]
    if groups:
        idx = np.concatenate(groups)
        off = np.concatenate([[0], np.cumsum([g.size for g in groups])]).astype(np.int64)
        res = fit_batch("isoflop_parabola", N[idx], L[idx], off)
        for k, g in enumerate(groups):
            color = cmap(k / max(len(groups) - 1, 1))
            cb = float(np.median(C[g]))
            ax.scatter(N[g], L[g], color=color, s=14, label=f"C = {cb:.1e}")
            if res.success[k]:
                n_grid = np.logspace(np.log10(N[g].min()), np.log10(N[g].max()), 60)
                Lopt, lnN, kk = res.x[k]
                ax.plot(n_grid, Lopt + kk * (np.log(n_grid) - lnN) ** 2, color=color, lw=1)
                ax.plot(np.exp(lnN), Lopt, marker="*", color=color, ms=10, mec="k")
            if params is not None:
                n_grid = np.logspace(np.log10(N[g].min()), np.log10(N[g].max()), 60)
                ax.plot(n_grid, _law(_cols(params), n_grid, cb / (6 * n_grid)), color=color, ls=":", lw=1)
    else:
        sc = ax.scatter(N, L, c=np.log10(C), s=12, cmap="plasma")
        fig.colorbar(sc, ax=ax, label="log10 C (FLOP)")
        title = (title + ": " if title else "") + f"no IsoFLOP slices ({why})"
    ax.set(xscale="log", xlabel="parameters N", ylabel="final loss (nats/token)",
           title=title or "IsoFLOP slices (stars: parabola minima; dotted: fitted law)")
    if 0 < len(groups) <= 12:
        ax.legend(fontsize=7, ncol=2)
    return fig


def loss_surface(N: ArrayLike, D: ArrayLike, L: ArrayLike, params: Mapping[str, float], title: str = "") -> Any:
    """Runs in the (N, D) plane coloured by loss, with contours of the fitted L(N, D) and the
    compute-optimal path N_opt(C).

    Parameters
    ----------
    N, D : array_like (n,)
        Parameters and training tokens of each run (finite, > 0).
    L : array_like (n,)
        Final loss of each run (nats/token; finite).
    params : mapping
        The fitted law ``E + A / N^alpha + B / D^beta``: a mapping with keys E, A, B, alpha,
        beta (finite; a row of those 5 values is taken too).
    title : str
        The axes' title; ``""`` (default): a fixed one naming the plot.
    """
    N, D, L = _runs(N, D, L)
    p = _cols(params)
    n_g = np.logspace(np.log10(N.min()) - 0.3, np.log10(N.max()) + 0.3, 120)
    d_g = np.logspace(np.log10(D.min()) - 0.3, np.log10(D.max()) + 0.3, 120)
    NN, DD = np.meshgrid(n_g, d_g)
    fig, ax = _figure((6.4, 4.8))
    cs = ax.contour(NN, DD, _law(p, NN, DD), levels=12, cmap="viridis", linewidths=0.8)
    ax.clabel(cs, fontsize=6, fmt="%.2f")
    sc = ax.scatter(N, D, c=L, s=12, cmap="viridis", edgecolors="k", linewidths=0.2)
    fig.colorbar(sc, ax=ax, label="final loss (nats/token)")
    C = np.logspace(np.log10(6 * N.min() * D.min()), np.log10(6 * N.max() * D.max()), 50)
    n_opt = np.array([np.asarray(optimal_params(c)(p))[0] for c in C])
    ax.plot(n_opt, C / (6 * n_opt), "r-", lw=2, label="compute-optimal N, D")
    ax.set(xscale="log", yscale="log", xlim=(n_g[0], n_g[-1]), ylim=(d_g[0], d_g[-1]),
           xlabel="parameters N", ylabel="training tokens D", title=title or "Fitted L(N, D)")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def exponent_distributions(samples: ArrayLike, truth: Optional[Mapping[str, float]] = None, title: str = "") -> Any:
    """Bootstrap distributions of alpha, beta and the allocation exponent a = beta/(alpha+beta)
    (``samples``: (R, 5) E, A, B, alpha, beta; NaN rows, failed resamples, are left out).
    ``truth``, when given, maps E, A, B, alpha, beta to the true values, marked.

    Parameters
    ----------
    samples : array_like (R, 5)
        Bootstrap replicates of E, A, B, alpha, beta, one row each (or a mapping of those 5
        columns); NaN rows (failed resamples) are left out, and none finite is a ValueError.
    truth : mapping, optional
        The true E, A, B, alpha, beta (finite), marked on each panel; None (default): none.
    title : str
        The figure's title; ``""`` (default): a fixed one naming the plot.
    """
    s = _cols(samples, "samples", finite=False)
    t_cols = None if truth is None else _cols(truth, "truth")
    a = allocation_exponent_a(s)
    panels = (("alpha", s["alpha"]), ("beta", s["beta"]), ("a = beta/(alpha+beta)", a))
    for name, v in panels:
        if not np.isfinite(v).any():
            raise ValueError(f"samples has no finite {name.split(' ')[0]} value ({v.size} rows): "
                             "no distribution to draw")
    fig, axes = _figure((9.6, 3.2), ncols=3)
    for ax, (name, v) in zip(axes, panels):
        v = v[np.isfinite(v)]
        ax.hist(v, bins=40, color="tab:blue", alpha=0.8)
        ax.axvline(np.median(v), color="k", lw=1, label="median")
        key = name.split(" ")[0]
        if t_cols is not None:
            t = allocation_exponent_a(t_cols)[0] if key == "a" else t_cols[key][0]
            ax.axvline(t, color="r", ls="--", lw=1, label="truth")
        ax.set(xlabel=name, ylabel="resamples")
        ax.legend(fontsize=7)
    fig.suptitle(title or "Bootstrap distributions of the exponents")
    fig.tight_layout()
    return fig


def extrapolation_band(x: ArrayLike, y: ArrayLike, model: str, params: ArrayLike, samples: ArrayLike,
                       x_new: ArrayLike, level: float = 0.9, xlabel: str = "parameters N",
                       ylabel: str = "loss (nats/token)", title: str = "") -> Any:
    """A one-input law fitted to (x, y), extrapolated over ``x_new`` with its bootstrap band
    (``samples``: (R, n_params), NaN rows, failed resamples, left out). ``x``, ``y`` and
    ``x_new`` finite and > 0 (log axes).

    Parameters
    ----------
    x, y : array_like (n,)
        The data the law was fitted to (finite, > 0).
    model : str
        A built-in model of one input (:func:`scalingfit.models.get`), e.g.
        ``"saturating_power_law"``; one of several inputs is a ValueError.
    params : array_like (n_params,)
        The fitted parameters, in the model's order (finite).
    samples : array_like (R, n_params)
        Bootstrap replicates of the parameters, one row each; rows with a NaN (failed
        resamples) are left out, and none left is a ValueError.
    x_new : array_like
        Where to draw the fit and band (finite, > 0; sorted before drawing).
    level : float
        The band's level, in (0, 1): percentiles of the replicates' predictions; default 0.9.
    xlabel : str
        x-axis label; default ``"parameters N"``.
    ylabel : str
        y-axis label; default ``"loss (nats/token)"``.
    title : str
        The axes' title; ``""`` (default): a fixed one naming the plot.
    """
    from . import _validate
    from .bootstrap import _finite_level as _level
    from .models import get
    from .plot import _points

    m = get(model)
    if m.n_inputs != 1:
        raise ValueError(f"model {model!r} has inputs {', '.join(m.input_names)}: the extrapolation band "
                         "is drawn for a law of one input")
    x = _points("x", x, positive=True)
    y = _points("y", y, x.shape[0], "x", positive=True)
    x_new = np.sort(_points("x_new", x_new, positive=True))  # a line drawn in the given order zigzags
    level = _level(level)
    P = _validate.finite("params", params)
    if P.shape != (m.n_params,):
        raise ValueError(f"params must be the {m.n_params} parameters of {model} ({', '.join(m.param_names)}), "
                         f"got shape {P.shape}")
    S = _validate.as_float_array(samples, "samples")
    if S.ndim != 2 or S.shape[1] != m.n_params:
        raise ValueError(f"samples must have shape (R, {m.n_params}), one row of {model}'s parameters "
                         f"({', '.join(m.param_names)}) per resample, got shape {S.shape}")
    S = S[np.isfinite(S).all(axis=1)]
    if S.shape[0] == 0:
        raise ValueError("samples has no row of finite values: no band to draw")
    q = (1 - level) / 2
    with np.errstate(all="ignore"):  # a bad law's NaN or <= 0 values are named below
        fitted = m.predict(P, x_new)
        preds = np.array([m.predict(p, x_new) for p in S])
        lo, hi = np.quantile(preds, q, axis=0), np.quantile(preds, 1 - q, axis=0)
    ok = _shown(f"the fitted {model} of params", x_new, "x_new", fitted)
    band = _shown(f"the {100 * level:.0f}% bootstrap band of samples", x_new, "x_new", lo, hi)
    fig, ax = _figure((6.4, 4.2))
    ax.scatter(x, y, color="k", s=16, label="observed", zorder=3)
    ax.plot(x_new, np.where(ok, fitted, np.nan), "C0-", label=f"fitted {model}")
    ax.fill_between(x_new, lo, hi, where=band, color="C0", alpha=0.25,
                    label=f"{100 * level:.0f}% bootstrap band")
    ax.axvspan(x.max(), x_new.max(), color="0.9", zorder=0, label="extrapolation")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title or "Extrapolation with uncertainty")
    ax.legend(fontsize=8)
    return fig
