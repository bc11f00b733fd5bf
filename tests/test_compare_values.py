"""Values of compare_refit's table and summary, pooled_nested_test, BatchResult.best_index,
FitResult.stderr and the strictly-increasing check, each against an independent reference:
pandas tallies of the stored table, scipy.stats (rankdata, f.sf, combine_pvalues) and
hand-built inputs whose answer is known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
duckdb = pytest.importorskip("duckdb")
stats = pytest.importorskip("scipy.stats")

from scalingfit import refit_compare as rc
from scalingfit.curves import Curve, lr_areas
from scalingfit.results import BatchResult, FitResult
from test_refit_compare import _sweeps as refit_compare_sweeps

LAWS = ["chinchilla", "chinchilla_tied", "kaplan_nd"]


def _sweeps(n: int, *, alpha: float, beta: float, seed: int, first: int = 0, runs: int = 20) -> pd.DataFrame:
    """test_refit_compare's sweeps (E + A/N^alpha + B/D^beta, two checkpoints per run, 1%
    multiplicative noise), numbered from ``first``."""
    df = refit_compare_sweeps(n, alpha=alpha, beta=beta, seed=seed, runs=runs)
    return df.assign(sweep=df["sweep"] + first, run_id=df["run_id"] + first * runs)


def _mixed(n: int) -> pd.DataFrame:
    """``n`` sweeps with alpha = beta (the tied law tends to win) and ``n`` with alpha != beta
    (the untied law tends to win)."""
    return pd.concat([_sweeps(n, alpha=0.3, beta=0.3, seed=7),
                      _sweeps(n, alpha=0.4, beta=0.25, seed=8, first=n)], ignore_index=True)


# --------------------------------------------------------------------------- wins by LOO
def test_wins_loo_is_the_tally_of_each_groups_lowest_leave_one_out_error(tmp_path: Path) -> None:
    db = tmp_path / "loo.duckdb"
    s = rc.compare_refit(_mixed(8), LAWS, db=db, log_residuals=True, loo=True, progress=False)
    t = rc.read_comparisons(db)
    n_groups = t["group_key"].nunique()
    assert n_groups == 16
    ok = t[t["success"] & t["loo_rmse"].notna()]
    winners = ok.sort_values(["group_key", "loo_rmse", "law"]).groupby("group_key").head(1)
    ref = winners["law"].value_counts().reindex(LAWS, fill_value=0).astype(int).to_dict()
    ref["none"] = n_groups - sum(ref.values())
    assert s.wins_loo == ref
    # The reference is not degenerate: the highest errors would give another tally.
    losers = ok.sort_values(["group_key", "loo_rmse", "law"]).groupby("group_key").tail(1)
    assert losers["law"].value_counts().reindex(LAWS, fill_value=0).astype(int).to_dict() \
        != {k: v for k, v in ref.items() if k != "none"}


# --------------------------------------------------------------------------- ranks
def test_stored_rank_is_the_ordinal_rank_of_aicc_among_competing_laws(tmp_path: Path) -> None:
    """kaplan_nd first among the laws: where the untied law wins, the order by AICc
    (chinchilla, chinchilla_tied, kaplan_nd) is a 3-cycle of the law order, whose ranks a
    single argsort would get wrong."""
    laws = ["kaplan_nd", "chinchilla", "chinchilla_tied"]
    db = tmp_path / "rank.duckdb"
    rc.compare_refit(_mixed(10), laws, db=db, log_residuals=True, progress=False)
    t = rc.read_comparisons(db)
    assert t["group_key"].nunique() == 20
    n_cyclic = 0
    for _, g in t.groupby("group_key"):
        g = g.set_index("law").loc[laws]
        competing = g["success"].to_numpy(bool) & g["aicc"].notna().to_numpy()
        assert competing.sum() >= 2
        ref = stats.rankdata(g["aicc"].to_numpy(float)[competing], method="ordinal")
        assert g["rank"][competing].astype(int).tolist() == ref.tolist()
        assert g["rank"][~competing].isna().all()
        if competing.all():  # the permutation's inverse differs from it: not an involution
            n_cyclic += not np.array_equal(ref[ref - 1], np.arange(1, len(laws) + 1))
        best = g.index[competing][np.argmin(g["aicc"].to_numpy(float)[competing])]
        assert g.index[g["best"]].tolist() == [best]
    assert n_cyclic >= 1


# --------------------------------------------------------------------------- pooled F test
def test_pooled_nested_test_drops_worse_full_fits_and_counts_rejections_at_5pct(tmp_path: Path) -> None:
    db = tmp_path / "nested.duckdb"
    rc.compare_refit(_sweeps(12, alpha=0.3, beta=0.3, seed=2), LAWS, db=db, log_residuals=True, progress=False)
    t = rc.read_comparisons(db)
    both = t[t["law"].isin(["chinchilla", "chinchilla_tied"])]
    assert both["success"].all()
    keys = sorted(t["group_key"].unique())
    r = t[t.law == "chinchilla_tied"].set_index("group_key")
    f = t[t.law == "chinchilla"].set_index("group_key")
    df1 = int(f["k"].iloc[0] - r["k"].iloc[0])
    assert df1 == 1
    # Edit the stored table: one group's full fit worse than the restricted one; three groups'
    # restricted RSS set so their F tests give p = 0.03, 0.02 (between 1% and 5%) and 0.003.
    worse, *edits = keys[:4]
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE law_comparisons SET rss = ? WHERE group_key = ? AND law = 'chinchilla'",
                    [float(r.loc[worse, "rss"]) * 1.01, worse])
        for key, p in zip(edits, (0.03, 0.02, 0.003)):
            df2 = int(f.loc[key, "n_points"] - f.loc[key, "k"])
            F = stats.f.isf(p, df1, df2)
            con.execute("UPDATE law_comparisons SET rss = ? WHERE group_key = ? AND law = 'chinchilla_tied'",
                        [float(f.loc[key, "rss"]) * (1 + F * df1 / df2), key])
    # The reference, from the stored rows alone.
    t = rc.read_comparisons(db)
    r = t[t.law == "chinchilla_tied"].set_index("group_key").loc[keys]
    f = t[t.law == "chinchilla"].set_index("group_key").loc[keys]
    assert (f.loc[worse, "rss"] > r.loc[worse, "rss"]) and (f.loc[keys[1:], "rss"] <= r.loc[keys[1:], "rss"]).all()
    tested = [k for k in keys if k != worse]
    n, k_f, k_r = f.loc[tested, "n_points"], f.loc[tested, "k"], r.loc[tested, "k"]
    rss_f, rss_r = f.loc[tested, "rss"].to_numpy(float), r.loc[tested, "rss"].to_numpy(float)
    d1, d2 = (k_f - k_r).to_numpy(float), (n - k_f).to_numpy(float)
    p_ref = stats.f.sf((rss_r - rss_f) / d1 / (rss_f / d2), d1, d2)
    assert ((p_ref >= 0.01) & (p_ref < 0.05)).sum() >= 2  # where a 1% threshold would count otherwise
    stat_ref, p_fisher = stats.combine_pvalues(p_ref, method="fisher")

    res = rc.pooled_nested_test(db, "chinchilla_tied", "chinchilla")
    assert res.n_untested == 1
    assert sorted(res.group_keys) == sorted(tested)
    got = dict(zip(res.group_keys, res.p_values))
    np.testing.assert_allclose([got[k] for k in tested], p_ref, rtol=1e-6, atol=1e-300)
    assert res.n_rejected == int((p_ref < 0.05).sum())
    assert res.statistic == pytest.approx(stat_ref, rel=1e-9)
    assert res.p_value == pytest.approx(p_fisher, rel=1e-6, abs=1e-300)


# --------------------------------------------------------------------------- results
def _batch(problem: list[int], status: list[int], cost: list[float], n_problems: int) -> BatchResult:
    m = len(problem)
    return BatchResult(model="power_law", param_names=("A", "alpha"), x=np.arange(2.0 * m).reshape(m, 2),
                       cost=np.array(cost, dtype=np.float64), status=np.array(status, dtype=np.int32),
                       iterations=np.full(m, 5, dtype=np.int32), cov=None,
                       problem=np.array(problem, dtype=np.int64), n_problems=n_problems)


def test_best_index_prefers_converged_then_iteration_limit_then_failures() -> None:
    b = _batch(
        problem=[0, 0, 0, 1, 1, 1, 2, 2, 2, 4, 4],
        status=[-1, 0, 0, 0, 1, 2, -2, -1, -1, 1, 1],
        # 0: a failure with the lowest cost; the iteration-limit item of lower cost wins.
        # 1: the iteration-limit item has the lowest cost; the converged one of lower cost wins.
        # 2: failures only: the lowest finite cost (a NaN cost is not lowest).
        # 3: no item. 4: equal costs: the first item.
        cost=[0.1, 0.7, 0.5, 0.01, 0.3, 0.2, np.nan, 0.9, 0.4, 1.0, 1.0],
        n_problems=5)
    assert b.best_index().tolist() == [2, 5, 8, -1, 9]
    per = b.best_per_problem()
    assert per.status.tolist() == [0, 2, -1, -3, 1]
    np.testing.assert_array_equal(per.cost, [0.5, 0.2, 0.4, np.nan, 1.0])


def test_stderr_of_a_negative_variance_is_nan() -> None:
    cov = np.array([[4.0, 0.0, 0.0], [0.0, -9.0, 0.0], [0.0, 0.0, 0.0]])
    r = FitResult(model="saturating_power_law", param_names=("E", "A", "alpha"), x=np.array([1.0, 2.0, 0.3]),
                  cost=0.1, cov=cov, status=1, iterations=3, n_points=10)
    se = r.stderr
    assert se[0] == 2.0 and np.isnan(se[1]) and se[2] == 0.0
    assert r.cov[1, 1] == -9.0  # the covariance itself is not touched


# --------------------------------------------------------------------------- increasing
def test_repeated_step_or_tokens_is_refused() -> None:
    loss = [3.0, 2.5, 2.2, 2.0]
    Curve("ok", step=[1, 2, 3, 4], tokens=[10, 20, 30, 40], loss=loss)
    with pytest.raises(ValueError, match=r"step must be strictly increasing; step\[2\] = 2.0 <= step\[1\] = 2.0"):
        Curve("r", step=[1, 2, 2, 3], tokens=[10, 20, 30, 40], loss=loss)
    with pytest.raises(ValueError, match=r"tokens must be strictly increasing; tokens\[3\]"):
        Curve("r", step=[1, 2, 3, 4], tokens=[10, 20, 30, 30], loss=loss)
    lr_areas([0, 1, 2, 3], lr=[1.0, 1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match=r"steps must be strictly increasing; steps\[2\]"):
        lr_areas([0, 1, 1, 3], lr=[1.0, 1.0, 0.5, 0.1])
