"""Mutation round 4, scalingfit.refit: behaviours of today's code that no test pinned (each
test here fails on a specific mutant of the code: a dropped condition, a lost name check, a
count taken after the limit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
import scalingfit
from scalingfit import _synthdb, data
from scalingfit import refit as rf


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return _synthdb.chinchilla_sweeps(4, runs=12, checkpoints=2, seed=1)[0]


def _sat(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[:, 0] + p[:, 1] * x[:, 0] ** -p[:, 2]


def test_law_spec_finds_a_shipped_law_only_by_its_own_name() -> None:
    """Inside shipped_law(spec) the spec answers for its own name; every other name is still
    the registry's law (a task carrying one custom law must not turn 'chinchilla' into it),
    and after the block the name is unknown again."""
    spec = rf.LawSpec("mut_r4_shipped", scalingfit.CustomModel(_sat, ("E", "A", "alpha"), 1,
                                                             name="mut_r4_shipped"),
                      ("N",), starts=((1.0, 10.0, 0.5),))
    assert "mut_r4_shipped" not in rf.LAWS
    with rf.shipped_law(spec):
        assert rf.law_spec("mut_r4_shipped") is spec
        assert rf.law_spec("chinchilla") is rf.LAWS["chinchilla"]
        assert rf.law_spec("saturating_n") is rf.LAWS["saturating_n"]
    with pytest.raises(KeyError):
        rf.law_spec("mut_r4_shipped")


def test_decimal_group_keys_beyond_2_53_are_refused(runs: pd.DataFrame, tmp_path: Path) -> None:
    """DECIMAL(38, 0) sweep ids 2^60 + k are 4 distinct values but one float64 (2^60's
    spacing is 256): the group column is refused by name, as HUGEINT's is, before any file is
    written."""
    assert float(2**60 + 1) == float(2**60 + 3)  # what pandas would make of them
    src = tmp_path / "dec.duckdb"
    with duckdb.connect(str(src)) as con:
        con.register("r", runs)
        con.execute("CREATE TABLE runs AS SELECT * REPLACE (CAST(sweep AS DECIMAL(38, 0)) + "
                    "CAST(1152921504606846976 AS DECIMAL(38, 0)) AS sweep) FROM r")
        assert con.execute("SELECT typeof(sweep) FROM runs LIMIT 1").fetchone()[0].startswith("DECIMAL")
    with pytest.raises(data.RunDataError, match=r"group column 'sweep' \(DECIMAL\(38,0\)\) holds 4 distinct "
                                                r"values that are only 1 as float64"):
        rf.refit(src, db=tmp_path / "out.duckdb", progress=False)
    assert not (tmp_path / "out.duckdb").exists()


@pytest.mark.parametrize("columns", [{"loss": ""}, {"": "value"}, {"loss": "value", "params": ""}])
def test_an_empty_column_name_in_columns_is_a_type_error(runs: pd.DataFrame, tmp_path: Path,
                                                         columns: dict[str, str]) -> None:
    """columns= maps non-empty names to non-empty names: an empty one is refused as the
    argument's type, before any file is made (not passed on to DuckDB as a column '')."""
    with pytest.raises(TypeError, match="columns must map source column names to the names used"):
        rf.check_columns_arg(columns)
    with pytest.raises(TypeError, match="columns must map source column names"):
        rf.refit(runs.rename(columns={"value": "loss"}), db=tmp_path / "f.duckdb", progress=False,
                 columns=columns)
    assert not (tmp_path / "f.duckdb").exists()


def test_failed_fits_counts_every_failure_not_only_those_listed(runs: pd.DataFrame, tmp_path: Path) -> None:
    """Sweeps 1, 2 and 3 keep 3 runs each (3 final-loss points for 5 parameters: each fails),
    sweep 0 all 12: failed_fits with limit 2 says 3 failed and lists the first 2 by key."""
    firsts = {s: ids[:3] for s, ids in runs.groupby("sweep").run_id.unique().items() if s != 0}
    keep = runs[(runs.sweep == 0) | runs.run_id.isin(np.concatenate(list(firsts.values())))]
    db = tmp_path / "f.duckdb"
    s = rf.refit(keep, db=db, progress=False)
    assert (s.n_groups, s.n_failed) == (4, 3)
    n, rows = rf.failed_fits(db, "chinchilla", s.config_hash, limit=2)
    assert n == 3
    assert [r["group_key"] for r in rows] == ["[1]", "[2]"]
    assert all("too few points (3) for 5 parameters" in r["reason"] for r in rows)
    n_all, rows_all = rf.failed_fits(db, "chinchilla", s.config_hash, limit=20)
    assert n_all == 3 and [r["group_key"] for r in rows_all] == ["[1]", "[2]", "[3]"]
    assert rf.failed_fits(db, "chinchilla", "0" * 16) == (0, [])


def test_a_results_database_damaged_at_its_header_is_not_called_busy(runs: pd.DataFrame, tmp_path: Path) -> None:
    """A results database whose second header block is zeroed fails already when DuckDB opens
    it ('checksum ... in block at location 4096'): reading it says it cannot be read and may
    be damaged, not that a refit writing it holds it."""
    db = tmp_path / "fits.duckdb"
    rf.refit(runs[runs.sweep == 0], db=db, progress=False)
    raw = bytearray(db.read_bytes())
    raw[4096:8192] = bytes(4096)
    db.write_bytes(bytes(raw))
    assert data.is_duckdb_file(db)
    with pytest.raises(data.RunDataError, match=r"cannot read .*fits\.duckdb: .*damaged database") as info:
        rf.read_fits(db)
    assert "holds it" not in str(info.value) and "writing it" not in str(info.value)
