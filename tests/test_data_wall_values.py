"""Values of ``scalingfit.planning.data_wall`` against independent references, on the paths
the other tests left open: the ``level`` of the replicate intervals, the loss interval of a
row, and a far epoch budget (1e4 epochs, C_k 1.7e6 times the no-repetition wall) inside the
default ``max_factor``.

References: numpy's ``np.percentile`` over per-replicate quantities (C_k from
``epochs_wall_compute`` of the replicate law; N and the loss at ``D = k U`` from Muennighoff
et al.'s law written out here), the closed-form no-repetition wall ``C_1 = 6 N_opt(U) U``,
and a dense numpy grid of the loss ``L(N, C / (6N), U)`` whose flat range (4 ulps of the
minimum) gives the most epochs among the optimal allocations.
"""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import DataWarning
from scalingfit import planning as P
from scalingfit.planning import MUENNIGHOFF_2023

STAGE1 = ("E", "A", "B", "alpha", "beta")


def _hand_loss(law, N, D, U):  # type: ignore[no-untyped-def]
    """Muennighoff et al.'s law, written from the paper."""
    E, A, B, al, be, RDs, RNs = (np.asarray(getattr(law, k), dtype=float) for k in (*STAGE1, "R_D", "R_N"))
    G = (al * A / (be * B)) ** (1 / (al + be))
    UD = np.minimum(U, D)
    Dp = UD + UD * RDs * (1 - np.exp(-(D / UD - 1) / RDs))
    UN = np.minimum(N, G * (UD * G) ** (be / al))
    Np = UN + UN * RNs * (1 - np.exp(-(N / UN - 1) / RNs))
    return E + A * Np**-al + B * Dp**-be


def _n_opt(law, D):  # type: ignore[no-untyped-def]
    al, be, A, B = (float(getattr(law, k)) for k in ("alpha", "beta", "A", "B"))
    G = (al * A / (be * B)) ** (1 / (al + be))
    return G * (D * G) ** (be / al)


# Eight replicates around the published decay constants (stage 1 held, as in a bootstrap).
RD = np.array([10.0, 12.0, 14.0, 15.4, 17.0, 20.0, 25.0, 30.0])
RN = np.array([4.0, 6.0, 5.0, 5.3, 4.5, 7.0, 3.5, 5.8])
U = 25e9
EPOCHS = (4.0, 16.0)


@pytest.fixture(scope="module")
def wall_half():
    """The wall at level 0.5 with the replicates (one call, ~1 s)."""
    return P.data_wall(U, MUENNIGHOFF_2023, epochs=EPOCHS, samples=MUENNIGHOFF_2023.with_decay(RD, RN),
                       level=0.5)


@pytest.fixture(scope="module")
def replicates():
    """Per replicate and epoch budget k (rows): C_k (epochs_wall_compute of the replicate
    law), and N = C_k / (6 k U) and the loss at D = k U by the law written here (the
    allocation that uses k epochs)."""
    k = np.array(EPOCHS)[:, None]
    C = P.epochs_wall_compute(U, k, MUENNIGHOFF_2023.with_decay(RD, RN), warn=False)
    assert C.shape == (len(EPOCHS), RD.size) and np.isfinite(C).all()
    N = C / (6 * k * U)
    L = _hand_loss(MUENNIGHOFF_2023.with_decay(RD, RN), N, k * U, U)
    return C, N, L


def test_replicate_intervals_use_the_level_given(wall_half, replicates) -> None:
    """``data_wall(samples=..., level=0.5)`` must give the central 50% of the replicates: with
    the level fixed at 0.95 the k = 4 compute interval was the replicates' 2.5-97.5%
    percentiles, (1.85e21, 2.43e21), instead of their 25-75%, (2.10e21, 2.26e21). Reference:
    np.percentile over the per-replicate C_k, N and loss."""
    assert wall_half.level == 0.5
    for row, C, N, L in zip(wall_half.rows, *replicates):
        assert row.C_ci == pytest.approx(tuple(np.percentile(C, [25.0, 75.0])), rel=1e-9)
        assert row.N_ci == pytest.approx(tuple(np.percentile(N, [25.0, 75.0])), rel=1e-6)
        assert row.loss_ci == pytest.approx(tuple(np.percentile(L, [25.0, 75.0])), rel=1e-9)
        wide = np.percentile(C, [2.5, 97.5])
        assert wide[1] - wide[0] > 1.2 * (row.C_ci[1] - row.C_ci[0])  # the levels differ here


def test_loss_interval_is_in_loss_units(wall_half, replicates) -> None:
    """``loss_ci`` is the interval of the loss (about 2.2-2.3 nats here), not of N: with the
    wrong index a row reported the N interval (~4e9) as its loss interval. Its bounds lie
    within the replicate losses (law written here), bracket the median replicate's loss and
    the point law's."""
    for row, k, L in zip(wall_half.rows, EPOCHS, replicates[2]):
        lo, hi = row.loss_ci
        assert L.min() <= lo <= hi <= L.max()
        assert 2.0 < lo < hi < 2.5
        assert lo <= np.median(L) <= hi
        assert row.N_ci[0] > 1e9  # N is another scale
        # the point law (R* 15.4 / 5.3, a middle replicate) has its loss inside
        assert lo <= row.loss <= hi
        assert row.loss == pytest.approx(_hand_loss(MUENNIGHOFF_2023, row.N, k * U, U), rel=1e-9)


def test_far_epoch_budget_is_reached_within_the_default_max_factor() -> None:
    """U = 1e9, k = 1e4 epochs: C_k / C_1 = 1.7e6, inside the default max_factor 1e12. With
    the search's upper end at sqrt(max_factor) = 1e6 times the wall it was NaN (a DataWarning
    "not reached"). Reference: C_1 = 6 N_opt(U) U in closed form, and a dense grid of the loss
    at C_k, whose flat range's most epochs is 1e4 (and below it 1% lower in compute)."""
    Uw, k = 1e9, 1e4
    C1 = float(P.epochs_wall_compute(Uw, 1.0))
    assert C1 == pytest.approx(6 * _n_opt(MUENNIGHOFF_2023, Uw) * Uw, rel=1e-12)
    with pytest.warns(DataWarning, match="the optimum at C_k is not unique"):
        Ck = float(P.epochs_wall_compute(Uw, k))
    assert np.isfinite(Ck)
    assert 1e6 < Ck / C1 < 1e7
    o = P.optimal_allocation_constrained(Ck, Uw, warn=False)
    assert float(o.wall_epochs) == pytest.approx(k, rel=1e-3)

    def most_epochs(C: float) -> float:
        Ns = np.geomspace(C / (6 * Uw * 1e5), C / (6 * Uw), 200001)  # 1 .. 1e5 epochs
        Ls = MUENNIGHOFF_2023.loss(Ns, C / 6 / Ns, Uw)
        m = Ls.min()
        return float((C / 6 / Ns / Uw)[Ls <= m + 4 * np.spacing(m)].max())

    assert most_epochs(Ck) == pytest.approx(k, rel=1e-3)
    assert most_epochs(Ck / 1.01) < 0.995 * k
