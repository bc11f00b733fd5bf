"""Rows for ``scalingfit optimal``: everything the planning tools answer for one set of
inputs, as ``(section, quantity, value)`` text triples that a CLI prints or dumps as JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np

from .. import _validate
from ..chinchilla import EPOCH_2024
from ._common import (
    HOFFMANN_2022,
    SARDANA_2023,
    Figure,
    as_law,
    check_epochs,
    check_nonnegative,
    check_positive,
)
from .data_constrained import MUENNIGHOFF_2023, DataConstrainedLaw, optimal_allocation_constrained
from .data_wall import data_wall
from .inference import inference_optimal

__all__ = ["LAWS", "format_rows", "optimal_cli_table", "resolve_law"]

Row = tuple[str, str, str]

#: Named laws the CLI accepts (``--law``; the first is its default).
LAWS: dict[str, Mapping[str, float]] = {
    "epoch2024": {k: float(v) for k, v in EPOCH_2024.as_dict().items()},
    "hoffmann2022": HOFFMANN_2022,
    "sardana2023": SARDANA_2023,
    "muennighoff2023": {
        k: float(getattr(MUENNIGHOFF_2023, k)) for k in ("E", "A", "B", "alpha", "beta")
    },
}


def resolve_law(law: Union[str, Mapping[str, float]]) -> dict[str, float]:
    """A named law (:data:`scalingfit.planning._cli.LAWS`: epoch2024, hoffmann2022, ...), a ``"E=1.69,A=406.4,B=410.7,alpha=0.34,beta=0.28"`` string,
    or a mapping, as a plain ``{E, A, B, alpha, beta}`` dict (validated).

    Parameters
    ----------
    law : str or mapping
        A name of :data:`LAWS`, an ``E=..,A=..,B=..,alpha=..,beta=..`` string (each parameter
        once) or a mapping, as :func:`~scalingfit.planning.as_law` takes it; anything else
        is a ValueError.
    """
    if isinstance(law, str):
        if law in LAWS:
            law = LAWS[law]
        elif "=" in law:
            try:
                pairs = [(k.strip(), float(v)) for k, v in (kv.split("=", 1) for kv in law.split(","))]
            except ValueError:
                raise ValueError(
                    f"cannot read law {law!r}: expected E=..,A=..,B=..,alpha=..,beta=.."
                ) from None
            names = [k for k, _ in pairs]
            twice = sorted({k for k in names if names.count(k) > 1})
            if twice:  # E=1,E=2: the last one silently won
                raise ValueError(f"law {law!r} gives {', '.join(twice)} more than once: give each parameter once")
            law = dict(pairs)
        else:
            raise ValueError(
                f"unknown law {law!r}; named laws: {', '.join(LAWS)} (or E=..,A=..,...)"
            )
    lw = as_law(law)
    return {k: float(v) for k, v in lw.as_dict().items()}


def _g(v: Any, spec: str = ".4g") -> str:
    return Figure(v, spec)


def optimal_cli_table(
    *,
    compute: Optional[float] = None,
    loss: Optional[float] = None,
    inference_tokens: float = 0.0,
    unique_tokens: Optional[float] = None,
    epochs: Sequence[float] = (1, 4, 16),
    law: Union[str, Mapping[str, float]] = "epoch2024",
    R_D: float = float(MUENNIGHOFF_2023.R_D),
    R_N: float = float(MUENNIGHOFF_2023.R_N),
    flops_per_token: float = 6.0,
    trained: Optional[tuple[float, float]] = None,
) -> list[Row]:
    """Everything ``scalingfit optimal`` prints, as ``(section, quantity, value)`` rows.

    Parameters
    ----------
    compute : float, optional
        Training budget in FLOPs: the Chinchilla-optimal allocation; with ``unique_tokens``
        also the data-constrained one.
    loss : float, optional
        Target loss: the cheapest model reaching it; with ``inference_tokens`` the
        inference-aware one. (Without ``loss`` but with ``compute`` and ``inference_tokens``,
        the target is the Chinchilla-optimal loss at ``compute``.)
    inference_tokens : float
        Lifetime inference demand in tokens.
    unique_tokens : float, optional
        Stock of unique training tokens: the data wall for each of ``epochs``.
    epochs : sequence of float
        Epoch counts of the data wall rows (each finite and >= 1, not empty; checked always,
        used only with ``unique_tokens``); default ``(1, 4, 16)``.
    law : str or mapping
        A named law (``epoch2024``, the default, as ``scalingfit optimal``'s; ``hoffmann2022``,
        ``sardana2023``, ``muennighoff2023``), an ``E=..,A=..,B=..,alpha=..,beta=..`` string,
        or a mapping.
    R_D, R_N : float
        Decay constants of repeated data / excess parameters (default Muennighoff et al.;
        ``inf``: repeats as good as fresh data).
    flops_per_token : float
        Training FLOPs per parameter per token (6).
    trained : (N, D), optional
        A trained model: its compute ``flops_per_token N D``, the law's compute-optimal ``N``
        for that compute, ``N / N_opt`` with the verdict of
        :func:`scalingfit.allocation.training_verdict` (under-trained above 2, over-trained
        below 1/2), and its loss beside the optimum's.

    Raises
    ------
    ValueError
        If none of ``compute``, ``loss``, ``unique_tokens`` is given, or an input is invalid
        (named): ``compute``, ``loss``, ``unique_tokens``, ``flops_per_token`` not finite and
        > 0, ``inference_tokens`` negative or not finite, ``R_D``, ``R_N`` not > 0,
        ``epochs`` empty or holding a value that is not finite and >= 1; ``trained`` whose
        compute ``flops_per_token N D`` passes float64's range or rounds to 0; a
        ``unique_tokens`` or ``epochs`` whose data wall does (see :func:`data_wall`).
    TypeError
        If one of those is not a single number.

    Examples
    --------
    >>> from scalingfit.planning import optimal_cli_table
    >>> rows = optimal_cli_table(compute=5.76e23)
    >>> [r[1:] for r in rows if r[1] == "parameters N"]
    [('parameters N', '7.235e+10')]
    >>> [r[1:] for r in optimal_cli_table(compute=5.76e23, law="hoffmann2022") if r[1] == "parameters N"]
    [('parameters N', '3.219e+10')]
    """
    if compute is None and loss is None and unique_tokens is None and trained is None:
        raise ValueError("give at least one of compute, loss, unique_tokens, trained")

    def positive(name: str, v: Optional[float]) -> Optional[float]:
        return None if v is None else float(check_positive(name, v, scalar=True))

    compute, loss = positive("compute", compute), positive("loss", loss)
    unique_tokens = positive("unique_tokens", unique_tokens)
    inference_tokens = float(check_nonnegative("inference_tokens", inference_tokens, scalar=True))
    R_D = float(check_positive("R_D", R_D, scalar=True, allow_inf=True))
    R_N = float(check_positive("R_N", R_N, scalar=True, allow_inf=True))
    flops_per_token = float(check_positive("flops_per_token", flops_per_token, scalar=True))
    if check_epochs(epochs).size == 0:
        raise ValueError(
            f"epochs must hold at least one epoch budget (e.g. (1, 4, 16)), got {epochs!r}"
        )
    params = resolve_law(law)
    lw = as_law(params)
    rows: list[Row] = []
    sec = "law"
    rows += [(sec, k, _g(v)) for k, v in params.items()]
    if compute is not None:
        N, D = lw.optimal_allocation(compute, flops_per_token)
        sec = f"compute-optimal at C = {compute:.4g} FLOP"
        rows += [
            (sec, "parameters N", _g(N)),
            (sec, "training tokens D", _g(D)),
            (sec, "tokens per parameter", _g(D / N)),
            (sec, "loss", _g(lw.loss(N, D), ".4f")),
        ]
    if trained is not None:
        rows += _trained_rows(trained, params, flops_per_token)
    target = loss
    if target is not None:
        N, D = lw.optimal_for_loss(target)
        if not np.isfinite(N):
            raise ValueError(f"loss {target:g} is not above the law's irreducible loss E = {params['E']:.6g}: "
                             "no model reaches it")
        sec = f"cheapest training for loss {target:g}"
        rows += [
            (sec, "parameters N", _g(N)),
            (sec, "training tokens D", _g(D)),
            (sec, "training FLOPs", _g(flops_per_token * N * D)),
        ]
    elif compute is not None and inference_tokens > 0:
        target = float(lw.optimal_loss(compute, flops_per_token))
    if inference_tokens > 0 and target is not None:
        r = inference_optimal(
            target, inference_tokens, params, train_flops_per_token=flops_per_token
        )
        sec = f"inference-aware for loss {target:.4f}, {inference_tokens:.4g} inference tokens"
        rows += [(sec, q, v) for q, v in r.rows()[2:]]
    if unique_tokens is not None:
        dc = DataConstrainedLaw(**params, R_D=R_D, R_N=R_N)
        sec = f"repeated data: U = {unique_tokens:.4g} unique tokens"
        rows += [(sec, "decay constant R_D*", _g(R_D)), (sec, "decay constant R_N*", _g(R_N))]
        if (R_D, R_N) == (float(MUENNIGHOFF_2023.R_D), float(MUENNIGHOFF_2023.R_N)):
            # their constants were fitted beside their own C4 law: say so under another law (the
            # law by its values: the command line passes it resolved, as a dict)
            same = dict(params) == dict(resolve_law("muennighoff2023"))
            rows.append((sec, "decay constants from", "Muennighoff et al. 2023" if same else
                         "Muennighoff et al. 2023, fitted with their C4 law, not this one"))
        if compute is not None:
            o = optimal_allocation_constrained(
                compute, unique_tokens, dc, flops_per_token=flops_per_token
            )
            sec = (
                f"data-constrained at C = {compute:.4g} FLOP, U = {unique_tokens:.4g} unique tokens"
            )
            rows += [
                (sec, "parameters N", _g(o.N)),
                (sec, "training tokens D", _g(o.D)),
                (sec, "epochs", _g(o.epochs, ".3f")),
                (sec, "loss", _g(o.loss, ".4f")),
                (sec, "loss with unlimited unique data", _g(o.chinchilla_loss, ".4f")),
            ]
        w = data_wall(unique_tokens, dc, epochs, flops_per_token=flops_per_token)
        for row in w.rows:
            sec = f"data wall of U = {unique_tokens:.4g} tokens, up to {row.epochs:g} epoch(s)"
            rows += [
                (sec, "compute C", _g(row.C)),
                (sec, "parameters N", _g(row.N)),
                (sec, "training tokens D", _g(row.D)),
                (sec, "loss", _g(row.loss, ".4f")),
                (sec, "loss penalty vs unique data", _g(row.loss_penalty, ".4f")),
                (sec, "naive (repeats as fresh) C", _g(row.naive_C)),
                (sec, "naive (repeats as fresh) N", _g(row.naive_N)),
            ]
    return rows


def trained_section(N: float, D: float) -> str:
    """The section of a trained model's rows."""
    return f"trained model N = {N:.4g}, D = {D:.4g}"


def _trained_rows(trained: Any, params: Mapping[str, float], flops_per_token: float) -> list[Row]:
    """:func:`optimal_cli_table`'s rows of a trained ``(N, D)``."""
    from ..allocation import _verdict

    if not (isinstance(trained, Sequence) and len(trained) == 2):
        raise ValueError(f"trained must be (N, D), got {trained!r}")
    N = float(check_positive("trained N", trained[0], scalar=True))
    D = float(check_positive("trained D", trained[1], scalar=True))
    lw = as_law(params)
    with np.errstate(over="ignore"):
        C = flops_per_token * N * D
    _validate.check_computed(C, "its compute flops_per_token N D", {"trained N": N, "trained D": D},
                             "trained must be (N, D) of a real run", underflow=True)
    n_opt, d_opt = lw.optimal_allocation(C, flops_per_token)
    sec = trained_section(N, D)
    return [
        (sec, "compute C", _g(C)),
        (sec, "tokens per parameter", _g(D / N)),
        (sec, "compute-optimal N", _g(n_opt)),
        (sec, "compute-optimal D", _g(d_opt)),
        (sec, "N / N_opt", _g(N / n_opt)),
        (sec, "verdict (factor 2)", _verdict(float(N / n_opt), 2.0)),
        (sec, "loss", _g(lw.loss(N, D), ".4f")),
        (sec, "loss at the optimum", _g(lw.loss(n_opt, d_opt), ".4f")),
    ]


def format_rows(rows: Sequence[Row]) -> str:
    """Rows of :func:`optimal_cli_table` as indented text, one block per section.

    Parameters
    ----------
    rows : sequence of (str, str, object)
        ``(section, quantity, value)`` rows; a new section starts a block when it differs
        from the row before.
    """
    out: list[str] = []
    width = max((len(r[1]) for r in rows), default=0)
    last = None
    for sec, q, v in rows:
        if sec != last:
            out.append(("" if last is None else "\n") + sec)
            last = sec
        out.append(f"  {q.ljust(width)}  {v}")
    return "\n".join(out)
