"""Data-constrained scaling (Muennighoff et al. 2023) on their 182 runs and on data simulated
from their law.

Finding recorded here (see ``test_stage2_objective_has_several_optima``): the stage-2
objective has several local optima. The published constants are one of them, reproduced to
0.11%: fitted in the decay rates 1/R* (the built-in C++ model, stage-1 constants held), all 9
of the paper's starts reach it. The default starts add a 12 x 12 grid (R_D* in [5, 300], R_N*
in [0.5, 20]), from which the fit finds four more: R_D* = 47.0, R_N* = 2.33 has a 0.12% *lower*
Huber sum, and R_D* = 95.4, R_N* = 1.71 (16 starts) 0.13% lower still. (Fitted in R* with the
paper's grid, as before the built-in model, 6 of 9 starts reached the published optimum and
three the lower ones.) The data do not pin R_D* down (run-bootstrap intervals below).
"""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import DataWarning
from scalingfit import planning as P
from scalingfit.planning import MUENNIGHOFF_2023
from scalingfit.planning import MUENNIGHOFF_2023_PUBLISHED as PUB


@pytest.fixture(scope="module")
def runs(request):
    from conftest import muennighoff_runs

    return muennighoff_runs()


@pytest.fixture(scope="module")
def stage2(runs):
    # the default starts find a rival optimum nearly as good (47.0 / 2.33 at +0.017%): said.
    # The numbers in the message are regression pins of the fit's own optima, confirmed as
    # minima of the objective by scipy in test_stage2_optima_are_scipy_minima_of_the_huber_sum
    with pytest.warns(scalingfit.IdentifiabilityWarning, match=r"another optimum fits nearly as well .* "
                      r"R_D\* = 46\.99, R_N\* = 2\.33 against the best's 95\.37, 1\.706"):
        return P.fit_data_constrained(runs["N"], runs["D"], runs["U"], runs["loss"])


def test_readme_examples_to_1e6() -> None:
    for (N, D, U), L in PUB["readme_examples"]:
        assert float(MUENNIGHOFF_2023.loss(N, D, U)) == pytest.approx(L, abs=1e-6)
        assert abs(float(MUENNIGHOFF_2023.loss(N, D, U)) - L) < 1e-12


def test_published_constants_on_their_runs(runs) -> None:
    pred = MUENNIGHOFF_2023.loss(runs["N"], runs["D"], runs["U"])
    y = runs["loss"]
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 == pytest.approx(PUB["r2"], abs=1e-6)
    h = P.huber_log_objective(MUENNIGHOFF_2023, runs["N"], runs["D"], runs["U"], y)
    assert h == pytest.approx(PUB["huber"], rel=1e-5)  # theirs was summed in float32


def test_stage2_reproduces_published_constants(stage2) -> None:
    """Their procedure (fixed stage 1, Huber 1e-3 on log loss, their start grid) through the
    engine: the published optimum is reached from most starts, within 2% (0.11% in fact),
    at a Huber sum no worse than the published one."""
    o = stage2.optimum_near(PUB["R_D"], PUB["R_N"], rtol=0.02)
    assert o is not None, stage2.optima
    assert abs(o.R_D / PUB["R_D"] - 1) < 0.002 and abs(o.R_N / PUB["R_N"] - 1) < 0.002
    assert o.n_starts >= 5
    assert o.cost <= PUB["huber"] * (1 + 1e-7)


def test_stage2_objective_has_several_optima(runs, stage2) -> None:
    """The lowest optimum over the same starts has a lower objective than the published one:
    not worse than published, and a property of the data (no such split on simulated data).
    Every optimum reported is a local minimum of the Huber sum in (R_D, R_N) by an independent
    check: the objective (numpy, huber_log_objective) is no lower at any of its 8 neighbours
    0.01% and 0.1% away. (Nelder-Mead from an optimum is no such check: its first simplex,
    5% wide, steps over the narrow ridge between (52.2, 2.20) and (47.0, 2.33).)"""
    import dataclasses

    assert stage2.fit.success
    assert stage2.fit.cost <= PUB["huber"]
    assert len(stage2.optima) >= 2
    best = stage2.optima[0]
    assert best.R_D > 40 and best.cost < PUB["huber"] * (1 - 1e-4)
    assert stage2.optimum_near(46.99, 2.3296, rtol=1e-3) is not None  # regression pin (scipy-checked below)
    N, D, U, y = runs["N"], runs["D"], runs["U"], runs["loss"]

    def huber(q: np.ndarray) -> float:
        law = dataclasses.replace(stage2.law, R_D=q[0], R_N=q[1])
        return P.huber_log_objective(law, N, D, U, y)

    steps = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)]
    for o in stage2.optima:
        at = huber(np.array([o.R_D, o.R_N]))
        for eps in (1e-4, 1e-3):
            for i, j in steps:
                q = np.array([o.R_D * (1 + i * eps), o.R_N * (1 + j * eps)])
                assert huber(q) >= at * (1 - 1e-12), (o, eps, i, j)
    assert stage2.r2 > PUB["r2"]


def test_stage2_optima_are_scipy_minima_of_the_huber_sum(runs, stage2) -> None:
    """The two lowest stage-2 optima, (95.37, 1.706) and (46.99, 2.3296), pinned independently:
    scipy's Nelder-Mead (in log R*, a simplex 0.2% wide, so that it stays on its side of the
    narrow ridges between optima) minimises the documented objective, the Huber sum
    (delta 1e-3, torch's form, written here) of log residuals of the law with stage 1 held,
    from the rounded numbers, from 1% off them and from the package's optimum. Every run ends
    within rounding of the numbers, the package's optimum agrees to 1e-5 and its objective is
    no higher than scipy's (beyond 1e-12 relative); the objective here equals
    huber_log_objective's."""
    import dataclasses

    from scipy.optimize import minimize

    N, D, U, y = runs["N"], runs["D"], runs["U"], runs["loss"]
    delta = 1e-3

    def huber(q: np.ndarray) -> float:
        law = dataclasses.replace(stage2.law, R_D=float(q[0]), R_N=float(q[1]))
        r = np.log(law.loss(N, D, U)) - np.log(y)
        a = np.abs(r)
        return float(np.sum(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))))

    for (R_D, R_N), rounding in (((95.37, 1.706), (0.005, 0.0005)), ((46.99, 2.3296), (0.005, 0.00005))):
        o = stage2.optimum_near(R_D, R_N, rtol=1e-3)
        assert o is not None, stage2.optima
        at = np.array([o.R_D, o.R_N])
        law_o = dataclasses.replace(stage2.law, R_D=o.R_D, R_N=o.R_N)
        assert huber(at) == pytest.approx(P.huber_log_objective(law_o, N, D, U, y), rel=1e-12)
        assert o.cost == pytest.approx(huber(at), rel=1e-12)
        for start in ((R_D, R_N), (R_D * 1.01, R_N * 0.99), (R_D * 0.99, R_N * 1.01), (o.R_D, o.R_N)):
            z0 = np.log(np.array(start))
            simplex = np.array([z0, z0 + [2e-3, 0.0], z0 + [0.0, 2e-3]])
            r = minimize(lambda z: huber(np.exp(z)), z0, method="Nelder-Mead",
                         options={"xatol": 1e-10, "fatol": 1e-16, "initial_simplex": simplex, "maxiter": 5000})
            q = np.exp(r.x)
            assert abs(q[0] - R_D) < rounding[0] and abs(q[1] - R_N) < rounding[1], (start, q)
            np.testing.assert_allclose(at, q, rtol=1e-5)
            assert o.cost <= r.fun * (1 + 1e-12), (start, o.cost, r.fun)


def test_constants_recovered_from_simulated_data(runs) -> None:
    N, D, U = runs["N"], runs["D"], runs["U"]
    y = P.simulate_data_constrained(MUENNIGHOFF_2023, N, D, U)
    f = P.fit_data_constrained(N, D, U, y)
    assert f.law.R_D == pytest.approx(PUB["R_D"], rel=1e-8)
    assert f.law.R_N == pytest.approx(PUB["R_N"], rel=1e-8)
    assert len(f.optima) == 1
    for seed in range(3):
        y = P.simulate_data_constrained(MUENNIGHOFF_2023, N, D, U, noise=0.002, seed=seed)
        f = P.fit_data_constrained(N, D, U, y)
        assert f.law.R_D == pytest.approx(PUB["R_D"], rel=0.03)
        assert f.law.R_N == pytest.approx(PUB["R_N"], rel=0.03)


def test_run_bootstrap_intervals(runs) -> None:
    kw = dict(n_boot=24, seed=7)
    b = P.bootstrap_data_constrained(runs["N"], runs["D"], runs["U"], runs["loss"], **kw)
    assert b.n_failed == 0
    assert b.rates.shape == (24, 2)
    lo, hi = b.ci("R_D")
    assert lo < PUB["R_D"] < hi
    lo, hi = b.ci("R_N")
    assert lo < PUB["R_N"] < hi
    assert np.all(b.rates >= 0)
    # seeded: the first 8 replicates of the same seed are the same resamples and fits
    again = P.bootstrap_data_constrained(
        runs["N"], runs["D"], runs["U"], runs["loss"], n_boot=8, seed=7
    )
    np.testing.assert_array_equal(b.rates[:8], again.rates)
    # replicates flow into plans
    rc = P.repetition_cost(4.0, b.laws, C=1e21)
    assert rc.relative.shape == (24,) and np.all(np.isfinite(rc.relative))
    o = P.optimal_allocation_constrained(1e22, 25e9, b.laws)
    assert o.N.shape == (24,) and np.all(o.epochs > 1)
    grid = P.optimal_allocation_constrained(np.array([1e21, 1e22])[:, None], 25e9, b.laws)
    assert grid.N.shape == (2, 24)


def _runs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs from 1e7 to 1e10 parameters, up to ~3000 epochs of their unique data."""
    rng = np.random.default_rng(seed)
    return 10 ** rng.uniform(7, 10, n), 10 ** rng.uniform(9, 11.5, n), 10 ** rng.uniform(8, 11, n)


def test_builtin_model_is_the_python_law() -> None:
    """The C++ model ``data_constrained`` against DataConstrainedLaw.loss (numpy, written from
    the paper's formulas): random runs, runs without repetition (D <= U) or excess parameters,
    and decay rates at and near 0 (R* = inf, 1e9: phi's series branch)."""
    import scalingfit

    m = scalingfit.models.get("data_constrained")
    law = MUENNIGHOFF_2023
    N, D, U = _runs(500, 0)
    N = np.concatenate([N, [1e6, 1e9, 1e10]])
    D = np.concatenate([D, [1e9, 1e10, 1e12]])
    U = np.concatenate([U, [1e12, 1e10, 1e9]])
    x = np.column_stack([N, D, U])
    stage1 = [law.E, law.A, law.B, law.alpha, law.beta]
    for R_D, R_N in ((law.R_D, law.R_N), (np.inf, 3.0), (1e9, 1e9), (0.5, np.inf)):
        p = np.array(stage1 + [1.0 / R_D, 1.0 / R_N])
        ref = law.with_decay(R_D, R_N).loss(N, D, U)
        np.testing.assert_allclose(m.predict(p, x), ref, rtol=1e-13)


def test_one_fit_recovers_all_seven_constants() -> None:
    """Noise-free runs from the published law: E, A, B, alpha, beta and both decay rates from
    the data-driven starts, to 1e-9."""
    import scalingfit

    law = MUENNIGHOFF_2023
    N, D, U = _runs(300, 1)
    r = scalingfit.fit("data_constrained", (N, D, U), law.loss(N, D, U))
    truth = [law.E, law.A, law.B, law.alpha, law.beta, 1 / law.R_D, 1 / law.R_N]
    assert r.success
    np.testing.assert_allclose(r.x, truth, rtol=1e-9)


def test_few_epochs_cost_little_many_add_nothing() -> None:
    """The paper's headline: up to ~4 epochs is almost as good as fresh data; tens of epochs
    add almost nothing."""
    law = MUENNIGHOFF_2023
    for C in (1e21, 1e22, 1e23, 1e24):
        rc = P.repetition_cost([1.0, 2.0, 4.0], law, C=C)
        assert rc.relative[0] == 0.0
        assert np.all(rc.relative[1:] < 0.01)  # < 1% loss for <= 4 epochs
    four = P.repetition_cost(4.0, law, N=1e9, D=1e11)
    assert float(four.effective_fraction) > 0.9  # repeated tokens worth > 90% of fresh
    # fixed model and unique data: the gain of more epochs vanishes
    U, N = 25e9, 7e9
    ep = np.array([1.0, 2.0, 32.0, 64.0, 128.0, 256.0])
    L = law.loss(N, ep * U, U)
    first = L[0] - L[1]
    assert (L[2] - L[3]) < 0.1 * first  # 32 -> 64 epochs: < 10% of 1 -> 2
    assert (L[3] - L[5]) < 0.02 * first  # 64 -> 256 epochs: almost nothing
    # the marginal value of a token in the 40th epoch
    assert np.exp(-39 / law.R_D) < 0.1


def test_optimal_epochs_and_size_match_readme() -> None:
    ref = PUB["readme_allocation"]
    o = P.optimal_allocation_constrained(ref["C"], ref["U"])
    assert float(o.N) == pytest.approx(ref["N"], rel=5e-3)  # their grid step is 0.4%
    assert float(o.D) == pytest.approx(ref["D"], rel=5e-3)
    assert float(o.epochs) == pytest.approx(ref["D"] / ref["U"], rel=5e-3)
    assert float(o.loss) <= float(MUENNIGHOFF_2023.loss(ref["N"], ref["D"], ref["U"]))
    # dense brute force over N
    N = np.exp(np.linspace(np.log(1e9), np.log(3e10), 200001))
    Lb = MUENNIGHOFF_2023.loss(N, ref["C"] / 6 / N, ref["U"])
    assert float(o.loss) <= float(Lb.min()) + 1e-12
    assert float(o.N) == pytest.approx(float(N[np.argmin(Lb)]), rel=1e-3)


def test_optimal_allocation_below_the_wall_is_chinchilla() -> None:
    o = P.optimal_allocation_constrained(np.array([1e19, 1e20]), 1e12)
    np.testing.assert_allclose(o.N, o.chinchilla_N, rtol=1e-6)
    np.testing.assert_allclose(o.loss, o.chinchilla_loss, rtol=1e-12)
    assert np.all(o.epochs < 1)


def test_repetition_cost_grows_with_epochs() -> None:
    rc = P.repetition_cost(np.array([1.0, 2.0, 4.0, 8.0, 16.0, 64.0]), C=1e22)
    assert np.all(np.diff(rc.delta) > 0)
    assert np.all(np.diff(rc.effective_fraction) < 0)
    with pytest.raises(ValueError, match="epochs"):
        P.repetition_cost(0.5, C=1e22)
    with pytest.raises(ValueError, match="either"):
        P.repetition_cost(2.0, C=1e22, N=1e9, D=1e10)


def test_law_limits() -> None:
    law = MUENNIGHOFF_2023
    chin = law.chinchilla
    # no repetition and no excess parameters: the Chinchilla law
    assert float(law.loss(1e8, 1e10, 1e10)) == pytest.approx(float(chin.loss(1e8, 1e10)), rel=1e-14)
    # no decay: repeated data and parameters count in full
    nodecay = law.with_decay(np.inf, np.inf)
    assert float(nodecay.loss(1e10, 1e11, 1e9)) == pytest.approx(
        float(chin.loss(1e10, 1e11)), rel=1e-14
    )
    # infinite repetition saturates at U (1 + R_D*)
    assert float(law.effective_data(1e30, 1e9)) == pytest.approx(1e9 * (1 + law.R_D), rel=1e-12)


# ------------------------------------------------------------------ bad input
_MU_HEADER = "name,N_params,D_tokens,U_unique_tokens,val_loss\n"
_MU_ROWS = "a,1e8,4e9,1e9,3.1\nb,2e8,8e9,1e9,3.0\n"


@pytest.mark.parametrize(
    "text, match",
    [
        ("", r"runs\.csv is empty: no header row"),
        ("a,b\n1,2\n", r"lacks required column\(s\) \['name', 'N_params'.*it has \['a', 'b'\]"),
        (_MU_HEADER, "header but no data rows"),
        (_MU_HEADER + "a,1e8,4e9,1e9,3.1\nb,2e8,abc,1e9,3.0\n",
         r"column 'D_tokens', row 1 \(line 3\): 'abc' is not a number"),
        (_MU_HEADER + "a,1e8,4e9,1e9,3.1\nb,2e8,8e9,1e9,nan\n",
         r"column 'val_loss', row 1 \(line 3\): 'nan' is not finite"),
        (_MU_HEADER + "a,-1e8,4e9,1e9,3.1\n",
         r"column 'N_params', row 0 \(line 2\): '-1e8' must be > 0"),
        (_MU_HEADER + "a,1e8,4e9,1e9\n", r"row 0 \(line 2\) has 4 cells, the header 5"),
    ],
    ids=["empty", "other-columns", "header-only", "non-numeric", "nan", "negative", "ragged"],
)
def test_load_muennighoff2023_corrupt_files(tmp_path, text, match) -> None:
    from scalingfit.data import RunDataError

    path = tmp_path / "runs.csv"
    path.write_text(text)
    with pytest.raises(RunDataError, match=match):
        P.load_muennighoff2023(path)
    good = tmp_path / "good.csv"
    good.write_text(_MU_HEADER + _MU_ROWS)
    assert P.load_muennighoff2023(good)["name"] == ["a", "b"]


def test_load_muennighoff2023_binary_file(tmp_path) -> None:
    path = tmp_path / "runs.csv"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ValueError, match=r"cannot read .*runs\.csv: not a UTF-8 text"):
        P.load_muennighoff2023(path)


def _simulated_runs(repeat: bool = True, excess: bool = True):
    N = np.array([1e8, 2e8, 5e8, 1e9, 2e9] * 2)
    U = np.full(10, 1e10)
    D = np.r_[np.full(5, 1e10), np.full(5, 4e10 if repeat else 1e10)]
    if not excess:
        N = N / 1e3  # all far below N_opt(U)
    return N, D, U, P.simulate_data_constrained(MUENNIGHOFF_2023, N, D, U, noise=0.005, seed=1)


def test_stage2_unidentifiable_data_are_refused() -> None:
    """No run repeats data: R_D* does not enter the loss; the fit used to return its start
    value (6.67, status -2) without a word, and the bootstrap failed inside numpy."""
    N, D, U, y = _simulated_runs(repeat=False)
    with pytest.raises(ValueError, match=r"R_D\* is not identifiable: no run repeats data"):
        P.fit_data_constrained(N, D, U, y)
    with pytest.raises(ValueError, match=r"R_D\* is not identifiable"):
        P.bootstrap_data_constrained(N, D, U, y, n_boot=4)
    N, D, U, y = _simulated_runs(excess=False)
    with pytest.raises(ValueError, match=r"R_N\* is not identifiable: no run has more parameters"):
        P.fit_data_constrained(N, D, U, y)
    N, D, U, y = _simulated_runs()
    with pytest.raises(ValueError, match="need at least 2 runs to fit R_D\\*, R_N\\*, got 0"):
        P.fit_data_constrained([], [], [], [])
    with pytest.raises(ValueError, match="need at least 2 runs to fit R_D\\*, R_N\\*, got 1"):
        P.fit_data_constrained(N[-1:], D[-1:], U[-1:], y[-1:])
    with pytest.raises(ValueError, match=r"D must be finite and > 0; D\[3\] = 0\.0"):
        P.fit_data_constrained(N, np.where(np.arange(10) == 3, 0.0, D), U, y)
    f = P.fit_data_constrained(N, D, U, y)  # identifiable: fits without a warning
    assert f.fit.success


def test_constrained_planning_needs_a_data_constrained_law() -> None:
    with pytest.raises(
        TypeError, match=r"law must be a DataConstrainedLaw .* without \['R_D', 'R_N'\]"
    ):
        P.optimal_allocation_constrained(1e22, 1e11, P.HOFFMANN_2022)
    with pytest.raises(TypeError, match="law must be a DataConstrainedLaw"):
        P.repetition_cost(4.0, P.HOFFMANN_2022, C=1e22)
    # a mapping with all seven fields is accepted and means the same law
    keys = ("E", "A", "B", "alpha", "beta", "R_D", "R_N")
    as_map = {k: getattr(MUENNIGHOFF_2023, k) for k in keys}
    a = P.optimal_allocation_constrained(1e22, 1e11, as_map)
    b = P.optimal_allocation_constrained(1e22, 1e11)
    assert float(a.N) == float(b.N)
    with pytest.raises(ValueError, match=r"law\.R_D must be > 0 \(inf allowed\), got -5"):
        P.optimal_allocation_constrained(1e22, 1e11, {**as_map, "R_D": -5.0})
    with pytest.raises(ValueError, match="flops_per_token must be finite and > 0, got 0"):
        P.optimal_allocation_constrained(1e22, 1e11, flops_per_token=0)


# ------------------------------------------------------------------ audit fixes
def _dense(law, C: float, U: float, n: int = 400001) -> tuple[np.ndarray, np.ndarray]:
    """The loss on a dense log grid of N over the range the package searches (brute force)."""
    Nc = float(P.as_law(law.chinchilla).optimal_allocation(C)[0])
    N = np.exp(np.linspace(np.log(Nc / 1e4), np.log(Nc * 1e2), n))
    return N, law.loss(N, C / 6 / N, U)


def test_a_loss_plateau_is_reported_not_hidden() -> None:
    """Once repetition stops changing the loss in float64 the optimum is a range: with
    R_D* = 0.02 at C = 8.787e26, U = 1e12 the loss is 2.0013276769705812 at 16 epochs and at
    1.6 alike (1.53 to 18.19 epochs are optimal). The range is compared with a dense brute
    force (N within 4 ulps of the minimum, grid step 4e-5 in log N), and it warns."""
    law = MUENNIGHOFF_2023.with_decay(0.02, 5.3)
    C, U = 8.787e26, 1e12
    with pytest.warns(DataWarning, match=r"optimum is not unique at 1 point\(s\), the first \(C = "
                                         r"8.787e\+26, U = 1e\+12\).*epochs in \[1\.53, 18\.19\]"):
        o = P.optimal_allocation_constrained(C, U, law)
    N, L = _dense(law, C, U)
    flat = N[L <= L.min() + 4 * np.spacing(L.min())]
    assert bool(o.plateau)
    assert float(o.N_low) == pytest.approx(flat.min(), rel=1e-3)
    assert float(o.N_high) == pytest.approx(flat.max(), rel=1e-3)
    assert float(o.N_high) / float(o.N_low) > 10  # 1.5 to 20 epochs: all optimal
    assert float(o.N_low) <= float(o.N) <= float(o.N_high)
    assert float(o.epochs_high) == pytest.approx(C / 6 / float(o.N_low) / U, rel=1e-12)
    assert float(o.epochs_low) == pytest.approx(C / 6 / float(o.N_high) / U, rel=1e-12)
    assert float(o.wall_epochs) == float(o.epochs_high)


def test_published_constants_have_a_unique_optimum_up_to_hundreds_of_epochs() -> None:
    """With the published constants the optimum is unique (range under 1e-5 in N, no warning
    under the suite's warnings-as-errors) up to ~300 epochs; beyond, the reported epochs of the
    minimiser reversed (531.2 epochs at C = 2.73e28, 519.1 at the next budget) while the most
    epochs of the optimal range, what the data wall solves for, never decreases."""
    U = 1e12
    ok = P.optimal_allocation_constrained(np.geomspace(1e22, 1e27, 11), U)
    assert not ok.plateau.any()
    assert np.all(ok.N_high / ok.N_low - 1 < 1e-5)
    np.testing.assert_array_equal(ok.wall_epochs, ok.epochs)
    Cs = np.geomspace(1e22, 1e34, 400)
    o = P.optimal_allocation_constrained(Cs, U, warn=False)
    assert o.plateau.any() and np.all(o.epochs[o.plateau] > 300)
    assert np.all(np.diff(o.wall_epochs) >= 0)
    np.testing.assert_array_equal(o.wall_epochs[~o.plateau], o.epochs[~o.plateau])
    with pytest.warns(DataWarning, match="optimum is not unique"):
        P.optimal_allocation_constrained(Cs, U)
    with pytest.raises(TypeError, match="warn must be"):
        P.optimal_allocation_constrained(1e22, U, warn="no")


def test_repetition_cost_names_bad_epochs() -> None:
    """repetition_cost(inf, C=1e22) said "U must be finite and > 0, got 0.0": an input the
    caller never passed (U = D / epochs)."""
    for bad, match in ((np.inf, r"epochs must be finite, got inf"),
                       ([2.0, np.inf], r"epochs must be finite; epochs\[1\] = inf"),
                       (np.nan, r"epochs must be finite, got nan"),
                       ([1.0, 0.5], r"epochs must be >= 1; epochs\[1\] = 0.5"),
                       ("4", r"epochs must be a number")):
        with pytest.raises((ValueError, TypeError), match=match):
            P.repetition_cost(bad, C=1e22)
    # a large finite epoch count is still answered (the loss tends to its no-repetition limit)
    rc = P.repetition_cost(1e6, C=1e22)
    assert np.isfinite(rc.delta) and float(rc.delta) > 0


def test_a_single_optimum_or_a_far_worse_one_is_no_rival() -> None:
    """The rival-optimum note: none for one optimum, nor for a second one far worse or with
    constants within 2x; one for a nearly-as-good optimum 2x away."""
    from scalingfit.planning.data_constrained import Optimum, _rival_optimum

    best = Optimum(15.4, 5.3, 1.0, 9)
    assert _rival_optimum([best]) == ""
    assert _rival_optimum([best, Optimum(95.0, 1.7, 1.02, 3)]) == ""  # 2% worse
    assert _rival_optimum([best, Optimum(25.0, 4.0, 1.001, 3)]) == ""  # within 2x
    inf = float("inf")  # repeats as good as fresh data in both: the same R_N, no rival
    assert _rival_optimum([Optimum(15.4, inf, 1.0, 9), Optimum(16.0, inf, 1.001, 3)]) == ""
    note = _rival_optimum([best, Optimum(40.0, 5.0, 1.001, 3)])
    assert "R_D* = 40, R_N* = 5 against the best's 15.4, 5.3" in note and "0.1% above" in note
