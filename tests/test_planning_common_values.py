"""Values of the shared planning helpers (``scalingfit.planning._common``) on the paths the
other tests never took: a NaN replicate in a percentile interval, a zero cell in a CSV column
that must be > 0, and a target loss exactly at the irreducible loss.

References: numpy's ``np.percentile`` on the replicates with the NaN removed by hand, the
documented contract of the readers (every cell of a size or loss column finite and > 0, a
RunDataError naming column, row and line) on hand-written files, and the closed form of the
compute-optimal frontier ``A N^-alpha = beta (L - E) / (alpha + beta)``, which has no
solution at ``L = E``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import planning as P
from scalingfit.data import RunDataError
from scalingfit.planning._common import HOFFMANN_2022, as_law, percentile_interval
from scalingfit.planning.overtraining import SUBSET_17


# ------------------------------------------------------------------ percentile_interval
def test_percentile_interval_ignores_nan_replicates() -> None:
    """The docstring says NaN replicates are ignored, but no test passed one: with
    ``np.percentile`` in place of ``np.nanpercentile`` ``[1, 2, nan, 3, 4]`` at level 0.5
    gives (nan, nan) instead of (1.75, 3.25)."""
    x = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    lo, hi = percentile_interval(x, 0.5)
    ref = np.percentile(x[~np.isnan(x)], [25.0, 75.0])
    assert (float(lo), float(hi)) == pytest.approx(tuple(ref), rel=1e-15)
    assert (float(lo), float(hi)) == pytest.approx((1.75, 3.25), rel=1e-15)
    # per column along axis 0: a failed replicate in one column leaves the other's alone
    rng = np.random.default_rng(11)
    s = rng.normal(size=(41, 3))
    s[[3, 17], 1] = np.nan
    s[0, 2] = np.nan
    lo, hi = percentile_interval(s, 0.9, axis=0)
    for j in range(3):
        col = s[:, j][~np.isnan(s[:, j])]
        np.testing.assert_allclose([lo[j], hi[j]], np.percentile(col, [5.0, 95.0]), rtol=1e-14)
    assert np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))


# ------------------------------------------------------------------ readers: a cell of 0
_MU_HEADER = "name,N_params,D_tokens,U_unique_tokens,val_loss\n"


@pytest.mark.parametrize("zero", ["0", "0.0", "-0.0", "0e5"])
def test_muennighoff_reader_refuses_a_zero_cell(tmp_path, zero: str) -> None:
    """A loss (or size) of 0 must be refused like a negative one: with the fast path's test
    ``fast <= 0`` weakened to ``fast < 0`` a 2-row file with ``val_loss = 0`` (or ``-0.0``)
    was returned as data (and ``log 0`` then breaks the fit far from the file)."""
    path = tmp_path / "runs.csv"
    path.write_text(_MU_HEADER + "a,1e8,4e9,1e9,3.1\n" + f"b,2e8,8e9,1e9,{zero}\n")
    with pytest.raises(RunDataError, match=rf"column 'val_loss', row 1 \(line 3\): '{zero}' must be > 0"):
        P.load_muennighoff2023(path)
    path.write_text(_MU_HEADER + f"a,{zero},4e9,1e9,3.1\n" + "b,2e8,8e9,1e9,3.0\n")
    with pytest.raises(RunDataError, match=rf"column 'N_params', row 0 \(line 2\): '{zero}' must be > 0"):
        P.load_muennighoff2023(path)
    # the same file with positive cells reads (the refusal is of the 0, not of the file)
    path.write_text(_MU_HEADER + "a,1e8,4e9,1e9,3.1\nb,2e8,8e9,1e9,3.0\n")
    d = P.load_muennighoff2023(path)
    np.testing.assert_array_equal(d["loss"], [3.1, 3.0])


def _gadre_csv(loss: str, n_params: str = "1e7") -> str:
    head = ["name", "dataset", "model", "N_params", "D_tokens", "tok_per_param", "chinchilla_mult",
            "loss_c4_val", *("acc_" + t for t in SUBSET_17)]
    rows = [["r0", "rpj", "m", "1e7", "2e8", "20", "1", "3.5", *["0.5"] * 17],
            ["r1", "rpj", "m", n_params, "4e8", "20", "1", loss, *["0.25"] * 17]]
    return "\n".join(",".join(r) for r in (head, *rows)) + "\n"


def test_gadre_reader_refuses_a_zero_loss_or_size(tmp_path) -> None:
    """load_gadre2024 goes through the same fast path: with ``<`` for ``<=`` a ``loss_*`` or
    ``N_params`` cell of 0 was read as a number (a loss of 0 at 1e7 parameters)."""
    path = tmp_path / "models_loss_and_evals.csv"
    path.write_text(_gadre_csv("0"))
    with pytest.raises(RunDataError, match=r"column 'loss_c4_val', row 1 \(line 3\): '0' must be > 0"):
        P.load_gadre2024(path)
    path.write_text(_gadre_csv("3.0", n_params="0.0"))
    with pytest.raises(RunDataError, match=r"column 'N_params', row 1 \(line 3\): '0.0' must be > 0"):
        P.load_gadre2024(path)
    path.write_text(_gadre_csv("3.0"))
    d = P.load_gadre2024(path)
    np.testing.assert_array_equal(d["loss_c4_val"], [3.5, 3.0])
    np.testing.assert_allclose(d["err_17"], [0.5, 0.75], rtol=1e-15)


# ------------------------------------------------------------------ Law.optimal_for_loss
def test_optimal_for_loss_at_the_irreducible_loss_is_nan() -> None:
    """At ``target == E`` (1.69 for Hoffmann et al.) the frontier has no point: documented as
    NaN. With the test ``delta > 0`` weakened to ``delta >= 0`` it returned (inf, inf)."""
    law = as_law(HOFFMANN_2022)
    N, D = law.optimal_for_loss(1.69)
    assert np.isnan(N) and np.isnan(D)
    # below E too, and a reachable target in the same call by the closed form written here
    E, A, B, al, be = (HOFFMANN_2022[k] for k in ("E", "A", "B", "alpha", "beta"))
    N, D = law.optimal_for_loss(np.array([1.69, 1.5, 2.1]))
    assert np.isnan(N[:2]).all() and np.isnan(D[:2]).all()
    N_ref = (A * (al + be) / (be * (2.1 - E))) ** (1 / al)
    D_ref = (B * (al + be) / (al * (2.1 - E))) ** (1 / be)
    assert N[2] == pytest.approx(N_ref, rel=1e-12) and D[2] == pytest.approx(D_ref, rel=1e-12)
    assert E + A * N[2] ** -al + B * D[2] ** -be == pytest.approx(2.1, rel=1e-12)
