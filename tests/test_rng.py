"""Philox4x32-10 (rng.hpp) and the resample generators (bootstrap.hpp).

References: the Random123 known-answer vectors (kat_vectors, "philox4x32 10" lines), an
independent pure-Python Philox written here from the paper, and the distributions a resample
must have (multinomial counts, wild multipliers with mean 0 and variance 1).
"""

from __future__ import annotations

import numpy as np
import pytest
from scalingfit import _core
from scalingfit.bootstrap import SCHEMES, WILD

M32 = 0xFFFFFFFF


def philox_reference(ctr: list[int], key: list[int], rounds: int = 10) -> tuple[int, ...]:
    """Salmon et al. (2011), Philox4x32: straight from the published round function."""
    c = list(ctr)
    k0, k1 = key
    for r in range(rounds):
        if r:
            k0 = (k0 + 0x9E3779B9) & M32
            k1 = (k1 + 0xBB67AE85) & M32
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & M32, p1 & M32, ((p0 >> 32) ^ c[3] ^ k1) & M32, p0 & M32]
    return tuple(c)


KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((M32, M32, M32, M32), (M32, M32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_known_answer_vectors(ctr, key, expected) -> None:
    assert tuple(_core.philox4x32_10(list(ctr), list(key))) == expected
    assert philox_reference(list(ctr), list(key)) == expected


def test_matches_independent_reference_on_random_inputs() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        ctr = [int(v) for v in rng.integers(0, 1 << 32, 4)]
        key = [int(v) for v in rng.integers(0, 1 << 32, 2)]
        assert tuple(_core.philox4x32_10(ctr, key)) == philox_reference(ctr, key)


def test_stream_layout_and_seek() -> None:
    seed = (0x1234 << 32) | 0xABCD
    words = _core.philox_stream(seed, 7, 8, 9, 0, 40)
    for block in range(10):
        expect = philox_reference([block, 7, 8, 9], [0xABCD, 0x1234])
        assert tuple(int(v) for v in words[4 * block : 4 * block + 4]) == expect
    # Random access: starting anywhere gives the same words.
    for start in (1, 3, 4, 17, 33):
        assert np.array_equal(_core.philox_stream(seed, 7, 8, 9, start, 40 - start), words[start:])


def test_words_look_uniform() -> None:
    w = _core.philox_stream(0, 0, 0, 0, 0, 1 << 16).astype(np.int64)
    # Each of the 32 bits is set about half the time (sd of the share: 0.002).
    bits = (w[:, None] >> np.arange(32)) & 1
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) < 0.01)
    # Top-byte histogram: chi-square with 255 dof stays far below its 1e-6 tail (~375).
    counts = np.bincount(w >> 24, minlength=256)
    e = w.size / 256
    assert float(np.sum((counts - e) ** 2 / e)) < 375


def mult(scheme: str, reps, n: int, seed: int = 3, problem: int = 0, groups=None, n_groups: int = 0):
    code = SCHEMES.get(scheme, {"jk_points": 4, "jk_groups": 5}.get(scheme))
    g = None if groups is None else np.ascontiguousarray(groups, dtype=np.int32)
    return _core.resample_multiplicities(
        code, seed, problem, np.ascontiguousarray(reps, dtype=np.int64), n, g, n_groups, 1
    )


def test_points_multiplicities_are_multinomial() -> None:
    n, R = 20, 20000
    M = mult("points", np.arange(R), n)
    assert M.shape == (R, n) and M.dtype == np.int32
    assert np.all(M.sum(axis=1) == n)
    # Each count is Binomial(n, 1/n): mean 1, variance 1 - 1/n; P(0) = (1 - 1/n)^n.
    assert abs(M.mean() - 1) < 0.005
    assert abs(M.var() - (1 - 1 / n)) < 0.02
    assert abs(np.mean(M == 0) - (1 - 1 / n) ** n) < 0.005
    # Points are exchangeable: the per-point mean count is 1 everywhere (sd 0.007).
    assert np.all(np.abs(M.mean(axis=0) - 1) < 0.04)


def test_small_n_draws_are_unbiased() -> None:
    # n = 3: every one of the 10 count vectors has its multinomial probability.
    R = 60000
    M = mult("points", np.arange(R), 3)
    keys, counts = np.unique(M, axis=0, return_counts=True)
    from math import factorial

    p = np.array([factorial(3) / np.prod([factorial(int(c)) for c in k]) / 27 for k in keys])
    assert len(keys) == 10
    chi2 = float(np.sum((counts - R * p) ** 2 / (R * p)))
    assert chi2 < 33.7  # 9 dof, 1e-4 tail


def test_resample_is_a_pure_function_of_its_numbers() -> None:
    n = 50
    a = mult("points", [5, 6, 7], n)
    b = mult("points", [7, 5], n)
    assert np.array_equal(a[0], b[1]) and np.array_equal(a[2], b[0])
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(mult("points", [5], n, seed=4)[0], a[0])
    assert not np.array_equal(mult("points", [5], n, problem=1)[0], a[0])
    # Huge problem ids and seeds are fine and distinct.
    big = mult("points", [5], n, seed=(1 << 64) - 1, problem=(1 << 40) + 1)[0]
    assert big.sum() == n
    # Replicate -1 is the original data.
    assert np.all(mult("points", [-1], n) == 1)


def test_thread_count_does_not_change_resamples() -> None:
    reps = np.arange(500, dtype=np.int64)
    one = _core.resample_multiplicities(0, 11, 2, reps, 30, None, 0, 1)
    two = _core.resample_multiplicities(0, 11, 2, reps, 30, None, 0, 2)
    assert np.array_equal(one, two)


def test_group_multiplicities_follow_the_group() -> None:
    groups = np.array([0, 0, 1, 1, 1, 2, 3, 3, 4, 4])
    M = mult("groups", np.arange(3000), groups.size, groups=groups, n_groups=5)
    for g in range(5):
        cols = M[:, groups == g]
        assert np.all(cols == cols[:, :1])
    per_group = M[:, [0, 2, 5, 6, 8]]
    assert np.all(per_group.sum(axis=1) == 5)
    assert abs(per_group.mean() - 1) < 0.02


def test_jackknife_multiplicities_delete_one() -> None:
    M = mult("jk_points", np.arange(6), 6)
    assert np.array_equal(M, 1 - np.eye(6, dtype=np.int32))
    groups = np.array([0, 0, 1, 2, 2])
    G = mult("jk_groups", np.arange(3), 5, groups=groups, n_groups=3)
    assert np.array_equal(G, (groups[None, :] != np.arange(3)[:, None]).astype(np.int32))


@pytest.mark.parametrize("dist", list(WILD))
def test_wild_multipliers_have_mean_zero_variance_one(dist: str) -> None:
    n, R = 64, 4000
    zeros, ones = np.zeros(n), np.ones(n)
    V = _core.resample_targets(
        SCHEMES["wild"], WILD[dist], 9, 0, np.arange(R, dtype=np.int64), zeros, zeros, ones, None, 1
    )
    assert abs(V.mean()) < 0.01 and abs(V.var() - 1) < 0.02
    values = np.unique(np.round(V, 12))
    expected = {
        "rademacher": [-1.0, 1.0],
        "webb": sorted([s * v for s in (-1, 1) for v in (np.sqrt(0.5), 1.0, np.sqrt(1.5))]),
        "mammen": sorted([-(np.sqrt(5) - 1) / 2, (np.sqrt(5) + 1) / 2]),
    }[dist]
    assert np.allclose(values, expected)
    # Point i always uses the same words: a point's multiplier does not depend on n.
    V8 = _core.resample_targets(
        SCHEMES["wild"], WILD[dist], 9, 0, np.arange(5, dtype=np.int64), zeros[:8], zeros[:8],
        ones[:8], None, 1,
    )
    assert np.array_equal(V8, V[:5, :8])


def test_residual_targets_draw_from_the_residuals() -> None:
    n = 12
    yhat = np.linspace(1, 2, n)
    resid = np.arange(n) - (n - 1) / 2
    Y = _core.resample_targets(
        SCHEMES["residual"], 0, 1, 0, np.arange(2000, dtype=np.int64), yhat, yhat, resid, None, 2
    )
    drawn = Y - yhat
    assert np.all(np.isin(np.round(drawn, 12), np.round(resid, 12)))
    counts = np.bincount(np.round(drawn + (n - 1) / 2).astype(int).ravel(), minlength=n)
    assert np.all(np.abs(counts / counts.sum() - 1 / n) < 0.01)
    orig = _core.resample_targets(
        SCHEMES["residual"], 0, 1, 0, np.array([-1], dtype=np.int64), yhat + 5, yhat, resid, None, 1
    )
    assert np.array_equal(orig[0], yhat + 5)
