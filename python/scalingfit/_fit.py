"""fit and fit_batch: every fit is an item in one batched call of the core."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _cuda, _custom, _identify, _precision, _status, _validate, _warnings
from ._custom import CustomModel
from ._warnings import ConvergenceWarning, DataWarning, IdentifiabilityWarning, UncertaintyWarning
from .models import LOSSES, Model, get
from .results import BatchResult, FitResult

FloatArray = NDArray[np.float64]
ModelLike = Union[str, Model, CustomModel]

DEFAULT_FTOL = 1e-12
DEFAULT_XTOL = 1e-10
DEFAULT_GTOL = 1e-10
DEFAULT_MAX_ITER = 500
# Working memory for the items of one core call (their outputs and item arrays) when no
# max_memory is given; larger batches are solved in consecutive calls, with the same bits.
DEFAULT_MAX_MEMORY = 256 << 20


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silences numpy's floating-point warnings: data-driven initial guesses on extreme data
    may overflow; the solver then reports a status. (numpy's error state is local to the
    thread; a ``warnings.catch_warnings`` here, as before, swapped the process-wide filters,
    so threads fitting at once could leave every later warning of the process silenced.)"""
    with np.errstate(all="ignore"):
        yield


_CORE_SECONDS: contextvars.ContextVar[Optional[list[float]]] = contextvars.ContextVar(
    "scalingfit_core_seconds", default=None)


@contextlib.contextmanager
def core_clock() -> Iterator[list[float]]:
    """Inside (in this thread): the wall time of the core's batch solves (``solve_batch`` and
    ``bootstrap_batch``, on the CPU or the GPU) adds up in the one entry of the list this
    yields; an enclosing clock gets its block's total too. A context variable: other threads'
    calls are not counted, and nothing is patched."""
    outer = _CORE_SECONDS.get()
    mine = [0.0]
    token = _CORE_SECONDS.set(mine)
    try:
        yield mine
    finally:
        _CORE_SECONDS.reset(token)
        if outer is not None:
            outer[0] += mine[0]


def timed_core(call: Callable[[], Any]) -> Any:
    """``call()``, a call of the core's batch solver, timed for an open :func:`core_clock`."""
    sink = _CORE_SECONDS.get()
    if sink is None:
        return call()
    t0 = time.perf_counter()
    try:
        return call()
    finally:
        sink[0] += time.perf_counter() - t0


def resolve_model(model: ModelLike) -> Union[Model, CustomModel]:
    if isinstance(model, CustomModel):
        return model
    return get(model)


def resolve_backend(backend: str, m: Union[Model, CustomModel, None] = None) -> str:
    """"cpu" or "cuda" for a user's ``backend`` ("cpu", "cuda" or "auto"; see
    :mod:`scalingfit._cuda`). Custom Python models run on the CPU only."""
    if isinstance(m, CustomModel) and backend != "cpu":
        if backend == "cuda":
            raise ValueError("custom Python models run on the CPU only (backend='cpu' or 'auto')")
        return "cpu"
    return _cuda.resolve_backend(backend)


PRECISIONS = ("float64", "float32")


def check_precision(precision: str, m: Union[Model, CustomModel, None] = None) -> bool:
    """True for ``precision="float32"``: float data and per-point arithmetic (model, Jacobian,
    loss and their sums over the points), the solver's step and tests in double; the float32
    build of the core on the CPU, the float32 kernels on the GPU (the same arithmetic: the two
    give the same bits). Measured accuracy in the README ("float32"). Custom Python models are
    float64 only."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'float64' or 'float32', got {precision!r}")
    if precision == "float32" and isinstance(m, CustomModel):
        raise ValueError("custom Python models are solved in float64 only (precision='float64')")
    return precision == "float32"


def available_memory() -> Optional[int]:
    """Bytes of memory available to a new allocation (Linux: MemAvailable + SwapFree from
    /proc/meminfo, and no more than the room left under a cgroup's limit, v2 ``memory.max``
    or v1 ``memory.limit_in_bytes``: a container's limit is not in /proc/meminfo), or None
    where none of it can be read."""
    found: list[int] = []
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f if line.endswith("kB\n")}
        found.append(info["MemAvailable"] + info.get("SwapFree", 0))
    except (OSError, KeyError, ValueError, IndexError):
        pass
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit) as f:
                cap = f.read().strip()
            with open(usage) as f:
                used = int(f.read().strip())
            if cap != "max" and int(cap) < (1 << 60):  # v1 writes "unlimited" as a huge number
                found.append(max(int(cap) - used, 0))
        except (OSError, ValueError):
            continue
    return min(found) if found else None


@functools.cache
def hardware_threads() -> int:
    """The machine's hardware threads (asked once: 5 us a call, twice per fit)."""
    return int(_core.hardware_threads() or os.cpu_count() or 1)


def default_threads(n_items: int) -> int:
    """All hardware threads for big batches; one thread below 64 items (inline)."""
    return 1 if n_items <= 64 else hardware_threads()


MAX_THREADS = 4096  # far beyond any machine's cores; the OS refuses a pool of 10**5 threads
OVERSUBSCRIPTION = 4  # at most this many worker threads per hardware thread


def _check_threads(threads: Optional[int], n_items: int) -> int:
    """The worker threads for ``n_items`` items: ``threads`` (a whole number in
    [1, MAX_THREADS]) but no more than there are items, nor than ``OVERSUBSCRIPTION`` per
    hardware thread (results are the same for any count; the core's pool keeps every thread
    it ever started, so ``threads=4096`` on 2 cores used to leave 4,098 threads and 34 GB of
    address space behind, and ran 5x slower than ``threads=2``)."""
    if threads is None:
        return default_threads(n_items)
    n = _validate.integer("threads", threads, least=1, most=MAX_THREADS)
    return max(1, min(n, n_items, OVERSUBSCRIPTION * hardware_threads()))


def check_max_memory(max_memory: Any) -> Optional[int]:
    """``max_memory`` as an int (a whole number of bytes > 0: an int, or an integral float such
    as ``2e9``), or None; a ValueError naming it otherwise (text such as "1GB" too)."""
    if max_memory is None:
        return None
    if isinstance(max_memory, (int, np.integer)) and not isinstance(max_memory, (bool, np.bool_)):
        ok = max_memory > 0  # a Python int of any size (2**70: np.isfinite refused it)
    else:
        ok = (isinstance(max_memory, (float, np.floating)) and bool(np.isfinite(max_memory))
              and float(max_memory).is_integer() and max_memory > 0)
    if not ok:
        raise ValueError(f"max_memory must be a positive number of bytes (an integer, e.g. 2**30 "
                         f"for 1 GiB) or None, got {max_memory!r}")
    return int(max_memory)


def item_chunks(
    n_items: int, item_bytes: int, fixed_bytes: int, max_memory: Optional[int]
) -> list[tuple[int, int]]:
    """Consecutive item ranges [a, b), one core call each. A call needs ``fixed_bytes`` of
    scratch for the data (shared by its items) and ``item_bytes`` per item (outputs, item
    arrays); ``max_memory`` caps the sum (``ValueError`` when not even one item fits), and
    ``None`` gives the items DEFAULT_MAX_MEMORY beyond the data's own scratch. Items are
    independent, so the split never changes a result."""
    max_memory = check_max_memory(max_memory)
    if max_memory is None:
        room = DEFAULT_MAX_MEMORY
    else:
        room = max_memory - fixed_bytes
        if room < item_bytes:
            raise ValueError(
                f"max_memory={int(max_memory):,} bytes is too small for this batch: its data need "
                f"{fixed_bytes:,} bytes of scratch and each item {item_bytes:,} more"
            )
    per = max(1, room // item_bytes)
    return [(a, min(a + per, n_items)) for a in range(0, n_items, per)] or [(0, 0)]


def gather(
    chunks: list[tuple[int, int]], call: Callable[[int, int], tuple[Any, ...]], P: int,
    compute_cov: bool,
) -> tuple[Any, ...]:
    """(x, cov, cost, status, iterations) of all items, from call(a, b) -> the same of items
    [a, b) for each chunk: the call's own arrays when there is one chunk, else gathered."""
    if len(chunks) == 1:
        return call(*chunks[0])
    n = chunks[-1][1]
    out = (np.empty((n, P)), np.empty((n, P, P)) if compute_cov else None, np.empty(n),
           np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32))
    for a, b in chunks:
        for dst, src in zip(out, call(a, b)):
            if dst is not None:
                dst[a:b] = src
    return out


def solve(
    m: Union[Model, CustomModel],
    x: FloatArray,
    y: FloatArray,
    w: Optional[FloatArray],
    offsets: NDArray[np.int64],
    problem: NDArray[np.int64],
    p0: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    *,
    loss: str,
    f_scale: float,
    log_residuals: bool,
    max_iter: int,
    ftol: float,
    xtol: float,
    gtol: float,
    threads: Optional[int],
    compute_cov: bool = True,
    max_memory: Optional[int] = None,
    backend: str = "cpu",
    precision: str = "float64",
) -> BatchResult:
    """Runs one batch on validated arrays (the engine room of fit, fit_batch and the laws),
    in consecutive core calls of at most ``max_memory`` bytes of working memory each."""
    loss_index = _validate.check_loss(loss, LOSSES)
    _validate.check_options(f_scale, max_iter, ftol, xtol, gtol)
    _validate.flag("log_residuals", log_residuals)
    _validate.flag("compute_cov", compute_cov)
    n_items, P = p0.shape
    _check_threads(threads, n_items)  # a bad value raises even for custom models
    float32 = check_precision(precision, m)
    on_gpu = resolve_backend(backend, m) == "cuda"
    # Per item: x, cov, cost, status, iterations; per call: the prepared inputs and targets.
    item_bytes = 8 * P + (8 * P * P if compute_cov else 0) + 16
    fixed_bytes = 8 * x.size + 8 * y.shape[0] + offsets.shape[0]
    chunks = item_chunks(n_items, item_bytes, fixed_bytes, max_memory)

    def run(a: int, b: int) -> tuple[Any, ...]:
        if isinstance(m, CustomModel):  # the numpy solver: timed as the core's solves are
            return tuple(timed_core(lambda: _custom.solve_batch(
                m, loss, x, y, w, offsets, problem[a:b], p0[a:b], lo, hi, ftol, xtol, gtol,
                max_iter, f_scale, log_residuals,
            )))
        solver = _cuda.solve_batch if on_gpu else _core.solve_batch
        return tuple(timed_core(lambda: solver(
            m.index, loss_index, x, y, w, offsets, problem[a:b], p0[a:b], lo, hi, ftol, xtol,
            gtol, int(max_iter), float(f_scale), bool(log_residuals), compute_cov,
            _check_threads(threads, b - a), float32,
        )))

    xs, cov, cost, status, iters = gather(chunks, run, P, compute_cov)
    if float32 and cov is not None:
        flagged = _precision.rounding_items(y, w, offsets, problem, cost, status, bool(log_residuals))
        if flagged.any():
            cov[flagged] = np.nan
            _precision.warn_rounding(m.name, flagged, problem, "their covariance is NaN")
    return BatchResult(
        model=m.name,
        param_names=m.param_names,
        x=xs,
        cost=cost,
        status=status,
        iterations=iters,
        cov=cov,
        problem=problem,
        n_problems=offsets.shape[0] - 1,
    )


def fit(
    model: ModelLike,
    x: Any,
    y: ArrayLike,
    p0: Optional[_validate.StartLike] = None,
    *,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    bounds: _validate.BoundsLike = None,
    fixed: _validate.FixedLike = None,
    log_residuals: bool = False,
    starts: Optional[ArrayLike] = None,
    max_iter: int = DEFAULT_MAX_ITER,
    ftol: float = DEFAULT_FTOL,
    xtol: float = DEFAULT_XTOL,
    gtol: float = DEFAULT_GTOL,
    threads: Optional[int] = None,
) -> FitResult:
    """Fit one scaling law to one set of points.

    Parameters
    ----------
    model : str, Model or CustomModel
        A built-in model name (see ``scalingfit.models.names()``) or a custom model.
    x : array_like
        Inputs: shape (n,) for one-input laws; (n, 2) or a tuple ``(N, D)`` for two.
    y : array_like, shape (n,)
        Observed values (e.g. loss).
    p0 : array_like or dict, optional
        Start. Omitted (and no ``starts``): the model's data-driven initial guesses, all
        solved in one batch call.
    weights : array_like, shape (n,), optional
        Non-negative weights; a weight of k counts the point k times in the cost (so the
        parameters equal those of the point repeated k times). The covariance's residual
        degrees of freedom count the points with a positive weight (weights as relative
        precisions), not the sum of the weights: repeat the rows to have them counted k times.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}
        Robust loss, scipy's definitions, with scale ``f_scale`` (in residual units).
    f_scale : float
        The robust loss's scale, scipy's: residuals much smaller than it count as under
        ``"linear"``, larger ones are down-weighted. In residual units (log units with
        ``log_residuals``); between 1e-100 and 1e100; no effect with ``loss="linear"``.
        Default 1.0.
    bounds : None, (lower, upper) or {name: (lo, hi)}
        Box bounds. Omitted: the model's defaults (mostly unbounded).
    fixed : {name: value}, optional
        Parameters held at a value (e.g. ``{"E": 1.69}``, an irreducible loss taken from
        elsewhere): the others are fitted as the reduced model, with its covariance and
        degrees of freedom; a fixed parameter's stderr is 0. Equal lower and upper bounds fix
        a parameter the same way. Starts take the fixed values whatever they hold.
    log_residuals : bool
        Fit ``log model - log y`` instead of ``model - y`` (Hoffmann et al. / Epoch).
    starts : array_like, shape (k, n_params), optional
        Several starts, all solved in one batch call (with ``p0`` as one more if given);
        the lowest converged cost wins.
    max_iter, ftol, xtol, gtol :
        Stopping rules (see ``lm.hpp``; all scale-free).
    threads : int, optional
        Worker threads (default: all hardware threads for more than 64 starts).

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        For bad values (non-finite values, non-positive inputs of power laws, mismatched
        lengths or ragged columns, empty data, unknown model or loss, bad bounds, start outside
        bounds), naming the argument and the first offending index.
    TypeError
        For input of the wrong type: text (even ``"1e9"``) or complex numbers where numbers
        belong, a flag (``log_residuals``) that is not True or False, ``fixed`` that is not a
        mapping; naming the argument.

    Warns
    -----
    UncertaintyWarning
        Among others: a converged fit with as many points of positive weight as free
        parameters has no residual degrees of freedom, so its stderr, cov and Wald intervals
        are NaN (not raised: the parameters of an exactly determined fit are still its
        solution).

    Examples
    --------
    >>> import numpy as np, scalingfit
    >>> N = np.logspace(7, 10, 8)
    >>> r = scalingfit.fit("saturating_power_law", N, 1.7 + 400 * N ** -0.34)
    >>> round(r.params["alpha"], 6)
    0.34
    """
    m = resolve_model(model)
    xa, ya, w = _prepare_points(m, x, y, weights, log_residuals)
    n = ya.shape[0]
    lo, hi = _validate.as_bounds(bounds, m, fixed)
    k_free = _validate.n_free(lo, hi)
    if n < k_free:
        held = f" ({m.n_params - k_free} fixed)" if k_free < m.n_params else ""
        raise ValueError(
            f"need at least {k_free} points to fit the {k_free} free parameters of "
            f"{m.name}{held}, got {n}"
        )
    start_list = []
    if p0 is not None:
        start_list.append(_validate.as_starts(p0, m, lo, hi, "p0"))
    if starts is not None:
        start_list.append(_validate.as_starts(starts, m, lo, hi, "starts"))
        if start_list[-1].shape[0] == 0:
            raise ValueError(f"starts holds no start (shape {np.shape(starts)}); omit it for "
                             "the model's data-driven starts")
    if not start_list:
        with quiet():  # extreme data: a non-finite guess is a status (-3), not a warning
            guesses = np.clip(m.initial_guesses(xa, ya), lo, hi)  # inside the bounds
            start_list.append(loss_starts(m, xa, ya, w, guesses, lo, hi, loss, f_scale, log_residuals))
    P0 = np.ascontiguousarray(np.vstack(start_list))
    k = P0.shape[0]
    offsets = np.array([0, n], dtype=np.int64)
    batch = solve(
        m, xa, ya, w, offsets, np.zeros(k, dtype=np.int64), P0, lo, hi,
        loss=loss, f_scale=f_scale, log_residuals=log_residuals, max_iter=max_iter,
        ftol=ftol, xtol=xtol, gtol=gtol, threads=threads,
    )
    b = int(batch.best_index()[0])
    best_cost = float(batch.cost[b])
    tol = 1e-8 * abs(best_cost) + 1e-300
    n_best = int(np.sum(batch.success & (batch.cost <= best_cost + tol)))
    cov = batch.cov[b] if batch.cov is not None else np.full((m.n_params,) * 2, np.nan)
    result = FitResult(
        model=m.name,
        param_names=m.param_names,
        x=batch.x[b].copy(),
        cost=best_cost,
        cov=cov.copy(),
        status=int(batch.status[b]),
        iterations=int(batch.iterations[b]),
        n_points=n,
        n_used=n if w is None else int(np.count_nonzero(w > 0)),
        n_starts=k,
        n_best=n_best,
        loss=loss,
        log_residuals=log_residuals,
        fixed=tuple(n for n, low, high in zip(m.param_names, lo, hi) if low == high),
        at_bound=tuple(n for n, v, low, high in zip(m.param_names, batch.x[b], lo, hi)
                       if low != high and v in (low, high)),
        custom_model=m if isinstance(m, CustomModel) else None,
    )
    if result.status == _status.SINGULAR:
        _warnings.warn(f"{m.name} fit: {result.message}", IdentifiabilityWarning, stacklevel=2)
    elif not result.success:
        _warnings.warn(
            f"{m.name} fit did not converge: {result.message}", ConvergenceWarning, stacklevel=2
        )
    if result.success:  # converged and regular, but an exponent may still be unresolved
        for why in _identify.narrow_exponents(m, xa, w, offsets, lo, hi, np.zeros(1, np.int64)).get(0, []):
            _warnings.warn(f"{m.name} fit: {why}", IdentifiabilityWarning, stacklevel=2)
        near = _identify.near_singular(result.param_names, result.cov)
        if near:
            _warnings.warn(f"{m.name} fit: {near}", IdentifiabilityWarning, stacklevel=2)
        beyond = "" if _ERRORS_UNUSED.get() else robust_errors_note(m, xa, ya, w, result.x, loss, f_scale,
                                                                     log_residuals)
        if beyond:
            _warnings.warn(f"{m.name} fit: {beyond}", UncertaintyWarning, stacklevel=2)
        noop = robust_noop_note(m, xa, ya, w, result.x, loss, f_scale, log_residuals)
        if noop:
            _warnings.warn(f"{m.name} fit: {noop}", DataWarning, stacklevel=2)
        if result.dof <= 0 and not _ERRORS_UNUSED.get():
            _warnings.warn(f"{m.name} fit: {no_dof_note(result)}", UncertaintyWarning, stacklevel=2)
    return result


#: Fraction of the points (the largest residuals) left out of the trimmed guesses of a robust fit.
TRIM_FRACTION = 0.15


def loss_starts(m: Union[Model, CustomModel], x: FloatArray, y: FloatArray, w: Optional[FloatArray],
                starts: FloatArray, lo: FloatArray, hi: FloatArray, loss: str, f_scale: float,
                log_residuals: bool) -> FloatArray:
    """The data-driven starts of :func:`fit` (``starts``, the model's guesses clipped to the
    bounds) for its loss and residuals. A linear loss on linear residuals keeps them as they
    are. The model's guesses are least-squares fits, which a gross outlier drags far from the
    bulk of the data (a saturating law with E = -A = -9e3, a Chinchilla law with E = -22):

    * a robust loss adds the guesses on the data without the ``TRIM_FRACTION`` of points of
      largest residual from the first guess, then from the first trimmed guess
      (:func:`trimmed_starts`), where a (weighted) residual at the first guess exceeds
      ``f_scale`` (else the loss is least squares there: the starts stay as they are);
    * log residuals need a model positive at every point: a start at which it is not (status
      -1 at the start) has its E raised until the model's least value is half the least y
      (:func:`positive_starts`), or is dropped, unless no start would be left."""
    out = starts
    if loss != "linear" and starts.shape[0] > 0:
        f = m.predict_many(starts[:1], x)[0]
        with np.errstate(all="ignore"):
            r = np.log(f) - np.log(y) if log_residuals else f - y
            if w is not None:
                r = r * np.sqrt(w)
        if not (np.abs(r) <= f_scale).all():  # NaN (a model <= 0 in logs) counts as beyond
            out = trimmed_starts(m, x, y, out, lo, hi)
    if log_residuals:
        out = positive_starts(m, x, y, out, lo, hi)
    return out


def trimmed_starts(m: Union[Model, CustomModel], x: FloatArray, y: FloatArray, starts: FloatArray,
                   lo: FloatArray, hi: FloatArray) -> FloatArray:
    """``starts`` and, after them, the model's guesses on the points left when the
    ``TRIM_FRACTION`` of largest |y - model| at the first start are set aside, and again at the
    first of those (the second round sees the outliers from a start they no longer drag), without
    repeats; ``starts`` alone where too few points would be left or the guess fails."""
    n = y.shape[0]
    cut = int(np.ceil(TRIM_FRACTION * n))
    if starts.shape[0] == 0 or n - cut < m.n_params + 1:
        return starts
    rows = [starts]
    ref = starts[0]
    for _ in range(2):
        f = m.predict_many(ref[None, :], x)[0]
        r = np.abs(f - y)
        if not np.isfinite(r).all():
            break
        keep = np.sort(np.argsort(r, kind="stable")[:n - cut])
        try:
            g = np.clip(np.asarray(m.initial_guesses(x[keep], y[keep]), dtype=np.float64).reshape(-1, m.n_params),
                        lo, hi)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            break
        g = g[np.isfinite(g).all(axis=1)]
        if g.shape[0] == 0:
            break
        rows.append(g)
        ref = g[0]
    out = np.vstack(rows)
    _, first = np.unique(out, axis=0, return_index=True)
    return np.ascontiguousarray(out[np.sort(first)])


def positive_starts(m: Union[Model, CustomModel], x: FloatArray, y: FloatArray, starts: FloatArray,
                    lo: FloatArray, hi: FloatArray) -> FloatArray:
    """The starts at which the model is finite and positive at every point (what log residuals
    need), in order; a start where it is not has its E (a law's additive constant, within its
    bounds) raised until the model's least value is half the least y, else it is dropped. All of
    ``starts`` where none would be left (the fit then reports why), or where a y is not > 0."""
    if starts.shape[0] == 0 or not (y > 0).all():
        return starts
    f = m.predict_many(starts, x)
    good = np.asarray(np.isfinite(f).all(axis=1) & (f > 0).all(axis=1), dtype=bool)
    if good.all():
        return starts
    out = starts.copy()
    if "E" in m.param_names:
        e = m.param_names.index("E")
        bad = np.flatnonzero(~good & np.isfinite(f).all(axis=1))
        if bad.size:
            lift = 0.5 * float(y.min()) - f[bad].min(axis=1)  # > 0: the model dips to <= 0
            out[bad, e] = np.clip(out[bad, e] + lift, lo[e], hi[e])
            g = m.predict_many(out[bad], x)
            good[bad] = np.isfinite(g).all(axis=1) & (g > 0).all(axis=1)
    return np.ascontiguousarray(out[good]) if good.any() else starts


def no_dof_note(result: FitResult) -> str:
    """Why a converged fit with as many points of positive weight as free parameters (or
    fewer) has no standard errors."""
    k = len(result.param_names) - len(result.fixed)
    return (f"{result.n_used} point(s) of positive weight for {k} free parameter(s): no "
            "residual degrees of freedom, so no standard errors (stderr, cov and the Wald "
            "intervals are NaN) and the fit, passing through every point, says nothing of "
            "the noise; add points, fix a parameter (fixed={...}) or fit a simpler law")


_ERRORS_UNUSED: contextvars.ContextVar[bool] = contextvars.ContextVar("scalingfit_errors_unused", default=False)


@contextlib.contextmanager
def errors_unused() -> Iterator[None]:
    """Inside: ``fit`` leaves out the UncertaintyWarning about its Gauss-Newton standard errors,
    for callers whose intervals do not come from them (the bootstrap, the profile). A context
    variable, not a warnings filter: ``warnings.catch_warnings`` swaps the process-wide filter
    list, which threads running such calls at once could leave changed."""
    token = _ERRORS_UNUSED.set(True)
    try:
        yield
    finally:
        _ERRORS_UNUSED.reset(token)


#: A robust fit with fewer than this share of its residuals within ``f_scale`` gets an
#: UncertaintyWarning: its Gauss-Newton standard errors understate the uncertainty. Measured
#: (Chinchilla on 30 runs, 1% noise, Huber on log residuals, 200-300 fits each): 95% intervals
#: of the exponents covered 0.65-0.73 at 7 of 30 residuals inside, 0.85-0.87 at 11-12, 0.89-0.92
#: at 17, 0.92-0.94 at 23, and 0.92-0.97 with every residual inside (the linear loss's).
ROBUST_MIN_INSIDE = 0.5


def _used_residuals(m: Union[Model, CustomModel], xa: FloatArray, ya: FloatArray, w: Optional[FloatArray],
                    params: FloatArray, log_residuals: bool) -> FloatArray:
    """The residuals (log ones with ``log_residuals``) at ``params`` of the points of positive
    weight."""
    pred = np.asarray(m.predict(params, xa), dtype=np.float64)
    with np.errstate(all="ignore"):
        r = np.log(pred) - np.log(ya) if log_residuals else pred - ya
    return np.asarray(r if w is None else r[w > 0])


def robust_noop_note(
    m: Union[Model, CustomModel], xa: FloatArray, ya: FloatArray, w: Optional[FloatArray],
    params: FloatArray, loss: str, f_scale: float, log_residuals: bool,
) -> str:
    """Why a robust fit at ``params`` is (close to) least squares, or "": every residual lies
    within a third of ``f_scale``, where Huber's loss is quadratic and the others nearly so
    (``loss="huber"`` with the default ``f_scale=1`` on losses fitted to 1%: nothing was
    down-weighted, silently)."""
    if loss == "linear":
        return ""
    r = np.abs(_used_residuals(m, xa, ya, w, params, log_residuals))
    n, p = r.shape[0], params.shape[0]
    # every residual under a third of f_scale: with Huber's textbook f_scale = 1.345 sigma the
    # largest of 8 residuals is below f_scale itself in about half the data sets, so that alone
    # would warn about a well-chosen scale
    if n <= p or not np.isfinite(r).all() or not r.max() > 0 or r.max() > f_scale / 3:
        return ""
    spread = 1.4826 * float(np.median(r)) * float(np.sqrt(n / (n - p)))  # MAD about 0, for the fit's dof
    what = ("quadratic, so this fit is least squares: nothing was down-weighted" if loss == "huber" else
            "close to quadratic, so this fit is close to least squares: little was down-weighted")
    return (f"every residual lies within f_scale = {f_scale:g} (the largest |r| is {r.max():.3g}, under a third of it), where "
            f"the {loss} loss is {what}. "
            f"Give f_scale near the noise scale of the {'log ' if log_residuals else ''}residuals "
            f"(about {spread:.2g} here; e.g. 1.345 times it for Huber)")


def robust_errors_note(
    m: Union[Model, CustomModel], xa: FloatArray, ya: FloatArray, w: Optional[FloatArray],
    params: FloatArray, loss: str, f_scale: float, log_residuals: bool,
) -> str:
    """Why the Gauss-Newton standard errors of a robust fit at ``params`` understate its
    uncertainty, or "" (a linear loss, or at least :data:`ROBUST_MIN_INSIDE` of the
    positively weighted residuals within ``f_scale``). Past ``f_scale`` a robust loss grows
    like |r| or slower, and the reweighted Gauss-Newton matrix then overstates the curvature
    that the data give the parameters."""
    if loss == "linear":
        return ""
    r = _used_residuals(m, xa, ya, w, params, log_residuals)
    n_used = r.shape[0]
    inside = int(np.sum(np.abs(r) <= f_scale))
    if n_used == 0 or inside >= ROBUST_MIN_INSIDE * n_used:
        return ""
    return (f"{inside} of {n_used} residuals lie within f_scale = {f_scale:g}; past it the {loss} "
            "loss grows like |r| or slower, so the Gauss-Newton standard errors (stderr, "
            "cov, Wald and delta-method intervals) understate the uncertainty (95% intervals "
            f"covered 0.65-0.73 at 7 of 30 inside in a simulated Chinchilla fit): {ROBUST_REMEDY}")


#: What :func:`robust_errors_note` advises, in the Python API's words (the CLI's warning line
#: puts its own options in their place).
ROBUST_REMEDY = ("take intervals from scalingfit.bootstrap or uncertainty.profile_interval, or an f_scale "
                 "near the noise level")


def _prepare_points(
    m: Union[Model, CustomModel],
    x: Any,
    y: ArrayLike,
    weights: Optional[ArrayLike],
    log_residuals: bool,
    x_name: str = "x",
    y_name: str = "y",
) -> tuple[FloatArray, FloatArray, Optional[FloatArray]]:
    """Validated (x, y, w) for a single fit: every value checked, errors name the index (and
    the arrays as ``x_name`` and ``y_name``)."""
    _validate.flag("log_residuals", log_residuals)  # "False" would take log(y) below
    xa = _validate.as_inputs(x, m, x_name)
    ya = _validate.as_targets(y, xa.shape[0], y_name, x_name)
    if ya.shape[0] == 0:
        raise ValueError(f"{x_name} and {y_name} are empty: nothing to fit")
    _validate.check_finite(xa, x_name, m.input_names)
    _validate.check_finite(ya, y_name)
    if m.positive_inputs:
        _validate.check_positive(xa, x_name, f"{m.name} works with log(x)", m.input_names)
    if log_residuals:
        _validate.check_positive(ya, y_name, "log_residuals=True takes log(y)")
    w = _validate.as_weights(weights, ya.shape[0])
    return xa, ya, w


def fit_batch(
    model: ModelLike,
    x: Any,
    y: ArrayLike,
    offsets: ArrayLike,
    p0: Optional[ArrayLike] = None,
    *,
    problem: Optional[ArrayLike] = None,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    bounds: _validate.BoundsLike = None,
    fixed: _validate.FixedLike = None,
    log_residuals: bool = False,
    max_iter: int = DEFAULT_MAX_ITER,
    ftol: float = DEFAULT_FTOL,
    xtol: float = DEFAULT_XTOL,
    gtol: float = DEFAULT_GTOL,
    threads: Optional[int] = None,
    compute_cov: bool = True,
    max_memory: Optional[int] = None,
    backend: str = "cpu",
    precision: str = "float64",
) -> BatchResult:
    """Fit many problems (and many starts per problem) in one call.

    The points of all problems are packed CSR-style: problem j owns rows
    ``offsets[j]:offsets[j+1]`` of ``x`` and ``y``. Items are (problem, start) pairs.

    Parameters
    ----------
    model, x, y :
        As for :func:`fit`, with the rows of every problem stacked.
    offsets : array_like of int, shape (n_problems + 1,)
    p0 : array_like, optional
        ``(n_params,)``: one start for every problem; ``(n_items, n_params)``: one start per
        item, with ``problem`` naming each item's problem (default: item i solves problem i).
        Omitted: each problem's data-driven initial guess.
    problem : array_like of int, shape (n_items,), optional
    weights : array_like, shape (n,), optional
        One non-negative weight per row of ``y`` (all problems' rows), as in :func:`fit`.
    loss, f_scale : optional
        Robust loss and its scale in residual units (see :func:`fit`), the same for every item.
    bounds : optional
        As for :func:`fit`, the same for every item.
    fixed : {name: value}, optional
        Parameters held at a value in every item (see :func:`fit`).
    log_residuals : bool
        Fit ``log model - log y`` instead of ``model - y`` (a problem with a ``y <= 0`` gets
        status -3).
    max_iter, ftol, xtol, gtol :
        Stopping rules of every item (as for :func:`fit`; see ``lm.hpp``).
    threads : int, optional
        CPU worker threads (default: all hardware threads for more than 64 items, else one;
        never more than the items; results are the same for any count).
    compute_cov : bool
        Compute each item's Gauss–Newton covariance (``BatchResult.cov``); False leaves ``cov``
        None and saves ``8 * n_params**2`` bytes per item. A custom model always computes it.
    max_memory : int, optional
        Cap in bytes on the working memory of a core call (the prepared data, and the outputs
        of the items it solves) beyond the returned result; the items are solved in as many
        consecutive calls as that needs, with bit-identical results. Default: the data plus
        256 MiB for the items. The data-driven starts are guessed before the core calls, in
        batches of whole problems of at most ``max_memory / 256`` points (else 2**20 points:
        20 to 180 bytes of scratch a point, by model).
    backend : {"cpu", "cuda", "auto"}
        Where the items are solved. "cuda": on an NVIDIA GPU through CuPy (the same solver
        compiled by NVRTC; results agree with the CPU to rounding); raises
        ``CudaUnavailableError`` without CuPy or a GPU. "auto": the GPU when there is one, else
        the CPU after a one-line notice. ``threads`` applies to the CPU only.
    precision : {"float64", "float32"}
        "float32": the data and the per-point arithmetic (model, Jacobian, loss, the sums over
        the points) in float, the solver's steps, tests and covariance in double. Meant for the
        GPU (float arithmetic is 2x (H100) to 64x (consumer cards) faster there, and the data
        take half the memory); on the CPU the same arithmetic runs unvectorised, slower than
        float64, as the GPU's reference. Parameters agree with float64's to within 0.04 of
        a standard error at 1% noise (measured on every model; median relative difference
        5e-8 to 9e-5), less closely with less noise (0.17 at 1e-4, 0.63 at 1e-5: use float64
        for nearly noise-free data);
        identifiability is judged at a pivot of 1e-5 instead of 1e-13. See the README.

    Bad data inside a problem (NaN, non-positive inputs of a power law, too few points) is not
    an exception here: that problem's items get status -3 and NaN results, the others are
    solved normally. Malformed arrays (shapes, offsets, starts outside bounds) raise.

    Returns
    -------
    BatchResult
    """
    m = resolve_model(model)
    xa = _validate.as_inputs(x, m)
    ya = _validate.as_targets(y, xa.shape[0])
    off = _validate.as_offsets(offsets, ya.shape[0])
    n_problems = off.shape[0] - 1
    w = None
    if weights is not None:
        w = _validate.as_targets(weights, ya.shape[0], name="weights", x_name="y")
    lo, hi = _validate.as_bounds(bounds, m, fixed)
    if p0 is None:
        if problem is not None:
            raise ValueError("problem= needs p0 (one start per item)")
        if isinstance(m, CustomModel):  # no data-driven start: a usage error, not a status per fit
            m.initial_guesses(xa, ya)  # raises ValueError naming the model
        P0 = guess_starts(m, xa, ya, off, lo, hi, check_max_memory(max_memory))
        prob = np.arange(n_problems, dtype=np.int64)
    else:
        single = isinstance(p0, Mapping) or np.ndim(p0) == 1  # one start for every problem
        P0 = _validate.as_starts(p0, m, lo, hi, "p0")
        if single:
            P0 = np.ascontiguousarray(np.broadcast_to(P0, (n_problems, m.n_params)))
        if problem is None:
            if P0.shape[0] != n_problems:
                raise ValueError(
                    f"p0 has {P0.shape[0]} starts but there are {n_problems} problems; "
                    "pass problem= to say which problem each start belongs to"
                )
            prob = np.arange(n_problems, dtype=np.int64)
        else:
            prob = np.asarray(problem)
            if prob.dtype == np.bool_ or not np.issubdtype(prob.dtype, np.integer):
                raise TypeError(f"problem must hold integer problem indices, got dtype {prob.dtype}")
            prob = np.array(prob, dtype=np.int64)  # a copy: the result keeps it
            if prob.shape != (P0.shape[0],):
                raise ValueError(f"problem must have one entry per start ({P0.shape[0]}), got shape {prob.shape}")
            bad = (prob < 0) | (prob >= n_problems)
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"problem[{i}] = {int(prob[i])} is not a problem index (0..{n_problems - 1})")
    return solve(
        m, xa, ya, w, off, prob, P0, lo, hi,
        loss=loss, f_scale=f_scale, log_residuals=log_residuals, max_iter=max_iter,
        ftol=ftol, xtol=xtol, gtol=gtol, threads=threads, compute_cov=compute_cov,
        max_memory=max_memory, backend=backend, precision=precision,
    )


def usable_problems(
    m: Union[Model, CustomModel],
    x: FloatArray,
    y: FloatArray,
    offsets: NDArray[np.int64],
    lo: FloatArray,
    hi: FloatArray,
) -> NDArray[np.bool_]:
    """Problems whose data can start a fit: as many points as free parameters (fixed ones,
    equal bounds, need none), every value finite, inputs > 0 for a law of log inputs."""
    n_problems = offsets.shape[0] - 1
    counts = np.diff(offsets)
    pid = np.repeat(np.arange(n_problems, dtype=np.int64), counts)
    row_ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
    if m.positive_inputs:
        row_ok &= (x > 0).all(axis=1)
    bad_rows = np.bincount(pid, weights=(~row_ok).astype(np.float64), minlength=n_problems)
    return np.asarray((counts >= _validate.n_free(lo, hi)) & (bad_rows == 0))


#: Points per batch of :func:`guess_starts` (the guesses take 20-180 bytes of scratch per
#: point, by model: at most ~190 MB a batch).
GUESS_POINTS = 1 << 20


def guess_chunks(offsets: NDArray[np.int64], points: int) -> list[tuple[int, int]]:
    """Consecutive problem ranges [a, b) of about ``points`` points each (at least one problem)."""
    n_problems = offsets.shape[0] - 1
    out, a = [], 0
    while a < n_problems:
        b = int(np.searchsorted(offsets, offsets[a] + points, side="right")) - 1
        b = min(max(b, a + 1), n_problems)
        out.append((a, b))
        a = b
    return out


def guess_starts(
    m: Union[Model, CustomModel],
    x: FloatArray,
    y: FloatArray,
    offsets: NDArray[np.int64],
    lo: FloatArray,
    hi: FloatArray,
    max_memory: Optional[int] = None,
) -> FloatArray:
    """Each problem's data-driven initial guess; NaN for problems whose data are unusable
    (the core then reports status -3 for them). Guessed in batches of whole problems of
    about GUESS_POINTS points (fewer under ``max_memory``: 256 bytes a point), each problem's
    guess the same as in one batch."""
    points = GUESS_POINTS if max_memory is None else max(1, min(GUESS_POINTS, max_memory // 256))
    chunks = guess_chunks(offsets, points)
    if len(chunks) <= 1:
        return _guess_starts(m, x, y, offsets, lo, hi)
    out = np.empty((offsets.shape[0] - 1, m.n_params))
    for a, b in chunks:
        s, e = offsets[a], offsets[b]
        out[a:b] = _guess_starts(m, x[s:e], y[s:e], offsets[a:b + 1] - s, lo, hi)
    return out


def _guess_starts(
    m: Union[Model, CustomModel],
    x: FloatArray,
    y: FloatArray,
    offsets: NDArray[np.int64],
    lo: FloatArray,
    hi: FloatArray,
) -> FloatArray:
    """:func:`guess_starts` of one batch."""
    n_problems = offsets.shape[0] - 1
    out = np.full((n_problems, m.n_params), np.nan)
    usable = usable_problems(m, x, y, offsets, lo, hi)
    pid = np.repeat(np.arange(n_problems, dtype=np.int64), np.diff(offsets))
    batch_guess = getattr(m, "batch_guess", None)
    if batch_guess is not None and usable.any():
        if usable.all():  # the data as they are: no copies to leave rows out
            xs, ys, sub = x, y, pid
        else:
            keep = usable[pid]
            sub = (np.cumsum(usable) - 1)[pid[keep]]  # the usable problems renumbered 0..k-1
            xs, ys = x[keep], y[keep]
        with quiet():
            g = batch_guess(xs, ys, sub, int(usable.sum()))
        out[usable] = np.clip(g, lo, hi)
        # A problem the batch guess left without a finite start: the single-problem guess. (The
        # chinchilla grids solve collinear pairs, e.g. D = M N at one M, in the batch too, by
        # least-norm least squares: 5,000 such problems took 0.6-0.9 ms each in this loop.)
        redo = np.flatnonzero(usable & ~np.isfinite(out).all(axis=1))
        if redo.size == 0:
            return np.ascontiguousarray(out)
        usable = np.zeros(n_problems, dtype=bool)
        usable[redo] = True
    for j in np.flatnonzero(usable):
        s, e = offsets[j], offsets[j + 1]
        xj, yj = x[s:e], y[s:e]
        try:
            with quiet():
                out[j] = np.clip(m.initial_guess(xj, yj), lo, hi)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
    return np.ascontiguousarray(out)


def all_starts(m: Union[Model, CustomModel], x: FloatArray, y: FloatArray, off: NDArray[np.int64], lo: FloatArray,
                hi: FloatArray) -> tuple[FloatArray, NDArray[np.int64]]:
    """Every data-driven start of every problem (what :func:`scalingfit.fit` tries), and the
    problem of each; none for a problem whose data cannot start a fit (status -3). A built-in
    model's starts come from its vectorised all-starts guess (the same values as
    ``initial_guesses``, bit for bit), except for the problems that guess leaves to
    ``initial_guesses`` (rare branches); other models call ``initial_guesses`` per problem.
    Returns (starts, problem of each), in problem order, each problem's starts best first."""
    usable = usable_problems(m, x, y, off, lo, hi)
    starts, owner = [], []
    batch = getattr(m, "batch_guesses", None)
    if batch is not None and usable.any():
        g, of, usable = _batched_starts(m, batch, x, y, off, usable)
        starts.append(_clip_starts(m, g, lo, hi))
        owner.append(of)
    for j in np.flatnonzero(usable):
        xj, yj = x[off[j]:off[j + 1]], y[off[j]:off[j + 1]]
        try:
            with quiet():
                g = np.clip(np.asarray(m.initial_guesses(xj, yj), dtype=np.float64).reshape(-1, m.n_params), lo, hi)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        starts.append(g)
        owner.append(np.full(g.shape[0], j, dtype=np.int64))
    if not starts:
        return np.zeros((0, m.n_params)), np.zeros(0, dtype=np.int64)
    p0, prob = np.vstack(starts), np.concatenate(owner)
    keep = np.isfinite(p0).all(axis=1)
    o = np.argsort(prob[keep], kind="stable")  # problem order, each problem's starts in order
    return np.ascontiguousarray(p0[keep][o]), prob[keep][o]


def _batched_starts(m: Union[Model, CustomModel], batch: Callable[..., Any], x: FloatArray, y: FloatArray, off: NDArray[np.int64],
                    usable: NDArray[np.bool_]) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.bool_]]:
    """The usable problems' starts by the model's all-starts guess, before clipping: (starts,
    problem of each, the problems it left to the per-problem guess)."""
    P = off.shape[0] - 1
    pid = np.repeat(np.arange(P, dtype=np.int64), np.diff(off))
    keep = usable[pid]
    idx = np.flatnonzero(usable)
    sub = np.cumsum(usable) - 1  # the usable problems renumbered 0..k-1
    with quiet():
        g, j, redo = batch(x[keep], y[keep], sub[pid[keep]], idx.size)
    left = np.zeros(P, dtype=bool)
    left[idx[redo]] = True
    return np.asarray(g, dtype=np.float64).reshape(-1, m.n_params), idx[j], left


def _clip_starts(m: Union[Model, CustomModel], g: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """As initial_guesses (the model's bounds), then the fit's bounds."""
    return np.asarray(np.clip(np.clip(g, m.lower, m.upper), lo, hi))
