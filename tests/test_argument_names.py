"""One option, several names across the package (the number of resamples is ``n_resamples``
in bootstrap, ``n_bootstrap`` in chinchilla.fit_isoflop, ``bootstrap`` in refit; the robust
loss ``loss`` in bootstrap but ``loss_fn`` in fit_isoflop, whose ``loss`` is the data): a
wrong guess was a bare ``TypeError: fit_isoflop() got an unexpected keyword argument
'n_resamples'``. The names stay (renaming would break users); the public functions are
wrapped by ``_validate.suggest_argument_names``, which adds the name the function uses to
that TypeError and leaves everything else (signature, docstring, pickling, other errors,
the successful call) as it was."""

from __future__ import annotations

import importlib
import inspect
import pickle
from typing import Any, Callable

import numpy as np
import pytest
import scalingfit
from scalingfit import (
    _validate,
    compare,
    curves,
    emergence,
    kaplan,
    simulate,
    testtime,
    uncertainty,
)
from scalingfit import chinchilla as ch

bootstrap_mod = importlib.import_module("scalingfit.bootstrap")  # scalingfit.bootstrap: the function
refit_mod = importlib.import_module("scalingfit.refit")
refit_compare_mod = importlib.import_module("scalingfit.refit_compare")

M = "saturating_power_law"
N = np.logspace(7, 10, 12)
L = 1.7 + 400 * N**-0.34
SWEEP = simulate.isoflop_sweep(ch.HOFFMANN_2022, noise=0.002, seed=0)
C, NS, DS, LS = SWEEP.C, SWEEP.N, SWEEP.D, SWEEP.loss

DECORATED: list[Callable[..., Any]] = [
    ch.fit_isoflop, ch.fit_optima, ch.fit_parametric, ch.fit_envelope,
    curves.predict_final_loss, curves.predict_final_loss_kaplan,
    emergence.fit_sigmoids, emergence.fit_two_step, emergence.task_ladder, emergence.chain_band,
    kaplan.fit_power_laws, kaplan.fit_nd, kaplan.fit_ns,
    compare.compare_models, compare.compare_batch, compare.nested_test,
    uncertainty.profile_interval, uncertainty.wald_intervals, uncertainty.delta_method,
    uncertainty.gauss_newton_cov, uncertainty.sandwich_cov,
    testtime.fit_coverage, testtime.fit_coverage_from_counts, testtime.fit_accuracy_vs_compute,
    testtime.simulate_samples,
    refit_mod.refit, refit_compare_mod.compare_refit,
    bootstrap_mod.bootstrap, bootstrap_mod.bootstrap_batch,
]


def _message(call: Callable[[], Any]) -> TypeError:
    with pytest.raises(TypeError) as info:
        call()
    return info.value


# ------------------------------------------------------------------ the suggestions
# (call, the original text, the suggestion)
CASES: dict[str, tuple[Callable[[], Any], str, str]] = {
    "isoflop n_resamples": (lambda: ch.fit_isoflop(C, NS, LS, n_resamples=10),
                            "fit_isoflop() got an unexpected keyword argument 'n_resamples'",
                            "did you mean n_bootstrap?"),
    "isoflop level": (lambda: ch.fit_isoflop(C, NS, LS, level=0.9),
                      "fit_isoflop() got an unexpected keyword argument 'level'",
                      "did you mean confidence?"),
    "isoflop loss (the data)": (lambda: ch.fit_isoflop(C, NS, LS, loss="huber"),
                                "fit_isoflop() got multiple values for argument 'loss'",
                                ("did you mean loss_fn? (fit_isoflop's robust loss is loss_fn; "
                                 "its loss argument is the data)")),
    "isoflop n_resample typo": (lambda: ch.fit_isoflop(C, NS, LS, n_resample=10),
                                "unexpected keyword argument 'n_resample'",
                                "did you mean n_bootstrap?"),
    "isoflop n_jobs": (lambda: ch.fit_isoflop(C, NS, LS, n_jobs=2),
                       "unexpected keyword argument 'n_jobs'", "did you mean threads?"),
    "optima n_resamples": (lambda: ch.fit_optima(C, NS, n_resamples=10),
                           "fit_optima() got an unexpected keyword argument 'n_resamples'",
                           "did you mean n_bootstrap?"),
    "parametric f_scale": (lambda: ch.fit_parametric(NS, DS, LS, f_scale=0.1),
                           "fit_parametric() got an unexpected keyword argument 'f_scale'",
                           "did you mean delta?"),
    "envelope loss_fn": (lambda: ch.fit_envelope(NS, DS, LS, loss_fn="huber"),
                         "fit_envelope() got an unexpected keyword argument 'loss_fn'",
                         "fit_envelope takes no robust loss (its loss argument is the data)"),
    "bootstrap n_bootstrap": (lambda: bootstrap_mod.bootstrap(M, N, L, n_bootstrap=10),
                              "bootstrap() got an unexpected keyword argument 'n_bootstrap'",
                              "did you mean n_resamples?"),
    "bootstrap n_resample typo": (lambda: bootstrap_mod.bootstrap(M, N, L, n_resample=10),
                                  "bootstrap() got an unexpected keyword argument 'n_resample'",
                                  "did you mean n_resamples?"),
    "bootstrap loss_fn": (lambda: scalingfit.bootstrap(M, N, L, loss_fn="huber"),
                          "bootstrap() got an unexpected keyword argument 'loss_fn'",
                          "did you mean loss?"),
    "bootstrap_batch delta": (lambda: scalingfit.bootstrap_batch(M, N, L, [0, 12], delta=0.1),
                              "unexpected keyword argument 'delta'", "did you mean f_scale?"),
    "refit n_resamples": (lambda: refit_mod.refit("runs.csv", n_resamples=100),
                          "refit() got an unexpected keyword argument 'n_resamples'",
                          "did you mean bootstrap?"),
    "compare_refit loss_fn": (lambda: refit_compare_mod.compare_refit("runs.csv", ["a"], loss_fn="x"),
                              "unexpected keyword argument 'loss_fn'", "did you mean loss?"),
    "predict_final_loss n_bootstrap": (lambda: curves.predict_final_loss([], 0.5, n_bootstrap=10),
                                       "unexpected keyword argument 'n_bootstrap'",
                                       "did you mean n_resamples?"),
    "sigmoids random_state": (lambda: emergence.fit_sigmoids(N, L, random_state=1),
                              "unexpected keyword argument 'random_state'", "did you mean seed?"),
    "fit_nd confidence": (lambda: kaplan.fit_nd(NS, DS, LS, confidence=0.9),
                          "fit_nd() got an unexpected keyword argument 'confidence'",
                          "did you mean level?"),
    "fit_power_law (**kwargs) n_bootstrap": (
        lambda: kaplan.fit_power_law(N, L, n_bootstrap=10),
        "fit_power_law() got an unexpected keyword argument 'n_bootstrap'",  # was fit_many()
        "did you mean n_resamples?"),
    "compare_models n_jobs": (lambda: compare.compare_models([M], N, L, n_jobs=2),
                              "unexpected keyword argument 'n_jobs'", "did you mean threads?"),
    "coverage ci": (lambda: testtime.fit_coverage([1, 2, 4], [0.1, 0.2, 0.3], ci=0.9),
                    "unexpected keyword argument 'ci'", "did you mean level?"),
    "simulate_samples random_state": (lambda: testtime.simulate_samples([0.5], 3, random_state=1),
                                      "unexpected keyword argument 'random_state'",
                                      "did you mean seed or rng?"),
    "profile delta": (lambda: uncertainty.profile_interval(M, N, L, "alpha", delta=0.1),
                      "unexpected keyword argument 'delta'", "did you mean f_scale?"),
    "wald level twice": (lambda: uncertainty.wald_intervals(scalingfit.fit(M, N, L), 0.9, level=0.9),
                         "wald_intervals() got multiple values for argument 'level'",
                         ("level was given both by position and by keyword (wald_intervals's "
                          "arguments by position are result, level, cov)")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_wrong_name_gets_the_functions_own(case: str) -> None:
    call, original, hint = CASES[case]
    exc = _message(call)
    text = str(exc)
    assert original in text and hint in text, text
    assert text.index(original) < text.index(";") < text.index(hint)  # Python's text first
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


def test_the_message_keeps_pythons_text_first() -> None:
    exc = _message(lambda: ch.fit_isoflop(C, NS, LS, n_resamples=10))
    assert str(exc) == ("fit_isoflop() got an unexpected keyword argument 'n_resamples'; did you "
                        "mean n_bootstrap? (fit_isoflop's number of bootstrap resamples is "
                        "n_bootstrap)")


def test_no_match_lists_the_keyword_arguments() -> None:
    text = str(_message(lambda: ch.fit_envelope(NS, DS, LS, zzz=1)))
    assert text == ("fit_envelope() got an unexpected keyword argument 'zzz'; fit_envelope's "
                    "keyword arguments are: N, D, loss, run, n_flops, nan_policy")


def test_alpha_is_not_taken_for_a_level() -> None:
    """alpha is an exponent in this package, not 1 - level."""
    text = str(_message(lambda: bootstrap_mod.bootstrap(M, N, L, alpha=0.05)))
    assert "did you mean" not in text
    assert "keyword arguments are: model, x, y, n_resamples" in text


# ------------------------------------------------------------------ everything else unchanged
def test_a_type_error_inside_the_function_passes_through_unchanged() -> None:
    def both(f: Callable[..., Any]) -> str:
        return str(_message(lambda: f(C, NS, ["a"] * len(C))))
    assert both(ch.fit_isoflop) == both(ch.fit_isoflop.__wrapped__)  # type: ignore[attr-defined]
    assert "did you mean" not in both(ch.fit_isoflop)


def test_an_inner_call_of_the_same_name_is_not_taken_for_the_users() -> None:
    """The message's prefix alone would match: only the call's own binding error (no frame
    below the wrapper) gets the suggestion."""
    ns: dict[str, Any] = {}
    exec("def outer(*, n_resamples=0):\n    return n_resamples", ns)  # noqa: S102
    inner = ns["outer"]  # another function, also called outer

    @_validate.suggest_argument_names
    def outer(*, n_resamples: int = 0) -> Any:
        return inner(n_bootstrap=n_resamples)

    exc = _message(lambda: outer(n_resamples=3))
    assert str(exc) == "outer() got an unexpected keyword argument 'n_bootstrap'"
    # while the wrapped function's own call with that name gets the suggestion
    text = str(_message(lambda: outer(n_bootstrap=3)))
    assert text.endswith("got an unexpected keyword argument 'n_bootstrap'; did you mean "
                         "n_resamples? (outer's number of bootstrap resamples is n_resamples)")


def test_other_type_errors_of_the_call_are_as_python_raised_them() -> None:
    exc = _message(lambda: ch.fit_isoflop(C, NS))
    assert str(exc) == "fit_isoflop() missing 1 required positional argument: 'loss'"
    exc = _message(lambda: uncertainty.wald_intervals(scalingfit.fit(M, N, L), 0.9, None, 3))
    assert "did you mean" not in str(exc) and "positional argument" in str(exc)


@pytest.mark.parametrize("fn", DECORATED, ids=lambda f: f.__name__)
def test_signature_doc_names_and_pickling_are_unchanged(fn: Callable[..., Any]) -> None:
    raw = fn.__wrapped__  # type: ignore[attr-defined]
    assert inspect.signature(fn) == inspect.signature(raw)
    assert fn.__doc__ == raw.__doc__ and fn.__doc__
    assert (fn.__name__, fn.__qualname__, fn.__module__) == (raw.__name__, raw.__qualname__,
                                                           raw.__module__)
    assert getattr(importlib.import_module(fn.__module__), fn.__name__) is fn
    assert pickle.loads(pickle.dumps(fn)) is fn


def test_the_right_names_still_work() -> None:
    r = bootstrap_mod.bootstrap(M, N, L, n_resamples=50, level=0.9, seed=1)
    assert r.level == 0.9
    fit = ch.fit_isoflop(C, NS, LS, n_bootstrap=20, confidence=0.9, loss_fn="huber", f_scale=0.01)
    assert np.isfinite(fit.a)
    assert kaplan.fit_power_law(N, L, n_resamples=20, level=0.9).alpha > 0


def test_the_fit_power_law_options_are_fit_power_laws() -> None:
    params = inspect.signature(kaplan.fit_power_laws).parameters.values()
    assert kaplan._POWER_LAW_OPTIONS == {p.name for p in params if p.kind is p.KEYWORD_ONLY}


def test_the_synonyms_do_not_name_alpha_and_each_name_once() -> None:
    names = [n for _, group in _validate.ARGUMENT_SYNONYMS for n in group]
    assert "alpha" not in names
    assert len(names) == len(set(names))


def test_planning_functions_suggest_names_too() -> None:
    """The planning tools take n_boot and params=: a user's n_resamples= or law= gets the name."""
    from scalingfit import planning as P

    with pytest.raises(TypeError, match=r"bootstrap_data_constrained\(\) got an unexpected keyword argument "
                       r"'n_resamples'; did you mean n_boot\?"):
        P.bootstrap_data_constrained([1e8] * 5, [1e9] * 5, [1e9] * 5, [3.0] * 5, n_resamples=10)
    with pytest.raises(TypeError, match=r"inference_optimal\(\) got an unexpected keyword argument 'law'; did you "
                       r"mean params\?"):
        P.inference_optimal(2.0, 1e13, law={"E": 1.0})


def test_warnings_of_decorated_functions_point_at_the_callers_line() -> None:
    """The suggestion wrapper adds a frame: the package's warnings, set for the undecorated call
    chain, pointed at _validate.py instead of the user's line (filterwarnings(module=...)
    stopped matching). Wrapper frames are now skipped."""
    import warnings

    from scalingfit import compare_models

    N = np.logspace(7, 10, 12)
    L = 1.7 + 400 * N**-0.34
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_models(["power_law", "saturating_power_law"], N[:3], L[:3])  # 3 points: warns
    assert caught and all(w.filename == __file__ for w in caught), [(w.filename, w.lineno) for w in caught]
