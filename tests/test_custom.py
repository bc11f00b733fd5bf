"""Custom (Python callable) models go through the same API and agree with scipy."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import scalingfit
from conftest import make_problem, pack_problems
from scipy.optimize import least_squares


def _sat(x, p):
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2]


def _sat_jac(x, p):
    xa = x[:, 0] ** -p[:, 2]
    return np.column_stack([np.ones_like(xa), xa, -p[:, 1] * np.log(x[:, 0]) * xa])


def test_custom_model_matches_scipy() -> None:
    rng = np.random.default_rng(21)
    model = scalingfit.CustomModel(_sat, ("E", "A", "alpha"), jac=_sat_jac)
    for loss in ("linear", "soft_l1", "huber"):
        x, y, p_true = make_problem("saturating_power_law", 12, 0.01, rng)
        p0 = p_true * 1.05
        f_scale = 0.02 * float(np.max(y))
        ours = scalingfit.fit(model, x, y, p0, loss=loss, f_scale=f_scale, ftol=1e-15, xtol=1e-14, gtol=1e-14)
        ref = least_squares(lambda p: _sat(x, p[None, :].repeat(len(y), 0)) - y, p0, loss=loss,
                            f_scale=f_scale, xtol=1e-15, ftol=1e-15, gtol=1e-15, x_scale="jac")
        assert ours.success
        np.testing.assert_allclose(ours.x, ref.x, rtol=1e-6)
        assert ours.cost <= ref.cost * (1 + 1e-9)


def test_custom_batch_without_jacobian_handles_bad_problems() -> None:
    rng = np.random.default_rng(22)
    model = scalingfit.CustomModel(_sat, ("E", "A", "alpha"))  # finite-difference Jacobian
    probs = [make_problem("saturating_power_law", 10, 0.0, rng) for _ in range(4)]
    probs[2][1][3] = np.nan
    x, y, offsets = pack_problems(probs)
    p0 = np.array([p[2] * 1.02 for p in probs])
    res = scalingfit.fit_batch(model, x, y, offsets, p0)
    assert res.status[2] == -3
    for j in (0, 1, 3):
        assert res.success[j]
        np.testing.assert_allclose(res.x[j], probs[j][2], rtol=1e-6)


def test_custom_model_without_p0_is_a_clear_error() -> None:
    """A custom law has no data-driven start: fit and fit_batch say so (fit raised an
    AttributeError, fit_batch gave every problem status -3 without a word)."""
    rng = np.random.default_rng(23)
    model = scalingfit.CustomModel(_sat, ("E", "A", "alpha"), name="mine")
    x, y, _ = make_problem("saturating_power_law", 10, 0.0, rng)
    with pytest.raises(ValueError, match="custom model 'mine' needs p0"):
        scalingfit.fit(model, x, y)
    with pytest.raises(ValueError, match="custom model 'mine' needs p0"):
        scalingfit.fit_batch(model, x, y, [0, len(y)])


def test_custom_twin_follows_the_core_step_by_step() -> None:
    """The Python solver of custom models applies lm.hpp's rules (damping floor, Nielsen's
    1/10 floor, ftol on rejected steps): on 300 saturating power laws written as a custom model
    it takes the core's number of trial steps on nearly every fit (before those rules were
    ported: 14% of fits) and lands on the same solutions."""
    from scalingfit import _bench

    p = _bench.make_problems("saturating_power_law", 300, 10, seed=1)

    def f(x: np.ndarray, q: np.ndarray) -> np.ndarray:
        return q[:, 0] + q[:, 1] * x[:, 0] ** -q[:, 2]

    def jac(x: np.ndarray, q: np.ndarray) -> np.ndarray:
        xa = x[:, 0] ** -q[:, 2]
        return np.column_stack([np.ones_like(xa), xa, -q[:, 1] * xa * np.log(x[:, 0])])

    m = scalingfit.CustomModel(f, ("E", "A", "alpha"), jac=jac)
    core = scalingfit.fit_batch("saturating_power_law", p.x, p.y, p.offsets, p.p0)
    twin = scalingfit.fit_batch(m, p.x, p.y, p.offsets, p.p0)
    assert (core.status > 0).all() and (twin.status > 0).all()
    assert np.mean(core.iterations == twin.iterations) > 0.95
    np.testing.assert_allclose(twin.x, core.x, rtol=1e-6)


# ------------------------------------------------------------------ malformed definitions
# (an API audit: each was accepted and failed later, obscurely, or gave a bogus fit)
_X = np.array([1.0, 2, 4, 8, 16, 32])
_Y = 1 + 2 * _X**-0.5
_NAMES = ("E", "A", "alpha")


def _fit(func, jac=None, names=_NAMES, **kw) -> object:
    model = scalingfit.CustomModel(func, names, jac=jac)
    return scalingfit.fit(model, _X, _Y, [1.0, 2.0, 0.5][: len(names)], **kw)


def test_param_names_as_one_string_is_refused() -> None:
    """'Aa' became the parameters ('A', 'a'); a string is neither split into letters nor at
    commas: a TypeError says how to write one parameter."""
    with pytest.raises(TypeError, match=re.escape(
            "param_names must be a sequence of names such as ('A', 'alpha'), got the string "
            "'Aa'; for a single parameter write ('Aa',)")):
        scalingfit.CustomModel(_sat, "Aa")
    assert scalingfit.CustomModel(lambda x, p: p[:, 0] * x[:, 0], ("Aa",)).param_names == ("Aa",)
    assert scalingfit.CustomModel(_sat, ["E", "A", "alpha"]).param_names == _NAMES


@pytest.mark.parametrize(("names", "exc", "message"), [
    (("A", "A"), ValueError, "param_names has 'A' twice (index 0 and 1): names must be unique"),
    (("E", "A", "E"), ValueError, "param_names has 'E' twice (index 0 and 2)"),
    ((), ValueError, "param_names is empty: a custom model needs at least one parameter"),
    (("A", ""), ValueError, "param_names[1] is '': every parameter needs a name"),
    (("A", " "), ValueError, "param_names[1] is ' ': every parameter needs a name"),
    (("A", 1), TypeError, "param_names[1] must be a str, got int 1"),
    (("A", None), TypeError, "param_names[1] must be a str, got NoneType None"),
    (3, TypeError, "param_names must be a sequence of names such as ('A', 'alpha'), got int"),
    (b"AB", TypeError, "got the string b'AB'"),
])
def test_malformed_param_names_raise_at_construction(names, exc, message) -> None:
    """Duplicates collapsed (params == {'A': 0.5}), () failed later with an IndexError, empty
    and non-str names were taken as they came."""
    with pytest.raises(exc, match=re.escape(message)):
        scalingfit.CustomModel(_sat, names)


@pytest.mark.parametrize(("kw", "exc", "message"), [
    ({"lower": [0.2]}, ValueError, ("lower must be one number (for every parameter) or 3 values, "
     "one per parameter (E, A, alpha); got 1 value(s) of shape (1,)")),
    ({"upper": [1.0, 2.0]}, ValueError, ("upper must be one number (for every parameter) or 3 "
     "values, one per parameter (E, A, alpha); got 2 value(s) of shape (2,)")),
    ({"upper": [[1.0, 2.0, 3.0]]}, ValueError, "got 3 value(s) of shape (1, 3)"),
    ({"lower": "zero"}, TypeError, "lower must be numbers, got str 'zero'"),
    ({"lower": [0.0, np.nan, 0.0]}, ValueError, "lower bound of A (index 1) is NaN"),
    ({"lower": [0.0, 3.0, 0.0], "upper": 2.0}, ValueError,
     "lower bound 3.0 of A (index 1) exceeds its upper bound 2.0"),
])
def test_default_bounds_must_have_one_value_per_parameter(kw, exc, message) -> None:
    """lower=[0.2] was broadcast to every parameter of a 3-parameter law."""
    with pytest.raises(exc, match=re.escape(message)):
        scalingfit.CustomModel(_sat, _NAMES, **kw)


def test_one_number_bounds_every_parameter() -> None:
    """A scalar bound is documented to apply to every parameter (it was kept 0-d)."""
    model = scalingfit.CustomModel(_sat, _NAMES, lower=0.0, upper=10)
    np.testing.assert_array_equal(model.lower, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(model.upper, [10.0, 10.0, 10.0])
    r = scalingfit.fit(model, _X, _Y, [1.0, 1.0, 0.3], bounds={"A": (0.0, 1.5)})
    assert r.params["A"] == 1.5 and r.params["E"] >= 0


def _convention(p_shape: tuple[int, int]) -> str:
    return re.escape(
        f"and p of shape {p_shape} (one row per point, one column per parameter: p[:, 0] is E, "
        "p[:, 1] is A"
    ) + r".*index parameters as p\[:, k\], not p\[k\]\)"


def test_jac_of_the_wrong_shape_names_jac() -> None:
    """A jac with 3 columns for 2 parameters gave a bogus status -2 fit, a 1-D one an
    IndexError."""
    def f2(x, p):
        return p[:, 0] + p[:, 1] * x[:, 0] ** -0.5

    with pytest.raises(ValueError, match=re.escape(
            "jac(x, p) must return shape (6, 2) (one row per point, one column per parameter), "
            "got shape (6, 3). custom model 'custom' is called as func(x, p) and jac(x, p) with "
            "x of shape (6, 1)") + ".*" + _convention((6, 2))):
        _fit(f2, lambda x, p: np.ones((x.shape[0], 3)), ("E", "A"))
    with pytest.raises(ValueError, match=re.escape(
            "jac(x, p) must return shape (6, 3) (one row per point, one column per parameter), "
            "got shape (6,)")):
        _fit(_sat, lambda x, p: np.ones(x.shape[0]))


@pytest.mark.parametrize(("func", "shape"), [
    (lambda x, p: p[0] + p[1] * x**-p[2], "(6, 3)"),  # parameters indexed on axis 0
    (lambda x, p: p[:, 0] + p[:, 1] * x ** -p[:, 2], "(6, 6)"),  # x not x[:, 0]
    (lambda x, p: p[0, :], "(3,)"),
    (lambda x, p: 1.0, "()"),
])
def test_func_of_the_wrong_shape_names_func(func, shape) -> None:
    """numpy's 'operands could not be broadcast together with shapes (3,) (6,)' or 'could not
    broadcast (12,12) into (12,)' came out of the solver; now the first call says what func
    returned, what it should and how p is laid out, with the analytic Jacobian or without."""
    message = (re.escape(f"func(x, p) must return shape (6,) (one value per point), got shape {shape}.")
               + ".*" + _convention((6, 3)))
    with pytest.raises(ValueError, match=message):
        _fit(func)
    with pytest.raises(ValueError, match=message):
        _fit(func, _sat_jac)
    model = scalingfit.CustomModel(func, _NAMES)
    with pytest.raises(ValueError, match=message):
        scalingfit.fit_batch(model, _X, _Y, [0, 6], [1.0, 2.0, 0.5])
    with pytest.raises(ValueError, match=message):
        model.predict(np.array([1.0, 2.0, 0.5]), _X)


def test_func_returning_none_or_text_is_a_type_error() -> None:
    """None gave "unsupported operand type(s) for -"."""
    with pytest.raises(TypeError, match=re.escape(
            "func(x, p) returned None; it must return an array of shape (6,) (one value per "
            "point).") + ".*" + _convention((6, 3))):
        _fit(lambda x, p: None)
    with pytest.raises(TypeError, match=re.escape(
            "jac(x, p) returned None; it must return an array of shape (6, 3)")):
        _fit(_sat, lambda x, p: None)
    with pytest.raises(TypeError, match=re.escape(
            "func(x, p) must return real numbers, got list of dtype <U1")):
        _fit(lambda x, p: ["a"] * x.shape[0])


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are Python 3.11+")
def test_an_error_inside_func_keeps_its_type_and_gets_the_convention() -> None:
    """The usual slip, p[k] for p[:, k] with x[:, 0]: numpy's broadcast error is raised as it
    is, with a note on how x and p are laid out."""
    with pytest.raises(ValueError, match="operands could not be broadcast") as info:
        _fit(lambda x, p: p[0] + p[1] * x[:, 0] ** -p[2])
    (note,) = info.value.__notes__
    assert note.startswith("(raised inside func) custom model 'custom' is called as func(x, p)")
    assert re.search(_convention((6, 3)), note)


@pytest.mark.parametrize(("kw", "exc", "message"), [
    ({"func": 3}, TypeError, "func must be callable as func(x, p), got int"),
    ({"func": None}, TypeError, "func must be callable as func(x, p), got NoneType"),
    ({"jac": "analytic"}, TypeError, "jac must be None or callable as jac(x, p), got str"),
    ({"n_inputs": -1}, ValueError, "n_inputs must be >= 1 (the number of columns of x), got -1"),
    ({"n_inputs": 0}, ValueError, "n_inputs must be >= 1 (the number of columns of x), got 0"),
    ({"n_inputs": 2.0}, TypeError,
     "n_inputs must be an int >= 1 (the number of columns of x), got float 2.0"),
    ({"n_inputs": True}, TypeError, "got bool True"),
    ({"n_inputs": "2"}, TypeError, "got str '2'"),
    ({"name": 7}, TypeError, "name must be a str, got int"),
])
def test_bad_callables_and_counts_raise_at_construction(kw, exc, message) -> None:
    """A non-callable func or jac was only found when fitting; n_inputs=-1 failed later with
    'shape (n, -1)'."""
    args = {"func": _sat, "param_names": _NAMES, **kw}
    with pytest.raises(exc, match=re.escape(message)):
        scalingfit.CustomModel(**args)


def test_numpy_integer_n_inputs_is_an_int() -> None:
    model = scalingfit.CustomModel(_sat, _NAMES, n_inputs=np.int64(2))
    assert model.n_inputs == 2 and type(model.n_inputs) is int
