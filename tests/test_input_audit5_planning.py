"""Input audit 5, planning: quantities computed from extreme but valid inputs (a data wall of
1e300 tokens, a trained model of 1e300 parameters on 1e300 tokens) overflowed with numpy's
RuntimeWarning and then failed naming an internal variable ("C must be finite; C[0] = inf");
percentile_interval of nothing warned "Mean of empty slice"."""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import DataWarning, cli
from scalingfit.planning import (
    MUENNIGHOFF_2023,
    data_wall,
    epochs_wall_compute,
    optimal_allocation_constrained,
    optimal_cli_table,
    percentile_interval,
)


# ------------------------------------------------------------------ 1. scalingfit optimal
def test_trained_whose_compute_overflows_names_trained() -> None:
    with pytest.raises(ValueError, match=r"^trained must be \(N, D\) of a real run: its compute flops_per_token "
                                         r"N D overflows float64 \(beyond 1\.8e308\) for trained N = 1e\+300, "
                                         r"trained D = 1e\+300$"):
        optimal_cli_table(trained=(1e300, 1e300))
    with pytest.raises(ValueError, match=r"^trained must be .* underflows float64 \(to 0, below 5e-324\) for "
                                         r"trained N = 1e-300, trained D = 1e-300$"):
        optimal_cli_table(trained=(1e-300, 1e-300))


def test_unique_tokens_whose_wall_overflows_names_unique_tokens() -> None:
    msg = (r"^unique_tokens must be nearer the size of a real stock of tokens: the no-repetition wall "
           r"C = flops_per_token N_opt\(U\) U overflows float64 \(beyond 1\.8e308\) for unique_tokens = 1e\+300$")
    with pytest.raises(ValueError, match=msg):
        optimal_cli_table(compute=1e24, unique_tokens=1e300)
    with pytest.raises(ValueError, match=msg):
        data_wall(1e300)
    with pytest.raises(ValueError, match=r"^unique_tokens must .* underflows float64 \(to 0, below 5e-324\) "
                                         r"for unique_tokens = 1e-300$"):
        data_wall(1e-300)
    with pytest.raises(ValueError, match=r"^unique_tokens must .* overflows float64 .* at index 1 for "
                                         r"unique_tokens\[1\] = 1e\+300$"):
        epochs_wall_compute([1e12, 1e300], 4.0)


def test_epochs_whose_naive_wall_overflows_names_epochs() -> None:
    with pytest.raises(ValueError, match=r"^epochs must be smaller \(repeats of unique_tokens\): the naive wall's "
                                         r"tokens k U overflows float64 \(beyond 1\.8e308\) at index 1 for "
                                         r"epochs\[1\] = 1e\+300, unique_tokens = 1e\+20$"):
        data_wall(1e20, epochs=(1, 1e300))
    with pytest.raises(ValueError, match=r"^epochs must be smaller .* the naive wall C = flops_per_token "
                                         r"N_opt\(k U\) k U overflows"):
        optimal_cli_table(unique_tokens=1e20, epochs=(1e280,))


def test_data_wall_of_a_huge_stock_searches_within_float64() -> None:
    """U = 1e150: C_1 = 3e299, and 1e12 times that passed 1.8e308 (exp overflowed in the
    search); now the search stops there and the rows stay finite."""
    with pytest.warns(DataWarning, match="the optimum at C_k is not unique"):  # flat at such sizes
        w = data_wall(1e150, epochs=(1, 4))
    assert np.isfinite(w.rows[1].C) and w.rows[1].C <= np.finfo(np.float64).max
    law = MUENNIGHOFF_2023
    G = (law.alpha * law.A / (law.beta * law.B)) ** (1 / (law.alpha + law.beta))
    n1 = G * (1e150 * G) ** (law.beta / law.alpha)
    assert w.rows[0].N == pytest.approx(n1, rel=1e-12)
    assert w.rows[0].C == pytest.approx(6 * n1 * 1e150, rel=1e-12)
    assert w.rows[0].naive_C == pytest.approx(6 * n1 * 1e150, rel=1e-12)


def test_the_cli_names_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["optimal", "--compute", "1e24", "--unique-tokens", "1e300"]) == 2
    err = capsys.readouterr().err
    assert "RuntimeWarning" not in err
    assert "error: --unique-tokens must be nearer the size of a real stock of tokens" in err
    assert cli.main(["optimal", "--unique-tokens", "1e20", "--epochs", "1e300"]) == 2
    err = capsys.readouterr().err
    assert "RuntimeWarning" not in err and "DataWarning" not in err
    assert "error: --epochs must be smaller" in err and "epochs[0] = 1e+300" in err
    assert cli.main(["optimal", "--trained", "1e300,1e300"]) == 2
    err = capsys.readouterr().err
    assert "error: --trained must be (N, D) of a real run" in err and "C must be finite" not in err


# ------------------------------------------------------------------ 2. extreme magnitudes
def test_constrained_allocation_with_a_tiny_stock_names_C_and_U() -> None:
    with pytest.raises(ValueError, match=r"^U must be larger \(a stock of unique tokens\): the epochs D / U "
                                         r"overflows float64 \(beyond 1\.8e308\) for C = 1e\+23, U = 1e-300$"):
        optimal_allocation_constrained(1e23, 1e-300)
    with pytest.raises(ValueError, match=r"at index 1 for C = 1e\+23, U\[1\] = 1e-300"):
        optimal_allocation_constrained(1e23, [1e10, 1e-300])


def test_constrained_allocation_with_a_small_stock_is_unchanged() -> None:
    """U = 1e-100 still plans (epochs 1e100-ish): the check only refuses what overflows."""
    o = optimal_allocation_constrained(1e23, 1e-100, warn=False)
    assert np.isfinite(o.epochs) and o.epochs == pytest.approx(float(o.D) / 1e-100, rel=1e-12)


# ------------------------------------------------------------------ 3. percentile_interval
def test_percentile_interval_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^samples must hold at least one replicate along axis 0, got shape "
                                         r"\(0,\): no interval to take$"):
        percentile_interval([])
    with pytest.raises(ValueError, match=r"along axis 1, got shape \(3, 0\)"):
        percentile_interval(np.zeros((3, 0)), axis=1)


def test_percentile_interval_of_all_nan_is_nan_without_a_warning() -> None:
    lo, hi = percentile_interval([np.nan, np.nan])
    assert np.isnan(lo) and np.isnan(hi)
    lo, hi = percentile_interval([[1.0, 2.0, 3.0, np.nan], [np.nan] * 4], 0.5, axis=1)
    assert lo.tolist()[0] == pytest.approx(1.5) and hi.tolist()[0] == pytest.approx(2.5)  # numpy's linear rule
    assert np.isnan(lo[1]) and np.isnan(hi[1])



def test_optimal_n_for_data_that_overflows_names_d_not_numpy() -> None:
    """``Law.optimal_n_for_data`` at 1e300 tokens: G (D G)^(beta/alpha) exceeds float64; it
    warned numpy's "overflow encountered in scalar power" and returned inf."""
    from scalingfit.chinchilla import EPOCH_2024
    from scalingfit.planning import as_law

    law = as_law(EPOCH_2024)
    g, k = float(law.G), EPOCH_2024.beta / EPOCH_2024.alpha
    assert float(law.optimal_n_for_data(1e10)) == pytest.approx(g * (1e10 * g) ** k, rel=1e-12)
    with pytest.raises(ValueError, match=r"^D must be .*overflows float64 \(beyond 1\.8e308\) for D = 1e\+300$"):
        law.optimal_n_for_data(1e300)
    with pytest.raises(ValueError, match=r"overflows float64 .* at index 1 for D\[1\] = 1e\+301$"):
        law.optimal_n_for_data([1e10, 1e301])
