"""compare-runs / compare_refit, two more things: the failed fits named (group, law, reason) in
the Python API, the CLI text and its --json; and custom laws (``refit.register_law``, CLI
``--laws-from``) compared with the built-in ones. References: scipy's least_squares on each
group's final losses with AICc from its closed form, and the custom law refitted by
``scalingfit.refit`` on the same database."""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("duckdb")

from scalingfit import CustomModel, _synthdb, cli
from scalingfit import refit as rf
from scalingfit import refit_compare as rc

NAMES = ("E", "A", "B", "alpha", "beta")
STARTS = [[1.7, 400.0, 400.0, 0.34, 0.28], [2.0, 1000.0, 1000.0, 0.3, 0.3]]


def chin(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]


def chin_jac(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    a, b = x[:, 0] ** -p[:, 3], x[:, 1] ** -p[:, 4]
    return np.column_stack([np.ones_like(a), a, b, -p[:, 1] * a * np.log(x[:, 0]), -p[:, 2] * b * np.log(x[:, 1])])


def chin_nan(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Chinchilla, but NaN at N above 5e10 (only sweep 2 has such a run)."""
    return np.where(x[:, 0] > 5e10, np.nan, chin(x, p))


@pytest.fixture
def laws() -> Iterator[None]:
    """chin_np: Chinchilla in numpy, two starts; chin_e: E held at 1.69 by its bounds (4 free
    parameters), one start; chin_nan: NaN where N > 5e10."""
    rf.register_law("chin_np", CustomModel(chin, NAMES, 2, jac=chin_jac, name="chin_np"), ("N", "D"), STARTS)
    rf.register_law("chin_e", CustomModel(chin, NAMES, 2, name="chin_e"), ("N", "D"), STARTS[0],
                    fit_kwargs={"bounds": {"E": (1.69, 1.69)}})
    rf.register_law("chin_nan", CustomModel(chin_nan, NAMES, 2, name="chin_nan"), ("N", "D"), STARTS[0])
    yield
    for n in ("chin_np", "chin_e", "chin_nan", "chin_shift", "chin_log", "chin_all", "chin_cols",
              "chinchilla_tied", "chin_file"):
        rf.LAWS.pop(n, None)


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    """10 sweeps of 20 runs (2 checkpoints); sweep 5 keeps 3 runs (too few points for any law);
    sweep 2 gains a run at N = 1e11 (where chin_nan is NaN)."""
    r = _synthdb.chinchilla_sweeps(10, runs=20, checkpoints=2, noise=0.01, seed=7)[0]
    r = r[(r.sweep != 5) | (r.run_id % 20 < 3)].copy()
    big = r[(r.sweep == 2) & (r.run_id == 40)].copy()
    big["run_id"], big["N"] = 10_000, 1e11
    return pd.concat([r, big], ignore_index=True)


@pytest.fixture
def src(runs: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(path), runs)
    return path


def _final(runs: pd.DataFrame, sweep: int) -> pd.DataFrame:
    return runs[runs.sweep == sweep].sort_values(["run_id", "step"]).groupby("run_id").tail(1)


def _scipy_fit(g: pd.DataFrame, start: list[float], fixed_e: float | None = None) -> tuple[np.ndarray, float]:
    """(parameters, RSS) of least squares on a group's final losses, from ``start``."""
    so = pytest.importorskip("scipy.optimize")
    N, D, L = g.N.to_numpy(), g.D.to_numpy(), g.value.to_numpy()
    if fixed_e is None:
        def res(p: np.ndarray) -> np.ndarray:
            return p[0] + p[1] * N ** -p[3] + p[2] * D ** -p[4] - L
        p0 = start
    else:
        def res(p: np.ndarray) -> np.ndarray:
            return fixed_e + p[0] * N ** -p[2] + p[1] * D ** -p[3] - L
        p0 = start[1:]
    r = so.least_squares(res, p0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
    x = r.x if fixed_e is None else np.concatenate([[fixed_e], r.x])
    return x, float(np.sum(r.fun ** 2))


def _aicc(rss: float, n: int, k: int) -> float:
    """AICc of a Gaussian least-squares fit of ``k`` free parameters (the noise's variance one more)."""
    q = k + 1
    ll = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1.0)
    return 2 * q - 2 * ll + 2 * q * (q + 1) / (n - q - 1)


# ------------------------------------------------------------------ failed fits named
def test_failed_fits_names_each_group_and_law_with_its_reason(laws, src: Path, tmp_path: Path) -> None:
    """Sweep 5 (3 points) fails for every law with "too few points"; sweep 2 fails for
    chin_nan alone (its NaN), not for chinchilla; no other fit fails; another comparison's
    failures in the same database are not this one's."""
    db = tmp_path / "s.duckdb"
    s = rc.compare_refit(src, ["chinchilla", "chin_nan"], db=db, progress=False)
    assert (s.n_groups, s.n_scored, s.wins["none"]) == (10, 10, 1)
    n, rows = rc.failed_fits(db, s.comparison, s.config_hash, limit=20)
    assert n == 3 and [(r["group_key"], r["law"]) for r in rows] == [
        ("[2]", "chin_nan"), ("[5]", "chin_nan"), ("[5]", "chinchilla")]
    assert rows[2]["reason"] == "too few points (3) for 5 parameters"
    assert rows[0]["reason"] == "" and rows[0]["message"] == "model or cost is not finite at the starting point"
    t = rc.read_comparisons(db, s.comparison).set_index(["sweep", "law"])
    assert bool(t.loc[(2, "chinchilla"), "success"]) and not bool(t.loc[(2, "chin_nan"), "success"])
    assert t.loc[(2, "chin_nan"), "message"] == rows[0]["message"]
    n1, first = rc.failed_fits(db, s.comparison, s.config_hash, limit=1)
    assert n1 == 3 and first == rows[:1]
    other = rc.compare_refit(src, ["chinchilla", "kaplan_nd"], db=db, progress=False)
    n2, rows2 = rc.failed_fits(db, other.comparison, other.config_hash, limit=20)
    assert n2 == 2 and {r["law"] for r in rows2} == {"chinchilla", "kaplan_nd"}
    assert {r["group_key"] for r in rows2} == {"[5]"}
    assert rc.failed_fits(db, s.comparison, "0" * 16)[0] == 0  # another configuration has none


_LAWS_FILE = '''
import numpy as np
import scalingfit
from scalingfit.refit import register_law


def chin_nan(x, p):
    v = p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]
    return np.where(x[:, 0] > 5e10, np.nan, v)


register_law("chin_file", scalingfit.CustomModel(chin_nan, ("E", "A", "B", "alpha", "beta"), 2, name="chin_file"),
             ("N", "D"), [[1.7, 400.0, 400.0, 0.34, 0.28], [2.0, 1000.0, 1000.0, 0.3, 0.3]])
'''


def test_cli_names_the_failed_groups_in_text_and_json(src: Path, tmp_path: Path, capsys) -> None:
    """compare-runs --laws-from FILE.py --models chinchilla,chin_file: the text summary lists
    each failed (group, law) with its message and reason, --json has them as failed_groups
    (with n_failed_fits); exit status 1 (sweep 5 has no winner)."""
    laws_file = tmp_path / "my_laws.py"
    laws_file.write_text(_LAWS_FILE)
    db = tmp_path / "s.duckdb"
    argv = ["compare-runs", str(src), "--db", str(db), "--laws-from", str(laws_file),
            "--models", "chinchilla,chin_file"]
    try:
        assert cli.main([*argv, "--quiet", "--json"]) == 1
        out = json.loads(capsys.readouterr().out)
        assert out["n_scored"] == 10 and out["wins"]["none"] == 1 and out["n_failed_fits"] == 3
        got = [(f["group_key"], f["law"], f["reason"]) for f in out["failed_groups"]]
        assert got == [("[2]", "chin_file", ""), ("[5]", "chin_file", "too few points (3) for 5 parameters"),
                       ("[5]", "chinchilla", "too few points (3) for 5 parameters")]
        assert out["failed_groups"][0]["message"] == "model or cost is not finite at the starting point"
        rf.LAWS.pop("chin_file")  # the file registers it again (another process, in use)
        assert cli.main(argv) == 1  # resumed: the table's failures are named all the same
        text, err = capsys.readouterr()
        assert "Traceback" not in err and "error" not in err.lower()
        assert "0 groups scored" in text and "10 already up to date" in text
        assert "failed fits of this configuration: 3 (all: scalingfit.refit_compare.read_comparisons(" in text
        lines = [ln.strip() for ln in text.splitlines() if ln.startswith("  group ")]
        assert len(lines) == 3 and lines[0].startswith("group [2], chin_file: ")
        assert lines[2] == ("group [5], chinchilla: " + out["failed_groups"][2]["message"]
                            + "; too few points (3) for 5 parameters")
    finally:
        rf.LAWS.pop("chin_file", None)


def test_cli_json_without_failures_has_an_empty_list(src: Path, runs: pd.DataFrame, tmp_path: Path,
                                                     capsys) -> None:
    ok = tmp_path / "ok.duckdb"
    _synthdb.write_duckdb(str(ok), runs[runs.sweep != 5])
    assert cli.main(["compare-runs", str(ok), "--models", "chinchilla,kaplan_nd", "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["failed_groups"] == [] and out["n_failed_fits"] == 0
    assert cli.main(["compare-runs", str(ok), "--models", "chinchilla,kaplan_nd"]) == 0
    assert "failed fits" not in capsys.readouterr().out


# ------------------------------------------------------------------ custom laws
def test_a_custom_law_scores_as_scipy_and_as_its_refit(laws, src: Path, runs: pd.DataFrame,
                                                       tmp_path: Path) -> None:
    """chin_np (two starts) and chin_e (E held by its bounds) beside the built-in chinchilla:
    each group's parameters within 1e-5 of scipy's least squares on its final losses and of
    ``refit`` with the same law; k the free parameters (5 and 4); RSS and AICc as their closed
    forms from scipy's fit; the built-in and the same law in numpy score alike."""
    db = tmp_path / "s.duckdb"
    laws_ = ["chinchilla", "chin_np", "chin_e"]
    s = rc.compare_refit(src, laws_, db=db, progress=False)
    assert (s.n_groups, s.n_scored, s.wins["none"]) == (10, 10, 1)
    t = rc.read_comparisons(db, laws_).set_index(["sweep", "law"])
    assert (t.xs("chin_np", level="law")["k"] == 5).all() and (t.xs("chin_e", level="law")["k"] == 4).all()
    rf.refit(src, law="chin_np", group_by=["sweep"], db=db, progress=False)
    rf.refit(src, law="chin_e", group_by=["sweep"], db=db, progress=False)
    for law, fixed_e in (("chin_np", None), ("chin_e", 1.69)):
        fits = rf.read_fits(db, law=law).set_index("sweep")
        for sweep in (0, 2, 9):
            g = _final(runs, sweep)
            n = len(g)
            ref, rss = _scipy_fit(g, STARTS[0], fixed_e)
            row = t.loc[(sweep, law)]
            got = np.array(json.loads(row["params"]), dtype=float)
            np.testing.assert_allclose(got, ref, rtol=1e-5)
            np.testing.assert_allclose(got, fits.loc[sweep, list(NAMES)].to_numpy(float), rtol=1e-6)
            assert row["n_points"] == n
            np.testing.assert_allclose(row["rss"], rss, rtol=1e-6)
            np.testing.assert_allclose(row["aicc"], _aicc(rss, n, 5 if fixed_e is None else 4), rtol=0, atol=1e-5)
    a, b = (t.xs(law, level="law")["aicc"].to_numpy(float) for law in ("chinchilla", "chin_np"))
    assert np.isfinite(a).sum() == 9
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)  # NaN at the same place (sweep 5)
    assert t.loc[(5, "chin_e"), "reason"] == "too few points (3) for 4 parameters"


def test_custom_law_resumes_and_an_edited_law_scores_again(laws, src: Path, tmp_path: Path) -> None:
    """A rerun scores nothing (also with the law registered again from the same function); a
    law whose closure value changed has another configuration hash: refused without overwrite,
    naming the custom laws' definitions; with it, every group scored again, to E + 0.5."""
    shift = np.array([0.0])

    def shifted(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return chin(x, p) + shift[0]

    def register() -> None:
        rf.register_law("chin_shift", CustomModel(shifted, NAMES, 2, name="chin_shift"), ("N", "D"), STARTS,
                        replace=True)

    register()
    db = tmp_path / "s.duckdb"
    laws_ = ["chinchilla", "chin_shift"]
    first = rc.compare_refit(src, laws_, db=db, progress=False)
    assert (first.n_scored, first.n_skipped) == (10, 0)
    again = rc.compare_refit(src, laws_, db=db, progress=False)
    assert (again.n_scored, again.n_skipped, again.config_hash) == (0, 10, first.config_hash)
    register()
    assert rc.compare_refit(src, laws_, db=db, progress=False).n_scored == 0
    before = rc.read_comparisons(db, laws_).set_index(["sweep", "law"])
    shift[0] = 0.5
    with pytest.raises(Exception, match=r"for 10 group\(s\), the custom law\(s\) chin_shift changed \(their code, "
                                        r"parameters, bounds, starts or options\)\. .*pass overwrite=True"):
        rc.compare_refit(src, laws_, db=db, progress=False)
    changed = rc.compare_refit(src, laws_, db=db, progress=False, overwrite=True)
    assert changed.config_hash != first.config_hash and (changed.n_scored, changed.n_skipped) == (10, 0)
    after = rc.read_comparisons(db, laws_).set_index(["sweep", "law"])
    for sweep in (0, 3):
        e0 = json.loads(before.loc[(sweep, "chin_shift"), "params"])[0]
        e1 = json.loads(after.loc[(sweep, "chin_shift"), "params"])[0]
        assert e1 == pytest.approx(e0 - 0.5, rel=1e-6)
    assert set(after["config_hash"]) == {changed.config_hash}


def test_what_a_custom_law_cannot_be_compared_with_is_refused(laws, src: Path, tmp_path: Path) -> None:
    """Before any file is made: an objective the law fixes unlike the comparison's, its rows,
    its columns, a name of a built-in model too, and an unknown law (naming the registered)."""
    rf.register_law("chin_log", CustomModel(chin, NAMES, 2, name="chin_log"), ("N", "D"), STARTS,
                    fit_kwargs={"log_residuals": True})
    rf.register_law("chin_all", CustomModel(chin, NAMES, 2, name="chin_all"), ("N", "D"), STARTS, reduce="all")
    rf.register_law("chin_cols", CustomModel(chin, NAMES, 2, name="chin_cols"), ("params", "tokens"), STARTS)
    rf.register_law("chinchilla_tied", CustomModel(chin, NAMES, 2, name="tied"), ("N", "D"), STARTS)
    db = tmp_path / "s.duckdb"
    cases = [
        (dict(laws=["chinchilla", "chin_log"]),
         r"'chin_log' is registered with log_residuals=True.*pass log_residuals \(--log-residuals\) True"),
        (dict(laws=["chinchilla", "chin_all"]), r"'chin_all' is registered with reduce='all'.*rows \(--rows\) 'all'"),
        (dict(laws=["chinchilla", "chin_cols"], inputs=["N", "D"]),
         r"'chin_cols' is registered on the columns params, tokens"),
        (dict(laws=["chin_np", "chin_cols"]), r"registered on different columns"),
        (dict(laws=["chinchilla", "chinchilla_tied"]), r"name both a built-in model and a registered custom law"),
        (dict(laws=["chinchilla", "nope"]), r"unknown law\(s\) \['nope'\].*custom laws registered: .*chin_np"),
    ]
    for kw, message in cases:
        with pytest.raises(ValueError, match=message):
            rc.compare_refit(src, db=db, progress=False, **kw)
    assert not db.exists()
    # as registered, it is compared
    assert rc.compare_refit(src, ["chinchilla", "chin_log"], db=db, log_residuals=True, progress=False).n_scored == 10


def test_cli_unknown_custom_law_says_how_to_add_one(src: Path, tmp_path: Path, capsys) -> None:
    assert cli.main(["compare-runs", str(src), "--db", str(tmp_path / "s.duckdb"),
                     "--models", "chinchilla,chin_file", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"--models: unknown law\(s\) \['chin_file'\].*register_law \(CLI: --laws-from FILE\.py\)\n$", err), err
    assert not (tmp_path / "s.duckdb").exists()


def test_a_pickled_configuration_carries_its_custom_law(laws) -> None:
    """As a Dask task's argument: the custom law travels as bytes, rebuilt on first use with
    the driver's code fingerprints (the same configuration hash); a configuration of built-in
    laws pickles as before; bytes that cannot be rebuilt fail with the law's name."""
    cfg = rc._config(laws=["chinchilla", "chin_np"], inputs=None, group_by=["sweep"], metric="loss",
                     loss="linear", f_scale=1.0, log_residuals=False, loo=False, starts="all")
    back = pickle.loads(pickle.dumps(cfg))
    assert back.custom == () and back.config_hash() == cfg.config_hash()
    assert back.specs()["chin_np"].starts == rf.LAWS["chin_np"].starts
    builtin = rc._config(laws=["chinchilla", "kaplan_nd"], inputs=None, group_by=["sweep"], metric="loss",
                         loss="linear", f_scale=1.0, log_residuals=True, loo=False, starts="all")
    assert pickle.loads(pickle.dumps(builtin)).config_hash() == builtin.config_hash()
    broken = rc._unpickled_config({k: getattr(cfg, k) for k in ("laws", "inputs", "group_by")},
                                  (("chin_np", b"not a pickle"),))
    with pytest.raises(RuntimeError, match="custom law 'chin_np' cannot be rebuilt on the worker"):
        broken.config_hash()


# ------------------------------------------------------------------ on a Dask cluster
@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes (as tests/test_dask.py's)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, memory_limit="768MiB",
                                       dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"})
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _scores(db: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * EXCLUDE (fitted_at) FROM law_comparisons ORDER BY group_key, law").df()


def _registered(name: str) -> bool:
    import scalingfit.refit

    return name in scalingfit.refit.LAWS


def test_a_custom_law_from_a_file_is_compared_on_the_cluster_as_locally(client, runs: pd.DataFrame,
                                                                        tmp_path: Path) -> None:
    """A law registered by a file (--laws-from) that the workers cannot import: each task
    carries it, the scores equal the local comparison's under the same configuration hash (its
    failed fits too), a rerun resumes, and no worker's registry gains the law."""
    path = tmp_path / "cluster_laws.py"
    path.write_text(_LAWS_FILE)
    local, dask = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    for p in (local, dask):
        _synthdb.write_duckdb(str(p), runs)
    cli._import_laws(str(path))
    try:
        laws_ = ["chinchilla", "chin_file"]
        a = rc.compare_refit(local, laws_, chunk_groups=4, progress=False)
        b = rc.compare_refit(dask, laws_, chunk_groups=4, progress=False, client=client)
        assert (b.n_scored, b.n_chunks, b.config_hash) == (10, 3, a.config_hash)
        pd.testing.assert_frame_equal(_scores(local), _scores(dask), check_exact=True)
        assert rc.failed_fits(dask, b.comparison, b.config_hash, 20) == rc.failed_fits(local, a.comparison,
                                                                                       a.config_hash, 20)
        assert rc.compare_refit(dask, laws_, chunk_groups=4, progress=False, client=client).n_skipped == 10
        assert not any(client.run(_registered, "chin_file").values())
    finally:
        rf.LAWS.pop("chin_file", None)


def test_a_custom_law_the_workers_cannot_import_is_one_error_not_a_hang(client, runs: pd.DataFrame,
                                                                        tmp_path: Path) -> None:
    """A law whose functions live in a module only the driver can import (pickled by
    reference): the first task says so, naming the law and the way out."""
    import importlib
    import sys

    folder = tmp_path / "only_here"
    folder.mkdir()
    (folder / "cmp_laws_only_here.py").write_text(_LAWS_FILE.replace("chin_file", "chin_here"))
    sys.path.insert(0, str(folder))
    src = tmp_path / "r.duckdb"
    _synthdb.write_duckdb(str(src), runs)
    try:
        importlib.import_module("cmp_laws_only_here")
        with pytest.raises(RuntimeError, match=r"custom law 'chin_here' cannot be rebuilt on the worker .*"
                                               r"No module named 'cmp_laws_only_here'.*register_pickle_by_value"):
            rc.compare_refit(src, ["chinchilla", "chin_here"], client=client, progress=False)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("cmp_laws_only_here", None)
        rf.LAWS.pop("chin_here", None)
