"""Frictions a new user met, fixed: a loader's curves go straight into predict_final_loss;
a FitResult gives a parameter's interval itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scalingfit
from scalingfit import curves, datasets, uncertainty

OLMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "olmo_ladder2024"


@pytest.mark.skipif(not OLMO.is_dir(), reason="needs ../shared/data/olmo_ladder2024")
def test_loaded_olmo_curves_are_accepted_as_a_mapping_of_runs() -> None:
    """datasets.load_olmo_val_losses returns {run: fields}; predict_final_loss took only Curve
    objects (a TypeError printing whole arrays). The mapping now gives one Curve per run, the
    same prediction as Curves built by hand."""
    loaded = datasets.load_olmo_val_losses(OLMO)
    by_hand = [curves.Curve(run, step=c["step"], tokens=c["tokens"], loss=c["loss"], lr=c["lr"])
               for run, c in loaded.items()]
    a = curves.predict_final_loss(loaded, fraction=0.5)
    b = curves.predict_final_loss(by_hand, fraction=0.5)
    assert list(a.names) == list(loaded)
    np.testing.assert_array_equal(a.predicted, b.predicted)


def test_a_curve_that_is_not_one_is_named_briefly() -> None:
    with pytest.raises(TypeError, match=r"curves\[0\] is dict \{'a': \[0, 1, 2, 3, 4, 5, \.\.\.\]\}$"):
        curves.predict_final_loss([{"a": list(range(10_000))}], fraction=0.5)


def test_fit_result_interval_is_the_wald_interval() -> None:
    N = np.logspace(7, 10, 12)
    y = (1.7 + 400 * N**-0.34) * (1 + 0.01 * np.sin(np.arange(12)))
    r = scalingfit.fit("saturating_power_law", N, y)
    from scipy import stats

    i = r.param_names.index("alpha")
    t = stats.t.ppf(0.95, 12 - 3)  # 90% two-sided
    se = np.sqrt(r.cov[i, i])
    assert r.interval("alpha", 0.9) == pytest.approx((r.x[i] - t * se, r.x[i] + t * se), rel=1e-10)
    assert r.interval("E") == uncertainty.wald_intervals(r)["E"]
    with pytest.raises(ValueError, match="has no parameter 'beta'; it has E, A, alpha"):
        r.interval("beta")
