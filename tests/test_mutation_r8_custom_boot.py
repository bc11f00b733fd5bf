"""Mutation round 8: _custom_boot.py (a custom model's bootstrap). Its residual preparation
against the C++ engine's own (``_core.prepare_residuals`` of the built-in saturating power
law, bootstrap.hpp's prepare_residuals) with weights of 0, a held parameter, a singular
centre and a point of leverage near 1, and against the closed-form hat matrix of a linear
model with nearly collinear columns (singular: every leverage is the mean n_free / n);
weighted target schemes, zero-weight multiplicities and problems that cannot be resampled
against the built-in twin; and the rows per solver call against the documented budget."""

from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np
import pytest
import scalingfit
from scalingfit import CustomModel, _core, _custom, _custom_boot
from scalingfit._custom_boot import prepare_residuals
from scalingfit.bootstrap import bootstrap, bootstrap_batch

N = np.logspace(7, 10, 12)
Y = (1.7 + 400 * N**-0.34) * (1 + 0.01 * np.random.default_rng(0).standard_normal(12))
P0 = [1.5, 300.0, 0.3]
SPL = "saturating_power_law"
RESIDUAL, WILD = 2, 3  # bootstrap.hpp's Scheme values


def spl(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.asarray(p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2])


def spl_jac(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    t = x[:, 0] ** -p[:, 2]
    return np.column_stack([np.ones_like(t), t, -p[:, 1] * t * np.log(x[:, 0])])


FD = CustomModel(spl, ("E", "A", "alpha"), 1, name="spl_fd")  # finite differences
EXACT = CustomModel(spl, ("E", "A", "alpha"), 1, jac=spl_jac, name="spl_jac")
FREE = (np.full(3, -np.inf), np.full(3, np.inf))


def _both(p: Any, w: Optional[np.ndarray], scheme: int, log_residuals: bool,
          bounds: tuple[np.ndarray, np.ndarray] = FREE) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(yhat, resid) of the custom twin (analytic jac) and of the C++ engine at ``p``."""
    lo, hi = bounds
    m = scalingfit.models.get(SPL)
    x2 = N.reshape(-1, 1)
    yc, rc, ok = _core.prepare_residuals(m.index, scheme, x2, Y, w, np.array([0, 12]),
                                         np.array([p], dtype=float), log_residuals, lo, hi)
    assert ok[0] == 1
    out = prepare_residuals(EXACT, x2, Y, w, np.asarray(p, dtype=float), log_residuals, scheme, lo, hi)
    assert out is not None
    return out[0], out[1], np.asarray(yc), np.asarray(rc)


def _fit_x() -> np.ndarray:
    return scalingfit.fit(SPL, N, Y).x


W0 = np.linspace(0.5, 2.0, 12)
W0[[2, 7]] = 0.0  # two points of weight 0


@pytest.mark.parametrize("scheme", [RESIDUAL, WILD])
@pytest.mark.parametrize("log_residuals", [False, True])
@pytest.mark.parametrize("case", ["zero_weights", "held_alpha", "singular"])
def test_prepared_residuals_are_the_engines(scheme: int, log_residuals: bool, case: str) -> None:
    # The module docstring: the leverages and adjusted residuals are "bootstrap.hpp's
    # prepare_residuals in numpy". The engine's (the built-in twin, same law in C++) is the
    # reference, on weights with two zeros (no leverage, no residual to centre over), with
    # alpha held (its column out of J'WJ) and at a centre with A = 0 (alpha's column is 0:
    # J'WJ is singular, every leverage is the mean n_free / n_positive).
    p = _fit_x()
    bounds = FREE
    if case == "held_alpha":
        bounds = (np.array([-np.inf, -np.inf, p[2]]), np.array([np.inf, np.inf, p[2]]))
    if case == "singular":
        p = np.array([p[0], 0.0, p[2]])
    f, r, yc, rc = _both(p, W0, scheme, log_residuals, bounds)
    np.testing.assert_allclose(f, yc, rtol=1e-13)
    np.testing.assert_allclose(r, rc, rtol=1e-9, atol=1e-12 * np.abs(rc).max())
    if scheme == RESIDUAL:  # a point of weight 0 has no residual to draw
        assert (r[[2, 7]] == 0.0).all()


@pytest.mark.parametrize("scheme", [RESIDUAL, WILD])
def test_a_point_of_leverage_near_one_is_adjusted_by_its_own_leverage(scheme: int) -> None:
    # One point of weight 1e3 among weights 1 takes nearly all of a direction: its leverage
    # is about 1 - 1e-3, so e / sqrt(1 - h) is ~30 e, not the ~10 e of a floor of 1e-2 (the
    # engine floors 1 - h at 1e-6 only).
    w = np.ones(12)
    w[5] = 1e3
    _, r, _, rc = _both(_fit_x(), w, scheme, False)
    np.testing.assert_allclose(r, rc, rtol=1e-8, atol=1e-12 * np.abs(rc).max())


def test_a_nearly_singular_design_uses_the_mean_leverage() -> None:
    # y = a + b x + c x', x' = x + 1e-7 z: the scaled J'J (J constant: linear law) factors,
    # but its last pivot is ~1e-14 squared, below bootstrap.hpp's 1e-13, so it counts as
    # singular: every leverage is the mean n_free / n = 3 / 9 and the wild residuals are
    # e_i / sqrt(1 - 1/3), e = y - (a + b x + c x') at the given parameters (by hand).
    rng = np.random.default_rng(8)
    x = np.linspace(1.0, 3.0, 9)
    z = rng.standard_normal(9)
    xx = np.column_stack([x, x + 1e-7 * z])
    lin = CustomModel(lambda t, p: p[:, 0] + p[:, 1] * t[:, 0] + p[:, 2] * t[:, 1], ("a", "b", "c"), 2,
                      jac=lambda t, p: np.column_stack([np.ones(t.shape[0]), t[:, 0], t[:, 1]]))
    J = np.column_stack([np.ones(9), xx])
    d = 1 / np.sqrt(np.diag(J.T @ J))
    pivots = np.diag(np.linalg.cholesky((J.T @ J) * np.outer(d, d))) ** 2
    assert pivots[-1] < 1e-13  # the premise: a factorable but numerically singular design
    p = np.array([1.0, 2.0, 0.5])
    y = 1.0 + 2.5 * x + 0.1 * rng.standard_normal(9)
    e = y - J @ p
    out = prepare_residuals(lin, xx, y, None, p, False, WILD, *(np.full(3, -np.inf), np.full(3, np.inf)))
    assert out is not None
    np.testing.assert_allclose(out[1], e / np.sqrt(1 - 3 / 9), rtol=1e-12)


def test_all_weights_zero_leaves_no_residual_to_centre() -> None:
    # No point of positive weight: no residual, no leverage (bootstrap.hpp skips the centring
    # when n_positive is 0); the residual scheme's residuals are all 0, computed without a
    # 0 / 0 (warnings are errors in this suite).
    out = prepare_residuals(EXACT, N.reshape(-1, 1), Y, np.zeros(12), _fit_x(), False, RESIDUAL, *FREE)
    assert out is not None
    assert (out[1] == 0.0).all()


@pytest.mark.parametrize(("scheme", "w"), [("residual", np.linspace(0.5, 2.0, 12)), ("wild", W0)])
def test_weighted_target_schemes_match_the_builtin(scheme: str, w: np.ndarray) -> None:
    # With weights, each perturbed-target replicate is a *weighted* fit (the engine's): the
    # custom twin's replicates equal the built-in law's to the solvers' tolerance.
    kw: dict[str, Any] = dict(n_resamples=60, seed=5, scheme=scheme, p0=P0, weights=w, method="percentile")
    c = bootstrap(FD, N, Y, **kw)
    b = bootstrap(SPL, N, Y, **kw)
    assert c.n_failed == b.n_failed == 0
    np.testing.assert_allclose(c.samples, b.samples, rtol=2e-6)


def test_log_residual_studentized_intervals_match_the_builtin() -> None:
    # Replicate -1 (the point fit re-solved for its covariance, which studentized intervals
    # use) of a log-residual target scheme is solved on the original targets: the custom
    # twin's studentized interval equals the built-in's.
    kw: dict[str, Any] = dict(n_resamples=100, seed=5, scheme="residual", p0=P0, log_residuals=True,
                              method="studentized")
    c = bootstrap(FD, N, Y, **kw)
    b = bootstrap(SPL, N, Y, **kw)
    np.testing.assert_allclose(c.batch.center_cov, b.batch.center_cov, rtol=1e-5)
    np.testing.assert_allclose(c.ci("alpha"), b.ci("alpha"), rtol=1e-6)


@pytest.mark.parametrize("scheme", ["points", "groups"])
def test_replicate_covariances_count_only_points_of_positive_weight(scheme: str) -> None:
    # bootstrap.hpp rescales a multiplicity replicate's covariance to n - P_free degrees of
    # freedom, n counting only the drawn points of positive weight: with two weights of 0,
    # the custom twin's per-replicate covariances equal the engine's.
    kw: dict[str, Any] = dict(n_resamples=200, seed=3, scheme=scheme, p0=P0, weights=W0, method="studentized")
    if scheme == "groups":
        kw["groups"] = np.repeat(np.arange(6), 2)
    c = bootstrap(FD, N, Y, **kw)
    b = bootstrap(SPL, N, Y, **kw)
    assert c.batch.sample_cov is not None and b.batch.sample_cov is not None
    cc, bc = c.batch.sample_cov[0], b.batch.sample_cov[0]
    assert (np.isnan(cc) == np.isnan(bc)).all()
    ok = ~np.isnan(bc)
    np.testing.assert_allclose(cc[ok], bc[ok], rtol=1e-5, atol=1e-12 * np.nanmax(np.abs(bc)))


@pytest.mark.parametrize("scheme", ["points", "residual", "wild"])
def test_a_problem_that_cannot_be_resampled_has_status_bad_input(scheme: str) -> None:
    # "Status -3 for an item whose problem cannot be resampled (no point fit, or a model not
    # finite at it for the residual schemes)": a NaN centre (problem 1, every scheme), and
    # for the target schemes a centre at which the law overflows (A = 1e300, alpha = -1:
    # A x is inf for x > 1.8e8); the built-in twin reports the same statuses.
    off = [0, 12, 24]
    good = scalingfit.fit(SPL, N, Y).x
    bad = [1.0, 1e300, -1.0] if scheme != "points" else [1.0, 400.0, np.nan]
    c0 = np.array([good, bad])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalingfit.ConvergenceWarning)  # "center is NaN ..."
        c = bootstrap_batch(FD, np.r_[N, N], np.r_[Y, Y], off, n_resamples=10, center=c0, problem_id=[7, 9],
                            method="percentile", scheme=scheme)
        b = bootstrap_batch(SPL, np.r_[N, N], np.r_[Y, Y], off, n_resamples=10, center=c0, problem_id=[7, 9],
                            method="percentile", scheme=scheme)
    assert (c.status[1] == -3).all() and (b.status[1] == -3).all()
    assert np.isnan(c.samples[1]).all()
    assert c.n_failed.tolist() == b.n_failed.tolist() == [0, 10]


def test_solver_calls_hold_at_most_the_rows_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # "items solved ... in calls of at most ROWS_PER_CALL points (or what max_memory allows)",
    # whole problems' resamples per call; max_memory allows max_memory // (32 (n_inputs + 4 +
    # 3 n_params)) rows: 40,000 // (32 * (1 + 4 + 9)) = 89 rows, so 7 resamples of 12 points
    # (84 rows) a call. With ROWS_PER_CALL lowered to 60 and memory plentiful: 5 resamples (60
    # rows) a call. The replicates are the same bits however the calls are cut.
    rows: list[int] = []
    solve = _custom.solve_batch

    def counting(*args: Any, **kw: Any) -> Any:
        rows.append(int(np.asarray(args[2]).shape[0]))
        return solve(*args, **kw)

    monkeypatch.setattr(_custom, "solve_batch", counting)
    one = bootstrap(FD, N, Y, n_resamples=50, seed=2, p0=P0, method="percentile")
    rows.clear()
    a = bootstrap(FD, N, Y, n_resamples=50, seed=2, p0=P0, method="percentile", max_memory=40_000)
    assert max(rows) == 84 and all(r % 12 == 0 for r in rows)
    np.testing.assert_array_equal(a.samples, one.samples)
    rows.clear()
    monkeypatch.setattr(_custom_boot, "ROWS_PER_CALL", 60)
    b = bootstrap(FD, N, Y, n_resamples=50, seed=2, p0=P0, method="percentile", max_memory=10**12)
    assert max(rows) == 60
    np.testing.assert_array_equal(b.samples, one.samples)
