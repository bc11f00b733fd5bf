"""Findings of the science audit of planning and testtime (stop 34), each with a test that
failed before its fix.

- data_wall with a bootstrap as ``samples`` took its point values from the published law
  (``law`` defaulted to MUENNIGHOFF_2023) and its intervals from the refit: the point fell
  outside its own interval (C 3.57e24 against (6.22e24, 7.22e24)).
- fit_accuracy_vs_compute fitted accuracies in percent against a ceiling of 1 (a sigmoid with
  k = 120, status -2) where fit_sigmoids refuses them.
- choose_model floored budget / (2 N T) in floating point: a budget of exactly k samples'
  cost (inference_flops) afforded k - 1 in about 5% of random cases.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scalingfit import DataWarning
from scalingfit import planning as pl
from scalingfit import testtime as tt


@pytest.fixture(scope="module")
def refit_boot() -> pl.DataConstrainedBootstrap:
    """A bootstrap of a law far from the published one (R_D* = 3 against 15.39), on runs laid
    out like Muennighoff et al.'s (sizes, tokens, unique tokens) but simulated here."""
    rng = np.random.default_rng(4)
    U = 10 ** rng.uniform(8.5, 10.0, 60)
    N = 10 ** rng.uniform(7.5, 9.0, 60)
    D = U * rng.choice([1.0, 2.0, 4.0, 8.0, 16.0, 40.0], 60)
    true = pl.MUENNIGHOFF_2023.with_decay(3.0, 5.3)
    y = pl.simulate_data_constrained(true, N, D, U, noise=0.005, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pl.bootstrap_data_constrained(N, D, U, y, n_boot=100, seed=0)


def test_data_wall_takes_a_bootstraps_point_law(refit_boot: pl.DataConstrainedBootstrap) -> None:
    point = refit_boot.point.law
    assert abs(float(point.R_D) - 15.39) > 5  # the refit is far from the published law
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        w = pl.data_wall(1e12, samples=refit_boot, epochs=(4, 16))
    for row, k in zip(w.rows, (4.0, 16.0)):
        # the compute at which k epochs become optimal, of the refit's own law
        assert row.C == pytest.approx(float(pl.epochs_wall_compute(1e12, k, point)), rel=1e-9)
        assert row.C_ci is not None and row.loss_ci is not None
        assert row.C_ci[0] <= row.C <= row.C_ci[1]
        assert row.loss_ci[0] <= row.loss <= row.loss_ci[1]
    # the published law's wall lies elsewhere: the default used to give these
    published = pl.data_wall(1e12, epochs=(4, 16))
    assert all(abs(a.C / b.C - 1) > 0.2 for a, b in zip(w.rows, published.rows))


def test_data_wall_warns_when_point_and_replicates_disagree(
        refit_boot: pl.DataConstrainedBootstrap) -> None:
    with pytest.warns(DataWarning, match=r"R_D = 15\.39 \(replicates .* to .*\).*law=boot\.point\.law"):
        pl.data_wall(1e12, samples=refit_boot.laws, epochs=(4,))
    with pytest.warns(DataWarning, match="R_D = 15.39"):
        pl.data_wall(1e12, pl.MUENNIGHOFF_2023, samples=refit_boot, epochs=(4,))
    with warnings.catch_warnings():  # the matching law: silent, and the same rows
        warnings.simplefilter("error", DataWarning)
        a = pl.data_wall(1e12, refit_boot.point.law, samples=refit_boot.laws, epochs=(4,))
        b = pl.data_wall(1e12, samples=refit_boot, epochs=(4,))
    assert a.rows == b.rows


def test_plot_data_wall_default_law_is_the_bootstraps(refit_boot: pl.DataConstrainedBootstrap) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    fig = pl.plot_data_wall(1e12, samples=refit_boot, epochs=(4,))
    line = fig.axes[0].get_lines()[1]  # the data-constrained optimum
    C, N = line.get_xdata(), line.get_ydata()
    ref = pl.optimal_allocation_constrained(np.asarray(C), 1e12, refit_boot.point.law)
    np.testing.assert_allclose(N, ref.N, rtol=1e-12)


def test_accuracy_vs_compute_refuses_percent() -> None:
    C = np.logspace(10, 16, 13)
    acc = 0.25 + 0.7 / (1 + np.exp(-1.2 * (np.log(C) - np.log(1e13))))
    with pytest.raises(ValueError, match=r"accuracy\[0\] = 25\.0176 is far outside the fixed floor "
                                         r"and ceiling \(0\.25, 1\.0\).*not percent"):
        tt.fit_accuracy_vs_compute([C], [100 * acc], floor=0.25, ceiling=1.0)
    with pytest.raises(ValueError, match=r"accuracy\[1\]\[0\] = "):
        tt.fit_accuracy_vs_compute([C, C], [acc, 100 * acc], ceiling=1.0)
    fit, = tt.fit_accuracy_vs_compute([C], [acc], floor=0.25, ceiling=0.95)  # fractions: fitted
    assert fit.params["k"] == pytest.approx(1.2, rel=1e-6)


def test_choose_model_affords_exact_budgets() -> None:
    k = np.arange(1, 201)
    fit, = tt.fit_coverage([k], [np.exp(-0.5 * k ** -0.2)])
    # the audit's case: 2 N T k rounds so that dividing back gives 728.99999...
    N, T, kk = 6605524798.050306, 1941.0, 729
    B = float(tt.inference_flops(N, T, kk))
    assert B / (2 * N * T) < kk  # the rounding this guards against
    assert tt.choose_model([fit], [N], [B], T).samples[0, 0] == kk
    rng = np.random.default_rng(0)
    Ns = 10 ** rng.uniform(8, 11, 3000)
    Ts = rng.integers(10, 2000, 3000).astype(float)
    ks = rng.integers(1, 1000, 3000)
    got = [tt.choose_model([fit], [n], [float(tt.inference_flops(n, t, j))], t).samples[0, 0]
           for n, t, j in zip(Ns, Ts, ks)]
    assert np.array_equal(got, ks)
    # a budget one part in a million short of k samples still affords only k - 1
    short = [tt.choose_model([fit], [n], [float(tt.inference_flops(n, t, j)) * (1 - 1e-6)], t).samples[0, 0]
             for n, t, j in zip(Ns[:200], Ts[:200], ks[:200])]
    assert np.array_equal(short, ks[:200] - 1)


def test_data_wall_is_silent_for_a_bootstraps_own_law_with_unbounded_replicates() -> None:
    """Little repetition leaves R_D* unbounded in many replicates (inf): the point law of the
    bootstrap itself was called 'outside the range' of the finite ones (a false DataWarning,
    an error under filterwarnings=error). The infinite replicates count in the range now, and
    the bootstrap's own point law is not checked at all."""
    rng = np.random.default_rng(2)
    U = 10 ** rng.uniform(8.5, 10.0, 25)
    N = 10 ** rng.uniform(7.5, 9.0, 25)
    D = U * rng.choice([1.0, 1.5], 25)
    y = pl.simulate_data_constrained(pl.MUENNIGHOFF_2023.with_decay(300.0, 5.3), N, D, U, noise=0.01, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = pl.bootstrap_data_constrained(N, D, U, y, n_boot=30, seed=2)
    inf = np.isinf(np.asarray(b.laws.R_D))
    assert np.isinf(float(b.point.law.R_D)) and 5 <= inf.sum() < inf.size  # the case
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        a = pl.data_wall(1e12, samples=b, epochs=(4,))
        c = pl.data_wall(1e12, b.point.law, samples=b.laws, epochs=(4,))
    assert a.rows == c.rows
