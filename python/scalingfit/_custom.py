"""Custom models: a vectorised Python callable fitted through the same API (slower path).

The whole batch is evaluated in one call per iteration: every item's points are stacked, so
``func`` sees an (m, n_inputs) array of points and an (m, n_params) array holding each point's
item parameters. The LM iteration mirrors the C++ core (same objective, damping rule, active-set
bounds and stopping tests), vectorised over items with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _status
from .losses import rho as loss_rho

FloatArray = NDArray[np.float64]
ModelFunc = Callable[[FloatArray, FloatArray], FloatArray]

#: Relative finite-difference step, EPS**(1/3): it balances the truncation (h**2) and rounding
#: (EPS/h) errors of the second-order differences of ``CustomModel.value_and_jacobian``.
EPS = float(np.finfo(np.float64).eps)
FD_REL_STEP = EPS ** (1 / 3)
#: The step stops shrinking with |p| at this fraction of the parameter's typical magnitude.
FD_SCALE_FLOOR = 1e-3
#: A difference of f over the step of at most this many EPS of |f| is lost in rounding.
FD_FLAT_ULPS = 1e3
#: Rounding error of a finite difference, in units in the last place of f over the step (the
#: two or three values of f, each rounded and each off by a few ulps from its own arithmetic).
FD_NOISE_ULPS = 16.0


@dataclass(frozen=True, eq=False)
class CustomModel:
    """A user-defined law.

    Parameters
    ----------
    func : callable
        ``func(x, p) -> values`` with ``x`` of shape (m, n_inputs) (row i is point i, column j
        input j: ``x[:, 0]``) and ``p`` of shape (m, n_params) (row i holds the parameters for
        point i, column k parameter k: write ``p[:, k]``, not ``p[k]``); returns shape (m,).
    param_names : sequence of str
        The parameters' names, unique and non-empty, in the order of ``p``'s columns. A single
        string is refused (it is not split into letters, nor at commas): one parameter is
        ``("A",)``.
    n_inputs : int
        The number of columns of ``x`` (>= 1).
    jac : callable, optional
        ``jac(x, p) -> (m, n_params)``: column k the derivative of ``func`` by parameter k.
        Without it, finite differences with a step relative to each parameter are used
        (central, one-sided next to a bound: ``func`` is only called inside the bounds).
    name : str
    lower, upper : float or array_like of n_params floats, optional
        Default bounds: one number for every parameter, or one per parameter. Default
        unbounded.
    index : int
        Not used by a custom model (a built-in :class:`~scalingfit.models.Model`'s index of
        its C++ template); kept at -1.
    positive_inputs : bool
        :func:`scalingfit.fit` refuses inputs <= 0 with a ValueError, as for the built-in
        laws of log inputs (:func:`scalingfit.fit_batch` does not check it for a custom
        model). Default False: any finite input.
    guess : None
        Not used: a custom model has no data-driven start, so fitting needs ``p0`` (a fit
        without it raises ValueError whatever is passed here).

    Raises
    ------
    TypeError, ValueError
        At construction, for a malformed definition (``func`` or ``jac`` not callable, names not
        a sequence of unique non-empty strings, ``n_inputs`` not an int >= 1, bounds of the
        wrong length, NaN or crossed). When fitting or predicting, for a ``func`` or ``jac``
        whose result is not numbers of the shape above (the message names the function, the
        shape expected and the one received). An exception raised inside ``func`` or ``jac``
        propagates unchanged, with a note (Python 3.11+) recalling the calling convention.

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
    #: Set once ``jac`` has been compared with finite differences (:func:`check_jacobian`).
    _jac_checked: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not callable(self.func):
            raise TypeError(f"func must be callable as func(x, p), got {type(self.func).__name__}")
        if self.jac is not None and not callable(self.jac):
            raise TypeError(
                f"jac must be None or callable as jac(x, p), got {type(self.jac).__name__}"
            )
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")
        names = _check_names(self.param_names)
        n = self.n_inputs
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(
                f"n_inputs must be an int >= 1 (the number of columns of x), got "
                f"{type(n).__name__} {n!r}"
            )
        if n < 1:
            raise ValueError(f"n_inputs must be >= 1 (the number of columns of x), got {n!r}")
        lo = per_param(self.lower, "lower", names, -np.inf)
        hi = per_param(self.upper, "upper", names, np.inf)
        check_order(lo, hi, names)
        object.__setattr__(self, "param_names", names)
        object.__setattr__(self, "n_inputs", int(n))
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)

    @property
    def n_params(self) -> int:
        """The number of parameters."""
        return len(self.param_names)

    @property
    def input_names(self) -> tuple[str, ...]:
        """``("x0", "x1", ...)``: the names of ``x``'s columns in messages."""
        return tuple(f"x{i}" for i in range(self.n_inputs))

    def initial_guesses(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Raises ValueError: a custom law has no data-driven start (pass ``p0``).

        Parameters
        ----------
        x : ndarray (n, n_inputs)
            The problem's inputs (unused).
        y : ndarray (n,)
            Its observed values (unused).
        """
        raise ValueError(f"custom model {self.name!r} needs p0 (no initial guess is known)")

    def initial_guess(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Raises ValueError, as :meth:`initial_guesses`.

        Parameters
        ----------
        x : ndarray (n, n_inputs)
            The problem's inputs (unused).
        y : ndarray (n,)
            Its observed values (unused).
        """
        return self.initial_guesses(x, y)

    def predict(self, params: FloatArray, x: object) -> FloatArray:
        """``func`` at points ``x`` (read as ``fit`` reads them, a tuple of columns included;
        a number, or n_inputs numbers such as ``(N, D)``, is one point) with ``params``, one
        vector or one per point.

        Parameters
        ----------
        params : array_like (n_params,) or (n, n_params)
            One parameter vector for every point, or one per point.
        x : array_like
            The points, as above.
        """
        from ._validate import as_inputs, one_point

        xa = as_inputs(one_point(x, self.n_inputs)[0], self)
        p = np.broadcast_to(np.asarray(params, dtype=np.float64), (xa.shape[0], self.n_params))
        return np.asarray(self._call("func", self.func, xa, p), dtype=np.float64)

    def predict_many(self, params: FloatArray, x: FloatArray) -> FloatArray:
        """Values at the points ``x`` (as read, shape (n, n_inputs)) of every parameter vector,
        a row of ``params`` (R, n_params): shape (R, n), in one call of ``func``.

        Parameters
        ----------
        params : ndarray (R, n_params)
            Parameter vectors, one per row.
        x : ndarray (n, n_inputs)
            The points, already read.
        """
        R, n = params.shape[0], x.shape[0]
        rows = np.repeat(np.asarray(params, dtype=np.float64), n, axis=0)
        return np.asarray(self._call("func", self.func, np.tile(x, (R, 1)), rows), dtype=np.float64).reshape(R, n)

    def value_and_jacobian(
        self,
        x: FloatArray,
        p: FloatArray,
        lower: Optional[ArrayLike] = None,
        upper: Optional[ArrayLike] = None,
        scale: Optional[ArrayLike] = None,
    ) -> tuple[FloatArray, FloatArray]:
        """``func`` and its Jacobian at the points ``x`` with the parameters ``p`` (one row per
        point): ``jac`` when given, finite differences otherwise.

        Parameters
        ----------
        x : ndarray of shape (m, n_inputs)
        p : ndarray of shape (m, n_params)
        lower, upper : array_like broadcastable to (m, n_params), optional
            The box ``func`` may be evaluated in (default: the model's bounds). A row of ``p``
            outside it widens it to hold that row.
        scale : array_like broadcastable to (m, n_params), optional
            Each parameter's typical magnitude (the solver passes ``|p0|``; where p0 is 0, 1
            or the largest finite bound's magnitude if smaller);
            default ``|p|`` (1 where p is 0).

        Returns
        -------
        f : ndarray of shape (m,)
        J : ndarray of shape (m, n_params)

        Notes
        -----
        The finite-difference step of parameter k is relative,
        ``h = EPS**(1/3) * max(|p_k|, 1e-3 * scale_k)``: it follows the parameter down to a
        thousandth of its typical magnitude (a parameter of order 1e-10 gets a step of order
        1e-15), and only there stops shrinking (a parameter at or through 0 still gets a step
        on its own scale). Where that step changes ``f`` by no more than rounding (1e3 EPS of
        |f|), the difference is taken again with scipy's step, ``EPS**(1/3) * max(|p_k|, 1)``,
        if larger. Central differences ``(f(p+h) - f(p-h)) / 2h`` where both points lie
        in [lower, upper]; next to a bound the one-sided differences of the same (second)
        order, ``(-3 f(p) + 4 f(p+h) - f(p+2h)) / 2h`` into the box, with h shrunk to half the
        room where the box is narrower than 2h. ``func`` is never called outside [lower,
        upper]; a parameter with lower == upper (fixed) gets a zero column without a call.
        """
        f = np.asarray(self._call("func", self.func, x, p), dtype=np.float64)
        if self.jac is not None:
            return f, np.asarray(self._call("jac", self.jac, x, p), dtype=np.float64)
        return f, self._fd_jacobian(x, p, f, lower, upper, scale)

    def _fd_jacobian(
        self,
        x: FloatArray,
        p: FloatArray,
        f: FloatArray,
        lower: Optional[ArrayLike],
        upper: Optional[ArrayLike],
        scale: Optional[ArrayLike],
        noise: Optional[FloatArray] = None,
    ) -> FloatArray:
        """The finite-difference Jacobian of ``value_and_jacobian`` (see its Notes); where
        ``noise`` is given, it gets each entry's bound on the rounding error of the difference
        (of a column measured below the rounding of f, say)."""
        with np.errstate(all="ignore"):
            lo = np.minimum(np.asarray(self.lower if lower is None else lower, np.float64), p)
            hi = np.maximum(np.asarray(self.upper if upper is None else upper, np.float64), p)
            typ = np.abs(p if scale is None else np.asarray(scale, np.float64)) + np.zeros(p.shape)
            typ = np.where(np.isfinite(typ) & (typ > 0), typ, 1.0)
            h = FD_REL_STEP * np.maximum(np.abs(p), FD_SCALE_FLOOR * typ)
            h_wide = FD_REL_STEP * np.maximum(np.abs(p), 1.0)
        J = np.zeros(p.shape)
        for a in range(p.shape[1]):
            d, flat, err = self._fd_column(x, p, f, a, lo[:, a], hi[:, a], h[:, a])
            # A difference lost in rounding (a parameter far below its scale, or through 0):
            # once more with scipy's step, relative to max(|p|, 1), where that is larger.
            wider = flat & (h_wide[:, a] > h[:, a])
            if wider.any():
                d_wide, _, err_wide = self._fd_column(x, p, f, a, lo[:, a], hi[:, a],
                                                      np.where(wider, h_wide[:, a], h[:, a]))
                d, err = np.where(wider, d_wide, d), np.where(wider, err_wide, err)
            J[:, a] = d
            if noise is not None:
                noise[:, a] = err
        return J

    def _fd_column(
        self, x: FloatArray, p: FloatArray, f: FloatArray, a: int,
        lo: FloatArray, hi: FloatArray, h: FloatArray,
    ) -> tuple[FloatArray, NDArray[np.bool_], FloatArray]:
        """Column ``a`` of the finite-difference Jacobian with steps ``h`` (per point) inside
        [lo, hi], where the difference was lost in rounding (at most FD_FLAT_ULPS units in
        the last place of f), and a bound on each entry's rounding error (FD_NOISE_ULPS units
        in the last place of f over the step)."""
        with np.errstate(all="ignore"):
            room_up, room_dn = hi - p[:, a], p[:, a] - lo
            central = (room_up >= h) & (room_dn >= h)
            forward = ~central & (room_up >= room_dn)
            h = np.where(central, h, np.minimum(h, np.where(forward, room_up, room_dn) / 2))
            moves = h > 0
            sign = np.where(forward, 1.0, -1.0)
        if not moves.any():  # fixed (lower == upper): the solver never steps it
            return np.zeros(p.shape[0]), moves, np.zeros(p.shape[0])
        p1, p2 = p.copy(), p.copy()
        p1[:, a] = np.clip(p[:, a] + np.where(central, h, sign * h), lo, hi)
        p2[:, a] = np.clip(p[:, a] + np.where(central, -h, 2 * sign * h), lo, hi)
        f1 = np.asarray(self._call("func", self.func, x, p1), dtype=np.float64)
        f2 = np.asarray(self._call("func", self.func, x, p2), dtype=np.float64)
        with np.errstate(all="ignore"):
            d = np.where(central, (f1 - f2) / (p1[:, a] - p2[:, a]),
                         (4 * f1 - f2 - 3 * f) / (p2[:, a] - p[:, a]))
            size = np.maximum(np.maximum(np.abs(f), np.abs(f1)), np.abs(f2))
            flat = moves & (np.abs(np.where(central, f1, f) - f2) <= FD_FLAT_ULPS * EPS * size)
            step = np.where(central, np.abs(p1[:, a] - p2[:, a]), np.abs(p2[:, a] - p[:, a]))
            err = np.where(moves, FD_NOISE_ULPS * EPS * size / step, 0.0)
        return np.where(moves, d, 0.0), flat, err

    def _convention(self, x: FloatArray, p: FloatArray) -> str:
        """The calling convention, with the shapes of this call, for error messages."""
        cols = ", ".join(f"p[:, {k}] is {n}" for k, n in enumerate(self.param_names))
        return (
            f"custom model {self.name!r} is called as func(x, p) and jac(x, p) with x of shape "
            f"{x.shape} (one row per point, one column per input: x[:, 0] is the first input) "
            f"and p of shape {p.shape} (one row per point, one column per parameter: {cols}; "
            f"index parameters as p[:, k], not p[k])"
        )

    def _call(self, which: str, fn: ModelFunc, x: FloatArray, p: FloatArray) -> NDArray[Any]:
        """``fn(x, p)`` as a numeric array of the shape ``which`` ("func" or "jac") must
        return; a TypeError or ValueError naming it, the shape expected and the one received
        otherwise. An exception raised inside ``fn`` gets the calling convention as a note.
        ``x`` and ``p`` are passed as read-only views: a function that wrote into them (``p[:,
        0] += 0.1``, ``x /= 1e9``) silently changed the solver's own arrays."""
        xv, pv = x.view(), p.view()
        xv.flags.writeable = False
        pv.flags.writeable = False
        try:
            out = fn(xv, pv)
        except Exception as exc:
            if hasattr(exc, "add_note"):  # Python 3.11+
                exc.add_note(f"(raised inside {which}) {self._convention(x, p)}")
            raise
        m = x.shape[0]
        want = (m,) if which == "func" else (m, self.n_params)
        what = ("one value per point" if which == "func"
                else "one row per point, one column per parameter")
        if out is None:
            raise TypeError(
                f"{which}(x, p) returned None; it must return an array of shape {want} "
                f"({what}). {self._convention(x, p)}"
            )
        arr = np.asarray(out)
        if arr.dtype.kind == "O" and not any(isinstance(v, (bool, np.bool_)) for v in arr.flat):
            try:  # Python or Decimal numbers in an object array (a pandas nullable Series)
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                pass
        if arr.dtype.kind not in "iuf":  # booleans are not values of a law (nor complex, text)
            raise TypeError(
                f"{which}(x, p) must return real numbers, got {type(out).__name__} of dtype "
                f"{arr.dtype}; custom model {self.name!r} needs float or int values from "
                f"{which} (convert a boolean result with .astype(float) if it is meant)"
            )
        if arr.shape != want:
            raise ValueError(
                f"{which}(x, p) must return shape {want} ({what}), got shape {arr.shape}. "
                f"{self._convention(x, p)}"
            )
        if arr.dtype.kind == "f" and arr.dtype.itemsize < 8:  # float32 values: a noisy objective
            raise TypeError(
                f"{which}(x, p) returned {arr.dtype} values; custom model {self.name!r} is solved "
                "in float64 and needs float64 values (rounding to float32 stalled fits 4% off the "
                "optimum, reported as converged): compute in float64"
            )
        return arr


def picklable(model: Optional[CustomModel]) -> bool:
    """Whether a result can keep ``model`` when pickled (a law made of lambdas cannot be)."""
    if model is None:
        return True
    import pickle

    try:
        pickle.dumps(model)
    except Exception:  # whatever pickle raises for it
        return False
    return True


def copied(obj: Any, memo: Optional[dict[int, Any]]) -> Any:
    """``copy.copy`` (``memo`` None) or ``copy.deepcopy`` of a result that holds a
    ``custom_model``, keeping that model: pickling drops a model made of lambdas (its
    ``__getstate__``), a copy in the same process need not. The copy goes through the class's
    ``__setstate__`` as an unpickled one does; the model itself is shared, as deepcopy shares
    functions."""
    import copy

    new = object.__new__(type(obj))
    if memo is None:
        state = dict(obj.__dict__)
    else:
        memo[id(obj)] = new
        state = {k: v if k == "custom_model" else copy.deepcopy(v, memo) for k, v in obj.__dict__.items()}
    new.__setstate__(state)
    return new


class CopiesKeepModel:
    """Mixin of the results that hold a ``custom_model``: ``copy.copy`` and ``copy.deepcopy``
    keep it (:func:`copied`), where a pickle drops one made of lambdas."""

    def __copy__(self) -> Any:
        return copied(self, None)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copied(self, memo)


def kept_model(name: str, custom: Optional[CustomModel], hint: str = "") -> Any:
    """The model a result was fitted with: its ``custom`` one, or the built-in called
    ``name``; a ValueError (ending in ``hint``) when it is neither, i.e. a custom model dropped
    when the result was pickled (:func:`picklable`)."""
    from .models import get, names

    if custom is not None:
        return custom
    if name not in names():
        raise ValueError(f"{name!r} is not a built-in model and this result does not hold its custom "
                         f"model (one that cannot be pickled is dropped when the result is){hint}")
    return get(name)


def _check_names(value: Any) -> tuple[str, ...]:
    """``param_names`` as a tuple of unique non-empty strings; a TypeError or ValueError
    naming the offending entry otherwise."""
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"param_names must be a sequence of names such as ('A', 'alpha'), got the string "
            f"{value!r}; for a single parameter write ({value!r},)"
        )
    try:
        names = tuple(value)
    except TypeError:
        raise TypeError(
            f"param_names must be a sequence of names such as ('A', 'alpha'), got "
            f"{type(value).__name__}"
        ) from None
    if not names:
        raise ValueError("param_names is empty: a custom model needs at least one parameter")
    first: dict[str, int] = {}
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise TypeError(f"param_names[{i}] must be a str, got {type(n).__name__} {n!r}")
        if not n.strip():
            raise ValueError(f"param_names[{i}] is {n!r}: every parameter needs a name")
        if n in first:
            raise ValueError(
                f"param_names has {n!r} twice (index {first[n]} and {i}): names must be unique"
            )
        first[n] = i
    return names


def check_order(lo: FloatArray, hi: FloatArray, names: tuple[str, ...], prefix: str = "") -> None:
    """A ValueError naming the first parameter whose lower bound exceeds its upper bound."""
    crossed = lo > hi
    if crossed.any():
        i = int(np.argmax(crossed))
        raise ValueError(
            f"{prefix}lower bound {float(lo[i])!r} of {names[i]} (index {i}) exceeds its upper "
            f"bound {float(hi[i])!r}"
        )


def per_param(value: Any, name: str, names: tuple[str, ...], default: float) -> FloatArray:
    """A per-parameter array (bounds): ``default`` for None, one number broadcast to every
    parameter, or exactly one finite-or-infinite number per parameter."""
    P = len(names)
    if value is None:
        return np.full(P, default)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {type(value).__name__} {value!r}") from None
    if arr.ndim == 0:
        arr = np.full(P, float(arr))
    elif arr.shape != (P,):
        raise ValueError(
            f"{name} must be one number (for every parameter) or {P} values, one per parameter "
            f"({', '.join(names)}); got {arr.size} value(s) of shape {arr.shape}"
        )
    if np.isnan(arr).any():
        i = int(np.argmax(np.isnan(arr)))
        raise ValueError(f"{name} bound of {names[i]} (index {i}) is NaN")
    return arr


#: lm.hpp's kDampingFloor.
DAMPING_FLOOR = 1e-8
#: lm.hpp's kDiagFloor: the floor of diag(J'J) relative to its largest entry (positivity only).
DIAG_FLOOR = 1e-250
#: lm.hpp's curvature switch: kCurvatureFloor, kSwitchRatio, kSwitchSteps, kSwitchDecrease.
CURVATURE_FLOOR = 1e-8
SWITCH_RATIO = 1.5
SWITCH_STEPS = 2
SWITCH_DECREASE = 1e-4


#: Relative mismatch of a ``jac`` column against finite differences that is reported.
JAC_MISMATCH = 1e-4


def check_jacobian(model: CustomModel, x: FloatArray, p: FloatArray, lo: FloatArray, hi: FloatArray,
                   scale: FloatArray) -> None:
    """Once per model: a ``ConvergenceWarning`` naming the parameters whose ``jac`` column
    differs from the solver's finite differences (steps on ``scale``, the parameters' typical
    magnitudes) at ``p`` (on the points ``x``) by more than
    ``JAC_MISMATCH`` relative. A wrong ``jac`` (a flipped sign, a missing factor) made fits stop
    far from the optimum and report convergence, or report the data unidentifiable."""
    if model._jac_checked:
        return
    object.__setattr__(model, "_jac_checked", True)
    from . import _warnings

    n = x.shape[0]
    prow = np.broadcast_to(p, (n, model.n_params))
    with np.errstate(all="ignore"):
        f = np.asarray(model._call("func", model.func, x, prow), dtype=np.float64)
        J = np.asarray(model._call("jac", model.jac, x, prow), dtype=np.float64)  # type: ignore[arg-type]
        noise = np.zeros(prow.shape)
        Jfd = model._fd_jacobian(x, prow, f, lo, hi, scale, noise)
        bad = []
        for a, name in enumerate(model.param_names):
            if lo[a] == hi[a] or not (np.isfinite(J[:, a]).all() and np.isfinite(Jfd[:, a]).all()):
                continue
            size = max(float(np.linalg.norm(Jfd[:, a])), float(np.linalg.norm(J[:, a])), 1e-300)
            # Only what rounding cannot explain: a column far below f's last place (A's in
            # E + A x^-1.9 at x = 1e6..1e10) cannot be measured by differences at all.
            beyond = np.maximum(np.abs(J[:, a] - Jfd[:, a]) - noise[:, a], 0.0)
            err = float(np.linalg.norm(beyond)) / size
            if err > JAC_MISMATCH:
                bad.append(f"{name} ({err:.2g})")
    if bad:
        _warnings.warn(
            f"custom model {model.name!r}: jac disagrees with finite differences at the start "
            f"{np.array2string(np.asarray(p), precision=4)} in the column(s) of {', '.join(bad)} "
            "(relative error); a wrong jac makes fits stop away from the optimum while reporting "
            "convergence: check it, or leave jac=None",
            _warnings.ConvergenceWarning, stacklevel=4,
        )


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
    # each item's points: starts[k] + 0, 1, ..., counts[k] - 1, for all items at once
    before = np.cumsum(counts) - counts
    pt = np.repeat(starts - before, counts) + np.arange(int(counts.sum()))
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
    if w is not None and not (ws > 0).all():
        # Points of weight 0 take no part in the fit, as in lm.hpp, which skips them: a model
        # may be undefined where its user switched a point off, and a bootstrap resample
        # leaves about a third of the points out (the sums are the same without their 0 terms).
        on = ws > 0
        item_of_pt, xs, ys, ws = item_of_pt[on], xs[on], ys[on], ws[on]
    fixed = lo == hi  # held at their value (lm.hpp's solve): never stepped, no covariance
    n_free = int(P - fixed.sum())
    valid &= n_eff >= n_free
    valid &= np.isfinite(p0).all(axis=1) & (p0 >= lo).all(axis=1) & (p0 <= hi).all(axis=1)
    status[~valid] = _status.BAD_INPUT

    robust = loss != "linear"

    tri = [(a, b) for a in range(P) for b in range(a, P)]
    # Each item's typical parameter magnitudes for the finite-difference steps: |p0|; where p0
    # is 0, 1 or the largest finite bound's magnitude where that is smaller (a parameter
    # boxed in [-1e-9, 1e-9] and started at 0 got steps of 6e-9: a wrong fit "converged").
    with np.errstate(invalid="ignore"):
        ends = np.abs(np.stack([lo, hi]))
        box = np.where(np.isfinite(ends), ends, 0.0).max(axis=0)
        unit = np.where(box > 0, np.minimum(box, 1.0), 1.0)
        typical = np.where(np.isfinite(p0) & (p0 != 0), np.abs(p0), unit)
    if model.jac is not None and valid.any():
        first = int(np.argmax(valid))
        check_jacobian(model, xs[item_of_pt == first], p0[first], lo, hi, typical[first])

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
            f, J = model.value_and_jacobian(xs[sel], p[ip], lo, hi, typical[ip])
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
    dfloor = np.where(dmax > 0, np.maximum(DIAG_FLOOR * dmax, 1e-300), 1e-30)
    D = np.maximum(diag, dfloor)
    zero_start = p0 == 0.0

    def damping_scale(D: FloatArray, p: FloatArray) -> FloatArray:
        """lm.hpp's damping_scale: D with a floor relative to the largest column per
        relative change of its parameter (vanishing columns are still damped)."""
        m = np.where(zero_start, np.maximum(np.abs(p), unit), np.abs(p))
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
    # The loop works on a shrinking set of items (their global numbers in work): once three
    # quarters of them have stopped, the stopped ones' state goes to the outputs and every
    # per-item and per-point array is cut to the running ones, so the long tail of a few
    # slow items costs what they cost, not what the whole batch does. Each item's numbers
    # are its own, so the cut changes none of them.
    full = (item_of_pt, xs, ys, ws, typical, n_items)
    work = np.arange(n_items)
    p_out, cost_out, it_out, H_out, hx_out = p, cost, it, H, h_exact
    st = status
    while running.any():
        if n_items >= 64 and 4 * np.count_nonzero(running) <= n_items:
            p_out[work], cost_out[work], it_out[work], H_out[work], hx_out[work] = p, cost, it, H, h_exact
            status[work] = st
            keep = np.flatnonzero(running)
            new_id = np.full(n_items, -1)
            new_id[keep] = np.arange(keep.size)
            sel = running[item_of_pt]
            item_of_pt, xs, ys, ws = new_id[item_of_pt[sel]], xs[sel], ys[sel], ws[sel]
            work, n_items = work[keep], keep.size
            state: tuple[Any, ...] = (p, g, H, cost, D, DS, mu, nu, it, h_prev, exact, h_exact,
                                      streak, st, dfloor, zero_start, typical, running)
            (p, g, H, cost, D, DS, mu, nu, it, h_prev, exact, h_exact, streak, st, dfloor,
             zero_start, typical, running) = (a[keep] for a in state)
        diag = np.einsum("kaa->ka", H)
        act = fixed | ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))
        gmax = np.where(act, 0.0, np.abs(g) / np.sqrt(np.maximum(diag, dfloor))).max(axis=1)
        with np.errstate(invalid="ignore"):
            conv = running & ((cost <= 0) | (gmax <= gtol * np.sqrt(2 * np.maximum(cost, 0))))
        st[conv] = _status.GTOL
        running &= ~conv
        running &= it < max_iter
        if not running.any():
            break
        free = ~act
        # The damped system of the items still running only (each item's factorization is its
        # own: the same numbers whatever else is in the batch); the others step by 0.
        r = np.flatnonzero(running)
        fr = free[r]
        A = H[r] * fr[:, :, None] * fr[:, None, :]
        A = A + np.einsum("ka,ab->kab", np.where(fr, mu[r, None] * DS[r], 1.0), eye)
        rhs = np.where(fr, -g[r], 0.0)
        chol_ok = np.zeros(n_items, dtype=bool)
        try:
            Lc = np.linalg.cholesky(A)
            chol_ok[r] = True
        except np.linalg.LinAlgError:
            ok_r = np.array([np.all(np.linalg.eigvalsh(a) > 0) for a in A], dtype=bool)
            chol_ok[r] = ok_r
            A[~ok_r] = eye
            Lc = np.linalg.cholesky(A)
        h = np.zeros((n_items, P))
        h[r] = np.linalg.solve(np.swapaxes(Lc, 1, 2), np.linalg.solve(Lc, rhs[..., None]))[..., 0]
        pn = np.clip(p + h, lo, hi)
        h = pn - p
        hn = np.sqrt((DS * h * h).sum(axis=1))
        pnorm = np.sqrt((DS * p * p).sum(axis=1))
        with np.errstate(all="ignore"):
            q = np.where(h_prev > 0, np.minimum(hn / np.where(h_prev > 0, h_prev, 1.0), 0.999), 0.0)
        small = running & chol_ok & (hn / (1 - q) <= xtol * (pnorm + xtol))
        st[small] = _status.XTOL
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
        st[fconv] = _status.FTOL
        running &= ~fconv
        stuck = running & ~(mu < 1e300)
        st[stuck] = _status.XTOL
        running &= ~stuck

    p_out[work], cost_out[work], it_out[work], H_out[work], hx_out[work] = p, cost, it, H, h_exact
    status[work] = st
    p, cost, it, H, h_exact = p_out, cost_out, it_out, H_out, hx_out
    item_of_pt, xs, ys, ws, typical, n_items = full
    if h_exact.any():  # the reweighted H at the solution for the identifiability test and cov
        H = np.where(h_exact[:, None, None], evaluate(np.where(np.isfinite(p), p, 0.0), h_exact)[2], H)
    cov = np.full((n_items, P, P), np.nan)
    done = active_items & (status >= 0)
    free_ix = np.flatnonzero(~fixed)
    # Every converged item's covariance in batched LAPACK calls (each matrix factored alone, so
    # the numbers are those of one call per item, which took half the time of a batch of 20,000):
    # H of the free parameters scaled to unit diagonal; singular where a diagonal is 0, the
    # factorization fails or a pivot is below 1e-13; else s^2 S^-1 unscaled.
    kk = np.flatnonzero(done)
    if kk.size:
        Hs = H[kk][:, free_ix[:, None], free_ix[None, :]]
        d = np.sqrt(np.einsum("kaa->ka", Hs))
        ok = (d > 0).all(axis=1)
        dd = d[:, :, None] * d[:, None, :]
        eye_f = np.eye(free_ix.size)
        with np.errstate(all="ignore"):
            S = np.where(ok[:, None, None], Hs / np.where(ok[:, None, None], dd, 1.0), eye_f)
        try:
            Lc = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:  # some item's S is not positive definite: find which
            for i in np.flatnonzero(ok):
                try:
                    np.linalg.cholesky(S[i])
                except np.linalg.LinAlgError:
                    ok[i] = False
            S[~ok] = eye_f
            Lc = np.linalg.cholesky(S)
        ok &= ~(np.einsum("kaa->ka", Lc) ** 2 <= 1e-13).any(axis=1)
        bad = kk[~ok]
        status[bad[status[bad] > 0]] = _status.SINGULAR
        dof = n_eff[kk] - n_free
        with np.errstate(all="ignore"):
            s2 = np.where(dof > 0, 2 * cost[kk] / np.where(dof > 0, dof, 1), np.nan)
            inv = np.linalg.inv(np.where(ok[:, None, None], S, eye_f)) / dd * s2[:, None, None]
        padded = np.zeros((kk.size, P, P))  # fixed parameters: 0 rows and columns
        padded[:, free_ix[:, None], free_ix[None, :]] = inv
        cov[kk[ok]] = padded[ok]
    cost = np.where(active_items | (status == _status.NON_FINITE), cost, np.nan)
    return p, cov, cost, status, it
