"""The readers of the large data sets given what ``datasets.find`` returns for a set it did not
find (None), a folder that is not there, a folder without the set's file, or the file itself:
each a FileNotFoundError (NotADirectoryError for the file) saying what is wrong and where
``find`` looked; ``find(name, required=True)`` raises that error itself. And the documented
keys of the rows are exactly their keys, with Wu & Lo's threshold (log10 of FLOP in units of
1e21) converted to FLOP as SOURCE.md defines it."""

from __future__ import annotations

import csv
import inspect
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import shared_set
from scalingfit import datasets
from scalingfit.data import RunDataError

WU, PYTHIA, OLMO = "wu2024_ushaped_emergence", "pythia_evals", "olmo_ladder2024"

# reader, the set it reads, the file it looks for first in the folder
READERS: list[tuple[Callable[..., Any], str, str]] = [
    (datasets.load_olmo_ladder_runs, OLMO, "ladder_runs.csv"),
    (datasets.load_olmo_val_losses, OLMO, "ladder_val_losses_long.csv"),
    (datasets.load_olmo_task_metrics, OLMO, "ladder_task_metrics.csv"),
    (datasets.load_olmo_published, OLMO, "published/final.json"),
    (datasets.load_pythia_lambada, PYTHIA, "pythia_lambada_wide.csv"),
    (datasets.load_wu2024, WU, "ushaped_overall_wide.csv"),
]
IDS = [r[0].__name__ for r in READERS]


def _nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$SCALINGFIT_DATA an empty folder and the current folder one without shared/data."""
    env = tmp_path / "env"
    env.mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.setenv("SCALINGFIT_DATA", str(env))
    monkeypatch.chdir(tmp_path / "a" / "b")
    return env


# ------------------------------------------------------------------ 1. a set not found
@pytest.mark.parametrize(("reader", "name", "file"), READERS, ids=IDS)
def test_reader_given_none_says_the_set_was_not_found_and_where_find_looked(
    reader: Callable[..., Any], name: str, file: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``reader(find(name))`` for a set that is nowhere: a FileNotFoundError naming the reader,
    the set, every folder find searched and $SCALINGFIT_DATA (was a bare "expected str, bytes
    or os.PathLike object, not NoneType" TypeError)."""
    env = _nowhere(tmp_path, monkeypatch)
    assert datasets.find(name) is None
    with pytest.raises(FileNotFoundError) as info:
        reader(datasets.find(name))
    msg = str(info.value)
    assert msg.startswith(f"{reader.__name__} got None for the folder: data set {name!r} not found")
    for folder in datasets.data_folders():
        assert str(folder) in msg
    assert str(env) in msg and "$SCALINGFIT_DATA" in msg and "data_dir" in msg


def test_find_required_raises_instead_of_returning_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``find(name, required=True)``: the found folder as without it, else a FileNotFoundError
    naming the folders searched, data_dir first; None stays the default."""
    env = _nowhere(tmp_path, monkeypatch)
    mine = tmp_path / "mine"
    mine.mkdir()
    assert datasets.find(PYTHIA) is None
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"data set {PYTHIA!r} not found: no folder {PYTHIA!r} in {mine}, {env}, ")):
        datasets.find(PYTHIA, mine, required=True)
    with pytest.raises(FileNotFoundError, match=r"set \$SCALINGFIT_DATA to the folder"):
        datasets.find(PYTHIA, required=True)
    (mine / PYTHIA).mkdir()
    assert datasets.find(PYTHIA, mine, required=True) == mine / PYTHIA
    shipped = "porian2024_isoflop"  # nowhere in the data folders: the shipped copy
    assert datasets.find(shipped, required=True) == datasets.path(shipped)


# ------------------------------------------------------------------ 1. a wrong folder
@pytest.mark.parametrize(("reader", "name", "file"), READERS, ids=IDS)
def test_reader_names_a_missing_folder_a_wrong_folder_and_a_file(
    reader: Callable[..., Any], name: str, file: str, tmp_path: Path
) -> None:
    """A folder that does not exist is named as a folder (was "no such file:
    <folder>/<file>"); an existing folder without the set's file is said not to be the set's
    folder; the set's file given instead of its folder is a NotADirectoryError (was a
    FileNotFoundError for <file>/<file>); a number is a TypeError naming the argument."""
    missing = tmp_path / "typo"
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"{reader.__name__}: no such folder: {missing}; expected the {name!r} data set's "
            f"folder (scalingfit.datasets.find({name!r}))")):
        reader(missing)
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"{reader.__name__}: no such file: {tmp_path / file}, so {tmp_path} is not the "
            f"{name!r} data set's folder")):
        reader(str(tmp_path))
    the_file = tmp_path / file
    the_file.parent.mkdir(parents=True, exist_ok=True)
    the_file.write_text("x\n1\n")
    with pytest.raises(NotADirectoryError, match=re.escape(
            f"{reader.__name__}: {the_file} is a file; pass the {name!r} data set's folder")):
        reader(the_file)
    with pytest.raises(TypeError, match=r"folder must be a path \(str or os.PathLike\), got int 3"):
        reader(3)


# ------------------------------------------------------------------ 2. and 3. documented keys
def _documented_keys(doc: str | None) -> set[str]:
    """The names of a numpy-style ``Keys`` section (``name : type`` lines)."""
    section = inspect.cleandoc(doc or "").split("Keys\n----\n", 1)
    assert len(section) == 2, "no Keys section"
    return {m.group(1) for m in re.finditer(r"^(\w+) : ", section[1], re.MULTILINE)}


ROW_TYPES = [datasets.OlmoRun, datasets.OlmoLossCurve, datasets.OlmoTaskCurve,
             datasets.OlmoChained, datasets.OlmoPublished, datasets.PythiaLambadaRow,
             datasets.Wu2024Row]


@pytest.mark.parametrize("row_type", ROW_TYPES, ids=[t.__name__ for t in ROW_TYPES])
def test_row_types_document_every_key_in_their_docstring(row_type: type) -> None:
    """help(Wu2024Row) etc. list exactly the type's keys (they were ``#:`` comments that help()
    does not show)."""
    assert _documented_keys(row_type.__doc__) == set(row_type.__annotations__)


def _check_rows(reader: Callable[..., Any], row_type: type, rows: list[Any]) -> None:
    keys = _documented_keys(row_type.__doc__)
    assert rows and all(set(r) == keys for r in rows)
    doc = reader.__doc__ or ""
    assert f":class:`{row_type.__name__}`" in doc
    for k in keys:
        assert f"``{k}``" in doc, f"{reader.__name__}'s docstring lacks ``{k}``"


WU_CSV = (
    "model,family,params_B,tokens_T,flops_1e21,task,paper_type,"
    "paper_threshold_log10_flops_1e21,random_guess_acc,acc,brier,paper_excluded_overtrained,"
    "log10_flops_1e21\n"
    "org/m1,Fam,6.0,3.0,25.0,mmlu,Emergence,1.5,0.25,0.375,0.625,False,1.3979400086720377\n"
    "org/m2,Fam,7.0,2.0,50.0,mmlu,Emergence,1.5,0.25,0.5,0.5,True,1.6989700043360187\n"
)


def test_wu_documented_keys_are_the_row_keys(tmp_path: Path) -> None:
    """load_wu2024's docstring named file columns (``paper_excluded_overtrained``: a KeyError)
    and not the keys ``type``, ``threshold``, ``chance``, ``excluded``; now both it and
    Wu2024Row's list exactly the keys of the rows, and both state how ``threshold`` (log10 of
    FLOP in 1e21) compares with ``flops`` (FLOP)."""
    (tmp_path / "ushaped_overall_wide.csv").write_text(WU_CSV)
    rows = datasets.load_wu2024(tmp_path)
    _check_rows(datasets.load_wu2024, datasets.Wu2024Row, rows)
    for doc in (datasets.load_wu2024.__doc__, datasets.Wu2024Row.__doc__):
        assert "``flops < 10 ** threshold * 1e21``" in " ".join((doc or "").split())
    # 25e21 FLOP is below 10 ** 1.5 * 1e21 = 3.16e22 and 50e21 above; flops < threshold is never
    assert [r["flops"] < 10 ** r["threshold"] * 1e21 for r in rows] == [True, False]
    assert not any(r["flops"] < r["threshold"] for r in rows)


def _wu_source() -> tuple[dict[str, float], dict[str, int]]:
    """SOURCE.md's thresholds of the "Emergence" tasks (log10 of FLOPs in units of 1e21) and
    its table of models below the paper's threshold per task (over-trained ones excluded)."""
    text = (shared_set(WU) / "SOURCE.md").read_text(encoding="utf-8")
    line = next(s for s in text.splitlines() if "thresholds (log10 of FLOPs in units of 1e21)" in s)
    thr = {t: float(v) for t, v in re.findall(r"(\w+) (\d+\.\d+)", line.split(":", 1)[1])}
    below = {t: int(n) for t, n in re.findall(r"^ *\| (\w+)(?: \(no emergence\))? \| (\d+) \|",
                                               text, re.MULTILINE)}
    assert len(thr) == 6 and len(below) == 8
    return thr, below


def test_wu_threshold_in_flop_against_source_md() -> None:
    """On the published rows: ``threshold`` is SOURCE.md's threshold of the task, the file's
    value, and ``10 ** threshold * 1e21`` FLOP is the same cut as the file's own units
    (``flops_1e21 < 10 ** threshold``) and gives SOURCE.md's count of models below it per task
    (mmlu 32 ... arc 54)."""
    folder = shared_set(WU)
    thr, below = _wu_source()
    rows = datasets.load_wu2024(folder)
    _check_rows(datasets.load_wu2024, datasets.Wu2024Row, rows)
    with (folder / "ushaped_overall_wide.csv").open(newline="", encoding="utf-8") as fh:
        raw = {(r["model"], r["task"]): r for r in csv.DictReader(fh)}
    for r in rows:
        file_row = raw[(r["model"], r["task"])]
        assert r["threshold"] == float(file_row["paper_threshold_log10_flops_1e21"])
        if r["task"] in thr:
            assert r["threshold"] == thr[r["task"]] and r["type"] == "Emergence"
        assert (r["flops"] < 10 ** r["threshold"] * 1e21) == (
            float(file_row["flops_1e21"]) < 10 ** float(file_row["paper_threshold_log10_flops_1e21"]))
    mmlu = next(r for r in rows if r["task"] == "mmlu")
    assert 10 ** mmlu["threshold"] * 1e21 == pytest.approx(3.1622776601683794e22, rel=1e-15)
    n_below = Counter(r["task"] for r in rows
                      if not r["excluded"] and r["flops"] < 10 ** r["threshold"] * 1e21)
    assert {t: n_below[t] for t in below} == below


def test_other_readers_documented_keys_are_the_row_keys() -> None:
    """Every row of the OLMo ladder and Pythia readers has exactly the keys its type's
    docstring lists, and the reader's docstring names each of them."""
    olmo, pythia = shared_set(OLMO), shared_set(PYTHIA)
    _check_rows(datasets.load_olmo_ladder_runs, datasets.OlmoRun,
                list(datasets.load_olmo_ladder_runs(olmo).values()))
    _check_rows(datasets.load_olmo_val_losses, datasets.OlmoLossCurve,
                list(datasets.load_olmo_val_losses(olmo).values()))
    _check_rows(datasets.load_olmo_task_metrics, datasets.OlmoTaskCurve,
                list(datasets.load_olmo_task_metrics(olmo).values()))
    published = datasets.load_olmo_published(olmo)
    _check_rows(datasets.load_olmo_published, datasets.OlmoPublished, [published])
    _check_rows(datasets.load_olmo_published, datasets.OlmoChained,
                list(published["chained"].values()))
    for shots in (0, 5):
        _check_rows(datasets.load_pythia_lambada, datasets.PythiaLambadaRow,
                    datasets.load_pythia_lambada(pythia, num_fewshot=shots))


# ------------------------------------------------------------------ 5. a row given twice
def _with_line_repeated(src: Path, dst: Path, line: int, edit: Callable[[str], str] = lambda s: s) -> int:
    """``src`` copied to ``dst`` with its file line ``line`` (1-based) given again, edited by
    ``edit``, right after the last line; returns the new line's number."""
    lines = src.read_text(encoding="utf-8").splitlines()
    dst.write_text("\n".join([*lines, edit(lines[line - 1])]) + "\n", encoding="utf-8")
    return len(lines) + 1


@pytest.mark.parametrize(("reader", "file", "line", "what"), [
    (datasets.load_olmo_ladder_runs, "ladder_runs.csv", 2, "run 190M-0.5xC"),
    (datasets.load_olmo_val_losses, "ladder_val_losses_long.csv", 3, "run and step (split c4_en) 190M-0.5xC, 100"),
    (datasets.load_olmo_task_metrics, "ladder_task_metrics.csv", 2,
     "run, task and step 190M-0.5xC, arc_challenge_test, 50"),
    (datasets.load_olmo_published, "published/chained_main.csv", 2, "task (without _5shot) mmlu_avg_test"),
], ids=["runs", "val_losses", "task_metrics", "chained"])
def test_olmo_readers_refuse_a_row_given_twice(tmp_path: Path, reader: Callable[..., Any], file: str, line: int,
                                               what: str) -> None:
    """A ladder run listed twice was read as its last row (N 7e8 in place of 1.9e8, no word);
    a (run, step) point twice went into its curve twice (step [100, 100, 200]); ``X`` and
    ``X_5shot`` in chained_main.csv kept the last. Each now names the file, the key and both
    lines. The second copy differs in its last cell, so neither can be chosen."""
    import shutil

    folder = tmp_path / "olmo"
    shutil.copytree(shared_set(OLMO), folder, ignore=shutil.ignore_patterns("original"))
    path = folder / file
    edit = ((lambda s: s.replace("mmlu_avg_test_5shot", "mmlu_avg_test", 1)) if file.endswith("chained_main.csv")
            else (lambda s: s[: s.rindex(",")] + ",1.5"))
    new = _with_line_repeated(shared_set(OLMO) / file, path, line, edit)
    reader(shared_set(OLMO))  # the published files read
    with pytest.raises(RunDataError, match=re.escape(f"{path}: {what} appears twice, on lines {line} and {new}; which one is "
                                       "meant is not clear: remove one")):
        reader(folder)
