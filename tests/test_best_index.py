"""BatchResult.best_index (stop 37 took an O(n) path for items grouped by problem, as
fit_batch, all_starts and refit give them, beside the lexsort for any order): against a plain
loop over the items, the definition in its docstring: per problem the converged item of least
cost, else the unconverged one of least finite cost, else the failure; ties to the first item;
-1 for a problem without items."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scalingfit.results import BatchResult


def _loop(problem: np.ndarray, cost: np.ndarray, status: np.ndarray, n: int) -> np.ndarray:
    best = [-1] * n
    keys: list = [None] * n
    for i, (j, c, s) in enumerate(zip(problem.tolist(), cost.tolist(), status.tolist())):
        rank = 0 if s > 0 else (1 if s == 0 else 2)
        k = (rank, c if math.isfinite(c) else math.inf)
        if keys[j] is None or k < keys[j]:  # strictly better: ties keep the first item
            best[j], keys[j] = i, k
    return np.array(best, dtype=np.int64)


def _result(problem: np.ndarray, cost: np.ndarray, status: np.ndarray, n: int) -> BatchResult:
    m = problem.shape[0]
    return BatchResult(model="power_law", param_names=("A", "alpha"), x=np.zeros((m, 2)), cost=cost,
                       status=status.astype(np.int32), iterations=np.zeros(m, np.int32), cov=None,
                       problem=problem.astype(np.int64), n_problems=n)


@pytest.mark.parametrize("order", ["grouped", "shuffled", "one_each"])
def test_best_index_matches_the_definition(order: str) -> None:
    rng = np.random.default_rng({"grouped": 1, "shuffled": 2, "one_each": 3}[order])
    for _ in range(400):
        n = int(rng.integers(1, 9))
        if order == "one_each":
            problem = np.arange(n)
        else:
            problem = rng.integers(0, n, int(rng.integers(0, 25)))
            problem = np.sort(problem) if order == "grouped" else problem
        m = problem.shape[0]
        cost = rng.choice([0.0, -0.0, 0.5, 1.0, 2.0, math.nan, math.inf, -math.inf], m)
        status = rng.choice([-3, -2, -1, 0, 1, 2, 3], m)
        got = _result(problem, cost, status, n).best_index()
        np.testing.assert_array_equal(got, _loop(problem, cost, status, n))


def test_a_gap_in_one_item_per_problem_is_not_read_as_in_order() -> None:
    # n items for n problems, sorted, first 0 and last n - 1, but problem 1 has none
    problem = np.array([0, 0, 2])
    got = _result(problem, np.array([2.0, 1.0, 3.0]), np.array([1, 1, 1]), 3).best_index()
    np.testing.assert_array_equal(got, [1, -1, 2])
