"""Shared pieces of the planning tools: the Chinchilla law as arrays, its closed-form
compute-optimal frontier, vectorised one-dimensional solvers, percentile intervals, and the
readers of the two published data sets used here.

Every function broadcasts over its array arguments, *including the law's parameters*: a law
whose ``E, A, B, alpha, beta`` are arrays of bootstrap replicates gives arrays of answers, one
per replicate, in one vectorised pass (that is how intervals are carried from a fit into a
plan).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _validate
from .._optimal import checked_sizes
from .._resample import table
from ..data import RunDataError
from ..results import FitResult

FloatArray = NDArray[np.float64]
PathLike = Union[str, Path]

LAW_KEYS = ("E", "A", "B", "alpha", "beta")


class Figure(str):
    """A number as a printed table shows it (``format(value, spec)``, e.g. ``'3.219e+10'``),
    which keeps the number itself at full precision in ``.value`` (``optimal --json`` writes
    that).

    >>> f = Figure(32190436512.3, ".4g")
    >>> f, f.value
    ('3.219e+10', 32190436512.3)
    """

    value: float
    spec: str

    def __new__(cls, value: Any, spec: str = ".4g") -> Figure:  # noqa: PYI034 (no Self on 3.9)
        v = float(value)
        out = super().__new__(cls, format(v, spec))
        out.value, out.spec = v, spec
        return out

    def __reduce__(self) -> tuple[type[Figure], tuple[float, str]]:  # pickle: from the number
        return (Figure, (self.value, self.spec))

#: Hoffmann et al. (2022), eq. 10, as printed: the law Sardana et al. and most planners start from.
HOFFMANN_2022: dict[str, float] = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

#: The coefficients with which Sardana et al. (2023)'s Figure 1 example is reproduced exactly
#: (13B Chinchilla-optimal model, 2e12 inference tokens -> a 7.0B model, 1.7e22 FLOPs = 17%
#: saved): Hoffmann's E, A, B with alpha = 0.336, beta = 0.283. Inferred by reproducing the
#: figure, not copied from a table of theirs.
SARDANA_2023: dict[str, float] = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.336, "beta": 0.283}


def d_to_n(G: Any, beta_over_alpha: Any, D: Any) -> FloatArray:
    """``G (D G)^(beta / alpha)``: the compute-optimal model size whose optimal token count is
    ``D`` (:meth:`Law.optimal_n_for_data`), on checked arrays."""
    return np.asarray(G * (D * G) ** beta_over_alpha)


@dataclass(frozen=True, eq=False)
class Law:
    """``L(N, D) = E + A / N^alpha + B / D^beta`` with array-valued parameters.

    Build it with :func:`as_law` from a mapping ``{E, A, B, alpha, beta}``, from anything
    with those attributes (e.g. ``scalingfit.chinchilla.ChinchillaLaw``), or from arrays of
    bootstrap replicates (one value per replicate, same shape for all five; from a
    ``scalingfit.bootstrap`` result, :func:`replicate_law`).

    Attributes
    ----------
    E : ndarray
        The irreducible loss (nats/token).
    A, B : ndarray
        Amplitudes of the parameter and data terms (> 0).
    alpha, beta : ndarray
        Their exponents (> 0).
    """

    E: FloatArray
    A: FloatArray
    B: FloatArray
    alpha: FloatArray
    beta: FloatArray

    @property
    def a(self) -> FloatArray:
        """``N_opt ∝ C^a`` with ``a = beta / (alpha + beta)``."""
        return np.asarray(self.beta / (self.alpha + self.beta))

    @property
    def G(self) -> FloatArray:
        """``(alpha A / (beta B))^(1 / (alpha + beta))``: ``N_opt = G (C/6)^a``; inf where it
        overflows float64 (a small ``alpha + beta``), not Python's OverflowError."""
        with np.errstate(over="ignore"):
            return np.asarray(np.float64(self.alpha * self.A / (self.beta * self.B))
                              ** (1.0 / (self.alpha + self.beta)))

    def loss(self, N: ArrayLike, D: ArrayLike) -> FloatArray:
        """Predicted loss at ``N`` parameters and ``D`` tokens (each finite and > 0).

        Parameters
        ----------
        N : array_like
            Parameters.
        D : array_like
            Training tokens; broadcast with ``N`` and the law's replicates.
        """
        n = check_positive("N", N)
        d = check_positive("D", D)
        law_shape = np.broadcast_shapes(*(np.shape(v) for v in self._values()))
        _validate.broadcast(N=n, D=d, **{"the law (its replicates)": np.empty(law_shape)})
        return np.asarray(self.E + self.A * n**-self.alpha + self.B * d**-self.beta)

    def optimal_allocation(
        self, C: ArrayLike, flops_per_token: float = 6.0
    ) -> tuple[FloatArray, FloatArray]:
        """``(N_opt, D_opt)`` minimising the loss on ``flops_per_token * N * D = C``.

        Parameters
        ----------
        C : array_like
            Training compute in FLOP (finite, > 0).
        flops_per_token : float
            Training FLOP per parameter per token (finite, > 0); default 6.
        """
        N, D = checked_sizes(self.A, self.B, self.alpha, self.beta, check_positive("C", C),
                             float(check_positive("flops_per_token", flops_per_token, scalar=True)))
        return np.asarray(N), np.asarray(D)

    def optimal_n_for_data(self, D: ArrayLike) -> FloatArray:
        """The compute-optimal model size whose optimal token count is ``D``:
        ``N = G (D G)^(beta / alpha)`` (Muennighoff et al.'s ``D_to_N``).

        Parameters
        ----------
        D : array_like
            Training tokens (finite, > 0).
        """
        d = check_positive("D", D)
        with np.errstate(over="ignore"):
            n = self.n_for_data(d)
        return np.asarray(_validate.check_computed(
            n, "the optimal N = G (D G)^(beta/alpha)", {"D": d}, "D must be a token count whose compute-optimal "
            "model size is a float64"))

    def n_for_data(self, D: Union[float, FloatArray]) -> FloatArray:
        """:meth:`optimal_n_for_data` on checked ``D``, unchecked: inf where it overflows (for
        callers that name their own argument in that error)."""
        return d_to_n(self.G, self.beta / self.alpha, D)

    def optimal_for_loss(self, target: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(N, D)`` reaching loss ``target`` with the least training compute (closed form:
        on the frontier ``A N^-alpha = beta (L - E) / (alpha + beta)``). NaN where
        ``target <= E`` (unreachable).

        Parameters
        ----------
        target : array_like
            The loss to reach (nats/token); not otherwise checked.
        """
        delta = np.asarray(target, dtype=np.float64) - self.E
        with np.errstate(invalid="ignore", divide="ignore"):
            s = self.alpha + self.beta
            N = (self.A * s / (self.beta * delta)) ** (1.0 / self.alpha)
            D = (self.B * s / (self.alpha * delta)) ** (1.0 / self.beta)
        bad = ~(delta > 0)
        return np.where(bad, np.nan, N), np.where(bad, np.nan, D)

    def optimal_loss(self, C: ArrayLike, flops_per_token: float = 6.0) -> FloatArray:
        """The loss at the compute-optimal ``(N_opt, D_opt)`` for compute ``C``.

        Parameters
        ----------
        C : array_like
            Training compute in FLOP (finite, > 0).
        flops_per_token : float
            As :meth:`optimal_allocation`; default 6.
        """
        N, D = self.optimal_allocation(C, flops_per_token)
        return self.loss(N, D)

    def as_dict(self) -> dict[str, Any]:
        """``E, A, B, alpha, beta`` by name (floats, or arrays of replicates)."""
        return {
            k: (float(v) if np.ndim(v) == 0 else np.asarray(v))
            for k, v in zip(LAW_KEYS, self._values())
        }

    def _values(self) -> tuple[FloatArray, ...]:
        return (self.E, self.A, self.B, self.alpha, self.beta)

    def __repr__(self) -> str:
        return law_repr("Law", "L(N, D) = E + A/N^alpha + B/D^beta", LAW_KEYS, self._values())


def as_law(params: Any) -> Law:
    """A :class:`Law` from a mapping with keys ``E, A, B, alpha, beta`` (scalars or equally
    shaped arrays), an object with those attributes, or a converged fit (a
    :class:`~scalingfit.FitResult` of ``chinchilla``, ``chinchilla_lse`` or ``chinchilla_tied``,
    or a bootstrap of one: its point fit; :func:`replicate_law` gives its replicates).

    Parameters
    ----------
    params : mapping, object or fit
        The law, in any of the forms above.

    Raises
    ------
    ValueError
        When a key is missing or unknown, a value is not finite, or ``A, B, alpha, beta`` are
        not > 0.
    """
    if isinstance(params, Law):
        return params
    if isinstance(params, FitResult) or isinstance(getattr(params, "fit", None), FitResult):
        from ..chinchilla import as_law as chinchilla_law  # a fit of a Chinchilla-form model

        params = chinchilla_law(params)
    if isinstance(params, Mapping):
        missing = [k for k in LAW_KEYS if k not in params]
        if missing:
            raise ValueError(f"law parameters need keys {list(LAW_KEYS)}; missing {missing}")
        extra = [k for k in params if k not in LAW_KEYS]
        if extra:  # a misspelt or foreign key would be ignored
            raise ValueError(f"law parameters have unknown key(s) {', '.join(map(repr, extra))}: a law "
                             f"takes exactly {', '.join(LAW_KEYS)}")
        vals = [params[k] for k in LAW_KEYS]
    elif all(hasattr(params, k) for k in LAW_KEYS):
        vals = [getattr(params, k) for k in LAW_KEYS]
    else:
        hint = (" (for a bootstrap's replicates pass planning.replicate_law(boot), not "
                "boot.samples)" if isinstance(params, np.ndarray) else "")
        raise ValueError(
            "law parameters must be a mapping {E, A, B, alpha, beta} or an object with those "
            f"attributes, got {type(params).__name__}{hint}"
        )
    arrs = [np.asarray(v, dtype=np.float64) for v in vals]
    for k, v in zip(LAW_KEYS, arrs):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"law parameter {k} must be finite")
        if k != "E" and not np.all(v > 0):
            raise ValueError(f"law parameter {k} must be > 0")
    _validate.broadcast(**{f"law parameter {k}": v for k, v in zip(LAW_KEYS, arrs)})
    return Law(*arrs)


def replicate_law(boot: Any) -> Law:
    """The converged replicates of a bootstrap of a Chinchilla-form fit as one :class:`Law`
    whose fields are arrays, one entry per replicate.

    Every planning function that takes a Chinchilla law broadcasts over it: pass it as the law
    to get one answer per replicate, and take percentiles of those for an interval
    (:func:`percentile_interval`, or ``np.percentile(..., axis=0)``). A bootstrap given as the
    law itself (``params=boot``) is its point fit, like a fit.

    Parameters
    ----------
    boot : scalingfit.BootstrapResult
        A bootstrap (``scalingfit.bootstrap``) of ``chinchilla``, ``chinchilla_lse`` (its log
        parameters ``a, b, e`` exponentiated) or ``chinchilla_tied`` (``beta = alpha``).
        Failed replicates (NaN rows of ``boot.samples``) are left out.

    Raises
    ------
    TypeError
        If ``boot`` is not a bootstrap result.
    ValueError
        For a bootstrap of another model, when every replicate failed, or as :func:`as_law`
        for a replicate with ``A, B, alpha, beta`` not > 0.

    Examples
    --------
    >>> import numpy as np, scalingfit
    >>> from scalingfit.planning import inference_optimal, percentile_interval, replicate_law
    >>> N, D = (v.ravel() for v in np.meshgrid(np.geomspace(1e7, 1e10, 8), np.geomspace(1e9, 1e12, 6)))
    >>> loss = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.01 * np.random.default_rng(0).standard_normal(N.size))
    >>> b = scalingfit.bootstrap("chinchilla", np.column_stack([N, D]), loss, n_resamples=200)
    >>> law = replicate_law(b)
    >>> law.E.shape == (200 - b.n_failed,)
    True
    >>> r = inference_optimal(2.2, 1e13, params=law)   # one optimum per replicate
    >>> lo, hi = percentile_interval(r.N)               # its 95% interval
    >>> bool(lo < inference_optimal(2.2, 1e13, params=b).N < hi)
    True
    """
    from ..bootstrap import BootstrapResult
    from ..chinchilla import _CHINCHILLA_MODELS

    if not isinstance(boot, BootstrapResult):
        raise TypeError(f"replicate_law needs a scalingfit.bootstrap result (BootstrapResult), got "
                        f"{type(boot).__name__}")
    model = boot.fit.model
    if model not in _CHINCHILLA_MODELS:
        raise ValueError(f"a bootstrap of {model!r} is not of a Chinchilla law; give a bootstrap "
                         f"of {', '.join(map(repr, _CHINCHILLA_MODELS))}")
    s = np.asarray(boot.samples, dtype=np.float64)
    s = s[~np.isnan(s).any(axis=1)]
    if s.shape[0] == 0:
        raise ValueError(f"every one of the bootstrap's {boot.n_resamples} replicates failed: "
                         "there is no replicate law")
    col = {n: s[:, j].copy() for j, n in enumerate(boot.param_names)}
    if model == "chinchilla_lse":  # E = e^e, A = e^a, B = e^b
        col = {"E": np.exp(col["e"]), "A": np.exp(col["a"]), "B": np.exp(col["b"]),
               "alpha": col["alpha"], "beta": col["beta"]}
    elif model == "chinchilla_tied":
        col["beta"] = col["alpha"].copy()
    return as_law({k: col[k] for k in LAW_KEYS})


# ------------------------------------------------------------------ one-dimensional solvers
_GOLD = (np.sqrt(5.0) - 1.0) / 2.0


def minimize_scalar(
    f: Callable[[FloatArray], FloatArray],
    lo: ArrayLike,
    hi: ArrayLike,
    *,
    n_grid: int = 241,
    n_iter: int = 80,
) -> tuple[FloatArray, FloatArray]:
    """Minimise ``f`` over ``t`` in ``[lo, hi]`` for many problems at once.

    ``f`` takes ``t`` of shape ``S + (k,)`` (``S`` the broadcast shape of ``lo`` and ``hi``)
    and returns values of the same shape. A grid of ``n_grid`` points brackets the global
    minimum (so kinks and plateaus elsewhere do not matter), then golden-section search
    refines it inside the two neighbouring cells. Returns ``(t_min, f_min)`` of shape ``S``.
    """
    lo_a, hi_a = np.broadcast_arrays(
        np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    )
    u = np.linspace(0.0, 1.0, n_grid)
    t = lo_a[..., None] + (hi_a - lo_a)[..., None] * u
    with np.errstate(all="ignore"):
        v = f(t)
    v = np.where(np.isfinite(v), v, np.inf)
    i = np.argmin(v, axis=-1)
    a = np.take_along_axis(t, np.maximum(i - 1, 0)[..., None], -1)[..., 0]
    b = np.take_along_axis(t, np.minimum(i + 1, n_grid - 1)[..., None], -1)[..., 0]
    best_t = np.take_along_axis(t, i[..., None], -1)[..., 0]
    best_v = np.take_along_axis(v, i[..., None], -1)[..., 0]

    def g(x: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            r = f(x[..., None])[..., 0]
        return np.where(np.isfinite(r), r, np.inf)

    c = b - _GOLD * (b - a)
    d = a + _GOLD * (b - a)
    fc, fd = g(c), g(d)
    for _ in range(n_iter):
        left = fc <= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = b - _GOLD * (b - a)
        d_new = a + _GOLD * (b - a)
        # Reuse the surviving interior point; evaluate the new one only.
        c_next = np.where(left, c_new, d)
        d_next = np.where(left, c, d_new)
        new_pt = np.where(left, c_next, d_next)
        fn = g(new_pt)
        fc, fd = np.where(left, fn, fd), np.where(left, fc, fn)
        c, d = c_next, d_next
    m = 0.5 * (a + b)
    fm = g(m)
    better = fm < best_v
    return np.where(better, m, best_t), np.where(better, fm, best_v)


def bisect(
    g: Callable[[FloatArray], FloatArray],
    lo: ArrayLike,
    hi: ArrayLike,
    *,
    n_iter: int = 200,
) -> FloatArray:
    """Root of an increasing function ``g`` on ``[lo, hi]`` (elementwise, vectorised); stops
    early once every bracket has stopped shrinking (machine precision)."""
    a, b = np.broadcast_arrays(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
    a, b = a.copy(), b.copy()
    for _ in range(n_iter):
        m = 0.5 * (a + b)
        if np.all((m == a) | (m == b)):
            break
        with np.errstate(all="ignore"):
            pos = g(m) > 0
        b = np.where(pos, m, b)
        a = np.where(pos, a, m)
    return np.asarray(0.5 * (a + b), dtype=np.float64)


# ------------------------------------------------------------------ intervals
def percentile_interval(
    samples: ArrayLike, level: float = 0.95, axis: int = 0
) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed percentile interval over ``axis``, ignoring NaN replicates: ``(lower,
    upper)``, NaN (without numpy's "All-NaN slice" RuntimeWarning) where every replicate is
    NaN (a budget no replicate reaches, a fit every replicate failed).

    Parameters
    ----------
    samples : array_like
        Replicate values along ``axis``.
    level : float
        The interval's level, in (0, 1); default 0.95.
    axis : int
        The replicates' axis; default 0.

    Raises
    ------
    ValueError
        If ``level`` is not in (0, 1), or ``samples`` has no replicates along ``axis`` (no
        interval to take: an empty array).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    s = np.asarray(samples, dtype=np.float64)
    if s.ndim == 0 or s.shape[axis] == 0:
        raise ValueError(f"samples must hold at least one replicate along axis {axis}, got shape "
                         f"{s.shape}: no interval to take")
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    lo, hi = _validate.nan_percentile(s, q, axis=axis)
    return np.asarray(lo), np.asarray(hi)


# ------------------------------------------------------------------ reprs
#: Arrays of at most this many entries are shown entry by entry in a repr, larger ones summarised.
REPR_ENTRIES = 4


def quantities_repr(
    title: str, items: Sequence[tuple[str, Any]], *, replicates: bool = False
) -> str:
    """``title``, then an aligned table (:func:`scalingfit._resample.table`, 4 significant
    digits) of named quantities, for the reprs of planning results (``None`` values are left
    out). One number each: a ``value`` column. Arrays of up to :data:`REPR_ENTRIES` entries: a
    column per entry (``[i]``). Larger arrays: their shape in the title and a summary of each,
    never the entries: ``min, median, max``, or with ``replicates`` the median and the central
    95% (``2.5%``, ``97.5%``); NaN entries are left out of the summary and counted (``NaN``).

    >>> print(quantities_repr("Example", [("x", 1234.5678), ("y", [1.0, 2.0])]))
    Example, shape (2,)
    quantity   [0]   [1]
           x  1235  1235
           y     1     2
    """
    vals = [(n, np.asarray(v, dtype=np.float64)) for n, v in items if v is not None]
    try:
        shape: Optional[tuple[int, ...]] = tuple(np.broadcast_shapes(*(v.shape for _, v in vals)))
    except ValueError:  # arrays of different shapes: each summarised on its own
        shape = None
    rows: list[dict[str, object]] = []
    if shape is not None and int(np.prod(shape)) <= REPR_ENTRIES:
        for n, v in vals:
            b = np.broadcast_to(v, shape)
            row: dict[str, object] = {"quantity": n}
            if shape == ():
                row["value"] = float(b)
            else:
                row.update({f"[{', '.join(map(str, i))}]": float(b[i]) for i in np.ndindex(*shape)})
            rows.append(row)
        return (title if not shape else f"{title}, shape {shape}") + "\n" + table(rows)
    cols, qs = (("median", "2.5%", "97.5%"), (50.0, 2.5, 97.5)) if replicates else (
        ("min", "median", "max"), (0.0, 50.0, 100.0))
    n_nan = [int(np.isnan(v).sum()) for _, v in vals]
    for (n, v), k in zip(vals, n_nan):
        ok = v[~np.isnan(v)]
        with np.errstate(all="ignore"):  # between two inf entries: NaN, then the nearest (inf)
            q = np.percentile(ok, qs) if ok.size else np.full(3, np.nan)
            if ok.size and np.isnan(q).any():
                q = np.where(np.isnan(q), np.percentile(ok, qs, method="nearest"), q)
        row = {"quantity": n, **{c: float(x) for c, x in zip(cols, q)}}
        if any(n_nan):
            row["NaN"] = k
        rows.append(row)
    what = ("the median and central 95% of the replicates" if replicates
            else "the min, median and max of the entries")
    at = f"arrays of shape {shape}" if shape is not None else "arrays"
    return f"{title}\n{at}: {what}" + (", NaN left out" if any(n_nan) else "") + "\n" + table(rows)


def law_repr(name: str, formula: str, keys: Sequence[str], values: Sequence[Any]) -> str:
    """A law's repr: ``name(k=v, ...)`` (full precision) when every field is one number, else
    ``name``, ``formula``, the number of replicates and a summary of each field (see
    :func:`quantities_repr`), never the replicates themselves."""
    if all(np.ndim(v) == 0 for v in values):
        return f"{name}({', '.join(f'{k}={float(v)!r}' for k, v in zip(keys, values))})"
    try:
        n = f"{int(np.prod(np.broadcast_shapes(*(np.shape(v) for v in values))))} replicates"
    except ValueError:
        n = "fields of different shapes"
    return quantities_repr(f"{name}: {formula}, {n}", list(zip(keys, values)), replicates=True)


# The checks of plain numbers are _validate's (one family for the package), under the names
# the planning modules use.
check_positive = _validate.positive
check_finite = _validate.finite
check_nonnegative = _validate.nonnegative


def check_epochs(epochs: ArrayLike) -> FloatArray:
    """Epoch counts as floats, each finite and >= 1 (text refused), the first bad one named
    (``epochs[i] = value``)."""
    k = check_finite("epochs", epochs)
    bad = ~(k >= 1)
    if bad.any():
        if k.ndim == 0:
            raise ValueError(f"epochs must be >= 1, got {epochs!r}")
        i = ", ".join(str(int(j)) for j in np.argwhere(bad)[0])
        raise ValueError(f"epochs must be >= 1; epochs[{i}] = {float(k[np.nonzero(bad)][0])!r}")
    return k


# ------------------------------------------------------------------ reading the data sets
class Columns(dict[str, list[str]]):
    """``{column: [values as text]}`` read from ``source``; ``lines[i]`` is the file line of
    data row ``i`` (for messages)."""

    def __init__(
        self,
        source: Path,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        lines: Sequence[int],
    ) -> None:
        super().__init__((name, [r[j] for r in rows]) for j, name in enumerate(header))
        self.source = source
        self.lines = list(lines)


def read_csv_columns(path: PathLike, required: Sequence[str] = ()) -> Columns:
    """A CSV file as ``{column: [values as text]}`` (standard library only).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (IsADirectoryError, an OSError too, if it is a folder).
    scalingfit.data.RunDataError
        (a ValueError) naming the file: not UTF-8 text, not CSV, no header or no data rows,
        blank lines before the header (refused with the header's line, not skipped: the
        header must be the first line; blank lines between data rows are skipped), a repeated column name, a row (0-based data row
        and its file line) with more or fewer cells than the header, or columns of
        ``required`` missing.
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p} is a directory, not a CSV file")
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    rows: list[list[str]] = []
    lines: list[int] = []
    blank_first = False
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:  # a byte-order mark (Excel) dropped
            reader = csv.reader(fh)
            header = next(reader, None)
            if header == []:  # a blank first line: find the header, to name its line
                blank_first = True
                header = next((r for r in reader if r), None)
                if header:
                    raise RunDataError(f"{p}: blank line(s) before the header at line "
                                       f"{reader.line_num}; the header must be the first line")
            for row in reader:
                if row:  # blank lines are skipped, as csv.DictReader does
                    rows.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise RunDataError(f"cannot read {p}: not a UTF-8 text (CSV) file: {exc}") from None
    except csv.Error as exc:
        raise RunDataError(f"cannot read {p} as CSV: {exc}") from None
    if not header:
        raise RunDataError(f"{p} is empty: no header row"
                           + (" (only blank lines)" if blank_first else ""))
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise RunDataError(f"{p}: column(s) {dup} appear more than once in the header")
    missing = [k for k in required if k not in header]
    if missing:
        raise RunDataError(f"{p} lacks required column(s) {missing}; it has {header}")
    if not rows:
        raise RunDataError(f"{p} has a header but no data rows")
    for i, (row, line) in enumerate(zip(rows, lines)):
        if len(row) != len(header):
            raise RunDataError(
                f"{p}: row {i} (line {line}) has {len(row)} cells, the header {len(header)}"
            )
    return Columns(p, header, rows, lines)


def numeric(
    cols: Mapping[str, list[str]],
    key: str,
    *,
    positive: bool = False,
    empty: bool = False,
    rows: Any = None,
) -> FloatArray:
    """Column ``key`` of :func:`read_csv_columns` as floats, each finite (and > 0 with
    ``positive``; with ``empty``, a blank cell or ``nan`` is NaN); ``rows`` (indices or a
    mask) reads only those rows. A :class:`scalingfit.data.RunDataError` names the file, the
    column and the first bad row (0-based data row, and its file line) otherwise."""
    src = getattr(cols, "source", None)
    where = "" if src is None else f"{src}: "
    if key not in cols:
        raise RunDataError(f"{where}no column {key!r}; it has {list(cols)}")
    lines: Optional[list[int]] = getattr(cols, "lines", None)
    text = cols[key]
    idx = np.arange(len(text)) if rows is None else np.arange(len(text))[rows]
    cells = [text[i] for i in idx.tolist()]
    try:  # the fast path; the loop below finds the first bad cell
        fast = np.array([t or "nan" for t in cells] if empty else cells, dtype=np.float64)
    except ValueError:
        pass
    else:
        if not (np.isinf(fast).any() or (not empty and np.isnan(fast).any())
                or (positive and (fast <= 0).any())):
            return fast
    out = np.empty(idx.size, dtype=np.float64)
    for j, (i, t) in enumerate(zip(idx.tolist(), cells)):
        if empty and not t:
            out[j] = np.nan
            continue
        line = "" if lines is None else f" (line {lines[i]})"
        bad = f"{where}column {key!r}, row {i}{line}: {t!r}"
        try:
            v = float(t)
        except ValueError:
            raise RunDataError(f"{bad} {'is empty' if not t.strip() else 'is not a number'}") from None
        if np.isinf(v) or (np.isnan(v) and not empty):
            raise RunDataError(f"{bad} is not finite")
        if positive and v <= 0:
            raise RunDataError(f"{bad} must be > 0")
        out[j] = v
    return out  # numpy refused a cell that float() reads (e.g. "1_000")


def broadcast_copy(v: ArrayLike, shape: tuple[int, ...]) -> FloatArray:
    return np.array(np.broadcast_to(np.asarray(v, dtype=np.float64), shape))


def resolve_file(path: PathLike, default_name: str) -> Path:
    """``path`` itself if it is a file, else ``path / default_name``."""
    p = Path(path)
    return p if p.is_file() else p / default_name
