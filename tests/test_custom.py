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


@pytest.mark.filterwarnings("ignore:.*every residual lies within f_scale:scalingfit.DataWarning")
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


# ------------------------------------------------------------------ finite-difference Jacobian
# (an audit: the step had an absolute floor of 1e-9 and stepped past the bounds)
_XK = np.logspace(9, 11, 20)
_YK = 2 + 3 * np.exp(-2e-10 * _XK)


def _exp(x, p):
    return p[:, 0] + p[:, 1] * np.exp(-p[:, 2] * x[:, 0])


def _exp_jac(x, p):
    e = np.exp(-p[:, 2] * x[:, 0])
    return np.column_stack([np.ones_like(e), e, -p[:, 1] * x[:, 0] * e])


def test_finite_differences_follow_a_parameter_on_a_tiny_scale() -> None:
    """E + A exp(-k x) with x in 1e9..1e11 and k = 2e-10: the step floor of 1e-9 on k gave
    dJ/dk off by 1e41 relative and a fit 'converged' at p0 with cost 1.5; the relative step
    reaches the optimum of the analytic Jacobian and of scipy's least_squares."""
    model = scalingfit.CustomModel(_exp, ("E", "A", "k"), name="decay")
    P = np.broadcast_to([2.0, 3.0, 2e-10], (_XK.size, 3)).copy()
    f, J = model.value_and_jacobian(_XK[:, None], P)
    ref = _exp_jac(_XK[:, None], P)
    np.testing.assert_allclose(f, _YK, rtol=1e-15)
    # each column against its own size (A's entries are exp(-20) at the largest x)
    err = np.abs(J - ref).max(axis=0) / np.abs(ref).max(axis=0)
    assert (err < 1e-8).all(), err
    p0 = [1.5, 2.5, 1e-10]
    fd = scalingfit.fit(model, _XK, _YK, p0)
    exact = scalingfit.fit(scalingfit.CustomModel(_exp, ("E", "A", "k"), jac=_exp_jac), _XK, _YK, p0)
    sp = least_squares(lambda q: _exp(_XK[:, None], q[None, :].repeat(_XK.size, 0)) - _YK, p0,
                       jac=lambda q: _exp_jac(_XK[:, None], q[None, :].repeat(_XK.size, 0)),
                       x_scale="jac", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    assert fd.success and exact.success
    np.testing.assert_allclose(fd.x, [2.0, 3.0, 2e-10], rtol=1e-7)
    np.testing.assert_allclose(fd.x, exact.x, rtol=1e-7)
    np.testing.assert_allclose(fd.x, sp.x, rtol=1e-7)
    assert fd.cost < 1e-15


def test_a_parameter_started_at_zero_in_a_tiny_box_is_measured_on_the_box() -> None:
    """A tanh(1e10 k x) with k boxed in [-1e-9, 1e-9] and started at 0: measured on a unit
    scale, k's column dominated the damping floor 1e18-fold and froze A at its start, and the
    finite-difference step (6e-9) was six times the box; the fit "converged" (status 3) at
    cost 12.9 with A = 1. Now the box is k's unit: the optimum of scipy's least_squares, with
    the analytic Jacobian and with finite differences."""
    def f(x, p):
        return p[:, 1] * np.tanh(p[:, 0] * 1e10 * x[:, 0])

    def jac(x, p):
        t = np.tanh(p[:, 0] * 1e10 * x[:, 0])
        return np.column_stack([p[:, 1] * (1 - t * t) * 1e10 * x[:, 0], t])

    x = np.linspace(0.1, 3, 30)
    y = 2.0 * np.tanh(3.0 * x) + 0.001 * np.random.default_rng(0).standard_normal(30)
    box = {"lower": [-1e-9, 0.0], "upper": [1e-9, 10.0]}
    sp = least_squares(lambda q: f(x[:, None], q[None, :].repeat(30, 0)) - y, [1e-10, 1.0],
                       jac=lambda q: jac(x[:, None], q[None, :].repeat(30, 0)),
                       bounds=([-1e-9, 0], [1e-9, 10]), x_scale=[1e-10, 1.0],
                       xtol=1e-15, ftol=1e-15, gtol=1e-15)
    for j in (jac, None):
        r = scalingfit.fit(scalingfit.CustomModel(f, ("k", "A"), jac=j, **box), x, y, [0.0, 1.0])
        assert r.success
        np.testing.assert_allclose(r.x, sp.x, rtol=1e-6)
        assert r.cost == pytest.approx(sp.cost, rel=1e-9)


def test_finite_differences_of_a_parameter_at_zero_or_far_below_its_scale() -> None:
    """p = 0 and p = 1e-12 on a parameter of scale 1 (E of Chinchilla): the step does not
    shrink into rounding noise."""
    def f(x, p):
        return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2]

    model = scalingfit.CustomModel(f, _NAMES)
    x = np.logspace(7, 10, 8)[:, None]
    for E in (0.0, 1e-12):
        P = np.broadcast_to([E, 400.0, 0.3], (8, 3)).copy()
        _, J = model.value_and_jacobian(x, P)
        np.testing.assert_allclose(J, _sat_jac(x, P), rtol=1e-6, atol=0)


def _cube_root_law(calls: list):
    """E + A x^-0.3 + s^1.5 (x / 1e10): defined for s >= 0 only; raises below."""
    def f(x, p):
        calls.append(np.min(p[:, 2], initial=np.inf))
        if (p[:, 2] < 0).any():
            raise ValueError("s < 0")
        return p[:, 0] + p[:, 1] * x[:, 0] ** -0.3 + np.sqrt(p[:, 2]) ** 3 * (x[:, 0] / 1e10)
    return f


def _cube_root_jac(x, p):
    return np.column_stack([np.ones(len(x)), x[:, 0] ** -0.3, 1.5 * np.sqrt(p[:, 2]) * (x[:, 0] / 1e10)])


def test_finite_differences_stay_inside_the_bounds() -> None:
    """func was called at s = -1e-9 past lower = 0: status -1 from a start on the bound, and
    with the optimum on the bound a fit 'converged' at s = 1e-9 with 5x the optimal cost. Now
    one-sided differences at the bound: func never sees s < 0 and the fits reach the optimum of
    the analytic Jacobian (s = 0)."""
    x = np.logspace(7, 10, 12)
    rng = np.random.default_rng(1)
    y = 1.7 + 400 * x**-0.3 - 0.05 * (x / 1e10) + 0.001 * rng.standard_normal(12)  # wants s < 0
    calls: list = []
    names = ("E", "A", "s")
    analytic = scalingfit.CustomModel(_cube_root_law([]), names, jac=_cube_root_jac,
                                      lower=[-np.inf, -np.inf, 0.0])
    with pytest.warns(scalingfit.IdentifiabilityWarning):  # its s column is 0 at s = 0
        exact = scalingfit.fit(analytic, x, y, [1.5, 300, 0.5])
    assert exact.x[2] == 0.0
    model = scalingfit.CustomModel(_cube_root_law(calls), names, lower=[-np.inf, -np.inf, 0.0])
    for p0 in ([1.5, 300, 0.5], [1.5, 300, 0.01]):
        r = scalingfit.fit(model, x, y, p0)
        assert r.success and r.x[2] == 0.0 and r.at_bound == ("s",)
        np.testing.assert_allclose(r.x, exact.x, rtol=1e-7)
        assert r.cost <= exact.cost * (1 + 1e-9)
    # from a start on the bound (status -1 before): a fit, on the bound, near the optimum
    # (s^1.5 has no curvature scale at 0: it stops at 1.005x the optimal cost)
    r = scalingfit.fit(model, x, y, [1.5, 300, 0.0])
    assert r.success and r.x[2] == 0.0 and r.cost <= exact.cost * 1.01
    assert min(calls) == 0.0
    # the upper bound too (s <= 1 by bounds=, the optimum inside): the same solution as the
    # analytic Jacobian from a start on that bound
    y2 = 1.7 + 400 * x**-0.3 + 0.3 * (x / 1e10)
    calls.clear()
    up = {"s": (0.0, 1.0)}

    def capped(x, p):
        if (p[:, 2] > 1).any():
            raise ValueError("s > 1")
        return _cube_root_law(calls)(x, p)

    r = scalingfit.fit(scalingfit.CustomModel(capped, names), x, y2, [1.5, 300, 1.0], bounds=up)
    ref = scalingfit.fit(scalingfit.CustomModel(capped, names, jac=_cube_root_jac), x, y2,
                         [1.5, 300, 1.0], bounds=up)
    assert r.success and ref.success
    np.testing.assert_allclose(r.x, ref.x, rtol=1e-7)
    np.testing.assert_allclose(r.x[2], 0.3**(2 / 3), rtol=1e-6)


def test_one_sided_differences_match_the_analytic_jacobian_at_a_bound() -> None:
    """On the bound the one-sided difference is of second order like the central one."""
    model = scalingfit.CustomModel(_exp, ("E", "A", "k"), lower=[0.0, 0.0, 2e-10],
                                   upper=[2.0, 3.0, np.inf])
    P = np.broadcast_to([2.0, 3.0, 2e-10], (_XK.size, 3)).copy()  # E, A on upper, k on lower
    _, J = model.value_and_jacobian(_XK[:, None], P)
    ref = _exp_jac(_XK[:, None], P)
    err = np.abs(J - ref).max(axis=0) / np.abs(ref).max(axis=0)
    assert (err < 1e-8).all(), err


def test_chinchilla_as_a_custom_law_without_jacobian_agrees_with_the_builtin() -> None:
    rng = np.random.default_rng(0)
    N = 10 ** rng.uniform(7.5, 10.5, 200)
    D = 10 ** rng.uniform(9.5, 12.0, 200)
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * (1 + 0.01 * rng.standard_normal(200))
    X = np.column_stack([N, D])

    def f(x, p):
        return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]

    built = scalingfit.fit("chinchilla", X, L)
    r = scalingfit.fit(scalingfit.CustomModel(f, ("E", "A", "B", "alpha", "beta"), n_inputs=2),
                       X, L, p0=built.x * 1.1)
    assert built.success and r.success
    np.testing.assert_allclose(r.x, built.x, rtol=1e-8)
    np.testing.assert_allclose(r.stderr, built.stderr, rtol=1e-8)


@pytest.mark.parametrize("which", ["func", "jac"])
def test_boolean_results_are_refused_naming_the_function(which) -> None:
    """func returning y > 2 passed the type check and failed with numpy's 'numpy boolean
    subtract' without the model's name."""
    message = re.escape(f"{which}(x, p) must return real numbers, got ndarray of dtype bool; "
                        f"custom model 'flag' needs float or int values from {which}")
    if which == "func":
        model = scalingfit.CustomModel(lambda x, p: _sat(x, p) > 2, _NAMES, name="flag")
    else:
        model = scalingfit.CustomModel(_sat, _NAMES, name="flag",
                                       jac=lambda x, p: _sat_jac(x, p) > 0)
    with pytest.raises(TypeError, match=message):
        scalingfit.fit(model, _X, _Y, [1.0, 2.0, 0.5])
    objs = scalingfit.CustomModel(lambda x, p: (_sat(x, p) > 2).astype(object), _NAMES, name="o")
    with pytest.raises(TypeError, match=re.escape("got ndarray of dtype object; custom model 'o'")):
        objs.predict(np.array([1.0, 2.0, 0.5]), _X)
    # numbers in an object array are still numbers
    nums = scalingfit.CustomModel(lambda x, p: _sat(x, p).astype(object), _NAMES)
    np.testing.assert_allclose(nums.predict(np.array([1.0, 2.0, 0.5]), _X), _Y, rtol=1e-15)
