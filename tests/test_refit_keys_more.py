"""Group keys of a bulk refit that merged groups the user keeps apart: an ``object`` column of
a DataFrame mixing the int 0 and the string '0', and a float column holding both NULL and
NaN. Each is refused by name before anything is written, as the key types that cannot key a
group are (where the source can hold the two apart at all: a DataFrame's float column cannot)."""

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


# --------------------------------------------------------------------------- 1. mixed types
def test_int_0_and_str_0_in_an_object_column_are_refused_by_name(runs: pd.DataFrame, tmp_path: Path) -> None:
    """Sweep 1's rows keyed '0' (str), sweep 0's 0 (int): DuckDB read the column as text and
    the two sweeps were fitted as ONE group of 24 points under ["0"]. Now the column, a row
    of each type and the fix are named, and no database is made."""
    mixed = runs.astype({"sweep": object})
    mixed.loc[mixed.sweep == 1, "sweep"] = "0"
    first_text = int(np.flatnonzero(runs.sweep.to_numpy() == 1)[0])
    first_int = int(np.flatnonzero(runs.sweep.to_numpy() == 0)[0])
    db = tmp_path / "out.duckdb"
    with pytest.raises(data.RunDataError,
                       match=rf"group column 'sweep' of the DataFrame holds text and other values: row {first_text} "
                             rf"holds '0' \(str\), row {first_int} holds 0 \(int\); .*0 and '0' would be one group"):
        rf.refit(mixed, db=db, progress=False)
    assert not db.exists()


def test_mixed_types_are_refused_under_a_renamed_column_and_in_an_existing_db(runs: pd.DataFrame,
                                                                            tmp_path: Path) -> None:
    """With columns= the source's name and the refit's are both named; a results database
    that exists (no check before it is opened) refuses it too, writing nothing."""
    mixed = runs.rename(columns={"sweep": "family"}).astype({"family": object})
    mixed.loc[mixed.family == 2, "family"] = "2"
    db = tmp_path / "out.duckdb"
    rf.refit(runs, db=db, progress=False)  # the database exists, with the four sweeps
    before = rf.read_fits(db)
    with pytest.raises(data.RunDataError, match=r"group column 'family' \(read as 'sweep'\) of the DataFrame "
                                                r"holds text and other values"):
        rf.refit(mixed, db=db, columns={"family": "sweep"}, progress=False)
    pd.testing.assert_frame_equal(rf.read_fits(db), before)


def test_mixed_categories_are_refused_by_name(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A categorical column with the categories 0 and '0' (DuckDB: 'duplicate value 0')."""
    cat = runs.copy()
    cat["sweep"] = pd.Categorical(runs.sweep.astype(object).where(runs.sweep != 1, "0"))
    with pytest.raises(data.RunDataError, match=r"group column 'sweep' of the DataFrame holds text and other "
                                                r"values: a category holds '0' \(str\), a category holds 0"):
        rf.refit(cat, db=tmp_path / "out.duckdb", progress=False)


def test_one_type_per_column_is_fitted_as_before(runs: pd.DataFrame, tmp_path: Path) -> None:
    """Not refused: text only (with a missing key), numbers of two types (1 and 1.0, one key
    as to pandas), and text keys with None: each fitted, bitwise as the int-keyed sweeps."""
    rf.refit(runs, db=tmp_path / "ref.duckdb", progress=False)
    want = rf.read_fits(tmp_path / "ref.duckdb").sort_values("sweep")[NAMES].to_numpy(float)
    text = runs.astype({"sweep": object})
    text["sweep"] = [f"s{v}" for v in runs.sweep]
    numbers = runs.astype({"sweep": object})
    numbers.loc[numbers.sweep == 1, "sweep"] = 1.0
    for name, frame in (("text", text), ("numbers", numbers)):
        db = tmp_path / f"{name}.duckdb"
        s = rf.refit(frame, db=db, progress=False)
        assert (s.n_groups, s.n_fitted, s.n_failed) == (4, 4, 0), name
        got = rf.read_fits(db)
        order = np.argsort([str(v) for v in got.sweep]) if name == "text" else np.argsort(got.sweep.to_numpy(float))
        np.testing.assert_array_equal(got[NAMES].to_numpy(float)[order], want, err_msg=name)


# --------------------------------------------------------------------------- 2. NULL and NaN
def _null_and_nan(runs: pd.DataFrame) -> str:
    """SQL over the registered ``r``: sweep 0's key NaN, sweep 1's NULL, the others as floats."""
    return ("SELECT * REPLACE (CASE WHEN sweep = 0 THEN 'nan'::DOUBLE WHEN sweep = 1 THEN NULL "
            "ELSE CAST(sweep AS DOUBLE) END AS sweep) FROM r")


def _sources(runs: pd.DataFrame, tmp_path: Path) -> dict[str, Path]:
    """The same runs (NaN key, NULL key) as a DuckDB table, a Parquet file and a CSV (an
    empty cell and a cell 'nan')."""
    out = {"duckdb": tmp_path / "src.duckdb", "parquet": tmp_path / "src.parquet", "csv": tmp_path / "src.csv"}
    with duckdb.connect(str(out["duckdb"])) as con:
        con.register("r", runs)
        con.execute(f"CREATE TABLE runs AS {_null_and_nan(runs)}")
        con.execute(f"COPY runs TO '{out['parquet'].as_posix()}' (FORMAT PARQUET)")
        assert con.execute("SELECT COUNT(*) FILTER (WHERE sweep IS NULL), COUNT(*) FILTER (WHERE isnan(sweep)) "
                           "FROM runs").fetchone() == (24, 24)
    runs.assign(sweep=runs.sweep.map({0: "nan", 1: "", 2: "2.0", 3: "3.0"})).to_csv(out["csv"], index=False)
    return out


@pytest.mark.parametrize("kind", ["duckdb", "parquet", "csv"])
def test_null_and_nan_keys_in_one_column_are_refused_by_name(runs: pd.DataFrame, tmp_path: Path,
                                                             kind: str) -> None:
    """Sweep 0 keyed NaN and sweep 1 NULL: both read as one missing key, so the two sweeps
    were fitted as one group of 24 points keyed [null] (and a rerun called it up to date).
    Now the column, both counts and the fix are named, and no database is made."""
    src = _sources(runs, tmp_path)[kind]
    db = tmp_path / "out.duckdb"
    with pytest.raises(data.RunDataError, match=r"group column 'sweep' \((DOUBLE)\) holds both missing values "
                                                r"\(NULL, 24 row\(s\)\) and NaN \(24 row\(s\)\).*one group"):
        rf.refit(src, db=db, progress=False)
    assert not db.exists()


def test_null_and_nan_are_refused_in_an_existing_db_too(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A results database that exists (the check before it is made is skipped): refused too,
    its rows untouched."""
    src = _sources(runs, tmp_path)["duckdb"]
    with duckdb.connect(str(src)) as con:  # its first refit: only sweep 1 missing (NULL)
        con.register("r", runs)
        con.execute("CREATE TABLE first AS SELECT * REPLACE (CASE WHEN sweep = 1 THEN NULL "
                    "ELSE CAST(sweep AS DOUBLE) END AS sweep) FROM r")
    db = tmp_path / "out.duckdb"
    s = rf.refit(src, table="first", db=db, progress=False)
    assert (s.n_groups, s.n_fitted) == (4, 4)
    before = rf.read_fits(db)
    with pytest.raises(data.RunDataError, match=r"group column 'sweep' \(DOUBLE\) holds both missing values"):
        rf.refit(src, db=db, progress=False)
    pd.testing.assert_frame_equal(rf.read_fits(db), before)


def test_only_nan_or_only_null_keys_are_fitted_and_resumed(runs: pd.DataFrame, tmp_path: Path) -> None:
    """One kind of missing key per column stays a group of its own, fitted bitwise as the
    same rows under the key 99, and resumed."""
    ref = runs.copy()
    ref.loc[ref.sweep == 0, "sweep"] = 99
    rf.refit(ref, db=tmp_path / "ref.duckdb", progress=False)
    want = rf.read_fits(tmp_path / "ref.duckdb").set_index("sweep").loc[99, NAMES].to_numpy(float)
    for missing in ("'nan'::DOUBLE", "NULL"):
        src = tmp_path / f"src-{missing[1:4]}.duckdb"
        with duckdb.connect(str(src)) as con:
            con.register("r", runs)
            con.execute(f"CREATE TABLE runs AS SELECT * REPLACE (CASE WHEN sweep = 0 THEN {missing} "
                        "ELSE CAST(sweep AS DOUBLE) END AS sweep) FROM r")
        s = rf.refit(src, progress=False)
        assert (s.n_groups, s.n_fitted, s.n_failed) == (4, 4, 0), missing
        got = rf.read_fits(src)
        row = got[got.sweep.isna()]
        assert len(row) == 1 and row.iloc[0]["group_key"] == "[null]" and row.iloc[0]["n_points"] == 12
        np.testing.assert_array_equal(row.iloc[0][NAMES].to_numpy(float), want)
        again = rf.refit(src, progress=False)
        assert (again.n_fitted, again.n_skipped) == (0, 4)


@pytest.mark.parametrize("dtype", ["float64", "object", "Float64"])
def test_a_dataframes_nan_and_none_are_one_missing_key(runs: pd.DataFrame, tmp_path: Path, dtype: str) -> None:
    """A DataFrame cannot tell None from NaN in a float column (pandas stores both as NaN, or
    as NA in a nullable one, and DuckDB reads either as NULL): its missing keys are ONE group,
    as pandas' own groupby(dropna=False) has them, fitted from all 24 rows, and resumed."""
    frame = runs.astype({"sweep": dtype})
    frame["sweep"] = pd.Series([np.nan if v == 0 else None if v == 1 else float(v) for v in runs.sweep],
                               dtype=dtype, index=runs.index)
    assert frame.groupby("sweep", dropna=False).ngroups == 3
    db = tmp_path / "out.duckdb"
    s = rf.refit(frame, db=db, progress=False)
    assert (s.n_groups, s.n_fitted) == (3, 3)
    got = rf.read_fits(db)
    assert got.loc[got.sweep.isna(), "n_points"].tolist() == [24]
    again = rf.refit(frame, db=db, progress=False)
    assert (again.n_fitted, again.n_skipped) == (0, 3)


def test_compare_runs_refuses_mixed_keys_too(runs: pd.DataFrame, tmp_path: Path) -> None:
    """compare_refit reads its groups as refit does: the same column was fitted as one group
    of 24 points there until it passed its group columns to the check."""
    from scalingfit import refit_compare as rc

    mixed = runs.astype({"sweep": object})
    mixed.loc[mixed.sweep == 1, "sweep"] = "0"
    db = tmp_path / "cmp.duckdb"
    with pytest.raises(data.RunDataError, match=r"group column 'sweep' of the DataFrame holds text and other values"):
        rc.compare_refit(mixed, ["chinchilla", "chinchilla_tied"], db=db, progress=False)
    assert not db.exists()
    rc.compare_refit(runs, ["chinchilla", "chinchilla_tied"], db=db, progress=False)  # one type: scored
    assert len(rc.read_comparisons(db)) == 2 * runs.sweep.nunique()
