"""scalingfit's own warning classes (filter them by class, not by message), and how the
package emits, silences and gathers them.

Every scalingfit warning goes through :func:`warn`. A call that must silence some of the
warnings of the calls it makes (a bootstrap counts its failed replicates itself), or gather
them to label them (``compare_models``), does so with :func:`suppressed` or :func:`collected`:
context variables, local to the thread (and task) that sets them. ``warnings.catch_warnings``
is not used for this: it swaps the process-wide filter list and ``showwarning``, so calls
running at once on several threads lost each other's warnings, labelled one thread's warning
as another's, and could leave every later warning of the process silenced.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings
from collections.abc import Iterator
from types import FrameType
from typing import Optional


class ScalingFitWarning(UserWarning):
    """Base class of every warning scalingfit emits."""


class ConvergenceWarning(ScalingFitWarning):
    """A fit did not converge, or converged to a non-identifiable solution."""


class DataWarning(ScalingFitWarning):
    """Input data were skipped, repaired, or look unsuitable for the requested analysis."""


class IdentifiabilityWarning(ConvergenceWarning):
    """The data cannot pin some parameters down: J^T J is singular at the solution (status -2),
    or an exponent's input spans under one decade, so the exponent trades off against its
    amplitude (e.g. Chinchilla's alpha and A when N spans less than 10x)."""


class UncertaintyWarning(ScalingFitWarning):
    """The reported standard errors or intervals are known to misstate the uncertainty of this
    fit (e.g. the Gauss-Newton standard errors of a robust fit whose residuals mostly lie
    beyond ``f_scale``): use a bootstrap or a profile for intervals."""


_SUPPRESSED: contextvars.ContextVar[tuple[type[Warning], ...]] = contextvars.ContextVar(
    "scalingfit_suppressed", default=())
_SINK: contextvars.ContextVar[Optional[list[tuple[str, type[Warning]]]]] = contextvars.ContextVar(
    "scalingfit_sink", default=None)


def warn(message: str, category: type[Warning], stacklevel: int = 1) -> None:
    """``warnings.warn(message, category)`` pointing at the first frame outside this package
    (:func:`_level`), unless this thread is inside :func:`suppressed` for
    the category (dropped) or inside :func:`collected` (kept in its list)."""
    if issubclass(category, _SUPPRESSED.get()):
        return
    sink = _SINK.get()
    if sink is not None:
        sink.append((str(message), category))
        return
    warnings.warn(message, category, stacklevel=_level(stacklevel) + 1)


#: This package's folder: a warning points at the first frame outside it.
_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _level(stacklevel: int) -> int:
    """The ``stacklevel`` (as seen from :func:`warn`'s caller) of the first frame outside this
    package: the user's line that called into scalingfit, however deep inside it the warning
    arose (a fit run by ``bootstrap`` or ``profile_interval`` warned at their lines with its
    own stacklevel=2; a pass-through wrapper of ``_validate.suggest_argument_names`` is inside
    too). Without such a frame (code of the package run as a script), ``stacklevel`` itself."""
    frame: Optional[FrameType] = sys._getframe(2)
    i = 1
    while frame is not None:
        if not frame.f_code.co_filename.startswith(_HERE):
            return i
        frame, i = frame.f_back, i + 1
    return stacklevel


@contextlib.contextmanager
def suppressed(*categories: type[Warning]) -> Iterator[None]:
    """Inside (in this thread only): scalingfit's warnings of these classes are dropped."""
    token = _SUPPRESSED.set(_SUPPRESSED.get() + categories)
    try:
        yield
    finally:
        _SUPPRESSED.reset(token)


@contextlib.contextmanager
def collected() -> Iterator[list[tuple[str, type[Warning]]]]:
    """Inside (in this thread only): scalingfit's warnings are kept, as ``(message, class)``,
    in the list this yields instead of being shown (warnings :func:`suppressed` are dropped)."""
    sink: list[tuple[str, type[Warning]]] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)
