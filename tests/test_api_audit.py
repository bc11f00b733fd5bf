"""An audit of the public API (stop 25): a fit_result of other data accepted by the profile,
truthy strings taken for booleans, float problem ids truncated, results that did not pickle,
raw or misnamed exceptions, typos that passed mypy, unseeded defaults, a silently ignored
seed, FitResults refused as laws, and modules without ``__all__``. Each test failed before
its fix, except the few that pin behaviour which already held beside it (flags that the core
call already refused, the round trip of plain fit results, the lazy imports)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import scalingfit
from scalingfit import allocation, emergence, kaplan, models, simulate, testtime, uncertainty
from scalingfit import chinchilla as ch
from scalingfit._resample import fit_many
from scalingfit.bootstrap import bootstrap, bootstrap_batch, chinchilla_derived, predicted_value

M = "saturating_power_law"
N = np.logspace(7, 10, 12)
RNG = np.random.default_rng(0)
L = (1.7 + 400 * N**-0.34) * np.exp(0.01 * RNG.standard_normal(12))
L_OTHER = (1.7 + 400 * N**-0.34) * np.exp(0.01 * RNG.standard_normal(12))
X3, Y3, OFF3 = np.tile(N, 3), np.concatenate([L, L + 0.1, L + 0.2]), np.array([0, 12, 24, 36])


def _two_input() -> tuple[np.ndarray, np.ndarray]:
    s = simulate.isoflop_sweep(ch.HOFFMANN_2022, noise=0.002, seed=0)
    return np.column_stack([s.N, s.D]), s.loss


# ------------------------------------------------------------------ 1. profile's fit_result
def test_a_fit_result_of_other_data_is_refused_by_the_profile() -> None:
    """It returned a zero-width interval around the other fit's estimate."""
    other = scalingfit.fit(M, N, L_OTHER)
    with pytest.raises(ValueError, match="fit_result does not belong to these data"):
        uncertainty.profile_interval(M, N, L, "alpha", fit_result=other)


@pytest.mark.parametrize("kw", [{}, {"loss": "huber", "f_scale": 0.02}, {"log_residuals": True},
                                {"weights": np.arange(1.0, 13.0)}])
def test_the_fit_of_these_data_is_accepted_and_changes_nothing(kw: dict[str, Any]) -> None:
    own = scalingfit.fit(M, N, L, **kw)
    a = uncertainty.profile_interval(M, N, L, "alpha", fit_result=own, **kw)
    b = uncertainty.profile_interval(M, N, L, "alpha", **kw)
    assert a.lower < own.params["alpha"] < a.upper
    assert (a.lower, a.upper) == pytest.approx((b.lower, b.upper), rel=1e-6)


def test_a_fit_result_with_another_f_scale_is_refused() -> None:
    """Same data, loss and settings checked before, but another f_scale: another cost."""
    own = scalingfit.fit(M, N, L, loss="huber", f_scale=0.02)
    with pytest.raises(ValueError, match="does not belong to these data"):
        uncertainty.profile_interval(M, N, L, "alpha", fit_result=own, loss="huber", f_scale=0.5)


# ------------------------------------------------------------------ 2, 4. flags
def _flag_calls() -> dict[str, Callable[[Any], Any]]:
    r = scalingfit.fit(M, N, L)
    x = np.logspace(20, 24, 10)
    acc = 0.1 + 0.8 / (1 + np.exp(-2 * (np.log(x) - np.log(1e22))))
    return {
        "log_residuals/gauss_newton_cov": lambda v: uncertainty.gauss_newton_cov(M, N, L, r, log_residuals=v),
        "log_residuals/sandwich_cov": lambda v: uncertainty.sandwich_cov(M, N, L, r, log_residuals=v),
        "log_residuals/profile_interval": lambda v: uncertainty.profile_interval(M, N, L, "alpha",
                                                                                 log_residuals=v),
        "log_residuals/fit": lambda v: scalingfit.fit(M, N, L, log_residuals=v),
        "log_x/fit_sigmoids": lambda v: emergence.fit_sigmoids(x, acc, log_x=v),
        "increasing/fit_sigmoids": lambda v: emergence.fit_sigmoids(x, acc, increasing=v),
        "warn/fit_sigmoids": lambda v: emergence.fit_sigmoids(x, acc, warn=v),
        "guess/fit_many": lambda v: fit_many(M, [N], [L], guess=v),
        "warn/fit_many": lambda v: fit_many(M, [N], [L], warn=v),
        "irreducible/fit_power_laws": lambda v: kaplan.fit_power_laws([N], [L], irreducible=v),
        "log_residuals/fit_power_laws": lambda v: kaplan.fit_power_laws([N], [L], log_residuals=v),
        "keep_cov/bootstrap": lambda v: bootstrap(M, N, L, n_resamples=20, keep_cov=v),
        "log_residuals/bootstrap": lambda v: bootstrap(M, N, L, n_resamples=20, log_residuals=v),
        "keep_cov/bootstrap_batch": lambda v: bootstrap_batch(M, X3, Y3, OFF3, n_resamples=20,
                                                              keep_cov=v),
        # with centers given no fit ran first: the flag went to the core as bool("False")
        "log_residuals/bootstrap_batch": lambda v: bootstrap_batch(
            M, X3, Y3, OFF3, n_resamples=20, log_residuals=v, center=np.tile([1.7, 400, 0.34], (3, 1))),
        "log_residuals/fit_coverage": lambda v: testtime.fit_coverage(
            [1, 2, 4, 8, 16], [0.3, 0.4, 0.5, 0.6, 0.7], log_residuals=v),
    }


@pytest.mark.parametrize("case", sorted(_flag_calls()))
@pytest.mark.parametrize("value", ["False", "no", 0.0])
def test_a_flag_must_be_true_or_false(case: str, value: Any) -> None:
    """"False" was True (a truthy string), "no" reached pybind11 ("incompatible function
    arguments") or was taken as True."""
    name = case.split("/")[0]
    with pytest.raises(TypeError, match=rf"^{name} must be True(, False or None| or False), got"):
        _flag_calls()[case](value)


def test_numpy_bools_and_none_where_documented_still_pass() -> None:
    x = np.logspace(20, 24, 10)
    acc = 0.1 + 0.8 / (1 + np.exp(-2 * (np.log(x) - np.log(1e22))))
    up, = emergence.fit_sigmoids(x, acc, increasing=np.bool_(True), warn=np.bool_(False))
    free, = emergence.fit_sigmoids(x, acc, increasing=None)
    assert up.k > 0 and free.k > 0


def test_validate_runs_positive_value_is_a_flag() -> None:
    pd = pytest.importorskip("pandas")
    from scalingfit import data

    df = pd.DataFrame({"N": [1e8, 2e8], "value": [-1.0, 2.0]})
    with pytest.raises(TypeError, match="positive_value must be True or False"):
        data.validate_runs(df, positive_value="False")
    clean, _ = data.validate_runs(df, positive_value=False)
    assert len(clean) == 2


# ------------------------------------------------------------------ 3. problem_id
@pytest.mark.parametrize("ids", [[0.5, 1.7, 2.2], [0.0, 1.0, 2.0], [True, False, True]])
def test_problem_ids_must_be_integers_as_fit_batch_problems(ids: list[Any]) -> None:
    """[0.5, 1.7, 2.2] was truncated to [0, 1, 2] silently; fit_batch refuses float problem."""
    with pytest.raises(TypeError, match=r"problem_id must hold integer ids"):
        bootstrap_batch(M, X3, Y3, OFF3, n_resamples=20, problem_id=ids)
    with pytest.raises(TypeError, match=r"problem must hold integer problem indices"):
        scalingfit.fit_batch(M, X3, Y3, OFF3, p0=np.tile([1.7, 400, 0.34], (3, 1)), problem=ids)
    ok = bootstrap_batch(M, X3, Y3, OFF3, n_resamples=20, problem_id=np.array([5, 6, 7]))
    assert ok.problem_id.tolist() == [5, 6, 7]


# ------------------------------------------------------------------ 5. pickling
def _roundtrip(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("name", models.names())
def test_a_built_in_model_pickles_to_the_registered_object(name: str) -> None:
    """9 of 13 held a closure (their initial guess): 'Can't pickle local object'."""
    m = models.get(name)
    assert _roundtrip(m) is m


def test_fit_and_batch_results_round_trip() -> None:
    r = scalingfit.fit(M, N, L)
    r2 = _roundtrip(r)
    assert r2.params == r.params and np.array_equal(r2.cov, r.cov)
    b = scalingfit.fit_batch(M, X3, Y3, OFF3)
    assert np.array_equal(_roundtrip(b).x, b.x)


@pytest.mark.parametrize("method", ["bca", "percentile", "studentized"])
def test_a_bootstrap_result_round_trips_with_its_intervals(method: str) -> None:
    """'Can't pickle local object _run.<locals>.jackknife'; BCa needs the jackknife, lazily
    for a result made with another method, after the round trip too."""
    X, y = _two_input()
    b = bootstrap("chinchilla", X, y, n_resamples=50, method=method, derived=chinchilla_derived(1e24))
    b2 = _roundtrip(b)
    assert b2.params == b.params
    for name in ("alpha", "beta", "a_opt", "N_opt"):
        for meth in ("bca", "percentile"):
            assert b2.ci(name, meth) == b.ci(name, meth)
    assert str(b2.summary()) == str(b.summary())
    assert not b2.batch.samples.flags.writeable  # still frozen after the round trip


def test_a_bootstrap_batch_and_one_of_its_problems_round_trip() -> None:
    bb = bootstrap_batch(M, X3, Y3, OFF3, n_resamples=30, method="percentile",
                         derived={"E_pred": predicted_value(M, [1e11])})
    bb2 = _roundtrip(bb)
    assert np.array_equal(bb2.ci("alpha", "bca"), bb.ci("alpha", "bca"))
    assert np.array_equal(bb2.ci("E_pred"), bb.ci("E_pred"))
    one = bb.problem(1)
    assert np.array_equal(_roundtrip(one).ci("alpha", "bca"), one.ci("alpha", "bca"))
    lse = chinchilla_derived(1e24, model="chinchilla_lse")  # exp() helpers were lambdas
    assert set(_roundtrip(lse)) == set(lse)


def test_comparisons_and_law_fits_round_trip() -> None:
    c = scalingfit.compare_models(["power_law", M], N, L)
    c2 = _roundtrip(c)
    assert c2.best() == c.best() and c2.table() == c.table()
    cb = scalingfit.compare_batch(["power_law", M], X3, Y3, OFF3)
    assert _roundtrip(cb).table() == cb.table()
    pl = kaplan.fit_power_law(N, L, n_resamples=20)
    assert _roundtrip(pl).interval("alpha") == pl.interval("alpha")
    sw = simulate.isoflop_sweep(seed=0)
    iso = ch.fit_isoflop(sw.C, sw.N, sw.loss, n_bootstrap=20)
    assert _roundtrip(iso).interval == iso.interval


# ------------------------------------------------------------------ 6. named exceptions
def test_kaplan_constants_of_the_wrong_type_are_named() -> None:
    """An AttributeError ('dict' object has no attribute 'N_c')."""
    for call in (lambda: kaplan.loss_N(1e9, c={"alpha_N": 0.07}),
                 lambda: kaplan.loss_ND(1e9, 1e10, c={"alpha_N": 0.07}),
                 lambda: kaplan.frontier_from_laws([1e20], c=None),  # type: ignore[arg-type]
                 lambda: kaplan.compare_allocations([1e21], c=0.07)):  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^c must be a KaplanConstants .*got "):
            call()


def test_a_number_for_a_column_of_x_is_named() -> None:
    """fit('chinchilla', (N, 1e10), L) was numpy's 'inhomogeneous shape' naming nothing."""
    X, y = _two_input()
    with pytest.raises(ValueError, match=r"x\[1\] \(D\) is a single number 10000000000.0"):
        scalingfit.fit("chinchilla", (X[:, 0], 1e10), y)
    with pytest.raises(ValueError, match=r"^x must be a regular array of numbers, got a ragged list "
                                         r"\(entries of different lengths: shapes \(12,\), \(5,\)\)"):
        scalingfit.fit(M, [N, N[:5]], L)


def test_max_memory_text_is_named() -> None:
    """int('1GB') leaked: 'invalid literal for int() with base 10'."""
    for call in (lambda: bootstrap_batch(M, X3, Y3, OFF3, n_resamples=20, max_memory="1GB"),
                 lambda: bootstrap(M, N, L, n_resamples=20, max_memory="1GB"),
                 lambda: scalingfit.fit_batch(M, X3, Y3, OFF3, max_memory="1GB")):
        with pytest.raises(ValueError, match=r"max_memory must be a positive number of bytes \(an "
                                             r"integer, e\.g\. 2\*\*30 for 1 GiB\) or None, got '1GB'"):
            call()
    ok = bootstrap(M, N, L, n_resamples=20, max_memory=2e9)  # an integral float is bytes
    assert ok.n_resamples == 20


def test_delta_method_takes_a_mapping_of_parameters() -> None:
    """A dict (r.params) was float()'s bare 'float() argument must be ... not dict'."""
    r = scalingfit.fit(M, N, L)
    a = uncertainty.delta_method("alpha", r.params, r.cov)
    b = uncertainty.delta_method("alpha", r)
    assert a.estimate == b.estimate and a.stderr == pytest.approx(b.stderr, rel=1e-12)
    with pytest.raises(TypeError, match=r"params\['A'\] must be a number"):
        uncertainty.delta_method("alpha", {"E": 1.7, "A": "400", "alpha": 0.3}, r.cov)
    with pytest.raises(TypeError, match=r"^params must be numeric"):
        uncertainty.delta_method("alpha", "1,2,3", r.cov)


def test_kaplan_messages_name_the_users_arguments() -> None:
    """'ys has 12 problems but xs has 1': the arguments are xs and losses; fit_nd's 'x columns
    (N, D) have different lengths' for N, D, L."""
    with pytest.raises(ValueError, match=r"^losses must hold one array per data set; got one array "
                                         r"of 12 numbers: wrap it in a list"):
        kaplan.fit_power_laws([N], L)
    with pytest.raises(ValueError, match=r"^losses has 1 data sets but xs has 2"):
        kaplan.fit_power_laws([N, N], [L])
    with pytest.raises(ValueError, match=r"losses\[1\] has 5 points but xs\[1\] has 12"):
        kaplan.fit_power_laws([N, N], [L, L[:5]])
    with pytest.raises(ValueError, match=r"^D has 5 values but N has 12"):
        kaplan.fit_nd(N, N[:5], L)
    with pytest.raises(ValueError, match=r"^L has 5 values but N has 12"):
        kaplan.fit_nd(N, 20 * N, L[:5])
    with pytest.raises(ValueError, match=r"^S has 5 values but N has 12"):
        kaplan.fit_ns(N, N[:5], L)


# ------------------------------------------------------------------ 7. typing
def test_lazy_modules_stay_lazy_and_unknown_names_raise() -> None:
    code = textwrap.dedent("""
        import sys, scalingfit
        heavy = [m for m in ("matplotlib", "pandas", "duckdb", "dask") if m in sys.modules]
        assert not heavy, heavy
        assert scalingfit.plot.__name__ == "scalingfit.plot"
        try:
            scalingfit.fitt
        except AttributeError as exc:
            assert "has no attribute 'fitt'" in str(exc)
        else:
            raise AssertionError("scalingfit.fitt passed")
        assert "plot" in dir(scalingfit)
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mypy_sees_the_lazy_modules_and_refuses_typos(tmp_path: Path) -> None:
    """A module __getattr__ -> ModuleType typed scalingfit.plot.plot_fit as Any and let
    scalingfit.fitt pass mypy --strict."""
    api = pytest.importorskip("mypy.api")
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent("""
        import scalingfit

        reveal_type(scalingfit.plot.plot_fit)
        reveal_type(scalingfit.refit.refit)
        scalingfit.fitt
    """))
    out, _, _ = api.run(["--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
                         str(script)])
    assert 'Module has no attribute "fitt"' in out
    assert re.search(r"Revealed type is \"def \(result: scalingfit\.results\.FitResult", out), out
    assert "-> scalingfit.refit.RefitSummary" in out
    assert "Any" not in out.splitlines()[0].split("Revealed type is")[1][:10]


# ------------------------------------------------------------------ 9. seeds
def test_isoflop_and_optima_bootstraps_are_seeded_by_default() -> None:
    """seed=None by default: two identical calls gave different intervals, seed recorded None."""
    sw = simulate.isoflop_sweep(seed=0)
    a = ch.fit_isoflop(sw.C, sw.N, sw.loss, n_bootstrap=50)
    b = ch.fit_isoflop(sw.C, sw.N, sw.loss, n_bootstrap=50)
    assert a.interval == b.interval and a.seed == b.seed == 0
    C = np.logspace(18, 22, 5)
    y = 0.1 * C**0.5 * np.exp(0.05 * np.random.default_rng(1).standard_normal(5))
    o1, o2 = ch.fit_optima(C, y, n_bootstrap=50), ch.fit_optima(C, y, n_bootstrap=50)
    assert o1.interval == o2.interval and o1.seed == 0
    drawn = ch.fit_optima(C, y, n_bootstrap=50, seed=None)
    assert isinstance(drawn.seed, int)  # the seed it drew is recorded: the run can be repeated
    assert ch.fit_optima(C, y, n_bootstrap=50, seed=drawn.seed).interval == drawn.interval
    assert ch.fit_optima(C, y, n_bootstrap=50, seed=np.random.default_rng(3)).seed is None


# ------------------------------------------------------------------ 10. rng and seed, laws
def test_simulate_samples_refuses_rng_with_a_seed() -> None:
    """seed=5 was ignored silently when rng was given."""
    p = np.full(5, 0.5)
    with pytest.raises(ValueError, match="give rng or seed, not both"):
        testtime.simulate_samples(p, 10, rng=np.random.default_rng(1), seed=5)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        testtime.simulate_samples(p, 10, rng=5)  # type: ignore[arg-type]
    a = testtime.simulate_samples(p, 10, rng=np.random.default_rng(1))
    b = testtime.simulate_samples(p, 10, seed=np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert np.array_equal(testtime.simulate_samples(p, 10, seed=4), testtime.simulate_samples(p, 10, seed=4))


def test_optimal_allocation_takes_a_fit_of_a_chinchilla_law() -> None:
    """'TypeError ... not FitResult': a fit of chinchilla (or its tied or log form, or a
    bootstrap of one) is its parameters; another model's fit is named."""
    X, y = _two_input()
    r = scalingfit.fit("chinchilla", X, y)
    want = allocation.optimal_allocation(1e24, r.params)
    assert allocation.optimal_allocation(1e24, r) == want
    assert allocation.optimal_allocation(1e24, bootstrap("chinchilla", X, y, n_resamples=10)) == want
    tied = scalingfit.fit("chinchilla_tied", X, y)
    t = allocation.optimal_allocation(1e24, tied)
    assert t.a == pytest.approx(0.5)
    lse = allocation.optimal_allocation(1e24, scalingfit.fit("chinchilla_lse", X, y))
    assert lse.N_opt == pytest.approx(want.N_opt, rel=1e-6)
    with pytest.raises(ValueError, match=r"params: a fit of 'kaplan_nd' is not a Chinchilla law"):
        allocation.optimal_allocation(1e24, scalingfit.fit("kaplan_nd", X, y))


# ------------------------------------------------------------------ 14. __all__ and docs
ALL_MODULES = ["emergence", "testtime", "curves", "kaplan", "bootstrap", "uncertainty", "refit",
               "data", "simulate", "models", "losses", "results", "refit_compare"]
INTERNAL = {"testtime": ["check_finite"], "uncertainty": ["solve", "fit", "t_quantile"],
            "refit": ["iter_chunks"], "bootstrap": ["resolve_model", "generator"],
            "models": ["partial"], "kaplan": ["broadcast", "fit_many"]}


@pytest.mark.parametrize("name", ALL_MODULES)
def test_every_module_lists_its_public_names(name: str) -> None:
    mod = importlib.import_module(f"scalingfit.{name}")
    assert isinstance(mod.__all__, list) and mod.__all__
    for n in mod.__all__:
        obj = getattr(mod, n)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__module__ == mod.__name__, n  # defined here, not re-exported helpers
            assert inspect.getdoc(obj), n
    for n in INTERNAL.get(name, []):
        assert n not in mod.__all__
    assert len(set(mod.__all__)) == len(mod.__all__)  # ``import *`` gets each name once


def _undocumented(fn: Callable[..., Any]) -> list[str]:
    doc = inspect.getdoc(fn) or ""
    return [p for p in inspect.signature(fn).parameters if not re.search(rf"\b{p}\b", doc)]


@pytest.mark.parametrize("fn", [uncertainty.profile_interval, kaplan.fit_nd, kaplan.fit_ns,
                                bootstrap_batch, uncertainty.delta_method, ch.fit_optima,
                                testtime.simulate_samples])
def test_every_parameter_is_documented(fn: Callable[..., Any]) -> None:
    """profile_interval documented 5 of its 19 parameters."""
    assert not _undocumented(fn)
    assert "Returns\n-------" in (inspect.getdoc(fn) or "")


def test_fit_documents_its_type_errors() -> None:
    doc = inspect.getdoc(scalingfit.fit) or ""
    assert "TypeError" in doc
    with pytest.raises(TypeError, match="x must be numeric"):
        scalingfit.fit(M, ["1e7", "1e8", "1e9"], [3.0, 2.5, 2.2])


def test_dir_lists_the_public_names_once() -> None:
    """dir(scalingfit) listed a lazy submodule twice once imported ('data', 'data') and the
    helpers the package file imports (importlib, ModuleType, TYPE_CHECKING, annotations)."""
    import scalingfit
    from scalingfit import data  # noqa: F401  (imported: in globals and in the lazy list)

    names = dir(scalingfit)
    assert len(names) == len(set(names)) and names == sorted(names)
    assert set(scalingfit.__all__) <= set(names) and {"data", "plot", "refit", "__version__"} <= set(names)
    assert not {"importlib", "ModuleType", "TYPE_CHECKING", "annotations"} & set(names)
    assert "results" in names  # an imported public submodule stays listed


def test_the_version_is_the_one_of_pyproject() -> None:
    """The version is written twice (pyproject.toml, scalingfit.__version__, which the CLI's
    --version and every refit row print): they must not drift apart."""
    import re

    import scalingfit

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    m = re.search(r'^version = "([^"]+)"$', text, flags=re.MULTILINE)
    assert m is not None and m.group(1) == scalingfit.__version__
