"""Readers of the three data sets that are too large to ship: the OLMo ladder (Bhagia et al.
2024), Pythia's evaluations over training (Biderman et al. 2023) and Wu & Lo's (2024) accuracy
and Brier scores. Each takes the data set's folder (``scalingfit.datasets.find(name)``, e.g.
``shared/data/olmo_ladder2024``); the columns are those of the set's ``SOURCE.md``.

Plain ``csv`` and numpy. A missing file raises FileNotFoundError; a missing column, a cell
that is not a number (or not ``True``/``False``), or a required cell left empty raises
:class:`scalingfit.data.RunDataError` (a ValueError) naming the file, the column and the row
(0-based data row and its line in the file). Cells the data sets leave empty on purpose (the
7B/13B targets' learning rate, a few checkpoints' metrics) are read as NaN where the reader
says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict, Union

import numpy as np
from numpy.typing import NDArray

from ..data import RunDataError
from ..planning._common import Columns, numeric, read_csv_columns

__all__ = [
    "OLMO_LADDER_TASKS",
    "OLMO_MMLU_WEIGHTS",
    "OlmoChained",
    "OlmoLossCurve",
    "OlmoPublished",
    "OlmoRun",
    "OlmoTaskCurve",
    "PythiaLambadaRow",
    "Wu2024Row",
    "load_olmo_ladder_runs",
    "load_olmo_published",
    "load_olmo_task_metrics",
    "load_olmo_val_losses",
    "load_pythia_lambada",
    "load_wu2024",
]

FloatArray = NDArray[np.float64]
PathLike = Union[str, Path]

#: The paper's MMLU is a weighted mean of the four test splits (``WEIGHT_BY_KEY`` in
#: OLMo-ladder's ``src/scaling/task_utils.py``; SOURCE.md), for accuracy, bpb and soft alike.
OLMO_MMLU_WEIGHTS: dict[str, float] = {
    "mmlu_stem_test": 0.215, "mmlu_humanities_test": 0.335,
    "mmlu_social_sciences_test": 0.219, "mmlu_other_test": 0.231,
}
#: Bhagia et al.'s eight tasks (``v2_main``) and their chance accuracies (``task_minimum``).
OLMO_LADDER_TASKS: dict[str, float] = {
    "mmlu_avg_test": 0.25, "hellaswag_val": 0.25, "arc_challenge_test": 0.25,
    "arc_easy_test": 0.25, "piqa_val": 0.5, "csqa_val": 0.2, "socialiqa_val": 1 / 3,
    "openbookqa_test": 0.25,
}


class OlmoRun(TypedDict):
    """One ladder run of ``ladder_runs.csv``."""

    size: str  #: "190M" .. "3B"
    N: float  #: parameters (``N_params``)
    mult: float  #: tokens as a multiple of 20 N (``chinchilla_mult``: 0.5 .. 10)
    rerun: bool  #: the second 1xC run with denser checkpoints
    flops_per_token: float  #: the repository's ``MODEL_FLOPS`` (C = this x tokens)


class OlmoLossCurve(TypedDict):
    """One run's validation loss on one split, sorted by step."""

    step: FloatArray
    tokens: FloatArray
    lr: FloatArray
    loss: FloatArray  #: nats per token


class OlmoTaskCurve(TypedDict):
    """One run's metrics on one task, sorted by step (NaN where the file has none)."""

    step: FloatArray
    tokens: FloatArray
    acc: FloatArray  #: ``acc_rc``, the cloze-format accuracy
    bpb: FloatArray  #: bits per byte of the correct continuation (the paper's task loss)
    prob: FloatArray  #: ``prob_correct``, probability of the correct choice among the choices


class OlmoChained(TypedDict):
    """One row of ``published/chained_main.csv``."""

    actual: float
    pred: float
    rel_error: float  #: ``|pred - actual| / actual``, as published


class OlmoPublished(TypedDict):
    """``published/final.json`` (the runs and targets of the paper's fits, as read) and the
    chained predictions of ``published/chained_main.csv`` by task (without ``_5shot``)."""

    final: dict[str, Any]
    chained: dict[str, OlmoChained]


class PythiaLambadaRow(TypedDict):
    """One Pythia checkpoint's LAMBADA (OpenAI) result."""

    model: str  #: e.g. "pythia-1.4b-deduped"
    deduped: bool
    N: float  #: non-embedding parameters
    step: float
    tokens: float
    acc: float  #: whole-word accuracy (thresholded)
    nll: float  #: mean NLL of the target word, nats (continuous)
    suspect: bool  #: ``suspect_duplicate`` (see SOURCE.md's caveats)


class Wu2024Row(TypedDict):
    """One model x task of Wu & Lo (2024)."""

    model: str
    family: str
    task: str
    params_B: float  #: billions of parameters (NaN where unknown)
    flops: float  #: training compute, FLOP
    acc: float
    brier: float  #: the paper's target-choice Brier score (lower is better)
    type: str  #: "Emergence" or "No Emergence" (the paper's)
    threshold: float  #: the paper's threshold, log10 of FLOPs in units of 1e21 (NaN: none)
    chance: float  #: random-guess accuracy (NaN: none)
    excluded: bool  #: one of the 6 models the paper drops as over-trained


# ------------------------------------------------------------------ cells
def _where(cols: Columns, key: str, i: int) -> str:
    return f"{cols.source}: column {key!r}, row {i} (line {cols.lines[i]})"


def _bools(cols: Columns, key: str, *, rows: Any = None) -> NDArray[np.bool_]:
    """Column ``key`` (``True``/``False``) as booleans; RunDataError for any other cell."""
    text = cols[key]
    idx = np.arange(len(text)) if rows is None else np.arange(len(text))[rows]
    out = np.empty(idx.size, dtype=bool)
    for j, i in enumerate(idx.tolist()):
        t = text[i]
        if t not in ("True", "False"):
            raise RunDataError(f"{_where(cols, key, i)}: {t!r} is not True or False")
        out[j] = t == "True"
    return out


def _filled(cols: Columns, *keys: str) -> NDArray[np.bool_]:
    """The rows where every one of ``keys`` has a cell."""
    ok = np.ones(len(cols[keys[0]]), dtype=bool)
    for k in keys:
        ok &= np.array([bool(t) for t in cols[k]], dtype=bool)
    return ok


def _read(folder: PathLike, name: str, required: Sequence[str]) -> Columns:
    return read_csv_columns(Path(folder) / name, required)


def _group_sorted(keys: list[Any], step: FloatArray) -> dict[Any, NDArray[np.intp]]:
    """Row indices per key, each sorted by step (stable)."""
    groups: dict[Any, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    out = {}
    for k, ix in groups.items():
        a = np.asarray(ix, dtype=np.intp)
        out[k] = a[np.argsort(step[a], kind="stable")]
    return out


# ------------------------------------------------------------------ OLMo ladder
def load_olmo_ladder_runs(folder: PathLike) -> dict[str, OlmoRun]:
    """The 30 ladder runs of ``ladder_runs.csv`` by name (e.g. ``"190M-1xC"``); the 7B/13B
    targets, which have no ``chinchilla_mult``, are left out.

    Raises FileNotFoundError, or RunDataError naming the file, column and row (columns
    ``run, size, N_params, chinchilla_mult, rerun, flops_per_token``)."""
    cols = _read(folder, "ladder_runs.csv",
                 ("run", "size", "N_params", "chinchilla_mult", "rerun", "flops_per_token"))
    sel = np.flatnonzero(_filled(cols, "chinchilla_mult"))
    N = numeric(cols, "N_params", rows=sel)
    mult = numeric(cols, "chinchilla_mult", rows=sel)
    fpt = numeric(cols, "flops_per_token", rows=sel)
    rerun = _bools(cols, "rerun", rows=sel)
    return {
        cols["run"][i]: OlmoRun(size=cols["size"][i], N=float(N[j]), mult=float(mult[j]),
                                rerun=bool(rerun[j]), flops_per_token=float(fpt[j]))
        for j, i in enumerate(sel.tolist())
    }


def load_olmo_val_losses(folder: PathLike, split: str = "c4_en") -> dict[str, OlmoLossCurve]:
    """Each ladder run's validation-loss curve on ``split`` (``c4_en`` is the paper's C4 loss;
    SOURCE.md lists the 11 splits) from ``ladder_val_losses_long.csv``, sorted by step. Rows
    without a step or a learning rate (the 7B/13B targets) are left out.

    Raises FileNotFoundError; RunDataError naming file, column and row (columns ``run, step,
    tokens, lr, split, loss``), or when no row has ``split``."""
    cols = _read(folder, "ladder_val_losses_long.csv",
                 ("run", "step", "tokens", "lr", "split", "loss"))
    sel = np.flatnonzero(np.array([s == split for s in cols["split"]], dtype=bool)
                         & _filled(cols, "step", "lr"))
    if sel.size == 0:
        have = sorted(set(cols["split"]))
        raise RunDataError(f"{cols.source}: no rows with split {split!r} (and an lr); "
                           f"splits: {have}")
    step = numeric(cols, "step", rows=sel)
    v = {k: numeric(cols, k, rows=sel) for k in ("tokens", "lr", "loss")}
    groups = _group_sorted([cols["run"][i] for i in sel.tolist()], step)
    return {
        run: OlmoLossCurve(step=step[ix], tokens=v["tokens"][ix], lr=v["lr"][ix],
                           loss=v["loss"][ix])
        for run, ix in groups.items()
    }


def load_olmo_task_metrics(folder: PathLike) -> dict[tuple[str, str], OlmoTaskCurve]:
    """Every run's metrics on every task by ``(run, task)``, sorted by step, from
    ``ladder_task_metrics.csv`` (the 7B/13B targets included; rows without a step, the
    annealed 7B, left out; empty metric cells are NaN). The paper's MMLU is added as
    ``"mmlu_avg_test"``: the :data:`OLMO_MMLU_WEIGHTS` mean of the four test splits, for runs
    that have all four at the same steps.

    Raises FileNotFoundError, or RunDataError naming file, column and row (columns ``run,
    step, tokens, task, acc_rc, bpb, prob_correct``)."""
    metric_cols = {"acc": "acc_rc", "bpb": "bpb", "prob": "prob_correct"}
    cols = _read(folder, "ladder_task_metrics.csv",
                 ("run", "step", "tokens", "task", *metric_cols.values()))
    sel = np.flatnonzero(_filled(cols, "step"))
    step = numeric(cols, "step", rows=sel)
    tokens = numeric(cols, "tokens", rows=sel, empty=True)
    m = {k: numeric(cols, c, rows=sel, empty=True) for k, c in metric_cols.items()}
    runs, tasks = cols["run"], cols["task"]
    groups = _group_sorted([(runs[i], tasks[i]) for i in sel.tolist()], step)
    out: dict[tuple[str, str], OlmoTaskCurve] = {
        key: OlmoTaskCurve(step=step[ix], tokens=tokens[ix], acc=m["acc"][ix],
                           bpb=m["bpb"][ix], prob=m["prob"][ix])
        for key, ix in groups.items()
    }
    for run in dict.fromkeys(r for r, _ in out):
        parts = [(out[(run, t)], w) for t, w in OLMO_MMLU_WEIGHTS.items() if (run, t) in out]
        if len(parts) != len(OLMO_MMLU_WEIGHTS):
            continue
        steps = parts[0][0]["step"]
        if not all(np.array_equal(p["step"], steps) for p, _ in parts):
            continue
        w = [wt for _, wt in parts]
        wsum = sum(w)

        def avg(arrays: list[FloatArray], w: list[float] = w, wsum: float = wsum) -> FloatArray:
            return np.asarray(sum(a * wt for a, wt in zip(arrays, w)) / wsum)

        out[(run, "mmlu_avg_test")] = OlmoTaskCurve(
            step=steps, tokens=parts[0][0]["tokens"], acc=avg([p["acc"] for p, _ in parts]),
            bpb=avg([p["bpb"] for p, _ in parts]), prob=avg([p["prob"] for p, _ in parts]))
    return out


def load_olmo_published(folder: PathLike) -> OlmoPublished:
    """Bhagia et al.'s published fit configuration (``published/final.json``) and chained
    13B predictions (``published/chained_main.csv``, columns ``Task, Actual, Pred, Rel
    Error``; task names without ``_5shot``).

    Raises FileNotFoundError, or RunDataError naming the file (and the column and row of a
    bad cell)."""
    path = Path(folder) / "published" / "final.json"
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        final = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDataError(f"cannot read {path} as JSON: {exc}") from None
    if not isinstance(final, dict):
        raise RunDataError(f"{path}: expected an object of configurations, got "
                           f"{type(final).__name__}")
    cols = _read(Path(folder) / "published", "chained_main.csv",
                 ("Task", "Actual", "Pred", "Rel Error"))
    v = {k: numeric(cols, c) for k, c in
         (("actual", "Actual"), ("pred", "Pred"), ("rel_error", "Rel Error"))}
    chained = {
        t.removesuffix("_5shot"): OlmoChained(
            actual=float(v["actual"][i]), pred=float(v["pred"][i]),
            rel_error=float(v["rel_error"][i]))
        for i, t in enumerate(cols["Task"])
    }
    return OlmoPublished(final=final, chained=chained)


# ------------------------------------------------------------------ Pythia
def load_pythia_lambada(folder: PathLike, num_fewshot: int = 0) -> list[PythiaLambadaRow]:
    """Pythia's LAMBADA results at ``num_fewshot`` shots (0: 16 models x 27 checkpoints; 5:
    x 15) from ``pythia_lambada_wide.csv``, in file order.

    Raises FileNotFoundError, or RunDataError naming file, column and row (columns ``model,
    deduped, params_nonembedding, step, tokens, num_fewshot, suspect_duplicate, acc, nll``),
    or ValueError when ``num_fewshot`` is not an integer present in the file (naming those)."""
    need = ("model", "deduped", "params_nonembedding", "step", "tokens", "num_fewshot",
            "suspect_duplicate", "acc", "nll")
    cols = _read(folder, "pythia_lambada_wide.csv", need)
    shots = numeric(cols, "num_fewshot")
    present = sorted({int(v) if float(v).is_integer() else float(v) for v in shots.tolist()})
    ok = (not isinstance(num_fewshot, bool) and isinstance(num_fewshot, (int, np.integer))
          and int(num_fewshot) in present)
    if not ok:
        raise ValueError(f"num_fewshot must be one of the shot counts in the file, "
                         f"{', '.join(str(v) for v in present)}; got {num_fewshot!r}")
    sel = np.flatnonzero(shots == num_fewshot)
    f = {k: numeric(cols, k, rows=sel)
         for k in ("params_nonembedding", "step", "tokens", "acc", "nll")}
    dedup = _bools(cols, "deduped", rows=sel)
    suspect = _bools(cols, "suspect_duplicate", rows=sel)
    return [
        PythiaLambadaRow(model=cols["model"][i], deduped=bool(dedup[j]),
                         N=float(f["params_nonembedding"][j]), step=float(f["step"][j]),
                         tokens=float(f["tokens"][j]), acc=float(f["acc"][j]),
                         nll=float(f["nll"][j]), suspect=bool(suspect[j]))
        for j, i in enumerate(sel.tolist())
    ]


# ------------------------------------------------------------------ Wu & Lo
def load_wu2024(folder: PathLike) -> list[Wu2024Row]:
    """Wu & Lo's (2024) overall accuracy and Brier score per model x task
    (``ushaped_overall_wide.csv``), in file order; rows without FLOPs, accuracy or Brier
    score are left out. ``flops`` is in FLOP (the file's ``flops_1e21`` x 1e21).

    Raises FileNotFoundError, or RunDataError naming file, column and row (columns ``model,
    family, task, params_B, flops_1e21, paper_type, paper_threshold_log10_flops_1e21,
    random_guess_acc, acc, brier, paper_excluded_overtrained``)."""
    need = ("model", "family", "task", "params_B", "flops_1e21", "paper_type",
            "paper_threshold_log10_flops_1e21", "random_guess_acc", "acc", "brier",
            "paper_excluded_overtrained")
    cols = _read(folder, "ushaped_overall_wide.csv", need)
    sel = np.flatnonzero(_filled(cols, "flops_1e21", "acc", "brier"))
    flops = numeric(cols, "flops_1e21", rows=sel)
    acc = numeric(cols, "acc", rows=sel)
    brier = numeric(cols, "brier", rows=sel)
    params = numeric(cols, "params_B", rows=sel, empty=True)
    thr = numeric(cols, "paper_threshold_log10_flops_1e21", rows=sel, empty=True)
    chance = numeric(cols, "random_guess_acc", rows=sel, empty=True)
    excluded = _bools(cols, "paper_excluded_overtrained", rows=sel)
    return [
        Wu2024Row(model=cols["model"][i], family=cols["family"][i], task=cols["task"][i],
                  params_B=float(params[j]), flops=float(flops[j]) * 1e21, acc=float(acc[j]),
                  brier=float(brier[j]), type=cols["paper_type"][i], threshold=float(thr[j]),
                  chance=float(chance[j]), excluded=bool(excluded[j]))
        for j, i in enumerate(sel.tolist())
    ]
