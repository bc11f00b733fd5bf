"""Refitting a run database with a custom law (``refit.register_law``): every group fitted from
the registered starts by the numpy solver, stored and resumed like a built-in law. References:
scipy's least_squares on a group's final losses, and the built-in ``chinchilla`` law refitted
on the same database (the same law in C++; with a bootstrap, the same resamples)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scalingfit import CustomModel

pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
from scalingfit import _synthdb
from scalingfit import refit as rf

NAMES = ["E", "A", "B", "alpha", "beta"]
STARTS = [[1.7, 400.0, 400.0, 0.34, 0.28], [2.0, 1000.0, 1000.0, 0.3, 0.3]]


def chin(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]


def chin_jac(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    a, b = x[:, 0] ** -p[:, 3], x[:, 1] ** -p[:, 4]
    return np.column_stack([np.ones_like(a), a, b, -p[:, 1] * a * np.log(x[:, 0]), -p[:, 2] * b * np.log(x[:, 1])])


MODEL = CustomModel(chin, tuple(NAMES), 2, jac=chin_jac, name="chin_np")


@pytest.fixture
def law() -> Iterator[str]:
    rf.register_law("chin_np", MODEL, ("N", "D"), STARTS, description="Chinchilla in numpy")
    yield "chin_np"
    rf.LAWS.pop("chin_np", None)


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return _synthdb.chinchilla_sweeps(40, runs=30, checkpoints=2, noise=0.01, seed=3)[0]


def _params(db: Path, law: str) -> pd.DataFrame:
    return rf.read_fits(db, law=law).sort_values("sweep").reset_index(drop=True)


def test_a_custom_law_refits_like_the_builtin_and_like_scipy(law: str, runs: pd.DataFrame, tmp_path: Path) -> None:
    """Each group's stored parameters: within 1e-5 of the built-in law's refit of the same
    database, and of scipy's least_squares on that group's final losses (3 groups checked);
    the model column names the custom model."""
    so = pytest.importorskip("scipy.optimize")
    db = tmp_path / "r.duckdb"
    s = rf.refit(runs, law=law, group_by=["sweep"], db=db, progress=False)
    assert (s.n_fitted, s.n_failed) == (40, 0)
    assert 0 < s.seconds_in_fit <= s.seconds  # the numpy solver's time is the fits' (it read 0)
    rf.refit(runs, law="chinchilla", group_by=["sweep"], db=db, progress=False)
    a, b = _params(db, law), _params(db, "chinchilla")
    assert (a["model"] == "chin_np").all() and a["success"].all() and b["success"].all()
    np.testing.assert_allclose(a[NAMES].to_numpy(), b[NAMES].to_numpy(), rtol=1e-5)
    final = runs.sort_values("step").groupby(["sweep", "run_id"]).tail(1)
    for sweep in (0, 17, 39):
        g = final[final.sweep == sweep]
        N, D, L = g.N.to_numpy(), g.D.to_numpy(), g.value.to_numpy()
        ref = so.least_squares(lambda p: p[0] + p[1] * N ** -p[3] + p[2] * D ** -p[4] - L, STARTS[0],
                               method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
        np.testing.assert_allclose(a.loc[a.sweep == sweep, NAMES].to_numpy()[0], ref.x, rtol=1e-5)


def test_resume_and_a_changed_function_refits(law: str, runs: pd.DataFrame, tmp_path: Path) -> None:
    """A second refit resumes (0 fitted), also with the law registered again from the same
    function; a law whose function changed (another formula under the same name) has another
    configuration hash and refits every group instead of resuming with stale fits."""
    db = tmp_path / "r.duckdb"
    first = rf.refit(runs, law=law, group_by=["sweep"], db=db, progress=False)
    again = rf.refit(runs, law=law, group_by=["sweep"], db=db, progress=False)
    assert (again.n_fitted, again.n_skipped) == (0, 40) and again.config_hash == first.config_hash
    rf.register_law(law, CustomModel(chin, tuple(NAMES), 2, jac=chin_jac, name="chin_np"), ("N", "D"),
                    STARTS, description="Chinchilla in numpy", replace=True)
    same = rf.refit(runs, law=law, group_by=["sweep"], db=db, progress=False)
    assert same.n_fitted == 0 and same.config_hash == first.config_hash

    def chin2(x: np.ndarray, p: np.ndarray) -> np.ndarray:  # another formula: E + (A/N^a + B/D^b)
        return p[:, 0] + (p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]) * 1.0

    rf.register_law(law, CustomModel(chin2, tuple(NAMES), 2, jac=chin_jac, name="chin_np"), ("N", "D"), STARTS,
                    description="Chinchilla in numpy", replace=True)
    with pytest.raises(rf.data.RunDataError, match="overwrite") as err:  # another config under the same law
        rf.refit(runs, law=law, group_by=["sweep"], db=db, progress=False)
    # the message says the user's own edit may be why, not only another build of scalingfit
    assert "the custom law 'chin_np' changed (its code" in str(err.value) and "for 40 group(s)" in str(err.value)
    changed = rf.refit(runs, law=law, group_by=["sweep"], db=db, progress=False, overwrite=True)
    assert changed.config_hash != first.config_hash and changed.n_fitted == 40


def test_bootstrap_intervals_match_the_builtin_law(law: str, runs: pd.DataFrame, tmp_path: Path) -> None:
    """With a bootstrap each group's resamples are named by its key and the seed, whatever the
    law: the custom law's stored 95% intervals agree with the built-in law's to 1e-5."""
    import json

    db = tmp_path / "r.duckdb"
    sub = runs[runs.sweep < 8]
    rf.refit(sub, law=law, group_by=["sweep"], db=db, progress=False, bootstrap=40, seed=5)
    rf.refit(sub, law="chinchilla", group_by=["sweep"], db=db, progress=False, bootstrap=40, seed=5)
    a, b = _params(db, law), _params(db, "chinchilla")
    for col in ("ci_low", "ci_high"):
        np.testing.assert_allclose(np.array([json.loads(v) for v in a[col]]),
                                   np.array([json.loads(v) for v in b[col]]), rtol=1e-5)
    assert (a["n_boot"] == 40).all()


def test_register_law_refuses_what_it_cannot_use(law: str) -> None:
    with pytest.raises(ValueError, match="'chinchilla' is already registered \\(a built-in law\\)"):
        rf.register_law("chinchilla", MODEL, ("N", "D"), STARTS)
    with pytest.raises(ValueError, match="'chin_np' is already registered; pass replace=True"):
        rf.register_law(law, MODEL, ("N", "D"), STARTS)
    with pytest.raises(TypeError, match="model must be a scalingfit.CustomModel"):
        rf.register_law("x", "chinchilla", ("N", "D"), STARTS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"inputs names 1 column\(s\) \('N',\); 'chin_np' has n_inputs=2"):
        rf.register_law("x", MODEL, ("N",), STARTS)
    with pytest.raises(ValueError, match="fit_kwargs: unknown option"):
        rf.register_law("x", MODEL, ("N", "D"), STARTS, fit_kwargs={"bootstrap": 3})
    with pytest.raises(ValueError, match="starts must have 5 entries"):
        rf.register_law("x", MODEL, ("N", "D"), [1.0, 2.0])
    assert "x" not in rf.LAWS



_LAWS_FILE = '''
import numpy as np
import scalingfit
from scalingfit.refit import register_law


def chin(x, p):
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 3] + p[:, 2] * x[:, 1] ** -p[:, 4]


register_law("chin_file", scalingfit.CustomModel(chin, ("E", "A", "B", "alpha", "beta"), 2, name="chin_file"),
             ("N", "D"), [[1.7, 400.0, 400.0, 0.34, 0.28]])
'''


@pytest.fixture
def laws_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "mylaws.py"
    path.write_text(_LAWS_FILE)
    yield path
    rf.LAWS.pop("chin_file", None)


def test_the_cli_refits_a_law_a_file_registers(laws_file: Path, runs: pd.DataFrame, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """scalingfit refit --laws-from FILE.py --law NAME: the file's law fits every group, to
    the built-in chinchilla's parameters within 1e-5 (the same law, no Jacobian given); a
    second run resumes (the configuration hash is the same in a new import of the file)."""
    from scalingfit import cli

    src, db = tmp_path / "runs.csv", tmp_path / "fits.duckdb"
    runs.to_csv(src, index=False)
    args = ["refit", str(src), "--db", str(db), "--law", "chin_file", "--laws-from", str(laws_file), "--quiet", "--json"]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert '"n_fitted": 40' in first
    rf.LAWS.pop("chin_file")
    assert cli.main(args) == 0
    assert '"n_fitted": 0' in capsys.readouterr().out
    rf.refit(runs, law="chinchilla", group_by=["sweep"], db=db, progress=False)
    a, b = _params(db, "chin_file"), _params(db, "chinchilla")
    assert (a["model"] == "chin_file").all() and a["success"].all()
    np.testing.assert_allclose(a[NAMES].to_numpy(), b[NAMES].to_numpy(), rtol=1e-5)


def test_the_cli_names_a_missing_or_broken_laws_file(laws_file: Path, runs: pd.DataFrame, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --law lists the built-in laws and says how to add one; a --laws-from that is
    missing, not importable, or raises names the file and the line of its error."""
    from scalingfit import cli

    src = tmp_path / "runs.csv"
    runs.head(60).to_csv(src, index=False)
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\ny = undefined_name + 1\n")
    cases = [
        ([], 2, r"--law 'chin_file' is not a law: built-in chinchilla, .*needs --laws-from FILE\.py"),
        (["--laws-from", str(laws_file), "--law", "nope"], 2, r"--law 'nope' is not a law.* registered by --laws-from: chin_file"),
        (["--laws-from", str(tmp_path / "missing.py")], 1, r"--laws-from .*missing\.py: no such file"),
        (["--laws-from", "no_such_module_xyz.laws"], 2, r"no such module"),
        (["--laws-from", str(broken)], 1, r"NameError: name 'undefined_name' is not defined \(.*broken\.py, line 2\)"),
    ]
    for extra, rc, message in cases:
        argv = ["refit", str(src), "--db", str(tmp_path / "f.duckdb"), "--law", "chin_file", "--quiet", *extra]
        assert cli.main(argv) == rc, extra
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and re.search(message, err), err
        rf.LAWS.pop("chin_file", None)


def test_a_closure_value_changed_after_registration_refits(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A law closing over an array whose value is edited after register_law computes another
    function: the configuration hash changes and every group is refitted (a fingerprint taken
    once at registration resumed the stale fits), to the shifted law's parameters (E + 0.5)."""
    shift = np.array([0.0])

    def shifted(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return chin(x, p) + shift[0]

    rf.register_law("chin_shift", CustomModel(shifted, tuple(NAMES), 2, name="chin_shift"), ("N", "D"), STARTS)
    try:
        db = tmp_path / "r.duckdb"
        first = rf.refit(runs, law="chin_shift", group_by=["sweep"], db=db, progress=False)
        before = _params(db, "chin_shift")
        shift[0] = 0.5
        again = rf.refit(runs, law="chin_shift", group_by=["sweep"], db=db, progress=False, overwrite=True)
        assert again.config_hash != first.config_hash and again.n_fitted == 40
        after = _params(db, "chin_shift")
        np.testing.assert_allclose(after["E"], before["E"] - 0.5, rtol=1e-6)
    finally:
        rf.LAWS.pop("chin_shift", None)


def test_a_pickled_comparison_config_keeps_its_custom_law_through_replace(law: str) -> None:
    """A Dask task's configuration arrives pickled with its custom law as bytes; a copy made
    with dataclasses.replace must still know that law (it lost it when the bytes were set
    outside the dataclass's fields) and hash like the original with the same settings."""
    import dataclasses
    import pickle

    from scalingfit import refit_compare as rc

    config = rc._config(laws=[law, "chinchilla"], inputs=None, group_by=("sweep",), metric="loss",
                        loss="linear", f_scale=1.0, log_residuals=False, loo=False, starts="all")
    back = pickle.loads(pickle.dumps(config))
    assert back.custom == () and set(back.specs()) == {law}
    copy = dataclasses.replace(back, loo=True)
    assert copy.loo and set(copy.specs()) == {law}
    assert copy.model(law).param_names == tuple(NAMES)
    assert dataclasses.replace(back).config_hash() == config.config_hash()
    assert copy.config_hash() != config.config_hash()
