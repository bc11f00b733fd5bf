"""Bulk refit of a run database: every group (sweep) fitted, chunk by chunk, resumably.

``refit(source, law="chinchilla", group_by=["sweep"])`` reads the distinct groups, then for
each chunk of groups reads only their rows, fits all of them (and their bootstrap resamples)
as ONE batched call, and writes the results into the ``fits`` table of a DuckDB file in one
transaction per chunk. Memory is bounded by the chunk (and DuckDB's buffer pool,
:data:`DUCKDB_MEMORY_LIMIT`), not the database.

Resume: a group whose (group key, law, config hash, data hash) already has a row is skipped,
so re-running after Ctrl-C or a kill finishes the rest; results already written are never
touched by an interrupted chunk (its transaction rolls back). A group that cannot be fitted
gets a row with its status and reason; it never stops the run.

Safety: one refit at a time per results database (an advisory lock on ``<db>.lock``, on top of
DuckDB's own one-writer lock, so two refits in one process are kept apart too), and one
configuration per law in a fits table: a refit with another configuration (seed, bootstrap,
level, ...) refuses to mix its results with the stored ones unless told ``overwrite=True``,
naming the settings that differ (each configuration's settings are kept in ``fit_configs``).
Every argument is checked, and the source read as far as its columns (and first row of the
metric), before the results database is created; a ``db`` that exists and is not a DuckDB
database is refused (DuckDB would open a CSV there as a read-only view, and write nothing).
A failure found later (a line of a CSV past what was checked) leaves no database behind
either: a run that made the database and wrote nothing into it removes it.

A CSV source is read once, into a temporary DuckDB table, and the chunks from there (not
from a scan of the file per chunk); a cell that does not fit the type DuckDB sniffed from the
file's first rows is a bad row of its group, as it would be had the sample held it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np

from . import _status, data
from ._progress import progress_bar

try:  # POSIX advisory file locks; elsewhere DuckDB's own lock is the only guard
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]
from . import _cuda, _fit, _validate, _warnings
from ._custom import CustomModel
from ._fit import core_clock, fit_batch
from ._refit_boot import group_rows
from ._resample import two_sided_quantile
from ._warnings import DataWarning, UncertaintyWarning
from .bootstrap import METHODS, _finite_level
from .models import Model
from .models import get as get_model

__all__ = [
    "LAWS",
    "LawSpec",
    "RefitConfig",
    "RefitSummary",
    "read_fits",
    "refit",
    "register_law",
]

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FITS_TABLE = "fits"
PARAMS_TABLE = "fit_params"
CONFIGS_TABLE = "fit_configs"  # the settings behind each config_hash, to name what differs
#: Every table scalingfit writes into a results database (the refit's and the law comparison's).
RESULT_TABLES = (FITS_TABLE, PARAMS_TABLE, CONFIGS_TABLE, "law_comparisons", "comparison_configs")


@dataclass(frozen=True)
class LawSpec:
    """How a law is fitted to one group's rows.

    ``reduce="final"`` keeps the last step of each run (final loss); ``"all"`` every row.
    ``fit_kwargs`` go to :func:`scalingfit.fit_batch`. ``model`` is a built-in model's name,
    or a :class:`~scalingfit.CustomModel` (:func:`register_law`), fitted from ``starts``.
    """

    name: str
    model: Union[str, CustomModel]
    inputs: tuple[str, ...]
    reduce: str = "final"
    fit_kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    starts: tuple[tuple[float, ...], ...] = ()

    @property
    def custom(self) -> bool:
        """Whether the law is a registered custom model."""
        return isinstance(self.model, CustomModel)

    def model_object(self) -> Union[Model, CustomModel]:
        """The model fitted: the custom one, or the built-in of that name."""
        return self.model if isinstance(self.model, CustomModel) else get_model(self.model)

    @property
    def model_name(self) -> str:
        """The name stored in the fits table's ``model`` column."""
        return self.model.name if isinstance(self.model, CustomModel) else self.model

    def code_fingerprints(self) -> tuple[str, Optional[str]]:
        """:func:`_code_fingerprint` of a custom model's ``func`` and ``jac`` (None without)."""
        m = self.model
        if not isinstance(m, CustomModel):
            raise TypeError(f"law {self.name!r} is a built-in law: it has no code of its own")
        return _code_fingerprint(m.func), None if m.jac is None else _code_fingerprint(m.jac)

    def hashable(self) -> dict[str, Any]:
        """The spec as JSON-able values for the config hash: a built-in law's fields as they
        always were (no ``starts``: its hashes predate them); a custom model by its definition
        (names, bounds), its starts and the code of its functions (:func:`_code_fingerprint`),
        so that editing ``func`` refits instead of resuming."""
        d = {k: getattr(self, k) for k in ("name", "inputs", "reduce", "fit_kwargs", "description")}
        if isinstance(self.model, CustomModel):
            m = self.model
            # The code's fingerprints, taken afresh (a value a closure holds may change after
            # registration), except in a copy sent to a Dask worker, which carries the driver's
            # (``_code``, see distributed._carried_law): a function rebuilt by cloudpickle there
            # need not marshal to the same bytes.
            code = self.__dict__.get("_code")
            if code is None:
                code = self.code_fingerprints()
            d["model"] = dict(name=m.name, param_names=list(m.param_names), n_inputs=m.n_inputs,
                              lower=np.asarray(m.lower).tolist(), upper=np.asarray(m.upper).tolist(),
                              func=code[0], jac=code[1])
            d["starts"] = [list(s) for s in self.starts]
        else:
            d["model"] = self.model
        return d


def _code_fingerprint(fn: Callable[..., Any]) -> str:
    """SHA-1 of a function's compiled code (its bytecode, constants and names), the values its
    closure holds and its defaults; for another callable, its qualified name. The same source
    gives the same fingerprint in any process of the same Python version."""
    import marshal

    code = getattr(fn, "__code__", None)
    if code is None:
        return f"{type(fn).__module__}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    h = hashlib.sha1(marshal.dumps(code))
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            h.update(repr(cell.cell_contents).encode())
        except ValueError:  # an empty cell
            pass
    h.update(repr(getattr(fn, "__defaults__", None)).encode())
    return h.hexdigest()[:16]


LAWS: dict[str, LawSpec] = {
    "chinchilla": LawSpec("chinchilla", "chinchilla", ("N", "D"),
                          description="E + A/N^alpha + B/D^beta, least squares on final loss"),
    "chinchilla_huber": LawSpec("chinchilla_huber", "chinchilla_lse", ("N", "D"),
                                fit_kwargs=dict(loss="huber", f_scale=1e-3, log_residuals=True),
                                description="Hoffmann/Epoch objective: Huber(1e-3) on log loss"),
    "kaplan_nd": LawSpec("kaplan_nd", "kaplan_nd", ("N", "D"), fit_kwargs=dict(log_residuals=True),
                         description="Kaplan et al. L(N, D) on final loss, log residuals"),
    "saturating_n": LawSpec("saturating_n", "saturating_power_law", ("N",),
                            description="E + A N^-alpha on final loss"),
    "power_law_n": LawSpec("power_law_n", "power_law", ("N",), fit_kwargs=dict(log_residuals=True),
                           description="A N^-alpha on final loss, log residuals"),
    "data_constrained": LawSpec("data_constrained", "data_constrained", ("N", "D", "U"),
                                fit_kwargs=dict(loss="huber", f_scale=1e-3, log_residuals=True),
                                description="Muennighoff et al. L(N, D, U) under repeated data "
                                            "(U: unique tokens), Huber(1e-3) on log final loss"),
}


#: Options a registered custom law may fix for its fits (as ``LAWS``' ``fit_kwargs``).
REGISTER_OPTIONS = ("loss", "f_scale", "log_residuals", "bounds", "max_iter", "ftol", "xtol", "gtol")


def register_law(name: str, model: CustomModel, inputs: Sequence[str], starts: Any, *,
                 fit_kwargs: Optional[Mapping[str, Any]] = None, reduce: str = "final",
                 description: str = "", replace: bool = False) -> LawSpec:
    """Make a custom law refittable by name: ``refit(db, law=name)`` fits ``model`` to every
    group of a run database, from ``starts`` (a custom law has no data-driven start; the best
    start of each group is kept), resumably, with bootstrap intervals too.

    Parameters
    ----------
    name : str
        The law's name in ``refit``, the fits tables and ``read_fits`` (not a built-in law's,
        nor ``"none"``, which ``compare_refit`` keeps for the groups no law won).
    model : CustomModel
    inputs : sequence of str
        The run columns that are the model's inputs, in the order of ``x``'s columns (e.g.
        ``("N", "D")``); ``value`` is the target.
    starts : array_like, shape (n_params,) or (k, n_params)
        The start(s) of every group's fit.
    fit_kwargs : mapping, optional
        Fit options of every group (``loss``, ``f_scale``, ``log_residuals``, ``bounds``,
        ``max_iter``, ``ftol``, ``xtol``, ``gtol``).
    reduce : {"final", "all"}
        The last step of each run (final loss), or every row.
    description : str
        A line about the law, for listings (part of the law's definition, so of the
        configuration hash).
    replace : bool
        Replace a custom law already registered under ``name``.

    Returns
    -------
    LawSpec
        The registered spec (also ``LAWS[name]``).

    Notes
    -----
    The configuration hash that keys resumption covers the model's definition and the compiled
    code of ``func`` and ``jac`` (and the values their closures hold): a refit after the law
    was edited never resumes with stale fits; it refuses, saying the law's definition differs,
    until ``overwrite=True`` (CLI: ``--overwrite``) replaces the old results (or ``db=`` writes
    elsewhere). A registered law refits in float64 on the
    CPU; on a Dask cluster (``client=``, ``scheduler=``) each task carries the law to its worker
    (pickled by cloudpickle: a function of ``__main__`` or a notebook travels by value, one of a
    module by reference, so that module must be importable on the workers, or registered with
    ``cloudpickle.register_pickle_by_value``; the CLI's ``--laws-from FILE.py`` does that).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if name == "none":  # compare_refit's wins count the groups no law won under "none"
        raise ValueError("law name 'none' is reserved (compare-runs counts the groups no law won under it); "
                         "choose another name")
    if name in LAWS and (not LAWS[name].custom or not replace):
        raise ValueError(f"law {name!r} is already registered"
                         + ("" if LAWS[name].custom else " (a built-in law)")
                         + ("; pass replace=True to replace it" if LAWS[name].custom else ""))
    if not isinstance(model, CustomModel):
        raise TypeError(f"model must be a scalingfit.CustomModel, got {type(model).__name__} (a built-in "
                        "model is refitted through its law in LAWS)")
    if isinstance(inputs, str) or not all(isinstance(c, str) and c for c in inputs):
        raise TypeError(f"inputs must be a sequence of column names, e.g. ('N', 'D'), got {inputs!r}")
    inputs = tuple(inputs)
    if len(inputs) != model.n_inputs:
        raise ValueError(f"inputs names {len(inputs)} column(s) {inputs}; {model.name!r} has n_inputs={model.n_inputs}")
    if "value" in inputs or len(set(inputs)) != len(inputs):
        raise ValueError(f"inputs must be distinct run columns other than 'value', got {inputs}")
    lo, hi = _validate.as_bounds((fit_kwargs or {}).get("bounds"), model, None)
    st = _validate.as_starts(starts, model, lo, hi, name="starts")
    kw = dict(fit_kwargs or {})
    unknown = sorted(set(kw) - set(REGISTER_OPTIONS))
    if unknown:
        raise ValueError(f"fit_kwargs: unknown option(s) {unknown}; a law may fix {', '.join(REGISTER_OPTIONS)}")
    if reduce not in ("final", "all"):
        raise ValueError(f"reduce must be 'final' or 'all', got {reduce!r}")
    spec = LawSpec(name, model, inputs, reduce=reduce, fit_kwargs=kw, description=str(description),
                   starts=tuple(tuple(float(v) for v in row) for row in st))
    LAWS[name] = spec
    return spec


#: The custom law a Dask task brought with it (see :func:`law_spec`), in the task's context.
_SHIPPED: ContextVar[Optional[LawSpec]] = ContextVar("scalingfit_shipped_law", default=None)


def law_spec(name: str) -> LawSpec:
    """``LAWS[name]``, or the custom law of that name that the running Dask task carries (a
    worker's process has not registered it)."""
    shipped = _SHIPPED.get()
    if shipped is not None and shipped.name == name:
        return shipped
    return LAWS[name]


@contextmanager
def shipped_law(spec: Optional[LawSpec]) -> Iterator[None]:
    """Within the block, :func:`law_spec` finds ``spec`` by its name (a custom law sent to a
    Dask worker with its task); this thread's context only, so concurrent tasks never see
    each other's laws and the worker's registry is untouched."""
    token = _SHIPPED.set(spec)
    try:
        yield
    finally:
        _SHIPPED.reset(token)


@dataclass(frozen=True)
class RefitConfig:
    """Everything that determines a result (hashed into ``config_hash``)."""

    law: str
    group_by: tuple[str, ...]
    metric: Optional[str] = "loss"
    bootstrap: int = 0
    seed: int = 0
    level: float = 0.95
    ci_method: str = "percentile"
    precision: str = "float64"  # of the solves (results differ in the last digits: hashed)
    fixed: tuple[tuple[str, float], ...] = ()  # parameters held at a value (sorted by name)

    @property
    def fit_kwargs(self) -> dict[str, Any]:
        """The law's fit options, with ``fixed=`` when parameters are held."""
        kw = dict(law_spec(self.law).fit_kwargs)
        if self.fixed:
            kw["fixed"] = dict(self.fixed)
        return kw

    def config_hash(self) -> str:
        """16 hex digits of SHA-1 over this configuration, the law's spec and the scalingfit
        version: the key of this configuration's rows in the fits tables."""
        from . import __version__

        fields = asdict(self)
        if fields["precision"] == "float64":  # the hash of a float64 refit predates the field
            del fields["precision"]
        if not fields["fixed"]:  # so does the hash of a refit with every parameter free
            del fields["fixed"]
        blob = json.dumps({**fields, "spec": law_spec(self.law).hashable(), "version": __version__},
                          sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]


@dataclass
class RefitSummary:
    """What a refit did."""

    db: str
    law: str
    config_hash: str
    n_groups: int
    n_fitted: int
    n_skipped: int
    n_failed: int
    n_chunks: int
    seconds: float
    #: Wall time inside the compiled core's batch solves (``_core.solve_batch`` and
    #: ``_core.bootstrap_batch``; their CUDA counterparts with ``backend="cuda"``): the fits
    #: and bootstrap replicates themselves, not the start guesses, checks, resampling set-up
    #: and interval arithmetic around them in Python (timed by :func:`scalingfit._fit.core_clock`).
    seconds_in_fit: float
    #: Rows of the groups written that were skipped as invalid (a size or value that is not a
    #: positive finite number, a duplicate run and step); each group's ``reason`` names them.
    #: None where it was not counted.
    n_rows_skipped: Optional[int] = None

    @property
    def groups_per_s(self) -> float:
        """Groups fitted per second of the whole refit (NaN for a zero duration)."""
        return self.n_fitted / self.seconds if self.seconds > 0 else float("nan")

    @property
    def share_outside_core(self) -> float:
        """The share of the wall time spent outside the core's batch solves, in [0, 1]
        (``1 - seconds_in_fit / seconds``; NaN for a zero duration): reading and validating
        the rows, start guesses, intervals, building and writing the results."""
        if not self.seconds > 0:
            return float("nan")
        return min(1.0, max(0.0, 1 - self.seconds_in_fit / self.seconds))

    def _rows_note(self) -> str:
        """The summary's words on the invalid rows skipped (empty when none)."""
        return (f", {self.n_rows_skipped} invalid row(s) skipped (named in the reason column)"
                if self.n_rows_skipped else "")

    def __str__(self) -> str:
        outside = self.share_outside_core
        return (f"refit {self.law} -> {self.db}: {self.n_fitted} groups fitted "
                f"({self.n_failed} failed){self._rows_note()}, {self.n_skipped} already up to date, "
                f"{self.n_chunks} chunk{'' if self.n_chunks == 1 else 's'}, {self.seconds:.2f} s ({self.groups_per_s:,.0f} groups/s, "
                f"{100 * outside:.0f}% of time outside the fitting core)")


# --------------------------------------------------------------------------- one chunk
def _key_value(v: Any) -> Any:
    """A group column's value as the key sees it: a missing value (None, NaN, pandas' NA or
    NaT) is None and an integral float is an int, so that a group keeps its key whatever dtype
    pandas gave its column in a chunk (an integer column with a NULL arrives as float)."""
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(v, "item") and getattr(v, "ndim", 0) == 0 and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float):
        if np.isnan(v):
            return None
        if v.is_integer() and abs(v) < 2.0 ** 53:
            return int(v)
    return v


_KEY_JSON = json.JSONEncoder(default=str)  # json.dumps(..., default=str), without an encoder per call
_json_str: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _group_key(values: Sequence[Any]) -> str:
    """The key of one group's column values: JSON of their :func:`_key_value` (as
    :func:`_frame_keys` writes a whole frame's)."""
    return "[" + ", ".join(_json_text(_key_value(v)) for v in values) + "]"


def _column_keys(col: pd.Series) -> tuple[list[Any], list[Any]]:
    """``([_cell(v) ...], [_key_value(_cell(v)) ...])`` of a group column, with the integer and
    float columns (nearly every sweep id) done column-wise."""
    kind = col.dtype.kind if isinstance(col.dtype, np.dtype) else "O"
    if kind in "iu":  # no missing values: Python ints, their own key
        v = col.tolist()
        return v, v
    if kind == "f":  # NaN -> None; an integral float's key is the int
        a = col.to_numpy()
        miss = np.isnan(a)
        with np.errstate(invalid="ignore"):
            whole = (~miss & (np.abs(a) < 2.0**53) & (a == np.floor(a))).tolist()
        vals = a.tolist()
        cells = [None if m else c for c, m in zip(vals, miss.tolist())]
        return cells, [int(v) if w else c for v, c, w in zip(vals, cells, whole)]
    cells = [_cell(v) for v in col]
    return cells, [_key_value(c) for c in cells]


def _json_text(v: Any) -> str:
    """``_KEY_JSON.encode(v)`` of one key value, an int or a str without the encoder's set-up."""
    t = type(v)
    if t is int:
        return int.__repr__(v)
    if t is str:
        return _json_str(v)
    return _KEY_JSON.encode(v)


def _frame_keys(frame: pd.DataFrame) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Each row's group key (:func:`_group_key`: the same text) and values as written
    (:func:`_cell`)."""
    cols = [_column_keys(frame.iloc[:, i]) for i in range(frame.shape[1])]
    texts = [list(map(_json_text, c[1])) for c in cols]
    keys = list(map(("[" + ", ".join(["{}"] * len(cols)) + "]").format, *texts))
    return keys, list(zip(*(c[0] for c in cols)))


def _cell(v: Any) -> Any:
    """A group column's value as written to a results table: None where missing, else as read
    (a Python scalar), so the table's column keeps the source column's type."""
    if _key_value(v) is None:
        return None
    return v.item() if hasattr(v, "item") and getattr(v, "ndim", 0) == 0 and not isinstance(v, (str, bytes)) else v


@dataclass(eq=False)
class Grouped:
    """A chunk's rows validated, reduced and packed by group (:func:`group_frame`)."""

    keys: list[str]  # each group's key (JSON of its group column values)
    key_values: list[tuple[Any, ...]]  # each group's column values as read (None where missing)
    counts: np.ndarray  # points per group
    offsets: np.ndarray  # group j owns rows offsets[j]:offsets[j+1] of x and y
    x: np.ndarray
    y: np.ndarray
    hashes: list[str]  # each group's data hash
    notes: dict[str, str]  # key -> why rows of that group were dropped
    empty: list[tuple[str, tuple[Any, ...]]]  # (key, values) of groups whose every row was invalid
    empty_hashes: list[str]  # each such group's hash of its raw rows

    def todo(self, done: Optional[set[tuple[str, str]]]) -> list[int]:
        """The groups whose (key, data hash) is not in ``done``."""
        return [j for j, k in enumerate(self.keys) if not done or (k, self.hashes[j]) not in done]

    def todo_empty(self, done: Optional[set[tuple[str, str]]]) -> list[int]:
        """The all-invalid groups (indices into ``empty``) whose (key, raw-row hash) is not in
        ``done``: an unchanged one is resumed like a fitted group."""
        return [i for i, (k, _) in enumerate(self.empty) if not done or (k, self.empty_hashes[i]) not in done]


def group_frame(df: pd.DataFrame, spec: LawSpec, group_by: Sequence[str], positive: Sequence[str] = ()) -> Grouped:
    """:func:`prepare_frame`'s rows packed by group, with each group's key, values and hash."""
    clean, notes = prepare_frame(df, spec, group_by, positive)
    group_by = list(group_by)
    if all(_plain(clean[c]) for c in group_by):  # the rows are sorted by group: a group is a run of rows
        starts = np.flatnonzero(_key_changes(clean, group_by, np.arange(len(clean))))
        counts = np.diff(np.append(starts, len(clean))).astype(np.int64)
    else:
        gid = clean.groupby(group_by, sort=False, dropna=False).ngroup().to_numpy()
        counts = np.bincount(gid) if gid.size else np.zeros(0, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    keys, key_values = _frame_keys(clean.loc[offsets[:-1], group_by]) if len(clean) else ([], [])
    x = np.ascontiguousarray(clean[list(spec.inputs)].to_numpy(dtype=np.float64))
    y = np.ascontiguousarray(clean["value"].to_numpy(dtype=np.float64))
    hashes = [_data_hash(k, x[offsets[j]:offsets[j + 1]], y[offsets[j]:offsets[j + 1]]) for j, k in enumerate(keys)]
    empty: dict[str, tuple[Any, ...]] = {}
    rows_of: dict[str, list[int]] = {}
    missing = set(notes) - set(keys)  # groups whose every row was invalid: their values from the raw rows
    if missing:
        for i, vals in enumerate(df[group_by].itertuples(index=False, name=None)):
            k = _group_key(vals)
            if k in missing:
                if k not in empty:
                    empty[k] = tuple(_cell(v) for v in vals)
                rows_of.setdefault(k, []).append(i)
    empty_hashes = _raw_hashes(df, spec, list(empty), rows_of)
    return Grouped(keys, key_values, counts, offsets, x, y, hashes, notes, list(empty.items()), empty_hashes)


def _raw_hashes(df: pd.DataFrame, spec: LawSpec, keys: list[str], rows_of: Mapping[str, list[int]]) -> list[str]:
    """16 hex digits of SHA-1 per group whose every row was invalid (it has no ``x`` and ``y``
    to hash): over its key and its raw rows, each row hashed from the columns its fit and
    reason read (the inputs, ``value``, ``run_id``, ``step``; numbers as float64, anything else
    as text) and the row hashes sorted (the rows come from a join, in no fixed order). Other
    columns, and the columns' order in the source, do not change it."""
    if not keys:
        return []
    pd = data._need("pandas")
    cols = [c for c in dict.fromkeys([*spec.inputs, "value", "run_id", "step"]) if c in df.columns]
    every = np.concatenate([np.asarray(rows_of[k], dtype=np.int64) for k in keys])
    raw = df.iloc[every][cols]
    canon = pd.DataFrame({c: (pd.to_numeric(raw[c], errors="coerce").astype(np.float64)
                              if pd.api.types.is_numeric_dtype(raw[c]) else raw[c].astype(str))
                          for c in cols})
    row_hash = pd.util.hash_pandas_object(canon, index=False).to_numpy(dtype=np.uint64)
    out, at = [], 0
    for k in keys:
        n = len(rows_of[k])
        h = hashlib.sha1(k.encode())
        h.update(np.sort(row_hash[at:at + n]).tobytes())
        out.append(h.hexdigest()[:16])
        at += n
    return out


def _shown(v: Any) -> str:
    """A cell as a reason shows it: a string quoted, an integral number as an integer, any
    other number in full (the shortest form that reads back as it: searchable in the source)."""
    v = _key_value(v)
    if v is None:
        return "(missing)"
    return repr(v) if isinstance(v, str) else str(v)


def _where(df: pd.DataFrame, row: int, inputs: Sequence[str]) -> str:
    """Which row of the run data ``df``'s ``row`` is, in words a user can search the source
    for: its ``run_id`` and ``step`` where the data have them, else its input values. (Not a
    row number: a chunk's rows come from a join, in no order of the source's.)"""
    cols = [c for c in ("run_id", "step") if c in df.columns] or [c for c in inputs if c in df.columns]
    return "the row with " + ", ".join(f"{c} {_shown(df.at[row, c])}" for c in cols)


def prepare_frame(df: pd.DataFrame, spec: LawSpec, group_by: Sequence[str],
                  positive: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, str]]:
    """Validated, reduced rows sorted by group; and a reason per group for dropped rows. A row
    is dropped where a size (N, D, C, U), the value or a column of ``positive`` is not a
    number, not finite or not > 0, or where it repeats an earlier row's run and step in its
    group (the same run and step in other groups is fine: a run scored on several sets). The
    reason names each such row (up to 3 a group) by its ``run_id`` and ``step`` (else by
    its input values), the column and the cell: ``2 invalid row(s) skipped: the row with
    run_id 7, step 3: value is not a number: 'abc'; ...``."""
    needed = list(spec.inputs) + ["value"]
    df = data.map_columns(df, None, needed + list(group_by))  # each missing column named
    df = df.reset_index(drop=True)
    # A cell that is not a number ('abc') is a bad row of its group, like a negative one: the
    # rows are checked before they are made numbers (which would stop the whole refit).
    # a run and step may appear once per group (a run scored on several validation sets,
    # grouped by set), not twice in one group
    # the final step of each run: a row with no run_id belongs to no run (it was kept as a run
    # of its own, one more point of its group)
    final = spec.reduce == "final" and "run_id" in df.columns and "step" in df.columns
    clean, report = data.validate_runs(df, required=needed + (["run_id"] if final else []),
                                       positive=(*data.POSITIVE, *positive),
                                       key=(*group_by, "run_id", "step"), policy="skip-and-report")
    clean = data.to_numeric_frame(clean, [c for c in needed + ["step", "C"] if c in clean.columns])
    notes: dict[str, str] = {}
    if report.rows:
        by_row: dict[int, list[str]] = {}
        for b in report.rows:  # one pass (a chunk can hold many bad rows)
            by_row.setdefault(b.row, []).append(f"{b.column} {b.reason}")
        bad_rows = sorted(by_row)
        keys = df.loc[bad_rows, list(group_by)].itertuples(index=False, name=None)
        per: dict[str, list[str]] = {}
        for key, row in zip(keys, bad_rows):
            where = _where(df, row, spec.inputs) if len(per.get(_group_key(key), ())) < 3 else ""
            per.setdefault(_group_key(key), []).append(f"{where}: {'; '.join(by_row[row])}")
        notes = {k: f"{len(v)} invalid row(s) skipped: " + "; ".join(v[:3]) + ("; ..." if len(v) > 3 else "")
                 for k, v in per.items()}
    group_by = list(group_by)
    if final:  # the rows sorted by group, run and step, and the last of each group's run kept
        order = _stable_order(clean, group_by + ["run_id", "step"])  # None: not sorted yet
        if order is None:
            clean = clean.sort_values(group_by + ["run_id", "step"], kind="stable")
            clean = clean.groupby(group_by + ["run_id"], sort=False, dropna=False).tail(1)
        else:  # sorted as read: the same rows kept without a sort and a groupby
            clean = clean.take(_run_ends(clean, group_by + ["run_id"], order))
    order = _stable_order(clean, group_by + list(spec.inputs))
    clean = (clean.sort_values(group_by + list(spec.inputs), kind="stable") if order is None
             else clean).reset_index(drop=True)
    return clean, notes


def _plain(col: Any) -> bool:
    """Whether ``col`` (a Series) holds numpy booleans, integers or floats."""
    return isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf"


def _stable_order(frame: pd.DataFrame, columns: Sequence[str]) -> Optional[np.ndarray]:
    """The row positions in the order ``frame.sort_values(columns, kind="stable")`` gives
    them, where that is the order they are in (every one of ``columns`` a column of numpy
    numbers, the rows already sorted: the rows of a chunk as DuckDB reads them, mostly); None
    otherwise, for pandas to sort. A stable sort keeps sorted rows as they are; NaN sorts
    after the numbers of its column and equals NaN, -0.0 equals 0.0, as pandas sorts."""
    cols = [frame[c] for c in columns]
    if not all(_plain(c) for c in cols):
        return None
    n = len(frame)
    undecided = np.ones(max(n - 1, 0), dtype=bool)  # pairs of rows equal in the columns so far
    for col in cols:
        a = col.to_numpy()
        x, y = a[:-1], a[1:]
        if a.dtype.kind == "f":
            nx, ny = np.isnan(x), np.isnan(y)
            less, more = (x < y) | (~nx & ny), (x > y) | (nx & ~ny)
        else:
            less, more = x < y, x > y
        if (undecided & more).any():
            return None
        undecided &= ~less
    return np.arange(n)


def _key_changes(frame: pd.DataFrame, columns: Sequence[str], order: np.ndarray) -> np.ndarray:
    """For the rows of ``frame`` in ``order`` (sorted by ``columns``, numpy numbers), whether
    each row's values of ``columns`` differ from the previous row's (the first row: True),
    NaN equal to NaN and -0.0 to 0.0, as pandas' groupby(dropna=False) groups them."""
    change = np.zeros(len(order), dtype=bool)
    if len(order):
        change[0] = True
    for c in columns:
        a = frame[c].to_numpy()[order]
        same = a[1:] == a[:-1]
        if a.dtype.kind == "f":
            same |= np.isnan(a[1:]) & np.isnan(a[:-1])
        change[1:] |= ~same
    return change


def _run_ends(frame: pd.DataFrame, columns: Sequence[str], order: np.ndarray) -> np.ndarray:
    """The positions in ``order`` (rows sorted by ``columns`` and more) of the last row of
    each run of equal ``columns`` values (``groupby(columns, sort=False, dropna=False).tail(1)``
    of the sorted rows)."""
    change = _key_changes(frame, columns, order)
    return np.flatnonzero(np.append(change[1:], True)) if len(order) else np.zeros(0, dtype=np.int64)


def _data_hash(key: str, x: np.ndarray, y: np.ndarray) -> str:
    """16 hex digits of SHA-1 over a group's key and the bytes of its ``x`` and ``y`` (C order;
    a contiguous array is hashed in place, without a copy)."""
    h = hashlib.sha1(key.encode())
    h.update(np.ascontiguousarray(x).data)
    h.update(np.ascontiguousarray(y).data)
    return h.hexdigest()[:16]


def free_count(model: Any, fit_kwargs: Mapping[str, Any]) -> int:
    """The parameters of ``model`` its fits with ``fit_kwargs`` move: those neither ``fixed``
    nor held at a value by equal ``bounds`` (a custom law's registered bounds may hold one)."""
    return _validate.n_free(*_validate.as_bounds(fit_kwargs.get("bounds"), model, fit_kwargs.get("fixed")))


#: The words a group's ``reason`` holds (its note) when the stored Gauss-Newton intervals
#: of its robust fit understate the uncertainty (counted by :func:`refit` for its warning).
ROBUST_NOTE = "Gauss-Newton intervals understate"


def _robust_notes(model: Any, fit_kwargs: Mapping[str, Any], x: np.ndarray, y: np.ndarray,
                  counts: np.ndarray, params: np.ndarray, status: np.ndarray) -> dict[int, str]:
    """Per converged group of a robust fit (``loss`` other than linear) whose residuals lie
    beyond ``f_scale`` for more than half its points (:data:`scalingfit._fit.ROBUST_MIN_INSIDE`,
    as ``fit`` warns): the note for its reason. Past ``f_scale`` a robust loss grows like |r|
    or slower and the Gauss-Newton covariance overstates the curvature: the stored intervals
    of such groups covered 0.71-0.77 at 95% (600 simulated sweeps of 30 runs, 1% noise,
    ``chinchilla_huber``), where ``bootstrap=200`` covered 0.97-0.98."""
    loss = fit_kwargs.get("loss", "linear")
    if loss == "linear" or not len(counts):
        return {}
    from .compare import pointwise

    f_scale = float(fit_kwargs.get("f_scale", 1.0))
    with np.errstate(all="ignore"):
        pred = pointwise(model, np.repeat(params, counts, axis=0), x)
        r = np.log(pred) - np.log(y) if fit_kwargs.get("log_residuals", False) else pred - y
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    inside = np.add.reduceat((np.abs(r) <= f_scale).astype(np.int64), starts)
    bad = (status > 0) & (inside < _fit.ROBUST_MIN_INSIDE * counts)
    return {int(i): (f"{ROBUST_NOTE} the uncertainty: {int(inside[i])} of {int(counts[i])} residuals lie "
                     f"within f_scale = {f_scale:g}, past which the {loss} loss grows like |r| (refit with "
                     "bootstrap > 0 for calibrated intervals)") for i in np.flatnonzero(bad)}


def fit_frame(df: pd.DataFrame, config: RefitConfig, *, done: Optional[set[tuple[str, str]]] = None,
              threads: Optional[int] = None,
              backend: str = "cpu") -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Fits every group in ``df`` (one batch call) and returns (result rows, the same results
    as one row per parameter, seconds inside the core's batch solves: see
    :attr:`RefitSummary.seconds_in_fit`). ``backend``: as for
    :func:`scalingfit.fit_batch` (the fits and the bootstrap).

    A pure function of its inputs (no I/O), so a Dask worker can run it on its own chunk.
    ``done`` holds (group_key, data_hash) pairs to skip.
    """
    pd = data._need("pandas")
    from . import __version__

    spec = law_spec(config.law)
    model = spec.model_object()
    group_by = list(config.group_by)
    g = group_frame(df, spec, group_by)
    keys, key_values, counts, offsets, x, y, hashes, notes = (g.keys, g.key_values, g.counts, g.offsets, g.x,
                                                              g.y, g.hashes, g.notes)
    todo = g.todo(done)
    todo_empty = g.todo_empty(done)
    empty = [g.empty[i] for i in todo_empty]
    empty_hashes = [g.empty_hashes[i] for i in todo_empty]

    t_core = 0.0
    config_hash = config.config_hash()
    P, names = model.n_params, list(model.param_names)
    n, n_empty = len(todo), len(empty)
    nan = np.full((n_empty, P), np.nan)
    # Each result column is built for all the chunk's groups at once (the groups fitted, then
    # those whose every row was invalid), as one row per group would have it.
    est = se = lo = hi = np.empty((0, P))
    n_fail: list[int] = []
    status: list[int] = []
    iterations: list[int] = []
    n_points: list[int] = []
    cost: list[float] = []
    reasons: list[str] = []
    method = "gauss-newton-t" if config.bootstrap == 0 else config.ci_method
    if todo:
        sel = np.array(todo, dtype=np.int64)
        sub_counts = counts[sel]
        sub_off = np.concatenate([[0], np.cumsum(sub_counts)]).astype(np.int64)
        idx = group_rows(offsets, sel)
        xs, ys = x[idx], y[idx]
        kw = config.fit_kwargs
        with core_clock() as clock:
            if spec.custom:  # every group from the registered starts, the best kept
                st = np.asarray(spec.starts, dtype=np.float64)
                res = fit_batch(spec.model, xs, ys, sub_off, np.tile(st, (n, 1)),
                                problem=np.repeat(np.arange(n), st.shape[0]), threads=threads,
                                backend=backend, precision=config.precision,
                                **kw).best_per_problem()
            else:
                res = fit_batch(spec.model, xs, ys, sub_off, threads=threads, backend=backend,
                                precision=config.precision, **kw)
            boot = None
            if config.bootstrap > 0:
                from . import _refit_boot

                boot = _refit_boot.bootstrap_chunk(spec, model, xs, ys, sub_off, res.x, res.status,
                                                   [keys[j] for j in todo], config, threads, backend)
        t_core += clock[0]
        n_free = free_count(model, kw)
        est = res.x
        if boot is not None:
            lo, hi, se = boot[0], boot[1], boot[3]
            n_fail = boot[2].tolist()
        else:
            se = (np.sqrt(np.clip(np.diagonal(res.cov, axis1=1, axis2=2), 0, None)) if res.cov is not None
                  else np.full((n, P), np.nan))
            # Student's t on each fit's residual degrees of freedom, as FitResult's (one quantile
            # per distinct count of points, not one per group)
            z = np.asarray(two_sided_quantile(config.level, sub_counts - n_free))[:, None]
            lo, hi, n_fail = est - z * se, est + z * se, [0] * n
        status = res.status.tolist()
        iterations = res.iterations.tolist()
        n_points = sub_counts.tolist()
        cost = res.cost.tolist()
        reasons = [notes.get(keys[j], "") for j in todo]
        for i in np.flatnonzero((res.status == _status.BAD_INPUT) & (sub_counts < n_free)).tolist():
            reasons[i] = (reasons[i] + "; " if reasons[i] else "") + \
                f"too few points ({n_points[i]}) for {n_free} parameters"
        if boot is None:
            for i, note in _robust_notes(model, kw, xs, ys, sub_counts, res.x, res.status).items():
                reasons[i] = (reasons[i] + "; " if reasons[i] else "") + note
    if not n + n_empty:  # nothing to write (every group done before)
        return pd.DataFrame([]), pd.DataFrame([], columns=list(PARAMS_COLUMNS)), t_core
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    row_keys = [keys[j] for j in todo] + [k for k, _ in empty]
    total = n + n_empty
    status += [_status.BAD_INPUT] * n_empty
    messages = {s: _status.message(s) for s in set(status)}
    rows: dict[str, Any] = {c: [key_values[j][a] for j in todo] + [vals[a] for _, vals in empty]
                            for a, c in enumerate(group_by)}
    rows.update(
        group_key=row_keys, law=[spec.name] * total, model=[spec.model_name] * total,
        param_names=[json.dumps(names)] * total,
        **{c: _jsonl_rows(np.concatenate([np.asarray(v, dtype=np.float64).reshape(n, P), nan]))
           for c, v in (("params", est), ("stderr", se), ("ci_low", lo), ("ci_high", hi))},
        ci_method=[method] * n + ["none"] * n_empty, level=[config.level] * total,
        n_boot=[config.bootstrap] * total, n_boot_failed=n_fail + [0] * n_empty, status=status,
        message=[messages[s] for s in status], success=[s > 0 for s in status],
        iterations=iterations + [0] * n_empty, n_points=n_points + [0] * n_empty,
        cost=cost + [float("nan")] * n_empty, data_hash=[hashes[j] for j in todo] + empty_hashes,
        config_hash=[config_hash] * total, seed=[config.seed] * total, version=[__version__] * total,
        fitted_at=[now] * total, reason=reasons + [notes[k] for k, _ in empty],
    )
    params = pd.DataFrame({
        "group_key": [k for k in row_keys for _ in names], "law": [spec.name] * (total * P),
        "config_hash": [config_hash] * (total * P), "param": names * total,
        **{c: np.concatenate([np.asarray(v, dtype=np.float64).reshape(n, P), nan]).ravel().tolist()
           for c, v in (("estimate", est), ("stderr", se), ("ci_low", lo), ("ci_high", hi))},
    })
    return pd.DataFrame(rows), params, t_core


def _jsonl(values: np.ndarray) -> str:
    return json.dumps([None if not np.isfinite(v) else float(v) for v in values])


def _jsonl_rows(values: np.ndarray) -> list[str]:
    """:func:`_jsonl` of each row of ``values`` (shape (n, P)), the same text, built for all
    rows at once: each number as json.dumps writes it (``float.__repr__``), ``null`` where it
    is not finite, ``", "`` between them."""
    a = np.asarray(values, dtype=np.float64)
    n, p = a.shape
    if p == 0:
        return ["[]"] * n
    flat = a.ravel()
    text = list(map(float.__repr__, flat.tolist()))
    for k in np.flatnonzero(~np.isfinite(flat)).tolist():
        text[k] = "null"
    return list(map(("[" + ", ".join(["{}"] * p) + "]").format, *(text[c::p] for c in range(p))))


#: The columns of the fit_params table (one row per group and parameter).
PARAMS_COLUMNS = ("group_key", "law", "config_hash", "param", "estimate", "stderr", "ci_low", "ci_high")


#: The fits table's own columns (beside the group columns, which must not reuse these names).
FITS_COLUMNS = ("group_key", "law", "model", "param_names", "params", "stderr", "ci_low", "ci_high", "ci_method",
                "level", "n_boot", "n_boot_failed", "status", "message", "success", "iterations", "n_points",
                "cost", "data_hash", "config_hash", "seed", "version", "fitted_at", "reason")


def check_group_by(group_by: Any, taken: Sequence[str], table: str, fitted: Sequence[str] = ()) -> tuple[str, ...]:
    """``group_by`` as a tuple of column names, refusing a non-list, an empty list, a name
    given twice, a column that is fitted (``fitted``: the inputs and the value) and a name
    that ``table`` uses for a column of its own (``taken``)."""
    if isinstance(group_by, str) or not isinstance(group_by, Sequence) \
            or not all(isinstance(g, str) and g for g in group_by):
        raise TypeError(f"group_by must be a list of column names, e.g. ['sweep'], got {group_by!r}")
    if not group_by:
        raise ValueError("group_by must name at least one column")
    twice = sorted({g for g in group_by if list(group_by).count(g) > 1})
    if twice:
        raise ValueError(f"group_by names {twice} twice")
    clash = [g for g in group_by if g in fitted]
    if clash:
        raise ValueError(f"group_by column(s) {clash} are also fitted (inputs and value: {', '.join(fitted)})")
    clash = [g for g in group_by if g in taken]
    if clash:
        raise ValueError(f"group_by column(s) {clash} have the name of a column of the {table} table, which "
                         "would overwrite them; rename the column(s) in the run data")
    clash = [g for g in group_by if g.lower().startswith(INTERNAL_PREFIX)]
    if clash:  # GroupTable's own column _sf_gid: a group column of that name matched no row
        raise ValueError(f"group_by column(s) {clash} start with {INTERNAL_PREFIX!r}, which scalingfit keeps for "
                         "the columns of its own working tables; rename the column(s) in the run data")
    return tuple(group_by)


#: The prefix of the columns and tables refit and compare_refit make for their own work.
INTERNAL_PREFIX = "_sf_"


def group_types(con: Any, rel: str, group_by: Sequence[str]) -> dict[str, str]:
    """The DuckDB type of each group column in the source."""
    gcols = ", ".join(data.sql_identifier(g) for g in group_by)
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT {gcols} FROM {rel}").fetchall()}


def create_table(con: Any, table: str, frame: str, types: Mapping[str, str]) -> None:
    """A results ``table`` with the columns of the registered ``frame``, the group columns of
    the source's types (``types``), not pandas' (an INTEGER or DATE column stays one; a chunk
    whose group values are all missing does not make a column of type NULL)."""
    cols = [r[0] for r in con.execute(f"DESCRIBE {frame}").fetchall()]
    sel = ", ".join(f"CAST({data.sql_identifier(c)} AS {types[c]}) AS {data.sql_identifier(c)}" if c in types
                    else data.sql_identifier(c) for c in cols)
    con.execute(f"CREATE TABLE {table} AS SELECT {sel} FROM {frame} LIMIT 0")


def check_own_tables(con: Any, db: Union[str, Path], required: Mapping[str, Sequence[str]], job: str) -> None:
    """Before any fit: a RunDataError naming a table (or view) of ``db`` that has the name of
    one ``job`` writes (``required``: its name -> the columns scalingfit's own has) but not
    those columns: a user's table, which would otherwise fail deep inside with DuckDB's
    binder error, or be read as results of another grouping."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main'").fetchall()
    for name, kind in rows:
        if name not in required:
            continue
        have = {r[0] for r in con.execute(f"DESCRIBE {data.sql_identifier(name)}").fetchall()}
        missing = [c for c in required[name] if c not in have]
        if missing or kind != "BASE TABLE":
            gone = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            what = "a view" if kind != "BASE TABLE" else f"a table without the columns {gone}"
            raise data.RunDataError(
                f"{db} has {what} named {name!r}, not a results table of this scalingfit; {job} keeps its results in "
                f"tables {', '.join(repr(t) for t in required)}: write them to another database with db= "
                f"(CLI: --db), or rename that {'view' if kind != 'BASE TABLE' else 'table'}")


#: The tables refit writes and the columns each of them has whatever the grouping.
OWN_TABLES = {FITS_TABLE: FITS_COLUMNS, PARAMS_TABLE: ("group_key", "law", "config_hash"),
              CONFIGS_TABLE: ("law", "config_hash", "settings")}


def check_grouping(con: Any, db: Union[str, Path], table: str, own: Sequence[str], group_by: Sequence[str],
                   types: Optional[Mapping[str, str]] = None) -> None:
    """Before any fit: a RunDataError if ``table`` exists with other group columns than
    ``group_by`` (its columns beside its ``own``), or, given the source's ``types``, a group
    column of another type. Called after :func:`check_own_tables`, which refuses a ``table``
    without all of ``own``."""
    if table not in data.duckdb_tables(con):
        return
    have = {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    groups = [c for c in have if c not in own]
    if set(groups) != set(group_by):
        raise data.RunDataError(
            f"{db}: its {table} table holds results grouped by {groups}, this run groups by {list(group_by)}; "
            "one table takes one grouping: write to another database with db= (CLI: --db)")
    for c, t in (types or {}).items():
        if have[c] != t:
            raise data.RunDataError(
                f"{db}: group column {c!r} is {have[c]} in the {table} table and {t} in the run data; write to "
                "another database with db= (CLI: --db), or cast the column")


# --------------------------------------------------------------------------- the driver
def _bools_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each True or False that sits among other values in an object column
    made its text ('True'): DuckDB typed such a column by its numbers and then failed on the
    boolean with a type mismatch naming neither column nor row; as text it is a bad row of its
    group, named like 'abc' ("N is not a number: 'True'"). A column of booleans only is left to
    :func:`scalingfit.data.not_numbers`. ``frame`` itself is not changed."""
    pd = data._need("pandas")
    out = frame
    for c in frame.columns:  # names are unique here (checked before)
        col = frame[c]
        if col.dtype != object or pd.api.types.infer_dtype(col, skipna=True) not in ("mixed", "mixed-integer"):
            continue
        flags = col.map(lambda v: isinstance(v, (bool, np.bool_)))
        if flags.any():
            if out is frame:
                out = frame.copy(deep=False)
            out[c] = col.where(~flags, col.astype(str))
    return out


def _source_sql(con: Any, source: Union[str, Path, pd.DataFrame], table: str, schema_only: bool = False) -> str:
    """A SQL relation for the source (a table of ``con``'s database, a CSV/Parquet scan, or a
    registered frame); every path and name in it quoted. A CSV is read once into a temporary
    table (:func:`_read_csv`), for a refit that reads it chunk by chunk; with ``schema_only``
    (a check that reads its columns and first rows) it is scanned in place."""
    pd = data._need("pandas")
    if isinstance(source, pd.DataFrame):
        if len(source.columns) == 0:  # DuckDB: "Need at least one column"
            raise data.RunDataError("the DataFrame has no columns: no run data in it")
        twice = data.duplicates(source.columns)
        if twice:  # DuckDB would read the first and rename the others (value_1)
            raise data.RunDataError(f"the DataFrame has more than one column named {', '.join(map(repr, twice))}; "
                                    "which one is meant is not clear: rename or drop the others")
        source = _bools_as_text(source)
        index = source.index
        if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
            # a view such as df.iloc[::-1] made duckdb 1.4's register fail ("Unable to cast
            # Python instance of type int"): the rows renumbered (a copy only of such frames)
            source = source.reset_index(drop=True)
        with _reading(source):  # a column DuckDB has no type for (complex128, say)
            con.register("_scalingfit_source", source)
        return "_scalingfit_source"
    path = Path(source)
    kind = data.source_kind(path)
    if kind == "csv":
        sniffed = _check_csv(con, _csv_scan(path, {}), path)
        # A number column that DuckDB took for something else (all 'inf': a DATE, 'infinity') is
        # read as text, as a column with a cell 'abc' is: prepare_frame judges each of its cells.
        text = {c: "VARCHAR" for c in data.NUMBERS if c in sniffed and not _number_type(sniffed[c])
                and sniffed[c] != "VARCHAR"}
        if schema_only:
            return _csv_scan(path, text)
        with _reading(source):
            return _read_csv(con, path, text)
    if kind == "parquet":
        data.check_parquet_columns(path)  # DuckDB would read the first and rename the others
        return f"read_parquet({data.sql_literal(path.as_posix())})"
    tables = data.duckdb_tables(con)
    if table not in tables:
        raise data.no_table(path, table, tables)
    if table in RESULT_TABLES:  # the runs would be read from, and the results written to, one table
        raise data.RunDataError(f"table {table!r} of {path} is where scalingfit writes results "
                                f"({', '.join(RESULT_TABLES)}), not run data: give the runs table, or "
                                "db= (CLI --db) another file for the results")
    return data.sql_identifier(table)


_CSV_TABLE = "_scalingfit_csv"  # a CSV source read once (a temporary table of the results connection)
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL")


def _number_type(t: str) -> bool:
    """Whether the DuckDB type ``t`` is a number type."""
    return t in _NUMBER_TYPES or t.startswith("DECIMAL")


def _csv_scan(path: Path, types: Mapping[str, str]) -> str:
    """DuckDB's scan of the CSV at ``path``, with the ``types`` of some columns given (the
    others sniffed from the first rows)."""
    given = ", ".join(f"{data.sql_literal(c)}: {data.sql_literal(t)}" for c, t in types.items())
    return f"read_csv_auto({data.sql_literal(path.as_posix())}" + (f", types={{{given}}})" if given else ")")


def _read_csv(con: Any, path: Path, text: Mapping[str, str]) -> str:
    """The CSV at ``path`` read ONCE into a temporary table of ``con``, whose name is returned
    (the ``text`` columns as text): every chunk then reads that table, not the file again (a
    scan per chunk parsed the whole file each time: quadratic in its size). DuckDB holds the
    table in its buffer pool and spills it to its temporary folder beside the database when
    it does not fit its memory limit.

    A cell that does not fit the type DuckDB sniffed for its column from the first rows (a
    cell ``'abc'`` on line 40,000 of a column of numbers) makes the column text, as the sniffer
    would have made it had its sample held the cell: such a cell is then a bad row of its
    group (:func:`prepare_frame`), not the end of the refit. Any other failure to read is
    raised as DuckDB raised it (:func:`_reading` names the file, the line and the column)."""
    duckdb = data._need("duckdb")
    types = dict(text)
    while True:
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_CSV_TABLE} AS SELECT * FROM {_csv_scan(path, types)}")
            return _CSV_TABLE
        except duckdb.ConversionException as exc:
            column = _bad_column(exc)
            if column is None or column in types:  # not one cell of a sniffed type: as it is
                raise
            types[column] = "VARCHAR"


def _bad_column(exc: BaseException) -> Optional[str]:
    """The column whose cell DuckDB could not convert, as its message names it (else None)."""
    found = re.search(r'Error when converting column "(.+?)"\. Could not convert', str(exc))
    return found.group(1) if found else None


def _check_csv(con: Any, rel: str, path: Path) -> dict[str, str]:
    """A RunDataError naming ``path`` for a CSV that DuckDB cannot read as the table it is: one
    whose header repeats a column name (DuckDB renames the second ``value`` to ``value_1``
    and the first would be used), or one whose rows do not all have the header's number of
    cells (DuckDB's sniffer then reads every line as ONE column, named after the header line,
    and the columns would be reported missing). Reads the header line, and the file only when
    it is malformed, to name the first line of another length; a failure to read it is left
    for the caller's read to report. Returns the column types DuckDB sniffed (none when it
    failed)."""
    import csv

    def split(line: str, delimiter: str) -> list[str]:
        return next(csv.reader([line], delimiter=delimiter), [])

    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            head = f.readline(1 << 20)
    except Exception as exc:  # the caller's read names the problem
        if data.ctrl_c(exc):
            raise KeyboardInterrupt from exc
        return {}
    try:
        sniffed = _column_types(con, rel)
    except Exception as exc:  # DuckDB's sniffer failed ("Error when sniffing file"): a ragged line?
        if data.ctrl_c(exc):
            raise KeyboardInterrupt from exc
        cells = {d: len(split(head, d)) for d in (",", ";", "\t", "|")}
        d = max(cells, key=cells.__getitem__)  # the delimiter that splits the header most
        where = _ragged_line(path, d, cells[d]) if cells[d] > 1 else ""
        if where.startswith(": line"):
            raise data.RunDataError(f"{path} could not be parsed as CSV{where}; every line needs the header's "
                                    f"{cells[d]} cells") from None
        return {}  # the caller's read names the problem
    cols = list(sniffed)
    delims = [d for d in (",", ";", "\t", "|") if d in head]
    if len(cols) > 1:  # DuckDB's delimiter: the one that splits the header into its columns
        delims = [d for d in delims if len(split(head, d)) == len(cols)]
    if not delims:
        return sniffed
    header = split(head, delims[0])
    twice = data.duplicates(c.strip() for c in header)
    if twice and len(cols) > 1:
        raise data.RunDataError(f"{path}: its header has more than one column named "
                                f"{', '.join(map(repr, twice))}; which one is meant is not clear: rename or "
                                "drop the others")
    if len(cols) != 1 or len(header) < 2 or not any(d in cols[0] for d in delims):
        return sniffed
    where = _ragged_line(path, delims[0], len(header))
    raise data.RunDataError(f"{path} could not be parsed as CSV: DuckDB read it as one column named "
                            f"{cols[0][:80]!r}{where}; every line needs the header's {len(header)} cells")


def _ragged_line(path: Path, delimiter: str, n_cells: int) -> str:
    """": line 7 has 2 cells, the header 3": the first line of the CSV at ``path`` whose cell
    count is not ``n_cells``; "" when every line has it, or " (OSError: ...)" when it cannot
    be read."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            reader = csv.reader(f, delimiter=delimiter)
            for cells in reader:
                if cells and len(cells) != n_cells:
                    return f": line {reader.line_num} has {len(cells)} cells, the header {n_cells}"
    except (OSError, csv.Error) as exc:
        return f" ({type(exc).__name__}: {exc})"
    return ""


def _source_relation(con: Any, source: Union[str, Path, pd.DataFrame], table: str, db: Union[str, Path],
                     schema_only: bool = False, columns: Optional[Mapping[str, str]] = None,
                     group_by: Sequence[str] = ()) -> str:
    """The source as a relation of ``con`` (the results database's connection): a DuckDB file
    other than ``db`` is attached read-only as ``src``, a CSV read once into a temporary table
    unless ``schema_only`` (see :func:`_source_sql`); its columns renamed by ``columns``
    (:func:`_renamed`). A DataFrame's ``group_by`` columns (named as after ``columns``) are
    checked first (:func:`check_frame_keys`)."""
    pd = data._need("pandas")
    if isinstance(source, pd.DataFrame) and group_by:
        check_frame_keys(source, group_by, columns)
    if isinstance(source, pd.DataFrame) or data.source_kind(Path(source)) != "duckdb" \
            or Path(source).resolve() == Path(db).resolve():
        return _renamed(con, _source_sql(con, source, table, schema_only), columns, source)
    with _reading(source):  # e.g. another process is writing to it, or not a database
        con.execute(f"ATTACH {data.sql_literal(Path(source).as_posix())} AS src (READ_ONLY)")
        tables = data.duckdb_tables(con, "src")
    if table not in tables:
        raise data.no_table(source, table, tables)
    return _renamed(con, f"src.{data.sql_identifier(table)}", columns, source)


def check_columns_arg(columns: Any) -> Optional[dict[str, str]]:
    """``columns`` (source column -> the name the refit uses, e.g. ``{"loss": "value"}``)
    checked as a mapping of names, or None."""
    if columns is None:
        return None
    if not isinstance(columns, Mapping) or not all(isinstance(k, str) and k and isinstance(v, str) and v
                                                   for k, v in columns.items()):
        raise TypeError(f"columns must map source column names to the names used, e.g. "
                        f"{{'loss': 'value', 'params': 'N'}}, got {columns!r}")
    return dict(columns)


def _renamed(con: Any, rel: str, columns: Optional[Mapping[str, str]],
             source: Union[str, Path, pd.DataFrame]) -> str:
    """``rel`` with the columns ``columns`` names renamed (a column list, portable to every
    DuckDB); a RunDataError naming a column the source lacks, or two columns of one name."""
    if not columns:
        return rel
    with _reading(source):
        have = list(_column_types(con, rel))
    missing = [c for c in columns if c not in have]
    if missing:
        raise data.RunDataError(f"columns renames {missing}, not column(s) of {_name(source)}; it has {have}")
    after = [columns.get(c, c) for c in have]
    twice = data.duplicates(after)
    if twice:
        raise data.RunDataError(f"columns would give {_name(source)} two columns named "
                                f"{', '.join(map(repr, twice))} (it has {have}): rename the other one too")
    cols = ", ".join(f"{data.sql_identifier(c)} AS {data.sql_identifier(n)}" for c, n in zip(have, after))
    return f"(SELECT {cols} FROM {rel})"


@contextmanager
def _reading(source: Union[str, Path, pd.DataFrame]) -> Iterator[None]:
    """Turns a failure to read the source (DuckDB's, pandas') into RunDataError naming it;
    a RunDataError raised inside passes as it is."""
    try:
        yield
    except data.RunDataError:
        raise
    except Exception as exc:  # one line: DuckDB's messages go on with the query and a caret
        if data.ctrl_c(exc):
            raise KeyboardInterrupt from exc
        raise data.RunDataError(f"cannot read run data from {_name(source)}: {type(exc).__name__}: "
                                f"{_why(exc)}") from None


def _why(exc: BaseException) -> str:
    """DuckDB's message in one line: its first, and for a CSV error (``CSV Error on Line: 7``,
    then the line's text) the line after the text, which says what is wrong with it and in
    which column (``Error when converting column "value". Could not convert string "abc" to
    'DOUBLE'``, ``Expected Number of Columns: 7 Found: 8``)."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if len(lines) > 2 and "CSV Error on Line" in first and lines[1].startswith("Original Line"):
        return f"{first}: {lines[2].strip()}"
    return first


def _name(source: Union[str, Path, pd.DataFrame]) -> str:
    """The source as messages name it."""
    return str(source) if isinstance(source, (str, PathLike)) else "the DataFrame"


def _check_source(source: Union[str, Path, pd.DataFrame], table: str, db: Union[str, Path],
                  group_by: Sequence[str], law: str, metric: Optional[str],
                  columns: Optional[Mapping[str, str]] = None) -> None:
    """Reads the source's columns in a connection of its own (in memory), so that a corrupt
    source, one without the columns ``law`` and ``group_by`` need, or one without a row of
    ``metric``, is refused before the results database is created. Only the schema is read
    (a CSV's sniffed sample), and rows up to the first one of ``metric``."""
    duckdb = data._need("duckdb")
    with duckdb.connect(":memory:") as con:
        rel = _source_relation(con, source, table, db, schema_only=True, columns=columns, group_by=group_by)
        with _reading(source):
            cols = source_columns(con, rel, group_by, law)
            _check_rows(con, rel, source, metric, cols)


def _check_rows(con: Any, rel: str, source: Union[str, Path, pd.DataFrame], metric: Optional[str],
                cols: Sequence[str], job: str = "refit") -> None:
    """A RunDataError unless the source has a row (of ``metric``, when it has a metric column),
    naming the metrics it has. Reads up to the first such row."""
    if con.execute(f"SELECT 1 FROM {rel} LIMIT 1").fetchone() is None:
        raise data.RunDataError(f"{_name(source)} has no rows: nothing to {job}")
    if metric is None or "metric" not in cols:
        return
    if con.execute(f"SELECT 1 FROM {rel} WHERE metric = ? LIMIT 1", [metric]).fetchone() is not None:
        return
    have = [r[0] for r in con.execute(
        f"SELECT DISTINCT metric FROM {rel} WHERE metric IS NOT NULL ORDER BY 1 LIMIT 21").fetchall()]
    shown = ", ".join(repr(m) for m in have[:20]) + (", ..." if len(have) > 20 else "")
    raise data.RunDataError(
        f"no row of {_name(source)} has metric {metric!r}; "
        + (f"its metrics are {shown}" if have else "its metric column is empty")
        + " (choose one with metric=, CLI --metric; metric=None, CLI --metric '', keeps every row)")


def _check_db(db: Union[str, Path], writes: str = f"refit writes its results (tables {FITS_TABLE} and "
                                                  f"{PARAMS_TABLE})") -> None:
    """A RunDataError naming ``db`` if it exists and is not a DuckDB database (DuckDB 2 would
    open a CSV there as a read-only view, and the results would go nowhere), or if its folder
    does not exist. ``writes`` says what goes into it."""
    path = Path(db)
    if not path.parent.is_dir():
        raise data.RunDataError(f"cannot create database {db}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise data.RunDataError(f"cannot open database {db}: it is a directory; give db= (CLI: --db) the "
                                "path of a DuckDB file for the results")
    if path.exists() and not data.is_duckdb_file(path):
        what = "is an empty file" if path.stat().st_size == 0 else "exists and is not a DuckDB database"
        raise data.RunDataError(
            f"cannot open database {db}: it {what}; {writes} into a DuckDB database: give db= (CLI: --db) "
            "a new path or a DuckDB file")


#: DuckDB's buffer pool for a results database (and a source attached to it). Its default,
#: 80% of the machine's memory, let the page cache grow with the database: 899 MB peak RSS
#: refitting 300,000 sweeps (457 MB of it DuckDB's) against 323 MB with 64 MB, at the same speed.
DUCKDB_MEMORY_LIMIT = "256MB"

#: Write-ahead log size at which DuckDB checkpoints a results database (its default is 16 MB).
#: Each checkpoint rewrites the tables' changed blocks, so at 16 MB a bulk refit checkpointed
#: every few chunks: 100,000 sweeps' commits took 1.7-2.3 s of a 10-13 s refit, 0.5 s at
#: 128 MB (peak RSS 392 -> 424 MB). Every commit is still in the log on disk, as before.
DUCKDB_CHECKPOINT_THRESHOLD = "128MB"


#: DuckDB's messages when another process holds a database ("Could not set lock on file").
_LOCKED = re.compile(r"\block\b|\bconflicting lock", re.IGNORECASE)


def _open(db: Union[str, Path], job: str = "refit") -> Any:
    duckdb = data._need("duckdb")
    try:
        return duckdb.connect(str(db), config={"memory_limit": DUCKDB_MEMORY_LIMIT,
                                               "checkpoint_threshold": DUCKDB_CHECKPOINT_THRESHOLD})
    except Exception as exc:  # lock held by another process, corrupt file, ...
        msg = str(exc)
        if _LOCKED.search(msg):  # not "block" (a corrupt file: "... block at location 4096")
            raise data.RunDataError(
                f"{db} is in use by another process (another {job}?); DuckDB allows one writer: {msg}"
            ) from None
        raise data.RunDataError(f"cannot open database {db}: {type(exc).__name__}: {data.first_line(exc)}") \
            from None


def _lock(db: Union[str, Path], doing: str = "refitted") -> Any:
    """Holds an exclusive advisory lock on ``<db>.lock`` (flock: per open file, so a second
    refit in the same process is refused as well as one in another process); closing the
    returned file releases it. The lock file stays, empty, except where a run that made the
    database wrote nothing into it (:func:`writing` removes both): its holder removes it while
    holding it, so a lock taken on a file that is no longer the path's is taken again, on the
    path's new file."""
    path = Path(f"{db}.lock")
    while True:
        try:
            f = open(path, "a")  # noqa: SIM115 - the caller holds it open as the lock
        except OSError as exc:
            raise data.RunDataError(f"cannot open database {db}: {type(exc).__name__}: {exc}") from None
        if fcntl is not None:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                raise data.RunDataError(
                    f"{db} is being {doing} by another process or thread (it holds {path}); wait for "
                    "it to finish, or write the results to another db="
                ) from None
            try:
                ours = os.path.samestat(os.fstat(f.fileno()), os.stat(path))
            except OSError:  # removed by the run that held it
                ours = False
            if not ours:
                f.close()
                continue
        return f


def _discard(db: Union[str, Path]) -> None:
    """Removes a database that this run made and wrote nothing into, with its write-ahead log
    and its lock file; called while the run still holds the lock (see :func:`_lock`)."""
    for path in (Path(db), Path(f"{db}.wal"), Path(f"{db}.lock")):
        try:
            path.unlink(missing_ok=True)
        except OSError:  # e.g. held open elsewhere (Windows): left as it is
            pass


def results_db(source: Union[str, Path, pd.DataFrame], db: Union[str, Path, None]) -> Union[str, Path]:
    """The results database: ``db``, or by default the source itself when it is a DuckDB file,
    else ``<source>.fits.duckdb`` beside it (a DataFrame source needs ``db``)."""
    pd = data._need("pandas")
    if db is not None and not isinstance(db, (str, PathLike)):
        raise TypeError(f"db must be a file path, got {type(db).__name__} {db!r}")
    if isinstance(source, pd.DataFrame):
        if db is None:
            raise ValueError("db= is required when the source is a DataFrame")
        return db
    kind = data.source_kind(data.source_path(source))  # it exists, is a file, and is not empty
    if db is None:
        p = Path(source)
        return p if kind == "duckdb" else p.with_suffix(p.suffix + ".fits.duckdb")
    return db


@contextmanager
def writing(db: Union[str, Path], doing: str = "refitted", job: str = "refit") -> Iterator[Any]:
    """A connection to ``db`` under its advisory lock (see :func:`_lock`); both released on
    exit, and a Ctrl-C that DuckDB turned into an exception raised as KeyboardInterrupt (the
    chunk's transaction rolled back). A run that fails (a cell of the source that cannot be
    read, Ctrl-C) before it wrote a table into a database it made leaves no database behind:
    the database, its log and its lock file are removed (never one that holds a table)."""
    lock = _lock(db, doing)
    made = not Path(db).exists()  # under the lock: no other run can make it now
    try:
        con = _open(db, job)
    except BaseException:
        if made:
            _discard(db)
        lock.close()
        raise
    unused = False
    try:
        yield con
    except BaseException as exc:
        unused = made and _no_tables(con)
        if isinstance(exc, Exception) and data.ctrl_c(exc):
            raise KeyboardInterrupt from exc
        raise
    finally:
        con.close()
        if unused:
            _discard(db)
        lock.close()


def _no_tables(con: Any) -> bool:
    """Whether ``con``'s database holds no table (False where that cannot be read)."""
    try:
        return not data.duckdb_tables(con)
    except Exception:  # an invalidated connection: the database is kept, as it is
        return False


def _settings(config: RefitConfig) -> dict[str, Any]:
    """The settings of ``config`` as stored in the configs table (JSON values)."""
    from . import __version__

    return {"group_by": list(config.group_by), "metric": config.metric, "bootstrap": config.bootstrap,
            "seed": config.seed, "level": config.level, "ci_method": config.ci_method,
            "precision": config.precision, "fixed": dict(config.fixed), "version": __version__}


# Each setting as a message names it: the Python argument, and the CLI option when there is one.
_SETTING_NAMES = {"group_by": "group_by (--group-by)", "metric": "metric (--metric)",
                  "bootstrap": "bootstrap (--bootstrap)", "seed": "seed (--seed)", "level": "level (--level)",
                  "ci_method": "ci_method", "precision": "precision (--precision)", "fixed": "fixed (--fix)",
                  "version": "the scalingfit version"}


def _show(key: str, value: Any) -> str:
    if key == "fixed":
        return ", ".join(f"{k}={v:g}" for k, v in sorted(value.items())) if value else "none"
    if key == "group_by":
        return ",".join(value)
    if key == "metric" and value is None:
        return "none (every row)"
    return str(value)


def _other_configs(con: Any, config: RefitConfig) -> list[tuple[int, dict[str, Any]]]:
    """(groups, settings) of every other configuration that has results for this law in the
    fits table. Settings come from the configs table; a database written before it existed
    gives only those its fits table records (seed, bootstrap, level, ci_method, version)."""
    tables = data.duckdb_tables(con)
    if FITS_TABLE not in tables:
        return []
    rows = con.execute(
        f"SELECT config_hash, COUNT(*), MIN(seed), MIN(n_boot), MIN(level), MIN(ci_method), MIN(version) "
        f"FROM {FITS_TABLE} WHERE law = ? AND config_hash <> ? GROUP BY config_hash ORDER BY config_hash",
        [config.law, config.config_hash()]).fetchall()
    stored: dict[str, dict[str, Any]] = {}
    if rows and CONFIGS_TABLE in tables:
        stored = {h: json.loads(j) for h, j in con.execute(
            f"SELECT config_hash, settings FROM {CONFIGS_TABLE} WHERE law = ?", [config.law]).fetchall()}
    out = []
    for h, n, seed, n_boot, level, ci, version in rows:
        legacy = {"seed": seed, "bootstrap": n_boot, "level": level, "version": version}
        if n_boot > 0:  # with no bootstrap the fits table records "gauss-newton-t" (tables
            # written before the t quantile: "gauss-newton", normal), not ci_method
            legacy["ci_method"] = ci
        out.append((int(n), stored.get(h, legacy)))
    return out


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], custom: Optional[str] = None) -> str:
    """The settings that differ between ``old`` and ``new`` as a phrase ("seed (--seed) was 0
    and is now 1"); those ``old`` does not record are left out. ``custom``: the name of the
    law when it is a registered custom one (whose definition the user may have edited)."""
    diffs = [f"{_SETTING_NAMES[k]} was {_show(k, old[k])} and is now {_show(k, new[k])}"
             for k in _SETTING_NAMES if k in old and old[k] != new[k]]
    if len(diffs) == 1:
        return diffs[0]
    if diffs:
        return ", ".join(diffs[:-1]) + (", and " if len(diffs) > 2 else " and ") + diffs[-1]
    if set(_SETTING_NAMES) - set(old):
        unrecorded = ", ".join(k for k in _SETTING_NAMES if k not in old)
        return f"a setting this database does not record differs ({unrecorded}: it predates their recording)"
    if custom:
        return (f"the settings are the same but the custom law {custom!r} changed (its code, parameters, bounds, "
                "starts or options)")
    return "the settings are the same but the law's definition differs (another build of scalingfit)"


def _check_config(con: Any, db: Union[str, Path], config: RefitConfig, overwrite: bool) -> None:
    """Refuses to mix this law's results of another configuration with this refit's; with
    ``overwrite`` deletes them first (one transaction)."""
    others = _other_configs(con, config)
    if not others:
        return
    if not overwrite:
        new = json.loads(json.dumps(_settings(config)))  # tuples as lists, as stored
        custom = config.law if law_spec(config.law).custom else None
        stored = "; ".join(f"for {n} group(s), {_differences(old, new, custom)}" for n, old in others)
        raise data.RunDataError(
            f"{db} already has {config.law!r} results made with another configuration: {stored}. This refit will "
            "not mix its results with them: pass overwrite=True (CLI: --overwrite) to replace them, or "
            "write to another database with db= (CLI: --db)."
        )
    keep_only(con, (FITS_TABLE, PARAMS_TABLE, CONFIGS_TABLE), "law", config.law, config.config_hash())


def keep_only(con: Any, tables: Sequence[str], column: str, key: str, config_hash: str) -> None:
    """One transaction: the rows whose ``column`` is ``key`` and whose config hash is another
    than ``config_hash`` deleted from each of ``tables`` there is (``overwrite``)."""
    there = data.duckdb_tables(con)
    with data.transaction(con):
        for table in (t for t in tables if t in there):
            con.execute(f"DELETE FROM {table} WHERE {column} = ? AND config_hash <> ?", [key, config_hash])


def store_settings(con: Any, table: str, column: str, key: str, config_hash: str, settings: Any) -> None:
    """In the caller's transaction: the settings behind ``config_hash`` (JSON) in ``table``, the
    row of (``key``, ``config_hash``) replaced, so a later run can name the settings that differ."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({column} VARCHAR, config_hash VARCHAR, settings VARCHAR)")
    con.execute(f"DELETE FROM {table} WHERE {column} = ? AND config_hash = ?", [key, config_hash])
    con.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", [key, config_hash, json.dumps(settings)])


def _rekey(con: Any, config: RefitConfig) -> None:
    """Group keys written before keys were normalised (an integral float as ``256.0``, a missing
    value as ``NaN`` or ``"<NA>"``) rewritten from the stored group columns as
    :func:`_group_key` makes them now, so that a resumed refit replaces those groups' rows
    instead of adding a second row under the new key (one transaction)."""
    if FITS_TABLE not in data.duckdb_tables(con):
        return
    gcols = ", ".join(data.sql_identifier(g) for g in config.group_by)
    args = [config.law, config.config_hash()]
    stored = con.execute(f"SELECT DISTINCT group_key, {gcols} FROM {FITS_TABLE} WHERE law = ? AND config_hash = ?",
                         args).df()  # through pandas, as the chunks' values are (a DATE as a Timestamp)
    stale = [(old, new) for old, new in zip(stored["group_key"].tolist(), _frame_keys(stored.iloc[:, 1:])[0])
             if old != new]
    if not stale:
        return
    with data.transaction(con):
        for table in (FITS_TABLE, PARAMS_TABLE):
            con.executemany(f"UPDATE {table} SET group_key = ? WHERE law = ? AND config_hash = ? AND group_key = ?",
                            [[new, *args, old] for old, new in stale])


def _existing(con: Any, config: RefitConfig) -> set[tuple[str, str]]:
    tables = data.duckdb_tables(con)
    if FITS_TABLE not in tables:
        return set()
    rows = con.execute(
        f"SELECT group_key, data_hash FROM {FITS_TABLE} WHERE law = ? AND config_hash = ?",
        [config.law, config.config_hash()],
    ).fetchall()
    return {(k, h) for k, h in rows}


def _write(con: Any, rows: pd.DataFrame, pframe: pd.DataFrame, config: RefitConfig,
           types: Optional[Mapping[str, str]] = None) -> None:
    """One transaction: replace this config's rows for these groups, add the new ones (a new
    fits table's group columns of the source's ``types``)."""
    if rows.empty:
        return
    con.register("_sf_rows", rows)
    con.register("_sf_params", pframe)
    with data.transaction(con, "_sf_rows", "_sf_params"):
        tables = data.duckdb_tables(con)
        if FITS_TABLE not in tables:
            create_table(con, FITS_TABLE, "_sf_rows", types or {})
            con.execute(f"CREATE TABLE IF NOT EXISTS {PARAMS_TABLE} AS SELECT * FROM _sf_params LIMIT 0")
        else:
            have = [r[0] for r in con.execute(f"DESCRIBE {FITS_TABLE}").fetchall()]
            if set(have) != set(rows.columns):
                raise data.RunDataError(
                    f"the {FITS_TABLE} table has columns {have}, but this refit writes {list(rows.columns)} "
                    "(a different group_by?); use another database or drop the table"
                )
        cols = ", ".join(data.sql_identifier(c) for c in rows.columns)
        for table, frame in ((FITS_TABLE, "_sf_rows"), (PARAMS_TABLE, "_sf_params")):
            con.execute(f"DELETE FROM {table} WHERE law = ? AND config_hash = ? AND group_key IN "
                        f"(SELECT group_key FROM {frame})", [config.law, config.config_hash()])
        con.execute(f"INSERT INTO {FITS_TABLE} ({cols}) SELECT {cols} FROM _sf_rows")
        con.execute(f"INSERT INTO {PARAMS_TABLE} SELECT * FROM _sf_params")
        store_settings(con, CONFIGS_TABLE, "law", config.law, config.config_hash(), _settings(config))


class GroupTable:
    """The distinct groups of a source, numbered in sort order in a DuckDB temporary table: a
    chunk of groups is a range of numbers, and its rows are read by a join that never takes the
    group values out of DuckDB. (Through pandas and back, a NaN key came back as NULL and its
    group matched no row, so it was never fitted and counted as done; integers beyond 2^53 came
    back as floats and merged groups.) Made by :func:`group_table`, which drops it at the end.

    A chunk's rows come sorted by group, then ``run_id`` and ``step``, then every other column
    by name (:attr:`order`): an order fixed by the data, not by the source's row order or the
    join's. Rows tied on a law's inputs (seeds of one model size, no run_id) are packed, hashed
    and resampled in it, and of two rows of one run and step the one first in it is kept: the
    same fit for a shuffled copy of the source and on every run (the join's order made them
    differ from run to run)."""

    def __init__(self, con: Any, rel: str, group_by: Sequence[str], metric: Optional[str],
                 source: Union[str, Path, pd.DataFrame] = "the run data") -> None:
        import uuid

        self.con, self.rel, self.source = con, rel, source
        self.group_by = list(group_by)
        self.table = f"_sf_groups_{uuid.uuid4().hex[:12]}"
        self.gcols = gcols = ", ".join(data.sql_identifier(g) for g in self.group_by)
        self.join = " AND ".join(f"s.{q} IS NOT DISTINCT FROM k.{q}"
                                 for q in map(data.sql_identifier, self.group_by))
        self.where = ""
        with _reading(source):
            cols = source_columns(con, rel, self.group_by)
            if metric is not None and "metric" in cols:
                self.where = f"s.metric = {data.sql_literal(metric)}"
            con.execute(f"CREATE TEMP TABLE {self.table} AS SELECT {gcols}, "
                        f"row_number() OVER (ORDER BY {gcols}) - 1 AS _sf_gid FROM "
                        f"(SELECT DISTINCT {gcols} FROM {rel} s {'WHERE ' + self.where if self.where else ''})")
        self.n = int(con.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])
        first = [c for c in ("run_id", "step") if c in cols]
        self.order = first + sorted(c for c in cols if c not in self.group_by and c not in first)

    def rows_sql(self, a: int, b: int) -> str:
        """The query of the rows of groups ``a`` to ``b - 1`` (of the metric), in :attr:`order`."""
        cond = f"k._sf_gid >= {int(a)} AND k._sf_gid < {int(b)}" + (f" AND {self.where}" if self.where else "")
        order = ", ".join(["k._sf_gid", *(f"s.{data.sql_identifier(c)}" for c in self.order)])
        return f"SELECT s.* FROM {self.rel} s JOIN {self.table} k ON {self.join} WHERE {cond} ORDER BY {order}"

    def keys(self, a: int, b: int) -> pd.DataFrame:
        """The group values of groups ``a`` to ``b - 1``, in order."""
        return self.con.execute(f"SELECT {self.gcols} FROM {self.table} WHERE _sf_gid >= {int(a)} AND "
                                f"_sf_gid < {int(b)} ORDER BY _sf_gid").df()


@contextmanager
def group_table(con: Any, rel: str, group_by: Sequence[str], metric: Optional[str],
                source: Union[str, Path, pd.DataFrame] = "the run data") -> Iterator[GroupTable]:
    """A :class:`GroupTable` for the block, dropped at its end."""
    groups = GroupTable(con, rel, group_by, metric, source)
    try:
        yield groups
    finally:
        with contextlib.suppress(Exception):  # a connection already closed dropped it anyway
            con.execute(f"DROP TABLE IF EXISTS {groups.table}")


def iter_chunks(con: Any, rel: str, group_by: Sequence[str], metric: Optional[str], chunk_groups: int,
                source: Union[str, Path, pd.DataFrame] = "the run data") -> Iterator[tuple[pd.DataFrame, int]]:
    """Yields (rows of a chunk of groups, number of groups in it), reading only that chunk
    (:class:`GroupTable`). A failure to read is a RunDataError naming ``source`` (see
    :func:`_reading`)."""
    with group_table(con, rel, group_by, metric, source) as groups:
        for a in range(0, groups.n, chunk_groups):
            b = min(a + chunk_groups, groups.n)
            with _reading(source):
                frame = con.execute(groups.rows_sql(a, b)).df()
            yield frame, b - a


def _column_types(con: Any, rel: str) -> dict[str, str]:
    """The DuckDB type of each of ``rel``'s columns, in order."""
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}


def source_columns(con: Any, rel: str, group_by: Sequence[str], law: Optional[str] = None) -> list[str]:
    """The source's columns; raises RunDataError listing missing group_by columns, and the
    missing columns ``law`` fits (its inputs and ``value``), or one of them that holds dates
    or times (:func:`check_numbers`), when given."""
    types = _column_types(con, rel)
    cols = list(types)
    missing = [g for g in group_by if g not in cols]
    if missing:
        raise data.RunDataError(f"group_by column(s) {missing} not in the run data; it has {cols}")
    check_group_columns(con, rel, {g: types[g] for g in group_by})
    if law is not None:
        needs = list(LAWS[law].inputs) + ["value"]
        missing = [c for c in needs if c not in cols]
        if missing:
            raise data.RunDataError(f"column(s) {missing} not in the run data; law {law!r} fits "
                                    f"{', '.join(needs)} (long format: scalingfit.data); it has {cols} "
                                    "(columns= reads a column under another name, CLI --columns "
                                    "loss=value)")
        check_numbers(types, needs, f"law {law!r} fits")
    return cols


#: Group column types pandas cannot hold as keys (bytes and nested values are unhashable).
_UNKEYED = re.compile(r"^(BLOB|BYTEA|BIT|STRUCT|MAP|UNION)\b|\]$")
#: Group column types pandas reads as float64, which may merge distinct values.
_LOSSY = re.compile(r"^(HUGEINT|UHUGEINT|DECIMAL|NUMERIC)\b")


def check_group_columns(con: Any, rel: str, types: Mapping[str, str]) -> None:
    """A RunDataError naming a group column (``types``: its DuckDB type) whose values cannot
    key groups once read by pandas: bytes, lists, structs or maps (unhashable), HUGEINT or
    DECIMAL values that float64 does not tell apart (integers beyond 2^53 merged groups), or
    a FLOAT/DOUBLE column holding both missing values (NULL) and NaN, which pandas reads as
    one missing value (the two were fitted as one group, keyed ``[null]``)."""
    duckdb = data._need("duckdb")
    for c, t in types.items():
        q = data.sql_identifier(c)
        if t in ("FLOAT", "DOUBLE", "REAL"):
            try:
                n_null, n_nan = con.execute(f"SELECT COUNT(*) FILTER (WHERE {q} IS NULL), "
                                            f"COUNT(*) FILTER (WHERE isnan({q})) FROM {rel}").fetchone()
            except duckdb.ConversionException:  # a CSV scanned in place (a check before the read): a cell
                continue  # of another type makes the column text when it is read (_read_csv)
            if n_null and n_nan:
                raise data.RunDataError(
                    f"group column {c!r} ({t}) holds both missing values (NULL, {n_null} row(s)) and NaN "
                    f"({n_nan} row(s)), which are read as one missing key: they would be fitted as one group. "
                    f"Make them one value (e.g. NaN made NULL: UPDATE ... SET {q} = NULL WHERE isnan({q})), "
                    "or give one of them a key of its own")
        if _UNKEYED.search(t):
            raise data.RunDataError(f"group column {c!r} holds {t} values, which cannot key a group: "
                                    "group by columns of numbers, text, booleans, dates or UUIDs (cast it "
                                    "to VARCHAR)")
        if _LOSSY.match(t):
            n, n_float = con.execute(f"SELECT COUNT(DISTINCT {q}), COUNT(DISTINCT CAST({q} AS DOUBLE)) "
                                     f"FROM {rel}").fetchone()
            if n != n_float:
                raise data.RunDataError(
                    f"group column {c!r} ({t}) holds {n} distinct values that are only {n_float} as "
                    "float64, the type its values are read as (integers beyond 2^53 would merge "
                    "groups): cast the column to BIGINT if its values fit, else to VARCHAR")


def check_frame_keys(frame: pd.DataFrame, group_by: Sequence[str],
                     columns: Optional[Mapping[str, str]] = None) -> None:
    """A RunDataError naming a group column of a DataFrame source (``group_by``: its names
    after the ``columns`` renaming) whose values are text mixed with other values (numbers,
    dates, ...) in an ``object`` or ``category`` column, with a row of each: DuckDB reads such
    a column as text, so the int ``0`` and the string ``'0'`` were one group (a sweep id of two
    types is nearly always a bug of the code that made the frame). Refused, as a group column
    whose values cannot key a group is (:func:`check_group_columns`), not guessed at.
    Numbers of two types (``1`` and ``1.0``) are one key, as they are to pandas and Python."""
    pd = data._need("pandas")
    source_name = {new: old for old, new in (columns or {}).items()}
    for g in group_by:
        c = source_name.get(g, g)
        if list(frame.columns).count(c) != 1:
            continue  # missing or repeated: named by the checks that follow
        col = frame[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            values, where = list(col.cat.categories), None  # a category of each type (DuckDB: an ENUM)
        elif col.dtype == object:
            values, where = col.tolist(), col.index
        else:
            continue  # one type (pandas' numbers, str, datetimes, ...)
        mixed = _text_and_other(values)
        if mixed is None:
            continue
        shown = [("a category" if where is None else f"row {where[i]!r}")
                 + f" holds {values[i]!r} ({type(values[i]).__name__})" for i in mixed]
        other = values[mixed[1]]
        named = f"{c!r} (read as {g!r})" if c != g else repr(c)
        raise data.RunDataError(
            f"group column {named} of the DataFrame holds text and other values: {shown[0]}, {shown[1]}; it "
            f"would be read as text, so that {other!r} and {str(other)!r} would be one group: give the column "
            f"one type (e.g. df[{c!r}].astype(str) where they are one key)")


def _text_and_other(values: Sequence[Any]) -> Optional[tuple[int, int]]:
    """The positions of the first str and the first other value that is not missing (None,
    NaN, pandas' NA or NaT) in ``values``; None unless it holds both."""
    pd = data._need("pandas")
    text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    if text.all() or not text.any():
        return None
    other = np.flatnonzero(~text & ~pd.isna(pd.Series(values, dtype=object)).to_numpy())
    return (int(np.argmax(text)), int(other[0])) if other.size else None


def check_numbers(types: Mapping[str, str], fitted: Sequence[str], fits: str) -> None:
    """A RunDataError naming the first of the ``fitted`` columns whose type (DuckDB's, in
    ``types``) is a date, a time or a duration: pandas would make its cells numbers (a date the
    nanoseconds since 1970) and every fit would fail without a word on why. ``fits`` says
    who fits them (``"law 'chinchilla' fits"``)."""
    for c in fitted:
        t = types.get(c, "")
        if t.startswith(("DATE", "TIME", "INTERVAL")):
            raise data.RunDataError(f"column {c!r} of the run data holds {t} values (dates or times), not numbers; "
                                    f"{fits} {', '.join(fitted)} as numbers: convert the column to numbers")
        if t == "BOOLEAN":  # true read as 1
            raise data.RunDataError(f"column {c!r} of the run data holds BOOLEAN values (true/false), not numbers; "
                                    f"{fits} {', '.join(fitted)} as numbers: convert the column to numbers")


def count_groups(con: Any, rel: str, group_by: Sequence[str], metric: Optional[str],
                 law: Optional[str] = None) -> int:
    gcols = ", ".join(data.sql_identifier(g) for g in group_by)
    cols = source_columns(con, rel, group_by, law)
    if metric is not None and "metric" in cols:
        return int(con.execute(f"SELECT COUNT(*) FROM (SELECT DISTINCT {gcols} FROM {rel} WHERE metric = ?)",
                               [metric]).fetchone()[0])
    return int(con.execute(f"SELECT COUNT(*) FROM (SELECT DISTINCT {gcols} FROM {rel})").fetchone()[0])


def groups_without_metric(con: Any, rel: str, group_by: Sequence[str], metric: Optional[str],
                          source: Union[str, Path, pd.DataFrame], job: str = "refit") -> Optional[str]:
    """The DataWarning's text when some groups have rows but none of ``metric`` (a metric
    spelt 'Loss' in one sweep, or NULL): the metric filter leaves them out whole, so they are
    neither fitted nor counted. Names up to 3 such groups with the metrics they have; None
    when there are none. (Read inside the caller's ``_reading``; warned outside it, so that a
    warnings filter of "error" raises the DataWarning itself, not a read error.)"""
    if metric is None or "metric" not in _column_types(con, rel):
        return None
    gcols = ", ".join(data.sql_identifier(g) for g in group_by)
    rows = con.execute(
        f"SELECT {gcols}, LIST(DISTINCT metric ORDER BY metric) FILTER (WHERE metric IS NOT NULL), COUNT(*) "
        f"FROM {rel} GROUP BY {gcols} HAVING COUNT(*) FILTER (WHERE metric = ?) = 0 ORDER BY {gcols} LIMIT 3",
        [metric]).fetchall()
    if not rows:
        return None
    n = int(con.execute(f"SELECT COUNT(*) FROM (SELECT {gcols} FROM {rel} GROUP BY {gcols} "
                        f"HAVING COUNT(*) FILTER (WHERE metric = ?) = 0)", [metric]).fetchone()[0])
    shown = "; ".join(
        ", ".join(f"{g}={_shown(v)}" for g, v in zip(group_by, r[:-2]))
        + f" ({r[-1]} row(s), metrics {', '.join(repr(m) for m in (r[-2] or [])) or 'NULL only'})"
        for r in rows)
    return (f"{job}: {n} group(s) of {_name(source)} have no row with metric {metric!r} and are left out "
            f"(not fitted, not counted): {shown}{'; ...' if n > len(rows) else ''}. Correct their "
            "metric, or choose another with metric= (CLI --metric; '' keeps every row)")


def _counts(rows: pd.DataFrame) -> tuple[int, int, int]:
    """A chunk's result rows: (groups written, those whose fit failed, the invalid rows their
    reasons say were skipped: :func:`prepare_frame` starts a group's reason with their number)."""
    if rows.empty:
        return 0, 0, 0
    skipped = (_ROWS_SKIPPED.match(r) for r in rows["reason"].tolist() if r)  # most reasons are empty
    return len(rows), int((~rows["success"]).sum()), sum(int(m.group(1)) for m in skipped if m)


_ROWS_SKIPPED = re.compile(r"(\d+) invalid row\(s\) skipped")  # the start of such a reason


@_validate.suggest_argument_names
def refit(source: Union[str, Path, pd.DataFrame], *, law: str = "chinchilla",
          group_by: Sequence[str] = ("sweep",), db: Union[str, Path, None] = None, table: str = "runs",
          metric: Optional[str] = "loss", bootstrap: int = 0, seed: int = 0, level: float = 0.95,
          ci_method: str = "percentile", chunk_groups: int = 2000, threads: Optional[int] = None,
          progress: bool = True, on_chunk: Optional[Callable[[int], None]] = None,
          overwrite: bool = False, client: Any = None, scheduler: Optional[str] = None,
          shard_dir: Union[str, Path, None] = None, backend: str = "cpu",
          precision: str = "float64", fixed: Optional[Mapping[str, float]] = None,
          columns: Optional[Mapping[str, str]] = None) -> RefitSummary:
    """Refit ``law`` on every group of a run database, resumably.

    Parameters
    ----------
    source : path or DataFrame
        A DuckDB file (reads ``table``), a CSV or Parquet file, or a DataFrame, in the long
        format of :mod:`scalingfit.data`.
    law : str
        One of :data:`LAWS` (``chinchilla``, ``chinchilla_huber``, ``kaplan_nd``,
        ``saturating_n``, ``power_law_n``, ``data_constrained``, or a custom law added by
        :func:`register_law`).
    group_by : sequence of str
        Columns that identify a sweep. A missing value (NULL, NaN) is a key of its own; a
        column whose values cannot key groups apart is refused by name before anything is
        written (:class:`~scalingfit.data.RunDataError`): bytes, lists, structs and maps;
        HUGEINT or DECIMAL values that float64 would merge; a DataFrame's ``object`` or
        ``category`` column mixing text with other values (the int ``0`` and the string
        ``'0'`` would be read as one text key; numbers of two types, ``1`` and ``1.0``, are one
        key, as to pandas); and a float column holding both NULL and NaN (pandas reads both as
        one missing key; a DataFrame's float column cannot hold the two apart, its None and
        NaN are one missing key, as to pandas).
    db : path, optional
        DuckDB file for the ``fits``, ``fit_params`` and ``fit_configs`` tables (default: the
        source if it is a DuckDB file, else ``<source>.fits.duckdb``); a new path or a DuckDB
        database (any other existing file is refused).
    table : str
        The runs table of a DuckDB source.
    metric : str or None
        Keep rows with this ``metric`` (when the data have a ``metric`` column); no row of it
        is an error naming the metrics there are. None keeps every row.
    bootstrap : int
        Resamples per group for percentile/BCa intervals, 0 or >= 2 (0: Gauss–Newton intervals
        with Student's t on each group's residual degrees of freedom, ``ci_method``
        "gauss-newton-t" in the table). A robust law's (``chinchilla_huber``,
        ``data_constrained``) Gauss–Newton intervals understate the uncertainty where most of
        a group's residuals lie beyond ``f_scale``: such a group's ``reason`` says so, and a
        refit that fitted any group warns once (:class:`~scalingfit.UncertaintyWarning`).
    seed, level, ci_method
        Of the bootstrap (see :func:`scalingfit.bootstrap_batch`); ``ci_method`` one of
        ``bca``, ``percentile``, ``basic``, ``studentized``. With ``bootstrap=0`` the seed and
        ``ci_method`` have no effect: they are checked, then stored as their defaults, so that
        passing them does not make a configuration of its own.
    chunk_groups : int
        Groups per chunk (one batched call and one transaction each; default 2000). A chunk's
        rows (every row of its groups, as read), fits and bootstrap replicates are held at once,
        so memory grows with the chunk, not the database (with 60 rows a group: about 20 MB
        more per 1,000 groups, 30 MB with 200 resamples). A smaller chunk bounds memory for
        groups of many rows; an interrupted run loses at most the chunk it was fitting.
    threads : int, optional
        CPU worker threads of each chunk's batched fits (default: all hardware threads for a
        batch of more than 64 fits, else one; results are the same for any count). With a
        cluster: per task, default 1.
    progress : bool
        A progress bar with groups/s and ETA on stderr (tqdm when installed).
    on_chunk : callable, optional
        Called as ``on_chunk(n)`` after each chunk is done (its new results written; a chunk
        of groups fitted before counts too), ``n`` the chunks done so far in this call (1, 2,
        ...).
    overwrite : bool
        Replace this law's results made with another configuration (seed, bootstrap, level,
        interval method, precision, scalingfit version). Without it such a refit raises
        :class:`~scalingfit.data.RunDataError` instead of mixing results in one fits table.
    client, scheduler : distributed.Client or str, optional
        Fit the chunks on a Dask cluster instead of in this process (same results): a
        connected client, or a scheduler address (``"tcp://host:8786"``, or ``"local:N"`` for
        a LocalCluster of N processes). See :mod:`scalingfit.distributed`.
    shard_dir : path, optional
        With a cluster: a folder every worker can read, for the chunks' Parquet shards.
    backend : {"cpu", "cuda", "auto"}
        Where the fits and bootstrap replicates are solved (see :func:`scalingfit.fit_batch`);
        with a cluster, on each worker. Results are not part of the config hash: a resumed run
        may switch backend (the fits agree to rounding).
    precision : {"float64", "float32"}
        Of the fits and replicates (see :func:`scalingfit.fit_batch`); part of the config hash,
        so float32 and float64 results of one law are never mixed in a fits table.
    fixed : {name: value}, optional
        Parameters of the law's model held at a value in every group (e.g. ``{"E": 1.69}``;
        see :func:`scalingfit.fit`); part of the config hash.
    columns : {source name: name}, optional
        Source columns to read under another name, for data whose columns are not the long
        format's: ``{"params": "N", "tokens": "D", "loss": "value"}`` (CLI ``--columns
        params=N,tokens=D,loss=value``). Not part of the config hash: a group's results are
        keyed by its data, whatever the columns were called.

    Returns
    -------
    RefitSummary
        With ``n_rows_skipped``: the invalid rows (a size or value that is not a positive
        finite number, e.g. a cell ``'abc'``; a repeated run and step) left out of the groups
        written. They never stop the run: each group's ``reason`` says how many it lost and
        names up to 3 by ``run_id`` and ``step`` (by the input values where the data have no
        ``run_id``), not by a row number, as a chunk's rows are read in no order of the source's.

    Examples
    --------
    >>> import scalingfit.refit as rf                                     # doctest: +SKIP
    >>> print(rf.refit("runs.duckdb", law="chinchilla", group_by=["sweep"], bootstrap=200))  # doctest: +SKIP
    """
    config = _config(law=law, group_by=group_by, metric=metric, bootstrap=bootstrap, seed=seed,
                     level=level, ci_method=ci_method, precision=precision, fixed=fixed)
    group_by = config.group_by
    chunk_groups = _validate.integer("chunk_groups", chunk_groups, least=1, floats=False)
    if threads is not None:
        _fit._check_threads(threads, 1)
    _cuda.check_backend(backend)  # resolved where the fits run (a Dask worker may have the GPU)
    progress = _validate.flag("progress", progress)
    overwrite = _validate.flag("overwrite", overwrite)
    columns = check_columns_arg(columns)
    if not isinstance(table, str):
        raise TypeError(f"table must be a table name (str), got {type(table).__name__} {table!r}")
    if db is not None and not isinstance(db, (str, PathLike)):  # before a cluster is started
        raise TypeError(f"db must be a file path, got {type(db).__name__} {db!r}")
    if client is not None or scheduler is not None:
        from . import distributed

        distributed._check_arguments(client, scheduler, shard_dir)
        if scheduler is not None:  # connect first: an unreachable scheduler leaves no file behind
            with distributed.connect(None, scheduler) as connected:
                return refit(source, law=law, group_by=group_by, db=db, table=table, metric=metric,
                             bootstrap=bootstrap, seed=seed, level=level, ci_method=ci_method,
                             chunk_groups=chunk_groups, threads=threads, progress=progress,
                             on_chunk=on_chunk, overwrite=overwrite, client=connected,
                             shard_dir=shard_dir, backend=backend, precision=precision, fixed=fixed,
                             columns=columns)
    # The arguments are all checked; now the files (before any is created).
    db = results_db(source, db)
    _check_db(db)
    if not Path(db).exists():  # a source that cannot be read leaves no empty database behind
        _check_source(source, table, db, group_by, config.law, config.metric, columns)
    t_start = time.perf_counter()
    n_fitted = n_failed = n_chunks = n_skipped = n_rows_skipped = 0
    t_core = 0.0
    with writing(db) as con:  # released when the refit ends, however it ends
        rel = _source_relation(con, source, table, db, columns=columns, group_by=group_by)
        with _reading(source):
            n_groups = count_groups(con, rel, group_by, metric, law)
            if n_groups == 0:  # no row, or none of the metric: say which
                _check_rows(con, rel, source, metric, source_columns(con, rel, group_by))
            gaps = groups_without_metric(con, rel, group_by, metric, source)
        if gaps:
            _warnings.warn(gaps, DataWarning, stacklevel=2)
        with _reading(source):
            types = group_types(con, rel, group_by)
        # the fits table's group columns of the source's types: a DOUBLE sweep written into a
        # BIGINT column would be rounded (0.5 -> 0), and resume would key groups by the rounded value
        check_own_tables(con, db, OWN_TABLES, "refit")
        check_grouping(con, db, FITS_TABLE, FITS_COLUMNS, group_by, types)  # before overwrite deletes anything
        _check_config(con, db, config, overwrite)
        _rekey(con, config)
        done = _existing(con, config)
        if client is not None or scheduler is not None:  # the same chunks, fitted by Dask workers
            from . import distributed

            summary: RefitSummary = distributed._drive(
                con, rel, config, done, n_groups, t_start, db=db, client=client, scheduler=scheduler,
                chunk_groups=chunk_groups, threads=threads, progress=progress, on_chunk=on_chunk,
                shard_dir=shard_dir, backend=backend, source=source)
            if summary.n_fitted:
                _warn_robust(con, config)
            _warn_stale(con, config, n_groups, source)
            return summary
        bar = progress_bar(n_groups, progress)
        try:
            for frame, n_in_chunk in iter_chunks(con, rel, group_by, metric, chunk_groups, source):
                rows, params, t = fit_frame(frame, config, done=done, threads=threads, backend=backend)
                _write(con, rows, params, config, types)
                t_core += t
                n_chunks += 1
                n_out, n_bad, n_rows = _counts(rows)
                n_fitted += n_out
                n_skipped += n_in_chunk - n_out
                n_failed += n_bad
                n_rows_skipped += n_rows
                bar(n_out, n_in_chunk - n_out)  # groups fitted before are no progress of this run
                if on_chunk is not None:
                    on_chunk(n_chunks)
        finally:
            bar(None)
        if n_fitted:  # a resume that fitted nothing has said it before
            _warn_robust(con, config)
        _warn_stale(con, config, n_groups, source)
    return RefitSummary(str(db), law, config.config_hash(), n_groups, n_fitted, n_skipped, n_failed,
                        n_chunks, time.perf_counter() - t_start, t_core, n_rows_skipped=n_rows_skipped)


def _warn_stale(con: Any, config: RefitConfig, n_groups: int, source: Union[str, Path, pd.DataFrame]) -> None:
    """One DataWarning when the fits table holds more groups of this configuration than the
    source has: groups removed from the source (or renamed) keep their old rows, which a
    reader of the table would take for current results."""
    if FITS_TABLE not in data.duckdb_tables(con):
        return
    stored = int(con.execute(f"SELECT COUNT(*) FROM {FITS_TABLE} WHERE law = ? AND config_hash = ?",
                             [config.law, config.config_hash()]).fetchone()[0])
    if stored > n_groups:
        _warnings.warn(
            f"refit: the fits table holds {stored} groups of this {config.law!r} configuration and "
            f"{_name(source)} has {n_groups}: {stored - n_groups} group(s) no longer in the source keep their "
            "old rows (kept, not refitted), and read_fits returns them too; refit into a new database with db= "
            "(CLI: --db) for this source's groups alone",
            DataWarning, stacklevel=3)


def _warn_robust(con: Any, config: RefitConfig) -> None:
    """One UncertaintyWarning for a refit whose stored intervals understate the uncertainty
    in some groups (their ``reason`` says so: see :func:`_robust_notes`)."""
    kw = config.fit_kwargs
    if config.bootstrap > 0 or kw.get("loss", "linear") == "linear":
        return
    n, total = con.execute(
        f"SELECT count(*) FILTER (WHERE contains(reason, ?)), count(*) FROM {FITS_TABLE} "
        "WHERE law = ? AND config_hash = ?", [ROBUST_NOTE, config.law, config.config_hash()]).fetchone()
    if n:
        _warnings.warn(
            f"refit {config.law}: in {n} of {total} groups most residuals lie beyond f_scale = "
            f"{float(kw.get('f_scale', 1.0)):g}, where the {kw['loss']} loss grows "
            "like |r|, so their stored Gauss-Newton intervals (ci_method gauss-newton-t) understate the "
            "uncertainty (95% intervals covered 0.71-0.77 in simulated sweeps of 30 runs at 1% noise); "
            "refit with bootstrap=200 (CLI --bootstrap 200) for calibrated ones (0.97-0.98 there); "
            "each such group's reason says so", UncertaintyWarning, stacklevel=3)


def _config(*, law: Any, group_by: Any, metric: Any, bootstrap: Any, seed: Any, level: Any,
            ci_method: Any, precision: Any, fixed: Any) -> RefitConfig:
    """The refit's configuration from its arguments, each checked (before any I/O) with errors
    that name the argument."""
    if not isinstance(law, str) or law not in LAWS:
        raise ValueError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")
    group_by = check_group_by(group_by, FITS_COLUMNS, FITS_TABLE, (*LAWS[law].inputs, "value"))
    m = LAWS[law].model_object()
    clash = [g for g in group_by if g in m.param_names]
    if clash:  # read_fits expands the parameters into columns of these names
        raise ValueError(f"group_by column(s) {clash} have the name of a parameter of law {law!r} "
                         f"({', '.join(m.param_names)}), which read_fits would "
                         "overwrite with its estimates; rename the column(s) in the run data")
    if metric is not None and not isinstance(metric, str):
        raise TypeError(f"metric must be a metric name (str) or None, got {type(metric).__name__} {metric!r}")
    n_boot = _validate.integer("bootstrap", bootstrap, most=2**32 - 1, floats=False)
    if n_boot == 1:
        raise ValueError("bootstrap must be 0 (Gauss-Newton intervals) or at least 2 resamples per group, got 1")
    seed = _validate.integer("seed", seed, most=2**64 - 1, floats=False)
    level = _finite_level(level)
    if not isinstance(ci_method, str) or ci_method not in METHODS:
        raise ValueError(f"ci_method must be one of {', '.join(map(repr, METHODS))}, got {ci_method!r}")
    _fit.check_precision(precision)
    if n_boot == 0:  # nothing resampled: a seed or interval method has no effect and keys no other results
        seed, ci_method = RefitConfig.seed, RefitConfig.ci_method
    held: tuple[tuple[str, float], ...] = ()
    if fixed is not None:
        lo, _ = _validate.as_bounds(None, m, fixed)  # names and values checked
        held = tuple(sorted((k, float(lo[m.param_names.index(k)])) for k in fixed))
    return RefitConfig(law=law, group_by=tuple(group_by), metric=metric, bootstrap=n_boot, seed=seed,
                       level=level, ci_method=ci_method, precision=precision, fixed=held)


def read_table(db: Union[str, Path], table: str, column: str, value: Optional[str], order: str, job: str,
               how: str, also: Optional[Mapping[str, Any]] = None, known: bool = False) -> pd.DataFrame:
    """The rows of a results ``table`` of ``db`` (those whose ``column`` is ``value``, unless
    None, and whose columns equal ``also``'s values), ordered by ``order``; FileNotFoundError or
    RunDataError naming what is not there (``job`` writes the table, as ``how`` says). With
    ``known``, a ``value`` the table has no row of is a ValueError naming those it has (a
    misspelt law read as an empty frame would look like a refit that wrote nothing)."""
    duckdb = data._need("duckdb")
    if not isinstance(db, (str, PathLike)):
        raise TypeError(f"db must be a file path, got {type(db).__name__} {db!r}")
    if not Path(db).exists():
        raise FileNotFoundError(f"no such database: {db}")
    if not data.is_duckdb_file(db):
        raise data.RunDataError(f"{db} is not a DuckDB database ({job} writes its results into one)")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:  # a refit writing it holds DuckDB's lock ("Could not set lock")
        if _LOCKED.search(str(exc)):
            raise data.RunDataError(f"cannot read {db}: {data.first_line(exc)} (a {job} writing it holds it "
                                    "until it ends; read it then)") from exc
        raise data.RunDataError(f"cannot read {db}: {type(exc).__name__}: {data.first_line(exc)} (a damaged "
                                "database?)") from exc
    with con:
        try:
            if table not in data.duckdb_tables(con):
                raise data.RunDataError(f"{db} has no {table} table: no {job} has written to it yet ({how})")
            equal = {**({column: value} if value is not None else {}), **(also or {})}
            where = " AND ".join(f"{data.sql_identifier(c)} = ?" for c in equal)
            out = con.execute(f"SELECT * FROM {table}{' WHERE ' + where if where else ''} ORDER BY {order}",
                              list(equal.values())).df()
            if known and value is not None and out.empty:
                have = [r[0] for r in con.execute(f"SELECT DISTINCT {data.sql_identifier(column)} FROM {table} "
                                                  "ORDER BY 1 LIMIT 21").fetchall()]
                if value not in have:
                    shown = ", ".join(repr(v) for v in have[:20]) + (", ..." if len(have) > 20 else "")
                    raise ValueError(f"{db}'s {table} table has no {column} {value!r}; it has "
                                     f"{shown or 'no rows'}")
            return out
        except duckdb.Error as exc:  # a damaged file fails here ("Could not read enough bytes")
            raise data.RunDataError(f"cannot read {db}: {type(exc).__name__}: {data.first_line(exc)} (a damaged "
                                    "database?)") from exc


def failed_fits(db: Union[str, Path], law: str, config_hash: str, limit: int = 5) -> tuple[int, list[dict[str, Any]]]:
    """The failed fits of one configuration in ``db``'s fits table: (how many, the first
    ``limit`` by group key as dicts of ``group_key``, ``message`` and ``reason``)."""
    bad = read_table(db, FITS_TABLE, "law", law, "group_key", "refit", "scalingfit refit",
                     also={"config_hash": config_hash, "success": False})  # the failures only, not the table
    rows = bad[["group_key", "message", "reason"]].head(limit).to_dict("records")
    return len(bad), rows


def read_fits(db: Union[str, Path], law: Optional[str] = None) -> pd.DataFrame:
    """The ``fits`` table (optionally one law) as a DataFrame with params expanded to columns.

    Each row's estimates go to the columns of its own law's parameter names (its
    ``param_names``). When the table holds several laws (``law=None``), the frame has the
    union of their parameter columns, in order of first appearance, and NaN where a row's law
    has no such parameter (``chinchilla``'s ``E`` and ``chinchilla_huber``'s ``e`` are two
    columns); a name shared by two laws is one column.

    Parameters
    ----------
    db : path
        The results database a :func:`refit` wrote.
    law : str, optional
        Only this law's rows (default: every law's).

    Raises FileNotFoundError when ``db`` does not exist, :class:`~scalingfit.data.RunDataError`
    when it is not a DuckDB database or has no fits table, and ValueError naming the laws it
    has when it has no fit of ``law``.
    """
    if law is not None and not isinstance(law, str):
        raise TypeError(f"law must be a law name (str) or None, got {type(law).__name__} {law!r}")
    df = read_table(db, FITS_TABLE, "law", law or None, "group_key", "refit",
                    "scalingfit.refit.refit; CLI: scalingfit refit", known=True)
    if df.empty:
        return df
    per_row = [json.loads(n) for n in df["param_names"]]
    columns: dict[str, np.ndarray] = {}
    for r, (names, p) in enumerate(zip(per_row, df["params"])):
        for n, v in zip(names, json.loads(p)):
            if n not in columns:
                columns[n] = np.full(len(df), np.nan)
            columns[n][r] = np.nan if v is None else float(v)
    clash = [n for n in columns if n in df.columns]
    if clash:  # a group column named like another law's parameter (refit refuses its own law's)
        raise ValueError(f"{db}'s fits table has group column(s) {clash} named like parameters of the laws "
                         f"{', '.join(sorted(set(df['law'])))}; read one law at a time (law=...), or the "
                         "fits table itself with DuckDB")
    for n, col in columns.items():
        df[n] = col
    return df
