"""Mutation round 9, _warnings.py: without any frame outside the package (its code run as a
script), a warning keeps the ``stacklevel`` it was given (here: 1, the line that called warn)."""

from __future__ import annotations

import warnings

from scalingfit import _warnings as W


def test_without_an_outside_frame_the_given_stacklevel_is_used(monkeypatch) -> None:
    monkeypatch.setattr(W, "_HERE", "")  # every file is "inside" the package
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        W.warn("inside only", W.DataWarning, stacklevel=1)
    assert [(str(w.message), w.category, w.filename) for w in seen] == [("inside only", W.DataWarning, __file__)]
