"""Mutation round 7: reproduce.py. The argument checks reproduce documents, the tolerances
its docstrings state, the layout error, the 13B token count of SOURCE.md and the Wu & Lo
count of models strictly below the threshold, each against the documented value."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scalingfit import reproduce as rp


def test_numbers_from_1e4_on_are_printed_in_scientific_notation() -> None:
    assert rp._num(12345.0) == "1.23e+04" and rp._num(10000.0) == "1e+04"
    assert rp._num(9999.5) == "9999.5" and rp._num(0.0012345) == "0.0012345"
    assert rp._num(0.00099) == "0.00099" and rp._num(0.0) == "0"


def test_reproduce_refuses_a_data_dir_that_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"data_dir '.*nowhere' is not a folder \(it was given explicitly"):
        rp.reproduce(["muennighoff"], data_dir=tmp_path / "nowhere", n_bootstrap=0)
    # checked up front, not only by the first study's search: with no study to run as well
    with pytest.raises(ValueError, match=r"data_dir '.*nowhere' is not a folder"):
        rp.reproduce([], data_dir=tmp_path / "nowhere", n_bootstrap=0)


def test_reproduce_refuses_one_study_name_as_a_string() -> None:
    with pytest.raises(TypeError, match=r"studies must be a list of study names, got the string 'epoch'; pass \['epoch'\]"):
        rp.reproduce("epoch", n_bootstrap=0)  # type: ignore[arg-type]


def test_reproduce_refuses_a_progress_that_is_not_callable() -> None:
    with pytest.raises(TypeError, match="progress must be callable or None, got int"):
        rp.reproduce(["muennighoff"], n_bootstrap=0, progress=5)  # type: ignore[arg-type]


def test_porian_and_gadre_tolerances_are_the_documented_ones(shared_data: Path) -> None:
    # porian: "their exponents to 1e-9" from their optima, "within 0.035" from the points;
    # gadre: "to the 4 decimals (in percent) they printed" (5e-5)
    rep = rp.reproduce(["porian", "gadre"], data_dir=shared_data, n_bootstrap=0)
    porian = [c for c in rep.checks if c.study == "porian"]
    assert len(porian) == 30
    for c in porian:
        assert c.tolerance == (1e-9 if c.quantity.startswith("a from their optima") else 0.035)
    gadre = [c for c in rep.checks if c.study == "gadre"]
    assert gadre and all(c.tolerance == 5e-5 for c in gadre)


def test_a_study_data_of_another_layout_is_named(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a row without the 'nll' key: a KeyError inside the study becomes the layout error
    monkeypatch.setattr(rp.datasets, "load_pythia_lambada", lambda folder: [{"acc": 0.5, "model": "m", "step": 1}])
    with pytest.raises(ValueError, match=r"pythia: pythia_evals at .* is not the published set's layout "
                                         r"\(missing KeyError: 'nll'\)"):
        rp.reproduce(["pythia"], data_dir=shared_data, n_bootstrap=0)


def test_bhagia_target_tokens_are_source_mds(shared_data: Path) -> None:
    text = (shared_data / "olmo_ladder2024" / "SOURCE.md").read_text()
    found = re.search(r"13B-5T \(N = [0-9,]+, D = ([0-9,]+)\)", text)
    assert found is not None
    assert rp.BHAGIA_13B_TOKENS == float(found.group(1).replace(",", ""))


def test_wu_counts_the_models_strictly_below_the_threshold(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    # "the models with log10(FLOPs / 1e21) below the paper's threshold": one exactly at
    # the threshold (log10 = 0) is not below it, nor is an excluded one
    rows = [dict(task="mmlu", excluded=False, threshold=0.0, flops=1e21 * 10.0 ** e, acc=0.3 + 0.01 * i,
                 brier=0.7 - 0.01 * i) for i, e in enumerate((-3.0, -2.0, -1.0))]
    rows.append(dict(task="mmlu", excluded=False, threshold=0.0, flops=1e21, acc=0.9, brier=0.1))
    rows.append(dict(task="mmlu", excluded=True, threshold=0.0, flops=1e19, acc=0.9, brier=0.1))
    monkeypatch.setattr(rp.datasets, "load_wu2024", lambda folder: rows)
    checks = rp._wu(tmp_path, rp._Options(0, 0))
    count = next(c for c in checks if c.quantity.startswith("mmlu: models below"))
    assert count.ours == 3.0
    rho = next(c for c in checks if c.quantity == "mmlu: Spearman(log C, accuracy)")
    assert rho.ours == pytest.approx(1.0) and np.isfinite(rho.ours)
