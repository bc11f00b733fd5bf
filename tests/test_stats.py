"""The scipy-free F and chi-square tails (scalingfit._stats) against scipy's: to 1e-9 relative
in log p, 1e-8 absolute where p is near 1 (the beta function's log-gamma terms at large
degrees of freedom), and finite logs where scipy's underflow to -inf."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scalingfit import _stats

stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("d1", [1, 2, 3, 7])
@pytest.mark.parametrize("d2", [1, 4, 25, 240, 5000])
def test_f_tail_matches_scipy(d1: int, d2: int) -> None:
    for f in [1e-8, 0.01, 0.3, 1.0, 2.5, 10.0, 55.5, 1e3, 1e6]:
        want = stats.f.logsf(f, d1, d2)
        got = _stats.f_logsf(f, d1, d2)
        if want == -math.inf:  # scipy underflows; the log goes on
            assert got < math.log(1e-300)
            continue
        assert got == pytest.approx(want, rel=1e-9, abs=1e-8), (f, d1, d2)
    assert _stats.f_logsf(0.0, d1, d2) == 0.0 and _stats.f_logsf(math.inf, d1, d2) == -math.inf


def test_tiny_p_values_keep_their_size() -> None:
    """Epoch's alpha = beta test: F(1, 240) = 55.5 (p = 1.7e-12); F far beyond underflows
    scipy's sf to 0, but not the log."""
    assert math.exp(_stats.f_logsf(55.5, 1, 240)) == pytest.approx(stats.f.sf(55.5, 1, 240), rel=1e-9)
    # scipy's logsf is -inf there: A&S 26.5.4's series instead, I_x(a, b) = x^a (1-x)^b /
    # (a B(a, b)) [1 + sum_n B(a+1, n+1) / B(a+b, n+1) x^(n+1)], x = d2 / (d2 + d1 f)
    def lbeta(p: float, q: float) -> float:
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    a, b, x = 120.0, 0.5, 240.0 / (240.0 + 1e5)
    series = math.fsum([1.0] + [math.exp(lbeta(a + 1, n + 1) - lbeta(a + b, n + 1)) * x ** (n + 1) for n in range(60)])
    want = a * math.log(x) + b * math.log1p(-x) - math.log(a) - lbeta(a, b) + math.log(series)
    assert _stats.f_logsf(1e5, 1, 240) == pytest.approx(want, rel=1e-12)
    assert _stats.f_logsf(1e5, 1, 240) < math.log(1e-300)


@pytest.mark.parametrize("dof", [2, 4, 24, 80, 2000])
def test_even_chi_square_tail_matches_scipy(dof: int) -> None:
    for x in [1e-6, 0.5, dof / 2, dof, 2 * dof, 10 * dof + 50, 5000.0]:
        want = stats.chi2.logsf(x, dof)
        if want == -math.inf:
            assert _stats.chi2_even_logsf(x, dof) < math.log(1e-300)
            continue
        assert _stats.chi2_even_logsf(x, dof) == pytest.approx(want, rel=1e-9, abs=1e-8)
    with pytest.raises(ValueError, match="even"):
        _stats.chi2_even_logsf(1.0, 3)


def test_random_grid_of_f_tails() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        d1, d2 = int(rng.integers(1, 12)), int(rng.integers(1, 400))
        f = float(10 ** rng.uniform(-4, 3))
        want = stats.f.logsf(f, d1, d2)
        if want == -math.inf:
            assert _stats.f_logsf(f, d1, d2) < math.log(1e-300)
            continue
        assert _stats.f_logsf(f, d1, d2) == pytest.approx(want, rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("dof", [1, 2, 3, 5, 8, 21])
def test_chi_square_tail_of_any_whole_dof_matches_scipy(dof: int) -> None:
    for x in [1e-6, 0.1, 1.0, 3.84, dof, 3 * dof + 10, 200.0]:
        assert _stats.chi2_sf(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-10, abs=1e-300)
    assert _stats.chi2_sf(0.0, dof) == 1.0


def test_the_nested_tests_need_no_scipy(tmp_path) -> None:
    """nested_test needed scipy, which the demo's install (.[db,plot]) has not got: the README's
    first command ended "error: nested_test needs scipy" at the Epoch step. With scipy made
    unimportable, nested_test and pooled_nested_test give scipy's p-values (computed here,
    with it)."""
    import json
    import subprocess
    import sys
    import textwrap

    pytest.importorskip("duckdb")
    code = textwrap.dedent(f"""
        import json, sys
        sys.modules["scipy"] = None  # import scipy fails
        import numpy as np, pandas as pd, scalingfit
        from scalingfit import compare, refit_compare
        rng = np.random.default_rng(3)
        rows = []
        for s in range(6):
            N = 10 ** rng.uniform(7.5, 10, 30); D = N * 10 ** rng.uniform(0.5, 2, 30)
            L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * (1 + 0.01 * rng.standard_normal(30))
            rows.append(pd.DataFrame({{"sweep": s, "run_id": np.arange(30), "step": 1, "N": N, "D": D,
                                       "metric": "loss", "value": L}}))
        runs = pd.concat(rows, ignore_index=True)
        g = runs[runs.sweep == 0]
        x, y = (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy()
        t = compare.nested_test(scalingfit.fit("chinchilla_tied", x, y, log_residuals=True),
                                scalingfit.fit("chinchilla", x, y, log_residuals=True))
        db = {str(tmp_path / "c.duckdb")!r}
        refit_compare.compare_refit(runs, ["chinchilla", "chinchilla_tied"], db=db, log_residuals=True, progress=False)
        p = refit_compare.pooled_nested_test(db, "chinchilla_tied", "chinchilla")
        print(json.dumps(dict(F=t.F, df1=t.df1, df2=t.df2, p=t.p_value, lr=t.lr, lr_p=t.lr_p_value,
                              stat=p.statistic, n=len(p.group_keys), pooled=p.p_value)))
    """)
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["p"] == pytest.approx(stats.f.sf(r["F"], r["df1"], r["df2"]), rel=1e-9)
    assert r["lr_p"] == pytest.approx(stats.chi2.sf(r["lr"], r["df1"]), rel=1e-9)
    assert r["pooled"] == pytest.approx(stats.chi2.sf(r["stat"], 2 * r["n"]), rel=1e-9)


def test_large_degrees_of_freedom_and_log_p_never_above_zero() -> None:
    """Up to d2 = 1e6 points to 1e-9 (1e-12 here); 1e-7 at d2 = 1e9 (1.1e-7 before: log x of a
    rounded x, and lgamma differences near 1e10); a log-p of a tiny statistic came out +4e-18."""
    for d1 in (1, 3):
        assert _stats.f_logsf(2.0, d1, 1e6) == pytest.approx(stats.f.logsf(2.0, d1, 1e6), rel=1e-9)
        assert _stats.f_logsf(2.0, d1, 1e9) == pytest.approx(stats.f.logsf(2.0, d1, 1e9), rel=1e-7)
    assert _stats.chi2_even_logsf(1e-10, 2000) <= 0.0 and _stats.f_logsf(1e-12, 5, 7) <= 0.0


@pytest.mark.parametrize("v", [1, 1.5, 2, 2.5, 3, 4, 7, 17, 25, 100, 1000, 4999, 5000, 1e5, 1e9])
def test_t_quantile_matches_scipy(v: float) -> None:
    """Student's t quantile (every interval on n - p degrees of freedom) without scipy: within
    3e-12 of scipy's from q = 1e-15 to 1 - 1e-9, on either side of the switch to Cornish-Fisher
    at 5,000 degrees of freedom and at the closed forms (v = 1, 2)."""
    for q in [1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 0.01, 0.025, 0.05, 0.1, 0.3, 0.45, 0.7, 0.9, 0.975, 0.995, 1 - 1e-9]:
        assert _stats.t_quantile(q, v) == pytest.approx(stats.t.ppf(q, v), rel=1e-11), (q, v)
    for t in [1e-3, 0.5, 2.0, 30.0, 1e4] if v <= 1e5 else []:  # the tail is not used beyond 5,000
        want = stats.t.logsf(t, v)
        if want == -math.inf:  # scipy underflows; the log goes on
            assert _stats.t_logsf(t, v) < math.log(1e-300)
            continue
        # 1e-11 where the quantile uses it (v < 5,000); beyond, lgamma near 1e5 loses digits
        assert _stats.t_logsf(t, v) == pytest.approx(want, rel=1e-11 if v < 5000 else 1e-9), (t, v)


@pytest.mark.parametrize("v", [1, 3, 4, 25])
def test_t_quantile_near_the_median(v: float) -> None:
    """Near q = 1/2 the quantile is (q - 1/2) / f(0), f(0) = Gamma((v+1)/2) / (Gamma(v/2)
    sqrt(v pi)), to O(t^3): at q = 1/2 + 1e-7 that is 1e-13 relative, where scipy's ppf is 4e-4
    off (at v = 4)."""
    f0 = math.exp(math.lgamma((v + 1) / 2) - math.lgamma(v / 2)) / math.sqrt(v * math.pi)
    for dq in (1e-7, -1e-9, 1e-12):
        q = 0.5 + dq
        assert _stats.t_quantile(q, v) == pytest.approx((q - 0.5) / f0, rel=1e-9)
    assert _stats.t_quantile(0.5, v) == 0.0


def test_t_tail_near_the_median_against_the_cauchy_closed_form() -> None:
    """On 1 degree of freedom P(T > t) = 1/2 - atan(t) / pi: near t = 0 (where scipy's logsf is
    3e-11 off) the log tail is log(1/2) + log1p(-2 atan(t) / pi)."""
    for t in (1e-9, 1e-6, 1e-3, 0.3):
        want = math.log(0.5) + math.log1p(-2 * math.atan(t) / math.pi)
        assert _stats.t_logsf(t, 1.0) == pytest.approx(want, rel=1e-14)


def test_t_quantile_refuses_bad_arguments() -> None:
    for q in (0.0, 1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="q must be a probability in"):
            _stats.t_quantile(q, 5)
    for v in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="degrees of freedom must be > 0"):
            _stats.t_quantile(0.9, v)


def test_fits_and_refits_do_not_import_scipy(tmp_path) -> None:
    """Every interval's t quantile is scalingfit's own: importing scipy.stats for it took 0.7-1.3 s
    of a refit's time. With scipy installed, a fit with intervals, a bootstrap and a refit of a
    database leave scipy unimported, and the t intervals are scipy's (checked here, with it)."""
    import json
    import subprocess
    import sys
    import textwrap

    pytest.importorskip("duckdb")
    code = textwrap.dedent(f"""
        import json, sys
        import numpy as np, pandas as pd, scalingfit
        from scalingfit import refit
        rng = np.random.default_rng(3)
        N = np.logspace(7, 10, 9)
        y = (1.7 + 400 * N**-0.34) * (1 + 0.01 * rng.standard_normal(9))
        r = scalingfit.fit("saturating_power_law", N, y)
        lo, hi = r.interval("alpha", 0.9)
        scalingfit.bootstrap("saturating_power_law", N, y, n_resamples=50, seed=1)
        runs = pd.DataFrame({{"sweep": np.repeat([0, 1], 9), "run_id": np.tile(np.arange(9), 2), "step": 1,
                             "N": np.r_[N, N], "metric": "loss", "value": np.r_[y, y[::-1]]}})
        refit.refit(runs, law="saturating_n", group_by=["sweep"], db={str(tmp_path / "r.duckdb")!r},
                    progress=False)
        print(json.dumps(dict(scipy=sorted(m for m in sys.modules if m.split(".")[0] == "scipy"),
                              half=(hi - lo) / 2, se=float(r.stderr[2]), dof=int(N.size - 3))))
    """)
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["scipy"] == []
    assert r["half"] == pytest.approx(stats.t.ppf(0.95, r["dof"]) * r["se"], rel=1e-10)
