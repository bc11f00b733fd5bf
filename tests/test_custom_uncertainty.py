"""Uncertainty of a custom (Python) model. Its bootstrap draws the same resamples as the C++
engine's for the same seed, each solved by the Python LM solver; its covariances, delta-method
and profile intervals use its Jacobian (``jac`` or finite differences). References: scipy's
least_squares on the drawn resample, the built-in saturating power law (the C++ engine, the
same law written in C++), and the hat matrix of a linear model in closed form."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import CustomModel, _core
from scalingfit import uncertainty as un
from scalingfit._custom_boot import prepare_residuals
from scalingfit.bootstrap import bootstrap, bootstrap_batch

N = np.logspace(7, 10, 12)
Y = (1.7 + 400 * N**-0.34) * (1 + 0.01 * np.random.default_rng(0).standard_normal(12))
P0 = [1.5, 300.0, 0.3]
SPL = "saturating_power_law"


def spl(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2]


def spl_jac(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    t = x[:, 0] ** -p[:, 2]
    return np.column_stack([np.ones_like(t), t, -p[:, 1] * t * np.log(x[:, 0])])


FD = CustomModel(spl, ("E", "A", "alpha"), 1, name="spl_fd")  # finite differences
EXACT = CustomModel(spl, ("E", "A", "alpha"), 1, jac=spl_jac, name="spl_jac")


def test_each_replicate_is_the_least_squares_fit_of_its_drawn_resample() -> None:
    """Replicate r is the weighted fit with the core's multiplicities of (seed, problem 0, r):
    scipy's least_squares on sqrt(m_i) (f_i - y_i), from the point fit, gives the same
    parameters."""
    so = pytest.importorskip("scipy.optimize")
    seed, R = 11, 30
    b = bootstrap(FD, N, Y, n_resamples=R, seed=seed, p0=P0, method="percentile")
    mult = np.asarray(_core.resample_multiplicities(0, seed, 0, np.arange(R, dtype=np.int64), N.size, None, 0, 1))
    assert (mult.sum(axis=1) == N.size).all() and (mult == 0).any()
    for r in range(0, R, 6):
        sw = np.sqrt(mult[r])
        ref = so.least_squares(lambda p: sw * (p[0] + p[1] * N ** -p[2] - Y), b.x, method="lm",
                               xtol=1e-15, ftol=1e-15, gtol=1e-15)
        np.testing.assert_allclose(b.samples[r], ref.x, rtol=2e-6)


@pytest.mark.parametrize("scheme", ["points", "residual", "wild"])
@pytest.mark.parametrize("log_residuals", [False, True])
@pytest.mark.parametrize("model", [FD, EXACT], ids=["fd", "jac"])
def test_same_seed_same_resamples_as_the_builtin_law(scheme: str, log_residuals: bool, model: CustomModel) -> None:
    """The custom twin of the built-in saturating power law, bootstrapped with the same seed,
    draws the same resamples: every replicate and every BCa end agree to the solvers'
    tolerance (a different seed moves the ends by ~1e-2)."""
    kw = dict(n_resamples=200, seed=5, scheme=scheme, p0=P0, log_residuals=log_residuals)
    c = bootstrap(model, N, Y, **kw)
    b = bootstrap(SPL, N, Y, **kw)
    assert c.n_failed == b.n_failed == 0
    np.testing.assert_allclose(c.samples, b.samples, rtol=2e-6)
    for name in ("E", "A", "alpha"):
        np.testing.assert_allclose(c.ci(name), b.ci(name), rtol=1e-6)
    other = bootstrap(SPL, N, Y, **{**kw, "seed": 6})
    assert abs(other.ci("alpha")[1] - b.ci("alpha")[1]) > 1e-5


def test_groups_fixed_weights_and_studentized_match_the_builtin() -> None:
    """The groups scheme with a fixed parameter and weights: the replicates, their covariances
    (rescaled to the resample's n - P, as the core does) and the studentized ends agree."""
    g = np.repeat(np.arange(6), 2)
    kw = dict(scheme="groups", groups=g, n_resamples=300, p0=[1.7, 400, 0.34], fixed={"E": 1.7},
              weights=np.linspace(1, 2, 12), seed=3)
    c = bootstrap(FD, N, Y, **kw)
    b = bootstrap(SPL, N, Y, **kw)
    np.testing.assert_allclose(c.samples, b.samples, rtol=2e-6)
    assert (c.samples[:, 0] == 1.7).all()
    cc, bc = c.batch.sample_cov[0], b.batch.sample_cov[0]
    free = np.ix_([1, 2], [1, 2])
    np.testing.assert_allclose(cc[:, free[0], free[1]], bc[:, free[0], free[1]], rtol=1e-5)
    np.testing.assert_allclose(c.ci("alpha", method="studentized"), b.ci("alpha", method="studentized"), rtol=1e-6)


def test_bands_and_prediction_residuals_match_the_builtin() -> None:
    for log_residuals in (False, True):
        c = bootstrap(FD, N, Y, n_resamples=150, seed=2, p0=P0, log_residuals=log_residuals)
        b = bootstrap(SPL, N, Y, n_resamples=150, seed=2, p0=P0, log_residuals=log_residuals)
        np.testing.assert_allclose(c.prediction_residuals(), b.prediction_residuals(), rtol=1e-6, atol=1e-9)
        for kind in ("confidence", "prediction"):
            bc, bb = c.predict([1e11, 1e12], kind=kind), b.predict([1e11, 1e12], kind=kind)
            np.testing.assert_allclose([bc.lower, bc.upper], [bb.lower, bb.upper], rtol=1e-6)


def test_the_leverages_of_a_linear_model_are_the_hat_matrix() -> None:
    """For y = a + b x the wild scheme's residuals are e_i / sqrt(1 - h_i) with h the diagonal
    of X (X^T W X)^-1 X^T W (closed form), and the residual scheme's are sqrt(w_i) of those,
    centred."""
    lin = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0], ("a", "b"), 1)
    rng = np.random.default_rng(4)
    x = np.linspace(0, 3, 9)
    y = 1 + 2 * x + 0.1 * rng.standard_normal(9)
    w = rng.uniform(0.5, 2, 9)
    X = np.column_stack([np.ones(9), x])
    beta = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * y))
    e = y - X @ beta
    h = w * np.einsum("ia,ia->i", X, np.linalg.solve(X.T @ (w[:, None] * X), X.T).T)
    inf = np.full(2, np.inf)
    yhat, wild = prepare_residuals(lin, x.reshape(-1, 1), y, w, beta, False, 3, -inf, inf)
    np.testing.assert_allclose(yhat, X @ beta, rtol=1e-12)
    np.testing.assert_allclose(wild, e / np.sqrt(1 - h), rtol=1e-7)
    _, res = prepare_residuals(lin, x.reshape(-1, 1), y, w, beta, False, 2, -inf, inf)
    u = np.sqrt(w) * e / np.sqrt(1 - h)
    np.testing.assert_allclose(res, u - u.mean(), rtol=1e-6, atol=1e-12)


def test_bootstrap_batch_of_a_custom_model() -> None:
    """Two problems with stable ids: the same replicates as the built-in law's; without
    center= the call says what it needs (a custom law has no data-driven start)."""
    x2, y2 = np.r_[N, N], np.r_[Y, Y[::-1] * 1.01]
    off = [0, 12, 24]
    c0 = np.array([scalingfit.fit(SPL, N, y2[:12]).x, scalingfit.fit(SPL, N, y2[12:]).x])
    c = bootstrap_batch(FD, x2, y2, off, n_resamples=100, center=c0, problem_id=[7, 9], method="percentile")
    b = bootstrap_batch(SPL, x2, y2, off, n_resamples=100, center=c0, problem_id=[7, 9], method="percentile")
    np.testing.assert_allclose(c.samples, b.samples, rtol=5e-6)
    with pytest.raises(ValueError, match="has no data-driven start: pass center="):
        bootstrap_batch(FD, x2, y2, off, n_resamples=10)


def test_a_custom_bootstrap_runs_on_the_cpu_in_float64_only() -> None:
    with pytest.raises(ValueError, match="custom Python models run on the CPU only"):
        bootstrap(FD, N, Y, n_resamples=10, p0=P0, backend="cuda")
    with pytest.raises(ValueError, match="float64 only"):
        bootstrap(FD, N, Y, n_resamples=10, p0=P0, precision="float32")
    b = bootstrap(FD, N, Y, n_resamples=20, p0=P0, backend="auto")  # auto: the CPU, no error
    assert b.n_failed == 0 and b.batch.custom_model is FD
    assert scalingfit.bootstrap is bootstrap


def test_fit_result_predict() -> None:
    """FitResult.predict is the law at the fitted parameters, written out here by hand: a
    number, a tuple of numbers (one (N, D) point) or arrays; a custom model's fit predicts with
    its own function; bad inputs are named."""
    r = scalingfit.fit(SPL, N, Y)
    E, A, alpha = r.x
    assert isinstance(r.predict(1e12), float)
    assert r.predict(1e12) == pytest.approx(E + A * 1e12**-alpha, rel=1e-14)
    np.testing.assert_allclose(r.predict([1e11, 1e12]), E + A * np.array([1e11, 1e12]) ** -alpha, rtol=1e-14)
    rc = scalingfit.fit(FD, N, Y, p0=P0)
    assert rc.predict(1e12) == pytest.approx(rc.x[0] + rc.x[1] * 1e12 ** -rc.x[2], rel=1e-14)
    Nc = np.r_[N, N]
    Dc = np.r_[20 * N, 5 * N]
    L = 1.7 + 400 * Nc**-0.34 + 410 * Dc**-0.28
    rch = scalingfit.fit("chinchilla", (Nc, Dc), L)
    p = rch.params
    want = p["E"] + p["A"] * 70e9 ** -p["alpha"] + p["B"] * 1.4e12 ** -p["beta"]
    assert rch.predict((70e9, 1.4e12)) == pytest.approx(want, rel=1e-14)
    np.testing.assert_allclose(rch.predict(np.array([[70e9, 1.4e12], [1e9, 2e10]]))[0], want, rtol=1e-14)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\) for model 'chinchilla'"):
        rch.predict(1e9)
    with pytest.raises(ValueError, match="x must be finite.*row 1"):
        r.predict([1e9, np.nan])
    with pytest.raises(TypeError, match="x must be numeric"):
        r.predict("1e9")
    # a tuple of numbers is one point only with one number per input: two sizes are two points
    np.testing.assert_allclose(r.predict((1e11, 1e12)), E + A * np.array([1e11, 1e12]) ** -alpha, rtol=1e-14)
    assert r.predict((1e11,)) == pytest.approx(E + A * 1e11**-alpha, rel=1e-14)


@pytest.mark.parametrize("model", [FD, EXACT], ids=["fd", "jac"])
def test_covariances_delta_and_profile_intervals_match_the_builtin(model: CustomModel) -> None:
    """The Gauss-Newton and sandwich covariances, a delta-method interval and the profile
    interval of alpha of the custom twin agree with the built-in law's (finite differences:
    to 1e-7; the exact Jacobian: 1e-8). The covariances are compared at the built-in fit's
    parameters: the two solvers stop within their tolerances of the optimum (here 1e-8 apart
    in A, numpy 2.4), which moves a covariance by as much."""
    rb = scalingfit.fit(SPL, N, Y)
    rc = scalingfit.fit(model, N, Y, p0=P0)
    np.testing.assert_allclose(rc.x, rb.x, rtol=1e-7)
    assert rc.cost == pytest.approx(rb.cost, rel=1e-10)
    tol = 1e-7 if model is FD else 1e-8
    for fn in (un.gauss_newton_cov, un.sandwich_cov):
        a, b = fn(model, N, Y, rb), fn(SPL, N, Y, rb)
        assert np.abs(a - b).max() <= tol * np.abs(b).max()
        a = fn(model, N, Y, rc)  # at the custom fit's own optimum: within the solvers' distance
        assert np.abs(a - b).max() <= 1e-6 * np.abs(b).max()
    loss_at = lambda p: p["E"] + p["A"] * 1e12 ** -p["alpha"]
    dc, db = un.delta_method(loss_at, rc), un.delta_method(loss_at, rb)
    np.testing.assert_allclose([dc.lower, dc.upper], [db.lower, db.upper], rtol=tol)
    pc = un.profile_interval(model, N, Y, "alpha", p0=P0)
    pb = un.profile_interval(SPL, N, Y, "alpha")
    np.testing.assert_allclose([pc.lower, pc.upper], [pb.lower, pb.upper], rtol=1e-8)
    assert pc.lower < rc.params["alpha"] < pc.upper
    with pytest.raises(ValueError, match="needs p0"):
        un.profile_interval(model, N, Y, "alpha")


def test_predicted_value_of_a_custom_model() -> None:
    """bootstrap's derived prediction at one new point: each replicate's law written out by
    hand, and the same interval as the built-in twin's."""
    from scalingfit.bootstrap import predicted_value

    assert scalingfit.predicted_value is predicted_value  # scalingfit.bootstrap is the function
    c = bootstrap(FD, N, Y, n_resamples=100, seed=4, p0=P0, method="percentile",
                  derived={"L": predicted_value(FD, [1e12])})
    b = bootstrap(SPL, N, Y, n_resamples=100, seed=4, p0=P0, method="percentile",
                  derived={"L": predicted_value(SPL, [1e12])})
    S = c.samples
    np.testing.assert_allclose(c.batch.values("L")[0], S[:, 0] + S[:, 1] * 1e12 ** -S[:, 2], rtol=1e-14)
    np.testing.assert_allclose(c.ci("L"), b.ci("L"), rtol=1e-6)


def test_a_fit_of_a_lambda_law_still_pickles() -> None:
    """The result keeps its custom model for predict; one made of lambdas cannot be pickled, so
    the pickled result drops it (and predict says what to do) rather than failing to pickle."""
    import pickle

    lam = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2], ("E", "A", "alpha"), 1, name="lam")
    r = scalingfit.fit(lam, N, Y, p0=P0)
    back = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(back.x, r.x)
    assert back.custom_model is None and r.custom_model is lam
    with pytest.raises(ValueError, match=r"'lam' is not a built-in model .* use model.predict\(result.x, x\)"):
        back.predict(1e12)
    assert lam.predict(back.x, [1e12])[0] == pytest.approx(r.predict(1e12), rel=1e-15)


def test_a_wrong_jac_is_reported_once() -> None:
    """A jac with alpha's column of the wrong sign made the fit stop at alpha = 0.28 (the
    optimum: 0.34) reporting convergence, and the bootstrap's intervals exclude their own
    estimate: the first solve compares jac with finite differences and warns, naming the
    column; a right jac is silent."""
    import warnings

    def wrong(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        J = spl_jac(x, p)
        J[:, 2] *= -1
        return J

    bad = CustomModel(spl, ("E", "A", "alpha"), 1, jac=wrong, name="wrong")
    with pytest.warns(scalingfit.ConvergenceWarning, match=r"'wrong': jac disagrees .* column\(s\) of alpha \(2\)"):
        scalingfit.fit(bad, N, Y, p0=P0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per model, and never for a right jac
        scalingfit.fit(bad, N, Y, p0=P0)
        good = CustomModel(spl, ("E", "A", "alpha"), 1, jac=spl_jac)
        scalingfit.fit(good, N, Y, p0=P0)
        bootstrap(good, N, Y, n_resamples=20, p0=P0)



def test_a_right_jac_below_the_rounding_of_f_is_not_reported() -> None:
    """Started at alpha = 1.9 on x = 1e6..1e10, A's column (x^-1.9, 4e-12 and below) sits
    under the last place of f (E = 0.42): finite differences measure it 2% off, and a right jac
    was reported as wrong. Only the difference that rounding cannot explain counts now; the
    same start with alpha's column of the wrong sign is still reported."""
    import warnings

    x = np.logspace(6, 10, 12)
    y = 1.8 + 300 * x**-0.3
    p0 = [0.42, 72.2, 1.9]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scalingfit.fit(CustomModel(spl, ("E", "A", "alpha"), 1, jac=spl_jac), x, y, p0=p0,
                       bounds=([0, 0, 0], [np.inf, np.inf, 2]))

    def wrong(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        J = spl_jac(x, p)
        J[:, 2] *= -1
        return J

    with pytest.warns(scalingfit.ConvergenceWarning, match=r"column\(s\) of alpha \(2\)"):
        scalingfit.fit(CustomModel(spl, ("E", "A", "alpha"), 1, jac=wrong), x, y, p0=p0,
                       bounds=([0, 0, 0], [np.inf, np.inf, 2]))

def test_func_cannot_write_into_the_solvers_arrays() -> None:
    """func(x, p) gets read-only views: writing into p (p[:, 0] += 0.1) moved every replicate
    6% and x /= 1e9 shrank the stored data on each call; now the write raises at once."""
    def shifts_p(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        p[:, 0] += 0.1
        return spl(x, p)

    def scales_x(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        x /= 1e9
        return spl(x, p)

    for fn in (shifts_p, scales_x):
        with pytest.raises(ValueError, match="read-only"):
            scalingfit.fit(CustomModel(fn, ("E", "A", "alpha"), 1), N, Y, p0=P0)


def test_float32_values_are_refused() -> None:
    """A float32 func converged (status 3) at E = 1.665 where the optimum is 1.728."""
    f32 = CustomModel(lambda x, p: spl(x, p).astype(np.float32), ("E", "A", "alpha"), 1, name="f32")
    with pytest.raises(TypeError, match=r"func\(x, p\) returned float32 values; custom model 'f32' is solved in float64"):
        scalingfit.fit(f32, N, Y, p0=P0)


def test_a_center_that_is_not_the_optimum_is_reported() -> None:
    """bootstrap_batch(center=...) with a center that is not a fit (alpha 0.2 where the
    optimum, scipy's, is 0.34) kept it and reported success; its interval excluded its own
    estimate. Re-solved from it on the data, the cost falls (5.34 -> 0.0023): an
    UncertaintyWarning names the problem and the parameter that moved most (A, 100 -> 333). A
    true point fit as center is silent, and so is an exact fit (a flat metric, cost ~0, whose
    parameters may wander at no cost: tests/test_edge_audit.py)."""
    import warnings

    so = pytest.importorskip("scipy.optimize")
    opt = so.least_squares(lambda p: p[0] + p[1] * N ** -p[2] - Y, P0, method="lm", xtol=1e-15, ftol=1e-15).x
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bootstrap_batch(SPL, N, Y, [0, 12], n_resamples=50, center=[opt])
    for model in (SPL, FD):
        with pytest.warns(scalingfit.UncertaintyWarning,
                          match=r"center is not the optimum of its data for 1 of 1 problem\(s\): .*problem 0's A moves from 100 to 333"):
            bootstrap_batch(model, N, Y, [0, 12], n_resamples=50, center=[[1.0, 100.0, 0.2]])


def test_a_bootstrap_of_a_lambda_law_still_pickles() -> None:
    """A bootstrap result of a law made of lambdas raised PicklingError (Dask, multiprocessing):
    it now pickles without the model; its intervals (BCa's jackknife computed up front) are
    the same after the round trip, and what needs the model says so."""
    import pickle

    lam = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2], ("E", "A", "alpha"), 1, name="lam")
    b = bootstrap(lam, N, Y, n_resamples=60, seed=1, p0=P0)  # method="bca": the jackknife is computed
    back = pickle.loads(pickle.dumps(b))
    for name in ("E", "A", "alpha"):
        assert back.ci(name) == b.ci(name)
    with pytest.raises(ValueError, match="'lam' is not a built-in model and this result does not hold"):
        back.predict([1e12])
    twin = bootstrap(FD, N, Y, n_resamples=60, seed=1, p0=P0)  # a module-level law keeps its model
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(twin)).predict([1e12]).upper, twin.predict([1e12]).upper)


def test_a_custom_bootstrap_in_many_small_calls_gives_the_same_bits() -> None:
    """Under max_memory the replicates are solved in calls of a few hundred points (here ~20
    resamples a call): every replicate is the same number as in one call (each item's sums
    are its own, in the order of its points), for the points and residual schemes."""
    for scheme in ("points", "residual"):
        one = bootstrap(FD, N, Y, n_resamples=200, seed=2, p0=P0, scheme=scheme)
        many = bootstrap(FD, N, Y, n_resamples=200, seed=2, p0=P0, scheme=scheme, max_memory=30_000)
        np.testing.assert_array_equal(many.samples, one.samples)
        assert many.ci("alpha") == one.ci("alpha")
