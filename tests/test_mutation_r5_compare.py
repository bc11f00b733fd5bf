"""Mutation round 5, compare: nested_test refuses a "full" fit whose RSS is worse than the
restricted one's by more than rounding (here 1e-6 to 1e-2 relative, computed with numpy from
each fit's parameters): it missed its optimum, and an F statistic from it is meaningless; and
compare_batch's Akaike weights give 0 to a law whose fit of a problem did not converge even
where its criterion is finite (a singular fit, status -2), as compare_models' do."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit as sf
from scalingfit.compare import compare_batch, compare_models, nested_test


def _rss(p: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    E, A, al = p
    return float(np.sum((E + A * x**-al - y) ** 2))


def test_nested_test_refuses_a_full_fit_slightly_worse_than_the_restricted() -> None:
    rng = np.random.default_rng(3)
    x = np.logspace(6, 9, 25)
    y = 2.0 + 300.0 * x**-0.3 + 0.01 * rng.standard_normal(x.size)
    best = sf.fit("saturating_power_law", x, y)
    restricted = sf.fit("saturating_power_law", x, y, fixed={"E": float(best.x[0])})  # the optimum
    full = sf.fit("saturating_power_law", x, y,
                  bounds={"alpha": (float(best.x[2]) * 1.002, np.inf)})  # kept off it
    rss_r, rss_f = _rss(restricted.x, x, y), _rss(full.x, x, y)
    assert 1e-6 < (rss_f - rss_r) / rss_r < 1e-2
    assert 2 * full.cost == pytest.approx(rss_f, rel=1e-9)
    with pytest.raises(ValueError, match="fits worse"):
        nested_test(restricted, full)
    nested_test(restricted, best)  # the real optimum: accepted


def test_batch_weights_are_zero_for_a_fit_that_did_not_converge() -> None:
    """Seven points of a saturating curve: broken_power_law's fit, held to two iterations, has
    not converged yet has a finite AIC; the power law takes all the weight, per problem as in
    compare_models. (Without the limit its starts, since stop 37, reach an optimum here.)"""
    rng = np.random.default_rng(0)
    N = np.logspace(7, 10, 12)[:7]
    ys = [(1.7 + 400 * N**-0.34) * np.exp(0.01 * rng.standard_normal(7)) for _ in range(2)]
    laws = ["power_law", "broken_power_law"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = {"broken_power_law": {"max_iter": 2}}
        bc = compare_batch(laws, np.concatenate([N, N]), np.concatenate(ys), [0, 7, 14], options=opt)
        single = [compare_models(laws, N, y, loo=False, options=opt) for y in ys]
    failed = ~bc.fits[1].success & np.isfinite(bc.aic[1])
    assert failed.any()  # the case under test
    w = bc.weights("aic")
    for j in np.flatnonzero(failed):
        assert w[1, j] == 0.0 and w[0, j] == 1.0
        assert single[j].weights("aic") == {"power_law": 1.0, "broken_power_law": 0.0}
    np.testing.assert_allclose(w.sum(axis=0), 1.0)
