"""The Dask driver's pieces checked against what they are documented to do: the chunks'
shards hold exactly the chunk's rows (NULL group keys and the metric filter included), the
shard folders are removed as documented, the scheduler address is read as documented, and
a written chunk's shard is deleted at once.

Mutation audit m4 (distributed.py): each test below failed under a mutant of the 6cd5a34
snapshot that the rest of the suite let through."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
duckdb = pytest.importorskip("duckdb")

from scalingfit import distributed as sd
from scalingfit import refit as rf


def _runs() -> pd.DataFrame:
    """7 groups (one of them NULL), 2 metrics, 3 rows per group and metric (sweeps >= 0: -1
    stands for NULL in the comparisons)."""
    rows = []
    for g in [0.0, 1.0, 2.0, None, 3.0, 4.0, 5.0]:
        for metric in ("loss", "acc"):
            for k in range(3):
                rows.append({"sweep": g, "N": 1e8 * (k + 1), "D": 2e9 * (k + 1), "step": 1, "metric": metric,
                             "value": 3.0 - 0.1 * k + (0.5 if metric == "acc" else 0.0)})
    return pd.DataFrame(rows)


def _key(frame: pd.DataFrame) -> list[tuple]:
    return sorted(((-1.0 if pd.isna(r.sweep) else float(r.sweep)), r.N, r.metric, r.value)
                  for r in frame.itertuples())


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 10])
def test_chunk_shards_partition_the_selected_rows(tmp_path: Path, chunk: int) -> None:
    """The shards of the chunks hold every row of the selected metric exactly once, a NULL
    group's rows included (its key matched as IS NOT DISTINCT FROM, as the local refit), in
    ceil(groups / chunk) chunks of at most ``chunk`` groups each."""
    runs = _runs()
    con = duckdb.connect()
    con.register("runs_df", runs)
    con.execute("CREATE TABLE runs AS SELECT * FROM runs_df")
    stack = contextlib.ExitStack()
    try:
        groups = stack.enter_context(rf.group_table(con, "runs", ("sweep",), "loss"))
        chunks = sd._Chunks(groups, chunk)
        assert len(chunks) == -(-7 // chunk)
        shards = []
        for i in range(len(chunks)):
            path = tmp_path / f"c{i}.parquet"
            n = chunks.export(i, path)
            assert n == min(chunk, 7 - i * chunk)
            shard = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
            assert shard["sweep"].nunique(dropna=False) == n
            shards.append(shard)
        got = pd.concat(shards, ignore_index=True)
        want = runs[runs.metric == "loss"]
        assert len(got) == len(want) == 21
        assert _key(got) == _key(want)
        groups = stack.enter_context(rf.group_table(con, "runs", ("sweep",), None))  # every row
        chunks = sd._Chunks(groups, chunk)
        shards = []
        for i in range(len(chunks)):
            chunks.export(i, tmp_path / f"a{i}.parquet")
            shards.append(con.execute("SELECT * FROM read_parquet(?)", [str(tmp_path / f"a{i}.parquet")]).df())
        got = pd.concat(shards, ignore_index=True)
        assert _key(got) == _key(runs)
    finally:
        stack.close()
        con.close()


def test_a_default_shard_folder_left_by_an_earlier_refit_is_removed(tmp_path: Path) -> None:
    """The default folder (beside the results database) is removed at the end even when an
    earlier, killed refit left it (empty once its stale run folders are removed); a shard_dir
    that was given and existed is kept, and one made for the refit is removed."""
    db = tmp_path / "fits.duckdb"
    default = tmp_path / ".fits.duckdb.shards"
    default.mkdir()
    dead = default / "chinchilla-x-dead"
    dead.mkdir()
    (dead / "owner.json").write_text(json.dumps({"db": str(db.resolve())}))
    (dead / "chunk-0000000.parquet").write_bytes(b"PAR1")
    with sd._shard_folder(default, "run1", True, db) as run_dir:
        assert run_dir.is_dir() and not dead.exists()  # the dead driver's folder is gone
        assert json.loads((run_dir / "owner.json").read_text())["db"] == str(db.resolve())
    assert not default.exists()
    given = tmp_path / "given"
    given.mkdir()
    with sd._shard_folder(given, "run2", False, db):
        pass
    assert given.is_dir() and list(given.iterdir()) == []
    made = tmp_path / "new" / "deeper"
    with sd._shard_folder(made, "run3", False, db):
        pass
    assert not (tmp_path / "new").exists()


def test_local_scheduler_defaults_to_one_worker_per_cpu() -> None:
    """scheduler "local" is "local:N" with N the machine's CPUs; "local:3" three workers."""
    n = os.cpu_count() or 1
    assert sd._parse_scheduler("local") == (f"local:{n}", n)
    assert sd._parse_scheduler(" local:3 ") == ("local:3", 3)
    with pytest.raises(ValueError, match="positive number of workers"):
        sd._parse_scheduler("local:0")


def test_a_written_chunks_shard_is_deleted_at_once(tmp_path: Path) -> None:
    """The driver deletes a chunk's shard as soon as the chunk is written: when the k-th chunk
    is written the run folder holds at most the shards still in flight (at most 2 chunks per
    worker thread: 4 with one worker of 2 threads), not the k written ones; the folder is gone
    after; the summary counts the cluster's workers (1) and threads (2)."""
    from scalingfit import _synthdb

    runs, _ = _synthdb.chinchilla_sweeps(12, runs=12, checkpoints=2, noise=0.005, seed=3)
    base = tmp_path / "scratch"
    seen: list[int] = []

    def on_chunk(k: int) -> None:
        (run_dir,) = list(base.iterdir())
        seen.append(len(list(run_dir.glob("chunk-*.parquet"))))

    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, memory_limit="768MiB",
                                  dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"}) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        s = sd.refit_dask(runs, client, db=tmp_path / "fits.duckdb", shard_dir=base, chunk_groups=1,
                          progress=False, on_chunk=on_chunk)
    assert (s.n_chunks, s.n_fitted, s.n_workers, s.n_threads) == (12, 12, 1, 2)
    assert len(seen) == 12 and max(seen) <= 4
    assert not base.exists()
