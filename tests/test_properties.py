"""Property-based tests: no input crashes, hangs, or returns a silent wrong answer.

Hypothesis feeds the public API (fit, fit_batch, bootstrap, bootstrap_batch) random shapes and
numbers of every kind: NaN, +-inf, the largest and smallest doubles, zeros, negative sizes,
empty problems, degenerate designs (every N equal), starts at (or outside) bounds, extreme
exponents. Every outcome must be either a valid result, each item with a known status code and
``success=True`` only with finite parameters and cost, or a clear ``ValueError``/``TypeError``.
scalingfit's own warnings (non-convergence, identifiability) are expected here; any other
warning (a numpy RuntimeWarning leaking out of the library) is an error, as everywhere in the
suite. Problems are small, so the ~2,500 examples take well under a minute.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Optional

import numpy as np
import pytest
import scalingfit
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from scalingfit import _core, _status
from scalingfit._warnings import IdentifiabilityWarning, ScalingFitWarning
from scalingfit.bootstrap import METHODS, SCHEMES, bootstrap, bootstrap_batch

MODELS = scalingfit.models.names()
LOSSES = list(scalingfit.models.LOSSES)
STATUSES = set(_status.MESSAGES)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# SCALINGFIT_PROPERTY_SCALE scales every example count (CI's sanitizer job runs a fifth).
SCALE = float(os.environ.get("SCALINGFIT_PROPERTY_SCALE", "1"))


def examples(n: int) -> int:
    return max(10, int(n * SCALE))


# Numbers of every kind; plausible positive magnitudes are the most common so that the solver
# gets real work as well as rejections.
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 1e300, 1e-300,
           2.2250738585072014e-308, 5e-324]
plausible = st.floats(1e-3, 1e12)
anything = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, allow_infinity=True))
number = st.one_of(plausible, plausible, plausible, anything)
param_value = st.one_of(st.floats(-3.0, 3.0), st.floats(-1e3, 1e3), st.sampled_from([0.0, 1e-300, 1e300, -1e300]))


def outcome(call: Callable[[], Any]) -> Optional[Any]:
    """The result of call(), or None when it raised a clear ValueError/TypeError (counted as
    hypothesis events: --hypothesis-show-statistics shows the mix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        try:
            r = call()
        except (ValueError, TypeError) as exc:
            assert str(exc), "errors must say what is wrong"
            _event(f"raised {type(exc).__name__}")
            return None
    _event("returned a result")
    return r


def _event(what: str) -> None:
    if currently_in_test_context():
        event(what)


def check_items(x: np.ndarray, cost: np.ndarray, status: np.ndarray, n_items: int, P: int) -> None:
    assert x.shape == (n_items, P) and cost.shape == (n_items,) and status.shape == (n_items,)
    assert set(np.unique(status).tolist()) <= STATUSES, np.unique(status)
    ok = status > 0
    assert np.isfinite(x[ok]).all(), "success=True with non-finite parameters"
    assert np.isfinite(cost[ok]).all() and (cost[ok] >= 0).all(), "success=True with a bad cost"


def check_fit(r: scalingfit.FitResult, P: int) -> None:
    check_items(r.x.reshape(1, P), np.array([r.cost]), np.array([r.status]), 1, P)
    assert r.success == (r.status > 0)
    assert r.cov.shape == (P, P)
    assert isinstance(r.message, str) and r.message


@st.composite
def inputs(draw: st.DrawFn, m: scalingfit.models.Model, n: int, dirty: bool) -> np.ndarray:
    """(n, n_inputs) inputs: mostly spread-out plausible values, sometimes one value repeated
    (a degenerate design), and when `dirty` sometimes anything."""
    kind = draw(st.sampled_from(["spread", "spread", "equal"] + (["any"] if dirty else [])))
    cols = []
    for _ in range(m.n_inputs):
        if kind == "equal":
            cols.append(np.full(n, draw(plausible)))
        elif kind == "spread":
            cols.append(np.array(draw(st.lists(plausible, min_size=n, max_size=n))))
        else:
            cols.append(np.array(draw(st.lists(number, min_size=n, max_size=n))))
    return np.column_stack(cols) if cols else np.zeros((n, 0))


@st.composite
def starts(draw: st.DrawFn, m: scalingfit.models.Model, lo: np.ndarray, hi: np.ndarray, k: int) -> np.ndarray:
    """k starts; each parameter anything moderate or extreme, or exactly at a finite bound."""
    out = np.empty((k, m.n_params))
    for i in range(k):
        for a in range(m.n_params):
            choice = draw(st.integers(0, 3))
            if choice == 0 and np.isfinite(lo[a]):
                out[i, a] = lo[a]
            elif choice == 1 and np.isfinite(hi[a]):
                out[i, a] = hi[a]
            else:
                out[i, a] = draw(param_value)
    return out


def targets(n: int, dirty: bool) -> st.SearchStrategy[np.ndarray]:
    values = st.one_of(st.floats(0.5, 10.0), number) if dirty else st.floats(0.5, 10.0)
    return st.lists(values, min_size=n, max_size=n).map(np.array)


def weights(n: int, dirty: bool) -> st.SearchStrategy[np.ndarray]:
    values = st.sampled_from([0.0, 1.0, 2.0])
    return st.lists(st.one_of(values, number) if dirty else values, min_size=n, max_size=n).map(np.array)


f_scales = st.one_of(st.floats(1e-6, 1e3), st.floats(1e-6, 1e3), st.sampled_from([0.0, -1.0, np.inf, np.nan]))


@st.composite
def fit_problem(draw: st.DrawFn) -> dict[str, Any]:
    """One problem; a quarter of them may hold values of any kind (mostly rejected with a
    ValueError), the rest are valid data the solver must handle, degenerate or not."""
    m = scalingfit.models.get(draw(st.sampled_from(MODELS)))
    dirty = draw(st.integers(0, 3)) == 0
    n = draw(st.integers(0, 12))
    x = draw(inputs(m, n, dirty))
    y = draw(targets(n, dirty))
    kw: dict[str, Any] = dict(loss=draw(st.sampled_from(LOSSES)), log_residuals=draw(st.booleans()),
                              max_iter=draw(st.sampled_from([0, 1, 5, 50, 500])))
    if draw(st.booleans()):
        kw["weights"] = draw(weights(n, dirty))
    if draw(st.booleans()):
        kw["f_scale"] = draw(f_scales)
    if draw(st.booleans()):
        kw["p0"] = draw(starts(m, m.lower, m.upper, 1))[0]
    return dict(model=m, x=x, y=y, kw=kw)


@settings(max_examples=examples(700), **SETTINGS)
@given(fit_problem())
def test_fit_returns_a_valid_result_or_a_clear_error(case: dict[str, Any]) -> None:
    m = case["model"]
    r = outcome(lambda: scalingfit.fit(m, case["x"], case["y"], **case["kw"]))
    if r is not None:
        check_fit(r, m.n_params)


@st.composite
def batch_problem(draw: st.DrawFn) -> dict[str, Any]:
    m = scalingfit.models.get(draw(st.sampled_from(MODELS)))
    counts = draw(st.lists(st.integers(0, 9), min_size=1, max_size=5))  # empty problems included
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n = int(offsets[-1])
    dirty = draw(st.booleans())  # bad data inside a problem is a status in a batch, not an error
    x = np.vstack([draw(inputs(m, c, dirty)) for c in counts]) if n else np.zeros((0, m.n_inputs))
    y = draw(targets(n, dirty))
    kw: dict[str, Any] = dict(loss=draw(st.sampled_from(LOSSES)), log_residuals=draw(st.booleans()),
                              max_iter=draw(st.sampled_from([0, 3, 50, 500])),
                              threads=draw(st.sampled_from([None, 1, 2])))
    lo, hi = m.lower.copy(), m.upper.copy()
    if draw(st.booleans()):  # finite bounds around a box of moderate values
        lo = np.array(draw(st.lists(st.floats(-5.0, 1.0), min_size=m.n_params, max_size=m.n_params)))
        hi = lo + np.array(draw(st.lists(st.floats(0.0, 10.0), min_size=m.n_params, max_size=m.n_params)))
        kw["bounds"] = (lo, hi)
    if draw(st.booleans()):
        k = draw(st.integers(0, 8))
        kw["p0"] = draw(starts(m, lo, hi, k))
        kw["problem"] = np.array(draw(st.lists(st.integers(0, len(counts) - 1), min_size=k, max_size=k)),
                                 dtype=np.int64)
    return dict(model=m, x=x, y=y, offsets=offsets, kw=kw)


@settings(max_examples=examples(600), **SETTINGS)
@given(batch_problem(), st.integers(1, 10))
def test_fit_batch_valid_and_split_batches_are_bit_identical(case: dict[str, Any], per_call: int) -> None:
    m = case["model"]
    call = lambda mm: scalingfit.fit_batch(m, case["x"], case["y"], case["offsets"], max_memory=mm,
                                           **case["kw"])
    r = outcome(lambda: call(None))
    if r is None:
        return
    n_items = r.x.shape[0]
    check_items(r.x, r.cost, r.status, n_items, m.n_params)
    # Bad data inside a problem is a status, never an exception for the others.
    assert np.array_equal(r.success, r.status > 0)
    # The same batch under a memory cap that splits it (down to one item per call) is the same bits.
    P = m.n_params
    fixed = 8 * case["x"].size + 8 * case["y"].size + len(case["offsets"])
    split = outcome(lambda: call(fixed + per_call * (8 * P + 8 * P * P + 16)))
    assert split is not None
    for a, b in ((r.x, split.x), (r.cost, split.cost), (r.status, split.status), (r.cov, split.cov)):
        assert np.array_equal(a, b, equal_nan=True)


@st.composite
def bootstrap_problem(draw: st.DrawFn, batch: bool) -> dict[str, Any]:
    case = draw(batch_problem()) if batch else draw(fit_problem())
    kw = {k: v for k, v in case["kw"].items() if k not in ("p0", "problem")}
    scheme = draw(st.sampled_from(list(SCHEMES)))
    kw.update(scheme=scheme, n_resamples=draw(st.integers(2, 6)), seed=draw(st.integers(0, 2**64 - 1)),
              method=draw(st.sampled_from(list(METHODS))), wild=draw(st.sampled_from(["rademacher", "webb", "mammen"])),
              max_memory=draw(st.sampled_from([None, 1 << 16, 1 << 30])))
    n = case["y"].shape[0]
    if scheme == "groups":
        kw["groups"] = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    if batch and draw(st.booleans()):
        kw["problem_id"] = np.array(draw(st.lists(st.integers(-(2**63), 2**63 - 1),
                                                  min_size=len(case["offsets"]) - 1,
                                                  max_size=len(case["offsets"]) - 1)), dtype=np.int64)
    case["kw"] = kw
    return case


def check_bootstrap_batch(b: Any, P: int) -> None:
    n_problems, R = b.status.shape
    assert b.samples.shape == (n_problems, R, P) and b.center_status.shape == (n_problems,)
    check_items(b.samples.reshape(-1, P)[b.status.reshape(-1) > 0], np.zeros(int((b.status > 0).sum())),
                b.status.reshape(-1)[b.status.reshape(-1) > 0], int((b.status > 0).sum()), P)
    assert set(np.unique(b.status).tolist()) <= STATUSES
    assert np.isnan(b.samples[b.status <= 0]).all(), "failed replicates must be NaN, never mixed in"
    for name in b.param_names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScalingFitWarning)
            try:
                ci = b.ci(name)
            except ValueError as exc:  # e.g. BCa without a jackknife
                assert str(exc)
                continue
        assert ci.shape == (n_problems, 2)
        assert np.isnan(ci[b.center_status <= 0]).all()


@settings(max_examples=examples(350), **SETTINGS)
@given(bootstrap_problem(batch=False))
def test_bootstrap_returns_a_valid_result_or_a_clear_error(case: dict[str, Any]) -> None:
    m = case["model"]
    kw = dict(case["kw"])
    kw.pop("threads", None)
    r = outcome(lambda: bootstrap(m, case["x"], case["y"], **kw))
    if r is not None:
        check_fit(r.fit, m.n_params)
        check_bootstrap_batch(r.batch, m.n_params)


@settings(max_examples=examples(350), **SETTINGS)
@given(bootstrap_problem(batch=True))
def test_bootstrap_batch_returns_a_valid_result_or_a_clear_error(case: dict[str, Any]) -> None:
    m = case["model"]
    r = outcome(lambda: bootstrap_batch(m, case["x"], case["y"], case["offsets"], **case["kw"]))
    if r is not None:
        check_bootstrap_batch(r, m.n_params)


# ------------------------------------------------------------------ numerical safety
@settings(max_examples=examples(300), **SETTINGS)
@given(st.floats(-8.0, 8.0), st.floats(-300.0, 300.0), st.floats(-3.0, 3.0))
def test_power_laws_are_evaluated_in_log_space(log_x: float, alpha: float, e: float) -> None:
    """A x^-alpha is exp(-alpha log x) times A: it equals exp(log A - alpha log x) wherever
    x^-alpha is representable, and is 0 or inf (never NaN) where the exact value under- or
    overflows, for inputs from 1e-98 to 1e98 and |alpha| up to 300."""
    x = np.array([[10.0 ** log_x * 10.0 ** (e * 30)]])
    for A in (1e-250, 1.0, 1e250):
        f, J = _core.evaluate(scalingfit.models.get("power_law").index, x, np.array([A, alpha]))
        assert not np.isnan(f).any() and not np.isnan(J).any()
        with np.errstate(over="ignore", under="ignore"):
            xa = np.exp(-alpha * np.log(x[0, 0]))
            exact = np.exp(np.log(A) - alpha * np.log(x[0, 0]))
        if np.isfinite(xa) and xa > 0 and np.isfinite(exact) and exact > 1e-300:
            assert f[0] == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("model", ["power_law", "saturating_power_law", "chinchilla"])
def test_huge_and_tiny_inputs_fit_or_fail_cleanly(model: str) -> None:
    """Sizes near the ends of the double range: a result with a status, never garbage."""
    m = scalingfit.models.get(model)
    for scale in (1e-300, 1e-150, 1e150, 1e300):
        x = np.logspace(0, 3, 12)[:, None].repeat(m.n_inputs, axis=1) * scale
        y = 2.0 + 3.0 * np.linspace(1, 0.1, 12)
        r = outcome(lambda: scalingfit.fit(m, x, y))
        if r is not None:
            check_fit(r, m.n_params)


def test_no_success_with_non_finite_parameters_on_a_grid_of_nasty_starts() -> None:
    """Extreme starts (|p| up to 1e300) on good data: whatever the outcome, a converged item
    has finite parameters (a step is only accepted where the cost is finite)."""
    rng = np.random.default_rng(0)
    for model in MODELS:
        m = scalingfit.models.get(model)
        x = np.column_stack([np.logspace(1, 6, 10)] * m.n_inputs) if m.n_inputs > 1 else np.logspace(1, 6, 10)
        if model == "lr_annealing":
            x = np.column_stack([np.linspace(1, 100, 10), np.linspace(0, 0.5, 10)])
        y = 1.0 + rng.random(10)
        p0 = 10.0 ** rng.uniform(-300, 300, (400, m.n_params)) * rng.choice([-1, 1], (400, m.n_params))
        p0 = np.clip(p0, m.lower, m.upper)
        r = outcome(lambda: scalingfit.fit_batch(m, x, y, [0, 10], p0, problem=np.zeros(400, dtype=np.int64)))
        assert r is not None
        check_items(r.x, r.cost, r.status, 400, m.n_params)


# ------------------------------------------------------------------ identifiability
def test_all_sizes_equal_is_singular_and_warns() -> None:
    N = np.full(10, 1e9)
    y = 2.0 + 0.01 * np.arange(10)
    for model, p0 in (("saturating_power_law", [1.0, 100.0, 0.3]), ("power_law", [1.0, 0.3])):
        with pytest.warns(IdentifiabilityWarning, match="not identifiable"):
            r = scalingfit.fit(model, N, y, p0=p0)
        assert r.status == _status.SINGULAR and not r.success
    # Chinchilla with every D equal: B, beta and E cannot be told apart.
    N = np.logspace(8, 10, 10)
    with pytest.warns(IdentifiabilityWarning):
        r = scalingfit.fit("chinchilla", (N, np.full(10, 1e11)), 1.7 + 400 * N ** -0.3 + 0.02 * np.arange(10))
    assert r.status == _status.SINGULAR


def test_exponent_over_less_than_a_decade_warns_naming_it() -> None:
    rng = np.random.default_rng(1)
    N = 10 ** rng.uniform(8.0, 8.6, 40)    # 0.6 decades: alpha trades off against A
    D = 10 ** rng.uniform(9.0, 12.0, 40)   # 3 decades: beta is fine
    L = 1.7 + 400 * N ** -0.34 + 410 * D ** -0.28
    with pytest.warns(IdentifiabilityWarning, match=r"N spans 0\.\d+ decades.*alpha") as rec:
        scalingfit.fit("chinchilla", (N, D), L * (1 + 0.005 * rng.standard_normal(40)))
    assert not any("beta" in str(w.message) for w in rec)
    # Three decades of both: no warning at all (warnings are errors in this suite).
    N = 10 ** rng.uniform(7.5, 10.5, 40)
    L = 1.7 + 400 * N ** -0.34 + 410 * D ** -0.28
    scalingfit.fit("chinchilla", (N, D), L * (1 + 0.005 * rng.standard_normal(40)))


def test_a_nearly_singular_fit_the_pivot_test_passes_warns_naming_the_parameters() -> None:
    """A broken power law on 7 points whose scaled J'J has a smallest eigenvalue of ~1e-33:
    in the release build the unpivoted Cholesky's pivots (8.5e-14 and 1.8e-11 in numpy's
    order) pass the core's 1e-13 test, so status 2 with standard errors of 4e7 (A = 46.6) and
    5e8, without a word (a build that sums in another order, ASan's -O1, finds it singular).
    fit now warns either way, naming among others the two parameters of the near-null
    direction of the scaled J'J (computed here with numpy: A and alpha). The check itself on
    a covariance built with a known near-null direction names exactly its parameters; an
    ordinary fit (condition number ~1e3-1e5) does not warn (warnings are errors here)."""
    from scalingfit import _identify

    x = np.array([96286131.04458883, 4039420.135559295, 20353425.273700204, 262470993.52655584,
                  168288953367.75833, 29058761221.699543, 445417130.7624373])
    y = np.array([1.4539437447205477, 5.700075520762266, 3.0088271282013634, 1.0868965364507317,
                  0.5874943418497224, 0.6124646860364986, 0.8829354407115613])
    p0 = [0.6573261595333756, 82.17333003221292, 0.1265415662494642, 0.5737949598823386,
          15.405632556678858, 1.033904164331339]
    with pytest.warns(IdentifiabilityWarning) as rec:
        r = scalingfit.fit("broken_power_law", x, y, p0)
    msg = str(rec[0].message)
    if r.status == _status.SINGULAR:  # the pivot test caught it in this build
        assert "not identifiable" in msg
    else:
        assert "correlation matrix is nearly singular" in msg
        m = scalingfit.models.get("broken_power_law")
        J = m.jacobian(r.x, x[:, None])
        H = J.T @ J
        s = 1 / np.sqrt(np.diag(H))
        _, vec = np.linalg.eigh(H * np.outer(s, s))  # J'J's near-null direction, scaled
        v = np.abs(vec[:, 0])
        named = [n for n, f in zip(m.param_names, v) if f >= 0.25 * v.max()]
        assert named == ["A", "alpha"]
        listed = msg.split("): ")[1].split(" are not separately determined")[0].split(", ")
        assert set(named) <= set(listed) and "E" not in listed

    # a covariance whose scaled inverse has eigenvalue 1e-14 along (b + c) / sqrt(2)
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(np.c_[[0.0, 1.0, 1.0, 0.0], rng.standard_normal((4, 3))])
    info = Q @ np.diag([1e-14, 0.5, 1.0, 2.0]) @ Q.T
    scale = np.array([1e-3, 10.0, 1e4, 1.0])  # units: the condition is scale-free
    cov = np.linalg.inv(info) * np.outer(scale, scale)
    why = _identify.near_singular(("a", "b", "c", "d"), cov)
    assert why is not None and "): b, c are not separately determined" in why
    assert _identify.near_singular(("a", "b", "c", "d"), np.diag(scale**2)) is None
    N = np.logspace(7, 10, 12)
    scalingfit.fit("saturating_power_law", N, (1.7 + 400 * N ** -0.34) * (1 + 0.01 * np.sin(N)))


def test_best_per_problem_of_a_batch_without_items() -> None:
    """Regression (found by hypothesis through bootstrap_batch, whose problems all had unusable
    initial guesses): a batch with no items used to raise IndexError."""
    r = scalingfit.fit_batch("power_law", np.logspace(1, 3, 6), np.ones(6), [0, 3, 6],
                             np.zeros((0, 2)), problem=np.zeros(0, dtype=np.int64))
    best = r.best_per_problem()
    assert best.x.shape == (2, 2) and np.isnan(best.x).all()
    assert best.status.tolist() == [_status.BAD_INPUT] * 2


def test_binding_rejects_layouts_that_would_read_or_allocate_out_of_bounds() -> None:
    """Regressions (found writing the fuzz target): _core.solve_batch checked only the first
    and last offsets, so [0, 100, 5] made the core read 100 points of a 5-point batch; and
    n_groups was unbounded, so a huge count meant a huge per-thread scratch allocation inside a
    worker thread (std::terminate). Both are ValueErrors at the binding now."""
    x, y = np.logspace(1, 2, 5)[:, None], np.ones(5)
    lo, hi = np.full(2, -np.inf), np.full(2, np.inf)
    args = (1e-12, 1e-10, 1e-10, 10, 1.0, False, True, 1)
    with pytest.raises(ValueError, match="non-decreasing"):
        _core.solve_batch(0, 0, x, y, None, np.array([0, 100, 5]), np.zeros(1, dtype=np.int64),
                          np.ones((1, 2)), lo, hi, *args)
    off = np.array([0, 5])
    with pytest.raises(ValueError, match=r"n_groups\[0\] = 1000000000000 is not between 0 and"):
        _core.bootstrap_batch(0, 0, x, y, None, off, np.ones((1, 2)), lo, hi, 1, 0, 0, None,
                              np.zeros(5, dtype=np.int32), np.array([10**12]), np.zeros(1, dtype=np.int64),
                              np.zeros(1, dtype=np.int64), *args)
    with pytest.raises(ValueError, match="n_groups must be between 1 and n_points"):
        _core.resample_multiplicities(1, 0, 0, np.zeros(1, dtype=np.int64), 5,
                                      np.zeros(5, dtype=np.int32), 10**12, 1)


@st.composite
def clean_batch_problem(draw: st.DrawFn) -> dict[str, Any]:
    """A batch with nothing a caller could be refused for: finite targets, positive finite
    inputs (spread or all equal), empty problems allowed, default bounds and starts."""
    m = scalingfit.models.get(draw(st.sampled_from(MODELS)))
    counts = draw(st.lists(st.integers(0, 9), min_size=1, max_size=4))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n = int(offsets[-1])
    x = np.vstack([draw(inputs(m, c, False)) for c in counts]) if n else np.zeros((0, m.n_inputs))
    kw: dict[str, Any] = dict(loss=draw(st.sampled_from(LOSSES)), log_residuals=draw(st.booleans()),
                              max_iter=draw(st.sampled_from([1, 50, 500])), threads=draw(st.sampled_from([None, 1, 2])))
    return dict(model=m, x=x, y=draw(targets(n, False)), offsets=offsets, kw=kw)


@settings(max_examples=examples(250), **SETTINGS)
@given(clean_batch_problem(), st.sampled_from(list(SCHEMES)), st.sampled_from(list(METHODS)))
def test_clean_batches_always_return_a_result(case: dict[str, Any], scheme: str, method: str) -> None:
    """The tests above accept a ValueError/TypeError as a clear refusal; on a clean batch
    there is nothing to refuse: fit_batch and bootstrap_batch must return (bad or too few
    points inside a problem are its status), whatever the model, loss, scheme and method."""
    m = case["model"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        r = scalingfit.fit_batch(m, case["x"], case["y"], case["offsets"], **case["kw"])
        check_items(r.x, r.cost, r.status, r.x.shape[0], m.n_params)
        kw = {k: v for k, v in case["kw"].items() if k != "max_iter"}
        if scheme == "groups":
            kw["groups"] = np.arange(case["y"].shape[0]) % 3
        b = bootstrap_batch(m, case["x"], case["y"], case["offsets"], n_resamples=4, seed=1, scheme=scheme,
                            method=method, **kw)
    check_bootstrap_batch(b, m.n_params)
