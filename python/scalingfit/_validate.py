"""Input conversion and friendly errors: the one place user data becomes core arrays.

The binding accepts only float64/int64 C-contiguous arrays (pybind11 ``noconvert``), so all
conversion happens here, once, with errors that name the argument, the expectation, and the
first offending index.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional, TypeVar, Union, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _warnings
from ._custom import CustomModel, check_order, per_param
from ._warnings import DataWarning
from .models import Model

AnyModel = Union[Model, CustomModel]  # a built-in law or a custom Python one

FloatArray = NDArray[np.float64]
StartLike = Union[ArrayLike, Mapping[str, float]]  # values, or {param: value}
BoundsLike = Union[None, tuple[Any, Any], Mapping[str, tuple[float, float]]]
FixedLike = Optional[Mapping[str, float]]  # {param: value} held during the fit
MAX_ITER = 2**31 - 1  # the core counts iterations in a C int


def _first_bad(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _where(idx: tuple[int, ...], columns: Sequence[str] | None = None) -> str:
    if len(idx) == 1:
        return f"index {idx[0]}"
    col = columns[idx[1]] if columns is not None and idx[1] < len(columns) else str(idx[1])
    return f"row {idx[0]} (column {col})"


_TOO_LARGE = "an integer too large for a float (float64 ends at 1.8e308)"


def as_float_array(value: ArrayLike, name: str) -> FloatArray:
    """``value`` as float64; a TypeError naming ``name`` for text (even '1e9') or complex, a
    ValueError for a masked array with masked values (see :func:`check_unmasked`)."""
    check_unmasked(value, name)
    if isinstance(value, (str, bytes)) or _text_or_complex(value):
        raise TypeError(f"{name} must be numeric, got text or complex numbers: {value!r}")
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if kind in ("M", "m"):  # numpy made dates nanoseconds since 1970 ("must be > 0 ... 0.0"), durations seconds
        what = "dates or times" if kind == "M" else "durations"
        raise TypeError(f"{name} must be numbers, got {what} (dtype {value.dtype}): convert them to the "  # type: ignore[union-attr]
                        "quantity meant (e.g. tokens or steps) first")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except OverflowError:  # a Python int beyond float64's range
        raise ValueError(f"{name} must be numeric within float64's range, got {_TOO_LARGE}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(value, (list, tuple)) and _ragged(value):
            raise ValueError(f"{name} must be a regular array of numbers, got a ragged "
                             f"{type(value).__name__} (entries of different lengths: "
                             f"{_shapes(value)})") from None
        raise TypeError(f"{name} must be numeric, got {type(value).__name__}: {exc}") from None
    return arr


def check_unmasked(value: Any, name: str) -> None:
    """A ValueError naming ``name`` for a numpy masked array with masked values: converting
    it drops the mask, so the values under it would be used (a masked-out point fitted)."""
    if isinstance(value, np.ma.MaskedArray) and np.ma.getmaskarray(value).any():
        k = int(np.ma.getmaskarray(value).sum())
        raise ValueError(f"{name} is a masked array with {k} masked value(s), whose mask would be "
                         "ignored (the values under it used): drop the masked points from every "
                         "array (e.g. x[~mask], y[~mask]), or give them weights=0")


def _ragged(value: Sequence[Any]) -> bool:
    """Whether the entries of ``value`` have different shapes."""
    return len({_shape(v) for v in value}) > 1


def _shape(v: Any) -> tuple[int, ...]:
    try:
        return tuple(np.shape(v))
    except ValueError:  # itself ragged
        return (-1,)


def _shapes(value: Sequence[Any]) -> str:
    """The shapes of the entries of a ragged sequence, as "shapes (12,), ()" (a few)."""
    shown = ", ".join(str(_shape(v)) if _shape(v) != (-1,) else "ragged" for v in value[:6])
    return "shapes " + shown + (", ..." if len(value) > 6 else "")


def check_finite(arr: FloatArray, name: str, columns: Sequence[str] | None = None) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        if arr.ndim == 0:
            raise ValueError(f"{name} must be finite, got {float(arr)!r}")
        idx = _first_bad(bad)
        raise ValueError(
            f"{name} must be finite; {name} has {int(bad.sum())} non-finite value(s), "
            f"the first at {_where(idx, columns)}: {float(arr[idx])!r}"
        )


def check_positive(arr: FloatArray, name: str, why: str, columns: Sequence[str] | None = None,
                   *, nan_ok: bool = False) -> None:
    """A ValueError naming ``name`` and the first value not > 0 (NaN passes with ``nan_ok``:
    a prediction at NaN is NaN)."""
    bad = (arr <= 0) if nan_ok else ~(arr > 0)
    if bad.any():
        if arr.ndim == 0:
            raise ValueError(f"{name} must be > 0 ({why}), got {float(arr)!r}")
        idx = _first_bad(bad)
        raise ValueError(
            f"{name} must be > 0 ({why}); {name} has {int(bad.sum())} value(s) <= 0, "
            f"the first at {_where(idx, columns)}: {float(arr[idx])!r}"
        )


def _first_beyond(y: FloatArray, lo: float, hi: float) -> Optional[int]:
    """The index of ``y``'s first value below ``lo`` or above ``hi``, or None."""
    bad = (y > hi) | (y < lo)
    return int(np.argmax(bad)) if bad.any() else None


def check_metric_scale(y: FloatArray, name: str, floor: Optional[float], ceiling: Optional[float]) -> None:
    """A metric fitted between a fixed ``floor`` and ``ceiling`` must be on their scale: a
    value beyond them by more than their span (accuracy in percent against a ceiling of 1) is
    a ValueError naming ``name`` and its first such index. Without a ceiling nothing is
    checked (a free sigmoid takes any scale)."""
    if ceiling is None:
        return
    span = ceiling - (floor if floor is not None else min(0.0, ceiling))
    i = _first_beyond(y, -np.inf if floor is None else floor - span, ceiling + span)
    if span > 0 and i is not None:
        raise ValueError(
            f"{name}[{i}] = {y[i]:g} is far outside the fixed floor and ceiling ({floor}, "
            f"{ceiling}): pass the metric on their scale (fractions, not percent?)")


# ------------------------------------------------------------------ plain numbers
# Arguments that are numbers or arrays of numbers (sizes, budgets, constants): converted,
# checked, and named with the first bad index.
def _text_or_complex(value: Any) -> bool:
    """Whether an array-like holds text or complex numbers, which float conversion would turn
    into numbers ('1e9') or truncate (1+2j). Object arrays (pandas' nullable floats, None)
    are looked into: only their text counts."""
    try:
        a = np.asarray(value)
    except ValueError:  # ragged: the float conversion after this names it
        return False
    if a.dtype.kind in "USc":
        return True
    return a.dtype.kind == "O" and any(isinstance(v, (str, bytes, complex)) for v in a.ravel().tolist())


def _numbers(
    name: str, value: Any, ok: Callable[[FloatArray], Any], what: str, scalar: bool
) -> FloatArray:
    """``value`` as floats; a TypeError naming ``name`` unless numeric (a single number when
    ``scalar``), a ValueError naming ``name`` and the first bad index unless ``ok``."""
    check_unmasked(value, name)
    if isinstance(value, (str, bytes)) or _text_or_complex(value):
        what = type(value).__name__ if isinstance(value, (str, bytes)) else "text or complex numbers"
        raise TypeError(f"{name} must be a number, got {what} {value!r}")
    try:
        v = np.asarray(value, dtype=np.float64)
    except OverflowError:  # a Python int beyond float64's range: was a raw OverflowError
        raise ValueError(f"{name} must be {what}, got {_TOO_LARGE}") from None
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric, got {value!r}") from None
    if scalar and v.ndim != 0:
        raise TypeError(f"{name} must be a single number, got shape {v.shape}: {value!r}")
    with np.errstate(invalid="ignore"):
        bad = ~np.asarray(ok(v), dtype=bool)
    if bad.any():
        if v.ndim == 0:
            raise ValueError(f"{name} must be {what}, got {value!r}")
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        at = ", ".join(str(j) for j in i)
        raise ValueError(
            f"{name} must be {what}; {name}[{at}] = {float(v[i])!r}"
            + (f" ({int(bad.sum())} bad values)" if bad.sum() > 1 else "")
        )
    return v


def positive(
    name: str, value: ArrayLike, *, scalar: bool = False, allow_inf: bool = False
) -> FloatArray:
    """``value`` as floats, each finite (or ``+inf`` with ``allow_inf``) and > 0; raises
    naming ``name`` and the first bad index (a TypeError for text, or for an array when
    ``scalar``)."""
    if allow_inf:
        return _numbers(name, value, lambda v: v > 0, "> 0 (inf allowed)", scalar)
    return _numbers(name, value, lambda v: np.isfinite(v) & (v > 0), "finite and > 0", scalar)


def finite(name: str, value: ArrayLike, *, scalar: bool = False) -> FloatArray:
    """As :func:`positive`, for values of any sign."""
    return _numbers(name, value, np.isfinite, "finite", scalar)


def nonnegative(name: str, value: ArrayLike, *, scalar: bool = False) -> FloatArray:
    """As :func:`positive`, for values that may be 0."""
    return _numbers(
        name, value, lambda v: np.isfinite(v) & (v >= 0), "finite and >= 0", scalar
    )


def positive_number(value: Any, name: str) -> float:
    """One finite number > 0 as a float; a ValueError naming ``name`` otherwise (text, None
    and arrays too: the older contract of :func:`positive` with ``scalar=True``, whose
    TypeErrors become ValueErrors here)."""
    try:
        return float(positive(name, value, scalar=True))
    except TypeError:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}") from None


def integer(
    name: str, value: Any, *, least: int = 0, most: Optional[int] = None, floats: bool = True
) -> int:
    """A whole number in ``[least, most]`` as an int: a Python or numpy integer, or (with
    ``floats``) a float with an integral value such as ``1e3``; never a bool, text, None, NaN or
    inf. A ValueError naming ``name`` otherwise."""
    ok = not isinstance(value, bool) and (
        isinstance(value, (int, np.integer))
        or (floats and isinstance(value, (float, np.floating)) and np.isfinite(value)
            and float(value).is_integer())
    )
    if not ok or value < least:
        what = "a positive integer" if least == 1 else f"an integer >= {least}"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if most is not None and value > most:
        raise ValueError(f"{name} must be at most {most}, got {value!r}")
    return int(value)


def broadcast(**arrays: Any) -> tuple[int, ...]:
    """The broadcast shape of the named arrays; a ValueError naming the first two that do
    not broadcast together (``"N has shape (2,) but D has shape (3,): they must broadcast"``)
    instead of numpy's message."""
    shape: tuple[int, ...] = ()
    seen: list[tuple[str, tuple[int, ...]]] = []
    for name, value in arrays.items():
        sh = tuple(np.shape(value))
        try:
            shape = tuple(np.broadcast_shapes(shape, sh))
        except ValueError:
            other = next(n for n, s in seen if not _compatible(s, sh))
            o_sh = dict(seen)[other]
            raise ValueError(f"{other} has shape {o_sh} but {name} has shape {sh}: they must "
                             "broadcast") from None
        seen.append((name, sh))
    return shape


def _compatible(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def count(name: str, value: Any, *, most: Optional[int] = None) -> int:
    """A whole number >= 0 (a Python or numpy integer, not a bool or a float), at most
    ``most``; a ValueError naming ``name`` otherwise."""
    return integer(name, value, most=most, floats=False)


def resamples(name: str, value: Any, *, most: Optional[int] = None) -> int:
    """A bootstrap size: 0 (no bootstrap) or a whole number >= 2 (one resample is no
    distribution: its "interval" is a single point, which need not even hold the estimate)."""
    n = integer(name, value, most=most)
    if n == 1:
        raise ValueError(f"{name} must be 0 (no bootstrap) or an integer >= 2, got 1")
    return n


def flag(name: str, value: Any) -> bool:
    """A bool (Python or numpy); a TypeError naming ``name`` otherwise ("no" is not False)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def optional_flag(name: str, value: Any) -> Optional[bool]:
    """None, or a bool as for :func:`flag` (a TypeError naming ``name`` otherwise)."""
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True, False or None, got {value!r}")
    return None if value is None else bool(value)


def check_nonnegative(arr: FloatArray, name: str) -> None:
    bad = arr < 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must be >= 0; {name} has {int(bad.sum())} negative value(s), "
                         f"the first at index {i}: {float(arr[i])!r}")


def check_increasing(arr: FloatArray, name: str) -> None:
    """``arr`` (1-D, finite) strictly increasing; names the first index that is not."""
    bad = np.diff(arr) <= 0
    if bad.any():
        i = int(np.argmax(bad)) + 1
        raise ValueError(f"{name} must be strictly increasing; {name}[{i}] = {float(arr[i])!r} "
                         f"<= {name}[{i - 1}] = {float(arr[i - 1])!r}")


# ------------------------------------------------------------------ columns of a table
def columns(
    arrays: Mapping[str, ArrayLike],
    *,
    nan_policy: str = "raise",
    positive: Sequence[str] = (),
    why: str = "it enters a logarithm",
    offers_omit: bool = True,
) -> tuple[dict[str, FloatArray], NDArray[np.int64]]:
    """Named columns of one table: each a non-empty 1-D float array, all of one length.

    A row with a NaN or inf raises a ValueError naming the column and the first such row
    (``nan_policy="raise"``; the message suggests ``nan_policy='omit'`` when the caller
    ``offers_omit``), or is dropped with a :class:`DataWarning` listing the dropped rows
    (``"omit"``). Then the values of the ``positive`` columns must be > 0 (``why`` says why).
    Text or ragged input is a TypeError naming the column. Returns the columns (C-contiguous)
    and the indices of the rows kept.
    """
    if nan_policy not in ("raise", "omit"):
        raise ValueError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    cols: dict[str, FloatArray] = {}
    first: Optional[str] = None
    for name, value in arrays.items():
        arr = as_float_array(value, name)
        if arr.ndim != 1 or arr.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
        if first is None:
            first = name
        elif arr.shape[0] != cols[first].shape[0]:
            raise ValueError(
                f"{name} has {arr.shape[0]} values but {first} has {cols[first].shape[0]}"
            )
        cols[name] = arr
    if first is None:
        raise ValueError("no columns given")
    bad = np.zeros(cols[first].shape[0], dtype=bool)
    for arr in cols.values():
        bad |= ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad)
        r = int(rows[0])
        if nan_policy == "raise":
            name = next(k for k, v in cols.items() if not np.isfinite(v[r]))
            n_bad = int(np.sum(~np.isfinite(cols[name])))
            msg = (
                f"{name} must be finite; {name} has {n_bad} non-finite value(s), the first at "
                f"index {r}: {float(cols[name][r])!r}"
            )
            if offers_omit:
                msg += (
                    f"; {rows.size} row(s) have NaN or inf, the first is row {r}; pass "
                    "nan_policy='omit' to drop such rows"
                )
            raise ValueError(msg)
        shown = ", ".join(str(int(i)) for i in rows[:10]) + (" ..." if rows.size > 10 else "")
        _warnings.warn(
            f"dropped {rows.size} row(s) with NaN or inf: rows {shown}", DataWarning, stacklevel=3
        )
        cols = {k: v[~bad] for k, v in cols.items()}
        if cols[first].shape[0] == 0:
            raise ValueError("every row has a NaN or inf: nothing to fit")
    for name in positive:
        check_positive(cols[name], name, why)
    kept = np.flatnonzero(~bad).astype(np.int64)
    return {k: np.ascontiguousarray(v) for k, v in cols.items()}, kept


def one_point(x: Any, n_inputs: int, name: str = "x") -> tuple[Any, bool]:
    """``x`` with a single point's forms made explicit, and whether it named one point: a
    number (a one-input law's point, as shape (1,)) or, for a law of several inputs, a sequence
    of ``n_inputs`` numbers such as ``(N, D)`` (as shape (1, n_inputs); ``name`` in the error
    when they are not numbers). Anything else (columns such as ``([N], [D])``, an array) is
    returned as given, for :func:`as_inputs`."""
    if isinstance(x, (int, float, np.number)) or (isinstance(x, np.ndarray) and x.ndim == 0):
        return np.reshape(x, (1,)), True
    if n_inputs > 1 and isinstance(x, (list, tuple, np.ndarray)) and len(x) == n_inputs \
            and all(np.ndim(v) == 0 for v in x):
        return np.reshape(as_float_array(x, name), (1, n_inputs)), True
    return x, False


def as_inputs(x: Any, model: AnyModel, name: str = "x") -> FloatArray:
    """Model inputs as an (n, n_inputs) C-contiguous float64 array.

    Accepts a 1-D array (one input), a 2-D array of shape (n, n_inputs), or a tuple/list of
    n_inputs 1-D arrays (columns, e.g. ``(N, D)``). A table (a pandas DataFrame) whose column
    names include every input name of the model (``N``, ``D``) is read by name, in the
    model's order, whatever the order of its columns; other tables by position.
    """
    k = model.n_inputs
    names = getattr(x, "columns", None)
    if names is not None and k > 1 and all(n in list(names) for n in model.input_names):
        x = np.column_stack([np.asarray(x[n]) for n in model.input_names])
    if isinstance(x, list) and len(x) == k > 1 and all(
            isinstance(c, (list, tuple)) and len(c) == k for c in x):
        raise ValueError(
            f"{name} is ambiguous: a list of {k} lists of {k} numbers reads as {k} rows or as "
            f"{k} columns; pass a tuple of columns ({', '.join(model.input_names)}) or an array "
            f"of shape (n, {k}), one row per point"
        )
    columns = isinstance(x, (tuple, list)) and len(x) == k > 1  # (N, D): one entry per input
    ndims = [len(_shape(c)) for c in x] if columns else []  # ragged: 1
    if len(ndims) == k > 1 and 1 in ndims and 0 in ndims:
        i = ndims.index(0)
        raise ValueError(
            f"{name} must hold one 1-D column per input ({', '.join(model.input_names)}), one value "
            f"per point; {name}[{i}] ({model.input_names[i]}) is a single number {x[i]!r}: repeat "
            f"it for every point (np.full(n, value))"
        )
    if columns and all(d == 1 for d in ndims):
        cols = [as_float_array(c, f"{name}[{i}]") for i, c in enumerate(x)]
        lengths = {c.shape[0] for c in cols}
        if len(lengths) != 1:
            raise ValueError(
                f"{name} columns ({', '.join(model.input_names)}) have different lengths: "
                f"{[c.shape[0] for c in cols]}"
            )
        arr = np.column_stack(cols)
    else:
        arr = as_float_array(x, name)
        if arr.ndim == 1 and k == 1:
            arr = arr.reshape(-1, 1)
        elif arr.ndim != 2 or arr.shape[1] != k:
            raise ValueError(
                f"{name} must have shape (n, {k}) for model {model.name!r} "
                f"(columns {', '.join(model.input_names)}), got shape {arr.shape}"
            )
    return np.ascontiguousarray(arr, dtype=np.float64)


def as_targets(y: ArrayLike, n: int, name: str = "y", x_name: str = "x") -> FloatArray:
    arr = as_float_array(y, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} points but {x_name} has {n}")
    return np.ascontiguousarray(arr)


def as_weights(weights: Optional[ArrayLike], n: int) -> Optional[FloatArray]:
    if weights is None:
        return None
    w = as_targets(weights, n, name="weights", x_name="y")
    check_finite(w, "weights")
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise ValueError(f"weights must be >= 0; weights[{i}] = {float(w[i])!r}")
    return w


def as_bounds(
    bounds: BoundsLike, model: AnyModel, fixed: FixedLike = None
) -> tuple[FloatArray, FloatArray]:
    """(lower, upper) arrays from None (the model's defaults), a (lo, hi) pair of scalars or
    arrays (scipy style), or a mapping ``{param: (lo, hi)}`` overriding the defaults; then each
    parameter of ``fixed`` held at its value (lower = upper, which the solver reads as fixed)."""
    lo, hi = _box(bounds, model)
    if fixed is None:
        fixed = {}
    if not isinstance(fixed, Mapping):
        raise TypeError(f"fixed must be a {{name: value}} dict, got {type(fixed).__name__}")
    for key, value in fixed.items():
        i = _param_index(model, key, "fixed")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"fixed value of {key} must be a number, got {value!r}") from None
        if not np.isfinite(v):
            raise ValueError(f"fixed value of {key} must be finite, got {v!r}")
        if not lo[i] <= v <= hi[i]:
            raise ValueError(
                f"fixed value of {key}, {v!r}, is outside its bounds [{float(lo[i])!r}, "
                f"{float(hi[i])!r}]"
            )
        lo[i] = hi[i] = v
    if (lo == hi).all():
        raise ValueError(f"every parameter of {model.name} is fixed (by fixed= or equal bounds): "
                         "nothing to fit")
    return lo, hi


def _param_index(model: AnyModel, key: str, what: str) -> int:
    """The index of parameter ``key``; a ValueError naming the argument ``what`` otherwise."""
    if key not in model.param_names:
        raise ValueError(
            f"{what} names unknown parameter {key!r}; {model.name} has "
            f"{', '.join(model.param_names)}"
        )
    return model.param_names.index(key)


def n_free(lo: FloatArray, hi: FloatArray) -> int:
    """Parameters the solver fits: those whose bounds differ (equal bounds fix one)."""
    return int(np.sum(lo != hi))


def _box(bounds: BoundsLike, model: AnyModel) -> tuple[FloatArray, FloatArray]:
    P = model.n_params
    lo = np.full(P, -np.inf) if model.lower is None else model.lower.copy()
    hi = np.full(P, np.inf) if model.upper is None else model.upper.copy()
    if bounds is None:
        pass
    elif isinstance(bounds, Mapping):
        for key, pair in bounds.items():
            i = _param_index(model, key, "bounds")
            try:
                lo[i], hi[i] = (float(v) for v in pair)  # exactly two numbers
            except (TypeError, ValueError):
                raise ValueError(
                    f"bounds[{key!r}] must be a (lower, upper) pair of numbers, got {pair!r}"
                ) from None
    else:
        try:
            b_lo, b_hi = bounds
        except (TypeError, ValueError):
            raise ValueError("bounds must be None, a (lower, upper) pair or a {name: (lo, hi)} dict") from None
        lo, hi = (per_param(b, f"bounds[{k}] ({which})", model.param_names, inf)
                  for k, (b, which, inf) in enumerate(((b_lo, "lower", -np.inf), (b_hi, "upper", np.inf))))
    for arr, which in ((lo, "lower"), (hi, "upper")):
        if np.isnan(arr).any():
            i = int(np.argmax(np.isnan(arr)))
            raise ValueError(f"bounds: {which} bound of {model.param_names[i]} is NaN")
    check_order(lo, hi, model.param_names, "bounds: ")
    return np.ascontiguousarray(lo), np.ascontiguousarray(hi)


def as_starts(
    p0: StartLike, model: AnyModel, lo: FloatArray, hi: FloatArray, name: str = "p0"
) -> FloatArray:
    """Start vectors as an (k, n_params) array, each finite and inside the bounds; a fixed
    parameter (equal bounds) starts at its value whatever is given for it, and a mapping may
    leave it out."""
    P = model.n_params
    if isinstance(p0, Mapping):
        unknown = [k for k in p0 if k not in model.param_names]
        if unknown:
            raise ValueError(
                f"{name} names unknown parameter(s) {unknown}; {model.name} has "
                f"{', '.join(model.param_names)}"
            )
        held = {n: float(a) for n, a, b in zip(model.param_names, lo, hi) if a == b}
        missing = [n for n in model.param_names if n not in p0 and n not in held]
        if missing:
            raise ValueError(f"{name} is missing parameter(s) {missing} of {model.name}")
        p0 = [p0[n] if n in p0 else held[n] for n in model.param_names]
    arr = as_float_array(p0, name)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != P:
        raise ValueError(
            f"{name} must have {P} entries ({', '.join(model.param_names)}) per start, "
            f"got shape {np.shape(p0)}"
        )
    arr = pin_fixed(arr, lo, hi)
    check_finite(arr, name, model.param_names)
    outside = (arr < lo) | (arr > hi)
    if outside.any():
        r, c = _first_bad(outside)
        raise ValueError(
            f"{name} is outside the bounds at start {r}, parameter {model.param_names[c]} "
            f"(index {c}): {float(arr[r, c])!r} not in [{float(lo[c])!r}, {float(hi[c])!r}]"
        )
    return np.ascontiguousarray(arr)


def pin_fixed(starts: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """``starts`` (k, P) with each fixed parameter's column (equal bounds) set to its value."""
    held = lo == hi
    if not held.any():
        return starts
    return np.ascontiguousarray(np.where(held, lo, starts))


def as_offsets(offsets: ArrayLike, n_points: int) -> NDArray[np.int64]:
    if isinstance(offsets, (list, tuple)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in offsets):
        # Python ints past int64 (numpy made [0, 2**63, 40] floats): clipped, past any count
        arr = np.array([max(min(int(v), 2**63 - 1), -2**63) for v in offsets], dtype=np.int64)
    else:
        arr = np.asarray(offsets)
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise ValueError(f"offsets must be 1-D with n_problems + 1 >= 2 entries, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"offsets must be integers, got dtype {arr.dtype}")
    if arr.dtype == np.uint64:  # past 2**63 it would wrap to negative in int64: no count is that big
        arr = np.minimum(arr, np.uint64(2**63 - 1))
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr[0] != 0:
        raise ValueError(f"offsets[0] must be 0, got {int(arr[0])}")
    if arr[-1] != n_points:
        raise ValueError(f"offsets[-1] must equal the number of points {n_points}, got {int(arr[-1])}")
    d = np.diff(arr)
    if (d < 0).any():
        i = int(np.argmax(d < 0))
        raise ValueError(f"offsets must be non-decreasing; offsets[{i + 1}] < offsets[{i}]")
    return arr


def check_loss(loss: str, losses: Sequence[str]) -> int:
    if loss not in losses:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(losses)}")
    return list(losses).index(loss)


#: The range of f_scale: the core works with its square, which must stay a normal float (at
#: 1e160 every loss, the linear one too, gave a NaN cost and status -1).
F_SCALE_RANGE = (1e-100, 1e100)


def check_options(f_scale: float, max_iter: int, ftol: float, xtol: float, gtol: float) -> None:
    """The solver's options: f_scale finite and in :data:`F_SCALE_RANGE`, max_iter a whole
    number that fits the core's int, the tolerances finite and >= 0 (text, None and arrays
    named too)."""
    if (type(f_scale) is float and type(max_iter) is int and type(ftol) is float
            and type(xtol) is float and type(gtol) is float
            and F_SCALE_RANGE[0] <= f_scale <= F_SCALE_RANGE[1] and 0 <= max_iter <= MAX_ITER
            and 0.0 <= ftol < math.inf and 0.0 <= xtol < math.inf and 0.0 <= gtol < math.inf):
        return  # plain Python numbers in range (the defaults): 0.2 us, not 40 us of numpy
    try:
        fs = positive("f_scale", f_scale, scalar=True)
    except (TypeError, ValueError):
        raise ValueError(f"f_scale must be positive and finite, got {f_scale!r}") from None
    if not F_SCALE_RANGE[0] <= float(fs) <= F_SCALE_RANGE[1]:
        raise ValueError(f"f_scale must be between {F_SCALE_RANGE[0]:g} and {F_SCALE_RANGE[1]:g} (the scale of "
                         f"the residuals; the solver uses its square), got {f_scale!r}")
    integer("max_iter", max_iter, most=MAX_ITER)
    for name, tol in (("ftol", ftol), ("xtol", xtol), ("gtol", gtol)):
        nonnegative(name, tol, scalar=True)


def nan_percentile(v: ArrayLike, p: ArrayLike, axis: int) -> FloatArray:
    """``np.nanpercentile(v, p, axis=axis)``, NaN where a slice is all NaN, without numpy's
    "All-NaN slice" RuntimeWarning (silencing that with ``warnings.catch_warnings`` is not
    thread-safe: it swaps the process-wide filters)."""
    a = np.moveaxis(np.asarray(v, dtype=np.float64), axis, -1)
    pa = np.asarray(p, dtype=np.float64)
    out = np.full(pa.shape + a.shape[:-1], np.nan)
    has = ~np.isnan(a).all(axis=-1)
    if has.any():
        out[..., has] = np.nanpercentile(a[has], pa, axis=-1)
    return out


# ------------------------------------------------------------------ argument names
# The same option has different names across the package, kept for compatibility (the number
# of resamples is n_resamples in bootstrap, n_bootstrap in chinchilla.fit_isoflop, bootstrap in
# refit): a wrong guess gets the right name added to Python's TypeError. The wrapper costs one
# call frame and a try block (free in CPython 3.11+) on success; everything else is done when
# such a TypeError has already been raised.
_F = TypeVar("_F", bound=Callable[..., Any])

# One option, its names across the package (and a few common elsewhere: scikit-learn's
# random_state, n_jobs). ``alpha`` is left out on purpose: here it is an exponent, not 1 - level.
ARGUMENT_SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("number of bootstrap resamples", ("n_resamples", "n_bootstrap", "n_boot", "bootstrap",
                                       "resamples", "n_bootstraps", "num_resamples", "n_boots")),
    ("confidence level", ("level", "confidence", "ci", "confidence_level", "conf_level",
                          "ci_level")),
    ("robust loss", ("loss_fn", "loss", "robust_loss", "loss_function")),
    ("robust loss's scale", ("f_scale", "delta", "huber_delta", "loss_scale")),
    ("random seed", ("seed", "random_state", "rng", "random_seed")),
    ("thread count", ("threads", "n_jobs", "workers", "n_threads", "num_threads", "n_workers",
                      "jobs")),
    ("interval method", ("interval_method", "ci_method")),
    ("law", ("law", "params")),  # planning: law= in data_wall, params= in inference_optimal
    ("resampling scheme", ("scheme", "resample")),
)


def suggest_argument_names(fn: _F) -> _F:
    """``fn`` unchanged (name, docstring, ``inspect.signature`` and pickling by name, through
    :func:`functools.wraps`), except that a call with an unknown keyword, or a keyword that
    repeats a positional argument, raises the same TypeError with the name ``fn`` uses added:
    a synonym (``n_resamples`` for ``fit_isoflop``'s ``n_bootstrap``), else a close spelling,
    else the list of its keyword arguments. Only TypeErrors of the call itself are touched:
    one raised inside ``fn`` passes through unchanged."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError as exc:
            # The call's own binding error has no frame below this one (fn never started).
            if exc.__traceback__ is None or exc.__traceback__.tb_next is not None:
                raise
            hint = argument_hint(fn, str(exc))
            if hint is None:
                raise
        raise TypeError(hint) from None

    return cast(_F, wrapper)


def argument_hint(fn: Callable[..., Any], message: str,
                  like: Optional[Callable[..., Any]] = None) -> Optional[str]:
    """``message`` (a TypeError of a call to ``fn``) with the suggestion of
    :func:`suggest_argument_names` appended, or None when it is not an argument-name error.
    ``like``: a function whose keyword options ``fn`` takes through ``**kwargs`` (as
    ``kaplan.fit_power_law`` takes ``fit_power_laws``'), named instead of ``fn``'s."""
    import re  # the error path only: nothing here runs on a successful call

    names = {getattr(fn, "__name__", ""), getattr(fn, "__qualname__", "")} - {""}
    m = re.match(r"(\S+)\(\) got (an unexpected keyword|multiple values for) argument '(\w+)'",
                 message)
    if m is None or m.group(1) not in names:
        return None
    try:
        hint = _suggestion(fn, m.group(3), repeated=m.group(2) == "multiple values for", like=like)
    except Exception:  # a signature inspect cannot read: the original error as it was
        return None
    return f"{message}; {hint}"


def _suggestion(fn: Callable[..., Any], name: str, repeated: bool,
                like: Optional[Callable[..., Any]] = None) -> str:
    import difflib
    import inspect

    params = inspect.signature(like or fn).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    keywords = [p.name for p in params if p.kind in kinds]
    data = {p.name for p in params if p.kind in kinds and p.default is inspect.Parameter.empty}
    options = [k for k in keywords if k not in data]
    if like is not None:  # fn's **kwargs: like's options, not its data
        keywords, data = options, set()
    title = fn.__name__

    for what, group in ARGUMENT_SYNONYMS:
        if name in group:
            alts = [g for g in group if g in options and g != name]
            held = [g for g in group if g in data]  # fit_isoflop's loss: the data, not an option
            is_data = f"its {' and '.join(held)} argument is the data" if held else ""
            if alts:
                said = " or ".join(alts)
                note = f"{title}'s {what} is {said}" + (f"; {is_data}" if held else "")
                return f"did you mean {said}? ({note})"
            if held:  # e.g. fit_envelope: loss is the data, and there is no robust loss
                return (f"{title} takes no {what} ({is_data}); its keyword arguments are: "
                        f"{', '.join(keywords)}")
            break
    if repeated:
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        by_position = [p.name for p in params if p.kind in positional]
        return (f"{name} was given both by position and by keyword ({title}'s arguments by "
                f"position are {', '.join(by_position)})")

    # A misspelling: of one of fn's names, or of a synonym of one (n_resample for n_bootstrap).
    score: dict[str, float] = {}
    for k in keywords:
        score[k] = difflib.SequenceMatcher(None, name, k).ratio()
    for _, group in ARGUMENT_SYNONYMS:
        near = max(difflib.SequenceMatcher(None, name, g).ratio() for g in group)
        if near >= 0.9:
            for g in group:
                if g in options:
                    score[g] = max(score[g], near)
    # The nearest, and any about as near: n_resample is n_bootstrap (0.95 through n_resamples)
    # for fit_isoflop, not also resample (0.89).
    best = max(score.values(), default=0.0)
    close = sorted((k for k in score if score[k] >= max(0.6, best - 0.05)),
                   key=lambda k: -score[k])[:3]
    if close:
        return f"did you mean {' or '.join(close)}?"
    return f"{title}'s keyword arguments are: {', '.join(keywords) or 'none'}"


# ------------------------------------------------------------------ computed quantities
def _entry(name: str, value: ArrayLike, idx: tuple[int, ...]) -> str:
    """``name = v`` (``name[i] = v`` for an array) at the entry of a broadcast result at
    ``idx`` that ``value`` contributed to (numpy's broadcasting rules)."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return f"{name} = {float(a):g}"
    sub = tuple(0 if s == 1 else i for s, i in zip(a.shape, idx[len(idx) - a.ndim:]))
    return f"{name}[{', '.join(map(str, sub))}] = {float(a[sub]):g}"


def check_computed(value: ArrayLike, what: str, given: Mapping[str, Any], remedy: str, *,
                   underflow: bool = False) -> FloatArray:
    """``value``, the quantity ``what`` (e.g. ``"6 N D"``) computed from the checked arguments
    ``given`` ({name: value}, broadcasting against it) under ``np.errstate(over="ignore")``,
    as an array (a numpy scalar for one number) when every entry is finite (and, with
    ``underflow``, > 0: a quantity that cannot be 0 but rounded to it). Else a ValueError:
    ``remedy`` (which should start with the argument's name, "N and D must be ...", so that
    the CLI can put its option there), then ``what``, that it overflows float64 (or
    underflows to 0) and the arguments at the first such entry, by index for an array: never
    numpy's RuntimeWarning and an inf further on."""
    v = np.asarray(value, dtype=np.float64)
    over = ~np.isfinite(v)
    bad = over | (v == 0) if underflow else over
    if not bad.any():
        return v[()]  # 0-d: a numpy scalar, as numpy's arithmetic gives
    idx = _first_bad(bad) if v.ndim else ()
    how = ("overflows float64 (beyond 1.8e308)" if over[idx]
           else "underflows float64 (to 0, below 5e-324)")
    at = "" if v.ndim == 0 else f" at index {', '.join(map(str, idx))}"
    more = f" ({int(bad.sum())} such entries)" if bad.sum() > 1 else ""
    args = ", ".join(_entry(k, a, idx) for k, a in given.items())
    raise ValueError(f"{remedy}: {what} {how}{at} for {args}{more}")


def check_fraction(y: FloatArray, name: str, what: str) -> None:
    """A metric that is a fraction in [0, 1] (an accuracy, an error rate) must be given as one:
    a value beyond [0, 1] by more than its span (42 for 42%) is a ValueError naming ``name``
    and its first such index (as :func:`check_metric_scale` with floor 0 and ceiling 1, for a
    metric whose floor and ceiling are not fixed)."""
    i = _first_beyond(y, -1.0, 2.0)
    if i is not None:
        raise ValueError(
            f"{name}[{i}] = {y[i]:g} is far outside [0, 1]: {name} must be {what} as a fraction "
            f"(0.42, not 42 percent); divide a metric in percent by 100")
