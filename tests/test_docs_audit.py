"""An audit of docstrings against the code: what the docs now say about failed bootstrap point
fits, failed metric-choice fits, ``PowerLawFit.interval("E")``, ``refit``'s laws, the
attribute paths under ``scalingfit.bootstrap`` (a function, not the module), and undocumented
parameters and members; and the one code change, ``plot.__all__`` listing
``plot_comparison`` and ``plot_law_comparisons``."""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import scalingfit
from scalingfit import ConvergenceWarning, CustomModel, IdentifiabilityWarning, kaplan, plot
from scalingfit import refit as rf
from scalingfit.bootstrap import bootstrap

N = np.logspace(6, 9, 12)


# ------------------------------------------------------------------ 5. plot.__all__
def test_plot_all_lists_the_comparison_plots() -> None:
    for name in ("plot_comparison", "plot_law_comparisons"):
        assert name in plot.__all__
        assert callable(getattr(plot, name))
    assert all(hasattr(plot, n) for n in plot.__all__)
    assert len(set(plot.__all__)) == len(plot.__all__)


# ------------------------------------------------------------------ 2. bootstrap's failures
def test_a_singular_point_fit_is_bootstrapped_with_warnings_and_nan_intervals() -> None:
    """Constant y: the saturating law's point fit is singular (status -2); bootstrap does not
    raise (its docstring said a failed point fit did), every replicate fails, the intervals
    are NaN."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        b = bootstrap("saturating_power_law", N, np.full(N.size, 2.0), n_resamples=50)
    kinds = {w.category for w in caught}
    assert IdentifiabilityWarning in kinds and ConvergenceWarning in kinds
    assert b.fit.status == -2
    assert b.n_failed == 50
    for name in b.param_names:
        assert np.isnan(b.ci(name)).all()
    doc = " ".join((bootstrap.__doc__ or "").split())
    assert "status -2" in doc and "NaN" in doc and "CustomModel" in doc


def test_a_point_fit_at_the_iteration_limit_raises() -> None:
    y = 2 + 400 * N**-0.3
    with pytest.warns(ConvergenceWarning), pytest.raises(ValueError, match="the point fit failed"):
        bootstrap("saturating_power_law", N, y, n_resamples=10, max_iter=1)


def test_a_custom_model_without_p0_is_refused() -> None:
    """Custom models are bootstrapped (tests/test_custom_bootstrap.py); without a start the
    point fit cannot begin, and says so."""
    m = CustomModel(lambda x, p: p[:, 0] * x[:, 0] ** -p[:, 1], ("A", "alpha"))
    with pytest.raises(ValueError, match="needs p0"):
        bootstrap(m, N, 3 * N**-0.5, n_resamples=10)


# ------------------------------------------------------------------ 6. metric_choice
def test_metric_choice_failed_and_constant_metrics_score_inf() -> None:
    from scalingfit.emergence import metric_choice

    x = np.logspace(7, 11, 12)
    zero = metric_choice(x, {"exact_match": np.zeros(12)})["exact_match"]
    assert zero.extrapolation_error == np.inf and zero.predictability == 0.0
    assert np.isnan(zero.predicted).all()
    flat = metric_choice(x, {"exact_match": np.full(12, 0.5), "nll": np.full(12, 2.0)})
    for row in flat.rows.values():
        assert row.extrapolation_error == np.inf and row.predictability == 0.0
        assert np.isnan(row.sharpness)
    own = metric_choice(x, {"mine": 2 + 100 * x**-0.2}, kinds={"mine": "loss"})["mine"]
    assert own.kind == "loss" and own.extrapolation_error < 1e-6
    with pytest.raises(ValueError, match="kind of metric 'mine' unknown"):
        metric_choice(x, {"mine": np.linspace(0, 1, 12)})


# ------------------------------------------------------------------ 1, 3, 7. statements
def test_kaplan_docs_name_the_fields_the_code_uses() -> None:
    assert "(C_c_min / C_min)^alpha_C_min" in (kaplan.loss_C_min.__doc__ or "")
    assert "(C_c_min / C_min)^alpha_C_min" in (kaplan.__doc__ or "")
    c = kaplan.KAPLAN_2020
    want = (c.C_c_min / 1.0) ** c.alpha_C_min
    assert float(kaplan.loss_C_min(1.0)) == pytest.approx(want)


def test_power_law_interval_of_E_needs_irreducible() -> None:
    fit = kaplan.fit_power_law(N, kaplan.loss_N(N))
    with pytest.raises(ValueError, match="interval of 'E'"):
        fit.interval("E")
    assert "irreducible=True" in (kaplan.PowerLawFit.interval.__doc__ or "")


def test_refit_docs_list_every_law() -> None:
    doc = rf.refit.__doc__ or ""
    for law in rf.LAWS:
        assert f"``{law}``" in doc, law


# ------------------------------------------------------------------ 4. attribute paths
def test_no_doc_writes_an_attribute_path_through_the_bootstrap_function() -> None:
    assert inspect.isfunction(scalingfit.bootstrap)
    mod = importlib.import_module("scalingfit.bootstrap")
    path = re.compile(r"scalingfit\.bootstrap\.(\w+)")
    for doc in (scalingfit.uncertainty.__doc__, scalingfit.uncertainty.delta_method.__doc__,
                plot.plot_fit.__doc__):
        assert not path.search(doc or "")
    for name in ("Positive", "chinchilla_derived", "BootstrapResult"):
        assert hasattr(mod, name)


# ------------------------------------------------------------------ 8. parameters and members
def _undocumented(fn: Callable[..., Any]) -> list[str]:
    doc = inspect.getdoc(fn) or ""
    return [p for p in inspect.signature(fn).parameters if not re.search(rf"\b{p}\b", doc)]


def _functions() -> list[Callable[..., Any]]:
    from scalingfit import curves, emergence, uncertainty
    from scalingfit.planning import bootstrap_data_constrained, data_wall, huber_log_objective

    return [scalingfit.fit_batch, rf.refit, uncertainty.gauss_newton_cov, uncertainty.sandwich_cov,
            curves.predict_final_loss_kaplan, emergence.fit_two_step, emergence.metric_choice,
            scalingfit.compile_cuda_kernels, CustomModel, bootstrap_data_constrained, data_wall,
            huber_log_objective]


@pytest.mark.parametrize("fn", _functions(), ids=lambda f: f.__name__)
def test_every_parameter_is_documented(fn: Callable[..., Any]) -> None:
    assert not _undocumented(fn)


MEMBER_MODULES = ["compare", "curves", "refit", "refit_compare", "reproduce", "planning",
                  "planning.data_constrained", "planning.data_wall", "planning.inference",
                  "planning.overtraining"]


@pytest.mark.parametrize("name", MEMBER_MODULES)
def test_public_classes_and_members_have_docstrings(name: str) -> None:
    mod = importlib.import_module(f"scalingfit.{name}")
    missing = []
    for n in mod.__all__:
        cls = getattr(mod, n)
        if not inspect.isclass(cls):
            continue
        if not cls.__doc__ or cls.__doc__.startswith(cls.__name__ + "("):  # dataclass default
            missing.append(n)
        for k, v in vars(cls).items():
            f = v.fget if isinstance(v, property) else v
            member = isinstance(v, property) or inspect.isfunction(f)
            if not k.startswith("_") and member and not getattr(f, "__doc__", None):
                missing.append(f"{n}.{k}")
    assert not missing
