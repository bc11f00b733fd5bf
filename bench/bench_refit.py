"""End-to-end bulk refit: groups/s, share of time outside the fitting core, peak memory.

``python bench/bench_refit.py [--sweeps 10000] [--bootstrap 200]`` builds a synthetic DuckDB
run database (sweeps x 30 runs x 2 checkpoints), refits it, and reports throughput and the
share of wall time spent outside the batched core calls (reading, validating, hashing,
writing). Peak RSS is measured in a fresh subprocess on a 1,000,000-row database.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from scalingfit import _synthdb
from scalingfit import refit as rf


def end_to_end(n_sweeps: int, bootstrap: int, chunk: int, folder: Path) -> dict:
    db = folder / f"runs_{n_sweeps}.duckdb"
    if not db.exists():
        runs, truth = _synthdb.chinchilla_sweeps(n_sweeps, runs=30, checkpoints=2, seed=0)
        _synthdb.write_duckdb(str(db), runs, truth=truth)
    else:
        import duckdb

        with duckdb.connect(str(db)) as con:
            con.execute("DROP TABLE IF EXISTS fits; DROP TABLE IF EXISTS fit_params")
    s = rf.refit(db, bootstrap=bootstrap, chunk_groups=chunk, progress=False)
    return {"sweeps": n_sweeps, "rows": n_sweeps * 60, "bootstrap": bootstrap, "chunk": chunk,
            "seconds": round(s.seconds, 2), "groups_per_s": round(s.groups_per_s, 1),
            "fits_per_s": round(n_sweeps * (bootstrap + 1) / s.seconds),
            "share_outside_core": round(1 - s.seconds_in_fit / s.seconds, 3)}


def peak_memory(rows: int, bootstrap: int, chunk: int, folder: Path) -> dict:
    n_sweeps = rows // 60
    db = folder / f"mem_{n_sweeps}.duckdb"
    runs, _ = _synthdb.chinchilla_sweeps(n_sweeps, runs=30, checkpoints=2, seed=1)
    _synthdb.write_duckdb(str(db), runs)
    del runs
    code = textwrap.dedent(f"""
        import resource, json
        from scalingfit import refit as rf
        s = rf.refit({str(db)!r}, bootstrap={bootstrap}, chunk_groups={chunk}, progress=False)
        print(json.dumps({{"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "seconds": s.seconds}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return {"rows": n_sweeps * 60, "bootstrap": bootstrap, "chunk": chunk,
            "peak_rss_mib": round(res["peak_rss_mib"], 1), "seconds": round(res["seconds"], 1)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sweeps", type=int, default=10_000)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--memory-rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        rows = [end_to_end(args.sweeps, 0, args.chunk, folder),
                end_to_end(args.sweeps, args.bootstrap, args.chunk, folder)]
        for r in rows:
            print(json.dumps(r))
        print(json.dumps(peak_memory(args.memory_rows, 0, args.chunk, folder)))


def test_refit_10k_sweeps(benchmark, tmp_path):  # pytest-benchmark entry (no bootstrap)
    runs, _ = _synthdb.chinchilla_sweeps(10_000, runs=30, checkpoints=2, seed=0)
    db = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(db), runs)

    def once():
        import duckdb

        with duckdb.connect(str(db)) as con:
            con.execute("DROP TABLE IF EXISTS fits; DROP TABLE IF EXISTS fit_params")
        return rf.refit(db, chunk_groups=1000, progress=False)

    benchmark.pedantic(once, rounds=1)


if __name__ == "__main__":
    main()
