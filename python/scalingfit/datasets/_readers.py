"""Readers of the three data sets that are too large to ship: the OLMo ladder (Bhagia et al.
2024), Pythia's evaluations over training (Biderman et al. 2023) and Wu & Lo's (2024) accuracy
and Brier scores. Each takes the data set's folder (``scalingfit.datasets.find(name)``, e.g.
``shared/data/olmo_ladder2024``); the columns are those of the set's ``SOURCE.md``. The rows
are dicts whose keys (not the file's column names) are documented, with their units, by their
types: :class:`Wu2024Row`, :class:`PythiaLambadaRow`, :class:`OlmoRun` and the others.

Plain ``csv`` and numpy. None for the folder (what ``find`` returns for a set it did not
find) raises FileNotFoundError naming the folders ``find`` searched and how to point it
elsewhere (``$SCALINGFIT_DATA``); so does a folder that does not exist or lacks the set's
file, naming both (NotADirectoryError for a file given as the folder). A missing column, a cell
that is not a number (or not ``True``/``False``), or a required cell left empty raises
:class:`scalingfit.data.RunDataError` (a ValueError) naming the file, the column and the row
(0-based data row and its line in the file). Cells the data sets leave empty on purpose (the
7B/13B targets' learning rate, a few checkpoints' metrics) are read as NaN where the reader
says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict, Union

import numpy as np
from numpy.typing import NDArray

from ..data import RunDataError
from ..planning._common import Columns, numeric, read_csv_columns
from ._folders import not_found

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
PathLike = Union[str, "os.PathLike[str]"]
#: The folder names of the sets read here (``scalingfit.datasets.find(name)``).
OLMO, PYTHIA, WU = "olmo_ladder2024", "pythia_evals", "wu2024_ushaped_emergence"

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
    """One ladder run of ``ladder_runs.csv`` (the file's column in brackets where it differs).

    Keys
    ----
    size : str
        The size label, "190M" .. "3B".
    N : float
        Parameters [``N_params``].
    mult : float
        Training tokens as a multiple of 20 N, 0.5 .. 10 [``chinchilla_mult``].
    rerun : bool
        The second 1xC run, with denser checkpoints.
    flops_per_token : float
        FLOP per training token, the repository's ``MODEL_FLOPS``: the paper's compute C is
        this x tokens (not 6 N D).
    """

    size: str
    N: float
    mult: float
    rerun: bool
    flops_per_token: float


class OlmoLossCurve(TypedDict):
    """One run's validation loss on one split, sorted by step; arrays of one length.

    Keys
    ----
    step : ndarray of float
        Training step of each checkpoint.
    tokens : ndarray of float
        Training tokens seen at that step.
    lr : ndarray of float
        Learning rate at that step.
    loss : ndarray of float
        Mean next-token cross-entropy on the split, nats per token (OLMo-2 tokenizer).
    """

    step: FloatArray
    tokens: FloatArray
    lr: FloatArray
    loss: FloatArray


class OlmoTaskCurve(TypedDict):
    """One run's metrics on one task, sorted by step; arrays of one length, NaN where the file
    has no value (the column in brackets).

    Keys
    ----
    step : ndarray of float
        Training step of each checkpoint.
    tokens : ndarray of float
        Training tokens seen at that step (all NaN for the medium-LR 7B, whose are unknown).
    acc : ndarray of float
        Accuracy in the cloze ("ranked classification") format, a fraction; thresholded
        [``acc_rc``].
    bpb : ndarray of float
        Bits per byte of the correct continuation, the paper's task loss; continuous.
    prob : ndarray of float
        Probability of the correct choice, normalised over the choices; continuous
        [``prob_correct``].
    """

    step: FloatArray
    tokens: FloatArray
    acc: FloatArray
    bpb: FloatArray
    prob: FloatArray


class OlmoChained(TypedDict):
    """One task's row of ``published/chained_main.csv`` (the 13B-5T target).

    Keys
    ----
    actual : float
        The target's accuracy (mean of its last 5 checkpoints) [``Actual``].
    pred : float
        The paper's chained (two-step) prediction of it [``Pred``].
    rel_error : float
        ``|pred - actual| / actual``, as published [``Rel Error``].
    """

    actual: float
    pred: float
    rel_error: float


class OlmoPublished(TypedDict):
    """Bhagia et al.'s published fit configuration and chained predictions.

    Keys
    ----
    final : dict
        ``published/final.json`` as read: the runs and targets of the paper's fits by name
        (e.g. "190M", "7B-4T").
    chained : dict of str to OlmoChained
        The chained predictions of ``published/chained_main.csv`` by task, named without
        ``_5shot`` (e.g. "mmlu_avg_test").
    """

    final: dict[str, Any]
    chained: dict[str, OlmoChained]


class PythiaLambadaRow(TypedDict):
    """One Pythia checkpoint's LAMBADA (OpenAI) result (the file's column in brackets where it
    differs).

    Keys
    ----
    model : str
        The model, e.g. "pythia-1.4b-deduped".
    deduped : bool
        Trained on the deduplicated Pile (else on the Pile).
    N : float
        Non-embedding parameters [``params_nonembedding``].
    step : float
        Training step of the checkpoint (0: the initialisation).
    tokens : float
        Training tokens seen, step x 2,097,152.
    acc : float
        Whole-word accuracy, a fraction of the 5,153 passages; thresholded.
    nll : float
        Mean negative log-likelihood of the target word, nats per passage (ln of the
        perplexity); continuous.
    suspect : bool
        The results are bit-identical to another model's at a step > 1 (SOURCE.md's caveats)
        [``suspect_duplicate``].
    """

    model: str
    deduped: bool
    N: float
    step: float
    tokens: float
    acc: float
    nll: float
    suspect: bool


class Wu2024Row(TypedDict):
    """One model x task of Wu & Lo (2024) (the file's column in brackets where it differs).

    Units differ: ``flops`` is in FLOP but ``threshold`` is log10 of FLOP in units of 1e21, so
    a model is below the paper's threshold when ``flops < 10 ** threshold * 1e21``, not when
    ``flops < threshold``.

    Keys
    ----
    model : str
        The model's Hugging Face id, e.g. "01-ai/Yi-6B".
    family : str
        The model family, e.g. "Yi", "Pythia".
    task : str
        One of the 9 tasks, e.g. "mmlu", "arithmetic", "hellaswag".
    params_B : float
        Parameters, in billions (NaN where unknown).
    flops : float
        Training compute in FLOP (about 6 N D, from ObsScaling) [``flops_1e21`` x 1e21].
    acc : float
        Multiple-choice accuracy (argmax over the choices), a fraction; thresholded.
    brier : float
        The paper's target-choice Brier score (probabilities renormalised over the choices);
        continuous, lower is better.
    type : str
        The paper's class of the task, "Emergence" or "No Emergence" [``paper_type``].
    threshold : float
        The paper's emergence threshold of the task as log10 of compute in units of 1e21 FLOP
        (log10 FLOP - 21), not in FLOP as ``flops`` is; NaN: none. The file has 2.3 for the
        "No Emergence" tasks too, for which SOURCE.md lists no threshold
        [``paper_threshold_log10_flops_1e21``].
    chance : float
        The task's random-guess accuracy (NaN: none) [``random_guess_acc``].
    excluded : bool
        One of the 6 models the paper drops as over-trained small models
        [``paper_excluded_overtrained``].
    """

    model: str
    family: str
    task: str
    params_B: float
    flops: float
    acc: float
    brier: float
    type: str
    threshold: float
    chance: float
    excluded: bool


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


def _folder(folder: object, dataset: str, file: str, reader: str) -> Path:
    """``folder``, checked to be ``dataset``'s folder holding ``file``: FileNotFoundError for
    None (the set was not found: where ``find`` looked), a folder that does not exist, or one
    without ``file``; NotADirectoryError for a file."""
    if folder is None:
        raise not_found(dataset, reader=reader)
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"{reader}: folder must be a path (str or os.PathLike), got "
                        f"{type(folder).__name__} {folder!r}")
    p = Path(folder)
    want = f"the {dataset!r} data set's folder (scalingfit.datasets.find({dataset!r}))"
    if p.is_file():
        raise NotADirectoryError(f"{reader}: {p} is a file; pass {want}, which holds {file}")
    if not p.is_dir():
        raise FileNotFoundError(f"{reader}: no such folder: {p}; expected {want}")
    if not (p / file).exists():
        raise FileNotFoundError(f"{reader}: no such file: {p / file}, so {p} is not {want}")
    return p


def _read(folder: PathLike, name: str, required: Sequence[str]) -> Columns:
    return read_csv_columns(Path(folder) / name, required)


def _unique(cols: Columns, rows: Sequence[int], keys: Sequence[Any], what: str) -> None:
    """A RunDataError naming the file, the key and both lines where ``keys`` (one per data
    row of ``rows``) repeats one: of two rows for one run (and step) neither can be chosen
    (a dict kept the last, a curve both, silently)."""
    seen: dict[Any, int] = {}
    for i, k in zip(rows, keys):
        j = seen.setdefault(k, i)
        if j != i:
            shown = ", ".join(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                              for v in (k if isinstance(k, tuple) else (k,)))
            raise RunDataError(f"{cols.source}: {what} {shown} appears twice, on lines {cols.lines[j]} and "
                               f"{cols.lines[i]}; which one is meant is not clear: remove one")


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

    Each value is an :class:`OlmoRun` with the keys ``size``, ``N``, ``mult``, ``rerun``,
    ``flops_per_token`` (its docstring gives their units and meanings).

    Raises FileNotFoundError (see the module's docstring: None, a missing folder or file), or
    RunDataError naming the file, column and row (file columns ``run, size, N_params,
    chinchilla_mult, rerun, flops_per_token``)."""
    folder = _folder(folder, OLMO, "ladder_runs.csv", "load_olmo_ladder_runs")
    cols = _read(folder, "ladder_runs.csv",
                 ("run", "size", "N_params", "chinchilla_mult", "rerun", "flops_per_token"))
    sel = np.flatnonzero(_filled(cols, "chinchilla_mult"))
    N = numeric(cols, "N_params", rows=sel)
    mult = numeric(cols, "chinchilla_mult", rows=sel)
    fpt = numeric(cols, "flops_per_token", rows=sel)
    rerun = _bools(cols, "rerun", rows=sel)
    _unique(cols, sel.tolist(), [cols["run"][i] for i in sel.tolist()], "run")
    return {
        cols["run"][i]: OlmoRun(size=cols["size"][i], N=float(N[j]), mult=float(mult[j]),
                                rerun=bool(rerun[j]), flops_per_token=float(fpt[j]))
        for j, i in enumerate(sel.tolist())
    }


def load_olmo_val_losses(folder: PathLike, split: str = "c4_en") -> dict[str, OlmoLossCurve]:
    """Each ladder run's validation-loss curve on ``split`` (``c4_en`` is the paper's C4 loss;
    SOURCE.md lists the 11 splits) from ``ladder_val_losses_long.csv``, sorted by step. Rows
    without a step or a learning rate (the 7B/13B targets) are left out.

    Each value is an :class:`OlmoLossCurve` with the keys ``step``, ``tokens``, ``lr``,
    ``loss`` (its docstring gives their units and meanings).

    Raises FileNotFoundError (see the module's docstring: None, a missing folder or file);
    RunDataError naming file, column and row (file columns ``run, step, tokens, lr, split,
    loss``), or when no row has ``split``."""
    folder = _folder(folder, OLMO, "ladder_val_losses_long.csv", "load_olmo_val_losses")
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
    _unique(cols, sel.tolist(), [(cols["run"][i], float(t)) for i, t in zip(sel.tolist(), step)],
            f"run and step (split {split})")
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

    Each value is an :class:`OlmoTaskCurve` with the keys ``step``, ``tokens``, ``acc``,
    ``bpb``, ``prob`` (its docstring gives their units and meanings).

    Raises FileNotFoundError (see the module's docstring: None, a missing folder or file), or
    RunDataError naming file, column and row (file columns ``run, step, tokens, task, acc_rc,
    bpb, prob_correct``)."""
    folder = _folder(folder, OLMO, "ladder_task_metrics.csv", "load_olmo_task_metrics")
    metric_cols = {"acc": "acc_rc", "bpb": "bpb", "prob": "prob_correct"}
    cols = _read(folder, "ladder_task_metrics.csv",
                 ("run", "step", "tokens", "task", *metric_cols.values()))
    sel = np.flatnonzero(_filled(cols, "step"))
    step = numeric(cols, "step", rows=sel)
    tokens = numeric(cols, "tokens", rows=sel, empty=True)
    m = {k: numeric(cols, c, rows=sel, empty=True) for k, c in metric_cols.items()}
    runs, tasks = cols["run"], cols["task"]
    _unique(cols, sel.tolist(), [(runs[i], tasks[i], float(t)) for i, t in zip(sel.tolist(), step)],
            "run, task and step")
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
    Error``; task names without ``_5shot``): an :class:`OlmoPublished` with the keys
    ``final`` and ``chained``, whose values are :class:`OlmoChained` with the keys ``actual``,
    ``pred``, ``rel_error``.

    Raises FileNotFoundError (see the module's docstring: None, a missing folder or file), or
    RunDataError naming the file (and the column and row of a bad cell)."""
    folder = _folder(folder, OLMO, "published/final.json", "load_olmo_published")
    path = folder / "published" / "final.json"
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        final = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDataError(f"cannot read {path} as JSON: {exc}") from None
    if not isinstance(final, dict):
        raise RunDataError(f"{path}: expected an object of configurations, got "
                           f"{type(final).__name__}")
    cols = _read(folder / "published", "chained_main.csv",
                 ("Task", "Actual", "Pred", "Rel Error"))
    v = {k: numeric(cols, c) for k, c in
         (("actual", "Actual"), ("pred", "Pred"), ("rel_error", "Rel Error"))}
    _unique(cols, range(len(cols["Task"])), [t.removesuffix("_5shot") for t in cols["Task"]],
            "task (without _5shot)")
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
    x 15) from ``pythia_lambada_wide.csv``, in file order. Each row is a
    :class:`PythiaLambadaRow` with the keys ``model``, ``deduped``, ``N``, ``step``,
    ``tokens``, ``acc``, ``nll``, ``suspect`` (its docstring gives their units and meanings).

    Raises FileNotFoundError (see the module's docstring: None, a missing folder or file), or
    RunDataError naming file, column and row (file columns ``model, deduped,
    params_nonembedding, step, tokens, num_fewshot, suspect_duplicate, acc, nll``), or
    ValueError when ``num_fewshot`` is not an integer present in the file (naming those)."""
    need = ("model", "deduped", "params_nonembedding", "step", "tokens", "num_fewshot",
            "suspect_duplicate", "acc", "nll")
    folder = _folder(folder, PYTHIA, "pythia_lambada_wide.csv", "load_pythia_lambada")
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
    score are left out. Each row is a :class:`Wu2024Row` with the keys ``model``, ``family``,
    ``task``, ``params_B``, ``flops``, ``acc``, ``brier``, ``type``, ``threshold``,
    ``chance``, ``excluded`` (its docstring gives their units and meanings; they are not the
    file's column names).

    Units differ: ``flops`` is in FLOP (the file's ``flops_1e21`` x 1e21) but ``threshold``
    is log10 of FLOP in units of 1e21, as the paper gives it: a model is below the paper's
    threshold when ``flops < 10 ** threshold * 1e21``, not when ``flops < threshold``.

    Raises FileNotFoundError (see the module's docstring: None, a missing folder or file), or
    RunDataError naming file, column and row (file columns ``model, family, task, params_B,
    flops_1e21, paper_type, paper_threshold_log10_flops_1e21, random_guess_acc, acc, brier,
    paper_excluded_overtrained``)."""
    folder = _folder(folder, WU, "ushaped_overall_wide.csv", "load_wu2024")
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
