"""Mutation round 7: data.py. The report's text, the row checks validate_runs documents, and
the small helpers (numbers beyond float64, first lines, human-readable sizes), each against a
hand-made table and its hand-worked answer."""

from __future__ import annotations

import pytest
from scalingfit import data as sd

pd = pytest.importorskip("pandas")


def _report(n_bad: int) -> sd.ValidationReport:
    return sd.ValidationReport(n_rows=20, rows=[sd.BadRow(i, "N", "is missing or not finite")
                                                for i in range(n_bad)])


def test_summary_shows_limit_rows_then_counts_the_rest() -> None:
    # exactly `limit` problems: all shown, no "(and 0 more)"
    s = _report(3).summary(limit=3)
    assert s == ("3 of 20 rows are invalid: row 0: N is missing or not finite; row 1: N is missing or "
                 "not finite; row 2: N is missing or not finite")
    # one more than the limit: the first `limit` shown, then "(and 1 more)"
    s = _report(4).summary(limit=3)
    assert s.count("row ") == 3 and "row 2: N" in s and "row 3: N" not in s
    assert s.endswith(" (and 1 more)") and s.startswith("4 of 20 rows are invalid: ")


def test_a_size_of_exactly_zero_is_refused() -> None:
    # "non-positive sizes": 0 is not > 0
    df = pd.DataFrame({"run_id": ["a", "b", "c"], "N": [1e8, 0.0, 2e8], "value": [3.0, 2.9, 0.0]})
    clean, rep = sd.validate_runs(df, policy="skip-and-report")
    assert [str(b) for b in rep.rows] == ["row 1: N must be > 0, got 0", "row 2: value must be > 0, got 0"]
    assert clean["run_id"].tolist() == ["a"]
    # value may be 0 for a metric that is not a loss
    _, rep = sd.validate_runs(df, positive_value=False, policy="skip-and-report")
    assert [str(b) for b in rep.rows] == ["row 1: N must be > 0, got 0"]


def test_a_required_metric_cell_that_is_missing_is_a_bad_row() -> None:
    df = pd.DataFrame({"run_id": ["a", "a"], "metric": ["loss", None], "N": [1e8, 1e8],
                       "step": [1, 2], "value": [3.0, 2.9]})
    clean, rep = sd.validate_runs(df, required=("N", "value", "metric"), policy="skip-and-report")
    assert [str(b) for b in rep.rows] == ["row 1: metric is missing"]
    assert len(clean) == 1
    with pytest.raises(sd.RunDataError, match="row 1: metric is missing"):
        sd.validate_runs(df, required=("N", "value", "metric"))


def test_a_number_beyond_float64_keeps_its_sign() -> None:
    # "_number: inf (with its sign) for a number beyond float64, NaN for text"
    assert sd._number(10**400) == float("inf")
    assert sd._number(-(10**400)) == float("-inf")
    assert sd._number("2.5") == 2.5


def test_to_numeric_frame_names_the_first_bad_row() -> None:
    df = pd.DataFrame({"N": ["1e8", "x", "2e8", "y"]})
    with pytest.raises(sd.RunDataError, match=r"column 'N' has a non-numeric value at row 1: 'x'"):
        sd.to_numeric_frame(df, ["N"])


def test_first_line_is_the_first_line() -> None:
    exc = RuntimeError("Binder Error: no such column\n\nLINE 1: SELECT x\n        ^")
    assert sd.first_line(exc) == "Binder Error: no such column"
    assert sd.first_line(RuntimeError("")) == ""


@pytest.mark.parametrize("n, text", [
    (1e9, "1B"), (999.6e6, "1B"), (1e3, "1K"), (999.0, "999"), (1e6, "1M"), (2e12, "2T"),
    (3.5e14, "350T"), (-2.5e9, "-2.5B"), (1.5e15, "1.5e+15"), (1.234e10, "12.3B"),
])
def test_human_uses_the_largest_unit_the_number_reaches(n: float, text: str) -> None:
    assert sd.human(n) == text
