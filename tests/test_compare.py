"""compare_models: information criteria, leave-one-out refits and held-out extrapolation,
checked against closed forms (OLS hat matrix, the classical prediction interval, the exact
F-distribution of nested linear fits) and against scipy fits of the same points."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import CustomModel, compare_models, information_criteria
from scalingfit.cli import main

least_squares = pytest.importorskip("scipy.optimize").least_squares
stats = pytest.importorskip("scipy.stats")


def _saturating(seed: int, n: int = 12, noise: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    N = np.logspace(7, 10, n)
    return N, (1.7 + 400 * N ** -0.34) * np.exp(noise * rng.standard_normal(n))


def _sat(p: np.ndarray, N: np.ndarray) -> np.ndarray:
    return p[0] + p[1] * N ** -p[2]


def _scipy_sat(N: np.ndarray, L: np.ndarray, w: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """Weighted least squares of the saturating power law (E, A, alpha) by scipy's LM."""
    r = least_squares(lambda p: np.sqrt(w) * (_sat(p, N) - L), p0, method="lm",
                      xtol=1e-15, ftol=1e-15, gtol=1e-15, x_scale="jac")
    return np.asarray(r.x)


# ------------------------------------------------------------------ information criteria
@pytest.mark.parametrize("weighted", [False, True])
def test_criteria_equal_gaussian_loglik_of_scipy_fit(weighted: bool) -> None:
    N, L = _saturating(3, n=15)
    w = np.linspace(0.5, 2.0, N.size) if weighted else np.ones(N.size)
    cmp = compare_models(["saturating_power_law", "power_law"], N, L,
                         weights=w if weighted else None, loo=False)
    s = cmp["saturating_power_law"]
    p = _scipy_sat(N, L, w, s.fit.x)
    r = L - _sat(p, N)
    rss = float(np.sum(w * r * r))
    n, k = N.size, 4  # E, A, alpha and the noise variance
    # log-likelihood at the MLE of the variance: independent normals with variances sigma^2 / w
    ll = float(np.sum(stats.norm.logpdf(r, scale=np.sqrt(rss / n / w))))
    assert s.rss == pytest.approx(rss, rel=1e-9)
    assert s.log_likelihood == pytest.approx(ll, rel=1e-9)
    assert s.aic == pytest.approx(2 * k - 2 * ll, rel=1e-9)
    assert s.aicc == pytest.approx(2 * k - 2 * ll + 2 * k * (k + 1) / (n - k - 1), rel=1e-9)
    assert s.bic == pytest.approx(k * math.log(n) - 2 * ll, rel=1e-9)
    ic = information_criteria(s.fit, w if weighted else None)
    assert ic["aic"] == pytest.approx(s.aic, rel=1e-12) and ic["k"] == k and ic["n"] == n
    # Akaike weights: exp(-d/2) normalised
    wts = cmp.weights("aic")
    d = np.array([cmp[lab].aic for lab in cmp.labels])
    e = np.exp(-(d - d.min()) / 2)
    assert [wts[lab] for lab in cmp.labels] == pytest.approx(list(e / e.sum()), rel=1e-12)


def test_fixed_parameter_is_not_counted() -> None:
    N, L = _saturating(4)
    cmp = compare_models({"free": "saturating_power_law", "E fixed": "saturating_power_law"}, N, L,
                         options={"E fixed": {"fixed": {"E": 1.7}}}, loo=False)
    assert cmp["free"].k == 3 and cmp["E fixed"].k == 2
    ll = cmp["E fixed"].log_likelihood
    assert cmp["E fixed"].aic == pytest.approx(2 * 3 - 2 * ll, rel=1e-12)


def _nested_selection(n: int, sims: int, criterion: str) -> float:
    """Share of data sets (true law: a straight line) where ``criterion`` prefers the quadratic."""
    line = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0], ("a", "b"), name="line",
                       jac=lambda x, p: np.column_stack([np.ones(len(x)), x[:, 0]]))
    quad = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0] + p[:, 2] * x[:, 0] ** 2,
                       ("a", "b", "c"), name="quad",
                       jac=lambda x, p: np.column_stack([np.ones(len(x)), x[:, 0], x[:, 0] ** 2]))
    x = np.linspace(-1, 1, n)
    rng = np.random.default_rng(11)
    picked = 0
    for _ in range(sims):
        y = 1.0 + 0.5 * x + 0.1 * rng.standard_normal(n)
        cmp = compare_models([line, quad], x, y, loo=False,
                             options={"line": {"p0": [0.0, 0.0]}, "quad": {"p0": [0.0, 0.0, 0.0]}})
        picked += cmp.best(criterion) == "quad"
    return picked / sims


@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_overfitting_rate_of_nested_linear_laws_is_the_f_distribution(criterion: str) -> None:
    """With a true straight line, the quadratic wins when n log(RSS0/RSS1) > 2 (AIC) or
    > log n (BIC); RSS0/RSS1 = 1 + F/(n-3) with F ~ F(1, n-3) exactly."""
    n, sims = 20, 600
    c = 2.0 if criterion == "aic" else math.log(n)
    p = float(stats.f.sf((n - 3) * (math.exp(c / n) - 1), 1, n - 3))
    rate = _nested_selection(n, sims, criterion)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], sims, p) / sims
    assert lo <= rate <= hi, (rate, p)


def test_aicc_prefers_saturating_law_on_saturating_data() -> None:
    wins = sum(compare_models(["power_law", "saturating_power_law"], *_saturating(s),
                              log_residuals=True, loo=False).best("aicc") == "saturating_power_law"
               for s in range(20))
    assert wins == 20


# ------------------------------------------------------------------ leave-one-out
def _ols_press(X: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Leave-one-out residuals of weighted least squares: e_i / (1 - h_ii)."""
    XtWX = X.T @ (X * w[:, None])
    beta = np.linalg.solve(XtWX, X.T @ (w * z))
    h = w * np.einsum("ij,jk,ik->i", X, np.linalg.inv(XtWX), X)
    return (z - X @ beta) / (1 - h)


@pytest.mark.parametrize("weighted", [False, True])
def test_loo_of_log_linear_power_law_is_the_hat_matrix_formula(weighted: bool) -> None:
    rng = np.random.default_rng(5)
    N = np.logspace(6, 11, 14)
    L = 30 * N ** -0.1 * np.exp(0.05 * rng.standard_normal(N.size))
    w = rng.uniform(0.5, 2, N.size) if weighted else np.ones(N.size)
    cmp = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True,
                         weights=w if weighted else None)
    s = cmp["power_law"]
    X = np.column_stack([np.ones(N.size), np.log(N)])
    press = _ols_press(X, np.log(L), w)
    # the package's error is log f_(-i) - log y_i = -(log y_i - fitted_(-i))
    np.testing.assert_allclose(s.loo_errors, -press, rtol=1e-7, atol=1e-12)
    assert s.loo_failed == 0
    assert s.loo_rmse == pytest.approx(math.sqrt(np.sum(w * press**2) / w.sum()), rel=1e-7)


def test_loo_of_saturating_law_equals_scipy_refits() -> None:
    N, L = _saturating(6, n=10, noise=0.02)
    s = compare_models(["saturating_power_law", "power_law"], N, L)["saturating_power_law"]
    ref = []
    for i in range(N.size):
        keep = np.arange(N.size) != i
        p = _scipy_sat(N[keep], L[keep], np.ones(N.size - 1), s.fit.x)
        ref.append(_sat(p, N[i:i + 1])[0] - L[i])
    # the 9-point optima are flat valleys (stderr of A ~ 2e3): two solvers' stopping points
    # differ by ~4e-15 in cost and up to 2e-6 (relative) in the extrapolated point
    np.testing.assert_allclose(s.loo_errors, ref, rtol=1e-5, atol=1e-12)


def test_zero_weight_points_are_not_scored() -> None:
    N, L = _saturating(7)
    w = np.ones(N.size)
    w[3] = 0
    s = compare_models(["saturating_power_law", "power_law"], N, L, weights=w)["power_law"]
    assert np.isnan(s.loo_errors[3]) and np.isfinite(np.delete(s.loo_errors, 3)).all()
    assert np.isfinite(s.loo_rmse)
    assert information_criteria(s.fit, w)["n"] == N.size - 1


def test_loo_chunks_agree_with_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import scalingfit.compare as cm

    N, L = _saturating(8, n=15)
    one = compare_models(["saturating_power_law", "power_law"], N, L, log_residuals=True)
    monkeypatch.setattr(cm, "_LOO_ROWS", 30)  # two refits per batch call
    many = compare_models(["saturating_power_law", "power_law"], N, L, log_residuals=True)
    for lab in one.labels:
        np.testing.assert_array_equal(one[lab].loo_errors, many[lab].loo_errors)


# ------------------------------------------------------------------ held-out extrapolation
def test_holdout_interval_is_the_classical_prediction_interval() -> None:
    rng = np.random.default_rng(9)
    N = np.logspace(6, 11, 16)
    L = 30 * N ** -0.1 * np.exp(0.05 * rng.standard_normal(N.size))
    h = 3
    cmp = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True,
                         holdout=h, level=0.9)
    s = cmp["power_law"]
    assert list(cmp.holdout_index) == [15, 14, 13]
    X = np.column_stack([np.ones(N.size), np.log(N)])
    Xt, zt = X[:-h], np.log(L[:-h])
    beta, *_ = np.linalg.lstsq(Xt, zt, rcond=None)
    dof = Xt.shape[0] - 2
    s2 = float(np.sum((zt - Xt @ beta) ** 2)) / dof
    x0 = X[cmp.holdout_index]
    half = stats.t.ppf(0.95, dof) * np.sqrt(s2 * (1 + np.einsum("ij,jk,ik->i", x0, np.linalg.inv(Xt.T @ Xt), x0)))
    np.testing.assert_allclose(s.holdout_pred, np.exp(x0 @ beta), rtol=1e-9)
    np.testing.assert_allclose(s.holdout_lower, np.exp(x0 @ beta - half), rtol=1e-9)
    np.testing.assert_allclose(s.holdout_upper, np.exp(x0 @ beta + half), rtol=1e-9)
    yo = L[cmp.holdout_index]
    np.testing.assert_allclose(s.holdout_rel_err, np.exp(x0 @ beta) / yo - 1, rtol=1e-8)
    assert s.holdout_rmse == pytest.approx(math.sqrt(np.mean((x0 @ beta - np.log(yo)) ** 2)), rel=1e-8)


def test_holdout_fit_of_saturating_law_equals_scipy_fit_without_those_points() -> None:
    N, L = _saturating(10, n=14, noise=0.01)
    cmp = compare_models(["saturating_power_law", "power_law"], N, L, holdout=2,
                         by=-np.arange(N.size))  # the two SMALLEST rows held out
    assert sorted(cmp.holdout_index) == [0, 1]
    s = cmp["saturating_power_law"]
    assert s.holdout_fit is not None
    p = _scipy_sat(N[2:], L[2:], np.ones(N.size - 2), s.holdout_fit.x)
    np.testing.assert_allclose(s.holdout_fit.x, p, rtol=1e-7)
    np.testing.assert_allclose(s.holdout_pred, _sat(p, N[cmp.holdout_index]), rtol=1e-8)


def test_prediction_intervals_cover_at_their_level() -> None:
    """400 log-linear sweeps, the largest point held out: the 95% interval holds it at a rate
    inside the binomial band (the interval is exact for this law)."""
    rng = np.random.default_rng(12)
    N = np.logspace(6, 10, 10)
    sims, hits = 400, 0
    for _ in range(sims):
        L = 30 * N ** -0.1 * np.exp(0.05 * rng.standard_normal(N.size))
        c = compare_models({"pl": "power_law"}, N, L, log_residuals=True, holdout=1, loo=False)
        hits += bool(c["pl"].holdout_covered[0])
    lo, hi = stats.binom.ppf([0.0005, 0.9995], sims, 0.95) / sims
    assert lo <= hits / sims <= hi


def test_prediction_intervals_of_a_nonlinear_law_cover_at_their_level() -> None:
    """The same for the saturating power law, whose interval is a delta-method approximation
    (measured 94.5% over 400 sweeps of 12 points with 2% noise)."""
    rng = np.random.default_rng(0)
    N = np.logspace(7, 10, 12)
    sims, hits = 400, 0
    for _ in range(sims):
        L = (1.7 + 400 * N ** -0.34) * np.exp(0.02 * rng.standard_normal(N.size))
        c = compare_models({"s": "saturating_power_law"}, N, L, log_residuals=True, holdout=1,
                           loo=False)
        hits += bool(c["s"].holdout_covered[0])
    lo, hi = stats.binom.ppf([0.0005, 0.9995], sims, 0.95) / sims
    assert lo <= hits / sims <= hi


def test_holdout_mask_and_two_inputs_order_by_compute() -> None:
    rng = np.random.default_rng(2)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e9), 40))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e11), 40))
    L = 1.7 + 400 / N**0.34 + 410 / D**0.28
    cmp = compare_models(["chinchilla", "kaplan_nd"], (N, D), L, holdout=5, loo=False)
    assert list(cmp.holdout_index) == list(np.argsort(-(N * D))[:5])
    mask = np.zeros(40, bool)
    mask[[3, 7]] = True
    c2 = compare_models(["chinchilla", "kaplan_nd"], (N, D), L, holdout=mask, loo=False)
    assert sorted(c2.holdout_index) == [3, 7]
    assert np.abs(cmp["chinchilla"].holdout_rel_err).max() < 1e-6  # exact law, no noise


def test_robust_loss_has_no_criteria_but_cross_validation() -> None:
    N, L = _saturating(13)
    L[4] *= 1.3  # an outlier
    cmp = compare_models(["saturating_power_law", "power_law"], N, L, loss="huber", f_scale=0.01,
                         holdout=2)
    s = cmp["saturating_power_law"]
    assert math.isnan(s.aic) and math.isnan(s.aicc) and math.isnan(s.bic)
    assert np.isfinite(s.loo_rmse) and np.isnan(s.holdout_lower).all()
    assert cmp.best("loo_rmse") == "saturating_power_law"
    table = str(cmp)  # the note named "95% prediction intervals" that were not computed
    assert "2 held out" in table and "prediction intervals" not in table
    with pytest.raises(ValueError, match="no converged law has a finite aic .no information criteria"):
        cmp.best("aic")
    with pytest.raises(ValueError, match="loss='huber'"):
        information_criteria(s.fit)
    assert "no information criteria" in cmp.table()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(models="power_law"), TypeError, "several laws"),
    (dict(models=["power_law", "power_law"]), ValueError, "given twice"),
    (dict(models=["power_law", "chinchilla"]), ValueError, "same inputs"),
    (dict(models=["power_law", "nope"]), ValueError, r"models\[1\]"),
    (dict(models=[]), ValueError, "empty"),
    (dict(options={"other": {}}), ValueError, "no law labelled"),
    (dict(options={"power_law": {"loss": "huber"}}), ValueError, "unknown option"),
    (dict(holdout=11), ValueError, "holdout"),
    (dict(holdout=-1), ValueError, "holdout"),
    (dict(holdout=True), ValueError, "holdout"),
    (dict(holdout=np.ones(3, bool)), ValueError, "boolean mask of shape"),
    (dict(holdout=2, by=np.r_[np.ones(9), np.nan]), ValueError, "by has 1 non-finite value.*index 9"),
    (dict(level=1.5), ValueError, "level"),
    (dict(y=np.r_[np.ones(9), np.inf]), ValueError, "y has 1 non-finite value.*index 9"),
])
def test_bad_arguments_are_named(kwargs: dict, error: type, match: str) -> None:
    N = np.logspace(7, 10, 10)
    args = dict(models=["power_law", "saturating_power_law"], x=N, y=2 + N ** -0.3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        compare_models(**args)


def test_holdout_leaving_too_few_points_is_named() -> None:
    N = np.logspace(7, 12, 5)
    with pytest.raises(ValueError, match="to fit the 3 free parameters of saturating_power_law"):
        compare_models(["power_law", "saturating_power_law"], N, 2 + N ** -0.3, holdout=3)


def test_failed_fit_is_a_status_not_an_exception() -> None:
    N = np.logspace(7, 10, 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # two iterations: the broken law cannot converge (since stop 37 its starts fit these
        # 8 points exactly when it may run)
        cmp = compare_models(["saturating_power_law", "broken_power_law"], N, 2 + 30 * N ** -0.3,
                             options={"broken_power_law": {"max_iter": 2}})
    assert any("broken_power_law" in str(c.message) for c in caught)
    assert not cmp["broken_power_law"].fit.success
    assert np.isnan(cmp["broken_power_law"].loo_rmse)
    assert "failed" in cmp.table() and cmp.best("loo_rmse") == "saturating_power_law"


# ------------------------------------------------------------------ command line
def test_cli_compare_json_matches_the_api(tmp_path, capsys) -> None:
    N, L = _saturating(14)
    f = tmp_path / "runs.csv"
    f.write_text("N,loss\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(N, L)))
    rc = main(["compare", str(f), "--models", "power_law,saturating_power_law", "--x", "N",
               "--y", "loss", "--log-residuals", "--holdout", "2", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    ref = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True, holdout=2)
    for law in out["laws"]:
        s = ref[law["law"]]
        assert law["aicc"] == pytest.approx(s.aicc, rel=1e-12)
        assert law["loo_rmse"] == pytest.approx(s.loo_rmse, rel=1e-12)
        assert [h["predicted"] for h in law["holdout"]] == pytest.approx(list(s.holdout_pred), rel=1e-12)
    assert out["holdout_rows"] == [11, 10]
    assert out["weights"]["criterion"] == "aicc"
    assert out["weights"]["saturating_power_law"] == pytest.approx(ref.weights("aicc")["saturating_power_law"])
    assert [h["covered"] for h in out["laws"][1]["holdout"]] == list(ref["saturating_power_law"].holdout_covered)
    rc = main(["compare", str(f), "--models", "power_law,saturating_power_law", "--x", "N", "--y", "loss"])
    assert rc == 0 and "saturating_power_law" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["--models", "power_law,nope"], "unknown law"),
    (["--models", "power_law,chinchilla"], "same inputs"),
    (["--models", "power_law,power_law"], "twice"),
    (["--models", "power_law", "--f-scale", "2"], "no effect"),
    (["--models", "power_law", "--holdout", "-1"], "--holdout"),
    (["--models", "power_law", "--holdout", "12"], "leaves no point"),
    (["--models", "power_law", "--level", "0.9"], "give --holdout"),
])
def test_cli_compare_usage_errors_exit_2(tmp_path, capsys, argv: list, match: str) -> None:
    N, L = _saturating(15)
    f = tmp_path / "runs.csv"
    f.write_text("N,loss\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(N, L)))
    assert main(["compare", str(f), "--x", "N", "--y", "loss", *argv]) == 2
    assert match in capsys.readouterr().err


def test_top_level_exports() -> None:
    assert scalingfit.compare_models is compare_models
    assert "compare_models" in scalingfit.__all__ and "Comparison" in scalingfit.__all__


# ------------------------------------------------------------------ figure
def test_plot_comparison_draws_the_holdout_fits_and_predictions(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from scalingfit import plot

    N, L = _saturating(16)
    cmp = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True, holdout=3)
    fig = plot.plot_comparison(cmp, x_max=1e11, ylabel="loss", path=tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0
    left, right = fig.axes
    curves = [ln for ln in left.get_lines() if ln.get_label() in cmp.labels]
    assert [ln.get_label() for ln in curves] == list(cmp.labels)
    for ln in curves:  # each curve is the law fitted without the held-out points, on to x_max
        s = cmp[ln.get_label()]
        gx, gy = ln.get_data()
        assert gx.max() == pytest.approx(1e11)
        np.testing.assert_allclose(gy, s.predict(gx, holdout=True), rtol=1e-12)
    # the right panel: one scatter of leave-one-out errors per law
    offsets = [c.get_offsets() for c in right.collections if c.get_label().split(" (")[0] in cmp.labels]
    assert len(offsets) == 2
    np.testing.assert_allclose(offsets[1][:, 1], cmp["saturating_power_law"].loo_errors)


def test_plot_comparison_of_two_input_laws_and_bad_arguments() -> None:
    pytest.importorskip("matplotlib")
    from scalingfit import plot

    rng = np.random.default_rng(3)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e9), 30))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e11), 30))
    L = (1.7 + 400 / N**0.34 + 410 / D**0.28) * np.exp(0.01 * rng.standard_normal(30))
    cmp = compare_models(["chinchilla", "kaplan_nd"], (N, D), L, log_residuals=True, holdout=4)
    fig = plot.plot_comparison(cmp)
    assert fig.axes[0].get_xlabel() == "predicted"
    with pytest.raises(ValueError, match="x_max extends laws of one input"):
        plot.plot_comparison(cmp, x_max=1e30)
    with pytest.raises(TypeError, match="compare_models"):
        plot.plot_comparison(cmp["chinchilla"])  # type: ignore[arg-type]
    one = compare_models(["power_law", "saturating_power_law"], *_saturating(2), loo=False)
    with pytest.raises(ValueError, match="above the data's largest"):
        plot.plot_comparison(one, x_max=10.0)
    fig = plot.plot_comparison(one)  # no held-out points, no leave-one-out
    assert "no leave-one-out" in fig.axes[1].texts[0].get_text()


def test_cli_compare_plot(tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    N, L = _saturating(17)
    f = tmp_path / "runs.csv"
    f.write_text("N,loss\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(N, L)))
    out = tmp_path / "cmp.svg"
    assert main(["compare", str(f), "--models", "power_law,saturating_power_law", "--x", "N",
                 "--y", "loss", "--holdout", "2", "--plot", str(out)]) == 0
    assert out.read_text().startswith("<?xml")
    assert main(["compare", str(f), "--models", "power_law", "--x", "N", "--y", "loss",
                 "--plot", str(tmp_path / "nowhere" / "c.png")]) == 1
    assert "does not exist" in capsys.readouterr().err


# ------------------------------------------------------------------ leave one group out
def test_leave_one_group_out_is_the_deleted_block_formula() -> None:
    """For OLS, the residuals of a group predicted without it are (I - H_gg)^-1 r_g."""
    rng = np.random.default_rng(21)
    N = np.logspace(6, 11, 18)
    L = 30 * N ** -0.1 * np.exp(0.05 * rng.standard_normal(N.size))
    groups = np.repeat(["a", "b", "c", "d", "e", "f"], 3)
    cmp = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True, groups=groups)
    assert cmp.cv == "leave-one-group-out (6 groups)"
    X = np.column_stack([np.ones(N.size), np.log(N)])
    z = np.log(L)
    H = X @ np.linalg.solve(X.T @ X, X.T)
    r = z - H @ z
    ref = np.empty(N.size)
    for g in np.unique(groups):
        i = np.flatnonzero(groups == g)
        ref[i] = np.linalg.solve(np.eye(i.size) - H[np.ix_(i, i)], r[i])
    np.testing.assert_allclose(cmp["power_law"].loo_errors, -ref, rtol=1e-7, atol=1e-12)
    # one point per group is leave-one-out
    single = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True,
                            groups=np.arange(N.size) * 10)
    plain = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True)
    for lab in plain.labels:
        np.testing.assert_array_equal(single[lab].loo_errors, plain[lab].loo_errors)


def test_leave_one_budget_out_on_two_input_law() -> None:
    rng = np.random.default_rng(4)
    C = np.repeat(np.logspace(18, 20, 5), 8)
    N = np.tile(np.logspace(-0.8, 0.8, 8), 5) * 0.1 * np.sqrt(C / 6)
    D = C / (6 * N)
    L = (1.7 + 400 / N**0.34 + 410 / D**0.28) * np.exp(0.005 * rng.standard_normal(C.size))
    cmp = compare_models(["chinchilla", "kaplan_nd"], (N, D), L, log_residuals=True, groups=C)
    s = cmp["chinchilla"]
    # each budget's errors come from a fit without that budget: refit by hand and compare
    for c in np.unique(C)[[0, 4]]:
        keep = C != c
        r = scalingfit.fit("chinchilla", (N[keep], D[keep]), L[keep], p0=s.fit.x, log_residuals=True)
        pred = scalingfit.models.get("chinchilla").predict(r.x, np.column_stack([N, D])[~keep])
        np.testing.assert_allclose(s.loo_errors[~keep], np.log(pred) - np.log(L[~keep]), rtol=1e-6,
                                   atol=1e-9)
    assert s.loo_failed == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(groups=np.zeros(3)), "one label per point"),
    (dict(groups=np.zeros(10)), "at least 2 groups"),
    (dict(groups=np.r_[np.zeros(9), np.nan]), "non-finite label at index 9"),
    (dict(groups=np.arange(10), loo=False), "no effect with loo=False"),
])
def test_bad_groups_are_named(kwargs: dict, match: str) -> None:
    N = np.logspace(7, 10, 10)
    with pytest.raises(ValueError, match=match):
        compare_models(["power_law", "saturating_power_law"], N, 2 + N ** -0.3, **kwargs)


def test_cli_compare_groups(tmp_path, capsys) -> None:
    N, L = _saturating(18)
    f = tmp_path / "runs.csv"
    sweep = ["s1", "s1", "s1", "s2", "s2", "s2", "s3", "s3", "s3", "s4", "s4", "s4"]
    f.write_text("N,loss,sweep\n" + "".join(f"{a:.17g},{b:.17g},{g}\n" for a, b, g in zip(N, L, sweep)))
    argv = ["compare", str(f), "--models", "power_law,saturating_power_law", "--x", "N", "--y", "loss"]
    assert main([*argv, "--groups", "sweep", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = compare_models(["power_law", "saturating_power_law"], N, L, groups=np.array(sweep))
    assert out["cv"] == "leave-one-group-out (4 groups)"
    assert [law["loo_rmse"] for law in out["laws"]] == pytest.approx([s.loo_rmse for s in ref.scores],
                                                                    rel=1e-12)
    assert main([*argv, "--groups", "nope"]) == 1
    assert "missing column 'nope' (--groups)" in capsys.readouterr().err
    assert main([*argv, "--groups", "sweep", "--no-loo"]) == 2


# ------------------------------------------------------------------ many sweeps: compare_batch
def _sweeps(n_problems: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sweeps of 8-14 sizes; even ones saturate (E = 1.7), odd ones are pure power laws."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 15, n_problems)
    N = np.concatenate([np.logspace(7, 10, k) for k in sizes])
    E = np.repeat(np.where(np.arange(n_problems) % 2 == 0, 1.7, 0.0), sizes)
    L = (E + 400 * N ** -0.34) * np.exp(0.01 * rng.standard_normal(N.size))
    return N, L, np.concatenate([[0], np.cumsum(sizes)])


def test_compare_batch_equals_compare_models_on_each_problem() -> None:
    N, L, off = _sweeps(6)
    w = np.random.default_rng(1).uniform(0.5, 2.0, N.size)
    laws = ["power_law", "saturating_power_law"]
    bc = scalingfit.compare_batch(laws, N, L, off, weights=w, log_residuals=True, loo=True)
    for j in range(6):
        s = slice(off[j], off[j + 1])
        one = compare_models(laws, N[s], L[s], weights=w[s], log_residuals=True)
        for i, lab in enumerate(laws):
            assert bc.fits[i].x[j] == pytest.approx(one[lab].fit.x, rel=1e-7)
            for crit in ("rss", "aic", "aicc", "bic"):
                assert getattr(bc, crit)[i, j] == pytest.approx(getattr(one[lab], crit), rel=1e-8)
            assert bc.loo_rmse[i, j] == pytest.approx(one[lab].loo_rmse, rel=1e-6)
    assert list(bc.k) == [2, 3]
    assert list(bc.n_points) == list(np.diff(off))


def test_compare_batch_bad_problem_is_a_status() -> None:
    N, L, off = _sweeps(4)
    L_bad = L.copy()
    L_bad[off[2] + 1] = np.nan
    laws = ["power_law", "saturating_power_law"]
    good = scalingfit.compare_batch(laws, N, L, off, log_residuals=True, loo=True)
    bad = scalingfit.compare_batch(laws, N, L_bad, off, log_residuals=True, loo=True)
    assert all(f.status[2] == -3 for f in bad.fits)
    assert np.isnan(bad.aicc[:, 2]).all() and np.isnan(bad.loo_rmse[:, 2]).all()
    assert bad.best("aicc")[2] == -1 and bad.wins("aicc")["none"] == 1
    keep = [0, 1, 3]
    np.testing.assert_array_equal(bad.aicc[:, keep], good.aicc[:, keep])
    np.testing.assert_array_equal(bad.loo_rmse[:, keep], good.loo_rmse[:, keep])
    assert (bad.weights("aicc")[:, 2] == 0).all()
    np.testing.assert_allclose(bad.weights("aicc")[:, keep].sum(axis=0), 1.0)


def test_compare_batch_overfitting_rate_is_the_f_distribution() -> None:
    """600 straight-line problems in one call per law: AIC picks the unneeded quadratic at the
    exact rate P(n log(RSS0/RSS1) > 2), RSS0/RSS1 = 1 + F/(n-3), F ~ F(1, n-3)."""
    line = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0], ("a", "b"), name="line",
                       jac=lambda x, p: np.column_stack([np.ones(len(x)), x[:, 0]]))
    quad = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0] + p[:, 2] * x[:, 0] ** 2,
                       ("a", "b", "c"), name="quad",
                       jac=lambda x, p: np.column_stack([np.ones(len(x)), x[:, 0], x[:, 0] ** 2]))
    n, P = 20, 600
    x = np.tile(np.linspace(-1, 1, n), P)
    y = 1.0 + 0.5 * x + 0.1 * np.random.default_rng(31).standard_normal(x.size)
    bc = scalingfit.compare_batch([line, quad], x, y, np.arange(P + 1) * n,
                                  options={"line": {"p0": [0.0, 0.0]}, "quad": {"p0": [0.0, 0.0, 0.0]}})
    p = float(stats.f.sf((n - 3) * (math.exp(2.0 / n) - 1), 1, n - 3))
    rate = bc.wins("aic")["quad"] / P
    lo, hi = stats.binom.ppf([0.0005, 0.9995], P, p) / P
    assert lo <= rate <= hi, (rate, p)


def test_compare_batch_picks_the_true_law_and_chunks_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    import scalingfit.compare as cm

    N, L, off = _sweeps(40, seed=5)
    laws = ["power_law", "saturating_power_law"]
    bc = scalingfit.compare_batch(laws, N, L, off, log_residuals=True, loo=True)
    truth = np.where(np.arange(40) % 2 == 0, 1, 0)
    assert np.mean(bc.best("aicc") == truth) >= 0.85
    assert bc.wins("aicc")["power_law"] + bc.wins("aicc")["saturating_power_law"] == 40
    monkeypatch.setattr(cm, "_LOO_ROWS", 50)  # many batch calls
    small = scalingfit.compare_batch(laws, N, L, off, log_residuals=True, loo=True)
    np.testing.assert_array_equal(small.loo_rmse, bc.loo_rmse)
    assert "wins (AICc)" in bc.table() and "wins (LOO)" in bc.table()


def test_compare_batch_bad_arguments() -> None:
    N, L, off = _sweeps(3)
    laws = ["power_law", "saturating_power_law"]
    with pytest.raises(ValueError, match="not starts"):
        scalingfit.compare_batch(laws, N, L, off, options={"power_law": {"starts": [[1.0, 0.1]]}})
    with pytest.raises(ValueError, match="offsets"):
        scalingfit.compare_batch(laws, N, L, [0, 5, 3])
    bc = scalingfit.compare_batch(laws, N, L, off)
    with pytest.raises(ValueError, match="no held-out test"):
        bc.best("holdout_rmse")
    assert np.isnan(bc.loo_rmse).all()  # loo=False
    robust = scalingfit.compare_batch(laws, N, L, off, loss="huber", f_scale=0.01, loo=True)
    assert np.isnan(robust.aicc).all() and np.isfinite(robust.loo_rmse).all()
    assert "no information criteria" in robust.table()


def test_pointwise_equals_predict_per_row() -> None:
    from scalingfit.compare import pointwise

    rng = np.random.default_rng(0)
    for name in scalingfit.models.names():
        m = scalingfit.models.get(name)
        X = np.exp(rng.uniform(0, 5, (7, m.n_inputs)))
        P = np.array([m.initial_guess(X, np.exp(rng.uniform(0, 1, 7))) for _ in range(7)])
        P *= rng.uniform(0.9, 1.1, P.shape)
        ref = [m.predict(P[i], X[i:i + 1])[0] for i in range(7)]
        np.testing.assert_array_equal(pointwise(m, P, X), ref)
    with pytest.raises(ValueError, match="rows"):
        pointwise(scalingfit.models.get("power_law"), np.ones((2, 2)), np.ones((3, 1)))


def test_cli_compare_group_by(tmp_path, capsys) -> None:
    N, L, off = _sweeps(7, seed=9)
    names = np.repeat([f"s{j}" for j in (3, 1, 0, 6, 2, 5, 4)], np.diff(off))  # not in file order
    rows = np.random.default_rng(0).permutation(N.size)  # rows shuffled in the file
    f = tmp_path / "sweeps.csv"
    f.write_text("sweep,N,loss\n" + "".join(f"{names[i]},{N[i]:.17g},{L[i]:.17g}\n" for i in rows))
    argv = ["compare", str(f), "--models", "power_law,saturating_power_law", "--x", "N", "--y", "loss",
            "--log-residuals", "--group-by", "sweep"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = scalingfit.compare_batch(["power_law", "saturating_power_law"], N, L, off, log_residuals=True,
                                   loo=True)
    by_name = {g["group"]: g for g in out["groups"]}
    for j, name in enumerate(["s3", "s1", "s0", "s6", "s2", "s5", "s4"]):
        g = by_name[name]
        assert g["n_points"] == off[j + 1] - off[j]
        assert g["laws"]["saturating_power_law"]["aicc"] == pytest.approx(ref.aicc[1, j], rel=1e-9)
        assert g["laws"]["power_law"]["loo_rmse"] == pytest.approx(ref.loo_rmse[0, j], rel=1e-7)
        assert g["best"] == ref.labels[ref.best("aicc")[j]]
    assert main(argv) == 0 and "wins (AICc)" in capsys.readouterr().out
    assert main([*argv, "--holdout", "2"]) == 2
    assert "not with --group-by" in capsys.readouterr().err
    assert main([*argv[:-1], "nope"]) == 1
    assert "missing column(s) ['nope'] (--group-by)" in capsys.readouterr().err


# ------------------------------------------------------------------ found by review (stop 25)
def test_zero_weight_training_points_do_not_narrow_the_intervals() -> None:
    N, L = _saturating(0)
    w = np.ones(12)
    w[[0, 2, 4, 6]] = 0
    laws = ["power_law", "saturating_power_law"]
    with_zero = compare_models(laws, N, L, weights=w, log_residuals=True, holdout=2)
    keep = w > 0
    without = compare_models(laws, N[keep], L[keep], log_residuals=True, holdout=2)
    for lab in laws:
        np.testing.assert_allclose(with_zero[lab].holdout_lower, without[lab].holdout_lower, rtol=1e-8)
        np.testing.assert_allclose(with_zero[lab].holdout_upper, without[lab].holdout_upper, rtol=1e-8)
        assert with_zero[lab].aicc == pytest.approx(without[lab].aicc, rel=1e-9)


def test_zero_weight_points_are_never_held_out() -> None:
    N, L = _saturating(0)
    w = np.ones(12)
    w[-1] = 0
    cmp = compare_models(["power_law", "saturating_power_law"], N, L, weights=w, holdout=2,
                         log_residuals=True)
    assert list(cmp.holdout_index) == [10, 9]
    mask = np.zeros(12, bool)
    mask[-2:] = True
    with pytest.raises(ValueError, match="row 11 has weight 0"):
        compare_models(["power_law", "saturating_power_law"], N, L, weights=w, holdout=mask)
    # a mask lists its rows largest input first, as an int holdout does
    mask[-1] = False
    mask[[3, 8]] = True
    assert list(compare_models(["power_law", "saturating_power_law"], N, L, holdout=mask,
                               loo=False).holdout_index) == [10, 8, 3]


def test_failed_fits_neither_win_nor_get_weight() -> None:
    N, L = _saturating(0)
    w = np.zeros(12)
    w[[0, 5, 9]] = 1  # three points: the 4-parameter learning curve cannot start (-3, NaN cost)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = compare_models(["power_law", "learning_curve"], N, L, weights=w, loo=False)
    s = cmp["learning_curve"]
    assert not s.fit.success and math.isnan(s.aic) and math.isnan(s.bic)
    assert cmp.best("aic") == "power_law" and cmp.best("bic") == "power_law"
    assert cmp.weights("aic") == {"power_law": 1.0, "learning_curve": 0.0}
    # a saturated fit (as many points as free parameters) has no criteria: its RSS is rounding
    sat = compare_models(["power_law", "saturating_power_law"], N[::5], L[::5], loo=False)
    assert math.isnan(sat["saturating_power_law"].aic) and np.isfinite(sat["power_law"].aic)
    # a singular fit (status -2) has a finite AIC but does not compete either: a law with a
    # redundant amplitude (a b x^-alpha: only the product a b is determined)
    red = CustomModel(lambda x, p: p[:, 0] * p[:, 1] * x[:, 0] ** -p[:, 2], ("a", "b", "alpha"),
                      name="redundant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c2 = compare_models(["power_law", red], N[:7], L[:7], holdout=1,
                            options={"redundant": {"p0": [10.0, 10.0, 0.1]}})
    assert c2["redundant"].fit.status == -2 and np.isfinite(c2["redundant"].aic)
    assert c2.best("aic") == c2.best("bic") == c2.best("holdout_rmse") == "power_law"
    assert c2.weights("aic")["redundant"] == 0.0
    assert "never win" in c2.table()


def test_exact_fit_takes_all_the_weight() -> None:
    lin = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0], ("a", "b"), name="lin")
    sq = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * np.sqrt(x[:, 0]), ("a", "b"), name="sq")
    x = np.arange(1.0, 9.0)
    cmp = compare_models([lin, sq], x, 2 + 3 * x, loo=False,
                         options={"lin": {"p0": [0.0, 1.0]}, "sq": {"p0": [0.0, 1.0]}})
    assert cmp["lin"].aicc < -400  # residuals at rounding level
    assert cmp.best("aicc") == "lin" and cmp.weights("aicc")["lin"] == pytest.approx(1.0, abs=1e-100)
    # residuals exactly 0 give -inf: such laws share the weight, NaN (failed) ones get none
    from scalingfit.compare import _akaike

    v = np.array([[-np.inf, 3.0], [5.0, 4.0], [-np.inf, np.nan], [np.nan, 3.0]])
    ok = ~np.isnan(v)
    w = _akaike(v, ok)
    np.testing.assert_allclose(w[:, 0], [0.5, 0.0, 0.5, 0.0])
    e = np.exp(-0.5 * (np.array([3.0, 4.0, 3.0]) - 3.0))
    np.testing.assert_allclose(w[[0, 1, 3], 1], e / e.sum())
    with pytest.raises(ValueError, match=r"options=\{'lin': \{'p0'"):
        compare_models([lin, sq], x, 2 + 3 * x)


def test_all_zero_weights_and_too_few_points_for_aicc() -> None:
    N, L = _saturating(0)
    with pytest.raises(ValueError, match="no point has a positive weight"):
        compare_models(["power_law", "saturating_power_law"], N, L, weights=np.zeros(12))
    five = compare_models(["power_law", "saturating_power_law"], N[:5], L[:5], loo=False)
    assert math.isnan(five["saturating_power_law"].aicc)  # n = 5 <= k + 1 = 5
    assert "weights from AIC" in five.table() and "w(AIC)" in five.table()
    with pytest.raises(ValueError, match="AICc needs n > k"):
        compare_models({"s": "saturating_power_law"}, N[:5], L[:5], loo=False).best("aicc")


def test_cli_compare_messages(tmp_path, capsys) -> None:
    N, L = _saturating(18)
    f = tmp_path / "runs.csv"
    f.write_text("N,loss,sweep\n" + "".join(f"{a:.17g},{b:.17g},{'' if i == 4 else 's'}\n"
                                              for i, (a, b) in enumerate(zip(N, L))))
    argv = ["compare", str(f), "--x", "N", "--y", "loss"]
    assert main([*argv, "--models", ""]) == 2
    assert "--models: name the laws" in capsys.readouterr().err
    assert main([*argv, "--models", "power_law", "--groups", "sweep"]) == 1
    assert "row 4 (line 6): empty group label" in capsys.readouterr().err


def test_write_figure_names_the_file_asked_for(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    import errno

    from scalingfit import plot

    cmp = compare_models(["power_law", "saturating_power_law"], *_saturating(1), loo=False)
    fig = plot.plot_comparison(cmp)

    def refuse(path, **kw):  # type: ignore[no-untyped-def]
        raise OSError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(fig, "savefig", refuse)
    with pytest.raises(OSError, match=r"cannot write .*c\.png: Permission denied"):
        plot.write_figure(fig, tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ nested laws
def _line_quad() -> tuple[CustomModel, CustomModel]:
    line = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0], ("a", "b"), name="line",
                       jac=lambda x, p: np.column_stack([np.ones(len(x)), x[:, 0]]))
    quad = CustomModel(lambda x, p: p[:, 0] + p[:, 1] * x[:, 0] + p[:, 2] * x[:, 0] ** 2,
                       ("a", "b", "c"), name="quad",
                       jac=lambda x, p: np.column_stack([np.ones(len(x)), x[:, 0], x[:, 0] ** 2]))
    return line, quad


def test_nested_f_test_equals_the_textbook_f_test() -> None:
    line, quad = _line_quad()
    x = np.linspace(-1, 1, 15)
    y = 1 + 0.5 * x + 0.2 * x**2 + 0.1 * np.random.default_rng(2).standard_normal(15)
    opts = {"line": {"p0": [0.0, 0.0]}, "quad": {"p0": [0.0, 0.0, 0.0]}}
    t = compare_models([line, quad], x, y, loo=False, options=opts).nested_test("line", "quad")
    rss = [float(np.sum((y - np.polyval(np.polyfit(x, y, d), x)) ** 2)) for d in (1, 2)]
    F = (rss[0] - rss[1]) / (rss[1] / 12)
    assert (t.df1, t.df2) == (1, 12)
    assert t.F == pytest.approx(F, rel=1e-8)
    assert t.p_value == pytest.approx(float(stats.f.sf(F, 1, 12)), rel=1e-7)
    assert t.lr == pytest.approx(15 * math.log(rss[0] / rss[1]), rel=1e-8)
    assert t.lr_p_value == pytest.approx(float(stats.chi2.sf(t.lr, 1)), rel=1e-7)


def test_nested_test_is_calibrated_for_tied_exponents() -> None:
    """True law chinchilla_tied: the test of alpha = beta rejects at 5% in about 5% of 300
    simulated sweeps (the F distribution is asymptotic for this nonlinear law)."""
    rng = np.random.default_rng(8)
    C = np.repeat(np.logspace(18, 20, 4), 8)
    N = np.tile(np.logspace(-0.8, 0.8, 8), 4) * 0.1 * np.sqrt(C / 6)
    D = C / (6 * N)
    truth = scalingfit.models.get("chinchilla_tied").predict([1.7, 400.0, 900.0, 0.31], np.column_stack([N, D]))
    sims, rejected = 300, 0
    for _ in range(sims):
        L = truth * np.exp(0.01 * rng.standard_normal(C.size))
        c = compare_models(["chinchilla_tied", "chinchilla"], (N, D), L, log_residuals=True, loo=False)
        rejected += c.nested_test("chinchilla_tied", "chinchilla").p_value < 0.05
    lo, hi = stats.binom.ppf([0.0005, 0.9995], sims, 0.05) / sims
    assert lo <= rejected / sims <= hi


def test_nested_test_refuses_what_it_cannot_test() -> None:
    N, L = _saturating(3)
    from scalingfit.compare import nested_test

    c = compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True, loo=False)
    with pytest.raises(ValueError, match="more free parameters"):
        c.nested_test("saturating_power_law", "power_law")
    robust = scalingfit.fit("saturating_power_law", N, L, loss="huber", f_scale=0.03)
    with pytest.raises(ValueError, match="loss='linear'"):
        nested_test(c["power_law"].fit, robust)
    other = scalingfit.fit("saturating_power_law", N, L)  # not log residuals
    with pytest.raises(ValueError, match="same residuals"):
        nested_test(c["power_law"].fit, other)
    with pytest.raises(TypeError, match="FitResult"):
        nested_test(c["power_law"], other)  # type: ignore[arg-type]
    # a "full" law that fits worse is not nested (or its fit missed the optimum)
    import dataclasses

    stuck = dataclasses.replace(c["saturating_power_law"].fit, cost=10 * c["power_law"].fit.cost)
    with pytest.raises(ValueError, match="fits worse"):
        nested_test(c["power_law"].fit, stuck)


def test_progress_goes_to_stderr_and_changes_nothing(capsys) -> None:
    N, L, off = _sweeps(5)
    laws = ["power_law", "saturating_power_law"]
    quiet = scalingfit.compare_batch(laws, N, L, off, loo=True)
    shown = scalingfit.compare_batch(laws, N, L, off, loo=True, progress=True)
    assert "refit" in capsys.readouterr().err
    np.testing.assert_array_equal(quiet.loo_rmse, shown.loo_rmse)
    one = compare_models(laws, N[:12], L[:12], progress=True)
    err = capsys.readouterr().err
    assert "refit" in err and ("24/24" in err or "24it" in err or "24/24 refit" in err)
    np.testing.assert_array_equal(one["power_law"].loo_errors, compare_models(laws, N[:12], L[:12])["power_law"].loo_errors)


# ------------------------------------------------------------------ found by review (stop 25, second round)
def test_nested_test_counts_points_of_positive_weight() -> None:
    rng = np.random.default_rng(3)
    N = np.logspace(6, 11, 20)
    L = 30 * N ** -0.3 * np.exp(0.05 * rng.standard_normal(20))
    w = np.ones(20)
    w[[2, 9, 15]] = 0
    full = scalingfit.fit("power_law", N, L, weights=w, log_residuals=True)
    held = scalingfit.fit("power_law", N, L, weights=w, log_residuals=True, fixed={"alpha": 0.45})
    from scalingfit.compare import nested_test

    t = nested_test(held, full, weights=w)
    keep = w > 0
    X = np.column_stack([np.ones(keep.sum()), np.log(N[keep])])
    z = np.log(L[keep])
    rss_f = float(np.sum((z - X @ np.linalg.lstsq(X, z, rcond=None)[0]) ** 2))
    c = np.mean(z + 0.45 * np.log(N[keep]))  # the amplitude with alpha held at 0.45
    rss_r = float(np.sum((z + 0.45 * np.log(N[keep]) - c) ** 2))
    assert (t.df1, t.df2) == (1, 15)
    assert t.F == pytest.approx((rss_r - rss_f) / (rss_f / 15), rel=1e-7)
    assert t.lr == pytest.approx(17 * math.log(rss_r / rss_f), rel=1e-7)
    cmp = compare_models({"held": "power_law", "free": "power_law"}, N, L, weights=w, log_residuals=True,
                         loo=False, options={"held": {"fixed": {"alpha": 0.45}}})
    assert cmp.nested_test("held", "free").F == pytest.approx(t.F, rel=1e-9)


def test_compare_batch_tries_every_data_driven_start() -> None:
    """kaplan_nd from its single batched guess ended > 2 AIC units above the multi-start fit
    on 28 of 90 random problems; with starts="all" each problem equals compare_models."""
    rng = np.random.default_rng(10)
    xs, ys, sizes = [], [], []
    for j in range(12):
        n = int(rng.integers(8, 40))
        N, D = 10 ** rng.uniform(7, 10, n), 10 ** rng.uniform(9, 12, n)
        a = rng.uniform(0.05, 0.6)
        b = a if j % 2 else rng.uniform(0.05, 0.6)
        p = [rng.uniform(1, 2.5), 10 ** rng.uniform(1.5, 4), 10 ** rng.uniform(1.5, 4), a, b]
        ys.append((p[0] + p[1] * N ** -p[3] + p[2] * D ** -p[4]) * np.exp(0.01 * rng.standard_normal(n)))
        xs.append(np.column_stack([N, D]))
        sizes.append(n)
    X, Y, off = np.vstack(xs), np.concatenate(ys), np.concatenate([[0], np.cumsum(sizes)])
    laws = ["chinchilla", "kaplan_nd"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bc = scalingfit.compare_batch(laws, X, Y, off, log_residuals=True)
        one = scalingfit.compare_batch(laws, X, Y, off, log_residuals=True, starts="one")
        for j in range(12):
            s = slice(off[j], off[j + 1])
            ref = compare_models(laws, X[s], Y[s], log_residuals=True, loo=False)
            for i, lab in enumerate(laws):
                if ref[lab].fit.success:
                    assert bc.aic[i, j] == pytest.approx(ref[lab].aic, abs=1e-6), (lab, j)
    assert np.nansum(one.aic[1] - bc.aic[1] > 2) >= 1  # the single start misses some optima
    with pytest.raises(ValueError, match="starts must be 'all' or 'one'"):
        scalingfit.compare_batch(laws, X, Y, off, starts="some")


def test_pointwise_refuses_wrong_shapes_and_takes_names() -> None:
    from scalingfit.compare import pointwise

    tied = scalingfit.models.get("chinchilla_tied")
    P = np.tile([1.7, 400.0, 900.0, 0.3], (5, 1))
    X = np.exp(np.random.default_rng(0).uniform(15, 25, (5, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        pointwise(tied, P, X.T)
    with pytest.raises(ValueError, match=r"params must have shape \(n, 3\)"):
        pointwise("saturating_power_law", np.ones((15, 2)), np.ones(10))
    with pytest.raises(ValueError, match="rows"):
        pointwise("saturating_power_law", np.ones((3, 3)), np.ones(4))
    with pytest.raises(TypeError, match="complex|numeric|number"):
        pointwise("power_law", np.ones((2, 2)) + 1j, np.ones(2))
    np.testing.assert_allclose(pointwise("chinchilla_tied", P, X), tied.predict(P[0], X), rtol=1e-15)


def test_compare_batch_empty_batch_and_collinear_sweep() -> None:
    laws = ["power_law", "saturating_power_law"]
    empty = scalingfit.compare_batch(laws, np.zeros(0), np.zeros(0), [0, 0])
    assert empty.fits[0].status[0] == -3 and np.isnan(empty.aic).all() and empty.best("aic")[0] == -1
    # one token multiplier: D = 20 N, the two terms of chinchilla_tied are collinear; a
    # singular fit (-2) as fit() says, not "bad input" (-3) from a NaN batched start
    N = np.logspace(7, 10, 10)
    D = 20 * N
    L = 1.7 + 400 * N ** -0.3 + 900 * D ** -0.3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = scalingfit.fit_batch("chinchilla_tied", (N, D), L, [0, 10])
        single = scalingfit.fit("chinchilla_tied", (N, D), L)
    assert b.status[0] != -3 and np.isfinite(b.x[0]).all()
    assert (b.status[0] > 0) == single.success


def test_cli_group_by_keeps_tuples_apart_and_refuses_blank_cells(tmp_path, capsys) -> None:
    N, L, off = _sweeps(2, seed=4)
    n0 = off[1]
    rows = [("a/b", "c") if i < n0 else ("a", "b/c") for i in range(N.size)]
    f = tmp_path / "g.csv"
    f.write_text("k1,k2,N,loss\n" + "".join(f"{k1},{k2},{a:.17g},{b:.17g}\n"
                                             for (k1, k2), a, b in zip(rows, N, L)))
    argv = ["compare", str(f), "--models", "power_law,saturating_power_law", "--x", "N", "--y", "loss"]
    assert main([*argv, "--group-by", "k1,k2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [g["group"] for g in out["groups"]] == [["a/b", "c"], ["a", "b/c"]]
    assert [g["n_points"] for g in out["groups"]] == [n0, N.size - n0]
    f.write_text("k1,N,loss\n" + "".join(f"{'' if i == 3 else 's'},{a:.17g},{b:.17g}\n"
                                         for i, (a, b) in enumerate(zip(N, L))))
    assert main([*argv, "--group-by", "k1"]) == 1
    assert "row 3 (line 5): empty group label" in capsys.readouterr().err
    assert main([*argv, "--group-by", "k1", "--loss", "huber", "--no-loo"]) == 2
    assert "nothing to score" in capsys.readouterr().err


def test_compare_batch_all_starts_unchanged_by_the_vectorised_guesses(monkeypatch: pytest.MonkeyPatch) -> None:
    """compare_batch(starts="all") takes each law's starts from its vectorised all-starts guess;
    with the per-problem loop of initial_guesses instead (the models without one), every fit
    and score is the same, bit for bit, bad problems included."""
    import dataclasses

    rng = np.random.default_rng(12)
    xs, ys = [], []
    for j in range(40):
        n = 3 if j == 7 else int(rng.integers(6, 30))
        N, D = 10 ** rng.uniform(7, 10, n), 10 ** rng.uniform(9, 12, n)
        y = (1.8 + 400 * N ** -0.34 + 900 * D ** -0.3) * np.exp(0.01 * rng.standard_normal(n))
        if j == 11:
            y[2] = np.nan
        if j == 13:
            y[:] = 2.0
        xs.append(np.column_stack([N, D]))
        ys.append(y)
    X, Y = np.vstack(xs), np.concatenate(ys)
    off = np.concatenate([[0], np.cumsum([len(y) for y in ys])])
    laws = ["chinchilla", "kaplan_nd", "chinchilla_tied", "chinchilla_lse"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = scalingfit.compare_batch(laws, X, Y, off, log_residuals=True)
        for lab in laws:
            m = scalingfit.models.get(lab)
            assert m.batch_guesses is not None
            monkeypatch.setitem(scalingfit.models._REGISTRY, lab, dataclasses.replace(m, batch_guesses=None))
        loop = scalingfit.compare_batch(laws, X, Y, off, log_residuals=True)
    for a, b in zip(fast.fits, loop.fits):
        assert np.array_equal(a.x, b.x, equal_nan=True) and np.array_equal(a.status, b.status)
        assert np.array_equal(a.cost, b.cost, equal_nan=True)
    for k in ("rss", "aic", "aicc", "bic"):
        assert np.array_equal(getattr(fast, k), getattr(loop, k), equal_nan=True), k
    assert list(np.flatnonzero(fast.fits[0].status == -3)) == [7, 11]  # 3 points for 5 parameters; a NaN
