"""Mutation round 9, planning/_cli.py (the rows of ``scalingfit optimal``): each numeric
argument is one number (an array, even of one entry, is a TypeError naming it), a trained
model's N and D included."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit.planning import optimal_cli_table


@pytest.mark.parametrize("name", ["compute", "loss", "unique_tokens", "inference_tokens", "R_D", "R_N",
                                  "flops_per_token"])
@pytest.mark.parametrize("value", [[5.0, 6.0], [5.0]])
def test_every_number_is_a_single_number(name: str, value: list[float]) -> None:
    kwargs = {"unique_tokens": 1e10, name: value}
    with pytest.raises(TypeError, match=rf"^{name} must be a single number"):
        optimal_cli_table(**kwargs)


@pytest.mark.parametrize(("trained", "name"), [(([7e10], 1.4e12), "trained N"), ((7e10, [1.4e12, 2e12]), "trained D")])
def test_a_trained_models_sizes_are_single_numbers(trained: tuple, name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name} must be a single number"):
        optimal_cli_table(trained=trained)


HOFF = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. 2022, eq. 10


def _section(rows: list, start: str) -> dict[str, str]:
    return {q: v for s, q, v in rows if s.startswith(start)}


def _eq4(C: float, fpt: float = 6.0) -> tuple[float, float]:
    a, b = HOFF["alpha"], HOFF["beta"]
    G = (a * HOFF["A"] / (b * HOFF["B"])) ** (1 / (a + b))
    c = C / fpt
    return G * c ** (b / (a + b)), c ** (a / (a + b)) / G


def test_tokens_per_parameter_is_d_over_n() -> None:
    rows = optimal_cli_table(compute=1e23, trained=(7e9, 2e12), law=HOFF)
    N, D = _eq4(1e23)
    assert float(_section(rows, "compute-optimal")["tokens per parameter"]) == pytest.approx(D / N, rel=1e-3)
    assert float(_section(rows, "trained model")["tokens per parameter"]) == pytest.approx(2e12 / 7e9, rel=1e-3)


def test_inference_aware_rows_start_with_the_models_size() -> None:
    # brute force: least 6 N D + 2 N I over N on the loss-2.2 contour D(N) of the law
    from scipy.optimize import minimize_scalar

    L, inf = 2.2, 1e13

    def D_of(lnN: float) -> float:
        N = np.exp(lnN)
        return float((HOFF["B"] / (L - HOFF["E"] - HOFF["A"] * N ** -HOFF["alpha"])) ** (1 / HOFF["beta"]))

    lo = np.log((HOFF["A"] / (L - HOFF["E"])) ** (1 / HOFF["alpha"])) + 1e-6
    res = minimize_scalar(lambda t: np.log(6 * np.exp(t) * D_of(t) + 2 * np.exp(t) * inf),
                          bounds=(lo, lo + 20), method="bounded", options={"xatol": 1e-10})
    rows = optimal_cli_table(loss=L, inference_tokens=inf, law=HOFF)
    sec = _section(rows, "inference-aware")
    assert float(sec["parameters N"]) == pytest.approx(np.exp(res.x), rel=2e-3)
    assert float(sec["training tokens D"]) == pytest.approx(D_of(res.x), rel=2e-3)


def test_format_rows_by_hand() -> None:
    from scalingfit.planning import format_rows

    rows = [("s1", "a", "1"), ("s1", "long name", "2"), ("s2", "bb", "3")]
    assert format_rows(rows) == ("s1\n"
                                 "  a          1\n"
                                 "  long name  2\n"
                                 "\n"
                                 "s2\n"
                                 "  bb         3")


@pytest.mark.parametrize("kwargs", [dict(loss=2.2), dict(trained=(7e9, 2e12))])
def test_flops_per_token_is_checked_whatever_is_asked(kwargs: dict) -> None:
    # the rows of a target loss or a trained model alone use it too (training FLOPs, compute)
    with pytest.raises(ValueError, match=r"^flops_per_token must be finite and > 0"):
        optimal_cli_table(**kwargs, flops_per_token=0.0)
    with pytest.raises(TypeError, match=r"^flops_per_token must be a single number"):
        optimal_cli_table(**kwargs, flops_per_token=[5.0, 6.0])
