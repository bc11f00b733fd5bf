"""Group keys of a bulk refit that used to lose or merge groups silently, and sources or
results databases whose errors were raw library messages: each group is fitted as its own
(checked against the same rows under an ordinary key), or the column is refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
from scalingfit import _synthdb, data
from scalingfit import refit as rf

NAMES = ["E", "A", "B", "alpha", "beta"]


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return _synthdb.chinchilla_sweeps(4, runs=12, checkpoints=2, seed=1)[0]


def _table(path: Path, runs: pd.DataFrame, select: str) -> Path:
    with duckdb.connect(str(path)) as con:
        con.register("r", runs)
        con.execute(f"CREATE TABLE runs AS SELECT {select} FROM r")
    return path


def test_a_nan_group_key_is_fitted_and_resumed(runs: pd.DataFrame, tmp_path: Path) -> None:
    """Sweep 0's key is NaN (a CSV cell 'nan', a DOUBLE in DuckDB): it was never fitted and
    every run counted it as up to date. Now its parameters are bitwise those of the same rows
    under the key 99, and a rerun skips all four groups."""
    ref = runs.copy()
    ref.loc[ref.sweep == 0, "sweep"] = 99
    rf.refit(ref, db=tmp_path / "ref.duckdb", progress=False)
    want = rf.read_fits(tmp_path / "ref.duckdb").set_index("sweep")
    nan = runs.astype({"sweep": float})
    nan.loc[nan.sweep == 0, "sweep"] = np.nan
    nan.to_csv(tmp_path / "nan.csv", index=False)
    sources = [tmp_path / "nan.csv", _table(tmp_path / "nan.duckdb", nan, "*")]
    for src in sources:
        db = tmp_path / f"fits-{src.suffix[1:]}.duckdb"
        s = rf.refit(src, db=db, progress=False)
        assert (s.n_groups, s.n_fitted, s.n_skipped, s.n_failed) == (4, 4, 0, 0), src
        got = rf.read_fits(db)
        assert got["sweep"].isna().sum() == 1 and (got["n_points"] == 12).all()
        row = got[got.sweep.isna()].iloc[0]
        np.testing.assert_array_equal(row[NAMES].to_numpy(float), want.loc[99, NAMES].to_numpy(float))
        again = rf.refit(src, db=db, progress=False)
        assert (again.n_fitted, again.n_skipped) == (0, 4)


def test_hugeint_keys_beyond_2_53_are_refused_by_name(runs: pd.DataFrame, tmp_path: Path) -> None:
    """HUGEINT sweep ids 2^64 + k read as one float in pandas: the four sweeps were fitted as
    one group of 48 points (and 144 'duplicate' rows). Now the column is named and nothing is
    written; small HUGEINT ids are fitted as four groups."""
    big = _table(tmp_path / "big.duckdb", runs,
                 "* REPLACE (CAST(sweep AS HUGEINT) + CAST(18446744073709551616 AS HUGEINT) AS sweep)")
    with pytest.raises(data.RunDataError, match=r"group column 'sweep' \(HUGEINT\) holds 4 distinct values "
                                                r"that are only 1 as float64.*cast the column"):
        rf.refit(big, db=tmp_path / "out.duckdb", progress=False)
    assert not (tmp_path / "out.duckdb").exists()
    small = _table(tmp_path / "small.duckdb", runs, "* REPLACE (CAST(sweep AS HUGEINT) AS sweep)")
    s = rf.refit(small, progress=False)
    assert (s.n_groups, s.n_fitted) == (4, 4)
    assert (rf.read_fits(small)["n_points"] == 12).all()


@pytest.mark.parametrize(("expr", "kind"), [("CAST(CAST(sweep AS VARCHAR) AS BLOB)", "BLOB"),
                                            ("[sweep, 1]", r"BIGINT\[\]"),
                                            ("{'a': sweep}", "STRUCT")])
def test_unhashable_group_columns_are_refused_by_name(runs: pd.DataFrame, tmp_path: Path, expr: str,
                                                      kind: str) -> None:
    """A BLOB, list or struct group column: 'unhashable type: bytearray' (no column named)."""
    src = _table(tmp_path / "r.duckdb", runs, f"* REPLACE ({expr} AS sweep)")
    with pytest.raises(data.RunDataError, match=rf"group column 'sweep' holds {kind}.* \(cast it to VARCHAR\)"):
        rf.refit(src, db=tmp_path / "out.duckdb", progress=False)
    assert not (tmp_path / "out.duckdb").exists()


def test_columns_duckdb_or_numpy_cannot_convert_name_the_source(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A UHUGEINT N column failed as 'connection has an unfinished result' (the cleanup's
    error, hiding the conversion's); a complex DataFrame column as DuckDB's bare message."""
    src = _table(tmp_path / "uh.duckdb", runs, "* REPLACE (CAST(N AS UHUGEINT) AS N)")
    with pytest.raises(data.RunDataError, match=r"cannot read run data from .*uh\.duckdb: .*UHUGEINT"):
        rf.refit(src, db=tmp_path / "out.duckdb", progress=False)
    with pytest.raises(data.RunDataError, match=r"cannot read run data from the DataFrame: .*complex128"):
        rf.refit(runs.astype({"N": complex}), db=tmp_path / "out2.duckdb", progress=False)
    assert not (tmp_path / "out2.duckdb").exists()


def test_a_damaged_results_database_is_not_called_busy(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A results database cut short: read_fits raised DuckDB's IOException, and a refit into a
    file with a damaged block said it was 'in use by another process' (its message has the
    word 'block'). Now both say they cannot read it, and neither blames another process."""
    db = tmp_path / "fits.duckdb"
    rf.refit(runs, db=db, progress=False)
    raw = db.read_bytes()
    db.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(data.RunDataError, match=r"cannot read .*fits\.duckdb: .*damaged") as info:
        rf.read_fits(db)
    assert "in use" not in str(info.value) and "holds it" not in str(info.value)
    assert rf._LOCKED.search("Could not set lock on file \"x.duckdb\": Conflicting lock is held")
    assert not rf._LOCKED.search("IO Error: Corrupt database file: computed checksum of block at location 4096")


def test_a_sqlite_file_is_named_without_a_download(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A SQLite database named runs.db was taken for DuckDB, which then tried to download its
    sqlite extension (3 s here, a hang offline) before failing; now it is named at once."""
    import sqlite3

    path = tmp_path / "runs.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE runs (N REAL, D REAL, value REAL, sweep INTEGER)")
    for call in (lambda: data.read_runs(path), lambda: rf.refit(path, progress=False)):
        with pytest.raises(data.RunDataError, match=r"runs\.db is a SQLite database, not a DuckDB one: export"):
            call()
    assert not (tmp_path / "runs.db.fits.duckdb").exists()


def test_columns_reads_a_source_under_the_long_formats_names(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A run table with columns params, tokens, loss and family: columns= (CLI --columns)
    refits it to bitwise the parameters of the same runs in the long format; the error for
    the missing columns says so; a column the source lacks, or two columns given one name,
    are refused before any file is made."""
    from scalingfit import cli

    renamed = runs.rename(columns={"N": "params", "D": "tokens", "value": "loss", "sweep": "family"})
    src = tmp_path / "renamed.csv"
    renamed.to_csv(src, index=False)
    rf.refit(runs, db=tmp_path / "plain.duckdb", progress=False)
    with pytest.raises(data.RunDataError, match=r"not in the run data.*columns= reads a column under another name"):
        rf.refit(src, group_by=["family"], progress=False)
    cols = {"params": "N", "tokens": "D", "loss": "value"}
    s = rf.refit(src, group_by=["family"], columns=cols, progress=False)
    assert (s.n_groups, s.n_fitted, s.n_failed) == (4, 4, 0)
    a = rf.read_fits(s.db).sort_values("family")
    b = rf.read_fits(tmp_path / "plain.duckdb").sort_values("sweep")
    assert a["family"].tolist() == b["sweep"].tolist()
    np.testing.assert_array_equal(a[NAMES].to_numpy(float), b[NAMES].to_numpy(float))
    assert rf.refit(src, group_by=["family"], columns=cols, progress=False).n_skipped == 4  # resumes
    assert cli.main(["refit", str(src), "--group-by", "family", "--columns", "params=N,tokens=D,loss=value",
                     "--quiet"]) == 0
    for bad, message in [({**cols, "nope": "x"}, r"columns renames \['nope'\], not column\(s\) of"),
                         ({"params": "N", "tokens": "N", "loss": "value"}, r"two columns named 'N'")]:
        with pytest.raises(data.RunDataError, match=message):
            rf.refit(src, group_by=["family"], columns=bad, db=tmp_path / "new.duckdb", progress=False)
    with pytest.raises(TypeError, match="columns must map source column names"):
        rf.refit(src, columns=["params"], db=tmp_path / "new.duckdb", progress=False)
    assert not (tmp_path / "new.duckdb").exists()


def test_compare_runs_reads_renamed_columns_too(runs: pd.DataFrame, tmp_path: Path) -> None:
    """compare_refit(columns=...) (CLI compare-runs --columns) scores a renamed table exactly
    as the long-format one."""
    from scalingfit import cli
    from scalingfit.refit_compare import compare_refit, read_comparisons

    renamed = runs.rename(columns={"N": "params", "D": "tokens", "value": "loss"})
    src = tmp_path / "renamed.csv"
    renamed.to_csv(src, index=False)
    laws = ["chinchilla", "kaplan_nd"]
    compare_refit(runs, laws, db=tmp_path / "plain.duckdb", progress=False)
    s = compare_refit(src, laws, columns={"params": "N", "tokens": "D", "loss": "value"}, progress=False)
    a = read_comparisons(s.db).sort_values(["sweep", "law"]).reset_index(drop=True)
    b = read_comparisons(tmp_path / "plain.duckdb").sort_values(["sweep", "law"]).reset_index(drop=True)
    assert len(a) == 8
    for col in ("aicc", "rss", "weight"):
        np.testing.assert_array_equal(a[col].to_numpy(float), b[col].to_numpy(float))
    assert cli.main(["compare-runs", str(src), "--db", str(tmp_path / "c.duckdb"), "--columns",
                     "params=N,tokens=D,loss=value", "--models", "chinchilla,kaplan_nd", "--quiet"]) == 0


@pytest.mark.parametrize("table", ["fits", "fit_params", "fit_configs"])
def test_a_results_table_given_as_the_runs_table_is_named(runs: pd.DataFrame, tmp_path: Path, table: str) -> None:
    """--table fit_params on a database that is also the results database: DuckDB's binder
    error with the SQL ('Referenced column law not found'); now the clash is named, and the
    earlier results are untouched (a rerun on the runs table resumes all 4 groups)."""
    from scalingfit.refit_compare import compare_refit

    db = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(db), runs)
    rf.refit(db, progress=False)
    with pytest.raises(data.RunDataError, match=rf"table '{table}' of .*runs\.duckdb is where scalingfit writes "
                                                r"results .* give the runs table, or db="):
        rf.refit(db, table=table, progress=False)
    with pytest.raises(data.RunDataError, match=rf"table '{table}' of .* is where scalingfit writes results"):
        compare_refit(db, ["chinchilla", "kaplan_nd"], table=table, progress=False)
    assert rf.refit(db, progress=False).n_skipped == 4
