"""The data wall: how far a fixed stock of unique tokens carries compute-optimal training.

Without repetition the wall is where the compute-optimal token count reaches the stock ``U``:
``D_opt(C) = U``, i.e. ``N = N_opt(U) = G (U G)^(beta/alpha)`` and ``C = 6 N U`` (closed form).
With up to ``k`` epochs there are two readings, both reported:

* *naive*: treat repeated tokens as fresh (``D = k U`` on the Chinchilla frontier) — what a
  Chinchilla-only planner would do; it overstates what repetition buys;
* *data-constrained*: the compute ``C_k`` at which the loss-minimising allocation under
  Muennighoff et al.'s law (given ``U``) first uses ``k`` epochs, the model size there and the
  loss, and the loss penalty against unlimited unique data at that compute. ``C_1`` equals the
  no-repetition wall (below it the two laws coincide). ``C_k`` is found by bisection on
  ``log C``.

  The optimum is unique, and its epochs increase with compute, only while repetition still
  changes the loss. Once ``exp(-R_D / R_D*)`` is below float64 resolution (a few hundred
  epochs with the published constants, a few with a small ``R_D*``) the loss is flat to
  rounding over a range of sizes and epochs, all of them optimal. ``C_k`` is therefore
  defined as the least compute at which ``k`` epochs is *among* the loss-minimising
  allocations (the most epochs of a range wider than 1% in ``N``; for a unique optimum, its
  epochs), and the row reports that allocation (``D = k U``). A
  :class:`~scalingfit.DataWarning` says when the optimum at ``C_k`` is not unique, and over
  which epochs the loss is the same. ``C_k`` is then imprecise: the loss of ``k`` epochs
  approaches the minimum by single units in the last place over a wide range of compute
  (about 10% around ``C_16`` of 1e12 tokens with ``R_D* = 0.02``).

Intervals are carried from the fit: pass ``samples``, a :class:`DataConstrainedLaw` whose fields
are arrays of bootstrap replicates (e.g. ``bootstrap_data_constrained(...).laws``, or that
bootstrap itself); every
quantity is recomputed per replicate and summarised by percentile intervals. Stage-1 constants
that do not vary across the replicates contribute no width (the no-repetition wall depends on
them only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np
from numpy.typing import ArrayLike

from .. import _validate, _warnings
from .._resample import table
from .._validate import broadcast
from .._warnings import DataWarning
from ._common import (
    FloatArray,
    bisect,
    check_epochs,
    check_finite,
    check_positive,
    percentile_interval,
    quantities_repr,
)
from .data_constrained import (
    MUENNIGHOFF_2023,
    DataConstrainedBootstrap,
    DataConstrainedLaw,
    LawLike,
    as_data_constrained_law,
    law_shape,
    optimal_allocation_constrained,
    point_and_replicates,
)

__all__ = ["DataWall", "DataWallRow", "data_wall", "epochs_wall_compute"]

Interval = tuple[float, float]

#: log of float64's largest value: the search for C_k stops there (exp of more is inf).
_LOG_MAX = float(np.log(np.finfo(np.float64).max))


@dataclass(frozen=True)
class DataWallRow:
    """One epoch budget ``k`` for a stock of unique tokens.

    Attributes
    ----------
    epochs : float
    C, N, D, loss : float
        Data-constrained optimum at the compute where it first uses ``epochs`` epochs.
    loss_unlimited : float
        Chinchilla loss at the same compute with unlimited unique data.
    naive_C, naive_N, naive_D : float
        Chinchilla frontier with ``D = epochs * U`` treated as fresh tokens.
    C_ci, N_ci, loss_ci : (float, float) or None
        Percentile intervals over the replicates of ``samples``.
    """

    epochs: float
    C: float
    N: float
    D: float
    loss: float
    loss_unlimited: float
    naive_C: float
    naive_N: float
    naive_D: float
    C_ci: Optional[Interval] = None
    N_ci: Optional[Interval] = None
    loss_ci: Optional[Interval] = None

    @property
    def loss_penalty(self) -> float:
        """``loss - loss_unlimited``: what the limited stock of unique tokens costs."""
        return self.loss - self.loss_unlimited

    def __repr__(self) -> str:
        head = quantities_repr(
            f"DataWallRow: {self.epochs:g} epochs; naive_*: repeats treated as fresh tokens",
            [(k, getattr(self, k)) for k in ("C", "N", "D", "loss", "loss_unlimited",
                                             "loss_penalty", "naive_C", "naive_N", "naive_D")],
        )
        cis = [{"interval": k, "lower": v[0], "upper": v[1]}
               for k, v in (("C", self.C_ci), ("N", self.N_ci), ("loss", self.loss_ci)) if v]
        return f"{head}\npercentile intervals:\n{table(cis)}" if cis else head


@dataclass(frozen=True)
class DataWall:
    """The data wall of ``unique_tokens``: one :class:`DataWallRow` per epoch budget, with
    intervals at ``level`` when replicates were given (see :func:`data_wall`)."""

    unique_tokens: float
    rows: list[DataWallRow] = field(default_factory=list)
    level: float = 0.95

    def __repr__(self) -> str:
        head, *body = self.table()
        ci = (f", {100 * self.level:g}% percentile intervals in brackets"
              if any(r.C_ci is not None for r in self.rows) else "")
        return (f"DataWall of {self.unique_tokens:.4g} unique tokens: the data-constrained "
                f"optimum where it first uses k epochs, vs naive (repeats as fresh){ci}\n"
                + table([dict(zip(head, r)) for r in body]))

    def table(self) -> list[tuple[str, ...]]:
        """Printable rows (header first)."""

        def ci(v: Optional[Interval]) -> str:
            return "" if v is None else f" [{v[0]:.3g}, {v[1]:.3g}]"

        out: list[tuple[str, ...]] = [
            (
                "epochs",
                "compute C (FLOP)",
                "params N",
                "tokens D",
                "loss",
                "penalty vs unique",
                "naive C",
                "naive N",
            )
        ]
        for r in self.rows:
            out.append(
                (
                    f"{r.epochs:g}",
                    f"{r.C:.4g}{ci(r.C_ci)}",
                    f"{r.N:.4g}{ci(r.N_ci)}",
                    f"{r.D:.4g}",
                    f"{r.loss:.4f}{ci(r.loss_ci)}",
                    f"{r.loss_penalty:.4f}",
                    f"{r.naive_C:.4g}",
                    f"{r.naive_N:.4g}",
                )
            )
        return out


def epochs_wall_compute(
    unique_tokens: ArrayLike,
    epochs: ArrayLike,
    law: LawLike = MUENNIGHOFF_2023,
    *,
    flops_per_token: float = 6.0,
    max_factor: float = 1e12,
    warn: bool = True,
) -> FloatArray:
    """Compute ``C_k`` at which the data-constrained optimum (given ``unique_tokens``) first
    uses ``epochs`` epochs: the least compute at which ``epochs`` epochs is among the
    loss-minimising allocations (see the module docstring: past a few hundred epochs the loss
    is flat to rounding over a range of epochs). Inputs and the law's fields broadcast
    together (numpy rules). ``epochs = 1`` gives the no-repetition wall exactly; NaN where even
    ``max_factor`` times that wall does not reach ``epochs`` epochs, with a
    :class:`~scalingfit.DataWarning` naming the first such budget. Another DataWarning names
    the first budget whose optimum at ``C_k`` is not unique, with the range of equally good
    epochs. ``warn=False``: neither warning. ``epochs`` must be finite and >= 1; a
    ``unique_tokens`` whose no-repetition wall passes float64's range (or rounds to 0) is a
    ValueError naming it. The search stops below float64's largest value (1.8e308)."""
    warn = _validate.flag("warn", warn)
    U = check_positive("unique_tokens", unique_tokens)
    k = check_epochs(epochs)
    law = as_data_constrained_law(law)
    broadcast(unique_tokens=U, epochs=k, law=np.empty(law_shape(law)))
    check_positive("flops_per_token", flops_per_token, scalar=True)
    mf = float(check_finite("max_factor", max_factor, scalar=True))
    if not mf > 1:
        raise ValueError(
            f"max_factor (how far past the no-repetition wall to search) must be finite and "
            f"> 1, got {max_factor!r}"
        )
    c1 = _no_repetition_wall(U, law, flops_per_token)
    lo = np.log(c1) + np.zeros(np.broadcast_shapes(np.shape(c1), k.shape, law_shape(law)))

    def g(logc: FloatArray) -> FloatArray:
        return optimal_allocation_constrained(
            np.exp(logc), U, law, flops_per_token=flops_per_token, warn=False
        ).wall_epochs - k

    if np.all(k <= 1.0):
        return np.asarray(c1 + np.zeros(lo.shape))
    hi = np.minimum(lo + np.log(mf), _LOG_MAX)  # exp(hi) a finite compute
    reach = g(hi) >= 0
    logc = bisect(g, lo, hi, n_iter=60)
    out = np.where(k <= 1.0, c1, np.exp(logc))
    found = np.broadcast_to(reach | (k <= 1.0), out.shape)
    if warn and not found.all():
        at = f"at index {', '.join(str(int(j)) for j in np.argwhere(found == 0)[0])} " if found.ndim else ""
        kb = np.broadcast_to(k, out.shape)[~found]
        _warnings.warn(
            f"epochs_wall_compute: {int((~found).sum())} epoch budget(s) not reached within "
            f"max_factor = {mf:g} times the no-repetition wall (and below 1.8e308 FLOP, "
            f"float64's largest value), the first {at}(epochs = "
            f"{float(kb[0])!r}): their compute is NaN",
            DataWarning,
            stacklevel=2,
        )
    C_k = np.asarray(np.where(found, out, np.nan))
    if warn and found.any():
        opt = optimal_allocation_constrained(
            np.where(found, C_k, 1.0), U, law, flops_per_token=flops_per_token, warn=False
        )
        flat = opt.plateau & found & np.broadcast_to(k > 1.0, found.shape)
        if flat.any():
            i = tuple(int(j) for j in np.argwhere(flat)[0])
            at = f"at index {', '.join(map(str, i))} " if i else ""
            ki = float(np.broadcast_to(k, flat.shape)[i])
            lo_i, hi_i = float(opt.epochs_low[i]), float(opt.epochs_high[i])
            _warnings.warn(
                f"epochs_wall_compute: the optimum at C_k is not unique for {int(flat.sum())} "
                f"epoch budget(s), the first {at}(epochs = {ki!r}, C_k = {float(C_k[i]):.4g}): "
                f"every epoch count in [{lo_i:.4g}, {hi_i:.4g}] gives the same loss to "
                "rounding there; C_k is "
                "the least compute at which the budget is among them, and as the loss there "
                "differs from the optimum by a few units in the last place over a wide range of "
                "compute, C_k is not precise there (it moves with the rounding tolerance)",
                DataWarning,
                stacklevel=2,
            )
    return C_k


def _no_repetition_wall(U: FloatArray, law: DataConstrainedLaw, flops_per_token: float) -> FloatArray:
    """``flops_per_token N_opt(U) U``, the compute of the no-repetition wall of checked ``U``;
    a ValueError naming ``unique_tokens`` where it passes float64's range (or rounds to 0)."""
    with np.errstate(over="ignore"):
        c1 = flops_per_token * law.chinchilla.n_for_data(U) * U
    return np.asarray(_validate.check_computed(
        c1, "the no-repetition wall C = flops_per_token N_opt(U) U", {"unique_tokens": U},
        "unique_tokens must be nearer the size of a real stock of tokens", underflow=True))


@_validate.suggest_argument_names
def data_wall(
    unique_tokens: float,
    law: Optional[LawLike] = None,
    epochs: Sequence[float] = (1, 4, 16),
    *,
    samples: Optional[Union[LawLike, DataConstrainedBootstrap]] = None,
    level: float = 0.95,
    flops_per_token: float = 6.0,
) -> DataWall:
    """The data wall of a stock of ``unique_tokens`` (e.g. ``100e12``) for each epoch budget
    in ``epochs``: see the module docstring.

    Parameters
    ----------
    unique_tokens : float
        The stock ``U`` of unique tokens (> 0).
    law : DataConstrainedLaw or mapping, optional
        The point law (fields ``E, A, B, alpha, beta, R_D, R_N``). Default: the bootstrap's
        own point fit when ``samples`` is a :class:`DataConstrainedBootstrap`, else
        :data:`MUENNIGHOFF_2023`.
    epochs : sequence of float
        The epoch budgets ``k`` (finite, >= 1; at least one), one row each.
    samples : DataConstrainedLaw, mapping or DataConstrainedBootstrap, optional
        Bootstrap replicates as array fields (e.g. ``bootstrap_data_constrained(...).laws``,
        or that bootstrap itself): the rows then carry percentile intervals ``C_ci, N_ci,
        loss_ci``. A point law outside the range of the replicates (one law's points with
        another's intervals) warns :class:`~scalingfit.DataWarning`.
    level : float in (0, 1)
        Of those intervals.
    flops_per_token : float
        ``C = flops_per_token · N · D`` (default 6).

    Raises
    ------
    ValueError
        Naming the argument: ``unique_tokens`` not finite and > 0, or so far from a real stock
        of tokens that its no-repetition wall passes float64's range (``1e300``) or rounds to 0
        (``1e-300``); ``epochs`` empty, not finite and >= 1, or so large that the naive wall of
        ``epochs · unique_tokens`` tokens passes float64's range; an invalid law or level.

    Examples
    --------
    >>> from scalingfit.planning import data_wall
    >>> w = data_wall(100e12, epochs=(1,))
    >>> f"{w.rows[0].N:.3g} params, {w.rows[0].C:.3g} FLOP"
    '5.1e+12 params, 3.06e+27 FLOP'
    """
    U = float(check_positive("unique_tokens", unique_tokens, scalar=True))
    ks = check_epochs(epochs).ravel()
    if ks.size == 0:
        raise ValueError(
            f"epochs must hold at least one epoch budget (e.g. (1, 4, 16)), got {epochs!r}"
        )
    check_positive("flops_per_token", flops_per_token, scalar=True)
    law, samples = point_and_replicates(law, samples, "samples")
    from ..bootstrap import _finite_level

    _finite_level(level)
    chin = law.chinchilla
    # the naive wall of each budget (D = k U treated as fresh tokens), checked before any search
    _no_repetition_wall(np.asarray(U), law, flops_per_token)
    given = {"epochs": ks, "unique_tokens": U}
    fewer = "epochs must be smaller (repeats of unique_tokens)"
    with np.errstate(over="ignore"):
        nD = _validate.check_computed(ks * U, "the naive wall's tokens k U", given, fewer)
        nN = chin.n_for_data(nD)
        nC = flops_per_token * nN * nD
    _validate.check_computed(nC, "the naive wall C = flops_per_token N_opt(k U) k U", given, fewer)

    def solve(lw: DataConstrainedLaw, kk: FloatArray, warn: bool) -> tuple[FloatArray, ...]:
        C = epochs_wall_compute(U, kk, lw, flops_per_token=flops_per_token, warn=warn)
        Cf = np.nan_to_num(C, nan=1.0)
        opt = optimal_allocation_constrained(
            Cf, U, lw, flops_per_token=flops_per_token, warn=False
        )
        # at k = 1 the optimum is the Chinchilla one exactly (closed form, no grid error); at
        # C_k the allocation that uses k epochs (D = k U) is optimal (one of several where
        # the loss is flat) and its loss is the minimum
        n1 = lw.chinchilla.n_for_data(U)
        one = kk <= 1.0
        flat = opt.plateau
        N = np.where(one, n1, np.where(flat, Cf / (flops_per_token * kk * U), opt.N))
        D = np.where(one, U, np.where(flat, kk * U, opt.D))
        L = np.where(one, lw.chinchilla.loss(n1, U), opt.loss)
        bad = ~np.isfinite(C)
        return tuple(np.where(bad, np.nan, v) for v in (C, N, D, L, opt.chinchilla_loss))

    C, N, D, L, Lu = solve(law, ks, True)  # an unreached budget warns once, here
    cis: Optional[list[tuple[FloatArray, FloatArray]]] = None
    if samples is not None:
        sC, sN, _, sL, _ = solve(samples, ks[:, None], False)
        cis = [percentile_interval(v, level, axis=-1) for v in (sC, sN, sL)]
    rows = []
    for i, k in enumerate(ks):
        ci = None if cis is None else [(float(lo[i]), float(hi[i])) for lo, hi in cis]
        rows.append(
            DataWallRow(
                epochs=float(k),
                C=float(C[i]),
                N=float(N[i]),
                D=float(D[i]),
                loss=float(L[i]),
                loss_unlimited=float(Lu[i]),
                naive_C=float(nC[i]),
                naive_N=float(nN[i]),
                naive_D=float(nD[i]),
                C_ci=None if ci is None else ci[0],
                N_ci=None if ci is None else ci[1],
                loss_ci=None if ci is None else ci[2],
            )
        )
    return DataWall(unique_tokens=U, rows=rows, level=level)
