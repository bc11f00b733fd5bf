"""Result types: frozen dataclasses of arrays with the names scipy users know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np
from numpy.typing import NDArray

from ._custom import CopiesKeepModel
from ._status import message

if TYPE_CHECKING:  # pragma: no cover
    from ._custom import CustomModel

__all__ = [
    "BatchResult",
    "FitResult",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _fmt(v: float) -> str:
    return f"{v:.6g}" if np.isfinite(v) else str(v)


@dataclass(frozen=True, eq=False)
class FitResult(CopiesKeepModel):
    """One fitted problem (the best of its starts).

    Attributes
    ----------
    model : str
        Model name.
    param_names : tuple of str
    x : ndarray, shape (n_params,)
        Parameter vector at the solution.
    cost : float
        ``1/2 sum_i w_i f_scale^2 rho(r_i^2 / f_scale^2)`` at the solution (scipy's cost).
    cov : ndarray, shape (n_params, n_params)
        Gauss–Newton covariance ``inv(J^T W J) * 2 cost / (n - p)`` over the free parameters
        (``p`` of them; ``n`` is :attr:`n_used`); 0 in a fixed parameter's row and column; NaN
        when undefined.
    status : int
        > 0 converged, 0 iteration limit, < 0 failure (see :attr:`message`).
    iterations : int
        LM trial steps of the best start.
    n_points : int
        Points given, those of weight 0 included.
    n_starts : int
        Starts tried (items in the batch call).
    n_best : int
        Converged starts whose cost is within 1e-8 (relative) of the best: how well the
        optimum is reproduced from different starts.
    loss : str
    log_residuals : bool
    fixed : tuple of str
        Parameters held at their value (``fixed=`` or equal bounds), not fitted.
    at_bound : tuple of str
        Free parameters that ended on one of their bounds (scipy's ``active_mask``): the
        optimum is on the edge of the box, so their Gauss–Newton standard errors (which assume
        an interior optimum) and Wald intervals do not apply; widen the bound, or hold the
        parameter with ``fixed=`` if the bound is its value.
    n_used : int
        Points with a positive weight (all ``n_points`` without weights): a point of weight 0
        adds nothing to the cost, so the covariance, :attr:`dof`, the intervals and the
        information criteria count these, and the fit equals that with the others dropped.
        Built without it, a result takes ``n_points``.
    custom_model : CustomModel or None
        The model object when it is a custom one (a built-in model is looked up by
        ``model``); dropped on pickling when it does not pickle (a law made of lambdas).
    """

    model: str
    param_names: tuple[str, ...]
    x: FloatArray
    cost: float
    cov: FloatArray
    status: int
    iterations: int
    n_points: int
    n_starts: int = 1
    n_best: int = 1
    loss: str = "linear"
    log_residuals: bool = False
    fixed: tuple[str, ...] = ()
    at_bound: tuple[str, ...] = ()
    n_used: Optional[int] = None
    #: The model object when it is a custom one (a built-in model is looked up by ``model``).
    custom_model: Optional[CustomModel] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.n_used is None:  # a result built without the count: every point has weight
            object.__setattr__(self, "n_used", self.n_points)

    @property
    def dof(self) -> int:
        """Residual degrees of freedom, ``n_used`` minus the free parameters: those of
        :attr:`cov`'s scale ``2 cost / dof`` and of the Student t of :meth:`interval`."""
        n = self.n_points if self.n_used is None else self.n_used
        return n - (len(self.param_names) - len(self.fixed))

    @property
    def params(self) -> dict[str, float]:
        """Parameters by name."""
        return {n: float(v) for n, v in zip(self.param_names, self.x)}

    def __getstate__(self) -> dict[str, Any]:
        # A custom model made of lambdas cannot be pickled: the result still can, without it.
        from ._custom import picklable

        state = dict(self.__dict__)
        if not picklable(self.custom_model):
            state["custom_model"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # a result pickled before n_used existed: every point counted (as __post_init__ does)
        state = dict(state)
        if state.get("n_used") is None:
            state["n_used"] = state.get("n_points")
        self.__dict__.update(state)

    def predict(self, x: Any, *more: Any) -> Union[float, FloatArray]:
        """The fitted law at new inputs ``x``, read as :func:`scalingfit.fit` reads its inputs
        (an array of one input, an (n, n_inputs) array or a tuple of columns); one point, a
        number of a one-input law or n_inputs numbers such as ``(N, D)`` (the model's own
        ``predict`` reads them so), gives a float. The inputs may also come as separate
        arguments, ``predict(N, D)`` for ``predict((N, D))``. For its uncertainty use
        :func:`scalingfit.uncertainty.delta_method` or a bootstrap's ``predict``.

        Parameters
        ----------
        x : array_like or tuple of array_like
            The inputs, as above; finite (a ValueError naming the input otherwise).
        *more : array_like
            The other inputs of a law of several, as separate arguments (``predict(N, D)``);
            with ``x``, exactly ``n_inputs`` of them (a TypeError otherwise).

        Examples
        --------
        >>> import numpy as np, scalingfit
        >>> N = np.logspace(7, 10, 8)
        >>> r = scalingfit.fit("saturating_power_law", N, 1.7 + 400 * N ** -0.34)
        >>> round(r.predict(1e12), 4)
        1.7333
        """
        from . import _validate
        from ._custom import kept_model

        m = kept_model(self.model, self.custom_model, ": use model.predict(result.x, x)")
        if more:  # predict(N, D): the inputs as separate arguments
            if 1 + len(more) != m.n_inputs:
                raise TypeError(f"predict takes the {m.n_inputs} input(s) of {m.name!r} "
                                f"({', '.join(m.input_names)}), got {1 + len(more)} arguments")
            x = (x, *more)
        x, one = _validate.one_point(x, m.n_inputs)
        xa = _validate.as_inputs(x, m)
        _validate.check_finite(xa, "x", m.input_names)
        out = np.asarray(m.predict(self.x, xa), dtype=np.float64)
        return float(out[0]) if one else out

    @property
    def stderr(self) -> FloatArray:
        """Standard errors from :attr:`cov` (NaN when undefined)."""
        d = np.diag(self.cov).copy()
        d[d < 0] = np.nan
        return np.sqrt(d)

    @property
    def success(self) -> bool:
        """Whether the fit converged (status > 0)."""
        return self.status > 0

    @property
    def message(self) -> str:
        """What :attr:`status` means, in words."""
        return message(self.status)

    def interval(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """The Wald interval ``x +- t se`` of one parameter (Student's t on :attr:`dof`), as
        :func:`scalingfit.uncertainty.wald_intervals` gives every parameter's; a fixed
        parameter's is a point. For a bootstrap or profile interval use
        :func:`scalingfit.bootstrap` (``.ci(name)``) or
        :func:`scalingfit.uncertainty.profile_interval`: a Wald interval is symmetric, and
        under-covers parameters whose estimates are skewed, such as a Chinchilla fit's
        amplitudes (30 runs, 1% noise, 500 simulations: B 0.88 and A 0.92-0.93 at 95%, the
        exponents and E 0.95-0.96; the profile interval of B 0.94-0.96).

        Parameters
        ----------
        name : str
            A parameter of the model (``param_names``; another is a ValueError). One that
            ended on a bound warns :class:`~scalingfit.UncertaintyWarning`.
        level : float
            The interval's level, in (0, 1); default 0.95.

        Examples
        --------
        >>> import numpy as np, scalingfit
        >>> N = np.logspace(7, 10, 12)
        >>> r = scalingfit.fit("saturating_power_law", N, (1.7 + 400 * N**-0.34) * (1 + 0.01 * np.sin(np.arange(12))))
        >>> lo, hi = r.interval("alpha")
        >>> bool(lo < r.params["alpha"] < hi)
        True
        """
        from .uncertainty import wald_intervals

        if name not in self.param_names:
            raise ValueError(f"{self.model} has no parameter {name!r}; it has {', '.join(self.param_names)}")
        lo, hi = wald_intervals(self, level)[name]
        if name in self.at_bound:
            from ._warnings import UncertaintyWarning, warn

            warn(f"{name} = {self.params[name]:.6g} ended on one of its bounds: the Wald interval "
                 f"({lo:.6g}, {hi:.6g}) assumes an interior optimum and does not apply there; widen "
                 "the bound, hold the parameter with fixed=, or take a profile interval "
                 "(scalingfit.uncertainty.profile_interval), which respects the bound",
                 UncertaintyWarning, stacklevel=2)
        return lo, hi

    def __repr__(self) -> str:
        width = max(len(n) for n in self.param_names)
        lines = [
            (f"FitResult(model={self.model!r}, status={self.status} [{self.message}], "
             f"cost={_fmt(self.cost)}, iterations={self.iterations}, n_points={self.n_points}, "
             f"{'' if self.n_used == self.n_points else f'n_used={self.n_used}, '}"
             f"starts={self.n_best}/{self.n_starts} "
             f"{'at best' if self.n_best else 'converged'})"),
            f"  {'param'.ljust(width)}  {'value':>14}  {'stderr':>12}",
        ]
        for n, v, s in zip(self.param_names, self.x, self.stderr):
            err = "(fixed)" if n in self.fixed else _fmt(float(s))
            note = "  (at a bound: stderr does not apply)" if n in self.at_bound else ""
            lines.append(f"  {n.ljust(width)}  {_fmt(float(v)):>14}  {err:>12}{note}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Every item of a batch call.

    Attributes
    ----------
    x : ndarray (n_items, n_params)
    cost, status, iterations : ndarray (n_items,)
    cov : ndarray (n_items, n_params, n_params) or None
    problem : ndarray (n_items,)
        The problem each item solved.
    n_problems : int
    model : str
        Model name.
    param_names : tuple of str
        Names of the columns of ``x``.
    """

    model: str
    param_names: tuple[str, ...]
    x: FloatArray
    cost: FloatArray
    status: NDArray[np.int32]
    iterations: NDArray[np.int32]
    cov: Optional[FloatArray]
    problem: IntArray
    n_problems: int

    @property
    def success(self) -> NDArray[np.bool_]:
        """Per item: converged (status > 0)."""
        return self.status > 0

    @property
    def n_items(self) -> int:
        """Items (problem, start pairs) in the batch."""
        return int(self.x.shape[0])

    def messages(self) -> list[str]:
        """The status message of every item."""
        return [message(int(s)) for s in self.status]

    def params(self, name: str) -> FloatArray:
        """One parameter across items.

        Parameters
        ----------
        name : str
            A parameter of the model (``param_names``; another is a ValueError).
        """
        if name not in self.param_names:
            raise ValueError(f"{self.model} has no parameter {name!r}; it has {', '.join(self.param_names)}")
        return self.x[:, self.param_names.index(name)]

    def best_index(self) -> IntArray:
        """Index of the best item of each problem: lowest cost among converged items, else
        lowest finite cost among the rest, else -1 for a problem with no item at all."""
        n = self.n_problems
        best = np.full(n, -1, dtype=np.int64)
        prob = self.problem
        m = prob.shape[0]
        step = prob[1:] - prob[:-1]
        grouped = m > 0 and bool((step >= 0).all())  # as fit_batch, all_starts and refit give
        if grouped and m == n and prob[0] == 0 and bool((step == 1).all()):
            return np.arange(n, dtype=np.int64)  # one item per problem, in order
        key = np.where(np.isfinite(self.cost), self.cost, np.inf)
        # Converged items first (rank 0), then unconverged (1), then failures (2).
        rank = np.where(self.status > 0, 0, np.where(self.status == 0, 1, 2))
        if grouped:  # O(n): per run of a problem, the least rank, then cost, then index
            starts = np.flatnonzero(np.r_[True, prob[1:] != prob[:-1]])
            counts = np.diff(np.r_[starts, m])
            cand = rank == np.repeat(np.minimum.reduceat(rank, starts), counts)
            k = np.where(cand, key, np.inf)
            cand &= k == np.repeat(np.minimum.reduceat(k, starts), counts)
            best[prob[starts]] = np.minimum.reduceat(np.where(cand, np.arange(m), m), starts)
            return best
        order = np.lexsort((np.arange(self.n_items), key, rank, self.problem))
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = self.problem[order][1:] != self.problem[order][:-1]
        sel = order[first]
        best[self.problem[sel]] = sel
        return best

    def best_per_problem(self) -> BatchResult:
        """A BatchResult with one item per problem, the best start of each (see
        :meth:`best_index`); problems without items get NaN parameters and status -3."""
        idx = self.best_index()
        has = idx >= 0
        sel = idx[has]  # may be empty: a batch with no items at all
        n, P = self.n_problems, len(self.param_names)
        x = np.full((n, P), np.nan)
        x[has] = self.x[sel]
        cost = np.full(n, np.nan)
        cost[has] = self.cost[sel]
        status = np.full(n, -3, dtype=np.int32)
        status[has] = self.status[sel]
        iters = np.zeros(n, dtype=np.int32)
        iters[has] = self.iterations[sel]
        cov = None
        if self.cov is not None:
            cov = np.full((n, P, P), np.nan)
            cov[has] = self.cov[sel]
        return BatchResult(
            model=self.model,
            param_names=self.param_names,
            x=x,
            cost=cost,
            status=status,
            iterations=iters,
            cov=cov,
            problem=np.arange(self.n_problems, dtype=np.int64),
            n_problems=self.n_problems,
        )

    def __repr__(self) -> str:
        ok = int(self.success.sum())
        return (
            f"BatchResult(model={self.model!r}, n_items={self.n_items}, "
            f"n_problems={self.n_problems}, converged={ok}/{self.n_items}, "
            f"params={list(self.param_names)})"
        )
