"""Group keys of a bulk refit that merged groups the user keeps apart: an ``object`` column of
a DataFrame mixing the int 0 and the string '0'. It is refused by name before anything is
written, as the key types that cannot key a group are."""

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
