"""Defects found by the interoperability audit (stop 38): a group column named like a law's
parameter, a custom law named "none", copies of results of a law made of lambdas, and the
JSON of compare and optimal."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import scalingfit as sf
from scalingfit import cli

pd = pytest.importorskip("pandas")
pytest.importorskip("duckdb")


def _runs(n_sweeps: int = 4, runs: int = 12) -> pd.DataFrame:
    """Noisy Chinchilla sweeps: a grid of N, D per sweep, one batch size B per sweep."""
    rng = np.random.default_rng(3)
    rows = []
    for s in range(n_sweeps):
        N = np.logspace(7, 9, runs)
        D = 20 * N * rng.uniform(0.3, 3, runs)
        L = (1.7 + 400 / N**0.34 + 410 / D**0.28) * np.exp(rng.normal(0, 0.005, runs))
        rows += [dict(sweep=s, B=256 * 2**s, N=n, D=d, value=v) for n, d, v in zip(N, D, L)]
    return pd.DataFrame(rows)


def test_refit_refuses_a_group_column_named_like_a_parameter(tmp_path: Path) -> None:
    """read_fits expands each law's parameters into columns: a group column B (a batch size)
    would have been overwritten by Chinchilla's fitted B. refit refuses it, naming it."""
    from scalingfit.refit import refit

    with pytest.raises(ValueError, match=r"\['B'\] have the name of a parameter of law 'chinchilla'"):
        refit(_runs(), group_by=["B"], db=tmp_path / "f.duckdb", progress=False)
    assert not (tmp_path / "f.duckdb").exists()  # refused before any file was made


def test_read_fits_refuses_to_overwrite_a_group_column(tmp_path: Path) -> None:
    """A table whose group column shares a parameter's name (another law's, or written before
    refit refused it): read_fits raises rather than return the estimates under that name."""
    import duckdb
    from scalingfit.refit import read_fits, refit

    db = tmp_path / "f.duckdb"
    runs = _runs().rename(columns={"B": "alpha_"})
    refit(runs, group_by=["alpha_"], db=db, progress=False)
    with duckdb.connect(str(db)) as con:  # as a table of another law would be: rename the column
        con.execute('ALTER TABLE fits RENAME COLUMN alpha_ TO "alpha"')
    with pytest.raises(ValueError, match=r"group column\(s\) \['alpha'\] named like parameters"):
        read_fits(db)
    with duckdb.connect(str(db), read_only=True) as con:  # the batch sizes are in the table as they were
        assert sorted(v for (v,) in con.execute('SELECT "alpha" FROM fits').fetchall()) == [256, 512, 1024, 2048]


def test_register_law_refuses_the_name_none() -> None:
    """compare_refit counts the groups no law won under "none": a law of that name would have
    its wins overwritten (and the CLI's exit status read from them)."""
    from scalingfit.refit import LAWS, register_law

    m = sf.CustomModel(lambda x, p: p[:, 0] * x[:, 0] ** -p[:, 1], ("a", "b"), name="none")
    with pytest.raises(ValueError, match="law name 'none' is reserved"):
        register_law("none", m, ("N",), [[1.0, 0.3]])
    assert "none" not in LAWS


def _lambda_fit() -> tuple[sf.CustomModel, np.ndarray, np.ndarray]:
    m = sf.CustomModel(lambda x, p: p[:, 0] * x[:, 0] ** -p[:, 1], ("a", "b"))
    x = np.logspace(1, 3, 10)
    return m, x, 3 * x**-0.5 * (1 + 0.01 * np.sin(x))


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_copies_keep_a_custom_model_of_lambdas(how) -> None:
    """Pickling drops a model made of lambdas (it cannot be pickled); copy and deepcopy have no
    such reason, and the copy predicts as the original: a * x^-b at the fitted a, b."""
    m, x, y = _lambda_fit()
    r = sf.fit(m, x, y, p0=[1, 0.3])
    c = how(r)
    a, b = c.params["a"], c.params["b"]
    assert c.predict(100.0) == pytest.approx(a * 100.0**-b, rel=1e-14)
    assert c.params == r.params and c.custom_model is m
    boot = sf.bootstrap(m, x, y, n_resamples=20, seed=1, p0=[1, 0.3])
    cb = how(boot)
    np.testing.assert_array_equal(cb.predict(100.0).estimate, boot.predict(100.0).estimate)
    if how is copy.deepcopy:  # the arrays are copies, read-only as the original's
        assert cb.batch.samples is not boot.batch.samples and not cb.batch.samples.flags.writeable
    with pytest.raises(ValueError, match="does not hold its custom model"):
        pickle.loads(pickle.dumps(r)).predict(100.0)  # pickled: dropped, as documented


def test_source_of_a_wrong_type_is_shown_briefly() -> None:
    """A dict of the whole data passed as a refit source: the error shows its type and the
    start of its repr, not a message as long as the data."""
    from scalingfit.data import source_path

    with pytest.raises(TypeError, match=r"got dict \{'N': \[0, 1, 2,") as e:
        source_path({"N": list(range(10_000))})
    assert len(str(e.value)) < 200


def test_groups_nan_label_message_is_plain() -> None:
    x = np.logspace(7, 9, 8)
    groups = np.array([0, 0, 1, 1, np.nan, 2, 2, 3])
    with pytest.raises(ValueError, match=r"groups\[4\] = nan$"):
        sf.bootstrap("power_law", x, 2 * x**-0.1, n_resamples=10, groups=groups, scheme="groups",
                     method="percentile")


def _csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = np.logspace(7, 10, 14)
    y = (1.8 + 300 * x**-0.3) * np.exp(rng.normal(0, 0.01, x.size))
    path.write_text("x,y,sweep\n" + "".join(f"{float(a)!r},{float(b)!r},{i % 2}\n" for i, (a, b) in enumerate(zip(x, y))))
    return path


def test_compare_json_records_f_scale(tmp_path: Path, capsys) -> None:
    """compare --json records the objective: loss and f_scale (as fit --json does), also with
    --group-by; the value is the one given (1 by default)."""
    csv = _csv(tmp_path / "r.csv")
    models = "power_law,saturating_power_law"
    cli.main(["compare", str(csv), "--models", models, "--x", "x", "--y", "y", "--loss", "huber",
              "--f-scale", "0.05", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert (out["loss"], out["f_scale"]) == ("huber", 0.05)
    cli.main(["compare", str(csv), "--models", models, "--x", "x", "--y", "y", "--group-by", "sweep", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert (out["loss"], out["f_scale"]) == ("linear", 1.0)
