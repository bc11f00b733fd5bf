"""Reading results the same way across result types (an audit found FitResult.interval but
BootstrapResult.ci, and predict((N, D)) but not predict(N, D))."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit

rng = np.random.default_rng(0)
N = 10 ** rng.uniform(7.5, 10.5, 120)
D = 10 ** rng.uniform(9.5, 12.0, 120)
L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * (1 + 0.01 * rng.standard_normal(120))


def test_predict_takes_the_inputs_as_separate_arguments() -> None:
    """predict(N, D) is the law at (N, D) by its closed form, as predict((N, D)); columns too;
    a wrong number of inputs names the law's inputs."""
    r = scalingfit.fit("chinchilla", (N, D), L)
    E, A, B, a, b = (r.params[k] for k in ("E", "A", "B", "alpha", "beta"))
    want = E + A / 70e9**a + B / 1.4e12**b
    assert r.predict(70e9, 1.4e12) == pytest.approx(want, rel=1e-14)
    assert r.predict((70e9, 1.4e12)) == r.predict(70e9, 1.4e12)
    n, d = np.array([1e9, 7e10]), np.array([2e10, 1.4e12])
    np.testing.assert_allclose(r.predict(n, d), E + A / n**a + B / d**b, rtol=1e-14)
    with pytest.raises(TypeError, match=r"predict takes the 2 input\(s\) of 'chinchilla' \(N, D\), got 3"):
        r.predict(1e9, 2e10, 3.0)
    one = scalingfit.fit("saturating_power_law", N, 1.7 + 400 * N**-0.34)
    with pytest.raises(TypeError, match=r"predict takes the 1 input\(s\)"):
        one.predict(1e9, 2e10)


def test_bootstrap_interval_is_its_ci_and_numpys_percentiles() -> None:
    """BootstrapResult.interval(name) is .ci(name): numpy's 2.5/97.5 percentiles of the
    replicate values (the percentile method), and at level 0.5 its 25/75 percentiles."""
    b = scalingfit.bootstrap("chinchilla", (N, D), L, n_resamples=200, seed=4, method="percentile")
    v = b.values("alpha")
    v = v[np.isfinite(v)]
    assert b.interval("alpha") == b.ci("alpha")
    assert b.interval("alpha", method="bca") == b.ci("alpha", "bca") != b.ci("alpha")
    np.testing.assert_allclose(b.interval("alpha"), np.percentile(v, [2.5, 97.5]), rtol=1e-12)
    np.testing.assert_allclose(b.interval("alpha", level=0.5), np.percentile(v, [25, 75]), rtol=1e-12)
