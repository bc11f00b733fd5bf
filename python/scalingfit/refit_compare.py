"""Which law, on every group of a run database: several laws fitted and scored, resumably.

``compare_refit(source, ["chinchilla", "chinchilla_tied", "kaplan_nd"], group_by=["sweep"])``
is :func:`scalingfit.compare_batch` over a run database, with :func:`scalingfit.refit.refit`'s
machinery: the groups are read chunk by chunk (only a chunk's rows in memory), each chunk's
groups are scored as one batch per law (information criteria of the Gaussian likelihood, and
with ``loo=True`` the leave-one-out prediction error), and the scores are written into the
``law_comparisons`` table of a DuckDB file in one transaction per chunk: one row per group and
law, with the law's parameters, its criteria, its Akaike weight, its rank in the group and
whether it won.

Resume: a group whose (group key, comparison, config hash, data hash) already has rows is
skipped, so re-running after Ctrl-C or a kill scores only the rest; an interrupted chunk's
transaction rolls back. A group that cannot be scored gets rows with each fit's status and the
reason; it never stops the run. Safety as for ``refit``: one writer per database (the advisory
lock on ``<db>.lock``), every argument and the source's columns checked before the results
database is created, and one configuration per comparison (the same laws) in the table unless
told ``overwrite=True``, naming the settings that differ.

Custom laws: a law registered with :func:`scalingfit.refit.register_law` takes part by its
name, fitted from its registered starts (the best kept) with its registered bounds and solver
options, under the comparison's one objective. Its definition and the code of its functions
are part of the configuration hash (after an edit the comparison never resumes with stale
scores: it refuses, naming the law that changed, until ``overwrite=True`` replaces them), and
on a Dask cluster each task carries it, as a refit's tasks do.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np
from numpy.typing import NDArray

from . import _cuda, _fit, _status, _validate, _warnings, data
from . import models as _models
from . import refit as _refit
from ._progress import progress_bar
from ._warnings import DataWarning
from .compare import aligned, compare_batch
from .refit import (
    LawSpec,
    _check_db,
    _check_rows,
    _column_types,
    _jsonl_rows,
    _reading,
    _source_relation,
    check_columns_arg,
    check_group_by,
    check_grouping,
    check_numbers,
    check_own_tables,
    count_groups,
    create_table,
    free_count,
    group_frame,
    group_types,
    groups_without_metric,
    iter_chunks,
    keep_only,
    read_table,
    results_db,
    source_columns,
    store_settings,
    writing,
)

__all__ = [
    "CompareConfig",
    "CompareSummary",
    "PooledNestedTest",
    "compare_refit",
    "failed_fits",
    "pooled_nested_test",
    "read_comparisons",
]

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FloatArray = NDArray[np.float64]

COMPARISONS_TABLE = "law_comparisons"
CONFIGS_TABLE = "comparison_configs"  # the settings behind each config_hash
#: The law_comparisons table's own columns (beside the group columns, which must not reuse them).
COLUMNS = ("group_key", "comparison", "law", "param_names", "params", "k", "n_points", "status", "message",
           "success", "rss", "aic", "aicc", "bic", "loo_rmse", "loo_failed", "weight", "delta", "rank", "best",
           "criterion", "data_hash", "config_hash", "version", "fitted_at", "reason")
#: Each setting as a message names it: the Python argument and the CLI option.
_SETTING_NAMES = {"inputs": "inputs (--x)", "group_by": "group_by (--group-by)", "metric": "metric (--metric)",
                  "loss": "loss (--loss)", "f_scale": "f_scale (--f-scale)",
                  "log_residuals": "log_residuals (--log-residuals)", "loo": "loo (--loo)",
                  "starts": "starts (--starts)", "rows": "rows (--rows)", "version": "the scalingfit version"}
#: The objective's fit options: one for every law of a comparison.
_OBJECTIVE = ("loss", "f_scale", "log_residuals")


@dataclass(frozen=True)
class CompareConfig:
    """Everything that determines a comparison's scores (hashed into ``config_hash``).

    ``custom`` holds the registered custom laws among ``laws`` (:func:`scalingfit.refit.register_law`),
    resolved when the configuration is made; pickled (a Dask task's argument), they travel as
    cloudpickle bytes with the driver's code fingerprints (:func:`scalingfit.distributed._carried_law`)
    and are rebuilt when the task first uses them (:meth:`specs`), so a worker that cannot
    rebuild one fails that task with a message instead of hanging on its arguments.
    """

    laws: tuple[str, ...]
    inputs: tuple[str, ...]
    group_by: tuple[str, ...]
    metric: Optional[str] = "loss"
    loss: str = "linear"
    f_scale: float = 1.0
    log_residuals: bool = False
    loo: bool = False
    starts: str = "all"
    rows: str = "final"  # "final": the last step of each run; "all": every row (learning curves)
    custom: tuple[LawSpec, ...] = field(default=(), compare=False, repr=False)
    #: A pickled configuration's custom laws as (name, cloudpickle bytes), rebuilt by
    #: :meth:`specs`; a field so that ``dataclasses.replace`` keeps them.
    _carried: tuple[tuple[str, bytes], ...] = field(default=(), compare=False, repr=False)

    @property
    def name(self) -> str:
        """The comparison's key in the table: its laws, comma-separated."""
        return ",".join(self.laws)

    @property
    def criterion(self) -> str:
        """What ranks the laws: AICc with least squares, else the leave-one-out error."""
        return "aicc" if self.loss == "linear" else "loo_rmse"

    def specs(self) -> dict[str, LawSpec]:
        """The custom laws among :attr:`laws` by name (rebuilt here from the bytes a pickled
        configuration carried: RuntimeError naming the law when this process cannot)."""
        if self.custom:
            return {s.name: s for s in self.custom}
        carried = self._carried
        if not carried:
            return {}
        specs = self.__dict__.get("_specs")
        if specs is None:
            from .distributed import _rebuilt_law

            specs = {name: _rebuilt_law(name, blob) for name, blob in carried}
            object.__setattr__(self, "_specs", specs)
        return specs

    def model(self, law: str) -> Any:
        """The model ``law`` fits: a custom law's CustomModel, else the built-in of that name."""
        specs = self.specs()
        return specs[law].model if law in specs else _models.get(law)

    def settings(self) -> dict[str, Any]:
        """The settings as stored in the configs table (JSON values); with custom laws, their
        definitions (:meth:`scalingfit.refit.LawSpec.hashable`) under ``custom_laws``."""
        from . import __version__

        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name not in ("laws", "custom", "_carried"):
                out[f.name] = list(v) if isinstance(v, tuple) else v
        out["version"] = __version__
        specs = self.specs()
        if specs:  # JSON values (bounds may be arrays)
            out["custom_laws"] = json.loads(json.dumps({n: specs[n].hashable() for n in sorted(specs)}, default=str))
        return out

    def config_hash(self) -> str:
        """16 hex digits of SHA-1 over the laws, :meth:`settings` (scalingfit version included)
        and each law's parameter names (a custom law's whole definition, the code of its
        functions included): the key of this configuration's scores."""
        specs = self.specs()
        models = {n: (specs[n].hashable() if n in specs else list(_models.get(n).param_names)) for n in self.laws}
        blob = json.dumps({"laws": list(self.laws), **self.settings(), "models": models}, sort_keys=True,
                          default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]

    def __reduce__(self) -> tuple[Any, ...]:
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("custom", "_carried")}
        carried = self._carried
        if self.custom:
            from .distributed import _carried_law

            carried = tuple((s.name, _carried_law(s)[0]) for s in self.custom)
        return (_unpickled_config, (state, carried))


def _unpickled_config(state: dict[str, Any], carried: tuple[tuple[str, bytes], ...]) -> CompareConfig:
    """A pickled :class:`CompareConfig`, its custom laws still bytes (see :meth:`CompareConfig.specs`)."""
    return CompareConfig(**state, _carried=carried)


@dataclass
class CompareSummary:
    """What a :func:`compare_refit` did, and the wins over every group of the comparison in
    the database (this run's and earlier ones')."""

    db: str
    comparison: str
    config_hash: str
    criterion: str
    n_groups: int
    n_scored: int
    n_skipped: int
    n_unscored: int
    n_chunks: int
    seconds: float
    #: Wall time inside the core's batch solves (the fits and leave-one-out refits), as
    #: :attr:`scalingfit.refit.RefitSummary.seconds_in_fit` (it was the whole compare_batch call).
    seconds_in_fit: float
    wins: dict[str, int]
    median_delta: dict[str, float]
    wins_loo: dict[str, int]

    @property
    def groups_per_s(self) -> float:
        """Groups scored per second of the whole run (NaN for a zero duration)."""
        return self.n_scored / self.seconds if self.seconds > 0 else float("nan")

    def __str__(self) -> str:
        rate = self.groups_per_s
        crit = {"aicc": "AICc", "loo_rmse": "LOO"}[self.criterion]
        head = ["law", f"wins ({crit})",
                "median dAICc" if self.criterion == "aicc" else "median LOO rmse / best"]
        if self.wins_loo:
            head.append("wins (LOO)")
        rows = []
        for law, n in self.wins.items():
            d = self.median_delta.get(law, float("nan"))
            row = [law, str(n), "" if law == "none" or not np.isfinite(d) else f"{d:.3g}"]
            if self.wins_loo:
                row.append(str(self.wins_loo[law]))
            rows.append(row)
        table = ["  " + line for line in aligned([head, *rows])]
        return "\n".join([
            (f"compare {self.comparison} -> {self.db}: {self.n_scored} groups scored "
             f"({self.n_unscored} without a winner), {self.n_skipped} already up to date, "
             f"{self.n_chunks} chunk{'' if self.n_chunks == 1 else 's'}, {self.seconds:.2f} s ({rate:,.0f} groups/s)"),
            f"over the {sum(self.wins.values())} groups of this comparison in the table:", *table])


def resolve_laws(laws: Any) -> tuple[list[Any], tuple[LawSpec, ...]]:
    """Each of ``laws``' models (a built-in model by its name, or a custom law registered with
    :func:`scalingfit.refit.register_law`) and the custom laws' specs, checked: two or more,
    each known, none twice, all of the same number of inputs (a ValueError or TypeError
    naming what is wrong)."""
    if isinstance(laws, str) or not isinstance(laws, Sequence) or not all(isinstance(n, str) for n in laws):
        raise TypeError(f"laws must be a list of built-in law names or registered custom laws, e.g. ['chinchilla', 'kaplan_nd'], got {laws!r}")
    builtin = _models.names()
    custom = {n: s for n, s in _refit.LAWS.items() if s.custom}
    unknown = [n for n in laws if n not in builtin and n not in custom]
    if unknown:
        raise ValueError(f"unknown law(s) {unknown}; choose from {', '.join(builtin)}"
                         + (f", or the custom laws registered: {', '.join(custom)}" if custom else
                            ", or a custom law registered with scalingfit.refit.register_law (CLI: --laws-from FILE.py)"))
    both = [n for n in laws if n in builtin and n in custom]
    if both:
        raise ValueError(f"law(s) {both} name both a built-in model and a registered custom law; register the "
                         "custom law under another name")
    if len(laws) < 2:
        raise ValueError(f"a comparison needs at least two laws, got {list(laws)}")
    if len(set(laws)) != len(laws):
        raise ValueError(f"laws names a law twice: {list(laws)}")
    ms: list[Any] = [custom[n].model_object() if n in custom else _models.get(n) for n in laws]
    if len({m.n_inputs for m in ms}) > 1:
        raise ValueError("the laws must take the same inputs, got "
                         + ", ".join(f"{n} ({', '.join(m.input_names)})" for n, m in zip(laws, ms)))
    return ms, tuple(custom[n] for n in laws if n in custom)


def default_inputs(ms: Sequence[Any], custom: Sequence[LawSpec]) -> tuple[str, ...]:
    """The columns a comparison fits when none are given: the custom laws' registered inputs
    (they must agree), else the first law's input names."""
    registered = sorted({s.inputs for s in custom})
    if len(registered) > 1:
        raise ValueError("the custom laws are registered on different columns: "
                         + ", ".join(f"{s.name} ({', '.join(s.inputs)})" for s in custom))
    return registered[0] if registered else tuple(ms[0].input_names)


def _check_inputs(ms: Sequence[Any], custom: Sequence[LawSpec], inputs: Optional[Sequence[str]]) -> tuple[str, ...]:
    m = ms[0]
    if inputs is None:
        return default_inputs(ms, custom)
    if isinstance(inputs, str) or not isinstance(inputs, Sequence) \
            or not all(isinstance(c, str) and c for c in inputs):
        raise TypeError(f"inputs must be a list of column names, e.g. ['N', 'D'], got {inputs!r}")
    if len(inputs) != m.n_inputs:
        raise ValueError(f"inputs names {len(inputs)} column(s) ({', '.join(inputs)}); the laws take "
                         f"{m.n_inputs} input(s) ({', '.join(m.input_names)})")
    if len(set(inputs)) != len(inputs):
        raise ValueError(f"inputs names a column twice: {list(inputs)}")
    if "value" in inputs:
        raise ValueError("inputs names 'value', the column the laws are fitted to")
    for s in custom:
        if s.inputs != tuple(inputs):
            raise ValueError(f"inputs names {', '.join(inputs)}, but the custom law {s.name!r} is registered on "
                             f"the columns {', '.join(s.inputs)} (register_law's inputs, in the order of its x)")
    return tuple(inputs)


def _check_custom(custom: Sequence[LawSpec], objective: Mapping[str, Any], rows: str) -> None:
    """A custom law fitted as registered or not at all: its rows (``reduce``) must be the
    comparison's, and an objective option it fixes the comparison's (one objective for every law)."""
    for s in custom:
        if s.reduce != rows:
            raise ValueError(f"the custom law {s.name!r} is registered with reduce={s.reduce!r}, but the "
                             f"comparison fits rows={rows!r}; pass {_SETTING_NAMES['rows']} {s.reduce!r}")
        for k in _OBJECTIVE:
            if k in s.fit_kwargs and s.fit_kwargs[k] != objective[k]:
                raise ValueError(f"the custom law {s.name!r} is registered with {k}={s.fit_kwargs[k]!r}, but the "
                                 f"comparison fits every law with {k}={objective[k]!r} (one objective scores "
                                 f"them all); pass {_SETTING_NAMES[k]} {s.fit_kwargs[k]!r}")


def _config(*, laws: Any, inputs: Any, group_by: Any, metric: Any, loss: Any, f_scale: Any,
            log_residuals: Any, loo: Any, starts: Any, rows: Any = "final") -> CompareConfig:
    """The comparison's configuration from its arguments, each checked before any I/O."""
    ms, custom = resolve_laws(laws)
    cols = _check_inputs(ms, custom, inputs)
    group_by = check_group_by(group_by, COLUMNS, COMPARISONS_TABLE, (*cols, "value"))
    if metric is not None and not isinstance(metric, str):
        raise TypeError(f"metric must be a metric name (str) or None, got {type(metric).__name__} {metric!r}")
    if not isinstance(loss, str) or loss not in _models.LOSSES:
        raise ValueError(f"loss must be one of {', '.join(map(repr, _models.LOSSES))}, got {loss!r}")
    f = _validate.positive_number(f_scale, "f_scale")
    if loss == "linear" and f != 1.0:
        raise ValueError(f"f_scale={f:g} scales a robust loss and has no effect with loss='linear'")
    log_residuals = _validate.flag("log_residuals", log_residuals)
    loo = _validate.flag("loo", loo)
    if loss != "linear" and not loo:
        raise ValueError(f"loss={loss!r} has no information criteria (a Gaussian likelihood needs least "
                         "squares) and loo=False no cross-validation: nothing would rank the laws; "
                         "pass loo=True or loss='linear'")
    if starts not in ("all", "one"):
        raise ValueError(f"starts must be 'all' or 'one', got {starts!r}")
    if rows not in ("final", "all"):
        raise ValueError(f"rows must be 'final' (the last step of each run) or 'all' (every row), got {rows!r}")
    _check_custom(custom, {"loss": loss, "f_scale": f, "log_residuals": log_residuals}, rows)
    return CompareConfig(laws=tuple(laws), inputs=cols, group_by=tuple(group_by), metric=metric, loss=loss,
                         f_scale=f, log_residuals=log_residuals, loo=loo, starts=starts, rows=rows,
                         custom=custom)


# --------------------------------------------------------------------------- one chunk
def _unscored(config: CompareConfig, n: int, k: int, rss: float) -> str:
    """Why a converged fit has no score to compete with."""
    if config.criterion == "loo_rmse":
        return "no leave-one-out error: a refit without one of the points did not converge"
    if not np.isfinite(rss):
        return "the residual sum of squares is not finite"
    if n <= k + 2:
        return f"AICc needs more than k + 2 = {k + 2} points (free parameters + 2), got {n}"
    return "no finite AICc"


def _law_options(spec: LawSpec) -> dict[str, Any]:
    """A custom law's registered fit options that compare_batch takes per law (its bounds and
    solver tolerances; the objective is the comparison's, checked equal by :func:`_check_custom`)."""
    return {k: v for k, v in spec.fit_kwargs.items() if k not in _OBJECTIVE}


def _custom_starts(spec: LawSpec, x: FloatArray, y: FloatArray, offsets: NDArray[np.int64], config: CompareConfig,
                   options: Mapping[str, Any], threads: Optional[int]) -> FloatArray:
    """Each group's start for a custom law, as :func:`scalingfit.refit.refit` fits it: its one
    registered start; with several, each group's best fit from all of them (the comparison's
    objective), where compare_batch's fit, from there, stays (a group no start fitted: the first
    start, to fail again with its status)."""
    st = np.asarray(spec.starts, dtype=np.float64)
    if st.shape[0] == 1:
        return np.asarray(st[0], dtype=np.float64)
    n = offsets.shape[0] - 1
    with _fit.quiet():
        res = _fit.fit_batch(spec.model, x, y, offsets, np.tile(st, (n, 1)),
                             problem=np.repeat(np.arange(n), st.shape[0]), threads=threads, compute_cov=False,
                             loss=config.loss, f_scale=config.f_scale, log_residuals=config.log_residuals,
                             **options).best_per_problem()
    p0 = np.array(res.x, dtype=np.float64)
    p0[~np.isfinite(p0).all(axis=1)] = st[0]
    return p0


def score_frame(df: pd.DataFrame, config: CompareConfig, *, done: Optional[set[tuple[str, str]]] = None,
                threads: Optional[int] = None, backend: str = "cpu") -> tuple[pd.DataFrame, float]:
    """Scores every group in ``df`` (one :func:`~scalingfit.compare_batch` call) and returns
    (one row per group and law, seconds in the fits). A pure function of its inputs (no I/O).
    ``done`` holds (group_key, data_hash) pairs to skip; ``backend`` as compare_batch's."""
    pd = data._need("pandas")
    from . import __version__

    group_by = list(config.group_by)
    specs = config.specs()
    ms = [config.model(law) for law in config.laws]
    options = {law: _law_options(spec) for law, spec in specs.items()}
    free = [free_count(m, options.get(law, {})) for law, m in zip(config.laws, ms)]  # k of an empty group
    names = [json.dumps(list(m.param_names)) for m in ms]
    logs = config.inputs if any(m.positive_inputs for m in ms) else ()  # every law sees the same points
    g = group_frame(df, LawSpec("compare", config.laws[0], config.inputs, reduce=config.rows), group_by, logs)
    todo = g.todo(done)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    common = dict(comparison=config.name, criterion=config.criterion, config_hash=config.config_hash(),
                  version=__version__, fitted_at=now)
    rows: list[dict[str, Any]] = []
    t_core = 0.0
    if todo:
        sel = np.array(todo)
        idx = np.concatenate([np.arange(g.offsets[j], g.offsets[j + 1]) for j in sel])
        sub_off = np.concatenate([[0], np.cumsum(g.counts[sel])]).astype(np.int64)
        with _fit.core_clock() as clock:  # the core's solves alone, as refit's seconds_in_fit
            for law, spec in specs.items():
                options[law]["p0"] = _custom_starts(spec, g.x[idx], g.y[idx], sub_off, config, options[law],
                                                    threads)
            laws: dict[str, Any] = {law: (specs[law].model if law in specs else law) for law in config.laws}
            bc = compare_batch(laws, g.x[idx], g.y[idx], sub_off, loss=config.loss,
                               f_scale=config.f_scale, log_residuals=config.log_residuals, loo=config.loo,
                               options=options, starts=config.starts, threads=threads, backend=backend)
        t_core += clock[0]
        crit = getattr(bc, config.criterion)
        best = bc.best(config.criterion)
        competing = np.array([f.success for f in bc.fits]) & ~np.isnan(crit)  # as best() decides
        any_law = competing.any(axis=0)
        weight = np.full(crit.shape, np.nan)
        if config.criterion == "aicc":
            weight[:, any_law] = bc.weights("aicc")[:, any_law]
        ranked = np.where(competing, crit, np.inf)
        rank = np.argsort(np.argsort(ranked, axis=0, kind="stable"), axis=0, kind="stable") + 1
        with np.errstate(invalid="ignore", divide="ignore"):
            top = np.min(ranked, axis=0)
            if config.criterion == "aicc":  # AICc above the best's (0 for the best, an exact fit's -inf too)
                delta = np.where(crit == top, 0.0, crit - top)
            else:  # the ratio of leave-one-out errors
                delta = np.where(crit == top, 1.0, crit / top)
        params = [_jsonl_rows(f.x) for f in bc.fits]  # each law's rows of JSON, built at once
        for i, j in enumerate(sel):
            why = g.notes.get(g.keys[j], "")
            n = int(bc.n_points[i])
            for a, (law, m) in enumerate(zip(config.laws, ms)):
                st = int(bc.fits[a].status[i])
                k = int(bc.k[a])
                reasons = [why] if why else []
                if st == _status.BAD_INPUT and n < k:
                    reasons.append(f"too few points ({n}) for {k} parameters")
                elif st > 0 and not competing[a, i]:
                    reasons.append(_unscored(config, n, k, float(bc.rss[a, i])))
                rows.append({
                    **dict(zip(group_by, g.key_values[j])), "group_key": g.keys[j], "law": law,
                    "param_names": names[a], "params": params[a][i],
                    "k": k, "n_points": n, "status": st, "message": _status.message(st),
                    "success": st > 0, "rss": float(bc.rss[a, i]), "aic": float(bc.aic[a, i]),
                    "aicc": float(bc.aicc[a, i]), "bic": float(bc.bic[a, i]),
                    "loo_rmse": float(bc.loo_rmse[a, i]), "loo_failed": int(bc.loo_failed[a, i]),
                    "weight": float(weight[a, i]),
                    "delta": float(delta[a, i]) if competing[a, i] else float("nan"),
                    "rank": int(rank[a, i]) if competing[a, i] else None, "best": bool(best[i] == a),
                    "data_hash": g.hashes[j], "reason": "; ".join(reasons), **common,
                })
    nan = float("nan")
    no_params = [_jsonl_rows(np.full((1, m.n_params), nan))[0] for m in ms]
    for i in g.todo_empty(done):  # groups whose every row was invalid, resumed by their raw rows
        (key, vals), raw_hash = g.empty[i], g.empty_hashes[i]
        for a, (law, m) in enumerate(zip(config.laws, ms)):
            rows.append({
                **dict(zip(group_by, vals)), "group_key": key, "law": law,
                "param_names": names[a], "params": no_params[a],
                "k": free[a], "n_points": 0, "status": _status.BAD_INPUT,
                "message": _status.message(_status.BAD_INPUT), "success": False, "rss": nan, "aic": nan,
                "aicc": nan, "bic": nan, "loo_rmse": nan, "loo_failed": 0, "weight": nan, "delta": nan,
                "rank": None, "best": False, "data_hash": raw_hash, "reason": g.notes[key], **common,
            })
    out = pd.DataFrame(rows, columns=[*group_by, *COLUMNS])
    if len(out):
        out["rank"] = out["rank"].astype("Int64")
    return out, t_core


def _counts(scores: pd.DataFrame) -> tuple[int, int]:
    """The groups ``score_frame`` scored, and those of them no law won."""
    if not len(scores):
        return 0, 0
    won = scores.groupby("group_key")["best"].any()
    return len(won), int((~won).sum())


# --------------------------------------------------------------------------- the database
def _existing(con: Any, config: CompareConfig) -> set[tuple[str, str]]:
    if COMPARISONS_TABLE not in data.duckdb_tables(con):
        return set()
    rows = con.execute(f"SELECT DISTINCT group_key, data_hash FROM {COMPARISONS_TABLE} "
                       "WHERE comparison = ? AND config_hash = ?", [config.name, config.config_hash()]).fetchall()
    return {(k, h) for k, h in rows}


def _write(con: Any, rows: pd.DataFrame, config: CompareConfig, types: Mapping[str, str]) -> None:
    """One transaction: replace this configuration's rows of these groups, add the new ones (a
    new table's group columns of the source's ``types``)."""
    if rows.empty:
        return
    con.register("_sf_cmp", rows)
    with data.transaction(con, "_sf_cmp"):
        if COMPARISONS_TABLE not in data.duckdb_tables(con):
            create_table(con, COMPARISONS_TABLE, "_sf_cmp", types)
        else:
            have = [r[0] for r in con.execute(f"DESCRIBE {COMPARISONS_TABLE}").fetchall()]
            if set(have) != set(rows.columns):
                raise data.RunDataError(
                    f"the {COMPARISONS_TABLE} table has columns {have}, but this comparison writes "
                    f"{list(rows.columns)} (a different group_by?); use another database or drop the table")
        cols = ", ".join(data.sql_identifier(c) for c in rows.columns)
        con.execute(f"DELETE FROM {COMPARISONS_TABLE} WHERE comparison = ? AND config_hash = ? AND group_key IN "
                    "(SELECT group_key FROM _sf_cmp)", [config.name, config.config_hash()])
        con.execute(f"INSERT INTO {COMPARISONS_TABLE} ({cols}) SELECT {cols} FROM _sf_cmp")
        store_settings(con, CONFIGS_TABLE, "comparison", config.name, config.config_hash(), config.settings())


def _difference(key: str, old: Any, new: Any) -> str:
    """One setting that differs, as a message names it (a custom law by its name, not its
    whole definition)."""
    if key == "custom_laws":
        changed = sorted(n for n in new if old.get(n) != new[n])
        return (f"the custom law(s) {', '.join(changed)} changed (their code, parameters, bounds, starts or "
                "options)")
    return f"{_SETTING_NAMES[key]} was {old!r} and is now {new!r}"


def _check_config(con: Any, db: Union[str, Path], config: CompareConfig, overwrite: bool) -> None:
    """Refuses to mix this comparison's scores made with another configuration with this run's
    (naming the settings that differ); with ``overwrite`` deletes them first."""
    tables = data.duckdb_tables(con)
    if COMPARISONS_TABLE not in tables:
        return
    others = con.execute(f"SELECT config_hash, COUNT(DISTINCT group_key) FROM {COMPARISONS_TABLE} "
                         "WHERE comparison = ? AND config_hash <> ? GROUP BY config_hash ORDER BY config_hash",
                         [config.name, config.config_hash()]).fetchall()
    if not others:
        return
    if not overwrite:
        stored = {}
        if CONFIGS_TABLE in tables:
            stored = {h: json.loads(s) for h, s in con.execute(
                f"SELECT config_hash, settings FROM {CONFIGS_TABLE} WHERE comparison = ?", [config.name]).fetchall()}
        new = config.settings()
        parts = []
        for h, n in others:
            old = stored.get(h, {})
            diffs = [_difference(k, old[k], new[k]) for k in new if k in old and old[k] != new[k]]
            parts.append(f"for {n} group(s), " + (", ".join(diffs) if diffs else
                                                  "the laws' definitions differ (another build of scalingfit)"))
        raise data.RunDataError(
            f"{db} already has scores of the comparison {config.name!r} made with another configuration: "
            + "; ".join(parts) + ". This run will not mix its scores with them: pass overwrite=True "
            "(CLI: --overwrite) to replace them, or write to another database with db= (CLI: --db).")
    keep_only(con, (COMPARISONS_TABLE, CONFIGS_TABLE), "comparison", config.name, config.config_hash())


def _check_columns(con: Any, rel: str, config: CompareConfig) -> list[str]:
    """The source's columns; a RunDataError naming what the comparison needs and it lacks (or
    a column it fits that holds dates or times)."""
    cols = source_columns(con, rel, config.group_by)
    needs = list(config.inputs) + ["value"]
    missing = [c for c in needs if c not in cols]
    if missing:
        hint = " (give the input columns with inputs=, CLI --x)" if any(c in config.inputs for c in missing) else ""
        raise data.RunDataError(f"column(s) {missing} not in the run data; the laws fit {', '.join(needs)}"
                                f"{hint} (long format: scalingfit.data); it has {cols}")
    check_numbers(_column_types(con, rel), needs, "the laws fit")
    return cols


def _tally(con: Any, config: CompareConfig) -> tuple[dict[str, int], dict[str, float], dict[str, int]]:
    """Over every group of this configuration in the table: the wins of each law by the
    configuration's criterion ("none": groups no law won), each law's median delta (AICc above
    the group's best, or its leave-one-out RMSE over the best's), and with ``loo`` and least
    squares the wins by leave-one-out RMSE too."""
    where = f"FROM {COMPARISONS_TABLE} WHERE comparison = ? AND config_hash = ?"
    args = [config.name, config.config_hash()]
    n_groups = int(con.execute(f"SELECT COUNT(DISTINCT group_key) {where}", args).fetchone()[0])

    def wins(won: Mapping[str, int]) -> dict[str, int]:
        out = {law: int(won.get(law, 0)) for law in config.laws}
        out["none"] = n_groups - sum(out.values())
        return out

    by_criterion = dict(con.execute(f"SELECT law, COUNT(*) {where} AND best GROUP BY law", args).fetchall())
    med = dict(con.execute(f"SELECT law, MEDIAN(delta) {where} AND NOT isnan(delta) GROUP BY law", args).fetchall())
    by_loo: dict[str, int] = {}
    if config.loo and config.criterion != "loo_rmse":  # the lowest finite leave-one-out error of each group
        by_loo = wins(dict(con.execute(
            f"SELECT law, COUNT(*) FROM (SELECT law, ROW_NUMBER() OVER (PARTITION BY group_key ORDER BY "
            f"loo_rmse, law) AS r {where} AND success AND NOT isnan(loo_rmse)) WHERE r = 1 GROUP BY law",
            args).fetchall()))
    return wins(by_criterion), {law: float(med[law]) for law in config.laws if med.get(law) is not None}, by_loo


@_validate.suggest_argument_names
def compare_refit(source: Union[str, Path, pd.DataFrame], laws: Sequence[str], *,
                  group_by: Sequence[str] = ("sweep",), db: Union[str, Path, None] = None,
                  table: str = "runs", metric: Optional[str] = "loss", inputs: Optional[Sequence[str]] = None,
                  loss: str = "linear", f_scale: float = 1.0, log_residuals: bool = False, loo: bool = False,
                  starts: str = "all", rows: str = "final", chunk_groups: int = 500, threads: Optional[int] = None,
                  progress: bool = True, on_chunk: Optional[Callable[[int], None]] = None,
                  overwrite: bool = False, backend: str = "cpu", client: Any = None,
                  scheduler: Optional[str] = None, shard_dir: Union[str, Path, None] = None,
                  columns: Optional[Mapping[str, str]] = None) -> CompareSummary:
    """Score several laws on every group of a run database, resumably (which law fits each sweep?).

    Each group's final-step rows (as :func:`scalingfit.refit.refit` reads them) are fitted by
    every law with the same objective and scored as :func:`scalingfit.compare_batch` scores a
    problem. One row per group and law goes into the ``law_comparisons`` table of ``db``.

    Parameters
    ----------
    source : path or DataFrame
        A DuckDB file (reads ``table``), a CSV or Parquet file, or a DataFrame, in the long
        format of :mod:`scalingfit.data`.
    laws : sequence of str
        Two or more laws taking the same inputs: built-in models (e.g. ``["chinchilla",
        "chinchilla_tied", "kaplan_nd"]``) or custom laws registered with
        :func:`scalingfit.refit.register_law` (CLI ``--laws-from``). A custom law is fitted to
        each group from its registered starts (the best kept), with its registered bounds and
        solver options, on its registered input columns (``inputs`` must name them), its
        ``k`` the parameters its bounds leave free; its registered ``reduce`` must be ``rows``,
        and an objective option it fixes (``loss``, ``f_scale``, ``log_residuals``) the
        comparison's. Its definition and code are part of the configuration hash.
    group_by : sequence of str
        Columns that identify a sweep.
    db : path, optional
        DuckDB file for the ``law_comparisons`` and ``comparison_configs`` tables (default: the
        source if it is a DuckDB file, else ``<source>.fits.duckdb``).
    table, metric
        As :func:`scalingfit.refit.refit`.
    inputs : sequence of str, optional
        The columns the laws take (default: a custom law's registered inputs, else the laws'
        own input names, e.g. ``N, D``; a law of one input ``x`` needs e.g. ``inputs=["N"]``).
    columns : {source name: name}, optional
        Source columns read under another name, as :func:`scalingfit.refit.refit`'s (e.g.
        ``{"loss": "value"}``; CLI ``--columns loss=value``).
    loss, f_scale, log_residuals
        The objective, shared by every law (see :func:`scalingfit.fit`). Information criteria
        need ``loss="linear"``; with a robust loss the laws are ranked by leave-one-out error.
    loo : bool
        Leave-one-out refits of every point (the ``loo_rmse`` column); slower (one refit per
        point and law).
    starts : {"all", "one"}
        As :func:`scalingfit.compare_batch`.
    rows : {"final", "all"}
        The rows of a group that are fitted: the last step of each run (final losses, as
        ``refit``), or every row, for laws of learning curves (e.g. ``group_by=["run_id"]``,
        ``inputs=["step"]``, laws ``learning_curve`` and ``saturating_power_law``).
    chunk_groups, threads, progress, on_chunk
        As :func:`scalingfit.refit.refit`.
    overwrite : bool
        Replace this comparison's scores made with another configuration.
    backend : {"cpu", "cuda", "auto"}
        Where the fits are solved (see :func:`scalingfit.compare_batch`); not part of the
        configuration: a resumed run may switch (the fits agree to rounding).
    client, scheduler, shard_dir
        Score the chunks on a Dask cluster, as :func:`scalingfit.refit.refit` fits them (same
        scores; ``threads`` per task, default 1). See :mod:`scalingfit.distributed`.

    Returns
    -------
    CompareSummary
        With the wins of each law over every group of the comparison in the database.
        :func:`failed_fits` names the groups and laws without a score.

    Examples
    --------
    >>> from scalingfit.refit_compare import compare_refit                       # doctest: +SKIP
    >>> print(compare_refit("runs.duckdb", ["chinchilla", "kaplan_nd"], log_residuals=True))  # doctest: +SKIP
    """
    config = _config(laws=laws, inputs=inputs, group_by=group_by, metric=metric, loss=loss, f_scale=f_scale,
                     log_residuals=log_residuals, loo=loo, starts=starts, rows=rows)
    chunk_groups = _validate.integer("chunk_groups", chunk_groups, least=1, floats=False)
    if threads is not None:
        _fit._check_threads(threads, 1)
    progress = _validate.flag("progress", progress)
    overwrite = _validate.flag("overwrite", overwrite)
    columns = check_columns_arg(columns)
    cluster = client is not None or scheduler is not None
    # On a cluster the workers resolve the backend (one may have the GPU); here "cuda" without a
    # GPU is refused now, before any file is touched.
    on = _cuda.check_backend(backend) if cluster else _fit.resolve_backend(backend)
    if cluster:
        from . import distributed

        distributed._check_arguments(client, scheduler, shard_dir)
        if scheduler is not None:  # connect first: an unreachable scheduler leaves no file behind
            with distributed.connect(None, scheduler) as connected:
                return compare_refit(source, laws, group_by=group_by, db=db, table=table, metric=metric,
                                     inputs=inputs, loss=loss, f_scale=f_scale, log_residuals=log_residuals,
                                     loo=loo, starts=starts, rows=rows, chunk_groups=chunk_groups,
                                     threads=threads, progress=progress, on_chunk=on_chunk,
                                     overwrite=overwrite, backend=backend, client=connected,
                                     shard_dir=shard_dir, columns=columns)
    if not isinstance(table, str):
        raise TypeError(f"table must be a table name (str), got {type(table).__name__} {table!r}")
    db = results_db(source, db)
    _check_db(db, f"compare_refit writes its scores (table {COMPARISONS_TABLE})")
    if not Path(db).exists():  # a source that cannot be read leaves no empty database behind
        duckdb = data._need("duckdb")
        with duckdb.connect(":memory:") as mem:
            rel = _source_relation(mem, source, table, db, schema_only=True, columns=columns,
                                   group_by=config.group_by)
            with _reading(source):
                _check_rows(mem, rel, source, metric, _check_columns(mem, rel, config), "compare")
    t_start = time.perf_counter()
    n_scored = n_unscored = n_chunks = n_skipped = 0
    t_core = 0.0
    with writing(db, "written by a comparison or refit", "comparison or refit") as con:
        rel = _source_relation(con, source, table, db, columns=columns, group_by=config.group_by)
        with _reading(source):
            cols = _check_columns(con, rel, config)
            n_groups = count_groups(con, rel, config.group_by, metric)
            if n_groups == 0:
                _check_rows(con, rel, source, metric, cols, "compare")
            gaps = groups_without_metric(con, rel, config.group_by, metric, source, "compare_refit")
        if gaps:
            _warnings.warn(gaps, DataWarning, stacklevel=2)
        with _reading(source):
            types = group_types(con, rel, config.group_by)
        check_own_tables(con, db, {COMPARISONS_TABLE: COLUMNS, CONFIGS_TABLE: ("comparison", "config_hash",
                                                                              "settings")}, "compare_refit")
        check_grouping(con, db, COMPARISONS_TABLE, COLUMNS, config.group_by, types)  # before overwrite deletes
        _check_config(con, db, config, overwrite)
        done = _existing(con, config)
        if client is not None:  # the same chunks, scored by Dask workers
            from . import distributed

            st = distributed._drive(con, rel, config, done, n_groups, t_start, db=db, client=client,
                                    scheduler=None, chunk_groups=chunk_groups, threads=threads,
                                    progress=progress, on_chunk=on_chunk, shard_dir=shard_dir, backend=on,
                                    job="compare", source=source)
            n_scored, n_unscored, n_skipped, n_chunks, t_core = (st.n_fitted, st.n_failed, st.n_skipped,
                                                                 st.n_chunks, st.seconds_in_fit)
        else:
            bar = progress_bar(n_groups, progress)
            try:
                for frame, n_in_chunk in iter_chunks(con, rel, config.group_by, metric, chunk_groups, source):
                    scores, t = score_frame(frame, config, done=done, threads=threads, backend=on)
                    _write(con, scores, config, types)
                    t_core += t
                    n_chunks += 1
                    scored, unscored = _counts(scores)
                    n_scored += scored
                    n_unscored += unscored
                    n_skipped += n_in_chunk - scored
                    bar(scored, n_in_chunk - scored)  # groups scored before are no progress of this run
                    if on_chunk is not None:
                        on_chunk(n_chunks)
            finally:
                bar(None)
        wins, median, wins_loo = _tally(con, config) if COMPARISONS_TABLE in data.duckdb_tables(con) else \
            ({**{law: 0 for law in config.laws}, "none": 0}, {}, {})
    return CompareSummary(str(db), config.name, config.config_hash(), config.criterion, n_groups, n_scored,
                          n_skipped, n_unscored, n_chunks, time.perf_counter() - t_start, t_core, wins, median, wins_loo)


def read_comparisons(db: Union[str, Path], comparison: Optional[Union[str, Sequence[str]]] = None) -> pd.DataFrame:
    """The ``law_comparisons`` table (optionally one comparison: its laws, as a list or
    comma-separated) as a DataFrame, one row per group and law.

    Parameters
    ----------
    db : path
        The results database a :func:`compare_refit` wrote.
    comparison : str or sequence of str, optional
        Only this comparison's rows (its laws, e.g. ``"chinchilla,kaplan_nd"``); default all.

    Raises FileNotFoundError when ``db`` does not exist,
    :class:`~scalingfit.data.RunDataError` when it is not a DuckDB database or has no
    comparisons, and ValueError naming those it has when it has none of ``comparison``.
    """
    if comparison is not None and not isinstance(comparison, str):
        if not isinstance(comparison, Sequence) or not all(isinstance(c, str) for c in comparison):
            raise TypeError(f"comparison must be its laws (a list or a comma-separated str), got {comparison!r}")
        comparison = ",".join(comparison)
    if comparison is not None:
        comparison = ",".join(c.strip() for c in comparison.split(","))
    return read_table(db, COMPARISONS_TABLE, "comparison", comparison, "comparison, group_key, law", "comparison",
                      "scalingfit.refit_compare.compare_refit; CLI: scalingfit compare-runs", known=True)



def failed_fits(db: Union[str, Path], comparison: str, config_hash: str,
                limit: int = 5) -> tuple[int, list[dict[str, Any]]]:
    """The failed fits of one configuration of a comparison in ``db`` (``success`` False: too
    few points for the law's parameters, a law that gives NaN, no convergence, a group with no
    valid row), as :func:`scalingfit.refit.failed_fits` for a refit: (how many (group, law)
    rows, the first ``limit`` by group key and law as dicts of ``group_key``, ``law``,
    ``message`` and ``reason``). A group can fail for one law and not for another. (A fit that
    converged without a score, e.g. AICc with no more than k + 2 points, is not a failure; its
    row has ``rank`` NA and the reason.)"""
    if not isinstance(comparison, str):
        raise TypeError(f"comparison must be its laws, comma-separated (str), got {comparison!r}")
    bad = read_table(db, COMPARISONS_TABLE, "comparison", comparison, "group_key, law", "comparison",
                     "scalingfit.refit_compare.compare_refit; CLI: scalingfit compare-runs",
                     also={"config_hash": config_hash, "success": False})  # the failures only, not the table
    rows = bad[["group_key", "law", "message", "reason"]].head(limit).to_dict("records")
    return len(bad), rows




@dataclass(frozen=True, eq=False)
class PooledNestedTest:
    """Each group's F test of a law inside a larger one, pooled over the groups of a
    comparison by Fisher's method (:func:`pooled_nested_test`).

    Attributes
    ----------
    comparison, restricted, full : str
    group_keys : tuple of str
        The groups tested (both laws converged, the full law's fit no worse).
    p_values : ndarray
        Each group's F-test p-value (as :func:`scalingfit.compare.nested_test` gives it).
    n_untested : int
        Groups left out: a law failed, or the full law fitted worse (its fit missed its
        optimum, or the laws are not nested).
    n_rejected : int
        Groups whose own test rejects at 5%.
    statistic, p_value : float
        Fisher's ``-2 sum log p`` and its chi-square tail probability on ``2 n`` degrees of
        freedom (the groups' errors independent).
    """

    comparison: str
    restricted: str
    full: str
    group_keys: tuple[str, ...]
    p_values: FloatArray
    n_untested: int
    n_rejected: int
    statistic: float
    p_value: float

    def __repr__(self) -> str:
        n = len(self.group_keys)
        return (f"PooledNestedTest({self.restricted} inside {self.full} over {n} groups "
                f"({self.n_untested} untested): {self.n_rejected} of {n} reject at 5% alone; "
                f"Fisher chi2({2 * n}) = {self.statistic:.4g}, p = {self.p_value:.3g})")


def pooled_nested_test(db: Union[str, Path], restricted: str, full: str,
                       comparison: Optional[Union[str, Sequence[str]]] = None) -> PooledNestedTest:
    """Does the larger of two nested laws fit better, over all the groups of a comparison?

    Per-group wins understate a larger law that contains a smaller one (``chinchilla_tied``,
    alpha = beta, inside ``chinchilla``). Measured on 4,000 sweeps of 30 runs (6 sizes x 5
    token ratios) drawn with Hoffmann et al.'s exponents (alpha - beta = 0.06), log residuals:
    the tied law won 65% of the sweeps by AICc at 1% noise and 84% at 2%, and one sweep's F
    test rejected alpha = beta in 22% and 8% of them. Each group's F test (``F = ((RSS_r -
    RSS_f) / df1) / (RSS_f / df2)``, ``df1 = k_f - k_r``, ``df2 = n - k_f``, its p-value from
    the F distribution) pooled by Fisher's method rejected alpha = beta in 100 of 100 tables
    of 40 such sweeps at 1% noise and 34 of 100 at 2%; drawn with alpha = beta = 0.31, in 2
    of 100 (5% nominal). The groups' errors must be independent, and the laws
    fitted by least squares (``loss="linear"``); ``log_residuals=True`` keeps the F test at its
    level on multiplicative noise (5.0-5.4% at 5%, against 5.7-6.7% with linear residuals).

    Parameters
    ----------
    db : str or Path
        A database :func:`compare_refit` wrote.
    restricted, full : str
        Two of the comparison's laws, the first nested in the second (e.g.
        ``"chinchilla_tied"``, ``"chinchilla"``).
    comparison : str or sequence of str, optional
        The comparison (its laws); needed when the table holds several with both laws.

    Raises
    ------
    ValueError
        If no comparison (or several) holds both laws, the comparison used a robust loss,
        ``full`` has no more free parameters than ``restricted``, or no group can be tested.
    """
    from . import _stats

    rows = read_comparisons(db, comparison)
    both = sorted(c for c, laws in rows.groupby("comparison")["law"] if {restricted, full} <= set(laws))
    if not both:
        raise ValueError(f"no comparison in {db} holds both {restricted!r} and {full!r}; it has "
                         f"{sorted(rows['comparison'].unique())}")
    if len(both) > 1:
        raise ValueError(f"several comparisons hold {restricted!r} and {full!r}: {both}; pass comparison=")
    rows = rows[rows["comparison"] == both[0]]
    if (rows["criterion"] != "aicc").any():
        raise ValueError(f"the comparison {both[0]!r} used a robust loss: the F test needs least squares "
                         "(compare_refit with loss='linear')")
    g = rows[rows["law"] == restricted].merge(rows[rows["law"] == full], on="group_key", suffixes=("_r", "_f"))
    k_r, k_f = g["k_r"].to_numpy(np.int64), g["k_f"].to_numpy(np.int64)
    if (k_f <= k_r).any():
        raise ValueError(f"{full!r} must have more free parameters than {restricted!r}; got "
                         f"{int(k_f.max())} vs {int(k_r.max())}")
    n = g["n_points_f"].to_numpy(np.int64)
    rss_r, rss_f = g["rss_r"].to_numpy(np.float64), g["rss_f"].to_numpy(np.float64)
    df1, df2 = k_f - k_r, n - k_f
    ok = (g["success_r"].to_numpy(bool) & g["success_f"].to_numpy(bool) & np.isfinite(rss_r)
          & np.isfinite(rss_f) & (rss_f > 0) & (df2 >= 1) & ~(rss_f > rss_r * (1 + 1e-8)))
    if not ok.any():
        raise ValueError(f"no group of {both[0]!r} has converged fits of both laws with residual degrees "
                         "of freedom to test")
    F = np.maximum(rss_r[ok] - rss_f[ok], 0.0) / df1[ok] / (rss_f[ok] / df2[ok])
    # logs: p-values of 1e-300 and below still count
    log_p = np.array([_stats.f_logsf(float(f), float(a), float(b)) for f, a, b in zip(F, df1[ok], df2[ok])])
    stat = float(-2.0 * np.sum(log_p))
    return PooledNestedTest(
        comparison=both[0], restricted=restricted, full=full,
        group_keys=tuple(str(k) for k in g["group_key"].to_numpy()[ok]), p_values=np.exp(log_p),
        n_untested=int((~ok).sum()), n_rejected=int(np.sum(log_p < np.log(0.05))),
        statistic=stat, p_value=math.exp(_stats.chi2_even_logsf(stat, 2 * int(ok.sum()))),
    )
