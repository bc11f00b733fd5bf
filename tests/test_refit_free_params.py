"""refit's Gauss-Newton intervals take Student's t on n - (free parameters). A custom law
whose registered bounds hold a parameter (lower = upper) was counted as if that parameter
were free (only fixed= was subtracted): one degree of freedom too few, a wider t. The
reference here is the textbook interval from the fit's own covariance, t on n - 4."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
stats = pytest.importorskip("scipy.stats")
from scalingfit import CustomModel, _synthdb
from scalingfit import refit as rf

NAMES = ("E", "A", "B", "alpha", "beta")


def chin(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]


def test_a_parameter_held_by_registered_bounds_is_not_counted_free(tmp_path: Path) -> None:
    runs, truth = _synthdb.chinchilla_sweeps(5, runs=30, checkpoints=1, noise=0.01, seed=2)[:2]
    E = float(truth.E.iloc[0])
    runs = runs[runs.sweep == 0]
    name = "chin_e_held_review34"
    rf.register_law(name, CustomModel(chin, NAMES, 2, name=name), ("N", "D"),
                    [[E, 400.0, 400.0, 0.34, 0.28]], fit_kwargs={"bounds": {"E": (E, E)}})
    try:
        rf.refit(runs, law=name, db=tmp_path / "f.duckdb", progress=False)
        row = rf.read_fits(tmp_path / "f.duckdb", law=name).iloc[0]
    finally:
        rf.LAWS.pop(name, None)
    n = int(row["n_points"])
    assert n == 30 and row["params"] and row["E"] == E
    se = np.asarray(json.loads(row["stderr"]), dtype=float)
    lo = np.asarray(json.loads(row["ci_low"]), dtype=float)
    est = np.asarray(json.loads(row["params"]), dtype=float)
    t = stats.t.ppf(0.975, n - 4)  # 4 free: E is held
    free = np.array([1, 2, 3, 4])
    np.testing.assert_allclose(est[free] - lo[free], t * se[free], rtol=1e-12)
