"""Predicting a run's final loss from its early checkpoints, schedule-aware.

A loss curve fitted with a power law in tokens (``E + A·T^-a``) on the first 10–30% of a
cosine-decayed run over-predicts the final loss: the late drop comes from the decay of the
learning rate, not from more tokens. Since the schedule is known in advance, a model in the
*learning-rate areas* of Tissue et al. (2024), "Scaling Law with Learning Rate Annealing",
does much better:

    S1(s) = Σ_{i<=s} η_i / η_peak                       (forward area, in peak-LR steps)
    S2(s) = (1-λ) Σ_{i<=s} m_i,  m_i = λ m_{i-1} + (η_{i-1} - η_i) / η_peak   (annealing area)
    L(s)  = (L0 + A · S1^-alpha) · (1 - C · S2)

Tissue et al. subtract ``C·S2``; the multiplicative form used here keeps ``C`` nearly constant
across model sizes and run lengths (0.0412–0.0538, median 0.0475, standard deviation 0.0028
on the 30 OLMo-ladder runs, 190M–3.2B, 0.5–10×Chinchilla, where the additive C ranges
0.12–0.21), so a value calibrated on finished runs transfers to new ones, up to that
run-to-run spread. Early in a cosine run the learning rate has hardly moved, so C cannot be
learned from the early checkpoints themselves; it is fixed (calibrated) by default, and its
run-to-run spread is carried into the prediction intervals. With C fixed the model is a
saturating power law in S1 of ``L / (1 - C·S2)``, fitted with weights ``(1 - C·S2)^2`` (the
same objective).

Also here: the plain power law in tokens and the learning curve with a warm-up offset
(``E + A·(t + t0)^-alpha``) as baselines, Kaplan's L(N, S) fitted jointly over a sweep, flags
for loss spikes and curves inconsistent with the model, and the gap between a mid-run
checkpoint and the final checkpoint of a shorter run at equal tokens (never treat the former
as the latter).

Every fit is batched: all runs of a sweep are one ``fit_batch`` call, and all their
resamples a second one, each started at its run's fit (the resamples here are drawn in numpy,
as integer weights, because each one also draws its own annealing coefficient, from the
calibration or from the spread around a fixed C; see :func:`predict_final_loss`).

>>> import numpy as np
>>> from scalingfit import curves
>>> step = np.arange(100, 10001, 100.0)
>>> lr = curves.cosine_schedule(step, peak=1e-3, warmup=500, total=10000)
>>> S1, S2 = curves.lr_areas(step, lr)
>>> round(float(S2[-1]), 3)
0.856
"""

from __future__ import annotations

import operator
import reprlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _resample, _warnings
from ._resample import (
    LawFit,
    fit_many,
    percentile_interval,
    resample_weights,
    table,
    two_sided_quantile,
)
from ._status import BAD_INPUT, NON_FINITE, SINGULAR
from ._status import message as status_message
from ._validate import (
    as_bounds,
    as_float_array,
    check_finite,
    check_increasing,
    check_nonnegative,
    check_positive,
    finite,
    integer,
    nonnegative,
    positive,
    positive_number,
    resamples,
    suggest_argument_names,
)
from ._warnings import ConvergenceWarning, DataWarning, IdentifiabilityWarning
from .bootstrap import _check_level
from .models import get as get_model

__all__ = [
    "DEFAULT_ANNEALING",
    "DEFAULT_ANNEALING_SD",
    "DEFAULT_DECAY",
    "AnnealingCalibration",
    "Curve",
    "CurveCheck",
    "FinalLossPrediction",
    "calibrate_annealing",
    "check_curves",
    "cosine_schedule",
    "lr_areas",
    "midrun_gap",
    "predict_final_loss",
    "predict_final_loss_kaplan",
]

FloatArray = NDArray[np.float64]

DEFAULT_ANNEALING = 0.048
"""Relative annealing coefficient C calibrated on the 30 OLMo-ladder runs (C4 loss, decay
0.999, cosine to 10% of peak; per-run values of :func:`calibrate_annealing` 0.0412–0.0538,
median 0.0475). Calibrate your own with :func:`calibrate_annealing` on finished runs of the
same recipe."""

DEFAULT_ANNEALING_SD = 0.0028
"""Run-to-run standard deviation of C on the same 30 OLMo-ladder runs (0.00277, ddof 1): the
spread :func:`predict_final_loss` propagates into its interval when ``annealing`` is a number
(the default included), since a C carried over from other runs is not the C of this one."""

DEFAULT_DECAY = 0.999
"""λ of the annealing momentum (Tissue et al. use 0.999 per step)."""

MAX_LR_STEPS = 100_000_000
"""Largest last step :func:`lr_areas` accepts. The areas are sums over every optimizer step, so
they take one float per step (about 5 GB of work arrays at this limit); a longer "run" almost
always means steps were given in tokens."""


# ----------------------------------------------------------------------------- checks
@contextmanager
def _named(where: str) -> Iterator[None]:
    """Prefix ``where`` (e.g. the curve's name) to the ValueErrors raised inside."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


_CURVE_FIELDS = ("step", "tokens", "loss", "lr", "N")


def _as_curve(run: Any, c: Any) -> Any:
    """A mapping's entry as a Curve: a Curve, or a mapping with the fields ``step``, ``tokens``,
    ``loss`` (and optionally ``lr``, ``N``), as :func:`scalingfit.datasets.load_olmo_val_losses`
    returns them; anything else as it is (named by :func:`_curves`)."""
    if isinstance(c, Mapping) and {"step", "tokens", "loss"} <= set(c):
        return Curve(str(run), **{k: c[k] for k in _CURVE_FIELDS if k in c})
    return c


def _curves(curves: Any, name: str = "curves", empty: str = "no curves") -> list[Curve]:
    """``curves`` as a non-empty list of :class:`Curve`; a TypeError naming ``name`` and the
    first entry that is not one (a ValueError when there is none). A mapping of run names to
    curves, or to their fields (``step``, ``tokens``, ``loss``, optionally ``lr`` and ``N``: what
    :func:`scalingfit.datasets.load_olmo_val_losses` returns), gives one Curve per run."""
    if isinstance(curves, Curve):
        raise TypeError(f"{name} must be a sequence of Curve objects, got one Curve: wrap it in a list")
    if isinstance(curves, Mapping):
        curves = [_as_curve(run, c) for run, c in curves.items()]
    if isinstance(curves, (str, bytes)) or not isinstance(curves, Iterable):
        raise TypeError(f"{name} must be a sequence of Curve objects, got {type(curves).__name__}")
    out = list(curves)
    if not out:
        raise ValueError(empty)
    for i, c in enumerate(out):
        if not isinstance(c, Curve):
            raise TypeError(f"{name} must be a sequence of Curve objects (or a mapping of run names to "
                            f"curves or to their step, tokens, loss fields); {name}[{i}] is "
                            f"{type(c).__name__} {reprlib.repr(c)}")
    return out


def _curve(value: Any, name: str) -> Curve:
    if not isinstance(value, Curve):
        raise TypeError(f"{name} must be a Curve, got {type(value).__name__} {value!r}")
    return value


# ----------------------------------------------------------------------------- schedules
def cosine_schedule(step: ArrayLike, *, peak: float, warmup: float, total: float,
                    final_ratio: float = 0.1) -> FloatArray:
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to
    ``final_ratio · peak`` at step ``total``.

    Parameters
    ----------
    step : array_like
        Steps (finite, >= 0).
    peak : float
        The peak learning rate (> 0).
    warmup : float
        Warm-up steps (>= 0, at most ``total``).
    total : float
        The step where the decay ends (> 0); later steps keep the final rate.
    final_ratio : float
        The final rate as a fraction of ``peak``, in [0, 1]; default 0.1.

    Examples
    --------
    >>> cosine_schedule([0, 50, 100, 1000], peak=1.0, warmup=100, total=1000).round(3).tolist()
    [0.0, 0.5, 1.0, 0.1]
    """
    s = nonnegative("step", step)
    pk = float(positive("peak", peak, scalar=True))
    wu = float(nonnegative("warmup", warmup, scalar=True))
    tot = float(positive("total", total, scalar=True))
    fr = float(nonnegative("final_ratio", final_ratio, scalar=True))
    if wu > tot:
        raise ValueError(f"warmup must be <= total; got warmup = {warmup!r} > total = {total!r}")
    if fr > 1:
        raise ValueError(f"final_ratio (the final lr as a fraction of peak) must be in [0, 1], got {final_ratio!r}")
    peak, warmup, total, final_ratio = pk, wu, tot, fr
    warm = peak * s / max(warmup, 1e-12)
    frac = np.clip((s - warmup) / max(total - warmup, 1e-12), 0.0, 1.0)
    decay = peak * (final_ratio + (1 - final_ratio) * 0.5 * (1 + np.cos(np.pi * frac)))
    return np.where(s < warmup, warm, decay)


def _exp_filter(d: FloatArray, lam: float) -> FloatArray:
    """m_i = lam m_{i-1} + d_i, in chunks short enough that lam^-chunk cannot overflow."""
    n = d.shape[0]
    out = np.empty(n)
    chunk = int(max(1, min(50_000, np.floor(300.0 / max(-np.log(lam), 1e-300)))))
    carry = 0.0
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        i = np.arange(e - s, dtype=np.float64)
        pw = lam ** i
        m = pw * (carry + np.cumsum(d[s:e] / pw))
        out[s:e] = m
        carry = float(m[-1]) * lam
    return out


def lr_areas(
    steps: ArrayLike,
    lr: Optional[ArrayLike] = None,
    *,
    lr_per_step: Optional[ArrayLike] = None,
    decay: float = DEFAULT_DECAY,
    peak: Optional[float] = None,
) -> tuple[FloatArray, FloatArray]:
    """The learning-rate areas S1 (forward) and S2 (annealing) at each checkpoint.

    Parameters
    ----------
    steps : array (n,)
        Checkpoint steps (optimizer steps, >= 0, strictly increasing, the last at most
        :data:`MAX_LR_STEPS`).
    lr : array (n,), optional
        Learning rate at each checkpoint; the schedule between checkpoints is interpolated
        linearly (from 0 at step 0 if the first checkpoint is later).
    lr_per_step : array (m,), optional
        The learning rate at every step 0..steps[-1] (``m > steps[-1]``; overrides ``lr``).
    decay : float
        λ of the annealing momentum.
    peak : float, optional
        Peak learning rate (default: the maximum).

    Returns
    -------
    S1, S2 : arrays (n,)
        ``S1`` in steps at peak LR; ``S2`` = (1-λ)·Σ m_i in units of the peak LR (0 before the
        decay starts, approaching ``1 - η_final/η_peak`` once the decay is long past). Learning
        rate increases (warm-up) do not count in S2.

    Notes
    -----
    Tissue et al. (2024) define ``S2 = Σ m_i`` without the factor ``(1-λ)``; this one is
    theirs times ``(1-λ)``, so that S2 stays below 1 whatever λ. Their law is also additive,
    ``L0 + A S1^-α - C S2``, where ``lr_annealing`` is relative, ``(L0 + A S1^-α)(1 - C S2)``:
    a C of theirs is not one of ours. At a point, ``C_theirs = C_ours (1-λ) (L0 + A S1^-α)``
    (the same λ); :data:`DEFAULT_ANNEALING` is on our scale.
    """
    st = as_float_array(steps, "steps")
    if st.ndim != 1 or st.size == 0:
        raise ValueError(f"steps must be a non-empty 1-D array, got shape {st.shape}")
    check_finite(st, "steps")
    check_increasing(st, "steps")
    if st[0] < 0:
        raise ValueError(f"steps must be >= 0, got steps[0] = {float(st[0])!r}")
    if st[-1] > MAX_LR_STEPS:
        raise ValueError(
            f"steps[-1] = {float(st[-1]):.4g} is more than MAX_LR_STEPS = {MAX_LR_STEPS:.0e}: the "
            f"learning-rate areas take one value per optimizer step; are these steps given in tokens?")
    decay = float(finite("decay", decay, scalar=True))
    if not 0.0 < decay < 1.0:
        raise ValueError(f"decay must be in (0, 1), got {decay!r}")
    if peak is not None:
        positive_number(peak, "peak")
    last = int(np.ceil(st[-1]))
    if lr_per_step is not None:
        eta = as_float_array(lr_per_step, "lr_per_step")
        if eta.ndim != 1 or eta.shape[0] < last + 1:
            raise ValueError(f"lr_per_step must be a 1-D array of at least {last + 1} learning rates "
                             f"(steps 0..{last}), got shape {eta.shape}")
        eta = eta[: last + 1]
        check_finite(eta, "lr_per_step")
        check_nonnegative(eta, "lr_per_step")
    elif lr is not None:
        lra = as_float_array(lr, "lr")
        if lra.shape != st.shape:
            raise ValueError(f"lr has shape {lra.shape} but there are {st.shape[0]} checkpoints (one lr each)")
        check_finite(lra, "lr")
        check_nonnegative(lra, "lr")
        xs, ys = (st, lra) if st[0] == 0 else (np.r_[0.0, st], np.r_[0.0, lra])
        eta = np.interp(np.arange(last + 1, dtype=np.float64), xs, ys)
    else:
        raise ValueError("pass lr (at the checkpoints) or lr_per_step")
    pk = float(np.max(eta)) if peak is None else float(peak)
    if not pk > 0:
        raise ValueError("the learning rate is never positive")
    e = eta / pk
    S1 = np.cumsum(e)
    drop = np.zeros_like(e)
    drop[1:] = e[:-1] - e[1:]
    ip = int(np.argmax(e))
    drop[: ip + 1] = 0.0  # warm-up and the peak itself do not anneal
    drop = np.maximum(drop, 0.0)  # re-warming is not annealing
    m = _exp_filter(drop, decay)
    S2 = (1.0 - decay) * np.cumsum(m)
    idx = np.clip(np.round(st).astype(np.int64), 0, last)
    return S1[idx], S2[idx]


# ----------------------------------------------------------------------------- curves
@dataclass(frozen=True, eq=False)
class Curve:
    """One training run's loss curve.

    Attributes
    ----------
    name : str
    step, tokens, loss : arrays (n,)
        Checkpoints (n >= 2): steps and tokens finite, >= 0 and strictly increasing (a
        checkpoint at step 0 is kept but never fitted); loss finite and > 0.
    lr : array (n,), optional
        Learning rate at each checkpoint (for the schedule-aware model; finite, >= 0).
    N : float, optional
        Parameters (for Kaplan's L(N, S); finite, > 0).

    Raises
    ------
    ValueError
        Naming the curve, the field and the first offending index.
    """

    name: str
    step: FloatArray
    tokens: FloatArray
    loss: FloatArray
    lr: Optional[FloatArray] = None
    N: Optional[float] = None

    def __post_init__(self) -> None:
        where = f"curve {self.name!r}"
        names = ("step", "tokens", "loss") + (("lr",) if self.lr is not None else ())
        for a in names:
            object.__setattr__(self, a, as_float_array(getattr(self, a), f"{where}: {a}"))
        if self.step.ndim != 1 or self.step.shape[0] < 2:
            raise ValueError(f"{where}: step must be 1-D with at least 2 checkpoints, got shape {self.step.shape}")
        n = self.step.shape[0]
        for a in names[1:]:
            if getattr(self, a).shape != (n,):
                raise ValueError(f"{where}: {a} must have one value per step, shape ({n},), "
                                 f"got shape {getattr(self, a).shape}")
        with _named(where):
            for a in ("step", "tokens", "loss"):
                check_finite(getattr(self, a), a)
            check_nonnegative(self.step, "step")  # a checkpoint at step 0 (before training) is data
            check_nonnegative(self.tokens, "tokens")
            check_positive(self.loss, "loss", "a loss")
            check_increasing(self.step, "step")
            check_increasing(self.tokens, "tokens")
            if self.lr is not None:
                check_finite(self.lr, "lr")
                check_nonnegative(self.lr, "lr")
            if self.N is not None:
                positive_number(self.N, "N")

    def window(self, fraction: float, start: float = 0.0) -> NDArray[np.bool_]:
        """Checkpoints with ``start·T <= tokens <= fraction·T`` (T the run's final tokens), after
        step 0 (the laws of loss against tokens or steps are singular there).

        Parameters
        ----------
        fraction : float
            The window's end, as a fraction of the final tokens.
        start : float
            The window's start, as a fraction of the final tokens; default 0.
        """
        T = self.tokens[-1]
        return np.asarray((self.tokens <= fraction * T * (1 + 1e-9)) & (self.tokens >= start * T * (1 - 1e-9))
                          & (self.tokens > 0) & (self.step > 0))

    def after_warmup(self) -> NDArray[np.bool_]:
        """Checkpoints at or after the learning-rate peak (all of them without lr)."""
        if self.lr is None:
            return np.ones(self.step.shape[0], dtype=bool)
        return np.asarray(self.step >= self.step[int(np.argmax(self.lr >= 0.999 * np.max(self.lr)))])


def _areas(cv: Curve, decay: float) -> tuple[FloatArray, FloatArray]:
    """:func:`lr_areas` at a curve's checkpoints, errors naming the curve."""
    with _named(f"curve {cv.name!r}"):
        if cv.lr is None:
            raise ValueError("no learning rate: the learning-rate areas need lr")
        return lr_areas(cv.step, cv.lr, decay=decay)


METHODS = ("lr_annealing", "power_law", "learning_curve")
_BOUNDS: dict[str, dict[str, tuple[float, float]]] = {
    "saturating_power_law": {"E": (0.0, np.inf), "A": (0.0, np.inf), "alpha": (0.05, 5.0)},
    "learning_curve": {"E": (0.0, np.inf), "A": (0.0, np.inf), "alpha": (0.05, 5.0)},
    "lr_annealing": {"L0": (0.0, np.inf), "A": (0.0, np.inf), "alpha": (0.05, 5.0)},
}


@dataclass(frozen=True, eq=False)
class FinalLossPrediction:
    """Predicted final losses of a sweep's runs from their early checkpoints.

    Attributes
    ----------
    names : list of str
    fraction : float
    method : str
    predicted : ndarray (n_runs,)
        Predicted loss at each run's last checkpoint.
    interval : ndarray (n_runs, 2)
        Bootstrap (or delta-method) interval of the prediction, with the spread of the
        annealing coefficient C propagated (lr_annealing; see ``annealing_sd``). With
        ``kind="confidence"`` an interval for the fitted curve at the last checkpoint, which
        holds the noisy ``actual`` less often than nominal (see :func:`predict_final_loss`);
        with ``"prediction"`` for ``actual`` itself.
    actual : ndarray (n_runs,)
        The observed loss at each run's last checkpoint, which is what ``predicted`` predicts
        (the target of every run is its own last checkpoint); finite, also for runs left
        unpredicted (status -3, ``predicted`` NaN).
    n_points : ndarray of int
        Checkpoints used per run.
    status : ndarray of int
        Per run: the status of its fit (> 0 converged; -2 singular: the fit's curve is kept
        as the prediction, but some parameters are not identifiable from the window, so it
        may be far off, and the interval is NaN), -3 where the run was not fitted (too few
        checkpoints in the window), and -1 where no finite prediction came out for another
        reason (e.g. its fit stopped at the iteration limit, status 0, and kept no
        parameters; the fit's own status is ``fits[j].status``). A NaN prediction never has
        status 0 or > 0. ``reasons`` says why in words, and the call warns once
        (``IdentifiabilityWarning`` or ``ConvergenceWarning``) naming the runs whose fit did
        not converge (a ``DataWarning`` for those not fitted).
    spikes : list of ndarray
        Indices (into each curve) of fitted checkpoints flagged as loss spikes.
    fits : list of LawFit
    annealing : float or None
        The relative annealing coefficient C used (lr_annealing).
    decay : float
        λ of the annealing momentum used for the learning-rate areas (lr_annealing).
    annealing_sd : float or None
        The standard deviation of C propagated into ``interval`` (lr_annealing with a fixed or
        calibrated C; 0 when C was treated as exact).
    kind : str
        ``"confidence"`` or ``"prediction"``: what ``interval`` is for (see ``interval``).
    reasons : list of str
        Per run, why its prediction is missing or unreliable (``""`` for a converged fit).
    """

    names: list[str]
    fraction: float
    method: str
    predicted: FloatArray
    interval: FloatArray
    actual: FloatArray
    n_points: NDArray[np.int64]
    status: NDArray[np.int32]
    spikes: list[NDArray[np.int64]] = field(repr=False)
    fits: list[LawFit] = field(repr=False)
    annealing: Optional[float] = None
    decay: float = DEFAULT_DECAY
    annealing_sd: Optional[float] = None
    kind: str = "confidence"
    reasons: list[str] = field(default_factory=list, repr=False)

    def predict_curve(self, curve: Curve, j: int) -> FloatArray:
        """Run ``j``'s fitted law at every checkpoint of ``curve`` (its whole length).

        Parameters
        ----------
        curve : Curve
            Run ``j``'s curve (with its learning rate for lr_annealing).
        j : int
            The run's index, in ``[0, n_runs)`` (an IndexError otherwise).
        """
        n = len(self.fits)
        if not 0 <= operator.index(j) < n:
            raise IndexError(f"j = {j!r} is not a run of this prediction: j must be in 0..{n - 1} ({n} runs)")
        law = self.fits[j]
        if not np.isfinite(law.x).all():
            return np.full(curve.step.shape[0], np.nan)
        if self.method == "power_law":
            return _where_defined(law, curve.tokens)
        if self.method == "learning_curve":
            return _where_defined(law, curve.step)
        if self.method == "kaplan_ns":
            n_params = np.full(curve.step.shape[0], float(curve.N))  # type: ignore[arg-type]
            return _where_defined(law, np.column_stack([n_params, curve.step]))
        S1, S2 = _areas(curve, self.decay)
        if law.model == "lr_annealing":
            return _where_defined(law, np.column_stack([S1, S2]))
        c = float(self.annealing) if self.annealing is not None else 0.0
        return _where_defined(law, S1) * (1.0 - c * S2)

    @property
    def error(self) -> FloatArray:
        """Predicted minus actual (nats)."""
        return self.predicted - self.actual

    @property
    def relative_error(self) -> FloatArray:
        """``predicted / actual - 1`` per run."""
        return self.predicted / self.actual - 1.0

    def rows(self) -> list[dict[str, object]]:
        """One dict per run: run, points, predicted, lower, upper, actual, rel. error %."""
        return [{"run": n, "points": int(k), "predicted": float(p), "lower": float(iv[0]),
                 "upper": float(iv[1]), "actual": float(a), "rel. error %": 100 * float(e)}
                for n, k, p, iv, a, e in zip(self.names, self.n_points, self.predicted, self.interval,
                                             self.actual, self.relative_error)]

    def __repr__(self) -> str:
        extra = f", C = {self.annealing:.4g}" if self.annealing is not None else ""
        if self.annealing is not None and self.annealing_sd:
            extra += f" ± {self.annealing_sd:.2g} (sd)"
        notes = "".join(f"\n{n}: {r}" for n, r in zip(self.names, self.reasons) if r)
        return (f"FinalLossPrediction(method={self.method!r}, fraction={self.fraction}{extra})\n"
                + table(self.rows()) + notes)


def _run_reasons(names: Sequence[str], status: NDArray[np.int32], predicted: FloatArray,
                 interval: FloatArray, not_fitted: Mapping[int, str], where: str,
                 singular_why: str = "", stacklevel: int = 3,
                 at_bound: Optional[Mapping[int, str]] = None) -> tuple[NDArray[np.int32], list[str]]:
    """Each run's status and reason in words for a prediction of ``where``; warns once (one
    warning for the call, naming the runs) where a fit did not converge.

    ``status`` holds the fits' statuses; runs in ``not_fitted`` (index -> reason) were left
    out on purpose (status -3, their DataWarning given by the caller). A run whose prediction
    is not finite is never status 0 or > 0: -1 (its fit's own status named in the reason).
    ``at_bound`` (index -> which parameter sits on which default bound) names converged fits
    the default bounds hold: their status stays, the warning and reason say so."""
    status = np.asarray(status, dtype=np.int32).copy()
    reasons = [""] * len(names)
    singular: list[str] = []
    failed: list[str] = []
    bounded: list[str] = []
    for j, name in enumerate(names):
        s = int(status[j])
        if j in not_fitted:
            status[j] = BAD_INPUT
            reasons[j] = not_fitted[j]
            continue
        if s == SINGULAR and np.isfinite(predicted[j]):
            reasons[j] = (f"singular fit (status -2): parameters not identifiable from the window"
                          f"{singular_why}; the prediction may be far off"
                          f"{' and its interval is NaN' if not np.isfinite(interval[j]).all() else ''}")
            singular.append(name)
        elif s <= 0 or not np.isfinite(predicted[j]):
            why = (f"the fit did not converge (status {s}: {status_message(s)})" if s <= 0
                   else f"the fit converged (status {s}) but its law is not finite at the last checkpoint")
            if s >= 0:
                status[j] = NON_FINITE
            reasons[j] = f"{why}: no prediction (NaN{', status -1' if s >= 0 else ''})"
            failed.append(name)
        elif at_bound and j in at_bound:
            reasons[j] = (f"{at_bound[j]}: the bound, not the window, sets it (the law does not fit "
                          "the window); the prediction may be far off and its interval too narrow")
            bounded.append(name)
    if singular or failed or bounded:
        parts = []
        if singular:
            parts.append(f"singular (status -2; parameters not identifiable{singular_why}; prediction "
                         f"kept, may be far off): {singular}")
        if failed:
            parts.append(f"no converged fit (NaN prediction): {failed}")
        if bounded:
            parts.append(f"a parameter on its default bound (prediction kept, may be far off): {bounded}")
        _warnings.warn(f"{where}: {len(singular) + len(failed) + len(bounded)} of {len(names)} run(s) without a "
                       f"reliable prediction: {'; '.join(parts)}; see .status and .reasons",
                       ConvergenceWarning if failed else IdentifiabilityWarning, stacklevel=stacklevel)
    return status, reasons


def _robust_spikes(res: FloatArray, z: float, loss: Optional[FloatArray] = None,
                   min_jump: float = 0.0) -> NDArray[np.int64]:
    """Indices of transient upward jumps: a checkpoint whose residual exceeds the mean of its
    neighbours' (one neighbour at the ends) by more than ``z`` robust standard deviations
    (1.4826 MAD) of that local excess, and by more than ``min_jump`` times its loss. A smooth
    misfit of the model moves neighbours together and is not a spike.

    With ``loss`` (the checkpoints' losses, in order), a spike must also be a rise of the loss
    itself: above both neighbours, or, at the last checkpoint, above the one before. The first
    checkpoint is never one (nothing before it to jump from), nor is any checkpoint on a stretch
    where the loss keeps falling: there a large residual is the model missing the curve's shape
    (typically at the edge of the fit, where a smooth decreasing curve bends away from the
    law), not a jump."""
    n = res.size
    if n < 5:
        return np.zeros(0, dtype=np.int64)
    nb = np.empty(n)
    nb[1:-1] = 0.5 * (res[:-2] + res[2:])
    nb[0], nb[-1] = res[1], res[-2]
    excess = res - nb
    med = np.median(excess)
    mad = 1.4826 * np.median(np.abs(excess - med))
    if not mad > 0:
        return np.zeros(0, dtype=np.int64)
    big = excess - med > z * mad
    if loss is not None:
        y = np.asarray(loss, dtype=np.float64)
        rise = np.zeros(n, dtype=bool)
        rise[1:] = y[1:] > y[:-1]
        rise[1:-1] &= y[1:-1] > y[2:]
        big &= rise
        if min_jump > 0:
            big &= excess > min_jump * np.abs(y)
    return np.flatnonzero(big).astype(np.int64)


def _warm_fits(model: str, blocks: Sequence[tuple[Any, FloatArray, FloatArray]], centers: FloatArray,
               fit_kw: dict[str, Any]) -> FloatArray:
    """Parameters (n_runs, k, P) of k refits of each run j on its fitted inputs ``x`` with
    targets ``Y[i]`` and weights ``W[i]`` (``blocks[j] = (x, Y, W)``, Y and W of shape (k, n):
    the resamples, or the refits at other C), each started at the run's point fit
    (centers[j]: the bootstrap's warm start), or from the model's guesses where that fit
    failed; NaN where no start converged. Guessing every resample afresh cost 0.9 ms each in
    Python (learning_curve) and sent some to other local optima.

    The warm refits are one ``fit_batch`` call with the runs' inputs and targets packed
    CSR-style: they are the data of the point fits, validated there, with weights
    ``counts · m²`` >= 0 (``fit_many`` re-validated each refit, ~20 us apiece: 1.2 s of
    60,000 resamples). The same items, starts and options as ``fit_many(..., p0s=centers,
    guess=False)``, hence the same parameters bit for bit."""
    k = blocks[0][1].shape[0] if blocks else 0
    P = centers.shape[1]
    out = np.full((len(blocks), k, P), np.nan)
    if not k:
        return out
    warm = np.isfinite(centers).all(axis=1)
    runs = np.flatnonzero(warm).tolist()
    if runs:
        m = get_model(model)
        lo, hi = as_bounds(fit_kw["bounds"], m)
        xs = [np.asarray(blocks[j][0], dtype=np.float64) for j in runs]
        sizes = np.repeat([x.shape[0] for x in xs], k)
        batch = _resample.fit_batch(  # type: ignore[attr-defined]  # (_resample's, as the tests count its calls)
            m, np.concatenate([np.broadcast_to(x, (k,) + x.shape).reshape((k * x.shape[0],) + x.shape[1:])
                               for x in xs]),
            np.concatenate([blocks[j][1].ravel() for j in runs]),
            np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            np.repeat(np.clip(centers[runs], lo, hi), k, axis=0),
            weights=np.concatenate([blocks[j][2].ravel() for j in runs]), bounds=(lo, hi),
            compute_cov=False,
        )
        ok = (batch.status > 0) | (batch.status == SINGULAR)  # as fit_many keeps them
        out[runs] = np.where(ok[:, None], batch.x, np.nan).reshape(len(runs), k, P)
    cold = np.flatnonzero(~warm).tolist()
    if cold:
        try:
            out[cold] = fit_many(
                model, [blocks[j][0] for j in cold for _ in range(k)], [y for j in cold for y in blocks[j][1]],
                weights=[w for j in cold for w in blocks[j][2]], guess=True, **fit_kw,
            ).params.reshape(len(cold), k, P)
        except ValueError:  # no usable start for any of them (nor for their runs)
            pass
    return out


def _annealing_value(annealing: object) -> float:
    """A fixed annealing coefficient: finite and in [0, 1), so that ``1 - C·S2 > 0`` (S2 < 1
    for a schedule that decays once)."""
    try:
        c = float(annealing)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"annealing must be a number, 'fit' or an AnnealingCalibration, got {annealing!r}") from None
    if not (np.isfinite(c) and 0.0 <= c < 1.0):
        raise ValueError(f"annealing (the coefficient C of 1 - C·S2) must be finite and in [0, 1), got {annealing!r}")
    return c


def _where_defined(law: Any, x: FloatArray) -> FloatArray:
    """``law.predict(x)`` at the checkpoints where its law is defined (every input > 0 for a
    law of log inputs: step 0, or no learning-rate area yet, is not), NaN at the others."""
    x = np.asarray(x, dtype=np.float64)
    ok: NDArray[np.bool_] = np.ones(x.shape[0], dtype=bool)
    if get_model(law.model).positive_inputs:
        ok = np.asarray((x > 0) if x.ndim == 1 else (x > 0).all(axis=1))
    out = np.full(x.shape[0], np.nan)
    if ok.any():
        out[ok] = law.predict(x[ok])
    return out


@suggest_argument_names
def predict_final_loss(
    curves: Sequence[Curve],
    fraction: float,
    *,
    start_fraction: float = 0.0,
    method: str = "lr_annealing",
    annealing: Union[float, str, AnnealingCalibration] = DEFAULT_ANNEALING,
    annealing_sd: Optional[float] = None,
    decay: float = DEFAULT_DECAY,
    skip_warmup: bool = True,
    min_points: int = 5,
    n_resamples: int = 0,
    seed: int = 0,
    level: float = 0.95,
    spike_z: float = 6.0,
    min_jump: float = 0.01,
    bounds: Optional[dict[str, tuple[float, float]]] = None,
    kind: str = "confidence",
) -> FinalLossPrediction:
    """Fit each run's first ``fraction`` of training and predict its last checkpoint; all
    runs in one batch call, and all their resamples in another, warm-started at the runs' fits.

    The interval is by default a confidence interval for the fitted curve's value at the last
    checkpoint (the run's noise-free loss there), not a prediction interval for the observed
    final loss (``actual``), which adds that checkpoint's own evaluation noise: on simulated
    runs of ``power_law`` and ``learning_curve`` (100 checkpoints, 0.5 % relative noise, 300
    runs, 95 % nominal) the intervals held the true curve value 0.91-0.96 of the time but
    ``actual`` only 0.85-0.95 at fraction 0.3 and 0.65-0.90 at 0.5 (``power_law`` 0.65: the
    longer the window, the narrower the interval and the more that noise counts).
    ``kind="prediction"`` widens each side ``h`` of the interval to ``sqrt(h^2 + t^2 s^2)``,
    with ``s^2 = 2 cost / (n - p)`` the fit's residual variance (in units of loss) and ``t``
    the fit's Student quantile: then it covers ``actual``, 0.93-0.97 in the same simulation
    (0.96-0.99 with 200 resamples; conservative where the noise shrinks with the loss). On
    the 30 OLMo-ladder C4 runs (``lr_annealing``, default C and spread) the confidence interval
    held ``actual`` 0.93 of the time at fractions 0.3 and 0.5, but 0.73 / 0.63 / 0.57 at
    0.7 / 0.8 / 0.9 (delta method; 0.67 / 0.63 / 0.50 with 200 resamples): late in the run the
    interval of the fitted curve is narrow and the final checkpoint's own noise dominates;
    ``kind="prediction"`` held it 0.93 / 0.87 / 0.93 (0.93 / 0.90 / 0.93). Compare a
    prediction with an observed final loss through ``kind="prediction"``.

    Parameters
    ----------
    curves : sequence of Curve
    fraction : float in (0, 1]
        Checkpoints with ``tokens <= fraction · final tokens`` are fitted.
    start_fraction : float
        ... and ``tokens >= start_fraction · final tokens`` (default 0: from the start).
    method : {"lr_annealing", "power_law", "learning_curve"}
        ``"lr_annealing"``: ``(L0 + A·S1^-alpha)(1 - C·S2)`` in the learning-rate areas (needs
        ``lr``); ``"power_law"``: ``E + A·T^-a`` in tokens; ``"learning_curve"``:
        ``E + A·(s + s0)^-alpha`` in steps.
    annealing : float, "fit" or AnnealingCalibration
        The coefficient C of ``lr_annealing``: a fixed value in [0, 1) (default: calibrated on
        the OLMo ladder), ``"fit"`` (free, per run: only sensible once the window covers part of the
        decay), or a calibration from :func:`calibrate_annealing`, whose per-run spread is
        propagated into the interval (each resample draws one calibrated value; the delta method
        adds the variance of the per-run values, ddof 1).
    annealing_sd : float >= 0, optional
        Run-to-run standard deviation of a fixed (numeric) C, propagated into the interval: each
        resample draws its own C from a normal distribution (clipped at 0) around ``annealing``,
        and the delta method adds ``(dL/dC)^2 · annealing_sd^2`` to the variance of the fit, with
        dL/dC the change of the refitted prediction between C ± annealing_sd. Default (None):
        :data:`DEFAULT_ANNEALING_SD`, the spread of the 30 OLMo-ladder runs. Pass 0 to treat C as
        exact (e.g. a known C on simulated curves); not allowed with ``"fit"`` or a calibration.

        Why: C varies from run to run (0.0412–0.0538 on the OLMo ladder), and late in a run
        that moves the final loss by more than the fit's own uncertainty. On the 30 OLMo-ladder
        C4 curves, the share of final losses inside the default 95% interval at fractions
        0.2 / 0.3 / 0.5 was 0.53 / 0.33 / 0.43 (delta method) and 0.70 / 0.63 / 0.53 (200
        resamples) with C taken as exact; with the spread it is 0.73 / 0.93 / 0.93 (22, 28
        and 28 of 30) and 0.90 / 0.97 / 0.93. That spread was measured on the same 30 runs
        (in-sample); with the median and spread of C taken from the other 29 runs it is
        0.73 / 0.93 / 0.90 and 0.90 / 0.97 / 0.90, and with C calibrated
        (:func:`calibrate_annealing`) on the other four model sizes 0.70 / 0.80 / 0.90 and
        0.83 / 0.87 / 0.90. What still falls short (the delta method on short windows) is the
        fit's own extrapolation, not C; prefer resamples there. Later in the run the default
        confidence interval falls short for another reason (see above). On simulated runs whose C is
        drawn per run with this spread, the intervals cover 0.92–0.97; on runs that all share
        the given C exactly they are conservative (up to 1.00 at fraction 0.5).
    decay : float in (0, 1)
        The momentum of the annealing area S2 (see :func:`lr_areas`; default
        :data:`DEFAULT_DECAY`); used by ``method="lr_annealing"`` only.
    skip_warmup : bool
        Drop checkpoints before the learning-rate peak (when ``lr`` is known).
    min_points : int
        Curves with fewer checkpoints in the window (or fewer than the model's parameters) are
        not fitted (NaN prediction, status -3, one ``DataWarning`` naming them); a ValueError
        if that leaves no curve.
    n_resamples, seed, level :
        Bootstrap over checkpoints (0: delta-method intervals from the Gauss–Newton covariance);
        ``n_resamples`` a non-negative integer, ``level`` in (0, 1).
    spike_z : float
        Fitted checkpoints that jump above their neighbours (relative to the fit) by more than
        ``spike_z`` robust standard deviations and by more than ``min_jump`` (relative) are
        reported in ``spikes`` (the fit itself is not changed).
    min_jump : float
        The smallest relative jump (``0.01``: 1% of the loss) that counts as a spike.
    bounds : mapping, optional
        Parameter bounds of the fitted model (default: E (or L0) >= 0, A >= 0,
        0.05 <= alpha <= 5, which keeps short windows away from the degenerate alpha -> 0,
        E -> -inf branch). A fit that ends with E (L0) or alpha on these default bounds
        keeps its prediction and status but warns
        :class:`~scalingfit.IdentifiabilityWarning`, and its ``reasons`` entry says which.
    kind : {"confidence", "prediction"}
        ``"confidence"``: the interval of the fitted curve's value at the last checkpoint;
        ``"prediction"``: also the noise of one observation there, from the fit's residual
        variance (see above), to compare with ``actual``.

    Returns
    -------
    FinalLossPrediction

    Examples
    --------
    >>> step = np.arange(200, 20001, 200.0)
    >>> lr = cosine_schedule(step, peak=1e-3, warmup=1000, total=20000)
    >>> S1, S2 = lr_areas(step, lr)
    >>> loss = (2.5 + 1.0 * (S1 / 1e3) ** -0.5) * (1 - 0.05 * S2)
    >>> c = Curve("toy", step, step * 1e6, loss, lr)
    >>> p = predict_final_loss([c], 0.25, annealing=0.05)  # the true C: exact
    >>> abs(float(p.relative_error[0])) < 1e-9
    True
    >>> p = predict_final_loss([c], 0.25)  # the default C = 0.048
    >>> round(float(p.relative_error[0]) * 100, 2)
    0.17
    """
    curves = _curves(curves)
    fraction = float(finite("fraction", fraction, scalar=True))
    start_fraction = float(finite("start_fraction", start_fraction, scalar=True))
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if not 0.0 <= start_fraction < fraction:
        raise ValueError(f"start_fraction must be in [0, fraction), got {start_fraction!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    decay = float(finite("decay", decay, scalar=True))
    if not 0.0 < decay < 1.0:
        raise ValueError(f"decay must be in (0, 1), got {decay!r}")
    _check_level(level)
    if kind not in ("confidence", "prediction"):
        raise ValueError(f"kind must be 'confidence' or 'prediction', got {kind!r}")
    n_resamples = resamples("n_resamples", n_resamples)
    calib: Optional[AnnealingCalibration] = annealing if isinstance(annealing, AnnealingCalibration) else None
    free_c = isinstance(annealing, str)
    if free_c and annealing != "fit":
        raise ValueError(f"annealing must be a number, 'fit' or an AnnealingCalibration, got {annealing!r}")
    c_point = calib.C if calib is not None else (None if free_c else _annealing_value(annealing))
    if calib is not None and not np.isfinite(calib.C):
        raise ValueError(f"annealing: the calibration has no finite C (its fits failed), got C = {calib.C!r}")
    c_sd = 0.0  # the spread of C propagated into the interval
    if annealing_sd is not None:
        if calib is not None or free_c:
            raise ValueError(f"annealing_sd applies to a fixed (numeric) annealing coefficient; with "
                             f"annealing = {'a calibration' if calib is not None else repr(annealing)} "
                             f"leave it None (a calibration propagates its own per-run spread), got "
                             f"annealing_sd = {annealing_sd!r}")
        c_sd = float(nonnegative("annealing_sd", annealing_sd, scalar=True))
    elif calib is not None:
        cal_c = calib.per_run[np.isfinite(calib.per_run)]
        c_sd = float(np.std(cal_c, ddof=1)) if cal_c.size > 1 else 0.0
    elif not free_c:
        c_sd = DEFAULT_ANNEALING_SD
    if method != "lr_annealing" or free_c:
        c_sd = 0.0
    if method == "lr_annealing" and any(c.lr is None for c in curves):
        missing = [c.name for c in curves if c.lr is None]
        raise ValueError(f"method 'lr_annealing' needs the learning rate of every curve; missing for {missing}")
    model = {"power_law": "saturating_power_law", "learning_curve": "learning_curve",
             "lr_annealing": "lr_annealing" if free_c else "saturating_power_law"}[method]
    n_params = get_model(model).n_params
    need = max(integer("min_points", min_points, least=1), n_params)  # fewer points than parameters cannot be fitted

    R = int(n_resamples)
    rng_c = np.random.default_rng(np.random.SeedSequence([int(seed), 10**6]))
    c_draws = None
    if calib is not None and R:
        c_draws = rng_c.choice(calib.per_run[np.isfinite(calib.per_run)], size=R, replace=True)
    elif c_point is not None and c_sd > 0 and R:
        c_draws = np.maximum(rng_c.normal(c_point, c_sd, size=R), 0.0)
    # the delta method differentiates the refitted prediction over C -+ c_sd (one sd either side)
    c_side = None
    if c_point is not None and c_sd > 0 and not R:
        c_side = (max(c_point - c_sd, 0.0), c_point + c_sd)
    c_max = None if c_point is None else max(c_point, float(np.max(c_draws)) if c_draws is not None else c_point,
                                             c_side[1] if c_side is not None else c_point)

    xs, ys, ws, sel_idx, targets, actual, n_pts = [], [], [], [], [], [], []
    short: list[str] = []
    not_fitted: dict[int, str] = {}
    in_window: list[int] = []
    rep_blocks: list[tuple[Any, FloatArray, FloatArray]] = []  # each run's (x, Y, W) of its R resamples
    side_blocks: list[tuple[Any, FloatArray, FloatArray]] = []  # each run refitted at C - c_sd and at C + c_sd
    for j, cv in enumerate(curves):
        sel = cv.window(fraction, start_fraction)
        if skip_warmup:
            sel = sel & cv.after_warmup()
        in_window.append(int(sel.sum()))
        if sel.sum() < need:
            short.append(cv.name)
            not_fitted[j] = (f"{int(sel.sum())} checkpoint(s) in the window{' after warm-up' if skip_warmup else ''}, "
                             f"{need} needed: not fitted (NaN, status -3)")
            sel[:] = False  # not fitted: NaN prediction, status -3
        idx = np.flatnonzero(sel)
        sel_idx.append(idx)
        actual.append(float(cv.loss[-1]))
        n_pts.append(idx.size)
        if method == "lr_annealing":
            S1, S2 = _areas(cv, decay)
            x = np.column_stack([S1[idx], S2[idx]]) if free_c else S1[idx]
            targets.append((S1[-1], S2[-1]))
            if c_max is not None and np.any(c_max * S2 >= 1.0):
                i = int(np.argmax(c_max * S2 >= 1.0))
                raise ValueError(f"curve {cv.name!r}: 1 - C·S2 must stay > 0, but C = {c_max:.4g} and S2 "
                                 f"reaches {float(S2[i]):.4g} at index {i}")
        elif method == "power_law":
            x = cv.tokens[idx]
            targets.append((cv.tokens[-1], 0.0))
        else:
            x = cv.step[idx]
            targets.append((cv.step[-1], 0.0))
        y = cv.loss[idx]
        w = np.ones(idx.size)
        if method == "lr_annealing" and not free_c:
            m = 1.0 - c_point * S2[idx]  # type: ignore[operator]
            xs.append(x); ys.append(y / m); ws.append(m * m)
            if c_side is not None:
                ms = 1.0 - np.array(c_side)[:, None] * S2[idx]  # row k: 1 - c_side[k]·S2
                side_blocks.append((x, y / ms, ms * ms))
        else:
            xs.append(x); ys.append(y); ws.append(w)
        if R:
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), j]))
            counts = resample_weights(idx.size, R, rng) if idx.size else np.zeros((R, 0))
            if method == "lr_annealing" and not free_c:
                # row r: 1 - c_r·S2 with c_r = C, or the r-th draw of C (the same arithmetic,
                # element by element, as one resample at a time)
                c_r = np.full(R, float(c_point)) if c_draws is None else c_draws  # type: ignore[arg-type]
                ms = 1.0 - c_r[:, None] * S2[idx]
                rep_blocks.append((x, y / ms, counts * ms * ms))
            else:
                rep_blocks.append((x, np.broadcast_to(y, counts.shape), counts))
    where = "(after warm-up) " if skip_warmup else ""
    if len(short) == len(curves):
        best = int(np.argmax(in_window))
        raise ValueError(
            f"the fit window (tokens in [{start_fraction:.3g}, {fraction:.3g}] of each run's final "
            f"tokens) has too few checkpoints {where}in every curve: at most {in_window[best]} "
            f"({curves[best].name!r}), but {model} has {n_params} parameters and min_points is "
            f"{min_points} (at least {need} needed); raise fraction")
    if short:
        _warnings.warn(f"{len(short)} curve(s) have fewer than {need} checkpoints {where}in "
                      f"the first {fraction:.0%} and are not predicted: {short}", DataWarning, stacklevel=2)
    n_run = len(curves)
    fit_kw: dict[str, Any] = dict(warn=False, level=level, bounds=_BOUNDS[model] if bounds is None else bounds)
    many = fit_many(model, xs, ys, weights=ws, **fit_kw)
    fits = [many.problem(j) for j in range(n_run)]

    def law_at(p: FloatArray, j: int, c: Optional[float]) -> FloatArray:
        t1, t2 = targets[j]
        with np.errstate(all="ignore"):
            if model == "saturating_power_law":
                v = p[..., 0] + p[..., 1] * t1 ** -p[..., 2]
                return np.asarray(v * (1.0 - c * t2) if (method == "lr_annealing" and c is not None) else v)
            if model == "learning_curve":
                return np.asarray(p[..., 0] + p[..., 1] * (t1 + p[..., 3]) ** -p[..., 2])
            return np.asarray((p[..., 0] + p[..., 1] * t1 ** -p[..., 2]) * (1.0 - p[..., 3] * t2))

    def law_rows(p: FloatArray, j: int, c: Optional[FloatArray]) -> FloatArray:
        """``law_at`` of each row of ``p`` (k, P), with ``c[r]`` the C of row r: the same
        arithmetic element by element, and the power taken one number at a time, as
        ``law_at`` of one row takes it (numpy's vectorised power, SIMD on AVX-512, can differ
        from it in the last bit)."""
        t1, t2 = targets[j]
        with np.errstate(all="ignore"):
            base = t1 + p[:, 3] if model == "learning_curve" else np.full(p.shape[0], t1)
            pw = np.fromiter((b ** -e for b, e in zip(base, p[:, 2])), np.float64, count=p.shape[0])
            v = p[:, 0] + p[:, 1] * pw
            if model == "lr_annealing":
                return np.asarray(v * (1.0 - p[:, 3] * t2))
            return np.asarray(v * (1.0 - c * t2) if (method == "lr_annealing" and c is not None) else v)

    predicted = np.array([float(law_at(many.params[j], j, c_point)) for j in range(n_run)])
    interval = np.full((n_run, 2), np.nan)
    if R:
        reps = _warm_fits(model, rep_blocks, many.params, fit_kw)  # (n_run, R, P)
        cs = None if c_point is None else (np.full(R, float(c_point)) if c_draws is None else c_draws)
        for j in range(n_run):
            interval[j] = percentile_interval(law_rows(reps[j], j, cs), level)
    else:
        for j in range(n_run):
            interval[j] = fits[j].derived(partial(law_at, j=j, c=c_point), level)[1]
        if c_side is not None:
            # Var = Var_fit + (dL/dC)^2 c_sd^2, dL/dC the refitted prediction's central difference
            side = _warm_fits(model, side_blocks, many.params, fit_kw)  # (n_run, 2, P)
            for j in range(n_run):
                z = two_sided_quantile(level, fits[j].dof)  # the quantile of the fit's interval
                lo, hi = (float(law_at(side[j, k], j, c_side[k])) for k in range(2))
                slope = (hi - lo) / (c_side[1] - c_side[0])
                se = np.hypot((interval[j, 1] - interval[j, 0]) / (2 * z), slope * c_sd)
                interval[j] = predicted[j] - z * se, predicted[j] + z * se
    if kind == "prediction":
        for j in range(n_run):
            dof = fits[j].dof
            s2 = 2.0 * fits[j].cost / dof if dof is not None and dof > 0 else np.nan
            zt = float(two_sided_quantile(level, dof))
            half = np.array([predicted[j] - interval[j, 0], interval[j, 1] - predicted[j]])
            interval[j] = predicted[j] + np.array([-1.0, 1.0]) * np.sqrt(half**2 + zt * zt * s2)
    spikes = []
    for j, cv in enumerate(curves):
        idx = sel_idx[j]
        if not np.isfinite(many.params[j]).all():
            spikes.append(np.zeros(0, dtype=np.int64))
            continue
        if model == "lr_annealing":
            fitted = fits[j].predict(xs[j])
        elif method == "lr_annealing":
            fitted = fits[j].predict(xs[j]) * np.sqrt(ws[j])
        else:
            fitted = fits[j].predict(xs[j])
        spikes.append(idx[_robust_spikes(cv.loss[idx] - fitted, spike_z, cv.loss[idx], min_jump)])
    names = [c.name for c in curves]
    held: dict[int, str] = {}
    if bounds is None:  # the floor or the exponent on the package's own bounds (a user's are the user's)
        watched = {k: b for k, b in _BOUNDS[model].items() if k != "A"}
        for j in range(n_run):
            p = fits[j].params
            on = [f"{k} = {p[k]:g} on its default bound ({lo:g}, {hi:g})"
                  for k, (lo, hi) in watched.items() if np.isfinite(p[k]) and not lo < p[k] < hi]
            if on:
                held[j] = "; ".join(on)
    status, reasons = _run_reasons(names, many.status[:n_run], predicted, interval, not_fitted,
                                   f"predict_final_loss ({method}, fraction {fraction:g})", at_bound=held)
    return FinalLossPrediction(
        names=names, fraction=float(fraction), method=method,
        predicted=predicted, interval=interval, actual=np.asarray(actual),
        n_points=np.asarray(n_pts, dtype=np.int64), status=status,
        spikes=spikes, fits=fits, annealing=None if method != "lr_annealing" else c_point,
        decay=decay, annealing_sd=None if method != "lr_annealing" or free_c else c_sd, kind=kind,
        reasons=reasons,
    )


# ----------------------------------------------------------------------------- calibration
@dataclass(frozen=True, eq=False)
class AnnealingCalibration:
    """The relative annealing coefficient C fitted on finished runs.

    Attributes
    ----------
    C : float
        Median over runs.
    per_run : ndarray
        C of each run (NaN where the fit failed).
    names : list of str
    decay : float
    fits : list of LawFit
    """

    C: float
    per_run: FloatArray
    names: list[str]
    decay: float
    fits: list[LawFit] = field(repr=False)

    def __repr__(self) -> str:
        lo, hi = np.nanmin(self.per_run), np.nanmax(self.per_run)
        return (f"AnnealingCalibration(C = {self.C:.4f}, range {lo:.4f}-{hi:.4f} over "
                f"{int(np.isfinite(self.per_run).sum())} runs, decay {self.decay})")


def calibrate_annealing(
    curves: Sequence[Curve], *, decay: float = DEFAULT_DECAY, skip_warmup: bool = True,
) -> AnnealingCalibration:
    """Fit ``(L0 + A·S1^-alpha)(1 - C·S2)`` to whole (finished) curves, one batch call for all
    runs, and return the median C with the per-run values.

    Every curve needs a learning rate and at least 5 checkpoints (after warm-up); a ValueError
    if none of the fits succeeds, a ``DataWarning`` naming the runs whose fit failed.

    Parameters
    ----------
    curves : sequence of Curve
        Finished runs, each with a learning rate.
    decay : float
        λ of the annealing momentum of the learning-rate areas, as :func:`lr_areas`'s
        ``decay``; default :data:`DEFAULT_DECAY` (0.999 per step).
    skip_warmup : bool
        Fit only the checkpoints at or after the learning-rate peak (:meth:`Curve.after_warmup`);
        default True.

    Examples
    --------
    >>> step = np.arange(100, 10001, 100.0)
    >>> lr = cosine_schedule(step, peak=1e-3, warmup=500, total=10000)
    >>> S1, S2 = lr_areas(step, lr)
    >>> cal = calibrate_annealing([Curve("a", step, step, (2.0 + S1 ** -0.4) * (1 - 0.05 * S2), lr)])
    >>> round(cal.C, 6)
    0.05
    """
    curves = _curves(curves)
    need = get_model("lr_annealing").n_params + 1
    xs, ys = [], []
    for cv in curves:
        if cv.lr is None:
            raise ValueError(f"curve {cv.name!r} has no learning rate")
        sel = cv.after_warmup() if skip_warmup else np.ones(cv.step.shape[0], dtype=bool)
        if sel.sum() < need:
            raise ValueError(f"curve {cv.name!r} has {int(sel.sum())} checkpoint(s)"
                             f"{' after warm-up' if skip_warmup else ''}: calibrating C (lr_annealing, "
                             f"{need - 1} parameters) needs at least {need}")
        S1, S2 = _areas(cv, decay)
        xs.append(np.column_stack([S1[sel], S2[sel]]))
        ys.append(cv.loss[sel])
    many = fit_many("lr_annealing", xs, ys, warn=False)
    per_run = many.params[:, 3].copy()
    failed = [c.name for c, v in zip(curves, per_run) if not np.isfinite(v)]
    if len(failed) == len(curves):
        raise ValueError(f"calibrate_annealing: the fit failed on every curve ({failed}; status "
                         f"{many.status.tolist()}): no C")
    if failed:
        _warnings.warn(f"calibrate_annealing: the fit failed on {len(failed)} curve(s) {failed} (per_run NaN); "
                      f"C is the median over the other {len(curves) - len(failed)}", DataWarning, stacklevel=2)
    return AnnealingCalibration(C=float(np.nanmedian(per_run)), per_run=per_run,
                                names=[c.name for c in curves], decay=decay,
                                fits=[many.problem(j) for j in range(many.n_problems)])


# ----------------------------------------------------------------------------- Kaplan L(N, S)
@suggest_argument_names
def predict_final_loss_kaplan(
    curves: Sequence[Curve], fraction: float, *, n_resamples: int = 0, seed: int = 0,
    level: float = 0.95, skip_warmup: bool = True, min_points: int = 5,
) -> FinalLossPrediction:
    """Kaplan's ``L(N, S) = (N_c/N)^alpha_N + (S_c/S)^alpha_S`` fitted jointly on the first
    ``fraction`` of every run of a sweep (one problem; resamples take whole runs), predicting
    each run's last checkpoint. Needs ``N`` on every curve.

    Parameters
    ----------
    curves : sequence of Curve
        The runs of one sweep, each with ``N`` (its parameters).
    fraction : float in (0, 1]
        Checkpoints with ``tokens <= fraction · final tokens`` (and step > 0) are fitted.
    n_resamples, seed, level :
        Bootstrap over whole runs (0: delta-method intervals from the Gauss–Newton
        covariance); ``level`` in (0, 1).
    skip_warmup : bool
        Drop a run's checkpoints before the learning-rate peak (when ``lr`` is known), unless
        fewer than 3 of its window would remain.
    min_points : int
        A run with fewer checkpoints in its window is left out of the joint fit and not
        predicted (NaN, status -3, one ``DataWarning`` naming the runs); a ValueError naming
        each run's count if that leaves no run, or fewer than 5 checkpoints for the 4
        parameters.

    Returns
    -------
    FinalLossPrediction
        One fit shared by all runs (``fits`` and ``status`` repeat it per run). A singular
        fit (status -2: e.g. every fitted run of one model size, so ``N_c`` and ``alpha_N``
        trade off) keeps its predictions, which may be far off, with NaN intervals; a fit
        that did not converge leaves NaN predictions with status -1; both warn once, and
        ``reasons`` says why per run (see :class:`FinalLossPrediction`).
    """
    curves = _curves(curves)
    fraction = float(finite("fraction", fraction, scalar=True))
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    _check_level(level)
    if any(c.N is None for c in curves):
        raise ValueError("Kaplan's L(N, S) needs N on every curve")
    n_params = get_model("kaplan_ns").n_params
    need = integer("min_points", min_points, least=1)
    Ns, Ss, Ls, g, idxs = [], [], [], [], []
    not_fitted: dict[int, str] = {}
    counts: dict[str, int] = {}  # checkpoints in each run's window
    for j, cv in enumerate(curves):
        sel = cv.window(fraction)
        if skip_warmup and (sel & cv.after_warmup()).sum() >= 3:
            sel = sel & cv.after_warmup()
        counts[cv.name] = int(sel.sum())
        if sel.sum() < need:
            not_fitted[j] = f"{int(sel.sum())} checkpoint(s) in the window, {need} needed: not fitted (NaN, status -3)"
            sel[:] = False
        idx = np.flatnonzero(sel)
        idxs.append(idx)
        Ns.append(np.full(idx.size, float(cv.N)))  # type: ignore[arg-type]
        Ss.append(cv.step[idx]); Ls.append(cv.loss[idx]); g.append(np.full(idx.size, j))
    n_fit = sum(i.size for i in idxs)
    if len(not_fitted) == len(curves) or n_fit <= n_params:
        raise ValueError(
            f"predict_final_loss_kaplan: too few checkpoints in the first {fraction:.3g} of the runs to "
            f"fit kaplan_ns ({n_params} parameters) jointly: {n_fit} from runs with at least "
            f"min_points = {need} (checkpoints in each run's window: {counts}); raise fraction")
    if not_fitted:
        short = [curves[j].name for j in not_fitted]
        _warnings.warn(f"predict_final_loss_kaplan: {len(short)} run(s) have fewer than {need} checkpoints "
                       f"in the first {fraction:.0%} and are left out of the fit, not predicted: "
                       f"{ {n: counts[n] for n in short} }", DataWarning, stacklevel=2)
    many = fit_many("kaplan_ns", [(np.concatenate(Ns), np.concatenate(Ss))], [np.concatenate(Ls)],
                    n_resamples=n_resamples, groups=[np.concatenate(g)] if n_resamples else None,
                    seed=seed, level=level, warn=False)
    law = many.problem(0)
    Nt = np.array([float(c.N) for c in curves])  # type: ignore[arg-type]
    St = np.array([c.step[-1] for c in curves])
    pred = np.asarray(law.predict((Nt, St)), dtype=np.float64).copy()
    band = np.asarray(law.band((Nt, St), level), dtype=np.float64).T.copy()
    out = list(not_fitted)
    pred[out] = np.nan
    band[out] = np.nan
    fitted_N = np.unique(Nt[[j for j in range(len(curves)) if j not in not_fitted]])
    why = "" if fitted_N.size > 1 else (f": every fitted run has N = {float(fitted_N[0]):.4g}, so N_c and "
                                        f"alpha_N trade off; fit runs of several sizes")
    names = [c.name for c in curves]
    status, reasons = _run_reasons(names, np.full(len(curves), law.status, dtype=np.int32), pred, band,
                                   not_fitted, f"predict_final_loss_kaplan (fraction {fraction:g})", why)
    return FinalLossPrediction(
        names=names, fraction=float(fraction), method="kaplan_ns",
        predicted=pred, interval=band,
        actual=np.array([c.loss[-1] for c in curves]),
        n_points=np.array([i.size for i in idxs], dtype=np.int64),
        status=status,
        spikes=[np.zeros(0, dtype=np.int64)] * len(curves), fits=[law] * len(curves),
        reasons=reasons,
    )


# ----------------------------------------------------------------------------- checks
@dataclass(frozen=True, eq=False)
class CurveCheck:
    """Consistency of one curve with the schedule-aware model.

    Attributes
    ----------
    name : str
    spikes : ndarray of int
        Checkpoints whose loss rises above both neighbours (the last checkpoint: above the one
        before) by more than ``z`` robust standard deviations relative to the fitted curve
        (see :func:`check_curves`).
    rmse : float
        Root-mean-square residual of the fit (after warm-up); NaN where the fit failed.
    consistent : bool
        The fit converged, its rmse is within ``rmse_factor`` of the sweep's median, and no
        spike was found.
    status : int
        The status of the curve's fit (> 0 converged; see :mod:`scalingfit._status`).
    reason : str
        Why the curve is not consistent, in words (``""`` when it is): the fit's failure, its
        rmse against the sweep's median, its spikes.
    """

    name: str
    spikes: NDArray[np.int64]
    rmse: float
    consistent: bool
    status: int = 1
    reason: str = ""


def check_curves(
    curves: Sequence[Curve], *, z: float = 6.0, min_jump: float = 0.01, rmse_factor: float = 3.0,
    decay: float = DEFAULT_DECAY,
) -> list[CurveCheck]:
    """Flag loss spikes and curves inconsistent with the model: fit each whole curve (after
    warm-up; one batch call for all) with ``lr_annealing`` when its learning rate is known and
    ``learning_curve`` otherwise, robustly (soft-L1 loss, so a spike does not bend the fit).

    A spike is a real local upward jump: a checkpoint whose loss is above both of its
    neighbours' (the last checkpoint: above the one before; the first is never one), and whose
    residual from the fit exceeds the mean of its neighbours' residuals by more than ``z``
    robust standard deviations (1.4826 MAD of that excess over the curve) and by more than
    ``min_jump`` of the loss (evaluation noise on a smooth curve has heavy tails; 1% keeps it
    out). A smooth decreasing stretch is never a spike, however badly the model misses it
    there: without a learning rate, ``learning_curve`` misses the fast early drop of the OLMo
    ladder's C4 curves, which flagged checkpoint 0 or 1 of all 30 as spikes; those residuals
    count in the rmse instead. Every curve needs at least 5 checkpoints after warm-up (a
    ValueError naming it otherwise). A fit that fails (NaN rmse) or does not converge makes its
    curve inconsistent, with ``status`` and ``reason`` saying so, and the call warns once
    (``ConvergenceWarning``, or ``IdentifiabilityWarning`` when every such fit is singular)
    naming those curves.

    Parameters
    ----------
    curves : sequence of Curve
        The runs; not empty.
    z : float
        Robust standard deviations a spike's excess residual must pass; default 6.
    min_jump : float
        The least excess residual of a spike, as a fraction of the loss; default 0.01.
    rmse_factor : float
        A curve whose fit's rmse is more than this times the sweep's median rmse is
        inconsistent; default 3.
    decay : float
        λ of the annealing momentum of the learning-rate areas, as :func:`lr_areas`'s
        ``decay``; default :data:`DEFAULT_DECAY` (0.999 per step). Used for curves with a
        learning rate.

    Examples
    --------
    >>> step = np.arange(100, 5001, 100.0)
    >>> lr = cosine_schedule(step, peak=1e-3, warmup=300, total=5000)
    >>> S1, S2 = lr_areas(step, lr)
    >>> loss = (2.0 + S1 ** -0.4) * (1 - 0.05 * S2) * (1 + 0.001 * np.sin(step))
    >>> spiky = loss.copy(); spiky[30] *= 1.05
    >>> [(c.consistent, c.spikes.tolist()) for c in check_curves([Curve("ok", step, step, loss, lr), Curve("spike", step, step, spiky, lr)])]
    [(True, []), (False, [30])]
    """
    curves = _curves(curves, empty="no curves to check")
    groups: dict[str, list[int]] = {"lr_annealing": [], "learning_curve": []}
    data: dict[int, tuple[FloatArray, FloatArray, NDArray[np.int64]]] = {}
    for j, cv in enumerate(curves):
        sel = np.flatnonzero(cv.after_warmup()).astype(np.int64)
        model = "lr_annealing" if cv.lr is not None else "learning_curve"
        need = get_model(model).n_params + 1
        if sel.size < need:
            raise ValueError(f"curve {cv.name!r} has {sel.size} checkpoint(s) after warm-up: checking it "
                             f"({model}, {need - 1} parameters) needs at least {need}")
        if cv.lr is not None:
            S1, S2 = _areas(cv, decay)
            data[j] = (np.column_stack([S1[sel], S2[sel]]), cv.loss[sel], sel)
            groups["lr_annealing"].append(j)
        else:
            data[j] = (cv.step[sel], cv.loss[sel], sel)
            groups["learning_curve"].append(j)
    res: dict[int, tuple[float, NDArray[np.int64], int]] = {}
    for model, idx in groups.items():
        if not idx:
            continue
        # robust scale: the curve's own point-to-point noise
        scales = []
        for j in idx:
            y = data[j][1]
            d = np.diff(y, 2) if y.size > 3 else np.diff(y)
            scales.append(max(1.4826 * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(6), 1e-6))
        f_scale = float(np.median(scales))
        many = fit_many(model, [data[j][0] for j in idx], [data[j][1] for j in idx], loss="soft_l1",
                        f_scale=f_scale, warn=False)
        for k, j in enumerate(idx):
            law = many.problem(k)
            x, y, keep = data[j]
            st = int(law.status)
            if not np.isfinite(law.x).all():
                res[j] = (float("nan"), np.zeros(0, dtype=np.int64), st)
                continue
            r = y - law.predict(x)
            res[j] = (float(np.sqrt(np.mean(r * r))), keep[_robust_spikes(r, z, y, min_jump)], st)
    fitted = [v[0] for v in res.values() if np.isfinite(v[0])]
    med = float(np.median(fitted)) if fitted else float("nan")  # no fit: none is consistent
    out = []
    singular: list[str] = []
    failed: list[str] = []
    for j, cv in enumerate(curves):
        rmse, spikes, st = res[j]
        why = []
        if st <= 0 or not np.isfinite(rmse):
            model = "lr_annealing" if cv.lr is not None else "learning_curve"
            what = "singular" if st == SINGULAR else "did not converge"
            why.append(f"the {model} fit {what} (status {st}: {status_message(st)})"
                       + ("" if np.isfinite(rmse) else ": no rmse"))
            (singular if st == SINGULAR and np.isfinite(rmse) else failed).append(f"{cv.name} ({st})")
        elif not rmse <= rmse_factor * med:
            why.append(f"rmse {rmse:.3g} is more than {rmse_factor:g} x the sweep's median {med:.3g}")
        if spikes.size:
            why.append(f"spike(s) at checkpoint(s) {spikes.tolist()}")
        out.append(CurveCheck(name=cv.name, spikes=spikes, rmse=rmse, consistent=not why, status=st,
                              reason="; ".join(why)))
    if singular or failed:
        _warnings.warn(
            f"check_curves: the fit of {len(singular) + len(failed)} of {len(curves)} curve(s) did not converge "
            f"(status in parentheses), so they are reported inconsistent: "
            + "; ".join(p for p in (f"no fit (rmse NaN): {failed}" if failed else "",
                                    f"singular: {singular}" if singular else "") if p)
            + "; see .status and .reason",
            ConvergenceWarning if failed else IdentifiabilityWarning, stacklevel=2)
    return out


def midrun_gap(short: Curve, long: Curve) -> dict[str, float]:
    """How much worse a longer run's mid-run checkpoint is than a shorter run's *final*
    checkpoint at about the same tokens (same model, same recipe, each with its own schedule).

    The longer run's loss is interpolated (linearly in log tokens, over its checkpoints with
    tokens > 0; a checkpoint at tokens 0 has no logarithm) to the shorter run's final tokens. A
    positive gap means the mid-run checkpoint is worse: never use intermediate checkpoints as if
    they were the ends of shorter runs.

    Parameters
    ----------
    short : Curve
        The shorter run; its final checkpoint is compared.
    long : Curve
        The longer run, interpolated to ``short``'s final tokens.

    Raises
    ------
    ValueError
        If the longer run's checkpoints with tokens > 0 do not cover the shorter run's final
        tokens (naming both runs and the tokens).

    Examples
    --------
    >>> t = np.array([1.0, 2.0, 4.0]) * 1e9
    >>> midrun_gap(Curve("s", [1, 2, 3], t, [3.5, 3.2, 3.0]), Curve("l", [1, 2, 3], t * 2, [3.6, 3.3, 3.1]))["gap"]
    0.2999999999999998
    """
    _curve(short, "short")
    _curve(long, "long")
    T = float(short.tokens[-1])
    if not (long.tokens[0] <= T <= long.tokens[-1]):
        raise ValueError(f"{long.name!r} does not cover {short.name!r}'s final tokens {T:.3g}")
    pos = long.tokens > 0  # tokens increase strictly from >= 0: at most the first is 0
    first = int(np.argmax(pos))
    if T < long.tokens[first]:
        raise ValueError(
            f"{long.name!r} does not cover {short.name!r}'s final tokens {T:.3g} in log tokens: its "
            f"first checkpoint after tokens 0 is tokens[{first}] = {float(long.tokens[first]):.3g}, and "
            f"the loss between tokens 0 and there cannot be interpolated in log tokens")
    L_long = float(np.interp(np.log(T), np.log(long.tokens[pos]), long.loss[pos]))
    return {"tokens": T, "final_short": float(short.loss[-1]), "long_at_tokens": L_long,
            "gap": L_long - float(short.loss[-1])}
