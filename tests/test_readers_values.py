"""The readers of the large data sets and where the data sets are looked for, against small
files written here and expected values written out by hand: the MMLU average of OLMo's four
test splits (OLMo-ladder's ``WEIGHT_BY_KEY`` weights, copied here, and ``np.dot``), Pythia's
and Wu & Lo's rows field by field, and the order of ``datasets.data_folders``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scalingfit import datasets
from scalingfit.data import RunDataError

# OLMo-ladder's src/scaling/task_utils.py, WEIGHT_BY_KEY (olmo_ladder2024/SOURCE.md).
MMLU = {"mmlu_stem_test": 0.215, "mmlu_humanities_test": 0.335,
        "mmlu_social_sciences_test": 0.219, "mmlu_other_test": 0.231}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------ F. the MMLU average
def _metric_rows() -> tuple[str, dict[str, np.ndarray]]:
    """Three runs: "full" has the four splits at steps 10 and 20; "three" lacks
    mmlu_other_test; "skew" has mmlu_other_test at steps 10 and 30, the others at 10 and 20.
    acc, bpb and prob differ per split and step; the full run's values by split."""
    lines = ["run,size,step,tokens,task,acc_rc,acc_mc,bpb,prob_correct,logprob_correct"]
    full: dict[str, list[list[float]]] = {"acc": [], "bpb": [], "prob": []}
    for i, t in enumerate(MMLU):
        acc = [0.30 + 0.02 * i, 0.35 + 0.03 * i]  # steps 10, 20
        bpb = [1.2 - 0.05 * i, 1.1 - 0.04 * i]
        prob = [0.50 + 0.04 * i, 0.55 + 0.05 * i]
        for s in (1, 0):  # out of order in the file
            lines.append(f"full,1B,{10 * (s + 1)},{1000 * (s + 1)},{t},{acc[s]},,{bpb[s]},{prob[s]},-1.0")
        full["acc"].append(acc)
        full["bpb"].append(bpb)
        full["prob"].append(prob)
        if t != "mmlu_other_test":
            lines.append(f"three,1B,10,1000,{t},0.4,,1.0,0.6,-1.0")
        for step in (10, 30 if t == "mmlu_other_test" else 20):
            lines.append(f"skew,1B,{step},{100 * step},{t},0.4,,1.0,0.6,-1.0")
    return "\n".join(lines) + "\n", {k: np.array(v) for k, v in full.items()}


def test_mmlu_average_by_hand(tmp_path: Path) -> None:
    """``mmlu_avg_test`` is the WEIGHT_BY_KEY mean of the four splits, step by step, for acc,
    bpb and prob alike (prob was the mean of acc: 0.4466 for 0.5466 once); a run missing a
    split, or whose splits sit at other steps, gets none (either was averaged over what
    there was)."""
    text, full = _metric_rows()
    tm = datasets.load_olmo_task_metrics(_write(tmp_path / "ladder_task_metrics.csv", text).parent)
    assert datasets.OLMO_MMLU_WEIGHTS == MMLU
    w = np.array(list(MMLU.values()))
    avg = tm[("full", "mmlu_avg_test")]
    assert avg["step"].tolist() == [10.0, 20.0] and avg["tokens"].tolist() == [1000.0, 2000.0]
    for k in ("acc", "bpb", "prob"):
        want = [np.dot(w, full[k][:, s]) / w.sum() for s in (0, 1)]
        np.testing.assert_allclose(avg[k], want, rtol=1e-12, err_msg=k)
    # step 10's prob by hand: (0.215*0.50 + 0.335*0.54 + 0.219*0.58 + 0.231*0.62) / 1.0 = 0.55864
    assert avg["prob"][0] == pytest.approx(0.55864, abs=1e-10)
    assert ("three", "mmlu_avg_test") not in tm and ("three", "mmlu_stem_test") in tm
    assert ("skew", "mmlu_avg_test") not in tm
    assert tm[("skew", "mmlu_other_test")]["step"].tolist() == [10.0, 30.0]
    assert {r for r, t in tm if t == "mmlu_avg_test"} == {"full"}


# ------------------------------------------------------------------ G. Pythia and Wu & Lo
PYTHIA_CSV = (
    "model,deduped,params_total,params_nonembedding,step,tokens,num_fewshot,suspect_duplicate,"
    "acc_stderr,ppl_stderr,acc,ppl,nll\n"
    "pythia-70m,False,70426624.0,18915328.0,1000.0,2097152000.0,0,True,0.004,10.0,0.125,300.0,5.75\n"
    "pythia-70m,False,70426624.0,18915328.0,1000.0,2097152000.0,5,False,0.004,10.0,0.2,200.0,5.25\n"
    "pythia-1.4b-deduped,True,1414647808.0,1208602624.0,143000.0,299892736000.0,0,False,"
    "0.006,0.1,0.625,6.5,1.875\n"
)


def test_pythia_rows_field_by_field(tmp_path: Path) -> None:
    """Each field from its own column: step (1000) is not tokens (2.1e9), suspect_duplicate
    (True, False) is not deduped (False, True), N is the non-embedding count; the 5-shot row
    is left out at 0 shots and is the only one at 5."""
    folder = _write(tmp_path / "pythia_lambada_wide.csv", PYTHIA_CSV).parent
    assert datasets.load_pythia_lambada(folder) == [
        dict(model="pythia-70m", deduped=False, N=18915328.0, step=1000.0, tokens=2097152000.0,
             acc=0.125, nll=5.75, suspect=True),
        dict(model="pythia-1.4b-deduped", deduped=True, N=1208602624.0, step=143000.0,
             tokens=299892736000.0, acc=0.625, nll=1.875, suspect=False),
    ]
    assert datasets.load_pythia_lambada(folder, num_fewshot=5) == [
        dict(model="pythia-70m", deduped=False, N=18915328.0, step=1000.0, tokens=2097152000.0,
             acc=0.2, nll=5.25, suspect=False),
    ]


WU_HEAD = ("model,family,params_B,tokens_T,flops_1e21,task,paper_type,"
           "paper_threshold_log10_flops_1e21,random_guess_acc,acc,brier,paper_excluded_overtrained,"
           "log10_flops_1e21\n")


def test_wu_rows_field_by_field(tmp_path: Path) -> None:
    """Rows without FLOPs, accuracy or Brier score are left out (an empty Brier cell raised
    "'' is empty" when only FLOPs and accuracy were filtered on); flops is flops_1e21 x 1e21;
    empty params_B, threshold and chance are NaN."""
    text = WU_HEAD + (
        "org/m1,Fam,6.0,3.0,2.5,mmlu,Emergence,1.5,0.25,0.375,0.625,False,0.4\n"
        "org/m1,Fam,6.0,3.0,2.5,arc,No Emergence,2.0,0.25,0.5,,False,0.4\n"  # no Brier
        "org/m2,Fam,7.0,2.0,,mmlu,Emergence,1.5,0.25,0.3,0.6,False,\n"  # no FLOPs
        "org/m3,Fam,8.0,1.0,4.0,mmlu,Emergence,1.5,0.25,,0.6,False,0.6\n"  # no accuracy
        "org/m4,Other,,1.0,0.5,hellaswag,No Emergence,,,0.75,0.125,True,-0.3\n"
    )
    rows = datasets.load_wu2024(_write(tmp_path / "ushaped_overall_wide.csv", text).parent)
    assert len(rows) == 2
    assert rows[0] == dict(model="org/m1", family="Fam", task="mmlu", params_B=6.0, flops=2.5e21,
                           acc=0.375, brier=0.625, type="Emergence", threshold=1.5, chance=0.25,
                           excluded=False)
    last = dict(rows[1])
    assert all(math.isnan(last.pop(k)) for k in ("params_B", "threshold", "chance"))
    assert last == dict(model="org/m4", family="Other", task="hellaswag", flops=5e20, acc=0.75,
                        brier=0.125, type="No Emergence", excluded=True)


def test_wu_brier_still_checked_where_filled(tmp_path: Path) -> None:
    """A Brier cell that is there but not a number is named, not skipped."""
    text = WU_HEAD + "org/m1,Fam,6.0,3.0,2.5,mmlu,Emergence,1.5,0.25,0.375,n/a,False,0.4\n"
    with pytest.raises(RunDataError, match=r"column 'brier', row 0 \(line 2\): 'n/a' is not a number"):
        datasets.load_wu2024(_write(tmp_path / "ushaped_overall_wide.csv", text).parent)


# ------------------------------------------------------------------ J. where sets are found
def test_data_folders_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """data_dir, then $SCALINGFIT_DATA, then shared/data beside the current folder, then
    beside its parent (the order find's docstring gives)."""
    a, b, here = tmp_path / "a", tmp_path / "b", tmp_path / "repo" / "sub"
    for p in (a, b, here):
        p.mkdir(parents=True)
    monkeypatch.chdir(here)
    monkeypatch.setenv("SCALINGFIT_DATA", str(b))
    cwd = Path.cwd()
    assert datasets.data_folders(a) == [a, b, cwd / "shared" / "data", cwd.parent / "shared" / "data"]
    assert datasets.data_folders() == [b, cwd / "shared" / "data", cwd.parent / "shared" / "data"]
    monkeypatch.delenv("SCALINGFIT_DATA")
    assert datasets.data_folders() == [cwd / "shared" / "data", cwd.parent / "shared" / "data"]


def test_explicit_folder_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders a and b both hold the set and $SCALINGFIT_DATA is b: find(name, a) is a's copy
    (b's was returned when the variable came first), find(name) b's."""
    name = "pythia_evals"
    a, b = tmp_path / "a", tmp_path / "b"
    (a / name).mkdir(parents=True)
    (b / name).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCALINGFIT_DATA", str(b))
    assert datasets.find(name, a) == a / name
    assert datasets.find(name, str(a)) == a / name
    assert datasets.find(name) == b / name


def test_shared_data_beside_the_parent_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a sub-folder of the project (tests/, say), ../shared/data is found; a
    shared/data beside the current folder itself comes first."""
    monkeypatch.delenv("SCALINGFIT_DATA", raising=False)
    (tmp_path / "shared" / "data" / "wu2024_ushaped_emergence").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    monkeypatch.chdir(tmp_path / "tests")
    found = datasets.find("wu2024_ushaped_emergence")
    assert found is not None
    assert found.resolve() == (tmp_path / "shared" / "data" / "wu2024_ushaped_emergence").resolve()
    assert datasets.find("pythia_evals") is None  # nowhere, and not shipped
    (tmp_path / "tests" / "shared" / "data" / "wu2024_ushaped_emergence").mkdir(parents=True)
    nearer = datasets.find("wu2024_ushaped_emergence")
    assert nearer is not None and nearer.resolve() == (
        tmp_path / "tests" / "shared" / "data" / "wu2024_ushaped_emergence").resolve()
