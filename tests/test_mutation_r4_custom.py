"""Mutation round 4, the custom-model Jacobian check's rounding allowance: each
finite-difference entry's bound is FD_NOISE_ULPS units in the last place of f over the
difference quotient's denominator (the distance between the parameter values it divides by),
and where the difference is retaken with the wider step, the bound is the wider step's."""

from __future__ import annotations

import numpy as np
from scalingfit import CustomModel, _custom

EPS = np.finfo(np.float64).eps
X = np.array([[1.0], [2.0], [3.0]])


def _lin(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0]


MODEL = CustomModel(_lin, ("E", "A"), 1)


def _bound(p: np.ndarray, p1: np.ndarray, p2: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """FD_NOISE_ULPS ulps of the largest |f| of the three evaluations, over the denominator."""
    size = np.maximum.reduce([np.abs(_lin(X, q)) for q in (p, p1, p2)])
    return _custom.FD_NOISE_ULPS * EPS * size / denominator


def test_central_and_one_sided_differences_bound_their_rounding_over_their_denominator() -> None:
    p = np.array([[1.5, 2.0]] * 3)
    f = _lin(X, p)
    h = np.full(3, 1e-3)
    # central: (f(A + h) - f(A - h)) / 2h
    d, flat, err = MODEL._fd_column(X, p, f, 1, np.full(3, -np.inf), np.full(3, np.inf), h)
    p1, p2 = p.copy(), p.copy()
    p1[:, 1] += h
    p2[:, 1] -= h
    np.testing.assert_allclose(d, X[:, 0], rtol=1e-9)
    assert not flat.any()
    np.testing.assert_allclose(err, _bound(p, p1, p2, p1[:, 1] - p2[:, 1]), rtol=1e-12)
    # at the lower bound: (4 f(A + h) - f(A + 2h) - 3 f(A)) / 2h
    d, _, err = MODEL._fd_column(X, p, f, 1, np.full(3, 2.0), np.full(3, np.inf), h)
    p1, p2 = p.copy(), p.copy()
    p1[:, 1] += h
    p2[:, 1] += 2 * h
    np.testing.assert_allclose(d, X[:, 0], rtol=1e-9)
    np.testing.assert_allclose(err, _bound(p, p1, p2, p2[:, 1] - p[:, 1]), rtol=1e-12)


def test_a_difference_retaken_with_the_wider_step_gets_that_steps_bound() -> None:
    """A = 1e-9 with scale 1e-9: its step 6e-15 moves f by a few ulps (lost in rounding), so
    the column is retaken with the step EPS^(1/3) max(|A|, 1); the noise bound is that step's
    (3e-10 here), not the lost step's (0.3, which would excuse any jac)."""
    p = np.array([[1.0, 1e-9]] * 3)
    f = _lin(X, p)
    noise = np.zeros(p.shape)
    J = MODEL._fd_jacobian(X, p, f, None, None, np.array([1.0, 1e-9]), noise)
    np.testing.assert_allclose(J[:, 1], X[:, 0], rtol=1e-6)
    hw = EPS ** (1 / 3) * 1.0
    p1, p2 = p.copy(), p.copy()
    p1[:, 1] += hw
    p2[:, 1] -= hw
    np.testing.assert_allclose(noise[:, 1], _bound(p, p1, p2, p1[:, 1] - p2[:, 1]), rtol=1e-12)
    assert noise[:, 1].max() < 1e-9
