"""The command line's option values checked against what each option is documented to do,
with references computed here (closed forms, scipy), not the commands' own earlier output.

Mutation audit m4 (cli.py, planning/_cli.py): each test below failed under a mutant of the
6cd5a34 snapshot that the rest of the suite let through."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scalingfit import cli

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28  # Hoffmann et al. 2022


def _csv(path: Path, n: int = 60, seed: int = 0, noise: float = 0.005) -> Path:
    """Chinchilla runs: N, D, loss."""
    rng = np.random.default_rng(seed)
    N = 10 ** rng.uniform(7.5, 10, n)
    D = 10 ** rng.uniform(9.5, 11.5, n)
    L = (E + A * N**-ALPHA + B * D**-BETA) * (1 + noise * rng.standard_normal(n))
    path.write_text("N,D,loss\n" + "\n".join(f"{a:.17g},{b:.17g},{c:.17g}" for a, b, c in zip(N, D, L)) + "\n")
    return path


def _sweeps_csv(path: Path, n_groups: int = 3, n: int = 12, seed: int = 0, interleave: bool = False) -> Path:
    """Saturating power-law sweeps, one input N: sweep, N, loss."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_groups):
        N = np.logspace(6, 9, n)
        L = (1.5 + 0.2 * g + 30 * N ** -(0.25 + 0.02 * g)) * (1 + 0.003 * rng.standard_normal(n))
        rows += [(f"s{g}", a, b) for a, b in zip(N, L)]
    if interleave:  # the groups' rows mixed in the file
        rows = [rows[i] for i in rng.permutation(len(rows))]
    path.write_text("sweep,N,loss\n" + "".join(f"{s},{a:.17g},{b:.17g}\n" for s, a, b in rows))
    return path


def _err(capsys) -> str:
    return capsys.readouterr().err


# ------------------------------------------------------------------ fit: --bootstrap, --level, Wald
def test_fit_bootstrap_two_resamples_is_the_smallest_accepted(tmp_path: Path, capsys,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """--bootstrap is documented as 0 or >= 2 resamples: 2 runs a bootstrap of 2 resamples, 1
    is a usage error."""
    import importlib

    class Reached(Exception):
        """The bootstrap was called (stopped there: its result is not the point)."""

    def stop(*a: object, **k: object) -> None:
        calls.append(k)
        raise Reached

    sb = importlib.import_module("scalingfit.bootstrap")
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(sb, "bootstrap", stop)
    csv = str(_csv(tmp_path / "r.csv", n=30))
    argv = ["fit", csv, "--model", "chinchilla", "--x", "N,D", "--y", "loss"]
    with pytest.raises(Reached):
        cli.main([*argv, "--bootstrap", "2", "--seed", "7"])
    assert (calls[-1]["n_resamples"], calls[-1]["seed"], calls[-1]["method"]) == (2, 7, "percentile")
    capsys.readouterr()
    n_calls = len(calls)
    assert cli.main([*argv, "--bootstrap", "1"]) == 2
    assert "--bootstrap must be 0 (Wald intervals) or >= 2 resamples, got 1" in _err(capsys)
    assert len(calls) == n_calls


@pytest.mark.parametrize("level", ["1", "0", "1.0"])
def test_fit_level_must_be_inside_zero_one(tmp_path: Path, capsys, level: str) -> None:
    """--level is an interval level in the open interval (0, 1): 1 (an infinite interval) and 0
    are usage errors, not a fit."""
    csv = str(_csv(tmp_path / "r.csv", n=30))
    assert cli.main(["fit", csv, "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--level", level]) == 2
    assert "--level must be in (0, 1)" in _err(capsys)


def test_fit_wald_intervals_with_fixed_parameters_use_n_minus_free_dof(tmp_path: Path, capsys) -> None:
    """Wald intervals with --fix: Student's t on n - (free parameters) degrees of freedom; with
    E held on 60 points and 4 of 5 parameters free, 56; the interval is estimate +- t * stderr."""
    from scipy import stats

    csv = str(_csv(tmp_path / "r.csv", n=60))
    assert cli.main(["fit", csv, "--model", "chinchilla", "--x", "N,D", "--y", "loss", "--fix", "E=1.69",
                     "--level", "0.9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fixed"] == ["E"] and out["level"] == 0.9
    assert "Student's t on 56 degrees of freedom" in out["interval_method"]
    t = stats.t.ppf(0.95, 56)
    for name in ("A", "B", "alpha", "beta"):
        lo, hi = out["intervals"][name]
        est, se = out["params"][name], out["stderr"][name]
        assert lo == pytest.approx(est - t * se, rel=1e-9) and hi == pytest.approx(est + t * se, rel=1e-9)


def test_fit_log_residuals_needs_a_positive_target_named_by_row(tmp_path: Path, capsys) -> None:
    """--log-residuals fits log(y): a y <= 0 is a bad row of the file, named by the reader
    (column, data row, file line), before any fit."""
    path = _csv(tmp_path / "r.csv", n=30)
    lines = path.read_text().splitlines()
    n_, d_, _ = lines[4].split(",")
    lines[4] = f"{n_},{d_},0"  # data row 3, file line 5
    path.write_text("\n".join(lines) + "\n")
    argv = ["fit", str(path), "--model", "chinchilla", "--x", "N,D", "--y", "loss"]
    assert cli.main([*argv, "--log-residuals"]) == 1
    err = _err(capsys)
    assert "'loss'" in err and "row 3 (line 5)" in err and "> 0" in err
    assert capsys.readouterr().out == ""  # nothing fitted


# ------------------------------------------------------------------ compare
def test_compare_no_loo_skips_the_leave_one_out_refits(tmp_path: Path, capsys) -> None:
    """--no-loo: no leave-one-out error (null in JSON); without it every law has one."""
    csv = str(_sweeps_csv(tmp_path / "s.csv", n_groups=1, n=14))
    argv = ["compare", csv, "--models", "power_law,saturating_power_law", "--x", "N", "--y", "loss", "--json"]
    assert cli.main(argv) == 0
    assert all(isinstance(s["loo_rmse"], float) for s in json.loads(capsys.readouterr().out)["laws"])
    assert cli.main([*argv, "--no-loo"]) == 0
    assert all(s["loo_rmse"] is None for s in json.loads(capsys.readouterr().out)["laws"])


def test_compare_holdout_intervals_default_to_95_percent(tmp_path: Path, capsys) -> None:
    """--level is documented to default to 0.95: the held-out intervals without --level are
    those of --level 0.95, and narrower than --level 0.99's."""
    csv = str(_sweeps_csv(tmp_path / "s.csv", n_groups=1, n=14))
    argv = ["compare", csv, "--models", "power_law,saturating_power_law", "--x", "N", "--y", "loss",
            "--holdout", "3", "--no-loo", "--json"]
    outs = []
    for extra in ([], ["--level", "0.95"], ["--level", "0.99"]):
        assert cli.main([*argv, *extra]) in (0, 1)
        outs.append(json.loads(capsys.readouterr().out))
    default, at95, at99 = outs
    assert default["level"] == 0.95
    for d, r, w in zip(default["laws"], at95["laws"], at99["laws"]):
        for hd, hr, hw in zip(d["holdout"], r["holdout"], w["holdout"]):
            assert (hd["lower"], hd["upper"]) == (hr["lower"], hr["upper"])
            if hd["lower"] is not None:
                assert hw["lower"] < hd["lower"] < hd["upper"] < hw["upper"]


def test_compare_group_by_ranks_by_aicc_with_the_linear_loss(tmp_path: Path, capsys) -> None:
    """compare --group-by with the linear loss ranks by AICc (as documented): the criterion is
    aicc and each group's best law has the least AICc; the groups' rows may be interleaved in
    the file (each group is its own rows)."""
    csv = str(_sweeps_csv(tmp_path / "s.csv", n_groups=3, n=12, interleave=True))
    assert cli.main(["compare", csv, "--models", "power_law,saturating_power_law", "--x", "N", "--y", "loss",
                     "--group-by", "sweep", "--no-loo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["criterion"] == "aicc"
    for g in out["groups"]:
        aicc = {law: v["aicc"] for law, v in g["laws"].items()}
        assert g["best"] == min(aicc, key=aicc.get)
        assert g["n_points"] == 12


# ------------------------------------------------------------------ plot
def test_plot_extrapolate_goes_to_the_figure(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """--extrapolate X draws the law on to X: plot_fit gets x_max=X (None without it), the
    --x column as its label and the --band kind."""
    pytest.importorskip("matplotlib")
    from scalingfit import plot

    drawn: list[dict[str, object]] = []
    monkeypatch.setattr(plot, "plot_fit", lambda *a, **k: drawn.append(k))
    csv = str(_sweeps_csv(tmp_path / "s.csv", n_groups=1, n=14))
    base = ["plot", csv, "--model", "saturating_power_law", "--x", " N ", "--y", "loss", "--bootstrap", "0",
            "-o", str(tmp_path / "f.png")]
    assert cli.main([*base, "--extrapolate", "1e11"]) == 0
    assert (drawn[-1]["x_max"], drawn[-1]["xlabel"], drawn[-1]["ylabel"]) == (1e11, "N", "loss")
    assert cli.main(base) == 0
    assert drawn[-1]["x_max"] is None
    capsys.readouterr()


# ------------------------------------------------------------------ refit, compare-runs
def _runs_csv(tmp_path: Path) -> Path:
    pytest.importorskip("duckdb")
    from scalingfit import _synthdb

    runs, _ = _synthdb.chinchilla_sweeps(4, runs=10, checkpoints=3, seed=2)
    path = tmp_path / "runs.csv"
    runs.to_csv(path, index=False)
    return path


def _settings(db: Path, table: str) -> list[dict[str, object]]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return [json.loads(s) for (s,) in con.execute(f"SELECT settings FROM {table}").fetchall()]


def test_refit_precision_reaches_the_refit(tmp_path: Path, capsys) -> None:
    """--precision float32 is stored with the results (it is part of the configuration)."""
    path = _runs_csv(tmp_path)
    assert cli.main(["refit", str(path), "--precision", "float32", "--quiet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_fitted"] == 4
    assert [s["precision"] for s in _settings(tmp_path / "runs.csv.fits.duckdb", "fit_configs")] == ["float32"]


def test_compare_runs_rows_and_starts_reach_the_comparison(tmp_path: Path, capsys) -> None:
    """compare-runs --rows all fits every row of a group (30 here: 10 runs x 3 steps), the
    default only the final step of each run (10); --starts one is stored as the setting."""
    import duckdb

    path = _runs_csv(tmp_path)
    counts = {}
    for rows in ("final", "all"):
        db = tmp_path / f"{rows}.duckdb"
        assert cli.main(["compare-runs", str(path), "--models", "chinchilla,chinchilla_tied", "--db", str(db),
                         "--rows", rows, "--starts", "one", "--quiet"]) in (0, 1)
        (settings,) = _settings(db, "comparison_configs")
        assert (settings["rows"], settings["starts"]) == (rows, "one")
        with duckdb.connect(str(db), read_only=True) as con:
            counts[rows] = {n for (n,) in con.execute("SELECT DISTINCT n_points FROM law_comparisons").fetchall()}
    assert counts == {"final": {10}, "all": {30}}
    capsys.readouterr()


# ------------------------------------------------------------------ optimal
def test_optimal_huber_is_epochs_objective(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """--huber is documented as Epoch/Hoffmann's objective, Huber with delta 1e-3 on log loss:
    the fit of the log-parametrised law chinchilla_lse with loss huber, f_scale 1e-3,
    log_residuals; without it plain least squares on the loss."""
    from scalingfit import _fit

    seen: list[tuple[str, dict[str, object]]] = []
    real = _fit.fit
    monkeypatch.setattr(_fit, "fit", lambda model, *a, **k: seen.append((model, k)) or real(model, *a, **k))
    csv = str(_csv(tmp_path / "r.csv", n=60))
    assert cli.main(["optimal", "--compute", "1e22", "--fit", csv, "--huber", "--bootstrap", "0", "--json"]) == 0
    assert cli.main(["optimal", "--compute", "1e22", "--fit", csv, "--bootstrap", "0", "--json"]) == 0
    capsys.readouterr()
    (m1, k1), (m2, k2) = seen
    assert (m1, k1["loss"], k1["f_scale"], k1["log_residuals"]) == ("chinchilla_lse", "huber", 1e-3, True)
    assert (m2, k2["loss"], k2["f_scale"], k2["log_residuals"]) == ("chinchilla", "linear", 1.0, False)


def test_optimal_drop_highest_may_drop_all_but_one_row(tmp_path: Path, capsys) -> None:
    """--drop-highest k with k >= the rows would leave nothing to fit: a usage error naming the
    largest k allowed (rows - 1)."""
    csv = str(_csv(tmp_path / "r.csv", n=20))
    assert cli.main(["optimal", "--compute", "1e22", "--fit", csv, "--bootstrap", "0", "--drop-highest", "20"]) == 2
    assert "drop at most 19" in _err(capsys)


def test_optimal_data_wall_default_epochs(capsys) -> None:
    """--unique-tokens without --epochs: the data wall at 1, 4 and 16 epochs (the default)."""
    assert cli.main(["optimal", "--unique-tokens", "1e12", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    walls = sorted({r["section"] for r in rows if r["section"].startswith("data wall")},
                   key=lambda s: float(s.split("up to ")[1].split(" ")[0]))
    assert [float(s.split("up to ")[1].split(" ")[0]) for s in walls] == [1.0, 4.0, 16.0]


@pytest.mark.parametrize(("ratio", "verdict"), [(2.5, "under-trained"), (1.9, "near-optimal"),
                                                (0.45, "over-trained"), (0.55, "near-optimal")])
def test_optimal_trained_verdict_factor_two(capsys, ratio: float, verdict: str) -> None:
    """The verdict is by a factor 2 (as its row says): under-trained when N / N_opt > 2,
    over-trained when < 1/2. N is chosen here as ratio * N_opt(C), N_opt in closed form."""
    G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    C = 1e23
    N = ratio * G * (C / 6) ** (BETA / (ALPHA + BETA))
    D = C / (6 * N)
    law = f"E={E},A={A},B={B},alpha={ALPHA},beta={BETA}"
    assert cli.main(["optimal", "--trained", f"{N!r},{D!r}", "--law", law, "--json"]) == 0
    rows = {r["quantity"]: r["value"] for r in json.loads(capsys.readouterr().out)
            if r["section"].startswith("trained model")}
    assert rows["N / N_opt"] == pytest.approx(ratio, rel=1e-9)
    assert rows["verdict (factor 2)"] == verdict


def test_optimal_table_inference_target_uses_flops_per_token() -> None:
    """optimal_cli_table(compute, inference_tokens, flops_per_token=f) without a loss: the
    target is the Chinchilla-optimal loss of the budget at f FLOPs per token (closed form:
    N_opt = G (C/f)^(beta/(alpha+beta)), D_opt = C / (f N_opt))."""
    from scalingfit.planning import optimal_cli_table

    law = dict(E=E, A=A, B=B, alpha=ALPHA, beta=BETA)
    G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    C, f = 1e21, 12.0
    n = G * (C / f) ** (BETA / (ALPHA + BETA))
    target = E + A * n**-ALPHA + B * (C / (f * n)) ** -BETA
    rows = optimal_cli_table(compute=C, inference_tokens=1e12, law=law, flops_per_token=f)
    sections = {s for s, _, _ in rows if s.startswith("inference-aware")}
    assert sections == {f"inference-aware for loss {target:.4f}, 1e+12 inference tokens"}


def test_optimal_table_data_wall_uses_flops_per_token() -> None:
    """The data wall at 1 epoch is the Chinchilla optimum whose D is the stock U: with
    c = C / f, D_opt = c^(1-a) / G, a = beta/(alpha+beta), so C = f (U G)^(1/(1-a)) at f
    FLOPs per token (and the same N for any f)."""
    from scalingfit.planning import optimal_cli_table

    law = dict(E=E, A=A, B=B, alpha=ALPHA, beta=BETA)
    G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    a = BETA / (ALPHA + BETA)
    U = 1e12
    for f in (6.0, 12.0):
        rows = optimal_cli_table(unique_tokens=U, epochs=(1,), law=law, flops_per_token=f)
        wall = {q: v for s, q, v in rows if s.startswith("data wall")}
        c = (U * G) ** (1 / (1 - a))
        assert wall["compute C"].value == pytest.approx(f * c, rel=1e-6)
        assert wall["parameters N"].value == pytest.approx(G * c**a, rel=1e-6)
        assert wall["naive (repeats as fresh) C"].value == pytest.approx(f * c, rel=1e-6)


def test_optimal_table_data_constrained_uses_flops_per_token() -> None:
    """The data-constrained optimum at C with a stock U larger than the budget's D_opt is the
    Chinchilla optimum of C at f FLOPs per token: N = G (C/f)^a."""
    from scalingfit.planning import optimal_cli_table

    law = dict(E=E, A=A, B=B, alpha=ALPHA, beta=BETA)
    G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    a = BETA / (ALPHA + BETA)
    C, f = 1e21, 12.0
    rows = optimal_cli_table(compute=C, unique_tokens=1e15, epochs=(1,), law=law, flops_per_token=f)
    dc = {q: v for s, q, v in rows if s.startswith("data-constrained")}
    assert dc["parameters N"].value == pytest.approx(G * (C / f) ** a, rel=1e-4)
    assert dc["training tokens D"].value == pytest.approx(C / f / (G * (C / f) ** a), rel=1e-4)


def test_optimal_table_decay_constants_note_names_their_law() -> None:
    """Muennighoff et al.'s decay constants were fitted with their own C4 law: under another
    law (epoch2024) the row says so, under muennighoff2023 it does not."""
    from scalingfit.planning import optimal_cli_table

    def note(law: str) -> str:
        (v,) = [v for _, q, v in optimal_cli_table(unique_tokens=1e12, law=law)
                if q == "decay constants from"]
        return v

    assert note("epoch2024") == "Muennighoff et al. 2023, fitted with their C4 law, not this one"
    assert note("muennighoff2023") == "Muennighoff et al. 2023"
    # another law's own constants: no source claimed
    assert not [q for _, q, _ in optimal_cli_table(unique_tokens=1e12, R_D=10.0, R_N=5.0)
                if q == "decay constants from"]


def test_optimal_cli_decay_constants_note_under_their_own_law(capsys) -> None:
    """The CLI passes optimal_cli_table the resolved law (a dict): --law muennighoff2023 was told
    its decay constants were fitted with another law (the m4 audit's bug)."""
    assert cli.main(["optimal", "--unique-tokens", "1e12", "--law", "muennighoff2023", "--json"]) == 0
    rows = {r["quantity"]: r["value"] for r in json.loads(capsys.readouterr().out)}
    assert rows["decay constants from"] == "Muennighoff et al. 2023"
    from scalingfit.planning.data_constrained import MUENNIGHOFF_2023

    # numbers at full precision (the table prints 4 digits)
    assert (rows["decay constant R_D*"], rows["decay constant R_N*"]) == (
        float(MUENNIGHOFF_2023.R_D), float(MUENNIGHOFF_2023.R_N))


def test_optimal_table_trained_compute_uses_flops_per_token() -> None:
    """A trained (N, D) at f FLOPs per token: C = f N D, and N_opt of that C is G (C/f)^a =
    G (N D)^a whatever f."""
    from scalingfit.planning import optimal_cli_table

    law = dict(E=E, A=A, B=B, alpha=ALPHA, beta=BETA)
    G = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    a = BETA / (ALPHA + BETA)
    N, D = 7e9, 2e12
    rows = {q: v for s, q, v in optimal_cli_table(trained=(N, D), law=law, flops_per_token=12.0)
            if s.startswith("trained model")}
    assert rows["compute C"].value == pytest.approx(12.0 * N * D, rel=1e-12)
    assert rows["compute-optimal N"].value == pytest.approx(G * (N * D) ** a, rel=1e-10)


# ------------------------------------------------------------------ reproduce, demo, main
def test_reproduce_defaults_4000_resamples_seed_0(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """reproduce without --bootstrap/--seed: 4000 resamples (as --help says), seed 0; given,
    they are passed on."""
    from scalingfit import reproduce as rp

    seen: list[dict[str, object]] = []
    monkeypatch.setattr(rp, "reproduce", lambda *a, **k: seen.append(k) or SimpleNamespace(
        to_dict=dict, missing={}, n_passed=0, checks=[], passed=True))
    assert cli.main(["reproduce", "--studies", "porian"]) == 0
    assert cli.main(["reproduce", "--studies", "porian", "--bootstrap", "50", "--seed", "3"]) == 0
    capsys.readouterr()
    assert [(k["n_bootstrap"], k["seed"]) for k in seen] == [(4000, 0), (50, 3)]


def test_demo_no_plots_writes_no_figure(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """demo --no-plots: the run database and no figure."""
    from scalingfit import _demo

    seen: list[dict[str, object]] = []
    monkeypatch.setattr(_demo, "run", lambda **k: seen.append(k) or 0)
    assert cli.main(["demo", "--sweeps", "5", "--out", str(tmp_path / "d"), "--no-plots"]) == 0
    assert cli.main(["demo", "--sweeps", "5", "--out", str(tmp_path / "d")]) == 0
    assert [k["plots"] for k in seen] == [False, True]
    assert (seen[0]["n_sweeps"], seen[0]["bootstrap"], seen[0]["seed"]) == (5, 200, 0)
    capsys.readouterr()


def test_main_exit_codes_of_a_command_error(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented exit codes: a TypeError (a bad argument) is a usage error, 2; a
    ValueError, OSError or RuntimeError a failure, 1; KeyboardInterrupt 130."""
    for exc, rc in ((TypeError("t"), 2), (ValueError("v"), 1), (OSError("o"), 1), (RuntimeError("r"), 1),
                    (KeyboardInterrupt(), 130)):
        def boom(args, exc=exc):
            raise exc

        monkeypatch.setattr(cli, "_cmd_optimal", boom)
        assert cli.main(["optimal", "--compute", "1e22"]) == rc, exc
    capsys.readouterr()


def test_reproduce_fails_when_a_study_asked_for_has_no_data(tmp_path, monkeypatch, capsys) -> None:
    """reproduce --studies epoch with no data anywhere printed '0 of 0 checks within
    tolerance' and exited 0, so a CI job checking it passed; now it exits 1 and says why. The
    studies that run on shipped data still pass with the others skipped (no --studies)."""
    from scalingfit import cli

    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)  # no shared/data beside it or its parent
    monkeypatch.delenv("SCALINGFIT_DATA", raising=False)
    assert cli.main(["reproduce", "--studies", "epoch", "--bootstrap", "10"]) == 1
    err = capsys.readouterr().err
    assert "no data for epoch (asked for by --studies)" in err
    assert cli.main(["reproduce", "--studies", "gadre"]) == 0  # shipped with the package
    assert "no data" not in capsys.readouterr().err


def test_refit_names_the_groups_that_failed(tmp_path, capsys) -> None:
    """A refit with a failed group exited 1 saying only '(1 failed)'; it now names the group
    and why (too few points), in the summary and in --json."""
    import json

    pd = pytest.importorskip("pandas")
    pytest.importorskip("duckdb")
    from scalingfit import _synthdb, cli

    runs, _ = _synthdb.chinchilla_sweeps(4, 12, seed=1)
    keep = runs[runs.sweep == 2].run_id.unique()[:3]
    src = tmp_path / "runs.csv"
    runs[(runs.sweep != 2) | runs.run_id.isin(keep)].to_csv(src, index=False)
    assert isinstance(runs, pd.DataFrame)
    assert cli.main(["refit", str(src)]) == 1
    out = capsys.readouterr().out
    assert "(1 failed)" in out and "failed fits of this configuration: 1" in out
    assert "group [2]: bad input" in out and "too few points (3) for 5 parameters" in out
    assert cli.main(["refit", str(src), "--json", "--level", "0.9", "--overwrite"]) == 1
    failed = json.loads(capsys.readouterr().out)["failed_groups"]
    assert [f["group_key"] for f in failed] == ["[2]"] and "too few points (3)" in failed[0]["reason"]
