"""Chinchilla approaches 1, 2 and 3: Epoch AI's replication reproduced, synthetic recovery,
Porian et al.'s IsoFLOP exponents, warnings and bad input."""

from __future__ import annotations

import contextlib
from statistics import NormalDist

import numpy as np
import pytest
import scalingfit
from conftest import SHARED_DATA
from scalingfit import chinchilla as ch
from scalingfit import simulate
from scalingfit._warnings import ConvergenceWarning, DataWarning

EPOCH_CSV = SHARED_DATA / "epoch_chinchilla_fig4" / "chinchilla_fig4.csv"


def _epoch_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not EPOCH_CSV.is_file():
        pytest.skip(f"Epoch data not found at {EPOCH_CSV}")
    d = np.loadtxt(EPOCH_CSV, delimiter=",", skiprows=1)
    return d[:, 0], d[:, 1], d[:, 3]


def _epoch_kept() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N, D, L = _epoch_data()
    keep = L < np.sort(L)[-5]
    return N[keep], D[keep], L[keep]


# ============================================================================ approach 3
@pytest.fixture(scope="module")
def epoch_fit() -> ch.ParametricFit:
    N, D, L = _epoch_data()
    return ch.fit_parametric(N, D, L, drop_highest=5, solver="both")


@pytest.mark.slow
def test_epoch_replication(epoch_fit: ch.ParametricFit) -> None:
    """Epoch AI's replication notebook (SOURCE.md): Huber delta 1e-3 summed on log loss, 5
    highest losses dropped, Hoffmann's 4,500-start grid, best L-BFGS-B start -> A 477.84,
    B 2143.86, E 1.8172, alpha 0.34731, beta 0.36718, objective 1.01827e-3 (printed to 5-6
    digits; measured within 2.1e-4 relative, B the loosest, along the valley the L-BFGS-B
    stopping leaves). The paper's own estimate (BFGS on a Huber likelihood) is
    reproduce's check."""
    f = epoch_fit
    assert f.n_points == 240 and f.dropped.size == 5
    assert f.n_starts == 4500
    notebook = {"A": 477.84, "B": 2143.86, "E": 1.8172, "alpha": 0.34731, "beta": 0.36718}
    for k, v in notebook.items():
        assert getattr(f, k) == pytest.approx(v, rel=1e-4 if k != "B" else 5e-4), k
    assert f.objective <= 1.01828e-3
    # Not worse than Epoch's own best start, evaluated by the independent objective.
    assert f.objective <= ch.huber_objective(ch.EPOCH_2024_GRID, *_epoch_kept()) * (1 + 1e-9)
    # The optimum is reproduced by many starts, to many digits.
    assert f.n_best >= 500 and f.n_converged >= f.n_best
    assert f.spread["alpha"] < 1e-5 and f.spread["beta"] < 1e-5 and f.spread["E"] < 1e-5
    # Both solvers agree (objective to 1e-6, log-parameters to 1e-3).
    assert f.agree is True
    lm, vp = f.outcomes["lm"], f.outcomes["varpro"]
    assert abs(lm.objective - vp.objective) <= 1e-9 * lm.objective
    assert abs(lm.law.alpha - vp.law.alpha) < 1e-5 and abs(lm.law.beta - vp.law.beta) < 1e-5
    assert abs(f.n_opt_exponent - 0.513) < 0.002


@pytest.mark.slow
def test_objective_is_epochs_huber_sum(epoch_fit: ch.ParametricFit) -> None:
    """The reported objective is Epoch's sum of scipy.special.huber(delta, r) over points,
    not half of it and not a mean."""
    from scipy.special import huber

    N, D, L = _epoch_kept()
    r = np.log(epoch_fit.predict(N, D)) - np.log(L)
    expected = float(huber(1e-3, r).sum())
    assert epoch_fit.objective == pytest.approx(expected, rel=1e-10)
    assert ch.huber_objective(epoch_fit, N, D, L) == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_hoffmann_params_are_visibly_worse(epoch_fit: ch.ParametricFit) -> None:
    N, D, L = _epoch_kept()
    rounded = ch.huber_objective(ch.HOFFMANN_2022, N, D, L)
    unrounded = ch.huber_objective(ch.HOFFMANN_2022_UNROUNDED, N, D, L)
    assert rounded > 3.0 * epoch_fit.objective  # 4.12e-3 vs 1.018e-3
    assert unrounded > 1.15 * epoch_fit.objective  # 1.23e-3
    assert rounded > unrounded


def test_core_cost_equals_huber_sum_at_any_point() -> None:
    """The core's cost 1/2 sum f^2 rho(r^2/f^2) with f = delta is exactly sum huber_delta(r)
    (factor 1): checked at parameters away from any optimum, where many residuals are in
    the linear part of the loss."""
    from scipy.special import huber

    N, D, L = _epoch_kept()
    for law in (ch.HOFFMANN_2022, ch.EPOCH_2024):
        p = law.log_params()
        res = scalingfit.fit_batch(
            "chinchilla_lse",
            (N, D),
            L,
            [0, N.size],
            p,
            loss="huber",
            f_scale=1e-3,
            log_residuals=True,
            max_iter=0,
        )
        r = np.log(law.loss(N, D)) - np.log(L)
        assert res.cost[0] == pytest.approx(float(huber(1e-3, r).sum()), rel=1e-12)


def test_lm_moves_off_a_start_with_vanishing_terms() -> None:
    N, D, L = _epoch_kept()
    p0 = np.array([5.0, 5.0, 1.0, 2.0, 1.5])  # (a, b, e, alpha, beta), one Hoffmann start
    r = scalingfit.fit_batch(
        "chinchilla_lse", (N, D), L, [0, N.size], p0, loss="huber", f_scale=1e-3, log_residuals=True
    )
    # Moving e alone towards median(log L) lowers the objective from 0.0226 to 0.0210.
    assert (
        ch.huber_objective(ch.ChinchillaLaw.from_log_params([5.0, 5.0, 0.95, 2.0, 1.5]), N, D, L)
        < 0.0211
    )
    assert r.status[0] > 0
    assert r.cost[0] < 0.0211


def _grid_fit(N: np.ndarray, D: np.ndarray, L: np.ndarray, starts: np.ndarray, **kw):
    return scalingfit.fit_batch(
        "chinchilla_lse",
        (N, D),
        L,
        [0, N.size],
        starts,
        problem=np.zeros(starts.shape[0], dtype=np.int64),
        loss="huber",
        f_scale=1e-3,
        log_residuals=True,
        compute_cov=False,
        **kw,
    )


def test_no_converged_start_of_the_grid_is_a_false_stop() -> None:
    """Epoch's data, all 4,500 Hoffmann starts: no start reported as converged (status > 0)
    ends where a move of one parameter by 1e-3, 1e-2 or 0.05 lowers the Huber objective by
    more than 1e-6 relative; in particular none sits at its start point. Before the damping
    floor of lm.hpp, 956 of the 2,284 converged starts had not moved (every trial step was
    rejected until the xtol test fired) and 1,022 failed the coordinate check."""
    N, D, L = _epoch_kept()
    grid = ch.hoffmann_grid()
    r = _grid_fit(N, D, L, grid)
    conv = np.flatnonzero(r.success)
    x, cost = r.x[conv], r.cost[conv]
    unmoved = np.all(x == grid[conv], axis=1)
    assert not unmoved.any(), f"{unmoved.sum()} converged starts never moved"
    moves = [(k, s) for k in range(5) for s in (1e-3, -1e-3, 1e-2, -1e-2, 0.05, -0.05)]
    probes = np.repeat(x, len(moves), axis=0)
    for j, (k, s) in enumerate(moves):
        probes[j :: len(moves), k] += s
    moved = _grid_fit(N, D, L, probes, max_iter=0).cost.reshape(conv.size, len(moves))
    gain = (cost[:, None] - moved) / cost[:, None]
    bad = conv[gain.max(axis=1) > 1e-6]
    assert bad.size == 0, f"{bad.size} converged starts are not minima, e.g. {grid[bad[:3]]}"
    # Most starts now reach Epoch's optimum (measured: 4,119 converge, 3,524 at the best
    # objective; before the damping floor 2,284 and 1,222; with the floor but before the
    # curvature switch 4,130 and 3,903: the 379 starts the switch moved off the best end at
    # stationary points where a term of the law has died, which the slow reweighted crawl
    # used to drift out of after ~285 trial steps).
    best = cost.min()
    assert best <= 1.0183e-3
    assert conv.size >= 3500
    assert np.sum(cost <= best * (1 + 1e-6)) >= 3000


def test_hoffmann_grid() -> None:
    g = ch.hoffmann_grid()
    assert g.shape == (4500, 5)
    assert set(np.unique(g[:, 3])) == {0.0, 0.5, 1.0, 1.5, 2.0}
    assert set(np.unique(g[:, 2])) == {-1.0, -0.5, 0.0, 0.5, 1.0}
    assert set(np.unique(g[:, 0])) == {0.0, 5.0, 10.0, 15.0, 20.0, 25.0}
    assert np.unique(g, axis=0).shape[0] == 4500
    # Epoch's loop order: product(alpha, beta, e, a, b) -> b varies fastest.
    assert np.array_equal(g[:2], [[0, 0, -1, 0, 0], [0, 5, -1, 0, 0]])


def _synthetic_points(law: ch.ChinchillaLaw, noise: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    N = 10 ** rng.uniform(7.5, 10.5, 150)
    D = 10 ** rng.uniform(9, 12, 150)
    return N, D, law.loss(N, D) * np.exp(noise * rng.standard_normal(150))


# A small grid of starts (the full Hoffmann grid is exercised on the Epoch data).
SMALL_GRID = np.array(
    [
        [a, b, e, al, be]
        for a in (4.0, 8.0)
        for b in (4.0, 8.0)
        for e in (0.0, 0.5)
        for al in (0.2, 0.5)
        for be in (0.2, 0.5)
    ]
)


@pytest.mark.parametrize("law", [ch.HOFFMANN_2022, ch.EPOCH_2024])
def test_recovers_known_law(law: ch.ChinchillaLaw) -> None:
    N, D, L = _synthetic_points(law, 0.0, 1)
    f = ch.fit_parametric(N, D, L, grid=SMALL_GRID, solver="both")
    assert f.agree
    for k in ("E", "A", "B", "alpha", "beta"):
        assert getattr(f, k) == pytest.approx(getattr(law, k), rel=1e-5), k
    N, D, L = _synthetic_points(law, 0.005, 2)
    f = ch.fit_parametric(N, D, L, grid=SMALL_GRID, loss_fn="linear")
    assert f.alpha == pytest.approx(law.alpha, abs=0.03)
    assert f.beta == pytest.approx(law.beta, abs=0.03)
    assert f.n_opt_exponent == pytest.approx(law.n_opt_exponent, abs=0.02)


def test_solvers_disagree_is_reported() -> None:
    """LM from a single far start with 2 iterations stops short; varpro does not: the
    disagreement is a ConvergenceWarning and the better solver's answer is returned."""
    N, D, L = _synthetic_points(ch.EPOCH_2024, 0.003, 3)
    with pytest.warns(ConvergenceWarning) as rec:
        f = ch.fit_parametric(N, D, L, grid=[[2.0, 2.0, 1.0, 1.5, 1.5]], solver="both", max_iter=2)
    messages = [str(w.message) for w in rec]
    assert any("no LM start converged" in m for m in messages)
    assert any("LM and variable projection disagree" in m for m in messages)
    assert f.agree is False
    assert f.solver == "varpro"
    assert f.outcomes["varpro"].objective < f.outcomes["lm"].objective


def test_drop_highest_uses_epochs_rule() -> None:
    N, D, L = _synthetic_points(ch.EPOCH_2024, 0.003, 4)
    L = L.copy()
    top = np.argsort(L)[-3:]
    f = ch.fit_parametric(N, D, L, grid=SMALL_GRID, drop_highest=3)
    assert sorted(f.dropped.tolist()) == sorted(top.tolist())
    assert f.n_points == N.size - 3
    # Ties with the k-th highest go too (loss < sorted(loss)[-k]).
    L[top[0]] = L[top[1]]
    f = ch.fit_parametric(N, D, L, grid=SMALL_GRID, drop_highest=2)
    assert f.dropped.size == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(N=-1.0), r"N must be > 0.*index 0"),
        (dict(D=0.0), r"D must be > 0.*index 0"),
        (dict(loss=-2.0), r"loss must be > 0.*index 0"),
        (dict(loss=np.nan), r"loss must be finite.*row 0.*nan_policy='omit'"),
        (dict(short="D"), r"D has 9 values but N has 10"),
        (dict(solver="bfgs"), r"solver must be"),
        (dict(grid="random"), r"grid must be 'hoffmann'"),
        (dict(grid=np.zeros((3, 4))), r"grid must have 5 columns"),
        (dict(delta=0.0), r"delta must be positive"),
        (dict(drop_highest=-1), r"drop_highest must be a non-negative integer"),
        (dict(drop_highest=7), r"need at least 6 points .*got 3 after drop_highest=7"),
        (dict(loss_fn="l2"), r"unknown loss 'l2'"),
    ],
)
def test_fit_parametric_rejects_bad_input(kwargs: dict, match: str) -> None:
    N, D, L = _synthetic_points(ch.EPOCH_2024, 0.0, 5)
    N, D, L = N[:10].copy(), D[:10].copy(), L[:10].copy()
    cols = {"N": N, "D": D, "loss": L}
    for k in ("N", "D", "loss"):
        if k in kwargs:
            cols[k][0] = kwargs.pop(k)
    if "short" in kwargs:
        k = kwargs.pop("short")
        cols[k] = cols[k][:9]
    with pytest.raises(ValueError, match=match):
        ch.fit_parametric(cols["N"], cols["D"], cols["loss"], **{"grid": SMALL_GRID, **kwargs})


def test_nan_rows_omitted_with_warning_naming_them() -> None:
    N, D, L = _synthetic_points(ch.EPOCH_2024, 0.0, 6)
    L = L.copy()
    L[[3, 17]] = np.nan
    with pytest.warns(DataWarning, match=r"dropped 2 row\(s\) with NaN or inf: rows 3, 17"):
        f = ch.fit_parametric(N, D, L, grid=SMALL_GRID, nan_policy="omit")
    assert f.n_points == N.size - 2
    assert {3, 17} <= set(f.dropped.tolist())


def test_as_law_accepts_and_rejects() -> None:
    law = ch.EPOCH_2024
    assert ch.as_law(law.as_dict()) == law
    assert ch.as_law([law.E, law.A, law.B, law.alpha, law.beta]) == law
    logs = dict(zip(("a", "b", "e", "alpha", "beta"), law.log_params()))
    assert ch.as_law(logs).A == pytest.approx(law.A)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        ch.as_law({**law.as_dict(), "alpha": 0.0})
    with pytest.raises(ValueError, match="must have keys"):
        ch.as_law({"E": 1.0})
    with pytest.raises(ValueError, match="5 entries"):
        ch.as_law([1.0, 2.0])


# ============================================================================ approach 1
def test_envelope_noise_free_is_exact() -> None:
    tc = simulate.training_curves(noise=0.0, seed=0)
    e = ch.fit_envelope(tc.N, tc.D, tc.loss)
    assert e.a == pytest.approx(tc.truth.n_opt_exponent, abs=1e-3)
    assert e.b == pytest.approx(1 - e.a)
    N, D = e.predict(1e20)
    assert 6 * N * D == pytest.approx(1e20, rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("law", [ch.EPOCH_2024, ch.HOFFMANN_2022])
def test_envelope_recovers_a(seed: int, law: ch.ChinchillaLaw) -> None:
    tc = simulate.training_curves(law, seed=seed)
    e = ch.fit_envelope(tc.N, tc.D, tc.loss, run=tc.run)
    assert abs(e.a - law.n_opt_exponent) < 0.02


def test_envelope_needs_bracketing_sizes() -> None:
    tc = simulate.training_curves(sizes=np.logspace(5, 6, 5), noise=0.0, seed=0)
    with pytest.raises(ValueError, match="do not bracket"):
        ch.fit_envelope(tc.N, tc.D, tc.loss)


def test_envelope_bad_input() -> None:
    tc = simulate.training_curves(noise=0.0, seed=0)
    with pytest.raises(ValueError, match="several values of N"):
        ch.fit_envelope(tc.N, tc.D, tc.loss, run=np.zeros(tc.N.size, dtype=int))
    with pytest.raises(ValueError, match="at least 3 runs"):
        sel = tc.run < 2
        ch.fit_envelope(tc.N[sel], tc.D[sel], tc.loss[sel])
    D = tc.D.copy()
    D[4] = -1
    with pytest.raises(ValueError, match=r"D must be > 0.*index 4"):
        ch.fit_envelope(tc.N, D, tc.loss)


# ============================================================================ approach 2
@pytest.mark.parametrize("degree", [2, 3])
@pytest.mark.parametrize("window", [4.0, 6.0, np.inf])
def test_isoflop_noise_free_centred_is_exact(degree: int, window: float) -> None:
    """Centred sweeps of a Chinchilla law: the parabola's bias in log N is the same at every
    budget, so the slope is exact."""
    s = simulate.isoflop_sweep(noise=0.0, seed=0)
    f = ch.fit_isoflop(s.C, s.N, s.loss, window=window, degree=degree)
    assert f.a == pytest.approx(s.truth.n_opt_exponent, abs=1e-6)
    assert f.used.all() and all(fl == () for fl in f.flags)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("law", [ch.EPOCH_2024, ch.HOFFMANN_2022])
def test_isoflop_recovers_a_without_warning(seed: int, law: ch.ChinchillaLaw) -> None:
    s = simulate.isoflop_sweep(law, seed=seed)
    f = ch.fit_isoflop(s.C, s.N, s.loss)  # warnings are errors: a centred sweep warns nothing
    assert abs(f.a - law.n_opt_exponent) < 0.02
    assert f.b == pytest.approx(1 - f.a)


def test_isoflop_cubic_recovers_a() -> None:
    s = simulate.isoflop_sweep(seed=11)
    f = ch.fit_isoflop(s.C, s.N, s.loss, degree=3, window=np.inf)
    assert abs(f.a - s.truth.n_opt_exponent) < 0.02


def test_isoflop_off_centre_sweep_warns() -> None:
    s = simulate.isoflop_sweep(shift=0.8, seed=0)
    with pytest.warns(DataWarning, match="off-centre"):
        f = ch.fit_isoflop(s.C, s.N, s.loss)
    assert sum("off-centre" in fl for fl in f.flags) >= 5


def test_isoflop_minimum_outside_sweep_is_flagged_and_excluded() -> None:
    s = simulate.isoflop_sweep(noise=0.0, seed=0)
    # Drop the sizes at and above the optimum of the two largest budgets.
    C_b = np.unique(s.C)
    N_opt, _ = s.truth.optimal_allocation(C_b)
    keep = ~((s.C >= C_b[-2]) & (s.N >= 0.99 * np.interp(s.C, C_b, N_opt)))
    with pytest.warns(DataWarning, match="outside the sampled sizes"):
        f = ch.fit_isoflop(s.C[keep], s.N[keep], s.loss[keep])
    assert f.flags[-1] == ("outside",) and f.flags[-2] == ("outside",)
    assert not f.used[-1] and not f.used[-2] and f.used[:-2].all()
    assert f.a == pytest.approx(s.truth.n_opt_exponent, abs=1e-6)


def test_isoflop_bootstrap_is_one_batch_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = ch.fit_batch

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(np.asarray(args[3]).size - 1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ch, "fit_batch", counting)
    s = simulate.isoflop_sweep(seed=3)
    for resample in ("residuals", "points"):
        calls.clear()
        f = ch.fit_isoflop(
            s.C, s.N, s.loss, n_bootstrap=300, resample=resample, seed=1, interval_method="bca"
        )
        # One call: data + 300 replicates + 63 jackknife rows + 6 scan windows, x 7 budgets.
        assert calls == [(1 + 300 + 63 + 6) * 7]
        assert f.a_bootstrap.size >= 295
        lo, hi = f.interval
        assert lo < f.a < hi
        assert lo < s.truth.n_opt_exponent < hi
        assert set(f.window_scan) == set(ch.DEFAULT_SCAN_WINDOWS)


def _textbook_bca(
    boot: np.ndarray, est: float, jack: np.ndarray, confidence: float, *,
    sign: float = 1.0, z0_sign: float = 1.0,
) -> tuple[float, float]:
    """Efron's BCa ends (Efron & Tibshirani 1993, eq. 14.10, 14.14, 14.15) written out:
    z0 = Phi^-1((#{boot < est} + #{boot == est} / 2) / B), a = sum d^3 / (6 (sum d^2)^1.5)
    with d = mean(jack) - jack; ends the percentiles of ``boot`` at
    Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q))). ``sign`` / ``z0_sign`` scale a / z0 (wrong
    variants the fit must not match)."""
    nd = NormalDist()
    z0 = z0_sign * nd.inv_cdf((np.sum(boot < est) + 0.5 * np.sum(boot == est)) / boot.size)
    d = jack.mean() - jack
    a = sign * np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    ends = []
    for q in ((1 - confidence) / 2, (1 + confidence) / 2):
        zq = nd.inv_cdf(q)
        ends.append(float(np.percentile(boot, 100 * nd.cdf(z0 + (z0 + zq) / (1 - a * (z0 + zq))))))
    return ends[0], ends[1]


def _assert_bca(f: ch.IsoflopFit, jack: np.ndarray) -> float:
    """f.interval is the textbook BCa of f.a_bootstrap with jackknife values ``jack``, and a
    flipped or dropped acceleration or bias correction gives a clearly different interval."""
    boot = f.a_bootstrap
    got = f.interval
    assert got == pytest.approx(_textbook_bca(boot, f.a, jack, f.confidence), rel=1e-10)
    width = got[1] - got[0]
    for wrong in ({"sign": -1.0}, {"sign": 0.0}, {"z0_sign": -1.0}, {"z0_sign": 0.0}):
        w = _textbook_bca(boot, f.a, jack, f.confidence, **wrong)
        assert abs(w[0] - got[0]) + abs(w[1] - got[1]) > 0.02 * width, wrong
    d = jack.mean() - jack
    return float(np.sum(d**3) / (6 * np.sum(d**2) ** 1.5))


def test_isoflop_bca_is_efrons_with_a_leave_one_run_out_jackknife() -> None:
    """BCa of fit_isoflop against Efron's formulas computed here: resample="points" leaves
    out one run at a time (every budget refitted: here fit_isoflop on the data without that
    run), resample="budgets" one budget (here np.polyfit of the other budgets' minima). The
    accelerations (+0.103 over runs, +0.060 over budgets) and the bias corrections
    (210 / 300 replicates below the estimate with "points") are far from 0."""
    s = simulate.isoflop_sweep(seed=3)
    f = ch.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=300, resample="points", seed=1,
                       interval_method="bca", confidence=0.9)
    assert f.a_bootstrap.size == 300 and np.sum(f.a_bootstrap < f.a) == 210
    runs = np.arange(s.C.size)
    jack = np.array([ch.fit_isoflop(s.C[runs != i], s.N[runs != i], s.loss[runs != i]).a
                     for i in runs])
    assert _assert_bca(f, jack) == pytest.approx(0.1028, abs=5e-4)
    assert f.interval[0] < f.a < f.interval[1]

    g = ch.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=300, resample="budgets", seed=1,
                       interval_method="bca", confidence=0.9)
    logC, v, used = np.log(g.budgets), np.log(g.N_opt), g.used
    J = g.budgets.size
    assert used.all() and J == 7
    jack_b = np.array([np.polyfit(logC[np.arange(J) != j], v[np.arange(J) != j], 1)[0]
                       for j in range(J)])
    assert _assert_bca(g, jack_b) == pytest.approx(0.0599, abs=5e-4)


def test_isoflop_budget_bootstrap_and_determinism() -> None:
    s = simulate.isoflop_sweep(seed=4)
    f1 = ch.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=200, resample="budgets", seed=7)
    f2 = ch.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=200, resample="budgets", seed=7)
    assert f1.interval == f2.interval and np.isfinite(f1.interval).all()
    lo, hi = f1.interval
    assert lo < f1.a < hi and hi - lo > 0.002
    # The replicates are the power law refitted to budgets drawn with replacement: a
    # Generator is used as it is, so the same draws (multinomial counts over the J budgets)
    # rebuild them here with np.polyfit on each resample, its budgets really repeated.
    f3 = ch.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=200, resample="budgets",
                        seed=np.random.default_rng(7))
    assert f3.used.all() and f3.seed is None
    J = f3.budgets.size
    counts = np.random.default_rng(7).multinomial(J, np.full(J, 1.0 / J), size=200)
    by_hand = np.array([np.polyfit(np.repeat(np.log(f3.budgets), c),
                                   np.repeat(np.log(f3.N_opt), c), 1)[0] for c in counts])
    assert f3.a_bootstrap == pytest.approx(by_hand, rel=1e-10)
    assert np.std(by_hand) > 1e-3  # real resamples, not the data 200 times
    g1 = ch.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=100, seed=7)
    g2 = ch.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=100, seed=7)
    assert np.array_equal(g1.a_bootstrap, g2.a_bootstrap)


def test_isoflop_small_budget() -> None:
    s = simulate.isoflop_sweep(seed=5)
    C, N, L = s.C.copy(), s.N.copy(), s.loss.copy()
    first = C == C.min()
    drop = np.flatnonzero(first)[2:]
    keep = np.setdiff1d(np.arange(C.size), drop)
    with pytest.raises(ValueError, match=r"fewer than 3 distinct sizes: C=1e\+18 \(2 sizes\)"):
        ch.fit_isoflop(C[keep], N[keep], L[keep])
    with pytest.warns(DataWarning, match="skipped"):
        f = ch.fit_isoflop(C[keep], N[keep], L[keep], on_small="skip")
    assert f.budgets.size == 6


def _parabola_sweep(
    kinds: list[str], *, delta: float = 0.0, sigma: float = 0.0, k_flat: float = 1e-6
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Budgets of exact parabolas in log N with ``log N_opt = 0.5 log C + 1`` (a = 0.5).
    "wide": 9, 6, 7, 9, 6, ... sizes 0.2 apart in log N (every one in the default window of
    6), curvature 0.5, Gaussian noise ``sigma``; "exact": 5 sizes 2 apart (the window holds
    the 3 middle ones), curvature 0.05, no noise; "flat": the same 5 sizes, curvature
    ``k_flat`` plus ``+delta`` at every size but the middle one, which gets ``-delta``."""
    rng = np.random.default_rng(0)
    C, N, L = [], [], []
    n_wide = 0
    for Cb, kind in zip(np.logspace(18, 21, len(kinds)), kinds):
        v = 0.5 * np.log(Cb) + 1.0
        if kind == "wide":
            n = (9, 6, 7)[n_wide % 3]
            n_wide += 1
            d = 0.2 * (np.arange(n) - (n - 1) / 2)
            y = 2.0 + 0.5 * d**2 + sigma * rng.standard_normal(d.size)
        else:
            d = 2.0 * np.arange(-2.0, 3.0)
            if kind == "exact":
                y = 2.0 + 0.05 * d**2
            else:
                y = 2.0 + k_flat * d**2 + delta * np.where(d == 0, -1.0, 1.0)
        C += [Cb] * d.size
        N += list(np.exp(v + d))
        L += list(y)
    return np.array(C), np.array(N), np.array(L)


def test_isoflop_noise_free_3_point_windows_are_not_narrow() -> None:
    """A 3-point window fits its parabola exactly (se of k NaN from its own residuals); with
    noise-free budgets beside it the pooled noise is ~0, so nothing is flagged."""
    C, N, L = _parabola_sweep(["wide", "exact"] * 3)
    f = ch.fit_isoflop(C, N, L)  # warnings are errors
    assert f.n_window.tolist() == [9, 3, 6, 3, 7, 3]
    assert all(fl == () for fl in f.flags) and f.used.all()
    # no se of their own: from the pooled noise, here ~0
    assert np.all(f.log_N_opt_se[1::2] < 1e-6)
    assert f.a == pytest.approx(0.5, abs=1e-9)
    assert "exact" not in repr(f)


@pytest.mark.parametrize("factor, narrow", [(0.99, True), (1.01, False)])
def test_isoflop_flat_3_point_windows_use_the_pooled_noise(factor: float, narrow: bool) -> None:
    """Flat 3-point budgets (curvature 1e-6 under noise of the size of 1e-3) were never
    "narrow": their se_k was NaN. Their se_k now comes from the noise pooled over the
    budgets with residual degrees of freedom (sum of squared residuals over sum of dof, here
    6 + 3 + 4); checked against numpy least squares just either side of the threshold of
    the rule k - t se_k <= 0, t Student's (scipy) at the normal's 2-sigma one-sided level
    on those 13 degrees of freedom."""
    from scipy import stats

    sigma, k_flat, h = 1e-3, 1e-6, 2.0
    kinds = ["flat", "wide"] * 3
    C0, N0, L0 = _parabola_sweep(kinds, sigma=sigma)
    # Independent: pooled variance of the wide budgets (all their points in the window).
    ssr, dof = 0.0, 0
    for Cb in np.unique(C0)[1::2]:
        sel = C0 == Cb
        X = np.vander(np.log(N0[sel]) - np.log(N0[sel]).mean(), 3, increasing=True)
        r = L0[sel] - X @ np.linalg.lstsq(X, L0[sel], rcond=None)[0]
        ssr, dof = ssr + float(r @ r), dof + int(sel.sum()) - 3
    assert dof == 13
    # Flat windows: sizes -h, 0, h around the vertex with losses delta, -delta, delta (plus
    # k_flat d^2): k = 2 delta / h^2 + k_flat and se_k = sqrt(s2 inv(X^T X)[2, 2]).
    X3 = np.vander(np.array([-h, 0.0, h]), 3, increasing=True)
    se_k = float(np.sqrt(ssr / dof * np.linalg.inv(X3.T @ X3)[2, 2]))
    tq = float(stats.t.ppf(stats.norm.cdf(2.0), dof))
    delta = factor * (tq * se_k - k_flat) * h**2 / 2  # the threshold, times factor
    C, N, L = _parabola_sweep(kinds, sigma=sigma, delta=delta, k_flat=k_flat)
    sel = C == C.min()
    t, y = np.log(N[sel])[1:4], L[sel][1:4]
    k = np.linalg.lstsq(np.vander(t - t[1], 3, increasing=True), y, rcond=None)[0][2]
    assert k > 0 and (k - tq * se_k <= 0) == narrow
    text = r"not significant \(sweep too narrow for its noise\) at C = 1e\+18.*, 1.58e\+19.*, 2.51e"

    def warns() -> contextlib.AbstractContextManager[object]:  # warnings are errors
        return pytest.warns(DataWarning, match=text) if narrow else contextlib.nullcontext()

    with warns():
        f = ch.fit_isoflop(C, N, L)
    assert f.n_window.tolist() == [3, 9, 3, 6, 3, 7]
    assert f.flags == ((("narrow",) if narrow else ()), ()) * 3
    assert f.used.all()  # "narrow" is excluded only with exclude="off-centre"
    with warns():
        g = ch.fit_isoflop(C, N, L, exclude="off-centre")
    assert g.used.tolist() == ([False, True] * 3 if narrow else [True] * 6)


def _delta_se_vertex(t: np.ndarray, y: np.ndarray, s2: float) -> float:
    """se of the parabola's vertex -c1 / (2 c2) by the delta method, numpy least squares."""
    X = np.vander(t - t.mean(), 3, increasing=True)
    c = np.linalg.lstsq(X, y, rcond=None)[0]
    V = s2 * np.linalg.inv(X.T @ X)
    g = np.array([0.0, -1 / (2 * c[2]), c[1] / (2 * c[2] ** 2)])
    return float(np.sqrt(g @ V @ g))


def test_isoflop_3_point_windows_get_log_n_opt_se_from_the_pooled_noise() -> None:
    """The vertex's standard error: for windows with residual degrees of freedom the core's
    Gauss-Newton covariance of the vertex form equals the delta method on the polynomial fit
    with the window's own noise (numpy); a 3-point window gets the same with the noise pooled
    over those windows, so weighted=True no longer leaves it out. With no such window: NaN."""
    sigma = 1e-3
    C, N, L = _parabola_sweep(["wide", "flat"] * 3, sigma=sigma, delta=2e-3, k_flat=0.05)
    f = ch.fit_isoflop(C, N, L)
    assert f.n_window.tolist() == [9, 3, 6, 3, 7, 3]
    ssr, dof = 0.0, 0
    for j, Cb in enumerate(f.budgets):
        sel = np.isclose(C, Cb, rtol=1e-9)
        t, y = np.log(N[sel]), L[sel]
        if f.n_window[j] > 3:
            X = np.vander(t - t.mean(), 3, increasing=True)
            r = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
            s2 = float(r @ r) / (t.size - 3)
            assert f.log_N_opt_se[j] == pytest.approx(_delta_se_vertex(t, y, s2), rel=1e-6)
            ssr, dof = ssr + float(r @ r), dof + t.size - 3
    for j in (1, 3, 5):
        sel = np.isclose(C, f.budgets[j], rtol=1e-9)
        t, y = np.log(N[sel])[1:4], L[sel][1:4]  # the window: the 3 middle sizes
        assert f.log_N_opt_se[j] == pytest.approx(_delta_se_vertex(t, y, ssr / dof), rel=1e-6)
    w = ch.fit_isoflop(C, N, L, weighted=True)
    assert w.used.all()
    v = np.log(w.N_opt)
    expected = np.polyfit(np.log(w.budgets), v, 1, w=1 / w.log_N_opt_se)[0]
    assert w.a == pytest.approx(expected, rel=1e-9)
    only = ch.fit_isoflop(*_parabola_sweep(["exact"] * 4))
    assert np.isnan(only.log_N_opt_se).all()


@pytest.mark.parametrize("kind", ["exact", "flat"])
def test_isoflop_all_3_point_windows_are_exact(kind: str) -> None:
    """With no budget holding residual degrees of freedom the curvature cannot be tested:
    every budget is flagged "exact" (in the table and the repr) and still used."""
    C, N, L = _parabola_sweep([kind] * 4, delta=1e-3)
    f = ch.fit_isoflop(C, N, L)  # "exact" warns nothing
    assert f.n_window.tolist() == [3] * 4
    assert f.flags == (("exact",),) * 4 and f.used.all()
    assert f.a == pytest.approx(0.5, abs=1e-9)
    assert all(line.endswith("  exact") for line in f.table().splitlines()[1:])
    assert "exact: curvature not testable at C = 1e+18, 1e+19, 1e+20, 1e+21" in repr(f)
    g = ch.fit_isoflop(C, N, L, exclude="off-centre")  # never excluded
    assert g.used.all() and g.a == pytest.approx(0.5, abs=1e-9)


def _epoch_sweep(factor: float, n_sizes: int, seeds: int = 1, noise: float = 0.003,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Budgets 1e18..1e21 of Epoch's law, ``n_sizes`` sizes ``factor`` apart centred on each
    budget's optimum, ``seeds`` runs per size, log-normal noise ``noise``."""
    law, rng = ch.EPOCH_2024, np.random.default_rng(seed)
    C, N, L = [], [], []
    for c in np.logspace(18, 21, 4):
        ns = np.repeat(float(law.optimal_allocation(c)[0]) * factor ** (np.arange(n_sizes) - n_sizes // 2), seeds)
        C += [c] * ns.size
        N += list(ns)
        L += list(law.loss(ns, c / (6 * ns)) * np.exp(noise * rng.standard_normal(ns.size)))
    return np.array(C), np.array(N), np.array(L)


def test_isoflop_repeated_runs_of_a_size_count_once() -> None:
    """Two seeds per size: the window holds the 3 nearest sizes (6 runs), not the 3 nearest
    runs (2 sizes, no parabola: every budget failed). A least-squares parabola through the
    pairs is the parabola through the pairs' means, so the minima equal a fit of the means."""
    C, N, L = _epoch_sweep(8.0, 5, seeds=2)
    f = ch.fit_isoflop(C, N, L, scan_windows=())
    assert f.n_window.tolist() == [6] * 4 and f.flags == ((),) * 4
    mean = L.reshape(-1, 2).mean(axis=1)
    g = ch.fit_isoflop(C[::2], N[::2], mean, scan_windows=())
    assert g.n_window.tolist() == [3] * 4
    np.testing.assert_allclose(f.N_opt, g.N_opt, rtol=1e-6)
    assert f.a == pytest.approx(g.a, rel=1e-6)
    cubic = ch.fit_isoflop(C, N, L, degree=3, window=30.0, scan_windows=())
    assert cubic.n_window.tolist() == [8] * 4 and np.isfinite(cubic.N_opt).all()


def test_isoflop_wild_bootstrap_gives_exact_windows_the_pooled_noise() -> None:
    """A window the curve fits exactly (leverage 1: 3 sizes) has no residual to resample: its
    wild replicates move each loss by +-sigma, the noise pooled over the budgets that have
    residual degrees of freedom (it was 0: replicates equal to the data, a zero-width
    interval). With no such budget the interval is NaN, with a warning."""
    from scalingfit.chinchilla import _noise_scale, _wild_replicates, _window_fits

    C, N, L = _epoch_sweep(4.0, 5)
    budgets = np.unique(C)
    t = [np.log(N[C == c]) for c in budgets]
    y = [L[C == c] for c in budgets]
    parts = _window_fits(t, y, np.log(6.0), 2)
    assert [int(p[0].sum()) for p in parts] == [3] * 4 and np.isnan(_noise_scale(parts, 2))
    reps = _wild_replicates(y[0], parts[0], 0.01, 400, np.random.default_rng(0))
    win, fitted = parts[0][0], parts[0][1]
    np.testing.assert_allclose(np.abs(reps[:, win] - fitted), 0.01, rtol=1e-9)
    assert np.array_equal(reps[:, ~win], np.broadcast_to(y[0][~win], (400, int((~win).sum()))))
    with pytest.warns(DataWarning, match="no residuals to resample"):
        f = ch.fit_isoflop(C, N, L, n_bootstrap=200, seed=0, scan_windows=())
    assert np.isnan(f.interval).all() and f.a_bootstrap.size == 0
    # wide sweeps at two budgets: their pooled residual standard deviation is the noise
    C2, N2, L2 = _epoch_sweep(10 ** 0.1875, 9, noise=0.003, seed=1)
    t2 = [np.log(N2[C2 == c]) for c in budgets]
    y2 = [L2[C2 == c] for c in budgets]
    parts2 = _window_fits(t2, y2, np.log(6.0), 2)
    res = np.concatenate([p[2] for p in parts2])
    dof = sum(p[2].size - 3 for p in parts2)
    assert _noise_scale(parts2, 2) == pytest.approx(np.sqrt(res @ res / dof), rel=1e-12)


def test_isoflop_robust_loss_resists_a_diverged_run() -> None:
    """One run 0.3 nats off: least squares moves a by ~0.01; Huber with the default scale
    (1.345 robust noise deviations) stays within a quarter of that of the clean fit. With
    f_scale=1 (a nat: every residual inside) Huber is least squares, as it silently was."""
    C, N, L = _epoch_sweep(10 ** 0.1875, 9)
    bad = L.copy()
    bad[5] += 0.3
    clean = ch.fit_isoflop(C, N, L, scan_windows=()).a
    # least squares: the outlier's budget's curvature is no longer significant (Student's t on
    # its window's 6 degrees of freedom, 2.6, not 2)
    with pytest.warns(DataWarning, match=r"not significant .* at C = 1e\+18\."):
        ls = ch.fit_isoflop(C, N, bad, scan_windows=()).a
    assert abs(ls - clean) > 0.005
    for lf in ("huber", "soft_l1", "cauchy"):
        rob = ch.fit_isoflop(C, N, bad, loss_fn=lf, scan_windows=()).a
        assert abs(rob - clean) < 0.25 * abs(ls - clean), lf
    with pytest.warns(DataWarning, match="not significant"):
        same = ch.fit_isoflop(C, N, bad, loss_fn="huber", f_scale=1.0, scan_windows=()).a
    assert same == pytest.approx(ls, abs=1e-8)
    with pytest.raises(ValueError, match="needs the parabola"):
        ch.fit_isoflop(C, N, bad, loss_fn="huber", degree=3)
    with pytest.raises(ValueError, match="loss_fn must be one of"):
        ch.fit_isoflop(C, N, bad, loss_fn="l1")
    with pytest.raises(ValueError, match="f_scale must be finite and > 0"):
        ch.fit_isoflop(C, N, bad, loss_fn="huber", f_scale=0.0)


def test_isoflop_budget_bootstrap_needs_three_budgets() -> None:
    C, N, L = _epoch_sweep(10 ** 0.1875, 9)
    two = C <= 1e19 * 1.0001
    with pytest.raises(ValueError, match="needs at least 3 budgets to resample, got 2"):
        ch.fit_isoflop(C[two], N[two], L[two], n_bootstrap=100, resample="budgets")
    assert np.isfinite(ch.fit_isoflop(C[two], N[two], L[two], n_bootstrap=100).interval).all()


def test_isoflop_failed_budget_reports_no_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget whose parabola fit fails has NaN N_opt, D_opt, loss_opt and standard error
    (it reported the failed fit's vertex) and is left out of the power law."""
    C, N, L = _epoch_sweep(10 ** 0.1875, 9)
    real = ch.fit_batch

    def failing(*args, **kw):  # type: ignore[no-untyped-def]
        res = real(*args, **kw)
        res.status[0] = -1  # problem 0: the first budget of the data row
        return res

    monkeypatch.setattr(ch, "fit_batch", failing)
    with pytest.warns(DataWarning, match="the fit failed at C = 1e\\+18 \\(excluded\\)"):
        f = ch.fit_isoflop(C, N, L, scan_windows=())
    assert f.flags[0] == ("failed",) and not f.used[0]
    for v in (f.N_opt, f.D_opt, f.loss_opt, f.log_N_opt_se):
        assert np.isnan(v[0]) and np.isfinite(v[1:]).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(window=1.0), r"windows are factors in N and must be > 1"),
        (dict(degree=4), r"degree must be 2"),
        (dict(exclude="all"), r"exclude must be one of"),
        (dict(resample="jackknife"), r"resample must be"),
        (dict(n_bootstrap=-1), r"n_bootstrap must be"),
        (dict(confidence=1.5), r"confidence must be in"),
        (dict(interval_method="basic"), r"interval_method must be"),
        (dict(on_small="ignore"), r"on_small must be"),
        (dict(weighted=True, degree=3), r"weighted=True needs"),
    ],
)
def test_fit_isoflop_rejects_bad_options(kwargs: dict, match: str) -> None:
    s = simulate.isoflop_sweep(seed=0)
    with pytest.raises(ValueError, match=match):
        ch.fit_isoflop(s.C, s.N, s.loss, **kwargs)


def test_fit_isoflop_rejects_bad_data() -> None:
    s = simulate.isoflop_sweep(seed=0)
    N = s.N.copy()
    N[5] = 0.0
    with pytest.raises(ValueError, match=r"N must be > 0.*index 5"):
        ch.fit_isoflop(s.C, N, s.loss)
    L = s.loss.copy()
    L[2] = np.nan
    with pytest.raises(ValueError, match=r"loss must be finite.*row 2"):
        ch.fit_isoflop(s.C, s.N, L)
    with pytest.warns(DataWarning, match="rows 2"):
        ch.fit_isoflop(s.C, s.N, L, nan_policy="omit")
    with pytest.raises(ValueError, match="at least 2 budgets"):
        one = s.C == s.C.min()
        ch.fit_isoflop(s.C[one], s.N[one], s.loss[one])
    for v in (0.0, -1.0):  # a loss <= 0 bent the parabola (a moved by 0.06) without a word
        L = s.loss.copy()
        L[7] = v
        with pytest.raises(ValueError, match=r"loss must be > 0.*index 7"):
            ch.fit_isoflop(s.C, s.N, L)


def _lse_model(x: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """chinchilla_lse written out in NumPy: L = exp(a - alpha log N) + exp(b - beta log D) + exp(e)
    and its Jacobian (rows per point)."""
    tN, tD = np.log(x[:, 0]), np.log(x[:, 1])
    u0, u1, u2 = np.exp(q[:, 0] - q[:, 3] * tN), np.exp(q[:, 1] - q[:, 4] * tD), np.exp(q[:, 2])
    return u0 + u1 + u2, np.column_stack([u0, u1, u2, -tN * u0, -tD * u1])


def _near_best_starts(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    best = np.array([6.1693, 7.6704, 0.5973, 0.34731, 0.36718])
    return best * (1 + 0.25 * rng.uniform(-1, 1, (n, 5)))


def test_curvature_switch_of_robust_losses_keeps_the_answer_and_covariance() -> None:
    """Huber fits on log residuals switch to the exact loss curvature near the solution
    (lm.hpp, "Curvature switch"). From 40 starts around Epoch's optimum: the answers equal
    L-BFGS-B's minimum of Epoch's objective run to tight tolerances, and the covariance is the
    reweighted Gauss-Newton one at the solution, computed here in NumPy (the switch must not
    leak the exact-curvature matrix into it)."""
    from scipy.optimize import minimize

    N, D, L = _epoch_kept()
    starts = _near_best_starts(40, 3)
    r = scalingfit.fit_batch("chinchilla_lse", (N, D), L, [0, N.size], starts,
                             problem=np.zeros(40, dtype=np.int64), loss="huber", f_scale=1e-3,
                             log_residuals=True)
    assert (r.status > 0).all()
    f = ch.huber_objective
    ref = minimize(lambda q: f(ch.ChinchillaLaw.from_log_params(q), N, D, L), starts[0],
                   method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000})
    best = r.cost.min()
    assert best <= ref.fun * (1 + 1e-9)
    at_best = r.cost <= best * (1 + 1e-9)
    assert at_best.sum() >= 35
    np.testing.assert_allclose(r.x[at_best], np.repeat(r.x[at_best][:1], at_best.sum(), 0), rtol=1e-6)
    # Covariance: inv(sum rho'(z) J J^T) * 2 cost / (n - 5) with J = d log L / d p, Huber's
    # rho' = min(1, delta / |r|).
    x = np.column_stack([N, D])
    for k in np.flatnonzero(at_best)[:5]:
        val, J = _lse_model(x, np.repeat(r.x[k][None, :], N.size, 0))
        res = np.log(val) - np.log(L)
        w = np.minimum(1.0, 1e-3 / np.abs(res))
        Jl = J / val[:, None]
        H = (Jl * w[:, None]).T @ Jl
        cov = np.linalg.inv(H) * 2 * r.cost[k] / (N.size - 5)
        np.testing.assert_allclose(r.cov[k], cov, rtol=1e-6, atol=1e-12 * np.abs(cov).max())


def test_curvature_switch_cuts_the_linear_crawl_in_the_python_twin(monkeypatch) -> None:
    """The same Huber fits through the custom-model solver (the NumPy twin of lm.hpp): with the
    switch it takes the core's number of trial steps on most starts and lands on the same
    solutions; with the switch turned off (the reweighted matrix throughout) it needs many more
    trial steps to reach the same optimum (measured: 23 against 80 per start)."""
    from scalingfit import _custom

    N, D, L = _epoch_kept()
    starts = _near_best_starts(40, 4)
    kw = dict(problem=np.zeros(40, dtype=np.int64), loss="huber", f_scale=1e-3, log_residuals=True)
    model = scalingfit.CustomModel(lambda x, q: _lse_model(x, q)[0], ("a", "b", "e", "alpha", "beta"),
                                   n_inputs=2, jac=lambda x, q: _lse_model(x, q)[1])
    x = np.column_stack([N, D])
    core = scalingfit.fit_batch("chinchilla_lse", x, L, [0, N.size], starts, **kw)
    twin = scalingfit.fit_batch(model, x, L, [0, N.size], starts, **kw)
    assert np.mean(core.iterations == twin.iterations) >= 0.9, (core.iterations, twin.iterations)
    best = core.cost.min()
    ok = (core.cost <= best * (1 + 1e-9)) & (twin.cost <= best * (1 + 1e-9))
    assert ok.sum() >= 30 and (core.status[ok] > 0).all() and (twin.status[ok] > 0).all()
    np.testing.assert_allclose(twin.x[ok], core.x[ok], rtol=1e-6)
    monkeypatch.setattr(_custom, "SWITCH_DECREASE", 0.0)
    slow = scalingfit.fit_batch(model, x, L, [0, N.size], starts, **kw)
    assert (slow.cost[ok] <= best * (1 + 1e-9)).all()
    np.testing.assert_allclose(slow.x[ok], core.x[ok], rtol=1e-5)
    assert slow.iterations[ok].mean() >= 2 * twin.iterations[ok].mean()


def test_chinchilla_closed_forms_and_objective_check_their_input() -> None:
    """A law with a negative exponent was a ZeroDivisionError or NaN allocation, a budget <= 0
    NaN; huber_objective took N < 0 (NaN), loss 0 (inf) and a negative delta; an empty grid of
    starts was an IndexError; runs whose C were computed per run (every budget one run) were
    'fewer than 3 distinct sizes' without the reason."""
    with pytest.raises(ValueError, match="needs alpha finite and > 0; this law has alpha = -1"):
        ch.ChinchillaLaw(1.0, 1.0, 1.0, -1.0, 1.0).optimal_allocation(1e20)
    with pytest.raises(ValueError, match=r"C must be > 0 \(a compute budget in FLOP\).*index 1: -1.0"):
        ch.EPOCH_2024.optimal_allocation([1e20, -1.0])
    N, D = np.array([1e8, 2e8, 4e8]), np.array([2e9, 4e9, 8e9])
    L = ch.EPOCH_2024.loss(N, D)
    assert ch.huber_objective(ch.EPOCH_2024, N, D, L) == pytest.approx(0.0, abs=1e-20)
    with pytest.raises(ValueError, match=r"N must be > 0 \(the objective is in log space\).*index 0"):
        ch.huber_objective(ch.EPOCH_2024, -N, D, L)
    with pytest.raises(ValueError, match=r"loss must be > 0.*index 2"):
        ch.huber_objective(ch.EPOCH_2024, N, D, L * [1, 1, 0])
    with pytest.raises(ValueError, match=r"D has shape \(2,\); N has \(3,\)"):
        ch.huber_objective(ch.EPOCH_2024, N, D[:2], L)
    with pytest.raises(ValueError, match="delta must be finite and > 0"):
        ch.huber_objective(ch.EPOCH_2024, N, D, L, delta=-1e-3)
    with pytest.raises(ValueError, match=r"grid must have 5 columns .* and at least one row, got shape \(0, 5\)"):
        ch.fit_parametric(np.r_[N, 2 * N], np.r_[D, D], np.r_[L, L], grid=np.empty((0, 5)))
    s = simulate.isoflop_sweep(seed=0)
    jitter = s.C * (1 + 1e-5 * np.arange(s.C.size))
    with pytest.raises(ValueError, match="runs form one budget when their C agree to 1e-6 relative"):
        ch.fit_isoflop(jitter, s.N, s.loss)


def test_fit_envelope_names_bad_labels_and_sizes() -> None:
    """run=[None]*n was "'<' not supported between NoneType and NoneType"; n_flops=1e9 tried
    to build a grid of a billion budgets per run."""
    c = simulate.training_curves(seed=0)
    with pytest.raises(ValueError, match="run labels must be of one orderable kind"):
        ch.fit_envelope(c.N, c.D, c.loss, run=np.array([None, 1] * (c.N.size // 2), dtype=object))
    with pytest.raises(ValueError, match=r"n_flops must be an integer in \[2, 1000000\]"):
        ch.fit_envelope(c.N, c.D, c.loss, n_flops=10**9)


def test_a_single_bad_budget_is_named() -> None:
    """A scalar budget <= 0 was an IndexError from the message's own index lookup."""
    with pytest.raises(ValueError, match=r"C must be > 0 \(a compute budget in FLOP\), got -1.0"):
        ch.EPOCH_2024.optimal_allocation(-1.0)
    with pytest.raises(ValueError, match=r"C must be finite, got nan"):
        ch.EPOCH_2024.optimal_allocation(float("nan"))


# ---------------------------------------------------------------- optima found elsewhere
def _optima(rng: np.random.Generator, a: float = 0.5, J: int = 10, se: float = 0.1):
    C = np.logspace(18, 22, J)
    log_se = se * rng.uniform(0.5, 2.0, J)
    N = 0.09 * C**a * np.exp(log_se * rng.standard_normal(J))
    return C, N, log_se


def test_fit_optima_is_weighted_least_squares_in_logs(rng) -> None:
    """Against numpy's weighted polyfit (weights 1/sigma on the residuals = 1/sigma^2 on the
    squares) and, without standard errors, the ordinary one; R^2 unweighted, by hand."""
    C, N, se = _optima(rng)
    f = ch.fit_optima(C[::-1], N[::-1], se[::-1])  # any order
    slope, icpt = np.polyfit(np.log(C), np.log(N), 1, w=1 / se)
    assert f.a == pytest.approx(slope, rel=1e-12) and f.b == pytest.approx(1 - slope, rel=1e-12)
    assert f.G_N == pytest.approx(np.exp(icpt), rel=1e-10)
    assert f.G_D * 6 * f.G_N == pytest.approx(1.0, rel=1e-12)  # D_opt = C / (6 N_opt)
    r = np.log(N) - (icpt + slope * np.log(C))
    assert f.r2 == pytest.approx(1 - np.sum(r**2) / np.sum((np.log(N) - np.log(N).mean()) ** 2), rel=1e-12)
    assert f.predict(1e24) == pytest.approx(np.exp(icpt) * 1e24**slope, rel=1e-10)
    assert np.all(np.diff(f.budgets) > 0) and f.resample == "none" and np.isnan(f.interval[0])
    g = ch.fit_optima(C, N)
    assert g.a == pytest.approx(np.polyfit(np.log(C), np.log(N), 1)[0], rel=1e-12)
    assert "unweighted" in repr(g) and "weighted" in repr(f)


def test_fit_optima_parametric_interval_covers(rng) -> None:
    """200 simulated sets of 10 optima with known log standard errors: the 95% parametric
    bootstrap interval holds the true exponent in 95% of them (binomial 99.9% band 89-99%),
    and its width matches the exact normal-theory one (the fit is linear in log N)."""
    hits, ratio = 0, []
    for _ in range(200):
        C, N, se = _optima(rng, a=0.52)
        f = ch.fit_optima(C, N, se, n_bootstrap=2000, seed=int(rng.integers(1 << 30)))
        hits += f.interval[0] <= 0.52 <= f.interval[1]
        x = np.log(C)
        w = 1 / se**2
        sd = 1 / np.sqrt(np.sum(w * (x - np.sum(w * x) / np.sum(w)) ** 2))
        ratio.append((f.interval[1] - f.interval[0]) / (2 * 1.959964 * sd))
    assert 0.89 <= hits / 200 <= 0.99
    assert np.median(ratio) == pytest.approx(1.0, abs=0.03)


def test_fit_optima_budget_bootstrap_and_seed(rng) -> None:
    C, N, _ = _optima(rng)
    f = ch.fit_optima(C, N, n_bootstrap=500, seed=3)
    assert f.resample == "budgets" and f.a_bootstrap.size == 500
    assert f.interval[0] < f.a < f.interval[1]
    same = ch.fit_optima(C, N, n_bootstrap=500, seed=3)
    assert np.array_equal(f.a_bootstrap, same.a_bootstrap)
    # two budgets: every replicate holds one budget (dropped) or repeats the data, so the
    # interval would have zero width: refused, naming the parametric alternative
    with pytest.raises(ValueError, match="at least 3 distinct budgets, got 2.*log_se"):
        ch.fit_optima(C[:2], N[:2], n_bootstrap=200, seed=1)
    three = ch.fit_optima(C[:3], N[:3], n_bootstrap=200, seed=1)
    assert three.interval[1] > three.interval[0]


@pytest.mark.parametrize("args, kwargs, match", [
    (([1e20, np.nan], [1e9, 2e9]), {}, r"C must be finite and > 0; C\[1\] = nan"),
    (([1e20, 1e21], [1e9, 0.0]), {}, r"N_opt must be finite and > 0; N_opt\[1\] = 0.0"),
    (([1e20, 1e21, 1e22], [1e9, 2e9]), {}, "one value per budget"),
    (([1e20, 1e20], [1e9, 2e9]), {}, "at least 2 distinct budgets"),
    (([1e20, 1e21], [1e9, 2e9], [0.1, -0.1]), {}, r"log_se must be finite and > 0; log_se\[1\] = -0.1"),
    (([1e20, 1e21], [1e9, 2e9], [0.1]), {}, "log_se has shape"),
    (([1e20, 1e21], [1e9, 2e9]), {"n_bootstrap": -1}, "n_bootstrap must be an integer"),
    (([1e20, 1e21], [1e9, 2e9]), {"confidence": 1.0}, "confidence must be in"),
])
def test_fit_optima_bad_input(args, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        ch.fit_optima(*args, **kwargs)


def test_fit_optima_on_porian_optima_gives_their_exponents(shared_data) -> None:
    """Porian et al.'s fit_results.csv from their isoflop_optima.csv: exponent, R^2 and
    coefficient of every configuration to rounding."""
    import csv

    folder = shared_data / "porian2024_isoflop"
    with open(folder / "isoflop_optima.csv", newline="") as fh:
        optima = list(csv.DictReader(fh))
    with open(folder / "fit_results.csv", newline="") as fh:
        published = list(csv.DictReader(fh))
    assert len(published) == 15
    for p in published:
        rows = [r for r in optima if (r["source_file"], r["label"]) == (p["source_file"], p["label"])
                and r["N_star"] and r["N_star_logstd"]]
        f = ch.fit_optima(*(np.array([float(r[k]) for r in rows]) for k in ("flops", "N_star", "N_star_logstd")))
        assert f.a == pytest.approx(float(p["n_exponent"]), abs=1e-12)
        assert f.r2 == pytest.approx(float(p["n_r2"]), abs=1e-12)
        assert f.G_N == pytest.approx(float(p["n_coef"]), rel=1e-10)
