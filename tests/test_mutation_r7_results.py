"""Mutation round 7: results.py. FitResult's and BatchResult's documented contracts on
hand-built results, checked against hand-worked answers and scipy's t quantile."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import FitResult
from scalingfit._warnings import UncertaintyWarning
from scalingfit.results import BatchResult

st = pytest.importorskip("scipy.stats")

NAMES = ("E", "A", "alpha")


def _fit(**kw: object) -> FitResult:
    base: dict[str, object] = dict(model="saturating_power_law", param_names=NAMES,
                                   x=np.array([2.0, 100.0, 0.3]), cost=0.5,
                                   cov=np.diag([0.04, 25.0, 0.0009]), status=1, iterations=7,
                                   n_points=10)
    base.update(kw)
    return FitResult(**base)  # type: ignore[arg-type]


def test_a_state_pickled_without_n_used_counts_every_point() -> None:
    # "a result pickled before n_used existed: every point counted"
    r = _fit(n_used=10)
    state = dict(r.__getstate__())
    del state["n_used"]
    old = FitResult.__new__(FitResult)
    old.__setstate__(state)
    assert old.n_used == 10 and old.dof == 10 - 3
    assert "n_used" not in repr(old)  # n_used == n_points: not shown


def test_status_zero_is_not_success() -> None:
    # "> 0 converged, 0 iteration limit": the limit is no success, in either result type
    assert _fit(status=0).success is False
    assert _fit(status=1).success is True
    b = _batch(np.array([1.0, 2.0, 3.0]), np.array([1, 0, -1]), np.array([0, 0, 0]), 1)
    assert b.success.tolist() == [True, False, False]


def test_interval_on_a_bound_warns_and_is_the_t_interval() -> None:
    r = _fit(at_bound=("alpha",))
    t = float(st.t.ppf(0.975, 10 - 3))
    with pytest.warns(UncertaintyWarning, match=r"alpha = 0.3 ended on one of its bounds"):
        lo, hi = r.interval("alpha")
    assert lo == pytest.approx(0.3 - t * 0.03, rel=1e-12) and hi == pytest.approx(0.3 + t * 0.03, rel=1e-12)
    # an interior parameter: no warning (filterwarnings=error would raise it)
    lo, hi = r.interval("E", level=0.9)
    t90 = float(st.t.ppf(0.95, 7))
    assert (lo, hi) == pytest.approx((2.0 - t90 * 0.2, 2.0 + t90 * 0.2), rel=1e-12)


def test_unknown_names_are_refused_with_the_models_parameters() -> None:
    with pytest.raises(ValueError, match=r"saturating_power_law has no parameter 'beta'; it has E, A, alpha"):
        _fit().interval("beta")
    b = _batch(np.array([1.0]), np.array([1]), np.array([0]), 1)
    with pytest.raises(ValueError, match=r"saturating_power_law has no parameter 'beta'; it has E, A, alpha"):
        b.params("beta")


def _batch(cost: np.ndarray, status: np.ndarray, problem: np.ndarray, n_problems: int,
           iterations: np.ndarray | None = None) -> BatchResult:
    n = cost.shape[0]
    x = np.column_stack([np.arange(n, dtype=float), 10.0 + np.arange(n), 0.1 * (1 + np.arange(n))])
    return BatchResult(model="saturating_power_law", param_names=NAMES, x=x, cost=cost,
                       status=status.astype(np.int32),
                       iterations=(np.arange(n) + 3 if iterations is None else iterations).astype(np.int32),
                       cov=np.stack([np.eye(3) * (i + 1) for i in range(n)]),
                       problem=problem.astype(np.int64), n_problems=n_problems)


def test_best_index_ranks_converged_then_unconverged_then_failed() -> None:
    # problem 0: a converged item of higher cost beats an unconverged one of lower cost;
    # problem 1: no converged item: the unconverged (finite cost) beats a failure of NaN cost;
    # problem 2: only failures: the lowest finite cost; problem 3: no item at all
    cost = np.array([5.0, 1.0, np.nan, 4.0, 3.0, np.nan, 2.0])
    status = np.array([1, 0, -1, 0, -2, -1, -1])
    problem = np.array([0, 0, 1, 1, 2, 2, 2])
    b = _batch(cost, status, problem, 4)
    assert b.best_index().tolist() == [0, 3, 6, -1]


def test_best_per_problem_carries_each_best_item_and_marks_empty_problems() -> None:
    cost = np.array([5.0, 1.0, 4.0])
    status = np.array([1, 1, 1])
    problem = np.array([0, 0, 2])
    b = _batch(cost, status, problem, 3, iterations=np.array([11, 22, 33]))
    best = b.best_per_problem()
    # problem 0: item 1 (cost 1), problem 1: none, problem 2: item 2
    assert best.iterations.tolist() == [22, 0, 33]
    assert best.status.tolist() == [1, -3, 1]
    assert best.cost[[0, 2]].tolist() == [1.0, 4.0] and np.isnan(best.cost[1])
    assert np.array_equal(best.x[0], b.x[1]) and np.isnan(best.x[1]).all()
    assert best.cov is not None and np.array_equal(best.cov[2], np.eye(3) * 3)
    assert best.problem.tolist() == [0, 1, 2]
