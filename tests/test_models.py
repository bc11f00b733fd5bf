"""Every built-in model's analytic Jacobian against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import scalingfit
from conftest import PROBLEM_SPECS, random_inputs, random_params

MODELS = scalingfit.models.names()


def test_registry_covers_every_model() -> None:
    assert set(MODELS) == set(PROBLEM_SPECS)
    for name in MODELS:
        m = scalingfit.models.get(name)
        assert m.n_params == len(m.param_names) <= 8
        assert m.lower.shape == m.upper.shape == (m.n_params,)
        assert len(m.input_names) == m.n_inputs


@pytest.mark.parametrize("name", MODELS)
def test_jacobian_matches_central_differences(name: str) -> None:
    rng = np.random.default_rng(7)
    m = scalingfit.models.get(name)
    worst = 0.0
    for _ in range(20):
        p = random_params(name, rng)
        x = random_inputs(name, 16, rng)
        J = m.jacobian(p, x)
        for a in range(m.n_params):
            h = 1e-6 * max(abs(p[a]), 1e-2)
            pp, pm = p.copy(), p.copy()
            pp[a] += h
            pm[a] -= h
            fd = (m.predict(pp, x) - m.predict(pm, x)) / (2 * h)
            scale = np.maximum(np.abs(fd), np.abs(J[:, a])).max() + 1e-300
            err = np.abs(fd - J[:, a]).max() / scale
            worst = max(worst, err)
    assert worst < 1e-6, f"{name}: max relative Jacobian error {worst:.2e}"


def test_closed_forms() -> None:
    """Values against the formulas written out in numpy."""
    N = np.array([1e8, 3e9]); D = np.array([2e10, 5e11])
    E, A, B, al, be = 1.69, 406.4, 410.7, 0.34, 0.28
    ref = E + A / N**al + B / D**be
    got = scalingfit.models.get("chinchilla").predict([E, A, B, al, be], np.column_stack([N, D]))
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    got = scalingfit.models.get("chinchilla_lse").predict(
        [np.log(A), np.log(B), np.log(E), al, be], np.column_stack([N, D]))
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    Nc, Dc, aN, aD = 8.8e13, 5.4e13, 0.076, 0.095
    ref = ((Nc / N) ** (aN / aD) + Dc / D) ** aD
    got = scalingfit.models.get("kaplan_nd").predict([Nc, Dc, aN, aD], np.column_stack([N, D]))
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    x = np.array([1e3, 1e6, 1e9])
    lo, hi, k, lx0 = 0.25, 0.8, 2.0, np.log(1e6)
    ref = lo + (hi - lo) / (1 + np.exp(-k * (np.log(x) - lx0)))
    np.testing.assert_allclose(scalingfit.models.get("sigmoid").predict([lo, hi, k, lx0], x), ref, rtol=1e-14)
    E, A, a, b, lxb, f = 0.5, 10.0, 0.2, 0.4, np.log(1e5), 0.7
    ref = E + A * x**-a * (1 + (x / np.exp(lxb)) ** (1 / f)) ** (-b * f)
    got = scalingfit.models.get("broken_power_law").predict([E, A, a, b, lxb, f], x)
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    ref = 2.0 + 0.1 * (np.log(x) - 10.0) ** 2
    got = scalingfit.models.get("isoflop_parabola").predict([2.0, 10.0, 0.1], x)
    np.testing.assert_allclose(got, ref, rtol=1e-14)


def test_losses_match_scipy_definitions() -> None:
    from scipy.optimize._lsq.least_squares import construct_loss_function  # the oracle

    z_r = np.linspace(-5, 5, 41)
    for name in ("linear", "huber", "soft_l1", "cauchy", "arctan"):
        ours = scalingfit.losses.rho(name, z_r**2)
        if name == "linear":
            ref = np.stack([z_r**2, np.ones_like(z_r), np.zeros_like(z_r)])
        else:
            ref = construct_loss_function(z_r.size, name, 1.0)(z_r, cost_only=False)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def _grid_by_lstsq(x: np.ndarray, y: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Chinchilla's start grid one (alpha, beta) pair at a time with np.linalg.lstsq (SVD)."""
    grid = (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8)
    tn, td = np.log(x[:, 0]), np.log(x[:, 1])
    out = []
    for al in grid:
        for be in grid:
            M = np.column_stack([np.ones_like(tn), np.exp(-al * tn), np.exp(-be * td)])
            coef, *_ = np.linalg.lstsq(M, y, rcond=None)
            r = M @ coef - y
            sse = float(r @ r) * (10.0 if coef[1] <= 0 or coef[2] <= 0 else 1.0)
            out.append((sse, np.array([*coef, al, be])))
    out.sort(key=lambda c: c[0])
    return out


@pytest.mark.parametrize("case", ["isoflop", "noisy_small", "constant_D"])
def test_chinchilla_start_grid_matches_lstsq_per_pair(case: str) -> None:
    """The vectorised grid (centred 2 x 2 normal equations for all 49 pairs at once) picks the
    same three candidates as an SVD least-squares fit per pair, with the same coefficients;
    with D constant (the beta column collinear with the constant) it falls back to lstsq."""
    rng = np.random.default_rng(3)
    if case == "isoflop":
        N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), 120))
        D = 20 * N * np.exp(rng.uniform(-2, 2, 120))
    elif case == "noisy_small":
        N, D = np.exp(rng.uniform(15, 20, 8)), np.exp(rng.uniform(18, 23, 8))
    else:
        N, D = np.geomspace(1e8, 1.6e9, 5), np.full(5, 1e9)
    x = np.column_stack([N, D])
    y = 1.8 + 400 / N**0.34 + 2000 / D**0.28
    y = y * np.exp(0.02 * rng.standard_normal(len(y))) if case != "constant_D" else y
    got = scalingfit.models.get("chinchilla").initial_guesses(x, y)
    want = _grid_by_lstsq(x, y)
    assert got.shape == (3, 5)
    if case != "constant_D":
        for k in range(3):
            np.testing.assert_allclose(got[k], want[k][1], rtol=1e-8, atol=1e-10 * np.abs(y).max())
        return
    # With D constant, every beta of one alpha fits equally well (B D^-beta is a constant that
    # E absorbs): their errors are equal up to rounding, so which three lead depends on the
    # last bits. Each start is lstsq's least-norm solution of its pair, and of least error.
    third = want[2][0]
    assert sum(abs(s - third) <= 1e-9 * third for s, _ in want) > 3  # the tie this case is about
    for k in range(3):
        sse, ref = next(c for c in want if np.array_equal(c[1][3:], got[k, 3:]))
        np.testing.assert_allclose(got[k], ref, rtol=1e-8, atol=1e-10 * np.abs(y).max())
        assert sse <= third * (1 + 1e-9)


def test_segment_qr2_matches_lstsq_per_segment() -> None:
    """The two-column QR least squares of every segment at once against np.linalg.lstsq on
    each segment, with columns of very different scales (N^-4 beside 1/D)."""
    from scalingfit.models import _segment_qr2

    rng = np.random.default_rng(7)
    sizes = rng.integers(3, 40, 25)
    pid = np.repeat(np.arange(25), sizes)
    N, D = 10 ** rng.uniform(7, 10, pid.size), 10 ** rng.uniform(9, 12, pid.size)
    c1, c2 = (N / 1e7) ** -4.0, 1e9 / D
    y = 3 * c1 + 0.5 * c2 + 0.01 * rng.standard_normal(pid.size)
    got = _segment_qr2(c1, c2, y, pid, 25)
    for j in range(25):
        s = pid == j
        want, *_ = np.linalg.lstsq(np.column_stack([c1[s], c2[s]]), y[s], rcond=None)
        np.testing.assert_allclose(got[j], want, rtol=1e-8, atol=1e-12)


def test_kaplan_batch_guess_is_the_single_guess_and_leads_to_the_best_fit() -> None:
    """fit_batch's start for kaplan_nd (every problem's exponent grid in one pass) is the best
    candidate of the single-problem guess, and from it the fit reaches the best cost of fit()'s
    five starts on nearly every problem (from the per-problem lstsq grid it used: 264 of 300)."""
    import warnings

    m = scalingfit.models.get("kaplan_nd")
    rng = np.random.default_rng(0)
    xs, ys = [], []
    for _ in range(120):
        x = random_inputs("kaplan_nd", 30, rng)
        xs.append(x)
        ys.append(m.predict(random_params("kaplan_nd", rng), x) * (1 + 0.01 * rng.standard_normal(30)))
    x, y = np.vstack(xs), np.concatenate(ys)
    off = np.arange(121) * 30
    batch = m.batch_guess(x, y, np.repeat(np.arange(120), 30), 120)
    single = np.array([m.initial_guess(a, b) for a, b in zip(xs, ys)])
    np.testing.assert_allclose(batch, single, rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rb = scalingfit.fit_batch("kaplan_nd", x, y, off, log_residuals=True)
        best = np.array([scalingfit.fit("kaplan_nd", a, b, log_residuals=True).cost for a, b in zip(xs, ys)])
    assert (rb.status > 0).all()
    assert (rb.cost <= best * (1 + 1e-9)).sum() >= 114, (rb.cost > best * (1 + 1e-9)).sum()


def test_chinchilla_tied_is_chinchilla_with_equal_exponents() -> None:
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(np.log(1e7), np.log(1e11), (50, 2)))
    tied = scalingfit.models.get("chinchilla_tied")
    full = scalingfit.models.get("chinchilla")
    p = np.array([1.7, 400.0, 900.0, 0.31])
    np.testing.assert_allclose(tied.predict(p, x), full.predict(np.r_[p, p[3]], x), rtol=1e-14)
    Jf = full.jacobian(np.r_[p, p[3]], x)
    np.testing.assert_allclose(tied.jacobian(p, x), np.column_stack([Jf[:, :3], Jf[:, 3] + Jf[:, 4]]),
                               rtol=1e-13)


# ------------------------------------------------- every start of every problem, vectorised
ALL_STARTS = [n for n in MODELS if scalingfit.models.get(n).batch_guesses is not None]


def loop_starts(m, x, y, off, lo, hi):  # type: ignore[no-untyped-def]
    """The reference: compare_batch's per-problem loop of initial_guesses, as it was before the
    vectorised all-starts guesses (clipped to the bounds, non-finite rows dropped, none for a
    problem that cannot start a fit or whose guess raises)."""
    from scalingfit._fit import quiet, usable_problems

    starts, owner = [np.zeros((0, m.n_params))], [np.zeros(0, dtype=np.int64)]
    for j in np.flatnonzero(usable_problems(m, x, y, off, lo, hi)):
        xj, yj = x[off[j]:off[j + 1]], y[off[j]:off[j + 1]]
        try:
            with quiet():
                g = np.clip(np.asarray(m.initial_guesses(xj, yj), dtype=np.float64).reshape(-1, m.n_params), lo, hi)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        g = g[np.isfinite(g).all(axis=1)]
        starts.append(g)
        owner.append(np.full(g.shape[0], j, dtype=np.int64))
    return np.vstack(starts), np.concatenate(owner)


def odd_batch(name: str, rng: np.random.Generator, sizes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Problems of the given sizes from PROBLEM_SPECS, most of them odd: 2 or 3 points, constant
    y, duplicate x, a NaN, huge and tiny y, huge x, a constant input column, negative y, x = y = 1,
    a shifted and noisy y."""
    from conftest import make_problem, pack_problems

    probs = []
    for j, n in enumerate(sizes):
        x, y, _ = make_problem(name, n, 0.02, rng)
        x, y = x.copy(), y.copy()
        kind = j % 14
        if kind == 1:
            x, y = x[:3], y[:3]
        elif kind == 2:
            x, y = x[:2], y[:2]
        elif kind == 3:
            y[:] = y[0]
        elif kind == 4:
            x[1::2] = x[0::2][:len(x[1::2])]
        elif kind == 5:
            y[len(y) // 2] = np.nan
        elif kind == 6:
            y *= 1e200
        elif kind == 7:
            y *= 1e-200
        elif kind == 8:
            x *= 1e100
        elif kind == 9:
            x[:, -1] = x[0, -1]
        elif kind == 10:
            y = -y
        elif kind == 11:
            x[0], y[0] = 1.0, 1.0
        elif kind == 12:
            y = y - y.mean() + rng.standard_normal(len(y))
        probs.append((x, y))
    return pack_problems(probs)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shapes and equal values bit for bit (so 0.0 is not -0.0); NaN matches any NaN."""
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    return bool(np.array_equal(np.where(np.isnan(a), 0.0, a).view(np.uint64),
                               np.where(np.isnan(b), 0.0, b).view(np.uint64)))


@pytest.mark.parametrize("name", ALL_STARTS)
def test_vectorised_all_starts_are_the_per_problem_guesses(name: str) -> None:
    """The model's all-starts guess gives, bit for bit and in order, the starts of the
    per-problem loop of initial_guesses (which it replaces in compare_batch): on problems of
    mixed sizes (2 to 300 points), on a stack of 160 problems of one size, both mostly odd, and
    on plain problems of 28 to 34 points, where it leaves nothing to the loop."""
    from conftest import make_problem, pack_problems
    from scalingfit import _validate
    from scalingfit._fit import all_starts, quiet, usable_problems

    m = scalingfit.models.get(name)
    lo, hi = _validate.as_bounds(None, m, None)
    rng = np.random.default_rng(sum(map(ord, name)))
    mixed = [int(n) for n in rng.integers(2, 70, 56)] + [129, 150, 300, 2, 3, 200]
    plain = pack_problems([make_problem(name, int(n), 0.01, rng) for n in rng.integers(28, 35, 100)])
    for x, y, off in (odd_batch(name, rng, mixed), odd_batch(name, rng, [20] * 160), plain):
        got, got_p = all_starts(m, x, y, off, lo, hi)
        want, want_p = loop_starts(m, x, y, off, lo, hi)
        assert np.array_equal(got_p, want_p)
        assert same_bits(got, want), np.flatnonzero((got != want).any(axis=1))
        # and before clipping: the raw rows of every problem the batch function kept
        usable = usable_problems(m, x, y, off, lo, hi)
        idx = np.flatnonzero(usable)
        pid = np.repeat(np.arange(off.size - 1), np.diff(off))
        keep = usable[pid]
        with quiet():
            raw, raw_p, redo = m.batch_guesses(x[keep], y[keep], (np.cumsum(usable) - 1)[pid[keep]], idx.size)
            for k, j in enumerate(idx):
                if not redo[k]:
                    ref = np.asarray(m.guess(x[off[j]:off[j + 1]], y[off[j]:off[j + 1]])).reshape(-1, m.n_params)
                    assert same_bits(raw[raw_p == k], ref), (j, raw[raw_p == k], ref)
        assert not redo[raw_p].any()
        if x is plain[0]:  # no problem left to the loop
            assert not redo.any()


def test_kaplan_grid_in_stacks_is_the_segment_grid() -> None:
    """The exponent grid of kaplan_nd on stacks of problems of similar sizes (running sums down
    padded columns) equals _kaplan_grid's (segment sums) bit for bit, with odd problems in the
    stacks and the problems left over through _kaplan_grid itself."""
    from scalingfit.models import _kaplan_grid, _kaplan_grid_batch, _padded_stacks

    rng = np.random.default_rng(5)
    sizes = [int(n) for n in rng.integers(2, 90, 260)] + [400] * 3
    x, y, off = odd_batch("kaplan_nd", rng, sizes)
    n = len(sizes)
    pid = np.repeat(np.arange(n), np.diff(off))
    stacked = [p for p, _, last in _padded_stacks(pid, n, 1 << 15) if last.sum() >= 2000]
    assert len(stacked) >= 2 and sum(p.size for p in stacked) < n  # both ways are taken
    with np.errstate(all="ignore"):
        got, want = _kaplan_grid_batch(x, y, pid, n), _kaplan_grid(x, y, pid, n)
    assert same_bits(got[0], want[0]) and same_bits(got[1], want[1])


def test_all_starts_leaves_rare_problems_to_the_loop() -> None:
    """Problems an all-starts guess marks for the loop get initial_guesses' starts; a problem
    whose guess raises gets none, non-finite rows are dropped, starts are clipped to the
    bounds; as before."""
    import dataclasses

    from conftest import make_problem, pack_problems
    from scalingfit._fit import all_starts

    base = scalingfit.models.get("saturating_power_law")
    rng = np.random.default_rng(4)
    x, y, off = pack_problems([make_problem("saturating_power_law", 12, 0.01, rng) for _ in range(8)])
    first_y = {float(y[s]): j for j, s in enumerate(off[:-1])}

    def guess(xj: np.ndarray, yj: np.ndarray) -> np.ndarray:
        j = first_y[float(yj[0])]
        if j == 2:
            raise np.linalg.LinAlgError("no fit")
        p = base.guess(xj, yj)
        return np.vstack([p, p * np.nan, p * 1e9]) if j == 5 else p

    def batch(xb, yb, pid, n):  # type: ignore[no-untyped-def]
        rows = np.vstack([base.guess(xb[pid == k], yb[pid == k]) for k in range(n)])
        redo = np.isin(np.arange(n), [2, 5])  # k = j: every problem is usable
        return rows[~redo], np.flatnonzero(~redo), redo

    m = dataclasses.replace(base, guess=guess, batch_guesses=batch)
    lo, hi = base.lower.copy(), base.upper.copy()
    hi[1] = 1e6
    got, got_p = all_starts(m, x, y, off, lo, hi)
    want, want_p = loop_starts(m, x, y, off, lo, hi)
    assert np.array_equal(got_p, want_p) and same_bits(got, want)
    assert 2 not in got_p and (got_p == 5).sum() == 2 and got[:, 1].max() <= 1e6



def test_line_fit_matches_lstsq_on_stacks() -> None:
    """The centred two-column least squares of the one-input guesses against np.linalg.lstsq
    on each row of a stack (log sizes near 20, where the raw normal equations lose digits);
    a constant input gives NaN, not a least-norm line."""
    from scalingfit.models import _line_fit

    rng = np.random.default_rng(11)
    t = rng.uniform(18.0, 23.0, (40, 25))
    v = 3.0 - 0.37 * t + 0.05 * rng.standard_normal(t.shape)
    c0, c1 = _line_fit(t, v)
    for k in range(40):
        want, *_ = np.linalg.lstsq(np.column_stack([np.ones(25), t[k]]), v[k], rcond=None)
        np.testing.assert_allclose([c0[k], c1[k]], want, rtol=1e-10)
    c0, c1 = _line_fit(np.full((1, 5), 4.0), np.arange(5.0)[None])
    assert np.isnan(c1).all()


ONE_START = [n for n in MODELS if scalingfit.models.get(n).batch_guess is not None
             and n not in ("chinchilla", "chinchilla_lse", "kaplan_nd", "chinchilla_tied")]


@pytest.mark.parametrize("name", ONE_START)
def test_one_start_batch_guess_is_the_first_single_guess(name: str) -> None:
    """fit_batch's start for these models (the best of the vectorised all-starts guess) is
    each problem's best single guess, bit for bit, on odd problems of mixed sizes; a problem it
    cannot guess (here: empty) is NaN for guess_starts to redo."""
    from scalingfit._fit import usable_problems

    m = scalingfit.models.get(name)
    rng = np.random.default_rng(len(name))
    x, y, off = odd_batch(name, rng, [int(n) for n in rng.integers(3, 60, 70)])
    usable = usable_problems(m, x, y, off, m.lower, m.upper)
    pid = np.repeat(np.arange(off.size - 1), np.diff(off))
    keep = usable[pid]
    idx = np.flatnonzero(usable)
    got = m.batch_guess(x[keep], y[keep], (np.cumsum(usable) - 1)[pid[keep]], idx.size)
    assert got.shape == (idx.size, m.n_params)
    for k, j in enumerate(idx):
        with np.errstate(all="ignore"):
            want = np.asarray(m.guess(x[off[j]:off[j + 1]], y[off[j]:off[j + 1]])).reshape(-1, m.n_params)[0]
        assert same_bits(got[k], want), (j, got[k], want)


@pytest.mark.parametrize("name", ["learning_curve", "lr_annealing", "power_law"])
def test_fit_many_starts_are_the_per_problem_guesses(name: str) -> None:
    """fit_many's starts (every problem's guesses in one vectorised call) are, problem by
    problem and in order, the extra starts and then initial_guesses, clipped to the bounds,
    as its per-problem loop gave them; a model without a guess still needs p0."""
    import dataclasses

    from conftest import make_problem
    from scalingfit._resample import _starts

    m = scalingfit.models.get(name)
    rng = np.random.default_rng(3)
    data, extras = [], []
    for j in range(40):
        x, y, p = make_problem(name, int(rng.integers(m.n_params, 50)), 0.01, rng)
        data.append((x, y, np.ones(len(y))))
        extras.append(None if j % 3 else np.vstack([p, p * 1.1]))
    lo, hi = m.lower.copy(), m.upper.copy()
    hi[0] = np.median([d[1].max() for d in data])  # some guesses are clipped
    got = _starts(m, data, extras, lo, hi, True)
    for j, (x, y, _) in enumerate(data):
        with np.errstate(all="ignore"):
            rows = [extras[j]] if extras[j] is not None else []
            want = np.clip(np.vstack(rows + [m.initial_guesses(x, y)]), lo, hi)
        assert same_bits(got[j], want[np.isfinite(want).all(axis=1)]), j
    nog = dataclasses.replace(m, guess=None, batch_guess=None, batch_guesses=None)
    assert same_bits(_starts(nog, data[:1], extras[:1], lo, hi, True)[0], np.clip(extras[0], lo, hi))
    with pytest.raises(ValueError, match="needs starts"):
        _starts(nog, data[1:2], [None], lo, hi, True)


def test_parabola_guess_is_the_least_squares_vertex() -> None:
    """The IsoFLOP parabola's start (Cramer's rule on centred normal equations, a stack of
    problems at once) is the vertex of np.polyfit's least-squares parabola; a concave or
    degenerate problem (two sizes) starts at its lowest point."""
    m = scalingfit.models.get("isoflop_parabola")
    rng = np.random.default_rng(2)
    for _ in range(30):
        n = int(rng.integers(3, 25))
        t = np.sort(rng.uniform(16, 24, n))
        y = 2.0 + rng.uniform(0.01, 0.3) * (t - rng.uniform(18, 22)) ** 2 + 0.01 * rng.standard_normal(n)
        c2, c1, c0 = np.polyfit(t, y, 2)
        want = [c0 - c1 * c1 / (4 * c2), -c1 / (2 * c2), c2] if c2 > 0 else None
        got = m.initial_guess(np.exp(t)[:, None], y)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-7)
    t = np.log([1e8, 1e8, 1e9, 1e9])
    got = m.initial_guess(np.exp(t)[:, None], np.array([2.1, 2.2, 2.0, 2.05]))
    np.testing.assert_allclose(got, [2.0, t[2], 1e-3 * (0.2 + 1e-12)], rtol=1e-12)
