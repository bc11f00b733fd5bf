"""Bad input found by an audit of the public API (stop 24): each case used to pass silently,
return a plausible wrong number, or leak an unrelated exception (IndexError, KeyError,
ZeroDivisionError, LinAlgError, numpy's broadcast message). Each now raises naming the
argument, or, in bulk mode, reports a per-item status with NaN results."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import chinchilla as ch
from scalingfit import emergence as em
from scalingfit import planning as P
from scalingfit import uncertainty as un
from scalingfit.bootstrap import bootstrap, bootstrap_batch, chinchilla_derived

M = "saturating_power_law"
N = np.logspace(7, 10, 8)
Y = (1.7 + 400 * N**-0.34) * (1 + 0.01 * np.random.default_rng(0).standard_normal(8))
N2, Y2 = np.r_[N, N], np.r_[Y, Y]
OFF = np.array([0, 8, 16])


# ------------------------------------------------------------------ failed items are NaN
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(weights=np.where(np.arange(16) == 3, np.nan, 1.0)),  # NaN weight in problem 0
        dict(weights=np.where(np.arange(16) < 8, 0.0, 1.0)),  # problem 0 has no weight at all
        dict(weights=np.where(np.arange(16) == 2, -1.0, 1.0)),
    ],
)
def test_an_unusable_problem_gets_status_minus_3_and_nan_parameters(kwargs: dict) -> None:
    """Problem 0 could not be started: it used to return its start vector, a believable fit."""
    r = scalingfit.fit_batch(M, N2, Y2, OFF, **kwargs)
    assert r.status[0] == -3 and np.isnan(r.x[0]).all() and np.isnan(r.cost[0])
    good = scalingfit.fit(M, N, Y)
    assert r.status[1] > 0
    np.testing.assert_allclose(r.x[1], good.x, rtol=1e-9)


def test_log_residuals_of_a_problem_with_a_non_positive_target_is_nan() -> None:
    y = Y2.copy()
    y[12] = -1.0
    r = scalingfit.fit_batch(M, N2, y, OFF, log_residuals=True)
    assert r.status[1] == -3 and np.isnan(r.x[1]).all()
    assert r.status[0] > 0 and np.isfinite(r.x[0]).all()


# ------------------------------------------------------------------ starts, bounds, options
def test_a_start_dict_with_an_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"p0 names unknown parameter\(s\) \['Alpha'\]; saturating_power_law has E, A, alpha"):
        scalingfit.fit(M, N, Y, p0={"E": 1.0, "A": 100.0, "alpha": 0.3, "Alpha": 0.9})


def test_fit_batch_takes_the_start_dict_fit_takes() -> None:
    p0 = {"E": 1.5, "A": 300.0, "alpha": 0.3}
    a = scalingfit.fit_batch(M, N2, Y2, OFF, p0=p0)
    b = scalingfit.fit_batch(M, N2, Y2, OFF, p0=[1.5, 300.0, 0.3])
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(ValueError, match=r"p0 must have 3 entries \(E, A, alpha\) per start, got shape \(2,\)"):
        scalingfit.fit_batch(M, N2, Y2, OFF, p0=[1.0, 2.0])


@pytest.mark.parametrize(
    "bounds, match",
    [
        ({"E": (1.0,)}, r"bounds\['E'\] must be a \(lower, upper\) pair of numbers, got \(1.0,\)"),
        ({"E": 1.0}, r"bounds\['E'\] must be a \(lower, upper\) pair of numbers, got 1.0"),
        ({"E": (0, 1, 2)}, r"bounds\['E'\] must be a \(lower, upper\) pair"),
        ({"E": ("a", "b")}, r"bounds\['E'\] must be a \(lower, upper\) pair"),
        ({"A": (np.nan, 1e3)}, r"bounds: lower bound of A is NaN"),
        (([0.0, 0.0, np.nan], np.inf), r"bounds\[0\] \(lower\) bound of alpha \(index 2\) is NaN"),
        ((-np.inf, [np.inf, np.nan, np.inf]), r"bounds\[1\] \(upper\) bound of A \(index 1\) is NaN"),
        (([0, 0], [1, 1]), r"bounds\[0\] \(lower\) must be one number \(for every parameter\) or 3 values, one per parameter \(E, A, alpha\); got 2 value"),
    ],
)
def test_malformed_bounds_are_named(bounds: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        scalingfit.fit(M, N, Y, bounds=bounds)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(max_iter=None), ValueError, r"max_iter must be an integer >= 0, got None"),
        (dict(max_iter=float("nan")), ValueError, r"max_iter must be an integer >= 0, got nan"),
        (dict(max_iter=2**40), ValueError, r"max_iter must be at most 2147483647"),
        (dict(max_iter=2.5), ValueError, r"max_iter must be an integer >= 0, got 2.5"),
        (dict(threads=10**5), ValueError, r"threads must be at most 4096, got 100000"),
        (dict(threads=float("nan")), ValueError, r"threads must be a positive integer, got nan"),
        (dict(threads=True), ValueError, r"threads must be a positive integer, got True"),
        (dict(f_scale="1e-3"), ValueError, r"f_scale must be positive and finite, got '1e-3'"),
        (dict(f_scale=np.array([1.0, 2.0])), ValueError, r"f_scale must be positive and finite"),
        (dict(ftol=None), ValueError, r"ftol must be finite and >= 0, got None"),
        (dict(gtol="x"), TypeError, r"gtol must be a number, got str 'x'"),
        (dict(log_residuals="no"), TypeError, r"log_residuals must be True or False, got 'no'"),
        (dict(starts=np.empty((0, 3))), ValueError, r"starts holds no start"),
    ],
)
def test_solver_options_are_checked_and_named(kwargs: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        scalingfit.fit(M, N, Y, **kwargs)


def test_integral_floats_still_count_as_integers() -> None:
    a = scalingfit.fit(M, N, Y, max_iter=200.0, threads=1.0)
    b = scalingfit.fit(M, N, Y, max_iter=200, threads=1)
    np.testing.assert_array_equal(a.x, b.x)


def test_more_threads_than_items_give_the_same_result() -> None:
    """threads is clamped to the number of items (was: a pool of that many threads)."""
    starts = np.tile([1.5, 300.0, 0.3], (5, 1)) * np.linspace(0.9, 1.1, 5)[:, None]
    a = scalingfit.fit(M, N, Y, starts=starts, threads=4096)
    b = scalingfit.fit(M, N, Y, starts=starts, threads=1)
    np.testing.assert_array_equal(a.x, b.x)


def test_problem_indices_must_be_integers() -> None:
    p0 = np.tile([1.5, 300.0, 0.3], (3, 1))
    with pytest.raises(TypeError, match=r"problem must hold integer problem indices, got dtype float64"):
        scalingfit.fit_batch(M, N2, Y2, OFF, p0=p0, problem=[0.9, 1.5, 1.0])
    with pytest.raises(TypeError, match=r"got dtype bool"):
        scalingfit.fit_batch(M, N2, Y2, OFF, p0=p0, problem=[True, False, True])


def test_a_square_list_of_lists_is_ambiguous() -> None:
    """Two points of (N, D) as a list of rows were read as the columns N and D."""
    fixed = {"E": 1.69, "B": 410.7, "beta": 0.28}
    with pytest.raises(ValueError, match=r"x is ambiguous: a list of 2 lists of 2 numbers"):
        scalingfit.fit("chinchilla", [[1e8, 2e9], [2e8, 4e9]], [3.0, 2.9], fixed=fixed)
    rows = np.array([[1e8, 2e9], [2e8, 4e9]])  # an array is rows, a tuple is columns: both fine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two points: alpha is not identifiable, not the point
        a = scalingfit.fit("chinchilla", rows, [3.0, 2.9], fixed=fixed)
        b = scalingfit.fit("chinchilla", (rows[:, 0].tolist(), rows[:, 1].tolist()), [3.0, 2.9], fixed=fixed)
    np.testing.assert_array_equal(a.x, b.x)


def test_kaplan_ns_guesses_on_extreme_inputs_are_a_status_not_a_lapack_error() -> None:
    """1e-300 inputs overflowed a trial exponent inside the starts' least squares, and
    LAPACK's SVD failed (LinAlgError, plus a LAPACK message on the terminal)."""
    x = np.c_[np.logspace(-300, -200, 20)] * [1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = scalingfit.fit("kaplan_ns", x, np.linspace(2, 1, 20))
    assert not r.success


# ------------------------------------------------------------------ bootstrap
def test_bootstrap_options_are_named() -> None:
    with pytest.raises(ValueError, match=r"n_resamples must be an integer >= 2, got None"):
        bootstrap(M, N, Y, n_resamples=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"n_resamples must be an integer >= 2, got 1"):
        bootstrap(M, N, Y, n_resamples=1)
    with pytest.raises(ValueError, match=r"n_resamples must be at most 4294967295"):
        bootstrap(M, N, Y, n_resamples=2**32)
    with pytest.raises(TypeError, match=r"scheme must be a name \(str\), got list \['points'\]"):
        bootstrap(M, N, Y, n_resamples=20, scheme=["points"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got Generator"):
        bootstrap(M, N, Y, n_resamples=20, seed=np.random.default_rng(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got 'x'"):
        bootstrap(M, N, Y, n_resamples=20, seed="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        bootstrap(M, N, Y, n_resamples=20, level=1 - 1e-16)  # its upper quantile rounds to 1
    with pytest.raises(TypeError, match=r"groups must be labels of one sortable kind"):
        bootstrap(M, N, Y, n_resamples=20, scheme="groups", groups=[None, 1, 1, 2, 2, 3, 3, 4])


def test_derived_quantities_of_another_law_are_named() -> None:
    with pytest.raises(ValueError, match=r"derived quantity 'a_opt' reads parameter 'B' that the model lacks \(it has E, A, alpha\)"):
        bootstrap(M, N, Y, n_resamples=20, derived=chinchilla_derived(1e21))
    for C in (-1.0, 0.0, np.nan):
        with pytest.raises(ValueError, match=r"C must be finite and > 0"):
            chinchilla_derived(C=C)


def test_a_fixed_parameter_has_a_bootstrap_stderr_of_exactly_zero() -> None:
    b = bootstrap(M, N, Y, n_resamples=100, fixed={"E": 1.7}, seed=0)
    assert b.stderr("E") == 0.0  # the sd of 100 equal values (was 8.9e-16: their mean's rounding)
    np.testing.assert_allclose(b.stderr("alpha"), np.std(b.samples[:, 2], ddof=1), rtol=1e-12)


def test_a_band_with_no_converged_replicate_says_so() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = bootstrap(M, N, np.full(8, 2.0), n_resamples=20)  # exact: every replicate singular
    assert np.isnan(b.samples).all()
    with pytest.raises(ValueError, match=r"no band: none of the 20 replicates converged"):
        b.predict(N)


def test_a_center_outside_the_bounds_is_named() -> None:
    """Every replicate of such a problem failed with status -3, with no error or warning."""
    c = np.array([[1.7, 400.0, 0.34], [1.7, 400.0, 0.9]])
    with pytest.raises(ValueError, match=r"center of problem 1 is outside the bounds at alpha: 0.9 not in \[0.0, 0.5\]"):
        bootstrap_batch(M, N2, Y2, OFF, n_resamples=20, center=c, bounds={"alpha": (0.0, 0.5)})
    c[1, 2] = np.nan  # a failed point fit: that problem's replicates fail, the other's do not
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = bootstrap_batch(M, N2, Y2, OFF, n_resamples=20, center=c, bounds={"alpha": (0.0, 0.5)})
    assert np.isnan(b.samples[1]).all() and np.isfinite(b.samples[0]).all()


def test_batch_problem_index_out_of_range_raises() -> None:
    b = bootstrap_batch(M, N2, Y2, OFF, n_resamples=20, seed=1)
    with pytest.raises(IndexError, match=r"problem 7 is not a problem index of this batch \(0..1\)"):
        b.problem(7)
    with pytest.raises(IndexError, match=r"problem 1.0 is not a problem index"):
        b.problem(1.0)  # type: ignore[arg-type]
    np.testing.assert_array_equal(b.problem(-1).samples, b.problem(1).samples)


def _porian_like() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    C = np.repeat(np.logspace(18, 21, 4), 7)
    Nopt = 0.1 * C**0.5
    Ns = Nopt * np.tile(np.logspace(-0.8, 0.8, 7), 4)
    L = 2 + 0.05 * np.log(Ns / Nopt) ** 2 + 0.002 * rng.standard_normal(C.size)
    return C, Ns, L


def test_one_bootstrap_resample_is_refused() -> None:
    """One resample gave an "interval" of one point, which need not hold the estimate."""
    C, Ns, L = _porian_like()
    with pytest.raises(ValueError, match=r"n_bootstrap must be 0 \(no bootstrap\) or an integer >= 2, got 1"):
        ch.fit_isoflop(C, Ns, L, n_bootstrap=1)
    with pytest.raises(ValueError, match=r"n_bootstrap must be 0 \(no bootstrap\) or an integer >= 2, got 1"):
        ch.fit_optima([1e19, 1e20, 1e21], [1e8, 3e8, 1e9], n_bootstrap=1)
    f = ch.fit_optima([1e19, 1e20, 1e21], [1e8, 3e8, 1e9], n_bootstrap=0)
    np.testing.assert_allclose(f.a, np.polyfit(np.log([1e19, 1e20, 1e21]), np.log([1e8, 3e8, 1e9]), 1)[0])


def test_flat_isoflop_sweeps_have_no_minimum() -> None:
    """Equal losses gave a = 0.5 (each budget's first size, the same offset from a C^0.5
    grid) with only an off-centre warning: now every budget is 'flat' and excluded."""
    C, Ns, _ = _porian_like()
    with pytest.raises(ValueError, match=r"fewer than 2 budgets have a usable minimum .*C=1e\+18: \('flat',\)"):
        ch.fit_isoflop(C, Ns, np.full(C.size, 3.0), n_bootstrap=0)


# ------------------------------------------------------------------ uncertainty
def test_uncertainty_helpers_name_bad_input() -> None:
    r = scalingfit.fit(M, N, Y)
    with pytest.raises(ValueError, match=r"cov is not a covariance: the variance of E is -1.0 < 0"):
        un.wald_intervals(r, cov=-np.eye(3))
    with pytest.raises(TypeError, match=r"result must be a FitResult"):
        un.wald_intervals({"a": 1})  # type: ignore[arg-type]
    for dof in (0, -1):
        with pytest.raises(ValueError, match=r"dof must be > 0 \(or None for the normal quantile\)"):
            un.delta_method("E", r, dof=dof)
    with pytest.raises(ValueError, match=r"params must be finite.*index 0: nan"):
        un.sandwich_cov(M, N, Y, [np.nan, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"params must name exactly the parameters of saturating_power_law"):
        un.gauss_newton_cov(M, N, Y, {"E": 1.7, "A": 400.0, "alpha": 0.34, "beta": 1.0})
    with pytest.raises(ValueError, match=r"q must be a probability in \(0, 1\), got 1.5"):
        un.t_quantile(1.5, 3)
    # the Wald interval agrees with its closed form x +- t se
    from scipy.stats import t as student_t

    lo, hi = un.wald_intervals(r)["alpha"]
    se = np.sqrt(r.cov[2, 2])
    np.testing.assert_allclose([lo, hi], r.x[2] + np.array([-1, 1]) * student_t.ppf(0.975, 5) * se, rtol=1e-3)


def test_a_profile_of_an_exact_fit_is_refused() -> None:
    """cost 0: the profile's scale s^2 = 2 cost / (n - p) is 0 (was ZeroDivisionError)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"the fit is exact \(cost 0.0\)"):
            un.profile_interval(M, N, np.full(8, 2.0), "alpha")


def test_submodules_are_reachable_from_the_package() -> None:
    """``scalingfit.datasets.path`` and ``scalingfit.plot.plot_fit`` (as the README writes
    them) were AttributeErrors without an import line of their own."""
    import importlib

    for name in ("datasets", "plot", "refit", "data", "reproduce", "distributed"):
        assert getattr(scalingfit, name) is importlib.import_module(f"scalingfit.{name}")
        assert name in dir(scalingfit)
    with pytest.raises(AttributeError, match=r"module 'scalingfit' has no attribute 'nope'"):
        scalingfit.nope  # noqa: B018


def test_the_core_import_needs_only_numpy() -> None:
    import subprocess
    import sys

    code = ("import sys, scalingfit; print(sorted(m for m in ('pandas', 'matplotlib', 'duckdb', "
            "'dask', 'scipy', 'cupy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ planning, emergence
def test_data_constrained_options_are_named() -> None:
    d = P.load_muennighoff2023(scalingfit.datasets.path("muennighoff2023_datablations"))
    args = (d["N"], d["D"], d["U"], d["loss"])
    with pytest.raises(ValueError, match=r"starts must be a \(k, 2\) array of \(R_D\*, R_N\*\) pairs, k >= 1, got shape \(2, 3\)"):
        P.fit_data_constrained(*args, starts=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"got shape \(0, 2\)"):
        P.fit_data_constrained(*args, starts=np.empty((0, 2)))
    with pytest.raises(ValueError, match=r"delta must be finite and > 0, got -1"):
        P.fit_data_constrained(*args, delta=-1)
    with pytest.raises(ValueError, match=r"delta must be finite and > 0, got 0"):
        P.data_constrained.huber_log_objective(P.MUENNIGHOFF_2023, *args, delta=0)
    with pytest.raises(ValueError, match=r"n_boot must be an integer >= 2, got 1"):
        P.bootstrap_data_constrained(*args, n_boot=1)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got -3"):
        P.bootstrap_data_constrained(*args, n_boot=10, seed=-3)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        P.bootstrap_data_constrained(*args, n_boot=10, level=1.5)


def test_gadre_bootstrap_options_are_named() -> None:
    with pytest.raises(TypeError, match=r"rep must be reproduce_gadre2024's GadreReproduction, got str"):
        P.bootstrap_gadre2024("rep")  # type: ignore[arg-type]
    rep = P.reproduce_gadre2024(P.load_gadre2024(scalingfit.datasets.path("gadre2024_overtraining")), "rpj")
    with pytest.raises(ValueError, match=r"n_boot must be an integer >= 2, got -1"):
        P.bootstrap_gadre2024(rep, n_boot=-1)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        P.bootstrap_gadre2024(rep, n_boot=10, level=0)


def test_sigmoid_floor_must_be_below_its_ceiling() -> None:
    x = np.logspace(7, 10, 12)
    acc = 0.25 + 0.5 / (1 + np.exp(-3 * (np.log(x) - 19)))
    with pytest.raises(ValueError, match=r"floor = 0.9 must be below ceiling = 0.1"):
        em.fit_sigmoids([x], [acc], floor=0.9, ceiling=0.1)


def test_data_constrained_planning_names_bad_input() -> None:
    with pytest.raises(ValueError, match=r"C has shape \(2,\) but U has shape \(3,\): they must broadcast"):
        P.optimal_allocation_constrained([1e22, 1e23], [1e10, 1e11, 1e12])
    with pytest.raises(ValueError, match=r"noise must be finite and >= 0, got -1"):
        P.simulate_data_constrained(P.MUENNIGHOFF_2023, [1e9], [1e10], [1e10], noise=-1)
    with pytest.raises((TypeError, ValueError), match=r"law"):
        P.simulate_data_constrained({"E": 1.0}, [1e9], [1e10], [1e10])  # type: ignore[arg-type]


def test_text_inside_an_array_is_not_a_number() -> None:
    """np.asarray(['1e9'], float) converts text; a size given as text is a usage error."""
    from scalingfit import _validate

    with pytest.raises(TypeError, match=r"N must be a number, got text or complex numbers \['1e9'\]"):
        _validate.positive("N", ["1e9"])
    np.testing.assert_array_equal(_validate.positive("N", [1e9, 2e9]), [1e9, 2e9])


def test_a_data_frame_is_read_by_column_name() -> None:
    """A frame with columns (D, N) was read by position: N and D silently swapped."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    Nn = 10 ** rng.uniform(7.5, 10, 40)
    Dd = 10 ** rng.uniform(9.5, 12, 40)
    L = 1.7 + 400 / Nn**0.34 + 410 / Dd**0.28
    ref = scalingfit.fit("chinchilla", (Nn, Dd), L)
    swapped = scalingfit.fit("chinchilla", pd.DataFrame({"D": Dd, "N": Nn, "other": 0.0}), L)
    np.testing.assert_array_equal(swapped.x, ref.x)
    by_position = scalingfit.fit("chinchilla", pd.DataFrame({"params": Nn, "tokens": Dd}), L)
    np.testing.assert_array_equal(by_position.x, ref.x)


def test_fixing_every_parameter_is_refused_whichever_way() -> None:
    """Equal bounds on every parameter were accepted (a 'fit' of nothing), fixed= refused it."""
    for kw in (dict(bounds=(1.0, 1.0)), dict(fixed={"E": 1.7, "A": 400.0, "alpha": 0.34}),
               dict(bounds={"E": (1.7, 1.7)}, fixed={"A": 400.0, "alpha": 0.34})):
        with pytest.raises(ValueError, match=r"every parameter of saturating_power_law is fixed"):
            scalingfit.fit(M, N, Y, **kw)


def test_nullable_pandas_numbers_are_numbers_text_is_not() -> None:
    pd = pytest.importorskip("pandas")
    from scalingfit import _validate

    s = pd.Series([1e9, 2e9], dtype="Float64")  # numpy sees an object array of floats
    np.testing.assert_array_equal(_validate.positive("N", s), [1e9, 2e9])
    with pytest.raises(ValueError, match=r"N must be finite and > 0; N\[1\] = nan"):
        _validate.positive("N", pd.Series([1e9, None], dtype="Float64"))
    with pytest.raises(TypeError, match=r"N must be a number, got text or complex numbers"):
        _validate.positive("N", np.array([1e9, "2e9"], dtype=object))
    with pytest.raises(TypeError, match=r"N must be a number, got text or complex numbers"):
        _validate.positive("N", [1e9 + 1j])


def test_a_parameter_on_its_bound_is_reported_as_scipy_does() -> None:
    """The Gauss-Newton stderr of a parameter on a bound assumes an interior optimum; the fit
    names such parameters (scipy's least_squares reports the same in active_mask)."""
    from scipy.optimize import least_squares

    bounds = {"E": (0.0, 1.0)}  # the data's E is 1.7: the fit ends on E = 1
    r = scalingfit.fit(M, N, Y, bounds=bounds)
    s = least_squares(lambda p: p[0] + p[1] * N ** -p[2] - Y, [0.5, 300.0, 0.3],
                      bounds=([0.0, -np.inf, -np.inf], [1.0, np.inf, np.inf]), x_scale="jac")
    assert r.at_bound == ("E",) == tuple(n for n, a in zip(r.param_names, s.active_mask) if a)
    assert "E" in repr(r) and "(at a bound: stderr does not apply)" in repr(r)
    free = scalingfit.fit(M, N, Y)
    assert free.at_bound == () and "at a bound" not in repr(free)
    held = scalingfit.fit(M, N, Y, fixed={"E": 1.0})  # fixed is not "at a bound"
    assert held.at_bound == () and held.fixed == ("E",)


def test_bootstrap_results_are_read_only_and_checked() -> None:
    b = bootstrap(M, N, Y, n_resamples=50, seed=3)
    lo, hi = b.ci("E", level=0.9)
    for arr in (b.samples, b.values("alpha"), b.batch.estimate("E"), b.batch.ci("E")):
        with pytest.raises(ValueError, match="read-only"):
            arr[...] = 0.0
    assert b.ci("E", level=0.9) == (lo, hi)
    with pytest.raises(TypeError, match=r"level must be a number in \(0, 1\), got str '0.9'"):
        b.ci("E", level="0.9")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"a quantity is named by a str, got dict"):
        b.ci({})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"x_new must be > 0 \(saturating_power_law is a power law"):
        b.predict([-1.0])
    with pytest.raises(TypeError, match=r"derived quantities are named by str, got int 3"):
        bootstrap(M, N, Y, n_resamples=20, derived={3: lambda p: p["E"]})  # type: ignore[dict-item]
    with pytest.raises(ZeroDivisionError) as info:
        bootstrap(M, N, Y, n_resamples=20, derived={"bad": lambda p: 1 / 0}).ci("bad")
    if hasattr(info.value, "__notes__"):
        assert "derived quantity 'bad'" in info.value.__notes__[0]


def test_derived_budgets_that_print_alike_keep_their_own_names() -> None:
    d = chinchilla_derived(C=[1.0001e20, 1.0002e20])  # both were 'N_opt@1e+20': one was lost
    assert {"N_opt@1.0001e+20", "N_opt@1.0002e+20"} <= set(d)
    assert {"N_opt@1e+20", "N_opt@1e+21"} <= set(chinchilla_derived(C=[1e20, 1e21]))
    with pytest.raises(ValueError, match=r"C has a budget twice"):
        chinchilla_derived(C=[1e20, 1e20])


def test_an_all_failed_bootstrap_has_a_nan_covariance_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = bootstrap(M, N, np.full(8, 2.0), n_resamples=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(b.cov).all() and b.cov.shape == (3, 3)


def test_text_and_complex_data_are_not_numbers() -> None:
    """np.asarray(..., float) read '1e9' as 1e9 and dropped imaginary parts with a warning."""
    with pytest.raises(TypeError, match=r"x must be numeric, got text or complex numbers"):
        scalingfit.fit(M, N.astype(str), Y)
    with pytest.raises(TypeError, match=r"y must be numeric, got text or complex numbers"):
        scalingfit.fit(M, N, Y + 0j)
    r = scalingfit.fit(M, list(N.astype(object)), Y)  # Python floats in an object array: numbers
    np.testing.assert_array_equal(r.x, scalingfit.fit(M, N, Y).x)
