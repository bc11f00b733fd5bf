"""The model registry: the built-in scaling laws of the C++ core, plus custom models.

Every built-in model is a struct in ``cpp/include/scalingfit/models.hpp`` with an analytic
Jacobian; this module adds what belongs to Python: default bounds, a data-driven initial
guess, the formula, and vectorised prediction.

>>> import scalingfit
>>> m = scalingfit.models.get("saturating_power_law")
>>> m.param_names
('E', 'A', 'alpha')
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Optional, SupportsIndex, Union

import numpy as np
from numpy.typing import NDArray

from . import _core

__all__ = [
    "LOSSES",
    "Model",
    "get",
    "names",
]

FloatArray = NDArray[np.float64]
Guess = Callable[[FloatArray, FloatArray], FloatArray]
# (x, y, problem id of each point, n_problems) -> (n_problems, n_params) starts, NaN rows allowed
BatchGuess = Callable[[FloatArray, FloatArray, NDArray[np.int64], int], FloatArray]
# (x, y, problem id of each point, n_problems) -> (starts (r, n_params), the problem of each
# start (r,), ascending, each problem's starts best first; redo (n_problems,): problems left to
# the single-problem guess, without rows). Every start of initial_guesses, unclipped.
BatchGuesses = Callable[[FloatArray, FloatArray, NDArray[np.int64], int],
                        tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]]

_INF = np.inf


@dataclass(frozen=True, eq=False)
class Model:
    """A scaling law the engine can fit.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"chinchilla"``.
    param_names : tuple of str
        Parameter names in the order of parameter vectors.
    n_inputs : int
        Columns of ``x`` per point (1 for ``L(x)``, 2 for ``L(N, D)``).
    input_names : tuple of str
        Names of the input columns.
    formula : str
        The law, in plain text.
    lower, upper : ndarray
        Default bounds (``-inf``/``inf`` where free).
    positive_inputs : bool
        Whether inputs must be > 0 (the core works with their logarithms).
    index : int
        Index of the core's template instance; ``-1`` for custom (Python) models.
    guess : callable, optional
        ``guess(x, y) -> (k, n_params)`` data-driven starts of one problem, best first
        (:meth:`initial_guesses` clips them to the bounds); None: none (``p0`` needed).
    batch_guess : callable, optional
        ``batch_guess(x, y, problem, n_problems) -> (n_problems, n_params)``: the best start
        of every problem of a batch at once (NaN rows left to ``guess``); None: ``guess`` per
        problem.
    batch_guesses : callable, optional
        ``batch_guesses(x, y, problem, n_problems) -> (starts, problem of each, redo)``:
        every start of every problem at once, each problem's best first (``redo`` marks the
        problems left to ``guess``); None: ``guess`` per problem.
    """

    name: str
    param_names: tuple[str, ...]
    n_inputs: int
    input_names: tuple[str, ...]
    formula: str
    lower: FloatArray
    upper: FloatArray
    positive_inputs: bool
    index: int
    guess: Optional[Guess] = field(default=None, repr=False, compare=False)
    batch_guess: Optional[BatchGuess] = field(default=None, repr=False, compare=False)
    batch_guesses: Optional[BatchGuesses] = field(default=None, repr=False, compare=False)

    @property
    def n_params(self) -> int:
        """Parameters of the law."""
        return len(self.param_names)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Union[str, tuple[Any, ...]]:
        """A built-in model pickles by name, as ``models.get(name)``: its guesses are closures,
        which pickle cannot send, and the copy that arrives is the registered object itself
        (results that hold a model travel to Dask and multiprocessing workers and back)."""
        if _REGISTRY.get(self.name) is self:
            return (get, (self.name,))
        return super().__reduce_ex__(protocol)

    def initial_guesses(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Data-driven starting points for one problem (x: (n, n_inputs), y: (n,)), best
        first, shape (k, n_params), clipped to the default bounds. ``fit`` solves all of them
        in one batch call. A ValueError for a model without ``guess``.

        Parameters
        ----------
        x : ndarray (n, n_inputs)
            The problem's inputs, as read (:func:`scalingfit.fit`'s layout).
        y : ndarray (n,)
            Its observed values.
        """
        if self.guess is None:
            raise ValueError(f"model {self.name!r} has no initial guess: pass p0")
        p = np.asarray(self.guess(x, y), dtype=np.float64).reshape(-1, self.n_params)
        return np.clip(p, self.lower, self.upper)

    def initial_guess(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """The best data-driven starting point for one problem, shape (n_params,): the first
        of :meth:`initial_guesses`.

        Parameters
        ----------
        x : ndarray (n, n_inputs)
            The problem's inputs, as read (:func:`scalingfit.fit`'s layout).
        y : ndarray (n,)
            Its observed values.
        """
        first: FloatArray = self.initial_guesses(x, y)[0]
        return first

    def predict(self, params: Sequence[float] | FloatArray, x: object) -> FloatArray:
        """Model values at points ``x``, read as ``fit`` reads them: shape (n, n_inputs), a
        tuple of n_inputs columns (``(N, D)``), or (n,) or a number for one input; n_inputs
        numbers (``(1e9, 2e10)``) are one point of a law of several inputs.

        Parameters
        ----------
        params : array_like (n_params,)
            Parameter vector, in the order of ``param_names`` (another length is a
            ValueError).
        x : array_like
            The points, as above; each value > 0 for a law with ``positive_inputs`` (NaN
            passes through).
        """
        f, _ = _core.evaluate(self.index, *self._args(params, x))
        return np.asarray(f)

    def predict_many(self, params: FloatArray, x: FloatArray) -> FloatArray:
        """Values at the points ``x`` (as read, shape (n, n_inputs)) of every parameter vector,
        a row of ``params`` (R, n_params): shape (R, n), in one core call.

        Parameters
        ----------
        params : ndarray (R, n_params)
            Parameter vectors, one per row.
        x : ndarray (n, n_inputs)
            The points, already read (not checked here).
        """
        return np.asarray(_core.evaluate_many(self.index, np.ascontiguousarray(x, dtype=np.float64),
                                              np.ascontiguousarray(params, dtype=np.float64)))

    def jacobian(self, params: Sequence[float] | FloatArray, x: object) -> FloatArray:
        """Analytic Jacobian d value / d params at points ``x`` (as for :meth:`predict`),
        shape (n, n_params).

        Parameters
        ----------
        params : array_like (n_params,)
            Parameter vector, in the order of ``param_names`` (another length is a
            ValueError).
        x : array_like
            The points, as above; each value > 0 for a law with ``positive_inputs`` (NaN
            passes through).
        """
        _, J = _core.evaluate(self.index, *self._args(params, x))
        return np.asarray(J)

    def _args(self, params: Sequence[float] | FloatArray, x: object) -> tuple[FloatArray, FloatArray]:
        """(x, params) for the core: x as :func:`_validate.as_inputs` reads it (it was reshaped
        to (-1, n_inputs), which re-paired an ``(N, D)`` tuple's values), each value > 0 for a
        law of positive inputs (the core takes their logarithms: 0 gave inf, -5 NaN).

        An array already in the core's layout (float64, C-contiguous, (n, n_inputs), or (n,)
        for one input) with every value > 0 skips the general reading: scipy loops call this
        per residual evaluation, and the reading cost as much as the core's own evaluation."""
        p = np.ascontiguousarray(np.asarray(params, dtype=np.float64))
        if (type(x) is np.ndarray and x.dtype == np.float64 and x.flags.c_contiguous
                and (x.shape[1:] == (self.n_inputs,) if x.ndim == 2 else x.ndim == 1 == self.n_inputs)
                and p.shape == (self.n_params,) and (not self.positive_inputs or not (x <= 0).any())):
            return x.reshape(-1, self.n_inputs), p
        from . import _validate

        x, _ = _validate.one_point(x, self.n_inputs)  # a number, or (N, D): one point
        xa = _validate.as_inputs(x, self)
        if self.positive_inputs:
            _validate.check_positive(xa, "x", f"{self.name} works with log(x)", self.input_names,
                                     nan_ok=True)
        if p.shape != (self.n_params,):
            raise ValueError(f"params must have {self.n_params} entries for {self.name}, got shape {p.shape}")
        return xa, p


# ---------------------------------------------------------------- initial guesses
def _least_norm_stack(M: FloatArray, y: FloatArray, rows: _Rows) -> tuple[FloatArray, FloatArray]:
    """Least-norm least squares ``y ~ M^T c`` of a stack of problems (M: (T, 3, L), a column a
    row; y: (T, L); rows: their padding), as np.linalg.lstsq(rcond=None) solves it: the SVD
    M^T = U S V^T of the real points (the padding as zero rows), singular values at most
    eps max(n, 3) s_max dropped. Returns c (T, 3) and the squared error (T,); NaN and inf where
    M is not finite (a trial exponent overflowed: LAPACK would fail). The SVD is one LAPACK
    call per matrix, the rest elementwise or a row sum: a problem's values do not depend on
    the stack around it."""
    ok: NDArray[np.bool_] = np.asarray(np.isfinite(M).all(axis=(1, 2)))
    Mz = np.where(ok[:, None, None], rows.zero(M), 0.0)
    yz = rows.zero(y)
    u, s, vt = np.linalg.svd(Mz, full_matrices=False)  # Mz = u diag(s) vt: u = V, vt = U^T
    keep = s > np.finfo(np.float64).eps * np.maximum(rows.n, 3.0)[:, None] * s[:, :1]
    with np.errstate(all="ignore"):
        w = np.where(keep, (vt * yz[:, None, :]).sum(axis=-1) / s, 0.0)
        c = (u * w[:, None, :]).sum(axis=-1)
        r = rows.zero(c[:, 0:1] * M[:, 0] + c[:, 1:2] * M[:, 1] + c[:, 2:3] * M[:, 2] - y, scratch=True)
        sse = (r * r).sum(axis=-1)
    return np.where(ok[:, None], c, np.nan), np.where(ok, sse, np.inf)


# Asymptote candidates of the saturating guesses: E = min(y) - span * c.
_SAT_SPANS = (4.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.03, 0.01)


def _stack_len(n: NDArray[np.int64]) -> NDArray[np.int64]:
    """The length of a problem's row in the stacked guesses, by its points n: n up to 16, then n
    rounded up to one of 8 lengths an octave (18, 20, .., 32, 36, .., 64, 72, ..; at most 1/8 of
    the row padding). A problem's single guess pads its row to the same length, so problems of
    nearby sizes share a stack and the two agree bit for bit (a row sum depends on its length)."""
    n = np.asarray(n, dtype=np.int64)
    _, e = np.frexp(np.maximum(n - 1, 1).astype(np.float64))  # 2^(e-1) <= n - 1 < 2^e
    step = np.where(n > 16, np.left_shift(1, np.maximum(e.astype(np.int64) - 4, 0)), 1)
    return np.asarray((n + step - 1) // step * step, dtype=np.int64)


class _Rows:
    """The real points of a stack of rows (K, L): a row holds its problem's ``count`` points,
    then copies of its last point up to L (which leave min, max, argmin and all() of the row as
    they are). Sums and means count the real points only: the padding is summed as 0.0. Without
    padding they are v.sum(-1) and v.mean(-1), bit for bit. ``scratch=True``: v is a temporary
    whose padding may be overwritten with 0.0 in place (5x faster than a masked copy)."""

    def __init__(self, count: NDArray[np.int64], L: int) -> None:
        self.count = np.asarray(count, dtype=np.int64)
        self.L = int(L)
        self.padded = bool((self.count < self.L).any())
        self.mask = np.arange(self.L) < self.count[:, None]
        self.pad = ~self.mask
        self.n = self.count.astype(np.float64)

    @classmethod
    def whole(cls, shape: tuple[int, ...]) -> _Rows:
        """Rows without padding."""
        return cls(np.full(shape[0], shape[-1], dtype=np.int64), shape[-1])

    def __getitem__(self, sel: Any) -> _Rows:
        return _Rows(self.count[sel], self.L)

    def _shaped(self, a: NDArray[Any], ndim: int) -> NDArray[Any]:
        """a (K, ...) broadcast against an array of ndim axes (K, ..., L or scalar axis)."""
        return a.reshape(a.shape[:1] + (1,) * (ndim - a.ndim) + a.shape[1:])

    def zero(self, v: FloatArray, scratch: bool = False) -> FloatArray:
        """v (K, ..., L) with its padding set to 0.0."""
        if not self.padded:
            return v
        if scratch:
            np.copyto(v, 0.0, where=self._shaped(self.pad, v.ndim))
            return v
        return np.where(self._shaped(self.mask, v.ndim), v, 0.0)

    def sum(self, v: FloatArray, scratch: bool = False) -> FloatArray:
        """The sums of the real points along the last axis, shape v.shape[:-1]."""
        return np.asarray(self.zero(v, scratch).sum(axis=-1))

    def mean(self, v: FloatArray, scratch: bool = False) -> FloatArray:
        """The means of the real points along the last axis, shape v.shape[:-1]."""
        return np.asarray(self.sum(v, scratch) / self._shaped(self.n, v.ndim - 1))

    def quantile(self, v: FloatArray, q: float) -> FloatArray:
        """The q-quantile of each row's real points (v: (K, L)), numpy's default ("linear")."""
        s = np.sort(np.where(self.mask, v, np.inf), axis=-1)
        h = q * (self.n - 1.0)
        lo = np.floor(h)
        i = lo.astype(np.int64)[:, None]
        a = np.take_along_axis(s, i, axis=-1)[:, 0]
        b = np.take_along_axis(s, np.minimum(i + 1, self.count[:, None] - 1), axis=-1)[:, 0]
        f = h - lo
        return np.asarray(np.where(f >= 0.5, b - (b - a) * (1.0 - f), a + (b - a) * f))

    def median(self, v: FloatArray) -> FloatArray:
        """Each row's median of its real points (v: (K, L)), as np.median: the middle value, or
        the mean of the two middle values."""
        s = np.sort(np.where(self.mask, v, np.inf), axis=-1)
        i = ((self.count - 1) // 2)[:, None]
        a = np.take_along_axis(s, i, axis=-1)[:, 0]
        b = np.take_along_axis(s, i + (1 - self.count[:, None] % 2), axis=-1)[:, 0]
        return np.asarray(np.where(self.count % 2 == 1, a, (a + b) / 2.0))


def _pad_rows(n: int) -> NDArray[np.int64]:
    """The row of a problem of n points in the stacked guesses: its indices, then its last
    index repeated up to _stack_len(n)."""
    return np.minimum(np.arange(int(_stack_len(np.array(n)))), n - 1)


def _line_fit(t: FloatArray, v: FloatArray, rows: Optional[_Rows] = None) -> tuple[FloatArray, FloatArray]:
    """Least-squares line ``v ~ c0 + c1 t`` along the last axis of a stack of problems (K, L),
    by centred sums, each row the same operations (numpy adds a contiguous row the same way
    alone or in a stack); ``rows``: the stack's padding (default none). A constant ``t`` gives
    NaN."""
    rows = _Rows.whole(t.shape) if rows is None else rows
    tm = rows.mean(t)[:, None]
    vm = rows.mean(v)[:, None]
    tc = t - tm
    with np.errstate(divide="ignore", invalid="ignore"):
        c1 = rows.sum(tc * (v - vm), scratch=True) / rows.sum(tc * tc, scratch=True)
    return vm[..., 0] - c1 * tm[..., 0], c1


def _sat_stack(t: FloatArray, y: FloatArray, rows: _Rows) -> tuple[FloatArray, FloatArray]:
    """The saturating power law's guess for a stack of problems (t = log x, y: (K, L); rows: their
    padding): for each asymptote E = min(y) - span c below the data (and E = 0 for positive
    data), log(y - E) on log x by least squares; the candidate of least squared error. Returns
    (E, A, alpha) (K, 3) and that error (K,); the fallback (min y, span, 0.5) where no candidate
    fits."""
    ymin, ymax = y.min(axis=-1), y.max(axis=-1)
    span = np.maximum(ymax - ymin, 1e-12 * np.maximum(np.abs(ymin), 1.0))
    best = np.stack([ymin, span, np.full_like(ymin, 0.5)], axis=-1)
    best_sse = np.full(ymin.shape, np.inf)
    found = np.zeros(ymin.shape, dtype=bool)
    cands = [ymin - span * c for c in _SAT_SPANS] + [np.where(ymin > 0, 0.0, np.nan)]
    # _line_fit's operations, with what does not depend on E taken out of the loop
    tm = rows.mean(t)[:, None]
    tc = t - tm
    tss = rows.sum(tc * tc, scratch=True)
    with np.errstate(all="ignore"):
        for E in cands:
            ok = ymin > E  # every y - E > 0 (exactly: x - y == 0 only for x == y in IEEE)
            v = np.log(y - E[..., None])  # NaN where y <= E: those rows are not ok
            vm = rows.mean(v, scratch=True)[:, None]
            c1 = rows.sum(tc * (v - vm), scratch=True) / tss
            p = np.stack([E, np.exp(vm[..., 0] - c1 * tm[..., 0]), -c1], axis=-1)
            r = p[..., 0:1] + p[..., 1:2] * np.exp(-p[..., 2:3] * t) - y
            sse = rows.sum(r * r, scratch=True)
            better = ok & np.isfinite(sse) & (sse < best_sse)
            best = np.where(better[..., None], p, best)
            best_sse = np.where(better, sse, best_sse)
            found |= better
        if not found.all():
            r = best[..., 0:1] + best[..., 1:2] * np.exp(-best[..., 2:3] * t) - y  # the fallback's error
            best_sse = np.where(found, best_sse, rows.sum(r * r, scratch=True))
    return best, best_sse


def _power_stack(t: FloatArray, y: FloatArray, rows: _Rows) -> FloatArray:
    """The power law's guess for a stack (t = log x, y: (K, L); rows: their padding): log|y| on
    log x, the sign of the median y (K, 2)."""
    with np.errstate(all="ignore"):
        c0, c1 = _line_fit(t, np.log(np.abs(y) + 1e-300), rows)
    sign = np.sign(rows.median(y))
    return np.stack([np.exp(c0) * np.where(sign == 0, 1.0, sign), -c1], axis=-1)


_EXPONENT_GRID = (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8)


def _two_term_single(x: FloatArray, y: FloatArray, tied: bool) -> FloatArray:
    """The three best candidates of one problem's grid (_two_term_stack on its padded row)."""
    i = _pad_rows(y.shape[0])
    cand = _two_term_stack(np.log(x[i, 0])[None], np.log(x[i, 1])[None], y[i][None],
                           _Rows(np.array([y.shape[0]]), i.size), tied)
    return np.asarray(cand[0])


def _guess_chinchilla(x: FloatArray, y: FloatArray) -> FloatArray:
    """Variable projection on a grid: for each (alpha, beta), E, A, B by linear least squares.
    Returns the three best grid candidates, best first."""
    return _two_term_single(x, y, tied=False)


def _guess_chinchilla_tied(x: FloatArray, y: FloatArray) -> FloatArray:
    """The diagonal (alpha = beta) of _guess_chinchilla's grid: the three best, best first."""
    return _two_term_single(x, y, tied=True)


def _guess_chinchilla_lse(x: FloatArray, y: FloatArray) -> FloatArray:
    c = _guess_chinchilla(x, y)
    tiny = 1e-3 * float(np.min(y))
    E, A, B = (np.log(np.maximum(c[:, i], tiny)) for i in range(3))
    return np.column_stack([A, B, E, c[:, 3], c[:, 4]])


_KAPLAN_AN = (0.03, 0.05, 0.076, 0.1, 0.15, 0.25, 0.4)
_KAPLAN_AD = (0.03, 0.05, 0.095, 0.15, 0.25, 0.4)
# A start only: Kaplan et al. (2020)'s one-variable constants (eqs. 1.1-1.2: N_c, D_c, alpha_N,
# alpha_D); their joint L(N, D) fit (Table 2) is (6.4e13, 1.8e13, 0.076, 0.103).
_KAPLAN_2020 = np.array([8.8e13, 5.4e13, 0.076, 0.095])


def _segment_max(v: FloatArray, pid: NDArray[np.int64], n: int) -> FloatArray:
    """Largest v of each of the n segments (-inf for an empty one)."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, pid, v)
    return out


def _segment_qr2(c1: FloatArray, c2: FloatArray, y: FloatArray, pid: NDArray[np.int64],
                 n: int) -> FloatArray:
    """Per-problem least squares y ~ b1 c1 + b2 c2 by a QR factorisation (Gram-Schmidt on the
    two columns, every problem at once): the accuracy of lstsq where the normal equations
    would square an ill conditioning (columns such as N^-13 across three decades of N).
    Returns (n, 2); NaN where a column is (numerically) zero or the two are collinear."""
    def ssum(v: FloatArray) -> FloatArray:
        return np.bincount(pid, weights=v, minlength=n).astype(np.float64, copy=False)

    with np.errstate(divide="ignore", invalid="ignore"):
        r11 = np.sqrt(ssum(c1 * c1))
        q1 = c1 / r11[pid]
        r12 = ssum(q1 * c2)
        v = c2 - r12[pid] * q1
        r22 = np.sqrt(ssum(v * v))
        q2 = v / r22[pid]
        b2 = ssum(q2 * y) / r22
        b1 = (ssum(q1 * y) - r12 * b2) / r11
        ok = (r11 > 0) & (r22 > 1e-12 * np.sqrt(ssum(c2 * c2)))
    return np.where(ok[:, None], np.column_stack([b1, b2]), np.nan)


def _kaplan_grid(x: FloatArray, y: FloatArray, pid: NDArray[np.int64],
                 n: int) -> tuple[FloatArray, FloatArray]:
    """For fixed exponents, L^(1/alpha_D) = c1 N^(-alpha_N/alpha_D) + D_c / D is linear in
    (c1, D_c), with N_c = c1^(alpha_D/alpha_N). For every (alpha_N, alpha_D) of the grid and
    every problem: the candidate (G, n, 4) and its squared log error (G, n), inf where the
    pair gives a term that is not positive. One pass over (pair, problem) segments, a few
    pairs at a time for large batches. The linear fits are done in logs with every column
    scaled by its segment's largest entry, so that powers such as N^-13 or L^33 neither
    overflow nor underflow (lstsq on the raw columns read a coefficient of rounding noise,
    1e-13 of either sign, as a live term)."""
    tn, td = np.log(x[:, 0]), np.log(x[:, 1])
    ly = np.log(y)
    grid = np.array([(aN, aD) for aN in _KAPLAN_AN for aD in _KAPLAN_AD])
    cand = np.empty((len(grid), n, 4))
    err = np.empty((len(grid), n))
    per = max(1, 2_000_000 // max(len(y), 1))  # pairs per pass: ~2 million points at most
    for k0 in range(0, len(grid), per):
        aN, aD = grid[k0:k0 + per, :1], grid[k0:k0 + per, 1:]
        b = aN.shape[0]
        seg = (np.arange(b)[:, None] * n + pid[None, :]).ravel()  # (pair, problem) segments
        logs = tuple(np.ravel(v) for v in (-(aN / aD) * tn, np.broadcast_to(-td, (b, len(y))),
                                            ly / aD))  # the two columns and the target, in logs
        top = [_segment_max(v, seg, b * n) for v in logs]
        c1, c2, yp = (np.exp(v - t[seg]) for v, t in zip(logs, top))
        coef = _segment_qr2(c1, c2, yp, seg, b * n)
        rN, rD = np.repeat(aN[:, 0], n), np.repeat(aD[:, 0], n)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_Nc = (rD / rN) * (np.log(coef[:, 0]) + top[2] - top[0])
            log_Dc = np.log(coef[:, 1]) + top[2] - top[1]
            ptn, ptd = np.tile(tn, b), np.tile(td, b)
            log_pred = rD[seg] * np.logaddexp((rN / rD)[seg] * (log_Nc[seg] - ptn), log_Dc[seg] - ptd)
            sse = np.bincount(seg, weights=(log_pred - np.tile(ly, b)) ** 2, minlength=b * n)
            p = np.column_stack([np.exp(log_Nc), np.exp(log_Dc), rN, rD])
        ok = (coef[:, 0] > 0) & (coef[:, 1] > 0) & np.isfinite(p).all(axis=1) & np.isfinite(sse)
        cand[k0:k0 + b] = p.reshape(b, n, 4)
        err[k0:k0 + b] = np.where(ok, sse, np.inf).reshape(b, n)
    return cand, err


def _guess_kaplan_nd(x: FloatArray, y: FloatArray) -> FloatArray:
    """The four best candidates of the exponent grid (by squared log error), best first, then
    Kaplan et al.'s fit."""
    cand, err = _kaplan_grid(x, y, np.zeros(len(y), np.int64), 1)
    order = [k for k in np.argsort(err[:, 0], kind="stable") if np.isfinite(err[k, 0])][:4]
    return np.vstack([cand[k, 0] for k in order] + [_KAPLAN_2020])


def _batch_kaplan_nd(x: FloatArray, y: FloatArray, pid: NDArray[np.int64], n: int) -> FloatArray:
    """The best candidate of _guess_kaplan_nd's grid for every problem at once (Kaplan et
    al.'s fit where no pair gives positive terms)."""
    cand, err = _kaplan_grid_batch(x, y, pid, n)
    k = np.argmin(err, axis=0)  # the first of equal errors, as the stable sort above
    best = cand[k, np.arange(n)]
    return np.where(np.isfinite(err[k, np.arange(n)])[:, None], best, _KAPLAN_2020)


def _parabola_stack(t: FloatArray, y: FloatArray, rows: _Rows) -> FloatArray:
    """The IsoFLOP parabola's guess for a stack (t = log N, y: (K, L); rows: their padding):
    y ~ b0 + b1 u + b2 u^2 in the centred u = t - mean(t), by Cramer's rule on the normal
    equations (elementwise, so a degenerate problem is NaN, not a LAPACK error); the vertex
    (L_opt, log_N_opt, k), or, without positive curvature, the lowest point with a small
    curvature (K, 3)."""
    tm = rows.mean(t)[:, None]
    u = t - tm
    u2 = u * u
    S1, S2, S3, S4 = rows.sum(u, scratch=True), rows.sum(u2, scratch=True), rows.sum(u2 * u, scratch=True), rows.sum(u2 * u2, scratch=True)
    S0 = rows.n
    T0, T1, T2 = rows.sum(y), rows.sum(u * y, scratch=True), rows.sum(u2 * y, scratch=True)

    def det3(a: tuple[FloatArray, ...], b: tuple[FloatArray, ...], c: tuple[FloatArray, ...]) -> FloatArray:
        return np.asarray(a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                          + a[2] * (b[0] * c[1] - b[1] * c[0]))

    r0, r1, r2 = (S0, S1, S2), (S1, S2, S3), (S2, S3, S4)
    with np.errstate(all="ignore"):
        d = det3(r0, r1, r2)
        b0 = det3((T0, S1, S2), (T1, S2, S3), (T2, S3, S4)) / d
        b1 = det3((S0, T0, S2), (S1, T1, S3), (S2, T2, S4)) / d
        b2 = det3((S0, S1, T0), (S1, S2, T1), (S2, S3, T2)) / d
        good = b2 > 0
        vertex = np.stack([b0 - b1 * b1 / (4 * b2), tm[..., 0] - b1 / (2 * b2), b2], axis=-1)
    i = np.argmin(y, axis=-1)[..., None]
    low = np.stack([np.take_along_axis(y, i, axis=-1)[..., 0], np.take_along_axis(t, i, axis=-1)[..., 0],
                    1e-3 * ((y.max(axis=-1) - y.min(axis=-1)) + 1e-12)], axis=-1)
    return np.where(good[..., None], vertex, low)


def _sigmoid_stack(t: FloatArray, y: FloatArray, rows: _Rows) -> FloatArray:
    """The sigmoid's guess for a stack (t = log x, y: (K, L); rows: their padding): floor and
    ceiling the extremes of y, slope 8 / range of t with the sign of the covariance of t and y,
    midpoint at the point nearest halfway (K, 4)."""
    lo, hi = y.min(axis=-1), y.max(axis=-1)
    width = np.maximum(t.max(axis=-1) - t.min(axis=-1), 1e-6)
    tc = t - rows.mean(t)[:, None]
    cov = rows.sum(tc * (y - rows.mean(y)[:, None]), scratch=True)
    k = 8.0 / width * np.where(cov >= 0, 1.0, -1.0)
    i = np.argmin(np.abs(y - (0.5 * (lo + hi))[..., None]), axis=-1)[..., None]
    return np.stack([lo, np.where(hi > lo, hi, lo + 1.0), k, np.take_along_axis(t, i, axis=-1)[..., 0]], axis=-1)


# The broken power law's starts: breaks at these quantiles of log x, asymptotes E = min(y) -
# span c for these c (and E = 0 for positive data), sharpness f; the best _BROKEN_STARTS.
_BROKEN_QUANTILES = (0.25, 0.5, 0.75)
_BROKEN_SPANS = (0.1, 0.01, 0.001)
_BROKEN_F = 0.5
_BROKEN_STARTS = 8


def _broken_stack(s: FloatArray, y: FloatArray, rows: _Rows) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The broken power law's starts for a stack of problems (x = s, y: (K, L); rows: their
    padding). For each break log_x_b at a quantile of log x and each asymptote E below the
    data: log(y - E) on log x as a hinge (a line of slope -alpha, bending by -beta at the break;
    continuous, least squares), f = 0.5; then E and A again by linear least squares on y with those
    exponents (when that gives A > 0). The (at most) eight distinct candidates of least squared
    error on y, best first (K, 8, 6), and which are real; where none fits, the saturating guess
    with a break of sharpness max(0.1 |alpha|, 0.05) at the median log x and f = 1 (the old
    single start).

    Measured on 86 problems (the audit's three, 40 points over 1e3..1e13, and 40 drawn from
    tests/conftest.py's box, 20 points over 1e2..1e8; 1% noise; linear and log residuals): fit
    reaches scipy's best optimum on all 86 (the old start: 5 of 86), the first start alone
    on 66 of 86 (fit_batch's one start).

    The old single start failed on clean data whose break lies inside the range (E off by the
    bend, beta 0.05): status -2, or -1 for log residuals (a model negative at the data)."""
    t = np.log(s)
    ymin, ymax = y.min(axis=-1), y.max(axis=-1)
    span = np.maximum(ymax - ymin, 1e-12 * np.maximum(np.abs(ymin), 1.0))
    asymptotes = [ymin - span * c for c in _BROKEN_SPANS] + [np.where(ymin > 0, 0.0, np.nan)]
    f = _BROKEN_F
    tm = rows.mean(t)[:, None]
    tc = t - tm
    stt = rows.sum(tc * tc, scratch=True)
    ym = rows.mean(y)[:, None]
    yc = y - ym
    cand_p, cand_sse = [], []
    with np.errstate(all="ignore"):
        for q in _BROKEN_QUANTILES:
            b = rows.quantile(t, q)
            h = np.maximum(t - b[..., None], 0.0)
            hm = rows.mean(h, scratch=True)[:, None]
            hc = h - hm
            shh, sth = rows.sum(hc * hc, scratch=True), rows.sum(tc * hc, scratch=True)
            det = stt * shh - sth * sth
            bend = f * np.logaddexp(0.0, (t - b[..., None]) / f)  # the model's smooth hinge
            for E in asymptotes:
                ok = (ymin > E) & (det > 0)  # y - E > 0 at every point (NaN logs elsewhere)
                v = np.log(y - E[..., None])
                vm = rows.mean(v, scratch=True)[:, None]
                vc = v - vm
                stv, shv = rows.sum(tc * vc, scratch=True), rows.sum(hc * vc, scratch=True)
                c1 = (stv * shh - sth * shv) / det
                c2 = (stt * shv - sth * stv) / det
                c0 = vm[..., 0] - c1 * tm[..., 0] - c2 * hm[..., 0]
                g = np.exp(c1[..., None] * t + c2[..., None] * bend)  # the law's shape, A = 1
                gm = rows.mean(g, scratch=True)[:, None]
                gc = g - gm
                A = rows.sum(gc * yc, scratch=True) / rows.sum(gc * gc, scratch=True)
                E2 = ym[..., 0] - A * gm[..., 0]
                proj = (A > 0) & np.isfinite(A) & np.isfinite(E2)
                p = np.stack([np.where(proj, E2, E), np.where(proj, A, np.exp(c0)), -c1, -c2, b,
                              np.full_like(b, f)], axis=-1)
                r = p[..., 0:1] + p[..., 1:2] * g - y
                sse = rows.sum(r * r, scratch=True)
                cand_p.append(p)
                cand_sse.append(np.where(ok & np.isfinite(p).all(axis=-1) & np.isfinite(sse), sse, np.inf))
    p, sse = np.stack(cand_p, axis=-2), np.stack(cand_sse, axis=-1)
    # a candidate equal to another of equal error (E = 0 and a span that give the same E, a
    # quantile that gives the same break) is not a start twice
    order = np.argsort(sse, axis=-1, kind="stable")
    ps, ss = np.take_along_axis(p, order[..., None], axis=-2), np.take_along_axis(sse, order, axis=-1)
    twin = np.zeros(sse.shape, dtype=bool)
    twin[..., 1:] = (ps[..., 1:, :] == ps[..., :-1, :]).all(axis=-1) & (ss[..., 1:] == ss[..., :-1])
    np.put_along_axis(sse, order, np.where(twin, np.inf, ss), axis=-1)
    # where no candidate fits: the saturating guess, a break at the median log x, f = 1
    fallback = np.full(y.shape[:-1] + (6,), np.nan)
    none = ~np.isfinite(sse).any(axis=-1)
    if none.any():
        sat, _ = _sat_stack(t[none], y[none], rows[none])
        fallback[none] = np.concatenate([sat, np.stack([np.maximum(0.1 * np.abs(sat[..., 2]), 0.05),
                                                        rows[none].median(t[none]), np.ones(sat.shape[:-1])],
                                                       axis=-1)], axis=-1)
    return _best_three(p, sse, fallback, _BROKEN_STARTS)


_KAPLAN_NS_AN = (0.03, 0.05, 0.077, 0.1, 0.15, 0.25, 0.4)
_KAPLAN_NS_AS = (0.1, 0.2, 0.4, 0.76, 1.0, 1.5)
_KAPLAN_NS_2020 = np.array([6.5e13, 2.1e3, 0.077, 0.76])  # Kaplan et al. (2020), Table 3


def _kaplan_ns_stack(N: FloatArray, S: FloatArray, y: FloatArray,
                     rows: _Rows) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The guess of kaplan_ns for a stack of problems (N, S, y: (K, L); rows: their padding). For fixed
    exponents, L = c1 N^-alpha_N + c2 S^-alpha_S is linear in (c1, c2) (the 2x2 normal
    equations), and N_c = c1^(1/alpha_N), S_c = c2^(1/alpha_S). Candidates (K, 4, 4): the three
    grid pairs of least squared error with both coefficients > 0 and finite parameters, best
    first (grid order among ties), then Kaplan et al.'s Table 3 values; and which are real."""
    tn, ts = np.log(N), np.log(S)
    K, pairs = y.shape[0], [(aN, aS) for aN in _KAPLAN_NS_AN for aS in _KAPLAN_NS_AS]
    cand = np.empty((K, len(pairs), 4))
    sse = np.empty((K, len(pairs)))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for q, (aN, aS) in enumerate(pairs):
            u, v = np.exp(-aN * tn), np.exp(-aS * ts)
            suu, svv, suv = rows.sum(u * u, scratch=True), rows.sum(v * v, scratch=True), rows.sum(u * v, scratch=True)
            suy, svy = rows.sum(u * y, scratch=True), rows.sum(v * y, scratch=True)
            det = suu * svv - suv * suv
            c1 = (suy * svv - suv * svy) / det
            c2 = (suu * svy - suv * suy) / det
            r = c1[:, None] * u + c2[:, None] * v - y
            cand[:, q] = np.column_stack([c1 ** (1.0 / aN), c2 ** (1.0 / aS), np.full(K, aN), np.full(K, aS)])
            ok = (det > 1e-12 * suu * svv) & (c1 > 0) & (c2 > 0) & np.isfinite(cand[:, q]).all(axis=1)
            sse[:, q] = np.where(ok, rows.sum(r * r, scratch=True), np.inf)
    sse = np.where(np.isfinite(sse), sse, np.inf)
    order = np.argsort(sse, axis=1, kind="stable")[:, :3]
    best = np.take_along_axis(cand, order[..., None], axis=1)
    keep = np.isfinite(np.take_along_axis(sse, order, axis=1))
    out = np.concatenate([best, np.broadcast_to(_KAPLAN_NS_2020, (K, 1, 4))], axis=1)
    return out, np.column_stack([keep, np.ones(K, dtype=bool)])


def _best_three(p: FloatArray, sse: FloatArray, fallback: FloatArray,
                k: int = 3) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Candidates p (K, c, P) with errors sse (K, c): the (at most) three (k) of finite error,
    least first (ties in candidate order), as rows (K, k, P) with a mask of the real ones; the
    fallback (K, P) as the one row of a problem without any."""
    sse = np.where(np.isfinite(sse), sse, np.inf)
    order = np.argsort(sse, axis=-1, kind="stable")[..., :k]
    rows = np.take_along_axis(p, order[..., None], axis=-2)
    keep = np.isfinite(np.take_along_axis(sse, order, axis=-1))
    none = ~keep.any(axis=-1)
    rows[none, 0] = fallback[none]
    keep[none, 0] = True
    return rows, keep


def _lc_stack(s: FloatArray, y: FloatArray, rows: _Rows) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The learning curve's guess for a stack of problems (s, y: (K, L); rows: their padding): a saturating
    power law in s + x0 for each offset x0 in (0, min s / 10, min s, range / 20) with all
    s + x0 > 0; the three of least squared error, best first (K, 3, 4) and which are real."""
    lo = s.min(axis=-1)
    cand_p, cand_sse = [], []
    with np.errstate(all="ignore"):
        for x0 in (np.zeros_like(lo), 0.1 * lo, lo, 0.05 * (s.max(axis=-1) - lo)):
            u = s + x0[..., None]
            ok = (u > 0).all(axis=-1)
            p, sse = _sat_stack(np.log(np.where(ok[..., None], u, 1.0)), y, rows)
            cand_p.append(np.concatenate([p, x0[..., None]], axis=-1))
            cand_sse.append(np.where(ok, sse, np.inf))
    fallback = np.stack([y.min(axis=-1), (y.max(axis=-1) - y.min(axis=-1)) + 1.0,
                         np.full_like(lo, 0.5), np.ones_like(lo)], axis=-1)
    return _best_three(np.stack(cand_p, axis=-2), np.stack(cand_sse, axis=-1), fallback)


def _lra_stack(s1: FloatArray, s2: FloatArray, y: FloatArray,
               rows: _Rows) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The learning-rate annealing law's guess for a stack of problems (s1, s2, y: (K, L); rows:
    their padding): for each C
    in (0, 0.02, 0.05, 0.1) with 1 - C S2 > 0, y / (1 - C S2) as a saturating power law in S1;
    the three of least squared error on y, best first (K, 3, 4) and which are real."""
    t1 = np.log(s1)
    cand_p, cand_sse = [], []
    with np.errstate(all="ignore"):
        for C in (0.0, 0.02, 0.05, 0.1):
            m = 1.0 - C * s2
            ok = (m > 0).all(axis=-1)
            p, _ = _sat_stack(t1, y / m, rows)
            r = (p[..., 0:1] + p[..., 1:2] * np.exp(-p[..., 2:3] * t1)) * m - y
            cand_p.append(np.concatenate([p, np.full(p.shape[:-1] + (1,), C)], axis=-1))
            cand_sse.append(np.where(ok, rows.sum(r * r, scratch=True), np.inf))
    ymin = y.min(axis=-1)
    fallback = np.stack([ymin, (y.max(axis=-1) - ymin) + 1.0, np.full_like(ymin, 0.5), np.zeros_like(ymin)], axis=-1)
    return _best_three(np.stack(cand_p, axis=-2), np.stack(cand_sse, axis=-1), fallback)


#: Muennighoff et al. (2023)'s published decay constants R_D*, R_N* (their stage-2 fit on C4;
#: ``scalingfit.planning.MUENNIGHOFF_2023`` is their law); the model's rates are 1 / R*.
MUENNIGHOFF_2023_R_STAR = (15.387756, 5.309743)
_MUENNIGHOFF_RATES = (1.0 / MUENNIGHOFF_2023_R_STAR[0], 1.0 / MUENNIGHOFF_2023_R_STAR[1])


def repeat_phi(z: FloatArray) -> FloatArray:
    """``phi(z) = (1 - exp(-z)) / z`` (z >= 0), to a few ulps down to ``z = 0`` (expm1 keeps
    the small-z digits; a series to z^2 below 1e-4 was 4e-14 off): the effective count of
    Muennighoff et al.'s law is ``U (1 + R phi(R / R*))`` for R repetitions."""
    z = np.asarray(z, dtype=np.float64)
    zero = z == 0
    zs = np.where(zero, 1.0, z)
    return np.asarray(np.where(zero, 1.0, -np.expm1(-zs) / zs))


def _guess_data_constrained(x: FloatArray, y: FloatArray) -> FloatArray:
    """Chinchilla's grid guess on (N, effective data at Muennighoff et al.'s decay rate), with
    their decay rates: three starts, best first."""
    N, D, U = x[:, 0], x[:, 1], x[:, 2]
    ud = np.minimum(U, D)
    rd = D / ud - 1.0
    d_eff = ud * (1.0 + rd * repeat_phi(rd * _MUENNIGHOFF_RATES[0]))
    c = _guess_chinchilla(np.column_stack([N, d_eff]), y)
    c[:, 1:3] = np.maximum(c[:, 1:3], 1e-3 * float(np.min(np.abs(y))) + 1e-12)  # A, B > 0
    c[:, 3:5] = np.maximum(c[:, 3:5], 1e-3)
    rates = np.broadcast_to(np.array(_MUENNIGHOFF_RATES), (c.shape[0], 2))
    return np.column_stack([c, rates])


# ---------------------------------------------------------------- every start of every problem
# compare_batch(starts="all") fits each problem from every start of its single-problem guess.
# The functions below give those starts for all problems at once, bit for bit, for the models
# whose grids make the per-problem loop slow (the two-term grids of chinchilla and its variants,
# kaplan_nd's exponent grid) and for the guesses written as stack functions: each runs its
# _guess_* with the same floating-point operations on a stack of problems (the same row sums,
# LAPACK and BLAS calls per problem; a problem's row padded to _stack_len of its size in both,
# so that problems of nearby sizes share a stack). A problem left to the single guess (none of
# points) comes back marked ``redo``, without rows (BatchGuesses, above). Other models loop.
# Call them under _fit.quiet().

_STACK_POINTS = 1 << 15  # points of the problems stacked in one pass (memory: grids times this)


def _size_groups(pid: NDArray[np.int64], n: int, points: int = _STACK_POINTS
                 ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]:
    """Stacks of problems of one padded length L (_stack_len of their sizes): (problems (k,),
    their rows (k, L): a problem's rows in their order in the batch, then its last row again up
    to L, and their sizes (k,)), about ``points`` points a stack at most; none for empty
    problems."""
    counts = np.bincount(pid, minlength=n)
    length = _stack_len(counts)
    order = np.argsort(pid, kind="stable")
    first = np.cumsum(counts) - counts
    for c in np.unique(length[counts > 0]):
        probs = np.flatnonzero((length == c) & (counts > 0))
        per = max(1, points // int(c))
        for k0 in range(0, probs.size, per):
            pr = probs[k0:k0 + per]
            yield pr, order[first[pr][:, None] + np.minimum(np.arange(c), counts[pr][:, None] - 1)], counts[pr]


class _Starts:
    """Rows of starts gathered stack by stack, handed back in problem order. Problems without
    points are left to the single guess (it decides whether they raise)."""

    def __init__(self, pid: NDArray[np.int64], n: int, n_params: int) -> None:
        self.redo = np.bincount(pid, minlength=n) == 0
        self.n_params = n_params
        self._owner: list[NDArray[np.int64]] = []
        self._rows: list[FloatArray] = []

    def add(self, probs: NDArray[np.int64], cand: FloatArray, keep: Optional[NDArray[np.bool_]] = None) -> None:
        """cand (k, r, n_params): each problem's candidates in order; keep (k, r): which are starts."""
        keep = np.ones(cand.shape[:2], dtype=bool) if keep is None else keep
        self._owner.append(np.broadcast_to(probs[:, None], keep.shape)[keep])
        self._rows.append(cand[keep])

    def result(self) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
        if not self._rows:
            return np.zeros((0, self.n_params)), np.zeros(0, dtype=np.int64), self.redo
        owner = np.concatenate(self._owner).astype(np.int64, copy=False)
        rows = np.concatenate(self._rows)
        o = np.argsort(owner, kind="stable")
        owner, rows = owner[o], rows[o]
        keep = ~self.redo[owner]
        return rows[keep], owner[keep], self.redo


def _grid_two_term_stack(ta: FloatArray, tb: FloatArray, y: FloatArray, g: FloatArray,
                         rows: _Rows) -> tuple[FloatArray, FloatArray]:
    """y ~ c0 + c1 exp(-al ta) + c2 exp(-be tb) by linear least squares for every (al, be) of
    g x g and every problem of a stack (ta, tb, y: (K, L); rows: their padding) at once:
    centred columns (which removes their collinearity with the constant term) and the 2 x 2
    normal equations solved in closed form. Returns coef (K, G, G, 3) and the sum of squared
    residuals (K, G, G), inf where the pair's columns are (nearly) collinear."""
    A = np.exp(-g[None, :, None] * ta[:, None, :])  # (K, G, L): the alpha columns
    B = np.exp(-g[None, :, None] * tb[:, None, :])
    am, bm, ym = rows.mean(A, scratch=True), rows.mean(B, scratch=True), rows.mean(y)
    A = rows.zero(A - am[:, :, None], scratch=True)
    B = rows.zero(B - bm[:, :, None], scratch=True)
    yc = rows.zero(y - ym[:, None], scratch=True)
    saa, sbb = np.einsum("kin,kin->ki", A, A), np.einsum("kjn,kjn->kj", B, B)
    sab = A @ B.transpose(0, 2, 1)
    say, sby = (A @ yc[:, :, None])[..., 0], (B @ yc[:, :, None])[..., 0]
    det = saa[:, :, None] * sbb[:, None, :] - sab * sab
    ok = det > 1e-12 * saa[:, :, None] * sbb[:, None, :]  # a squared correlation below 1 - 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        c1 = np.where(ok, (say[:, :, None] * sbb[:, None, :] - sab * sby[:, None, :]) / det, 0.0)
        c2 = np.where(ok, (saa[:, :, None] * sby[:, None, :] - sab * say[:, :, None]) / det, 0.0)
    c0 = ym[:, None, None] - c1 * am[:, :, None] - c2 * bm[:, None, :]
    # The residuals themselves (not sum y^2 - c^T b, which cancels for a close fit), one alpha
    # at a time so that memory stays at K x G x L.
    sse = np.empty_like(det)
    for i in range(g.size):
        r = yc[:, None, :] - c1[:, i, :, None] * A[:, i][:, None, :] - c2[:, i, :, None] * B
        sse[:, i] = np.einsum("kjn,kjn->kj", r, r)
    sse = np.where(ok & np.isfinite(sse), sse, np.inf)
    return np.stack([c0, c1, c2], axis=-1), sse


def _two_term_stack(tn: FloatArray, td: FloatArray, y: FloatArray, rows: _Rows,
                    tied: bool) -> FloatArray:
    """The three best candidates (K, 3, 5) (tied: (K, 3, 4)) of _guess_chinchilla's grid (tied:
    its diagonal) for a stack of problems (log N, log D, y: (K, L); rows: their padding), best
    first, a candidate with a term <= 0 counted at 10x its error (ties: grid order, alpha
    first). A pair whose columns are collinear (e.g. D = M N at one M and alpha = beta) by
    least-norm least squares (_least_norm_stack), all such pairs of the stack at once."""
    g = np.asarray(_EXPONENT_GRID, dtype=np.float64)
    G, K = g.size, y.shape[0]
    coef, sse = _grid_two_term_stack(tn, td, y, g, rows)
    if tied:
        d = np.arange(G)
        coef, sse = coef[:, d, d], sse[:, d, d]
    else:
        coef, sse = coef.reshape(K, G * G, 3), sse.reshape(K, G * G)
    k, q = np.nonzero(~np.isfinite(sse))
    if k.size:
        i, j = (q, q) if tied else (q // G, q % G)
        M = np.stack([np.ones_like(tn[k]), np.exp(-g[i][:, None] * tn[k]), np.exp(-g[j][:, None] * td[k])], axis=1)
        coef[k, q], sse[k, q] = _least_norm_stack(M, y[k], rows[k])
    sse = np.where((coef[..., 1] <= 0) | (coef[..., 2] <= 0), 10.0 * sse, sse)  # prefer positive terms
    order = np.argsort(sse, axis=1, kind="stable")[:, :3]
    exps = [g[order]] if tied else [g[order // G], g[order % G]]
    return np.concatenate([np.take_along_axis(coef, order[..., None], axis=1)]
                          + [e[..., None] for e in exps], axis=-1)


def _two_term_starts(x: FloatArray, y: FloatArray, pid: NDArray[np.int64], n: int,
                     tied: bool) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    """The starts of _guess_chinchilla (or _guess_chinchilla_tied) of every problem."""
    tn, td = np.log(x[:, 0]), np.log(x[:, 1])
    out = _Starts(pid, n, 4 if tied else 5)
    for probs, rows, count in _size_groups(pid, n):
        out.add(probs, _two_term_stack(tn[rows], td[rows], y[rows], _Rows(count, rows.shape[1]), tied))
    return out.result()


def _all_chinchilla(x: FloatArray, y: FloatArray, pid: NDArray[np.int64],
                    n: int) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    return _two_term_starts(x, y, pid, n, tied=False)


def _all_chinchilla_tied(x: FloatArray, y: FloatArray, pid: NDArray[np.int64],
                         n: int) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    return _two_term_starts(x, y, pid, n, tied=True)


def _segment_min(v: FloatArray, pid: NDArray[np.int64], n: int) -> FloatArray:
    out = np.full(n, np.inf)
    np.minimum.at(out, pid, v)
    return out


def _all_chinchilla_lse(x: FloatArray, y: FloatArray, pid: NDArray[np.int64],
                        n: int) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    c, owner, redo = _two_term_starts(x, y, pid, n, tied=False)
    tiny = (1e-3 * _segment_min(y, pid, n))[owner]
    E, A, B = (np.log(np.maximum(c[:, i], tiny)) for i in range(3))
    return np.column_stack([A, B, E, c[:, 3], c[:, 4]]), owner, redo


def _all_data_constrained(x: FloatArray, y: FloatArray, pid: NDArray[np.int64],
                          n: int) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    N, D, U = x[:, 0], x[:, 1], x[:, 2]
    ud = np.minimum(U, D)
    rd = D / ud - 1.0
    d_eff = ud * (1.0 + rd * repeat_phi(rd * _MUENNIGHOFF_RATES[0]))
    c, owner, redo = _two_term_starts(np.column_stack([N, d_eff]), y, pid, n, tied=False)
    floor = (1e-3 * _segment_min(np.abs(y), pid, n) + 1e-12)[owner]
    c[:, 1:3] = np.maximum(c[:, 1:3], floor[:, None])
    c[:, 3:5] = np.maximum(c[:, 3:5], 1e-3)
    rates = np.broadcast_to(np.array(_MUENNIGHOFF_RATES), (c.shape[0], 2))
    return np.column_stack([c, rates]), owner, redo


def _stacked_starts(x: FloatArray, y: FloatArray, pid: NDArray[np.int64], n: int, n_params: int,
                    stack: Callable[..., tuple[FloatArray, NDArray[np.bool_]]]
                    ) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    """The starts of a guess written as a stack function (each input column (K, L), then y,
    then the rows' padding (_Rows); returning candidates (K, c, n_params) and which are starts
    (K, c)) for every problem: stacks of problems of one padded length, gathered contiguous as
    the single guess sees its problem."""
    out = _Starts(pid, n, n_params)
    cols = [np.ascontiguousarray(x[:, i]) for i in range(x.shape[1])]
    for probs, rows, count in _size_groups(pid, n):
        cand, keep = stack(*[c[rows] for c in cols], y[rows], _Rows(count, rows.shape[1]))
        out.add(probs, cand, keep)
    return out.result()


def _one_row(stack: Callable[[FloatArray, FloatArray, _Rows], FloatArray]
             ) -> Callable[[FloatArray, FloatArray, _Rows], tuple[FloatArray, NDArray[np.bool_]]]:
    """A one-start stack guess on log x as the rows of _one_input_starts."""
    def rows(s: FloatArray, y: FloatArray, pad: _Rows) -> tuple[FloatArray, NDArray[np.bool_]]:
        p = stack(np.log(s), y, pad)
        return p[:, None, :], np.ones((p.shape[0], 1), dtype=bool)
    return rows


def _first_of(all_starts: BatchGuesses, n_params: int) -> BatchGuess:
    """A one-start batch guess from an all-starts one: each problem's best start (the single
    guess's, bit for bit); NaN for a problem it leaves to the single guess."""
    def first(x: FloatArray, y: FloatArray, pid: NDArray[np.int64], n: int) -> FloatArray:
        rows, owner, _ = all_starts(x, y, pid, n)
        out = np.full((n, n_params), np.nan)
        lead = np.r_[True, owner[1:] != owner[:-1]] if owner.size else np.zeros(0, dtype=bool)
        out[owner[lead]] = rows[lead]
        return out
    return first


def _kaplan_grid_stack(tn: FloatArray, td: FloatArray, ly: FloatArray,
                       last: NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """_kaplan_grid for a stack of problems, bit for bit: log N, log D and log L of shape (c, k),
    a problem a column, its points in rows 0..last (the rows below are padding, never read). One
    exponent pair at a time over the whole stack, without _kaplan_grid's gathers and segment
    sums: np.bincount adds a segment's points in order from 0.0, which is a running sum down
    the column (plus 0.0, for a sum of -0.0 terms), read at its last point."""
    col = np.arange(tn.shape[1])

    def ssum(v: FloatArray) -> FloatArray:
        return np.asarray(np.add.accumulate(v, axis=0)[last, col] + 0.0)

    def smax(v: FloatArray) -> FloatArray:  # no ties of 0.0 and -0.0: a column's zeros share a sign
        return np.asarray(np.maximum.accumulate(v, axis=0)[last, col])

    grid = [(aN, aD) for aN in _KAPLAN_AN for aD in _KAPLAN_AD]
    cand = np.empty((len(grid), col.size, 4))
    err = np.empty((len(grid), col.size))
    mtd = -td
    top1 = smax(mtd)
    c2 = np.exp(mtd - top1)
    s22 = np.sqrt(ssum(c2 * c2))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for g, (aN, aD) in enumerate(grid):
            l0, l2 = -(aN / aD) * tn, ly / aD
            top0, top2 = smax(l0), smax(l2)
            c1, yp = np.exp(l0 - top0), np.exp(l2 - top2)
            # _segment_qr2
            r11 = np.sqrt(ssum(c1 * c1))
            q1 = c1 / r11
            r12 = ssum(q1 * c2)
            v = c2 - r12 * q1
            r22 = np.sqrt(ssum(v * v))
            q2 = v / r22
            b2 = ssum(q2 * yp) / r22
            b1 = (ssum(q1 * yp) - r12 * b2) / r11
            fit = (r11 > 0) & (r22 > 1e-12 * s22)
            b1, b2 = np.where(fit, b1, np.nan), np.where(fit, b2, np.nan)
            log_Nc = (aD / aN) * (np.log(b1) + top2 - top0)
            log_Dc = np.log(b2) + top2 - top1
            log_pred = aD * np.logaddexp((aN / aD) * (log_Nc - tn), log_Dc - td)
            sse = ssum((log_pred - ly) ** 2)
            cand[g, :, 0], cand[g, :, 1], cand[g, :, 2:] = np.exp(log_Nc), np.exp(log_Dc), (aN, aD)
            ok = (b1 > 0) & (b2 > 0) & np.isfinite(cand[g]).all(axis=1) & np.isfinite(sse)
            err[g] = np.where(ok, sse, np.inf)
    return cand, err


def _padded_stacks(pid: NDArray[np.int64], n: int, points: int
                   ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]:
    """Stacks of problems of similar sizes (at most 1.25 times the smallest's points), about
    ``points`` rows a stack at most: (problems (k,), rows (c, k): a problem's rows in their
    order down its column, padded with its last row, the index of that last row (k,))."""
    counts = np.bincount(pid, minlength=n)
    order = np.argsort(pid, kind="stable")
    first = np.cumsum(counts) - counts
    by_size = np.argsort(counts, kind="stable")
    by_size = by_size[counts[by_size] > 0]
    sizes = counts[by_size]
    i = 0
    while i < by_size.size:
        j = int(np.searchsorted(sizes, 1.25 * sizes[i], side="right"))
        j = min(j, i + max(1, points // int(sizes[j - 1])))
        probs = by_size[i:j]
        last = counts[probs] - 1
        rows = order[first[probs] + np.minimum(np.arange(int(sizes[j - 1]))[:, None], last)]
        yield probs, rows, last
        i = j


def _kaplan_grid_batch(x: FloatArray, y: FloatArray, pid: NDArray[np.int64], n: int) -> tuple[FloatArray, FloatArray]:
    """_kaplan_grid, bit for bit, faster on many problems (twice on 1,000 of 50 points): stacks
    of problems of similar sizes by _kaplan_grid_stack, the few others by _kaplan_grid."""
    G = len(_KAPLAN_AN) * len(_KAPLAN_AD)
    cand, err = np.empty((G, n, 4)), np.empty((G, n))
    rest = np.ones(n, dtype=bool)
    tn, td, ly = np.log(x[:, 0]), np.log(x[:, 1]), np.log(y)
    for probs, rows, last in _padded_stacks(pid, n, 1 << 15):
        if last.sum() >= 2000:  # fewer points: the stack's overhead (per pair) outweighs its gain
            cand[:, probs], err[:, probs] = _kaplan_grid_stack(tn[rows], td[rows], ly[rows], last)
            rest[probs] = False
    if rest.any():
        keep = rest[pid]
        sub = np.cumsum(rest) - 1
        cand[:, rest], err[:, rest] = _kaplan_grid(x[keep], y[keep], sub[pid[keep]], int(rest.sum()))
    return cand, err


def _all_kaplan_nd(x: FloatArray, y: FloatArray, pid: NDArray[np.int64],
                   n: int) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    """_guess_kaplan_nd of every problem: the grid of _kaplan_grid is already per problem."""
    cand, err = _kaplan_grid_batch(x, y, pid, n)
    order = np.argsort(err, axis=0, kind="stable")[:4]  # (4, n); inf (no candidate) last
    best = np.take_along_axis(cand, order[..., None], axis=0).transpose(1, 0, 2)
    keep = np.isfinite(np.take_along_axis(err, order, axis=0)).T
    out = _Starts(pid, n, 4)
    out.add(np.arange(n), np.concatenate([best, np.broadcast_to(_KAPLAN_2020, (n, 1, 4))], axis=1),
            np.column_stack([keep, np.ones(n, dtype=bool)]))
    return out.result()


# Guesses written as stack functions (rows padded to _stack_len): (n_params, stack function).
_STACK_GUESSES: dict[str, tuple[int, Callable[..., tuple[FloatArray, NDArray[np.bool_]]]]] = {
    "power_law": (2, _one_row(_power_stack)),
    "saturating_power_law": (3, _one_row(lambda t, v, rows: _sat_stack(t, v, rows)[0])),
    "isoflop_parabola": (3, _one_row(_parabola_stack)),
    "sigmoid": (4, _one_row(_sigmoid_stack)),
    "broken_power_law": (6, _broken_stack),
    "learning_curve": (4, _lc_stack),
    "lr_annealing": (4, _lra_stack),
    "kaplan_ns": (4, _kaplan_ns_stack),
}
_STACKED: dict[str, BatchGuesses] = {name: partial(_stacked_starts, n_params=P, stack=stack)
                                     for name, (P, stack) in _STACK_GUESSES.items()}


def _single(stack: Callable[..., tuple[FloatArray, NDArray[np.bool_]]]) -> Guess:
    """The one-problem guess of a stack guess: the problem as a stack of one, its row padded
    and its input columns contiguous as :func:`_stacked_starts` gathers them (so the two agree
    bit for bit)."""
    def guess(x: FloatArray, y: FloatArray) -> FloatArray:
        i = _pad_rows(y.shape[0])
        rows, keep = stack(*(np.ascontiguousarray(x[:, c])[i][None] for c in range(x.shape[1])), y[i][None],
                           _Rows(np.array([y.shape[0]]), i.size))
        return np.asarray(rows[0][keep[0]])
    return guess


# The one-problem guesses of these models (initial_guesses), best first.
_SINGLE: dict[str, Guess] = {name: _single(stack) for name, (_, stack) in _STACK_GUESSES.items()}

_BATCH: dict[str, BatchGuess] = {
    **{name: _first_of(_STACKED[name], P) for name, (P, _) in _STACK_GUESSES.items()},
    # the best of every problem's starts, as fit() orders them (bit for bit its first start;
    # 10x faster than a grid of per-problem solves: 0.08 s for 10,000 Chinchilla problems)
    **{name: _first_of(all_starts, P) for name, all_starts, P in (
        ("chinchilla", _all_chinchilla, 5), ("chinchilla_lse", _all_chinchilla_lse, 5),
        ("chinchilla_tied", _all_chinchilla_tied, 4), ("data_constrained", _all_data_constrained, 7))},
    "kaplan_nd": _batch_kaplan_nd,
}

# Every start of every problem at once (compare_batch, fit_many, ...); the others loop.
_BATCH_ALL: dict[str, BatchGuesses] = {
    **_STACKED,
    "chinchilla": _all_chinchilla,
    "chinchilla_tied": _all_chinchilla_tied,
    "chinchilla_lse": _all_chinchilla_lse,
    "kaplan_nd": _all_kaplan_nd,
    "data_constrained": _all_data_constrained,
}

_SPEC: dict[str, tuple[tuple[str, ...], str, Guess, dict[str, tuple[float, float]]]] = {
    "power_law": (("x",), "A * x^-alpha", _SINGLE["power_law"], {}),
    "saturating_power_law": (("x",), "E + A * x^-alpha", _SINGLE["saturating_power_law"], {}),
    "chinchilla": (("N", "D"), "E + A / N^alpha + B / D^beta", _guess_chinchilla, {}),
    "chinchilla_tied": (("N", "D"), "E + A / N^alpha + B / D^alpha", _guess_chinchilla_tied, {}),
    "chinchilla_lse": (
        ("N", "D"),
        "exp(LSE(a - alpha log N, b - beta log D, e)); A=e^a, B=e^b, E=e^e",
        _guess_chinchilla_lse,
        {},
    ),
    "kaplan_nd": (
        ("N", "D"),
        "[(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D",
        _guess_kaplan_nd,
        {"N_c": (0.0, _INF), "D_c": (0.0, _INF), "alpha_D": (1e-6, _INF)},
    ),
    "isoflop_parabola": (("N",), "L_opt + k (log N - log_N_opt)^2", _SINGLE["isoflop_parabola"], {}),
    "sigmoid": (("x",), "lo + (hi - lo) / (1 + exp(-k (log x - log_x0)))", _SINGLE["sigmoid"], {}),
    "broken_power_law": (
        ("x",),
        "E + A x^-alpha (1 + (x / e^log_x_b)^(1/f))^(-beta f)",
        _SINGLE["broken_power_law"],
        {"f": (1e-6, _INF)},
    ),
    "kaplan_ns": (
        ("N", "S"),
        "(N_c / N)^alpha_N + (S_c / S)^alpha_S",
        _SINGLE["kaplan_ns"],
        {"N_c": (0.0, _INF), "S_c": (0.0, _INF)},
    ),
    "learning_curve": (("x",), "E + A * (x + x0)^-alpha", _SINGLE["learning_curve"], {"x0": (0.0, _INF)}),
    "lr_annealing": (
        ("S1", "S2"),
        "(L0 + A * S1^-alpha) * (1 - C * S2)",
        _SINGLE["lr_annealing"],
        {},
    ),
    "data_constrained": (
        ("N", "D", "U"),
        ("E + A / N'^alpha + B / D'^beta; N', D' effective under repetition of U unique tokens "
         "(Muennighoff et al.), decay rates r_D = 1/R_D*, r_N = 1/R_N*"),
        _guess_data_constrained,
        {"A": (0.0, _INF), "B": (0.0, _INF), "alpha": (1e-6, _INF), "beta": (1e-6, _INF),
         "r_D": (0.0, _INF), "r_N": (0.0, _INF)},
    ),
}


def _build_registry() -> dict[str, Model]:
    reg: dict[str, Model] = {}
    for info in _core.model_info():
        name = str(info["name"])
        inputs, formula, guess, bounds = _SPEC[name]
        names = tuple(str(n) for n in info["param_names"])
        lower = np.full(len(names), -_INF)
        upper = np.full(len(names), _INF)
        for pname, (lo, hi) in bounds.items():
            lower[names.index(pname)] = lo
            upper[names.index(pname)] = hi
        reg[name] = Model(
            name=name,
            param_names=names,
            n_inputs=int(info["n_inputs"]),
            input_names=inputs,
            formula=formula,
            lower=lower,
            upper=upper,
            positive_inputs=bool(info["log_inputs"]),
            index=int(info["index"]),
            guess=guess,
            batch_guess=_BATCH.get(name),
            batch_guesses=_BATCH_ALL.get(name),
        )
    return reg


_REGISTRY: dict[str, Model] = _build_registry()
LOSSES: tuple[str, ...] = tuple(str(n) for n in _core.loss_names())


def names() -> list[str]:
    """Names of the built-in models."""
    return list(_REGISTRY)


def get(model: str | Model) -> Model:
    """Look a model up by name (a :class:`Model` passes through).

    Parameters
    ----------
    model : str or Model
        A built-in model's name (:func:`names`; another is a ValueError listing them) or a
        model.
    """
    if isinstance(model, Model):
        return model
    try:
        return _REGISTRY[model]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown model {model!r}; built-in models are: {', '.join(_REGISTRY)}"
        ) from None
