"""``scalingfit demo``: the main job on embedded synthetic data.

Draws sweeps from known laws with noise (nothing is downloaded), fits every sweep in one
batched call, and prints throughput and the recovery error against the known truth.
"""

from __future__ import annotations

import time
from typing import Optional, TextIO

import numpy as np

from ._fit import fit_batch
from .models import get

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al. 2022, eq. 10


def _sat_sweeps(n: int, rng: np.random.Generator, sizes: int = 8, noise: float = 0.005):
    truth = np.column_stack([rng.uniform(1.5, 2.5, n), rng.uniform(100, 600, n), rng.uniform(0.25, 0.4, n)])
    N = np.sort(10 ** rng.uniform(7, 10, (n, sizes)), axis=1)
    L = truth[:, :1] + truth[:, 1:2] * N ** -truth[:, 2:3]
    L *= 1 + noise * rng.standard_normal(L.shape)
    return N.reshape(-1, 1), L.ravel(), np.arange(n + 1, dtype=np.int64) * sizes, truth


def _chinchilla_sweeps(n: int, rng: np.random.Generator, runs: int = 100, noise: float = 0.01):
    p = np.array([HOFFMANN[k] for k in ("E", "A", "B", "alpha", "beta")])
    truth = p * (1 + 0.05 * rng.standard_normal((n, 5)))
    N = 10 ** rng.uniform(7.5, 10.5, (n, runs))
    D = 10 ** rng.uniform(9.5, 12, (n, runs))
    L = truth[:, :1] + truth[:, 1:2] * N ** -truth[:, 3:4] + truth[:, 2:3] * D ** -truth[:, 4:5]
    L *= 1 + noise * rng.standard_normal(L.shape)
    x = np.column_stack([N.ravel(), D.ravel()])
    return x, L.ravel(), np.arange(n + 1, dtype=np.int64) * runs, truth


def _pct(a: np.ndarray) -> str:
    return f"median {100 * np.median(a):.2f}%, 90th pct {100 * np.quantile(a, 0.9):.2f}%"


def run(n_sweeps: int = 10_000, seed: int = 0, threads: Optional[int] = None,
        out: Optional[TextIO] = None) -> int:
    def say(msg: str = "") -> None:
        print(msg, file=out, flush=True)

    rng = np.random.default_rng(seed)
    say(f"scalingfit demo (seed {seed})")
    say("=" * 60)

    say(f"1) {n_sweeps:,} sweeps of L(N) = E + A N^-alpha, 8 model sizes each, 0.5% noise")
    x, y, off, truth = _sat_sweeps(n_sweeps, rng)
    t0 = time.perf_counter()
    res = fit_batch("saturating_power_law", x, y, off, threads=threads)
    dt = time.perf_counter() - t0
    ok = res.success
    say(f"   fitted in {dt:.2f} s ({n_sweeps / dt:,.0f} sweeps/s, initial guesses included); "
        f"converged {int(ok.sum()):,}/{n_sweeps:,}")
    for i, name in enumerate(("E", "alpha")):
        err = np.abs(res.x[ok, i if name == "E" else 2] - truth[ok, i if name == "E" else 2])
        rel = err / np.abs(truth[ok, i if name == "E" else 2])
        say(f"   recovery of {name:5}: relative error {_pct(rel)}")

    n_ch = max(1, min(2_000, n_sweeps // 10))
    say()
    say(f"2) {n_ch:,} Chinchilla sweeps of 100 runs: L(N, D) = E + A/N^alpha + B/D^beta, 1% noise")
    x, y, off, truth = _chinchilla_sweeps(n_ch, rng)
    t0 = time.perf_counter()
    res = fit_batch("chinchilla", x, y, off, threads=threads)
    dt = time.perf_counter() - t0
    ok = res.success
    say(f"   fitted in {dt:.2f} s ({n_ch / dt:,.0f} sweeps/s); converged {int(ok.sum()):,}/{n_ch:,}")
    a_hat = res.x[ok, 4] / (res.x[ok, 3] + res.x[ok, 4])
    a_true = truth[ok, 4] / (truth[ok, 3] + truth[ok, 4])
    say(f"   compute-optimal exponent a = beta/(alpha+beta): |error| median "
        f"{np.median(np.abs(a_hat - a_true)):.4f}, 90th pct {np.quantile(np.abs(a_hat - a_true), 0.9):.4f}")
    m = get("chinchilla")
    say(f"   law of sweep 0: " + ", ".join(f"{k}={v:.4g}" for k, v in zip(m.param_names, res.x[0]))
        + "  (truth: " + ", ".join(f"{v:.4g}" for v in truth[0]) + ")")
    say()
    failed = int((~res.success).sum())
    say("done." if failed == 0 else f"done; {failed} Chinchilla sweep(s) did not converge (see status codes).")
    return 0
