"""compare_models when a law fits the data exactly (numerical audit, stop 37): on a constant y
the power law's RSS is 0, its Gaussian log-likelihood +inf and AIC -inf, and it took Akaike
weight 1 with nothing said."""

from __future__ import annotations

import warnings

import numpy as np
import scalingfit


def test_an_exact_fit_warns_that_the_criteria_do_not_rank() -> None:
    x = np.logspace(7, 10, 12)
    y = np.full(12, 2.0)  # A x^-alpha = 2 with alpha = 0: RSS 0
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        c = scalingfit.compare_models(["power_law", "saturating_power_law"], x, y, loo=False)
    data = [str(w.message) for w in seen if issubclass(w.category, scalingfit.DataWarning)]
    assert len(data) == 1 and data[0].startswith("power_law fit(s) the data exactly (RSS 0")
    s = c.scores[0]
    assert s.rss == 0.0 and s.aic == -np.inf


def test_a_fit_with_noise_says_nothing() -> None:
    x = np.logspace(7, 10, 12)
    y = (1.7 + 400 * x**-0.34) * (1 + 0.01 * np.sin(np.arange(12)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = scalingfit.compare_models(["power_law", "saturating_power_law"], x, y, loo=False)
    assert all(np.isfinite(s.aic) for s in c.scores)
