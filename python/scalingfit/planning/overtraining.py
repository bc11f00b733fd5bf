"""Over-training and downstream error (Gadre et al., "Language models scale reliably with
over-training and on downstream tasks", 2024).

Loss as a function of compute ``C = 6 N D`` and the token multiplier ``M = D / N``:

    L(C, M) = E + (a M^eta + b M^-eta) C^-alpha_C,

implemented in their repository (and here) as

    L(N, M) = p0 N^q + p1 6^(q/2) (M N)^q + E

(``q = -2 alpha_C``, ``eta = alpha_C``, ``a = p0 6^(-q/2)``, ``b = p1``: the Chinchilla law with
tied exponents written in ``(C, M)``). Downstream top-1 error (averaged over a task set) is
linked to loss by

    Err(L) = epsilon - k exp(-gamma L).

Their recipe (``scaling/shared.py::fit_ds``, ``scaling_explorer.ipynb``): fit the loss law to
the C4-eval loss of **5 runs** (the four small models at M = 20 and the 10.6M model at M = 320)
from a 128-start grid, keeping the best; fit the error link on the same 5 runs plus the 1.4B
M = 20 run (default start (1, 1, 1)); predict the held-out 1.4B over-trained and 6.9B runs,
the error from the *predicted* loss, and report ``|pred - actual| / actual``. Both fits run
here through the batched engine (custom models with analytic Jacobians; all starts in one call);
the bootstrap refits the loss law as the built-in ``chinchilla_tied`` on ``(N, D = M N)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike

from .. import _validate
from .._custom import CustomModel
from .._fit import fit, fit_batch
from .._resample import table
from ..data import RunDataError
from ..results import FitResult
from ._common import (
    FloatArray,
    PathLike,
    check_positive,
    law_repr,
    numeric,
    percentile_interval,
    read_csv_columns,
    resolve_file,
)

__all__ = [
    "ERROR_LINK_MODEL",
    "GADRE_2024_PUBLISHED",
    "OVERTRAINING_MODEL",
    "PAPER_STARTS",
    "SUBSET_17",
    "ErrorLink",
    "GadreBootstrap",
    "GadreReproduction",
    "HeldOutRun",
    "OvertrainingLaw",
    "bootstrap_gadre2024",
    "eval_interval",
    "fit_error_link",
    "fit_overtraining",
    "load_gadre2024",
    "reproduce_gadre2024",
]


# ------------------------------------------------------------------ the two laws
def _ot_func(x: FloatArray, p: FloatArray) -> FloatArray:
    N, M = x[:, 0], x[:, 1]
    q = p[:, 2]
    return np.asarray(p[:, 0] * N**q + p[:, 1] * 6.0 ** (q / 2) * (M * N) ** q + p[:, 3])


def _ot_jac(x: FloatArray, p: FloatArray) -> FloatArray:
    N, M = x[:, 0], x[:, 1]
    q = p[:, 2]
    a = N**q
    b = 6.0 ** (q / 2) * (M * N) ** q
    dq = p[:, 0] * a * np.log(N) + p[:, 1] * b * (0.5 * np.log(6.0) + np.log(M * N))
    return np.column_stack([a, b, dq, np.ones_like(a)])


def _err_func(x: FloatArray, p: FloatArray) -> FloatArray:
    return np.asarray(p[:, 2] - p[:, 0] * np.exp(-p[:, 1] * x[:, 0]))


def _err_jac(x: FloatArray, p: FloatArray) -> FloatArray:
    e = np.exp(-p[:, 1] * x[:, 0])
    return np.column_stack([-e, p[:, 0] * x[:, 0] * e, np.ones_like(e)])


#: ``L(N, M) = p0 N^q + p1 6^(q/2) (M N)^q + E``; inputs (N, M).
OVERTRAINING_MODEL = CustomModel(
    _ot_func, ("p0", "p1", "q", "E"), n_inputs=2, jac=_ot_jac, name="gadre_overtraining"
)
#: ``Err(L) = epsilon - k exp(-gamma L)``; input L.
ERROR_LINK_MODEL = CustomModel(
    _err_func, ("k", "gamma", "epsilon"), n_inputs=1, jac=_err_jac, name="gadre_error_link"
)

# The same law as the built-in ``chinchilla_tied`` (``E + A / N^alpha + B / D^alpha``, C++ core)
# on inputs (N, D = M N): p0 N^q = A N^-alpha and p1 6^(q/2) (M N)^q = B D^-alpha for all N, M
# exactly when
#     E = E,  A = p0,  B = p1 6^(q/2),  alpha = -q
# and back
#     p0 = A,  p1 = B 6^(alpha/2),  q = -alpha,  E = E.
# The map is a smooth bijection (6^(q/2) > 0), so both parametrisations share their least-squares
# optima (same residuals, same cost); only the path of a local solver from a start differs.
def _to_tied(p: ArrayLike) -> FloatArray:
    """``(p0, p1, q, E)`` rows -> ``chinchilla_tied``'s ``(E, A, B, alpha)`` rows."""
    a = np.asarray(p, dtype=np.float64)
    p0, p1, q, E = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    return np.stack([E, p0, p1 * 6.0 ** (q / 2), -q], axis=-1)


def _from_tied(t: ArrayLike) -> FloatArray:
    """``chinchilla_tied``'s ``(E, A, B, alpha)`` rows -> ``(p0, p1, q, E)`` rows."""
    a = np.asarray(t, dtype=np.float64)
    E, A, B, alpha = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    return np.stack([A, B * 6.0 ** (alpha / 2), -alpha, E], axis=-1)


#: Their grid of starts (``scaling/laws.py::curve_fit_powlaw_ours``): p0, p1 in
#: {1e2, 3e2, 1e3, 3e3}, q in {-0.1, -0.3}, E in {0, 1, 2, 10}.
PAPER_STARTS: FloatArray = np.array(
    [
        [a, b, q, e]
        for a in (1e2, 3e2, 1e3, 3e3)
        for b in (1e2, 3e2, 1e3, 3e3)
        for q in (-0.1, -0.3)
        for e in (0.0, 1.0, 2.0, 10.0)
    ]
)

#: The "17-task split" (``scaling/constants.py::SUBSET``).
SUBSET_17: tuple[str, ...] = (
    "bigbench_operators",
    "pubmed_qa_labeled",
    "hellaswag_zeroshot",
    "boolq",
    "arc_easy",
    "coqa",
    "bigbench_dyck_languages",
    "lambada_openai",
    "bigbench_novel_concepts",
    "winograd",
    "bigbench_cs_algorithms",
    "commonsense_qa",
    "bigbench_qa_wikidata",
    "hellaswag",
    "copa",
    "squad",
    "piqa",
)

#: Published held-out relative errors in percent (repo notebook output, RedPajama, C4 eval,
#: 17-task split), keyed by (dataset, model, M).
GADRE_2024_PUBLISHED: dict[tuple[str, str, float], dict[str, float]] = {
    ("rpj", "open_lm_1b", 640.0): {"loss": 0.7103, "error": 3.6365},
    ("rpj", "open_lm_7b", 20.0): {"loss": 0.7320, "error": 0.0464},
}


@dataclass(frozen=True)
class OvertrainingLaw:
    """``L(N, M) = p0 N^q + p1 6^(q/2) (M N)^q + E`` (fields may be replicate arrays).

    Attributes
    ----------
    p0, p1 : float or ndarray
        Amplitudes of the parameter and the token terms.
    q : float or ndarray
        The shared exponent (< 0 for a loss falling with scale; ``alpha_C = -q / 2``).
    E : float or ndarray
        The irreducible loss.
    """

    p0: Any
    p1: Any
    q: Any
    E: Any

    @property
    def alpha_C(self) -> Any:
        """Compute exponent ``alpha_C = -q / 2`` (= ``eta``)."""
        return -np.asarray(self.q) / 2

    @property
    def a(self) -> Any:
        """``a`` of ``(a M^eta + b M^-eta) C^-alpha_C``: ``p0 6^(-q/2)``."""
        return np.asarray(self.p0) * 6.0 ** (-np.asarray(self.q) / 2)

    @property
    def b(self) -> Any:
        """``b`` of ``(a M^eta + b M^-eta) C^-alpha_C``: ``p1``."""
        return np.asarray(self.p1)

    def loss(self, N: ArrayLike, M: ArrayLike) -> FloatArray:
        """Predicted loss of ``N`` parameters trained on ``M N`` tokens (``N``, ``M`` finite
        and > 0: a ValueError names the first that is not, and its index).

        Parameters
        ----------
        N : array_like
            Parameters.
        M : array_like
            Tokens per parameter ``D / N``; broadcast with ``N``.
        """
        n = check_positive("N", N)
        m = check_positive("M", M)
        q = np.asarray(self.q)
        return np.asarray(self.p0 * n**q + self.p1 * 6.0 ** (q / 2) * (m * n) ** q + self.E)

    def loss_at_compute(self, C: ArrayLike, M: ArrayLike) -> FloatArray:
        """``L`` at compute ``C`` and multiplier ``M`` (``N = sqrt(C / (6 M))``; ``C``, ``M``
        finite and > 0).

        Parameters
        ----------
        C : array_like
            Training compute in FLOP.
        M : array_like
            Tokens per parameter ``D / N``; broadcast with ``C``.
        """
        c = check_positive("C", C)
        m = check_positive("M", M)
        return self.loss(np.sqrt(c / (6.0 * m)), m)

    def as_array(self) -> FloatArray:
        """``[p0, p1, q, E]`` as a float array."""
        return np.array([self.p0, self.p1, self.q, self.E], dtype=np.float64)

    def __repr__(self) -> str:
        return law_repr("OvertrainingLaw", "L(N, M) = p0 N^q + p1 6^(q/2) (M N)^q + E",
                        ("p0", "p1", "q", "E"), (self.p0, self.p1, self.q, self.E))


@dataclass(frozen=True)
class ErrorLink:
    """``Err(L) = epsilon - k exp(-gamma L)``.

    Attributes
    ----------
    k : float or ndarray
        Amplitude of the exponential.
    gamma : float or ndarray
        Rate of the error's fall with loss (per nat).
    epsilon : float or ndarray
        The error rate as the loss grows without bound.
    """

    k: Any
    gamma: Any
    epsilon: Any

    def error(self, loss: ArrayLike) -> FloatArray:
        """``Err(loss) = epsilon - k exp(-gamma loss)``.

        Parameters
        ----------
        loss : array_like
            Loss (nats/token); not checked.
        """
        return np.asarray(
            self.epsilon
            - self.k * np.exp(-np.asarray(self.gamma) * np.asarray(loss, dtype=np.float64))
        )

    def as_array(self) -> FloatArray:
        """``[k, gamma, epsilon]`` as a float array."""
        return np.array([self.k, self.gamma, self.epsilon], dtype=np.float64)

    def __repr__(self) -> str:
        return law_repr("ErrorLink", "Err(L) = epsilon - k exp(-gamma L)", ("k", "gamma", "epsilon"),
                        (self.k, self.gamma, self.epsilon))


@_validate.suggest_argument_names
def fit_overtraining(
    N: ArrayLike, M: ArrayLike, loss: ArrayLike, *, starts: Optional[ArrayLike] = None
) -> tuple[OvertrainingLaw, FitResult]:
    """Least-squares fit of the over-training law (linear residuals, like ``curve_fit``) from
    every start of ``starts`` (default: the paper's 128-start grid) in one batch call.

    ``N``, ``M`` and ``loss`` hold one value per run (equal lengths), each finite and > 0;
    a ValueError names the first one that is not (and its index).

    Parameters
    ----------
    N : array_like
        Parameters of each run.
    M : array_like
        Tokens per parameter ``D / N`` of each run.
    loss : array_like
        Final loss of each run.
    starts : array_like (k, 4), optional
        Starts ``(p0, p1, q, E)``, as :func:`scalingfit.fit`'s ``starts``; None (default):
        :data:`PAPER_STARTS`.
    """
    n = check_positive("N", N).ravel()
    m = check_positive("M", M).ravel()
    y = check_positive("loss", loss).ravel()
    if not n.size == m.size == y.size:
        sizes = ", ".join(
            f"{k} {a.size}" + (" (a scalar)" if np.ndim(v) == 0 else "")
            for k, a, v in (("N", n, N), ("M", m, M), ("loss", y, loss))
        )
        raise ValueError(f"N, M and loss need one value per run (equal lengths), got {sizes}")
    x = np.column_stack([n, m])
    r = fit(OVERTRAINING_MODEL, x, y, starts=PAPER_STARTS if starts is None else starts)
    return OvertrainingLaw(*(float(v) for v in r.x)), r


def fit_error_link(
    loss: ArrayLike, error: ArrayLike, p0: Sequence[float] = (1.0, 1.0, 1.0)
) -> tuple[ErrorLink, FitResult]:
    """Least-squares fit of ``Err = epsilon - k exp(-gamma L)`` from ``p0`` (curve_fit's
    default start).

    ``error`` is an error rate as a fraction (top-1 error 0.42, as :func:`load_gadre2024`
    gives it): a value far outside [0, 1] (error rates in percent) is a ValueError naming
    ``error`` and its first such index, as are non-finite values of ``loss`` and ``error``.

    Parameters
    ----------
    loss : array_like
        Loss of each run (finite).
    error : array_like
        Error rate of each run, a fraction (finite).
    p0 : sequence of float
        The start ``(k, gamma, epsilon)``; default ``(1, 1, 1)``.
    """
    L, err = _validate.finite("loss", loss), _validate.finite("error", error)
    _validate.check_fraction(np.atleast_1d(err), "error", "an error rate")
    r = fit(ERROR_LINK_MODEL, L, err, p0=list(p0))
    return ErrorLink(*(float(v) for v in r.x)), r


# ------------------------------------------------------------------ the data set
_GADRE_POSITIVE = ("N_params", "D_tokens", "tok_per_param", "chinchilla_mult")


def load_gadre2024(path: PathLike) -> dict[str, Any]:
    """``models_loss_and_evals.csv`` as columns: ``dataset, model`` (lists), ``N, D, M,
    chinchilla_mult`` and every ``loss_*`` / ``acc_*`` column (arrays), plus
    ``err_17`` and ``err_46`` (mean top-1 error over the 17-task and 46-task splits).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file, or the folder holding ``models_loss_and_evals.csv``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    scalingfit.data.RunDataError
        (a ValueError) naming the file, the column and the row: an unreadable or empty file,
        a missing column (the ones above and ``acc_<task>`` for the 17-task split), a
        non-numeric or non-finite cell, a size, multiplier or loss that is not > 0, an
        accuracy outside [0, 1].
    """
    required = ("name", "dataset", "model", *_GADRE_POSITIVE, *("acc_" + t for t in SUBSET_17))
    cols = read_csv_columns(resolve_file(Path(path), "models_loss_and_evals.csv"), required)
    out: dict[str, Any] = {"name": cols["name"], "dataset": cols["dataset"], "model": cols["model"]}

    def num(k: str) -> FloatArray:
        return numeric(cols, k, positive=k in _GADRE_POSITIVE or k.startswith("loss_"))

    out["N"], out["D"] = num("N_params"), num("D_tokens")
    out["M"], out["chinchilla_mult"] = num("tok_per_param"), num("chinchilla_mult")
    for k in cols:
        if k.startswith(("loss_", "acc_")):
            out[k] = num(k)
    accs = [k for k in cols if k.startswith("acc_")]
    for k in accs:
        bad = np.flatnonzero((out[k] < 0.0) | (out[k] > 1.0))
        if bad.size:
            i = int(bad[0])
            raise RunDataError(
                f"{cols.source}: column {k!r}, row {i} (line {cols.lines[i]}): "
                f"{cols[k][i]!r} is not an accuracy in [0, 1]"
            )
    out["err_46"] = 1.0 - np.mean([out[k] for k in accs], axis=0)
    out["err_17"] = 1.0 - np.mean([out["acc_" + t] for t in SUBSET_17], axis=0)
    return out


def _or_dash(v: Optional[float]) -> object:
    return "-" if v is None else v


_SMALL = ("d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8")


@dataclass(frozen=True)
class HeldOutRun:
    """One held-out run: actual vs predicted loss and error (relative errors in percent)."""

    model: str
    N: float
    M: float
    loss: float
    loss_pred: float
    error: float
    error_pred: float
    published_loss_rel_pct: Optional[float] = None
    published_error_rel_pct: Optional[float] = None

    @property
    def loss_rel_pct(self) -> float:
        """``|loss_pred - loss| / loss`` in percent."""
        return abs(self.loss_pred - self.loss) / self.loss * 100.0

    @property
    def error_rel_pct(self) -> float:
        """``|error_pred - error| / error`` in percent."""
        return abs(self.error_pred - self.error) / self.error * 100.0

    @property
    def loss_signed_pct(self) -> float:
        """``(pred - actual) / actual`` in percent (positive: the law over-predicts)."""
        return (self.loss_pred - self.loss) / self.loss * 100.0

    @property
    def error_signed_pct(self) -> float:
        """``(error_pred - error) / error`` in percent (positive: the link over-predicts)."""
        return (self.error_pred - self.error) / self.error * 100.0


@dataclass(frozen=True, eq=False)
class GadreReproduction:
    """The recipe's fits and held-out predictions for one training set.

    Attributes
    ----------
    dataset : str
        The training set (``"rpj"``, ``"c4_original"``, ``"rw_original"``).
    split : str
        The loss's evaluation split (``loss_<split>`` column).
    downstream : {"17-task", "46-task"}
        The error's task split.
    law : OvertrainingLaw
        The loss law fitted on the 5 small runs.
    link : ErrorLink
        The error link fitted on those and the 1.4B M=20 run.
    loss_fit, link_fit : FitResult
        The two fits.
    fit_x : ndarray (5, 2)
        ``N, M`` of the loss-fit runs.
    fit_loss : ndarray (5,)
        Their losses.
    link_loss, link_error : ndarray (6,)
        Losses and errors of the error-fit runs.
    held_out : list of HeldOutRun
        Every other 1.4B / 6.9B run of the set, with its predictions.
    """

    dataset: str
    split: str
    downstream: str
    law: OvertrainingLaw
    link: ErrorLink
    loss_fit: FitResult
    link_fit: FitResult
    fit_x: FloatArray  # (5, 2) N, M of the loss-fit runs
    fit_loss: FloatArray  # their losses
    link_loss: FloatArray  # (6,) losses of the error-fit runs
    link_error: FloatArray  # their errors
    held_out: list[HeldOutRun] = field(default_factory=list)

    def __repr__(self) -> str:
        rows = [{"held-out run": f"{h.model} M={h.M:g}", "loss": h.loss, "pred": h.loss_pred,
                 "rel %": h.loss_rel_pct, "published %": _or_dash(h.published_loss_rel_pct),
                 "error": h.error, "error pred": h.error_pred, "error rel %": h.error_rel_pct,
                 "error published %": _or_dash(h.published_error_rel_pct)} for h in self.held_out]
        return (f"GadreReproduction (Gadre et al. 2024): dataset {self.dataset!r}, loss "
                f"{self.split!r}, {self.downstream} error; fitted on {self.fit_loss.size} runs "
                f"(error link on {self.link_loss.size})\nlaw:  {self.law!r}\nlink: {self.link!r}\n"
                + table(rows))

    def table(self) -> list[tuple[str, ...]]:
        """Rows: run, actual loss, predicted, rel. err % (ours / published), same for error."""

        def pub(v: Optional[float]) -> str:
            return "-" if v is None else f"{v:.4f}"

        rows: list[tuple[str, ...]] = [
            ("run", "loss", "pred", "rel%", "published%", "err", "pred", "rel%", "published%")
        ]
        for h in self.held_out:
            rows.append(
                (
                    f"{h.model} M={h.M:g}",
                    f"{h.loss:.4f}",
                    f"{h.loss_pred:.4f}",
                    f"{h.loss_rel_pct:.4f}",
                    pub(h.published_loss_rel_pct),
                    f"{h.error:.4f}",
                    f"{h.error_pred:.4f}",
                    f"{h.error_rel_pct:.4f}",
                    pub(h.published_error_rel_pct),
                )
            )
        return rows


def reproduce_gadre2024(
    path_or_data: Any,
    dataset: str = "rpj",
    *,
    split: str = "c4_val",
    downstream: str = "17-task",
) -> GadreReproduction:
    """Gadre et al.'s recipe on one training set (``"rpj"``, ``"c4_original"``,
    ``"rw_original"``): fit on the 5 small runs, the error link on those plus 1.4B M=20,
    predict every other 1.4B / 6.9B run of that set.

    Parameters
    ----------
    path_or_data : str, os.PathLike or dict
        :func:`load_gadre2024`'s dict, or the path it reads.
    dataset : str
        The training set; default ``"rpj"``.
    split : str
        The loss's evaluation split (a ``loss_<split>`` key of the data; another is a
        ValueError); default ``"c4_val"``.
    downstream : {"17-task", "46-task"}
        Which mean top-1 error to link to the loss (``err_17`` or ``err_46``); default
        ``"17-task"``. The published errors are compared only for ``"c4_val"`` and
        ``"17-task"``.
    """
    data = path_or_data if isinstance(path_or_data, dict) else load_gadre2024(path_or_data)
    err_key = {"17-task": "err_17", "46-task": "err_46"}.get(downstream)
    if err_key is None:
        raise ValueError(f"downstream must be '17-task' or '46-task', got {downstream!r}")
    need = ("dataset", "model", "chinchilla_mult", "N", "M", err_key)
    missing = [k for k in need if k not in data]
    if missing:
        raise ValueError(
            f"data lacks key(s) {missing}: pass load_gadre2024's dict (keys {list(need)} and "
            f"loss_<split>) or the path of the CSV"
        )
    loss_key = f"loss_{split}"
    if loss_key not in data:
        raise ValueError(
            f"no loss split {split!r}; have {[k[5:] for k in data if k.startswith('loss_')]}"
        )
    n = len(data["dataset"])
    wrong = {k: int(np.size(data[k])) for k in (*need, loss_key) if np.size(data[k]) != n}
    if wrong:
        raise ValueError(f"data has {n} runs (len of 'dataset') but other lengths {wrong}")
    ds = np.array([d == dataset for d in data["dataset"]])
    if not ds.any():
        raise ValueError(f"no runs of dataset {dataset!r}")
    model = np.array(data["model"])
    cm = data["chinchilla_mult"]
    small = np.isin(model, _SMALL)
    fit_rows = ds & ((small & (cm == 1.0)) | ((model == _SMALL[0]) & (cm == 16.0)))
    one_b_20 = ds & (model == "open_lm_1b") & (cm == 1.0)
    held = ds & np.isin(model, ("open_lm_1b", "open_lm_7b")) & ~one_b_20
    if fit_rows.sum() != 5 or one_b_20.sum() != 1:
        raise ValueError(f"dataset {dataset!r} lacks the recipe's runs (5 small + 1.4B M=20)")
    L, Err = data[loss_key], data[err_key]
    law, lf = fit_overtraining(data["N"][fit_rows], data["M"][fit_rows], L[fit_rows])
    link_rows = fit_rows | one_b_20
    # the recipe's order: the 5 loss-fit runs, then 1.4B M=20 (order does not change the fit)
    link, ef = fit_error_link(L[link_rows], Err[link_rows])
    runs = []
    for i in np.flatnonzero(held):
        # the notebook predicts at the nominal M = 20 * chinchilla_mult and the model's N
        M = 20.0 * float(cm[i])
        lp = float(law.loss(data["N"][i], M))
        pub = (
            GADRE_2024_PUBLISHED.get((dataset, str(model[i]), M))
            if (split, downstream) == ("c4_val", "17-task")
            else None
        )
        runs.append(
            HeldOutRun(
                model=str(model[i]),
                N=float(data["N"][i]),
                M=M,
                loss=float(L[i]),
                loss_pred=lp,
                error=float(Err[i]),
                error_pred=float(link.error(lp)),
                published_loss_rel_pct=None if pub is None else pub["loss"],
                published_error_rel_pct=None if pub is None else pub["error"],
            )
        )
    return GadreReproduction(
        dataset=dataset,
        split=split,
        downstream=downstream,
        law=law,
        link=link,
        loss_fit=lf,
        link_fit=ef,
        fit_x=np.column_stack([data["N"][fit_rows], data["M"][fit_rows]]),
        fit_loss=L[fit_rows].copy(),
        link_loss=L[link_rows].copy(),
        link_error=Err[link_rows].copy(),
        held_out=runs,
    )


@dataclass(frozen=True, eq=False)
class GadreBootstrap:
    """Parametric-bootstrap intervals of the recipe's held-out predictions.

    ``loss_pred``, ``error_pred``: (n_boot, n_held_out) replicate predictions (NaN when a
    replicate failed: ``loss_pred`` when the loss law's refit failed, ``error_pred`` when
    that or the error link's refit failed); ``loss_ci``, ``error_ci``, ``loss_rel_ci``,
    ``error_rel_ci``: per held-out run ``(lo, hi)`` percentile intervals over the replicates
    that did not fail (``n_boot - n_failed_loss`` for the loss, ``n_boot - n_failed_error``
    for the error); the relative ones are of the *signed* relative error
    ``(pred - actual) / actual`` in percent (an interval of ``|.|`` would sit above a point
    estimate near 0).

    Attributes
    ----------
    reproduction : GadreReproduction
        The point fits bootstrapped.
    noise : {"residual", "eval"}
        Where the noise scale came from.
    sigma_loss : ndarray (5,)
        Noise scale of each fitting run's loss.
    sigma_error : ndarray (6,)
        Noise scale of each link run's error (the link fit's residual scale).
    loss_pred, error_pred : ndarray (n_boot, n_held_out)
        Replicate predictions, as above.
    level : float
        The intervals' level.
    seed : int
        The generator's seed, as given.
    """

    reproduction: GadreReproduction
    noise: str
    sigma_loss: FloatArray
    sigma_error: FloatArray
    loss_pred: FloatArray
    error_pred: FloatArray
    level: float
    seed: int

    def _ci(self, a: FloatArray) -> list[tuple[float, float]]:
        lo, hi = percentile_interval(a, self.level)
        return [(float(x), float(y)) for x, y in zip(lo, hi)]

    @property
    def loss_ci(self) -> list[tuple[float, float]]:
        """Percentile interval of each held-out run's predicted loss."""
        return self._ci(self.loss_pred)

    @property
    def error_ci(self) -> list[tuple[float, float]]:
        """Percentile interval of each held-out run's predicted error."""
        return self._ci(self.error_pred)

    @property
    def loss_rel_ci(self) -> list[tuple[float, float]]:
        """Percentile interval of each held-out run's signed relative loss error, in percent."""
        act = np.array([h.loss for h in self.reproduction.held_out])
        return self._ci((self.loss_pred - act) / act * 100.0)

    @property
    def error_rel_ci(self) -> list[tuple[float, float]]:
        """Percentile interval of each held-out run's signed relative error of the predicted
        error, in percent."""
        act = np.array([h.error for h in self.reproduction.held_out])
        return self._ci((self.error_pred - act) / act * 100.0)

    @property
    def n_failed_loss(self) -> int:
        """Replicates without a loss prediction (the loss law's refit failed)."""
        return int(np.sum(~np.isfinite(self.loss_pred).all(axis=1)))

    @property
    def n_failed_error(self) -> int:
        """Replicates without an error prediction (the loss law's or the link's refit
        failed): those left out of ``error_ci`` and ``error_rel_ci``."""
        return int(np.sum(~np.isfinite(self.error_pred).all(axis=1)))

    @property
    def n_failed(self) -> int:
        """Replicates that failed in either refit (no loss or no error prediction)."""
        ok = np.isfinite(self.loss_pred).all(axis=1) & np.isfinite(self.error_pred).all(axis=1)
        return int(np.sum(~ok))

    def __repr__(self) -> str:
        rep = self.reproduction
        rows = []
        for h, lci, eci in zip(rep.held_out, self.loss_ci, self.error_ci):
            rows.append({"held-out run": f"{h.model} M={h.M:g}", "loss": h.loss,
                         "pred": h.loss_pred, "lower": lci[0], "upper": lci[1],
                         "error": h.error, "error pred": h.error_pred,
                         "error lower": eci[0], "error upper": eci[1]})
        return (f"GadreBootstrap (Gadre et al. 2024): parametric bootstrap (noise {self.noise!r}) "
                f"of dataset {rep.dataset!r}, {self.loss_pred.shape[0]} replicates, "
                f"{self.n_failed_loss} failed (loss law), {self.n_failed_error} without an error "
                f"prediction, seed {self.seed}, {100 * self.level:g}% percentile intervals\n"
                + table(rows))


def bootstrap_gadre2024(
    rep: GadreReproduction,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    noise: str = "residual",
    eval_ci: Optional[FloatArray] = None,
) -> GadreBootstrap:
    """Intervals for the recipe's predictions by parametric bootstrap: new losses
    ``y* = yhat + sigma eps`` at the 5 fitting runs and new errors at the 6 link runs, both
    laws refitted (each replicate an item of one ``fit_batch`` call, started from the point
    fit and 8 grid starts, the best converged start kept), the held-out runs predicted again
    (the error from the replicate's predicted loss). The loss law is refitted as the built-in
    ``chinchilla_tied`` on ``(N, D = M N)`` in the C++ core (the same least-squares problem;
    starts and optima mapped exactly, see ``_to_tied``), the error link as a custom model.

    With 5 points and 4 parameters a case bootstrap is degenerate; hence a parametric one.
    ``noise="residual"``: ``sigma`` = the fit's residual scale ``sqrt(SSR / (n - p))`` (model
    misfit included). ``noise="eval"``: ``sigma_i`` = half-width of run i's 95% eval-set
    interval / 1.96, passed as ``eval_ci`` (shape (5, 2), finite, each lower bound below its
    upper bound: a ValueError says which is not) — measurement noise only, which ignores
    misfit and gives intervals too narrow to cover the held-out runs (see tests).

    Parameters
    ----------
    rep : GadreReproduction
        What :func:`reproduce_gadre2024` returned (anything else is a TypeError).
    n_boot : int
        Replicates (an integer >= 2); default 1000.
    seed : int, numpy.random.Generator or None
        Seed of the replicates' normal draws, as for :func:`scalingfit.bootstrap.generator`;
        default 0.
    level : float
        Level of the percentile intervals, in (0, 1); default 0.95.
    noise : {"residual", "eval"}
        The losses' noise scale, as above; default ``"residual"``.
    eval_ci : array_like (5, 2), optional
        The fitting runs' 95% eval-set bounds, needed with ``noise="eval"`` (ignored
        otherwise).
    """
    from ..bootstrap import _check_level, generator

    if not isinstance(rep, GadreReproduction):
        raise TypeError(f"rep must be reproduce_gadre2024's GadreReproduction, got {type(rep).__name__}")
    if noise not in ("residual", "eval"):
        raise ValueError(f"noise must be 'residual' or 'eval', got {noise!r}")
    n_boot = _validate.integer("n_boot", n_boot, least=2)
    _check_level(level)
    rng = generator(seed)
    x, y = rep.fit_x, rep.fit_loss
    n, p = y.size, 4
    yhat = rep.law.loss(x[:, 0], x[:, 1])
    if noise == "residual":
        s_loss = np.full(n, np.sqrt(2.0 * rep.loss_fit.cost / (n - p)))
    else:
        if eval_ci is None:
            raise ValueError(
                "noise='eval' needs eval_ci, the (5, 2) lower/upper 95% eval-set bounds"
            )
        ci = _validate.finite("eval_ci", eval_ci)
        if ci.shape != (n, 2):
            raise ValueError(
                f"eval_ci must hold the (lower, upper) 95% eval-set bounds of the {n} fitting "
                f"runs, shape ({n}, 2), got shape {ci.shape}"
            )
        wrong = np.flatnonzero(~(ci[:, 1] > ci[:, 0]))
        if wrong.size:
            i = int(wrong[0])
            lower, upper = float(ci[i, 0]), float(ci[i, 1])
            raise ValueError(
                f"eval_ci[{i}] = ({lower!r}, {upper!r}): the lower bound must be below the upper "
                "one (a (lower, upper) pair per fitting run)"
            )
        s_loss = (ci[:, 1] - ci[:, 0]) / (2 * 1.959963984540054)
    ne = rep.link_error.size
    ehat = rep.link.error(rep.link_loss)
    s_err = np.full(ne, np.sqrt(2.0 * rep.link_fit.cost / (ne - 3)))
    Y = yhat + s_loss * rng.standard_normal((n_boot, n))
    Ye = ehat + s_err * rng.standard_normal((n_boot, ne))

    # The loss law refitted as the built-in chinchilla_tied on (N, D = M N) (C++ core, no
    # Python callbacks), its starts and optima mapped through _to_tied / _from_tied: the same
    # least-squares problem as OVERTRAINING_MODEL on (N, M) (see _to_tied).
    starts = _to_tied(np.vstack([rep.law.as_array(), PAPER_STARTS[:: PAPER_STARTS.shape[0] // 8]]))
    k = starts.shape[0]
    xd = np.column_stack([x[:, 0], x[:, 1] * x[:, 0]])
    r1 = fit_batch(
        "chinchilla_tied",
        np.tile(xd, (n_boot, 1)),
        Y.ravel(),
        np.arange(n_boot + 1) * n,
        p0=np.tile(starts, (n_boot, 1)),
        problem=np.repeat(np.arange(n_boot), k),
        compute_cov=False,
    )
    b1 = r1.best_index()
    ok1 = r1.success[b1]
    P = _from_tied(r1.x[b1])
    r2 = fit_batch(
        ERROR_LINK_MODEL,
        np.tile(rep.link_loss, n_boot),
        Ye.ravel(),
        np.arange(n_boot + 1) * ne,
        p0=np.tile(rep.link.as_array(), (n_boot, 1)),
        compute_cov=False,
    )
    ok2 = r2.success
    Q = r2.x
    hx = np.array([[h.N, h.M] for h in rep.held_out]).reshape(-1, 2)
    lp = OvertrainingLaw(*(P[:, j][:, None] for j in range(4))).loss(
        hx[:, 0][None, :], hx[:, 1][None, :]
    )
    ep = ErrorLink(*(Q[:, j][:, None] for j in range(3))).error(lp)
    lp = np.where(ok1[:, None], lp, np.nan)
    ep = np.where((ok1 & ok2)[:, None], ep, np.nan)
    return GadreBootstrap(
        reproduction=rep,
        noise=noise,
        sigma_loss=s_loss,
        sigma_error=s_err,
        loss_pred=lp,
        error_pred=ep,
        level=level,
        seed=seed,
    )


def eval_interval(data: dict[str, Any], rep: GadreReproduction) -> FloatArray:
    """The (5, 2) eval-set 95% bounds of the recipe's fitting runs (for ``noise="eval"``)."""
    lo, hi = data[f"loss_lower95_{rep.split}"], data[f"loss_upper95_{rep.split}"]
    ds = np.array([d == rep.dataset for d in data["dataset"]])
    out = []
    for Nv, Mv in rep.fit_x:
        i = np.flatnonzero(ds & (data["N"] == Nv) & (data["M"] == Mv))[0]
        out.append((lo[i], hi[i]))
    return np.array(out)
