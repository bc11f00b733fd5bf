"""``scalingfit demo``: the main job, end to end, on embedded synthetic data.

1. builds a DuckDB run database of synthetic sweeps drawn from known Chinchilla laws with
   noise (10,000 sweeps x 30 runs x 2 checkpoints by default; nothing is downloaded);
2. runs the resumable bulk refit with bootstrap intervals (one batched call per chunk);
3. prints throughput, recovery error against the known truth and interval coverage;
4. fits Epoch AI's replication data of Hoffmann et al. (2022) Figure 4 when it is found
   beside the checkout (``../shared/data``; it has no license, so it is not shipped) and
   prints the training verdict of GPT-3, Gopher, Chinchilla and LLaMA-3.1-8B;
5. writes plots (PNG) into the output folder, which it names.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

import numpy as np

EPOCH_REL = Path("epoch_chinchilla_fig4") / "chinchilla_fig4.csv"


def find_epoch_data(explicit: Optional[str] = None) -> Optional[Path]:
    """The Epoch CSV: an explicit path (a FileNotFoundError when it is not a file), else
    ``epoch_chinchilla_fig4/chinchilla_fig4.csv`` under the data folders of
    :func:`scalingfit.datasets.data_folders` ($SCALINGFIT_DATA, shared/data beside the
    current folder or its parent); $SCALINGFIT_EPOCH_CSV, a path to the file, is still read
    first but no longer advertised. None when it is nowhere."""
    from .datasets import data_folders

    if explicit is not None:
        if not Path(explicit).is_file():
            raise FileNotFoundError(f"Epoch's CSV {explicit}: no such file")
        return Path(explicit)
    cands = [os.environ.get("SCALINGFIT_EPOCH_CSV")]
    cands += [str(base / EPOCH_REL) for base in data_folders()]
    for c in cands:
        if c and Path(c).is_file():
            return Path(c)
    return None


#: The tables of the database the demo writes (its runs, their true laws, the refit's and the
#: comparison's results): a runs.duckdb with other tables is not the demo's.
DEMO_TABLES = frozenset({"runs", "truth", "fits", "fit_params", "fit_configs", "law_comparisons",
                         "comparison_configs"})


def _check_replaceable(db: Path) -> None:
    """A FileExistsError unless ``db`` is absent or a database an earlier demo wrote (its tables
    among :data:`DEMO_TABLES`, ``runs`` and ``truth`` among them): the demo replaces its
    runs.duckdb, and ``--out .`` in a project folder deleted the user's own run database."""
    if not db.exists():
        return
    from .data import _need, duckdb_tables

    duckdb = _need("duckdb")
    what = ""
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            tables = set(duckdb_tables(con))
        if not {"runs", "truth"} <= tables <= DEMO_TABLES:
            what = f"its tables: {', '.join(sorted(tables)) or 'none'}"
    except Exception as exc:  # not a DuckDB file, or locked by another process
        what = f"it cannot be read as one: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    if what:
        raise FileExistsError(f"{db} exists and is not a database the demo wrote ({what}); the demo replaces its "
                              "runs.duckdb: give another folder with --out (Python: folder=), or move that file")


def run(n_sweeps: int = 10_000, seed: int = 0, threads: Optional[int] = None, out: Optional[TextIO] = None,
        folder: str = "scalingfit-demo", bootstrap: int = 200, epoch_csv: Optional[str] = None,
        plots: bool = True) -> int:
    from . import _synthdb, _validate
    from . import refit as rf
    from ._fit import MAX_THREADS

    _validate.integer("n_sweeps", n_sweeps, least=1)
    _validate.integer("seed", seed, most=2**64 - 1)  # before any work: the refit's own check comes late
    if threads is not None:
        _validate.integer("threads", threads, least=1, most=MAX_THREADS)
    _validate.resamples("bootstrap", bootstrap)
    epoch = find_epoch_data(epoch_csv)  # before any work: a path given but not there is an error

    def say(msg: str = "") -> None:
        print(msg, file=out, flush=True)

    t_all = time.perf_counter()
    outdir = Path(folder)
    db = outdir / "runs.duckdb"
    _check_replaceable(db)
    outdir.mkdir(parents=True, exist_ok=True)
    if db.exists():
        db.unlink()
    say(f"scalingfit demo -> {outdir.resolve()}")
    say("=" * 72)

    t0 = time.perf_counter()
    runs, truth = _synthdb.chinchilla_sweeps(n_sweeps, runs=30, checkpoints=2, noise=0.01, seed=seed)
    _synthdb.write_duckdb(str(db), runs, truth=truth)
    say(f"1) run database {db.name}: {len(runs):,} rows = {n_sweeps:,} sweeps x 30 runs x 2 checkpoints, "
        f"each sweep drawn from its own Chinchilla law (+-5% around Hoffmann's), 1% noise "
        f"[{time.perf_counter() - t0:.1f} s]")

    summary = rf.refit(db, law="chinchilla", group_by=["sweep"], bootstrap=bootstrap, seed=seed,
                       chunk_groups=1000, threads=threads, progress=out is None or out.isatty())
    say(f"2) {summary}")
    say(f"   {n_sweeps * (bootstrap + 1):,} fits in {summary.seconds:.1f} s "
        f"({n_sweeps * (bootstrap + 1) / summary.seconds:,.0f} fits/s incl. I/O)")

    fits = rf.read_fits(db, law="chinchilla").merge(truth, on="sweep", suffixes=("", "_true"))
    ok = fits["success"].to_numpy()
    names = ["E", "A", "B", "alpha", "beta"]
    est = fits[names].to_numpy()[ok]
    tru = fits[[n + "_true" for n in names]].to_numpy()[ok]
    rel = np.abs(est - tru) / np.abs(tru)
    a_hat = est[:, 4] / (est[:, 3] + est[:, 4])
    a_true = tru[:, 4] / (tru[:, 3] + tru[:, 4])
    say(f"3) recovery against the known truth ({int(ok.sum()):,}/{n_sweeps:,} converged):")
    say("   " + ", ".join(f"{n} median {100 * np.median(rel[:, i]):.1f}%" for i, n in enumerate(names)))
    say(f"   compute-optimal exponent a = beta/(alpha+beta): median |error| {np.median(np.abs(a_hat - a_true)):.4f}")
    if bootstrap > 0:
        lo = np.array([json.loads(v) for v in fits["ci_low"]], dtype=float)[ok]
        hi = np.array([json.loads(v) for v in fits["ci_high"]], dtype=float)[ok]
        cover = ((lo <= tru) & (tru <= hi)).mean(axis=0)
        say(f"   95% bootstrap intervals ({bootstrap} resamples) cover the truth: "
            + ", ".join(f"{n} {100 * c:.1f}%" for n, c in zip(names, cover)))

    _law_per_sweep(db, runs, n_sweeps, threads, say)

    law = boot = kept = None
    say()
    if epoch is None:
        say(f"4) Epoch AI's Chinchilla data ({EPOCH_REL.parent}/) not found in $SCALINGFIT_DATA or "
            "shared/data (pass --epoch PATH to its CSV, or set SCALINGFIT_DATA to the folder "
            "holding it); the verdict below uses Epoch's published fit.")
    else:
        N, D, L = _read_epoch(epoch)
        law = _epoch(epoch, (N, D, L), say, threads)
        keep = np.setdiff1d(np.arange(L.size), law.dropped)
        kept = (N[keep], D[keep], L[keep])
        boot = _epoch_bootstrap(kept, law, seed, threads)  # the verdict's uncertainty, and the plots' band
        say(f"   verdict by this fit; {boot.n_resamples:,} bootstrap resamples of its runs give "
            "the 95% interval of N/N_opt and the share of resamples that agree:")
    from .allocation import format_verdicts, training_verdict
    from .chinchilla import EPOCH_2024

    params: Any = EPOCH_2024 if boot is None else boot
    verdicts = training_verdict(params=params, show=False)
    from .chinchilla import as_law

    say(format_verdicts(verdicts, as_law(params)))

    if plots:
        written = _plots(outdir, runs, fits, truth, kept, law, boot, seed)
        say()
        say(f"5) plots written to {outdir.resolve()}: " + ", ".join(p.name for p in written))
    say()
    say(f"done in {time.perf_counter() - t_all:.1f} s. Published numbers (Porian, Muennighoff, "
        "Gadre, Epoch, ...) refitted beside ours: scalingfit reproduce")
    return 0


def _law_per_sweep(db: Path, runs: Any, n_sweeps: int, threads: Optional[int], say: Callable[[str], None]) -> None:
    """Step 3b: which law fits each sweep? The first 1,000 sweeps scored by three laws, resumably,
    into the demo's database (scalingfit compare-runs)."""
    from .refit_compare import compare_refit, pooled_nested_test

    k = min(n_sweeps, 1000)
    laws = ["chinchilla", "chinchilla_tied", "kaplan_nd"]
    s = compare_refit(runs[runs["sweep"] < k], laws, db=db, log_residuals=True, chunk_groups=1000,
                      threads=threads, progress=False)
    share = {law: 100 * s.wins[law] / max(k, 1) for law in laws}
    say(f"   which law? {k:,} sweeps scored by AICc in {s.seconds:.1f} s (scalingfit compare-runs; table "
        f"law_comparisons): chinchilla best on {share['chinchilla']:.0f}%, alpha = beta (chinchilla_tied) on "
        f"{share['chinchilla_tied']:.0f}%, kaplan_nd on {share['kaplan_nd']:.0f}% (at 30 runs and 1% "
        "noise the gap between alpha ~0.34 and beta ~0.28 is often within the noise)")
    t = pooled_nested_test(db, "chinchilla_tied", "chinchilla", comparison=laws)
    n = len(t.group_keys)
    say(f"   alpha = beta? one sweep's F test rejects it in {100 * t.n_rejected / max(n, 1):.0f}% of the "
        f"{n:,} sweeps; pooled over them (Fisher's method, refit_compare.pooled_nested_test): "
        f"p = {t.p_value:.1e}")


def _read_epoch(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N, D and loss of Epoch's CSV, by column name (the CLI's reader: errors name the file,
    the column and the row)."""
    from .cli import read_columns

    names = ("N_params", "D_tokens", "loss")
    cols = read_columns(path, {n: "--epoch" for n in names}, positive=names)
    return cols["N_params"], cols["D_tokens"], cols["loss"]


def _epoch(path: Path, runs: tuple[np.ndarray, np.ndarray, np.ndarray], say, threads):  # type: ignore[no-untyped-def]
    from .chinchilla import fit_parametric

    N, D, L = runs
    t0 = time.perf_counter()
    fit = fit_parametric(N, D, L, drop_highest=5, threads=threads)
    dt = time.perf_counter() - t0
    say(f"4) Epoch AI's replication data of Hoffmann et al. Fig. 4 ({path}): {L.size} runs, 5 highest losses dropped,")
    say(f"   Huber(1e-3) on log loss, Hoffmann's 4,500-start grid in one batch call [{dt:.2f} s]:")
    say(f"   E={fit.E:.4f} A={fit.A:.1f} B={fit.B:.1f} alpha={fit.alpha:.4f} beta={fit.beta:.4f} "
        f"objective={fit.objective:.5e}")
    say("   Epoch (2024): E=1.817 A=482.0 B=2085.4 alpha=0.3478 beta=0.3659; "
        "Hoffmann (2022): E=1.69 A=406.4 B=410.7 alpha=0.34 beta=0.28")
    _which_law(N, D, L, say, threads)
    return fit


def _epoch_bootstrap(kept: tuple[np.ndarray, np.ndarray, np.ndarray], fit: Any, seed: int,
                     threads: Optional[int]) -> Any:
    """1,000 resamples of the runs ``fit`` (:func:`_epoch`'s) kept, fitted as it was (Huber
    1e-3 on log loss), each from its optimum."""
    from .bootstrap import bootstrap

    N, D, L = kept
    return bootstrap("chinchilla", (N, D), L, n_resamples=1000, seed=seed, loss="huber",
                     f_scale=1e-3, log_residuals=True, method="percentile", threads=threads,
                     p0=[fit.E, fit.A, fit.B, fit.alpha, fit.beta])


def _which_law(N: np.ndarray, D: np.ndarray, L: np.ndarray, say: Callable[[str], None],
               threads: Optional[int]) -> None:
    """Three laws on Epoch's runs: criteria, leave-one-out, the largest 10% of compute held out."""
    from .compare import compare_models

    t0 = time.perf_counter()
    h = max(1, L.size // 10)
    cmp = compare_models(["chinchilla", "chinchilla_tied", "kaplan_nd"], (N, D), L, log_residuals=True,
                         holdout=h, threads=threads)
    test = cmp.nested_test("chinchilla_tied", "chinchilla")
    say(f"   which law? least squares on log loss, {L.size} runs, the {h} of largest N*D held out "
        f"[{time.perf_counter() - t0:.2f} s]:")
    for line in cmp.table().splitlines()[:4]:
        say("   " + line)
    say(f"   alpha = beta? F({test.df1}, {test.df2}) = {test.F:.1f}, p = {test.p_value:.1e} "
        "(scalingfit compare, scalingfit.compare_models)")


def _plots(outdir: Path, runs, fits, truth, kept, law, boot, seed):  # type: ignore[no-untyped-def]
    """The demo's figures: of Epoch's runs with the verdict's bootstrap when they were read
    (``kept``, ``law``, ``boot``), else of the synthetic sweep 0."""
    try:
        from . import _plot_refit as pr
    except ImportError:  # pragma: no cover
        return []
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return []

    from ._warnings import ConvergenceWarning, suppressed
    from .bootstrap import BootstrapResult
    from .bootstrap import bootstrap as _bootstrap

    def bootstrap(*args: Any, **kw: Any) -> BootstrapResult:
        with suppressed(ConvergenceWarning):  # failed replicates are counted and left out
            return _bootstrap(*args, **kw)

    written = []
    if kept is not None:
        N, D, L = kept
        params = {"E": law.E, "A": law.A, "B": law.B, "alpha": law.alpha, "beta": law.beta}
        samples = boot.samples  # columns E, A, B, alpha, beta (the chinchilla model's order)
        title = "Epoch/Hoffmann Fig. 4 data"
    else:
        sweep = runs[runs.sweep == 0].sort_values("step").groupby("run_id").tail(1)
        N, D, L = sweep.N.to_numpy(), sweep.D.to_numpy(), sweep.value.to_numpy()
        row = fits[fits.sweep == 0].iloc[0]
        params = {k: float(row[k]) for k in ("E", "A", "B", "alpha", "beta")}
        bs = bootstrap("chinchilla", (N, D), L, n_resamples=400, seed=seed, method="percentile",
                       p0=[params[k] for k in ("E", "A", "B", "alpha", "beta")])
        samples = bs.samples
        title = "synthetic sweep 0"
    written += pr.save(pr.compute_frontier(N, D, L, params, samples, title=f"Loss vs compute: {title}"),
                       outdir / "loss_vs_compute")
    if kept is not None:
        iso, iso_title = (N, D, L), f"IsoFLOP slices: {title}"
    else:  # the synthetic sweeps' runs are scattered in (N, D): IsoFLOP runs from sweep 0's law
        from .simulate import isoflop_sweep

        t0 = truth.iloc[0]
        s = isoflop_sweep({k: float(t0[k]) for k in ("E", "A", "B", "alpha", "beta")},
                          np.logspace(18, 21, 6), n_sizes=9, noise=0.01, seed=seed)
        iso = (s.N, s.D, s.loss)
        iso_title = "IsoFLOP runs drawn from sweep 0's true law; dotted: the law fitted to sweep 0"
    written += pr.save(pr.isoflop_curves(*iso, params, title=iso_title), outdir / "isoflop")
    written += pr.save(pr.loss_surface(N, D, L, params, title=f"Fitted L(N, D): {title}"), outdir / "loss_surface")
    written += pr.save(pr.exponent_distributions(samples, title=f"Bootstrap exponents: {title}"),
                       outdir / "exponents")
    # Extrapolation: L(N) of one synthetic sweep's largest-data runs, 100x beyond the largest model.
    rng = np.random.default_rng(seed)
    Ns = np.logspace(7, 9, 8)
    t = truth.iloc[0]
    y = (t.E + t.A * Ns ** -t.alpha + t.B * (20 * Ns) ** -t.beta) * (1 + 0.005 * rng.standard_normal(8))
    b2 = bootstrap("saturating_power_law", Ns, y, n_resamples=400, seed=seed, method="percentile")
    written += pr.save(pr.extrapolation_band(Ns, y, "saturating_power_law", b2.x, b2.samples, np.logspace(7, 11, 80),
                                             title="L(N) at 20 tokens/param, extrapolated 100x"),
                       outdir / "extrapolation")
    return written
