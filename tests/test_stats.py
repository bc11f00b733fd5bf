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
