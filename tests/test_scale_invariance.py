"""Scale invariance of the core's Levenberg-Marquardt solve (lm.hpp).

A least-squares solution does not depend on the unit of y: fit(x, c y) = c fit(x, y) for the
amplitude parameters and E, with the same exponents, and the solution does not move when every
weight is multiplied by a constant. The solver's tests must be relative for that to hold: an
absolute term (scipy's xtol * (||p|| + xtol), used before) made fits with y ~ 1e-30, or weights
~ 1e-40, stop at their first step and report convergence.

Three kinds of check:
  * exact: a power of 2 multiplies every number of the solve exactly (sums, square roots of
    even powers, products), so a solver whose tests are all relative follows the scaled path
    bit for bit: the same iterations, status and (scaled) solution from the scaled start;
  * powers of 10 from the data-driven starts: the scaled fit agrees with the unscaled one to
    1e-8 relative (both converged with tight tolerances). Their statuses are not compared:
    c y rounds differently from y, the two paths differ by rounding, and which of the ftol
    and xtol tests passes first at ~1e-15 is rounding noise (2 vs 3 at c = 1e12 as at 1e-30);
    the exact tests above compare statuses and iteration counts;
  * an independent reference: scipy's MINPACK (method="lm", whose tests are relative) on the
    scaled problem.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scipy.optimize import least_squares

TIGHT = dict(ftol=1e-15, xtol=1e-15, gtol=1e-15, max_iter=2000)


# ---------------------------------------------------------------------------------------------
# Problems: fixed, well-posed synthetic data with 1% multiplicative noise.

def _saturating(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.logspace(6, 10, 14)
    p = np.array([1.7, 400.0, 0.3])
    return x, p, scalingfit.models.get("saturating_power_law").predict(p, x)


def _chinchilla(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N = 10 ** rng.uniform(7, 10, 80)
    D = 10 ** rng.uniform(9, 11.5, 80)
    x = np.column_stack([N, D])
    p = np.array([1.69, 406.4, 410.7, 0.34, 0.28])
    return x, p, scalingfit.models.get("chinchilla").predict(p, x)


def _kaplan(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Kaplan's law has no amplitude: L c = [c^(1/aD) (N_c/N)^(aN/aD) + c^(1/aD) D_c/D]^aD, so
    # N_c -> N_c c^(1/alpha_N), D_c -> D_c c^(1/alpha_D). With Kaplan's exponents (~0.08)
    # c = 1e+-30 would move N_c by 1e+-390, out of double range: exponents of 0.7 and 0.8 here
    # (N_c, D_c move by 1e+-43 and 1e+-38).
    N = 10 ** rng.uniform(8, 11, 60)
    D = 10 ** rng.uniform(8, 11, 60)
    x = np.column_stack([N, D])
    p = np.array([3e13, 5e12, 0.7, 0.8])
    return x, p, scalingfit.models.get("kaplan_nd").predict(p, x)


PROBLEMS = {"saturating_power_law": _saturating, "chinchilla": _chinchilla, "kaplan_nd": _kaplan}


def problem(name: str, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, true parameters) of the named family."""
    rng = np.random.default_rng(seed)
    x, p, f = PROBLEMS[name](rng)
    y = f * (1.0 + 0.01 * rng.standard_normal(f.shape[0]))
    return x, y, p


def scaled_params(name: str, p: np.ndarray, c: float) -> np.ndarray:
    """The parameters of the law c * model(p, x) (exact where c is a power of 2 and the law
    has amplitudes)."""
    q = np.array(p, dtype=float)
    if name == "saturating_power_law":
        q[:2] *= c
    elif name == "chinchilla":
        q[:3] *= c
    elif name == "kaplan_nd":
        q[0] *= c ** (1.0 / q[2])
        q[1] *= c ** (1.0 / q[3])
    else:  # pragma: no cover - a family added to PROBLEMS without its rule
        raise AssertionError(name)
    return q


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


def quiet_fit(*args, **kw):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)
        return scalingfit.fit(*args, **kw)


# ---------------------------------------------------------------------------------------------
# Exact: powers of 2.

POW2_Y = (2.0 ** -100, 2.0 ** -40, 2.0 ** 40, 2.0 ** 100)  # ~7.9e-31, 9.1e-13, 1.1e12, 1.3e30
POW2_W = (2.0 ** -132, 2.0 ** 132)  # ~1.8e-40, 5.4e39 (even powers: sqrt(w) exact too)


@pytest.mark.parametrize("c", POW2_Y)
@pytest.mark.parametrize("name", ["saturating_power_law", "chinchilla"])
def test_scaled_targets_follow_the_same_path(name: str, c: float) -> None:
    x, y, p_true = problem(name)
    p0 = p_true * np.linspace(0.9, 1.1, p_true.size)  # a start off the solution
    ref = scalingfit.fit(name, x, y, p0)
    r = scalingfit.fit(name, x, c * y, scaled_params(name, p0, c))
    assert ref.status > 0 and ref.iterations > 3
    assert r.status == ref.status
    assert r.iterations == ref.iterations
    np.testing.assert_array_equal(r.x, scaled_params(name, ref.x, c))
    assert r.cost == ref.cost * c * c


@pytest.mark.parametrize("c", POW2_W)
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_scaled_weights_follow_the_same_path(name: str, c: float) -> None:
    x, y, p_true = problem(name)
    w = np.linspace(0.5, 2.0, y.shape[0])
    p0 = p_true * np.linspace(0.9, 1.1, p_true.size)
    ref = scalingfit.fit(name, x, y, p0, weights=w)
    r = scalingfit.fit(name, x, y, p0, weights=c * w)
    assert ref.status > 0 and ref.iterations > 3
    assert (r.status, r.iterations) == (ref.status, ref.iterations)
    np.testing.assert_array_equal(r.x, ref.x)
    assert r.cost == ref.cost * c
    # the covariance does not depend on the weights' unit (2 cost / dof and inv(H) cancel it)
    np.testing.assert_allclose(r.cov, ref.cov, rtol=1e-12)


@pytest.mark.parametrize("c", [2.0 ** -40, 2.0 ** 40])
def test_scaled_targets_follow_the_same_path_float32(c: float) -> None:
    # float32 data: cost ~ c^2 |r|^2 must stay inside float's range (c = 2^-100 would underflow
    # the squared residuals), so +-40 here.
    name = "saturating_power_law"
    x, y, p_true = problem(name)
    p0 = p_true * np.array([0.9, 1.1, 1.05])
    ref = scalingfit.fit_batch(name, x, y, [0, y.size], p0[None, :], precision="float32")
    r = scalingfit.fit_batch(name, x, c * y, [0, y.size], scaled_params(name, p0, c)[None, :],
                             precision="float32")
    assert ref.status[0] > 0
    assert (r.status[0], r.iterations[0]) == (ref.status[0], ref.iterations[0])
    np.testing.assert_array_equal(r.x[0], scaled_params(name, ref.x[0], c))


# ---------------------------------------------------------------------------------------------
# Powers of 10 from the data-driven starts.

POW10_Y = (1e-30, 1e-12, 1e12, 1e30)

# Known, not yet fixed: the saturating law's data-driven guesses include E = 0 exactly, and
# lm.hpp gives a parameter that starts at exactly 0 the magnitude 1 in its damping scale
# (zero_start_unit). At y ~ 1e-30 that is 1e30 times E's size: the damping floor freezes alpha
# and the fit stops after one step at E = 0 (cost 3e-61 against 3.1e-63). A data-derived
# magnitude (|y|_w / sqrt(D_E)) fixes these cases but froze 422 starts of Hoffmann's grid
# (test_chinchilla), where the Huber weights make D incomparable with sum w y^2.
ZERO_START_UNIT = pytest.mark.xfail(
    strict=True, reason="a zero start is given the magnitude 1 in lm.hpp's damping scale")


@pytest.mark.parametrize("c", POW10_Y)
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_scaled_targets_give_the_scaled_solution(name: str, c: float, request: pytest.FixtureRequest) -> None:
    if name == "saturating_power_law" and c == 1e-30:
        request.applymarker(ZERO_START_UNIT)
    x, y, p_true = problem(name)
    # kaplan_nd's data-driven starts are a grid around Kaplan's exponents: start it near the
    # truth (scaled like the data), the others from their own guesses
    p0 = p_true * np.array([2.0, 0.5, 1.1, 0.9]) if name == "kaplan_nd" else None
    ref = quiet_fit(name, x, y, p0, **TIGHT)
    r = quiet_fit(name, x, c * y, None if p0 is None else scaled_params(name, p0, c), **TIGHT)
    assert ref.success and r.success, (ref.status, r.status)
    assert r.iterations > 3
    want = scaled_params(name, ref.x, c)
    if name == "chinchilla":
        # B is determined to 30% (stderr 161 of 528): the minimum's position is known only to
        # ~sqrt(2 eps dof) ~ 2e-7 standard errors from a cost known to rounding (7e-8
        # relative in B at c = 1e12, as before the change); 1e-6 standard errors here
        assert np.all(np.abs(r.x - want) <= 1e-6 * r.stderr)
    else:
        assert rel_diff(r.x, want) < 1e-8
    assert r.cost == pytest.approx(ref.cost * c * c, rel=1e-8)


@pytest.mark.parametrize("c", [1e-40, 1e40])
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_scaled_weights_give_the_same_solution(name: str, c: float) -> None:
    x, y, p_true = problem(name)
    w = np.linspace(0.5, 2.0, y.shape[0])
    p0 = p_true * np.array([2.0, 0.5, 1.1, 0.9]) if name == "kaplan_nd" else None
    ref = quiet_fit(name, x, y, p0, weights=w, **TIGHT)
    r = quiet_fit(name, x, y, p0, weights=c * w, **TIGHT)
    assert ref.success and r.success, (ref.status, r.status)
    assert rel_diff(r.x, ref.x) < 1e-8
    assert r.cost == pytest.approx(ref.cost * c, rel=1e-8)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_tiny_weights_do_not_stop_at_the_start(name: str) -> None:
    # with every weight 1e-40 and the default tolerances, the fit stopped at its start (the
    # step norm, ~1e-20, passed the absolute part of the xtol test) and reported success
    x, y, p_true = problem(name)
    p0 = p_true * np.linspace(0.8, 1.2, p_true.size)
    w = np.full(y.shape[0], 1e-40)
    ref = scalingfit.fit(name, x, y, p0)
    r = scalingfit.fit(name, x, y, p0, weights=w)
    assert r.success
    assert r.iterations > 3
    # the solution of the unweighted problem, to the default tolerances (both stop by ftol
    # within ~1e-6 of the optimum's parameters)
    assert rel_diff(r.x, ref.x) < 1e-5
    assert rel_diff(r.x, p0) > 1e-3


@ZERO_START_UNIT
def test_batch_of_mixed_scales() -> None:
    # one fit_batch call whose problems differ by 60 decades: each problem's result is its own
    name = "saturating_power_law"
    x, y, _ = problem(name)
    scales = np.array([1e-30, 1e-15, 1.0, 1e15, 1e30])
    n = y.size
    X = np.tile(x, scales.size)
    Y = np.concatenate([c * y for c in scales])
    offsets = np.arange(scales.size + 1) * n
    b = scalingfit.fit_batch(name, X, Y, offsets, **TIGHT)
    one = quiet_fit(name, x, y, **TIGHT)
    for k, c in enumerate(scales):
        items = np.flatnonzero(b.problem == k)
        best = items[np.argmin(np.where(b.success[items], b.cost[items], np.inf))]
        assert b.success[best]
        assert rel_diff(b.x[best] / np.array([c, c, 1.0]), one.x) < 1e-8, c


# ---------------------------------------------------------------------------------------------
# Independent reference: MINPACK (scipy's method="lm") on the scaled problem.

def minpack(name: str, x: np.ndarray, y: np.ndarray, p0: np.ndarray,
            w: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """scipy's MINPACK solution and cost (its tests are relative: delta <= xtol * xnorm)."""
    m = scalingfit.models.get(name)
    sw = np.ones_like(y) if w is None else np.sqrt(w)

    def fun(p: np.ndarray) -> np.ndarray:
        return sw * (m.predict(p, x) - y)

    def jac(p: np.ndarray) -> np.ndarray:
        return sw[:, None] * m.jacobian(p, x)

    sol = least_squares(fun, p0, jac=jac, method="lm", x_scale="jac", ftol=1e-15, xtol=1e-15,
                        gtol=1e-15, max_nfev=20000)
    assert sol.status > 0, sol.message
    return np.asarray(sol.x), float(sol.cost)


@pytest.mark.parametrize("c", [1e-30, 1e30])
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_scaled_fit_agrees_with_minpack(name: str, c: float) -> None:
    x, y, p_true = problem(name)
    p0 = scaled_params(name, p_true * np.linspace(0.95, 1.05, p_true.size), c)
    ours = quiet_fit(name, x, c * y, p0, **TIGHT)
    ref, ref_cost = minpack(name, x, c * y, p0)
    assert ours.success
    # kaplan_nd's N_c and D_c are poorly determined (N_c moves as exp(log-ratio / alpha_N)):
    # MINPACK and this solver stop 5e-7 apart there, ours at the lower cost
    assert rel_diff(ours.x, ref) < (1e-6 if name == "kaplan_nd" else 1e-7)
    assert ours.cost <= ref_cost * (1 + 1e-12)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_tiny_weights_agree_with_minpack(name: str) -> None:
    x, y, p_true = problem(name)
    w = 1e-40 * np.linspace(0.5, 2.0, y.shape[0])
    p0 = p_true * np.linspace(0.95, 1.05, p_true.size)
    ours = scalingfit.fit(name, x, y, p0, weights=w, **TIGHT)
    ref, ref_cost = minpack(name, x, y, p0, w)
    assert ours.success
    assert rel_diff(ours.x, ref) < (1e-6 if name == "kaplan_nd" else 1e-7)
    assert ours.cost <= ref_cost * (1 + 1e-12)
