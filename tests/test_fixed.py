"""Parameters held at a value (``fixed=``, or equal bounds): the free ones must be the fit of
the reduced model, with its covariance and degrees of freedom.

References are independent of the solver: with the exponent of ``E + A x^-alpha`` held, the
law is linear in (E, A), so ordinary least squares (numpy's lstsq) gives the exact solution,
covariance, hat matrix, t intervals and every bootstrap replicate; for Chinchilla with E held,
scipy's curve_fit of the 4-parameter law.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scalingfit
from scalingfit import _core, uncertainty
from scalingfit.cli import main

ALPHA = 0.3


def _data(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 10 ** rng.uniform(6, 10, n)
    y = (2.0 + 50.0 * x**-ALPHA) * (1 + 0.01 * rng.standard_normal(n))
    return x, y


def _ols(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E, A), their covariance s^2 (X'WX)^-1 with s^2 = RSS / (n - 2), and the hat diagonal."""
    X = np.column_stack([np.ones_like(x), x**-ALPHA])
    w = np.ones_like(y) if w is None else w
    sw = np.sqrt(w)
    beta = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    r = y - X @ beta
    n_eff = int(np.sum(w > 0))
    s2 = np.sum(w * r * r) / (n_eff - 2)
    XtWX_inv = np.linalg.inv(X.T @ (w[:, None] * X))
    hat = w * np.einsum("ia,ab,ib->i", X, XtWX_inv, X)
    return beta, s2 * XtWX_inv, hat


def test_fixed_exponent_is_the_least_squares_fit_of_the_rest() -> None:
    x, y = _data()
    r = scalingfit.fit("saturating_power_law", x, y, fixed={"alpha": ALPHA})
    beta, cov, _ = _ols(x, y)
    assert r.success and r.fixed == ("alpha",)
    assert r.params["alpha"] == ALPHA
    np.testing.assert_allclose(r.x[:2], beta, rtol=1e-9)
    np.testing.assert_allclose(r.cov[:2, :2], cov, rtol=1e-6)  # dof n - 2, not n - 3
    assert np.all(r.cov[2] == 0) and np.all(r.cov[:, 2] == 0)
    assert r.stderr[2] == 0
    assert "(fixed)" in repr(r).splitlines()[-1]


def test_equal_bounds_fix_a_parameter_the_same_way() -> None:
    x, y = _data()
    a = scalingfit.fit("saturating_power_law", x, y, fixed={"alpha": ALPHA})
    b = scalingfit.fit("saturating_power_law", x, y, bounds={"alpha": (ALPHA, ALPHA)})
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.cov, b.cov)
    assert b.fixed == ("alpha",)


def test_a_bound_that_excludes_the_data_driven_guess_clips_it_instead_of_failing() -> None:
    """Before: the guess (alpha ~ 0.36 on these data) outside [0.2, 0.32] was 'bad input'."""
    x, y = _data()
    r = scalingfit.fit("saturating_power_law", x, y, bounds={"alpha": (0.2, 0.32)})
    assert r.success and 0.2 <= r.params["alpha"] <= 0.32


def test_starts_take_the_fixed_value() -> None:
    x, y = _data()
    beta, _, _ = _ols(x, y)
    r1 = scalingfit.fit("saturating_power_law", x, y, p0=[1.0, 10.0, 0.9], fixed={"alpha": ALPHA})
    r2 = scalingfit.fit("saturating_power_law", x, y, p0={"E": 1.0, "A": 10.0}, fixed={"alpha": ALPHA})
    for r in (r1, r2):
        assert r.params["alpha"] == ALPHA
        np.testing.assert_allclose(r.x[:2], beta, rtol=1e-9)
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['A'\]"):
        scalingfit.fit("saturating_power_law", x, y, p0={"E": 1.0}, fixed={"alpha": ALPHA})


def test_chinchilla_with_the_irreducible_loss_held_matches_scipy() -> None:
    curve_fit = pytest.importorskip("scipy.optimize").curve_fit
    rng = np.random.default_rng(3)
    N = 10 ** rng.uniform(7.5, 10.5, 120)
    D = 10 ** rng.uniform(9.5, 12.0, 120)
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * (1 + 0.01 * rng.standard_normal(120))
    E = 1.7
    r = scalingfit.fit("chinchilla", (N, D), L, fixed={"E": E})
    names = list(r.param_names)
    assert r.success and r.params["E"] == E

    def law(X: np.ndarray, A: float, B: float, alpha: float, beta: float) -> np.ndarray:
        return E + A / X[0] ** alpha + B / X[1] ** beta

    free = [n for n in names if n != "E"]
    p_ref, c_ref = curve_fit(law, np.vstack([N, D]), L, p0=[r.params[n] for n in free],
                             method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, maxfev=100_000)
    idx = [names.index(n) for n in free]
    np.testing.assert_allclose(r.x[idx], p_ref, rtol=1e-6)
    np.testing.assert_allclose(r.stderr[idx], np.sqrt(np.diag(c_ref)), rtol=1e-4)


def test_fit_batch_holds_the_value_in_every_problem() -> None:
    xs, ys = zip(*(_data(n=12 + 5 * j, seed=j) for j in range(5)))
    x, y = np.concatenate(xs), np.concatenate(ys)
    off = np.concatenate([[0], np.cumsum([len(v) for v in ys])])
    res = scalingfit.fit_batch("saturating_power_law", x, y, off, fixed={"alpha": ALPHA})
    assert res.success.all()
    for j in range(5):
        beta, cov, _ = _ols(xs[j], ys[j])
        np.testing.assert_allclose(res.x[j, :2], beta, rtol=1e-9)
        np.testing.assert_allclose(res.cov[j, :2, :2], cov, rtol=1e-6)
        assert res.x[j, 2] == ALPHA and np.all(res.cov[j, 2] == 0)


def test_custom_models_honour_fixed_parameters() -> None:
    def f(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2]

    def jac(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        t = x[:, 0] ** -p[:, 2]
        return np.column_stack([np.ones_like(t), t, -p[:, 1] * t * np.log(x[:, 0])])

    m = scalingfit.CustomModel(f, ("E", "A", "alpha"), jac=jac, name="sat")
    x, y = _data()
    r = scalingfit.fit(m, x, y, p0=[1.0, 10.0, 0.0], fixed={"alpha": ALPHA})
    beta, cov, _ = _ols(x, y)
    assert r.success
    np.testing.assert_allclose(r.x[:2], beta, rtol=1e-9)
    np.testing.assert_allclose(r.cov[:2, :2], cov, rtol=1e-6)
    assert np.all(r.cov[2] == 0)


def test_bootstrap_replicates_are_least_squares_on_the_resamples() -> None:
    """Every points-scheme replicate is the OLS fit of its resample (the multiplicities as
    weights, regenerated from the same Philox stream); alpha's interval is the point itself."""
    x, y = _data(n=25, seed=1)
    b = scalingfit.bootstrap("saturating_power_law", x, y, fixed={"alpha": ALPHA}, n_resamples=64,
                             seed=5, method="percentile")
    counts = _core.resample_multiplicities(0, 5, 0, np.arange(64, dtype=np.int64), 25, None, 0, 1)
    samples = b.samples
    assert np.all(samples[:, 2] == ALPHA)
    for k in range(64):
        beta, _, _ = _ols(x, y, counts[k].astype(float))
        np.testing.assert_allclose(samples[k, :2], beta, rtol=1e-8)
    assert b.ci("alpha") == (ALPHA, ALPHA)
    bca = scalingfit.bootstrap("saturating_power_law", x, y, fixed={"alpha": ALPHA},
                               n_resamples=64, seed=5)
    assert bca.ci("alpha") == (ALPHA, ALPHA)
    lo, hi = bca.ci("E")
    assert lo < bca.fit.params["E"] < hi


def test_residual_bootstrap_leverages_count_only_the_free_parameters() -> None:
    """Wild scheme: resid_i = e_i / sqrt(1 - h_i) with h the hat matrix of the (E, A) design."""
    x, y = _data(n=20, seed=2)
    m = scalingfit.models.get("saturating_power_law")
    beta, _, hat = _ols(x, y)
    center = np.array([[beta[0], beta[1], ALPHA]])
    lo = np.array([-np.inf, -np.inf, ALPHA])
    hi = np.array([np.inf, np.inf, ALPHA])
    x2 = np.ascontiguousarray(x.reshape(-1, 1))
    off = np.array([0, 20], dtype=np.int64)
    _, resid, ok = _core.prepare_residuals(m.index, 4, x2, y, None, off, center, False, lo, hi)
    e = y - (beta[0] + beta[1] * x**-ALPHA)
    assert ok[0]
    np.testing.assert_allclose(resid, e / np.sqrt(1 - hat), rtol=1e-8)
    _, resid3, _ = _core.prepare_residuals(m.index, 4, x2, y, None, off, center, False)
    assert not np.allclose(resid3, resid)  # with alpha free its column adds leverage


def test_profile_and_wald_intervals_use_the_free_parameters_dof() -> None:
    """With alpha held the law is linear: the profile-t interval of E is the exact t interval
    with n - 2 degrees of freedom, and so is the Wald interval."""
    stats = pytest.importorskip("scipy.stats")
    x, y = _data(n=15, seed=4)
    beta, cov, _ = _ols(x, y)
    t = stats.t.ppf(0.975, 15 - 2)
    exact = (beta[0] - t * np.sqrt(cov[0, 0]), beta[0] + t * np.sqrt(cov[0, 0]))
    pr = uncertainty.profile_interval("saturating_power_law", x, y, "E", fixed={"alpha": ALPHA})
    np.testing.assert_allclose([pr.lower, pr.upper], exact, rtol=1e-6)
    r = scalingfit.fit("saturating_power_law", x, y, fixed={"alpha": ALPHA})
    np.testing.assert_allclose(uncertainty.wald_intervals(r)["E"], exact, rtol=1e-6)
    with pytest.raises(ValueError, match="alpha is fixed at 0.3"):
        uncertainty.profile_interval("saturating_power_law", x, y, "alpha", fixed={"alpha": ALPHA})


@pytest.mark.parametrize(
    ("fixed", "match"),
    [
        ({"gamma": 1.0}, "fixed names unknown parameter 'gamma'; saturating_power_law has E, A, alpha"),
        ({"alpha": float("nan")}, "fixed value of alpha must be finite"),
        ({"alpha": "x"}, "fixed value of alpha must be a number, got 'x'"),
        ({"E": 1.0, "A": 2.0, "alpha": 0.3}, "every parameter of saturating_power_law is fixed"),
    ],
)
def test_bad_fixed_values_are_named(fixed: object, match: str) -> None:
    x, y = _data()
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
        scalingfit.fit("saturating_power_law", x, y, fixed=fixed)  # type: ignore[arg-type]


def test_fixed_must_be_a_mapping() -> None:
    x, y = _data()
    with pytest.raises(TypeError, match="fixed must be a {name: value} dict, got list"):
        scalingfit.fit("saturating_power_law", x, y, fixed=[("alpha", 0.3)])  # type: ignore[arg-type]


def test_a_fixed_value_outside_the_bounds_is_refused() -> None:
    x, y = _data()
    with pytest.raises(ValueError, match=r"fixed value of alpha, -0.5, is outside its bounds \[0.0, 0.5\]"):
        scalingfit.fit("saturating_power_law", x, y, bounds={"alpha": (0.0, 0.5)}, fixed={"alpha": -0.5})


def test_fewer_points_suffice_when_parameters_are_fixed() -> None:
    """Two points determine (E, A) with alpha held; three free parameters would need three."""
    x = np.array([1e7, 1e9])
    y = 2.0 + 50.0 * x**-ALPHA
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n = p: no degree of freedom for a covariance
        r = scalingfit.fit("saturating_power_law", x, y, p0=[1.0, 10.0, ALPHA], fixed={"alpha": ALPHA})
    np.testing.assert_allclose(r.x[:2], [2.0, 50.0], rtol=1e-8)
    with pytest.raises(ValueError, match="need at least 3 points"):
        scalingfit.fit("saturating_power_law", x, y)


def test_cli_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x, y = _data()
    f = tmp_path / "runs.csv"
    f.write_text("N,loss\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)))
    assert main(["fit", str(f), "--model", "saturating_power_law", "--x", "N", "--y", "loss",
                 "--fix", f"alpha={ALPHA}", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    beta, cov, _ = _ols(x, y)
    assert out["fixed"] == ["alpha"] and out["params"]["alpha"] == ALPHA
    np.testing.assert_allclose([out["params"]["E"], out["params"]["A"]], beta, rtol=1e-9)
    np.testing.assert_allclose(out["stderr"]["E"], np.sqrt(cov[0, 0]), rtol=1e-6)
    assert main(["fit", str(f), "--model", "saturating_power_law", "--x", "N", "--y", "loss",
                 "--fix", "alpha"]) != 0
    assert "--fix: expected name=value pairs" in capsys.readouterr().err


def test_covariances_of_a_fit_with_fixed_parameters_are_over_the_free_ones() -> None:
    """gauss_newton_cov of the FitResult is its cov; sandwich_cov (HC0) is OLS's closed-form
    (X'X)^-1 X' diag(e^2) X (X'X)^-1 of the (E, A) design; the fixed row and column are 0."""
    x, y = _data(n=40, seed=6)
    r = scalingfit.fit("saturating_power_law", x, y, fixed={"alpha": ALPHA})
    np.testing.assert_allclose(uncertainty.gauss_newton_cov("saturating_power_law", x, y, r), r.cov,
                               rtol=1e-6, atol=0)
    X = np.column_stack([np.ones_like(x), x**-ALPHA])
    e = y - X @ r.x[:2]
    bread = np.linalg.inv(X.T @ X)
    hc0 = bread @ (X.T * e**2) @ X @ bread
    got = uncertainty.sandwich_cov("saturating_power_law", x, y, r, kind="HC0")
    np.testing.assert_allclose(got[:2, :2], hc0, rtol=1e-6)
    assert np.all(got[2] == 0) and np.all(got[:, 2] == 0)
    hc1 = uncertainty.sandwich_cov("saturating_power_law", x, y, r, kind="HC1")
    np.testing.assert_allclose(hc1[:2, :2], hc0 * 40 / (40 - 2), rtol=1e-6)  # n / (n - p_free)


def test_cli_plot_bootstraps_with_the_parameter_held(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    x, y = _data()
    f = tmp_path / "runs.csv"
    f.write_text("N,loss\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)))
    out = tmp_path / "fit.png"
    assert main(["plot", str(f), "--model", "saturating_power_law", "--x", "N", "--y", "loss",
                 "--fix", f"alpha={ALPHA}", "--bootstrap", "50", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.stat().st_size > 0
    assert "(fixed)" in printed and "alpha" in printed


def test_fit_batch_guesses_problems_with_as_few_points_as_free_parameters() -> None:
    """Two points per problem determine (E, A) with alpha held: the data-driven starts no
    longer need three (before: such problems got status -3 without p0)."""
    x = np.tile([1e7, 1e9], 4)
    E = np.repeat([1.7, 1.8, 1.9, 2.0], 2)
    y = E + 50.0 * x**-ALPHA
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scalingfit.fit_batch("saturating_power_law", x, y, [0, 2, 4, 6, 8], fixed={"alpha": ALPHA})
    assert (res.status > 0).all(), res.status
    np.testing.assert_allclose(res.x[:, 0], [1.7, 1.8, 1.9, 2.0], rtol=1e-8)
    np.testing.assert_allclose(res.x[:, 1], 50.0, rtol=1e-7)
