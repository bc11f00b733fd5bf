"""Approach 3 with bootstrap intervals in one call (fit_parametric(n_resamples=...)): Epoch
AI's published intervals on their data, the same replicates as scalingfit.bootstrap of the
same objective and seed, and clear errors before the fit."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from scalingfit import chinchilla as ch
from scalingfit.bootstrap import chinchilla_derived

#: Besiroglu et al. (2024): 95% bootstrap intervals of their refit of Hoffmann et al.'s data.
PUBLISHED = {"E": (1.769, 1.871), "A": (285.2, 743.6), "B": (1042.4, 5810.3),
             "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}


def test_epochs_intervals_from_one_call(shared_data) -> None:
    """Epoch's 240 points (the 5 highest losses dropped), 2,000 resamples: each end of each
    95% interval within 10% of the published interval's width."""
    from conftest import shared_set
    from scalingfit.planning._common import numeric, read_csv_columns

    cols = read_csv_columns(shared_set("epoch_chinchilla_fig4") / "chinchilla_fig4.csv",
                            ("N_params", "D_tokens", "loss"))
    N, D, L = (numeric(cols, k, positive=True) for k in ("N_params", "D_tokens", "loss"))
    f = ch.fit_parametric(N, D, L, drop_highest=5, n_resamples=2000, seed=1)
    assert f.bootstrap is not None and f.bootstrap.n_failed == 0
    for k, (lo, hi) in PUBLISHED.items():
        got = f.interval(k)
        assert got[0] < getattr(f, k) < got[1], k
        np.testing.assert_allclose(got, (lo, hi), atol=0.1 * (hi - lo), err_msg=k)


def test_the_replicates_are_scalingfit_bootstraps_of_the_same_objective() -> None:
    """The intervals are those of scalingfit.bootstrap on the fitted points with the fit's
    objective (Huber 1e-3 on log residuals) and seed, to 1e-9; the compute-optimal exponent's
    interval contains the truth's 0.28/(0.34+0.28)."""
    rng = np.random.default_rng(3)
    N = 10 ** rng.uniform(7.5, 10.5, 80)
    D = 10 ** rng.uniform(9.5, 12, 80)
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(0.01 * rng.standard_normal(80))
    f = ch.fit_parametric(N, D, L, grid="guess", n_resamples=300, seed=5, level=0.9)
    b = scalingfit.bootstrap("chinchilla_lse", (N, D), L, n_resamples=300, seed=5, loss="huber", f_scale=1e-3,
                             log_residuals=True, method="percentile", level=0.9,
                             derived=chinchilla_derived(model="chinchilla_lse"))
    for k in ("E", "A", "B", "alpha", "beta", "a_opt"):
        np.testing.assert_allclose(f.interval(k), b.ci(k), rtol=1e-9, err_msg=k)
    lo, hi = f.interval("a_opt")
    assert lo < 0.28 / 0.62 < hi


def test_no_bootstrap_and_bad_options_are_named() -> None:
    """A fit without resamples has no interval; bad resample counts, levels and methods are
    refused before the 4,500-start fit."""
    rng = np.random.default_rng(0)
    N = 10 ** rng.uniform(7.5, 10.5, 40)
    D = 10 ** rng.uniform(9.5, 12, 40)
    L = 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28
    with pytest.raises(ValueError, match="no bootstrap: fit with n_resamples"):
        ch.fit_parametric(N, D, L, grid="guess").interval("E")
    for kw, message in [(dict(n_resamples=1), "n_resamples"), (dict(n_resamples=10, level=1.5), "level"),
                        (dict(n_resamples=10, ci_method="wild"), "unknown interval method"),
                        (dict(n_resamples=10, seed=-1), "seed")]:
        with pytest.raises((ValueError, TypeError), match=message):
            ch.fit_parametric(N, D, L, **kw)
