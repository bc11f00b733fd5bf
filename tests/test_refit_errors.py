"""Bulk refit: bad paths, names and arguments are refused up front, in one clear line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
duckdb = pytest.importorskip("duckdb")

from scalingfit import _synthdb, cli, data
from scalingfit import refit as rf


@pytest.fixture
def runs() -> pd.DataFrame:
    return _synthdb.chinchilla_sweeps(4, runs=12, checkpoints=1, seed=2)[0]


@pytest.fixture
def csv(tmp_path: Path, runs: pd.DataFrame) -> Path:
    path = tmp_path / "runs.csv"
    runs.to_csv(path, index=False)
    return path


def _nothing_created(*paths: Path) -> None:
    for p in paths:
        assert not p.exists() and not Path(f"{p}.lock").exists(), p


# ----------------------------------------------------------- 1. the output database
def test_an_output_db_that_is_not_a_duckdb_database_is_refused(tmp_path: Path, csv: Path, capsys) -> None:
    """DuckDB 2 opens a CSV given as the database as a read-only view: the refit reported its
    groups fitted and wrote nothing anywhere."""
    victim = tmp_path / "victim.csv"
    victim.write_text("a,b\n1,2\n")
    with pytest.raises(data.RunDataError, match=re.escape(
            f"cannot open database {victim}: it exists and is not a DuckDB database; refit writes its "
            "results (tables fits and fit_params) into a DuckDB database: give db= (CLI: --db) a new path "
            "or a DuckDB file")):
        rf.refit(csv, db=victim, progress=False)
    assert victim.read_text() == "a,b\n1,2\n" and not Path(f"{victim}.lock").exists()
    assert cli.main(["refit", str(csv), "--db", str(victim), "--group-by", "sweep", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "is not a DuckDB database" in err and err.count("\n") == 1
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    with pytest.raises(data.RunDataError, match=f"cannot open database {re.escape(str(empty))}: it is an empty file"):
        rf.refit(csv, db=empty, progress=False)
    with pytest.raises(data.RunDataError, match="it is a directory"):
        rf.refit(csv, db=tmp_path, progress=False)
    # A DuckDB database is accepted whatever its suffix (and read by its magic bytes as a source).
    other = tmp_path / "results.ddb"
    assert rf.refit(csv, db=other, progress=False).n_fitted == 4
    assert rf.refit(csv, db=other, progress=False).n_skipped == 4
    assert len(rf.read_fits(other)) == 4


# ----------------------------------------------------------- 2. quotes in SQL
def test_quotes_in_paths_tables_and_columns(tmp_path: Path, runs: pd.DataFrame) -> None:
    folder = tmp_path / "it's"
    folder.mkdir()
    csv = folder / "it's.csv"
    runs.to_csv(csv, index=False)
    assert rf.refit(csv, progress=False).n_fitted == 4  # a ParserException before
    assert len(rf.read_fits(folder / "it's.csv.fits.duckdb")) == 4
    assert len(data.read_runs(csv)) == len(runs)
    # A table and a group column whose names hold both kinds of quote, read in place and attached.
    odd = runs.rename(columns={"sweep": "sw\"e'ep"})
    src = folder / 'we"ird.duckdb'
    _synthdb.write_duckdb(str(src), odd, table='ta"b\'le')
    for db in (src, folder / "o'ut.duckdb"):
        s = rf.refit(src, table='ta"b\'le', group_by=["sw\"e'ep"], db=db, progress=False)
        assert (s.n_fitted, s.n_failed) == (4, 0)
        assert sorted(rf.read_fits(db)["sw\"e'ep"]) == [0, 1, 2, 3]
    assert len(data.read_runs(src, table='ta"b\'le', required=("N", "value"))) == len(runs)
    pytest.importorskip("pyarrow")
    pq = folder / "it's.parquet"
    runs.to_parquet(pq)
    assert rf.refit(pq, progress=False).n_fitted == 4


# ----------------------------------------------------------- 3. a metric no row has
def test_a_metric_no_row_has_is_an_error(tmp_path: Path, csv: Path) -> None:
    msg = re.escape(f"no row of {csv} has metric 'acc'; its metrics are 'loss' (choose one with metric=, "
                    "CLI --metric; metric=None, CLI --metric '', keeps every row)")
    with pytest.raises(data.RunDataError, match=msg):
        rf.refit(csv, metric="acc", progress=False)  # 0 groups fitted, no word, before
    _nothing_created(Path(f"{csv}.fits.duckdb"))
    assert rf.refit(csv, progress=False).n_fitted == 4
    with pytest.raises(data.RunDataError, match=msg):  # into a database that exists already
        rf.refit(csv, metric="acc", progress=False)
    header = tmp_path / "header.csv"
    header.write_text("sweep,run_id,N,D,step,metric,value\n")
    with pytest.raises(data.RunDataError, match="header.csv has no rows: nothing to refit"):
        rf.refit(header, progress=False)


# ----------------------------------------------------------- 4. arguments, before any I/O
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(bootstrap=1), ValueError, ("bootstrap must be 0 (Gauss-Newton intervals) or at least 2 resamples "
                                     "per group, got 1")),
    (dict(bootstrap="10"), ValueError, "bootstrap must be an integer >= 0, got '10'"),
    (dict(bootstrap=-3), ValueError, "bootstrap must be an integer >= 0, got -3"),
    (dict(bootstrap=10, ci_method="foo"), ValueError,
     "ci_method must be one of 'bca', 'percentile', 'basic', 'studentized', got 'foo'"),
    (dict(ci_method="nonsense"), ValueError,
     "ci_method must be one of 'bca', 'percentile', 'basic', 'studentized', got 'nonsense'"),
    (dict(bootstrap=10, seed=-1), ValueError, "seed must be an integer >= 0, got -1"),
    (dict(seed="x"), ValueError, "seed must be an integer >= 0, got 'x'"),
    (dict(level="0.9"), TypeError, "level must be a number, got str '0.9'"),
    (dict(level=1.5), ValueError, "level must be in (0, 1) (e.g. 0.95 for a 95% interval), got 1.5"),
    (dict(chunk_groups="a"), ValueError, "chunk_groups must be a positive integer, got 'a'"),
    (dict(chunk_groups=0), ValueError, "chunk_groups must be a positive integer, got 0"),
    (dict(metric=3), TypeError, "metric must be a metric name (str) or None, got int 3"),
    (dict(group_by="sweep"), TypeError, "group_by must be a list of column names, e.g. ['sweep'], got 'sweep'"),
    (dict(table=None), TypeError, "table must be a table name (str), got NoneType None"),
    (dict(backend="gpu"), ValueError, "backend must be one of 'cpu', 'cuda', 'auto', got 'gpu'"),
    (dict(overwrite="no"), TypeError, "overwrite must be True or False, got 'no'"),
    (dict(fixed={"Q": 1.0}), ValueError, "fixed names unknown parameter 'Q'"),
])
def test_bad_arguments_are_named_before_the_database_is_created(tmp_path: Path, csv: Path, kwargs, error,
                                                                message) -> None:
    db = tmp_path / "out.duckdb"
    with pytest.raises(error, match="^" + re.escape(message)):
        rf.refit(csv, db=db, **{"progress": False, **kwargs})
    _nothing_created(db)


def test_bad_sources_and_read_fits_paths_are_named(tmp_path: Path) -> None:
    for source, kind in ((5, "int 5"), (None, "NoneType None")):
        with pytest.raises(TypeError, match=f"^source must be a file path or a pandas DataFrame, got {kind}$"):
            rf.refit(source, db=tmp_path / "out.duckdb", progress=False)  # type: ignore[arg-type]
    missing = tmp_path / "missing.duckdb"
    with pytest.raises(FileNotFoundError, match=f"^no such database: {re.escape(str(missing))}$"):
        rf.read_fits(missing)  # a raw duckdb.IOException before
    assert not missing.exists()
    runs_db = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(runs_db), _synthdb.chinchilla_sweeps(2, runs=8, checkpoints=1)[0])
    with pytest.raises(data.RunDataError, match="runs.duckdb has no fits table: no refit has written to it yet"):
        rf.read_fits(runs_db)
    (tmp_path / "runs.csv").write_text("a\n1\n")
    with pytest.raises(data.RunDataError, match="runs.csv is not a DuckDB database"):
        rf.read_fits(tmp_path / "runs.csv")


# ----------------------------------------------------------- 5. unreadable sources, one line
def test_a_directory_an_empty_file_or_a_missing_table_is_one_clear_line(tmp_path: Path, csv: Path,
                                                                        capsys) -> None:
    folder = tmp_path / "somedir"
    folder.mkdir()
    with pytest.raises(data.RunDataError, match=re.escape(
            f"{folder} is a directory; give a run data file (.duckdb, .csv or .parquet)")):
        rf.refit(folder, progress=False)  # a CatalogException with a SQL caret before
    assert cli.main(["refit", str(folder), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == f"scalingfit refit: error: {folder} is a directory; give a run data file (.duckdb, .csv or .parquet)\n"
    _nothing_created(Path(f"{folder}.fits.duckdb"))
    empty = tmp_path / "empty.csv"
    empty.touch()
    for call in (lambda: rf.refit(empty, progress=False), lambda: data.read_runs(empty)):
        with pytest.raises(data.RunDataError, match=re.escape(f"{empty} is empty (0 bytes): no run data in it")):
            call()  # "it has ['column0']" before
    src = tmp_path / "r1.duckdb"
    _synthdb.write_duckdb(str(src), pd.read_csv(csv))
    for db in (None, tmp_path / "out.duckdb"):  # the source's own database, or attached to another
        with pytest.raises(data.RunDataError) as info:
            rf.refit(src, table="foo", db=db, progress=False)
        assert str(info.value) == (f"{src} has no table 'foo' (its tables: 'runs'); name the runs table with "
                                   "table= (CLI: --table)")
    with pytest.raises(data.RunDataError, match=r"has no table 'foo' \(its tables: 'runs'\)"):
        data.read_runs(src, table="foo")
    odd = tmp_path / "runs.txt"
    odd.write_text("N,value\n1,2\n")
    with pytest.raises(data.RunDataError, match=r"runs.txt: unknown file type '.txt' \(use .csv, .parquet or .duckdb\)"):
        rf.refit(odd, progress=False)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1garbage")
    with pytest.raises(data.RunDataError, match="cannot read run data") as info:
        rf.refit(corrupt, db=tmp_path / "out2.duckdb", progress=False)
    assert "\n" not in str(info.value)


# ----------------------------------------------------------- 6. which setting differs
def test_a_configuration_conflict_names_the_settings_that_differ(tmp_path: Path, csv: Path, capsys) -> None:
    db = tmp_path / "fits.duckdb"
    rf.refit(csv, db=db, progress=False)
    expected = (f"{db} already has 'chinchilla' results made with another configuration: for 4 group(s), "
                "fixed (--fix) was none and is now E=1.7. This refit will not mix its results with them: pass "
                "overwrite=True (CLI: --overwrite) to replace them, or write to another database with db= "
                "(CLI: --db).")
    with pytest.raises(data.RunDataError) as info:
        rf.refit(csv, db=db, fixed={"E": 1.7}, progress=False)
    assert str(info.value) == expected
    assert cli.main(["refit", str(csv), "--db", str(db), "--fix", "E=1.7", "--quiet"]) == 1
    assert capsys.readouterr().err == f"scalingfit refit: error: {expected}\n"
    with pytest.raises(data.RunDataError, match=r"for 4 group\(s\), metric \(--metric\) was loss and is now none "
                                                r"\(every row\), level \(--level\) was 0.95 and is now 0.9, and "
                                                r"precision \(--precision\) was float64 and is now float32\."):
        rf.refit(csv, db=db, metric=None, precision="float32", level=0.9, progress=False)
    # A database written before the settings were recorded: what its fits table holds is compared.
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE fit_configs")
    with pytest.raises(data.RunDataError, match=r"for 4 group\(s\), level \(--level\) was 0.95 and is now 0.9\."):
        rf.refit(csv, db=db, level=0.9, progress=False)
    with pytest.raises(data.RunDataError, match=r"for 4 group\(s\), a setting this database does not record "
                                                r"differs \(group_by, metric, ci_method, precision, fixed: it predates "):
        rf.refit(csv, db=db, fixed={"E": 1.7}, progress=False)
    assert rf.refit(csv, db=db, fixed={"E": 1.7}, overwrite=True, progress=False).n_fitted == 4
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT COUNT(*) FROM fit_configs").fetchone()[0] == 1


# ----------------------------------------------------------- 7. column mapping
def test_a_column_mapping_key_that_is_not_a_column_is_an_error(runs: pd.DataFrame) -> None:
    have = list(runs.columns)
    with pytest.raises(data.RunDataError, match=re.escape(
            f"columns names 'nope', not a column of the run data; it has {have}")):
        data.read_runs(runs, columns={"nope": "N"})  # ignored before
    flipped = runs.rename(columns={"N": "params"})
    with pytest.raises(data.RunDataError, match=re.escape(
            "columns maps source names to canonical ones: did you mean {'params': 'N'}?")):
        data.read_runs(flipped, columns={"N": "params"})
    assert "N" in data.read_runs(flipped, columns={"params": "N"}).columns


# ----------------------------------------------------------- 8. malformed CSVs, repeated columns
def _ragged(tmp_path: Path, csv: Path) -> dict[str, tuple[Path, str]]:
    """The CSV with its last line cut to 2 cells, and with one extra cell on line 5: each with
    the line and cell count a reader finds."""
    lines = csv.read_text().splitlines()
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(lines[:-1] + [",".join(lines[-1].split(",")[:2])]) + "\n")
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join(lines[:4] + [lines[4] + ",9"] + lines[5:]) + "\n")
    n = len(lines[0].split(","))
    return {"cut": (cut, f"line {len(lines)} has 2 cells, the header {n}"),
            "extra": (extra, f"line 5 has {n + 1} cells, the header {n}")}


def test_a_ragged_or_truncated_csv_is_named_as_unparsable_not_as_missing_columns(tmp_path: Path, csv: Path,
                                                                                   capsys) -> None:
    """DuckDB's sniffer reads such a file as ONE column named after the header line; refit said
    "group_by column(s) ['sweep'] not in the run data; it has ['sweep,run_id,N,...']"."""
    header = csv.read_text().splitlines()[0]
    for path, where in _ragged(tmp_path, csv).values():
        with pytest.raises(data.RunDataError) as info:
            rf.refit(path, progress=False)
        assert str(info.value) == (f"{path} could not be parsed as CSV: DuckDB read it as one column named "
                                   f"{header!r}: {where}; every line needs the header's "
                                   f"{len(header.split(','))} cells")
        assert "not in the run data" not in str(info.value)
        _nothing_created(Path(f"{path}.fits.duckdb"))
        assert cli.main(["refit", str(path), "--quiet"]) == 1
        assert where in capsys.readouterr().err


def test_repeated_column_names_are_refused(tmp_path: Path, runs: pd.DataFrame, csv: Path) -> None:
    """refit used the first of two 'value' columns (DuckDB renames the second value_1), and
    read_runs(columns={'params': 'N', 'size': 'N'}) made two N columns that validate_runs
    then failed on with pandas' TypeError."""
    two = tmp_path / "two.csv"
    lines = csv.read_text().splitlines()
    two.write_text("\n".join([lines[0] + ",value"] + [x + ",1" for x in lines[1:]]) + "\n")
    with pytest.raises(data.RunDataError, match="two.csv: its header has more than one column named 'value'"):
        rf.refit(two, progress=False)
    _nothing_created(Path(f"{two}.fits.duckdb"))
    doubled = pd.concat([runs, runs[["value"]]], axis=1)
    assert list(doubled.columns).count("value") == 2
    for call in (lambda: rf.refit(doubled, db=tmp_path / "o.duckdb", progress=False),
                 lambda: data.read_runs(doubled), lambda: data.validate_runs(doubled)):
        with pytest.raises(data.RunDataError, match="more than one column named 'value'"):
            call()
    _nothing_created(tmp_path / "o.duckdb")
    sizes = runs.rename(columns={"N": "params"}).assign(size=runs["N"])
    with pytest.raises(data.RunDataError, match=re.escape(
            "columns maps more than one column of the run data to 'N' ('params', 'size')")):
        data.read_runs(sizes, columns={"params": "N", "size": "N"})
    with pytest.raises(data.RunDataError, match=re.escape("to 'N' ('N', 'params')")):
        data.read_runs(runs.assign(params=runs["N"]), columns={"params": "N"})  # onto a column there is
    assert list(data.read_runs(sizes, columns={"params": "N"}).columns).count("N") == 1


# ----------------------------------------------------------- 9. a failure found while reading the chunks
def _late(tmp_path: Path, name: str, line: str) -> tuple[Path, int]:
    """A CSV of 24,000 rows whose line past DuckDB's sniffing sample (its first 20,480 rows)
    is replaced by ``line``, and that line's number."""
    runs = _synthdb.chinchilla_sweeps(600, runs=20, checkpoints=2, seed=21)[0]
    path = tmp_path / name
    runs.to_csv(path, index=False)
    lines = path.read_text().splitlines()
    n = 23003
    lines[n - 1] = line
    path.write_text("\n".join(lines) + "\n")
    return path, n


def test_a_bad_line_found_only_when_a_chunk_is_read_is_one_clear_line_and_leaves_no_database(
        tmp_path: Path, csv: Path, capsys) -> None:
    """A line of another length past DuckDB's sniffing sample escaped as a raw duckdb exception
    (a traceback from the CLI) and left an empty results database and its lock file. Now the
    error names the file, the line and what is wrong with it; a database the run made and
    wrote nothing into is removed, one that holds results is kept as it is."""
    path, n = _late(tmp_path, "ragged.csv", "1,2,3,4,5,6,7,8")
    msg = (f"cannot read run data from {path}: InvalidInputException: Invalid Input Error: CSV Error on Line: {n}: "
           "Expected Number of Columns: 7 Found: 8")
    from scalingfit import refit_compare as rc

    for call in (lambda db: rf.refit(path, db=db, progress=False),
                 lambda db: rc.compare_refit(path, ["chinchilla", "kaplan_nd"], db=db, progress=False)):
        db = tmp_path / "new.duckdb"
        with pytest.raises(data.RunDataError) as info:
            call(db)
        _nothing_created(db)
        assert str(info.value) == msg
    for argv in (["refit", str(path), "--quiet"],
                 ["compare-runs", str(path), "--models", "chinchilla,kaplan_nd", "--quiet"]):
        assert cli.main(argv) == 1
        assert capsys.readouterr().err == f"scalingfit {argv[0]}: error: {msg}\n"
        _nothing_created(Path(f"{path}.fits.duckdb"))
    kept = tmp_path / "kept.duckdb"  # a database with results: nothing in it is lost
    assert rf.refit(csv, db=kept, progress=False).n_fitted == 4
    with pytest.raises(data.RunDataError, match=f"CSV Error on Line: {n}"):
        rf.refit(path, db=kept, progress=False)
    assert kept.exists() and len(rf.read_fits(kept)) == 4


def test_a_value_column_of_inf_that_duckdb_takes_for_dates_is_a_column_of_bad_rows(tmp_path: Path, capsys) -> None:
    """DuckDB types a column whose every cell is 'inf' as DATE ('infinity'): the refit ended with
    "Could not convert DATE (infinity) to microseconds", a traceback from the CLI. Now the
    column is read as text, and each cell is a row that is not finite, as in any other column."""
    path = tmp_path / "inf.csv"
    pd.DataFrame({"sweep": [0] * 4 + [1] * 4, "N": [1e8, 2e8, 4e8, 8e8] * 2, "D": [1e10, 2e10, 3e10, 4e10] * 2,
                  "value": ["inf"] * 8}).to_csv(path, index=False)
    s = rf.refit(path, metric=None, db=tmp_path / "o.duckdb", progress=False)
    assert (s.n_fitted, s.n_failed, s.n_rows_skipped) == (2, 2, 8)
    fits = rf.read_fits(tmp_path / "o.duckdb")
    assert fits["reason"].str.startswith("4 invalid row(s) skipped: the row with N 100000000, D 10000000000: "
                                         "value is missing or not finite").all()
    assert cli.main(["refit", str(path), "--metric", "", "--quiet"]) == 1  # groups failed: no traceback
    err = capsys.readouterr().err  # --quiet still says why the exit status is 1, in one line
    assert err.startswith("scalingfit refit: 2 failed fit(s) of this configuration in ") and err.count("\n") == 1


def test_a_lock_file_removed_by_its_holder_is_not_taken(tmp_path: Path, monkeypatch) -> None:
    """A run that made its database and wrote nothing removes it and its lock file, while it
    holds the lock: a second run that opened the lock file before it went, and locked it after,
    holds the lock of no file. It takes the lock again, on the path's new file."""
    import fcntl

    db = tmp_path / "fits.duckdb"
    lock = Path(f"{db}.lock")
    real = fcntl.flock
    calls: list[int] = []

    def flock(fd: int, op: int) -> None:
        if not calls:  # as if the holder removed the file just before this lock was taken
            lock.unlink()
        calls.append(fd)
        real(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock)
    held = rf._lock(db)
    try:
        assert len(calls) == 2 and lock.exists()
        assert os.path.samestat(os.fstat(held.fileno()), os.stat(lock))
    finally:
        held.close()


# ----------------------------------------------------------- 10. DataFrames of dates, or of no columns
def test_a_column_of_dates_or_a_dataframe_without_columns_is_named(tmp_path: Path, runs: pd.DataFrame) -> None:
    """A DataFrame whose N is dates was fitted as nanoseconds since 1970, and every group
    failed with an empty reason; one without columns gave a raw duckdb InvalidInputException."""
    from scalingfit import refit_compare as rc

    db = tmp_path / "o.duckdb"
    for column, cells, kind in (("N", pd.Timestamp("2020-01-01"), "TIMESTAMP"),
                                ("value", pd.Timedelta(seconds=3), "INTERVAL"),
                                ("D", pd.Timestamp("2020-01-01", tz="UTC"), "TIMESTAMP WITH TIME ZONE")):
        dated = runs.assign(**{column: cells})
        with pytest.raises(data.RunDataError, match=re.escape(
                f"column {column!r} of the run data holds {kind} values (dates or times), not numbers; law "
                "'chinchilla' fits N, D, value as numbers: convert the column to numbers")):
            rf.refit(dated, db=db, progress=False)
        with pytest.raises(data.RunDataError, match=f"column {column!r} of the run data holds {kind} values"):
            rc.compare_refit(dated, ["chinchilla", "kaplan_nd"], db=db, progress=False)
        _nothing_created(db)
        with pytest.raises(data.RunDataError, match=f"column {column!r} holds dates or times "):
            data.validate_runs(dated, policy="skip-and-report")
        with pytest.raises(data.RunDataError, match=f"column {column!r} holds dates or times "):
            rf.prepare_frame(dated, rf.LAWS["chinchilla"], ["sweep"])
    for call in (lambda: rf.refit(pd.DataFrame(), db=db, progress=False),
                 lambda: rc.compare_refit(pd.DataFrame(), ["chinchilla", "kaplan_nd"], db=db, progress=False)):
        with pytest.raises(data.RunDataError, match="^the DataFrame has no columns: no run data in it$"):
            call()
        _nothing_created(db)


def test_a_ragged_line_past_duckdbs_sniffing_sample_is_named(tmp_path: Path) -> None:
    """In a CSV of 24,000 rows, a line cut short (a writer killed mid-line) or with a cell too
    many deep in the file made DuckDB's sniffer fail: refit said only "Error when sniffing
    file" with no line."""
    from scalingfit import _synthdb

    base = _synthdb.chinchilla_sweeps(30, runs=400, checkpoints=2, seed=1)[0]
    text = base.to_csv(index=False)
    lines = text.splitlines()
    n = len(lines[0].split(","))
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: len(text) // 2 + 7])
    cut_line = cut.read_text().count("\n") + 1
    cells = len(cut.read_text().splitlines()[-1].split(","))
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join(lines[:20000] + [lines[20000] + ",9"] + lines[20001:]) + "\n")
    for path, where in ((cut, f"line {cut_line} has {cells} cells, the header {n}"),
                        (extra, f"line 20001 has {n + 1} cells, the header {n}")):
        assert cells != n
        with pytest.raises(data.RunDataError) as info:
            rf.refit(path, progress=False)
        assert str(info.value) == f"{path} could not be parsed as CSV: {where}; every line needs the header's {n} cells"
        _nothing_created(Path(f"{path}.fits.duckdb"))
