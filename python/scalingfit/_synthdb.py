"""Synthetic run databases drawn from known laws (for the demo, tests and benchmarks).

Each sweep draws its own Chinchilla law around Hoffmann et al.'s published one, trains
``runs`` models of log-uniform size N on log-uniform token budgets D, and records
``checkpoints`` evaluations per run (the loss at fractions of D; the last is the final loss),
with multiplicative noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

HOFFMANN = np.array([1.69, 406.4, 410.7, 0.34, 0.28])  # E, A, B, alpha, beta (Hoffmann et al. 2022)


def chinchilla_sweeps(n_sweeps: int, runs: int = 30, checkpoints: int = 2, noise: float = 0.01,
                      spread: float = 0.05, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs table in long format, truth table with one row per sweep)."""
    from .data import _need

    pd = _need("pandas")  # an ImportError naming the extra (scalingfit[db])

    rng = np.random.default_rng(seed)
    truth = HOFFMANN * (1 + spread * rng.standard_normal((n_sweeps, 5)))
    N = 10 ** rng.uniform(7.5, 10.5, (n_sweeps, runs))
    D_final = 10 ** rng.uniform(9.5, 12.0, (n_sweeps, runs))
    frac = np.linspace(1.0 / checkpoints, 1.0, checkpoints)
    D = D_final[:, :, None] * frac[None, None, :]
    E, A, B, al, be = (truth[:, i][:, None, None] for i in range(5))
    L = (E + A * N[:, :, None] ** -al + B * D ** -be) * (1 + noise * rng.standard_normal(D.shape))
    sweep = np.repeat(np.arange(n_sweeps), runs * checkpoints)
    run = np.repeat(np.arange(n_sweeps * runs), checkpoints)
    runs_df = pd.DataFrame({
        "sweep": sweep.astype(np.int64),
        "run_id": run.astype(np.int64),
        "N": np.repeat(N.ravel(), checkpoints),
        "D": D.ravel(),
        "step": np.tile(np.arange(1, checkpoints + 1), n_sweeps * runs).astype(np.int64),
        "metric": "loss",
        "value": L.ravel(),
    })
    truth_df = pd.DataFrame(truth, columns=["E", "A", "B", "alpha", "beta"])
    truth_df.insert(0, "sweep", np.arange(n_sweeps, dtype=np.int64))
    return runs_df, truth_df


def write_duckdb(path: str, runs: pd.DataFrame, table: str = "runs", truth: pd.DataFrame | None = None) -> None:
    """Writes the runs (and optionally the truth) into a DuckDB file, replacing the tables."""
    from .data import _need, sql_identifier

    duckdb = _need("duckdb")

    with duckdb.connect(str(path)) as con:
        con.register("_runs", runs)
        con.execute(f"CREATE OR REPLACE TABLE {sql_identifier(table)} AS SELECT * FROM _runs")
        if truth is not None:
            con.register("_truth", truth)
            con.execute('CREATE OR REPLACE TABLE "truth" AS SELECT * FROM _truth')
