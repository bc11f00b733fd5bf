"""Bootstrap items of a custom (Python) model: the same resamples as the C++ engine's, solved
by the Python twin of the LM solver.

A bootstrap item is (problem, replicate). For a built-in model the core regenerates the
item's resample from the Philox stream of (seed, problem id, replicate) and solves it
(``_core.bootstrap_batch``). For a :class:`~scalingfit.CustomModel` the resamples come from the
same functions of the core (``_core.resample_multiplicities`` for the points, groups and
jackknife schemes, ``_core.resample_targets`` for the residual and wild schemes), so a seed
names the same resamples whatever the model; each resample then becomes a weighted copy of its
problem (weights ``w_i * m_i``, or the perturbed targets) and all of a chunk's copies are solved
at once by :func:`scalingfit._custom.solve_batch`. The leverages and adjusted residuals of the
residual and wild schemes are bootstrap.hpp's ``prepare_residuals`` in numpy, on the model's
Jacobian (``jac`` or finite differences).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np
from numpy.typing import NDArray

from . import _core, _custom, _fit, _status
from ._custom import CustomModel
from .models import LOSSES

if TYPE_CHECKING:  # pragma: no cover
    from .bootstrap import _Engine

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: bootstrap.hpp's Scheme values of the residual and wild schemes (real-valued targets).
_TARGET_SCHEMES = (2, 3)
_RESIDUAL = 2
_GROUP_SCHEMES = (1, 5)


def prepare_residuals(
    m: CustomModel, x: FloatArray, y: FloatArray, w: Optional[FloatArray], p: FloatArray,
    log_residuals: bool, scheme: int, lo: FloatArray, hi: FloatArray,
) -> Optional[tuple[FloatArray, FloatArray]]:
    """(yhat, resid) of one problem at its point fit ``p``, in the solver's space (bootstrap.hpp's
    prepare_residuals): for the residual scheme the centred, leverage-adjusted,
    weight-standardised residuals; for the wild scheme ``e_i / sqrt(1 - h_i)``. None where the
    model is not finite (or not positive under log residuals) at some point."""
    n = y.shape[0]
    P = m.n_params
    wv = np.ones(n) if w is None else w
    with np.errstate(all="ignore"):
        f, J = m.value_and_jacobian(x, np.broadcast_to(p, (n, P)), lo, hi)
        if log_residuals:
            if not (f > 0).all():
                return None
            J = J / f[:, None]
            f = np.log(f)
            y = np.log(y)
    if not np.isfinite(f).all():
        return None
    keep = (lo != hi).astype(np.float64)
    J = J * keep
    resid = y - f
    positive = wv > 0
    n_pos = float(positive.sum())
    H = (J * wv[:, None]).T @ J
    diag = np.diag(H)
    ok = bool(np.all((keep == 0) | ((diag > 0) & np.isfinite(diag))))
    dinv = np.where((keep != 0) & (diag > 0), 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 0.0)
    S = H * np.outer(dinv, dinv)
    S[keep == 0, :] = 0.0
    S[:, keep == 0] = 0.0
    S[np.diag_indices(P)] = np.where(keep == 0, 1.0, np.diag(S))
    h = np.full(n, float(keep.sum()) / n_pos if n_pos > 0 else 0.0)  # singular: the mean leverage
    if ok:
        try:
            L = np.linalg.cholesky(S)
            ok = bool(np.all(np.diag(L) ** 2 > 1e-13) and np.isfinite(L).all())
        except np.linalg.LinAlgError:
            ok = False
    if ok:
        z = J * dinv
        h = wv * np.einsum("ia,ia->i", z, np.linalg.solve(S, z.T).T)
    h = np.where(positive, h, 0.0)
    r = resid / np.sqrt(np.maximum(1.0 - h, 1e-6))
    if scheme == _RESIDUAL:
        r = np.where(positive, np.sqrt(np.where(positive, wv, 0.0)) * r, 0.0)
        if n_pos > 0:
            r = np.where(positive, r - r[positive].sum() / n_pos, r)
    return f, r


#: Points (rows of the replicated data) per call of the numpy solver: its arrays are a few
#: times (n_inputs + 3 n_params) doubles per row, ~60 MiB for a 5-parameter law of 2 inputs.
ROWS_PER_CALL = 1 << 18


def solve_items(
    e: _Engine, n_items: int, items: Callable[[int, int], tuple[IntArray, IntArray]],
    scheme: int, compute_cov: bool,
) -> tuple[FloatArray, Optional[FloatArray], FloatArray, NDArray[np.int32]]:
    """(x, cov, cost, status) of items [0, n_items) of a custom model's bootstrap, as
    ``_Engine.solve_items``: each item's resample drawn by the core's generators, and the items
    solved by the Python LM in calls of at most ``ROWS_PER_CALL`` points (or what
    ``max_memory`` allows), every problem's items of a call in one batch. Status -3 (NaN
    parameters) for an item whose problem cannot be resampled (no point fit, or a model not
    finite at it for the residual schemes)."""
    m = e.m
    assert isinstance(m, CustomModel)
    P = m.n_params
    X = np.full((n_items, P), np.nan)
    C = np.full((n_items, P, P), np.nan) if compute_cov else None
    S = np.full(n_items, _status.BAD_INPUT, dtype=np.int32)
    cost = np.full(n_items, np.nan)
    prepared: dict[int, Optional[tuple[FloatArray, FloatArray]]] = {}
    sizes = np.diff(e.offsets)
    per_call = max(1, _rows_per_call(e) // max(int(sizes.max(initial=1)), 1))
    c = e.common
    for a in range(0, n_items, per_call):
        b = min(n_items, a + per_call)
        prob, rep = items(a, b)
        js: list[int] = []
        where: list[IntArray] = []
        parts: list[tuple[FloatArray, FloatArray, Optional[FloatArray], Optional[NDArray[np.int32]]]] = []
        for j in np.unique(prob):
            d = _draw(e, int(j), rep[prob == j], scheme, prepared)
            if d is not None:
                js.append(int(j))
                where.append(np.flatnonzero(prob == j))
                parts.append(d)
        if not parts:
            continue
        sel = np.concatenate(where) + a
        k = [w.shape[0] for w in where]
        ws = None if all(d[2] is None for d in parts) else np.concatenate(
            [d[2] if d[2] is not None else np.ones(d[1].shape[0]) for d in parts])
        offsets = np.concatenate([[0], np.cumsum(np.repeat(sizes[js], k))]).astype(np.int64)
        p0 = np.repeat(e.center[js], k, axis=0)
        x_out, cov, cost_out, status, _ = _fit.timed_core(functools.partial(
            _custom.solve_batch, m, LOSSES[e.loss_index], np.concatenate([d[0] for d in parts]),
            np.concatenate([d[1] for d in parts]), ws, offsets, np.arange(sel.shape[0], dtype=np.int64),
            p0, e.lo, e.hi, c["ftol"], c["xtol"], c["gtol"], c["max_iter"], c["f_scale"],
            bool(c["log_residuals"]),
        ))
        X[sel], S[sel], cost[sel] = x_out, status, cost_out
        if C is not None:
            mults = [d[3] for d in parts]
            if all(mu is not None for mu in mults):  # to n - P of the resample's n (bootstrap.hpp)
                f = np.concatenate([_dof_factor(e, j, mu) for j, mu in zip(js, mults) if mu is not None])
                cov = cov * f[:, None, None]
            C[sel] = cov
    return X, (None if C is None else C.reshape(n_items, P * P)), cost, S


def _rows_per_call(e: _Engine) -> int:
    """``ROWS_PER_CALL``, or fewer under ``max_memory`` (about 8 (n_inputs + 4 + 3 n_params)
    bytes a row, times 4 for the solver's temporaries)."""
    if e.max_memory is None:
        return ROWS_PER_CALL
    per_row = 32 * (e.m.n_inputs + 4 + 3 * e.m.n_params)
    return max(1, min(ROWS_PER_CALL, int(e.max_memory) // per_row))


def _draw(
    e: _Engine, j: int, reps: IntArray, scheme: int,
    prepared: dict[int, Optional[tuple[FloatArray, FloatArray]]],
) -> Optional[tuple[FloatArray, FloatArray, Optional[FloatArray], Optional[NDArray[np.int32]]]]:
    """Replicates ``reps`` of problem j as weighted copies of its data: (x, y, weights,
    multiplicities (k, n) or None for the target schemes); None where the problem cannot be
    resampled."""
    m = e.m
    assert isinstance(m, CustomModel)
    k = reps.shape[0]
    lo_j, hi_j = int(e.offsets[j]), int(e.offsets[j + 1])
    n = hi_j - lo_j
    center = e.center[j]
    if n == 0 or not np.isfinite(center).all():
        return None
    x = e.x[lo_j:hi_j]
    y = e.y[lo_j:hi_j]
    w = None if e.w is None else e.w[lo_j:hi_j]
    log_res = bool(e.common["log_residuals"])
    pid = int(e.problem_id[j])
    reps = np.ascontiguousarray(reps, dtype=np.int64)
    xs = np.tile(x, (k, 1))
    if scheme in _TARGET_SCHEMES:
        if j not in prepared:
            prepared[j] = prepare_residuals(m, x, y, w, center, log_res, scheme, e.lo, e.hi)
        prep = prepared[j]
        if prep is None:
            return None
        y_space = np.log(y) if log_res else y
        Y = np.asarray(_core.resample_targets(scheme, e.wild, e.seed, pid, reps, np.ascontiguousarray(y_space),
                                              prep[0], prep[1], w, 1))
        return xs, (np.exp(Y) if log_res else Y).reshape(-1), (None if w is None else np.tile(w, k)), None
    groups = n_groups = None
    if scheme in _GROUP_SCHEMES:
        assert e.groups is not None and e.n_groups is not None
        groups, n_groups = np.ascontiguousarray(e.groups[lo_j:hi_j]), int(e.n_groups[j])
    mult = np.asarray(_core.resample_multiplicities(scheme, e.seed, pid, reps, n, groups, n_groups or 0, 1))
    ws = (mult * (1.0 if w is None else w)).reshape(-1).astype(np.float64)
    return xs, np.tile(y, k), ws, mult


def _dof_factor(e: _Engine, j: int, mult: NDArray[np.int32]) -> FloatArray:
    """Per replicate, (n_distinct - P_free) / (n_total - P_free): a multiplicity resample's
    covariance rescaled to the degrees of freedom of the data set it stands for."""
    w = None if e.w is None else e.w[int(e.offsets[j]):int(e.offsets[j + 1])]
    positive = mult > 0 if w is None else (mult > 0) & (w > 0)
    n_distinct = positive.sum(axis=1).astype(np.float64)
    n_total = np.where(positive, mult, 0).sum(axis=1).astype(np.float64)
    p_free = float(np.sum(e.lo != e.hi))
    with np.errstate(all="ignore"):
        return np.where(n_total > p_free, (n_distinct - p_free) / (n_total - p_free), np.nan)
