"""scalingfit.emergence: sigmoid and two-step fits, Schaeffer et al.'s metric-choice analysis
with the simulator, and real data (Pythia LAMBADA, OLMo ladder, Wu & Lo 2024), including the
two-step task prediction of Bhagia et al. (2024) against its published numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit.emergence as em


def test_sigmoid_fits_fixed_floor_ceiling_and_direction() -> None:
    C = np.logspace(18, 24, 15)
    acc = 0.25 + 0.6 / (1 + (1e21 / C) ** 1.5)
    free, fixed, inc = em.fit_sigmoids([C, C, C], [acc] * 3, floor=[None, 0.25, None],
                                       ceiling=[None, 0.85, None])
    for f in (free, fixed, inc):
        assert f.k == pytest.approx(1.5, rel=1e-6) and f.x0 == pytest.approx(1e21, rel=1e-6)
    assert fixed.lo == 0.25 and fixed.hi == 0.85
    # the steepest rise, per decade: |hi - lo| k ln10 / 4
    assert free.max_slope == pytest.approx(0.6 * 1.5 * np.log(10) / 4, rel=1e-6)
    dec, = em.fit_sigmoids([C], [acc], floor=0.25, increasing=False, warn=False)
    assert dec.k <= 0 and dec.law.cost > 1e-3  # constrained to the wrong direction
    with pytest.raises(ValueError, match="700"):
        em.fit_sigmoids([np.array([1.0, 800.0, 900.0, 1000.0])], [np.ones(4)], log_x=False)


def test_sigmoid_recovery_within_bootstrap_intervals() -> None:
    """100 seeded accuracy-vs-compute curves (12 scales, noise 0.01, chance floor fixed):
    95% residual-bootstrap intervals cover the true slope and midpoint in >= 90% of cases."""
    rng = np.random.default_rng(8)
    C = np.logspace(19, 24, 12)
    truth = [(rng.uniform(0.8, 2.0), 10 ** rng.uniform(20.5, 22.5)) for _ in range(100)]
    ys = [0.25 + 0.6 / (1 + (x0 / C) ** k) + 0.01 * rng.standard_normal(C.size) for k, x0 in truth]
    fits = em.fit_sigmoids([C] * 100, ys, floor=0.25, n_resamples=200, scheme="residuals", seed=3)
    hk = np.mean([f.interval("k")[0] <= k <= f.interval("k")[1] for f, (k, _) in zip(fits, truth)])
    hx = np.mean([f.interval("x0")[0] <= x0 <= f.interval("x0")[1] for f, (_, x0) in zip(fits, truth)])
    print(f"sigmoid: coverage of 95% intervals k {hk:.2f}, x0 {hx:.2f}")
    assert 0.9 <= hk <= 0.99 and 0.9 <= hx <= 0.99  # not all 100: a doubled SE would cover every one


def test_schaeffer_simulator_exact_match_emerges_continuous_metrics_do_not() -> None:
    """Per-token probability improves smoothly with N; exact match over 8 tokens sits at ~0 for
    the smaller half of the scales and then shoots up, while the per-token log-likelihood,
    Brier score and edit distance change smoothly and extrapolate from the small scales."""
    N = np.logspace(7, 12, 16)
    sim = em.simulate_per_token(N, n_examples=600, length=8, seed=12)
    metrics = em.metrics_from_tokens(sim)
    mc = em.metric_choice(N, metrics)  # fit on the 8 smallest scales, predict the 8 largest
    print(mc)
    em_row = mc["exact_match"]
    assert np.all(metrics["exact_match"][:6] < 0.02)
    assert em.hidden_progress(N, metrics["exact_match"], metrics["neg_log_likelihood"], threshold=0.02) > 0.5
    for cont in ("neg_log_likelihood", "brier", "token_error_rate", "token_accuracy"):
        assert mc[cont].sharpness < em_row.sharpness
        assert mc[cont].predictability > 0.85, cont
    assert em_row.predictability < 0.6
    # one smooth link explains the jump: exact match = a sigmoid in log NLL
    link, = em.fit_sigmoids([metrics["neg_log_likelihood"]], [metrics["exact_match"]], log_x=True,
                            floor=0.0, ceiling=1.0)
    assert np.max(np.abs(link.predict(metrics["neg_log_likelihood"]) - metrics["exact_match"])) < 0.05


def test_two_step_with_paired_band() -> None:
    rng = np.random.default_rng(9)
    N = np.logspace(7, 10, 10)
    L = (1.8 + 300 * N ** -0.3) * (1 + 0.003 * rng.standard_normal(N.size))
    acc = 0.25 + 0.7 / (1 + np.exp(5.0 * (L - 2.6))) + 0.005 * rng.standard_normal(N.size)
    two = em.fit_two_step(N, L, acc, floor=0.25, n_resamples=200, seed=4)
    true = 0.25 + 0.7 / (1 + np.exp(5.0 * (1.8 + 300 * 1e11 ** -0.3 - 2.6)))
    lo, hi = two.band(1e11)
    assert lo <= float(two.predict(1e11)) <= hi
    assert lo <= true <= hi
    assert "step 2" in repr(two)


def test_pythia_lambada_link_explains_training_and_size_trends(shared_data) -> None:
    """Over all 432 zero-shot Pythia checkpoints accuracy is one sigmoid of the LAMBADA NLL
    (SOURCE.md: k = 0.6066, x0 = 2.5483, RMSE 0.0127). While accuracy is still 0 (<= 2 of 5,153
    passages, through step 512), the NLL has already made 22-34% of its whole improvement; and
    the link fitted on models < 1B predicts the final accuracy of the four larger sizes."""
    from scaling_data import pythia_lambada

    rows = pythia_lambada()
    assert len(rows) == 432
    nll = np.array([r["nll"] for r in rows]); acc = np.array([r["acc"] for r in rows])
    link, = em.fit_sigmoids([nll], [acc], log_x=False, floor=0.0, ceiling=1.0, n_resamples=300, seed=0)
    rmse = float(np.sqrt(np.mean((link.predict(nll) - acc) ** 2)))
    print(f"\nPythia link: k = {-link.k:.4f} {tuple(round(-v, 4) for v in link.interval('k'))}, "
          f"x0 = {link.x0:.4f} {tuple(round(v, 4) for v in link.interval('x0'))}, RMSE {rmse:.4f}")
    assert -link.k == pytest.approx(0.6066, abs=5e-4)
    assert link.x0 == pytest.approx(2.5483, abs=5e-4)
    assert rmse == pytest.approx(0.0127, abs=2e-4)
    hidden = []
    for model in sorted({r["model"] for r in rows}):
        s = sorted((r for r in rows if r["model"] == model), key=lambda r: r["step"])
        hidden.append(em.hidden_progress([r["step"] for r in s], [r["acc"] for r in s],
                                         [r["nll"] for r in s], threshold=0.0005))
    print(f"NLL progress hidden while accuracy = 0: {min(hidden):.3f}-{max(hidden):.3f}")
    assert 0.21 < min(hidden) and max(hidden) < 0.35
    small = [r for r in rows if r["N"] < 1e9]
    big = [r for r in rows if r["N"] > 1e9 and r["step"] == 143000]
    fit, = em.fit_sigmoids([np.array([r["nll"] for r in small])], [np.array([r["acc"] for r in small])],
                           log_x=False, floor=0.0, ceiling=1.0)
    err = np.array([float(fit.predict(r["nll"])) - r["acc"] for r in big])
    print(f"link from models < 1B -> final accuracy of 1.4b..12b: errors {np.round(err, 3).tolist()}")
    assert np.max(np.abs(err)) < 0.07
    # across sizes, the continuous metric extrapolates better than accuracy
    for dedup in (False, True):
        fin = sorted((r for r in rows if r["step"] == 143000 and r["deduped"] == dedup), key=lambda r: r["N"])
        mc = em.metric_choice([r["N"] for r in fin], {"accuracy": [r["acc"] for r in fin],
                                                     "nll": [r["nll"] for r in fin]}, n_fit=5)
        assert mc["nll"].extrapolation_error < mc["accuracy"].extrapolation_error


def test_olmo_ladder_arc_challenge_sudden_accuracy_smooth_bpb(shared_data) -> None:
    """At 1xC, ARC-Challenge accuracy barely moves for three sizes and then jumps (sharpness
    2.8) while its bits-per-byte falls steadily (1.7). One link acc(bpb) over every checkpoint
    of every run explains the final accuracies of all sizes at 1xC and 10xC; fitted on the
    three smallest sizes only, it extrapolates less far (printed; within 0.15)."""
    from scaling_data import ladder_runs, ladder_task_metrics

    tm, runs = ladder_task_metrics(), ladder_runs()
    rr = sorted((r for r, v in runs.items() if v["mult"] == 1.0 and not v["rerun"]), key=lambda r: runs[r]["N"])
    N = np.array([runs[r]["N"] for r in rr])
    t = "arc_challenge_test"
    acc = np.array([np.mean(tm[(r, t)]["acc"][-5:]) for r in rr])
    bpb = np.array([np.mean(tm[(r, t)]["bpb"][-5:]) for r in rr])
    s_acc, s_bpb = em.sharpness(N, acc), em.sharpness(N, bpb, log_y=True)
    print(f"\nARC-C 1xC: acc {acc.round(3).tolist()} (sharpness {s_acc:.2f}); bpb {bpb.round(3).tolist()} "
          f"(sharpness {s_bpb:.2f})")
    assert s_acc > 2.5 and s_bpb < 1.8
    groups = {"all sizes": [r for r in runs if not runs[r]["rerun"]],
              "190M-760M": [r for r in runs if runs[r]["size"] in ("190M", "370M", "760M") and not runs[r]["rerun"]]}
    xs = [np.concatenate([tm[(r, t)]["bpb"] for r in g]) for g in groups.values()]
    ys = [np.concatenate([tm[(r, t)]["acc"] for r in g]) for g in groups.values()]
    links = em.fit_sigmoids(xs, ys, log_x=False, floor=0.25, ceiling=1.0)
    for name, link in zip(groups, links):
        errs = []
        for r in ("190M-1xC", "760M-1xC", "1B-1xC", "3B-1xC", "1B-10xC", "3B-10xC"):
            pred = float(link.predict(np.mean(tm[(r, t)]["bpb"][-5:])))
            errs.append(pred - float(np.mean(tm[(r, t)]["acc"][-5:])))
        print(f"  link fitted on {name}: final-accuracy errors {np.round(errs, 3).tolist()}")
        assert np.max(np.abs(errs)) < (0.03 if name == "all sizes" else 0.15)


def test_wu2024_pythia_mmlu_accuracy_flat_while_brier_falls(shared_data) -> None:
    """Within Pythia-deduped (Wu & Lo's data): MMLU accuracy flat at chance over all 8 sizes
    while its Brier score falls (the per-task correlations below the emergence threshold are
    the `wu` study of `scalingfit reproduce`, tests/test_reproduce.py)."""
    from scaling_data import wu_overall

    rows = wu_overall()
    # within Pythia-deduped: MMLU accuracy flat at chance while its Brier score falls
    py = sorted((r for r in rows if r["task"] == "mmlu" and r["model"].lower().startswith("eleutherai/pythia")
                 and "deduped" in r["model"]), key=lambda r: r["params_B"])
    assert len(py) == 8
    acc = np.array([r["acc"] for r in py]); brier = np.array([r["brier"] for r in py])
    assert np.ptp(acc) < 0.02 and brier[0] - brier[-1] > 0.025


def test_bad_curves_are_named() -> None:
    """Accuracy in percent against a ceiling of 1 was fitted into garbage with a warning; a
    curve whose lengths differ or that is empty gave numpy's concatenation / reduction errors
    from the starts; NaN in a task ladder's runs gave silent NaN predictions."""
    x = np.logspace(7, 10, 10)
    acc = 0.25 + 0.6 / (1 + np.exp(-3 * (np.log(x) - np.log(1e8))))
    with pytest.raises(ValueError, match=r"ys\[0\] = 25.0599 is far outside the fixed floor and ceiling "
                                         r"\(0.25, 1.0\).*fractions, not percent"):
        em.fit_sigmoids([x], [100 * acc], floor=0.25, ceiling=1.0)
    with pytest.raises(ValueError, match=r"ys\[1\] has 5 points but xs\[1\] has 10"):
        em.fit_sigmoids([x, x], [acc, acc[:5]])
    with pytest.raises(ValueError, match="xs and ys are empty: nothing to fit"):
        em.fit_sigmoids([[]], [[]])
    with pytest.raises(ValueError, match=r"xs must be > 0 \(the sigmoid is in log x"):
        em.fit_sigmoids([x - 1e8], [acc])
    with pytest.raises(ValueError, match=r"metric 'accuracy' has|far outside the fixed floor"):
        em.metric_choice(x, {"accuracy": 100 * acc})
    N, D = np.logspace(8, 9, 6), 20 * np.logspace(8, 9, 6)
    loss = 0.5 + 100 * N ** -0.3
    good = dict(step2_loss=[np.linspace(0.6, 1.2, 8)], step2_metric=[np.linspace(0.7, 0.3, 8)],
                target_N=7e9, target_D=1.4e11)
    with pytest.raises(ValueError, match=r"N must be finite; N has 1 non-finite value\(s\), the first at index 2"):
        em.task_ladder(["t"], np.where(np.arange(6) == 2, np.nan, N), D, [loss], **good)
    with pytest.raises(ValueError, match=r"final_loss\[0\] must be > 0"):
        em.task_ladder(["t"], N, D, [loss - 1.0], **good)
    with pytest.raises(ValueError, match=r"step2_metric\[0\]\[0\] = 70 is not an accuracy in \[0, 1\]"):
        em.task_ladder(["t"], N, D, [loss], **{**good, "step2_metric": [100 * np.linspace(0.7, 0.3, 8)]})


def test_small_emergence_helpers_check_their_arrays() -> None:
    """IndexError / numpy's messages / silent answers before: a NaN ranked last by
    rank_correlation (0.383 for these data), mismatched arrays in hidden_progress and
    sharpness, an unknown kind a KeyError, a window of 0 a broadcast error."""
    with pytest.raises(ValueError, match=r"y must be finite; y has 1 non-finite value\(s\), the first at index 1"):
        em.rank_correlation([1.0, 2.0, 3.0, 4.0], [1.0, np.nan, 2.0, 3.0])
    with pytest.raises(ValueError, match="continuous has 2 values but x has 3"):
        em.hidden_progress([1.0, 2.0, 3.0], [0.0, 0.0, 1.0], [3.0, 2.0], threshold=0.5)
    with pytest.raises(ValueError, match=r"thresholded must be a non-empty 1-D array, got shape \(0,\)"):
        em.hidden_progress([1.0], [], [1.0], threshold=0.5)
    with pytest.raises(ValueError, match="y has 2 values but x has 3"):
        em.sharpness([1e6, 1e7, 1e8], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"kinds must be 'bounded' or 'loss', got \{'foo': 'weird'\}"):
        em.metric_choice(np.logspace(6, 9, 8), {"foo": np.linspace(0, 1, 8)}, kinds={"foo": "weird"})
    with pytest.raises(ValueError, match=r"n \(the window\) must be an integer >= 1, got 0"):
        em.moving_average([1.0, 2.0], 0)
    import scalingfit

    r = scalingfit.fit_batch("power_law", np.logspace(6, 9, 8), 5 * np.logspace(6, 9, 8) ** -0.1, [0, 8])
    with pytest.raises(ValueError, match="power_law has no parameter 'zz'; it has A, alpha"):
        r.params("zz")


def test_unknown_parameter_and_bad_start_shapes_are_named() -> None:
    """SigmoidFit.interval('zz') was 'tuple.index(x): x not in tuple'; a start of the wrong
    length 'cannot reshape array of size 3 into shape (4)'."""
    x = np.logspace(7, 10, 12)
    acc = 0.25 + 0.6 / (1 + np.exp(-3 * (np.log(x) - np.log(1e8))))
    (fit,) = em.fit_sigmoids([x], [acc])
    with pytest.raises(ValueError, match="sigmoid has no parameter 'zz'; it has lo, hi, k, log_x0"):
        fit.interval("zz")
    with pytest.raises(ValueError, match=r"p0 must have shape \(4,\) or \(k, 4\) for the 4 parameters of sigmoid, got shape \(3,\)"):
        em.fit_sigmoids([x], [acc], p0=[0.25, 0.85, 3.0])


def _acc(loss: np.ndarray) -> np.ndarray:
    return 0.25 + 0.7 / (1 + np.exp(5.0 * (loss - 2.6)))


def _delta_se(f, q0: np.ndarray, cov: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The independent reference of the chained bands: the delta method's standard error of
    f(q) at q0 with central differences, one column per parameter."""
    grad = []
    for i in range(q0.size):
        h = 1e-6 * max(abs(q0[i]), 1e-3)
        up, down = q0.copy(), q0.copy()
        up[i] += h
        down[i] -= h
        grad.append((f(up) - f(down)) / (2 * h))
    G = np.array(grad).T
    return np.asarray(np.sqrt(np.einsum("na,ab,nb->n", G, cov, G)))


def test_two_step_band_without_resamples_is_the_delta_method_on_both_steps() -> None:
    """Without resamples the chained band was step 1's band pushed through step 2 at step 2's
    point estimate (zero width when step 1 is exact). It is now the delta method on the
    composition with both covariances: its half-width equals z·se from an independent
    central-difference gradient of the chained formula over (p1, p2) and the block-diagonal
    covariance, and it is at least as wide as step 2's own band at the predicted loss."""
    from scipy.linalg import block_diag
    from scipy.stats import t as t_dist

    rng = np.random.default_rng(0)
    N = np.logspace(7, 10, 12)
    L = (1.8 + 300 * N ** -0.3) * (1 + 0.01 * rng.standard_normal(N.size))
    L2 = np.linspace(2.0, 4.0, 40)
    two = em.fit_two_step(N, L, _acc(L), loss_for_step2=L2,
                          metric_for_step2=_acc(L2) + 0.03 * rng.standard_normal(40), floor=0.25)
    x = np.array([1e9, 1e11, 1e12])

    def chained(q: np.ndarray) -> np.ndarray:
        E, A, alpha, lo, hi, k, u0 = q
        return lo + (hi - lo) / (1 + np.exp(-k * (E + A * x ** -alpha - u0)))

    q0 = np.concatenate([two.step1.x, two.step2.law.x])
    se = _delta_se(chained, q0, block_diag(two.step1.cov, two.step2.law.cov))  # 3 points, 7 parameters
    band = two.band(x, level=0.9)
    np.testing.assert_allclose(two.predict(x), chained(q0), rtol=1e-12)
    tz = t_dist.ppf(0.95, min(two.step1.dof, two.step2.law.dof))  # the smaller residual dof (12 - 3)
    assert min(two.step1.dof, two.step2.law.dof) == 9
    np.testing.assert_allclose(band, [chained(q0) - tz * se, chained(q0) + tz * se], rtol=1e-6)
    alone = two.step2.band(two.predict_loss(x), level=0.9)
    assert np.all(band[1] - band[0] >= alone[1] - alone[0])
    assert np.all(se > 1e-3)  # step 2's noise alone puts about 0.01 on each point
    # a scalar gives (2,), the same numbers
    np.testing.assert_allclose(two.band(1e11, level=0.9), band[:, 1], rtol=1e-12)


def test_two_step_band_without_resamples_covers_in_a_simulation() -> None:
    """The audit's simulation (t_chain2.py), 200 seeded replicates: step 1 with 1% noise on 12
    losses, step 2 with noise 0.03 on 40 (loss, accuracy) pairs, chained at 1e11 (an
    extrapolation). The 95% band of the old construction covered the truth in 29% of them
    (1.7% with 0.1% noise on step 1); we measured 0.90 over 300 replicates (a paired bootstrap
    of 200 resamples: 0.91)."""
    rng = np.random.default_rng(0)
    N = np.logspace(7, 10, 12)
    L2 = np.linspace(2.0, 4.0, 40)
    truth = float(_acc(1.8 + 300 * 1e11 ** -0.3))
    hits, R = 0, 200
    for _ in range(R):
        L = (1.8 + 300 * N ** -0.3) * (1 + 0.01 * rng.standard_normal(N.size))
        two = em.fit_two_step(N, L, _acc(L), loss_for_step2=L2,
                              metric_for_step2=_acc(L2) + 0.03 * rng.standard_normal(40), floor=0.25)
        lo, hi = two.band(1e11)
        hits += lo <= truth <= hi
    print(f"two-step delta-method band: coverage {hits / R:.3f}")
    assert hits / R >= 0.85


def test_chain_band_log_loss_and_chinchilla_points() -> None:
    """chain_band with ``log_x2`` (a link in log loss) against the same finite-difference
    delta method; and a chinchilla step 1 with one point given as a tuple (N, D), which
    TwoStepFit.predict and band refused ('x must have shape (n, 2)') although documented."""
    from scipy.linalg import block_diag
    from scipy.stats import t as t_dist

    rng = np.random.default_rng(3)
    N = np.repeat(np.logspace(7, 9, 5), 3)
    D = N * np.tile([10.0, 20.0, 40.0], 5)

    def law(q: np.ndarray, n: np.ndarray, d: np.ndarray) -> np.ndarray:
        return q[0] + q[1] * n ** -q[3] + q[2] * d ** -q[4]

    L = law(np.array([1.7, 400.0, 410.0, 0.34, 0.28]), N, D) * (1 + 0.002 * rng.standard_normal(N.size))
    acc = _acc(L) + 0.01 * rng.standard_normal(L.size)
    two = em.fit_two_step((N, D), L, acc, step1_model="chinchilla", floor=0.25)
    p1 = two.step1.x
    one = two.predict((1e11, 2e12))
    assert np.ndim(one) == 0
    assert float(one) == pytest.approx(float(two.step2.predict(law(p1, 1e11, 2e12))), rel=1e-12)
    assert two.predict_loss((1e11, 2e12)) == pytest.approx(law(p1, 1e11, 2e12), rel=1e-12)
    cols = (np.array([1e11, 1e10]), np.array([2e12, 2e11]))
    b = two.band(cols)
    assert b.shape == (2, 2)
    np.testing.assert_allclose(two.band((1e11, 2e12)), b[:, 0], rtol=1e-12)
    np.testing.assert_allclose(two.band(np.array([[1e11, 2e12]]))[:, 0], b[:, 0], rtol=1e-12)
    # step 2 in log loss: sigmoid(log law1)
    link, = em.fit_sigmoids([L], [acc], log_x=True, floor=0.25)
    band = em.chain_band(two.step1, link.law, cols, level=0.95, log_x2=True)

    def chained(q: np.ndarray) -> np.ndarray:
        lo, hi, k, u0 = q[5:]
        return lo + (hi - lo) / (1 + np.exp(-k * (np.log(law(q, *cols)) - u0)))

    q0 = np.concatenate([p1, link.law.x])
    se = _delta_se(chained, q0, block_diag(two.step1.cov, link.law.cov))
    dof = min(two.step1.dof, link.law.dof)  # 15 - 5, the chinchilla fit's
    assert dof == 10
    np.testing.assert_allclose((band[1] - band[0]) / 2, t_dist.ppf(0.975, dof) * se, rtol=1e-5)
    np.testing.assert_allclose((band[1] + band[0]) / 2, chained(q0), rtol=1e-12)


def test_metric_choice_default_n_fit_for_few_scales() -> None:
    """With 5 or 6 scales the default n_fit ((n+1)//2 = 3) was refused as if the user had
    passed it; it is now max(4, (n+1)//2), at most n - 1; fewer than 5 scales are refused
    naming the number of scales."""
    for n, want in ((5, 4), (6, 4), (8, 4), (12, 6), (13, 7)):
        N = np.logspace(7, 11, n)
        mc = em.metric_choice(N, em.metrics_from_tokens(em.simulate_per_token(N, n_examples=50, seed=1)))
        assert mc.n_fit == want
        assert mc["exact_match"].actual.shape == (n - want,)
    N = np.logspace(7, 11, 4)
    with pytest.raises(ValueError, match="metric_choice needs at least 5 scales .* got 4"):
        em.metric_choice(N, {"accuracy": np.linspace(0.1, 0.9, 4)})
    with pytest.raises(ValueError, match="metric_choice needs at least 5 scales"):
        em.metric_choice(N, {"accuracy": np.linspace(0.1, 0.9, 4)}, n_fit=4)


def test_sharpness_is_the_ratio_of_steepest_to_average_slope() -> None:
    """The documented formula, on uneven scales: a single jump scores the whole range over the
    width of its gap (694 here, not 'up to n - 1'); n - 1 for evenly spaced scales."""
    u = np.log10([1.0, 10.0, 10.1, 1000.0])
    assert em.sharpness([1, 10, 10.1, 1000], [0, 0, 1, 1]) == pytest.approx(3.0 / (u[2] - u[1]), rel=1e-12)
    assert em.sharpness([1, 10, 10.1, 1000], [0, 0, 0, 1]) == pytest.approx(3.0 / (u[3] - u[2]), rel=1e-12)
    assert em.sharpness([1, 10, 10.1, 1000], 2.0 * u - 1.0) == pytest.approx(1.0, rel=1e-12)
    assert em.sharpness(np.logspace(6, 10, 5), [0, 0, 1, 1, 1]) == pytest.approx(4.0, rel=1e-12)
    y = np.array([0.0, 0.3, 0.5, 1.4])
    ref = np.max(np.abs(np.diff(y)) / np.diff(u)) / (np.sum(np.abs(np.diff(y))) / (u[-1] - u[0]))
    assert em.sharpness([1, 10, 10.1, 1000], y) == pytest.approx(ref, rel=1e-12)


def test_sigmoid_floor_as_array_and_moving_average_checks() -> None:
    """floor=np.array([...]) was numpy's 'only 0-dimensional arrays can be converted' (a list
    worked); moving_average spread a NaN to every later value and flattened 2-D input."""
    x = np.logspace(7, 10, 10)
    acc = 0.25 + 0.6 / (1 + np.exp(-3 * (np.log(x) - np.log(1e8))))
    by_array = em.fit_sigmoids([x, x], [acc, acc], floor=np.array([0.25, 0.2]))
    by_list = em.fit_sigmoids([x, x], [acc, acc], floor=[0.25, 0.2])
    assert [f.lo for f in by_array] == [0.25, 0.2]
    np.testing.assert_array_equal([f.law.x for f in by_array], [f.law.x for f in by_list])
    assert em.fit_sigmoids([x], [acc], floor=np.float64(0.25))[0].lo == 0.25
    with pytest.raises(ValueError, match=r"floor\[1\] must be finite, got"):
        em.fit_sigmoids([x, x], [acc, acc], floor=np.array([0.25, np.nan]))
    with pytest.raises(ValueError, match="ceiling has 3 values for 2 curves"):
        em.fit_sigmoids([x, x], [acc, acc], ceiling=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"floor must be one number or a 1-D sequence .* shape \(1, 2\)"):
        em.fit_sigmoids([x, x], [acc, acc], floor=np.array([[0.25, 0.25]]))
    a = np.random.default_rng(0).standard_normal(20)
    naive = [a[max(0, i - 4):i + 1].mean() for i in range(a.size)]
    np.testing.assert_allclose(em.moving_average(a, 5), naive, rtol=1e-12)
    with pytest.raises(ValueError, match=r"a must be finite; a has 1 non-finite value\(s\), the first at index 1"):
        em.moving_average([1.0, np.nan, 3.0], 2)
    with pytest.raises(ValueError, match=r"a must be 1-D \(one series\), got shape \(2, 2\)"):
        em.moving_average([[1.0, 2.0], [3.0, 4.0]], 2)


def test_metric_choice_predictions_are_the_documented_fits_on_the_smallest_scales() -> None:
    """metric_choice against its documented procedure, redone with scipy: a bounded metric is
    a sigmoid in log scale between the fixed floor 0 and ceiling 1, a loss ``E + A x^-alpha``,
    each fitted by least squares on the ``n_fit`` smallest scales and evaluated at the others;
    ``extrapolation_error`` is the mean |predicted - actual| there over the metric's observed
    range (all scales). The scales are passed largest first (sorted by metric_choice)."""
    from scipy.optimize import curve_fit, least_squares

    N = np.logspace(7, 12, 16)
    metrics = em.metrics_from_tokens(em.simulate_per_token(N, n_examples=600, length=8, seed=12))
    rng = np.random.default_rng(5)
    noisy_loss = 1.7 + 400 * N**-0.3 * (1 + 0.01 * rng.standard_normal(N.size))  # interior optimum
    chosen = {"token_accuracy": metrics["token_accuracy"], "brier": metrics["brier"], "my_loss": noisy_loss}
    mc = em.metric_choice(N[::-1], {m: v[::-1] for m, v in chosen.items()}, kinds={"my_loss": "loss"})
    nf = mc.n_fit
    assert nf == 8  # max(4, (16 + 1) // 2)
    t = np.log(N)

    def sigmoid(t_: np.ndarray, k: float, u0: float) -> np.ndarray:  # floor 0, ceiling 1
        return 1.0 / (1.0 + np.exp(-k * (t_ - u0)))

    def power(x: np.ndarray, E: float, A: float, alpha: float) -> np.ndarray:
        return E + A * x**-alpha

    want = {}
    for m in ("token_accuracy", "brier"):
        y = chosen[m]
        best = None
        for k0 in (-2.0, -0.5, 0.5, 2.0):  # multi-start: the best least-squares fit
            for u0 in np.linspace(t[0], t[-1], 7):
                r = least_squares(lambda p: sigmoid(t[:nf], *p) - y[:nf], [k0, u0],
                                  xtol=1e-15, ftol=1e-15, gtol=1e-15)
                if best is None or r.cost < best.cost:
                    best = r
        assert best is not None
        want[m] = sigmoid(t[nf:], *best.x)
    y = noisy_loss
    p, _ = curve_fit(power, N[:nf], y[:nf], p0=[1.0, 100.0, 0.2], maxfev=100000, xtol=1e-14, ftol=1e-14)
    want["my_loss"] = power(N[nf:], *p)
    for m, pred in want.items():
        row, y = mc[m], chosen[m]
        np.testing.assert_array_equal(row.actual, y[nf:])
        np.testing.assert_allclose(row.predicted, pred, rtol=0, atol=1e-6, err_msg=m)
        err = float(np.mean(np.abs(pred - y[nf:])) / np.ptp(y))
        assert row.extrapolation_error == pytest.approx(err, abs=1e-6), m
        assert row.predictability == pytest.approx(1 - err, abs=1e-6), m
    assert 0.005 < mc["my_loss"].extrapolation_error < 0.01  # a non-trivial check: the fit misses a little
