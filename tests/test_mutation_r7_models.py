"""Mutation round 7: models.py. Model.predict's and jacobian's input checks on arrays already
in the core's layout, the clipping of guesses to the bounds, and the power law's guess for
negative data, each against the documented message or the closed form."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scalingfit.models import get


def test_a_zero_input_in_the_cores_layout_is_refused() -> None:
    # "each value > 0 for a law with positive_inputs": a float64 C-contiguous (n,) array,
    # the layout of the fast path, with a 0 in it
    m = get("saturating_power_law")
    x = np.array([1e8, 0.0])
    with pytest.raises(ValueError, match=r"x must be > 0 \(saturating_power_law works with log\(x\)\)"):
        m.predict([2.0, 100.0, 0.3], x)
    with pytest.raises(ValueError, match=r"x must be > 0"):
        m.jacobian([2.0, 100.0, 0.3], np.array([[1e9, 1e10], [0.0, 1e10]])[:, 0].copy())
    m2 = get("chinchilla")
    with pytest.raises(ValueError, match=r"x must be > 0"):
        m2.predict([1.7, 400.0, 400.0, 0.34, 0.28], np.array([[1e9, 1e10], [1e9, 0.0]]))


@pytest.mark.parametrize("params", [[2.0, 100.0], [2.0, 100.0, 0.3, 1.0]])
def test_params_of_another_length_are_refused(params: list[float]) -> None:
    m = get("saturating_power_law")
    x = np.array([1e8, 1e9])
    with pytest.raises(ValueError, match=rf"params must have 3 entries for saturating_power_law, got shape \({len(params)},\)"):
        m.predict(params, x)
    with pytest.raises(ValueError, match="params must have 3 entries"):
        m.jacobian(params, x)


def test_initial_guesses_are_clipped_to_the_bounds() -> None:
    base = get("saturating_power_law")
    N = np.logspace(7, 10, 9)
    y = 2.0 + 100.0 * N**-0.3
    x = N.reshape(-1, 1)
    raw = np.asarray(base.guess(x, y), dtype=np.float64).reshape(-1, 3)  # type: ignore[misc]
    lower, upper = np.array([2.5, 0.0, 0.0]), np.array([np.inf, 50.0, 0.2])  # E, A, alpha
    m = dataclasses.replace(base, lower=lower, upper=upper)
    got = m.initial_guesses(x, y)
    assert np.array_equal(got, np.minimum(np.maximum(raw, lower), upper))
    assert (got[:, 0] >= 2.5).all() and (got[:, 1] <= 50.0).all() and (got[:, 2] <= 0.2).all()


def test_power_law_guess_keeps_the_sign_of_negative_data() -> None:
    # y = -3 x^-0.5 exactly: log|y| is linear in log x, so the guess is (A, alpha) = (-3, 0.5)
    x = np.logspace(6, 9, 7)
    g = get("power_law").initial_guess(x.reshape(-1, 1), -3.0 * x**-0.5)
    np.testing.assert_allclose(g, [-3.0, 0.5], rtol=1e-10)


@pytest.mark.parametrize("bad", [["chinchilla"], {"name": "chinchilla"}, "chinchila", 3])
def test_get_names_the_models_for_anything_not_a_model_name(bad: object) -> None:
    # an unhashable name (a list, a dict) is an unknown model too, not numpy's TypeError
    with pytest.raises(ValueError, match=r"unknown model .*; built-in models are: power_law"):
        get(bad)  # type: ignore[arg-type]


def test_a_built_in_model_pickles_as_the_registered_object() -> None:
    import pickle

    m = get("chinchilla")
    assert pickle.loads(pickle.dumps(m)) is m


def test_muennighoff_decay_constants_are_the_published_ones() -> None:
    import re

    from conftest import SHARED_DATA
    from scalingfit import models

    src = SHARED_DATA / "muennighoff2023_datablations" / "SOURCE.md"
    if not src.is_file():
        pytest.skip(f"no {src}")
    found = re.search(r"R_D\* = ([0-9.]+), R_N\* = ([0-9.]+)", src.read_text())
    assert found is not None
    assert models.MUENNIGHOFF_2023_R_STAR == (float(found.group(1)), float(found.group(2)))


def test_best_three_falls_back_where_no_candidate_fits() -> None:
    # "the fallback (K, P) as the one row of a problem without any"
    from scalingfit.models import _best_three

    p = np.arange(2 * 4 * 2, dtype=float).reshape(2, 4, 2)
    sse = np.array([[np.inf, np.nan, np.inf, np.inf], [3.0, np.inf, 1.0, 2.0]])
    fallback = np.array([[-1.0, -2.0], [-3.0, -4.0]])
    rows, keep = _best_three(p, sse, fallback)
    assert rows[0, 0].tolist() == [-1.0, -2.0] and keep[0].tolist() == [True, False, False]
    assert rows[1].tolist() == [p[1, 2].tolist(), p[1, 3].tolist(), p[1, 0].tolist()]
    assert keep[1].tolist() == [True, True, True]


def test_default_bounds_keep_divisors_and_rates_away_from_their_bad_side() -> None:
    # kaplan_nd divides by alpha_D (alpha_N / alpha_D): its lower bound is above 0;
    # data_constrained's amplitudes and decay rates are not negative
    k = get("kaplan_nd")
    assert k.lower[k.param_names.index("alpha_D")] > 0
    d = get("data_constrained")
    for name in ("A", "B", "r_D", "r_N"):
        assert d.lower[d.param_names.index(name)] == 0.0
    for name in ("alpha", "beta"):
        assert d.lower[d.param_names.index(name)] > 0


def test_kaplan_ns_always_tries_kaplans_table_3_values() -> None:
    # Kaplan et al. (2020), Table 3, L(N, S_min): alpha_N = 0.077, alpha_S = 0.76,
    # N_c = 6.5e13, S_c = 2.1e3 (the paper's numbers, typed here from the table)
    m = get("kaplan_ns")
    N, S = (v.ravel() for v in np.meshgrid(np.geomspace(1e6, 1e9, 5), np.geomspace(1e3, 1e5, 4)))
    y = (6.5e13 / N) ** 0.077 + (2.1e3 / S) ** 0.76
    starts = m.initial_guesses(np.column_stack([N, S]), y * (1 + 0.01 * np.sin(np.arange(N.size))))
    assert starts[-1].tolist() == [6.5e13, 2.1e3, 0.077, 0.76]
