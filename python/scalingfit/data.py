"""Run data: reading, column mapping and validation (long format, one row per observation).

Canonical columns (any others, e.g. group keys such as ``sweep``, pass through):

=========  ==========================================================
``run_id``  one training run (model size + data budget + config)
``N``       parameters (> 0)
``D``       training tokens seen at this observation (> 0)
``C``       training compute in FLOP (optional; ``6 N D`` when missing)
``U``       unique tokens the run's ``D`` were drawn from (optional, > 0; repeated data)
``step``    checkpoint step (optional; the last step is the final loss)
``metric``  metric name (optional; e.g. ``loss``)
``value``   the observed value
=========  ==========================================================

Sources: a pandas DataFrame, a CSV file (a W&B runs export is a CSV), a Parquet file, or a
DuckDB table. pandas/pyarrow/duckdb are optional (``pip install 'scalingfit[db]'``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from . import _validate

__all__ = [
    "CANONICAL",
    "BadRow",
    "RunDataError",
    "ValidationReport",
    "read_runs",
    "validate_runs",
]

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

CANONICAL = ("run_id", "N", "D", "C", "U", "step", "metric", "value")
POSITIVE = ("N", "D", "C", "U")
NUMBERS = ("N", "D", "C", "U", "step", "value")  # the canonical columns of numbers

Source = Union[str, Path, "pd.DataFrame"]


def _need(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f"this feature needs {module}: pip install 'scalingfit[db]'"
        ) from None


@dataclass(frozen=True)
class BadRow:
    """One rejected input row: its 0-based data row number, the column, and why."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.column} {self.reason}"


@dataclass
class ValidationReport:
    """What validation found. ``rows`` lists every bad row (a row may appear once per problem)."""

    n_rows: int
    rows: list[BadRow] = field(default_factory=list)

    @property
    def n_bad(self) -> int:
        """Rows dropped or refused."""
        return len({b.row for b in self.rows})

    def summary(self, limit: int = 10) -> str:
        """The report in a few lines of text."""
        if not self.rows:
            return f"{self.n_rows} rows, all valid"
        head = "; ".join(str(b) for b in self.rows[:limit])
        more = f" (and {len(self.rows) - limit} more)" if len(self.rows) > limit else ""
        return f"{self.n_bad} of {self.n_rows} rows are invalid: {head}{more}"


class RunDataError(ValueError):
    """Run data that cannot be used: missing columns, unreadable file, invalid rows."""


def ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception it was raised while handling, is DuckDB's answer to a
    Ctrl-C. A SIGINT that lands inside a DuckDB query does not come back as KeyboardInterrupt:
    DuckDB 2 raises ``RuntimeError('Query interrupted')``, and ``Connection.interrupt`` an
    ``InterruptException``. Callers raise KeyboardInterrupt instead, so that an interrupted
    refit reads as one (not as "cannot read run data") wherever the signal lands."""
    seen: Optional[BaseException] = exc
    while seen is not None:
        if type(seen).__name__ == "InterruptException" or (
                isinstance(seen, RuntimeError) and str(seen) == "Query interrupted"):
            return True
        seen = seen.__context__
    return False


def sql_literal(value: str) -> str:
    """``value`` as a SQL string literal (single quotes doubled): a path in ``read_csv_auto``."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (double quotes doubled): a table or column name."""
    return '"' + str(name).replace('"', '""') + '"'


_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file (after an 8-byte checksum)


def is_duckdb_file(path: Union[str, Path]) -> bool:
    """Whether ``path`` is a file that starts like a DuckDB database (its magic bytes)."""
    try:
        with open(path, "rb") as f:
            return f.read(12)[8:12] == _DUCKDB_MAGIC
    except OSError:
        return False


def duckdb_tables(con: Any, catalog: Optional[str] = None) -> list[str]:
    """The table and view names of a DuckDB connection's database (or of the attached
    ``catalog``), sorted: with a source attached beside the results database, only the
    results database's own tables (a run database may hold fits of an earlier refit)."""
    where = "table_catalog = current_database()" if catalog is None else "table_catalog = ?"
    return sorted(r[0] for r in con.execute(
        f"SELECT table_name FROM information_schema.tables WHERE {where} AND table_schema = 'main'",
        [] if catalog is None else [catalog]).fetchall())


def _database_name(con: Any) -> str:
    """The file of a DuckDB connection's database, for a message ("the database" if even that
    cannot be read, e.g. after a fatal error)."""
    try:
        row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
        return str(row[0]) if row and row[0] else "the database"
    except Exception:
        return "the database"


def is_duckdb_error(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB's own (``duckdb.Error`` and its kinds), without importing duckdb."""
    return type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb")


def _quietly(call: Any, *args: Any) -> None:
    """``call(*args)`` (a rollback, an unregister), its DuckDB error dropped: after a failed
    commit DuckDB has rolled back itself (so "no transaction is active"), or the database is
    invalidated; the error that matters is the one already being raised."""
    try:
        call(*args)
    except Exception as exc:
        if not is_duckdb_error(exc):
            raise


@contextmanager
def transaction(con: Any, *registered: str) -> Iterator[None]:
    """One DuckDB transaction: committed when the block ends, rolled back on any error, then
    the ``registered`` views unregistered. A DuckDB error inside the block or at the commit (a
    full disk, a read-only folder that cannot hold the write-ahead log) becomes a
    RunDataError naming the database, which says that what earlier transactions wrote is
    kept; a rollback or unregister that fails after it (DuckDB rolled back already, or the
    database was invalidated) does not hide it, as it did ("cannot rollback - no
    transaction is active" in place of the cause)."""
    try:
        try:
            con.begin()
            yield
            con.commit()
        except BaseException as exc:
            _quietly(con.rollback)
            if is_duckdb_error(exc):
                raise RunDataError(f"cannot write to {_database_name(con)}: {exc}. Nothing of this "
                                   "transaction was written; what earlier ones wrote is kept (a rerun "
                                   "resumes from there)") from exc
            raise
    finally:
        for name in registered:
            _quietly(con.unregister, name)


def no_table(path: Union[str, Path], table: str, tables: Sequence[str]) -> RunDataError:
    """The error for a DuckDB file without ``table``, listing the tables it has."""
    have = ", ".join(repr(t) for t in tables) if tables else "none"
    return RunDataError(f"{path} has no table {table!r} (its tables: {have}); name the runs table "
                        "with table= (CLI: --table)")


def source_kind(path: Path) -> str:
    """"csv", "parquet" or "duckdb" for a run data file (by its suffix, or a DuckDB file by its
    magic bytes whatever its suffix); a RunDataError naming ``path`` if it is missing, a
    directory, empty, or of another type."""
    if not path.exists():
        raise RunDataError(f"no such file: {path}")
    if path.is_dir():
        raise RunDataError(f"{path} is a directory; give a run data file (.duckdb, .csv or .parquet)")
    if path.stat().st_size == 0:
        raise RunDataError(f"{path} is empty (0 bytes): no run data in it")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if is_duckdb_file(path):
        return "duckdb"
    if suffix in (".duckdb", ".db"):
        with open(path, "rb") as f:
            head = f.read(16)
        if head.startswith(b"SQLite format 3"):  # DuckDB would fetch its sqlite extension online
            raise RunDataError(f"{path} is a SQLite database, not a DuckDB one: export its runs table "
                               "to CSV or Parquet (or into a DuckDB file) and give that")
        return "duckdb"
    what = f"unknown file type {suffix!r}" if suffix else "no file type suffix"
    raise RunDataError(f"{path}: {what} (use .csv, .parquet or .duckdb)")


def map_columns(df: pd.DataFrame, columns: Optional[Mapping[str, str]] = None,
                required: Sequence[str] = ("N", "value")) -> pd.DataFrame:
    """Rename source columns to canonical names (``columns`` maps source -> canonical) and
    check the required ones are present, listing every missing one. A key of ``columns`` that
    is not a column of ``df`` is an error (a typo would otherwise be ignored)."""
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(f"columns must map source names to canonical ones, e.g. {{'params': 'N'}}; "
                        f"got {type(columns).__name__} {columns!r}")
    have = list(df.columns)
    twice = duplicates(have)
    if twice:
        raise RunDataError(f"the run data has more than one column named {', '.join(map(repr, twice))}; "
                           "which one is meant is not clear: rename or drop the others")
    unknown = [k for k in (columns or {}) if k not in have]
    if unknown:
        assert columns is not None
        flipped = {v: k for k, v in columns.items() if k in unknown and k in CANONICAL and v in have}
        hint = (f"; columns maps source names to canonical ones: did you mean {flipped}?"
                if flipped else "")
        raise RunDataError(f"columns names {', '.join(map(repr, unknown))}, not a column of the run "
                           f"data; it has {have}{hint}")
    out = df.rename(columns=dict(columns or {}))
    twice = duplicates(list(out.columns))
    if twice:  # two source columns mapped to one name, or one mapped onto a column there is
        assert columns is not None
        sources = {t: [c for c in have if columns.get(c, c) == t] for t in twice}
        raise RunDataError("columns maps more than one column of the run data to "
                           + "; ".join(f"{t!r} ({', '.join(map(repr, cs))})" for t, cs in sources.items())
                           + ": map one column to each name")
    missing = [c for c in required if c not in out.columns]
    if missing:
        raise RunDataError(
            f"run data is missing required column(s) {missing}; it has {list(df.columns)}"
            + (f" (after mapping {dict(columns)})" if columns else "")
            + ". Map yours with columns={'your_name': 'N', ...}"
        )
    return out


def duplicates(names: Iterable[Any]) -> list[Any]:
    """The names that occur more than once in ``names``, in order of first occurrence."""
    seen: dict[Any, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return [n for n, k in seen.items() if k > 1]


def check_parquet_columns(path: Path) -> None:
    """A RunDataError naming ``path`` when its Parquet schema repeats a column name, as for a
    CSV header: DuckDB renames the second ``value`` to ``value_1`` (a refit used the first)
    and pandas fails with pyarrow's "Multiple matches for FieldRef". A schema that cannot be
    read is left for the caller's read to report."""
    _need("pyarrow")
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # not Parquet, unreadable: the read names it
        if ctrl_c(exc):
            raise KeyboardInterrupt from exc
        return
    twice = duplicates(names)
    if twice:
        raise RunDataError(f"{path}: its schema has more than one column named {', '.join(map(repr, twice))}; "
                           "which one is meant is not clear: rename or drop the others")


def read_runs(source: Source, *, columns: Optional[Mapping[str, str]] = None,
              table: str = "runs", required: Sequence[str] = ("N", "value")) -> pd.DataFrame:
    """Read run data from a DataFrame, CSV (incl. a W&B runs export), Parquet or DuckDB file.

    Parameters
    ----------
    source : DataFrame or path
        ``*.csv``, ``*.parquet``/``*.pq``, or ``*.duckdb``/``*.db`` (reads ``table``).
    columns : mapping, optional
        Source column name -> canonical name, e.g. ``{"params": "N", "train/loss": "value"}``.
    required : sequence of str
        Canonical columns that must exist after mapping.

    Examples
    --------
    >>> import pandas as pd, scalingfit.data as sd
    >>> df = pd.DataFrame({"params": [1e8, 2e8], "loss": [3.1, 2.9]})
    >>> list(sd.read_runs(df, columns={"params": "N", "loss": "value"}).columns)
    ['N', 'value']
    """
    pd = _need("pandas")
    if not isinstance(table, str):
        raise TypeError(f"table must be a table name (str), got {type(table).__name__} {table!r}")
    if isinstance(source, pd.DataFrame):
        df = source.copy()
    else:
        path = source_path(source)
        kind = source_kind(path)
        try:
            if kind == "csv":
                df = pd.read_csv(path)
            elif kind == "parquet":
                check_parquet_columns(path)
                df = pd.read_parquet(path)
            else:
                duckdb = _need("duckdb")
                with duckdb.connect(str(path), read_only=True) as con:
                    tables = duckdb_tables(con)
                    if table not in tables:
                        raise no_table(path, table, tables)
                    df = con.execute(f"SELECT * FROM {sql_identifier(table)}").df()
        except RunDataError:
            raise
        except Exception as exc:  # corrupt or unreadable file: say which and why
            if ctrl_c(exc):
                raise KeyboardInterrupt from exc
            raise RunDataError(f"cannot read {path}: {type(exc).__name__}: {first_line(exc)}") from None
    return map_columns(df, columns, required)


def source_path(source: Any) -> Path:
    """``source`` (a str or path-like) as a Path; a TypeError naming ``source`` otherwise."""
    if not isinstance(source, (str, PathLike)):
        shown = repr(source)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."  # a dict or table of the whole data
        raise TypeError(f"source must be a file path or a pandas DataFrame, got {type(source).__name__} "
                        f"{shown}")
    return Path(source)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB's go on with a SQL caret picture)."""
    return (str(exc).strip().splitlines() or [""])[0]


def _number(v: Any) -> float:
    """A cell as a float: inf (with its sign) for a number beyond float64, NaN for text."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")
    except (TypeError, ValueError):
        return float("nan")


def validate_runs(df: pd.DataFrame, *, required: Sequence[str] = ("N", "value"),
                  positive: Iterable[str] = POSITIVE, positive_value: bool = True,
                  key: Sequence[str] = ("run_id", "step", "metric"),
                  policy: str = "error") -> tuple[pd.DataFrame, ValidationReport]:
    """Check every row: missing/non-finite numbers, non-positive sizes (and values, for
    losses), duplicate observations (same ``key``).

    Parameters
    ----------
    df : pandas.DataFrame
        Runs in the canonical columns (see :func:`read_runs`).
    required : sequence of str
        Columns that must be present.
    positive : iterable of str
        Columns whose values must be > 0 (sizes).
    positive_value : bool
        Whether ``value`` must be > 0 too (a loss; False for metrics that may be 0 or less).
    key : sequence of str
        Columns that identify one observation (present ones only): rows that repeat a key
        are duplicates.
    policy : {"error", "skip-and-report"}
        ``"error"`` raises :class:`RunDataError` naming the first bad rows; ``"skip-and-report"``
        drops them and returns the report.

    Returns
    -------
    (clean DataFrame, ValidationReport)
    """
    positive_value = _validate.flag("positive_value", positive_value)
    if policy not in ("error", "skip-and-report"):
        raise ValueError(f"policy must be 'error' or 'skip-and-report', got {policy!r}")
    pd = _need("pandas")
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame of runs, got {type(df).__name__}")
    map_columns(df, None, required)  # absent columns are the table's shape, refused under either policy
    report = ValidationReport(n_rows=len(df))
    bad = np.zeros(len(df), dtype=bool)
    pos = np.arange(len(df))
    checks = [c for c in NUMBERS if c in df.columns]
    not_numbers(df, checks)  # a column of dates is the table's shape too
    numeric: dict[str, Any] = {}  # each checked column as numbers, for the duplicate check
    for col in checks:
        try:
            conv = pd.to_numeric(df[col], errors="coerce")
        except OverflowError:  # a Python int beyond float64 (10**400): inf, reported below
            conv = pd.Series([_number(v) for v in df[col]], index=df.index, dtype=np.float64)
        numeric[col] = conv
        text = (conv.isna() & df[col].notna()).to_numpy()  # a cell that is not a number ('abc')
        for i in pos[text]:
            report.rows.append(BadRow(int(i), col, f"is not a number: {df[col].iloc[i]!r}"))
        vals = np.asarray(conv, dtype=np.float64)
        nonfinite = ~np.isfinite(vals) & ~text
        for i in pos[nonfinite]:
            report.rows.append(BadRow(int(i), col, "is missing or not finite"))
        bad |= nonfinite | text
        must_pos = col in positive or (col == "value" and positive_value)
        if must_pos:
            nonpos = np.isfinite(vals) & (vals <= 0)
            for i in pos[nonpos]:
                report.rows.append(BadRow(int(i), col, f"must be > 0, got {vals[i]:g}"))
            bad |= nonpos
    for col in required:
        if col in ("run_id", "metric") and col in df.columns:
            miss = df[col].isna().to_numpy()
            for i in pos[miss]:
                report.rows.append(BadRow(int(i), col, "is missing"))
            bad |= miss
    key_cols = [k for k in key if k in df.columns]
    if key_cols and "run_id" in key_cols:
        keys = pd.DataFrame({k: numeric[k] if k in numeric else df[k] for k in key_cols})  # step "10" is 10
        # a row without a run_id is no observation of a run (nor a duplicate of another such)
        dup = keys.duplicated(keep="first").to_numpy() & keys["run_id"].notna().to_numpy()
        for i in pos[dup]:
            report.rows.append(BadRow(int(i), ",".join(key_cols), "duplicates an earlier row"))
        bad |= dup
    report.rows.sort(key=lambda b: b.row)
    if bad.any() and policy == "error":
        raise RunDataError(report.summary())
    return df.loc[~bad].reset_index(drop=True), report


def not_numbers(df: pd.DataFrame, columns: Iterable[str]) -> None:
    """A RunDataError naming the first of ``columns`` that holds dates, times, durations or
    booleans: ``pd.to_numeric`` would make them numbers (a date the nanoseconds since 1970,
    True 1) and every fit of them would fail, or worse, without a word on why."""
    pd = _need("pandas")
    for col in columns:
        dtype = df[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype) \
                or isinstance(dtype, pd.PeriodDtype):
            raise RunDataError(f"column {col!r} holds dates or times ({dtype}), not numbers: convert it to "
                               "numbers")
        if pd.api.types.is_bool_dtype(dtype):  # True read as 1: a size of 1, a loss of 1
            raise RunDataError(f"column {col!r} holds booleans (True/False), not numbers: convert it to numbers")


def to_numeric_frame(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Coerce columns to float, naming the first unparseable row (and a column of dates)."""
    pd = _need("pandas")
    not_numbers(df, [c for c in columns if c in df.columns])
    out = df.copy()
    for col in columns:
        if col not in out.columns:
            continue
        conv = pd.to_numeric(out[col], errors="coerce")
        bad = conv.isna() & out[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise RunDataError(f"column {col!r} has a non-numeric value at row {i}: {out[col].iloc[i]!r}")
        out[col] = conv.astype(float)
    return out


def human(n: float) -> str:
    """1.2e9 -> '1.2B' (for tables): 3 significant digits, in the largest unit (K, M, B, T) the
    number rounds to at least 1 of, so 999.6e6 is '1B' (not '1e+03M'); a number that rounds to
    1000T or more is written in scientific notation ('1e+15')."""
    if not math.isfinite(n):
        return str(n)
    r = abs(float(f"{n:.3g}"))  # the magnitude as shown: 999.6e6 shows as 1e9
    if r >= 1e15:
        return f"{n:.3g}"
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if r >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.3g}"
