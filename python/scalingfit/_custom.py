"""Custom models: a vectorised Python callable fitted through the same API (slower path).

The whole batch is evaluated in one call per iteration: every item's points are stacked, so
``func`` sees an (m, n_inputs) array of points and an (m, n_params) array holding each point's
item parameters. The LM iteration mirrors the C++ core (same objective, damping rule, active-set
bounds and stopping tests), vectorised over items with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from numpy.typing import NDArray

from . import _status
from .losses import rho as loss_rho

FloatArray = NDArray[np.float64]
ModelFunc = Callable[[FloatArray, FloatArray], FloatArray]


@dataclass(frozen=True)
class CustomModel:
    """A user-defined law.

    Parameters
    ----------
    func : callable
        ``func(x, p) -> values`` with ``x`` of shape (m, n_inputs) and ``p`` of shape
        (m, n_params) (row i holds the parameters for point i); returns shape (m,).
    param_names : tuple of str
    n_inputs : int
    jac : callable, optional
        ``jac(x, p) -> (m, n_params)``. Without it, central finite differences are used.
    name : str
    lower, upper : array_like, optional
        Default bounds.

    Examples
    --------
    >>> import numpy as np, scalingfit
    >>> m = scalingfit.CustomModel(lambda x, p: p[:, 0] * x[:, 0] ** -p[:, 1], ("A", "alpha"))
    >>> x = np.array([1.0, 2, 4, 8]); r = scalingfit.fit(m, x, 3 * x ** -0.5, p0=[1.0, 0.1])
    >>> round(r.params["alpha"], 6)
    0.5
    """

    func: ModelFunc
    param_names: tuple[str, ...]
    n_inputs: int = 1
    jac: Optional[Callable[[FloatArray, FloatArray], FloatArray]] = None
    name: str = "custom"
    lower: Optional[FloatArray] = field(default=None)
    upper: Optional[FloatArray] = field(default=None)

    index: int = -1
    positive_inputs: bool = False
    guess: None = None

    def __post_init__(self) -> None:
        P = len(self.param_names)
        lo = np.full(P, -np.inf) if self.lower is None else np.asarray(self.lower, float)
        hi = np.full(P, np.inf) if self.upper is None else np.asarray(self.upper, float)
        object.__setattr__(self, "param_names", tuple(self.param_names))
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f"x{i}" for i in range(self.n_inputs))

    def initial_guesses(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Raises ValueError: a custom law has no data-driven start (pass ``p0``)."""
        raise ValueError(f"custom model {self.name!r} needs p0 (no initial guess is known)")

    def initial_guess(self, x: FloatArray, y: FloatArray) -> FloatArray:
        return self.initial_guesses(x, y)

    def predict(self, params: FloatArray, x: FloatArray) -> FloatArray:
        xa = np.asarray(x, dtype=np.float64).reshape(-1, self.n_inputs)
        p = np.broadcast_to(np.asarray(params, dtype=np.float64), (xa.shape[0], self.n_params))
        return np.asarray(self.func(xa, p), dtype=np.float64)

    def value_and_jacobian(self, x: FloatArray, p: FloatArray) -> tuple[FloatArray, FloatArray]:
        f = np.asarray(self.func(x, p), dtype=np.float64)
        if self.jac is not None:
            return f, np.asarray(self.jac(x, p), dtype=np.float64)
        J = np.empty(p.shape)
        for a in range(p.shape[1]):
            h = 1e-6 * np.maximum(np.abs(p[:, a]), 1e-3)
            pp, pm = p.copy(), p.copy()
            pp[:, a] += h
            pm[:, a] -= h
            J[:, a] = (np.asarray(self.func(x, pp)) - np.asarray(self.func(x, pm))) / (2 * h)
        return f, J


#: lm.hpp's kDampingFloor.
DAMPING_FLOOR = 1e-8
#: lm.hpp's curvature switch: kCurvatureFloor, kSwitchRatio, kSwitchSteps, kSwitchDecrease.
CURVATURE_FLOOR = 1e-8
SWITCH_RATIO = 1.5
SWITCH_STEPS = 2
SWITCH_DECREASE = 1e-4


def solve_batch(
    model: CustomModel,
    loss: str,
    x: FloatArray,
    y: FloatArray,
    w: Optional[FloatArray],
    offsets: NDArray[np.int64],
    problem: NDArray[np.int64],
    p0: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    ftol: float,
    xtol: float,
    gtol: float,
    max_iter: int,
    f_scale: float,
    log_residuals: bool,
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int32], NDArray[np.int32]]:
    """The Python twin of ``_core.solve_batch`` for custom models (same outputs, the same rules
    as lm.hpp: Jacobi scaling with the relative damping floor, Nielsen's damping with the 1/10
    floor, MINPACK's ftol test on every trial step, the scale-free xtol and gtol tests, the
    curvature switch of robust losses)."""
    n_items, P = p0.shape
    counts = np.diff(offsets)[problem]
    item_of_pt = np.repeat(np.arange(n_items), counts)
    starts = offsets[problem]
    pt = np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts)]) if n_items else np.zeros(0, int)
    xs = x[pt]
    yt = np.log(np.where(y > 0, y, np.nan)) if log_residuals else y.copy()
    ys = yt[pt]
    ws = np.ones(pt.shape[0]) if w is None else w[pt]
    fs2 = f_scale * f_scale

    status = np.full(n_items, _status.MAX_ITER, dtype=np.int32)
    valid = np.ones(n_items, dtype=bool)
    row_ok = np.isfinite(xs).all(axis=1) & np.isfinite(ys) & np.isfinite(ws) & (ws >= 0)
    np.logical_and.at(valid, item_of_pt, row_ok)
    n_eff = np.bincount(item_of_pt, weights=(ws > 0).astype(float), minlength=n_items)
    fixed = lo == hi  # held at their value (lm.hpp's solve): never stepped, no covariance
    n_free = int(P - fixed.sum())
    valid &= n_eff >= n_free
    valid &= np.isfinite(p0).all(axis=1) & (p0 >= lo).all(axis=1) & (p0 <= hi).all(axis=1)
    status[~valid] = _status.BAD_INPUT

    robust = loss != "linear"

    tri = [(a, b) for a in range(P) for b in range(a, P)]

    def evaluate(p: FloatArray, items: NDArray[np.bool_],
                 exact: Optional[NDArray[np.bool_]] = None,
                 ) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
        """Cost, g and H at p of the given items (zeros for the others): only their points are
        evaluated, so an item that has stopped costs nothing. H from the exact curvature
        weights for the items in exact (the curvature switch of lm.hpp), else from the
        reweighted ones. Sums per item by bincount, in the order of the points."""
        sel = items[item_of_pt]
        ip = item_of_pt[sel]
        wsel = ws[sel]

        def per_item(v: FloatArray) -> FloatArray:
            return np.bincount(ip, weights=v, minlength=n_items).astype(np.float64, copy=False)

        with np.errstate(all="ignore"):
            f, J = model.value_and_jacobian(xs[sel], p[ip])
            if log_residuals:
                J = J / f[:, None]
                r = np.log(f) - ys[sel]
            else:
                r = f - ys[sel]
            z = r * r / fs2
            rho = loss_rho(loss, z)
            c = 0.5 * fs2 * per_item(wsel * rho[0])
            wr = wsel * rho[1]
            wh = wr
            if exact is not None and exact.any():
                k = np.maximum(rho[1] + 2 * z * rho[2], CURVATURE_FLOOR * rho[1])
                wh = np.where(exact[ip], wsel * k, wr)
            g = np.column_stack([per_item(wr * r * J[:, a]) for a in range(P)]) if P else np.zeros((n_items, 0))
            H = np.zeros((n_items, P, P))
            for a, b in tri:
                H[:, a, b] = H[:, b, a] = per_item(wh * J[:, a] * J[:, b])
        ok = np.isfinite(c) & np.isfinite(g).all(axis=1) & np.isfinite(H).all(axis=(1, 2))
        return c, g, H, ok

    p = np.where(valid[:, None], p0, np.nan)
    cost, g, H, ok = evaluate(np.where(valid[:, None], p0, 0.0), valid)
    status[valid & ~ok] = _status.NON_FINITE
    active_items = valid & ok
    diag = np.einsum("kaa->ka", H)
    dmax = diag.max(axis=1, keepdims=True)
    dfloor = np.where(dmax > 0, 1e-30 * dmax, 1e-30)
    D = np.maximum(diag, dfloor)
    zero_start = p0 == 0.0

    def damping_scale(D: FloatArray, p: FloatArray) -> FloatArray:
        """lm.hpp's damping_scale: D with a floor relative to the largest column per
        relative change of its parameter (vanishing columns are still damped)."""
        m = np.where(zero_start, np.maximum(np.abs(p), 1.0), np.abs(p))
        M2 = m * m
        with np.errstate(all="ignore"):
            R = (D * M2).max(axis=1, keepdims=True)
            dmax = D.max(axis=1, keepdims=True)
            ref = np.where(M2 * dmax > R, R / np.where(M2 > 0, M2, 1.0), dmax)
        scaled: FloatArray = np.maximum(D, DAMPING_FLOOR * ref)
        return scaled

    DS = damping_scale(D, p)
    mu = np.full(n_items, 1e-3)
    nu = np.full(n_items, 2.0)
    it = np.zeros(n_items, dtype=np.int32)
    h_prev = np.zeros(n_items)
    exact = np.zeros(n_items, dtype=bool)  # trial points get the exact curvature
    h_exact = np.zeros(n_items, dtype=bool)  # H has it
    streak = np.zeros(n_items, dtype=np.int32)
    running = active_items.copy()
    eye = np.eye(P)
    while running.any():
        diag = np.einsum("kaa->ka", H)
        act = fixed | ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))
        gmax = np.where(act, 0.0, np.abs(g) / np.sqrt(np.maximum(diag, dfloor))).max(axis=1)
        with np.errstate(invalid="ignore"):
            conv = running & ((cost <= 0) | (gmax <= gtol * np.sqrt(2 * np.maximum(cost, 0))))
        status[conv] = _status.GTOL
        running &= ~conv
        running &= it < max_iter
        if not running.any():
            break
        free = ~act
        A = H * free[:, :, None] * free[:, None, :]
        A = A + np.einsum("ka,ab->kab", np.where(free, mu[:, None] * DS, 1.0), eye)
        A[~running] = eye
        rhs = np.where(free, -g, 0.0)
        try:
            Lc = np.linalg.cholesky(A)
            chol_ok = np.ones(n_items, dtype=bool)
        except np.linalg.LinAlgError:
            chol_ok = np.array([np.all(np.linalg.eigvalsh(a) > 0) for a in A])
            A[~chol_ok] = eye
            Lc = np.linalg.cholesky(A)
        h = np.linalg.solve(np.swapaxes(Lc, 1, 2), np.linalg.solve(Lc, rhs[..., None]))[..., 0]
        pn = np.clip(p + h, lo, hi)
        h = pn - p
        hn = np.sqrt((DS * h * h).sum(axis=1))
        pnorm = np.sqrt((DS * p * p).sum(axis=1))
        with np.errstate(all="ignore"):
            q = np.where(h_prev > 0, np.minimum(hn / np.where(h_prev > 0, h_prev, 1.0), 0.999), 0.0)
        small = running & chol_ok & (hn / (1 - q) <= xtol * (pnorm + xtol))
        status[small] = _status.XTOL
        running &= ~small
        trial = running & chol_ok
        pred = -((g * h).sum(axis=1) + 0.5 * np.einsum("ka,kab,kb->k", h, H, h))
        cn, gn, Hn, okn = evaluate(np.where(trial[:, None], pn, 0.0), trial, exact)
        it[running] += 1
        actual = cost - cn
        accept = trial & okn & (pred > 0) & (actual > 0)
        ratio = np.where(accept, actual / np.where(pred > 0, pred, 1.0), 0.0)
        fconv = accept & (actual <= ftol * cost) & (pred <= ftol * cost)
        # MINPACK's ftol test on rejected trial steps too (rounding noise alone rejected it).
        with np.errstate(invalid="ignore"):
            fconv |= (trial & okn & ~accept & (pred >= 0) & (pred <= ftol * cost)
                      & (np.abs(actual) <= ftol * cost))
        # The curvature switch (lm.hpp): on after SWITCH_STEPS accepted steps in a row with a
        # gain ratio above SWITCH_RATIO once a step gains less than SWITCH_DECREASE of the
        # cost; off after a rejected trial step (a failed factorization changes neither).
        h_exact = np.where(accept, exact, h_exact)
        streak = np.where(accept & (ratio > SWITCH_RATIO), streak + 1, np.where(trial, 0, streak))
        with np.errstate(invalid="ignore"):
            switch = accept & (streak >= SWITCH_STEPS) & (actual <= SWITCH_DECREASE * cost)
        exact = robust & np.where(accept, exact | switch, np.where(trial, False, exact))
        p = np.where(accept[:, None], pn, p)
        g = np.where(accept[:, None], gn, g)
        H = np.where(accept[:, None, None], Hn, H)
        cost = np.where(accept, cn, cost)
        h_prev = np.where(accept, hn, h_prev)
        D = np.where(accept[:, None], np.maximum(D, np.einsum("kaa->ka", H)), D)
        DS = np.where(accept[:, None], damping_scale(D, p), DS)
        t = 2 * ratio - 1
        mu = np.where(accept, mu * np.maximum(1 / 10, 1 - t**3), mu)
        nu = np.where(accept, 2.0, nu)
        reject = running & ~accept & ~fconv
        mu = np.where(reject, mu * nu, mu)
        nu = np.where(reject, nu * 2, nu)
        status[fconv] = _status.FTOL
        running &= ~fconv
        stuck = running & ~(mu < 1e300)
        status[stuck] = _status.XTOL
        running &= ~stuck

    if h_exact.any():  # the reweighted H at the solution for the identifiability test and cov
        H = np.where(h_exact[:, None, None], evaluate(np.where(np.isfinite(p), p, 0.0), h_exact)[2], H)
    cov = np.full((n_items, P, P), np.nan)
    done = active_items & (status >= 0)
    free_ix = np.flatnonzero(~fixed)
    sub = np.ix_(free_ix, free_ix)
    for k in np.flatnonzero(done):
        d = np.sqrt(np.diag(H[k])[free_ix])
        if not (d > 0).all():
            if status[k] > 0:
                status[k] = _status.SINGULAR
            continue
        S = H[k][sub] / np.outer(d, d)
        try:
            Lk = np.linalg.cholesky(S)
            if (np.diag(Lk) ** 2 <= 1e-13).any():
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            if status[k] > 0:
                status[k] = _status.SINGULAR
            continue
        dof = n_eff[k] - n_free
        s2 = 2 * cost[k] / dof if dof > 0 else np.nan
        cov[k] = 0.0
        cov[k][sub] = np.linalg.inv(S) / np.outer(d, d) * s2
    cost = np.where(active_items | (status == _status.NON_FINITE), cost, np.nan)
    return p, cov, cost, status, it
