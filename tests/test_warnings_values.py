"""scalingfit's warning classes and its thread-local silencing, against counts by hand: the
warnings that reach Python's ``warnings`` machinery (recorded with ``catch_warnings``) out of
those emitted inside nested and multi-class ``suppressed`` blocks, and the class hierarchy
the module documents (filter by class)."""

from __future__ import annotations

import warnings

import pytest
from scalingfit import _warnings as W


def _shown(*calls: type[Warning]) -> list[type[Warning]]:
    """The classes of the warnings that ``W.warn`` lets through for each class in ``calls``."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for cat in calls:
            W.warn(f"a {cat.__name__}", cat)
    return [w.category for w in seen]


ALL = (W.DataWarning, W.ConvergenceWarning, W.IdentifiabilityWarning, W.UncertaintyWarning)


def test_nothing_suppressed_shows_everything() -> None:
    assert _shown(*ALL) == list(ALL)


def test_nested_suppression_keeps_the_outer_classes() -> None:
    """Inside suppressed(DataWarning), an inner suppressed(ConvergenceWarning) drops both
    (0 of 3 shown; replacing the outer classes let the DataWarning through); leaving the
    inner block restores the outer set (the ConvergenceWarning shows again)."""
    with W.suppressed(W.DataWarning):
        with W.suppressed(W.ConvergenceWarning):
            assert _shown(W.DataWarning, W.ConvergenceWarning, W.IdentifiabilityWarning) == []
            assert _shown(W.UncertaintyWarning) == [W.UncertaintyWarning]
        assert _shown(W.DataWarning, W.ConvergenceWarning) == [W.ConvergenceWarning]
    assert _shown(W.DataWarning) == [W.DataWarning]


def test_suppressing_several_classes_at_once() -> None:
    """suppressed(A, B) drops A and B alike (only A was dropped: 1 leaked), not others."""
    with W.suppressed(W.DataWarning, W.UncertaintyWarning):
        assert _shown(W.DataWarning, W.UncertaintyWarning) == []
        assert _shown(W.ConvergenceWarning) == [W.ConvergenceWarning]
    with W.suppressed(W.UncertaintyWarning, W.DataWarning):  # the order does not matter
        assert _shown(W.DataWarning, W.UncertaintyWarning) == []


def test_identifiability_is_a_convergence_warning() -> None:
    """IdentifiabilityWarning is a ConvergenceWarning (it is status -2 of a fit), so
    suppressing or filtering ConvergenceWarning covers it; every class is a
    ScalingFitWarning and a UserWarning."""
    assert issubclass(W.IdentifiabilityWarning, W.ConvergenceWarning)
    assert W.IdentifiabilityWarning.__mro__[1] is W.ConvergenceWarning
    for cls in ALL:
        assert issubclass(cls, W.ScalingFitWarning) and issubclass(cls, UserWarning)
    assert not issubclass(W.DataWarning, W.ConvergenceWarning)
    assert not issubclass(W.UncertaintyWarning, W.ConvergenceWarning)
    with W.suppressed(W.ConvergenceWarning):
        assert _shown(W.IdentifiabilityWarning) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", W.ConvergenceWarning)
        with pytest.raises(W.IdentifiabilityWarning):
            W.warn("not identifiable", W.IdentifiabilityWarning)


def test_collected_keeps_what_is_not_suppressed() -> None:
    """Inside collected(), warnings go to its list, those suppressed excepted."""
    with W.suppressed(W.DataWarning), W.collected() as sink:
        assert _shown(W.DataWarning, W.ConvergenceWarning) == []
    assert sink == [("a ConvergenceWarning", W.ConvergenceWarning)]
