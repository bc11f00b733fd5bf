"""Which law to trust: information criteria, leave-one-out refits and held-out extrapolation.

Several laws fit the same sweep about equally well and disagree where it matters, at the
next order of magnitude. :func:`compare_models` scores each candidate three ways on the same
points and the same objective:

- **information criteria** (AIC, AICc, BIC) from the Gaussian likelihood of the least-squares
  fit: ``-2 log L = n log(2 pi RSS / n) + n - sum log w`` with ``n`` the points of positive
  weight (weights are relative inverse variances, as in :attr:`FitResult.cov`), ``k`` the free
  parameters plus one for the noise variance; ``AIC = 2k - 2 log L``,
  ``AICc = AIC + 2k(k+1)/(n-k-1)``, ``BIC = k log n - 2 log L``. With ``log_residuals=True``
  the likelihood is that of ``log y`` (all candidates share the scale, so differences are
  comparable). Defined for the linear loss only (NaN with a robust loss);
- **leave-one-out cross-validation**: every point refitted out, all ``n`` refits in one batch
  call warm-started at the full fit, and the error of predicting the point left out (in the
  fit's residual space); robust to any loss;
- **held-out extrapolation** (a backtest): the ``holdout`` points with the largest ``by``
  (compute ``N * D`` for a law of two inputs) are left out, the law is fitted to the others as
  the full fit was, and each held-out point is predicted with its prediction interval
  ``f +- t(n-p) sqrt(g' C g + s^2 / w)`` (``C`` the Gauss-Newton covariance, ``s^2 = RSS/(n-p)``;
  on ``log y`` with ``log_residuals``): the relative error and whether the interval holds the
  observation.

Example
-------
>>> import numpy as np, scalingfit
>>> rng = np.random.default_rng(0)
>>> N = np.logspace(7, 10, 12)
>>> L = (1.7 + 400 * N ** -0.34) * np.exp(0.01 * rng.standard_normal(12))
>>> cmp = scalingfit.compare_models(["power_law", "saturating_power_law"], N, L,
...                                 log_residuals=True, holdout=2)
>>> cmp.best("aicc")
'saturating_power_law'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _stats, _validate, _warnings
from ._custom import CustomModel
from ._fit import (
    ModelLike,
    all_starts,
    fit,
    fit_batch,
    quiet,
    resolve_backend,
    resolve_model,
)
from ._progress import progress_bar
from ._warnings import DataWarning, UncertaintyWarning
from .bootstrap import _finite_level
from .models import Model
from .results import FitResult
from .uncertainty import t_quantile

__all__ = ["CRITERIA", "BatchComparison", "Comparison", "ModelScore", "NestedTest", "compare_batch",
           "compare_models", "information_criteria", "nested_test", "pointwise"]

FloatArray = NDArray[np.float64]
AnyModel = Union[Model, CustomModel]

#: Criteria that :meth:`Comparison.best` and :meth:`Comparison.weights` accept (lower is better).
CRITERIA = ("aic", "aicc", "bic", "loo_rmse", "holdout_rmse")

#: Keys of ``options[label]``: how that law is fitted (as :func:`scalingfit.fit` takes them).
FIT_OPTIONS = ("p0", "starts", "bounds", "fixed", "max_iter", "ftol", "xtol", "gtol")

#: Rows of the data copied per leave-one-out batch call (about 16 bytes per row and input).
_LOO_ROWS = 2_000_000


def information_criteria(result: FitResult, weights: Optional[ArrayLike] = None) -> dict[str, float]:
    """AIC, AICc and BIC of a least-squares fit, and the log-likelihood behind them.

    Parameters
    ----------
    result : FitResult
        A fit with the linear loss (``loss="linear"``).
    weights : array_like, optional
        The weights the fit used (their log enters the likelihood). Without them ``n`` is
        the fit's :attr:`~scalingfit.FitResult.n_used` and the log weights count as 0, which
        is exact for weights of 0 and 1 (a point of weight 0 adds nothing: the criteria equal
        those of the fit with it dropped).

    Returns
    -------
    dict with ``log_likelihood``, ``aic``, ``aicc``, ``bic``, ``k`` (free parameters + 1) and
    ``n`` (points of positive weight). ``aicc`` is NaN when ``n <= k + 1``; an exact fit
    (zero residuals) has ``log_likelihood = inf``; all are NaN for a fit without a finite cost
    or with no more points of positive weight than free parameters (a saturated fit).
    """
    if not isinstance(result, FitResult):
        raise TypeError(f"result must be a FitResult, got {type(result).__name__}")
    if result.loss != "linear":
        raise ValueError(f"information criteria need the Gaussian likelihood of a least-squares "
                         f"fit (loss='linear'); this fit used loss={result.loss!r}: compare robust "
                         f"fits by cross-validation (compare_models' loo_rmse)")
    n, sum_log_w = _used(result, weights)
    k = _free_count(result) + 1
    ll, aic, aicc, bic = (float(v[0]) for v in _criteria(np.array([2.0 * result.cost]), np.array([n]),
                                                          np.array([sum_log_w]), k))
    return {"log_likelihood": ll, "aic": aic, "aicc": aicc, "bic": bic, "k": float(k), "n": float(n)}


def _criteria(rss: FloatArray, n: NDArray[Any], sum_log_w: NDArray[Any],
              k: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Log-likelihood, AIC, AICc and BIC of least-squares fits with residual sums ``rss`` over
    ``n`` points of positive weight (``sum_log_w`` the sum of their log weights) and ``k``
    parameters (the noise included). NaN without a residual degree of freedom (a saturated
    fit's RSS is rounding noise), for a non-finite RSS, and AICc for n <= k + 1; an exact fit
    (RSS = 0) has log-likelihood +inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1.0) + 0.5 * sum_log_w
        ll = np.where((n > k - 1) & np.isfinite(rss), ll, np.nan)
        aic = 2 * k - 2 * ll
        aicc = np.where(n - k - 1 > 0, aic + 2 * k * (k + 1) / np.where(n - k - 1 > 0, n - k - 1, 1), np.nan)
        bic = k * np.log(n) - 2 * ll
    return ll, aic, aicc, bic


def _free_count(result: FitResult) -> int:
    return len(result.param_names) - len(result.fixed)


def _used(result: FitResult, weights: Optional[ArrayLike]) -> tuple[int, float]:
    """The points of positive weight of ``result`` and the sum of their log weights: from
    ``weights`` when given (which must have as many positive ones as the fit counted), else
    the fit's ``n_used`` and 0."""
    n_used = result.n_points if result.n_used is None else result.n_used
    if weights is None:
        return n_used, 0.0
    w = _validate.as_weights(weights, result.n_points)
    assert w is not None
    pos = w[w > 0]
    if pos.size != n_used:
        raise ValueError(f"weights has {pos.size} positive entries but the {result.model} fit counted "
                         f"{n_used} points of positive weight: pass the weights the fit used")
    return int(pos.size), float(np.sum(np.log(pos)))


@dataclass(frozen=True, eq=False)
class ModelScore:
    """One candidate law's scores (see the module docstring for the definitions).

    Attributes
    ----------
    label : str
    fit : FitResult
        The fit to every point.
    law : Model or CustomModel
        The law fitted.
    k : int
        Free parameters (fixed ones excluded).
    rss : float
        Weighted sum of squared residuals of :attr:`fit` (in the fit's residual space; equal
        to ``2 * fit.cost`` for the linear loss).
    aic, aicc, bic, log_likelihood : float
        NaN with a robust loss.
    loo_errors : ndarray (n,)
        Prediction error of each point from the fit without it (without its group, with
        ``groups``), in the fit's residual space (``log f - log y`` with ``log_residuals``);
        NaN for points of zero weight, where a refit failed, or with ``loo=False``.
    loo_rmse : float
        Root of the weighted mean square of ``loo_errors`` (NaN when any refit failed).
    loo_failed : int
        Cross-validation refits (one per point, or per group) that did not converge.
    holdout_fit : FitResult or None
        The fit without the held-out points.
    holdout_pred, holdout_lower, holdout_upper : ndarray (h,)
        Predictions of the held-out points and their prediction interval (on the scale of
        ``y``; NaN bounds with a robust loss or without a covariance).
    holdout_rel_err : ndarray (h,)
        ``(prediction - y) / y`` of each held-out point.
    holdout_covered : ndarray of bool (h,)
        Whether each held-out observation lies in its prediction interval (False where the
        interval is undefined: a robust loss or no covariance; see ``holdout_lower``).
    holdout_rmse : float
        Weighted root mean square of the held-out errors in the fit's residual space.
    """

    label: str
    fit: FitResult
    law: Any
    k: int
    rss: float
    aic: float
    aicc: float
    bic: float
    log_likelihood: float
    loo_errors: FloatArray
    loo_rmse: float
    loo_failed: int
    holdout_fit: Optional[FitResult]
    holdout_pred: FloatArray
    holdout_lower: FloatArray
    holdout_upper: FloatArray
    holdout_rel_err: FloatArray
    holdout_rmse: float
    holdout_covered: NDArray[np.bool_]

    def predict(self, x: Any, *, holdout: bool = False) -> FloatArray:
        """The law at ``x`` with the parameters of the fit to every point (or, with
        ``holdout=True``, of the fit without the held-out points).

        Parameters
        ----------
        x : array_like
            The inputs, as :func:`scalingfit.fit` takes them.
        holdout : bool
            Use the fit without the held-out points (a ValueError when there was no holdout);
            default False.
        """
        r = self.holdout_fit if holdout else self.fit
        if r is None:
            raise ValueError(f"{self.label}: no holdout fit (compare_models was run without holdout)")
        xa = _validate.as_inputs(x, self.law)
        return np.asarray(self.law.predict(r.x, xa), dtype=np.float64)

    def score(self, criterion: str) -> float:
        """The value of one of :data:`CRITERIA`.

        Parameters
        ----------
        criterion : str
            ``"aic"``, ``"aicc"``, ``"bic"``, ``"loo_rmse"`` or ``"holdout_rmse"`` (another is
            a ValueError).
        """
        _check_criterion(criterion)
        return float(getattr(self, criterion))


def _akaike(v: FloatArray, ok: NDArray[np.bool_]) -> FloatArray:
    """Akaike weights along axis 0 over the competing entries (``ok``); where some are -inf
    (exact fits) those share the weight equally."""
    v = np.where(ok, v, np.nan)
    fin = np.isfinite(v)
    exact = np.isneginf(v)
    low = np.min(np.where(fin, v, np.inf), axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.where(fin, np.exp(-0.5 * (np.where(fin, v, 0.0) - np.where(np.isfinite(low), low, 0.0))), 0.0)
    e = np.where(exact.any(axis=0), exact.astype(np.float64), e)
    tot = e.sum(axis=0)
    return np.asarray(np.divide(e, tot, out=np.zeros_like(e), where=tot > 0), dtype=np.float64)


def _why_none(cmp: Any, criterion: str) -> str:
    if criterion in ("aic", "aicc", "bic") and cmp.loss != "linear":
        return f"no information criteria with loss={cmp.loss!r}"
    if criterion == "aicc":
        return "AICc needs n > k + 2 points, or no fit converged"
    if criterion == "loo_rmse":
        return "leave-one-out not run, or refits failed"
    if criterion == "holdout_rmse":
        return "no held-out points, or their fits failed"
    return "no fit converged"


def _check_criterion(criterion: str) -> str:
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion!r}")
    return criterion


@dataclass(frozen=True, eq=False)
class Comparison:
    """Scores of several laws on the same points (:func:`compare_models`).

    Attributes
    ----------
    scores : tuple of ModelScore
        In the order the laws were given.
    holdout_index : ndarray of int
        Rows held out for the extrapolation test (largest ``by`` first); empty without one.
    x, y : ndarray
        The points, ``x`` of shape (n, n_inputs) (read-only).
    loss : str
    log_residuals : bool
    level : float
        Level of the prediction intervals.
    cv : str
        What the cross-validation left out: ``"leave-one-out"``, ``"leave-one-group-out (G
        groups)"`` or ``"none"``.
    labels : tuple of str
        The laws' labels, in the order of ``scores`` (set from them).
    """

    scores: tuple[ModelScore, ...]
    holdout_index: NDArray[np.int64]
    loss: str
    log_residuals: bool
    level: float
    x: FloatArray
    y: FloatArray
    cv: str = "leave-one-out"
    _w: Optional[FloatArray] = field(default=None, repr=False)  # the weights, when given
    labels: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(s.label for s in self.scores))

    def __getitem__(self, label: str) -> ModelScore:
        for s in self.scores:
            if s.label == label:
                return s
        raise KeyError(f"no law labelled {label!r}; the comparison has {', '.join(self.labels)}")

    def _competing(self, criterion: str) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Each law's ``criterion`` and whether it competes: its fit converged (the holdout
        fit, for ``holdout_rmse``) and the value is not NaN (an exact fit's -inf competes)."""
        v = np.array([s.score(criterion) for s in self.scores])
        fitted = [s.holdout_fit if criterion == "holdout_rmse" else s.fit for s in self.scores]
        ok = np.array([f is not None and f.success for f in fitted]) & ~np.isnan(v)
        return v, ok

    def best(self, criterion: str = "aicc") -> str:
        """Label of the law with the lowest ``criterion``; only converged fits compete (a
        ValueError when none has a value).

        Parameters
        ----------
        criterion : str
            One of :data:`CRITERIA` (``"aic"``, ``"aicc"``, ``"bic"``, ``"loo_rmse"``,
            ``"holdout_rmse"``; another is a ValueError); default ``"aicc"``.
        """
        v, ok = self._competing(criterion)
        if not ok.any():
            raise ValueError(f"no converged law has a finite {criterion} ({_why_none(self, criterion)}); "
                             "see the table")
        return self.labels[int(np.argmin(np.where(ok, v, np.inf)))]

    @property
    def weight_criterion(self) -> str:
        """The criterion the table's Akaike weights use: ``"aicc"``, or ``"aic"`` when a
        converged law has no AICc (n <= k + 2) or none converged."""
        converged = [s for s in self.scores if s.fit.success]
        return "aicc" if converged and all(not np.isnan(s.aicc) for s in converged) else "aic"

    def weights(self, criterion: str = "aicc") -> dict[str, float]:
        """Akaike weights ``exp(-d/2) / sum exp(-d/2)``, ``d`` the difference to the lowest
        criterion: the relative support of each law (for ``aic``, ``aicc`` or ``bic``). Laws
        whose fit did not converge get 0; exact fits (criterion -inf) share the weight.

        Parameters
        ----------
        criterion : {"aic", "aicc", "bic"}
            The information criterion (another is a ValueError); default ``"aicc"``.
        """
        if _check_criterion(criterion) not in ("aic", "aicc", "bic"):
            raise ValueError(f"weights are defined for aic, aicc and bic, got {criterion!r}")
        v, ok = self._competing(criterion)
        return dict(zip(self.labels, (float(x) for x in _akaike(v, ok))))

    def table(self) -> str:
        """The scores as a text table: fit status, free parameters, RSS, criteria, Akaike
        weights (AICc), leave-one-out and held-out errors, held-out points inside their
        prediction intervals."""
        linear = self.loss == "linear"
        converged = [s for s in self.scores if s.fit.success]
        crit = self.weight_criterion
        wcol = f"w({crit.upper().replace('AICC', 'AICc')})"
        head = ("law", "fit", "k", "rss", "AIC", "AICc", "BIC", wcol, "LOO rmse", "holdout rmse",
                "max |rel err|", "in PI")
        wts = self.weights(crit) if linear else {}
        rows = []
        for s in self.scores:
            h = s.holdout_covered.size
            loo = _g(s.loo_rmse) if not s.loo_failed else f"- ({s.loo_failed} failed)"
            rows.append((
                s.label, _state(s.fit), str(s.k), _g(s.rss), _f(s.aic), _f(s.aicc), _f(s.bic),
                f"{wts[s.label]:.3f}" if linear else "-", loo if self.cv != "none" else "-",
                _g(s.holdout_rmse),
                f"{100 * np.max(np.abs(s.holdout_rel_err)):.2f}%" if h and np.isfinite(s.holdout_rel_err).all()
                else "-",
                f"{int(s.holdout_covered.sum())}/{h}" if h and np.isfinite(s.holdout_lower).all() else "-",
            ))
        lines = aligned([head, *rows])
        space = "log y" if self.log_residuals else "y"
        note = (f"k: free parameters (the criteria count k + 1, with the noise); errors in {space}; "
                f"cross-validation: {self.cv}")
        if self.holdout_index.size:
            note += f"; {self.holdout_index.size} held out (largest first)"
            if linear:  # a robust loss has no likelihood, so no prediction intervals
                note += f", {100 * self.level:g}% prediction intervals"
        notes = [note]
        if not linear:
            notes.append(f"no information criteria with loss={self.loss!r} (Gaussian likelihood only); "
                         "rss is the plain sum of squares at the robust optimum")
        elif not converged:
            notes.append("no law converged: no weights")
        elif crit == "aic":
            notes.append("AICc undefined (it needs n > k + 2 points): weights from AIC")
        if any(not s.fit.success for s in self.scores):
            notes.append("laws whose fit did not converge get weight 0 and never win")
        return "\n".join(lines + notes)

    def nested_test(self, restricted: str, full: str) -> NestedTest:
        """F and likelihood-ratio tests of a law against a larger one that contains it (e.g.
        ``chinchilla_tied``, alpha = beta, inside ``chinchilla``): does the larger law fit
        better than its extra parameters would by chance? See :func:`nested_test`.

        Parameters
        ----------
        restricted : str
            Label of the smaller law (a KeyError for an unknown label).
        full : str
            Label of the larger law that contains it.
        """
        return nested_test(self[restricted].fit, self[full].fit,
                           weights=None if self._w is None else self._w)

    def __repr__(self) -> str:
        return f"Comparison of {len(self.scores)} laws\n{self.table()}"


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as text columns: the first left-aligned, the others right-aligned, each as
    wide as its widest cell, two spaces apart."""
    width = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(v.rjust(w) if c else v.ljust(w) for c, (v, w) in enumerate(zip(r, width))) for r in rows]


def _state(r: FitResult) -> str:
    return "ok" if r.success else ("max iter" if r.status == 0 else f"failed ({r.status})")


def _g(v: float) -> str:
    return f"{v:.4g}" if np.isfinite(v) else "-"


def _f(v: float) -> str:
    return f"{v:.2f}" if np.isfinite(v) else ("-inf" if v == -np.inf else "-")


def _labelled(models: Any) -> list[tuple[str, AnyModel]]:
    if isinstance(models, (str, Model, CustomModel)):
        raise TypeError("models must be several laws (a list of names/models, or {label: model}); "
                        "got a single law")
    if isinstance(models, Mapping):
        items = list(models.items())
        for label, _ in items:
            if not isinstance(label, str) or not label:
                raise TypeError(f"models: labels must be non-empty strings, got {label!r}")
    elif isinstance(models, Sequence):
        items = [(getattr(m, "name", m), m) for m in models]
    else:
        raise TypeError(f"models must be a list of laws or a {{label: law}} dict, got "
                        f"{type(models).__name__}")
    if len(items) < 1:
        raise ValueError("models is empty: give the laws to compare")
    out = []
    for i, (label, m) in enumerate(items):
        try:
            out.append((str(label), resolve_model(m)))
        except (TypeError, ValueError) as e:
            raise type(e)(f"models[{i}]: {e}") from None
    labels = [lab for lab, _ in out]
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise ValueError(f"models: label(s) {dup} given twice; pass {{label: law}} to tell them apart")
    inputs = {m.n_inputs for _, m in out}
    if len(inputs) > 1:
        raise ValueError("models must take the same inputs to be scored on the same points; got "
                         + ", ".join(f"{lab} ({m.n_inputs})" for lab, m in out))
    return out


def _options(options: Any, labels: list[str]) -> dict[str, dict[str, Any]]:
    if options is None:
        return {lab: {} for lab in labels}
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a {{label: {{option: value}}}} dict, got {type(options).__name__}")
    unknown = [k for k in options if k not in labels]
    if unknown:
        raise ValueError(f"options: no law labelled {unknown}; the laws are {labels}")
    out: dict[str, dict[str, Any]] = {}
    for lab in labels:
        o = options.get(lab, {})
        if not isinstance(o, Mapping):
            raise TypeError(f"options[{lab!r}] must be a dict of fit options, got {type(o).__name__}")
        bad = [k for k in o if k not in FIT_OPTIONS]
        if bad:
            raise ValueError(f"options[{lab!r}]: unknown option(s) {bad}; allowed: {', '.join(FIT_OPTIONS)}")
        out[lab] = dict(o)
    return out


def _holdout_rows(holdout: Any, by: Optional[ArrayLike], x: FloatArray, w: FloatArray) -> NDArray[np.int64]:
    """Rows held out, largest ``by`` (default: the input, or the product of the inputs) first;
    only points of positive weight (a zero-weight point has no prediction interval)."""
    n = x.shape[0]
    key = np.prod(x, axis=1) if by is None else _by(by, n)
    if isinstance(holdout, (np.ndarray, list, tuple)):
        mask = np.asarray(holdout)
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(f"holdout as an array must be a boolean mask of shape ({n},), got "
                             f"dtype {mask.dtype} shape {mask.shape}")
        zero = mask & ~(w > 0)
        if zero.any():
            raise ValueError(f"holdout: row {int(np.argmax(zero))} has weight 0; hold out points of "
                             "positive weight (a point of weight 0 has no prediction interval)")
        rows = np.flatnonzero(mask)
        return rows[np.argsort(-key[rows], kind="stable")].astype(np.int64)
    pos = np.flatnonzero(w > 0)
    h = _validate.count("holdout", holdout, most=pos.size)
    return pos[np.argsort(-key[pos], kind="stable")][:h].astype(np.int64)


def _by(by: ArrayLike, n: int) -> FloatArray:
    key = _validate.as_targets(by, n, "by", "x")
    _validate.check_finite(key, "by")
    return key


def _value_jac(m: AnyModel, p: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    if isinstance(m, CustomModel):
        return m.value_and_jacobian(x, np.broadcast_to(p, (x.shape[0], p.size)).copy())
    return m.predict(p, x), m.jacobian(p, x)


def _space(f: FloatArray, y: FloatArray, log: bool) -> FloatArray:
    """Errors in the fit's residual space: f - y, or log f - log y."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(f) - np.log(y) if log else f - y)


def _wmean_sq(e: FloatArray, w: FloatArray) -> float:
    if not np.isfinite(e).all():
        return math.nan
    return float(math.sqrt(np.sum(w * e * e) / np.sum(w))) if w.sum() > 0 else math.nan


def _rss(m: AnyModel, r: FitResult, x: FloatArray, y: FloatArray, w: FloatArray, log: bool) -> float:
    f, _ = _value_jac(m, r.x, x)
    e = np.where(w > 0, _space(f, y, log), 0.0)
    return float(np.sum(w * e * e))


def _folds(groups: Optional[ArrayLike], w: FloatArray) -> tuple[NDArray[np.int64], int]:
    """Fold of every point (-1: zero weight, never predicted) and the number of folds: one
    point per fold, or one group per fold."""
    n = w.shape[0]
    if groups is None:
        fold = np.arange(n, dtype=np.int64)
    else:
        g = np.asarray(groups)
        if g.shape != (n,):
            raise ValueError(f"groups must have one label per point, shape ({n},), got shape {g.shape}")
        if g.dtype.kind == "f" and not np.isfinite(g).all():
            raise ValueError(f"groups has a non-finite label at index {int(np.argmax(~np.isfinite(g)))}")
        try:
            _, fold = np.unique(g, return_inverse=True)
        except TypeError:
            raise TypeError("groups must be labels of one comparable type (numbers or strings)") from None
        fold = fold.reshape(-1).astype(np.int64)
    fold = np.where(w > 0, fold, -1)
    ids, fold = np.unique(fold, return_inverse=True)
    fold = fold.reshape(-1) - (1 if ids.size and ids[0] == -1 else 0)
    n_folds = int(fold.max()) + 1 if fold.size else 0
    if groups is not None and n_folds < 2:
        raise ValueError(f"groups: cross-validation needs at least 2 groups with points of positive "
                         f"weight, got {n_folds}")
    return fold.astype(np.int64), n_folds


def _cross_validate(m: AnyModel, x: FloatArray, y: FloatArray, w: FloatArray, fold: NDArray[np.int64],
                    n_folds: int, full: FitResult, kw: dict[str, Any], opts: dict[str, Any],
                    threads: Optional[int], bar: Callable[[Optional[int]], None]) -> tuple[FloatArray, int]:
    """Prediction errors of every point of positive weight from the fit without its fold (the
    point itself, or its group): all the refits as items of batch calls, warm-started at the
    full fit."""
    n = y.shape[0]
    errors = np.full(n, np.nan)
    if not full.success:
        bar(n_folds)
        return errors, n_folds
    batch_opts = {k: opts[k] for k in ("bounds", "fixed", "max_iter", "ftol", "xtol", "gtol") if k in opts}
    every = np.arange(n)
    per = max(1, _LOO_ROWS // max(n, 1))
    order = np.argsort(fold, kind="stable")
    cuts = np.searchsorted(fold[order], np.arange(n_folds + 1))  # fold k: order[cuts[k]:cuts[k+1]]
    failed = 0
    for start in range(0, n_folds, per):
        left = np.arange(start, min(start + per, n_folds))
        keep = np.broadcast_to(fold, (left.size, n)) != left[:, None]  # row j: all but fold left[j]
        idx = np.broadcast_to(every, keep.shape)[keep]
        offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
        p0 = np.repeat(full.x[None, :], left.size, axis=0)
        with quiet():
            b = fit_batch(m, x[idx], y[idx], offsets, p0, weights=w[idx], threads=threads,
                          compute_cov=False, **kw, **batch_opts)
        failed += int((~b.success).sum())
        done = left[b.success]
        rows = np.concatenate([order[cuts[f]:cuts[f + 1]] for f in done]) if done.size else np.zeros(0, np.int64)
        item = np.repeat(np.flatnonzero(b.success), cuts[done + 1] - cuts[done])
        f = pointwise(m, b.x[item], x[rows])  # each point from the refit without its fold
        errors[rows] = _space(f, y[rows], kw["log_residuals"])
        bar(left.size)
    return errors, failed


def pointwise(m: Union[ModelLike, AnyModel], params: ArrayLike, x: Any) -> FloatArray:
    """``f[i] = law(params[i], x[i])``: each point with its own parameter row.

    ``params`` has shape (n, n_params); ``x`` shape (n, n_inputs), or (n,) for a law of one
    input.

    Parameters
    ----------
    m : str, Model or CustomModel
        The law, by built-in name or as a model object.
    params : array_like (n, n_params)
        One parameter row per point.
    x : array_like (n, n_inputs) or (n,)
        The points, one per row of ``params``.
    """
    m = resolve_model(m) if isinstance(m, str) else m
    P = _validate.as_float_array(params, "params")
    X = _validate.as_float_array(x, "x")
    if X.ndim == 1 and m.n_inputs == 1:
        X = X.reshape(-1, 1)
    if P.ndim != 2 or P.shape[1] != m.n_params:
        raise ValueError(f"params must have shape (n, {m.n_params}) for {m.name}, got {P.shape}")
    if X.ndim != 2 or X.shape[1] != m.n_inputs:
        raise ValueError(f"x must have shape (n, {m.n_inputs}) for {m.name}, got {X.shape}")
    if P.shape[0] != X.shape[0]:
        raise ValueError(f"params has {P.shape[0]} rows for {X.shape[0]} points")
    P, X = np.ascontiguousarray(P), np.ascontiguousarray(X)
    if isinstance(m, CustomModel):
        return m.predict(P, X)
    return np.asarray(_core.evaluate_pairs(m.index, X, P), dtype=np.float64)


def _interval(m: AnyModel, r: FitResult, x: FloatArray, w: FloatArray, log: bool,
              linear: bool, level: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Prediction, lower and upper bound of new observations at ``x`` (weights ``w``) from the
    fit ``r``, on its residual degrees of freedom (its points of positive weight less its free
    parameters)."""
    f, J = _value_jac(m, r.x, x)
    nan = np.full(f.shape, np.nan)
    dof = r.dof
    if not (linear and r.success and dof > 0 and np.isfinite(r.cov).all()):
        return f, nan, nan
    g = J / f[:, None] if log else J
    s2 = 2.0 * r.cost / dof
    with np.errstate(divide="ignore"):
        var = np.einsum("ij,jk,ik->i", g, r.cov, g) + s2 / w
    half = t_quantile(0.5 + level / 2, dof) * np.sqrt(var)
    if log:
        with np.errstate(invalid="ignore"):
            lf = np.log(f)
        return f, np.exp(lf - half), np.exp(lf + half)
    return f, f - half, f + half


def _fit_labelled(label: str, m: AnyModel, x: FloatArray, y: FloatArray, w: FloatArray,
                  kw: dict[str, Any], opts: dict[str, Any], threads: Optional[int]) -> FitResult:
    # the fit's warnings, gathered in this thread alone and re-issued with the law's label;
    # comparisons use no standard errors, so none about them
    with _warnings.suppressed(UncertaintyWarning), _warnings.collected() as caught:
        try:
            r = fit(m, x, y, weights=w, threads=threads, **kw, **opts)
        except ValueError as exc:
            if "needs p0" in str(exc):
                raise ValueError(f"{exc}: give it in options={{{label.split(' (')[0]!r}: {{'p0': [...]}}}}") from None
            raise
    for text, category in caught:
        _warnings.warn(text if text.startswith(label) else f"{label}: {text}", category, stacklevel=3)
    return r


@_validate.suggest_argument_names
def compare_models(
    models: Union[Sequence[ModelLike], Mapping[str, ModelLike]],
    x: Any,
    y: ArrayLike,
    *,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
    holdout: Union[int, ArrayLike] = 0,
    by: Optional[ArrayLike] = None,
    loo: bool = True,
    groups: Optional[ArrayLike] = None,
    level: float = 0.95,
    options: Optional[Mapping[str, Mapping[str, Any]]] = None,
    threads: Optional[int] = None,
    progress: bool = False,
) -> Comparison:
    """Score several laws on the same points: AIC/AICc/BIC, leave-one-out error, extrapolation.

    Parameters
    ----------
    models : list of str/Model/CustomModel, or {label: law}
        The candidates; they must take the same inputs.
    x, y, weights, loss, f_scale, log_residuals :
        As :func:`scalingfit.fit`; every law is fitted with the same objective. For the
        criteria and intervals, weights are relative inverse variances (as in the covariance):
        a weight of 2 everywhere scores as no weights, not as every point counted twice.
    holdout : int or boolean mask, default 0
        How many points to hold out for the extrapolation test: the ``holdout`` points of
        positive weight with the largest ``by`` (or a mask of the rows to hold out, of positive
        weight); ``holdout_index`` lists them largest ``by`` first.
    by : array_like (n,), optional
        Order of the points for ``holdout`` (default: the input, or the product of the inputs,
        ``N * D`` proportional to compute, for a law of two).
    loo : bool, default True
        Run the ``n`` leave-one-out refits (one batch call per law).
    groups : array_like (n,), optional
        A label per point (a sweep, a compute budget, a seed): leave one *group* out instead of
        one point, and predict all its points from the fit to the others. Points of one sweep
        share its errors, so leaving single points out flatters a law; leaving a budget out
        tests the law where it has no data.
    level : float in (0, 1), default 0.95
        Level of the prediction intervals of held-out points.
    options : {label: {option: value}}, optional
        How each law is fitted: ``p0``, ``starts``, ``bounds``, ``fixed``, ``max_iter``,
        ``ftol``, ``xtol``, ``gtol`` (a custom law needs ``p0`` or ``starts``).
    threads : int, optional
    progress : bool, default False
        A progress bar of the cross-validation refits on stderr (tqdm when installed).

    Returns
    -------
    Comparison
        ``.table()``, ``.best(criterion)``, ``.weights(criterion)``, ``[label]``.

    Notes
    -----
    Information criteria compare laws on one data set and one likelihood; they say nothing
    about extrapolation, which the held-out test measures directly (with few held-out points,
    a noisy measure: look at the prediction intervals). Leave-one-out refits start at the full
    fit, so a refit that would jump to another optimum from a fresh start is not found.
    """
    laws = _labelled(models)
    labels = [lab for lab, _ in laws]
    opts = _options(options, labels)
    m0 = laws[0][1]
    xa = _validate.as_inputs(x, m0)
    ya = _validate.as_targets(y, xa.shape[0])
    _validate.check_finite(xa, "x", m0.input_names)
    _validate.check_finite(ya, "y")
    w = _validate.as_weights(weights, ya.shape[0])
    wa = np.ones(ya.shape[0]) if w is None else w
    if not (wa > 0).any():
        raise ValueError("weights: no point has a positive weight; nothing to score")
    level = _finite_level(level)
    loo = _validate.flag("loo", loo)
    log_residuals = _validate.flag("log_residuals", log_residuals)
    if groups is not None and not loo:
        raise ValueError("groups sets what the cross-validation leaves out; it has no effect with loo=False")
    fold, n_folds = _folds(groups, wa)
    rows_out = _holdout_rows(holdout, by, xa, wa)
    train = np.ones(ya.shape[0], dtype=bool)
    train[rows_out] = False
    kw: dict[str, Any] = dict(loss=loss, f_scale=f_scale, log_residuals=log_residuals)
    linear = loss == "linear"

    if rows_out.size:  # before any fit: every law must be fittable without the held-out rows
        left = int(np.sum(wa[train] > 0))
        for label, m in laws:
            k = _validate.n_free(*_validate.as_bounds(opts[label].get("bounds"), m, opts[label].get("fixed")))
            if left < k:
                raise ValueError(f"holdout must leave at least {k} point(s) of positive weight to fit the {k} "
                                 f"free parameters of {label}; it leaves {left}")

    bar = progress_bar(n_folds * len(laws) if loo else 0, _validate.flag("progress", progress), unit="refit")
    scores = []
    for label, m in laws:
        o = opts[label]
        full = _fit_labelled(label, m, xa, ya, wa, kw, o, threads)
        ic = (information_criteria(full, w) if linear else
              dict.fromkeys(("log_likelihood", "aic", "aicc", "bic"), math.nan))
        if loo:
            errors, failed = _cross_validate(m, xa, ya, wa, fold, n_folds, full, kw, o, threads, bar)
            pos = wa > 0
            loo_rmse = _wmean_sq(errors[pos], wa[pos]) if failed == 0 else math.nan
        else:
            errors, failed, loo_rmse = np.full(ya.shape[0], np.nan), 0, math.nan
        h_fit: Optional[FitResult] = None
        empty = np.zeros(0)
        pred, lo, hi, rel, cov_ok, h_rmse = empty, empty, empty, empty, np.zeros(0, bool), math.nan
        if rows_out.size:
            h_fit = _fit_labelled(f"{label} (holdout)", m, xa[train], ya[train], wa[train], kw, o,
                                  threads)
            xo, yo = xa[rows_out], ya[rows_out]
            pred, lo, hi = _interval(m, h_fit, xo, wa[rows_out], log_residuals, linear, level)
            rel = (pred - yo) / yo
            cov_ok = (lo <= yo) & (yo <= hi)
            h_rmse = _wmean_sq(_space(pred, yo, log_residuals), wa[rows_out])
        scores.append(ModelScore(
            label=label, fit=full, law=m, k=_free_count(full), rss=_rss(m, full, xa, ya, wa, log_residuals),
            aic=ic["aic"], aicc=ic["aicc"], bic=ic["bic"], log_likelihood=ic["log_likelihood"],
            loo_errors=errors, loo_rmse=loo_rmse, loo_failed=failed, holdout_fit=h_fit,
            holdout_pred=pred, holdout_lower=lo, holdout_upper=hi, holdout_rel_err=rel,
            holdout_rmse=h_rmse if np.isfinite(h_rmse) else math.nan, holdout_covered=cov_ok,
        ))
    exact = [s.label for s in scores if s.rss == 0.0 and s.fit.success]
    if exact and linear:  # a likelihood with zero variance: AIC -inf, Akaike weight 1
        _warnings.warn(f"{', '.join(exact)} fit(s) the data exactly (RSS 0, e.g. a constant y): the "
                       "Gaussian log-likelihood is infinite there, so AIC, AICc and BIC are -inf and do not "
                       "rank the laws; compare them by the leave-one-out or held-out errors",
                       DataWarning, stacklevel=2)
    xs, ys = xa.copy(), ya.copy()
    xs.flags.writeable = ys.flags.writeable = False
    bar(None)
    return Comparison(scores=tuple(scores), holdout_index=rows_out, loss=loss,
                      log_residuals=log_residuals, level=level, x=xs, y=ys,
                      cv="none" if not loo else ("leave-one-out" if groups is None else
                                                  f"leave-one-group-out ({n_folds} groups)"),
                      _w=None if w is None else w.copy())


# ------------------------------------------------------------------ nested laws
@dataclass(frozen=True)
class NestedTest:
    """A law against a larger one that contains it (:func:`nested_test`).

    Attributes
    ----------
    restricted, full : str
        Model names of the smaller (restricted) law's fit and of the larger (full) one's.
    F, df1, df2, p_value : float
        ``F = ((RSS_r - RSS_f) / df1) / (RSS_f / df2)``, ``df1`` the extra free parameters,
        ``df2 = n - k_full``; ``p_value`` from the F distribution (exact for laws linear in
        their parameters with Gaussian errors, asymptotic otherwise).
    lr, lr_p_value : float
        Likelihood ratio ``n log(RSS_r / RSS_f)`` and its chi-square(df1) tail probability,
        an asymptotic p-value that is too small at the sizes of scaling sweeps: under the
        restricted law it rejected at 5% in 6.7-9.6% of 30-run Chinchilla sweeps, 14.5-16.4%
        of 12-run ones, and 13-18% of 8-point saturating power laws. Read ``p_value`` (the F
        test's, 4.1-5.4% there with log residuals); ``lr`` is a monotone function of ``F``
        (``n log(1 + df1 F / df2)``), so the two rank fits alike.
    """

    restricted: str
    full: str
    F: float
    df1: int
    df2: int
    p_value: float
    lr: float
    lr_p_value: float

    def __repr__(self) -> str:
        return (f"NestedTest({self.restricted} inside {self.full}: F({self.df1}, {self.df2}) = {self.F:.4g}, "
                f"p = {self.p_value:.3g}; LR = {self.lr:.4g}, p = {self.lr_p_value:.3g})")


@_validate.suggest_argument_names
def nested_test(restricted: FitResult, full: FitResult, weights: Optional[ArrayLike] = None) -> NestedTest:
    """F and likelihood-ratio tests of ``restricted`` against ``full``, two least-squares fits
    of the same points where the restricted law is the full one with parameters held or tied
    (``chinchilla_tied`` in ``chinchilla``, ``fixed={"E": ...}``, a power law in a saturating
    one with E = 0).

    Parameters
    ----------
    restricted, full : FitResult
        Converged fits with the linear loss, on the same points and objective.
    weights : array_like, optional
        The weights both fits used, if any; optional, as the test counts the points of
        positive weight, which a FitResult keeps (``n_used``): when given, they must have
        that many positive entries.

    Notes
    -----
    The test is only as good as its assumptions: independent Gaussian errors. Runs of one
    sweep share errors (the Epoch data's residuals at the largest budgets move together), so a
    tiny p-value says the larger law fits better, not by how much it extrapolates better;
    :func:`compare_models`' held-out and group cross-validation scores say that.
    """
    for name, r in (("restricted", restricted), ("full", full)):
        if not isinstance(r, FitResult):
            raise TypeError(f"{name} must be a FitResult, got {type(r).__name__}")
        if r.loss != "linear":
            raise ValueError(f"{name}: the F test needs least-squares fits (loss='linear'), got {r.loss!r}")
        if not r.success:
            raise ValueError(f"{name} ({r.model}) did not converge: {r.message}")
    if (restricted.log_residuals != full.log_residuals or restricted.n_points != full.n_points
            or restricted.n_used != full.n_used):
        raise ValueError("restricted and full must be fits of the same points with the same residuals "
                         f"(n_points {restricted.n_points} vs {full.n_points}, of positive weight "
                         f"{restricted.n_used} vs {full.n_used}, log_residuals "
                         f"{restricted.log_residuals} vs {full.log_residuals})")
    n_eff = _used(full, weights)[0]
    k_r, k_f = _free_count(restricted), _free_count(full)
    df1, df2 = k_f - k_r, n_eff - k_f
    if df1 < 1:
        raise ValueError(f"the full law must have more free parameters than the restricted one; got "
                         f"{k_f} ({full.model}) vs {k_r} ({restricted.model})")
    if df2 < 1:
        raise ValueError(f"the full law's {k_f} free parameters leave no degree of freedom in {n_eff} points")
    rss_r, rss_f = 2.0 * restricted.cost, 2.0 * full.cost
    # a restricted law cannot fit better than the law containing it: a lower RSS of the full
    # law's fit by more than rounding means that fit missed its optimum
    if rss_f > rss_r * (1 + 1e-8) + 1e-300:
        raise ValueError(f"the full law ({full.model}) fits worse than the restricted one ({rss_f:.6g} > "
                         f"{rss_r:.6g}): it is not nested, or its fit missed the optimum (try more starts)")
    F = max(rss_r - rss_f, 0.0) / df1 / (rss_f / df2) if rss_f > 0 else math.inf
    lr = n_eff * math.log(rss_r / rss_f) if rss_f > 0 else math.inf
    return NestedTest(restricted=restricted.model, full=full.model, F=float(F), df1=int(df1), df2=int(df2),
                      p_value=math.exp(_stats.f_logsf(F, df1, df2)), lr=float(max(lr, 0.0)),
                      lr_p_value=_stats.chi2_sf(max(lr, 0.0), df1))


# ------------------------------------------------------------------ many sweeps at once
@dataclass(frozen=True, eq=False)
class BatchComparison:
    """Scores of several laws on every problem of a batch (:func:`compare_batch`).

    Attributes
    ----------
    labels : tuple of str
    fits : tuple of BatchResult
        Each law's fit of every problem (one item per problem).
    k : ndarray (n_laws,)
        Free parameters of each law.
    n_points : ndarray (n_problems,)
        Points of positive weight in each problem.
    rss, aic, aicc, bic, loo_rmse : ndarray (n_laws, n_problems)
        As :class:`ModelScore` (NaN where a fit failed with bad data, with a robust loss for
        the criteria, or without ``loo``).
    loo_failed : ndarray of int (n_laws, n_problems)
        Leave-one-out refits that did not converge.
    loss : str
    log_residuals : bool
    """

    labels: tuple[str, ...]
    fits: tuple[Any, ...]
    k: NDArray[np.int64]
    n_points: NDArray[np.int64]
    rss: FloatArray
    aic: FloatArray
    aicc: FloatArray
    bic: FloatArray
    loo_rmse: FloatArray
    loo_failed: NDArray[np.int64]
    loss: str
    log_residuals: bool

    @property
    def n_problems(self) -> int:
        """The number of problems compared."""
        return int(self.n_points.shape[0])

    def _values(self, criterion: str) -> FloatArray:
        return np.asarray(getattr(self, _check_criterion(criterion)), dtype=np.float64)

    def best(self, criterion: str = "aicc") -> NDArray[np.int64]:
        """Index (into :attr:`labels`) of the law with the lowest ``criterion`` on each problem;
        -1 where no law has a finite value. Only converged fits compete.

        Parameters
        ----------
        criterion : {"aic", "aicc", "bic", "loo_rmse"}
            The criterion (``"holdout_rmse"`` or another is a ValueError); default ``"aicc"``.
        """
        if criterion == "holdout_rmse":
            raise ValueError("compare_batch has no held-out test: use aic, aicc, bic or loo_rmse")
        v = self._values(criterion).copy()
        ok = np.array([f.success for f in self.fits]) & ~np.isnan(v)
        v[~ok] = np.inf
        out = np.argmin(v, axis=0).astype(np.int64)
        out[~ok.any(axis=0)] = -1
        return np.asarray(out, dtype=np.int64)

    def wins(self, criterion: str = "aicc") -> dict[str, int]:
        """How many problems each law wins by ``criterion`` (``"none"``: no finite value).

        Parameters
        ----------
        criterion : {"aic", "aicc", "bic", "loo_rmse"}
            The criterion (``"holdout_rmse"`` or another is a ValueError); default ``"aicc"``.
        """
        b = self.best(criterion)
        out = {lab: int(np.sum(b == i)) for i, lab in enumerate(self.labels)}
        out["none"] = int(np.sum(b < 0))
        return out

    def weights(self, criterion: str = "aicc") -> FloatArray:
        """Akaike weights per problem, shape (n_laws, n_problems) (0 for failed fits; exact
        fits share the weight).

        Parameters
        ----------
        criterion : {"aic", "aicc", "bic"}
            The information criterion (another is a ValueError); default ``"aicc"``.
        """
        if _check_criterion(criterion) not in ("aic", "aicc", "bic"):
            raise ValueError(f"weights are defined for aic, aicc and bic, got {criterion!r}")
        v = self._values(criterion)
        ok = np.array([f.success for f in self.fits]) & ~np.isnan(v)
        return _akaike(v, ok)

    def table(self) -> str:
        """One row per law: converged fits, wins by AICc (and by leave-one-out error when run),
        median AICc above the best law's, median leave-one-out error."""
        has_ic = bool(np.isfinite(self.aicc).any())
        has_loo = bool(np.isfinite(self.loo_rmse).any())
        head = ["law", "k", "converged"]
        if has_ic:
            head += ["wins (AICc)", "median dAICc"]
        if has_loo:
            head += ["wins (LOO)", "median LOO rmse"]
        rows = []
        wins_ic = self.wins("aicc") if has_ic else {}
        wins_cv = self.wins("loo_rmse") if has_loo else {}
        best_ic = None
        if has_ic:  # a problem without a finite AICc: NaN
            best_ic = np.where(np.isfinite(self.aicc), self.aicc, np.inf).min(axis=0, initial=np.inf)
            best_ic[np.isinf(best_ic)] = np.nan
        for i, lab in enumerate(self.labels):
            row = [lab, str(int(self.k[i])), f"{int(self.fits[i].success.sum())}/{self.n_problems}"]
            if has_ic:
                d = self.aicc[i] - best_ic
                row += [str(wins_ic[lab]), _f(float(np.nanmedian(d))) if np.isfinite(d).any() else "-"]
            if has_loo:
                row += [str(wins_cv[lab]), _g(float(np.nanmedian(self.loo_rmse[i])))
                        if np.isfinite(self.loo_rmse[i]).any() else "-"]
            rows.append(row)
        lines = aligned([head, *rows])
        notes = [f"{self.n_problems} problems; errors in {'log y' if self.log_residuals else 'y'}"]
        if not has_ic and self.loss != "linear":
            notes.append(f"no information criteria with loss={self.loss!r}")
        elif not has_ic:
            notes.append("no finite AICc: too few points for the laws' parameters, or no fit converged")
        return "\n".join(lines + notes)

    def __repr__(self) -> str:
        return f"BatchComparison of {len(self.labels)} laws on {self.n_problems} problems\n{self.table()}"


def _batch_loo(m: AnyModel, x: FloatArray, y: FloatArray, w: FloatArray, off: NDArray[np.int64],
               fitted: Any, kw: dict[str, Any], batch_opts: dict[str, Any],
               threads: Optional[int], bar: Callable[[Optional[int]], None]) -> tuple[FloatArray, NDArray[np.int64]]:
    """Leave-one-out RMSE and failed refits of every problem: an item per point of positive
    weight of each converged problem, chunked to about ``_LOO_ROWS`` rows per batch call."""
    P = off.shape[0] - 1
    size = np.diff(off)
    prob_of_row = np.repeat(np.arange(P), size)
    left_all = np.flatnonzero((w > 0) & fitted.success[prob_of_row])  # rows to leave out
    bar(int(np.sum(w > 0)) - left_all.size)  # the points of problems that failed: no refits
    err = np.zeros(left_all.size)  # error of each left-out point (0 where its refit failed)
    bad = np.zeros(left_all.size, dtype=bool)
    cost = size[prob_of_row[left_all]] - 1  # rows of each item's data
    ends = np.cumsum(cost)
    start = 0
    while start < left_all.size:
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + _LOO_ROWS, side="right"))
        stop = max(stop, start + 1)
        left = left_all[start:stop]
        pj = prob_of_row[left]
        counts = size[pj]
        first = np.repeat(off[pj], counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = first + within
        keep = rows != np.repeat(left, counts)
        idx = rows[keep]
        offsets = np.concatenate([[0], np.cumsum(counts - 1)]).astype(np.int64)
        with quiet():
            b = fit_batch(m, x[idx], y[idx], offsets, fitted.x[pj], weights=w[idx], threads=threads,
                          compute_cov=False, **kw, **batch_opts)
        ok = b.success
        e = _space(pointwise(m, b.x, x[left]), y[left], kw["log_residuals"])
        err[start:stop] = np.where(ok, e, 0.0)
        bad[start:stop] = ~ok
        bar(stop - start)
        start = stop
    # one sum per problem over all chunks: the same result however the items were chunked
    owner = prob_of_row[left_all]
    sq = np.bincount(owner, weights=w[left_all] * err * err, minlength=P)
    failed = np.bincount(owner[bad], minlength=P).astype(np.int64)
    wsum = np.bincount(prob_of_row, weights=w, minlength=P)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt(sq / wsum)
    rmse[(failed > 0) | ~fitted.success | ~(wsum > 0)] = np.nan
    return rmse, failed


@_validate.suggest_argument_names
def compare_batch(
    models: Union[Sequence[ModelLike], Mapping[str, ModelLike]],
    x: Any,
    y: ArrayLike,
    offsets: ArrayLike,
    *,
    weights: Optional[ArrayLike] = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    log_residuals: bool = False,
    loo: bool = False,
    options: Optional[Mapping[str, Mapping[str, Any]]] = None,
    starts: str = "all",
    threads: Optional[int] = None,
    progress: bool = False,
    backend: str = "cpu",
) -> BatchComparison:
    """Score several laws on every problem of a batch (many sweeps, one call per law).

    The points are packed as for :func:`scalingfit.fit_batch` (problem j owns rows
    ``offsets[j]:offsets[j+1]``). Each law is fitted to every problem from every data-driven
    start that :func:`scalingfit.fit` would try (``starts="all"``), or from one batched guess
    per problem (``starts="one"``, faster for very large batches but it can miss the optimum:
    ``kaplan_nd`` ended more than 2 AIC units above the multi-start fit on 28 of 90 random
    problems), or from ``options[label]["p0"]`` (one start for all); the criteria are those of
    :func:`compare_models`, per problem. With ``loo=True`` every point of every converged
    problem is also refitted out (items of batch calls, warm-started at the problem's fit).
    A problem with bad data gets NaN scores and its fits a status; it never raises.

    Parameters
    ----------
    models, weights, loss, f_scale, log_residuals, threads, progress :
        As :func:`compare_models`.
    x, y : array_like
        The points of every problem, packed as for :func:`scalingfit.fit_batch`: ``x`` (n,) or
        (n, n_inputs) or a tuple of columns, ``y`` (n,).
    offsets : array_like of int, shape (n_problems + 1,)
        Problem j owns rows ``offsets[j]:offsets[j+1]``.
    loo : bool, default False
        Leave-one-out refits (``sum n_j`` items per law).
    starts : {"all", "one"}, default "all"
        The data-driven starts of each problem: all of them (vectorised over the problems for
        the Chinchilla laws and ``kaplan_nd``, a loop of ``initial_guesses`` for the others), or
        one batched guess.
    options : {label: {option: value}}, optional
        ``p0`` (one start for every problem), ``bounds``, ``fixed``, ``max_iter``, ``ftol``,
        ``xtol``, ``gtol``.
    backend : {"cpu", "cuda", "auto"}, default "cpu"
        Where the fits and the leave-one-out refits are solved (see
        :func:`scalingfit.fit_batch`; a custom model always on the CPU). The starts, the
        criteria and the predictions are computed on the CPU either way.

    Returns
    -------
    BatchComparison
        ``.best(criterion)`` (the winning law per problem), ``.wins()``, ``.weights()``,
        ``.table()``.
    """
    laws = _labelled(models)
    labels = [lab for lab, _ in laws]
    opts = _options(options, labels)
    for lab in labels:
        if "starts" in opts[lab]:
            raise ValueError(f"options[{lab!r}]: compare_batch takes p0 (one start for every problem), "
                             "not starts")
    m0 = laws[0][1]
    xa = _validate.as_inputs(x, m0)
    ya = _validate.as_targets(y, xa.shape[0])
    off = _validate.as_offsets(offsets, ya.shape[0])
    w = _validate.as_weights(weights, ya.shape[0])
    wa = np.ones(ya.shape[0]) if w is None else w
    loo = _validate.flag("loo", loo)
    log_residuals = _validate.flag("log_residuals", log_residuals)
    if starts not in ("all", "one"):
        raise ValueError(f"starts must be 'all' or 'one', got {starts!r}")
    kw: dict[str, Any] = dict(loss=loss, f_scale=f_scale, log_residuals=log_residuals)
    P = off.shape[0] - 1
    prob_of_row = np.repeat(np.arange(P), np.diff(off))
    pos = wa > 0
    n = np.bincount(prob_of_row, weights=pos.astype(np.float64), minlength=P).astype(np.int64)
    with np.errstate(divide="ignore"):
        slw = np.bincount(prob_of_row, weights=np.where(pos, np.log(np.where(pos, wa, 1.0)), 0.0), minlength=P)
    L = len(laws)
    shape = (L, P)
    rss, aic, aicc, bic, cv = (np.full(shape, np.nan) for _ in range(5))
    failed = np.zeros(shape, dtype=np.int64)
    ks = np.zeros(L, dtype=np.int64)
    fits = []
    on = [resolve_backend(backend, m) for _, m in laws]  # "cuda" without a GPU raises here, before any fit
    bar = progress_bar(int(pos.sum()) * L if loo else 0, _validate.flag("progress", progress), unit="refit")
    for i, (label, m) in enumerate(laws):
        o = opts[label]
        batch_opts: dict[str, Any] = {k: o[k] for k in ("bounds", "fixed", "max_iter", "ftol", "xtol", "gtol")
                                      if k in o}
        batch_opts["backend"] = on[i]
        lo, hi = _validate.as_bounds(o.get("bounds"), m, o.get("fixed"))
        p0, prob = o.get("p0"), None
        if p0 is None and isinstance(m, CustomModel):
            raise ValueError(f"custom model {m.name!r} needs p0: give it in "
                             f"options={{{label!r}: {{'p0': [...]}}}}")
        if p0 is None and starts == "all":
            p0, prob = all_starts(m, xa, ya, off, lo, hi)
        with quiet():
            b = fit_batch(m, xa, ya, off, p0, problem=prob, weights=w, threads=threads, compute_cov=False,
                          **kw, **batch_opts).best_per_problem()
        fits.append(b)
        k = _validate.n_free(lo, hi) + 1
        ks[i] = k - 1
        usable = b.status != -3
        rows_ok = usable[prob_of_row]
        f = np.full(ya.shape[0], np.nan)
        f[rows_ok] = pointwise(m, b.x[prob_of_row[rows_ok]], xa[rows_ok])
        e = np.where(pos, _space(f, ya, log_residuals), 0.0)
        r = np.bincount(prob_of_row, weights=wa * e * e, minlength=P).astype(np.float64)
        r[~usable] = np.nan
        rss[i] = r
        if loss == "linear":
            _, aic[i], aicc[i], bic[i] = _criteria(r, n, slw, k)
        if loo:
            cv[i], failed[i] = _batch_loo(m, xa, ya, wa, off, b, kw, batch_opts, threads, bar)
    bar(None)
    return BatchComparison(labels=tuple(labels), fits=tuple(fits), k=ks, n_points=n, rss=rss, aic=aic,
                           aicc=aicc, bic=bic, loo_rmse=cv, loo_failed=failed, loss=loss,
                           log_residuals=log_residuals)
