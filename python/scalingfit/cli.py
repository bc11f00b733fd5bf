"""The ``scalingfit`` command line.

Exit codes: 0 success, 1 failure (a fit did not converge, a file could not be read),
2 usage error (bad arguments).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TextIO, Union

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .bootstrap import BootstrapResult

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

EPILOG = """examples:
  scalingfit demo                         fit thousands of synthetic sweeps, print recovery
  scalingfit fit runs.csv --model chinchilla --x N,D --y loss
  scalingfit fit runs.csv --model chinchilla_lse --x N,D --y loss \\
      --loss huber --f-scale 1e-3 --log-residuals --json
  scalingfit plot runs.csv --model saturating_power_law --x N --y loss --extrapolate 1e11
  scalingfit compare runs.csv --models power_law,saturating_power_law --x N --y loss \\
      --log-residuals --holdout 3       which law: AIC, leave-one-out, extrapolation
  scalingfit compare-runs runs.duckdb --models chinchilla,kaplan_nd --log-residuals
                                          which law on every sweep of a run database
  scalingfit reproduce                    published numbers refitted here, ours beside theirs
  scalingfit bench --json                 speed against scipy on this machine
  scalingfit cuda-compile                 compile the GPU kernels ahead of use
"""


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import _demo

    _at_least(args.sweeps, "--sweeps", 1)
    _resamples(args.bootstrap, zero="no intervals")
    _at_least(args.seed, "--seed", 0)
    _threads(args)
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out}: a file of that name exists; give a folder for the plots")
    if args.epoch is not None and not Path(args.epoch).is_file():
        raise FileNotFoundError(f"--epoch {args.epoch}: no such file")
    return _demo.run(n_sweeps=args.sweeps, seed=args.seed, threads=args.threads, out=sys.stdout,
                     folder=args.out, bootstrap=args.bootstrap, epoch_csv=args.epoch,
                     plots=not args.no_plots)


#: The studies of ``reproduce`` that draw no resamples: --bootstrap and --seed act on the others.
_STUDIES_WITHOUT_RESAMPLES = frozenset({"muennighoff", "gadre", "wu"})


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from . import reproduce as rp

    def show(study: str, folder: Path, checks: list[rp.Check], seconds: float) -> None:
        if not args.json:
            n_ok = sum(c.passed for c in checks)
            print(f"\n{study}: {rp.STUDIES[study][1]}, {n_ok} of {len(checks)} within tolerance "
                  f"({seconds:.1f} s; data: {folder})")
            print(rp.Reproduction(checks=checks).table(), flush=True)
            for c in checks:
                if not c.passed:
                    print(f"  NO: {c.quantity}: |difference| {abs(c.difference):.3g} > "
                          f"tolerance {c.tolerance:.3g} ({c.criterion})")

    _resamples(args.bootstrap, zero="no intervals")
    _at_least(args.seed, "--seed", 0)
    studies = _split(args.studies, "--studies")
    unknown = [s for s in studies or () if s not in rp.STUDIES]
    if unknown:
        raise UsageError(f"--studies: unknown studies {unknown}; known: {', '.join(rp.STUDIES)}")
    if args.bootstrap == 0:
        _without_effect(args, ["seed"], "with --bootstrap 0 (no intervals, nothing resampled)")
    elif all(s in _STUDIES_WITHOUT_RESAMPLES for s in studies or rp.STUDIES):
        resampled = ", ".join(s for s in rp.STUDIES if s not in _STUDIES_WITHOUT_RESAMPLES)
        _without_effect(args, ["bootstrap", "seed"], f"with --studies {args.studies} (only {resampled} "
                        "draw resamples, for bootstrap intervals)")
    _defaults(args, {"bootstrap": 4000, "seed": 0})
    rep = rp.reproduce(studies, data_dir=args.data,
                       n_bootstrap=args.bootstrap, seed=args.seed, progress=show)
    if args.json:
        _print_json(rep.to_dict())
    else:
        for study, why in rep.missing.items():
            print(f"\n{study}: skipped, {why}")
        print(f"\n{rep.n_passed} of {len(rep.checks)} checks within tolerance"
              + (f"; skipped for want of data: {', '.join(rep.missing)}" if rep.missing else ""))
    # A study asked for by name and skipped for want of its data is a failure (it passed
    # nothing), as is a run that found no study's data; with every study (no --studies), the
    # ones whose data is absent are skipped.
    asked = [s for s in (studies or []) if s in rep.missing] or (list(rep.missing) if not rep.checks else [])
    if asked:
        print(f"scalingfit reproduce: error: no data for {', '.join(asked)} (asked for by --studies); "
              "give --data the folder that holds the published data sets", file=sys.stderr)
    return EXIT_OK if rep.passed and not asked else EXIT_FAIL


class UsageError(ValueError):
    """A bad option value or combination, named as the user typed it: exit status 2, as for
    argparse's own usage errors (a ValueError, so callers that catch those still do)."""


def _at_least(value: Optional[float], option: str, minimum: float, note: str = "") -> None:
    """A UsageError unless ``value`` (when given) is >= ``minimum``."""
    if value is not None and not value >= minimum:
        raise UsageError(f"{option} must be >= {minimum:g}{note}, got {value:g}")


def _threads(args: argparse.Namespace) -> None:
    """``--threads``: a whole number of worker threads in [1, MAX_THREADS] when given (the
    results are the same for any count)."""
    from ._fit import MAX_THREADS

    _at_least(args.threads, "--threads", 1)
    if args.threads is not None and args.threads > MAX_THREADS:
        raise UsageError(f"--threads must be at most {MAX_THREADS}, got {args.threads}")


def _threads_argument(p: argparse.ArgumentParser, note: str = "") -> None:
    """The ``--threads`` option, one wording across commands."""
    p.add_argument("--threads", type=int, default=None,
                   help=f"fitting threads (default: all; the results are the same for any count{note})")


def _resamples(n: Optional[int], option: str = "--bootstrap", zero: str = "none") -> None:
    """Bootstrap resamples: 0 (``zero``) or at least 2 (one resample has no spread)."""
    if n is not None and not (n == 0 or n >= 2):
        raise UsageError(f"{option} must be 0 ({zero}) or >= 2 resamples, got {n}")


def _level(level: Optional[float], option: str = "--level") -> None:
    if level is not None and not 0 < level < 1:
        raise UsageError(f"{option} must be in (0, 1), e.g. 0.95, got {level:g}")


def _without_effect(args: argparse.Namespace, dests: Sequence[str], why: str) -> None:
    """A UsageError naming, as typed, those of the options ``dests`` given on the command line,
    which ``why`` says have no effect. Such options default to None, so that one left out
    can be told from one given its default value; :func:`_defaults` fills them in after."""
    given = [f"--{d.replace('_', '-')} {getattr(args, d)}" for d in dests if getattr(args, d) is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: no effect {why}")


def _defaults(args: argparse.Namespace, defaults: dict[str, Any]) -> None:
    """The options of ``defaults`` left out (None) set to their defaults."""
    for dest, value in defaults.items():
        if getattr(args, dest) is None:
            setattr(args, dest, value)


def _held(model: Any, fixed: Optional[dict[str, float]], option: str = "--fix") -> tuple[np.ndarray, np.ndarray]:
    """``model``'s bounds with the parameters of ``fixed`` held at their values (as ``fit``
    holds them); a UsageError naming ``option`` for a name the model has not (listing its
    parameters), a value that is not finite or outside the parameter's bounds, or every
    parameter held."""
    from . import _validate

    names = ", ".join(model.param_names)
    lo, hi = _validate.as_bounds(None, model)
    for name, value in (fixed or {}).items():
        if name not in model.param_names:
            raise UsageError(f"{option}: {model.name} has no parameter {name!r}; its parameters are {names}")
        i = model.param_names.index(name)
        if not math.isfinite(value):
            raise UsageError(f"{option}: the value of {name} must be finite, got {value:g}")
        if not lo[i] <= value <= hi[i]:
            raise UsageError(f"{option}: {name}={value:g} is outside the parameter's bounds "
                             f"[{lo[i]:g}, {hi[i]:g}]")
    if fixed and len(fixed) == model.n_params:
        raise UsageError(f"{option} holds every parameter of {model.name} ({names}): nothing to fit")
    return _validate.as_bounds(None, model, fixed)


def _start(text: str, model: Any, bounds: tuple[np.ndarray, np.ndarray], option: str = "--p0") -> list[float]:
    """``--p0``: one start value per parameter of ``model``, in its order, finite and inside
    the parameter's bounds (a held parameter starts at its value whatever is given, as ``fit``
    does); a UsageError naming the option and the model's parameters otherwise."""
    p0 = _floats(text, option)
    names = ", ".join(model.param_names)
    if len(p0) != model.n_params:
        raise UsageError(f"{option} gives {len(p0)} value(s); {model.name} has {model.n_params} parameters: "
                         f"give a start for each, in this order: {names}")
    for name, value, lo, hi in zip(model.param_names, p0, *bounds):
        if lo == hi:  # held by --fix
            continue
        if not math.isfinite(value):
            raise UsageError(f"{option}: the start of {name} must be finite, got {value:g}")
        if not lo <= value <= hi:
            raise UsageError(f"{option}: the start of {name}, {value:g}, is outside its bounds "
                             f"[{lo:g}, {hi:g}]")
    return p0


def _where_to_solve(args: argparse.Namespace) -> None:
    """``refit`` and ``compare-runs``: --table, --shard-dir and --threads refused where they
    have no effect."""
    from .data import source_kind

    kind = source_kind(Path(args.source)) if args.table is not None else "duckdb"
    if kind != "duckdb":
        what = {"csv": "CSV", "parquet": "Parquet"}.get(kind, kind)
        raise UsageError(f"--table {args.table}: no effect with a {what} source (the file is the one "
                         "table; --table names a table of a DuckDB source)")
    _defaults(args, {"table": "runs"})
    if args.shard_dir is not None and args.scheduler is None:
        raise UsageError(f"--shard-dir {args.shard_dir}: no effect without --scheduler (the folder of the "
                         "shards that Dask workers read; without a cluster the chunks are read here)")
    if args.threads is not None and args.backend == "cuda":
        raise UsageError(f"--threads {args.threads}: no effect with --backend cuda (the GPU solves every fit; "
                         "--threads sets CPU threads): leave it out, or give --backend auto or cpu")


def _output_path(path: Union[str, Path], option: str, *, figure: bool = False) -> Path:
    """``path`` checked before any work: its folder exists, and a figure's suffix is a format
    matplotlib writes (matplotlib itself is needed then: an ImportError says how to install
    it)."""
    import os

    out = Path(path)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{option} {path}: the folder {out.parent} does not exist")
    if out.is_dir():
        raise UsageError(f"{option} {path}: that is a folder; give a file name in it")
    if not os.access(out.parent, os.W_OK):
        raise PermissionError(f"{option} {path}: the folder {out.parent} is not writable")
    if figure:
        from . import plot

        plot._plt()  # matplotlib, or an ImportError that says how to install it
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        if out.suffix.lstrip(".").lower() not in formats:
            raise UsageError(f"{option}: {out.name!r} needs a figure suffix, one of "
                             f"{', '.join('.' + f for f in sorted(formats))}")
    return out


def read_columns(path: Union[str, Path], columns: dict[str, str],
                 positive: Collection[str] = ()) -> dict[str, np.ndarray]:
    """The ``columns`` of CSV file ``path`` as float arrays; ``columns`` maps each column name
    to the option that asked for it (for messages).

    The file is read with the csv module (quoted fields, a UTF-8 byte-order mark); a repeated
    column name, a row with more or fewer cells than the header, a missing column, and a cell
    that is empty, not a number, not finite (or <= 0, for the ``positive`` columns) are
    errors (:class:`scalingfit.data.RunDataError`) naming the file, the column and the data
    row with its line in the file.
    """
    from .data import RunDataError
    from .planning._common import numeric, read_csv_columns

    cols = read_csv_columns(path)  # FileNotFoundError, RunDataError
    missing = [c for c in columns if c not in cols]
    if missing:
        asked = sorted({columns[c] for c in missing})
        raise RunDataError(f"{path}: missing column(s) {missing} ({', '.join(asked)}); "
                           f"the file has {list(cols)}")
    return {c: numeric(cols, c, positive=c in positive) for c in columns}


def _column_names(text: str, option: str, what: str = "the input column(s)", example: str = "N,D") -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise UsageError(f"{option}: name {what}, comma-separated (e.g. {example}), got {text!r}")
    return names


def _csv_xy(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """The --x columns (n, k) and the --y column of the CSV file of ``fit`` and ``plot``."""
    from . import models

    m = models.get(args.model)
    xcols = _column_names(args.x, "--x")
    if len(xcols) != m.n_inputs:
        raise UsageError(f"--x names {len(xcols)} column(s) ({', '.join(xcols)}); {args.model} takes "
                         f"{m.n_inputs} input(s) ({', '.join(m.input_names)})")
    _distinct(xcols, args.y)
    positive = set(xcols if m.positive_inputs else []) | ({args.y} if args.log_residuals else set())
    cols = read_columns(args.file, {**{c: "--x" for c in xcols}, args.y: "--y"}, positive)
    return np.column_stack([cols[c] for c in xcols]), cols[args.y]


def _distinct(xcols: Sequence[str], y: str) -> None:
    """``--x`` names each column once, and not the ``--y`` column: a law of N and N, or of the
    loss itself, ran to a fit that could not converge."""
    from .data import duplicates

    twice = sorted(duplicates(xcols))
    if twice:
        raise UsageError(f"--x {','.join(xcols)}: names {', '.join(map(repr, twice))} twice; each input is "
                         "its own column")
    if y in xcols:
        raise UsageError(f"--y {y}: also an input (--x {','.join(xcols)}); the fitted column is not an input")


def _f_scale(args: argparse.Namespace) -> float:
    """``--f-scale`` checked against ``--loss``: 1 when not given."""
    from .models import LOSSES

    if args.f_scale is not None and args.loss == "linear":
        raise UsageError(f"--f-scale {args.f_scale:g} scales a robust loss and has no effect with "
                         f"--loss linear (the default): give --loss "
                         f"{' or '.join(sorted(set(LOSSES) - {'linear'}))}")
    if args.f_scale is not None and not (np.isfinite(args.f_scale) and args.f_scale > 0):
        raise UsageError(f"--f-scale must be finite and > 0, got {args.f_scale:g}")
    return 1.0 if args.f_scale is None else float(args.f_scale)


def _fit_options(args: argparse.Namespace) -> dict[str, object]:
    """The objective and start options of ``fit`` and ``plot``, checked against --model before
    any file is read."""
    from . import models

    m = models.get(args.model)
    fixed = _assignments(args.fix, "--fix") if args.fix is not None else None
    bounds = _held(m, fixed)
    return dict(p0=_start(args.p0, m, bounds) if args.p0 is not None else None, loss=args.loss,
                f_scale=_f_scale(args), log_residuals=args.log_residuals, fixed=fixed)


def _assignments(text: str, option: str) -> dict[str, float]:
    """``name=value,...`` as a dict; a ValueError naming the option otherwise, and a name
    given twice (``E=1,E=2``: which value was meant?)."""
    out: dict[str, float] = {}
    for item in (t.strip() for t in text.split(",")):
        name, eq, value = item.partition("=")
        name = name.strip()
        try:
            if not (eq and name):
                raise ValueError
            number = float(value)
        except ValueError:
            raise UsageError(f"{option}: expected name=value pairs, comma-separated "
                             f"(e.g. E=1.69,alpha=0.34), got {item!r}") from None
        if name in out:
            raise UsageError(f"{option} gives {name} twice ({name}={out[name]:g} and {item}): "
                             "give each parameter once")
        out[name] = number
    return out


def _assignments_text(text: str, option: str) -> dict[str, str]:
    """``source=name,...`` as a dict of names; a UsageError naming the option otherwise, and a
    source column given twice."""
    out: dict[str, str] = {}
    for item in (t.strip() for t in text.split(",")):
        source, eq, name = (p.strip() for p in item.partition("="))
        if not (eq and source and name):
            raise UsageError(f"{option}: expected source=name pairs, comma-separated "
                             f"(e.g. params=N,loss=value), got {item!r}")
        if source in out:
            raise UsageError(f"{option} gives {source} twice: give each column once")
        out[source] = name
    return out


def _fit_or_bootstrap(args: argparse.Namespace, options: dict[str, object], x: Any, y: Any, what: str,
                      instead: str) -> tuple[Any, Any]:
    """(the fit, its percentile bootstrap or None with --bootstrap 0) of --model on the rows."""
    from ._fit import fit
    from .bootstrap import bootstrap

    if not args.bootstrap:
        return fit(args.model, x, y, threads=args.threads, **options), None  # type: ignore[arg-type]
    _bootstrap_points_needed(args, options, y.shape[0], what, instead)
    b = bootstrap(args.model, x, y, n_resamples=args.bootstrap, seed=args.seed, level=args.level,
                  method="percentile", threads=args.threads, **options)  # type: ignore[arg-type]
    return b.fit, b


def _bootstrap_points_needed(args: argparse.Namespace, options: dict[str, object], n: int, what: str,
                             instead: str) -> None:
    """A UsageError when the file has fewer points than a points bootstrap of --model needs
    (bootstrap's own message names its scheme= argument, which the CLI has not got)."""
    from . import _validate, models
    from .bootstrap import min_points

    k_free = _validate.n_free(*_validate.as_bounds(None, models.get(args.model),
                                                   options["fixed"]))  # type: ignore[arg-type]
    need = min_points("points", k_free)
    if n < need:
        raise UsageError(f"--bootstrap {args.bootstrap}: {what} needs at least {need} points to resample the "
                         f"{k_free} free parameters of {args.model}, {args.file} has {n}; {instead}")


def _cmd_fit(args: argparse.Namespace) -> int:
    from .uncertainty import wald_intervals

    _resamples(args.bootstrap, zero="Wald intervals")
    if args.bootstrap == 0:
        _without_effect(args, ["seed"], "with --bootstrap 0 (Wald intervals, nothing resampled): give "
                        "--bootstrap N (N >= 2) for bootstrap intervals")
    _defaults(args, {"seed": 0})
    _level(args.level)
    _at_least(args.seed, "--seed", 0)
    _threads(args)
    options = _fit_options(args)
    x, y = _csv_xy(args)
    r, b = _fit_or_bootstrap(args, options, x, y, "bootstrap intervals", "give --bootstrap 0 for Wald intervals")
    if b is not None:
        intervals = {n: b.ci(n) for n in r.param_names}
        how = f"bootstrap percentile, {args.bootstrap} resamples, seed {args.seed}, {b.n_failed} failed"
    else:
        intervals = wald_intervals(r, args.level) if r.success else {n: (math.nan, math.nan) for n in r.param_names}
        how = f"Wald, Student's t on {r.dof} degrees of freedom"
    if args.json:
        # a fixed parameter's stderr is null, as the table's "(fixed)": it was not estimated
        # (its cov row is 0, which would read as a parameter known exactly)
        _print_json({
            "model": r.model, "params": r.params,
            "stderr": {n: None if n in r.fixed else float(s) for n, s in zip(r.param_names, r.stderr)},
            "cost": r.cost, "status": r.status, "message": r.message,
            "iterations": r.iterations, "n_points": r.n_points, "fixed": list(r.fixed),
            "at_bound": list(r.at_bound), "loss": r.loss, "log_residuals": r.log_residuals,
            "f_scale": options["f_scale"], "n_starts": r.n_starts,
            "intervals": {n: list(v) for n, v in intervals.items()}, "level": args.level, "interval_method": how,
        })
    else:
        print(repr(r))
        width = max(len(n) for n in r.param_names)
        print(f"{100 * args.level:g}% intervals ({how}):")
        for n, (lo, hi) in intervals.items():
            if np.isnan(lo) and np.isnan(hi) and n not in r.fixed:  # no degrees of freedom, say (warned)
                print(f"  {n.ljust(width)}  -")
            else:
                print(f"  {n.ljust(width)}  [{lo:.6g}, {hi:.6g}]" + ("  (fixed)" if n in r.fixed else ""))
    return EXIT_OK if r.success else EXIT_FAIL


def _laws(text: str, example: str) -> tuple[list[str], list[Any]]:
    """``--models``: the names and the models, each known, none twice, all of the same inputs."""
    from . import models

    names = _column_names(text, "--models", "the laws", example)
    unknown = [n for n in names if n not in models.names()]
    if unknown:
        raise UsageError(f"--models: unknown law(s) {unknown}; choose from {', '.join(models.names())}")
    if len(set(names)) != len(names):
        raise UsageError(f"--models names a law twice: {text!r}")
    laws = [models.get(n) for n in names]
    if len({m.n_inputs for m in laws}) > 1:
        raise UsageError("--models: the laws must take the same inputs, got "
                         + ", ".join(f"{m.name} ({', '.join(m.input_names)})" for m in laws))
    return names, laws


def _inputs(text: str, law: Any) -> list[str]:
    """``--x``: as many columns as ``law`` takes inputs."""
    xcols = _column_names(text, "--x")
    if len(xcols) != law.n_inputs:
        raise UsageError(f"--x names {len(xcols)} column(s) ({', '.join(xcols)}); the laws take "
                         f"{law.n_inputs} input(s) ({', '.join(law.input_names)})")
    return xcols


def _cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_models

    names, laws = _laws(args.models, "power_law,saturating_power_law")  # one law: its held-out and LOO errors
    xcols = _inputs(args.x, laws[0])
    _distinct(xcols, args.y)
    f_scale = _f_scale(args)
    _at_least(args.holdout, "--holdout", 0)
    _level(args.level)
    _threads(args)
    if args.level is not None:  # the prediction intervals of held-out points, of a linear loss
        if args.group_by is not None:
            raise UsageError("--level sets held-out intervals; not with --group-by")
        if not args.holdout:
            raise UsageError("--level sets the held-out points' prediction intervals: give --holdout K")
        if args.loss != "linear":
            raise UsageError(f"--level {args.level:g}: no effect with --loss {args.loss} (the held-out points' "
                             "prediction intervals are of the Gaussian likelihood: --loss linear)")
    _defaults(args, {"level": 0.95})
    positive = set(xcols if any(m.positive_inputs for m in laws) else []) | (
        {args.y} if args.log_residuals else set())
    plot_path = _output_path(args.plot, "--plot", figure=True) if args.plot else None
    cols = read_columns(args.file, {**{c: "--x" for c in xcols}, args.y: "--y"}, positive)
    x = np.column_stack([cols[c] for c in xcols])
    if args.holdout and args.holdout >= x.shape[0]:
        raise UsageError(f"--holdout {args.holdout} leaves no point to fit ({x.shape[0]} rows)")
    if args.group_by is not None:
        return _compare_groups(args, names, x, cols[args.y])
    groups = None
    if args.groups is not None:
        if args.no_loo:
            raise UsageError("--groups sets what the cross-validation leaves out: not with --no-loo")
        from .data import RunDataError
        from .planning._common import read_csv_columns

        text = read_csv_columns(args.file)
        if args.groups not in text:
            raise RunDataError(f"{args.file}: missing column {args.groups!r} (--groups); the file has "
                               f"{list(text)}")
        groups = np.asarray(text[args.groups])
        blank = np.char.strip(groups.astype(str)) == ""
        if blank.any():
            i = int(np.argmax(blank))
            raise RunDataError(f"{args.file}: column {args.groups!r} (--groups), row {i} (line {i + 2}): "
                               "empty group label")
    cmp = compare_models(names, x, cols[args.y], loss=args.loss, f_scale=f_scale,
                         log_residuals=args.log_residuals, holdout=args.holdout,
                         loo=not args.no_loo, groups=groups, level=args.level,
                         threads=args.threads, progress=sys.stderr.isatty())
    if args.json:
        weights = None
        if cmp.loss == "linear":
            weights = {"criterion": cmp.weight_criterion, **cmp.weights(cmp.weight_criterion)}
        _print_json({
            "loss": cmp.loss, "f_scale": f_scale, "log_residuals": cmp.log_residuals, "level": cmp.level,
            "holdout_rows": [int(i) for i in cmp.holdout_index], "cv": cmp.cv,
            "weights": weights,
            "laws": [{
                "law": s.label, "params": s.fit.params, "status": s.fit.status, "k": s.k,
                "rss": s.rss, "aic": s.aic, "aicc": s.aicc, "bic": s.bic,
                "loo_rmse": s.loo_rmse, "loo_failed": s.loo_failed,
                "holdout_rmse": s.holdout_rmse,
                "holdout": [{"row": int(i), "observed": float(cols[args.y][i]), "predicted": float(p),
                             "lower": float(lo), "upper": float(hi), "rel_err": float(e),
                             "covered": bool(c) if np.isfinite(lo) else None}
                            for i, p, lo, hi, e, c in zip(cmp.holdout_index, s.holdout_pred,
                                                          s.holdout_lower, s.holdout_upper,
                                                          s.holdout_rel_err, s.holdout_covered)],
            } for s in cmp.scores],
        })
    else:
        print(cmp.table())
    if plot_path is not None:
        from .plot import plot_comparison

        plot_comparison(cmp, xlabel=",".join(xcols) if len(xcols) == 1 else None, ylabel=args.y,
                        path=plot_path)
        if not args.json:
            print(f"plot written to {plot_path}")
    return EXIT_OK if all(s.fit.success for s in cmp.scores) else EXIT_FAIL


def _compare_groups(args: argparse.Namespace, names: list[str], x: np.ndarray, y: np.ndarray) -> int:
    """``compare --group-by``: every group of the file scored in one batch per law."""
    from .compare import compare_batch
    from .data import RunDataError
    from .planning._common import read_csv_columns

    for option, value in (("--holdout", args.holdout), ("--groups", args.groups), ("--plot", args.plot)):
        if value:
            raise UsageError(f"{option} is for one set of points; not with --group-by")
    keys = _column_names(args.group_by, "--group-by", "the group column(s)", "sweep")
    text = read_csv_columns(args.file)
    missing = [k for k in keys if k not in text]
    if missing:
        raise RunDataError(f"{args.file}: missing column(s) {missing} (--group-by); the file has {list(text)}")
    if args.loss != "linear" and args.no_loo:
        raise UsageError(f"--loss {args.loss} has no information criteria and --no-loo no cross-validation: "
                         "nothing to score")
    rows = list(zip(*(text[k] for k in keys)))  # one tuple of group cells per row
    for i, cells in enumerate(rows):
        for k, cell in zip(keys, cells):
            if not cell.strip():
                raise RunDataError(f"{args.file}: column {k!r} (--group-by), row {i} (line {i + 2}): "
                                   "empty group label")
    index: dict[tuple[str, ...], int] = {}
    inverse = np.array([index.setdefault(cells, len(index)) for cells in rows], dtype=np.int64)
    uniq = list(index)  # the groups in order of first appearance
    order = np.argsort(inverse, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(uniq)))])
    f_scale = _f_scale(args)
    bc = compare_batch(names, x[order], y[order], offsets, loss=args.loss, f_scale=f_scale,
                       log_residuals=args.log_residuals, loo=not args.no_loo, threads=args.threads,
                       progress=sys.stderr.isatty())
    crit = "aicc" if args.loss == "linear" else "loo_rmse"
    best = bc.best(crit)
    if args.json:
        _print_json({
            "loss": bc.loss, "f_scale": f_scale, "log_residuals": bc.log_residuals, "criterion": crit,
            "wins": bc.wins(crit),
            "groups": [{
                "group": g[0] if len(g) == 1 else list(g), "n_points": int(bc.n_points[j]),
                "best": bc.labels[best[j]] if best[j] >= 0 else None,
                "laws": {lab: {"status": int(bc.fits[i].status[j]), "aicc": float(bc.aicc[i, j]),
                               "bic": float(bc.bic[i, j]), "loo_rmse": float(bc.loo_rmse[i, j])}
                         for i, lab in enumerate(bc.labels)},
            } for j, g in enumerate(uniq)],
        })
    else:
        print(bc.table())
    return EXIT_OK if best.min(initial=0) >= 0 else EXIT_FAIL


#: The options of ``plot`` that set its bootstrap band, and their defaults.
_BAND = {"seed": 0, "level": 0.95, "band": "confidence"}


def _cmd_plot(args: argparse.Namespace) -> int:
    from . import plot
    from .results import FitResult

    _resamples(args.bootstrap, zero="no band")
    if args.bootstrap == 0:
        _without_effect(args, list(_BAND), "with --bootstrap 0 (--seed, --level and --band set the bootstrap "
                        "band, and none is drawn): give --bootstrap N (N >= 2) for a band")
    _defaults(args, _BAND)
    _level(args.level)
    _at_least(args.seed, "--seed", 0)
    _threads(args)
    out = _output_path(args.output or Path(args.file).with_suffix(".fit.png"), "-o/--output", figure=True)
    options = _fit_options(args)
    x, y = _csv_xy(args)
    if args.extrapolate is not None:
        if x.shape[1] != 1:
            raise UsageError(f"--extrapolate extends a law of one input; --x names {x.shape[1]} columns")
        if not (np.isfinite(args.extrapolate) and args.extrapolate > x[:, 0].max()):
            raise UsageError(f"--extrapolate must be above the largest {args.x.strip()} of the data "
                             f"({x[:, 0].max():.4g}), got {args.extrapolate:g}")
        if args.extrapolate > plot.X_MAX:  # before the fit: matplotlib's axis overflows near 1e261
            raise UsageError(f"--extrapolate must be at most {plot.X_MAX:g}, got {args.extrapolate:g}")
    fitted, boot = _fit_or_bootstrap(args, options, x, y, "the band",
                                     "give --bootstrap 0 to plot the fit without a band")
    result: Union[FitResult, BootstrapResult] = fitted if boot is None else boot
    print(repr(fitted))
    if not fitted.success:  # main prints it as every command's error, exit status 1
        raise ValueError(f"the fit did not succeed ({fitted.message}); no plot written")
    # plot.write_figure writes a temporary file beside out and renames it: a failed save
    # leaves no half-written figure at out
    plot.plot_fit(result, x, y, x_max=args.extrapolate, kind=args.band, ylabel=args.y,
                  xlabel=args.x.split(",")[0].strip(), path=out)
    print(f"plot written to {out}")
    return EXIT_OK


def _import_laws(spec: str) -> None:
    """Run the file (``*.py``) or import the module ``spec`` names, for the laws it registers
    (``scalingfit.refit.register_law``); an error in it is named with its file and line."""
    import contextlib
    import hashlib
    import importlib
    import importlib.util
    import traceback

    if spec.endswith(".py") and not Path(spec).is_file():  # a missing file: exit 1, as for every other file
        raise FileNotFoundError(f"--laws-from {spec}: no such file")
    try:
        if spec.endswith(".py"):
            path = Path(spec)
            name = "_scalingfit_laws_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
            loader = importlib.util.spec_from_file_location(name, path)
            if loader is None or loader.loader is None:
                raise UsageError(f"--laws-from {spec}: not a Python file")
            module = importlib.util.module_from_spec(loader)
            sys.modules[name] = module  # for pickling what it defines
            loader.loader.exec_module(module)
            with contextlib.suppress(ImportError):  # Dask's pickler: the file's code by value,
                import cloudpickle  # for --scheduler workers, which cannot import the file

                cloudpickle.register_pickle_by_value(module)
        else:
            importlib.import_module(spec)
    except UsageError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name is not None and spec.split(".")[0] == exc.name.split(".")[0]:
            raise UsageError(f"--laws-from {spec}: no such module (give a FILE.py, or a module on "
                             "PYTHONPATH)") from None
        raise ImportError(f"--laws-from {spec}: {exc}") from exc
    except Exception as exc:  # the user's code: its own error, where it happened
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise ImportError(f"--laws-from {spec}: {type(exc).__name__}: {exc} "
                          f"({where.filename}, line {where.lineno})") from exc


def _cmd_refit(args: argparse.Namespace) -> int:
    from . import refit as rf

    _resamples(args.bootstrap, zero="no intervals")
    if args.bootstrap == 0:  # --level still sets the Gauss-Newton intervals' level
        _without_effect(args, ["seed"], "with --bootstrap 0 (the default: Gauss-Newton intervals, nothing "
                        "resampled): give --bootstrap N (N >= 2) for bootstrap intervals")
    _defaults(args, {"seed": 0})
    _level(args.level)
    _at_least(args.seed, "--seed", 0)
    _at_least(args.chunk, "--chunk", 1, " group per chunk")
    _threads(args)
    fixed = _assignments(args.fix, "--fix") if args.fix is not None else None
    if args.laws_from is not None:
        _import_laws(args.laws_from)
    if args.law not in rf.LAWS:
        custom = [n for n, s in rf.LAWS.items() if s.custom]
        raise UsageError(f"--law {args.law!r} is not a law: built-in "
                         f"{', '.join(n for n in rf.LAWS if n not in custom)}"
                         + (f"; registered by --laws-from: {', '.join(custom)}" if custom else
                            "; a custom law needs --laws-from FILE.py, a file that registers it "
                            "with scalingfit.refit.register_law"))
    _held(rf.LAWS[args.law].model_object(), fixed)
    _where_to_solve(args)
    summary = rf.refit(
        args.source, law=args.law, group_by=[g.strip() for g in args.group_by.split(",") if g.strip()],
        db=args.db, table=args.table, metric=None if args.metric == "" else args.metric,
        bootstrap=args.bootstrap, seed=args.seed, level=args.level, chunk_groups=args.chunk,
        threads=args.threads, progress=not args.quiet, overwrite=args.overwrite,
        scheduler=args.scheduler, shard_dir=args.shard_dir, backend=args.backend,
        precision=args.precision, fixed=fixed,
        columns=_assignments_text(args.columns, "--columns") if args.columns is not None else None,
    )
    # the table's state, as compare-runs reports it: a rerun that fits nothing still fails while
    # fits of this configuration that failed before (an earlier run, an interrupted one) remain
    n_bad, failed = rf.failed_fits(summary.db, summary.law, summary.config_hash, 20)
    if args.json:
        _print_json({**summary.__dict__, "groups_per_s": summary.groups_per_s, "n_failed_fits": n_bad,
                     "failed_groups": failed})
    elif not args.quiet:
        print(summary)
        _print_failed(n_bad, failed, f"scalingfit.refit.read_fits({summary.db!r}, law={summary.law!r})")
    elif n_bad:  # --quiet silences the progress and summary, not why the exit status is 1
        print(f"scalingfit refit: {n_bad} failed fit(s) of this configuration in {summary.db} (all: "
              f"scalingfit.refit.read_fits({summary.db!r}, law={summary.law!r}), success False)", file=sys.stderr)
    return EXIT_OK if n_bad == 0 else EXIT_FAIL



def _print_failed(n_bad: int, failed: list[dict[str, Any]], read_all: str) -> None:
    """After a bulk summary: how many fits of the configuration failed, and the first 5 with
    their group (and law, in a comparison) and reason (the exit status alone says nothing of
    which); ``read_all`` is the call that reads them all."""
    if not failed:
        return
    print(f"failed fits of this configuration: {n_bad}" + (", the first 5" if n_bad > 5 else "")
          + f" (all: {read_all}, success False)")
    for f in failed[:5]:
        why = "; ".join(v for v in (f["message"], f["reason"]) if v)
        print(f"  group {f['group_key']}" + (f", {f['law']}" if "law" in f else "") + f": {why}")


def _cmd_compare_runs(args: argparse.Namespace) -> int:
    from . import refit_compare as rc

    if args.laws_from is not None:
        _import_laws(args.laws_from)
    names = _column_names(args.models, "--models", "the laws", "chinchilla,chinchilla_tied")
    try:
        laws, custom = rc.resolve_laws(names)
    except ValueError as exc:
        if len(names) < 2 and "at least two" in str(exc):  # the laws are known; there is one
            raise UsageError(f"--models names {len(names)} law; a comparison needs two or more") from None
        raise UsageError(f"--models: {exc}") from None  # an unknown law's message names --laws-from
    inputs = _inputs(args.x, laws[0]) if args.x is not None else None
    if inputs is not None and (len(set(inputs)) != len(inputs) or "value" in inputs):
        raise UsageError(f"--x {args.x}: " + ("names 'value', the column the laws are fitted to" if "value" in inputs
                                              else "names a column twice"))
    try:
        fitted = set(inputs if inputs is not None else rc.default_inputs(laws, custom)) | {"value"}
    except ValueError as exc:
        raise UsageError(f"--models: {exc}") from None
    group_by = _column_names(args.group_by, "--group-by", "the group column(s)", "sweep")
    if len(set(group_by)) != len(group_by) or fitted & set(group_by):
        raise UsageError(f"--group-by {args.group_by}: " + (
            f"names {sorted(fitted & set(group_by))}, which the laws fit" if fitted & set(group_by)
            else "names a column twice"))
    f_scale = _f_scale(args)
    if args.loss != "linear" and not args.loo:
        raise UsageError(f"--loss {args.loss} has no information criteria: give --loo to rank the laws by "
                         "leave-one-out error")
    _at_least(args.chunk, "--chunk", 1, " group per chunk")
    _threads(args)
    _where_to_solve(args)
    plot_path = _output_path(args.plot, "--plot", figure=True) if args.plot else None
    summary = rc.compare_refit(
        args.source, names, group_by=group_by,
        db=args.db, table=args.table, metric=None if args.metric == "" else args.metric, inputs=inputs,
        loss=args.loss, f_scale=f_scale, log_residuals=args.log_residuals, loo=args.loo, starts=args.starts,
        chunk_groups=args.chunk, threads=args.threads, progress=not args.quiet, overwrite=args.overwrite,
        backend=args.backend, rows=args.rows, scheduler=args.scheduler, shard_dir=args.shard_dir,
        columns=_assignments_text(args.columns, "--columns") if args.columns is not None else None)
    # the failed fits, each group and law with its reason (the wins table only counts them)
    n_bad, failed = rc.failed_fits(summary.db, summary.comparison, summary.config_hash, 20) \
        if args.json or not args.quiet else (0, [])
    if args.json:
        _print_json({**summary.__dict__, "groups_per_s": summary.groups_per_s, "n_failed_fits": n_bad,
                     "failed_groups": failed})
    elif not args.quiet:
        print(summary)
        _print_failed(n_bad, failed, f"scalingfit.refit_compare.read_comparisons({summary.db!r}, "
                                     f"comparison={summary.comparison!r})")
    elif summary.wins["none"]:  # --quiet: still say why the exit status is 1
        print(f"scalingfit compare-runs: {summary.wins['none']} group(s) with no law scored in {summary.db} (all: "
              f"scalingfit.refit_compare.read_comparisons({summary.db!r}, comparison={summary.comparison!r}))",
              file=sys.stderr)
    if plot_path is not None:
        from .plot import plot_law_comparisons

        plot_law_comparisons(summary.db, comparison=summary.comparison, path=plot_path)
        if not (args.json or args.quiet):  # as compare, plot and optimal say
            print(f"plot written to {plot_path}")
    return EXIT_OK if summary.wins["none"] == 0 else EXIT_FAIL  # the table's state, as printed

#: The options of ``optimal`` that only act on a law fitted with --fit, and their defaults.
_WITH_FIT = {"x": "N,D", "y": "loss", "huber": False, "drop_highest": 0, "bootstrap": 1000, "seed": 0,
             "level": 0.95, "threads": None}


def _optimal_options(args: argparse.Namespace) -> None:
    """Refuse what ``optimal`` would silently ignore or contradict, name bad values as typed,
    then fill in the defaults (given as None, so that an option left out can be told from
    one given its default value)."""
    given = [k for k in _WITH_FIT if getattr(args, k) is not None and getattr(args, k) is not False]
    if args.fit is None and given:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        raise UsageError(f"{names}: only with --fit CSV (these act on the law fitted to your "
                         "runs); without --fit the law is --law's")
    if args.fit is not None and args.law is not None:
        raise UsageError("--law and --fit both choose the law: give one (--fit fits Chinchilla's "
                         "law to the runs in the CSV)")
    if args.epochs is not None and args.unique_tokens is None:
        raise UsageError("--epochs sets the epochs of the data wall, which needs --unique-tokens")
    if args.inference_tokens is not None and args.compute is None and args.loss is None:
        raise UsageError("--inference-tokens needs a target: --loss, or --compute (the "
                         "Chinchilla-optimal loss of that budget)")
    for option, v in (("--compute", args.compute), ("--loss", args.loss),
                      ("--unique-tokens", args.unique_tokens)):
        if v is not None and not (np.isfinite(v) and v > 0):
            raise UsageError(f"{option} must be finite and > 0, got {v:g}")
    if args.inference_tokens is not None and not (np.isfinite(args.inference_tokens)
                                                  and args.inference_tokens >= 0):
        raise UsageError(f"--inference-tokens must be finite and >= 0, got {args.inference_tokens:g}")
    if args.trained is not None:
        args.trained = _trained(args.trained)
    if args.fit is not None and args.compute is None and args.trained is None:  # the law is the fit's own
        _without_effect(args, ["seed", "level"] + (["bootstrap"] if args.bootstrap else []),
                        "without --compute or --trained (the resamples give intervals of the "
                        "compute-optimal quantities at --compute and of --trained's N/N_opt; the law "
                        "is the fit's own)")
        args.bootstrap = 0  # nothing to resample for
    if args.fit is not None and args.bootstrap == 0:
        _without_effect(args, ["seed", "level"], "with --bootstrap 0 (the fit alone, no intervals)")
    _defaults(args, _WITH_FIT)
    _at_least(args.drop_highest, "--drop-highest", 0)
    if args.fit is not None and args.bootstrap == 1:
        raise UsageError("--bootstrap must be 0 (the fit alone, no intervals) or >= 2 resamples, got 1")
    _at_least(args.bootstrap, "--bootstrap", 0, " (0: the fit alone, no intervals)")
    _at_least(args.seed, "--seed", 0)
    _level(args.level)
    _threads(args)
    if args.plot is not None:
        _output_path(args.plot, "--plot", figure=True)


def _trained(text: str) -> tuple[float, float]:
    """--trained N,D as two numbers > 0."""
    v = _floats(text, "--trained")
    if len(v) != 2:
        raise UsageError(f"--trained must be N,D (parameters, tokens; e.g. 175e9,300e9), got {text!r}")
    for name, x in zip(("N", "D"), v):
        if not (np.isfinite(x) and x > 0):
            raise UsageError(f"--trained: {name} must be finite and > 0, got {x:g}")
    return v[0], v[1]


def _number_or_text(text: str) -> Union[float, str]:
    """A table value for --json: a number at full precision (a planning ``Figure`` keeps it),
    other numbers as printed, anything else as text."""
    if hasattr(text, "value"):
        return float(text.value)
    try:
        return float(text)
    except ValueError:
        return text


#: A row of ``optimal`` for a fitted law: section, quantity, estimate and, when bootstrapped,
#: its interval (lower, upper) at --level.
_FitRow = tuple[str, str, Union[float, str], Optional[tuple[float, float]]]


def _law_from_fit(args: argparse.Namespace) -> tuple[dict[str, float], list[_FitRow]]:
    """Fit Chinchilla's law to a CSV (plain least squares, or Epoch's Huber on log loss with
    --huber), bootstrap it (unless --bootstrap 0), and return the law plus the rows of the
    derived quantities at --compute (with intervals when bootstrapped)."""
    from ._fit import errors_unused, fit
    from .bootstrap import bootstrap, chinchilla_derived

    xcols = _column_names(args.x, "--x")
    if len(xcols) != 2:
        raise UsageError(f"--x must name two columns (N and D), got {args.x!r}")
    _distinct(xcols, args.y)
    cols = read_columns(args.fit, {**{c: "--x" for c in xcols}, args.y: "--y"},
                        positive=xcols + ([args.y] if args.huber else []))
    x = np.column_stack([cols[c] for c in xcols])
    y = cols[args.y]
    if args.drop_highest >= y.size:
        raise UsageError(f"--drop-highest {args.drop_highest}: {args.fit} has {y.size} rows; "
                         f"drop at most {y.size - 1}")
    if args.drop_highest > 0:  # Epoch's outlier rule, as fit_parametric applies it
        from .chinchilla import _drop_highest

        keep = _drop_highest(y, args.drop_highest)
        x, y = x[keep], y[keep]
    model = "chinchilla_lse" if args.huber else "chinchilla"
    options = dict(loss="huber" if args.huber else "linear", f_scale=1e-3 if args.huber else 1.0,
                   log_residuals=bool(args.huber))
    derived = chinchilla_derived(args.compute, model=model)
    if args.bootstrap:
        b = bootstrap(model, x, y, n_resamples=args.bootstrap, seed=args.seed, level=args.level,
                      method="percentile", derived=derived, threads=args.threads,
                      **options)  # type: ignore[arg-type]
        p = b.params
        source = f"fit of {args.fit} ({b.n_resamples} resamples)"
    else:
        with errors_unused():  # no intervals are shown: the standard errors are unused
            r = fit(model, x, y, threads=args.threads, **options)  # type: ignore[arg-type]
        if not r.success:
            raise ValueError(f"the fit of {args.fit} did not succeed ({r.message})")
        p = r.params
        source = f"fit of {args.fit} (no resamples)"
    law = ({"E": float(np.exp(p["e"])), "A": float(np.exp(p["a"])), "B": float(np.exp(p["b"])),
            "alpha": p["alpha"], "beta": p["beta"]} if args.huber else dict(p))
    rows: list[_FitRow] = []
    if args.compute is not None:
        for name in ("N_opt", "D_opt", "tokens_per_param", "L_opt", "a_opt"):
            if args.bootstrap:
                lo, hi = b.ci(name)
                est = b.summary().to_dict()[name]["estimate"]
                rows.append((source, name, float(est), (float(lo), float(hi))))
            else:
                est = float(np.asarray(derived[name]({k: np.array([v]) for k, v in p.items()}))[0])
                rows.append((source, name, est, None))
    if args.trained is not None and args.bootstrap:  # the verdict's uncertainty, as training_verdict's
        from .allocation import training_verdict
        from .planning._cli import trained_section

        N, D = args.trained
        (v,) = training_verdict([("model", N, D)], b, level=args.level, show=False)
        sec = f"{trained_section(N, D)}, {source}"
        rows.append((sec, "N / N_opt", v.ratio_law, (v.ratio_law_low, v.ratio_law_high)))
        rows.append((sec, "verdict (factor 2)", v.verdict_law, None))  # keys stable: the verdict is a value
        rows.append((sec, "resamples agreeing with the verdict", v.agreement, None))
    return law, rows


def _fit_row_text(row: _FitRow, level: float) -> tuple[str, str, str]:
    """A fitted row as ``optimal`` prints it: the estimate to 4 digits, and its interval."""
    section, quantity, est, interval = row
    if isinstance(est, str):
        return section, quantity, est
    if interval is None:
        return section, quantity, f"{est:.4g}"
    return section, quantity, f"{est:.4g}  [{100 * level:g}%: {interval[0]:.4g}, {interval[1]:.4g}]"


def _fit_row_json(row: _FitRow, level: float) -> dict[str, Any]:
    """A fitted row as ``optimal --json`` writes it: the estimate at full precision and, when
    bootstrapped, its interval's ends and level as numbers."""
    section, quantity, est, interval = row
    out: dict[str, Any] = {"section": section, "quantity": quantity, "value": est}
    if interval is not None:
        out.update(lower=interval[0], upper=interval[1], level=level)
    return out


def _cmd_optimal(args: argparse.Namespace) -> int:
    from . import planning

    if args.compute is None and args.loss is None and args.unique_tokens is None and args.trained is None:
        raise UsageError("optimal needs at least one of --compute, --loss, --unique-tokens, --trained")
    _optimal_options(args)
    epochs = _floats("1,4,16" if args.epochs is None else args.epochs, "--epochs")
    if not epochs:
        raise UsageError(f"--epochs: give at least one number of epochs, got {args.epochs!r}")
    fitted: list[_FitRow] = []
    if args.fit is not None:
        law, fitted = _law_from_fit(args)
    else:
        try:
            law = planning.resolve_law(args.law or "epoch2024")
        except ValueError as exc:
            raise UsageError(f"--law: {exc}") from None
    inference_tokens = args.inference_tokens or 0.0
    rows = planning.optimal_cli_table(
        compute=args.compute, loss=args.loss, inference_tokens=inference_tokens,
        unique_tokens=args.unique_tokens, epochs=epochs, law=law, trained=args.trained)
    if args.json:  # the fitted rows' numbers in full, an interval as lower, upper, level; the
        # table's numbers as numbers at full precision, its other values as text
        _print_json([_fit_row_json(r, args.level) for r in fitted]
                    + [{"section": a, "quantity": b, "value": _number_or_text(c)} for a, b, c in rows])
    else:
        print(planning.format_rows([_fit_row_text(r, args.level) for r in fitted] + rows))
    if args.plot:  # the plot of the table's law, epochs and target
        if args.unique_tokens is not None:
            dc = planning.DataConstrainedLaw(**law, R_D=float(planning.MUENNIGHOFF_2023.R_D),
                                             R_N=float(planning.MUENNIGHOFF_2023.R_N))
            planning.plot_data_wall(args.unique_tokens, dc, epochs=epochs, path=args.plot)
        elif inference_tokens > 0:
            target = (args.loss if args.loss is not None
                      else float(planning.as_law(law).optimal_loss(args.compute)))
            span = (min(1e9, inference_tokens / 10), max(1e16, inference_tokens * 10))
            planning.plot_inference_aware(target, inference_tokens=span, law=law, path=args.plot)
        else:
            planning.plot_frontier(law, path=args.plot)
        if not args.json:  # stdout holds one JSON document
            print(f"plot written to {args.plot}")
    return EXIT_OK


def _json_safe(obj: object) -> object:
    """``obj`` with every non-finite float (NaN, inf) as None: strict JSON has no NaN."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _print_json(obj: object) -> None:
    """Every command's --json: indented, strict JSON (NaN and infinities as null)."""
    print(json.dumps(_json_safe(obj), indent=2, allow_nan=False))


def _floats(text: str, option: str) -> list[float]:
    """The numbers of a comma-separated option; a ValueError naming the option otherwise."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{option}: expected comma-separated numbers, got {text!r}") from None


def _split(text: str, what: str) -> Optional[list[str]]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError(f"{what}: give at least one (or 'all')")
    return None if items == ["all"] else items


def _cmd_cuda_compile(args: argparse.Namespace) -> int:
    from . import _cuda, _cuda_build, models

    by_index = {models.get(m).index: m for m in models.names()}
    try:
        threads = [int(g) for g in _split(args.item_threads, "--item-threads") or _cuda.ITEM_THREADS[1:]]
    except ValueError:
        raise UsageError(f"--item-threads: a comma-separated list of {', '.join(_cuda.ITEM_THREADS[1:])}, "
                         f"got {args.item_threads!r}") from None
    precisions = _split(args.precision, "--precision") or ["float64", "float32"]
    done: list[_cuda_build.Built] = []

    def progress(b: _cuda_build.Built) -> None:
        done.append(b)
        if args.verbose:
            s = b.spec
            what = ("sf_multiplicities" if s.model is None or s.loss is None else
                    f"{by_index.get(s.model, s.model)} / {models.LOSSES[s.loss]}")
            how = f"compiled in {b.seconds:.1f} s" if b.compiled else "in the cache"
            print(f"[{len(done)}] {what}, {'float32' if s.float32 else 'float64'}, "
                  f"{s.item_threads} thread(s) per item: {how}", file=sys.stderr)

    t0 = time.perf_counter()
    try:
        built = _cuda.compile_kernels(_split(args.models, "--models"), _split(args.losses, "--losses"),
                                      precisions, threads, arch=args.arch, workers=args.workers,
                                      progress=progress)
    except ValueError as exc:  # an option's value (a model, loss, precision, arch): usage
        raise UsageError(str(exc)) from None
    wall = time.perf_counter() - t0
    compiled = [b for b in built if b.compiled]
    summary = {"modules": len(built), "compiled": len(compiled), "cached": len(built) - len(compiled),
               "wall_s": round(wall, 2), "compile_s": round(sum(b.seconds for b in compiled), 2),
               "cache": str(built[0].path.parent) if built else None}
    if args.json:
        _print_json(summary)
    else:
        print(f"{summary['modules']} kernel modules: {summary['compiled']} compiled "
              f"({summary['compile_s']:.1f} s of NVRTC), {summary['cached']} already in the cache; "
              f"{wall:.1f} s; cache: {summary['cache']}")
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from . import _bench

    _threads(args)
    _at_least(args.bulk_sweeps, "--bulk-sweeps", 1)
    if args.cuda:
        given = [o for o, v in (("--plot", args.plot), ("--bulk-sweeps", args.bulk_sweeps)) if v is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: no effect with --cuda (the GPU cases have neither a "
                             "scaling plot nor a bulk case)")
    if args.plot is not None and args.bulk_sweeps is not None:
        raise UsageError("--bulk-sweeps sizes the table's bulk case and has no effect with --plot "
                         "(fits/s against batch size instead of the table)")
    if args.plot:
        _output_path(args.plot, "--plot", figure=True)
    if args.cuda:
        from . import _bench_cuda

        gpu_rows = _bench_cuda.cuda_suite(threads=args.threads, quick=args.quick)
        if args.json:
            _print_json(_bench_cuda.as_dicts(gpu_rows))
        else:
            print(_bench_cuda.format_table(gpu_rows))
        return EXIT_OK
    args.threads = args.threads or 2
    if args.plot:
        sizes, curves = _bench.plot_scaling(args.plot, threads=args.threads, quick=args.quick)
        if args.json:
            _print_json({"batch_size": sizes, "fits_per_s": {str(t): r for t, r in curves.items()}})
        else:
            print(_bench.format_scaling(sizes, curves))
            print(f"plot written to {args.plot}")
        return EXIT_OK
    rows = _bench.core_suite(threads=args.threads, quick=args.quick, bulk_sweeps=args.bulk_sweeps)
    if args.json:
        _print_json(_bench.as_dicts(rows))
    else:
        print(_bench.format_table(rows))
    return EXIT_OK


def _fit_arguments(p: argparse.ArgumentParser) -> None:
    """The CSV file, law and objective options that ``fit`` and ``plot`` share."""
    from . import models

    p.add_argument("file", help="CSV file with a header row")
    p.add_argument("--model", required=True, choices=models.names(), help="law to fit")
    p.add_argument("--x", required=True, help="input column(s), comma-separated (e.g. N,D)")
    p.add_argument("--y", required=True, help="target column (e.g. loss)")
    p.add_argument("--p0", default=None, metavar="VALUE,...",
                   help="start, one value per parameter of --model in its order, comma-separated "
                        "(default: data-driven guesses)")
    p.add_argument("--fix", default=None, metavar="NAME=VALUE,...",
                   help="hold parameters of --model at values, not fitted (e.g. E=1.69; default: none)")
    p.add_argument("--loss", default="linear", choices=list(models.LOSSES), help="robust loss (default linear)")
    p.add_argument("--f-scale", type=float, default=None,
                   help="scale of a robust --loss (default 1; not with --loss linear)")
    p.add_argument("--log-residuals", action="store_true", help="fit log(model) - log(y)")
    _threads_argument(p)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__, models

    p = argparse.ArgumentParser(
        prog="scalingfit",
        description="Fast, batched fits of neural scaling laws with honest uncertainty.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"scalingfit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="the main job on embedded synthetic data: bulk refit, recovery, verdict, plots",
                       description="Builds a DuckDB run database of synthetic sweeps drawn from known "
                                   "Chinchilla laws with noise, runs the resumable bulk refit with "
                                   "bootstrap intervals, prints throughput, recovery error and interval "
                                   "coverage against the truth, fits Epoch AI's Chinchilla data when "
                                   "found, prints the training verdict table, and writes plots.")
    d.add_argument("--sweeps", type=int, default=10_000, help="number of synthetic sweeps (default 10000)")
    d.add_argument("--bootstrap", type=int, metavar="N", default=200,
                   help="bootstrap resamples per sweep (default 200; 0: no intervals)")
    d.add_argument("--out", default="scalingfit-demo",
                   help="output folder, created if need be (default ./scalingfit-demo)")
    d.add_argument("--epoch", default=None,
                   help="path to Epoch's chinchilla_fig4.csv (default: epoch_chinchilla_fig4/ in "
                        "$SCALINGFIT_DATA or shared/data beside the current folder or its parent)")
    d.add_argument("--no-plots", action="store_true", help="skip the plots")
    d.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _threads_argument(d)
    d.set_defaults(func=_cmd_demo)

    f = sub.add_parser("fit", help="fit one law to the rows of a CSV file",
                       description="Fit one law to a CSV file with a header row.",
                       epilog="example: scalingfit fit runs.csv --model chinchilla --x N,D --y loss",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _fit_arguments(f)
    f.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap resamples for percentile intervals of the parameters (default 0: "
                        "Wald intervals, t on n - p)")
    f.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0; not with --bootstrap 0)")
    f.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    f.add_argument("--json", action="store_true", help="print JSON instead of a table")
    f.set_defaults(func=_cmd_fit)

    cp = sub.add_parser("compare", help="which law: AIC/AICc/BIC, leave-one-out refits, held-out extrapolation",
                        description="Fits several laws to the same rows of a CSV file with the same "
                                    "objective and scores each: information criteria (Gaussian "
                                    "likelihood, linear loss), the leave-one-out prediction error (every "
                                    "point refitted out, one batch call per law) and, with --holdout K, "
                                    "the error of extrapolating to the K rows of largest input (N*D for "
                                    "two inputs) from a fit without them, with prediction intervals.",
                        epilog="examples:\n  scalingfit compare runs.csv --models power_law,saturating_power_law "
                               "--x N --y loss --log-residuals --holdout 3\n"
                               "  scalingfit compare runs.csv --models chinchilla,kaplan_nd --x N,D --y loss "
                               "--log-residuals --holdout 20 --json",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    cp.add_argument("file", help="CSV file with a header row")
    cp.add_argument("--models", required=True, help="laws to compare, comma-separated (see `fit --model`)")
    cp.add_argument("--x", required=True, help="input column(s), comma-separated (e.g. N,D)")
    cp.add_argument("--y", required=True, help="target column (e.g. loss)")
    cp.add_argument("--loss", default="linear", choices=list(models.LOSSES),
                    help="objective (default linear; a robust loss has no information criteria)")
    cp.add_argument("--f-scale", type=float, default=None,
                    help="scale of a robust --loss (default 1; not with --loss linear)")
    cp.add_argument("--log-residuals", action="store_true", help="fit and score log(model) - log(y)")
    cp.add_argument("--holdout", type=int, default=0, metavar="K",
                    help="hold out the K rows of largest input and predict them (default 0)")
    cp.add_argument("--level", type=float, default=None,
                    help="level of the held-out points' prediction intervals (with --holdout and --loss "
                         "linear; default 0.95)")
    cp.add_argument("--no-loo", action="store_true", help="skip the leave-one-out refits")
    cp.add_argument("--group-by", default=None, metavar="COLUMN[,COLUMN]",
                    help="score the laws on every group (sweep) of the file, one batch per law: "
                         "wins and median scores (--json: every group)")
    cp.add_argument("--groups", default=None, metavar="COLUMN",
                    help="leave one group out (e.g. a sweep or budget column) instead of one row")
    cp.add_argument("--plot", default=None, metavar="PATH",
                    help="also write a figure (.png/.svg/.pdf): the laws, held-out predictions with "
                         "their intervals, leave-one-out errors (needs matplotlib)")
    _threads_argument(cp)
    cp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    cp.set_defaults(func=_cmd_compare)

    pl = sub.add_parser("plot", help="fit one law to a CSV file and plot it: data, curve, bootstrap band, residuals",
                        description="Fits a law to a CSV file as `fit` does, bootstraps it (percentile "
                                    "band) and writes a figure: the data with the fitted curve and its "
                                    "band, extrapolated to --extrapolate for a law of one input (for a law "
                                    "of N and D, observed against fitted values), and the residuals.",
                        epilog="examples:\n  scalingfit plot runs.csv --model saturating_power_law --x N --y loss "
                               "--extrapolate 1e11\n"
                               "  scalingfit plot runs.csv --model chinchilla --x N,D --y loss -o chinchilla.svg",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    _fit_arguments(pl)
    pl.add_argument("--bootstrap", type=int, metavar="N", default=200,
                    help="bootstrap resamples for the band (default 200; 0: no band)")
    pl.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0; not with --bootstrap 0)")
    pl.add_argument("--level", type=float, default=None, help="band level (default 0.95; not with --bootstrap 0)")
    pl.add_argument("--band", default=None, choices=["confidence", "prediction"],
                    help="band of the curve (confidence, default) or of a new observation (prediction); "
                         "not with --bootstrap 0")
    pl.add_argument("--extrapolate", type=float, default=None, metavar="X",
                    help="draw a law of one input on to X, beyond the data")
    pl.add_argument("-o", "--output", default=None,
                    help="figure file, .png / .svg / .pdf (default: FILE with suffix .fit.png)")
    pl.set_defaults(func=_cmd_plot)

    from .refit import LAWS

    r = sub.add_parser("refit", help="refit a law on every group of a run database (resumable)",
                       description="Streams the groups of a run database (DuckDB, CSV or Parquet, "
                                   "long format: N, D, step, metric, value, group columns) in "
                                   "chunks, fits each chunk as one batch, and writes the fits table "
                                   "in one transaction per chunk. Re-running skips groups whose data "
                                   "and configuration already have a result.",
                       epilog="examples:\n  scalingfit refit runs.duckdb --law chinchilla --group-by sweep\n"
                              "  scalingfit refit runs.parquet --db fits.duckdb --group-by dataset,arch --quiet\n"
                              "  scalingfit refit runs.duckdb --scheduler tcp://head:8786 --shard-dir /shared/tmp",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("source", help="run data: .duckdb (table --table), .csv or .parquet")
    r.add_argument("--law", default="chinchilla", metavar="LAW",
                   help=f"law to fit: {', '.join(LAWS)}, or a custom law that --laws-from registers "
                        "(default chinchilla)")
    r.add_argument("--laws-from", default=None, metavar="FILE.py|MODULE",
                   help="a Python file or importable module that registers custom laws with "
                        "scalingfit.refit.register_law, imported before the refit")
    r.add_argument("--group-by", default="sweep", help="comma-separated group columns (default sweep)")
    r.add_argument("--db", default=None, help="DuckDB file for results (default: the source itself when it is a "
                   ".duckdb, else <source>.fits.duckdb beside it)")
    r.add_argument("--table", default=None,
                   help="runs table in a DuckDB source (default runs; not with a CSV or Parquet source)")
    r.add_argument("--columns", default=None, metavar="SOURCE=NAME,...",
                   help="read source columns under the long format's names, e.g. "
                        "params=N,tokens=D,loss=value")
    r.add_argument("--metric", default="loss", help="keep rows with this metric (default loss; '' for all)")
    r.add_argument("--bootstrap", type=int, metavar="N", default=0,
                   help="bootstrap resamples per group (default 0: Gauss-Newton intervals)")
    r.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0; not with --bootstrap 0)")
    r.add_argument("--level", type=float, default=0.95,
                   help="interval level, bootstrap or Gauss-Newton (default 0.95)")
    r.add_argument("--chunk", type=int, default=2000, help="groups per chunk/transaction (default 2000)")
    _threads_argument(r, "; with --scheduler: 1 per task; not with --backend cuda")
    r.add_argument("--overwrite", action="store_true",
                   help="replace this law's results made with another configuration (default: refuse)")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="fit the chunks on a Dask cluster: tcp://host:8786, or local:N for N local "
                        "worker processes (pip install 'scalingfit[dask]'); same results")
    r.add_argument("--shard-dir", default=None, metavar="DIR",
                   help="with --scheduler: a folder every worker can read, for the chunks' Parquet "
                        "shards (default: .NAME.shards beside the results database NAME)")
    r.add_argument("--backend", default="cpu", choices=["cpu", "cuda", "auto"],
                   help="where to solve: cpu (default), cuda (an NVIDIA GPU through CuPy: pip install "
                        "'scalingfit[cuda]'), auto (the GPU if there is one)")
    r.add_argument("--fix", default=None, metavar="NAME=VALUE,...",
                   help="hold parameters of the law at values in every group (e.g. E=1.69)")
    r.add_argument("--precision", default="float64", choices=["float64", "float32"],
                   help="float64 (default), or float32: float data and per-point arithmetic, "
                        "for GPUs (parameters to ~1e-5 relative; part of the config hash)")
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    r.set_defaults(func=_cmd_refit)

    rc = sub.add_parser("compare-runs", help="which law fits each group of a run database (resumable)",
                        description="Fits several laws to every group (sweep) of a run database (DuckDB, "
                                    "CSV or Parquet, long format as for refit: final step of each run, or every "
                                    "row with --rows all) with "
                                    "one objective, scores them as `compare --group-by` does (AICc, BIC, "
                                    "Akaike weights; --loo: leave-one-out error) and writes one row per "
                                    "group and law into the law_comparisons table, one transaction per "
                                    "chunk. Re-running skips groups already scored. Exit code 1 when a "
                                    "group in the table has no winner (no law converged with a score).",
                        epilog="examples:\n  scalingfit compare-runs runs.duckdb --models chinchilla,chinchilla_tied,"
                               "kaplan_nd --log-residuals\n"
                               "  scalingfit compare-runs runs.parquet --models power_law,saturating_power_law "
                               "--x N --db scores.duckdb --loo\n"
                               "  scalingfit compare-runs runs.duckdb --laws-from my_laws.py --models chinchilla,my_law",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    rc.add_argument("source", help="run data: .duckdb (table --table), .csv or .parquet")
    rc.add_argument("--models", required=True, help="laws to compare, comma-separated (see `fit --model`), "
                    "built-in or custom laws that --laws-from registers")
    rc.add_argument("--laws-from", default=None, metavar="FILE.py|MODULE",
                    help="a Python file or importable module that registers custom laws with "
                         "scalingfit.refit.register_law, imported before the comparison")
    rc.add_argument("--x", default=None, help="input column(s), comma-separated (default: the laws' inputs, "
                    "e.g. N,D)")
    rc.add_argument("--group-by", default="sweep", help="comma-separated group columns (default sweep)")
    rc.add_argument("--db", default=None, help="DuckDB file for the scores (default: the source itself when "
                    "it is a .duckdb, else <source>.fits.duckdb beside it)")
    rc.add_argument("--table", default=None,
                    help="runs table in a DuckDB source (default runs; not with a CSV or Parquet source)")
    rc.add_argument("--columns", default=None, metavar="SOURCE=NAME,...",
                    help="read source columns under the long format's names, e.g. loss=value")
    rc.add_argument("--metric", default="loss", help="keep rows with this metric (default loss; '' for all)")
    rc.add_argument("--loss", default="linear", choices=list(models.LOSSES),
                    help="objective (default linear; a robust loss needs --loo)")
    rc.add_argument("--f-scale", type=float, default=None,
                    help="scale of a robust --loss (default 1; not with --loss linear)")
    rc.add_argument("--log-residuals", action="store_true", help="fit and score log(model) - log(value)")
    rc.add_argument("--loo", action="store_true", help="also refit every point left out (leave-one-out RMSE)")
    rc.add_argument("--starts", default="all", choices=["all", "one"],
                    help="all: every data-driven start per group (default), or one: one batched guess "
                         "(faster)")
    rc.add_argument("--rows", default="final", choices=["final", "all"],
                    help="final: fit the last step of each run (default), or all: every row (learning "
                         "curves: e.g. --group-by run_id --x step)")
    rc.add_argument("--chunk", type=int, default=500, help="groups per chunk/transaction (default 500)")
    _threads_argument(rc, "; with --scheduler: 1 per task; not with --backend cuda")
    rc.add_argument("--backend", default="cpu", choices=["cpu", "cuda", "auto"],
                    help="where to solve: cpu (default), cuda (an NVIDIA GPU through CuPy), auto (the GPU "
                         "if there is one)")
    rc.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="score the chunks on a Dask cluster: tcp://host:8786, or local:N (as refit's)")
    rc.add_argument("--shard-dir", default=None, metavar="DIR",
                    help="with --scheduler: a folder every worker can read, for the chunks' shards "
                         "(default: .NAME.shards beside the results database NAME)")
    rc.add_argument("--overwrite", action="store_true",
                    help="replace this comparison's scores made with another configuration (default: refuse)")
    rc.add_argument("--plot", default=None, metavar="PATH",
                    help="also write a figure (.png/.svg/.pdf): the share of groups each law won, and "
                         "how far behind the best each law is across the groups (needs matplotlib)")
    rc.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    rc.add_argument("--json", action="store_true", help="print the summary as JSON")
    rc.set_defaults(func=_cmd_compare_runs)

    o = sub.add_parser("optimal", help="how big a model, on how many tokens: Chinchilla, inference-aware, data wall",
                       description="Compute-optimal allocation for a budget (N_opt, D_opt, tokens per "
                                   "parameter) under a published law or a law fitted to your runs (with "
                                   "bootstrap intervals), the inference-aware optimum for a target loss "
                                   "and inference demand, and the data wall for a stock of unique tokens.",
                       epilog="examples:\n  scalingfit optimal --compute 1e24\n"
                              "  scalingfit optimal --compute 5.9e23 --fit runs.csv --x N,D --y loss --huber\n"
                              "  scalingfit optimal --loss 2.0 --inference-tokens 2e12 --law sardana2023\n"
                              "  scalingfit optimal --compute 1e26 --unique-tokens 100e12 --epochs 1,4,16\n"
                              "  scalingfit optimal --trained 175e9,300e9 --fit runs.csv --huber   GPT-3, by your law",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    o.add_argument("--compute", type=float, default=None, help="training budget in FLOP")
    o.add_argument("--loss", type=float, default=None, help="target loss (nats/token)")
    o.add_argument("--inference-tokens", type=float, default=None,
                   help="lifetime inference tokens (with --loss or --compute)")
    o.add_argument("--unique-tokens", type=float, default=None, help="stock of unique training tokens")
    o.add_argument("--epochs", default=None,
                   help="with --unique-tokens: epochs for the data wall (default 1,4,16)")
    o.add_argument("--trained", default=None, metavar="N,D",
                   help="a trained model's parameters and tokens (e.g. 175e9,300e9): its compute, the "
                        "compute-optimal N for it, N/N_opt and the verdict (under-trained above 2)")
    o.add_argument("--law", default=None,
                   help="epoch2024 (default), hoffmann2022, sardana2023, muennighoff2023, or E=..,A=..,B=..,alpha=..,beta=..")
    o.add_argument("--fit", default=None, help="CSV of runs to fit the law to instead (with --x, --y)")
    o.add_argument("--x", default=None, help="with --fit: N and D columns (default N,D)")
    o.add_argument("--y", default=None, help="with --fit: loss column (default loss)")
    o.add_argument("--huber", action="store_true", help="with --fit: Epoch/Hoffmann objective (Huber 1e-3 on log loss)")
    o.add_argument("--drop-highest", type=int, default=None,
                   help="with --fit: drop the k highest losses, and any run tied with the k-th "
                        "(Epoch's rule, as fit_parametric(drop_highest=k); Epoch: 5; default 0)")
    o.add_argument("--bootstrap", type=int, metavar="N", default=None,
                   help="with --fit and --compute or --trained: resamples (default 1000; 0: the fit alone, no intervals)")
    o.add_argument("--seed", type=int, default=None,
                   help="with --fit and --compute or --trained: bootstrap seed (default 0; not with --bootstrap 0)")
    o.add_argument("--level", type=float, default=None,
                   help="with --fit and --compute or --trained: interval level (default 0.95; not with --bootstrap 0)")
    o.add_argument("--threads", type=int, default=None,
                   help="with --fit: fitting threads (default: all; the results are the same for any count)")
    o.add_argument("--json", action="store_true",
                   help="print JSON rows: section, quantity, value (a number where it is one), and for a "
                        "fitted quantity's bootstrap interval lower, upper, level")
    o.add_argument("--plot", default=None,
                   help="write a plot (PNG/SVG) of the table's law: the data wall with --unique-tokens, "
                        "else the inference-aware optimum with --inference-tokens, else the frontier")
    o.set_defaults(func=_cmd_optimal)

    rp = sub.add_parser("reproduce", help="published numbers refitted on this machine, ours beside theirs",
                        description="Refits published scaling-law data with each paper's procedure and "
                                    "prints every published number beside ours, with the tolerance it is "
                                    "held to: Porian et al. 2024 (IsoFLOP exponents), Muennighoff et al. "
                                    "2023 (data-constrained constants), Gadre et al. 2024 (over-training "
                                    "predictions), shipped with scalingfit; Besiroglu et al. 2024 "
                                    "(Chinchilla approach 3), Bhagia et al. 2024 (two-step task "
                                    "prediction of the 13B model), Pythia (LAMBADA accuracy as a "
                                    "sigmoid of its NLL) and Wu & Lo 2024 (rank correlations with "
                                    "compute below the emergence threshold; these two against the "
                                    "reference values in their data sets' SOURCE.md, as the papers "
                                    "print none), whose data are not shipped: found in --data, "
                                    "$SCALINGFIT_DATA, ./shared/data or ../shared/data, else listed as skipped. "
                                    "Exit code 1 when a check fails.",
                        epilog="examples:\n  scalingfit reproduce\n  scalingfit reproduce --studies epoch "
                               "--data ../shared/data --bootstrap 4000\n  scalingfit reproduce --json",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("--studies", default="all",
                    help="comma-separated: porian, muennighoff, gadre (shipped data), epoch, "
                         "pythia, wu, bhagia (data folder) (default all)")
    rp.add_argument("--data", default=None,
                    help="folder with one sub-folder per data set, searched first (then "
                         "$SCALINGFIT_DATA, ./shared/data, ../shared/data, then the shipped "
                         "copies)")
    rp.add_argument("--bootstrap", type=int, metavar="N", default=None,
                    help="resamples for intervals, 0 for none (default 4000; bhagia uses at most "
                         "200; muennighoff, gadre and wu resample nothing)")
    rp.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0; not with --bootstrap 0)")
    rp.add_argument("--json", action="store_true", help="print JSON instead of tables")
    rp.set_defaults(func=_cmd_reproduce)

    b = sub.add_parser("bench", help="time the engine against scipy on this machine",
                       description="Times batched fits against scipy on the same problems and prints "
                                   "the ratio: P1 saturating power laws (10 points), P2 Chinchilla "
                                   "(200 points), P3 Epoch's 4,500-start Huber grid (vs L-BFGS-B), P4 "
                                   "1,000 bootstrap resamples, and a bulk bootstrap of many sweeps; "
                                   "each at 1 thread and at --threads.",
                       epilog="examples:\n  scalingfit bench --quick\n  scalingfit bench --json\n"
                              "  scalingfit bench --plot scaling.png   (fits/s against batch size)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--threads", type=int, default=None,
                   help="threads for the multi-thread rows (default 2; with --cuda: the CPU "
                        "baseline's threads, default all)")
    b.add_argument("--cuda", action="store_true",
                   help="the GPU cases instead: 1,000,000 saturating power-law fits and 10,000 "
                        "Chinchilla problems x 1,000 bootstrap resamples on the GPU, against the "
                        "CPU engine (needs CuPy and a CUDA GPU)")
    b.add_argument("--quick", action="store_true", help="smaller batches and scipy subsets")
    b.add_argument("--bulk-sweeps", type=int, default=None,
                   help="sweeps in the bulk case (default 2000; 200 with --quick)")
    b.add_argument("--plot", default=None, metavar="PATH",
                   help="instead of the table: write fits/s against batch size (1 and --threads "
                        "threads) to PATH (needs matplotlib)")
    b.add_argument("--json", action="store_true", help="print JSON")
    b.set_defaults(func=_cmd_bench)

    c = sub.add_parser("cuda-compile", help="compile the CUDA kernels into the kernel cache ahead of use",
                       description="Compiles the CUDA backend's kernels (NVRTC, all cores at once) into "
                                   "its kernel cache ($SCALINGFIT_CUDA_CACHE, else ~/.cache/scalingfit/cuda), "
                                   "so that backend='cuda' loads them instead of compiling each (model, "
                                   "loss) pair for 2-7 s at its first use in every process.",
                       epilog="examples:\n  scalingfit cuda-compile\n"
                              "  scalingfit cuda-compile --models chinchilla --losses linear,huber "
                              "--precision float64,float32\n"
                              "  scalingfit cuda-compile --arch sm_90    (on a machine without the GPU)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--models", default="all", help="comma-separated built-in models (default all)")
    c.add_argument("--losses", default="all", help="comma-separated losses (default all)")
    c.add_argument("--precision", default="float64", help="float64 (default), float32, or float64,float32")
    c.add_argument("--item-threads", default="1,32",
                   help="threads per item to compile for: 1,4,32 or 'all' (default 1,32: what "
                        "item_threads='auto' picks)")
    c.add_argument("--arch", default=None,
                   help="target architecture, e.g. sm_90 (then no GPU is needed, only NVRTC); "
                        "default: this machine's GPU")
    c.add_argument("--workers", type=int, default=None, help="compilations at once (default: all cores)")
    c.add_argument("--verbose", action="store_true", help="a line per module on stderr")
    c.add_argument("--json", action="store_true", help="print the summary as JSON")
    c.set_defaults(func=_cmd_cuda_compile)
    return p


#: The subcommands that fit one law with a --bootstrap option (their warnings name it).
_BOOTSTRAP_COMMANDS = ("fit", "plot")


#: Python argument names whose CLI option has another name (the others are the option's dest).
_ARGUMENT_OPTIONS = {"n_resamples": "bootstrap", "chunk_groups": "chunk"}


def _option_words(parser: argparse.ArgumentParser, command: str, text: str) -> tuple[str, bool]:
    """An error of the Python API in the words of ``command``'s options: a message that starts
    "n_resamples must be at most ..." as "--bootstrap must be ..." (words further in are left
    as they are: "the law must" is no option), "(scheduler=)" as "(--scheduler)"; and whether
    the message is about an option's value (it starts with one: a usage error, exit 2)."""
    sub = _subparser(parser, command)
    if sub is None:
        return text, False
    options = {a.dest: next(o for o in a.option_strings if o.startswith("--"))
               for a in sub._actions if any(o.startswith("--") for o in a.option_strings)}
    names = {**{k: options[v] for k, v in _ARGUMENT_OPTIONS.items() if v in options},
             **{d: o for d, o in options.items() if d not in ("help",)}}
    of_option = False
    for name, option in sorted(names.items(), key=lambda kv: -len(kv[0])):
        if not of_option and re.match(rf"{re.escape(name)} must\b", text):  # the message's subject only
            text = option + text[len(name):]
            of_option = True
        elif re.match(rf"{re.escape(name)} column\(s\) ", text):  # "group_by column(s) [...] not in the run data"
            text = option + text[len(name):]
        text = text.replace(f"({name}=)", f"({option})")
    return text, of_option


def _warning_line(command: str) -> Callable[..., None]:
    """Warnings as one line on stderr, ``scalingfit CMD: ConvergenceWarning: ...``, instead of
    Python's file:line form that shows the CLI's own source line."""
    def show(message: Union[Warning, str], category: type[Warning], filename: str, lineno: int,
             file: Optional[TextIO] = None, line: Optional[str] = None) -> None:
        text = re.sub(r"\(fixed=\{'(\w+)': \.\.\.\}\)", r"(--fix \1=VALUE)", str(message))  # the CLI's form
        if command in _BOOTSTRAP_COMMANDS:
            from ._fit import ROBUST_REMEDY

            text = text.replace(ROBUST_REMEDY, "take intervals from --bootstrap N, or an --f-scale near the "
                                                    "noise level")
        print(f"scalingfit {command}: {category.__name__}: {text}", file=sys.stderr)
    return show


def _quiet_stdout() -> None:
    """stdout onto /dev/null, so that the interpreter's last flush of a closed pipe does not
    print "Exception ignored ... BrokenPipeError" at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (captured, closed)
        pass


def _subparser(parser: argparse.ArgumentParser, command: Optional[str]) -> Optional[argparse.ArgumentParser]:
    """The parser of ``command`` (None when there is none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]  # type: ignore[no-any-return]
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the command's parser, with its usage (the top one showed its own)
            sub = _subparser(parser, getattr(args, "command", None))
            (sub or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line(args.command)
            rc = int(args.func(args))
            sys.stdout.flush()  # here, so that a closed pipe is caught below, not at exit
            return rc
    except UsageError as exc:
        print(f"scalingfit {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError) as exc:
        text, of_option = _option_words(parser, args.command, str(exc))
        print(f"scalingfit {args.command}: error: {text}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, TypeError) or of_option else EXIT_FAIL
    except BrokenPipeError:  # the reader went away (| head): no error line, as other tools
        _quiet_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports it
    except (OSError, ImportError, RuntimeError) as exc:
        print(f"scalingfit {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except MemoryError as exc:  # e.g. --bootstrap 4000000000: numpy cannot hold the samples
        print(f"scalingfit {args.command}: error: out of memory ({exc or 'MemoryError'}): ask for "
              "fewer resamples or smaller chunks", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        saved = (": the chunks written are kept, and a rerun resumes from them"
                 if args.command in ("refit", "compare-runs") else "")
        print(f"scalingfit {args.command}: interrupted{saved}", file=sys.stderr)
        return 130
    except Exception as exc:  # DuckDB's own errors (a locked or invalidated database): one line
        from .data import is_duckdb_error

        if not is_duckdb_error(exc):
            raise
        print(f"scalingfit {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
