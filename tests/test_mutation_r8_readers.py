"""Mutation round 8: datasets/_readers.py. The chance accuracies of Bhagia et al.'s eight
tasks (one over the number of answer choices), a True/False column's empty or bad cell
named with its data row and file line, the ladder runs' FLOP per token and the chained
predictions' keys and relative errors (files written here, values by hand; and the
published files: final.json's per-size ``n`` and ``flops``, and |pred - actual| / actual of
chained_main.csv), a final.json that is not an object, and num_fewshot given as a bool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import shared_set
from scalingfit import datasets
from scalingfit.data import RunDataError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_task_chance_levels_are_one_over_the_answer_choices() -> None:
    # task_minimum of OLMo-ladder is the random-guess accuracy, 1 / (answer choices): MMLU,
    # HellaSwag (4 endings), ARC (4 options), OpenBookQA 4; PIQA 2 solutions; CommonsenseQA 5;
    # Social IQa 3 (SOURCE.md: "chance = 0.25" for MMLU).
    choices = {"mmlu_avg_test": 4, "hellaswag_val": 4, "arc_challenge_test": 4, "arc_easy_test": 4,
               "piqa_val": 2, "csqa_val": 5, "socialiqa_val": 3, "openbookqa_test": 4}
    assert datasets.OLMO_LADDER_TASKS == {t: 1 / k for t, k in choices.items()}


PYTHIA_HEAD = ("model,deduped,params_total,params_nonembedding,step,tokens,num_fewshot,"
               "suspect_duplicate,acc_stderr,ppl_stderr,acc,ppl,nll\n")
PYTHIA_ROW = "pythia-70m,False,70426624.0,18915328.0,1000.0,2097152000.0,0,{s},0.004,10.0,0.125,300.0,5.75\n"


@pytest.mark.parametrize("cell", ["", "true", "1"])
def test_a_boolean_cell_that_is_not_true_or_false_is_named(tmp_path: Path, cell: str) -> None:
    # Module docstring: a cell that is "not True/False", or a required cell left empty,
    # raises RunDataError naming the file, the column and the row (0-based data row and its
    # line in the file): data row 1 is line 3 (the header is line 1).
    text = PYTHIA_HEAD + PYTHIA_ROW.format(s="False") + PYTHIA_ROW.format(s=cell)
    folder = _write(tmp_path / "pythia_lambada_wide.csv", text).parent
    with pytest.raises(RunDataError, match=rf"column 'suspect_duplicate', row 1 \(line 3\): '{cell}' is not True or False"):
        datasets.load_pythia_lambada(folder)


def test_num_fewshot_must_be_an_integer_not_a_bool(tmp_path: Path) -> None:
    # "ValueError when num_fewshot is not an integer present in the file": False is a bool
    # (equal to 0, a shot count of the file, but not a count): refused, naming the counts.
    folder = _write(tmp_path / "pythia_lambada_wide.csv", PYTHIA_HEAD + PYTHIA_ROW.format(s="False")).parent
    assert len(datasets.load_pythia_lambada(folder, num_fewshot=0)) == 1
    with pytest.raises(ValueError, match="num_fewshot must be one of the shot counts in the file, 0; got False"):
        datasets.load_pythia_lambada(folder, num_fewshot=False)


def test_ladder_runs_field_by_field(tmp_path: Path) -> None:
    # Each key from its own column: flops_per_token is the file's MODEL_FLOPS (not 6 N); the
    # 7B target without chinchilla_mult is left out.
    text = ("run,size,N_params,chinchilla_mult,rerun,n_checkpoints,step_max,tokens_max,flops_per_token,"
            "tokens_per_param_final\n"
            "190M-1xC,190M,190354176,1.0,False,37,7272,3812622336,1903391232,20.03\n"
            "190M-1xC-rerun,190M,190354176,1.0,True,73,7272,3812622336,1903391232,20.03\n"
            "1B-5xC,1B,1279395840,5.0,False,10,100,128000000000,9000000000,100.0\n"
            "peteish7_eval_full,7B,6887575552,,,186,925000,3879731200000,49412071424,563.29\n")
    runs = datasets.load_olmo_ladder_runs(_write(tmp_path / "ladder_runs.csv", text).parent)
    assert runs == {
        "190M-1xC": dict(size="190M", N=190354176.0, mult=1.0, rerun=False, flops_per_token=1903391232.0),
        "190M-1xC-rerun": dict(size="190M", N=190354176.0, mult=1.0, rerun=True, flops_per_token=1903391232.0),
        "1B-5xC": dict(size="1B", N=1279395840.0, mult=5.0, rerun=False, flops_per_token=9e9),
    }


def _published(tmp_path: Path, final: str) -> Path:
    folder = tmp_path / "olmo"
    _write(folder / "published" / "final.json", final)
    _write(folder / "published" / "chained_main.csv",
           "Task,Actual,Pred,Rel Error\n"
           "mmlu_avg_test_5shot,0.5,0.4,0.2\n"
           "piqa_val_5shot,0.8,0.82,0.025\n")
    return folder


def test_chained_predictions_by_task_without_5shot(tmp_path: Path) -> None:
    # Keys without "_5shot"; actual, pred and rel_error from Actual, Pred and Rel Error:
    # |0.4 - 0.5| / 0.5 = 0.2 and |0.82 - 0.8| / 0.8 = 0.025 (as written).
    pub = datasets.load_olmo_published(_published(tmp_path, '{"190M": {"n": 190354176}}'))
    assert pub["final"] == {"190M": {"n": 190354176}}
    assert pub["chained"] == {"mmlu_avg_test": dict(actual=0.5, pred=0.4, rel_error=0.2),
                              "piqa_val": dict(actual=0.8, pred=0.82, rel_error=0.025)}


def test_a_final_json_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    # final.json holds "the runs and targets of the paper's fits by name": a list is not that.
    with pytest.raises(RunDataError, match=r"final\.json: expected an object of configurations, got list"):
        datasets.load_olmo_published(_published(tmp_path, '["190M", "370M"]'))


def test_published_chained_relative_errors_and_ladder_flops() -> None:
    # The published files against each other: each chained row's rel_error is
    # |pred - actual| / actual (OlmoChained's docstring), and every ladder run's N and FLOP
    # per token are final.json's "n" and "flops" for its size (the repository's MODEL_FLOPS).
    folder = shared_set("olmo_ladder2024")
    pub = datasets.load_olmo_published(folder)
    assert set(pub["chained"]) == set(datasets.OLMO_LADDER_TASKS)
    for task, row in pub["chained"].items():
        assert row["rel_error"] == pytest.approx(abs(row["pred"] - row["actual"]) / row["actual"], rel=1e-9), task
    final = json.loads((folder / "published" / "final.json").read_text())
    runs = datasets.load_olmo_ladder_runs(folder)
    checked = 0
    for name, run in runs.items():
        if run["size"] in final:
            assert run["flops_per_token"] == final[run["size"]]["flops"], name
            assert run["N"] == final[run["size"]]["n"], name
            checked += 1
    assert checked >= 16  # the four sizes of the paper's fits, 4+ runs each
