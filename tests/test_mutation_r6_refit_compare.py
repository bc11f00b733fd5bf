"""Mutation round 6: refit_compare.py. Arguments checked by name before any file is read."""

from __future__ import annotations

import pytest
from scalingfit.refit_compare import compare_refit


def test_starts_other_than_all_or_one_is_named_before_the_source_is_read(tmp_path) -> None:
    missing = tmp_path / "no_such_runs.csv"  # never opened: the arguments are checked first
    with pytest.raises(ValueError, match=r"starts must be 'all' or 'one', got 'some'"):
        compare_refit(missing, ["chinchilla", "kaplan_nd"], starts="some", progress=False)
    assert not missing.exists() and not list(tmp_path.iterdir())
