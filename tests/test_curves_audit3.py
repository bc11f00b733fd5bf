"""scalingfit.curves, third audit: predictions whose fit is singular or did not converge warn
once per call (naming the runs) and carry a status and a reason (a NaN prediction is never
status 0); Kaplan's L(N, S) leaves out runs with too few checkpoints by name; check_curves
flags only real upward jumps as spikes (not a model's misfit of a smooth decreasing curve at
its edge) and gives failed fits a reason; the interval coverage quoted in the docs on the OLMo
ladder. Synthetic cases always run; the real-data ones skip without ../shared/data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
import scalingfit.curves as cu
from scalingfit import ConvergenceWarning, DataWarning, IdentifiabilityWarning


def _one(category: type[Warning], fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``fn(*args, **kwargs)`` and the one scalingfit warning it gave, of ``category``."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    ours = [w for w in got if issubclass(w.category, scalingfit.ScalingFitWarning)]
    assert len(ours) == 1, [str(w.message) for w in got]
    assert ours[0].category is category, (ours[0].category, str(ours[0].message))
    assert ours[0].filename == __file__  # it points at the caller's line
    return out, str(ours[0].message)


# ----------------------------------------------------------------------------- synthetic
def _rising() -> cu.Curve:
    st = np.arange(100, 10001, 100.0)
    return cu.Curve("rising", st, st * 1e6, 2 + st * 1e-4)


def _toy(name: str = "toy", seed: int = 0) -> cu.Curve:
    rng = np.random.default_rng(seed)
    st = np.arange(100, 10001, 100.0)
    return cu.Curve(name, st, st * 1e6, (2.0 + 30.0 * st ** -0.4) * (1 + 0.001 * rng.standard_normal(st.size)))


# pythia-1b-deduped, LAMBADA NLL from step 3000 on (pythia_evals, rounded): learning_curve on
# the first half stops at the iteration limit (status 0) and keeps no parameters
_PY_STEP = np.array([3000, 13000, 23000, 33000, 43000, 53000, 63000, 73000, 83000, 93000, 103000, 113000,
                     123000, 133000, 143000], dtype=float)
_PY_NLL = np.array([3.78412, 2.76577, 2.38314, 2.34378, 2.22628, 2.22393, 2.22118, 2.15729, 2.18394,
                    2.06222, 2.04365, 2.03178, 2.00287, 2.00898, 2.00272])


def _stuck() -> cu.Curve:
    return cu.Curve("stuck", _PY_STEP, _PY_STEP * 2097152, _PY_NLL)


def test_singular_power_law_fit_warns_and_says_why() -> None:
    """A rising curve: the power law's fit is singular (status -2); its prediction (2.155
    against 3.0) came back with no warning."""
    p, msg = _one(IdentifiabilityWarning, cu.predict_final_loss, [_rising()], 0.3, method="power_law")
    assert "'rising'" in msg and "singular" in msg
    assert p.status.tolist() == [-2]
    assert p.predicted[0] == pytest.approx(2.155, abs=1e-3) and p.actual[0] == pytest.approx(3.0)
    assert np.isnan(p.interval[0]).all()
    assert "singular" in p.reasons[0] and "interval is NaN" in p.reasons[0]
    assert "rising: singular" in repr(p)


def test_nan_prediction_is_never_status_0_and_warns_once_for_the_call() -> None:
    good = [_toy(f"ok{i}", i) for i in range(3)]
    curves = [good[0], _stuck(), good[1], _rising(), good[2]]
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        p = cu.predict_final_loss(curves, 0.5, method="learning_curve")
    ours = [w for w in got if issubclass(w.category, scalingfit.ScalingFitWarning)]
    assert len(ours) == 1, [str(w.message) for w in ours]  # one for the call, not one per run
    assert ours[0].category is ConvergenceWarning
    msg = str(ours[0].message)
    assert "'stuck'" in msg and "ok0" not in msg
    j = p.names.index("stuck")
    assert p.fits[j].status == 0 and np.isnan(p.predicted[j])
    assert p.status[j] == -1 and "status 0" in p.reasons[j] and "maximum number of iterations" in p.reasons[j]
    for j, name in enumerate(p.names):
        if name.startswith("ok"):
            assert p.status[j] > 0 and p.reasons[j] == "" and np.isfinite(p.predicted[j])
    # the rule, for every run of every method here: NaN prediction <=> status < 0 and a reason
    for method in ("power_law", "learning_curve"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            q = cu.predict_final_loss(curves, 0.5, method=method)
        for s, v, r in zip(q.status, q.predicted, q.reasons):
            assert not (np.isnan(v) and s >= 0), (method, s, v)
            assert (s > 0) == (r == ""), (method, s, r)


def test_the_status_0_fit_alone() -> None:
    p, msg = _one(ConvergenceWarning, cu.predict_final_loss, [_stuck()], 0.5, method="learning_curve")
    assert "did not converge" in p.reasons[0] or "no converged fit" in msg
    assert p.status.tolist() == [-1] and np.isnan(p.predicted[0])


def _kaplan(N: float, S: np.ndarray) -> np.ndarray:
    return (8.8e13 / N) ** 0.076 + (2.1e3 / S) ** 0.76


def _kaplan_sweep(Ns: tuple[float, ...] = (1e8, 3e8, 1e9, 3e9), seed: int = 0) -> list[cu.Curve]:
    rng = np.random.default_rng(seed)
    out = []
    for i, N in enumerate(Ns):
        st = np.arange(100, 20001, 100.0) * (1 + i % 2)
        out.append(cu.Curve(f"k{i}", st, st * 1e6, _kaplan(N, st) * (1 + 0.002 * rng.standard_normal(st.size)), N=N))
    return out


def test_a_fit_held_by_a_default_bound_warns_and_says_which() -> None:
    """A converged fit whose exponent (alpha = 6 in the data, above the default bound 5) or
    floor (an exponential decay read as a power law: E wants to go below 0) ends on the
    package's default bounds keeps its status and prediction, but warns once and names the
    parameter; the same fit with bounds given by the user is the user's choice: silent."""
    t = np.linspace(1e9, 1e10, 40)
    steep = cu.Curve("steep", np.arange(40.0), t, 2 + 0.5 * (t / 1e9) ** -6.0)
    p, msg = _one(IdentifiabilityWarning, cu.predict_final_loss, [steep], 0.5, method="learning_curve")
    assert "a parameter on its default bound" in msg and "['steep']" in msg
    assert p.status[0] > 0 and np.isfinite(p.predicted[0])
    assert p.fits[0].params["alpha"] == 5.0
    assert p.reasons[0].startswith("alpha = 5 on its default bound (0.05, 5)")
    decay = cu.Curve("decay", np.arange(40.0), t, 2 + 3 * np.exp(-t / 2e9))
    p, msg = _one(IdentifiabilityWarning, cu.predict_final_loss, [decay], 0.5, method="power_law")
    assert p.fits[0].params["E"] == 0.0 and p.reasons[0].startswith("E = 0 on its default bound (0, inf)")
    assert abs(p.relative_error[0]) > 0.1  # 1.75 against 2.02: the warning is earned
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalingfit.ScalingFitWarning)
        p = cu.predict_final_loss([decay], 0.5, method="power_law",
                                  bounds={"E": (0.0, np.inf), "A": (0.0, np.inf), "alpha": (0.05, 5.0)})
        assert p.reasons == [""]
        p = cu.predict_final_loss([_toy()], 0.5, method="power_law")  # an ordinary fit: silent
        assert p.reasons == [""]


def test_kaplan_runs_with_too_few_checkpoints_are_left_out_by_name() -> None:
    sweep = _kaplan_sweep()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = cu.predict_final_loss_kaplan(sweep, 0.3)
    assert (ref.status > 0).all() and all(r == "" for r in ref.reasons)
    st = np.array([100.0, 200.0, 10000.0, 20000.0])  # 2 checkpoints in the first 30%
    short = cu.Curve("short", st, st * 1e6, _kaplan(5e8, st), N=5e8)
    p, msg = _one(DataWarning, cu.predict_final_loss_kaplan, sweep + [short], 0.3)
    assert "'short': 2" in msg
    assert p.status.tolist()[-1] == -3 and np.isnan(p.predicted[-1]) and np.isnan(p.interval[-1]).all()
    assert "2 checkpoint(s)" in p.reasons[-1] and p.n_points[-1] == 0
    np.testing.assert_array_equal(p.predicted[:-1], ref.predicted)  # the others' fit is unchanged
    # min_points is the caller's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = cu.predict_final_loss_kaplan(sweep + [short], 0.3, min_points=2)
    assert q.status[-1] > 0 and q.n_points[-1] == 2
    # nothing left to fit: a ValueError naming each run's count
    with pytest.raises(ValueError, match=r"'short': 2.*raise fraction"):
        cu.predict_final_loss_kaplan([short], 0.3)
    with pytest.raises(ValueError, match="min_points"):
        cu.predict_final_loss_kaplan(sweep, 0.3, min_points=0)


def test_kaplan_on_one_model_size_is_singular_and_says_so() -> None:
    one = [c for c in _kaplan_sweep((1e9, 1e9, 1e9))]
    p, msg = _one(IdentifiabilityWarning, cu.predict_final_loss_kaplan, one, 0.3)
    assert p.status.tolist() == [-2, -2, -2]
    assert "every fitted run has N = 1e+09" in msg and "['k0', 'k1', 'k2']" in msg
    assert all("N_c and alpha_N" in r for r in p.reasons)


def test_smooth_monotone_curve_has_no_spike_without_lr() -> None:
    """``2.5 + 3 (s/1000)^-0.4 + 2 e^{-s/600}`` with 0.1% noise: learning_curve misses the
    exponential at the start, and checkpoint 0 was flagged as a spike (seeds 3, 4, 5, 8)."""
    s = np.arange(100, 10001, 100.0)
    for seed in (3, 4, 5, 8):
        rng = np.random.default_rng(seed)
        loss = (2.5 + 3 * (s / 1000) ** -0.4 + 2 * np.exp(-s / 600)) * (1 + 0.001 * rng.standard_normal(s.size))
        assert np.all(np.diff(loss[:10]) < 0)  # the start falls monotonically
        clean = cu.Curve("smooth", s, s * 1e6, loss)
        spiky = loss.copy()
        spiky[30] *= 1.05
        last = loss.copy()
        last[-1] *= 1.05
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = cu.check_curves([clean, cu.Curve("spike", s, s * 1e6, spiky), cu.Curve("last", s, s * 1e6, last)])
        assert got[0].spikes.tolist() == [] and got[0].consistent and got[0].reason == "", (seed, got[0])
        assert got[1].spikes.tolist() == [30] and not got[1].consistent and "[30]" in got[1].reason
        assert got[2].spikes.tolist() == [99] and not got[2].consistent


def test_a_falling_first_checkpoint_is_never_a_spike() -> None:
    """The residual criterion alone flags a checkpoint the fit misses at the curve's edge; with
    the losses, only a rise of the loss itself counts (the same residuals, same z)."""
    res = np.zeros(20)
    res[0] = 0.5  # the model under-shoots the first checkpoint badly
    res[1:] = 1e-3 * np.random.default_rng(1).standard_normal(19)
    falling = 5.0 - 0.1 * np.arange(20)
    assert cu._robust_spikes(res, 6.0).tolist() == [0]
    assert cu._robust_spikes(res, 6.0, falling).tolist() == []
    bump = falling.copy()
    bump[10] += 0.3
    res2 = res.copy()
    res2[10] += 0.3
    assert cu._robust_spikes(res2, 6.0, bump).tolist() == [10]


def test_check_curves_gives_a_failed_fit_a_reason_and_warns_once() -> None:
    s = np.r_[0.0, 2.0 ** np.arange(10), 1000.0, 3000.0, np.arange(13000.0, 143001.0, 10000.0)]
    plateau = cu.Curve("plateau", s, s * 2e6, 2 + 8 / (1 + (s / 900) ** 2) + 0.01 * np.sin(s))
    got, msg = _one(ConvergenceWarning, cu.check_curves, [_toy("a"), plateau, _toy("b", 1)])
    assert "'plateau (0)'" in msg and "'a" not in msg
    assert np.isnan(got[1].rmse) and not got[1].consistent and got[1].status == 0
    assert "did not converge" in got[1].reason and "no rmse" in got[1].reason
    assert got[0].consistent and got[0].reason == "" and got[0].status > 0


# ----------------------------------------------------------------------------- real data
def _ladder(lr: bool = True) -> dict[str, cu.Curve]:
    from scaling_data import ladder_curves, ladder_runs

    runs, cur = ladder_runs(), ladder_curves("c4_en")
    return {r: cu.Curve(r, cur[r]["step"], cur[r]["tokens"], cur[r]["loss"], cur[r]["lr"] if lr else None,
                        N=runs[r]["N"]) for r in sorted(cur)}


def _pythia() -> dict[str, cu.Curve]:
    from scaling_data import pythia_lambada

    rows = pythia_lambada()
    out = {}
    for m in sorted({r["model"] for r in rows}):
        rr = sorted((r for r in rows if r["model"] == m), key=lambda r: r["step"])
        out[m] = cu.Curve(m, [r["step"] for r in rr], [r["tokens"] for r in rr], [r["nll"] for r in rr])
    return out


def test_kaplan_on_the_760m_runs_alone_warns(shared_data) -> None:
    """All six 760M runs (one N): status -2 on every run and predictions up to 5.3% off, with
    NaN intervals, silently."""
    c = _ladder()
    m760 = [c[r] for r in c if r.startswith("760M-")]
    p, msg = _one(IdentifiabilityWarning, cu.predict_final_loss_kaplan, m760, 0.3)
    assert len(m760) == 6 and (p.status == -2).all() and np.isnan(p.interval).all()
    assert float(np.max(np.abs(p.relative_error))) == pytest.approx(0.053, abs=1e-3)
    assert "6 of 6" in msg and "N = 7.582e+08" in msg


def test_kaplan_at_one_percent_names_the_short_runs(shared_data) -> None:
    """Fraction 0.01 of the five 10xC runs: 0, 1, 0, 2, 1 checkpoints (4 for 4 parameters),
    status 0 and NaN everywhere, silently. Now a ValueError naming each run's count."""
    c = _ladder()
    ten = [c[r] for r in c if r.endswith("-10xC")]
    with pytest.raises(ValueError, match=r"'190M-10xC': 0, '1B-10xC': 1, '370M-10xC': 0, '3B-10xC': 2, "
                                         r"'760M-10xC': 1"):
        cu.predict_final_loss_kaplan(ten, 0.01)


def test_pythia_learning_curve_nan_is_not_silent(shared_data) -> None:
    py = _pythia()
    p, msg = _one(ConvergenceWarning, cu.predict_final_loss, [py["pythia-1b-deduped"]], 0.5, start_fraction=0.02,
                  method="learning_curve")
    assert np.isnan(p.predicted[0]) and p.status.tolist() == [-1] and p.fits[0].status == 0
    assert "'pythia-1b-deduped'" in msg


def test_olmo_learning_curve_at_ten_percent_names_its_two_unfitted_runs(shared_data) -> None:
    """Two 1xC reruns have 5 and 6 checkpoints after warm-up in the first 10%: their
    learning_curve fits stop at the iteration limit (NaN predictions, silent before)."""
    c = _ladder()
    from scaling_data import ladder_runs

    ev = [c[r] for r in c if ladder_runs()[r]["mult"] >= 1]
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        p = cu.predict_final_loss(ev, 0.1, method="learning_curve")
    conv = [w for w in got if w.category is ConvergenceWarning]
    assert len(conv) == 1 and "['370M-1xC-rerun', '760M-1xC-rerun']" in str(conv[0].message)
    nan = [n for n, v in zip(p.names, p.predicted) if np.isnan(v)]
    assert all(p.status[p.names.index(n)] < 0 and p.reasons[p.names.index(n)] for n in nan)


def test_olmo_curves_without_lr_have_no_false_spikes(shared_data) -> None:
    """Without lr every one of the 30 C4 curves was flagged with a 'spike' at checkpoint 0 or 1,
    where the loss falls monotonically. Now all 30 are consistent, as with lr."""
    for lr in (False, True):
        curves = list(_ladder(lr).values())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = cu.check_curves(curves)
        assert len(got) == 30
        assert [g.name for g in got if not g.consistent] == [], [(g.name, g.reason) for g in got if not g.consistent]


def test_pythia_check_curves_spikes_and_failed_fits(shared_data) -> None:
    """Steps 512 and 13000 (where the NLL falls) were flagged as spikes; the fits that failed had
    rmse NaN with no warning or reason. The bump at step 8 (above both neighbours, 3.8% over
    step 4 on pythia-6.9b) is a real upward jump and stays flagged."""
    py = _pythia()
    curves = list(py.values())
    got, msg = _one(ConvergenceWarning, cu.check_curves, curves)
    steps = {g.name: py[g.name].step[g.spikes].tolist() for g in got}
    assert all(512.0 not in s and 13000.0 not in s for s in steps.values()), steps
    assert steps["pythia-6.9b"] == [8.0]
    for g, cv in zip(got, curves):
        for i in g.spikes:  # each flagged checkpoint rises above both neighbours
            assert cv.loss[i] > cv.loss[i - 1] and cv.loss[i] > cv.loss[i + 1]
    failed = [g for g in got if np.isnan(g.rmse)]
    assert len(failed) == 6
    for g in failed:
        assert not g.consistent and g.status <= 0 and "did not converge" in g.reason
        assert f"'{g.name} ({g.status})'" in msg


def _covered(p: cu.FinalLossPrediction) -> np.ndarray:
    return (p.interval[:, 0] <= p.actual) & (p.actual <= p.interval[:, 1])


def test_olmo_interval_coverage_quoted_in_the_docs(shared_data) -> None:
    """The share of the 30 C4 final losses inside the default 95% intervals (delta method),
    as quoted in predict_final_loss's docstring and the README: kind="confidence" 22/30 at
    fraction 0.2 and 0.73 / 0.63 / 0.57 at 0.7 / 0.8 / 0.9; kind="prediction" 0.93 / 0.87 / 0.93."""
    curves = list(_ladder().values())
    want = {(0.2, "confidence"): 22, (0.7, "confidence"): 22, (0.8, "confidence"): 19, (0.9, "confidence"): 17,
            (0.7, "prediction"): 28, (0.8, "prediction"): 26, (0.9, "prediction"): 28}
    got = {k: int(_covered(cu.predict_final_loss(curves, k[0], kind=k[1])).sum()) for k in want}
    assert got == want
    doc = cu.predict_final_loss.__doc__ or ""
    assert "0.73 / 0.93 / 0.93" in doc and "0.73 / 0.63 / 0.57" in doc
