"""Bulk refit on real DuckDB files: ingest, refit, resume after a kill, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
duckdb = pytest.importorskip("duckdb")

from scalingfit import UncertaintyWarning, _synthdb, data
from scalingfit import refit as rf


@pytest.fixture
def runs_db(tmp_path: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    runs, truth = _synthdb.chinchilla_sweeps(60, runs=30, checkpoints=3, noise=0.005, seed=4)
    path = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(path), runs, truth=truth)
    return path, runs, truth


def _params(db: Path) -> pd.DataFrame:
    return rf.read_fits(db).set_index("group_key").sort_index()


def test_refit_recovers_truth_and_resumes(runs_db) -> None:
    path, runs, truth = runs_db
    s = rf.refit(path, law="chinchilla", group_by=["sweep"], chunk_groups=16, progress=False)
    assert (s.n_groups, s.n_fitted, s.n_skipped, s.n_chunks) == (60, 60, 0, 4)
    fits = rf.read_fits(path).merge(truth, on="sweep", suffixes=("", "_true"))
    assert len(fits) == 60 and fits["success"].all()
    assert (fits["n_points"] == 30).all()  # one final-loss point per run (3 checkpoints reduced)
    a = fits["beta"] / (fits["alpha"] + fits["beta"])
    a_true = fits["beta_true"] / (fits["alpha_true"] + fits["beta_true"])
    assert np.median(np.abs(a - a_true)) < 0.02
    # Independent check of one group against scipy on the same final-loss points.
    from scipy.optimize import least_squares

    g = runs[runs.sweep == 7].sort_values(["run_id", "step"]).groupby("run_id").tail(1)
    N, D, L = g.N.to_numpy(), g.D.to_numpy(), g.value.to_numpy()
    row = fits[fits.sweep == 7].iloc[0]
    p = [row[k] for k in ("E", "A", "B", "alpha", "beta")]
    ref = least_squares(lambda q: q[0] + q[1] * N ** -q[3] + q[2] * D ** -q[4] - L, p, xtol=1e-15, ftol=1e-15, gtol=1e-15)
    np.testing.assert_allclose(p, ref.x, rtol=1e-5)
    # Without a bootstrap, Gauss-Newton intervals with Student's t on 30 - 5 degrees of
    # freedom (they took the normal quantile: 4% too narrow at 25 dof)
    from scipy.stats import t as t_dist

    with duckdb.connect(str(path), read_only=True) as con:
        fp = con.execute("SELECT estimate, stderr, ci_low, ci_high FROM fit_params").fetchdf()
        assert {m for (m,) in con.execute("SELECT DISTINCT ci_method FROM fits").fetchall()} == {"gauss-newton-t"}
    np.testing.assert_allclose((fp.ci_high - fp.ci_low) / 2, t_dist.ppf(0.975, 25) * fp.stderr, rtol=1e-9)
    # Re-running does nothing; the long params table has one row per parameter.
    s2 = rf.refit(path, law="chinchilla", group_by=["sweep"], chunk_groups=16, progress=False)
    assert (s2.n_fitted, s2.n_skipped) == (0, 60)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT COUNT(*) FROM fit_params").fetchone()[0] == 60 * 5
        assert con.execute("SELECT COUNT(DISTINCT config_hash) FROM fits").fetchone()[0] == 1


def test_changed_data_is_refitted(runs_db) -> None:
    path, _, _ = runs_db
    rf.refit(path, law="chinchilla", group_by=["sweep"], progress=False)
    before = _params(path)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE runs SET value = value * 1.01 WHERE sweep = 3")
    s = rf.refit(path, law="chinchilla", group_by=["sweep"], progress=False)
    assert (s.n_fitted, s.n_skipped) == (1, 59)
    after = _params(path)
    assert len(after) == 60
    k = json.dumps([3])
    assert after.loc[k, "data_hash"] != before.loc[k, "data_hash"]
    assert after.loc[k, "E"] == pytest.approx(before.loc[k, "E"] * 1.01, rel=0.02)


def test_kill_mid_refit_loses_nothing_and_rerun_is_identical(runs_db, tmp_path: Path) -> None:
    path, runs, _ = runs_db
    marker = tmp_path / "chunks.txt"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from scalingfit import refit as rf
        def hook(k):  # written whole (rename), so the test never reads a half-written marker
            tmp = Path({str(marker)!r} + ".tmp")
            tmp.write_text(str(k))
            tmp.replace({str(marker)!r})
            time.sleep(0.4)
        rf.refit({str(path)!r}, law="chinchilla", group_by=["sweep"], chunk_groups=6,
                 progress=False, on_chunk=hook)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            text = marker.read_text() if marker.exists() else ""
            if text and int(text) >= 3:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "refit finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:  # never leave the child running, whatever failed above
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    partial = rf.read_fits(path)
    n_done = len(partial)
    assert n_done >= 18 and n_done % 6 == 0 and n_done < 60  # whole chunks only
    assert partial["success"].all()
    s = rf.refit(path, law="chinchilla", group_by=["sweep"], chunk_groups=6, progress=False)
    assert s.n_skipped == n_done and s.n_fitted == 60 - n_done
    # The same refit on a fresh copy, uninterrupted and with other chunks, is bit-identical.
    fresh = tmp_path / "fresh.duckdb"
    _synthdb.write_duckdb(str(fresh), runs)
    rf.refit(fresh, law="chinchilla", group_by=["sweep"], chunk_groups=25, progress=False)
    a, b = _params(path), _params(fresh)
    for col in ("E", "A", "B", "alpha", "beta", "cost"):
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy()), col


def test_bad_rows_are_reported_per_group(tmp_path: Path) -> None:
    runs, _ = _synthdb.chinchilla_sweeps(4, runs=20, checkpoints=1, seed=5)
    runs.loc[3, "value"] = np.nan
    runs.loc[5, "N"] = -1.0
    runs.loc[runs.sweep == 2, "value"] = np.nan  # a group with no usable row
    runs = runs[~((runs.sweep == 3) & (runs.run_id % 20 > 2))]  # 3 points: too few for 5 params
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    s = rf.refit(csv, law="chinchilla", group_by=["sweep"], progress=False)
    fits = rf.read_fits(tmp_path / "runs.csv.fits.duckdb").set_index("sweep")
    assert s.n_fitted == 4 and s.n_failed == 2
    assert s.n_rows_skipped == 2 + 20  # sweep 0's two, and sweep 2's every row
    assert fits.loc[0, "success"] and "2 invalid row(s) skipped" in fits.loc[0, "reason"]
    # each row named by its run and step (runs 3 and 5 of sweep 0), which a user can find
    assert f"the row with run_id {runs.loc[3, 'run_id']}, step 1: value is missing or not finite" \
        in fits.loc[0, "reason"]
    assert f"the row with run_id {runs.loc[5, 'run_id']}, step 1: N must be > 0, got -1" in fits.loc[0, "reason"]
    assert fits.loc[2, "status"] == -3 and "invalid row" in fits.loc[2, "reason"]
    assert fits.loc[3, "status"] == -3 and "too few points (3)" in fits.loc[3, "reason"]
    assert fits.loc[1, "success"]


def test_clear_errors_for_missing_columns_and_corrupt_files(tmp_path: Path, runs_db) -> None:
    path, runs, _ = runs_db
    with pytest.raises(data.RunDataError, match=r"group_by column\(s\) \['dataset'\] not in the run data"):
        rf.refit(path, group_by=["dataset"], progress=False)
    bad = tmp_path / "corrupt.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(data.RunDataError, match="cannot open database"):
        rf.refit(bad, progress=False)
    pq = tmp_path / "corrupt.parquet"
    pq.write_bytes(b"PAR1garbage")
    with pytest.raises(data.RunDataError, match="cannot read run data"):
        rf.refit(pq, db=tmp_path / "out.duckdb", progress=False)
    with pytest.raises(data.RunDataError, match=r"runs.duckdb has no table 'nope' \(its tables: 'runs', 'truth'\)"):
        rf.refit(path, table="nope", db=tmp_path / "out.duckdb", progress=False)
    # Refused before the results database (and its lock) is created: an empty
    # out.duckdb and out.duckdb.lock were left behind before.
    assert not (tmp_path / "out.duckdb").exists() and not (tmp_path / "out.duckdb.lock").exists()
    with pytest.raises(data.RunDataError, match=r"missing required column\(s\) \['value'\]"):
        data.read_runs(runs.drop(columns=["value"]))
    with pytest.raises(data.RunDataError, match="no such file"):
        rf.refit(tmp_path / "missing.csv", progress=False)
    # A column the law fits is absent (a KeyError traceback from the first chunk before):
    # named before any fit, from a file and from a DataFrame handed to fit_frame.
    for drop, law in (("value", "chinchilla"), ("D", "kaplan_nd")):
        csv = tmp_path / f"no_{drop}.csv"
        runs.drop(columns=[drop]).to_csv(csv, index=False)
        with pytest.raises(data.RunDataError, match=rf"column\(s\) \['{drop}'\] not in the run data; law '{law}'"):
            rf.refit(csv, law=law, progress=False)
        assert not Path(f"{csv}.fits.duckdb").exists() and not Path(f"{csv}.fits.duckdb.lock").exists()
        with pytest.raises(data.RunDataError, match=rf"column\(s\) \['{drop}'\] not in the run data"):
            rf.refit(runs.drop(columns=[drop]), law=law, db=tmp_path / "frame.duckdb", progress=False)
        assert not (tmp_path / "frame.duckdb").exists()
        with pytest.raises(data.RunDataError, match=rf"missing required column\(s\) \['{drop}'\]"):
            rf.fit_frame(runs.drop(columns=[drop]), rf.RefitConfig(law=law, group_by=("sweep",)))
    with pytest.raises(ValueError, match="unknown law"):
        rf.refit(path, law="chinchila", progress=False)


def test_validate_runs_policies() -> None:
    df = pd.DataFrame({"run_id": [1, 1, 2, 3], "step": [1, 1, 1, 1], "N": [1e8, 1e8, 0.0, 2e8],
                       "value": [3.0, 3.0, 2.5, np.inf]})
    with pytest.raises(data.RunDataError, match="3 of 4 rows are invalid"):
        data.validate_runs(df)
    clean, rep = data.validate_runs(df, policy="skip-and-report")
    assert len(clean) == 1 and rep.n_bad == 3
    assert [str(b) for b in rep.rows] == [
        "row 1: run_id,step duplicates an earlier row", "row 2: N must be > 0, got 0",
        "row 3: value is missing or not finite"]
    # A cell that is not a number was a bare "could not convert string to float: 'abc'";
    # required columns that are absent were "4 rows, all valid".
    text = pd.DataFrame({"run_id": [1, 2, 3], "N": [1e8, "2e8", 3e8], "value": ["abc", 3.0, None]})
    with pytest.raises(data.RunDataError, match="2 of 3 rows are invalid"):
        data.validate_runs(text)
    clean, rep = data.validate_runs(text, policy="skip-and-report")
    assert [str(b) for b in rep.rows] == ["row 0: value is not a number: 'abc'",
                                          "row 2: value is missing or not finite"]
    assert clean["N"].tolist() == ["2e8"]
    with pytest.raises(data.RunDataError, match=r"missing required column\(s\) \['value'\]"):
        data.validate_runs(df.drop(columns=["value"]), policy="skip-and-report")
    with pytest.raises(TypeError, match=r"columns must map source names to canonical ones.*got list \['params'\]"):
        data.read_runs(df, columns=["params"])  # type: ignore[arg-type]


def test_parquet_and_dataframe_sources(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    runs, _ = _synthdb.chinchilla_sweeps(5, runs=20, checkpoints=1, seed=6)
    pq = tmp_path / "runs.parquet"
    runs.to_parquet(pq)
    s1 = rf.refit(pq, db=tmp_path / "a.duckdb", progress=False)
    s2 = rf.refit(runs, db=tmp_path / "b.duckdb", progress=False)
    assert s1.n_fitted == s2.n_fitted == 5
    a, b = _params(tmp_path / "a.duckdb"), _params(tmp_path / "b.duckdb")
    assert np.array_equal(a["alpha"].to_numpy(), b["alpha"].to_numpy())


def test_second_writer_gets_a_clear_error(runs_db) -> None:
    path, _, _ = runs_db
    holder = subprocess.Popen([sys.executable, "-c",
                               f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(data.RunDataError, match="in use by another process"):
            rf.refit(path, progress=False)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_bootstrap_intervals_are_chunk_invariant_and_cover(tmp_path: Path) -> None:
    runs, truth = _synthdb.chinchilla_sweeps(40, runs=30, checkpoints=1, noise=0.01, seed=8)
    a_db, b_db = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    for db in (a_db, b_db):
        _synthdb.write_duckdb(str(db), runs)
    rf.refit(a_db, bootstrap=100, seed=3, chunk_groups=7, progress=False)
    rf.refit(b_db, bootstrap=100, seed=3, chunk_groups=40, progress=False)
    a, b = _params(a_db), _params(b_db)
    assert (a["n_boot"] == 100).all() and (a["ci_method"] == "percentile").all()
    for col in ("ci_low", "ci_high", "stderr"):
        assert a[col].tolist() == b[col].tolist(), col  # same bits, whatever the chunking
    fits = rf.read_fits(a_db).merge(truth, on="sweep", suffixes=("", "_true"))
    lo = np.array([json.loads(v) for v in fits["ci_low"]], dtype=float)
    hi = np.array([json.loads(v) for v in fits["ci_high"]], dtype=float)
    t = fits[["E_true", "A_true", "B_true", "alpha_true", "beta_true"]].to_numpy()
    cover = ((lo <= t) & (t <= hi)).mean()
    # 200 nominal-95% intervals: a binomial 99.9% band around 0.95 is about [0.89, 0.99].
    assert 0.89 <= cover <= 1.0, cover
    # A different seed gives different intervals (the seed is part of the configuration); it
    # replaces the stored results only when asked to (never mixed into one table).
    with pytest.raises(data.RunDataError, match="another configuration"):
        rf.refit(a_db, bootstrap=100, seed=4, progress=False)
    s = rf.refit(a_db, bootstrap=100, seed=4, progress=False, overwrite=True)
    assert s.n_fitted == 40 and s.n_skipped == 0
    assert _params(a_db)["ci_low"].tolist() != a["ci_low"].tolist()


# ---------------------------------------------------------------- database safety
def _one_row_per_group(db: Path, n: int) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT group_key) FROM fits").fetchone() == (n, n)
        assert con.execute("SELECT COUNT(DISTINCT config_hash) FROM fits").fetchone()[0] == 1
        assert con.execute("SELECT COUNT(*) FROM fit_params").fetchone()[0] == 5 * n


def test_results_of_another_config_are_refused_unless_overwrite(runs_db, capsys) -> None:
    from scalingfit import cli

    path, _, _ = runs_db
    rf.refit(path, progress=False)
    before = _params(path)
    with pytest.raises(data.RunDataError, match=r"another configuration: for 60 group\(s\), bootstrap \(--bootstrap\) "
                                                r"was 0 and is now 20 and seed \(--seed\) was 0 and is now 1\. .*"
                                                r"overwrite=True \(CLI: --overwrite\)"):
        rf.refit(path, bootstrap=20, seed=1, progress=False)
    assert _params(path)["cost"].tolist() == before["cost"].tolist()  # untouched
    assert cli.main(["refit", str(path), "--bootstrap", "20", "--seed", "1", "--quiet"]) == 1
    assert "another configuration" in capsys.readouterr().err
    # Another law is another set of results: it lives beside the first.
    assert rf.refit(path, law="saturating_n", progress=False).n_fitted == 60
    assert cli.main(["refit", str(path), "--bootstrap", "20", "--seed", "1", "--quiet", "--overwrite"]) == 0
    after = rf.read_fits(path, law="chinchilla")
    assert len(after) == 60 and (after["n_boot"] == 20).all()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT COUNT(DISTINCT config_hash) FROM fits WHERE law = 'chinchilla'").fetchone()[0] == 1
        assert con.execute("SELECT COUNT(*) FROM fits WHERE law = 'saturating_n'").fetchone()[0] == 60
        assert con.execute("SELECT COUNT(*) FROM fit_params WHERE law = 'chinchilla'").fetchone()[0] == 300


def test_two_refits_of_one_db_in_one_process_are_kept_apart(runs_db) -> None:
    """DuckDB lets one process open a file twice; the refit's own lock refuses the second."""
    import threading

    path, _, _ = runs_db
    started, release = threading.Event(), threading.Event()
    done: list[object] = []

    def first() -> None:
        def hook(k: int) -> None:
            started.set()
            release.wait(60)
        try:
            done.append(rf.refit(path, chunk_groups=20, progress=False, on_chunk=hook))
        except BaseException as exc:  # pragma: no cover - reported below
            done.append(exc)

    t = threading.Thread(target=first)
    t.start()
    try:
        assert started.wait(60)
        with pytest.raises(data.RunDataError, match="being refitted by another process or thread"):
            rf.refit(path, progress=False)
    finally:
        release.set()
        t.join(60)
    assert isinstance(done[0], rf.RefitSummary), done
    _one_row_per_group(path, 60)
    assert rf.refit(path, progress=False).n_skipped == 60  # the lock is released afterwards


def test_concurrent_refit_processes_on_a_csv_source(tmp_path: Path) -> None:
    """Two refits of one CSV write to the same <source>.fits.duckdb: the second is refused with
    a clear error while the first runs, and the results are whole afterwards."""
    runs, _ = _synthdb.chinchilla_sweeps(24, runs=20, checkpoints=1, seed=9)
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    marker = tmp_path / "chunk.txt"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from scalingfit import refit as rf
        def hook(k):
            Path({str(marker)!r}).write_text(str(k))
            time.sleep(0.3)
        rf.refit({str(csv)!r}, chunk_groups=4, progress=False, on_chunk=hook)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while not marker.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "the first refit ended before the second started"
        with pytest.raises(data.RunDataError, match="being refitted|in use by another process"):
            rf.refit(csv, progress=False)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = tmp_path / "runs.csv.fits.duckdb"
    _one_row_per_group(out, 24)
    assert rf.refit(csv, progress=False).n_skipped == 24


def test_a_chunk_whose_write_fails_leaves_nothing_behind(runs_db) -> None:
    """_write is one transaction: when its last statement fails, the earlier ones of the chunk
    (deleting and inserting fits rows) are rolled back, and the error names the database and
    the cause (a RunDataError from DuckDB's)."""
    path, runs, _ = runs_db
    rf.refit(path, progress=False)
    before = _params(path)
    config = rf.RefitConfig(law="chinchilla", group_by=("sweep",))
    rows, params, _ = rf.fit_frame(runs, config)
    rows["cost"] = -1.0
    con = duckdb.connect(str(path))
    try:
        with pytest.raises(data.RunDataError, match=r"cannot write to .*runs\.duckdb: Binder Error: .*fit_params") as info:
            rf._write(con, rows, params.drop(columns=["ci_high"]), config)  # fit_params insert fails
        assert isinstance(info.value.__cause__, duckdb.Error)
    finally:
        con.close()
    assert _params(path)["cost"].tolist() == before["cost"].tolist()
    _one_row_per_group(path, 60)


def test_refit_into_another_db_from_a_source_that_has_fits_of_its_own(runs_db, tmp_path: Path) -> None:
    """A run database refitted in place holds a fits table; refitting it again into a separate
    results db attaches it as the source, and its fits table must not pass for the results
    db's own (it did: 'Table with name fits does not exist! Did you mean src.fits?')."""
    path, _, _ = runs_db
    rf.refit(path, law="chinchilla", group_by=["sweep"], progress=False)  # fits inside the source
    out = tmp_path / "separate.duckdb"
    s = rf.refit(path, law="chinchilla", group_by=["sweep"], db=out, progress=False)
    assert (s.n_fitted, s.n_skipped, s.n_failed) == (60, 0, 0)
    _one_row_per_group(out, 60)
    a, b = _params(path), _params(out)
    for col in ("E", "A", "B", "alpha", "beta"):
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy()), col
    assert rf.refit(path, law="chinchilla", group_by=["sweep"], db=out, progress=False).n_skipped == 60


def test_data_constrained_sweeps_with_a_unique_tokens_column(tmp_path: Path) -> None:
    """Sweeps of runs that repeat data (a U column), each drawn from Muennighoff et al.'s law
    with its own decay rates and 0.3% noise: every group fitted (7 constants, Huber on log
    loss), the rates recovered, and their 95% bootstrap intervals cover the truth in most
    groups (expected 19 of 20; >= 15 fails with probability < 0.3%)."""
    from scalingfit.planning import MUENNIGHOFF_2023

    rng = np.random.default_rng(3)
    frames, truth = [], []
    for s in range(20):
        r_D, r_N = rng.uniform(0.04, 0.1), rng.uniform(0.1, 0.3)
        N, D, U = (10 ** rng.uniform(lo, hi, 80) for lo, hi in ((7, 10), (9, 11.5), (8, 11)))
        loss = MUENNIGHOFF_2023.with_decay(1 / r_D, 1 / r_N).loss(N, D, U)
        frames.append(pd.DataFrame({"sweep": s, "run_id": [f"{s}-{i}" for i in range(80)], "N": N,
                                    "D": D, "U": U, "value": loss * np.exp(0.003 * rng.standard_normal(80))}))
        truth.append((r_D, r_N))
    db = tmp_path / "fits.duckdb"
    s = rf.refit(pd.concat(frames), law="data_constrained", group_by=["sweep"], db=db, bootstrap=200,
                 progress=False)
    assert (s.n_fitted, s.n_failed) == (20, 0)
    fits = rf.read_fits(db).sort_values("sweep")
    names = json.loads(fits["param_names"].iloc[0])
    true = np.array(truth)
    for k, col in enumerate(("r_D", "r_N")):
        i = names.index(col)
        est = fits[col].to_numpy()
        assert np.median(np.abs(est / true[:, k] - 1)) < 0.1, (col, est, true[:, k])
        lo = np.array([json.loads(v)[i] for v in fits["ci_low"]])
        hi = np.array([json.loads(v)[i] for v in fits["ci_high"]])
        assert np.sum((lo <= true[:, k]) & (true[:, k] <= hi)) >= 15, (col, lo, hi, true[:, k])


def test_a_non_positive_unique_token_count_is_a_bad_row() -> None:
    df = pd.DataFrame({"run_id": ["a", "b"], "N": [1e8, 2e8], "D": [1e9, 1e9], "U": [1e9, 0.0],
                       "value": [3.0, 2.9]})
    with pytest.raises(data.RunDataError, match="U"):
        data.validate_runs(df)


def test_refit_with_a_parameter_held(runs_db, capsys) -> None:
    """fixed={"E": ...} in every group: each group's result is scalingfit.fit's with the same
    hold on its final-loss points; the configuration (and its hash) differs from the free
    refit's, so the two are not mixed without --overwrite; the CLI's --fix does the same."""
    import scalingfit
    from scalingfit.cli import main

    path, runs, _ = runs_db
    s = rf.refit(path, law="chinchilla", group_by=["sweep"], fixed={"E": 1.7}, progress=False)
    assert (s.n_fitted, s.n_failed) == (60, 0)
    fits = _params(path)
    assert (fits["E"] == 1.7).all()
    g = runs[runs.sweep == 3].sort_values(["run_id", "step"]).groupby("run_id").tail(1)
    ref = scalingfit.fit("chinchilla", (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy(), fixed={"E": 1.7})
    row = fits[fits.sweep == 3].iloc[0]
    np.testing.assert_allclose([row[k] for k in ref.param_names], ref.x, rtol=1e-6)
    assert json.loads(row["stderr"])[0] == 0.0
    with pytest.raises(data.RunDataError, match="another configuration|overwrite"):
        rf.refit(path, law="chinchilla", group_by=["sweep"], progress=False)
    with pytest.raises(ValueError, match="fixed names unknown parameter 'gamma'"):
        rf.refit(path, law="chinchilla", group_by=["sweep"], fixed={"gamma": 1.0}, progress=False)
    assert main(["refit", str(path), "--law", "chinchilla", "--fix", "E=1.7", "--quiet"]) == 0
    assert _params(path)["E"].eq(1.7).all()  # the same configuration: nothing refitted


# ----------------------------------------------------------------- audit findings (I/O)
def _clean_and_one_bad(tmp_path: Path, column: str, cell: str) -> tuple[Path, Path, pd.DataFrame, int]:
    """A CSV of 20 sweeps whose row 1001 (well past the first chunk) has ``cell`` in
    ``column``, the same CSV without that row, the runs, and the row's index."""
    runs, _ = _synthdb.chinchilla_sweeps(20, runs=20, checkpoints=3, seed=11)
    i = 1001
    bad = runs.astype({column: object})
    bad.loc[i, column] = cell
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    clean = tmp_path / "clean.csv"
    runs.drop(index=i).to_csv(clean, index=False)
    return path, clean, runs, i


@pytest.mark.parametrize("column, cell, why", [
    ("value", "abc", "value is not a number: 'abc'"),
    ("N", "-5", "N must be > 0, got -5"),
])
def test_a_bad_cell_is_a_bad_row_of_its_group_named_by_its_run(tmp_path: Path, column, cell, why) -> None:
    """A cell that is not a number stopped the whole refit ("column 'value' has a non-numeric
    value at row 101", counted from the chunk's start), leaving the later groups unfitted; a
    negative one was named by its row in the chunk. Now either is a skipped row of its own
    group, named by its run and step, with chunks smaller than the data; every group is
    fitted, and the others exactly as without the bad row."""
    path, clean, runs, i = _clean_and_one_bad(tmp_path, column, cell)
    s = rf.refit(path, db=tmp_path / "bad.duckdb", chunk_groups=3, progress=False)
    ref = rf.refit(clean, db=tmp_path / "clean.duckdb", chunk_groups=3, progress=False)
    assert (s.n_fitted, s.n_failed, s.n_chunks, s.n_rows_skipped) == (20, 0, 7, 1)
    assert ref.n_rows_skipped == 0
    assert "1 invalid row(s) skipped" in str(s) and "invalid row" not in str(ref)
    fits, want = _params(tmp_path / "bad.duckdb"), _params(tmp_path / "clean.duckdb")
    sweep = runs.loc[i, "sweep"]
    reasons = fits.set_index("sweep")["reason"]
    assert reasons[sweep] == (f"1 invalid row(s) skipped: the row with run_id {runs.loc[i, 'run_id']}, "
                              f"step {runs.loc[i, 'step']}: {why}")
    assert (reasons.drop(index=sweep) == "").all()
    # the bad row is the one left out of clean.csv: the same data, the same fits
    assert np.array_equal(fits["data_hash"].to_numpy(), want["data_hash"].to_numpy())
    np.testing.assert_array_equal(fits[["E", "A", "B", "alpha", "beta"]].to_numpy(),
                                  want[["E", "A", "B", "alpha", "beta"]].to_numpy())


def test_a_bad_row_without_a_run_id_is_named_by_its_inputs() -> None:
    runs, _ = _synthdb.chinchilla_sweeps(2, runs=10, checkpoints=1, seed=12)
    runs = runs.drop(columns=["run_id", "step"])
    runs.loc[4, "value"] = np.inf
    _, notes = rf.prepare_frame(runs, rf.LAWS["chinchilla"], ["sweep"])
    n, d = runs.loc[4, "N"], runs.loc[4, "D"]
    assert notes == {rf._group_key([runs.loc[4, "sweep"]]):
                     f"1 invalid row(s) skipped: the row with N {float(n)!r}, D {float(d)!r}: value is missing or not finite"}
    assert float(notes["[0]"].split("N ")[1].split(",")[0]) == n  # in full: it can be searched for


def test_a_group_column_of_another_type_than_the_fits_table_is_refused(tmp_path: Path) -> None:
    """refit did not compare the group columns' types with an existing fits table (compare_refit
    did): a DOUBLE sweep (0.5) written into a BIGINT one was rounded to 0, and a rerun added
    duplicates; string labels gave a raw ConversionException."""
    runs, _ = _synthdb.chinchilla_sweeps(4, runs=12, checkpoints=1, seed=13)
    db = tmp_path / "r.duckdb"
    rf.refit(runs, db=db, progress=False)
    before = rf.read_fits(db)
    chunks: list[int] = []
    for sweep, kind in ((runs["sweep"] + 0.5, "DOUBLE"), ("s" + runs["sweep"].astype(str), "VARCHAR")):
        with pytest.raises(data.RunDataError, match=f"group column 'sweep' is BIGINT in the fits table and {kind} "
                                                    "in the run data"):
            rf.refit(runs.assign(sweep=sweep), db=db, progress=False, on_chunk=chunks.append)
        csv = tmp_path / f"{kind}.csv"
        runs.assign(sweep=sweep).to_csv(csv, index=False)
        with pytest.raises(data.RunDataError, match=f"is BIGINT in the fits table and {kind} in the run data"):
            rf.refit(csv, db=db, progress=False, on_chunk=chunks.append)
    assert chunks == []
    after = rf.read_fits(db)
    assert after["sweep"].tolist() == before["sweep"].tolist() == [0, 1, 2, 3]
    assert after["fitted_at"].tolist() == before["fitted_at"].tolist()


def test_read_fits_labels_each_law_with_its_own_parameters(tmp_path: Path) -> None:
    """read_fits(db) took every row's parameter names from the first row: chinchilla_huber's
    a, b, e were shown as E, A, B, and laws with other parameter counts raised numpy's
    ValueError. The reference is the fit_params table (one row per parameter)."""
    runs, _ = _synthdb.chinchilla_sweeps(3, runs=20, checkpoints=1, seed=14)
    db = tmp_path / "r.duckdb"
    laws = ("chinchilla", "chinchilla_huber", "saturating_n")
    for law in laws:
        if law == "chinchilla_huber":  # its stored Gauss-Newton intervals understate: said so
            with pytest.warns(UncertaintyWarning, match="understate"):
                rf.refit(runs, law=law, db=db, progress=False)
        else:
            rf.refit(runs, law=law, db=db, progress=False)
    wide = rf.read_fits(db)
    with duckdb.connect(str(db), read_only=True) as con:
        long = con.execute("SELECT group_key, law, param, estimate FROM fit_params").df()
    assert len(wide) == 9 and len(long) == 3 * (5 + 5 + 3)
    names = {law: json.loads(wide.loc[wide.law == law, "param_names"].iloc[0]) for law in laws}
    assert names["chinchilla_huber"] != names["chinchilla"]
    every = [n for law in laws for n in names[law]]
    assert set(every) <= set(wide.columns)
    for row in wide.itertuples(index=False):
        ref = long[(long.group_key == row.group_key) & (long.law == row.law)].set_index("param")["estimate"]
        assert sorted(ref.index) == sorted(names[row.law])
        for n in set(every):
            got = getattr(row, n)
            if n in ref.index:
                assert got == ref[n], (row.law, n)
            else:
                assert np.isnan(got), (row.law, n)
    one = rf.read_fits(db, law="saturating_n")  # one law: its own columns only
    assert len(one) == 3 and [c for c in one.columns if c in every] == names["saturating_n"]


@pytest.mark.parametrize("n, want", [
    (999.6e6, "1B"), (999.4e6, "999M"), (1e15, "1e+15"), (999.96e12, "1e+15"), (999.4e12, "999T"),
    (1.2e9, "1.2B"), (-999.6e6, "-1B"), (999.6, "1K"), (999.4, "999"), (0.5, "0.5"), (float("nan"), "nan"),
])
def test_human_never_rounds_into_the_wrong_unit(n: float, want: str) -> None:
    assert data.human(n) == want


def _late_bad_cell(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame, int]:
    """A CSV of 24,000 rows whose cell ``value`` is 'abc' on a row past DuckDB's type-sniffing
    sample (its first 20,480 rows: it types the column DOUBLE), the same CSV without that row,
    the runs, and the row's index."""
    runs, _ = _synthdb.chinchilla_sweeps(600, runs=20, checkpoints=2, seed=21)
    i = 23001
    bad = runs.astype({"value": object})
    bad.loc[i, "value"] = "abc"
    path = tmp_path / "late.csv"
    bad.to_csv(path, index=False)
    clean = tmp_path / "clean.csv"
    runs.drop(index=i).to_csv(clean, index=False)
    return path, clean, runs, i


def test_a_bad_cell_past_the_type_sniffing_sample_is_a_bad_row_of_its_group(tmp_path: Path, capsys) -> None:
    """DuckDB types a CSV's columns from its first rows: a cell 'abc' on line 23,003 of a column
    of numbers was found only when its chunk was read, and ended the refit with a raw
    ConversionException (a traceback from the CLI) and an empty results database. Now it is a
    bad row of its group, as a cell in the sample is: every group is fitted, the others as
    without the row."""
    path, clean, runs, i = _late_bad_cell(tmp_path)
    with duckdb.connect() as con:  # the premise: DuckDB's sniffer does not see the cell
        sniffed = con.execute(f"DESCRIBE SELECT * FROM read_csv_auto('{path}')").fetchall()
        assert ("value", "DOUBLE") in [r[:2] for r in sniffed]
    s = rf.refit(path, db=tmp_path / "bad.duckdb", chunk_groups=250, progress=False)
    ref = rf.refit(clean, db=tmp_path / "clean.duckdb", chunk_groups=250, progress=False)
    assert (s.n_fitted, s.n_failed, s.n_rows_skipped) == (600, 0, 1)
    assert (ref.n_fitted, ref.n_rows_skipped) == (600, 0)
    fits, want = _params(tmp_path / "bad.duckdb"), _params(tmp_path / "clean.duckdb")
    reasons = fits.set_index("sweep")["reason"]
    sweep = runs.loc[i, "sweep"]
    assert reasons[sweep] == (f"1 invalid row(s) skipped: the row with run_id {runs.loc[i, 'run_id']}, "
                              f"step {runs.loc[i, 'step']}: value is not a number: 'abc'")
    assert (reasons.drop(index=sweep) == "").all()
    assert np.array_equal(fits["data_hash"].to_numpy(), want["data_hash"].to_numpy())
    np.testing.assert_array_equal(fits[["E", "A", "B", "alpha", "beta"]].to_numpy(),
                                  want[["E", "A", "B", "alpha", "beta"]].to_numpy())
    from scalingfit import cli

    assert cli.main(["refit", str(path), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert len(rf.read_fits(f"{path}.fits.duckdb")) == 600


class _Counting:
    """A DuckDB connection that counts the queries that read a CSV file's rows (not its schema)."""

    def __init__(self, con) -> None:
        self._con, self.reads = con, 0

    def execute(self, sql: str, *args):
        if "read_csv" in sql and not sql.lstrip().startswith("DESCRIBE"):
            self.reads += 1
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def test_a_csv_source_is_read_once_whatever_the_number_of_chunks(tmp_path: Path, monkeypatch) -> None:
    """Each chunk's rows were selected from a fresh scan of the CSV (parsed whole every time):
    the reading time grew with the square of the data (22 s of 32,000 groups in chunks of
    500). Now the file is read once, into a temporary table, however many chunks there are."""
    from scalingfit import refit_compare as rc

    runs, _ = _synthdb.chinchilla_sweeps(12, runs=10, checkpoints=2, seed=3)
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    opened: list[_Counting] = []
    real = rf._open

    def counting(db, job="refit"):
        opened.append(_Counting(real(db, job)))
        return opened[-1]

    monkeypatch.setattr(rf, "_open", counting)
    for k in (1, 4, 12):
        s = rf.refit(csv, db=tmp_path / f"fits{k}.duckdb", chunk_groups=k, progress=False)
        assert (s.n_chunks, s.n_fitted) == (12 // k, 12)
        c = rc.compare_refit(csv, ["chinchilla", "kaplan_nd"], db=tmp_path / f"scores{k}.duckdb", chunk_groups=k,
                             progress=False)
        assert (c.n_chunks, c.n_scored) == (12 // k, 12)
    assert [c.reads for c in opened] == [1] * 6
    # the same fits as from the data in a DuckDB table (read in place, chunk by chunk)
    db = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(db), runs)
    rf.refit(db, chunk_groups=5, progress=False)
    a, b = _params(tmp_path / "fits4.duckdb"), _params(db)
    assert np.array_equal(a["data_hash"].to_numpy(), b["data_hash"].to_numpy())
    np.testing.assert_array_equal(a[["E", "A", "B", "alpha", "beta"]].to_numpy(),
                                  b[["E", "A", "B", "alpha", "beta"]].to_numpy())


def test_the_progress_of_a_resumed_refit_is_of_its_own_work(runs_db, monkeypatch, capsys) -> None:
    """A resumed refit counted the groups fitted before as progress: 28,000 of 40,000 groups
    'done' at 27,000 groups/s, ETA 0 s, with the 12,000 to fit still ahead. Now they are
    taken off the total and named as already done; the rate and ETA are of this run's fits."""
    path, _, _ = runs_db

    def stop(k: int) -> None:
        if k == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rf.refit(path, chunk_groups=10, progress=False, on_chunk=stop)  # 20 of the 60 groups
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain lines (without tqdm)
    s = rf.refit(path, chunk_groups=10, progress=True)
    assert (s.n_fitted, s.n_skipped) == (40, 20)
    lines = capsys.readouterr().err.splitlines()
    counts = [tuple(int(x) for x in line.split()[0].split("/")) for line in lines]
    assert counts == [(0, 50), (0, 40), (10, 40), (20, 40), (30, 40), (40, 40)]
    assert lines[0] == "  0/50 groups (10 already done), 0 groups/s, ETA ?"
    assert lines[1] == "  0/40 groups (20 already done), 0 groups/s, ETA ?"
    assert all("(20 already done)" in line and "ETA ?" not in line for line in lines[2:])
    assert lines[-1].endswith("ETA 0 s")


def test_the_progress_bar_takes_what_was_done_before_off_its_total(capsys) -> None:
    from scalingfit._progress import progress_bar

    pytest.importorskip("tqdm")
    bar = progress_bar(10, True)
    bar(0, 6)
    bar(3)
    bar(None)
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert " 3/4 " in last and "6 already done" in last and "/10" not in last


def test_a_run_scored_on_several_sets_is_one_row_per_group(tmp_path: Path) -> None:
    """One run evaluated on several validation sets, grouped by set: the same run_id and step
    appear once in each group. They were refused as duplicates across groups ("11 groups
    fitted (10 failed), 29200 invalid row(s) skipped"); only a repeat inside a group is one.
    Each group's fit equals scalingfit.fit on that set's rows."""
    import scalingfit

    rng = np.random.default_rng(7)
    N = 10 ** rng.uniform(7.5, 10, 25)
    D = N * 10 ** rng.uniform(0.5, 2.0, 25)
    base = 1.7 + 400 * N**-0.34 + 410 * D**-0.28
    frames = [pd.DataFrame({"split": name, "run_id": np.arange(25), "step": 1, "N": N, "D": D, "metric": "loss",
                            "value": (base + shift) * (1 + 0.005 * rng.standard_normal(25))})
              for name, shift in (("c4", 0.0), ("wiki", 0.3), ("code", -0.2))]
    runs = pd.concat(frames, ignore_index=True)
    db = tmp_path / "splits.duckdb"
    s = rf.refit(runs, law="chinchilla", group_by=["split"], db=db, progress=False)
    assert (s.n_fitted, s.n_failed, s.n_rows_skipped) == (3, 0, 0)
    fits = rf.read_fits(db).set_index("split")
    for f in frames:
        name = f["split"].iloc[0]
        ref = scalingfit.fit("chinchilla", (f.N.to_numpy(), f.D.to_numpy()), f.value.to_numpy())
        np.testing.assert_allclose(fits.loc[name, list(ref.param_names)].to_numpy(float), ref.x, rtol=1e-6)
    # a run and step twice in one group is still a duplicate, named
    twice = pd.concat([runs, runs.iloc[[0]]], ignore_index=True)
    s2 = rf.refit(twice, law="chinchilla", group_by=["split"], db=tmp_path / "twice.duckdb", progress=False)
    assert s2.n_rows_skipped == 1
    reason = rf.read_fits(tmp_path / "twice.duckdb").set_index("split").loc["c4", "reason"]
    assert "split,run_id,step duplicates an earlier row" in reason
