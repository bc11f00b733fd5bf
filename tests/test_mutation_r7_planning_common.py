"""Mutation round 7: planning/_common.py. The law's argument checks, the replicate laws of a
bootstrap, percentile intervals, the reprs' summaries and the CSV readers' refusals, each
against a hand-worked answer or numpy's own function."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scalingfit
from scalingfit.data import RunDataError
from scalingfit.planning import _common as pc


def test_a_law_may_have_an_irreducible_loss_of_zero_or_below() -> None:
    # only A, B, alpha, beta must be > 0: E is any finite number
    for E in (0.0, -0.5):
        law = pc.as_law({"E": E, "A": 400.0, "B": 400.0, "alpha": 0.34, "beta": 0.28})
        assert float(law.loss(1e9, 2e10)) == pytest.approx(E + 400.0 / 1e9**0.34 + 400.0 / 2e10**0.28, rel=1e-14)
    with pytest.raises(ValueError, match="law parameter A must be > 0"):
        pc.as_law({"E": 1.0, "A": 0.0, "B": 400.0, "alpha": 0.34, "beta": 0.28})


def test_a_law_with_an_unknown_key_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'gamma'"):
        pc.as_law({"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28, "gamma": 1.0})


def _chinchilla_points() -> tuple[np.ndarray, np.ndarray]:
    N, D = (v.ravel() for v in np.meshgrid(np.geomspace(1e7, 1e10, 6), np.geomspace(1e9, 1e12, 5)))
    noise = np.exp(0.01 * np.random.default_rng(0).standard_normal(N.size))
    return np.column_stack([N, D]), (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * noise


def test_replicate_law_leaves_out_failed_replicates() -> None:
    x, y = _chinchilla_points()
    b = scalingfit.bootstrap("chinchilla", x, y, n_resamples=12, seed=1)
    s = np.array(b.batch.samples, dtype=np.float64)
    s[0, 4] = np.nan  # replicate 4 failed
    b2 = dataclasses.replace(b, batch=dataclasses.replace(b.batch, samples=s))
    law = pc.replicate_law(b2)
    keep = np.arange(12) != 4
    assert law.E.shape == (11,)
    j = b.param_names.index("E")
    assert np.array_equal(law.E, s[0, keep, j])


def test_replicate_law_of_the_log_and_tied_forms() -> None:
    x, y = _chinchilla_points()
    b = scalingfit.bootstrap("chinchilla_lse", x, y, n_resamples=8, seed=2)
    law = pc.replicate_law(b)
    cols = {n: b.samples[:, j] for j, n in enumerate(b.param_names)}  # a, b, e are logs
    np.testing.assert_allclose(law.E, np.exp(cols["e"]), rtol=1e-15)
    np.testing.assert_allclose(law.A, np.exp(cols["a"]), rtol=1e-15)
    np.testing.assert_allclose(law.B, np.exp(cols["b"]), rtol=1e-15)
    bt = scalingfit.bootstrap("chinchilla_tied", x, y, n_resamples=8, seed=3)
    tied = pc.replicate_law(bt)
    assert np.array_equal(tied.beta, tied.alpha)  # beta = alpha
    assert np.array_equal(tied.alpha, bt.samples[:, bt.param_names.index("alpha")])


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1])
def test_percentile_interval_refuses_a_level_outside_0_1(level: float) -> None:
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        pc.percentile_interval(np.arange(10.0), level)


def test_small_arrays_are_shown_entry_by_entry() -> None:
    # "Arrays of up to REPR_ENTRIES (4) entries: a column per entry"
    text = pc.quantities_repr("T", [("x", [1.0, 2.0, 3.0, 4.0])])
    assert text.splitlines()[0] == "T, shape (4,)"
    assert "[3]" in text and "median" not in text
    text5 = pc.quantities_repr("T", [("x", [1.0, 2.0, 3.0, 4.0, 5.0])])
    assert "[4]" not in text5 and "median" in text5


def test_replicate_summary_is_the_central_95_percent() -> None:
    r = np.arange(101.0)
    lo, med, hi = np.percentile(r, [2.5, 50.0, 97.5])  # 2.5, 50, 97.5
    text = pc.quantities_repr("T", [("x", r)], replicates=True)
    assert text.splitlines()[-1].split() == ["x", f"{med:.4g}", f"{lo:.4g}", f"{hi:.4g}"]


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(text)
    return p


def test_reader_refuses_a_repeated_header(tmp_path: Path) -> None:
    with pytest.raises(RunDataError, match=r"column\(s\) \['a'\] appear more than once in the header"):
        pc.read_csv_columns(_csv(tmp_path, "a,b,a\n1,2,3\n"))


def test_reader_refuses_a_short_row(tmp_path: Path) -> None:
    with pytest.raises(RunDataError, match=r"row 1 \(line 3\) has 1 cells, the header 2"):
        pc.read_csv_columns(_csv(tmp_path, "a,b\n1,2\n3\n"))


def test_numeric_refuses_inf_and_a_blank_cell(tmp_path: Path) -> None:
    cols = pc.read_csv_columns(_csv(tmp_path, "a,b\n1,2\ninf,3\n4,\n"))
    with pytest.raises(RunDataError, match=r"column 'a', row 1 \(line 3\): 'inf' is not finite"):
        pc.numeric(cols, "a")
    with pytest.raises(RunDataError, match=r"column 'b', row 2 \(line 4\): '' is empty"):
        pc.numeric(cols, "b")
    # with empty=True a blank cell is NaN
    got = pc.numeric(cols, "b", empty=True)
    assert got[:2].tolist() == [2.0, 3.0] and np.isnan(got[2])
