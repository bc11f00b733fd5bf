"""A group whose every row is invalid has no points to hash: its row in the results was
written with an empty data hash, so every rerun wrote it again and counted it as fitted (a
rerun of 40 sweeps reported 1 fitted, 39 up to date). It is now keyed by a hash of its raw
rows: unchanged, it resumes; changed, it is rewritten; made valid, it is fitted. The same for
compare-runs, which reads groups the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
from scalingfit import _synthdb
from scalingfit import refit as rf
from scalingfit import refit_compare as rc


def _runs() -> pd.DataFrame:
    runs = _synthdb.chinchilla_sweeps(6, runs=12, checkpoints=2, seed=3)[0]
    runs.loc[runs.sweep == 2, "value"] = -1.0  # every row of sweep 2 invalid
    return runs


def _row(db: Path, sweep: int) -> pd.Series:
    return rf.read_fits(db).set_index("sweep").loc[sweep]


def test_an_all_invalid_group_resumes_and_is_redone_when_its_rows_change(tmp_path: Path) -> None:
    runs = _runs()
    src = tmp_path / "runs.csv"
    runs.to_csv(src, index=False)
    first = rf.refit(src, progress=False)
    assert (first.n_groups, first.n_fitted, first.n_failed) == (6, 6, 1)
    row = _row(first.db, 2)
    assert not row["success"] and row["reason"].startswith("24 invalid row(s) skipped")
    stamp = row["fitted_at"]

    again = rf.refit(src, progress=False)
    assert (again.n_fitted, again.n_skipped, again.n_failed) == (0, 6, 0)
    assert _row(first.db, 2)["fitted_at"] == stamp  # not rewritten

    shuffled = runs.sample(frac=1.0, random_state=0)  # the same rows in another order: resumed
    shuffled.to_csv(src, index=False)
    assert rf.refit(src, progress=False).n_fitted == 0

    changed = runs.copy()
    changed.loc[changed.sweep == 2, "value"] = -2.0  # still every row invalid, other values
    changed.to_csv(src, index=False)
    s = rf.refit(src, progress=False)
    assert (s.n_fitted, s.n_skipped) == (1, 5)
    assert "-2" in _row(first.db, 2)["reason"]

    fixed = runs.copy()
    fixed.loc[fixed.sweep == 2, "value"] = _runs_valid_values()
    fixed.to_csv(src, index=False)
    s = rf.refit(src, progress=False)
    assert (s.n_fitted, s.n_skipped, s.n_failed) == (1, 5, 0)
    assert _row(first.db, 2)["success"]


def _runs_valid_values() -> np.ndarray:
    base = _synthdb.chinchilla_sweeps(6, runs=12, checkpoints=2, seed=3)[0]
    return base.loc[base.sweep == 2, "value"].to_numpy()


def test_compare_runs_resumes_an_all_invalid_group(tmp_path: Path) -> None:
    runs = _runs()
    db = tmp_path / "cmp.duckdb"
    laws = ["chinchilla", "chinchilla_tied"]
    first = rc.compare_refit(runs, laws, db=db, progress=False)
    rows = rc.read_comparisons(db)
    bad = rows[rows.sweep == 2]
    assert len(bad) == 2 and not bad["success"].any() and (bad["data_hash"] != "").all()
    again = rc.compare_refit(runs, laws, db=db, progress=False)
    assert again.n_skipped == first.n_groups == 6
    assert (rc.read_comparisons(db)["fitted_at"] == rows["fitted_at"]).all()
    changed = runs.copy()
    changed.loc[changed.sweep == 2, "value"] = -2.0
    third = rc.compare_refit(changed, laws, db=db, progress=False)
    assert third.n_skipped == 5


def test_other_columns_and_their_order_do_not_redo_an_all_invalid_group(tmp_path: Path) -> None:
    """The raw-row hash reads only the columns the fit and its reason read (inputs, value,
    run_id, step): a column added to the source, or the columns reordered, left every valid
    group resumed but refitted the all-invalid one (its hash covered the whole CSV line)."""
    runs = _runs()
    src = tmp_path / "runs.csv"
    runs.to_csv(src, index=False)
    first = rf.refit(src, progress=False)
    stamp = _row(first.db, 2)["fitted_at"]
    runs.assign(tag="x").to_csv(src, index=False)
    assert rf.refit(src, progress=False).n_fitted == 0
    runs[runs.columns[::-1]].to_csv(src, index=False)
    assert rf.refit(src, progress=False).n_fitted == 0
    assert _row(first.db, 2)["fitted_at"] == stamp
    moved = runs.copy()
    moved.loc[moved.sweep == 2, "step"] += 1  # its reason names the rows by run and step: redone
    moved.to_csv(src, index=False)
    s = rf.refit(src, progress=False)
    assert (s.n_fitted, s.n_skipped) == (1, 5)
