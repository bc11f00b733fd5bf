"""`scalingfit reproduce`: the tolerances each check is held to and the inputs the studies
pass on, against independent references: the published numbers and the tolerances the
docstrings state, copied here from each set's SOURCE.md (Muennighoff et al. 2023, Besiroglu
et al. 2024); the seed of the Porian bootstrap; and Bhagia et al.'s step-2 inputs recomputed
from ``ladder_task_metrics.csv`` with the csv module and ``np.convolve``."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scalingfit import reproduce as rp

# muennighoff2023_datablations/SOURCE.md: stage 2 on the 182 runs.
MUENNIGHOFF_R_D, MUENNIGHOFF_R_N, MUENNIGHOFF_HUBER = 15.387756, 5.309743, 0.0158259
# epoch_chinchilla_fig4/SOURCE.md (Besiroglu et al. 2024, Table): estimate, bootstrap SE,
# 95% interval; and the compute-optimal exponent a = 0.513.
EPOCH_TABLE = {
    "E": (1.817, 0.026, (1.769, 1.871)),
    "A": (482.01, 124.52, (285.2, 743.6)),
    "B": (2085.43, 1293.28, (1042.4, 5810.3)),
    "alpha": (0.3478, 0.0154, (0.317, 0.373)),
    "beta": (0.3659, 0.0206, (0.331, 0.415)),
}


@pytest.fixture(scope="module")
def epoch_rep() -> rp.Reproduction:
    from conftest import SHARED_DATA

    if not (SHARED_DATA / "epoch_chinchilla_fig4").is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return rp.reproduce(["epoch"], data_dir=SHARED_DATA, n_bootstrap=2000, seed=3)


# ------------------------------------------------------------------ A. the tolerances
def test_muennighoff_tolerances_are_the_documented_ones(shared_data: Path) -> None:
    """R_D* and R_N* are held to 0.2% of the published value (30.8e-3 and 10.6e-3; ours are
    15.3718 and 5.3151, about half of that away), the Huber sum to 1e-5 relative
    (1.58e-7), the published law's R^2 to 1e-6. A tolerance of 2% on R_D* or 1e-3 on the
    Huber sum would let a 10x worse fit pass: each tolerance and each difference is
    asserted here against SOURCE.md's numbers."""
    rep = rp.reproduce(["muennighoff"], data_dir=shared_data, n_bootstrap=0)
    by = {c.quantity: c for c in rep.checks}
    r_d, r_n = by["R_D* (their 9-start grid)"], by["R_N* (their 9-start grid)"]
    huber, r2 = by["Huber sum at the optimum"], by["R^2 of the published law"]
    assert r_d.tolerance == pytest.approx(0.002 * MUENNIGHOFF_R_D, rel=1e-12)
    assert r_n.tolerance == pytest.approx(0.002 * MUENNIGHOFF_R_N, rel=1e-12)
    assert huber.tolerance == pytest.approx(1e-5 * MUENNIGHOFF_HUBER, rel=1e-5)
    assert r2.tolerance == 1e-6
    assert abs(r_d.ours - MUENNIGHOFF_R_D) <= 0.002 * MUENNIGHOFF_R_D
    assert abs(r_n.ours - MUENNIGHOFF_R_N) <= 0.002 * MUENNIGHOFF_R_N
    # printed to 6 significant digits: ours within 1e-5 relative plus half the last digit
    assert abs(huber.ours - MUENNIGHOFF_HUBER) <= 1e-5 * MUENNIGHOFF_HUBER + 5e-8
    assert abs(r2.ours - 0.7722046) <= 1e-6 + 5e-8


def test_epoch_estimates_within_a_fifth_of_the_published_se(epoch_rep: rp.Reproduction) -> None:
    """Each estimate is held to 0.2 of its published bootstrap SE (B: 258.7; ours 2143.4 is
    58.0 from 2085.43, 0.22 of the tolerance); 2 SE (2586.6) would pass an estimate of B
    off by a whole published SE."""
    by = {c.quantity: c for c in epoch_rep.checks}
    for k, (est, se, _) in EPOCH_TABLE.items():
        c = by[k]
        assert c.published == est
        assert c.tolerance == pytest.approx(0.2 * se, rel=1e-12), k
        assert abs(c.ours - est) <= 0.2 * se, (k, c.ours)


def test_epoch_interval_ends_within_a_tenth_of_the_published_width(
        epoch_rep: rp.Reproduction) -> None:
    """Each end of a 95% interval is held to 10% of the published width (E: 0.0102 of
    0.102); half the width would pass any interval that merely overlaps theirs."""
    by = {c.quantity: c for c in epoch_rep.checks}
    for k, (_, _, (lo, hi)) in EPOCH_TABLE.items():
        w = hi - lo
        for end, name, pub in ((0, "lower", lo), (1, "upper", hi)):
            c = by[f"{k}: 95% interval, {name} end"]
            assert c.published == pub
            assert c.tolerance == pytest.approx(0.1 * w, rel=1e-12), (k, name)
            assert abs(c.ours - pub) <= 0.1 * w, (k, name, c.ours)


def test_epoch_exponent_to_the_printed_decimals(epoch_rep: rp.Reproduction) -> None:
    """a = beta/(alpha+beta) is held to 0.0015 (0.513 printed to 3 decimals, + 0.001); ours
    0.5139 is 0.0009 away. 0.015 would pass any a in (0.498, 0.528)."""
    c = {c.quantity: c for c in epoch_rep.checks}["a = beta/(alpha+beta)"]
    assert c.published == 0.513 and c.tolerance == 0.0015
    assert abs(c.ours - 0.513) <= 0.0015


# ------------------------------------------------------------------ B. porian's seed
def test_porian_bootstrap_follows_the_seed(shared_data: Path) -> None:
    """The IsoFLOP bootstrap intervals are keyed by ``seed``: the same seed gives the same
    intervals, another seed other intervals (seed 1: (0.8221, 0.8794), seed 2: (0.8216,
    0.8822) for Kaplan on RefinedWeb). A seed that fit_isoflop never receives gives every
    seed the same intervals; the point estimates do not depend on the seed."""
    def intervals(seed: int) -> dict[str, tuple[float, tuple[float, float]]]:
        rep = rp.reproduce(["porian"], data_dir=shared_data, n_bootstrap=50, seed=seed)
        assert rep.seed == seed
        return {c.quantity: (c.ours, c.ours_interval) for c in rep.checks
                if c.quantity.startswith("a: ")}

    one, again, two = intervals(1), intervals(1), intervals(2)
    assert len(one) == 15 and one == again
    assert all(one[q][0] == two[q][0] for q in one)  # the fits themselves: no seed
    differ = [q for q in one if one[q][1] != two[q][1]]
    assert len(differ) == 15, sorted(set(one) - set(differ))


# ------------------------------------------------------------------ C. bhagia's step 2
def _trailing_mean(x: np.ndarray, n: int) -> np.ndarray:
    """OLMo-ladder's smoothing written out: the mean of the last n values, fewer at the start."""
    full = np.convolve(x, np.ones(n), "full")[: x.size]
    return full / np.minimum(np.arange(1, x.size + 1), n)


def _series(path: Path, runs: list[str], tasks: list[str]) -> dict[tuple[str, str], dict]:
    """(run, task) -> {bpb, acc} sorted by step, read with the csv module (rows with a step)."""
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    want_runs, want_tasks = set(runs), set(tasks)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["run"] in want_runs and r["task"] in want_tasks and r["step"]:
                rows.setdefault((r["run"], r["task"]), []).append(
                    (float(r["step"]), float(r["bpb"]), float(r["acc_rc"])))
    out = {}
    for key, v in rows.items():
        v.sort(key=lambda t: t[0])
        out[key] = {"bpb": np.array([t[1] for t in v]), "acc": np.array([t[2] for t in v])}
    return out


def test_bhagia_step2_inputs(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the bhagia study hands task_ladder for step 2, recomputed from the CSV: per task,
    each training run's checkpoints after the first ceil(10%), bpb and accuracy each
    smoothed by a trailing mean of 5 (np.convolve), runs concatenated in final.json's order,
    and the run index of each point as ``step2_groups`` (so the bootstrap resamples whole
    runs). A window of 3 or 4 moves the predictions by under 8e-4, inside the 1e-3
    tolerance, and resampling points instead of runs narrows the intervals by 12%: neither
    shows in the checks themselves."""
    import scalingfit.emergence as em

    calls: list[tuple[tuple, dict]] = []
    task_ladder = em.task_ladder

    def spy(*args: object, **kwargs: object) -> object:
        calls.append((args, kwargs))
        return task_ladder(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(em, "task_ladder", spy)
    folder = shared_data / "olmo_ladder2024"
    rep = rp.reproduce(["bhagia"], data_dir=shared_data, n_bootstrap=0)
    assert rep.passed and len(calls) == 1
    args, kwargs = calls[0]
    tasks, step2_loss, step2_metric = args[0], args[4], args[5]
    groups = kwargs["step2_groups"]
    final = json.loads((folder / "published" / "final.json").read_text())
    train = [Path(p).stem for cfg in final.values() if cfg["mode"] == "train" for p in cfg["paths"]]
    assert len(train) == 16
    plain = [t for t in tasks if t != "mmlu_avg_test"]  # MMLU is a weighted mean of 4 splits
    assert len(plain) == 7
    series = _series(folder / "ladder_task_metrics.csv", train, plain)
    assert groups is not None and len(groups) == len(tasks) == len(step2_loss)
    for k, t in enumerate(tasks):
        if t in plain:
            xs, ys, gs = [], [], []
            for i, r in enumerate(train):
                d = series[(r, t)]
                s = math.ceil(0.1 * d["bpb"].size)
                xs.append(_trailing_mean(d["bpb"][s:], 5))
                ys.append(_trailing_mean(d["acc"][s:], 5))
                gs.append(np.full(d["bpb"].size - s, i))
            np.testing.assert_allclose(step2_loss[k], np.concatenate(xs), rtol=1e-12, err_msg=t)
            np.testing.assert_allclose(step2_metric[k], np.concatenate(ys), rtol=1e-12, err_msg=t)
            np.testing.assert_array_equal(np.asarray(groups[k]), np.concatenate(gs), err_msg=t)
            # step 1: the mean bpb of each run's last 5 checkpoints
            np.testing.assert_allclose(args[3][k], [np.mean(series[(r, t)]["bpb"][-5:]) for r in train],
                                       rtol=1e-12, err_msg=t)
        else:
            g = np.asarray(groups[k])
            assert g.shape == np.shape(step2_loss[k])
            assert np.all(np.diff(g) >= 0) and set(g.tolist()) == set(range(16))
