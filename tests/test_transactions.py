"""A DuckDB write that fails (a full disk, a read-only folder that cannot hold the write-ahead
log) is a RunDataError naming the database and the cause. The rollback after a failed commit
raised "cannot rollback - no transaction is active" (DuckDB had rolled back already), which
hid the cause behind a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")

from scalingfit import data


class _FailingCommit:
    """A connection whose commit fails as on a full disk, and whose clean-up fails after it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def begin(self) -> None:
        self.calls.append("begin")

    def commit(self) -> None:
        raise duckdb.IOException("Could not write file \"runs.duckdb.wal\": No space left on device")

    def rollback(self) -> None:
        self.calls.append("rollback")
        raise duckdb.TransactionException("TransactionContext Error: cannot rollback - no transaction is active")

    def unregister(self, name: str) -> None:
        self.calls.append(f"unregister {name}")
        raise duckdb.FatalException("database has been invalidated")

    def execute(self, *args: object) -> None:
        raise duckdb.FatalException("database has been invalidated")


def test_a_failed_commit_names_its_cause_not_the_rollback() -> None:
    con = _FailingCommit()
    want = r"cannot write to the database: Could not write file .* No space left on device\. Nothing of this"
    with pytest.raises(data.RunDataError, match=want) as info, data.transaction(con, "_sf_rows"):
        pass
    assert isinstance(info.value.__cause__, duckdb.IOException)
    assert con.calls == ["begin", "rollback", "unregister _sf_rows"]


def test_a_transaction_commits_or_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (x INTEGER)")
    with data.transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(KeyboardInterrupt), data.transaction(con):
        con.execute("INSERT INTO t VALUES (2)")
        raise KeyboardInterrupt
    with pytest.raises(data.RunDataError, match=f"cannot write to {path}: .*no_such_table"), data.transaction(con):
        con.execute("INSERT INTO t VALUES (3)")
        con.execute("INSERT INTO no_such_table VALUES (4)")
    assert con.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,)]
    con.close()


def test_reading_a_database_another_process_writes_is_a_run_data_error(tmp_path: Path) -> None:
    """read_fits while a refit held the database raised DuckDB's raw IOException ("Could not
    set lock"); its docstring promises RunDataError."""
    import subprocess
    import sys

    from scalingfit import refit as rf

    path = tmp_path / "a.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE fits (x INTEGER)")
    con.close()
    script = f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(data.RunDataError, match=r"cannot read .*a\.duckdb: .*lock"):
            rf.read_fits(path)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
