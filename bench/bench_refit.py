"""End-to-end bulk refit: groups/s, share of time outside the fitting core, peak memory.

``python bench/bench_refit.py [--sweeps 10000] [--bootstrap 200] [--chunk N]`` builds a
synthetic DuckDB run database (sweeps x 30 runs x 2 checkpoints), refits it (``--chunk``
groups per chunk, default: refit's), and reports throughput, the seconds inside the core's
batch solves (``RefitSummary.seconds_in_fit``: ``_core.solve_batch`` and
``_core.bootstrap_batch`` calls) and the share of wall time outside them (reading,
validating, start guesses, intervals, building and writing the result rows). Peak RSS is
measured in a fresh subprocess on a 1,000,000-row database.

``--compare-sweeps N``: ``refit_compare.compare_refit`` of chinchilla, chinchilla_tied and
kaplan_nd (log residuals) on N sweeps, against the obvious loop in the same run: the runs read
with pandas, the final step of each run kept, ``compare_models`` on each sweep.
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
from scalingfit import refit_compare as rc

COMPARE_LAWS = ["chinchilla", "chinchilla_tied", "kaplan_nd"]


def _chunk_kw(chunk: int | None) -> dict:
    """refit's chunk_groups argument: none for refit's default."""
    return {} if chunk is None else {"chunk_groups": chunk}


def end_to_end(n_sweeps: int, bootstrap: int, chunk: int | None, folder: Path) -> dict:
    db = folder / f"runs_{n_sweeps}.duckdb"
    if not db.exists():
        runs, truth = _synthdb.chinchilla_sweeps(n_sweeps, runs=30, checkpoints=2, seed=0)
        _synthdb.write_duckdb(str(db), runs, truth=truth)
    else:
        import duckdb

        with duckdb.connect(str(db)) as con:
            con.execute("DROP TABLE IF EXISTS fits; DROP TABLE IF EXISTS fit_params")
    s = rf.refit(db, bootstrap=bootstrap, progress=False, **_chunk_kw(chunk))
    return {"sweeps": n_sweeps, "rows": n_sweeps * 60, "bootstrap": bootstrap, "chunk": chunk or "default",
            "chunks": s.n_chunks, "seconds": round(s.seconds, 2), "groups_per_s": round(s.groups_per_s, 1),
            "fits_per_s": round(n_sweeps * (bootstrap + 1) / s.seconds),
            "core_seconds": round(s.seconds_in_fit, 3), "share_outside_core": round(s.share_outside_core, 3)}


def compare_end_to_end(n_sweeps: int, folder: Path) -> dict:
    """compare_refit on a fresh database against a loop of compare_models over the sweeps."""
    import time
    import warnings

    import duckdb
    import numpy as np
    from scalingfit import compare_models

    db = folder / f"compare_{n_sweeps}.duckdb"
    runs, _ = _synthdb.chinchilla_sweeps(n_sweeps, runs=30, checkpoints=2, seed=2)
    _synthdb.write_duckdb(str(db), runs)
    s = rc.compare_refit(db, COMPARE_LAWS, log_residuals=True, chunk_groups=1000, progress=False)
    t0 = time.perf_counter()
    with duckdb.connect(str(db), read_only=True) as con:
        df = con.execute("SELECT * FROM runs WHERE metric = 'loss'").df()
    final = df.sort_values(["sweep", "run_id", "step"]).groupby(["sweep", "run_id"]).tail(1)
    best = {}
    warnings.simplefilter("ignore")  # the loop's one-line convergence warnings (kaplan_nd's iteration limit)
    for sweep, g in final.groupby("sweep"):
        best[sweep] = compare_models(COMPARE_LAWS, g[["N", "D"]].to_numpy(), g["value"].to_numpy(),
                                     log_residuals=True, loo=False).best("aicc")
    t_loop = time.perf_counter() - t0
    table = rc.read_comparisons(db)
    ours = table[table.best].set_index("sweep")["law"]
    agree = float(np.mean([ours.get(k) == v for k, v in best.items()]))
    return {"case": "compare_refit", "sweeps": n_sweeps, "laws": len(COMPARE_LAWS),
            "seconds": round(s.seconds, 2), "loop_seconds": round(t_loop, 2),
            "ratio": round(t_loop / s.seconds, 1), "same_winner": round(agree, 4), "wins": s.wins}


def peak_memory(rows: int, bootstrap: int, chunk: int | None, folder: Path) -> dict:
    n_sweeps = rows // 60
    db = folder / f"mem_{n_sweeps}.duckdb"
    runs, _ = _synthdb.chinchilla_sweeps(n_sweeps, runs=30, checkpoints=2, seed=1)
    _synthdb.write_duckdb(str(db), runs)
    del runs
    code = textwrap.dedent(f"""
        import resource, json
        from scalingfit import refit as rf
        s = rf.refit({str(db)!r}, bootstrap={bootstrap}, progress=False, **{_chunk_kw(chunk)!r})
        print(json.dumps({{"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "seconds": s.seconds}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return {"rows": n_sweeps * 60, "bootstrap": bootstrap, "chunk": chunk or "default",
            "peak_rss_mib": round(res["peak_rss_mib"], 1), "seconds": round(res["seconds"], 1)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sweeps", type=int, default=10_000)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--chunk", type=int, default=None, help="groups per chunk (default: refit's)")
    ap.add_argument("--memory-rows", type=int, default=1_000_000)
    ap.add_argument("--compare-sweeps", type=int, default=0, help="also time compare_refit on N sweeps")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        rows = [end_to_end(args.sweeps, 0, args.chunk, folder),
                end_to_end(args.sweeps, args.bootstrap, args.chunk, folder)]
        for r in rows:
            print(json.dumps(r))
        print(json.dumps(peak_memory(args.memory_rows, 0, args.chunk, folder)))
        if args.compare_sweeps:
            print(json.dumps(compare_end_to_end(args.compare_sweeps, folder)))


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
