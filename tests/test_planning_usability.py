"""Usability of the planning tools: readable reprs of their results (a header, an aligned table
of the key numbers at 4 significant digits, never a dump of replicate arrays), and a bootstrap of
a Chinchilla fit carried into a plan (``planning.replicate_law``), checked against the same
plan computed replicate by replicate from plain dicts."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import allocation, chinchilla
from scalingfit import planning as P
from scalingfit.planning import DataConstrainedLaw, Law

KEYS = ("E", "A", "B", "alpha", "beta")


def g4(v: float) -> str:
    return format(float(v), ".4g")


def assert_no_dump(s: str, limit: int = 3000) -> None:
    assert len(s) < limit, len(s)
    assert "array(" not in s and "np.float64" not in s
    assert max(len(line) for line in s.splitlines()) < 300


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(0)
    N, D = (v.ravel() for v in np.meshgrid(np.geomspace(1e7, 1e10, 8), np.geomspace(1e9, 1e12, 6)))
    loss = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.01 * rng.standard_normal(N.size))
    return np.column_stack([N, D]), loss


@pytest.fixture(scope="module")
def boot(runs):
    return scalingfit.bootstrap("chinchilla", *runs, n_resamples=1000, seed=0)


def _dc_boot(n_boot: int) -> P.DataConstrainedBootstrap:
    """A run bootstrap of stage 2 on runs simulated from the published law."""
    U = np.repeat([1e9, 4e9], 20)
    N = np.tile(np.repeat(np.geomspace(1e8, 2e10, 5), 4), 2)
    D = np.tile([1.0, 2.0, 8.0, 32.0], 10) * U
    y = P.simulate_data_constrained(P.MUENNIGHOFF_2023, N, D, U, noise=0.01, seed=1)
    return P.bootstrap_data_constrained(N, D, U, y, n_boot=n_boot)


@pytest.fixture(scope="module")
def dc_boot():
    return _dc_boot(1000)


@pytest.fixture(scope="module")
def dc_boot_small():  # data_wall solves per replicate: 40 keep the tests quick
    return _dc_boot(40)


# ------------------------------------------------------------------ reprs
def test_inference_optimum_repr_shows_every_quantity() -> None:
    r = P.inference_optimal(2.0, 1e13)
    s = repr(r)
    assert s.startswith("InferenceOptimum") and "FLOPs" in s
    assert_no_dump(s)
    for name, v in r.as_dict().items():
        if v is None:
            assert name not in s.split()
        else:
            line = next(ln for ln in s.splitlines() if ln.split()[:1] == [name])
            assert line.split()[1] == g4(v), name
    assert r.rows()[2] == ("parameters N", g4(r.N))  # the CLI's rows are unchanged


def test_dollar_optimum_repr_has_costs() -> None:
    r = P.inference_optimal_cost(2.1, input_tokens=1e12, output_tokens=1e12)
    s = repr(r)
    assert "dollars" in s.splitlines()[0]
    for name in ("cost", "chinchilla_cost", "saving_cost", "priced_tokens"):
        line = next(ln for ln in s.splitlines() if ln.split()[:1] == [name])
        assert line.split()[1] == g4(getattr(r, name))


def test_few_entries_are_shown_entry_by_entry() -> None:
    r = P.inference_optimal([2.0, 2.1, 2.2], 1e13)
    s = repr(r)
    assert "shape (3,)" in s
    line = next(ln for ln in s.splitlines() if ln.split()[:1] == ["N"])
    assert line.split()[1:] == [g4(v) for v in r.N]


def test_replicate_answers_are_summarised_not_dumped(boot) -> None:
    r = P.inference_optimal(2.2, 1e13, params=P.replicate_law(boot))
    assert r.N.shape == (1000 - boot.n_failed,)
    s = repr(r)
    assert_no_dump(s)
    assert f"shape {r.N.shape}" in s
    line = next(ln for ln in s.splitlines() if ln.split()[:1] == ["N"])
    assert line.split()[1:] == [g4(np.min(r.N)), g4(np.median(r.N)), g4(np.max(r.N))]


def test_law_reprs() -> None:
    law = P.as_law(P.HOFFMANN_2022)
    assert repr(law) == "Law(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)"
    m = P.MUENNIGHOFF_2023
    assert eval(repr(m), {"DataConstrainedLaw": DataConstrainedLaw}) == m  # full precision
    rng = np.random.default_rng(1)
    reps = P.as_law({**P.HOFFMANN_2022, "E": 1.69 + 0.01 * rng.standard_normal(1000)})
    s = repr(reps)
    assert_no_dump(s, 1000)
    assert "1000 replicates" in s
    line = next(ln for ln in s.splitlines() if ln.split()[:1] == ["E"])
    lo, hi = np.percentile(reps.E, [2.5, 97.5])
    assert line.split()[1:] == [g4(np.median(reps.E)), g4(lo), g4(hi)]


def test_constrained_optimum_and_repetition_cost_reprs() -> None:
    o = P.optimal_allocation_constrained(1e22, 25e9)
    s = repr(o)
    assert s.startswith("ConstrainedOptimum")
    assert_no_dump(s)
    for name in ("C", "U", "N", "D", "epochs", "loss", "chinchilla_loss", "loss_penalty"):
        line = next(ln for ln in s.splitlines() if ln.split()[:1] == [name])
        assert line.split()[1] == g4(getattr(o, name)), name
    c = P.repetition_cost(4, C=1e22)
    s = repr(c)
    assert s.startswith("RepetitionCost")
    for name in ("epochs", "loss_repeated", "loss_unique", "delta", "relative", "effective_fraction"):
        line = next(ln for ln in s.splitlines() if ln.split()[:1] == [name])
        assert line.split()[1] == g4(getattr(c, name)), name


def test_data_constrained_bootstrap_repr(dc_boot) -> None:
    s = repr(dc_boot)
    assert_no_dump(s)
    assert "1000 replicates" in s and f"{dc_boot.n_failed} failed" in s and "95%" in s
    for k in ("R_D", "R_N"):
        line = next(ln for ln in s.splitlines() if ln.split()[:1] == [k])
        lo, hi = dc_boot.ci(k)
        assert line.split()[1:] == [g4(getattr(dc_boot.point.law, k)), g4(lo), g4(hi)]
    # the fit and the replicate law it holds are summarised too
    fs = repr(dc_boot.point)
    assert_no_dump(fs)
    assert g4(dc_boot.point.law.R_D) in fs and g4(dc_boot.point.r2) in fs
    ls = repr(dc_boot.laws)
    assert_no_dump(ls)
    assert f"{1000 - dc_boot.n_failed} replicates" in ls


def test_data_wall_repr(dc_boot_small) -> None:
    w = P.data_wall(100e12, samples=dc_boot_small)
    s = repr(w)
    assert s.startswith("DataWall of 1e+14 unique tokens") and "95% percentile intervals" in s
    assert_no_dump(s)
    body = s.splitlines()[2:]
    assert len(body) == len(w.rows) == 3
    for line, row in zip(body, w.rows):
        assert g4(row.C) in line and g4(row.N) in line and f"{row.loss:.4f}" in line
    r = w.rows[1]
    rs = repr(r)
    assert rs.startswith("DataWallRow: 4 epochs")
    assert g4(r.naive_N) in rs and g4(r.loss_penalty) in rs
    assert g4(r.C_ci[0]) in rs and g4(r.C_ci[1]) in rs


def test_gadre_reprs(shared_data) -> None:
    path = shared_data / "gadre2024_overtraining"
    if not path.is_dir():
        pytest.skip(f"shared data folder not found at {path}")
    rep = P.reproduce_gadre2024(P.load_gadre2024(path), "rpj")
    s = repr(rep)
    assert_no_dump(s)
    assert "'rpj'" in s and repr(rep.law) in s and repr(rep.link) in s
    for h in rep.held_out:
        assert g4(h.loss_pred) in s and g4(h.error_rel_pct) in s
    b = P.bootstrap_gadre2024(rep, n_boot=1000)
    bs = repr(b)
    assert_no_dump(bs)
    assert "1000 replicates" in bs and f"{b.n_failed_loss} failed" in bs
    for (lo, hi), (elo, ehi) in zip(b.loss_ci, b.error_ci):
        assert all(g4(v) in bs for v in (lo, hi, elo, ehi))


# ------------------------------------------------------------------ bootstrap -> plan
def test_bootstrap_as_a_law_is_its_point_fit(boot) -> None:
    law = P.as_law(boot)
    assert [float(getattr(law, k)) for k in KEYS] == [boot.params[k] for k in KEYS]
    assert P.inference_optimal(2.2, 1e13, params=boot).N == P.inference_optimal(
        2.2, 1e13, params=boot.params).N


def test_replicate_law_is_the_finite_rows_of_the_samples(boot) -> None:
    # two replicates made to fail: their NaN rows are left out
    s = boot.samples.copy()
    s[[3, 17]] = np.nan
    b = dataclasses.replace(boot, batch=dataclasses.replace(boot.batch, samples=s[None]))
    law = P.replicate_law(b)
    keep = ~np.isnan(s).any(axis=1)
    assert law.E.shape == (keep.sum(),) == (998,)
    for j, k in enumerate(boot.param_names):
        np.testing.assert_array_equal(getattr(law, k), s[keep, j])


def test_replicate_law_intervals_bracket_the_point_and_match_a_loop(boot) -> None:
    law = P.replicate_law(boot)
    L, I = 2.2, 1e13
    r = P.inference_optimal(L, I, params=law)
    point = P.inference_optimal(L, I, params=boot)
    for name in ("N", "D", "saving_fraction"):
        lo, hi = np.percentile(getattr(r, name), [2.5, 97.5])
        assert lo < float(getattr(point, name)) < hi, name
        plo, phi = P.percentile_interval(getattr(r, name))
        assert (plo, phi) == pytest.approx((lo, hi), rel=1e-12)
    # the independent path: each replicate's row as a plain dict, one call each
    s = boot.samples[~np.isnan(boot.samples).any(axis=1)]
    idx = range(0, s.shape[0], 7)
    loop = [P.inference_optimal(L, I, params=dict(zip(boot.param_names, map(float, s[i]))))
            for i in idx]
    np.testing.assert_allclose(r.N[list(idx)], [float(o.N) for o in loop], rtol=1e-9)
    np.testing.assert_allclose(r.saving_fraction[list(idx)], [float(o.saving_fraction) for o in loop],
                               rtol=1e-9)
    # and the closed-form allocation, per replicate against chinchilla's own law of each row
    Nopt, _ = law.optimal_allocation(1e23)
    for i in list(idx)[:20]:
        cl = chinchilla.as_law(dict(zip(boot.param_names, map(float, s[i]))))
        assert float(Nopt[i]) == pytest.approx(float(allocation.optimal_allocation(1e23, cl).N_opt),
                                               rel=1e-10)


@pytest.mark.parametrize("model", ["chinchilla_lse", "chinchilla_tied"])
def test_replicate_law_of_other_chinchilla_forms(runs, model) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = scalingfit.bootstrap(model, *runs, n_resamples=200, seed=0)
    law = P.replicate_law(b)
    s = b.samples[~np.isnan(b.samples).any(axis=1)]
    assert law.E.shape == (s.shape[0],)
    for i in (0, 50, s.shape[0] - 1):  # chinchilla.as_law of each row: the independent path
        row = dict(zip(b.param_names, map(float, s[i])))
        if model == "chinchilla_tied":
            row["beta"] = row["alpha"]
        want = chinchilla.as_law(row)
        got = [float(getattr(law, k)[i]) for k in KEYS]
        assert got == pytest.approx([getattr(want, k) for k in KEYS], rel=1e-12)
    if model == "chinchilla_tied":
        np.testing.assert_array_equal(law.alpha, law.beta)


def test_replicate_law_refusals(runs, boot) -> None:
    with pytest.raises(TypeError, match="BootstrapResult"):
        P.replicate_law(boot.samples)
    with pytest.raises(ValueError, match="replicate_law"):
        P.as_law(boot.samples)  # the error says what to do instead
    kap = scalingfit.bootstrap("kaplan_nd", *runs, n_resamples=20)
    with pytest.raises(ValueError, match="not of a Chinchilla law"):
        P.replicate_law(kap)
    nan = np.full_like(boot.samples, np.nan)
    dead = dataclasses.replace(boot, batch=dataclasses.replace(boot.batch, samples=nan[None]))
    with pytest.raises(ValueError, match="every one of the bootstrap's 1000 replicates failed"):
        P.replicate_law(dead)
    assert isinstance(P.replicate_law(boot), Law)


def test_data_wall_samples_take_a_bootstrap(dc_boot_small, boot) -> None:
    a = P.data_wall(1e12, epochs=(1, 4), samples=dc_boot_small)  # the bootstrap's point law
    b = P.data_wall(1e12, dc_boot_small.point.law, epochs=(1, 4), samples=dc_boot_small.laws)
    assert a == b and a.rows[1].C_ci is not None
    with pytest.raises(TypeError, match="replicate_law"):
        P.data_wall(1e12, samples=boot)  # a Chinchilla bootstrap has no decay constants
    # ... which the message's recipe adds
    law = P.replicate_law(boot)
    dcl = DataConstrainedLaw(**{k: v[:40] for k, v in law.as_dict().items()}, R_D=15.0, R_N=5.0)
    with pytest.warns(scalingfit.DataWarning, match="R_D = 15.39"):  # the published point law
        P.data_wall(1e12, epochs=(1, 4), samples=dcl)
    point = DataConstrainedLaw(**P.as_law(boot.fit).as_dict(), R_D=15.0, R_N=5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalingfit.DataWarning)
        w = P.data_wall(1e12, point, epochs=(1, 4), samples=dcl)
    assert w.rows[0].N_ci is not None and w.rows[0].N_ci[0] < w.rows[0].N_ci[1]
