"""Run data and refit's bootstrap gate, against hand-built references: validate_runs on a
frame whose bad rows, problems and duplicates are counted by hand; a ``.pq`` file read back
to the frame written; and the bootstrap of a group whose fit stopped at the iteration limit
(status 0, scalingfit.fit_batch run here), which must not be bootstrapped."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
import scalingfit
from scalingfit import _synthdb, data
from scalingfit import refit as rf


# ------------------------------------------------------------------ D. validate_runs
def _frame() -> pd.DataFrame:
    """Five rows, by hand: 0 good; 1 without a run_id; 2 with two problems (N = -1, value
    missing); 3 repeats row 0's key with step "10" for 10 (a column of mixed types, as a CSV
    export with a stray string gives); 4 good (run b)."""
    return pd.DataFrame({
        "run_id": ["a", None, "a", "a", "b"],
        "N": [1e8, 1e8, -1.0, 1e8, 2e8],
        "D": [2e9, 2e9, 2e9, 2e9, 4e9],
        "step": pd.Series([10, 20, 30, "10", 10], dtype=object),
        "value": [3.0, 2.9, np.nan, 2.95, 2.8],
    })


def test_validate_runs_counts_bad_rows_not_problems() -> None:
    """Rows 1, 2 and 3 are bad, with 4 problems between them (row 2 has two): ``n_bad`` is 3
    (counting problems gave "4 of 5 rows"), the report lists all 4, and the clean frame is
    rows 0 and 4, indexed 0, 1 (not 0, 4). A missing run_id drops its row (it was reported
    but kept: 3 rows returned), and step "10" duplicates step 10 (compared as raw cells they
    differ, and row 3 was kept)."""
    df = _frame()
    clean, rep = data.validate_runs(df, required=("run_id", "N", "value"), policy="skip-and-report")
    assert rep.n_rows == 5 and rep.n_bad == 3
    assert [(b.row, b.column) for b in rep.rows] == [
        (1, "run_id"), (2, "N"), (2, "value"), (3, "run_id,step")]
    assert rep.rows[3].reason == "duplicates an earlier row"
    assert rep.summary().startswith("3 of 5 rows are invalid: ")
    assert clean.index.tolist() == [0, 1]
    assert clean["run_id"].tolist() == ["a", "b"] and clean["value"].tolist() == [3.0, 2.8]
    assert df.shape == (5, 5)  # the input is left as it was
    with pytest.raises(data.RunDataError, match=r"^3 of 5 rows are invalid: row 1: run_id is missing"):
        data.validate_runs(df, required=("run_id", "N", "value"))


def test_validate_runs_drops_a_row_with_only_a_missing_run_id() -> None:
    """Only row 1 bad (no run_id): 1 of 3 rows dropped, the others re-indexed 0, 1."""
    df = _frame().iloc[[0, 1, 4]].reset_index(drop=True)
    clean, rep = data.validate_runs(df, required=("run_id", "N", "value"), policy="skip-and-report")
    assert rep.n_bad == 1 and [str(b) for b in rep.rows] == ["row 1: run_id is missing"]
    assert len(clean) == 2 and clean.index.tolist() == [0, 1]
    assert clean["run_id"].tolist() == ["a", "b"]


def test_validate_runs_numeric_step_text_is_a_duplicate() -> None:
    """Step "10" and step 10 of run a are one observation (the code's own comment says so):
    the second is a duplicate under either policy, and the clean frame holds the first."""
    df = _frame().iloc[[0, 3]].reset_index(drop=True)
    with pytest.raises(data.RunDataError, match=r"1 of 2 rows are invalid: row 1: run_id,step duplicates"):
        data.validate_runs(df)
    clean, rep = data.validate_runs(df, policy="skip-and-report")
    assert rep.n_bad == 1 and clean["value"].tolist() == [3.0]


# ------------------------------------------------------------------ E. .pq files
def test_pq_suffix_is_parquet(tmp_path: Path) -> None:
    """read_runs documents ``*.parquet``/``*.pq``: a ``.pq`` file is Parquet (refusing it
    as "unknown file type '.pq'" broke that)."""
    for name in ("runs.pq", "RUNS.PQ", "runs.parquet"):
        p = tmp_path / name
        p.write_bytes(b"PAR1 not read here")
        assert data.source_kind(p) == "parquet", name


def test_read_runs_reads_a_pq_file(tmp_path: Path) -> None:
    """A two-row frame written to ``runs.pq`` reads back unchanged, columns mapped."""
    pytest.importorskip("pyarrow")
    df = pd.DataFrame({"params": [1e8, 2e8], "loss": [3.1, 2.9]})
    df.to_parquet(tmp_path / "runs.pq")
    got = data.read_runs(tmp_path / "runs.pq", columns={"params": "N", "loss": "value"})
    assert got.columns.tolist() == ["N", "value"]
    assert got["N"].tolist() == [1e8, 2e8] and got["value"].tolist() == [3.1, 2.9]


# ------------------------------------------------------------------ H. bootstrap gate
def _max_iter_law(monkeypatch: pytest.MonkeyPatch) -> rf.LawSpec:
    """The chinchilla law with fits that stop after 2 iterations (status 0)."""
    spec = dataclasses.replace(rf.LAWS["chinchilla"], fit_kwargs={"max_iter": 2})
    monkeypatch.setitem(rf.LAWS, "chinchilla", spec)
    return spec


def _groups() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two groups of 20 final-loss points each (the synthetic sweeps refit tests use)."""
    df, _ = _synthdb.chinchilla_sweeps(2, runs=20, checkpoints=1, noise=0.005, seed=4)
    xs, ys, off = [], [], [0]
    for sweep in range(2):
        g = df[df.sweep == sweep]
        xs.append(g[["N", "D"]].to_numpy(dtype=float))
        ys.append(g["value"].to_numpy(dtype=float))
        off.append(off[-1] + len(g))
    return np.vstack(xs), np.concatenate(ys), np.array(off, dtype=np.int64)


def test_a_group_stopped_at_the_iteration_limit_is_not_bootstrapped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """bootstrap_chunk gives a group whose own fit did not converge (status 0: the iteration
    limit) NaN intervals and 0 failed replicates, without resampling it; bootstrapping it
    anyway counted all 50 replicates as failed. A group that converged is bootstrapped:
    finite intervals around its fit."""
    from scalingfit._refit_boot import bootstrap_chunk

    x, y, off = _groups()
    model = scalingfit.models.get("chinchilla")
    config = rf.RefitConfig("chinchilla", ("sweep",), bootstrap=50, seed=1)
    good = scalingfit.fit_batch("chinchilla", x, y, off)
    assert (good.status > 0).all()
    lo, hi, failed, se = bootstrap_chunk(rf.LAWS["chinchilla"], model, x, y, off, good.x,
                                         good.status, ["0", "1"], config, 1)
    assert np.isfinite(lo).all() and np.isfinite(hi).all() and np.isfinite(se).all()
    assert (lo <= good.x).all() and (good.x <= hi).all()

    spec = _max_iter_law(monkeypatch)
    stopped = scalingfit.fit_batch("chinchilla", x, y, off, max_iter=2)
    assert (stopped.status == 0).all() and np.isfinite(stopped.x).all()
    lo, hi, failed, se = bootstrap_chunk(spec, model, x, y, off, stopped.x, stopped.status,
                                         ["0", "1"], config, 1)
    assert np.isnan(lo).all() and np.isnan(hi).all() and np.isnan(se).all()
    assert failed.tolist() == [0, 0]


def test_refit_reports_no_failed_replicates_for_a_stopped_fit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through refit(bootstrap=50): each group's row has status 0, NaN ci_low and
    ci_high, and n_boot_failed 0 (it was 50)."""
    pytest.importorskip("duckdb")
    _max_iter_law(monkeypatch)
    df, _ = _synthdb.chinchilla_sweeps(2, runs=20, checkpoints=1, noise=0.005, seed=4)
    s = rf.refit(df, law="chinchilla", group_by=["sweep"], db=tmp_path / "f.duckdb",
                 bootstrap=50, progress=False)
    assert (s.n_fitted, s.n_failed) == (2, 2)
    fits = rf.read_fits(tmp_path / "f.duckdb")
    assert fits["status"].tolist() == [0, 0] and fits["n_boot"].tolist() == [50, 50]
    assert fits["n_boot_failed"].tolist() == [0, 0]
    for col in ("ci_low", "ci_high"):
        for cell in fits[col]:
            assert all(v is None or np.isnan(v) for v in json.loads(cell)), (col, cell)
