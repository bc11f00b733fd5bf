"""Bulk refit on a Dask LocalCluster: bitwise equal to the local refit, survives a killed worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
duckdb = pytest.importorskip("duckdb")
dask_config = pytest.importorskip("dask.config")

from scalingfit import _synthdb, cli
from scalingfit import distributed as sd
from scalingfit import refit as rf


def _start_cluster() -> tuple[distributed.LocalCluster, distributed.Client]:
    # dashboard_address=None turns the dashboard off, but the scheduler still serves its HTTP
    # routes on :8787 and warns when a second cluster finds it taken: a random port instead.
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       memory_limit="768MiB", dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": ":0"})
    client = distributed.Client(cluster)
    client.run(_warm)  # import the fitting stack on every worker before timing-sensitive steps
    return cluster, client


def _warm() -> int:
    import scalingfit.refit  # noqa: F401

    return os.getpid()


@pytest.fixture(scope="module")
def client():
    cluster, client = _start_cluster()
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def sweeps() -> pd.DataFrame:
    runs, _ = _synthdb.chinchilla_sweeps(120, runs=30, checkpoints=3, noise=0.005, seed=11)
    return runs


def _db(tmp_path: Path, name: str, runs: pd.DataFrame) -> Path:
    path = tmp_path / name
    _synthdb.write_duckdb(str(path), runs)
    return path


def _tables(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        # Every column but the wall-clock time of the fit.
        fits = con.execute("SELECT * EXCLUDE (fitted_at) FROM fits ORDER BY group_key").df()
        params = con.execute("SELECT * FROM fit_params ORDER BY group_key, param").df()
    return fits, params


def _assert_identical(a: Path, b: Path) -> None:
    fa, pa = _tables(a)
    fb, pb = _tables(b)
    assert fa["group_key"].is_unique and len(fa) == len(fb)
    pd.testing.assert_frame_equal(fa, fb, check_exact=True)
    pd.testing.assert_frame_equal(pa, pb, check_exact=True)
    # assert_frame_equal treats NaN == NaN; bitwise equality of the numbers, explicitly:
    for col in ("estimate", "stderr", "ci_low", "ci_high"):
        assert np.array_equal(pa[col].to_numpy().view(np.int64), pb[col].to_numpy().view(np.int64)), col


def test_bitwise_identical_to_local_refit_and_resumes(client, sweeps, tmp_path: Path) -> None:
    local = _db(tmp_path, "local.duckdb", sweeps)
    dask = _db(tmp_path, "dask.duckdb", sweeps)
    s_local = rf.refit(local, law="chinchilla", group_by=["sweep"], chunk_groups=50, progress=False)
    s = sd.refit_dask(dask, client, law="chinchilla", group_by=["sweep"], chunk_groups=7, progress=False)
    assert isinstance(s, sd.DaskRefitSummary) and s.n_workers == 2
    assert (s.n_groups, s.n_fitted, s.n_skipped, s.n_chunks) == (120, 120, 0, 18)
    assert s.config_hash == s_local.config_hash and s.n_failed == 0
    _assert_identical(local, dask)
    assert not (tmp_path / ".dask.duckdb.shards").exists()  # shards removed as chunks are written
    # Resume: nothing to do; then one changed group is refitted, by the cluster as locally.
    s2 = rf.refit(dask, client=client, chunk_groups=13, progress=False)
    assert (s2.n_fitted, s2.n_skipped) == (0, 120)
    for path in (local, dask):
        with duckdb.connect(str(path)) as con:
            con.execute("UPDATE runs SET value = value * 1.02 WHERE sweep = 33")
    rf.refit(local, chunk_groups=50, progress=False)
    s3 = rf.refit(dask, client=client, chunk_groups=13, progress=False)
    assert (s3.n_fitted, s3.n_skipped) == (1, 119)
    _assert_identical(local, dask)


def test_csv_source_with_bad_rows_matches_local(client, tmp_path: Path) -> None:
    runs, _ = _synthdb.chinchilla_sweeps(12, runs=20, checkpoints=2, seed=5)
    runs.loc[3, "value"] = np.nan
    runs.loc[runs.sweep == 2, "value"] = np.nan  # a group with no usable row
    runs = runs[~((runs.sweep == 3) & (runs.run_id % 20 > 2))]  # too few points for 5 parameters
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    rf.refit(csv, db=tmp_path / "local.duckdb", chunk_groups=12, progress=False)
    s = rf.refit(csv, db=tmp_path / "dask.duckdb", client=client, chunk_groups=5,
                 shard_dir=tmp_path / "shards", progress=False)
    assert (s.n_fitted, s.n_failed) == (12, 2)
    _assert_identical(tmp_path / "local.duckdb", tmp_path / "dask.duckdb")
    assert not (tmp_path / "shards").exists()  # made for the refit, removed with its shards


def test_a_csv_with_a_bad_cell_past_the_sniffing_sample_matches_local(client, tmp_path: Path) -> None:
    """A cell 'abc' past DuckDB's type-sniffing sample (its first 20,480 rows) of a column it
    typed DOUBLE ended the driver's shard export with a raw ConversionException and left an
    empty results database. Now the CSV is read once, the cell a bad row of its group, and the
    cluster's table is the local one."""
    runs, _ = _synthdb.chinchilla_sweeps(600, runs=20, checkpoints=2, seed=21)
    bad = runs.astype({"value": object})
    bad.loc[23001, "value"] = "abc"
    csv = tmp_path / "late.csv"
    bad.to_csv(csv, index=False)
    rf.refit(csv, db=tmp_path / "local.duckdb", chunk_groups=250, progress=False)
    s = sd.refit_dask(csv, client, db=tmp_path / "dask.duckdb", chunk_groups=250, progress=False)
    assert (s.n_fitted, s.n_failed, s.n_rows_skipped) == (600, 0, 1)
    _assert_identical(tmp_path / "local.duckdb", tmp_path / "dask.duckdb")


def test_the_shards_a_killed_driver_left_are_removed_by_the_next_run_into_its_database(client, sweeps,
                                                                                     tmp_path: Path) -> None:
    """A driver that is killed cannot remove its shard folder: two kills left 7 Parquet shards
    that no later run removed. Now each run's folder names its results database, and the next
    run into that database removes the folders its dead drivers left (it holds the database's
    lock, so no live driver owns them). Another database's folders are kept: their driver may
    be running. So is a folder that names no database (an older scalingfit's)."""
    import shutil

    runs = sweeps[sweeps.sweep < 12]
    base = tmp_path / "scratch"

    def leave(name: str):  # a copy of the live run folder, shards and all: what a kill leaves
        def hook(k: int) -> None:
            if k == 1:
                (live,) = [p for p in base.iterdir() if not p.name.startswith(("dead-", "older"))]
                shutil.copytree(live, base / name)
        return hook

    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    sd.refit_dask(runs, client, db=a, shard_dir=base, chunk_groups=2, progress=False, on_chunk=leave("dead-a"))
    sd.refit_dask(runs, client, db=b, shard_dir=base, chunk_groups=2, progress=False, on_chunk=leave("dead-b"))
    assert sorted(p.name for p in base.iterdir()) == ["dead-a", "dead-b"]
    assert list((base / "dead-a").glob("chunk-*.parquet")) and list((base / "dead-b").glob("chunk-*.parquet"))
    (base / "older").mkdir()
    (base / "older" / "chunk-0000000.parquet").write_bytes(b"PAR1")
    s = rf.refit(runs, db=a, client=client, shard_dir=base, chunk_groups=2, progress=False)  # the resume
    assert (s.n_fitted, s.n_skipped) == (0, 12)
    assert sorted(p.name for p in base.iterdir()) == ["dead-b", "older"]
    s = rf.refit(runs, db=b, client=client, shard_dir=base, chunk_groups=2, progress=False)
    assert sorted(p.name for p in base.iterdir()) == ["older"]


def _fail_the_chunk_of_sweep_8() -> None:
    """On a worker: fit_frame raises for the chunk holding sweep 8 (a task that fails)."""
    import scalingfit.refit as r

    real = r.fit_frame

    def failing(frame, *args, **kwargs):  # type: ignore[no-untyped-def]
        if (frame["sweep"] == 8).any():
            raise RuntimeError("injected failure of the chunk holding sweep 8")
        return real(frame, *args, **kwargs)

    failing.real = real  # type: ignore[attr-defined]
    r.fit_frame = failing


def _restore_fit_frame() -> None:
    import scalingfit.refit as r

    r.fit_frame = getattr(r.fit_frame, "real", r.fit_frame)


def test_a_failing_task_stops_the_refit_with_its_error(client, tmp_path: Path) -> None:
    """A task that raises on its worker stops the refit with that error (a bad cell no longer
    does: it is a skipped row of its group); the chunks finished before are kept, whole."""
    runs, _ = _synthdb.chinchilla_sweeps(9, runs=20, checkpoints=1, seed=7)
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    client.run(_fail_the_chunk_of_sweep_8)
    try:
        with pytest.raises(RuntimeError, match="injected failure of the chunk holding sweep 8"):
            rf.refit(csv, db=tmp_path / "fits.duckdb", client=client, chunk_groups=3, progress=False)
    finally:
        client.run(_restore_fit_frame)
    assert not any(p.name.endswith(".shards") for p in tmp_path.iterdir())
    # Chunks that finished before the error are kept, whole; the failed one wrote nothing.
    with duckdb.connect(str(tmp_path / "fits.duckdb"), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        keys = [r[0] for r in con.execute("SELECT group_key FROM fits").fetchall()] if "fits" in tables else []
    assert len(keys) in (0, 3, 6) and json.dumps([8]) not in keys
    # and the same file with a bad cell: a skipped row of its group, the refit completes
    runs["N"] = runs["N"].astype(object)
    runs.loc[runs.index[-1], "N"] = "abc"
    runs.to_csv(csv, index=False)
    s = rf.refit(csv, db=tmp_path / "bad.duckdb", client=client, chunk_groups=3, progress=False)
    assert s.n_fitted == 9 and s.n_rows_skipped == 1 and "1 invalid row(s) skipped" in str(s)


def test_a_worker_with_another_version_is_refused(client, tmp_path: Path) -> None:
    path = tmp_path / "shard.parquet"
    with pytest.raises(RuntimeError, match="runs scalingfit .* but the driver runs 0.0.0"):
        client.submit(sd._fit_shard, str(path), rf.RefitConfig("chinchilla", ("sweep",)), frozenset(), 1,
                      "0.0.0", pure=False).result()


def test_killed_worker_loses_and_duplicates_nothing(sweeps, tmp_path: Path) -> None:
    local = _db(tmp_path, "local.duckdb", sweeps)
    dask = _db(tmp_path, "dask.duckdb", sweeps)
    rf.refit(local, chunk_groups=120, progress=False)
    cluster, client = _start_cluster()
    pids = client.run(os.getpid)
    killed: dict[str, object] = {}

    def kill_a_busy_worker() -> None:
        # SIGKILL the first worker seen running one of the refit's tasks; note what it held.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            busy = {w: [k for k in keys if str(k).startswith("scalingfit-refit-")]
                    for w, keys in client.processing().items()}
            busy = {w: keys for w, keys in busy.items() if keys}
            if busy:
                victim = min(busy)
                held = client.has_what().get(victim, ())
                os.kill(pids[victim], signal.SIGKILL)
                killed.update(pid=pids[victim], running=busy[victim], held=list(held))
            time.sleep(0.002)

    # The driver is busy in its callback; the killer must watch from another thread.
    killer = threading.Thread(target=kill_a_busy_worker)
    try:
        s = rf.refit(dask, client=client, chunk_groups=6, progress=False,
                     on_chunk=lambda n: killer.start() if n == 2 else None)
        killer.join()
        assert killed.get("running"), "no worker was killed while running a task"
        assert (s.n_fitted, s.n_skipped, s.n_chunks) == (120, 0, 20)
        # The nanny replaces the killed process.
        deadline = time.monotonic() + 30
        while killed["pid"] in client.run(os.getpid).values() or len(client.nthreads()) < 2:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.1)
    finally:
        client.close()
        cluster.close()
    with duckdb.connect(str(dask), read_only=True) as con:
        per_group = con.execute("SELECT group_key, COUNT(*) FROM fits GROUP BY group_key").fetchall()
        n_params = con.execute("SELECT COUNT(*) FROM fit_params").fetchone()[0]
    assert len(per_group) == 120 and all(n == 1 for _, n in per_group)
    assert n_params == 120 * 5
    _assert_identical(local, dask)


def test_cli_scheduler_local(sweeps, tmp_path: Path, capsys) -> None:
    path = _db(tmp_path, "runs.duckdb", sweeps[sweeps.sweep < 20])
    rc = cli.main(["refit", str(path), "--scheduler", "local:1", "--chunk", "8", "--quiet", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n_fitted"] == 20 and out["n_workers"] == 1 and out["n_chunks"] == 3
    local = _db(tmp_path, "local.duckdb", sweeps[sweeps.sweep < 20])
    rf.refit(local, progress=False)
    _assert_identical(local, path)


def test_bad_scheduler_arguments(tmp_path: Path, sweeps) -> None:
    path = _db(tmp_path, "runs.duckdb", sweeps[sweeps.sweep < 2])
    with pytest.raises(ValueError, match="needs a distributed.Client"):
        sd.refit_dask(path)
    with pytest.raises(ValueError, match="positive number of workers"):
        rf.refit(path, scheduler="local:zero", progress=False)
    # 100,000 local worker processes hung the machine starting them: refused at once, by number
    most = sd.MAX_LOCAL_WORKERS_PER_CORE * (os.cpu_count() or 1)
    with pytest.raises(ValueError, match=rf"100000 local worker processes on .* at most {most} .*give its address"):
        rf.refit(path, scheduler="local:100000", progress=False)
    with pytest.raises(ValueError, match="not both"), sd.connect(client=object(), scheduler="local:1"):
        pass
    assert not any(p.name.endswith(".shards") for p in tmp_path.iterdir())


def test_bad_arguments_are_refused_before_any_file_is_made(client, sweeps, tmp_path: Path) -> None:
    runs = sweeps[sweeps.sweep < 3]
    (tmp_path / "a_file").write_text("x")
    db = tmp_path / "fits.duckdb"
    cases = [
        (dict(client=client, scheduler="local:1"), ValueError, "not both"),
        (dict(client="tcp://host:8786"), TypeError, r"client must be a distributed.Client, got str .*scheduler="),
        (dict(scheduler="foo"), ValueError, "scheduler must be an address .* got 'foo' .*missing port"),
        (dict(scheduler=5), TypeError, "scheduler must be an address .* got int 5"),
        (dict(scheduler="local:0"), ValueError, "positive number of workers"),
        (dict(scheduler="http://host:1"), ValueError, "unknown address scheme"),
        (dict(client=client, shard_dir=tmp_path / "a_file"), ValueError, "shard_dir .* is a file"),
        (dict(client=client, shard_dir=tmp_path / "a_file" / "sub"), ValueError, "shard_dir .* inside .*a_file"),
        (dict(client=client, shard_dir=3), TypeError, "shard_dir must be a folder path"),
        (dict(client=client, law="nope"), ValueError, "unknown law"),
        (dict(scheduler="local:1", foo=1), TypeError, "unexpected keyword argument 'foo'"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            sd.refit_dask(runs, db=db, progress=False, **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"], kwargs
    # The same checks through refit(client=...) (which has opened its database by then).
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        rf.refit(runs, db=db, client="tcp://host:8786", progress=False)


def test_an_unreachable_scheduler_is_one_error_and_leaves_no_file(client, sweeps, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runs = sweeps[sweeps.sweep < 3]
    with dask_config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(OSError, match=f"cannot connect to the Dask scheduler at tcp://127.0.0.1:{port}"):
        sd.refit_dask(runs, scheduler=f"tcp://127.0.0.1:{port}", db=tmp_path / "fits.duckdb", progress=False)
    assert list(tmp_path.iterdir()) == []
    # refit(scheduler=) (and the CLI's --scheduler) connects before making any file, too
    with dask_config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(OSError, match=f"cannot connect to the Dask scheduler at tcp://127.0.0.1:{port}"):
        rf.refit(runs, scheduler=f"tcp://127.0.0.1:{port}", db=tmp_path / "fits.duckdb", progress=False)
    assert list(tmp_path.iterdir()) == []
    # The failed client is not left as the default: a refit with a good client still runs.
    assert distributed.default_client() is client
    s = sd.refit_dask(runs, client, db=tmp_path / "fits.duckdb", progress=False)
    assert s.n_fitted == 3


def test_shard_dir_made_for_the_refit_is_removed_and_one_given_is_kept(client, sweeps, tmp_path: Path) -> None:
    runs = sweeps[sweeps.sweep < 4]
    nested = tmp_path / "new" / "deeper"
    s = sd.refit_dask(runs, client, db=tmp_path / "a.duckdb", shard_dir=nested, chunk_groups=2, progress=False)
    assert s.n_chunks == 2 and not (tmp_path / "new").exists()
    given = tmp_path / "scratch"
    given.mkdir()
    (given / "other.txt").write_text("not ours")
    sd.refit_dask(runs, client, db=tmp_path / "b.duckdb", shard_dir=given, chunk_groups=2, progress=False)
    assert [p.name for p in given.iterdir()] == ["other.txt"]


_IN_PROCESS = """
import os, sys
from scalingfit import _synthdb, distributed as sd
import distributed

runs, _ = _synthdb.chinchilla_sweeps(3, runs=8, checkpoints=2, noise=0.005, seed=1)
# Not the default client, and no other client exists: the refit must use this one's loop.
client = distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None,
                            set_as_default=False)
s = sd.refit_dask(runs, client, db=os.path.join(sys.argv[1], "fits.duckdb"), chunk_groups=2, progress=False)
print("fitted", s.n_fitted, flush=True)
"""  # and exits with the client still open, as a script would


def test_in_process_client_not_the_default_and_a_clean_exit(tmp_path: Path) -> None:
    # The auditor's repro: in-process workers used to keep a DuckDB connection per thread,
    # which aborted the interpreter at exit (SIGABRT) in about half of the runs.
    script = tmp_path / "run.py"
    script.write_text(_IN_PROCESS)
    for i in range(4):
        out = tmp_path / f"run{i}"
        out.mkdir()
        proc = subprocess.run([sys.executable, str(script), str(out)], check=False, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, (i, proc.returncode, proc.stderr[-2000:])
        assert "fitted 3" in proc.stdout
        assert sorted(p.name for p in out.iterdir()) == ["fits.duckdb", "fits.duckdb.lock"]


def test_compare_refit_on_the_cluster_equals_the_local_scores(client, sweeps, tmp_path: Path) -> None:
    """The law comparison's chunks scored by Dask workers (scalingfit.refit_compare): the same
    table as in one process, bit for bit but the time stamps; a re-run skips every group."""
    from scalingfit import refit_compare as rc

    laws = ["chinchilla", "chinchilla_tied", "kaplan_nd"]
    local = _db(tmp_path, "local.duckdb", sweeps)
    dask = _db(tmp_path, "dask.duckdb", sweeps)
    a = rc.compare_refit(local, laws, log_residuals=True, chunk_groups=50, progress=False)
    b = rc.compare_refit(dask, laws, log_residuals=True, chunk_groups=50, progress=False, client=client)
    assert (b.n_scored, b.n_chunks, b.wins) == (120, 3, a.wins)
    with duckdb.connect(str(local), read_only=True) as x, duckdb.connect(str(dask), read_only=True) as y:
        q = "SELECT * EXCLUDE (fitted_at) FROM law_comparisons ORDER BY group_key, law"
        pd.testing.assert_frame_equal(x.execute(q).df(), y.execute(q).df())
    again = rc.compare_refit(dask, laws, log_residuals=True, chunk_groups=50, progress=False, client=client)
    assert (again.n_scored, again.n_skipped) == (0, 120)
    assert not any(p.name.endswith(".shards") for p in tmp_path.iterdir())
    assert cli.main(["compare-runs", str(dask), "--models", ",".join(laws), "--log-residuals", "--quiet",
                     "--scheduler", "tcp://127.0.0.1:9", "--chunk", "50"]) == 1  # nothing listens there


_LAWS_FILE = '''
import numpy as np
import scalingfit
from scalingfit.refit import register_law


def chin(x, p):
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]


def chin_jac(x, p):
    a, b = x[:, 0] ** -p[:, 3], x[:, 1] ** -p[:, 4]
    return np.column_stack([np.ones_like(a), a, b, -p[:, 1] * a * np.log(x[:, 0]),
                            -p[:, 2] * b * np.log(x[:, 1])])


register_law("chin_dask", scalingfit.CustomModel(chin, ("E", "A", "B", "alpha", "beta"), 2, jac=chin_jac,
                                                 name="chin_dask"),
             ("N", "D"), [[1.7, 400.0, 400.0, 0.34, 0.28], [2.0, 1000.0, 1000.0, 0.3, 0.3]])
'''


def _registered(name: str) -> bool:
    import scalingfit.refit

    return name in scalingfit.refit.LAWS


def test_a_custom_law_from_a_file_refits_on_the_cluster_as_locally(client, sweeps, tmp_path: Path) -> None:
    """A law registered by a file (the CLI's --laws-from) that the workers cannot import: each
    task carries it (by value), the fits and bootstrap intervals are bitwise those of the local
    refit under the same configuration hash, a rerun resumes, and no worker's registry gains
    the law."""
    path = tmp_path / "dask_laws.py"
    path.write_text(_LAWS_FILE)
    runs = sweeps[sweeps.sweep < 30]
    local, dask = _db(tmp_path, "local.duckdb", runs), _db(tmp_path, "dask.duckdb", runs)
    cli._import_laws(str(path))
    try:
        kw = dict(law="chin_dask", group_by=["sweep"], bootstrap=20, progress=False)
        s_local = rf.refit(local, chunk_groups=50, **kw)
        s = sd.refit_dask(dask, client, chunk_groups=7, **kw)
        assert (s.n_fitted, s.n_failed, s.n_chunks) == (30, 0, 5)
        assert s.config_hash == s_local.config_hash
        _assert_identical(local, dask)
        assert rf.refit(dask, client=client, chunk_groups=7, **kw).n_skipped == 30
        assert not any(client.run(_registered, "chin_dask").values())
    finally:
        rf.LAWS.pop("chin_dask", None)


def test_a_custom_law_the_workers_cannot_import_is_one_error_not_a_hang(client, sweeps, tmp_path: Path) -> None:
    """A law whose functions live in a module only the driver can import (pickled by
    reference): the first task says so, naming the law and the way out, instead of leaving the
    refit waiting on a worker that cannot read its task (Dask's own unpickling hung it)."""
    import importlib

    folder = tmp_path / "only_here"
    folder.mkdir()
    (folder / "laws_only_here.py").write_text(_LAWS_FILE.replace("chin_dask", "chin_here"))
    sys.path.insert(0, str(folder))
    try:
        importlib.import_module("laws_only_here")
        with pytest.raises(RuntimeError, match=r"custom law 'chin_here' cannot be rebuilt on the worker .*"
                                               r"No module named 'laws_only_here'.*register_pickle_by_value"):
            rf.refit(_db(tmp_path, "r.duckdb", sweeps[sweeps.sweep < 10]), law="chin_here",
                     group_by=["sweep"], client=client, progress=False)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("laws_only_here", None)
        rf.LAWS.pop("chin_here", None)
