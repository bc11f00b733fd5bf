"""One CLI across commands (stop 37). ``--threads`` on every command that fits: ``fit``,
``plot``, ``compare`` and ``optimal --fit`` had no way to set the worker threads, which
``refit``, ``compare-runs``, ``demo`` and ``bench`` had; the option reaches the API call, is
checked as typed (a whole number in [1, MAX_THREADS]), and changes no number. A figure written
is announced in the same words by every command (``compare`` said "wrote", ``compare-runs``
nothing)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from scalingfit import _fit, cli, compare
from test_cli import _csv

bootstrap = importlib.import_module("scalingfit.bootstrap")  # the package's name is the function

FIT = ["--model", "chinchilla", "--x", "N,D", "--y", "loss"]


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    """Record the ``threads`` argument of every call of ``module.name`` (then call it)."""
    seen: list[Any] = []
    real = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("threads", "absent"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return seen


def test_fit_passes_threads_to_the_fit_and_to_the_bootstrap(tmp_path: Path, monkeypatch, capsys) -> None:
    csv = str(_csv(tmp_path / "r.csv"))
    fits = _spy(monkeypatch, _fit, "fit")
    assert cli.main(["fit", csv, *FIT, "--threads", "3", "--json"]) == 0
    assert fits == [3]
    boots = _spy(monkeypatch, bootstrap, "bootstrap")
    assert cli.main(["fit", csv, *FIT, "--threads", "2", "--bootstrap", "20", "--json"]) == 0
    assert boots == [2]
    capsys.readouterr()
    # left out: None, the API's default (all threads)
    assert cli.main(["fit", csv, *FIT, "--json"]) == 0
    assert fits[-1] is None


def test_fit_gives_the_same_numbers_on_one_thread_and_on_two(tmp_path: Path, capsys) -> None:
    # the core is bit-identical for any thread count: the JSON (params, intervals of 40
    # resamples) must be the same text
    csv = str(_csv(tmp_path / "r.csv"))
    outs = []
    for t in ("1", "2"):
        assert cli.main(["fit", csv, *FIT, "--bootstrap", "40", "--threads", t, "--json"]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1]
    assert outs[0]["interval_method"].startswith("bootstrap percentile, 40 resamples")


def test_compare_passes_threads_one_set_and_grouped(tmp_path: Path, monkeypatch, capsys) -> None:
    csv = tmp_path / "r.csv"
    _csv(csv, n=30)
    seen = _spy(monkeypatch, compare, "compare_models")
    assert cli.main(["compare", str(csv), "--models", "chinchilla,kaplan_nd", "--x", "N,D", "--y", "loss",
                     "--no-loo", "--threads", "2", "--json"]) == 0
    assert seen == [2]
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join([lines[0] + ",sweep"] + [f"{r},{i % 2}" for i, r in enumerate(lines[1:])]) + "\n")
    grouped = _spy(monkeypatch, compare, "compare_batch")
    assert cli.main(["compare", str(csv), "--models", "chinchilla,kaplan_nd", "--x", "N,D", "--y", "loss",
                     "--group-by", "sweep", "--no-loo", "--threads", "1", "--json"]) == 0
    assert grouped == [1]
    capsys.readouterr()


def test_optimal_passes_threads_with_fit_and_refuses_it_without(tmp_path: Path, monkeypatch, capsys) -> None:
    csv = str(_csv(tmp_path / "r.csv"))
    seen = _spy(monkeypatch, bootstrap, "bootstrap")
    assert cli.main(["optimal", "--compute", "1e22", "--fit", csv, "--bootstrap", "10", "--threads", "2",
                     "--json"]) == 0
    assert seen == [2]
    capsys.readouterr()
    # without --fit the law is a published one: nothing is fitted, --threads has no effect
    assert cli.main(["optimal", "--compute", "1e22", "--threads", "2"]) == 2
    assert "--threads: only with --fit CSV" in capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["fit", "{csv}", *FIT],
    ["plot", "{csv}", *FIT, "--bootstrap", "0", "-o", "{png}"],
    ["compare", "{csv}", "--models", "chinchilla,kaplan_nd", "--x", "N,D", "--y", "loss"],
    ["optimal", "--compute", "1e22", "--fit", "{csv}"],
])
@pytest.mark.parametrize("value, words", [("0", "--threads must be >= 1, got 0"),
                                          ("5000", f"--threads must be at most {_fit.MAX_THREADS}, got 5000")])
def test_threads_out_of_range_is_a_usage_error_before_any_fit(command: list[str], value: str, words: str,
                                                               tmp_path: Path, monkeypatch, capsys) -> None:
    csv = str(_csv(tmp_path / "r.csv", n=20))
    png = str(tmp_path / "f.png")
    fits = _spy(monkeypatch, _fit, "fit")
    argv = [a.format(csv=csv, png=png) for a in command] + ["--threads", value]
    assert cli.main(argv) == 2
    assert words in capsys.readouterr().err
    assert fits == []
    assert not Path(png).exists()


def test_every_command_announces_its_figure_in_the_same_words(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    csv = tmp_path / "r.csv"
    _csv(csv, n=30)
    png = tmp_path / "c.png"
    assert cli.main(["compare", str(csv), "--models", "chinchilla,kaplan_nd", "--x", "N,D", "--y", "loss",
                     "--no-loo", "--plot", str(png)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"plot written to {png}"
    assert png.stat().st_size > 0
    plot_png = tmp_path / "p.png"
    assert cli.main(["plot", str(csv), *FIT, "--bootstrap", "0", "-o", str(plot_png)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"plot written to {plot_png}"


def test_compare_runs_announces_its_figure_unless_quiet_or_json(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("duckdb")
    from scalingfit import _synthdb

    db = tmp_path / "runs.duckdb"
    _synthdb.write_duckdb(str(db), _synthdb.chinchilla_sweeps(3, seed=2)[0])
    png = tmp_path / "wins.png"
    argv = ["compare-runs", str(db), "--models", "chinchilla,kaplan_nd", "--log-residuals", "--plot", str(png)]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"plot written to {png}"
    png.unlink()
    for extra in (["--quiet"], ["--json"]):
        assert cli.main([*argv, *extra]) == 0
        out = capsys.readouterr().out
        assert "plot written" not in out and png.exists()
        if extra == ["--json"]:
            json.loads(out)  # stdout holds one JSON document
        png.unlink()


def test_optimal_loss_below_the_irreducible_term_names_e_readably(capsys) -> None:
    # Epoch's law (Besiroglu et al. 2024) has E = exp(0.5967) ~ 1.81686: a target of 1.5 nats
    # cannot be reached at any size; the error gives E to 6 digits, not its full repr
    from scalingfit import planning

    E = planning.resolve_law("epoch2024")["E"]
    assert E == pytest.approx(1.81686, abs=1e-4)
    assert cli.main(["optimal", "--loss", "1.5"]) == 1
    err = capsys.readouterr().err
    assert f"loss 1.5 is not above the law's irreducible loss E = {E:.6g}: no model reaches it" in err
    assert repr(E) not in err
