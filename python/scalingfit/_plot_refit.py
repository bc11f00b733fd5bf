"""Plots of Chinchilla-style fits (matplotlib, optional: ``pip install scalingfit[plot]``).

Every function takes data and fitted parameters (and optionally bootstrap samples), draws on
log axes with labelled units, and returns the matplotlib Figure; :func:`save` writes PNG
and/or SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .bootstrap import allocation_exponent_a, optimal_loss, optimal_params

FloatArray = NDArray[np.float64]
NAMES = ("E", "A", "B", "alpha", "beta")


def _plt() -> Any:
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf", "cairo"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'scalingfit[plot]'") from None
    return plt


def save(fig: Any, path: Union[str, Path], formats: Sequence[str] = ("png",), dpi: int = 120) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats`` (png, svg); returns the paths."""
    out = []
    base = Path(path).with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        p = base.with_suffix("." + fmt)
        fig.savefig(p, dpi=dpi, bbox_inches="tight")
        out.append(p)
    _plt().close(fig)
    return out


def _cols(params: Union[Mapping[str, float], ArrayLike]) -> dict[str, FloatArray]:
    if isinstance(params, Mapping):
        return {k: np.atleast_1d(np.asarray(params[k], dtype=float)) for k in NAMES}
    arr = np.atleast_2d(np.asarray(params, dtype=float))
    return {k: arr[:, i] for i, k in enumerate(NAMES)}


def _law(p: Mapping[str, FloatArray], N: FloatArray, D: FloatArray) -> FloatArray:
    return p["E"] + p["A"] * N ** -p["alpha"] + p["B"] * D ** -p["beta"]


def compute_frontier(N: ArrayLike, D: ArrayLike, L: ArrayLike, params: Mapping[str, float],
                     samples: Optional[ArrayLike] = None, level: float = 0.9,
                     C_range: Optional[tuple[float, float]] = None, title: str = "") -> Any:
    """Loss vs training compute C = 6ND for every run, the compute-optimal frontier
    L_opt(C) of the fitted law, and its bootstrap band (``samples``: (R, 5) E, A, B, alpha, beta)."""
    plt = _plt()
    N, D, L = (np.asarray(v, dtype=float) for v in (N, D, L))
    C = 6 * N * D
    lo_c, hi_c = C_range or (C.min() / 3, C.max() * 100)
    grid = np.logspace(np.log10(lo_c), np.log10(hi_c), 120)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    sc = ax.scatter(C, L, c=np.log10(N), s=10, cmap="viridis", alpha=0.8)
    fig.colorbar(sc, ax=ax, label="log10 N (parameters)")
    p = _cols(params)
    ax.plot(grid, [np.asarray(optimal_loss(c)(p))[0] for c in grid], "k-", lw=2, label="compute-optimal frontier")
    if samples is not None:
        s = _cols(samples)
        vals = np.array([optimal_loss(c)(s) for c in grid])
        q = (1 - level) / 2
        ax.fill_between(grid, np.nanquantile(vals, q, axis=1), np.nanquantile(vals, 1 - q, axis=1),
                        color="k", alpha=0.2, label=f"{100 * level:.0f}% bootstrap band")
    ax.set(xscale="log", yscale="log", xlabel="training compute C = 6ND (FLOP)",
           ylabel="final loss (nats/token)", title=title or "Loss vs compute")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def isoflop_curves(N: ArrayLike, D: ArrayLike, L: ArrayLike, params: Optional[Mapping[str, float]] = None,
                   budgets: Optional[ArrayLike] = None, title: str = "") -> Any:
    """Loss vs N at fixed compute (IsoFLOP slices), coloured by budget, with each budget's
    fitted parabola in log N (all budgets in one batched fit) and the law's slice if given.
    Runs that form no slice (no 3 runs within 5% of one compute, or of a given budget) are
    drawn coloured by their compute instead, and the title says so."""
    from ._fit import fit_batch

    plt = _plt()
    N, D, L = (np.asarray(v, dtype=float) for v in (N, D, L))
    C = 6 * N * D
    if budgets is None:  # group runs whose compute agrees to within 5%
        order = np.argsort(C)
        edges = np.flatnonzero(np.diff(np.log(C[order])) > np.log(1.05)) + 1
        groups = np.split(order, edges)
    else:
        b = np.asarray(budgets, dtype=float)
        near = np.argmin(np.abs(np.log(C)[:, None] - np.log(b)[None, :]), axis=1)
        groups = [np.flatnonzero(near == k) for k in range(b.size)]
    groups = [g[np.argsort(N[g])] for g in groups if g.size >= 3]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    cmap = plt.get_cmap("plasma")
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
        title = (title + ": " if title else "") + "no IsoFLOP slices (no 3 runs share a compute budget)"
    ax.set(xscale="log", xlabel="parameters N", ylabel="final loss (nats/token)",
           title=title or "IsoFLOP slices (stars: parabola minima; dotted: fitted law)")
    if 0 < len(groups) <= 12:
        ax.legend(fontsize=7, ncol=2)
    return fig


def loss_surface(N: ArrayLike, D: ArrayLike, L: ArrayLike, params: Mapping[str, float], title: str = "") -> Any:
    """Runs in the (N, D) plane coloured by loss, with contours of the fitted L(N, D) and the
    compute-optimal path N_opt(C)."""
    plt = _plt()
    N, D, L = (np.asarray(v, dtype=float) for v in (N, D, L))
    p = _cols(params)
    n_g = np.logspace(np.log10(N.min()) - 0.3, np.log10(N.max()) + 0.3, 120)
    d_g = np.logspace(np.log10(D.min()) - 0.3, np.log10(D.max()) + 0.3, 120)
    NN, DD = np.meshgrid(n_g, d_g)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
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
    """Bootstrap distributions of alpha, beta and the allocation exponent a = beta/(alpha+beta)."""
    plt = _plt()
    s = _cols(samples)
    a = allocation_exponent_a(s)
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
    for ax, (name, v) in zip(axes, (("alpha", s["alpha"]), ("beta", s["beta"]), ("a = beta/(alpha+beta)", a))):
        v = v[np.isfinite(v)]
        ax.hist(v, bins=40, color="tab:blue", alpha=0.8)
        ax.axvline(np.median(v), color="k", lw=1, label="median")
        key = name.split(" ")[0]
        if truth is not None:
            t = allocation_exponent_a(_cols(truth))[0] if key == "a" else truth[key]
            ax.axvline(t, color="r", ls="--", lw=1, label="truth")
        ax.set(xlabel=name, ylabel="resamples")
        ax.legend(fontsize=7)
    fig.suptitle(title or "Bootstrap distributions of the exponents")
    fig.tight_layout()
    return fig


def extrapolation_band(x: ArrayLike, y: ArrayLike, model: str, params: ArrayLike, samples: ArrayLike,
                       x_new: ArrayLike, level: float = 0.9, xlabel: str = "parameters N",
                       ylabel: str = "loss (nats/token)", title: str = "") -> Any:
    """A one-input law fitted to (x, y), extrapolated over ``x_new`` with its bootstrap band."""
    from .models import get

    plt = _plt()
    m = get(model)
    x, y, x_new = (np.asarray(v, dtype=float) for v in (x, y, x_new))
    S = np.asarray(samples, dtype=float)
    S = S[np.isfinite(S).all(axis=1)]
    preds = np.array([m.predict(p, x_new) for p in S])
    q = (1 - level) / 2
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(x, y, color="k", s=16, label="observed", zorder=3)
    ax.plot(x_new, m.predict(np.asarray(params, dtype=np.float64), x_new), "C0-", label=f"fitted {model}")
    ax.fill_between(x_new, np.quantile(preds, q, axis=0), np.quantile(preds, 1 - q, axis=0), color="C0",
                    alpha=0.25, label=f"{100 * level:.0f}% bootstrap band")
    ax.axvspan(x.max(), x_new.max(), color="0.9", zorder=0, label="extrapolation")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title or "Extrapolation with uncertainty")
    ax.legend(fontsize=8)
    return fig
