"""Planning: inference-aware sizing (Sardana et al. 2023), the data wall, the CLI rows, plots.

References are independent of the code under test: closed forms derived by compute rather
than by loss, scipy's scalar minimiser on the lifetime-FLOP objective, the Chinchilla module's
own allocation, and the numbers in Sardana et al.'s Figure 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import planning as P
from scalingfit.planning import (
    HOFFMANN_2022,
    MUENNIGHOFF_2023,
    SARDANA_2023,
    Hardware,
    data_wall,
    inference_optimal,
    inference_optimal_cost,
)

LAWS = [HOFFMANN_2022, SARDANA_2023, P.as_law(MUENNIGHOFF_2023.chinchilla).as_dict()]


# ------------------------------------------------------------------ inference-aware sizing
@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("C", [1e19, 1e22, 5.76e23, 1e26])
def test_inference_aware_reduces_to_chinchilla(law, C) -> None:
    """As inference demand -> 0 the optimum is the compute-optimal model of the same loss,
    computed here the other way round (allocation by compute, closed form)."""
    al, be, A, B, E = law["alpha"], law["beta"], law["A"], law["B"], law["E"]
    G = (al * A / (be * B)) ** (1 / (al + be))
    N0 = G * (C / 6) ** (be / (al + be))
    D0 = C / 6 / N0
    target = E + A * N0**-al + B * D0**-be
    for D_inf in (0.0, 1e-6, 1e-3):
        r = inference_optimal(target, D_inf, law)
        assert r.N == pytest.approx(N0, rel=1e-6)
        assert r.D == pytest.approx(D0, rel=1e-6)
        assert r.saving_fraction == pytest.approx(0.0, abs=1e-9)
    r0 = inference_optimal(target, 0.0, law)
    np.testing.assert_allclose([r0.N, r0.D], [N0, D0], rtol=1e-12)


def test_inference_aware_limit_matches_allocation_module() -> None:
    """Cross-check with the closed form of :mod:`scalingfit.allocation` (independent code)."""
    allocation = pytest.importorskip("scalingfit.allocation")
    for law in LAWS:
        for C in (1e20, 1e23, 1e25):
            a = allocation.optimal_allocation(C, law)
            r = inference_optimal(a.loss, 0.0, law)
            np.testing.assert_allclose([r.N, r.D], [a.N_opt, a.D_opt], rtol=1e-6)
            np.testing.assert_allclose(
                P.as_law(law).optimal_allocation(C), [a.N_opt, a.D_opt], rtol=1e-12
            )


def test_inference_aware_matches_brute_force() -> None:
    """Minimise 6 N D(N) + 2 N I along the loss constraint with scipy; same optimum."""
    optimize = pytest.importorskip("scipy.optimize")
    law = SARDANA_2023
    target = 2.1
    for D_inf in (1e11, 2e12, 1e14, 1e16):
        r = inference_optimal(target, D_inf, law)

        def total(t: float, D_inf: float = D_inf) -> float:
            N = np.exp(t)
            y = target - law["E"] - law["A"] * N ** -law["alpha"]
            if y <= 0:
                return np.inf
            D = (law["B"] / y) ** (1 / law["beta"])
            return float(np.log(6 * N * D + 2 * N * D_inf))

        t0 = np.log(r.chinchilla_N)
        t_min = np.log((law["A"] / (target - law["E"])) ** (1 / law["alpha"]))  # D -> inf below
        res = optimize.minimize_scalar(
            total, bounds=(t_min + 1e-9, t0 + 0.5), method="bounded", options={"xatol": 1e-12}
        )
        assert np.exp(res.x) == pytest.approx(float(r.N), rel=1e-5)
        assert np.exp(res.fun) >= float(r.total_flops) * (1 - 1e-12)
        # on the constraint
        assert float(P.as_law(law).loss(r.N, r.D)) == pytest.approx(target, rel=1e-12)


def test_tokens_per_param_grow_monotonically_with_inference() -> None:
    D_inf = np.logspace(6, 17, 80)
    for law in LAWS:
        target = float(P.as_law(law).optimal_loss(1e23))
        r = inference_optimal(target, D_inf, law)
        assert np.all(np.diff(r.tokens_per_param) > 0)
        assert np.all(np.diff(r.N) < 0)
        assert np.all(r.saving_fraction >= -1e-12)
        assert np.all(np.diff(r.saving_fraction) >= -1e-12)


def test_heavy_inference_gives_llama_style_overtraining() -> None:
    """A 7B-Chinchilla-quality model served for 1e13..1e15 tokens (LLaMA-scale demand):
    hundreds to thousands of training tokens per parameter, far from ~20."""
    law = P.as_law(SARDANA_2023)
    N7 = 7e9
    C = 6 * (N7 / law.G) ** (1 / law.a)
    target = float(law.optimal_loss(C))
    chin = inference_optimal(target, 0.0, SARDANA_2023)
    assert 10 < float(chin.tokens_per_param) < 100
    r = inference_optimal(target, np.array([1e13, 1e14, 1e15]), SARDANA_2023)
    assert np.all(r.tokens_per_param > 200)
    assert np.all(r.tokens_per_param < 1e5)
    assert float(r.tokens_per_param[1]) > 1000


def test_sardana_figure_1() -> None:
    """Sardana et al., Fig. 1: a 13B Chinchilla-optimal model with 2T tokens of inference
    demand -> train a 7B model on more data, saving 1.7e22 FLOPs (17%)."""
    law = P.as_law(SARDANA_2023)
    N13 = 13e9
    C = 6 * (N13 / law.G) ** (1 / law.a)
    r = inference_optimal(float(law.optimal_loss(C)), 2e12, SARDANA_2023)
    assert float(r.chinchilla_N) == pytest.approx(13e9, rel=1e-9)
    assert round(float(r.N) / 1e9, 1) == 7.0
    assert round(float(r.saving_flops) / 1e22, 1) == 1.7
    assert round(100 * float(r.saving_fraction)) == 17


def test_inference_aware_over_replicates_and_grid() -> None:
    rng = np.random.default_rng(3)
    reps = {k: v * np.exp(0.02 * rng.standard_normal(7)) for k, v in SARDANA_2023.items()}
    r = inference_optimal(2.2, 1e13, reps)
    assert r.N.shape == (7,)
    for i in range(7):
        ri = inference_optimal(2.2, 1e13, {k: float(v[i]) for k, v in reps.items()})
        assert float(ri.N) == pytest.approx(float(r.N[i]), rel=1e-12)
    g = inference_optimal(np.array([2.0, 2.2])[:, None], np.array([0.0, 1e12, 1e14]), SARDANA_2023)
    assert g.N.shape == (2, 3)


def test_dollar_variant() -> None:
    hw = Hardware(
        price_per_hour=2.0, peak_flops=1e15, mfu_train=0.4, mfu_prefill=0.4, mfu_decode=0.4
    )
    a = inference_optimal_cost(2.1, 1e12, 1e12, SARDANA_2023, train_hardware=hw)
    b = inference_optimal(2.1, 2e12, SARDANA_2023)
    assert float(a.N) == pytest.approx(float(b.N), rel=1e-12)
    per_flop = 2.0 / (3600 * 1e15 * 0.4)
    assert float(a.cost) == pytest.approx(per_flop * float(b.total_flops), rel=1e-12)
    assert float(a.saving_cost) == pytest.approx(per_flop * float(b.saving_flops), rel=1e-9)
    # slow decoding makes output tokens dearer: a smaller, longer-trained model
    slow = Hardware(
        price_per_hour=2.0, peak_flops=1e15, mfu_train=0.4, mfu_prefill=0.4, mfu_decode=0.04
    )
    c = inference_optimal_cost(
        2.1, 1e12, 1e12, SARDANA_2023, train_hardware=hw, inference_hardware=slow
    )
    assert float(c.N) < float(a.N)
    assert float(c.tokens_per_param) > float(a.tokens_per_param)
    with pytest.raises(ValueError, match="mfu_decode"):
        Hardware(mfu_decode=1.5)


def test_inference_bad_input() -> None:
    with pytest.raises(ValueError, match="irreducible"):
        inference_optimal(1.5, 1e12, HOFFMANN_2022)
    with pytest.raises(ValueError, match="inference_tokens"):
        inference_optimal(2.0, -1.0, HOFFMANN_2022)
    with pytest.raises(ValueError, match="missing"):
        inference_optimal(2.0, 1.0, {"E": 1.0})


# ------------------------------------------------------------------ data wall
def test_data_wall_without_repetition_is_closed_form() -> None:
    U = 100e12
    w = data_wall(U, epochs=(1,))
    row = w.rows[0]
    chin = MUENNIGHOFF_2023.chinchilla
    G, al, be = float(chin.G), float(chin.alpha), float(chin.beta)
    N = G * (U * G) ** (be / al)
    assert row.N == pytest.approx(N, rel=1e-12)
    assert row.C == pytest.approx(6 * N * U, rel=1e-12)
    # at that compute the compute-optimal token count is exactly the stock
    _, D = chin.optimal_allocation(row.C)
    assert float(D) == pytest.approx(U, rel=1e-10)
    assert row.loss_penalty == pytest.approx(0.0, abs=1e-12)
    assert row.naive_C == pytest.approx(row.C, rel=1e-12)


def test_data_wall_with_epochs() -> None:
    U = 100e12
    w = data_wall(U, epochs=(1, 2, 4, 16))
    C = np.array([r.C for r in w.rows])
    N = np.array([r.N for r in w.rows])
    assert np.all(np.diff(C) > 0) and np.all(np.diff(N) > 0)
    for r in w.rows[1:]:
        opt = P.optimal_allocation_constrained(r.C, U)
        assert float(opt.epochs) == pytest.approx(r.epochs, rel=1e-6)
        assert r.D == pytest.approx(r.epochs * U, rel=1e-6)
        # repetition is worth less than fresh data: smaller model and less compute than naive
        assert r.N < r.naive_N and r.C < r.naive_C
        assert r.loss_penalty > 0
    pen = [r.loss_penalty for r in w.rows]
    assert np.all(np.diff(pen) > 0)


def test_data_wall_intervals_are_carried() -> None:
    rng = np.random.default_rng(5)
    s = MUENNIGHOFF_2023.with_decay(
        15.39 * np.exp(0.3 * rng.standard_normal(64)), 5.31 * np.exp(0.3 * rng.standard_normal(64))
    )
    w = data_wall(100e12, epochs=(1, 4), samples=s)
    one, four = w.rows
    assert one.C_ci is not None and four.C_ci is not None and four.N_ci is not None
    # no repetition: the decay constants do not matter, the interval has no width
    assert one.C_ci[0] == pytest.approx(one.C, rel=1e-9) and one.C_ci[1] == pytest.approx(
        one.C, rel=1e-9
    )
    assert four.C_ci[0] < four.C < four.C_ci[1]
    assert four.N_ci[0] < four.N < four.N_ci[1]


# ------------------------------------------------------------------ CLI rows
def test_optimal_cli_table() -> None:
    rows = P.optimal_cli_table(
        compute=5.76e23, inference_tokens=2e12, unique_tokens=100e12, epochs=(1, 4)
    )
    secs = list(dict.fromkeys(r[0] for r in rows))
    assert secs[0] == "law"
    assert any(s.startswith("compute-optimal") for s in secs)
    assert any(s.startswith("inference-aware") for s in secs)
    assert any(s.startswith("data-constrained") for s in secs)
    assert sum(s.startswith("data wall") for s in secs) == 2
    N = float(
        next(v for s, q, v in rows if s.startswith("compute-optimal") and q == "parameters N")
    )
    N0, _ = P.as_law(HOFFMANN_2022).optimal_allocation(5.76e23)
    assert N == pytest.approx(float(N0), rel=1e-3)
    text = P.format_rows(rows)
    assert "tokens per parameter" in text and "data wall" in text
    by_string = P.optimal_cli_table(loss=2.0, law="E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28")
    assert by_string == P.optimal_cli_table(loss=2.0, law="hoffmann2022")
    with pytest.raises(ValueError, match="at least one"):
        P.optimal_cli_table()
    with pytest.raises(ValueError, match="unknown law"):
        P.optimal_cli_table(compute=1e20, law="kaplan")
    with pytest.raises(ValueError, match="unreachable"):
        P.optimal_cli_table(loss=1.0)


# ------------------------------------------------------------------ plots
@pytest.fixture
def mpl():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.image

    return matplotlib


def _check_png(path, mpl) -> None:
    assert path.stat().st_size > 20_000
    img = mpl.image.imread(str(path))
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
    assert float(np.std(img[..., :3])) > 0.05  # not a blank canvas


def test_plots(tmp_path, mpl) -> None:
    rng = np.random.default_rng(1)
    N = 10 ** rng.uniform(8, 10, 20)
    D = 20 * N * 10 ** rng.uniform(-0.5, 0.5, 20)
    runs = (N, D, P.as_law(HOFFMANN_2022).loss(N, D))
    fig = P.plot_frontier(
        HOFFMANN_2022, unique_tokens=1e12, runs=runs, path=tmp_path / "frontier.png"
    )
    assert len(fig.axes) == 1
    _check_png(tmp_path / "frontier.png", mpl)
    P.plot_inference_aware(2.05, path=tmp_path / "inference.png")
    _check_png(tmp_path / "inference.png", mpl)
    s = MUENNIGHOFF_2023.with_decay(
        15.39 * np.exp(0.3 * rng.standard_normal(32)), np.full(32, 5.31)
    )
    P.plot_data_wall(100e12, samples=s, path=tmp_path / "wall.png")
    _check_png(tmp_path / "wall.png", mpl)


# ------------------------------------------------------------------ bad input, named
def test_inference_flops_per_token_validated() -> None:
    with pytest.raises(ValueError, match="train_flops_per_token must be finite and > 0, got 0"):
        inference_optimal(2.0, 1e12, HOFFMANN_2022, train_flops_per_token=0)
    with pytest.raises(ValueError, match="inference_flops_per_token must be finite and > 0"):
        inference_optimal(2.0, 1e12, HOFFMANN_2022, inference_flops_per_token=-2.0)
    with pytest.raises(ValueError, match="train_flops_per_token must be finite and > 0, got nan"):
        inference_optimal(2.0, 1e12, HOFFMANN_2022, train_flops_per_token=float("nan"))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            dict(compute=1e23, inference_tokens=-5.0),
            ValueError,
            "inference_tokens must be finite and >= 0, got -5",
        ),
        (
            dict(compute=1e23, inference_tokens=np.nan),
            ValueError,
            "inference_tokens must be finite and >= 0, got nan",
        ),
        (dict(compute=np.inf), ValueError, "compute must be finite and > 0, got inf"),
        (dict(compute=np.array([1e22, 1e23])), TypeError, "compute must be a single number"),
        (dict(compute=1e23, unique_tokens=1e12, R_D=0.0), ValueError, r"R_D must be > 0"),
        (dict(compute=1e23, unique_tokens=1e12, R_D=-5.0), ValueError, r"R_D must be > 0"),
        (dict(compute=1e23, unique_tokens=1e12, R_D=np.nan), ValueError, r"R_D must be > 0"),
        (dict(unique_tokens=1e12, R_N=np.nan), ValueError, r"R_N must be > 0"),
        (dict(compute=1e23, flops_per_token=0.0), ValueError, "flops_per_token must be finite"),
        (dict(compute=1e23, flops_per_token=-6.0), ValueError, "flops_per_token must be finite"),
        (dict(loss="2.1"), TypeError, "loss must be a number, got str '2.1'"),
        (dict(loss=np.nan), ValueError, "loss must be finite and > 0, got nan"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_optimal_cli_table_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        P.optimal_cli_table(**kwargs)


def test_optimal_cli_table_no_decay() -> None:
    """R_D = R_N = inf (repeats as good as fresh) is a law, not an error: no penalty."""
    rows = P.optimal_cli_table(unique_tokens=1e12, epochs=(4,), R_D=np.inf, R_N=np.inf)
    (pen,) = [v for _, q, v in rows if q == "loss penalty vs unique data"]
    assert float(pen) == pytest.approx(0.0, abs=1e-4)


def test_data_wall_bad_input_is_named() -> None:
    empty = MUENNIGHOFF_2023.with_decay(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="samples has no replicates"):
        data_wall(1e12, samples=empty)
    with pytest.raises(ValueError, match="flops_per_token must be finite and > 0, got 0"):
        data_wall(1e12, flops_per_token=0)
    with pytest.raises(ValueError, match="max_factor .* must be finite and > 1, got 0"):
        P.epochs_wall_compute(1e12, 4.0, max_factor=0)
    with pytest.raises(TypeError, match="unique_tokens must be a single number"):
        data_wall([1e12, 1e13])
    with pytest.raises(TypeError, match=r"law must be a DataConstrainedLaw"):
        data_wall(1e12, HOFFMANN_2022)


def test_plot_ranges_are_validated() -> None:
    """One value is no axis range: a ValueError that says so (was an IndexError)."""
    with pytest.raises(ValueError, match=r"compute is the plotted \(log\) axis range: two"):
        P.plot_frontier(compute=(1e20,))
    with pytest.raises(ValueError, match=r"inference_tokens is the plotted \(log\) axis range"):
        P.plot_inference_aware(2.05, inference_tokens=(1e12,))
    with pytest.raises(ValueError, match=r"inference_tokens must be finite and > 0; "):
        P.plot_inference_aware(2.05, inference_tokens=(0.0, 1e12))
    with pytest.raises(ValueError, match="span must be finite and > 0, got 0"):
        P.plot_data_wall(1e12, span=0)
    with pytest.raises(ValueError, match="span must be > 0.01"):
        P.plot_data_wall(1e12, span=1e-3)
    with pytest.raises(ValueError, match="unique_tokens must be finite and > 0, got 0"):
        P.plot_frontier(unique_tokens=0)
