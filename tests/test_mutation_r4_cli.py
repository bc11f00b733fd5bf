"""Mutation round 4, the command line: --columns' pairs, refit's list of failed groups (5 in
the summary, all up to 20 in --json), a --laws-from module whose own import fails, and
reproduce when no study had data."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("duckdb")
from scalingfit import _synthdb, cli
from scalingfit import reproduce as rp


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return _synthdb.chinchilla_sweeps(8, 12, seed=1)[0]


@pytest.mark.parametrize(("columns", "message"), [
    ("loss=value,loss=N", r"--columns gives loss twice: give each column once"),
    ("loss=", r"--columns: expected source=name pairs, comma-separated .* got 'loss='"),
    ("=value", r"--columns: expected source=name pairs, comma-separated .* got '=value'"),
    ("loss", r"--columns: expected source=name pairs, comma-separated .* got 'loss'"),
])
def test_bad_columns_pairs_are_usage_errors_naming_the_option(runs: pd.DataFrame, tmp_path: Path, capsys,
                                                              columns: str, message: str) -> None:
    src = tmp_path / "runs.csv"
    runs.rename(columns={"value": "loss"}).head(40).to_csv(src, index=False)
    for command in (["refit"], ["compare-runs", "--models", "chinchilla,chinchilla_tied"]):
        assert cli.main([*command, str(src), "--db", str(tmp_path / "f.duckdb"), "--columns", columns,
                         "--quiet"]) == 2
        err = capsys.readouterr().err
        assert re.search(message, err), err
    assert not (tmp_path / "f.duckdb").exists()


def test_refit_lists_five_failed_groups_and_json_all_of_seven(runs: pd.DataFrame, tmp_path: Path, capsys) -> None:
    """Sweeps 1-7 keep 3 runs each (too few points for 5 parameters), sweep 0 all 12: the
    summary counts 7 failed fits and names the first 5 (it said "the first 20" once 20 were
    looked up, while listing 5); --json lists all 7."""
    firsts = [ids[:3] for s, ids in runs.groupby("sweep").run_id.unique().items() if s != 0]
    keep = runs[(runs.sweep == 0) | runs.run_id.isin([r for ids in firsts for r in ids])]
    src = tmp_path / "runs.csv"
    keep.to_csv(src, index=False)
    assert cli.main(["refit", str(src)]) == 1
    out = capsys.readouterr().out
    assert "(7 failed)" in out
    assert re.search(r"failed fits of this configuration: 7, the first 5 \(all: ", out), out
    listed = re.findall(r"^  group (\[\d+\]): bad input", out, flags=re.MULTILINE)
    assert listed == ["[1]", "[2]", "[3]", "[4]", "[5]"]
    assert cli.main(["refit", str(src), "--json", "--overwrite", "--level", "0.9"]) == 1
    failed = json.loads(capsys.readouterr().out)["failed_groups"]
    assert [f["group_key"] for f in failed] == [f"[{k}]" for k in range(1, 8)]
    assert all("too few points (3) for 5 parameters" in f["reason"] for f in failed)


def test_a_laws_module_whose_import_fails_names_what_is_missing(runs: pd.DataFrame, tmp_path: Path, capsys,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """--laws-from MODULE where MODULE exists but imports a package that does not: the error
    is that import's (exit 1), not 'no such module' for MODULE (a usage error, exit 2)."""
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "mut_r4_laws_dep.py").write_text("import mut_r4_no_such_dependency  # noqa: F401\n")
    monkeypatch.syspath_prepend(str(folder))
    src = tmp_path / "runs.csv"
    runs.head(40).to_csv(src, index=False)
    try:
        rc = cli.main(["refit", str(src), "--db", str(tmp_path / "f.duckdb"), "--laws-from", "mut_r4_laws_dep",
                       "--quiet"])
    finally:
        sys.modules.pop("mut_r4_laws_dep", None)
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "--laws-from mut_r4_laws_dep: No module named 'mut_r4_no_such_dependency'" in err
    assert "no such module" not in err


def test_reproduce_with_no_study_data_at_all_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Every study (no --studies) and none has its data: nothing was checked, which is a
    failure (exit 1, naming the study), not '0 of 0 checks' passing."""
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.delenv("SCALINGFIT_DATA", raising=False)
    monkeypatch.setattr(rp, "STUDIES", {"epoch": rp.STUDIES["epoch"]})
    assert cli.main(["reproduce", "--bootstrap", "10"]) == 1
    captured = capsys.readouterr()
    assert "0 of 0 checks within tolerance" in captured.out
    assert "no data for epoch" in captured.err
