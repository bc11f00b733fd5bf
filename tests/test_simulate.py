"""Synthetic sweeps: seeded, on the law, shaped as documented."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import chinchilla as ch
from scalingfit import simulate


def test_isoflop_sweep_is_seeded_and_on_budget() -> None:
    a = simulate.isoflop_sweep(seed=1)
    b = simulate.isoflop_sweep(seed=1)
    c = simulate.isoflop_sweep(seed=2)
    assert np.array_equal(a.loss, b.loss) and not np.array_equal(a.loss, c.loss)
    assert a.C.size == 7 * 9
    assert np.allclose(6 * a.N * a.D, a.C, rtol=1e-12)
    g = np.random.default_rng(5)
    d = simulate.isoflop_sweep(seed=g)
    assert d.seed is None and a.seed == 1


def test_isoflop_sweep_noise_free_is_the_law_and_centred() -> None:
    s = simulate.isoflop_sweep(ch.HOFFMANN_2022, noise=0.0, n_sizes=7)
    assert np.allclose(s.loss, ch.HOFFMANN_2022.loss(s.N, s.D), rtol=1e-14)
    for C in np.unique(s.C):
        sel = s.C == C
        assert int(np.argmin(s.loss[sel])) == 3  # the middle size
        N_opt, _ = s.truth.optimal_allocation(C)
        assert np.sqrt(s.N[sel].min() * s.N[sel].max()) == pytest.approx(float(N_opt), rel=1e-9)


def test_isoflop_sweep_shift_and_span() -> None:
    s = simulate.isoflop_sweep(noise=0.0, shift=0.5, span=0.5, n_sizes=5, budgets=[1e20])
    N_opt, _ = s.truth.optimal_allocation(1e20)
    assert np.log10(s.N / N_opt) == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])


def test_noise_level() -> None:
    s = simulate.isoflop_sweep(budgets=np.logspace(18, 21, 50), n_sizes=40, noise=0.01, seed=3)
    r = np.log(s.loss / s.truth.loss(s.N, s.D))
    assert r.std() == pytest.approx(0.01, rel=0.05)
    assert abs(r.mean()) < 1e-3


def test_training_curves() -> None:
    t = simulate.training_curves(sizes=[1e8, 1e9], flops_range=(1e18, 1e20), n_points=11, seed=0)
    assert t.N.size == 22 and set(t.run.tolist()) == {0, 1}
    assert np.allclose(6 * t.N * t.D, t.C)
    assert t.C.min() == pytest.approx(1e18) and t.C.max() == pytest.approx(1e20)
    for r in (0, 1):
        assert np.all(np.diff(t.D[t.run == r]) > 0)
    z = simulate.training_curves(noise=0.0)
    assert np.allclose(z.loss, z.truth.loss(z.N, z.D))
    assert np.array_equal(
        simulate.training_curves(seed=4).loss, simulate.training_curves(seed=4).loss
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: simulate.isoflop_sweep(budgets=[1e20, -1.0]), r"budgets must be"),
        (lambda: simulate.isoflop_sweep(n_sizes=2), r"n_sizes must be an integer in \[3, 10000\]"),
        (lambda: simulate.isoflop_sweep(n_sizes=10**9), r"n_sizes must be an integer in \[3, 10000\]"),
        (lambda: simulate.isoflop_sweep(span=0.0), r"span must be in \(0, 10\]"),
        (lambda: simulate.isoflop_sweep(span=400.0), r"span must be in \(0, 10\]"),  # N = 0 before
        (lambda: simulate.isoflop_sweep(shift=np.nan), r"shift must be in \[-10, 10\]"),  # NaN N before
        (lambda: simulate.isoflop_sweep(noise=-0.1), r"noise must be a finite number >= 0"),
        (lambda: simulate.isoflop_sweep(noise=None), r"noise must be a finite number >= 0, got None"),
        (lambda: simulate.isoflop_sweep({"E": 1.0}), r"params must have keys"),
        (lambda: simulate.training_curves(sizes=[]), r"sizes must be"),
        (lambda: simulate.training_curves(flops_range=(1e20, 1e18)), r"flops_range must be"),
        (lambda: simulate.training_curves(n_points=1), r"n_points must be an integer >= 2"),
    ],
)
def test_bad_input(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name", ["shift", "span"])
def test_none_is_refused_by_name(name: str) -> None:
    """shift=None and span=None raised float()'s TypeError, which names no argument."""
    with pytest.raises(TypeError, match=rf"^{name} must be a number, got None$"):
        simulate.isoflop_sweep(**{name: None})


def test_a_fit_result_is_a_law() -> None:
    """The docstrings say law may be a fit result: sf.fit('chinchilla', ...) was refused with
    'params must be numeric, got FitResult'. A Chinchilla-form fit gives its parameters (the
    log form's converted, the tied exponent as both); another model's fit is refused by name."""
    import scalingfit as sf

    s = simulate.isoflop_sweep(ch.HOFFMANN_2022, noise=0.002, seed=0)
    x = np.column_stack([s.N, s.D])
    r = sf.fit("chinchilla", x, s.loss)
    assert r.success
    want = ch.ChinchillaLaw(**r.params)
    assert simulate.isoflop_sweep(law=r, seed=1).truth == want
    assert simulate.training_curves(law=r, seed=1).truth == want
    assert simulate.isoflop_sweep(law=sf.bootstrap("chinchilla", x, s.loss, n_resamples=10, seed=0),
                                  seed=1).truth == want  # a bootstrap's point fit
    lse = simulate.isoflop_sweep(law=sf.fit("chinchilla_lse", x, s.loss), seed=1).truth
    for k in ("E", "A", "B", "alpha", "beta"):
        assert getattr(lse, k) == pytest.approx(getattr(want, k), rel=1e-6)
    tied = sf.fit("chinchilla_tied", x, s.loss)
    t = simulate.isoflop_sweep(law=tied, seed=1).truth
    assert t.alpha == t.beta == tied.params["alpha"] and t.E == tied.params["E"]
    with pytest.raises(ValueError, match="a fit of 'kaplan_nd' is not a Chinchilla law"):
        simulate.isoflop_sweep(law=sf.fit("kaplan_nd", x, s.loss))
    with pytest.raises(ValueError, match="a fit of 'power_law' is not a Chinchilla law"):
        simulate.training_curves(law=sf.fit("power_law", s.N, s.loss))


def test_default_seed_is_zero_and_reproducible() -> None:
    """The simulators defaulted to seed=None (a fresh draw, seed not recorded) while testtime's
    and chinchilla's docstrings said 'default 0, as everywhere in scalingfit'."""
    a, b = simulate.isoflop_sweep(), simulate.isoflop_sweep()
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.seed == 0
    np.testing.assert_array_equal(a.loss, simulate.isoflop_sweep(seed=0).loss)
    c, d = simulate.training_curves(), simulate.training_curves()
    np.testing.assert_array_equal(c.loss, d.loss)
    assert c.seed == 0
    fresh = simulate.isoflop_sweep(seed=None)
    assert fresh.seed is None and not np.array_equal(fresh.loss, a.loss)
