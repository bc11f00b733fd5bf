"""The refit's result rows built column-wise for a chunk, its vectorised row indices and its
core-time accounting: checked against independent computations (never against a clock)."""

from __future__ import annotations

import inspect
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
duckdb = pytest.importorskip("duckdb")

import scalingfit
from scalingfit import _core, _refit_boot, _status, _synthdb
from scalingfit import refit as rf

NAMES = ["E", "A", "B", "alpha", "beta"]


def _runs(n: int = 14, seed: int = 11) -> pd.DataFrame:
    """Synthetic sweeps with some groups that cannot be fitted or lose rows."""
    runs, _ = _synthdb.chinchilla_sweeps(n, runs=12, checkpoints=2, noise=0.005, seed=seed)
    runs = runs.astype({"value": object})
    runs.loc[runs.sweep == 1, "value"] = "abc"  # every row invalid: a row of status -3, no fit
    runs.loc[runs.index[runs.sweep == 2][:3], "N"] = -1.0  # rows skipped, the group fitted
    runs = runs[(runs.sweep != 3) | (runs.run_id % 12 < 3)]  # 3 points for 5 parameters
    runs = runs[(runs.sweep != 4) | (runs.run_id % 12 < 5)]  # too few once a bad row is gone:
    runs.loc[runs.index[runs.sweep == 4][:2], "D"] = np.inf  # both reasons in one
    runs["value"] = runs["value"].astype(str)
    return runs.reset_index(drop=True)


def _final(runs: pd.DataFrame, sweep: int) -> pd.DataFrame:
    """A group's valid rows, the final step of each run (what the refit fits), independently."""
    g = runs[runs.sweep == sweep].copy()
    g["value"] = pd.to_numeric(g["value"], errors="coerce")
    ok = np.isfinite(g[["N", "D", "value"]].to_numpy(dtype=float)).all(axis=1) & (g[["N", "D", "value"]] > 0).all(axis=1)
    return g[ok].sort_values(["run_id", "step"]).groupby("run_id").tail(1)


def _json_numbers(text: str) -> list[float]:
    return [np.nan if v is None else v for v in json.loads(text)]


@pytest.fixture(scope="module")
def refitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("refit_speed")
    runs = _runs()
    out: dict[str, Any] = {"runs": runs}
    for name, kw in (("gn", {}), ("boot", {"bootstrap": 40, "seed": 5})):
        db = folder / f"{name}.duckdb"
        out[name] = rf.refit(runs, db=db, chunk_groups=5, progress=False, **kw)
        with duckdb.connect(str(db), read_only=True) as con:
            out[name + "_fits"] = con.execute("SELECT * FROM fits ORDER BY group_key").df()
            out[name + "_params"] = con.execute("SELECT * FROM fit_params ORDER BY group_key, param").df()
        out[name + "_db"] = db
    return out


def test_each_row_equals_fit_on_that_groups_data(refitted) -> None:
    runs, fits = refitted["runs"], refitted["gn_fits"]
    checked = 0
    for _, row in fits[fits.success].iterrows():
        g = _final(runs, int(row.sweep))
        assert row.n_points == len(g)
        r = scalingfit.fit("chinchilla", (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy())
        np.testing.assert_allclose(json.loads(row.params), r.x, rtol=1e-6)
        np.testing.assert_allclose(json.loads(row.stderr), r.stderr, rtol=1e-4)
        checked += 1
    assert checked >= 10


def test_rows_that_cannot_be_fitted_say_why(refitted) -> None:
    fits = refitted["gn_fits"].set_index("sweep")
    assert fits.loc[1, "status"] == _status.BAD_INPUT and fits.loc[1, "n_points"] == 0
    assert fits.loc[1, "ci_method"] == "none" and fits.loc[1, "params"] == "[null, null, null, null, null]"
    assert fits.loc[1, "reason"].startswith("24 invalid row(s) skipped")
    assert fits.loc[3, "status"] == _status.BAD_INPUT and fits.loc[3, "reason"] == "too few points (3) for 5 parameters"
    assert fits.loc[4, "reason"].startswith("2 invalid row(s) skipped: ")
    assert fits.loc[4, "reason"].endswith("; too few points (4) for 5 parameters")
    assert fits.loc[2, "success"] and fits.loc[2, "reason"].startswith("3 invalid row(s) skipped")
    assert (fits["message"] == [_status.message(s) for s in fits["status"]]).all()
    assert (fits["success"] == (fits["status"] > 0)).all()
    assert refitted["gn"].n_rows_skipped == 24 + 3 + 2


@pytest.mark.parametrize("name", ["gn", "boot"])
def test_json_columns_hold_the_numbers_of_the_params_table(refitted, name: str) -> None:
    fits, params = refitted[name + "_fits"], refitted[name + "_params"]
    long = params.set_index(["group_key", "param"])
    for _, row in fits.iterrows():
        assert json.loads(row.param_names) == NAMES
        for col, pcol in (("params", "estimate"), ("stderr", "stderr"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            got = _json_numbers(row[col])
            want = [long.loc[(row.group_key, p), pcol] for p in NAMES]
            np.testing.assert_array_equal(got, want)  # the same doubles (NaN where null)
    expanded = rf.read_fits(refitted[name + "_db"]).sort_values("group_key")
    np.testing.assert_array_equal(expanded[NAMES].to_numpy(),
                                  np.array([_json_numbers(p) for p in fits["params"]]))
    if name == "boot":
        ok = fits[fits.success]
        assert (ok["ci_method"] == "percentile").all() and (ok["n_boot"] == 40).all()
        lo = np.array([_json_numbers(t) for t in ok["ci_low"]])
        hi = np.array([_json_numbers(t) for t in ok["ci_high"]])
        assert (lo <= hi).all()


@pytest.mark.parametrize("name", ["gn", "boot"])
def test_summary_core_time_is_a_part_of_the_total(refitted, name: str) -> None:
    s = refitted[name]
    assert 0 < s.seconds_in_fit <= s.seconds  # > 0: the core's solves were timed at all
    assert 0 <= s.share_outside_core <= 1
    assert s.share_outside_core == pytest.approx(1 - s.seconds_in_fit / s.seconds)
    assert f"{100 * s.share_outside_core:.0f}% of time outside the fitting core" in str(s)


def test_share_outside_core_stays_in_range() -> None:
    s = rf.RefitSummary("db", "chinchilla", "h", 1, 1, 0, 0, 1, 2.0, 3.0)  # summed worker time > wall
    assert s.share_outside_core == 0.0
    assert np.isnan(rf.RefitSummary("db", "chinchilla", "h", 0, 0, 0, 0, 0, 0.0, 0.0).share_outside_core)


def test_core_clock_counts_only_its_own_threads_calls() -> None:
    """The core clock is a context variable: a refit's count holds its own thread's solves
    (two threads refitting at once agree with each other), nested clocks both count an inner
    block's solves, and no solver is replaced (the core's functions stay the same objects)."""
    from scalingfit import _fit

    runs = _runs(8, seed=3)
    config = rf.RefitConfig(law="chinchilla", group_by=("sweep",), bootstrap=20)
    solvers = (_core.solve_batch, _core.bootstrap_batch)
    results: dict[int, Any] = {}

    def work(i: int) -> None:
        results[i] = rf.fit_frame(runs, config)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (rows_a, params_a, t_a), (rows_b, params_b, t_b) = results[0], results[1]
    assert t_a > 0 and t_b > 0
    cols = [c for c in rows_a.columns if c != "fitted_at"]
    pd.testing.assert_frame_equal(rows_a[cols], rows_b[cols])
    pd.testing.assert_frame_equal(params_a, params_b)
    with _fit.core_clock() as outer:
        with _fit.core_clock() as inner:
            rf.fit_frame(runs, config)
            assert (_core.solve_batch, _core.bootstrap_batch) == solvers
        scalingfit.fit_batch("power_law", np.logspace(7, 10, 10), np.logspace(1, 0, 10), [0, 10])
    assert 0 < inner[0] < outer[0]
    elsewhere = [0.0]

    def other() -> None:  # a clock of another thread does not see this thread's solves
        with _fit.core_clock() as c:
            elsewhere[0] = c[0]

    with _fit.core_clock() as mine:
        scalingfit.fit_batch("power_law", np.logspace(7, 10, 10), np.logspace(1, 0, 10), [0, 10])
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert mine[0] > 0 and elsewhere[0] == 0.0


def test_group_rows_is_the_concatenated_ranges() -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 6, 40)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for sel in (np.arange(40), rng.permutation(40)[:17], np.array([3, 3, 0]), np.zeros(0, dtype=np.int64)):
        want = np.concatenate([np.arange(offsets[j], offsets[j + 1]) for j in sel] + [np.zeros(0, dtype=np.int64)])
        got = _refit_boot.group_rows(offsets, sel)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)


def test_jsonl_rows_write_what_json_dumps_writes() -> None:
    tricky = [0.0, -0.0, 1e16, 1e-5, 1e-4, 123456789.123, 5e-324, 1.7976931348623157e308, np.nan, np.inf,
              -np.inf, 0.1 + 0.2, float(np.float32(0.1)), -2.5, 1e22, 3.0]
    a = np.array(tricky[:15]).reshape(3, 5)
    assert rf._jsonl_rows(a) == [rf._jsonl(r) for r in a]
    with np.errstate(over="ignore"):  # 1.8e308 is inf in float32
        a32 = a.astype(np.float32)
    assert rf._jsonl_rows(a32) == [rf._jsonl(r) for r in a32]
    assert rf._jsonl_rows(np.zeros((0, 5))) == []
    assert rf._jsonl_rows(np.zeros((2, 0))) == ["[]", "[]"]
    for text, row in zip(rf._jsonl_rows(a), a):
        np.testing.assert_array_equal(_json_numbers(text), np.where(np.isfinite(row), row, np.nan))


def test_chunking_changes_no_result(tmp_path: Path, refitted) -> None:
    db = tmp_path / "one_chunk.duckdb"
    rf.refit(refitted["runs"], db=db, progress=False)  # the default: one chunk here
    with duckdb.connect(str(db), read_only=True) as con:
        fits = con.execute("SELECT * FROM fits ORDER BY group_key").df()
        params = con.execute("SELECT * FROM fit_params ORDER BY group_key, param").df()
    cols = [c for c in fits.columns if c != "fitted_at"]
    pd.testing.assert_frame_equal(fits[cols], refitted["gn_fits"][cols])
    pd.testing.assert_frame_equal(params, refitted["gn_params"])


def test_default_chunk_is_the_documented_one() -> None:
    default = inspect.signature(rf.refit).parameters["chunk_groups"].default
    assert f"default {default})" in " ".join((rf.refit.__doc__ or "").split())


def test_column_wise_group_keys_are_the_per_value_keys() -> None:
    """``_frame_keys`` (column-wise) writes each row's key as ``json.dumps`` of the values
    normalised one by one (a missing value None, an integral float an int, default=str)."""
    import datetime
    import json
    import math

    import pandas as pd
    from scalingfit import refit

    frame = pd.DataFrame({
        "i": np.array([3, -7, 2**62, 0, 5, 1], dtype=np.int64),
        "u": np.array([1, 2, 3, 2**63, 0, 9], dtype=np.uint64),
        "f": [256.0, np.nan, 0.1, -0.0, 2.0**60, np.inf],
        "s": ["a", "é\"\\x", None, "", "1", "ü\n"],
        "b": [True, False, True, True, False, True],
        "ni": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
        "t": pd.to_datetime(["2024-01-01", None, "2024-03-01", "2024-01-01", "2020-02-02", "2021-01-01"]),
        "o": [datetime.date(2024, 1, 2), 1.5, None, "x", 4, float("nan")],
    })
    keys, cells = refit._frame_keys(frame)

    def key_value(v):  # the documented normalisation, one value at a time
        if v is None or v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, float) and v.is_integer() and abs(v) < 2.0**53:
            return int(v)
        return v

    for r, row in enumerate(frame.itertuples(index=False, name=None)):
        assert keys[r] == json.dumps([key_value(v) for v in row], default=str), r
        assert [key_value(c) for c in cells[r]] == [key_value(v) for v in row]
    assert keys[0].startswith('[3, 1, 256, "a", true, 1, "2024-01-01 00:00:00"')
    assert cells[1][2] is None and cells[2][3] is None and cells[1][5] is None
