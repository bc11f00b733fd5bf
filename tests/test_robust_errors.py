"""The Gauss-Newton standard errors of a robust fit whose residuals mostly lie beyond f_scale
understate its uncertainty: measured here (Chinchilla, Huber on log residuals as Hoffmann et
al. and Epoch fit it), and `fit` says so with an UncertaintyWarning, where the bootstrap and the
profile, whose intervals do not come from those standard errors, do not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scalingfit
from scalingfit import UncertaintyWarning, uncertainty
from scalingfit._fit import ROBUST_MIN_INSIDE

TRUTH = np.array([np.log(406.4), np.log(410.7), np.log(1.69), 0.34, 0.28])  # chinchilla_lse: a, b, e, alpha, beta


def _design() -> tuple[np.ndarray, np.ndarray]:
    Ns = np.logspace(7, 9, 6)
    ratios = np.array([5.0, 10.0, 20.0, 40.0, 80.0])
    N = np.repeat(Ns, ratios.size)
    return N, N * np.tile(ratios, Ns.size)


def _losses(noise: float, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N, D = _design()
    f0 = scalingfit.models.get("chinchilla_lse").predict(TRUTH, (N, D))
    Y = f0 * np.exp(noise * np.random.default_rng(seed).standard_normal((k, N.size)))
    return N, D, Y


def _gauss_newton_coverage(f_scale: float, k: int = 300) -> tuple[float, float]:
    """Share of the 95% Wald intervals of alpha and beta (Student t on n - p) that hold the
    truth over k simulated sweeps at 1% noise, and the median share of residuals within
    f_scale."""
    N, D, Y = _losses(0.01, k, seed=3)
    n = N.size
    X = np.tile(np.column_stack([N, D]), (k, 1))
    off = np.arange(k + 1, dtype=np.int64) * n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = scalingfit.fit_batch("chinchilla_lse", X, Y.ravel(), off, np.tile(TRUTH, (k, 1)), loss="huber",
                                 f_scale=f_scale, log_residuals=True, threads=1)
    from scipy.stats import t

    q = t.ppf(0.975, n - 5)
    ok = b.status > 0
    se = np.sqrt(np.stack([np.diagonal(c) for c in b.cov[ok]]))
    hit = np.abs(b.x[ok] - TRUTH) <= q * se
    m = scalingfit.models.get("chinchilla_lse")
    inside = [np.mean(np.abs(np.log(m.predict(p, (N, D))) - np.log(y)) <= f_scale)
              for p, y in zip(b.x[ok], Y[ok])]
    return float(hit[:, 3:].mean()), float(np.median(inside))


def test_gauss_newton_errors_of_a_mostly_linear_huber_fit_under_cover() -> None:
    """What the warning rests on: with Hoffmann's delta = 1e-3 at 1% noise about a quarter of
    the residuals lie inside, and the exponents' 95% intervals cover ~0.7; with delta at the
    noise level most lie inside and they cover ~0.93 (binomial sd 0.009 at 600 intervals)."""
    cov_small, inside_small = _gauss_newton_coverage(1e-3)
    cov_large, inside_large = _gauss_newton_coverage(1e-2)
    assert inside_small < ROBUST_MIN_INSIDE < inside_large
    assert cov_small < 0.82, cov_small
    assert cov_large > 0.90, cov_large


def test_fit_warns_when_most_residuals_lie_beyond_f_scale() -> None:
    N, D, Y = _losses(0.01, 1, seed=1)
    with pytest.warns(UncertaintyWarning, match=r"(\d+) of 30 residuals lie within f_scale = 0.001.*bootstrap"):
        r = scalingfit.fit("chinchilla_lse", (N, D), Y[0], loss="huber", f_scale=1e-3, log_residuals=True)
    assert r.success
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scalingfit.fit("chinchilla_lse", (N, D), Y[0], loss="huber", f_scale=1e-2, log_residuals=True)
        scalingfit.fit("chinchilla_lse", (N, D), Y[0], log_residuals=True)  # the linear loss: never
        # the bootstrap's and the profile's intervals do not use the standard errors
        scalingfit.bootstrap("chinchilla_lse", (N, D), Y[0], n_resamples=20, loss="huber", f_scale=1e-3,
                             log_residuals=True, method="percentile")
        uncertainty.profile_interval("chinchilla_lse", (N, D), Y[0], "alpha", loss="huber", f_scale=1e-3,
                                     log_residuals=True)


def test_the_share_counts_points_with_positive_weight() -> None:
    """Zero-weight points are not in the fit, so not in the count."""
    N, D, Y = _losses(0.01, 1, seed=1)
    y = Y[0].copy()
    y[:10] *= 1.5  # ten far-off points, then given no weight
    w = np.r_[np.zeros(10), np.ones(20)]
    with pytest.warns(UncertaintyWarning, match=r"\d+ of 20 residuals"):
        scalingfit.fit("chinchilla_lse", (N, D), y, weights=w, loss="huber", f_scale=1e-3, log_residuals=True)


def test_the_cli_warning_names_the_cli_options(tmp_path, capsys) -> None:
    """scalingfit fit --loss huber: the warning's advice names --bootstrap N and --f-scale, not
    the Python API (scalingfit.bootstrap, uncertainty.profile_interval) a CLI user cannot call."""
    from scalingfit import cli

    N, D, Y = _losses(0.01, 1, seed=1)
    src = tmp_path / "runs.csv"
    src.write_text("N,D,loss\n" + "".join(f"{float(n)!r},{float(d)!r},{float(y)!r}\n" for n, d, y in zip(N, D, Y[0])))
    argv = ["fit", str(src), "--model", "chinchilla_lse", "--x", "N,D", "--y", "loss", "--loss", "huber",
            "--f-scale", "1e-3", "--log-residuals"]
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # the suite's filter turns warnings into errors
        assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "UncertaintyWarning" in err and "of 30 residuals lie within f_scale = 0.001" in err, err
    assert "take intervals from --bootstrap N, or an --f-scale near the noise level" in err, err
    assert "profile_interval" not in err and "scalingfit.bootstrap" not in err
