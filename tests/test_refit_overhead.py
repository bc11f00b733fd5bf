"""The bulk refit's Python around the core (rows reduced to each run's final step, sorted and
packed by group, hashed, written): its results are bitwise those of the straightforward
computation, pandas' groupby with one ``fit_batch`` call per sweep, whether the rows arrive
sorted (a chunk as DuckDB reads it: the fast path, no sort) or shuffled (pandas sorts them).
No timings are asserted here (bench/bench_refit.py measures them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
import scalingfit
from scalingfit import _synthdb
from scalingfit import refit as rf

NAMES = ["E", "A", "B", "alpha", "beta"]


def _runs() -> pd.DataFrame:
    runs = _synthdb.chinchilla_sweeps(40, runs=12, checkpoints=3, seed=4)[0]
    runs.loc[runs.sweep == 5, "value"] = -1.0  # every row invalid: a row of its own, no fit
    runs.loc[runs.index[::97], "N"] = np.nan  # invalid rows, named in their group's reason
    runs.loc[runs.sweep == 9, ["N", "D"]] = [1e9, 1e11]  # one point repeated: the fit fails
    return runs


def _straightforward(runs: pd.DataFrame, fixed: dict[str, float]) -> dict[int, tuple[np.ndarray, str, int]]:
    """Per sweep: (parameters, stderr JSON, status) of fit_batch on that sweep alone, its rows
    reduced with pandas (valid rows, each run's final step, sorted by N and D)."""
    ok = runs[(runs.N > 0) & (runs.D > 0) & (runs.value > 0)]
    out = {}
    for sweep, g in ok.groupby("sweep"):
        fin = g.sort_values(["run_id", "step"]).groupby("run_id").tail(1).sort_values(["N", "D"], kind="stable")
        y = fin["value"].to_numpy()
        r = scalingfit.fit_batch("chinchilla", fin[["N", "D"]].to_numpy(), y, [0, len(y)], fixed=fixed or None)
        se = np.sqrt(np.clip(np.diagonal(r.cov[0]), 0, None)) if r.cov is not None else np.full(5, np.nan)
        out[int(sweep)] = (r.x[0], json.dumps([float(v) if np.isfinite(v) else None for v in se]), int(r.status[0]))
    return out


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
@pytest.mark.parametrize("fixed", [{}, {"E": 1.7}])
def test_refit_is_bitwise_the_straightforward_fit_of_each_group(tmp_path: Path, order: str,
                                                                 fixed: dict[str, float]) -> None:
    runs = _runs()
    if order == "shuffled":
        runs = runs.sample(frac=1.0, random_state=2).reset_index(drop=True)
    src = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(src), runs)
    s = rf.refit(src, chunk_groups=15, fixed=fixed or None, progress=False)
    assert (s.n_groups, s.n_fitted, s.n_chunks) == (40, 40, 3)
    got = rf.read_fits(src).set_index("sweep")
    want = _straightforward(runs, fixed)
    assert sorted(want) == sorted(set(range(40)) - {5})
    for sweep, (x, se, status) in want.items():
        row = got.loc[sweep]
        np.testing.assert_array_equal(row[NAMES].to_numpy(float), x, err_msg=f"sweep {sweep}")
        assert (row["stderr"], row["status"]) == (se, status), sweep
    assert got.loc[5, "reason"].startswith("36 invalid row(s) skipped") and not got.loc[5, "success"]
    assert not got.loc[9, "success"]
    again = rf.refit(src, chunk_groups=15, fixed=fixed or None, progress=False)
    assert (again.n_skipped, again.n_fitted) == (40, 0)  # sweep 5 too, by its raw rows' hash


def test_sorted_and_shuffled_rows_give_the_same_tables(tmp_path: Path) -> None:
    """The fast path (rows already in order) and pandas' sort write the same fits and
    fit_params tables, bootstrap intervals included (but for the rows a reason names: the
    first 3 invalid rows of a group in the order read, as before)."""
    runs = _runs()
    tables = []
    for name, frame in (("sorted", runs), ("shuffled", runs.sample(frac=1.0, random_state=3))):
        db = tmp_path / f"{name}.duckdb"
        rf.refit(frame, db=db, bootstrap=20, seed=1, chunk_groups=16, progress=False)
        with duckdb.connect(str(db), read_only=True) as con:
            tables.append([con.execute(f"SELECT * EXCLUDE (fitted_at, reason), regexp_extract(reason, '^\\d+') AS "
                                       f"n_rows_skipped FROM {t} ORDER BY ALL").df()
                           if t == "fits" else con.execute(f"SELECT * FROM {t} ORDER BY ALL").df()
                           for t in ("fits", "fit_params")])
    for a, b in zip(*tables):
        pd.testing.assert_frame_equal(a, b)
