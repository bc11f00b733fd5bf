"""Bulk refit on a Dask cluster (``dask.distributed``): the same chunks, fitted by workers.

(The law comparison of :func:`scalingfit.refit_compare.compare_refit`, ``client=`` or
``scheduler=``, CLI ``compare-runs --scheduler``, runs on a cluster the same way: its chunks
scored by :func:`scalingfit.refit_compare.score_frame` in the tasks.)

``refit_dask(source, client, law=..., group_by=...)`` (or ``refit.refit(..., client=client)``,
or ``scalingfit refit ... --scheduler tcp://host:8786``) does what :func:`scalingfit.refit.refit`
does, with the same results, resume rules and :class:`~scalingfit.refit.RefitSummary`; only
where the fitting runs changes:

1. The driver lists the groups (``SELECT DISTINCT`` on the group columns) and partitions them
   into chunks of ``chunk_groups``, exactly as the local refit does.
2. For each chunk it writes a **Parquet shard** with the chunk's rows (DuckDB ``COPY``, the
   same selection as :func:`scalingfit.refit.iter_chunks`) into ``shard_dir``, and submits one
   task that reads that shard, runs :func:`scalingfit.refit.fit_frame` (one batched call of the
   C++ core) and returns the result frames.
3. The driver writes each finished chunk with :func:`scalingfit.refit._write` as results arrive
   (one transaction per chunk, replacing this configuration's rows for the chunk's groups) and
   deletes its shard. At most a few chunks per worker thread are in flight, so the driver's
   memory and the shard directory stay bounded by chunks, not by the database.

Why shards and not workers opening the source themselves: DuckDB allows one writing process
and its read-write connection excludes every other process, even readers, and by default the
results go into the source file itself, which the driver holds open; file locks on network
file systems are unreliable besides. A shard per chunk is an immutable file that any number
of workers can read with no lock; a worker reads exactly its chunk's rows (memory bounded by
the chunk; no task scans the whole source); it works the same for DuckDB, CSV, Parquet and
DataFrame sources; and a task retried after its worker was killed reads the same bytes and
computes the same result. The driver's share is DuckDB-native I/O (the chunk query, as the
local refit runs it, and a Parquet write); the workers convert, validate and fit.

Fault tolerance: when a worker dies, the scheduler reruns its tasks elsewhere (up to
``distributed.scheduler.allowed-failures`` times, then the refit stops with ``KilledWorker``
and a rerun resumes). Nothing is written until a chunk's result reaches the driver, each
future delivers its result once, and the writer is idempotent by (group, config hash), so no
result is lost or duplicated. The driver is the one process whose death stops the refit; a
rerun then resumes from the chunks already written. Results do not depend on which worker ran a chunk, on the
partitioning, or on thread counts: every group is fitted independently and deterministically.

``shard_dir`` must be readable by every worker (on a real cluster: a shared file system); it
defaults to a hidden folder beside the results database. Each refit writes into a folder of its
own there and removes it at the end, with ``shard_dir`` itself (and its parents) when the refit
made them; a folder that existed is kept. A driver that is killed cannot remove its folder: the
folder names the results database it was for (an ``owner.json`` file), and the next run into
that database (the resume) removes it. A driver holds its database's lock while it runs, so a
folder of that database is never a live driver's; folders of other databases, which may be in
use, are left to their own next run.

Every argument is checked before the results database is created, and ``refit_dask`` connects
to the scheduler before that too, so a bad argument or an unreachable scheduler leaves no file
behind. A client made here (``scheduler=``) is closed however the refit ends and is never made
the process's default Dask client; a client that is given is used as it is, default or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from . import data
from . import refit as _refit
from ._progress import progress_bar
from .data import sql_literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from distributed import Client

__all__ = ["DaskRefitSummary", "connect", "refit_dask"]


@dataclass
class DaskRefitSummary(_refit.RefitSummary):
    """A :class:`~scalingfit.refit.RefitSummary` with what the cluster did.

    ``seconds_in_fit`` and ``seconds_in_tasks`` are summed over workers (they can exceed
    ``seconds``); ``seconds_in_tasks`` includes reading the shard and preparing the rows.
    """

    n_workers: int = 0
    n_threads: int = 0
    seconds_in_tasks: float = 0.0
    seconds_exporting: float = 0.0
    seconds_writing: float = 0.0

    def __str__(self) -> str:
        return (f"refit {self.law} -> {self.db} on {self.n_workers} Dask worker(s) "
                f"({self.n_threads} threads): {self.n_fitted} groups fitted ({self.n_failed} failed)"
                f"{self._rows_note()}, {self.n_skipped} already up to date, {self.n_chunks} chunks, {self.seconds:.2f} s "
                f"({self.groups_per_s:,.0f} groups/s; {self.seconds_in_fit:.2f} s in the fitting core and "
                f"{self.seconds_in_tasks:.2f} s in tasks, summed over workers)")


def refit_dask(source: Union[str, Path, pd.DataFrame], client: Optional[Client] = None, *,
               law: str = "chinchilla", group_by: Sequence[str] = ("sweep",),
               db: Union[str, Path, None] = None, chunk_groups: int = 2000,
               scheduler: Optional[str] = None, shard_dir: Union[str, Path, None] = None,
               **options: Any) -> _refit.RefitSummary:
    """Refit ``law`` on every group of a run database, with the chunks fitted on a Dask cluster.

    Same semantics, arguments and results as :func:`scalingfit.refit.refit` (which this calls
    with ``client=``); the results are bitwise identical to the single-process refit.

    Parameters
    ----------
    source : path or DataFrame
        A DuckDB file (its ``table``), a CSV or Parquet file, or a DataFrame; read by the driver.
    client : distributed.Client, optional
        A connected client. Give this or ``scheduler``.
    law, group_by, db :
        As :func:`scalingfit.refit.refit`: the law to fit (a built-in law or one registered
        with :func:`scalingfit.refit.register_law`), the columns that make a group, and the
        results database (default: beside ``source``, or ``source`` itself when it is a DuckDB
        file).
    scheduler : str, optional
        ``"tcp://host:8786"`` (connects, and disconnects at the end) or ``"local:N"`` (starts
        a ``LocalCluster`` of N single-threaded worker processes for the call).
    chunk_groups : int
        Groups per task (one batched call, one transaction each; default 2,000, as the local
        refit's and the CLI's). Each chunk costs 40-100 ms whatever its size (Dask, shard export
        and read, the result transaction), under 10% of the time from about 2,000 groups per
        chunk (``bench/bench_dask.py`` measures it).
    shard_dir : path, optional
        A folder every worker can read, for the per-chunk Parquet shards (deleted as chunks are
        written; a folder made for the refit is removed at its end). Default:
        ``.<db name>.shards`` beside the results database.
    **options
        Any other argument of :func:`scalingfit.refit.refit` (``table``, ``metric``,
        ``bootstrap``, ``seed``, ``level``, ``ci_method``, ``threads`` — fitting threads per
        task, default 1 as Dask's parallelism is one task per worker thread —, ``progress``,
        ``on_chunk``).

    Returns
    -------
    DaskRefitSummary

    Examples
    --------
    >>> from distributed import Client                                     # doctest: +SKIP
    >>> with Client("tcp://scheduler:8786") as client:                     # doctest: +SKIP
    ...     print(refit_dask("runs.duckdb", client, law="chinchilla", group_by=["sweep"],
    ...                      shard_dir="/shared/scratch/shards"))
    """
    # refit checks every argument, then connects to the scheduler, before it creates any file:
    # a bad argument or an unreachable scheduler leaves no results database (or lock) behind.
    _check_arguments(client, scheduler, shard_dir)  # refit_dask needs one of client, scheduler
    return _refit.refit(source, law=law, group_by=group_by, db=db, chunk_groups=chunk_groups,
                        client=client, scheduler=scheduler, shard_dir=shard_dir, **options)


@contextlib.contextmanager
def connect(client: Optional[Client] = None, scheduler: Optional[str] = None) -> Iterator[Client]:
    """The given client, or one connected to ``scheduler`` (closed, with any cluster it started,
    on exit, however the block ends). ``scheduler``: ``"tcp://host:port"`` (any address Dask
    accepts; the connection waits up to Dask's ``distributed.comm.timeouts.connect``) or
    ``"local:N"``. A client made here is never the process's default Dask client."""
    address, n_local = _check_arguments(client, scheduler, None)
    if client is not None:
        yield client
        return
    dd = _dask()
    if n_local is not None:
        # No dashboard; the scheduler's HTTP routes on a free port, not on a possibly taken :8787.
        with dd.LocalCluster(n_workers=n_local, threads_per_worker=1, processes=True, dashboard_address=None,
                             scheduler_kwargs={"dashboard_address": ":0"}) as cluster, \
                dd.Client(cluster, set_as_default=False) as local_client:
            yield local_client
        return
    try:
        remote = dd.Client(address, set_as_default=False)
    except Exception as exc:  # refused, timed out, unknown host, TLS, ...: one error naming the address
        why = data.first_line(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {data.first_line(exc)}"
        raise OSError(f"cannot connect to the Dask scheduler at {address} (scheduler=): {why}") from None
    with remote:
        yield remote


def _check_arguments(client: Any, scheduler: Any, shard_dir: Any) -> tuple[Optional[str], Optional[int]]:
    """Checks ``client``, ``scheduler`` and ``shard_dir`` (before any file is made or any
    connection tried); returns the scheduler's address and, for ``"local:N"``, N."""
    if client is not None and scheduler is not None:
        raise ValueError("give either client= or scheduler=, not both")
    if client is None and scheduler is None:
        raise ValueError("refit_dask needs a distributed.Client (client=) or a scheduler address "
                         "(scheduler='tcp://host:8786' or 'local:N')")
    dd = _dask()
    address: Optional[str] = None
    n_local: Optional[int] = None
    if client is not None:
        if not isinstance(client, dd.Client):
            hint = " (an address goes in scheduler=)" if isinstance(client, str) else ""
            raise TypeError(f"client must be a distributed.Client, got {type(client).__name__} {client!r}{hint}")
        if client.status in ("closing", "closed"):
            raise ValueError(f"client is {client.status}; give a connected distributed.Client")
    else:
        address, n_local = _parse_scheduler(scheduler)
    if shard_dir is not None:
        if not isinstance(shard_dir, (str, os.PathLike)) or not str(shard_dir).strip():
            raise TypeError(f"shard_dir must be a folder path, got {type(shard_dir).__name__} {shard_dir!r}")
        folder = Path(shard_dir).absolute()
        existing = next(p for p in (folder, *folder.parents) if p.exists())  # the root exists
        if not existing.is_dir():
            where = "is a file" if existing == folder else f"is inside {existing}, a file"
            raise ValueError(f"shard_dir must be a folder (or a new path), but {shard_dir} {where}")
    return address, n_local


#: The most local worker processes per core that ``scheduler="local:N"`` starts.
MAX_LOCAL_WORKERS_PER_CORE = 8


def _parse_scheduler(scheduler: Any) -> tuple[str, Optional[int]]:
    """``scheduler`` checked: ``(address, None)``, or ``("local:N", N)`` for a LocalCluster."""
    expected = "an address such as 'tcp://host:8786' or 'local:N'"
    if not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be {expected}, got {type(scheduler).__name__} {scheduler!r}")
    address = scheduler.strip()
    if not address:
        raise ValueError(f"scheduler must be {expected}, got {scheduler!r}")
    if address == "local" or address.startswith("local:"):
        n_text = address.partition(":")[2] or str(os.cpu_count() or 1)
        try:
            n_workers = int(n_text)
        except ValueError:
            n_workers = 0
        if n_workers < 1:
            raise ValueError(f"scheduler 'local:N' needs a positive number of workers N, got {scheduler!r}")
        most = MAX_LOCAL_WORKERS_PER_CORE * (os.cpu_count() or 1)
        if n_workers > most:  # 100,000 worker processes: the start hung the machine
            raise ValueError(f"scheduler {scheduler!r}: {n_workers} local worker processes on "
                             f"{os.cpu_count() or 1} core(s); at most {most} ({MAX_LOCAL_WORKERS_PER_CORE} "
                             "per core): for more, start a cluster and give its address")
        return f"local:{n_workers}", n_workers
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)  # a known scheme
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)  # host and port
    except ValueError as exc:
        raise ValueError(f"scheduler must be {expected}, got {scheduler!r} ({exc})") from None
    return address, None


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError("a Dask cluster needs dask.distributed: pip install 'scalingfit[dask]'") from None
    return distributed


# --------------------------------------------------------------------------- worker side
def _read_shard(path: str, version: str) -> pd.DataFrame:
    """A task's chunk: its Parquet shard read on a worker (whose scalingfit must be the driver's)."""
    from . import __version__

    if __version__ != version:  # the version is part of every result's config hash
        raise RuntimeError(f"the Dask worker on {socket.gethostname()} runs scalingfit {__version__} but the "
                           f"driver runs {version}: install the same version on every machine")
    duckdb = data._need("duckdb")
    try:
        # The same DuckDB -> pandas conversion as the local refit, so the frames are identical.
        # A connection per task (~15 ms), closed here: DuckDB connections cached in a worker's
        # threads outlive the refit and can abort the interpreter at exit (in-process clients).
        with duckdb.connect(config={"threads": 1}) as reader:
            return reader.execute("SELECT * FROM read_parquet(?)", [path]).df()
    except (duckdb.IOException, OSError) as exc:
        raise data.RunDataError(
            f"the Dask worker on {socket.gethostname()} cannot read the chunk shard {path} ({exc}); "
            "pass shard_dir= (CLI: --shard-dir) on storage that every worker can read"
        ) from None


def _fit_shard(path: str, config: _refit.RefitConfig, done: frozenset[tuple[str, str]],
               threads: int, version: str, backend: str = "cpu",
               law: Optional[bytes] = None) -> tuple[pd.DataFrame, pd.DataFrame, float, float]:
    """One task of a refit: read a chunk's Parquet shard, fit it (one batch). Runs on a worker.
    ``law``: the custom law (``register_law``) the task carries, which the worker's process has
    not registered, pickled by cloudpickle (see :func:`_carried_law`)."""
    t0 = time.perf_counter()
    spec = None if law is None else _rebuilt_law(config.law, law)
    frame = _read_shard(path, version)
    with _refit.shipped_law(spec):
        rows, params, t_core = _refit.fit_frame(frame, config, done=set(done), threads=threads,
                                                backend=backend)
    return rows, params, t_core, time.perf_counter() - t0


def _rebuilt_law(name: str, blob: bytes) -> Any:
    """The custom law ``name`` unpickled from :func:`_carried_law`'s bytes on a worker; a
    failure (its functions' module not importable there) is one RuntimeError naming the law,
    the worker and the way out (Dask's own unpickling failure left the run hanging)."""
    import pickle

    try:
        return pickle.loads(blob)
    except Exception as exc:  # whatever the module of its functions raises on import
        raise RuntimeError(
            f"the custom law {name!r} cannot be rebuilt on the worker {socket.gethostname()} "
            f"({type(exc).__name__}: {exc}): its functions are pickled by reference to their "
            "module, which the workers must be able to import (or register the module with "
            "cloudpickle.register_pickle_by_value; the CLI's --laws-from FILE.py does)") from None


def _carried_law(spec: _refit.LawSpec) -> tuple[bytes, ...]:
    """A custom law as its tasks carry it: pickled here by cloudpickle (Dask's own pickling
    tries plain pickle first, which sends a function by reference to a module the workers may
    not have, and a worker that cannot unpickle a task's arguments hangs the refit; a task that
    unpickles its own law fails with a message). Nothing for a built-in law."""
    if not spec.custom:
        return ()
    import dataclasses

    import cloudpickle  # a dependency of distributed

    shipped = dataclasses.replace(spec)  # a copy: the registered spec keeps hashing afresh
    object.__setattr__(shipped, "_code", spec.code_fingerprints())  # the driver's, for the workers
    return (cloudpickle.dumps(shipped),)


def _score_shard(path: str, config: Any, done: frozenset[tuple[str, str]], threads: int, version: str,
                 backend: str = "cpu") -> tuple[pd.DataFrame, float, float]:
    """One task of a comparison (:func:`scalingfit.refit_compare.compare_refit`): read a chunk's
    shard, score its groups (one batch per law). Runs on a worker."""
    from .refit_compare import score_frame

    t0 = time.perf_counter()
    frame = _read_shard(path, version)
    scores, t_core = score_frame(frame, config, done=set(done), threads=threads, backend=backend)
    return scores, t_core, time.perf_counter() - t0


# --------------------------------------------------------------------------- driver side
class _Chunks:
    """The groups, partitioned like :func:`scalingfit.refit.iter_chunks` (a
    :class:`scalingfit.refit.GroupTable`), exported as shards. A failure to read is a
    RunDataError naming ``source`` (see :func:`scalingfit.refit._reading`)."""

    def __init__(self, groups: _refit.GroupTable, chunk_groups: int) -> None:
        self.groups, self.chunk_groups = groups, chunk_groups

    def __len__(self) -> int:
        return (self.groups.n + self.chunk_groups - 1) // self.chunk_groups

    def _range(self, i: int) -> tuple[int, int]:
        return i * self.chunk_groups, min((i + 1) * self.chunk_groups, self.groups.n)

    def keys(self, i: int) -> pd.DataFrame:
        return self.groups.keys(*self._range(i))

    def export(self, i: int, path: Path) -> int:
        """Writes chunk ``i``'s rows to ``path`` (Parquet); returns the number of groups."""
        a, b = self._range(i)
        with _refit._reading(self.groups.source):
            self.groups.con.execute(f"COPY ({self.groups.rows_sql(a, b)}) TO {sql_literal(path.as_posix())} "
                                    "(FORMAT parquet)")
        return b - a


#: The file in each run's shard folder that names the results database the run writes.
_OWNER = "owner.json"


@contextlib.contextmanager
def _shard_folder(base: Path, name: str, default: bool, db: Union[str, Path]) -> Iterator[Path]:
    """A new folder ``base/name`` for one refit's shards, removed on exit with every folder
    made for it (``base`` and missing parents of a new ``shard_dir``; the default ``base``
    also when it was left by an earlier refit), each only if empty: another refit may share it.

    The folder holds a file naming the results database ``db`` (with the host and process, for
    a person who looks), and the folders that earlier runs into ``db`` left in ``base`` are
    removed first (:func:`_remove_stale`)."""
    folder = base.absolute()
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    if default and folder not in made:
        made.insert(0, folder)
    run_dir = folder / name
    owner = str(Path(db).resolve())
    try:
        _remove_stale(folder, owner)
        try:
            run_dir.mkdir(parents=True, exist_ok=False)
            (run_dir / _OWNER).write_text(json.dumps({"db": owner, "host": socket.gethostname(),
                                                      "pid": os.getpid()}))
        except OSError as exc:  # read-only, no permission, ...: the parents it made are removed
            raise OSError(f"cannot make the shard folder {run_dir} (shard_dir=): {exc.strerror or exc}") from None
        yield run_dir
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        for path in made:  # deepest first
            try:
                path.rmdir()
            except OSError:
                break  # not empty (in use) or gone: its parents are not ours to remove either


def _remove_stale(folder: Path, owner: str) -> None:
    """Removes the run folders in ``folder`` whose owner file names the results database
    ``owner``: a driver removes its own folder when it ends, however it ends, unless it was
    killed. Safe with drivers running beside this one: a driver holds its results database's
    lock from before it makes its folder until after it removes it, and this runs under
    ``owner``'s lock, so no live driver owns such a folder. Folders of other databases (whose
    drivers may be running) and folders without an owner file (made by an older scalingfit;
    remove them by hand) are left as they are."""
    try:
        runs = [p for p in folder.iterdir() if p.is_dir()]
    except OSError:  # not there (yet)
        return
    for run_dir in runs:
        try:
            stale = json.loads((run_dir / _OWNER).read_text()).get("db") == owner
        except (OSError, ValueError, AttributeError):  # no owner file, or not ours to read
            continue
        if stale:
            shutil.rmtree(run_dir, ignore_errors=True)


@dataclass
class _Stats:
    """What :func:`_drive` did: groups written and failed, chunks, and where the time went."""

    n_fitted: int = 0
    n_failed: int = 0
    n_skipped: int = 0
    n_chunks: int = 0
    n_rows_skipped: int = 0  # invalid rows of the groups written (refit)
    seconds_in_fit: float = 0.0
    seconds_in_tasks: float = 0.0
    seconds_exporting: float = 0.0
    seconds_writing: float = 0.0
    n_workers: int = 0
    n_threads: int = 0


_Written = tuple[int, int, int, float, float]


def _refit_result(con: Any, result: Any, config: Any, types: dict[str, str]) -> _Written:
    """Writes a refit task's result; (groups written, failed, invalid rows skipped, seconds in
    the core, in the task)."""
    rows, params, t_core, t_task = result
    _refit._write(con, rows, params, config, types)
    return (*_refit._counts(rows), t_core, t_task)


def _compare_result(con: Any, result: Any, config: Any, types: dict[str, str]) -> _Written:
    """Writes a comparison task's result; (groups scored, without a winner, 0 rows counted as
    skipped (the reasons say), seconds in the core, in the task)."""
    from . import refit_compare

    scores, t_core, t_task = result
    refit_compare._write(con, scores, config, types)
    return (*refit_compare._counts(scores), 0, t_core, t_task)


#: Each job the driver runs: (the task a worker runs, how the driver writes its result).
_JOBS: dict[str, tuple[Callable[..., Any], Callable[..., _Written]]] = {
    "refit": (_fit_shard, _refit_result),
    "compare": (_score_shard, _compare_result),
}


def _drive(con: Any, rel: str, config: Any, done: set[tuple[str, str]], n_groups: int,
           t_start: float, *, db: Union[str, Path], client: Optional[Client], scheduler: Optional[str],
           chunk_groups: int, threads: Optional[int], progress: bool,
           on_chunk: Optional[Callable[[int], None]], shard_dir: Union[str, Path, None],
           backend: str = "cpu", job: str = "refit", source: Any = "the run data") -> Any:
    """The refit loop of :func:`scalingfit.refit.refit` (or of
    :func:`scalingfit.refit_compare.compare_refit`, ``job="compare"``: then the :class:`_Stats`)
    with the chunks fitted by Dask tasks.

    Called with the open results connection ``con``, the source relation ``rel`` (``source``
    names it in errors) and the resume set ``done``.
    """
    from . import __version__

    task, write = _JOBS[job]
    # A custom law (register_law) goes with every task: the workers have not registered it.
    carried = _carried_law(_refit.LAWS[config.law]) if job == "refit" else ()
    tag = f"{config.law}-{config.config_hash()}" if job == "refit" else f"compare-{config.config_hash()}"

    task_threads = 1 if threads is None else int(threads)
    if task_threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    types = _refit.group_types(con, rel, config.group_by)
    done_by_key: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for pair in done:
        done_by_key[pair[0]].add(pair)
    run = uuid.uuid4().hex[:10]
    base = Path(shard_dir) if shard_dir is not None else Path(db).resolve().parent / f".{Path(db).name}.shards"

    st = _Stats()
    pending: dict[Any, tuple[Path, int]] = {}
    with connect(client, scheduler) as connected, \
            _shard_folder(base, f"{tag}-{run}", shard_dir is None, db) as run_dir, \
            _refit.group_table(con, rel, config.group_by, config.metric, source) as groups:
        chunks = _Chunks(groups, int(chunk_groups))
        cl: Any = connected  # distributed is only partly typed
        n_threads = sum(cl.nthreads().values())
        window = max(2, 2 * n_threads)  # enough queued work to keep every thread busy
        next_chunk = 0
        # The completions through this client's own loop: as_completed() alone would use the
        # process's default client, which may be another one, a closed one or none.
        results = _dask().as_completed(loop=cl.loop)
        bar = progress_bar(n_groups, progress)

        def submit_more() -> None:
            nonlocal next_chunk
            while len(pending) < window and next_chunk < len(chunks):
                i, next_chunk = next_chunk, next_chunk + 1
                path = run_dir / f"chunk-{i:07d}.parquet"
                t0 = time.perf_counter()
                n_in = chunks.export(i, path)
                st.seconds_exporting += time.perf_counter() - t0
                keys = _refit._frame_keys(chunks.keys(i))[0]
                skip = frozenset(p for k in keys for p in done_by_key.get(k, ()))
                fut = cl.submit(task, str(path), config, skip, task_threads, __version__, backend,
                                *carried, key=f"scalingfit-{job}-{run}-{i:07d}")
                pending[fut] = (path, n_in)
                results.add(fut)

        try:
            submit_more()
            for fut in results:
                path, n_in = pending.pop(fut)
                result = fut.result()
                fut.release()
                t0 = time.perf_counter()
                n_out, n_bad, n_rows, t, t_task = write(con, result, config, types)
                st.n_rows_skipped += n_rows
                st.seconds_writing += time.perf_counter() - t0
                path.unlink(missing_ok=True)
                st.seconds_in_fit += t
                st.seconds_in_tasks += t_task
                st.n_chunks += 1
                st.n_fitted += n_out
                st.n_skipped += n_in - n_out
                st.n_failed += n_bad
                bar(n_out, n_in - n_out)  # groups done before are no progress of this run
                if on_chunk is not None:
                    on_chunk(st.n_chunks)
                submit_more()
            st.n_workers, st.n_threads = len(cl.nthreads()), n_threads
        finally:
            for fut in pending:
                fut.cancel()
            bar(None)
    if job != "refit":
        return st
    return DaskRefitSummary(str(db), config.law, config.config_hash(), n_groups, st.n_fitted, st.n_skipped,
                            st.n_failed, st.n_chunks, time.perf_counter() - t_start, st.seconds_in_fit,
                            n_rows_skipped=st.n_rows_skipped, n_workers=st.n_workers, n_threads=st.n_threads, seconds_in_tasks=st.seconds_in_tasks,
                            seconds_exporting=st.seconds_exporting, seconds_writing=st.seconds_writing)
