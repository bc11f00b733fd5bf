"""scalingfit.kaplan: closed forms, recovery of the published constants from simulated sweeps
(with interval coverage), the frontier, and Kaplan's L(N) on real final losses (Pythia, OLMo)."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import kaplan
from scalingfit.kaplan import KAPLAN_2020 as K


def test_closed_forms_and_limits() -> None:
    N = np.array([1e7, 1e9]); D = np.array([1e9, 1e11])
    np.testing.assert_allclose(kaplan.loss_N(N), (8.8e13 / N) ** 0.076)
    np.testing.assert_allclose(kaplan.loss_D(D), (5.4e13 / D) ** 0.095)
    # L(N, D) -> L(N) with the Table 2 constants as D -> infinity, and -> L(D) as N -> infinity
    c2 = kaplan.KaplanConstants(N_c=K.nd_N_c, alpha_N=K.nd_alpha_N, D_c=K.nd_D_c, alpha_D=K.nd_alpha_D)
    np.testing.assert_allclose(kaplan.loss_ND(N, 1e30), kaplan.loss_N(N, c2), rtol=1e-9)
    np.testing.assert_allclose(kaplan.loss_ND(1e40, D), kaplan.loss_D(D, c2), rtol=1e-9)
    assert kaplan.loss_NS(1e9, 1e12) == pytest.approx((K.ns_N_c / 1e9) ** K.ns_alpha_N, rel=1e-3)
    assert float(kaplan.compute_flops(1e9, 2e10)) == 1.2e20
    # the engine's kaplan_nd model is the same law
    import scalingfit
    m = scalingfit.models.get("kaplan_nd")
    got = m.predict([K.nd_N_c, K.nd_D_c, K.nd_alpha_N, K.nd_alpha_D], np.column_stack([N, D]))
    np.testing.assert_allclose(got, kaplan.loss_ND(N, D), rtol=1e-13)
    assert "alpha_N" in K.as_table()


def test_noise_free_recovery_of_every_published_law() -> None:
    N = np.logspace(5, 9, 9); D = np.logspace(7, 10, 9); C = np.logspace(-6, 2, 9)
    fN, fD, fC = kaplan.fit_power_laws([N, D, C], [kaplan.loss_N(N), kaplan.loss_D(D), kaplan.loss_C_min(C)])
    assert fN.alpha == pytest.approx(K.alpha_N, rel=1e-8) and fN.x_c == pytest.approx(K.N_c, rel=1e-6)
    assert fD.alpha == pytest.approx(K.alpha_D, rel=1e-8) and fD.x_c == pytest.approx(K.D_c, rel=1e-6)
    assert fC.alpha == pytest.approx(K.alpha_C_min, rel=1e-8) and fC.x_c == pytest.approx(K.C_c_min, rel=1e-6)
    Ng, Dg = (a.ravel() for a in np.meshgrid(np.logspace(7, 9.5, 6), np.logspace(8, 11, 6)))
    nd = kaplan.fit_nd(Ng, Dg, kaplan.loss_ND(Ng, Dg))
    for k, v in {"N_c": K.nd_N_c, "D_c": K.nd_D_c, "alpha_N": K.nd_alpha_N, "alpha_D": K.nd_alpha_D}.items():
        assert nd.params[k] == pytest.approx(v, rel=1e-6), k
    Ns, Ss = (a.ravel() for a in np.meshgrid(np.logspace(6, 9, 5), np.logspace(3, 5.5, 8)))
    ns = kaplan.fit_ns(Ns, Ss, kaplan.loss_NS(Ns, Ss))
    for k, v in {"N_c": K.ns_N_c, "S_c": K.ns_S_c, "alpha_N": K.ns_alpha_N, "alpha_S": K.ns_alpha_S}.items():
        assert ns.params[k] == pytest.approx(v, rel=1e-6), k


def test_bootstrap_intervals_cover_the_published_constants() -> None:
    """200 seeded sweeps of L(N) (16 sizes, 1% noise) simulated with Kaplan's constants; each
    scheme fits all sweeps and 200 resamples of each in batch calls. The residual bootstrap's
    95% interval covers the true alpha_N and N_c in >= 90% of the sweeps; resampling points
    under-covers a little with so few points (binomial sd at 200 sweeps: 1.5%). Over three
    seed sets (data seeds 1, 2, 2020) we measured 0.895-0.945 (residuals) and 0.865-0.93
    (points); this test uses data seed 1."""
    rng = np.random.default_rng(1)
    N = np.logspace(5, 9, 16)
    S = 200
    ys = [kaplan.loss_N(N) * (1 + 0.01 * rng.standard_normal(N.size)) for _ in range(S)]
    cover: dict[str, dict[str, float]] = {}
    for scheme in ("residuals", "points"):
        fits = kaplan.fit_power_laws([N] * S, ys, n_resamples=200, seed=7, log_residuals=True,
                                     scheme=scheme)
        assert sum(f.law.n_failed for f in fits) == 0
        cover[scheme] = {}
        for name, true in (("alpha", K.alpha_N), ("x_c", K.N_c)):
            iv = np.array([f.interval(name) for f in fits])
            cover[scheme][name] = float(np.mean((iv[:, 0] <= true) & (true <= iv[:, 1])))
    print(f"coverage of nominal 95% bootstrap intervals over {S} sweeps: {cover}")
    # from above too: a doubled standard error covers ~0.9999 (at most 0.985 of nominal 0.95 here)
    assert all(0.90 <= c <= 0.985 for c in cover["residuals"].values()), cover
    assert all(0.85 <= c <= 0.985 for c in cover["points"].values()), cover


@pytest.mark.parametrize("law", ["nd", "ns"])
def test_joint_laws_recovered_within_their_intervals(law: str) -> None:
    rng = np.random.default_rng(11)
    hits, total = 0, 0
    for s in range(10):
        if law == "nd":
            N, X = (a.ravel() for a in np.meshgrid(np.logspace(7, 9.5, 6), np.logspace(8, 11, 6)))
            L = kaplan.loss_ND(N, X) * (1 + 0.005 * rng.standard_normal(N.size))
            fit = kaplan.fit_nd(N, X, L, n_resamples=150, seed=s)
            truth = {"N_c": K.nd_N_c, "D_c": K.nd_D_c, "alpha_N": K.nd_alpha_N, "alpha_D": K.nd_alpha_D}
        else:
            N, X = (a.ravel() for a in np.meshgrid(np.logspace(6, 9, 5), np.logspace(3, 5.5, 8)))
            L = kaplan.loss_NS(N, X) * (1 + 0.005 * rng.standard_normal(N.size))
            fit = kaplan.fit_ns(N, X, L, n_resamples=150, seed=s)
            truth = {"N_c": K.ns_N_c, "S_c": K.ns_S_c, "alpha_N": K.ns_alpha_N, "alpha_S": K.ns_alpha_S}
        for k, v in truth.items():
            lo, hi = fit.interval(k)
            hits += lo <= v <= hi
            total += 1
    assert hits / total >= 0.85, f"{law}: {hits}/{total} intervals cover the truth"


def test_frontier_and_allocations() -> None:
    f = kaplan.frontier_from_laws(np.logspace(18, 24, 13))
    # From L(N, S) and B_crit alone: N ∝ C^~0.7 (Kaplan: 0.73 from data), B ∝ C^~0.24, and the
    # number of steps barely grows.
    assert 0.65 < f.exponent("N") < 0.78
    assert 0.2 < f.exponent("B") < 0.3
    assert f.exponent("S") < 0.1
    np.testing.assert_allclose(6 * f.N * f.B * f.S, f.C, rtol=1e-6)
    assert np.all(np.diff(f.L) < 0)
    cmp = kaplan.compare_allocations(np.logspace(18, 26, 9))
    # Kaplan's exponent is 0.73 and Chinchilla's 0.5: the ratio grows as C^0.23 from the crossover.
    slope = np.polyfit(np.log(cmp.C), np.log(cmp.ratio), 1)[0]
    assert slope == pytest.approx(0.23, abs=1e-9)
    nk = kaplan.kaplan_optimal_N(cmp.crossover)
    assert float(nk) == pytest.approx(float(kaplan.chinchilla_optimal_N(cmp.crossover)), rel=1e-9)
    np.testing.assert_allclose(6 * cmp.N_kaplan * cmp.D_kaplan, cmp.C)
    assert np.all(cmp.D_chinchilla / cmp.N_chinchilla == pytest.approx(20.0))
    assert "crossover" in repr(cmp)


def test_pythia_final_lambada_loss(shared_data) -> None:
    """Kaplan's L(N) on the final-checkpoint LAMBADA NLL of the 8 Pythia sizes (Pile and
    deduplicated Pile), N = non-embedding parameters, with 95% bootstrap intervals; the
    saturating form reproduces the SOURCE.md constants (E=0.739, A=1.234, a=0.314 on the Pile;
    E=0.816, A=1.104, a=0.334 deduplicated; x = N/1e9)."""
    from scaling_data import pythia_lambada

    rows = [r for r in pythia_lambada() if r["step"] == 143000]
    xs, ys = [], []
    for dedup in (False, True):
        sel = sorted((r for r in rows if r["deduped"] == dedup), key=lambda r: r["N"])
        xs.append(np.array([r["N"] for r in sel])); ys.append(np.array([r["nll"] for r in sel]))
    assert all(x.size == 8 for x in xs)
    pure = kaplan.fit_power_laws(xs, ys, n_resamples=1000, seed=0)
    sat = kaplan.fit_power_laws(xs, ys, irreducible=True, n_resamples=1000, seed=0)
    for name, p, s in zip(("pile", "deduped"), pure, sat):
        print(f"\nPythia {name}: {p}\n{s}\n failed replicates: {s.law.n_failed}")
        lo, hi = p.interval("alpha")
        assert lo < p.alpha < hi and 0.1 < lo and hi < 0.35
    ref = [(0.739, 1.234, 0.314), (0.816, 1.104, 0.334)]
    for s, (E, A, a) in zip(sat, ref):
        assert s.E == pytest.approx(E, abs=2e-3)
        assert s.alpha == pytest.approx(a, abs=2e-3)
        assert s.law.params["A"] * 1e9 ** -s.alpha == pytest.approx(A, abs=3e-3)


def test_olmo_ladder_final_c4_losses(shared_data) -> None:
    """Kaplan's L(N) on the final C4 losses of the OLMo ladder (5 sizes, one fit per
    tokens-per-parameter multiplier, all in one call) and the joint L(N, D) fitted on the 16
    runs of the paper's grid, predicting the held-out 3.2B runs."""
    from scaling_data import ladder_curves, ladder_runs

    runs, curves = ladder_runs(), ladder_curves("c4_en")
    mults = (0.5, 1.0, 2.0, 5.0, 10.0)
    xs, ys = [], []
    for mult in mults:
        sel = sorted((r for r, v in runs.items() if v["mult"] == mult and not v["rerun"]), key=lambda r: runs[r]["N"])
        xs.append(np.array([runs[r]["N"] for r in sel])); ys.append(np.array([curves[r]["loss"][-1] for r in sel]))
    fits = kaplan.fit_power_laws(xs, ys, n_resamples=1000, seed=0)
    for mult, f in zip(mults, fits):
        lo, hi = f.interval("alpha")
        print(f"OLMo ladder {mult:>4}xC: alpha_N = {f.alpha:.4f} [{lo:.4f}, {hi:.4f}], "
              f"N_c = {f.x_c:.3g} {tuple(f'{v:.3g}' for v in f.interval('x_c'))}")
        assert 0.06 < lo < f.alpha < hi < 0.1
    # joint L(N, D) on the paper's 4 x 4 grid (190M..1.3B x 1,2,5,10xC); predict 3.2B
    train = [r for r, v in runs.items() if not v["rerun"] and v["size"] != "3.2B" and v["mult"] >= 1]
    test = [r for r, v in runs.items() if not v["rerun"] and v["size"] == "3.2B"]
    assert len(train) == 16

    def arrays(names):  # type: ignore[no-untyped-def]
        return (np.array([runs[r]["N"] for r in names]), np.array([curves[r]["tokens"][-1] for r in names]),
                np.array([curves[r]["loss"][-1] for r in names]))

    N, D, L = arrays(train)
    nd = kaplan.fit_nd(N, D, L, n_resamples=500, seed=1)
    print("joint L(N, D) on the 16 ladder runs:", nd)
    Nt, Dt, Lt = arrays(test)
    pred = nd.predict(Nt, Dt)
    band = nd.band(Nt, Dt)
    rel = pred / Lt - 1
    for r, e, lo, hi, actual in zip(test, rel, band[0], band[1], Lt):
        print(f"  held-out {r}: actual {actual:.4f}, predicted {actual * (1 + e):.4f} [{lo:.4f}, {hi:.4f}] ({100 * e:+.2f}%)")
    assert np.all(np.abs(rel) < 0.03)


def test_bad_points_are_named_not_pass_p0() -> None:
    """A NaN or a size <= 0 in the data of a law fitted through the batch of many problems was
    "no usable start for any problem of power_law: pass p0" (fit_power_law has no p0), or an
    all-NaN fit with only a ConvergenceWarning (fit_nd with D = 0); too few points likewise."""
    L = [3.0, 2.8, 2.6, 2.5]
    with pytest.raises(ValueError, match=r"x must be finite; x has 1 non-finite value\(s\), the first at row 1"):
        kaplan.fit_power_law([1e6, np.nan, 1e8, 1e9], L)
    with pytest.raises(ValueError, match=r"x must be > 0 .*the first at row 1 \(column x\): -1.0"):
        kaplan.fit_power_law([1e6, -1.0, 1e8, 1e9], L)
    with pytest.raises(ValueError, match=r"y must be finite; y has 1 non-finite value\(s\), the first at index 2"):
        kaplan.fit_power_law([1e6, 1e7, 1e8, 1e9], [3.0, 2.8, np.inf, 2.5])
    with pytest.raises(ValueError, match=r"x must be > 0 .*the first at row 1 \(column D\): 0.0"):
        kaplan.fit_nd([1e8, 2e8, 3e8, 4e8, 5e8], [1e9, 0.0, 1e9, 2e9, 3e9], [3.0, 3.1, 2.9, 2.8, 2.7])
    with pytest.raises(ValueError, match=r"y has 3 point\(s\): too few for the 4 parameters of kaplan_nd"):
        kaplan.fit_nd([1e8, 2e8, 3e8], [1e9, 2e9, 3e9], [3.0, 2.9, 2.8])


def test_a_bad_level_is_named() -> None:
    """level=2 without resamples was "p must be in (0, 1), got 1.5" (the normal quantile's
    argument); the normal z of an interval is the exact quantile (scipy's)."""
    stats = pytest.importorskip("scipy.stats")
    from scalingfit._resample import normal_z

    N = np.logspace(6, 9, 8)
    fit = kaplan.fit_power_law(N, kaplan.loss_N(N) * (1 + 0.01 * np.sin(N)))
    for call in (lambda: fit.band(N, level=2.0), lambda: kaplan.fit_power_law(N, kaplan.loss_N(N), level=2.0)):
        with pytest.raises(ValueError, match=r"level must be in \(0, 1\) \(e.g. 0.95 for a 95% interval\), got 2.0"):
            call()
    for lv in (0.5, 0.9, 0.95, 0.99, 0.999999):
        assert normal_z(lv) == pytest.approx(stats.norm.ppf(0.5 + lv / 2), rel=1e-14)


def test_a_bad_seed_is_named() -> None:
    """seed=-1 was numpy's "expected non-negative integer" without the argument's name."""
    from scalingfit import chinchilla, simulate

    N = np.logspace(6, 9, 8)
    s = simulate.isoflop_sweep(seed=0)
    for call in (lambda: kaplan.fit_power_law(N, kaplan.loss_N(N), seed=-1),
                 lambda: simulate.isoflop_sweep(seed=-1),
                 lambda: chinchilla.fit_isoflop(s.C, s.N, s.loss, n_bootstrap=10, seed=-1)):
        with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\), got -1"):
            call()


def test_budgets_are_checked() -> None:
    """frontier_from_laws([0]) was N = 1e15 (the grid's edge) without a word, [] a zero-size
    reduction error; compare_allocations with C <= 0 gave NaN and with Kaplan's own exponent a
    crossover of 0; one budget's exponent was a RankWarning and a meaningless slope."""
    for bad, match in (([1e20, 0.0], r"C must be > 0 \(a compute budget in FLOP\); C has 1 value\(s\) <= 0, the first at index 1"),
                       ([np.nan], r"C must be finite; C has 1 non-finite value\(s\), the first at index 0"),
                       ([], r"C must be a non-empty 1-D array of budgets in FLOP, got shape \(0,\)")):
        with pytest.raises(ValueError, match=match):
            kaplan.frontier_from_laws(bad)
        with pytest.raises(ValueError, match=match):
            kaplan.compare_allocations(bad)
    with pytest.raises(ValueError, match="n_grid must be >= 3"):
        kaplan.frontier_from_laws([1e20], n_grid=1)
    with pytest.raises(ValueError, match="an exponent needs at least 2 distinct budgets, the frontier has 1"):
        kaplan.frontier_from_laws([1e20]).exponent()
    with pytest.raises(ValueError, match="chinchilla_exponent must be finite, > 0 and differ from Kaplan's 0.73"):
        kaplan.compare_allocations([1e20], chinchilla_exponent=0.73)
    with pytest.raises(ValueError, match="tokens_per_param must be finite and > 0, got 0"):
        kaplan.compare_allocations([1e20], tokens_per_param=0)


def test_a_bootstrap_over_one_group_is_refused() -> None:
    """groups=[one label] gave a (nan, nan) interval without a word; bootstrap() refuses fewer
    than 3 groups, and the analyses now say the same."""
    N = np.logspace(6, 9, 10)
    L = kaplan.loss_N(N) * (1 + 0.01 * np.sin(N))
    with pytest.raises(ValueError, match=r"groups\[0\]: a bootstrap over groups needs at least 3 groups to resample, got 1"):
        kaplan.fit_power_law(N, L, n_resamples=20, groups=[np.zeros(10)])
    fit = kaplan.fit_power_law(N, L, n_resamples=50, groups=[np.arange(10) % 5])
    lo, hi = fit.interval("alpha")
    assert np.isfinite(lo) and lo < fit.alpha < hi


def _brute_force_frontier(C: float) -> tuple[float, float, float]:
    """Independent of ``frontier_from_laws``: Kaplan's L(N, S) and B_crit(L) written out from
    the constants, the steps of each size from ``C = 6 N B_crit(L) S`` by scipy's brentq on
    L, and the best size by a dense log grid over 26 decades refined by scipy's bounded
    minimiser. Returns (N, S, L)."""
    optimize = pytest.importorskip("scipy.optimize")
    aN, aS, aB = K.ns_alpha_N, K.ns_alpha_S, K.alpha_B

    def steps(N: float, L: float) -> float:
        return C / (6.0 * N * (K.B_star / L ** (1.0 / aB)))

    def loss(logN: float) -> float:
        N = np.exp(logN)
        a = (K.ns_N_c / N) ** aN

        def h(L: float) -> float:
            return L - a - (K.ns_S_c / steps(N, L)) ** aS

        # h(a) < 0; the S-term decreases in L, so h > 0 at a plus the S-term at L = a
        upper = a + (K.ns_S_c / steps(N, a)) ** aS
        if not h(upper) > 0:  # the S-term is below float resolution of a: L = a to rounding
            return upper
        return float(optimize.brentq(h, a, upper, xtol=1e-300, rtol=1e-15, maxiter=500))

    grid = np.linspace(np.log(1e-2), np.log(1e24), 521)
    v = np.array([loss(t) for t in grid])
    j = int(np.argmin(v))
    assert 0 < j < grid.size - 1, "brute-force grid too narrow"
    res = optimize.minimize_scalar(loss, bounds=(grid[j - 1], grid[j + 1]), method="bounded",
                                   options={"xatol": 1e-10})
    N = float(np.exp(res.x))
    return N, steps(N, float(res.fun)), float(res.fun)


def test_frontier_follows_the_budget_beyond_any_fixed_grid() -> None:
    """The frontier was pinned to a fixed grid N in [1e3, 1e15]: N = 1e15 (L = 0.814) at
    C = 1e31, where the optimum is N = 2.1e16 (L = 0.706); N = 1e3 for every C <= 1e11; the
    exponent of N over 1e26..1e34 came out 0.23 instead of ~0.68. Checked against an
    independent brute-force minimisation from 1e8 to 1e32 FLOP, and against the closed form
    (minimising C at fixed L puts a fixed share alpha_S / (alpha_N + alpha_S) of L in the
    N-term, so log L is linear in log C with slope -1 / (1/alpha_B + 1/alpha_N + 1/alpha_S))."""
    Cs = np.logspace(8, 32, 13)
    f = kaplan.frontier_from_laws(Cs)
    for i, C in enumerate(Cs):
        N, S, L = _brute_force_frontier(C)
        assert f.N[i] == pytest.approx(N, rel=1e-4), C
        assert f.S[i] == pytest.approx(S, rel=1e-4), C
        assert f.L[i] == pytest.approx(L, rel=1e-12), C
    assert f.N[Cs == 1e8][0] < 10 and f.N[Cs == 1e32][0] > 5e16  # outside the old grid
    np.testing.assert_allclose(6 * f.N * f.B * f.S, f.C, rtol=1e-12)  # the budget, exactly
    np.testing.assert_allclose(f.D, f.B * f.S, rtol=1e-15)
    aN, aS, aB = K.ns_alpha_N, K.ns_alpha_S, K.alpha_B
    e = 1 / aB + 1 / aN + 1 / aS
    share = aS / (aN + aS)
    logL = (np.log(6 * K.B_star * K.ns_N_c * K.ns_S_c) - np.log(share) / aN
            - np.log(1 - share) / aS - np.log(Cs)) / e
    np.testing.assert_allclose(f.L, np.exp(logL), rtol=1e-12)
    np.testing.assert_allclose(f.N, K.ns_N_c * (share * np.exp(logL)) ** (-1 / aN), rtol=1e-5)
    high = kaplan.frontier_from_laws(np.logspace(26, 34, 9))
    assert high.exponent("N") == pytest.approx(1 / aN / e, rel=1e-5)
    assert high.exponent("L") == pytest.approx(-1 / e, rel=1e-9)


def test_a_budget_too_small_for_one_step_is_refused() -> None:
    """S = max(S, 1) used to spend more than the budget; now an optimum under one optimiser
    step is refused by name (it takes budgets below ~1e-40 FLOP), and a small budget that
    the law still serves spends exactly C."""
    with pytest.raises(ValueError, match=r"C\[1\] = 1e-45 FLOP is too small for the law: its optimum "
                                         r"takes S_min = .* < 1 optimiser step"):
        kaplan.frontier_from_laws([1e20, 1e-45])
    f = kaplan.frontier_from_laws([1.0, 1e3])
    assert np.all(f.S >= 1)
    np.testing.assert_allclose(6 * f.N * f.B * f.S, f.C, rtol=1e-12)


def test_one_distinct_size_is_not_a_fit() -> None:
    """fit_power_law([1e6]*3, ...) returned alpha = -0.079 with a ConvergenceWarning (or "no
    usable start: pass p0"): a power law needs two distinct sizes, and with E three."""
    with pytest.raises(ValueError, match=r"x has 3 points but only 1 distinct value\(s\) of N \(1e\+06\): "
                                         r"the 2 parameters of L = \(N_c/N\)\^alpha need at least 2"):
        kaplan.fit_power_law([1e6, 1e6, 1e6], [3.0, 3.1, 2.9])
    with pytest.raises(ValueError, match=r"x has 4 points but only 2 distinct value\(s\) of D "
                                         r"\(1e\+06, 1e\+07\): the 3 parameters of L = E \+ \(D_c/D\)\^alpha"):
        kaplan.fit_power_law([1e6, 1e7, 1e6, 1e7], [3.0, 2.9, 3.01, 2.91], variable="D",
                             irreducible=True)
    N = np.logspace(6, 9, 5)
    with pytest.raises(ValueError, match=r"xs\[1\] has 2 points but only 1 distinct"):
        kaplan.fit_power_laws([N, [1e7, 1e7]], [kaplan.loss_N(N), [2.9, 3.0]])
    # two distinct sizes determine the pure law exactly: alpha = log(L1/L2) / log(N2/N1)
    fit = kaplan.fit_power_law([1e6, 1e8, 1e6], [3.0, 2.5, 3.0])
    assert fit.alpha == pytest.approx(np.log(3.0 / 2.5) / np.log(100.0), rel=1e-8)
    assert fit.x_c == pytest.approx(1e6 * 3.0 ** (1 / fit.alpha), rel=1e-6)


def test_chinchilla_reference_budget() -> None:
    """The reference budget of other exponents is 5.76e23 FLOP, Hoffmann et al.'s Gopher /
    Chinchilla budget (the docstring called it "70B on 1.4T tokens", which is 5.88e23): the
    20-tokens rule holds exactly there whatever the exponent."""
    assert float(kaplan.compute_flops(70e9, 1.4e12)) == pytest.approx(5.88e23, rel=1e-12)
    at_ref = float(np.sqrt(5.76e23 / 120))
    for e in (0.45, 0.49, 0.55):
        assert float(kaplan.chinchilla_optimal_N(5.76e23, exponent=e)) == pytest.approx(at_ref, rel=1e-12)
        assert float(kaplan.chinchilla_optimal_N(5.88e23, exponent=e)) != pytest.approx(
            float(np.sqrt(5.88e23 / 120)), rel=1e-6)
    doc = " ".join((kaplan.chinchilla_optimal_N.__doc__ or "").split())
    assert "Chinchilla itself" not in doc and "budget of Gopher and Chinchilla" in doc


def test_joint_scale_constant_intervals_are_log_scale_wald() -> None:
    """Without resamples, fit_nd's D_c interval is the Gauss-Newton interval of log D_c,
    exponentiated (checked against scipy's t quantile): positive where the natural-scale one
    crossed zero (310 of 400 simulated sweeps at 1% noise), and the repr prints the same."""
    from scipy.stats import t as student

    N = np.repeat(10 ** np.linspace(6.5, 9.5, 6), 5)
    D = np.tile(10 ** np.linspace(8.5, 11, 5), 6)
    rng = np.random.default_rng(3)
    L = kaplan.loss_ND(N, D) * (1 + 0.01 * rng.standard_normal(N.size))
    f = kaplan.fit_nd(N, D, L)
    names = f.law.param_names
    z = student.ppf(0.975, f.law.dof)
    for name in ("N_c", "D_c"):
        i = names.index(name)
        x, se = f.law.x[i], f.law.stderr[i]
        lo, hi = f.interval(name)
        assert lo > 0
        np.testing.assert_allclose([lo, hi], [x * np.exp(-z * se / x), x * np.exp(z * se / x)], rtol=1e-9)
        assert f"{lo:.4g}" in repr(f) and f"{hi:.4g}" in repr(f)
    assert f.law.interval("D_c")[0] < 0  # the natural-scale interval this replaces
    # the exponents keep the natural scale
    i = names.index("alpha_D")
    lo, hi = f.interval("alpha_D")
    assert hi - f.law.x[i] == pytest.approx(f.law.x[i] - lo, rel=1e-9)


def test_band_is_the_percentile_of_the_resampled_curves_by_hand() -> None:
    """LawFit.band against numpy: the 90% percentiles, at each input, of A x^-alpha over the
    bootstrap replicates (closed form), a failed replicate (NaN) left out."""
    N = np.logspace(7, 10, 8)
    rng = np.random.default_rng(0)
    fit = kaplan.fit_power_law(N, 1.7 * (1e13 / N) ** 0.076 * np.exp(0.01 * rng.standard_normal(8)),
                               n_resamples=200, seed=3)
    law = fit.law
    law.samples[7] = np.nan
    x = np.array([1e6, 3e8, 1e12])
    curves = law.samples[:, :1] * x ** -law.samples[:, 1:]
    want = np.nanpercentile(curves, [5, 95], axis=0)
    np.testing.assert_allclose(law.band(x, level=0.9), want, rtol=1e-13)
    np.testing.assert_allclose(law.band(3e8, level=0.9), want[:, 1], rtol=1e-13)
