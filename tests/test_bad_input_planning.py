"""Bad input to the planning, allocation, Kaplan, test-time, curve, emergence, simulation,
data-set and reproduction helpers: a ValueError/TypeError naming the argument (and the first
bad index), never an AttributeError, numpy's broadcast message, a silent NaN/inf or a
RuntimeWarning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scalingfit import allocation, curves, datasets, emergence, kaplan, simulate, testtime
from scalingfit import planning as P
from scalingfit import reproduce as rp
from scalingfit._warnings import DataWarning


def _curve() -> curves.Curve:
    step = np.arange(100, 2001, 100.0)
    lr = curves.cosine_schedule(step, peak=1e-3, warmup=200, total=2000)
    return curves.Curve("c", step, step * 1e6, 3.0 + step**-0.3, lr)


# ------------------------------------------------------------------ 1. objects where expected
def test_wrong_objects_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"train_hardware must be a Hardware .* got str 'h100'"):
        P.inference_optimal_cost(2.2, 1e12, train_hardware="h100")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"inference_hardware must be a Hardware .* got dict"):
        P.inference_optimal_cost(2.2, 1e12, inference_hardware={"mfu": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"verdicts\[0\] is int 1"):
        allocation.format_verdicts([1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"curves must be a sequence of Curve objects \(or a mapping .*\); curves\[0\] is int 1"):
        curves.predict_final_loss([1, 2], 0.5)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="got one Curve: wrap it in a list"):
        curves.check_curves(_curve())  # type: ignore[arg-type]
    for fn in (curves.calibrate_annealing, curves.check_curves):
        with pytest.raises(TypeError, match=r"curves\[1\] is str 'x'"):
            fn([_curve(), "x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"curves\[0\] is float"):
        curves.predict_final_loss_kaplan([1.0], 0.5)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="long must be a Curve, got list"):
        curves.midrun_gap(_curve(), [1, 2])  # type: ignore[arg-type]


# ------------------------------------------------------------------ 2. shapes that do not broadcast
def test_mismatched_lengths_name_both_arguments() -> None:
    with pytest.raises(ValueError, match=r"target_loss has shape \(2,\) but inference_tokens has shape \(3,\): they must broadcast"):
        P.inference_optimal([2.2, 2.3], [1e12, 1e13, 1e14])
    with pytest.raises(ValueError, match=r"input_tokens has shape \(2,\) but output_tokens has shape \(3,\)"):
        P.inference_optimal_cost(2.2, [1e12, 1e13], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"N has shape \(2,\) but D has shape \(3,\): they must broadcast"):
        kaplan.loss_ND([1e9, 2e9], [1e10, 1e11, 1e12])
    with pytest.raises(ValueError, match=r"N has shape \(2,\) but S has shape \(3,\)"):
        kaplan.loss_NS([1e9, 2e9], [1e4, 1e5, 1e6])
    with pytest.raises(ValueError, match=r"N has shape \(2,\) but D has shape \(3,\)"):
        kaplan.compute_flops([1e9, 2e9], [1e10, 1e11, 1e12])
    with pytest.raises(ValueError, match=r"N has shape \(2,\) but k has shape \(3,\)"):
        testtime.inference_flops([1e9, 2e9], 10, [1, 2, 3])
    with pytest.raises(ValueError, match=r"n has shape \(2,\) but c has shape \(3,\)"):
        testtime.pass_at_k([5, 5], [1, 2, 3], 1)
    with pytest.raises(ValueError, match=r"unique_tokens has shape \(2,\) but epochs has shape \(3,\)"):
        P.epochs_wall_compute([1e10, 2e10], [2.0, 3.0, 4.0])


def test_laws_name_mismatched_inputs_and_replicates() -> None:
    """The laws' own methods and the functions built on them name the arguments (was numpy's
    "operands could not be broadcast together")."""
    law = P.MUENNIGHOFF_2023
    a2, a3 = np.array([1e9, 2e9]), np.array([1e10, 2e10, 3e10])
    for call in (lambda: law.loss(a2, a3, a3), lambda: law.effective_params(a2, a3, a3),
                 lambda: P.simulate_data_constrained(law, a2, a3, a3), lambda: P.repetition_cost(4, N=a2, D=a3)):
        with pytest.raises(ValueError, match=r"N has shape \(2,\) but D has shape \(3,\): they must broadcast"):
            call()
    with pytest.raises(ValueError, match=r"D has shape \(2,\) but U has shape \(3,\)"):
        law.effective_data(a2, a3)
    with pytest.raises(ValueError, match=r"epochs has shape \(3,\) but N has shape \(2,\)"):
        P.repetition_cost([1, 2, 4], N=a2, D=a2)
    chin = P.as_law(P.HOFFMANN_2022)
    with pytest.raises(ValueError, match=r"N has shape \(2,\) but D has shape \(3,\)"):
        chin.loss(a2, a3)
    reps = {"E": [1.7, 1.7], "A": [400.0, 410.0], "B": 410.0, "alpha": 0.34, "beta": 0.28}
    with pytest.raises(ValueError, match=r"N has shape \(3,\) but the law \(its replicates\) has shape \(2,\)"):
        P.as_law(reps).loss(a3, 1e10)
    with pytest.raises(ValueError, match=r"law parameter E has shape \(2,\) but law parameter A has shape \(3,\)"):
        P.as_law({**reps, "A": [400.0, 410.0, 420.0]})
    with pytest.raises(ValueError, match=r"law parameter E has shape \(2,\) but law parameter A has shape \(3,\)"):
        P.inference_optimal(2.3, 1e12, params={**reps, "A": [400.0, 410.0, 420.0]})
    # what still broadcasts is unchanged: one value per replicate, and equal lengths
    np.testing.assert_allclose(P.as_law(reps).loss(1e9, 1e10),
                               1.7 + np.array([400.0, 410.0]) * 1e9**-0.34 + 410.0 * 1e10**-0.28, rtol=1e-14)
    np.testing.assert_allclose(law.loss(a3, a3, a3), [law.loss(n, n, n) for n in a3], rtol=1e-14)


# ------------------------------------------------------------------ 3. invalid options
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(peak=-1, warmup=10, total=100), ValueError, "peak must be finite and > 0, got -1"),
    (dict(peak=1.0, warmup=10, total=5), ValueError, "warmup must be <= total; got warmup = 10 > total = 5"),
    (dict(peak=1.0, warmup=np.nan, total=100), ValueError, "warmup must be finite and >= 0, got nan"),
    (dict(peak=1.0, warmup=10, total=100, final_ratio=2.0), ValueError, r"final_ratio .* must be in \[0, 1\]"),
    (dict(peak="1", warmup=10, total=100), TypeError, "peak must be a number, got str '1'"),
])
def test_cosine_schedule_options(kwargs, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        curves.cosine_schedule([0, 5, 50], **kwargs)


def test_invalid_numeric_options() -> None:
    with pytest.raises(ValueError, match="N must be finite and > 0, got -1"):
        testtime.inference_flops(-1, 10, [1])
    with pytest.raises(ValueError, match=r"k must be finite and >= 0; k\[1\] = -1.0"):
        testtime.inference_flops(7e9, 10, [1, -1])
    with pytest.raises(ValueError, match=r"p must be probabilities in \[0, 1\]; p\[1\] = 2.0"):
        testtime.simulate_samples([0.5, 2.0], 3)
    with pytest.raises(ValueError, match=r"epochs must be >= 1; epochs\[1\] = 0.5"):
        P.epochs_wall_compute(1e10, [2.0, 0.5])
    with pytest.raises(ValueError, match="fraction must be in"):
        curves.predict_final_loss([_curve()], 0.0)
    with pytest.raises(ValueError, match="min_points must be a positive integer, got 2.5"):
        curves.predict_final_loss([_curve()], 0.5, min_points=2.5)
    with pytest.raises(ValueError, match="n_sizes must be an integer in"):
        simulate.isoflop_sweep(n_sizes=4.5)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0, got True"):
        simulate.isoflop_sweep(noise=True)
    with pytest.raises(ValueError, match="threshold must be finite"):
        emergence.hidden_progress([1.0, 2.0, 3.0], [0.0, 0.0, 1.0], [3.0, 2.0, 1.0], threshold=np.nan)


def _pythia(folder: Path) -> None:
    (folder / "pythia_lambada_wide.csv").write_text(
        "model,deduped,params_nonembedding,step,tokens,num_fewshot,suspect_duplicate,acc,nll\n"
        "pythia-70m,False,18915328,1000,2000,0,False,0.1,4.0\n"
        "pythia-70m,False,18915328,1000,2000,5,False,0.2,3.0\n"
    )


@pytest.mark.parametrize("shots", [-1, "x", 1, 0.0, True, None])
def test_pythia_num_fewshot_must_be_present(tmp_path: Path, shots) -> None:  # type: ignore[no-untyped-def]
    _pythia(tmp_path)
    with pytest.raises(ValueError, match=r"num_fewshot must be one of the shot counts in the file, 0, 5; got"):
        datasets.load_pythia_lambada(tmp_path, num_fewshot=shots)


def test_pythia_num_fewshot_valid(tmp_path: Path) -> None:
    _pythia(tmp_path)
    assert [r["acc"] for r in datasets.load_pythia_lambada(tmp_path, num_fewshot=5)] == [0.2]
    assert [r["acc"] for r in datasets.load_pythia_lambada(tmp_path, num_fewshot=np.int64(0))] == [0.1]


def test_unknown_data_set_is_a_value_error_naming_the_known_ones() -> None:
    for call in (datasets.find, datasets.path):
        with pytest.raises(ValueError, match=r"unknown data set 'zz'; known: .*epoch_chinchilla_fig4"):
            call("zz")
        with pytest.raises(KeyError):  # older callers catching KeyError keep working
            call("zz")
    with pytest.raises(ValueError, match=r"'epoch_chinchilla_fig4' is not shipped .*; shipped: "):
        datasets.path("epoch_chinchilla_fig4")
    with pytest.raises(TypeError, match="name must be a data set name"):
        datasets.find(3)  # type: ignore[arg-type]


def test_explicit_missing_data_dir_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    with pytest.raises(ValueError, match=r"data_dir '.*nonexistent' is not a folder"):
        rp.reproduce(["porian"], data_dir=missing, n_bootstrap=0)
    with pytest.raises(ValueError, match=r"data_dir '.*nonexistent' is not a folder"):
        datasets.find("porian2024_isoflop", missing)
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got '1'"):
        rp.reproduce(["porian"], seed="1", n_bootstrap=0)
    with pytest.raises(TypeError, match=r"pass \['porian'\]"):
        rp.reproduce("porian", n_bootstrap=0)  # type: ignore[arg-type]


# ------------------------------------------------------------------ 4. NaN/inf, warnings
def test_out_of_range_targets_are_named() -> None:
    with pytest.raises(ValueError, match=r"target_loss = 2.2 with inference_tokens = 1e\+300 is out of range"):
        P.inference_optimal(2.2, 1e300)
    with pytest.raises(ValueError, match=r"at index 1 is out of range"):
        P.inference_optimal(2.2, [1e12, 1e300])
    with pytest.raises(ValueError, match=r"irreducible loss E = 1.69; got \[2.2, 1.5\] \(index 1\)"):
        P.inference_optimal([2.2, 1.5], 1e12)
    r = P.inference_optimal(2.2, [0.0, 1e12])  # in range: as before
    assert np.all(np.isfinite(r.N)) and r.saving_fraction[0] == pytest.approx(0.0, abs=1e-12)


def test_unreached_epochs_warn_with_the_budget() -> None:
    with pytest.warns(DataWarning, match=r"the first at index 0 \(epochs = 1e\+200\): their compute is NaN"):
        out = P.epochs_wall_compute(1e10, [1e200])
    assert np.isnan(out).all()
    assert np.isnan(P.epochs_wall_compute(1e10, [1e200], warn=False)).all()  # documented, quiet
    with pytest.raises(TypeError, match="warn must be True or False"):
        P.epochs_wall_compute(1e10, [2.0], warn="no")


def test_rank_correlation_of_a_constant_is_refused() -> None:
    N = np.logspace(7, 10, 8)
    with pytest.raises(ValueError, match=r"y is constant \(all 8 values are 1.0\)"):
        emergence.rank_correlation(N, np.ones(8))
    with pytest.raises(ValueError, match="x is constant"):
        emergence.rank_correlation(np.ones(3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 2 points, got 1"):
        emergence.rank_correlation([1.0], [2.0])
    assert emergence.rank_correlation([1, 2, 3], [3, 2, 1]) == -1.0


# ------------------------------------------------------------------ 5. text and bools refused
@pytest.mark.parametrize("call, match", [
    (lambda: P.inference_optimal("2.2", 1e12), "target_loss must be a number, got str '2.2'"),
    (lambda: P.inference_optimal(2.2, "1e12"), "inference_tokens must be a number"),
    (lambda: P.epochs_wall_compute(1e10, "4"), "epochs must be a number"),
    (lambda: P.data_wall(1e12, epochs="4"), "epochs must be a number"),
    (lambda: testtime.inference_flops("7e9", 10, 1), "N must be a number"),
    (lambda: testtime.inference_flops(7e9, "10", 1), "tokens_per_sample must be a number"),
    (lambda: allocation.flops("1e9", 1e9), "N must be a number"),
    (lambda: allocation.optimal_allocation(["1e20"], {"E": 1.8, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3}),
     "C must be a number, got text"),
    (lambda: kaplan.frontier_from_laws("1e20"), "C must be a number or an array of numbers"),
    (lambda: kaplan.chinchilla_optimal_N(1e20, exponent="0.5"), "exponent must be a number"),
    (lambda: curves.cosine_schedule("5", peak=1.0, warmup=1, total=10), "step must be a number"),
    (lambda: simulate.isoflop_sweep(span="1"), "span must be a number"),
    (lambda: simulate.training_curves(sizes="1e9"), "sizes must be a number"),
])
def test_text_is_refused(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=match):
        call()


def test_flags_refuse_strings() -> None:
    with pytest.raises(TypeError, match="log_x must be True or False"):
        emergence.sharpness([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], log_x="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="show must be True or False"):
        allocation.training_verdict(show="no")  # type: ignore[arg-type]


# ------------------------------------------------------------------ 6. every numeric argument checked
_N12 = np.logspace(7, 11, 12)
_LADDER = dict(N=np.logspace(8, 9, 6), D=20 * np.logspace(8, 9, 6), final_loss=[0.5 + 100 * np.logspace(8, 9, 6) ** -0.3],
               step2_loss=[np.linspace(0.6, 1.2, 8)], step2_metric=[np.linspace(0.7, 0.3, 8)],
               target_N=7e9, target_D=1.4e11)
_C13 = np.logspace(10, 16, 13)
_ACC13 = 0.1 + 0.7 / (1 + np.exp(-1.2 * (np.log(_C13) - np.log(1e13))))


def _metrics() -> dict:
    return emergence.metrics_from_tokens(emergence.simulate_per_token(_N12, n_examples=50, seed=3))


@pytest.mark.parametrize("call, exc, match", [
    # simulate_per_token: numpy's "negative dimensions are not allowed" and silent NaN before
    (lambda: emergence.simulate_per_token(_N12, length=-1), ValueError, "length must be a positive integer, got -1"),
    (lambda: emergence.simulate_per_token(_N12, n_examples=2.5), ValueError, "n_examples must be a positive integer, got 2.5"),
    (lambda: emergence.simulate_per_token([1e9, np.nan]), ValueError, r"scale must be finite and > 0; scale\[1\] = nan"),
    (lambda: emergence.simulate_per_token(_N12, N_c="3e9"), TypeError, "N_c must be a number, got str '3e9'"),
    (lambda: emergence.simulate_per_token(_N12, alpha=-0.5), ValueError, "alpha must be finite and > 0, got -0.5"),
    (lambda: emergence.simulate_per_token(_N12, spread=np.nan), ValueError, "spread must be finite and >= 0, got nan"),
    (lambda: emergence.simulate_per_token(_N12, seed=-1), ValueError, r"seed must be an integer in \[0, 2\*\*64\), got -1"),
    (lambda: emergence.simulate_per_token([1e-300, 1e9], spread=1e3, n_examples=50, length=2), ValueError,
     "spread = 1000.0 is too large"),
    # metric_choice
    (lambda: emergence.metric_choice(_N12, _metrics(), n_fit=7.5), ValueError,
     r"n_fit must be an integer in \[4, 11\] for 12 scales, got 7.5"),
    (lambda: emergence.metric_choice(["1e7"] * 12, _metrics()), TypeError, "scale must be a number, got text"),
    (lambda: emergence.metric_choice(-_N12, _metrics()), ValueError, r"scale must be finite and > 0; scale\[0\] = -1"),
    (lambda: emergence.metric_choice(_N12, {**_metrics(), "brier": ["x"] * 12}), TypeError,
     r"metrics\['brier'\] must be a number, got text"),
    (lambda: emergence.metric_choice(_N12, {"brier": np.r_[np.zeros(11), np.nan]}), ValueError,
     r"metrics\['brier'\] must be finite; metrics\['brier'\]\[11\] = nan"),
    (lambda: emergence.metric_choice(_N12, _metrics(), bounded_floor=np.nan), ValueError, "bounded_floor must be finite, got nan"),
    (lambda: emergence.metric_choice(_N12, _metrics(), bounded_ceiling="1"), TypeError, "bounded_ceiling must be a number"),
    (lambda: emergence.metric_choice(_N12, _metrics(), bounded_floor=1.0, bounded_ceiling=0.0), ValueError,
     "bounded_floor = 1.0 must be below bounded_ceiling = 0.0"),
    (lambda: emergence.metric_choice(_N12, [1.0] * 12), TypeError, "metrics must be a mapping"),
    # task_ladder
    (lambda: emergence.task_ladder(["t"], **{**_LADDER, "N": _LADDER["N"].astype(str)}), TypeError, "N must be a number, got text"),
    (lambda: emergence.task_ladder(["t"], **{**_LADDER, "final_loss": [["x"] * 6]}), TypeError,
     r"final_loss\[0\] must be a number, got text"),
    (lambda: emergence.task_ladder(["t"], **{**_LADDER, "target_N": np.nan}), ValueError, "target_N must be finite and > 0, got nan"),
    (lambda: emergence.task_ladder(["t"], **{**_LADDER, "target_D": "1e11"}), TypeError, "target_D must be a number, got str"),
    (lambda: emergence.task_ladder(["t"], chance=[np.nan], **_LADDER), ValueError, r"chance must be finite; chance\[0\] = nan"),
    (lambda: emergence.task_ladder(["t"], target_loss=0.5, **_LADDER), ValueError, r"target_loss has shape \(\) for 1 tasks"),
    (lambda: emergence.task_ladder(["t"], ceiling_point=100, **_LADDER), ValueError,
     r"ceiling_point = 100 is not an accuracy in \[0, 1\]"),
    (lambda: emergence.task_ladder(["t"], **{**_LADDER, "step2_loss": [[0.6, np.nan] * 4]}), ValueError,
     r"step2_loss\[0\] must be finite; .* the first at index 1: nan"),
    (lambda: emergence.task_ladder(["t"], **{**_LADDER, "step2_loss": [[0.6] * 7]}), ValueError,
     r"step2_loss\[0\] and step2_metric\[0\] need one value per point .* got shapes \(7,\) and \(8,\)"),
    (lambda: emergence.task_ladder("t", **_LADDER), TypeError, "tasks must be a sequence of task names, got one str 't'"),
    # testtime.fit_accuracy_vs_compute: numpy's "could not convert string to float", a NaN floor
    # named as a bound
    (lambda: testtime.fit_accuracy_vs_compute([_C13.astype(str)], [_ACC13]), TypeError, r"flops\[0\] must be a number, got text"),
    (lambda: testtime.fit_accuracy_vs_compute(np.r_[_C13[:-1], -1.0], _ACC13), ValueError,
     r"flops must be finite and > 0; flops\[12\] = -1.0"),
    (lambda: testtime.fit_accuracy_vs_compute(_C13, np.r_[_ACC13[:-1], np.nan]), ValueError,
     r"accuracy must be finite; accuracy\[12\] = nan"),
    (lambda: testtime.fit_accuracy_vs_compute([_C13], [_ACC13], floor=np.nan), ValueError, "floor must be finite, got nan"),
    (lambda: testtime.fit_accuracy_vs_compute([_C13], [_ACC13], ceiling="0.8"), TypeError, "ceiling must be a number, got str"),
    (lambda: testtime.fit_accuracy_vs_compute([_C13], [_ACC13], floor=0.9, ceiling=0.1), ValueError,
     "floor = 0.9 must be below ceiling = 0.1"),
    (lambda: testtime.fit_accuracy_vs_compute([_C13, _C13], [_ACC13]), ValueError, "2 flops arrays but 1 accuracy arrays"),
])
def test_emergence_and_testtime_check_every_number(call, exc, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        call()


def test_simulate_per_token_unchanged_on_valid_input() -> None:
    sim = emergence.simulate_per_token([1e8, 1e10], n_examples=5, length=3, seed=7)
    rng = np.random.default_rng(7)
    z = rng.standard_normal(5)
    ce = (3e9 / np.array([1e8, 1e10]))[:, None, None] ** 0.6 * np.exp(0.3 * z)[None, :, None]
    prob = np.broadcast_to(np.exp(-ce), (2, 5, 3))
    assert np.array_equal(sim.prob, prob)
    assert np.array_equal(sim.correct, rng.random(prob.shape) < prob)


def _chinchilla_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scalingfit import chinchilla as ch

    N = np.repeat([1e8, 3e8, 1e9], 3)
    D = np.tile([2e9, 6e9, 2e10], 3)
    return N, D, ch.EPOCH_2024.loss(N, D)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(best_rtol=-1), ValueError, "best_rtol must be finite and >= 0, got -1"),
    (dict(best_rtol=np.nan), ValueError, "best_rtol must be finite and >= 0, got nan"),
    (dict(best_rtol="0"), TypeError, "best_rtol must be a number, got str '0'"),
    (dict(delta="x"), TypeError, "delta must be a number, got str 'x'"),
    (dict(delta=np.nan), ValueError, "delta must be positive and finite, got nan"),
    (dict(drop_highest=np.nan), ValueError, "drop_highest must be a non-negative integer, got nan"),
    (dict(drop_highest="1"), ValueError, "drop_highest must be a non-negative integer, got '1'"),
    (dict(drop_highest=True), ValueError, "drop_highest must be a non-negative integer, got True"),
])
def test_fit_parametric_options(kwargs, exc, match) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import chinchilla as ch

    with pytest.raises(exc, match=match):
        ch.fit_parametric(*_chinchilla_points(), grid="guess", **kwargs)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(window="6"), TypeError, "window must be a number, got str '6'"),
    (dict(window=np.nan), ValueError, r"window must be > 0 \(inf allowed\), got nan"),
    (dict(scan_windows=[2.0, "x"]), TypeError, "scan_windows must be a number, got text"),
    (dict(scan_windows=3.0), TypeError, "scan_windows must be an iterable of window factors, got 3.0"),
    (dict(scan_windows=[2.0, 0.5]), ValueError, "windows are factors in N and must be > 1, got 0.5"),
    (dict(confidence="0.9"), TypeError, "confidence must be a number, got str '0.9'"),
    (dict(confidence=np.nan), ValueError, "confidence must be finite, got nan"),
    (dict(min_side=np.nan), ValueError, "min_side must be an integer >= 0, got nan"),
    (dict(degree=2.5), ValueError, r"degree must be 2 \(parabola\) or 3 \(cubic\), got 2.5"),
    (dict(degree=True), ValueError, r"degree must be 2 \(parabola\) or 3 \(cubic\), got True"),
    (dict(weighted="no"), TypeError, "weighted must be True or False, got 'no'"),
])
def test_fit_isoflop_options(kwargs, exc, match) -> None:  # type: ignore[no-untyped-def]
    from scalingfit import chinchilla as ch

    s = simulate.isoflop_sweep(seed=0)
    with pytest.raises(exc, match=match):
        ch.fit_isoflop(s.C, s.N, s.loss, **kwargs)


def test_fit_envelope_optima_and_objective_options() -> None:
    """n_flops=inf was an OverflowError, "x" int()'s message; a float32 confidence was refused
    and text named as out of range; text in huber_objective's arrays numpy's message."""
    from scalingfit import chinchilla as ch

    c = simulate.training_curves(seed=0)
    for bad in (np.inf, np.nan, "x", None):
        with pytest.raises(ValueError, match=r"n_flops must be an integer in \[2, 1000000\]"):
            ch.fit_envelope(c.N, c.D, c.loss, n_flops=bad)
    with pytest.raises(TypeError, match="confidence must be a number, got str '0.9'"):
        ch.fit_optima([1e20, 1e21], [1e9, 2e9], confidence="0.9")
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got -1"):
        ch.fit_optima([1e20, 1e21], [1e9, 2e9], n_bootstrap=10, seed=-1)
    f = ch.fit_optima([1e20, 1e21, 1e22], [1e9, 2e9, 5e9], confidence=np.float32(0.9), n_bootstrap=10, seed=1)
    assert f.confidence == pytest.approx(0.9)
    N, D, L = _chinchilla_points()
    with pytest.raises(TypeError, match="N must be a number, got text"):
        ch.huber_objective(ch.EPOCH_2024, N.astype(str), D, L)


def test_as_law_refuses_unknown_keys() -> None:
    from scalingfit import chinchilla as ch

    law = ch.EPOCH_2024
    with pytest.raises(ValueError, match=r"params has unknown key\(s\) 'gamma': a law takes exactly E, A, B, "
                                         r"alpha, beta \(or a, b, e, alpha, beta in logs\)"):
        ch.as_law({**law.as_dict(), "gamma": 5})
    logs = dict(zip(("a", "b", "e", "alpha", "beta"), law.log_params()))
    with pytest.raises(ValueError, match=r"params has unknown key\(s\) 'E': a law takes exactly a, b, e, alpha, beta"):
        ch.as_law({**logs, "E": 1.0})
    with pytest.raises(ValueError, match="unknown key"):
        allocation.optimal_allocation(1e20, {**law.as_dict(), "Alpha": 0.3})
    with pytest.raises(TypeError, match=r"params\['E'\] must be a number, got str 'x'"):
        ch.as_law({**law.as_dict(), "E": "x"})
    with pytest.raises(ValueError, match="params: E must be finite, got nan"):
        ch.as_law({**law.as_dict(), "E": np.nan})
    assert ch.as_law(law.as_dict()) == law and ch.as_law(logs).A == pytest.approx(law.A)
    # The planning tools' own law reader: a key it would ignore is refused too.
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'gamma': a law takes exactly E, A, B, alpha, beta"):
        P.inference_optimal(2.5, 1e12, {**law.as_dict(), "gamma": 5})
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'bta'"):
        P.as_law({**law.as_dict(), "bta": 0.3})
    assert float(P.as_law(law.as_dict()).A) == law.A


def test_sigmoid_fits_refuse_text() -> None:
    """Text inside the curves was converted to numbers by np.asarray ("0.5" -> 0.5)."""
    x = np.logspace(7, 10, 10)
    acc = 0.25 + 0.6 / (1 + np.exp(-3 * (np.log(x) - np.log(1e8))))
    with pytest.raises(TypeError, match=r"ys\[1\] must be a number, got text"):
        emergence.fit_sigmoids([x, x], [acc, acc.astype(str)])
    with pytest.raises(TypeError, match="xs must be a number, got text"):
        emergence.fit_sigmoids([x.astype(str)], [acc])
    L = 1.8 + 300 * x ** -0.3
    with pytest.raises(TypeError, match="metric_for_step2 must be a number, got text"):
        emergence.fit_two_step(x, L, acc, metric_for_step2=acc.astype(str))


def test_schedule_steps_and_error_link_inputs_are_checked() -> None:
    """A negative step gave a negative learning rate (lr_areas refuses it); text losses were
    fitted as numbers and named x."""
    with pytest.raises(ValueError, match=r"step must be finite and >= 0; step\[0\] = -5.0"):
        curves.cosine_schedule([-5, 5], peak=1, warmup=2, total=10)
    np.testing.assert_allclose(curves.cosine_schedule([0, 1, 2], peak=1, warmup=2, total=10), [0.0, 0.5, 1.0])
    with pytest.raises(TypeError, match="loss must be a number, got text"):
        P.fit_error_link(["2", "3", "4", "5"], [0.5, 0.4, 0.3, 0.25])
    with pytest.raises(ValueError, match=r"error must be finite; error\[1\] = nan"):
        P.fit_error_link([2.0, 3.0, 4.0, 5.0], [0.5, np.nan, 0.3, 0.25])


def test_planning_takes_a_chinchilla_fit() -> None:
    """inference_optimal(params=fit) raised "law parameters must be a mapping ... got FitResult"."""
    from scalingfit import fit
    N = np.repeat(np.logspace(7, 9, 5), 4)
    D = N * np.tile([5.0, 10.0, 20.0, 40.0], 5)
    L = (1.69 + 406.4 * N**-0.34 + 410.7 * D**-0.28) * np.exp(0.005 * np.random.default_rng(0).standard_normal(N.size))
    r = fit("chinchilla", (N, D), L)
    law = P.as_law(r)
    np.testing.assert_allclose([law.E, law.A, law.B, law.alpha, law.beta], r.x, rtol=0)
    by_fit = P.inference_optimal(2.3, 1e12, params=r)
    by_dict = P.inference_optimal(2.3, 1e12, params=r.params)
    assert by_fit.N == by_dict.N and by_fit.D == by_dict.D
    with pytest.raises(ValueError, match="a fit of 'power_law' is not a Chinchilla law"):
        P.as_law(fit("power_law", N, L))
