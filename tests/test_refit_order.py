"""A refit's numbers depend on the run data, not on the order of its rows (storage audit,
stop 36). Rows tied on a law's inputs (several seeds of one model size, no run_id) were packed
in the order DuckDB's join returned them, and of two rows of one run and step the first so
returned was kept: the same source refitted twice, or a shuffled copy of it, gave other
estimates, intervals and data hashes (so a resume refitted groups whose data had not changed).
References: the same source in its own order (no run of the code is the reference of another's
values: they must be equal whatever the order), and scipy's least_squares on a group's rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
from scalingfit import refit as rf
from scalingfit import refit_compare as rc

TRUTH = (1.69, 406.4, 410.7, 0.34, 0.28)


def _seeds(n_sweeps: int = 12, sizes: int = 8, seeds: int = 4, seed: int = 0) -> pd.DataFrame:
    """Sweeps of ``sizes`` (N, D) points each trained with ``seeds`` seeds: rows tied on N and
    D with different losses, and no run_id or step."""
    rng = np.random.default_rng(seed)
    k = n_sweeps * sizes
    N = np.repeat(10 ** rng.uniform(7.5, 10, k), seeds)
    D = np.repeat(10 ** rng.uniform(9.5, 12, k), seeds)
    E, A, B, a, b = TRUTH
    v = E + A * N**-a + B * D**-b + 0.02 * rng.standard_normal(k * seeds)
    return pd.DataFrame({"sweep": np.repeat(np.arange(n_sweeps), sizes * seeds), "N": N, "D": D, "value": v})


def _fits(db: Path) -> pd.DataFrame:
    cols = ["group_key", "params", "stderr", "ci_low", "ci_high", "status", "cost", "data_hash"]
    return rf.read_fits(db)[cols].sort_values("group_key").reset_index(drop=True)


def test_tied_inputs_give_the_same_fit_whatever_the_row_order(tmp_path: Path) -> None:
    df = _seeds()
    shuffled = df.sample(frac=1.0, random_state=7)
    out = []
    for i, frame in enumerate((df, shuffled, df.iloc[::-1])):
        db = tmp_path / f"o{i}.duckdb"
        rf.refit(frame, law="chinchilla", group_by=["sweep"], db=db, bootstrap=20, seed=3, metric=None,
                 chunk_groups=5, progress=False)
        out.append(_fits(db))
    pd.testing.assert_frame_equal(out[0], out[1])
    pd.testing.assert_frame_equal(out[0], out[2])
    # and the estimate is the least-squares one of the group's rows (order-free)
    from scipy.optimize import least_squares

    g = df[df.sweep == 0]
    N, D, y = (g[c].to_numpy() for c in ("N", "D", "value"))
    ref = least_squares(lambda p: p[0] + p[1] * N**-p[3] + p[2] * D**-p[4] - y, TRUTH, x_scale="jac",
                        xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=20000)
    row = rf.read_fits(db).set_index("sweep").loc[0]
    assert float(row.cost) == pytest.approx(0.5 * np.sum(ref.fun**2), rel=1e-6)
    assert np.asarray(json.loads(row.params), dtype=float) == pytest.approx(ref.x, rel=1e-3)


def test_a_shuffled_source_resumes_without_refitting(tmp_path: Path) -> None:
    df = _seeds()
    db = tmp_path / "o.duckdb"
    rf.refit(df, law="chinchilla", group_by=["sweep"], db=db, metric=None, progress=False)
    again = rf.refit(df.sample(frac=1.0, random_state=1), law="chinchilla", group_by=["sweep"], db=db,
                     metric=None, progress=False)
    assert again.n_fitted == 0 and again.n_skipped == df.sweep.nunique()


def test_which_of_two_rows_of_one_run_and_step_is_kept_does_not_depend_on_order(tmp_path: Path) -> None:
    """A step logged twice (a job restarted after a crash) with two losses: one of them is
    kept, the same one for any order of the rows, and the group's reason names the other."""
    rng = np.random.default_rng(2)
    runs = []
    for sweep in range(6):
        for run in range(12):
            N, D = 10 ** rng.uniform(7.5, 10), 10 ** rng.uniform(9.5, 12)
            E, A, B, a, b = TRUTH
            loss = E + A * N**-a + B * D**-b
            runs.append((sweep, run, 1, N, D, loss * (1 + 0.01 * rng.standard_normal())))
            runs.append((sweep, run, 1, N, D, loss * (1.3 + 0.01 * rng.standard_normal())))  # the re-logged step
    df = pd.DataFrame(runs, columns=["sweep", "run_id", "step", "N", "D", "value"])
    out = []
    for i, frame in enumerate((df, df.sample(frac=1.0, random_state=4), df.iloc[::-1])):
        db = tmp_path / f"d{i}.duckdb"
        rf.refit(frame, law="chinchilla", group_by=["sweep"], db=db, metric=None, bootstrap=10, progress=False)
        out.append(_fits(db))
        reasons = rf.read_fits(db).reason
        assert reasons.str.contains("12 invalid row\\(s\\) skipped: .*duplicates an earlier row").all()
    pd.testing.assert_frame_equal(out[0], out[1])
    pd.testing.assert_frame_equal(out[0], out[2])


def test_compare_runs_scores_do_not_depend_on_row_order(tmp_path: Path) -> None:
    df = _seeds(n_sweeps=6)
    cols = ["group_key", "law", "rss", "aicc", "rank", "data_hash"]
    got = []
    for i, frame in enumerate((df, df.sample(frac=1.0, random_state=5))):
        db = tmp_path / f"c{i}.duckdb"
        rc.compare_refit(frame, ["chinchilla", "chinchilla_tied"], group_by=["sweep"], db=db, metric=None,
                         progress=False)
        got.append(rc.read_comparisons(db)[cols].sort_values(["group_key", "law"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(got[0], got[1])


@pytest.mark.parametrize("name", ["_sf_gid", "_SF_other"])
def test_a_group_column_named_like_an_internal_one_is_refused(tmp_path: Path, name: str) -> None:
    """A group column named ``_sf_gid`` bound the join to itself: nothing was fitted or
    written, and every group was reported as already up to date."""
    df = _seeds(n_sweeps=3).rename(columns={"sweep": name})
    with pytest.raises(ValueError, match=rf"group_by column\(s\) \['{name}'\] start with '_sf_'"):
        rf.refit(df, law="chinchilla", group_by=[name], db=tmp_path / "o.duckdb", metric=None, progress=False)
    assert not (tmp_path / "o.duckdb").exists()


def test_seed_and_ci_method_without_a_bootstrap_make_no_configuration_of_their_own(tmp_path: Path) -> None:
    """With bootstrap=0 nothing is resampled: a refit with seed=5 (or ci_method='bca') was
    stored as another configuration, and a later refit without it was refused ("seed was 5
    and is now 0") though its numbers are the same."""
    df = _seeds(n_sweeps=3)
    db = tmp_path / "o.duckdb"
    first = rf.refit(df, law="chinchilla", group_by=["sweep"], db=db, metric=None, seed=5, ci_method="bca",
                     progress=False)
    again = rf.refit(df, law="chinchilla", group_by=["sweep"], db=db, metric=None, progress=False)
    assert first.n_fitted == 3 and again.n_skipped == 3 and again.config_hash == first.config_hash
    assert set(rf.read_fits(db).seed) == {0}
    with pytest.raises(ValueError, match="seed"):  # still checked
        rf.refit(df, law="chinchilla", group_by=["sweep"], db=db, metric=None, seed=-1, progress=False)
    with pytest.raises(Exception, match="seed \\(--seed\\) was 0 and is now 5"):  # with a bootstrap it counts
        rf.refit(df, law="chinchilla", group_by=["sweep"], db=db, metric=None, seed=5, bootstrap=10,
                 progress=False)


def test_a_boolean_among_numbers_in_an_object_column_is_a_named_bad_row(tmp_path: Path) -> None:
    """An object column of floats holding one True: DuckDB typed the column DOUBLE and the
    refit stopped with "Type BOOLEAN does not match with DOUBLE", naming neither column nor
    row. Now that row is skipped like 'abc' and its group's reason names it; the frame passed
    in is unchanged."""
    df = _seeds(n_sweeps=3, sizes=12, seeds=1)
    df["run_id"] = np.arange(len(df))
    df["N"] = df["N"].astype(object)
    df.loc[5, "N"] = True
    df["value"] = df["value"].astype(object)
    df.loc[3, "value"] = np.bool_(False)
    db = tmp_path / "o.duckdb"
    s = rf.refit(df, law="chinchilla", group_by=["sweep"], db=db, metric=None, progress=False)
    assert s.n_fitted == 3 and s.n_failed == 0
    reasons = rf.read_fits(db).set_index("sweep").reason
    assert reasons[0] == ("2 invalid row(s) skipped: the row with run_id 3: value is not a number: 'False'; "
                          "the row with run_id 5: N is not a number: 'True'")
    assert (reasons[[1, 2]] == "").all()
    assert df.loc[5, "N"] is True and df["N"].dtype == object
    # the other rows of that group are fitted: the same fit as without the two rows
    db2 = tmp_path / "ref.duckdb"
    rf.refit(df.drop(index=[3, 5]).astype({"N": float, "value": float}), law="chinchilla", group_by=["sweep"],
             db=db2, metric=None, progress=False)
    assert rf.read_fits(db).sort_values("sweep").params.tolist() == \
        rf.read_fits(db2).sort_values("sweep").params.tolist()
