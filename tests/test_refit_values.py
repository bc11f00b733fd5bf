"""refit's stored values against independent references (scipy.stats, scalingfit.fit,
scalingfit.fit_batch and scalingfit.bootstrap_batch run here on hand-picked rows): the
interval level, the final-loss row of each run, the bootstrap's stderr and failed
replicates, held parameters, and a fit stopped at the iteration limit."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("duckdb")
import scalingfit
from scalingfit import _synthdb
from scalingfit import refit as rf
from scalingfit._refit_boot import group_stream_id
from scipy import stats

NAMES = ("E", "A", "B", "alpha", "beta")


def _runs(n_sweeps: int = 2, runs: int = 20, checkpoints: int = 1, seed: int = 4) -> pd.DataFrame:
    df, _ = _synthdb.chinchilla_sweeps(n_sweeps, runs=runs, checkpoints=checkpoints, noise=0.005, seed=seed)
    return df


def _final(runs: pd.DataFrame, sweep: int) -> pd.DataFrame:
    """The sweep's final-loss points picked by hand: each run's row of the largest step, in
    the order refit fits them (by N, then D)."""
    g = runs[runs.sweep == sweep]
    g = g.loc[g.groupby("run_id")["step"].idxmax()]
    return g.sort_values(["N", "D"], kind="stable")


def _row(db: Path, sweep: int) -> pd.Series:
    fits = rf.read_fits(db)
    return fits[fits.sweep == sweep].iloc[0]


def _vec(row: pd.Series, col: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in json.loads(row[col])], dtype=float)


def _refit(runs: pd.DataFrame, db: Path, **kw) -> rf.RefitSummary:
    return rf.refit(runs, law="chinchilla", group_by=["sweep"], db=db, progress=False, **kw)


def _boot_reference(g: pd.DataFrame, sweep_key: str, *, n_resamples: int, seed: int, level: float,
                    method: str = "percentile") -> scalingfit.BootstrapBatchResult:
    """bootstrap_batch on one group's final points, around fit_batch's fit, with the group's
    stream id as refit names it."""
    x = g[["N", "D"]].to_numpy(dtype=float)
    y = g["value"].to_numpy(dtype=float)
    off = np.array([0, len(g)])
    center = scalingfit.fit_batch("chinchilla", x, y, off).x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)
        return scalingfit.bootstrap_batch(
            "chinchilla", x, y, off, n_resamples=n_resamples, seed=seed, level=level, method=method,
            center=center, problem_id=np.array([group_stream_id(sweep_key)], dtype=np.int64))


# ------------------------------------------------------------------------- 1. level
def test_gauss_newton_interval_uses_the_level(tmp_path: Path) -> None:
    runs = _runs()
    db8, db95 = tmp_path / "l80.duckdb", tmp_path / "l95.duckdb"
    _refit(runs, db8, level=0.8)
    _refit(runs, db95)
    g = _final(runs, 1)
    n = len(g)
    row8, row95 = _row(db8, 1), _row(db95, 1)
    assert row8["level"] == 0.8 and row8["ci_method"] == "gauss-newton-t" and row8["n_points"] == n
    est, se = _vec(row8, "params"), _vec(row8, "stderr")
    ref = scalingfit.fit("chinchilla", (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy())
    np.testing.assert_allclose(est, ref.x, rtol=1e-6)
    np.testing.assert_allclose(se, ref.stderr, rtol=1e-4)
    t = stats.t.ppf(0.9, n - 5)
    np.testing.assert_allclose(_vec(row8, "ci_low"), est - t * se, rtol=1e-12)
    np.testing.assert_allclose(_vec(row8, "ci_high"), est + t * se, rtol=1e-12)
    for name in NAMES:  # and fit's own interval at that level
        np.testing.assert_allclose(
            [_vec(row8, "ci_low")[NAMES.index(name)], _vec(row8, "ci_high")[NAMES.index(name)]],
            ref.interval(name, level=0.8), rtol=1e-4)
    width8 = _vec(row8, "ci_high") - _vec(row8, "ci_low")
    width95 = _vec(row95, "ci_high") - _vec(row95, "ci_low")
    np.testing.assert_allclose(width95 / width8, stats.t.ppf(0.975, n - 5) / t, rtol=1e-9)
    assert (width8 < width95).all()


def test_bootstrap_interval_uses_the_level(tmp_path: Path) -> None:
    runs = _runs(n_sweeps=2, runs=16)
    db8, db95 = tmp_path / "b80.duckdb", tmp_path / "b95.duckdb"
    _refit(runs, db8, bootstrap=200, seed=5, level=0.8)
    _refit(runs, db95, bootstrap=200, seed=5)
    row8, row95 = _row(db8, 1), _row(db95, 1)
    assert row8["level"] == 0.8 and row8["ci_method"] == "percentile" and row8["n_boot"] == 200
    ref = _boot_reference(_final(runs, 1), row8["group_key"], n_resamples=200, seed=5, level=0.8)
    want = np.array([ref.ci(name)[0] for name in NAMES])  # (P, 2)
    np.testing.assert_allclose(_vec(row8, "ci_low"), want[:, 0], rtol=1e-6)
    np.testing.assert_allclose(_vec(row8, "ci_high"), want[:, 1], rtol=1e-6)
    # the same replicates at 0.95: a wider interval, the reference's at that level
    want95 = np.array([ref.ci(name, level=0.95)[0] for name in NAMES])
    np.testing.assert_allclose(_vec(row95, "ci_low"), want95[:, 0], rtol=1e-6)
    np.testing.assert_allclose(_vec(row95, "ci_high"), want95[:, 1], rtol=1e-6)
    assert (_vec(row8, "ci_high") - _vec(row8, "ci_low") < _vec(row95, "ci_high") - _vec(row95, "ci_low")).all()


# ------------------------------------------------------------- 2. final loss = max step
@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_final_loss_is_the_largest_step_whatever_the_row_order(tmp_path: Path, order: str) -> None:
    runs = _runs(n_sweeps=2, runs=15, checkpoints=3, seed=11)
    if order == "reversed":
        stored = runs.sort_values(["run_id", "step"], ascending=[True, False])
    else:
        stored = runs.sample(frac=1.0, random_state=3)
    stored = stored.reset_index(drop=True)
    assert not stored.groupby("run_id")["step"].apply(lambda s: s.is_monotonic_increasing).all()
    db = tmp_path / "final.duckdb"
    s = _refit(stored, db)
    assert (s.n_fitted, s.n_failed) == (2, 0)
    for sweep in (0, 1):
        g = _final(runs, sweep)
        assert (g["step"] == 3).all() and len(g) == 15
        ref = scalingfit.fit("chinchilla", (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy())
        row = _row(db, sweep)
        assert row["n_points"] == 15
        np.testing.assert_allclose([row[k] for k in NAMES], ref.x, rtol=1e-6)
        np.testing.assert_allclose(row["cost"], ref.cost, rtol=1e-6)


# --------------------------------------------------- 3. bootstrap stderr, failed replicates
def test_bootstrap_stderr_and_failed_replicates_match_bootstrap_batch(tmp_path: Path) -> None:
    # sweep 0: 20 runs; sweep 1: 10 runs for 5 parameters (its fit converges, but resamples
    # with few distinct points cannot be fitted: some of its replicates fail)
    runs = _runs(n_sweeps=2, runs=20, seed=2)
    keep = runs[(runs.sweep == 0) | (runs.run_id < 20 + 10)].reset_index(drop=True)
    db = tmp_path / "boot.duckdb"
    _refit(keep, db, bootstrap=200, seed=9)
    failed = {}
    for sweep in (0, 1):
        row = _row(db, sweep)
        assert row["success"] and row["n_points"] == (20, 10)[sweep]
        ref = _boot_reference(_final(keep, sweep), row["group_key"], n_resamples=200, seed=9, level=0.95)
        assert row["n_boot_failed"] == int(ref.n_failed[0])
        np.testing.assert_allclose(_vec(row, "stderr"), [ref.stderr(n)[0] for n in NAMES], rtol=1e-6)
        failed[sweep] = int(row["n_boot_failed"])
    assert failed[1] > 0
    # the long table holds the same stderr as the fits row
    with rf.data._need("duckdb").connect(str(db), read_only=True) as con:
        fp = con.execute("SELECT param, stderr FROM fit_params WHERE group_key = ? ORDER BY param",
                         [_row(db, 1)["group_key"]]).df().set_index("param")["stderr"]
    np.testing.assert_array_equal(fp[list(NAMES)].to_numpy(), _vec(_row(db, 1), "stderr"))


# ------------------------------------------------------------------------ 4. fixed=
def test_held_parameter_intervals_are_fits_with_free_parameter_dof(tmp_path: Path) -> None:
    runs = _runs(n_sweeps=2, runs=12, seed=6)
    db = tmp_path / "fixed.duckdb"
    s = _refit(runs, db, fixed={"E": 1.69})
    assert s.n_failed == 0
    for sweep in (0, 1):
        g = _final(runs, sweep)
        ref = scalingfit.fit("chinchilla", (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy(),
                             fixed={"E": 1.69})
        row = _row(db, sweep)
        np.testing.assert_allclose([row[k] for k in NAMES], ref.x, rtol=1e-6)
        lo, hi, se = _vec(row, "ci_low"), _vec(row, "ci_high"), _vec(row, "stderr")
        for a, name in enumerate(NAMES):
            np.testing.assert_allclose([lo[a], hi[a]], ref.interval(name), rtol=1e-4, atol=0)
        # by hand: t on n - 4 degrees of freedom (E is not free), not n - 5
        t = stats.t.ppf(0.975, len(g) - 4)
        np.testing.assert_allclose(hi[1:] - lo[1:], 2 * t * se[1:], rtol=1e-12)
        assert lo[0] == hi[0] == 1.69


# ----------------------------------------------------------- 5. the iteration limit
def test_a_fit_stopped_at_the_iteration_limit_is_a_failure(tmp_path: Path, monkeypatch) -> None:
    # refit has no max_iter argument; a law whose fit options stop after 2 iterations
    spec = dataclasses.replace(rf.LAWS["chinchilla"], fit_kwargs={"max_iter": 2})
    monkeypatch.setitem(rf.LAWS, "chinchilla", spec)
    runs = _runs(n_sweeps=3, runs=20)
    xs, ys, off = [], [], [0]
    for sweep in range(3):
        g = _final(runs, sweep)
        xs.append(g[["N", "D"]].to_numpy(dtype=float))
        ys.append(g["value"].to_numpy(dtype=float))
        off.append(off[-1] + len(g))
    ref = scalingfit.fit_batch("chinchilla", np.vstack(xs), np.concatenate(ys), np.array(off), max_iter=2)
    assert (ref.status == 0).all()  # the reference itself stopped at the limit
    db = tmp_path / "maxiter.duckdb"
    s = _refit(runs, db)
    assert (s.n_fitted, s.n_failed) == (3, 3)
    fits = rf.read_fits(db).sort_values("sweep")
    assert fits["status"].tolist() == [0, 0, 0]
    assert not fits["success"].any()
    assert (fits["message"] == scalingfit.STATUS_MESSAGES[0]).all()
    np.testing.assert_allclose(fits[list(NAMES)].to_numpy(), ref.x, rtol=1e-9)


def test_a_row_without_run_id_is_skipped_and_named(tmp_path: Path) -> None:
    """The final step of each run: a row whose run_id is missing belongs to no run. It was
    kept as a run of its own (sweep 0 fitted on 21 points where it has 20 runs); now it is
    skipped, named in the reason column, and the fit is scalingfit.fit's on the 20 runs'
    final rows."""
    runs = _runs(checkpoints=2).astype({"run_id": "float64"})
    orphan = runs.index[(runs.sweep == 0) & (runs.step == runs.step.min())][0]
    runs.loc[orphan, "run_id"] = np.nan
    db = tmp_path / "r.duckdb"
    s = rf.refit(runs, law="chinchilla", group_by=["sweep"], db=db, progress=False)
    assert s.n_rows_skipped == 1
    row = _row(db, 0)
    assert row["n_points"] == 20
    assert "1 invalid row(s) skipped" in row["reason"] and "run_id is missing" in row["reason"]
    g = _final(runs.dropna(subset=["run_id"]), 0)
    want = scalingfit.fit("chinchilla", (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy())
    np.testing.assert_allclose(json.loads(row["params"]), want.x, rtol=1e-6)
