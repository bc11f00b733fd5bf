"""Warnings under threads: scalingfit silences or gathers the warnings of the calls it makes
with context variables (local to a thread), never with ``warnings.catch_warnings``, which
swaps the process-wide filter list and ``showwarning``. With it, fits running at once on
several threads lost each other's warnings (62 of 200 delivered), re-labelled one thread's
warning as another comparison's, and left an "ignore everything" filter behind."""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scalingfit
from scalingfit import _warnings
from scalingfit.bootstrap import bootstrap_batch

N = np.logspace(7, 10, 12)
L = (1.7 + 400 * N**-0.34) * np.exp(0.01 * np.sin(np.arange(12)))


@pytest.mark.parametrize("others", ["fit", "compare", "bootstrap"])
def test_a_threads_warnings_reach_it_alone_and_the_filters_stay(others: str) -> None:
    calls = 60
    seen: list[tuple[str, type, str]] = []
    lock = threading.Lock()

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        with lock:
            seen.append((threading.current_thread().name, category, str(message)))

    def emitter() -> None:
        threading.current_thread().name = "emitter"
        for _ in range(calls):  # one ConvergenceWarning per call
            scalingfit.fit("saturating_power_law", N, L, [1.5, 300, 0.3], max_iter=1)

    def other() -> None:
        threading.current_thread().name = "other"
        for _ in range(calls // 4):
            if others == "fit":
                scalingfit.fit("saturating_power_law", N, L)
            elif others == "compare":
                scalingfit.compare_models(["power_law", "saturating_power_law"], N, L, log_residuals=True)
            else:
                scalingfit.bootstrap("saturating_power_law", N, L, n_resamples=20).stderr("alpha")

    with warnings.catch_warnings():  # this test's own filters, set before any thread starts
        warnings.simplefilter("always")
        warnings.showwarning = show
        before = list(warnings.filters)
        with ThreadPoolExecutor(5) as ex:
            futures = [ex.submit(emitter)] + [ex.submit(other) for _ in range(4)]
            for f in futures:
                f.result()
        assert warnings.filters == before and warnings.showwarning is show
    conv = [s for s in seen if "did not converge" in s[2]]
    assert len(conv) == calls
    assert all(name == "emitter" and cat is scalingfit.ConvergenceWarning for name, cat, _ in conv)
    assert not any(text.startswith(("power_law:", "saturating_power_law:"))
                   for _, _, text in conv)  # not re-labelled by another thread's comparison


def test_suppressed_and_collected_are_local_to_the_thread() -> None:
    inside = threading.Event()
    done = threading.Event()
    caught: list = []

    def hold() -> None:
        with _warnings.suppressed(scalingfit.ConvergenceWarning), _warnings.collected() as sink:
            inside.set()
            done.wait(10)
            _warnings.warn("kept", scalingfit.DataWarning)
            _warnings.warn("dropped", scalingfit.ConvergenceWarning)
            caught.extend(sink)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(10)
    with pytest.warns(scalingfit.ConvergenceWarning, match="main thread"):
        _warnings.warn("main thread", scalingfit.ConvergenceWarning)
    done.set()
    t.join()
    assert caught == [("kept", scalingfit.DataWarning)]


def test_interval_summaries_of_all_failed_problems_are_nan_without_numpy_warnings() -> None:
    """stderr and percentile intervals of a problem whose replicates all failed are NaN; numpy's
    all-NaN RuntimeWarning is no longer silenced with a process-wide filter (this suite turns
    warnings into errors, so one would fail the test)."""
    x = np.concatenate([N, N])
    y = np.concatenate([L, np.full(12, np.nan)])  # the second problem cannot be fitted
    r = bootstrap_batch("saturating_power_law", x, y, [0, 12, 24], n_resamples=30, method="percentile")
    assert list(r.center_status) == [1, -3]
    se = r.stderr("alpha")
    assert np.isfinite(se[0]) and np.isnan(se[1])
    ci = r.ci("alpha")
    assert np.isfinite(ci[0]).all() and np.isnan(ci[1]).all()
    v = r.values("alpha")[0]
    np.testing.assert_allclose(se[0], np.std(v - np.median(v), ddof=1), rtol=1e-12)
