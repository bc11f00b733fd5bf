"""Which law on every group of a run database (refit_compare): scores against compare_models
on each group's own rows, law recovery on sweeps drawn from a known law, resume, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
duckdb = pytest.importorskip("duckdb")

import scalingfit
from scalingfit import _synthdb, compare_models, data
from scalingfit import refit_compare as rc
from scalingfit.cli import main

LAWS = ["chinchilla", "chinchilla_tied", "kaplan_nd"]


def _sweeps(n: int, *, alpha: float, beta: float, seed: int, noise: float = 0.01, runs: int = 30) -> pd.DataFrame:
    """Long-format runs of ``n`` sweeps drawn from E + A/N^alpha + B/D^beta (two checkpoints per
    run, multiplicative noise on the loss)."""
    rng = np.random.default_rng(seed)
    A, B = 0.35 * 1e9 ** alpha, 0.35 * 2e10 ** beta  # each term 0.35 at N = 1e9, D = 2e10
    rows = []
    for s in range(n):
        N = 10 ** rng.uniform(7.5, 10.5, runs)
        D = 10 ** rng.uniform(9.5, 12.0, runs)
        for step, frac in ((1, 0.5), (2, 1.0)):
            L = (1.7 + A * N ** -alpha + B * (frac * D) ** -beta) * (1 + noise * rng.standard_normal(runs))
            rows.append(pd.DataFrame({"sweep": s, "run_id": s * runs + np.arange(runs), "N": N, "D": frac * D,
                                      "step": step, "metric": "loss", "value": L}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def runs_db(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    runs, truth = _synthdb.chinchilla_sweeps(24, runs=25, checkpoints=2, noise=0.01, seed=3)
    path = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(path), runs, truth=truth)
    return path, runs


def _final(runs: pd.DataFrame, sweep: int) -> pd.DataFrame:
    g = runs[runs.sweep == sweep].sort_values(["run_id", "step"]).groupby("run_id").tail(1)
    return g.sort_values(["N", "D"], kind="stable")


def test_scores_equal_compare_models_on_each_groups_final_rows(runs_db) -> None:
    path, runs = runs_db
    s = rc.compare_refit(path, LAWS, log_residuals=True, loo=True, chunk_groups=10, progress=False)
    assert (s.n_groups, s.n_scored, s.n_skipped, s.n_unscored, s.n_chunks) == (24, 24, 0, 0, 3)
    t = rc.read_comparisons(path)
    assert len(t) == 24 * 3 and set(t["law"]) == set(LAWS)
    for sweep in (0, 11, 23):  # compare_models fits each law alone, on rows reduced here by pandas
        g = _final(runs, sweep)
        ref = compare_models(LAWS, g[["N", "D"]].to_numpy(), g["value"].to_numpy(), log_residuals=True)
        rows = t[t.sweep == sweep].set_index("law")
        for law in LAWS:
            sc = ref[law]
            assert rows.loc[law, "n_points"] == 25 and rows.loc[law, "k"] == sc.k
            np.testing.assert_allclose(rows.loc[law, ["aic", "aicc", "bic"]].to_numpy(float),
                                       [sc.aic, sc.aicc, sc.bic], rtol=1e-7, atol=1e-6)
            np.testing.assert_allclose(rows.loc[law, "loo_rmse"], sc.loo_rmse, rtol=1e-4)
            np.testing.assert_allclose(json.loads(rows.loc[law, "params"]), list(sc.fit.params.values()), rtol=1e-5)
        w = ref.weights("aicc")
        np.testing.assert_allclose([rows.loc[law, "weight"] for law in LAWS], [w[law] for law in LAWS], atol=1e-8)
        assert rows.index[rows["best"]].tolist() == [ref.best("aicc")]
    # Per group: weights sum to 1, ranks 1..3 ordered by AICc, delta = AICc - min AICc.
    for _, g in t.groupby("group_key"):
        assert abs(g["weight"].sum() - 1) < 1e-12
        order = g.sort_values("aicc")
        assert order["rank"].tolist() == [1, 2, 3] and order["best"].tolist() == [True, False, False]
        np.testing.assert_allclose(g["delta"], g["aicc"] - g["aicc"].min(), atol=1e-9)
    # The summary tallies the table.
    assert s.wins == {**t[t.best].law.value_counts().reindex(LAWS, fill_value=0).to_dict(), "none": 0}
    assert sum(s.wins_loo.values()) == 24


def test_the_law_the_sweeps_were_drawn_from_wins(tmp_path: Path) -> None:
    """alpha = 0.5 and beta = 0.2: the untied law wins nearly every sweep. alpha = beta = 0.3:
    the tied law is the true one and the untied law nests it with one parameter more, which
    AICc (30 points) picks only when the likelihood-ratio statistic n log(RSS_r / RSS_f)
    exceeds 2 + 2*6*7/23 - 2*5*6/24 = 3.15, i.e. F(1, 25) > 25 (e^(3.15/30) - 1): P = 0.109,
    so about 4 of 40 sweeps (11 or more: p = 0.003)."""
    apart = rc.compare_refit(_sweeps(40, alpha=0.5, beta=0.2, seed=1, noise=0.005), LAWS,
                             db=tmp_path / "a.duckdb", log_residuals=True, progress=False)
    assert apart.wins["chinchilla"] >= 38 and apart.wins["kaplan_nd"] == 0
    tied = rc.compare_refit(_sweeps(40, alpha=0.3, beta=0.3, seed=2), LAWS, db=tmp_path / "b.duckdb",
                            log_residuals=True, progress=False)
    assert tied.wins["chinchilla_tied"] >= 30 and tied.wins["kaplan_nd"] == 0
    assert tied.median_delta["chinchilla"] > 0.5 and tied.median_delta["chinchilla_tied"] == 0


def test_resume_after_an_interrupt_gives_the_uninterrupted_table(runs_db, tmp_path: Path) -> None:
    path, runs = runs_db

    def stop(n: int) -> None:
        if n == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rc.compare_refit(path, LAWS[:2], chunk_groups=5, progress=False, on_chunk=stop)
    assert rc.read_comparisons(path)["group_key"].nunique() == 10  # two chunks written, whole
    s = rc.compare_refit(path, LAWS[:2], chunk_groups=5, progress=False)
    assert (s.n_scored, s.n_skipped) == (14, 10)
    once = rc.compare_refit(runs, LAWS[:2], db=tmp_path / "once.duckdb", progress=False)
    assert once.wins == s.wins
    cols = ["group_key", "law", "params", "aicc", "bic", "weight", "rank", "best", "data_hash", "config_hash"]
    a = rc.read_comparisons(path)[cols].sort_values(["group_key", "law"]).reset_index(drop=True)
    b = rc.read_comparisons(tmp_path / "once.duckdb")[cols].sort_values(["group_key", "law"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_changed_rows_rescore_only_their_group(runs_db) -> None:
    path, _ = runs_db
    rc.compare_refit(path, LAWS[:2], progress=False)
    before = rc.read_comparisons(path).set_index(["group_key", "law"])
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE runs SET value = value * 1.01 WHERE sweep = 5 AND run_id % 2 = 0")
    s = rc.compare_refit(path, LAWS[:2], progress=False)
    assert (s.n_scored, s.n_skipped) == (1, 23)
    after = rc.read_comparisons(path).set_index(["group_key", "law"])
    assert len(after) == len(before)
    changed = after["data_hash"] != before.loc[after.index, "data_hash"]
    assert set(changed[changed].index.get_level_values(0)) == {"[5]"}


def test_another_configuration_is_refused_unless_overwrite(runs_db) -> None:
    path, _ = runs_db
    rc.compare_refit(path, LAWS[:2], progress=False)
    with pytest.raises(data.RunDataError, match=r"log_residuals \(--log-residuals\) was False and is now True.*overwrite"):
        rc.compare_refit(path, LAWS[:2], log_residuals=True, progress=False)
    rc.compare_refit(path, LAWS[1:], log_residuals=True, progress=False)  # another comparison: kept apart
    s = rc.compare_refit(path, LAWS[:2], log_residuals=True, overwrite=True, progress=False)
    assert s.n_scored == 24
    t = rc.read_comparisons(path)
    assert t.groupby("comparison")["config_hash"].nunique().to_dict() == {
        "chinchilla,chinchilla_tied": 1, "chinchilla_tied,kaplan_nd": 1}
    assert len(rc.read_comparisons(path, LAWS[:2])) == 48 == len(rc.read_comparisons(path, "chinchilla,chinchilla_tied"))


def test_bad_groups_get_rows_with_a_reason_and_the_others_are_unchanged(tmp_path: Path) -> None:
    runs = _sweeps(4, alpha=0.34, beta=0.28, seed=5)
    runs = runs[~((runs.sweep == 1) & (runs.run_id >= 1 * 30 + 4))]  # 4 runs left: too few for 5 parameters
    runs.loc[runs.sweep == 2, "value"] = -1.0  # every row of sweep 2 invalid
    runs.loc[(runs.sweep == 3) & (runs.run_id == 3 * 30 + 7), "N"] = np.nan  # one bad run: skipped, noted
    s = rc.compare_refit(runs, LAWS[:2], db=tmp_path / "s.duckdb", progress=False)
    assert (s.n_groups, s.n_scored, s.n_unscored) == (4, 4, 2)
    t = rc.read_comparisons(tmp_path / "s.duckdb").set_index(["sweep", "law"])
    assert t.loc[(1, "chinchilla"), "status"] == -3 and "too few points (4)" in t.loc[(1, "chinchilla"), "reason"]
    assert np.isnan(t.loc[(1, "chinchilla_tied"), "aicc"]) and not t.loc[1, "best"].any()  # 4 points, 4 parameters
    assert (t.loc[2, "status"] == -3).all() and t.loc[(2, "chinchilla"), "reason"].startswith("60 invalid row(s)")
    assert "row(s) skipped" in t.loc[(3, "chinchilla"), "reason"] and t.loc[(3, "chinchilla"), "n_points"] == 29
    good = compare_models(LAWS[:2], *_xy(_final(runs, 0)))
    np.testing.assert_allclose(t.loc[0, "aicc"].to_numpy(float), [good[law].aicc for law in LAWS[:2]], rtol=1e-8)


def _xy(g: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return g[["N", "D"]].to_numpy(), g["value"].to_numpy()


def test_one_input_laws_read_the_column_named_by_inputs(tmp_path: Path) -> None:
    runs = _sweeps(6, alpha=0.34, beta=0.28, seed=6)
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    with pytest.raises(data.RunDataError, match=r"\['x'\] not in the run data.*inputs="):
        rc.compare_refit(csv, ["power_law", "saturating_power_law"], progress=False)
    assert not (tmp_path / "runs.csv.fits.duckdb").exists()  # refused before the database was created
    s = rc.compare_refit(csv, ["power_law", "saturating_power_law"], inputs=["N"], log_residuals=True,
                         loo=True, progress=False)
    assert s.db == str(tmp_path / "runs.csv.fits.duckdb") and s.n_unscored == 0
    t = rc.read_comparisons(s.db)
    g = _final(runs, 4)
    ref = compare_models(["power_law", "saturating_power_law"], g["N"].to_numpy(), g["value"].to_numpy(),
                         log_residuals=True)
    got = t[t.sweep == 4].set_index("law")
    np.testing.assert_allclose(got.loc["saturating_power_law", "loo_rmse"], ref["saturating_power_law"].loo_rmse,
                               rtol=1e-4)
    parquet = tmp_path / "runs.parquet"
    runs.to_parquet(parquet)
    s2 = rc.compare_refit(parquet, ["power_law", "saturating_power_law"], inputs=["N"], log_residuals=True,
                          loo=True, progress=False)
    assert s2.wins == s.wins


def test_robust_loss_ranks_by_leave_one_out(runs_db) -> None:
    path, _ = runs_db
    s = rc.compare_refit(path, LAWS[:2], loss="huber", f_scale=1e-3, log_residuals=True, loo=True, progress=False)
    t = rc.read_comparisons(path)
    assert s.criterion == "loo_rmse" and t["aicc"].isna().all() and t["weight"].isna().all()
    for _, g in t.groupby("group_key"):
        assert g.loc[g["best"], "loo_rmse"].iloc[0] == g["loo_rmse"].min()
        np.testing.assert_allclose(g["delta"], g["loo_rmse"] / g["loo_rmse"].min())


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(laws=["chinchilla"]), ValueError, "at least two laws"),
    (dict(laws="chinchilla,kaplan_nd"), TypeError, "list of built-in law names"),
    (dict(laws=["chinchilla", "nope"]), ValueError, r"unknown law\(s\) \['nope'\]"),
    (dict(laws=["chinchilla", "chinchilla"]), ValueError, "twice"),
    (dict(laws=["chinchilla", "power_law"]), ValueError, "same inputs"),
    (dict(inputs=["N"]), ValueError, r"inputs names 1 column\(s\) \(N\); the laws take 2"),
    (dict(group_by=["N"]), ValueError, r"group_by column\(s\) \['N'\] are also fitted"),
    (dict(group_by="sweep"), TypeError, "group_by must be a list"),
    (dict(loss="huber"), ValueError, "nothing would rank the laws"),
    (dict(loss="nope", loo=True), ValueError, "loss must be one of"),
    (dict(f_scale=0.0), ValueError, "f_scale"),
    (dict(starts="some"), ValueError, "starts must be"),
    (dict(chunk_groups=0), ValueError, "chunk_groups"),
    (dict(loo="yes"), TypeError, "loo"),
    (dict(db=3), TypeError, "db must be a file path"),
])
def test_bad_arguments_are_named_before_any_file_is_written(runs_db, tmp_path: Path, kwargs, exc, match) -> None:
    path, _ = runs_db
    kw = dict(laws=LAWS[:2], db=tmp_path / "out.duckdb", progress=False)
    kw.update(kwargs)
    with pytest.raises(exc, match=match):
        rc.compare_refit(path, **kw)
    assert not (tmp_path / "out.duckdb").exists()


def test_missing_columns_metric_and_corrupt_files(runs_db, tmp_path: Path) -> None:
    path, runs = runs_db
    out = tmp_path / "out.duckdb"
    with pytest.raises(data.RunDataError, match=r"group_by column\(s\) \['arch'\]"):
        rc.compare_refit(path, LAWS[:2], group_by=["arch"], db=out, progress=False)
    with pytest.raises(data.RunDataError, match="no row of .* has metric 'acc'; its metrics are 'loss'"):
        rc.compare_refit(path, LAWS[:2], metric="acc", db=out, progress=False)
    with pytest.raises(data.RunDataError, match=r"column\(s\) \['D'\] not in the run data"):
        rc.compare_refit(runs.drop(columns="D"), LAWS[:2], db=out, progress=False)
    assert not out.exists()
    bad = tmp_path / "bad.duckdb"
    bad.write_text("sweep,N\n1,2\n")
    with pytest.raises(data.RunDataError, match="not a DuckDB database"):
        rc.compare_refit(path, LAWS[:2], db=bad, progress=False)
    with pytest.raises(FileNotFoundError):
        rc.read_comparisons(tmp_path / "none.duckdb")
    with pytest.raises(data.RunDataError, match="not a DuckDB database"):
        rc.read_comparisons(bad)
    with pytest.raises(data.RunDataError, match="no law_comparisons table"):
        rc.read_comparisons(path)


def test_cli_json_equals_the_api_and_usage_errors_exit_2(runs_db, tmp_path: Path, capsys) -> None:
    path, _ = runs_db
    argv = ["compare-runs", str(path), "--models", "chinchilla,kaplan_nd", "--log-residuals",
            "--db", str(tmp_path / "cli.duckdb"), "--quiet"]
    assert main([*argv, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    api = rc.compare_refit(path, ["chinchilla", "kaplan_nd"], log_residuals=True, db=tmp_path / "api.duckdb",
                           progress=False)
    assert got["wins"] == api.wins and got["n_scored"] == 24
    np.testing.assert_allclose(got["median_delta"]["kaplan_nd"], api.median_delta["kaplan_nd"], rtol=1e-9)
    assert main(argv) == 0 and capsys.readouterr().out == ""  # --quiet: nothing printed
    assert main(argv[:-1]) == 0
    shown = capsys.readouterr().out
    assert "24 already up to date" in shown and "kaplan_nd" in shown and "wins (AICc)" in shown
    for extra, msg in ((["--models", "chinchilla"], "a comparison needs two or more"),
                       (["--models", "chinchilla,power_law"], "the laws must take the same inputs"),
                       (["--loss", "huber"], "give --loo"),
                       (["--x", "N"], "--x names 1 column"),
                       (["--chunk", "0"], "--chunk")):
        assert main([*argv, *extra]) == 2, extra
        assert msg in capsys.readouterr().err, extra
    assert main([*argv[:2], "--models", "chinchilla,kaplan_nd", "--group-by", "arch"]) == 1
    assert "['arch'] not in the run data" in capsys.readouterr().err


def test_group_keys_do_not_depend_on_chunking_or_dtype(tmp_path: Path) -> None:
    """A NULL group alone in a chunk and beside others (pandas: None vs NaN), and an integer
    column that arrives as float in a chunk with a NULL, keep one key: a re-run with other
    chunks scores nothing again, for the comparison and for refit alike."""
    from scalingfit import refit as rf

    runs = _sweeps(4, alpha=0.34, beta=0.28, seed=7, runs=12)
    named = runs.assign(sweep=runs["sweep"].map({0: None, 1: "a", 2: "b", 3: "c"}))
    numbered = runs.assign(sweep=runs["sweep"].map({0: None, 1: 1, 2: 2, 3: 3}).astype("Int64"))
    for i, frame in enumerate((named, numbered)):
        src = tmp_path / f"src{i}.duckdb"
        _synthdb.write_duckdb(str(src), frame)
        db = tmp_path / f"out{i}.duckdb"
        first = rc.compare_refit(src, LAWS[:2], db=db, chunk_groups=1, progress=False)
        again = rc.compare_refit(src, LAWS[:2], db=db, chunk_groups=500, progress=False)
        assert (first.n_scored, again.n_scored, again.n_skipped) == (4, 0, 4)
        assert sum(again.wins.values()) == 4 and rc.read_comparisons(db)["group_key"].nunique() == 4
        assert rf.refit(src, db=db, chunk_groups=1, progress=False).n_fitted == 4
        assert rf.refit(src, db=db, chunk_groups=500, progress=False).n_skipped == 4
        assert rf.read_fits(db)["group_key"].nunique() == 4
    keys = set(rc.read_comparisons(tmp_path / "out1.duckdb")["group_key"])
    assert keys == {"[null]", "[1]", "[2]", "[3]"}


def test_a_null_group_with_only_bad_rows_keeps_the_column_type(tmp_path: Path) -> None:
    from scalingfit import refit as rf

    runs = _sweeps(3, alpha=0.34, beta=0.28, seed=8, runs=12)
    runs["sweep"] = runs["sweep"].map({0: None, 1: 1, 2: 2}).astype("Int64")
    runs.loc[runs["sweep"].isna(), "value"] = np.nan
    src = tmp_path / "src.duckdb"
    _synthdb.write_duckdb(str(src), runs)
    for chunk in (1, 10):
        db = tmp_path / f"c{chunk}.duckdb"
        s = rc.compare_refit(src, LAWS[:2], db=db, chunk_groups=chunk, progress=False)
        assert (s.n_groups, s.wins["none"]) == (3, 1)
        rf.refit(src, db=db, chunk_groups=chunk, progress=False)
        with duckdb.connect(str(db), read_only=True) as con:
            for table in ("law_comparisons", "fits"):
                kind, nulls = con.execute(f"SELECT typeof(sweep), COUNT(*) FILTER (sweep IS NULL) FROM {table} "
                                          "GROUP BY 1").fetchall()[0]
                assert kind in ("BIGINT", "INTEGER", "DOUBLE") and nulls >= 1, (table, kind)
        bad = rc.read_comparisons(db)
        assert bad.loc[bad["sweep"].isna(), "reason"].str.contains("invalid row").all()


@pytest.mark.parametrize("column", ["version", "law", "rank"])
def test_a_group_column_named_like_an_output_column_is_refused(tmp_path: Path, column: str) -> None:
    from scalingfit import refit as rf

    runs = _sweeps(2, alpha=0.34, beta=0.28, seed=9, runs=10).rename(columns={"sweep": column})
    taken = column in rf.FITS_COLUMNS
    with pytest.raises(ValueError, match=rf"group_by column\(s\) \['{column}'\] have the name of a column of the "
                                         "law_comparisons table"):
        rc.compare_refit(runs, LAWS[:2], group_by=[column], db=tmp_path / "a.duckdb", progress=False)
    if taken:
        with pytest.raises(ValueError, match="have the name of a column of the fits table"):
            rf.refit(runs, group_by=[column], db=tmp_path / "a.duckdb", progress=False)
    else:
        rf.refit(runs, group_by=[column], db=tmp_path / "b.duckdb", progress=False)
    assert not (tmp_path / "a.duckdb").exists()


def test_the_fits_tables_columns_are_the_ones_refit_writes(runs_db) -> None:
    from scalingfit import refit as rf

    path, _ = runs_db
    rf.refit(path, progress=False)
    assert set(rf.read_fits(path).columns) >= {"sweep", *rf.FITS_COLUMNS}
    with duckdb.connect(str(path), read_only=True) as con:
        assert [r[0] for r in con.execute("DESCRIBE fits").fetchall()] == ["sweep", *rf.FITS_COLUMNS]


@pytest.mark.parametrize("kwargs, match", [
    (dict(inputs=["N", "N"]), "names a column twice"),
    (dict(inputs=["N", "value"]), "names 'value'"),
    (dict(group_by=["sweep", "sweep"]), r"group_by names \['sweep'\] twice"),
    (dict(f_scale=0.5), "no effect with loss='linear'"),
])
def test_more_bad_arguments(runs_db, tmp_path: Path, kwargs, match) -> None:
    path, _ = runs_db
    with pytest.raises(ValueError, match=match):
        rc.compare_refit(path, LAWS[:2], db=tmp_path / "o.duckdb", progress=False, **kwargs)
    assert not (tmp_path / "o.duckdb").exists()


def test_another_grouping_or_key_type_is_refused_before_any_fit(runs_db, tmp_path: Path) -> None:
    path, runs = runs_db
    db = tmp_path / "o.duckdb"
    rc.compare_refit(path, LAWS[:2], db=db, progress=False)
    fitted = []
    with pytest.raises(data.RunDataError, match=r"grouped by \['sweep'\], this run groups by \['arch'\]"):
        rc.compare_refit(runs.assign(arch="x"), LAWS[1:], group_by=["arch"], db=db, progress=False,
                         on_chunk=fitted.append)
    with pytest.raises(data.RunDataError, match="group column 'sweep' is BIGINT in the law_comparisons table "
                                                "and VARCHAR in the run data"):
        rc.compare_refit(runs.assign(sweep="run-" + runs["sweep"].astype(str)), LAWS[1:], db=db, progress=False,
                         on_chunk=fitted.append)
    assert fitted == []
    with pytest.raises(data.RunDataError, match="the folder .*nowhere does not exist"):
        rc.compare_refit(path, LAWS[:2], db=tmp_path / "nowhere" / "o.duckdb", progress=False)


def test_a_converged_law_without_a_score_says_why(tmp_path: Path) -> None:
    runs = _sweeps(2, alpha=0.34, beta=0.28, seed=10, runs=7)  # 7 points: chinchilla's AICc needs 8
    s = rc.compare_refit(runs, LAWS[:2], db=tmp_path / "o.duckdb", progress=False)
    t = rc.read_comparisons(tmp_path / "o.duckdb").set_index(["sweep", "law"])
    assert s.wins == {"chinchilla": 0, "chinchilla_tied": 2, "none": 0}
    for sweep in (0, 1):
        row = t.loc[(sweep, "chinchilla")]
        if row["success"]:
            assert row["reason"] == "AICc needs more than k + 2 = 7 points (free parameters + 2), got 7"
            assert row["weight"] == 0 and np.isnan(row["delta"]) and pd.isna(row["rank"])
        assert t.loc[(sweep, "chinchilla_tied"), "weight"] == 1 and t.loc[(sweep, "chinchilla_tied"), "message"]


def test_cli_exit_code_follows_the_table_and_bad_columns_exit_2(tmp_path: Path, capsys) -> None:
    runs = _sweeps(3, alpha=0.34, beta=0.28, seed=11, runs=10)
    runs = runs[(runs.sweep != 2) | (runs.run_id < 2 * 10 + 2)]  # sweep 2: two runs, no law can be scored
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    argv = ["compare-runs", str(csv), "--models", "chinchilla,kaplan_nd", "--quiet"]
    assert main(argv) == 1 and main(argv) == 1  # the second run scores nothing, the table still has a loser
    assert main([*argv, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["wins"]["none"] == 1 and out["n_skipped"] == 3 and "groups_per_s" in out
    for extra, msg in ((["--x", "N,N"], "names a column twice"), (["--x", "N,value"], "names 'value'"),
                       (["--group-by", "N"], "which the laws fit"), (["--group-by", "sweep,sweep"], "twice")):
        assert main([*argv, *extra]) == 2, extra
        assert msg in capsys.readouterr().err, extra
    assert len(rc.read_comparisons(str(csv) + ".fits.duckdb", "chinchilla, kaplan_nd")) == 6


def test_plot_law_comparisons_draws_the_tables_wins_and_deltas(runs_db, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    from scalingfit.plot import plot_law_comparisons

    path, _ = runs_db
    rc.compare_refit(path, LAWS, log_residuals=True, progress=False)
    t = rc.read_comparisons(path)
    fig = plot_law_comparisons(path)
    bars, ecdf = fig.axes
    heights = [p.get_height() for p in bars.patches]
    want = [100 * int((t.best & (t.law == law)).sum()) / 24 for law in LAWS]
    np.testing.assert_allclose(heights, want)
    for line, law in zip(ecdf.get_lines(), LAWS):  # the dotted line at 2 comes last
        d = np.sort(t.loc[(t.law == law) & t.delta.notna(), "delta"].to_numpy())
        np.testing.assert_array_equal(line.get_xdata(), d)
        np.testing.assert_allclose(line.get_ydata(), np.arange(1, d.size + 1) / 24)
    rc.compare_refit(path, LAWS[:2], progress=False)
    with pytest.raises(ValueError, match="several comparisons .*pick one with comparison="):
        plot_law_comparisons(path)
    assert len(plot_law_comparisons(path, comparison=LAWS[:2]).axes[0].patches) == 2
    with pytest.raises(TypeError, match="read_comparisons' DataFrame or a database path"):
        plot_law_comparisons(3)
    with pytest.raises(ValueError, match="no comparison"):
        plot_law_comparisons(t, comparison="power_law,kaplan_nd")
    out = tmp_path / "wins.png"
    assert main(["compare-runs", str(path), "--models", ",".join(LAWS), "--log-residuals", "--quiet",
                 "--plot", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert main(["compare-runs", str(path), "--models", ",".join(LAWS), "--log-residuals", "--quiet",
                 "--plot", str(tmp_path / "no" / "w.png")]) == 1  # refused before any fit, as compare's
    assert "--plot" in capsys.readouterr().err


def test_every_row_of_learning_curves(tmp_path: Path) -> None:
    """rows="all": each run's learning curve is a group (group_by run_id, input step). Curves
    drawn from E + A (step + x0)^-alpha with a large offset x0: the law with the offset wins
    nearly every run, and each group's scores equal compare_models on that run's rows."""
    rng = np.random.default_rng(13)
    frames = []
    for run in range(12):
        step = np.geomspace(10, 1e5, 40)
        L = (2.0 + 50 * (step + 300.0) ** -0.6) * (1 + 0.002 * rng.standard_normal(step.size))
        frames.append(pd.DataFrame({"run_id": run, "step": step, "metric": "loss", "value": L}))
    runs = pd.concat(frames, ignore_index=True)
    laws = ["learning_curve", "saturating_power_law"]
    db = tmp_path / "curves.duckdb"
    with pytest.raises(data.RunDataError, match=r"\['sweep'\] not in the run data"):
        rc.compare_refit(runs, laws, inputs=["step"], rows="all", db=db, progress=False)
    s = rc.compare_refit(runs, laws, group_by=["run_id"], inputs=["step"], rows="all", db=db, progress=False)
    assert s.n_scored == 12 and s.wins["learning_curve"] == 12
    assert s.median_delta["saturating_power_law"] > 100
    t = rc.read_comparisons(db)
    assert (t["n_points"] == 40).all()
    g = runs[runs.run_id == 3]
    ref = compare_models(laws, g["step"].to_numpy(), g["value"].to_numpy(), loo=False)
    got = t[t.run_id == 3].set_index("law")
    np.testing.assert_allclose([got.loc[law, "aicc"] for law in laws], [ref[law].aicc for law in laws], rtol=1e-7)
    final = rc.compare_refit(runs, laws, group_by=["run_id"], inputs=["step"], db=tmp_path / "f.duckdb",
                             progress=False)  # the last step of each run: one point, nothing to score
    assert final.wins["none"] == 12
    with pytest.raises(ValueError, match="rows must be 'final'"):
        rc.compare_refit(runs, laws, rows="every", db=db, progress=False)


def test_group_columns_keep_the_sources_types_and_runs_resume(tmp_path: Path) -> None:
    """The results tables' group columns take the source's types (INTEGER, DATE, DOUBLE), so a
    re-run or resume is not refused as another key type, and a first chunk whose group value
    is missing does not make a column of type NULL that the next chunk cannot fill."""
    from scalingfit import refit as rf

    runs = _sweeps(3, alpha=0.34, beta=0.28, seed=14, runs=10)
    runs["day"] = pd.to_datetime("2024-01-01") + pd.to_timedelta(runs["sweep"], unit="D")
    runs["lr"] = np.where(runs["sweep"] == 0, np.nan, 0.25 * runs["sweep"] + 0.001)
    runs["sweep"] = runs["sweep"].astype("int32")
    src = tmp_path / "src.duckdb"
    with duckdb.connect(str(src)) as con:
        con.register("r", runs)
        con.execute("CREATE TABLE runs AS SELECT CAST(sweep AS INTEGER) sweep, CAST(\"day\" AS DATE) AS \"day\", lr, run_id, "
                    "N, D, step, metric, value FROM r")
    for group_by in (["sweep"], ["day"], ["lr"]):
        db = tmp_path / f"{group_by[0]}.duckdb"
        for _ in range(2):  # the second run resumes
            s = rc.compare_refit(src, LAWS[:2], group_by=group_by, db=db, chunk_groups=1, progress=False)
            f = rf.refit(src, group_by=group_by, db=db, chunk_groups=1, progress=False)
        assert (s.n_skipped, f.n_skipped) == (3, 3), group_by
        with duckdb.connect(str(db), read_only=True) as con:
            for table in ("law_comparisons", "fits"):
                kind = con.execute(f"SELECT data_type FROM information_schema.columns WHERE table_name = '{table}' "
                                   f"AND column_name = '{group_by[0]}'").fetchone()[0]
                assert kind == {"sweep": "INTEGER", "day": "DATE", "lr": "DOUBLE"}[group_by[0]], (table, kind)
        assert rf.read_fits(db)["group_key"].nunique() == 3


def test_a_fits_table_with_keys_of_the_old_format_is_rekeyed_not_duplicated(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys written before they were normalised (256.0, NaN) are rewritten on the next refit,
    which then replaces those groups' rows instead of adding them again under the new key."""
    from scalingfit import refit as rf

    runs = _sweeps(4, alpha=0.34, beta=0.28, seed=15, runs=10)
    runs["width"] = runs["sweep"].map({0: 0.0, 1: 256.0, 2: 512.0, 3: np.nan})
    db = tmp_path / "old.duckdb"
    def old_key(values: tuple) -> str:  # the key before normalisation (256.0, not 256)
        return json.dumps([v.item() if hasattr(v, "item") else v for v in values], default=str)

    def old_keys(frame: pd.DataFrame) -> tuple[list[str], list[tuple]]:
        return [old_key(r) for r in frame.itertuples(index=False, name=None)], real_keys(frame)[1]

    real_keys = rf._frame_keys
    with monkeypatch.context() as m:
        m.setattr(rf, "_frame_keys", old_keys)
        rf.refit(runs, group_by=["sweep", "width"], db=db, progress=False)
    assert {"[1, 256.0]", "[3, NaN]"} <= set(rf.read_fits(db)["group_key"])
    s = rf.refit(runs, group_by=["sweep", "width"], db=db, progress=False)
    fits = rf.read_fits(db)
    assert len(fits) == 4 and set(fits["group_key"]) == {"[0, 0]", "[1, 256]", "[2, 512]", "[3, null]"}
    # every old key differs (0.0, 256.0, 512.0, NaN) and the key is part of the data hash: each
    # group refitted once, in place
    assert (s.n_fitted, s.n_skipped) == (4, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT COUNT(*) FROM fit_params").fetchone()[0] == 4 * 5
    assert rf.refit(runs, group_by=["sweep", "width"], db=db, progress=False).n_skipped == 4


def test_overwrite_with_another_grouping_deletes_nothing(runs_db) -> None:
    from scalingfit import refit as rf

    path, runs = runs_db
    rc.compare_refit(path, LAWS[:2], progress=False)
    rf.refit(path, progress=False)
    two = runs.assign(arch="a")
    with pytest.raises(data.RunDataError, match="one table takes one grouping"):
        rc.compare_refit(two, LAWS[:2], group_by=["sweep", "arch"], db=path, overwrite=True, progress=False)
    with pytest.raises(data.RunDataError, match="one table takes one grouping"):
        rf.refit(two, group_by=["sweep", "arch"], db=path, overwrite=True, progress=False)
    assert len(rc.read_comparisons(path)) == 48 and len(rf.read_fits(path)) == 24
    assert len(rf.read_fits(path, law="")) == 24  # "" is every law, as before


def test_rows_with_an_input_that_a_law_takes_the_log_of_are_dropped_for_every_law(tmp_path: Path) -> None:
    rng = np.random.default_rng(16)
    frames = []
    for run in range(3):
        step = np.r_[0.0, np.geomspace(10, 1e5, 30)]
        L = (2.0 + 50 * (step + 300.0) ** -0.6) * (1 + 0.002 * rng.standard_normal(step.size))
        frames.append(pd.DataFrame({"run_id": run, "step": step, "metric": "loss", "value": L}))
    laws = ["learning_curve", "saturating_power_law"]
    s = rc.compare_refit(pd.concat(frames, ignore_index=True), laws, group_by=["run_id"], inputs=["step"],
                         rows="all", db=tmp_path / "o.duckdb", progress=False)
    t = rc.read_comparisons(tmp_path / "o.duckdb")
    assert (t["n_points"] == 30).all() and t["success"].all() and s.wins["none"] == 0
    assert t["reason"].str.contains("step must be > 0, got 0").all()


def test_refit_names_an_input_in_group_by_and_a_bad_db_before_a_cluster(tmp_path: Path) -> None:
    from scalingfit import refit as rf

    runs = _sweeps(2, alpha=0.34, beta=0.28, seed=17, runs=10)
    with pytest.raises(ValueError, match=r"group_by column\(s\) \['D'\] are also fitted \(inputs and value: N, D"):
        rf.refit(runs, group_by=["D"], db=tmp_path / "o.duckdb", progress=False)
    with pytest.raises(TypeError, match="db must be a file path"):
        rf.refit(runs, db=123, scheduler="tcp://127.0.0.1:1", progress=False)


def test_a_bad_cell_or_a_ragged_csv_in_a_comparison(tmp_path: Path, capsys) -> None:
    """compare_refit shares refit's reading: a cell that is not a number stopped the whole
    comparison ("non-numeric value at row k", k counted from the chunk's start), and a ragged
    CSV was reported as missing columns. Now the cell is a skipped row of its group, named by
    its run and step, and the ragged file is named as unparsable."""
    runs = _sweeps(4, alpha=0.34, beta=0.28, seed=12, runs=12)
    i = len(runs) - 5  # in the last chunk of one group each
    bad = runs.astype({"value": object})
    bad.loc[i, "value"] = "n/a?"
    csv = tmp_path / "bad.csv"
    bad.to_csv(csv, index=False)
    s = rc.compare_refit(csv, LAWS[:2], db=tmp_path / "o.duckdb", chunk_groups=1, progress=False)
    assert s.n_groups == 4 and s.n_chunks == 4
    scores = rc.read_comparisons(tmp_path / "o.duckdb")
    sweep, why = runs.loc[i, "sweep"], (f"1 invalid row(s) skipped: the row with run_id {runs.loc[i, 'run_id']}, "
                                        f"step {runs.loc[i, 'step']}: value is not a number: 'n/a?'")
    assert (scores.loc[scores.sweep == sweep, "reason"].str.startswith(why)).all()
    assert not scores.loc[scores.sweep != sweep, "reason"].str.contains("invalid row").any()
    assert runs.loc[i, "step"] == 2  # a final step: that run is scored on its step 1, its last valid one
    assert (scores["n_points"] == 12).all() and len(scores) == 4 * 2
    lines = tmp_path.joinpath("good.csv")
    runs.to_csv(lines, index=False)
    text = lines.read_text().splitlines()
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join(text[:-1] + [text[-1].split(",")[0]]) + "\n")  # the last line cut
    with pytest.raises(data.RunDataError, match=f"ragged.csv could not be parsed as CSV: .*line {len(text)} has 1 "
                                                "cells, the header 7"):
        rc.compare_refit(ragged, LAWS[:2], db=tmp_path / "r.duckdb", progress=False)
    assert not (tmp_path / "r.duckdb").exists()
    assert main(["compare-runs", str(ragged), "--models", "chinchilla,kaplan_nd", "--quiet"]) == 1
    assert "could not be parsed as CSV" in capsys.readouterr().err


def test_a_bad_cell_past_the_type_sniffing_sample_in_a_comparison(tmp_path: Path, capsys) -> None:
    """A cell 'abc' on a line past DuckDB's type-sniffing sample (its first 20,480 rows) of a
    column it typed DOUBLE ended the comparison with a raw ConversionException (a traceback
    from the CLI) and left an empty results database. Now it is a bad row of its group."""
    runs = _sweeps(100, alpha=0.34, beta=0.28, seed=13, runs=120)  # 24,000 rows
    i = 23001
    bad = runs.astype({"value": object})
    bad.loc[i, "value"] = "abc"
    csv = tmp_path / "late.csv"
    bad.to_csv(csv, index=False)
    s = rc.compare_refit(csv, LAWS[:2], db=tmp_path / "o.duckdb", chunk_groups=40, progress=False)
    assert (s.n_groups, s.n_scored, s.n_chunks) == (100, 100, 3)
    scores = rc.read_comparisons(tmp_path / "o.duckdb")
    sweep = runs.loc[i, "sweep"]
    why = (f"1 invalid row(s) skipped: the row with run_id {runs.loc[i, 'run_id']}, step {runs.loc[i, 'step']}: "
           "value is not a number: 'abc'")
    assert (scores.loc[scores.sweep == sweep, "reason"].str.startswith(why)).all()
    assert not scores.loc[scores.sweep != sweep, "reason"].str.contains("invalid row").any()
    assert main(["compare-runs", str(csv), "--models", ",".join(LAWS[:2]), "--quiet", "--db",
                 str(tmp_path / "cli.duckdb")]) == 0  # every group has a winner
    assert capsys.readouterr().err == ""
    assert len(rc.read_comparisons(tmp_path / "cli.duckdb")) == 2 * 100


def test_pooled_nested_test_is_fishers_method_over_each_groups_f_test(tmp_path: Path) -> None:
    """Each group's p-value equals compare.nested_test on that group's own fits; the pooled
    p-value is scipy's Fisher combination of them. Drawn with alpha != beta (0.5, 0.2) it
    rejects alpha = beta overwhelmingly; drawn with alpha = beta it does not at 1%."""
    from scalingfit import compare
    from scipy import stats

    db = tmp_path / "a.duckdb"
    df = _sweeps(12, alpha=0.5, beta=0.2, seed=1, noise=0.005)
    rc.compare_refit(df, LAWS, db=db, log_residuals=True, progress=False)
    t = rc.pooled_nested_test(db, "chinchilla_tied", "chinchilla")
    assert len(t.group_keys) == 12 and t.n_untested == 0
    rows = rc.read_comparisons(db)
    for key, p in zip(t.group_keys[:3], t.p_values[:3]):
        sweep = int(rows[(rows.group_key == key)].iloc[0]["sweep"])
        g = _final(df, sweep)
        x, y = (g.N.to_numpy(), g.D.to_numpy()), g.value.to_numpy()
        ref = compare.nested_test(scalingfit.fit("chinchilla_tied", x, y, log_residuals=True),
                                  scalingfit.fit("chinchilla", x, y, log_residuals=True))
        assert p == pytest.approx(ref.p_value, rel=1e-6, abs=1e-300)
    stat, p_fisher = stats.combine_pvalues(t.p_values, method="fisher")
    assert t.statistic == pytest.approx(stat, rel=1e-9) and t.p_value == pytest.approx(p_fisher, rel=1e-6, abs=1e-300)
    assert t.p_value < 1e-10 and t.n_rejected == int(np.sum(t.p_values < 0.05))
    assert "Fisher chi2(24)" in repr(t)
    tied = tmp_path / "b.duckdb"
    rc.compare_refit(_sweeps(12, alpha=0.3, beta=0.3, seed=2), LAWS, db=tied, log_residuals=True, progress=False)
    assert rc.pooled_nested_test(tied, "chinchilla_tied", "chinchilla").p_value > 0.01
    with pytest.raises(ValueError, match="must have more free parameters"):
        rc.pooled_nested_test(tied, "chinchilla", "chinchilla_tied")
    with pytest.raises(ValueError, match="no comparison .* holds both"):
        rc.pooled_nested_test(tied, "chinchilla_tied", "power_law")


def test_compare_summary_core_time_is_the_cores_solves(tmp_path: Path) -> None:
    """seconds_in_fit was the whole compare_batch call (start guesses and scoring included); now
    the core's batch solves alone, as refit's: > 0 and below the whole run's seconds."""
    s = rc.compare_refit(_sweeps(20, alpha=0.4, beta=0.3, seed=5), LAWS, db=tmp_path / "c.duckdb",
                         log_residuals=True, progress=False)
    assert 0 < s.seconds_in_fit < s.seconds
