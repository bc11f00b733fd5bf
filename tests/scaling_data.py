"""Readers for the shared real data sets used by the analysis tests (kaplan, emergence, curves).

Plain ``csv`` + numpy (pandas is not a dependency). Each reader caches its result; the paths
and column meanings are documented in each data set's ``SOURCE.md``.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from conftest import SHARED_DATA

OLMO = SHARED_DATA / "olmo_ladder2024"
PYTHIA = SHARED_DATA / "pythia_evals"
WU = SHARED_DATA / "wu2024_ushaped_emergence"

# The paper's MMLU is a weighted mean of the four test splits (WEIGHT_BY_KEY in OLMo-ladder).
MMLU_WEIGHTS = {"mmlu_stem_test": 0.215, "mmlu_humanities_test": 0.335,
                "mmlu_social_sciences_test": 0.219, "mmlu_other_test": 0.231}
# Bhagia et al.'s eight tasks (v2_main) and their chance levels (task_minimum).
LADDER_TASKS = {
    "mmlu_avg_test": 0.25, "hellaswag_val": 0.25, "arc_challenge_test": 0.25,
    "arc_easy_test": 0.25, "piqa_val": 0.5, "csqa_val": 0.2, "socialiqa_val": 1 / 3,
    "openbookqa_test": 0.25,
}


def _num(r: dict[str, str], k: str) -> float:
    return float(r[k]) if r[k] else float("nan")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@cache
def ladder_runs() -> dict[str, dict[str, Any]]:
    """run -> {size, N, mult, rerun, flops_per_token} for the 30 ladder runs (no 7B/13B)."""
    out: dict[str, dict[str, Any]] = {}
    for r in _rows(OLMO / "ladder_runs.csv"):
        if not r["chinchilla_mult"]:
            continue
        out[r["run"]] = {"size": r["size"], "N": float(r["N_params"]), "mult": float(r["chinchilla_mult"]),
                         "rerun": r["rerun"] == "True", "flops_per_token": float(r["flops_per_token"])}
    return out


@cache
def ladder_curves(split: str = "c4_en") -> dict[str, dict[str, np.ndarray]]:
    """run -> {step, tokens, lr, loss} sorted by step, ladder runs with a known LR only."""
    acc: dict[str, list[tuple[float, float, float, float]]] = {}
    for r in _rows(OLMO / "ladder_val_losses_long.csv"):
        if r["split"] != split or not r["lr"] or not r["step"]:
            continue
        acc.setdefault(r["run"], []).append(
            (float(r["step"]), float(r["tokens"]), float(r["lr"]), float(r["loss"])))
    out = {}
    for run, v in acc.items():
        a = np.array(sorted(v))
        out[run] = {"step": a[:, 0], "tokens": a[:, 1], "lr": a[:, 2], "loss": a[:, 3]}
    return out


@cache
def ladder_task_metrics() -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """(run, task) -> {step, tokens, acc, bpb, prob} sorted by step; MMLU as the weighted
    ``mmlu_avg_test`` as well as its splits."""
    acc: dict[tuple[str, str], list[tuple[float, ...]]] = {}
    for r in _rows(OLMO / "ladder_task_metrics.csv"):
        if not r["step"]:
            continue

        acc.setdefault((r["run"], r["task"]), []).append(
            (float(r["step"]), _num(r, "tokens"), _num(r, "acc_rc"), _num(r, "bpb"), _num(r, "prob_correct")))
    out: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for key, v in acc.items():
        a = np.array(sorted(v))
        out[key] = {"step": a[:, 0], "tokens": a[:, 1], "acc": a[:, 2], "bpb": a[:, 3], "prob": a[:, 4]}
    runs = {run for run, _ in out}
    for run in runs:
        parts = [(out[(run, t)], w) for t, w in MMLU_WEIGHTS.items() if (run, t) in out]
        if len(parts) != 4:
            continue
        steps = parts[0][0]["step"]
        if not all(np.array_equal(p["step"], steps) for p, _ in parts):
            continue
        wsum = sum(w for _, w in parts)
        avg = {k: sum(p[k] * w for p, w in parts) / wsum for k in ("acc", "bpb", "prob")}
        out[(run, "mmlu_avg_test")] = {"step": steps, "tokens": parts[0][0]["tokens"], **avg}
    return out


@cache
def ladder_published() -> dict[str, Any]:
    """final.json and the chained prediction table of Bhagia et al. (2024)."""
    with open(OLMO / "published" / "final.json") as f:
        final = json.load(f)
    chained = {r["Task"].removesuffix("_5shot"): {"actual": float(r["Actual"]), "pred": float(r["Pred"]),
                                                  "rel_error": float(r["Rel Error"])}
               for r in _rows(OLMO / "published" / "chained_main.csv")}
    return {"final": final, "chained": chained}


@cache
def pythia_lambada() -> list[dict[str, Any]]:
    """Zero-shot LAMBADA rows: model, deduped, N (non-embedding), step, tokens, acc, nll."""
    out = []
    for r in _rows(PYTHIA / "pythia_lambada_wide.csv"):
        if r["num_fewshot"] != "0":
            continue
        out.append({"model": r["model"], "deduped": r["deduped"] == "True",
                    "N": float(r["params_nonembedding"]), "step": float(r["step"]),
                    "tokens": float(r["tokens"]), "acc": float(r["acc"]), "nll": float(r["nll"]),
                    "suspect": r["suspect_duplicate"] == "True"})
    return out


@cache
def wu_overall() -> list[dict[str, Any]]:
    """Wu & Lo (2024) overall accuracy and Brier score per model x task."""
    out = []
    for r in _rows(WU / "ushaped_overall_wide.csv"):
        if not r["flops_1e21"] or not r["acc"] or not r["brier"]:
            continue
        out.append({"model": r["model"], "family": r["family"], "task": r["task"],
                    "params_B": float(r["params_B"]) if r["params_B"] else float("nan"),
                    "flops": float(r["flops_1e21"]) * 1e21, "acc": float(r["acc"]),
                    "brier": float(r["brier"]), "type": r["paper_type"],
                    "threshold": float(r["paper_threshold_log10_flops_1e21"]) if r["paper_threshold_log10_flops_1e21"] else float("nan"),
                    "chance": float(r["random_guess_acc"]) if r["random_guess_acc"] else float("nan"),
                    "excluded": r["paper_excluded_overtrained"] == "True"})
    return out
