"""Degenerate inputs found by an audit: each was a silently wrong number, an arbitrary
"converged" fit or a raw numpy/Python error; each is now a right answer, a NaN with a named
warning, or an error naming the argument."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scalingfit as sf
from scalingfit import chinchilla as ch
from scalingfit import emergence as em
from scalingfit import kaplan, models, uncertainty
from scalingfit import testtime as tt
from scalingfit._warnings import DataWarning, IdentifiabilityWarning

P_CH = [1.69, 406.4, 410.7, 0.34, 0.28]
N3 = np.array([1e8, 4e8, 2e9])
D3 = np.array([5e9, 3e10, 7e10])


# ------------------------------------------------------------------ 1. Model.predict / jacobian
def test_model_predict_reads_an_N_D_tuple_as_columns() -> None:
    """The (N, D) tuple was flattened and re-paired: [4.067 2.760 2.179] for [3.255 2.652 2.347]."""
    m = models.get("chinchilla")
    truth = 1.69 + 406.4 / N3**0.34 + 410.7 / D3**0.28
    np.testing.assert_allclose(m.predict(P_CH, (N3, D3)), truth, rtol=1e-12)
    np.testing.assert_allclose(m.predict(P_CH, [N3, D3]), truth, rtol=1e-12)
    np.testing.assert_array_equal(m.jacobian(P_CH, (N3, D3)), m.jacobian(P_CH, np.column_stack([N3, D3])))
    assert m.jacobian(P_CH, (N3, D3)).shape == (3, 5)


def test_model_predict_refuses_ambiguous_and_non_positive_inputs() -> None:
    m = models.get("chinchilla")
    for flat in (np.array([1e8, 4e8, 2e9, 1e9]), np.array([1e8, 4e8, 2e9, 1e9, 3e9, 3e10])):  # were read as pairs
        with pytest.raises(ValueError, match=r"x must have shape \(n, 2\) for model 'chinchilla'"):
            m.predict(P_CH, flat)
        with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
            m.jacobian(P_CH, flat)
    with pytest.raises(ValueError, match=r"x must be > 0 .*row 1 \(column N\): -1.0"):
        m.predict(P_CH, (np.array([1e8, -1.0]), np.array([1e9, 1e9])))
    with pytest.raises(ValueError, match="params must have 5 entries"):
        m.jacobian([1.0, 2.0], (N3, D3))
    p = models.get("power_law")
    assert p.predict([1.0, 0.5], 4.0).tolist() == [0.5]  # a number is one point of a 1-input law
    out = p.predict([1.0, 0.5], [4.0, np.nan])
    assert out[0] == 0.5 and np.isnan(out[1])  # NaN in, NaN out
    with pytest.raises(ValueError, match="x must be > 0"):
        p.predict([1.0, 0.5], 0.0)  # was inf


def test_custom_model_predict_reads_a_tuple_as_columns() -> None:
    from scalingfit._custom import CustomModel

    c = CustomModel(lambda x, p: p[:, 0] * x[:, 0] + p[:, 1] * x[:, 1], ("a", "b"), n_inputs=2)
    np.testing.assert_allclose(c.predict(np.array([1.0, 2.0]), (np.array([1.0, 3.0]), np.array([10.0, 20.0]))),
                               [21.0, 43.0])
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        c.predict(np.array([1.0, 2.0]), np.array([1.0, 3.0, 10.0, 20.0]))


def test_lawfit_and_fit_objects_refuse_non_positive_inputs() -> None:
    """LawFit.predict(-5) was NaN and predict(0) inf (a sigmoid's NaN and its floor) with
    numpy's RuntimeWarnings, where plots refuse such inputs."""
    N = np.logspace(7, 10, 8)
    fit = kaplan.fit_power_law(N, 1.7 * (1e13 / N) ** 0.076)
    for bad in (-5.0, 0.0, [1e9, 0.0]):
        with pytest.raises(ValueError, match="x must be > 0"):
            fit.predict(bad)
        with pytest.raises(ValueError, match="x must be > 0"):
            fit.law.band(bad)
    x = np.logspace(7, 11, 9)
    s, = em.fit_sigmoids([x], [0.25 + 0.5 / (1 + (3e9 / x) ** 2.0)])
    for bad in (-5.0, 0.0):
        with pytest.raises(ValueError, match=r"x must be > 0 \(the sigmoid is in log x\)"):
            s.predict(bad)
        with pytest.raises(ValueError, match="x must be > 0"):
            s.band(bad)
    k = np.arange(1, 101)
    cov, = tt.fit_coverage([k], [np.exp(-2.0 * k ** -0.4)])
    for bad in (-5.0, 0.0):
        with pytest.raises(ValueError, match="x must be > 0"):
            cov.predict(bad)
        with pytest.raises(ValueError, match="x must be > 0"):
            cov.band(bad)


# ------------------------------------------------------------------ 2. fit_envelope
def _runs(sizes: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    D = np.logspace(9, 11.5, 25)
    N = np.repeat(sizes, D.size)
    Dr = np.tile(D, len(sizes))
    return N, Dr, ch.HOFFMANN_2022.loss(N, Dr)


def test_envelope_needs_two_distinct_winning_sizes() -> None:
    """With 3 runs only the middle one can win strictly inside the sizes: a = -0.0000 always."""
    with pytest.raises(ValueError, match="at least 2 distinct compute-optimal sizes"):
        ch.fit_envelope(*_runs([1e8, 3e8, 1e9]))
    with pytest.warns(IdentifiabilityWarning, match="rests on only 2 distinct compute-optimal sizes"):
        e = ch.fit_envelope(*_runs([1e8, 3e8, 1e9, 3e9]))
    assert e.a > 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ch.fit_envelope(*_runs([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9]))


# ------------------------------------------------------------------ 3. Parquet with repeated names
def test_parquet_with_a_repeated_column_is_refused(tmp_path: Path) -> None:
    """refit fitted the first 'value' (DuckDB renames the second value_1); read_runs raised
    pyarrow's 'Multiple matches for FieldRef' wrapped."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("duckdb")
    from scalingfit import data
    from scalingfit import refit as rf

    N = np.repeat([1e7, 1e8, 1e9], 4)
    D = np.tile([1e9, 3e9, 1e10, 3e10], 3)
    value = ch.HOFFMANN_2022.loss(N, D)
    table = pa.table([pa.array(["s0"] * N.size), pa.array(N), pa.array(D), pa.array(["loss"] * N.size),
                      pa.array(2 * value), pa.array(value)],
                     names=["sweep", "N", "D", "metric", "value", "value"])
    path = tmp_path / "two.parquet"
    pq.write_table(table, path)
    db = tmp_path / "o.duckdb"
    with pytest.raises(data.RunDataError, match="two.parquet: its schema has more than one column named 'value'"):
        rf.refit(path, db=db, progress=False)
    assert not db.exists() and not Path(f"{db}.lock").exists()
    with pytest.raises(data.RunDataError, match="more than one column named 'value'"):
        data.read_runs(path)


# ------------------------------------------------------------------ 4. masked arrays
def test_masked_arrays_are_refused_by_name() -> None:
    """np.asarray drops the mask: the masked-out point was fitted."""
    N = np.logspace(7, 10, 8)
    y = 1.7 + 400 * N**-0.34
    mask = [0, 0, 1, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="y is a masked array with 1 masked value"):
        sf.fit("saturating_power_law", N, np.ma.array(y, mask=mask))
    with pytest.raises(ValueError, match="x is a masked array"):
        sf.fit("saturating_power_law", np.ma.array(N, mask=mask), y)
    with pytest.raises(ValueError, match="weights is a masked array"):
        sf.fit("saturating_power_law", N, y, weights=np.ma.array(np.ones(8), mask=mask))
    with pytest.raises(ValueError, match=r"x\[0\] is a masked array"):
        sf.fit("chinchilla", (np.ma.array(N, mask=mask), 20 * N), y)
    with pytest.raises(ValueError, match="masked array"):
        kaplan.fit_power_law(N, np.ma.array(y, mask=mask))
    with pytest.raises(ValueError, match="C is a masked array"):
        sf.allocation.optimal_allocation(np.ma.array([1e20, 1e21], mask=[0, 1]), ch.HOFFMANN_2022)
    # nothing masked: nothing lost
    np.testing.assert_allclose(sf.fit("saturating_power_law", N, np.ma.array(y)).x,
                               sf.fit("saturating_power_law", N, y).x)


# ------------------------------------------------------------------ 5. flat sigmoids
@pytest.mark.parametrize("level", [0.0, 1.0, 0.25])
def test_a_flat_metric_has_no_sigmoid_slope_or_midpoint(level: float) -> None:
    """A metric all 0 (or 1, or at chance) "converged" (status 3) with an arbitrary k and x0,
    and intervals that did not hold them."""
    N = np.logspace(7, 10, 8)
    with pytest.warns(IdentifiabilityWarning, match="does not vary, so k and log_x0 are not identifiable"):
        fit, = em.fit_sigmoids([N], [np.full(8, level)], n_resamples=50)
    assert fit.law.status == -2 and not fit.law.success
    assert np.isnan(fit.k) and np.isnan(fit.x0)
    assert np.isnan(fit.interval("k")).all() and np.isnan(fit.interval("x0")).all()
    with pytest.warns(IdentifiabilityWarning, match="does not vary"):
        law, = tt.fit_accuracy_vs_compute([N], [np.full(8, level)], n_resamples=20)
    assert law.status == -2 and np.isnan(law.params["k"]) and np.isnan(law.params["log_x0"])
    assert np.isnan(law.interval("k")).all()


def test_a_varying_metric_is_untouched_beside_a_flat_one() -> None:
    x = np.logspace(7, 11, 9)
    acc = 0.25 + 0.5 / (1 + (3e9 / x) ** 2.0)
    with pytest.warns(IdentifiabilityWarning, match=r"ys\[1\] \(every value 0.25\) does not vary"):
        a, b = em.fit_sigmoids([x, x], [acc, np.full(9, 0.25)])
    assert a.law.status > 0 and a.k == pytest.approx(2.0, rel=1e-6)
    assert np.isnan(b.k)


# ------------------------------------------------------------------ 6. coverage from counts
def test_coverage_from_counts_refuses_degenerate_bootstraps() -> None:
    c = np.array([0, 3, 20, 5, 1, 0, 10])
    with pytest.raises(ValueError, match="n_resamples must be an integer >= 2"):
        tt.fit_coverage_from_counts(20, [c], [1, 2, 4, 8, 16], n_resamples=1)
    with pytest.raises(ValueError, match="c has 1 problem"):  # every replicate the same curve
        tt.fit_coverage_from_counts(20, [np.array([5])], [1, 2, 4, 8, 16], n_resamples=200)
    with pytest.raises(ValueError, match=r"c\[1\] has 2 problem\(s\): a bootstrap over problems needs at least 3"):
        tt.fit_coverage_from_counts(20, [c, np.array([5, 6])], [1, 2, 4, 8, 16], n_resamples=20)
    with pytest.raises(ValueError, match="ks must hold at least 2 distinct sample counts"):
        tt.fit_coverage_from_counts(20, [c], [2, 2], n_resamples=20)
    with pytest.warns(DataWarning, match="every replicate is the same curve"):
        fit, = tt.fit_coverage_from_counts(20, [np.array([5, 5, 5, 5])], [1, 2, 4, 8, 16], n_resamples=20)
    lo, hi = fit.interval("b")
    assert lo == hi == pytest.approx(fit.b)


def test_fit_coverage_needs_two_distinct_k() -> None:
    """Was "no usable start for any problem of power_law: pass p0"."""
    with pytest.raises(ValueError, match=r"xs\[0\] has only one distinct value \(1\).*at least 2 distinct values of k"):
        tt.fit_coverage([np.ones(5)], [np.full(5, 0.6)])


# ------------------------------------------------------------------ 7. sandwich with n <= p
@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
@pytest.mark.parametrize("n", [2, 3])
def test_sandwich_is_nan_without_residual_degrees_of_freedom(kind: str, n: int) -> None:
    """3 points, 3 parameters: stderr 3e-11 (an interpolating fit's zero residuals); 2 points:
    a non-symmetric 3x3."""
    N = np.logspace(7, 10, 8)
    y = ((1.7 + 400 * N**-0.34) * np.exp(0.03 * np.random.default_rng(1).standard_normal(8)))[:n]
    N = N[:n]
    p = [-0.31551422446996574, 28.830927117049363, 0.1270770291243413]  # the fit to the 3 points
    gn = uncertainty.gauss_newton_cov("saturating_power_law", N, y, p)
    cov = uncertainty.sandwich_cov("saturating_power_law", N, y, p, kind=kind)
    assert cov.shape == (3, 3) and np.isnan(cov).all() and np.isnan(gn).all()


def test_sandwich_with_one_more_point_than_parameters_is_finite() -> None:
    N = np.logspace(7, 10, 4)
    y = (1.7 + 400 * N**-0.34) * np.array([1.01, 0.99, 1.02, 0.98])
    cov = uncertainty.sandwich_cov("saturating_power_law", N, y, [1.7, 400.0, 0.34], kind="HC1")
    assert np.isfinite(cov).all()


# ------------------------------------------------------------------ 9. Kaplan constant loss
@pytest.mark.parametrize("irreducible", [False, True])
def test_kaplan_constant_loss_has_no_scale_constant(irreducible: bool) -> None:
    """alpha = -0, N_c = 0 with numpy's divide-by-zero RuntimeWarning (an error here)."""
    x = np.logspace(7, 10, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sf.ConvergenceWarning)  # irreducible: status -2 as well
        with pytest.warns(IdentifiabilityWarning, match="y does not vary .*N_c is NaN at alpha = 0"):
            fit = kaplan.fit_power_law(x, [3.0] * 5, irreducible=irreducible)
    assert fit.alpha == 0 and np.isnan(fit.x_c)
    assert "nan" in repr(fit)
    with pytest.warns(IdentifiabilityWarning, match=r"losses\[1\] does not vary"):
        a, b = kaplan.fit_power_laws([x, x], [kaplan.loss_N(x), [2.0] * 5], n_resamples=20)
    assert a.x_c == pytest.approx(kaplan.KAPLAN_2020.N_c, rel=1e-6) and np.isnan(b.x_c)
    assert np.isnan(b.interval("x_c")).all()


# ------------------------------------------------------------------ 10. numbers named
def test_window_and_huge_integers_are_named() -> None:
    for bad in (float("nan"), float("inf")):  # "cannot convert float NaN to integer", OverflowError
        with pytest.raises(ValueError, match=r"n \(the window\) must be an integer >= 1"):
            em.moving_average([1.0, 2.0], bad)
    with pytest.raises(ValueError, match="C must be finite and > 0, got an integer too large for a float"):
        sf.allocation.optimal_allocation(10**400, ch.HOFFMANN_2022)
    with pytest.raises(ValueError, match="C must be finite and > 0, got an integer too large"):
        sf.allocation.optimal_allocation([1e20, 10**400], ch.HOFFMANN_2022)
    with pytest.raises(ValueError, match="^x must be numeric within float64's range"):
        sf.fit("power_law", [1, 2, 3, 10**400], [1.0, 2.0, 3.0, 4.0])


# ------------------------------------------------------------------ review of the fixes above
def test_predict_curve_is_nan_where_the_law_is_undefined() -> None:
    """A checkpoint at step 0 (kept, never fitted) made predict_curve raise once Model.predict
    refused x <= 0 (before that: inf); now NaN there, the fitted law elsewhere."""
    from scalingfit import curves

    rng = np.random.default_rng(0)
    cv = []
    for i in range(3):
        step = np.arange(0, 10001, 100.0)
        tokens = step * 1e6
        loss = 2.0 + 30 * np.maximum(tokens, 1e6) ** -0.15 * (1 + 0.003 * rng.standard_normal(step.size))
        cv.append(curves.Curve(name=f"r{i}", step=step, tokens=tokens, loss=loss))
    pred = curves.predict_final_loss(cv, fraction=0.5, method="power_law")
    out = pred.predict_curve(cv[0], 0)
    assert np.isnan(out[0]) and np.isfinite(out[1:]).all()
    np.testing.assert_allclose(out[1:], pred.fits[0].predict(cv[0].tokens[1:]), rtol=0)


def test_the_uncertainty_note_is_not_a_process_wide_filter() -> None:
    """bootstrap() left the UncertaintyWarning out of its point fit with warnings.catch_warnings,
    which swaps the process-wide filter list: threads running it at once left it 'ignore'."""
    import threading
    import warnings

    from scalingfit import UncertaintyWarning

    N = np.repeat(np.logspace(7, 9, 6), 5)
    D = N * np.tile([5.0, 10.0, 20.0, 40.0, 80.0], 6)
    truth = [np.log(406.4), np.log(410.7), np.log(1.69), 0.34, 0.28]
    y = sf.models.get("chinchilla_lse").predict(truth, (N, D))
    y = y * np.exp(0.01 * np.random.default_rng(2).standard_normal(N.size))
    kw = dict(loss="huber", f_scale=1e-3, log_residuals=True)
    before = list(warnings.filters)

    def run() -> None:
        for _ in range(3):
            sf.bootstrap("chinchilla_lse", (N, D), y, n_resamples=10, method="percentile", **kw)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert list(warnings.filters) == before
    with pytest.warns(UncertaintyWarning):
        sf.fit("chinchilla_lse", (N, D), y, **kw)


def test_one_point_of_a_law_of_two_inputs() -> None:
    """predict(p, [N, D]) was one point before the (N, D)-tuple fix, and is again (the
    bootstrap's predicted_value reads it so); longer flat arrays stay refused."""
    m = sf.models.get("chinchilla")
    p = [1.69, 406.4, 410.7, 0.34, 0.28]
    want = 1.69 + 406.4 * 1e9**-0.34 + 410.7 * 2e10**-0.28
    for x in ([1e9, 2e10], (1e9, 2e10), np.array([1e9, 2e10])):
        np.testing.assert_allclose(m.predict(p, x), [want], rtol=1e-13)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        m.predict(p, [1e9, 2e10, 3e9, 4e10])


def test_cluster_covariance_reductions_are_plain() -> None:
    """C.max() was a 0-d ClusterCovariance (json.dumps failed); arithmetic kept a dof that
    no longer belonged to it."""
    import json

    from scalingfit import uncertainty

    N = np.repeat(np.logspace(7, 9, 10), 3)
    y = (1.7 + 400 * N**-0.34) * (1 + 0.01 * np.random.default_rng(0).standard_normal(N.size))
    r = sf.fit("saturating_power_law", N, y)
    C = uncertainty.sandwich_cov("saturating_power_law", N, y, r, kind="HC1", groups=np.repeat(np.arange(10), 3))
    assert C.dof == 9 and C.copy().dof == 9 and C.T.dof == 9
    json.dumps(C.max())
    assert type(C.max()) is np.float64 and type(2 * C) is np.ndarray and type(np.sqrt(np.diag(C))) is np.ndarray
