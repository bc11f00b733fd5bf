"""Inputs an audit found mishandled: a raw library error instead of one naming the input, or a
value silently wrong (each case failed before its fix)."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit

pd = pytest.importorskip("pandas")
from scalingfit import data

X = np.logspace(1, 3, 40)
Y = 1 + 2 * X**-0.5


def test_max_memory_beyond_int64_is_a_number_of_bytes() -> None:
    """max_memory=2**70 (a Python int past int64) failed in np.isfinite with a TypeError."""
    r = scalingfit.fit_batch("saturating_power_law", X, Y, [0, 40], max_memory=2**70)
    assert r.status[0] > 0
    np.testing.assert_allclose(r.x[0], [1, 2, 0.5], rtol=1e-8)
    with pytest.raises(ValueError, match="max_memory must be a positive number of bytes"):
        scalingfit.fit_batch("saturating_power_law", X, Y, [0, 40], max_memory=-(2**70))


@pytest.mark.parametrize("offsets", [np.array([0, 2**64 - 1, 40], np.uint64), [0, 2**63, 40], [0, 2**70, 40]])
def test_offsets_past_int64_are_named_for_what_they_are(offsets) -> None:
    """uint64 2**64 - 1 wrapped to -1 ('offsets[1] < offsets[0]'), and [0, 2**63, 40] became
    floats ('must be integers, got dtype float64'): the real fault is offsets[2] < offsets[1]."""
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing; offsets\[2\] < offsets\[1\]"):
        scalingfit.fit_batch("saturating_power_law", X, Y, offsets)


def test_validate_runs_names_what_it_was_given() -> None:
    """validate_runs(None) raised AttributeError; an int past float64 in N (10**400) raised
    pandas' OverflowError; two rows without a run_id were called duplicates of each other."""
    with pytest.raises(TypeError, match="df must be a pandas DataFrame of runs, got NoneType"):
        data.validate_runs(None)
    big = pd.DataFrame({"N": [10**400, 5], "value": [1.0, 2.0]})
    with pytest.raises(data.RunDataError, match="row 0: N is missing or not finite"):
        data.validate_runs(big)
    clean, report = data.validate_runs(big, policy="skip-and-report")
    assert [r.row for r in report.rows] == [0] and clean["N"].tolist() == [5]
    runs = pd.DataFrame({"N": [1.0, 2, 3], "value": [1.0, 2, 3], "run_id": [None, None, "a"], "step": [1, 1, 1]})
    clean, report = data.validate_runs(runs, policy="skip-and-report")
    assert report.rows == [] and len(clean) == 3
    twice = runs.assign(run_id=["a", "b", "a"])
    assert [(r.row, r.reason) for r in data.validate_runs(twice, policy="skip-and-report")[1].rows] == \
        [(2, "duplicates an earlier row")]


def test_a_law_giving_a_parameter_twice_is_refused() -> None:
    """optimal --law E=1,E=2,...: the last E silently won."""
    from scalingfit.planning._cli import resolve_law

    with pytest.raises(ValueError, match="gives E more than once"):
        resolve_law("E=1,E=2,A=400,B=400,alpha=0.3,beta=0.3")
    assert resolve_law("E=1,A=400,B=400,alpha=0.3,beta=0.3")["E"] == 1.0


def test_a_boolean_size_column_is_not_read_as_numbers(tmp_path) -> None:
    """N as True/False was read as 1/0: True fitted as a model of 1 parameter. Now refit (a
    DataFrame or DuckDB BOOLEAN column) and validate_runs name the column."""
    pytest.importorskip("duckdb")
    from scalingfit import _synthdb
    from scalingfit import refit as rf

    runs, _ = _synthdb.chinchilla_sweeps(3, 12, seed=1)
    df = runs.assign(N=runs["N"] > 1e8)
    with pytest.raises(data.RunDataError, match=r"column 'N' of the run data holds BOOLEAN values"):
        rf.refit(df, db=tmp_path / "b.duckdb", progress=False)
    with pytest.raises(data.RunDataError, match=r"column 'N' holds booleans \(True/False\), not numbers"):
        data.validate_runs(df)
