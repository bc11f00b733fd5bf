"""The shared real data sets used by the analysis tests (kaplan, emergence, curves), read by
the package's readers (``scalingfit.datasets.load_*``) from the project's data folder and
cached. The paths and column meanings are documented in each data set's ``SOURCE.md``.
"""

from __future__ import annotations

from functools import cache

from conftest import SHARED_DATA
from scalingfit import datasets as ds

OLMO = SHARED_DATA / "olmo_ladder2024"
PYTHIA = SHARED_DATA / "pythia_evals"
WU = SHARED_DATA / "wu2024_ushaped_emergence"

# The paper's MMLU is a weighted mean of the four test splits (WEIGHT_BY_KEY in OLMo-ladder).
MMLU_WEIGHTS = ds.OLMO_MMLU_WEIGHTS
# Bhagia et al.'s eight tasks (v2_main) and their chance levels (task_minimum).
LADDER_TASKS = ds.OLMO_LADDER_TASKS


@cache
def ladder_runs() -> dict[str, ds.OlmoRun]:
    """run -> {size, N, mult, rerun, flops_per_token} for the 30 ladder runs (no 7B/13B)."""
    return ds.load_olmo_ladder_runs(OLMO)


@cache
def ladder_curves(split: str = "c4_en") -> dict[str, ds.OlmoLossCurve]:
    """run -> {step, tokens, lr, loss} sorted by step, ladder runs with a known LR only."""
    return ds.load_olmo_val_losses(OLMO, split)


@cache
def ladder_task_metrics() -> dict[tuple[str, str], ds.OlmoTaskCurve]:
    """(run, task) -> {step, tokens, acc, bpb, prob} sorted by step; MMLU as the weighted
    ``mmlu_avg_test`` as well as its splits."""
    return ds.load_olmo_task_metrics(OLMO)


@cache
def ladder_published() -> ds.OlmoPublished:
    """final.json and the chained prediction table of Bhagia et al. (2024)."""
    return ds.load_olmo_published(OLMO)


@cache
def pythia_lambada() -> list[ds.PythiaLambadaRow]:
    """Zero-shot LAMBADA rows: model, deduped, N (non-embedding), step, tokens, acc, nll."""
    return ds.load_pythia_lambada(PYTHIA)


@cache
def wu_overall() -> list[ds.Wu2024Row]:
    """Wu & Lo (2024) overall accuracy and Brier score per model x task."""
    return ds.load_wu2024(WU)
