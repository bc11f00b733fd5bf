"""The model registry: the built-in scaling laws of the C++ core, plus custom models.

Every built-in model is a struct in ``cpp/include/scalingfit/models.hpp`` with an analytic
Jacobian; this module adds what belongs to Python: default bounds, a data-driven initial
guess, the formula, and vectorised prediction.

>>> import scalingfit
>>> m = scalingfit.models.get("saturating_power_law")
>>> m.param_names
('E', 'A', 'alpha')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
from numpy.typing import NDArray

from . import _core

FloatArray = NDArray[np.float64]
Guess = Callable[[FloatArray, FloatArray], FloatArray]

_INF = np.inf


@dataclass(frozen=True)
class Model:
    """A scaling law the engine can fit.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"chinchilla"``.
    param_names : tuple of str
        Parameter names in the order of parameter vectors.
    n_inputs : int
        Columns of ``x`` per point (1 for ``L(x)``, 2 for ``L(N, D)``).
    input_names : tuple of str
        Names of the input columns.
    formula : str
        The law, in plain text.
    lower, upper : ndarray
        Default bounds (``-inf``/``inf`` where free).
    positive_inputs : bool
        Whether inputs must be > 0 (the core works with their logarithms).
    index : int
        Index of the core's template instance; ``-1`` for custom (Python) models.
    """

    name: str
    param_names: tuple[str, ...]
    n_inputs: int
    input_names: tuple[str, ...]
    formula: str
    lower: FloatArray
    upper: FloatArray
    positive_inputs: bool
    index: int
    guess: Optional[Guess] = field(default=None, repr=False, compare=False)

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def initial_guesses(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Data-driven starting points for one problem (x: (n, n_inputs), y: (n,)), best
        first, shape (k, n_params). ``fit`` solves all of them in one batch call."""
        if self.guess is None:
            raise ValueError(f"model {self.name!r} has no initial guess: pass p0")
        p = np.asarray(self.guess(x, y), dtype=np.float64).reshape(-1, self.n_params)
        return np.clip(p, self.lower, self.upper)

    def initial_guess(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """The best data-driven starting point for one problem, shape (n_params,)."""
        return self.initial_guesses(x, y)[0]

    def predict(self, params: Sequence[float] | FloatArray, x: FloatArray) -> FloatArray:
        """Model values at points ``x`` (shape (n, n_inputs), or (n,) for one input)."""
        xa = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(-1, self.n_inputs))
        p = np.ascontiguousarray(np.asarray(params, dtype=np.float64))
        if p.shape != (self.n_params,):
            raise ValueError(f"params must have {self.n_params} entries for {self.name}")
        f, _ = _core.evaluate(self.index, xa, p)
        return np.asarray(f)

    def jacobian(self, params: Sequence[float] | FloatArray, x: FloatArray) -> FloatArray:
        """Analytic Jacobian d value / d params at points ``x``, shape (n, n_params)."""
        xa = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(-1, self.n_inputs))
        p = np.ascontiguousarray(np.asarray(params, dtype=np.float64))
        _, J = _core.evaluate(self.index, xa, p)
        return np.asarray(J)


# ---------------------------------------------------------------- initial guesses
def _linear_fit(cols: list[FloatArray], y: FloatArray) -> tuple[FloatArray, float]:
    M = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(M, y, rcond=None)
    r = M @ coef - y
    return coef, float(r @ r)


def _guess_power_law(x: FloatArray, y: FloatArray) -> FloatArray:
    t = np.log(x[:, 0])
    ly = np.log(np.abs(y) + 1e-300)
    coef, _ = _linear_fit([np.ones_like(t), t], ly)
    return np.array([np.exp(coef[0]) * (np.sign(np.median(y)) or 1.0), -coef[1]])


def _guess_saturating(x: FloatArray, y: FloatArray) -> FloatArray:
    """Grid over the asymptote E below min(y); log-log regression of y - E for each."""
    t = np.log(x[:, 0])
    ymin, ymax = float(np.min(y)), float(np.max(y))
    span = max(ymax - ymin, 1e-12 * max(abs(ymin), 1.0))
    best: tuple[float, FloatArray] | None = None
    candidates = [ymin - span * c for c in (4.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.03, 0.01)]
    if ymin > 0:
        candidates.append(0.0)
    for E in candidates:
        z = y - E
        if np.any(z <= 0):
            continue
        coef, _ = _linear_fit([np.ones_like(t), t], np.log(z))
        p = np.array([E, np.exp(coef[0]), -coef[1]])
        r = p[0] + p[1] * np.exp(-p[2] * t) - y
        sse = float(r @ r)
        if np.isfinite(sse) and (best is None or sse < best[0]):
            best = (sse, p)
    if best is None:
        return np.array([ymin, span, 0.5])
    return best[1]


_EXPONENT_GRID = (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8)


def _guess_chinchilla(x: FloatArray, y: FloatArray) -> FloatArray:
    """Variable projection on a grid: for each (alpha, beta), E, A, B by linear least squares.
    Returns the three best grid candidates, best first."""
    tn, td = np.log(x[:, 0]), np.log(x[:, 1])
    one = np.ones_like(tn)
    found: list[tuple[float, FloatArray]] = []
    for al in _EXPONENT_GRID:
        na = np.exp(-al * tn)
        for be in _EXPONENT_GRID:
            coef, sse = _linear_fit([one, na, np.exp(-be * td)], y)
            if coef[1] <= 0 or coef[2] <= 0:
                sse *= 10.0  # prefer physically meaningful (positive) terms
            found.append((sse, np.array([coef[0], coef[1], coef[2], al, be])))
    found.sort(key=lambda c: c[0])
    return np.vstack([c[1] for c in found[:3]])


def _guess_chinchilla_lse(x: FloatArray, y: FloatArray) -> FloatArray:
    c = _guess_chinchilla(x, y)
    tiny = 1e-3 * float(np.min(y))
    E, A, B = (np.log(np.maximum(c[:, i], tiny)) for i in range(3))
    return np.column_stack([A, B, E, c[:, 3], c[:, 4]])


def _guess_kaplan_nd(x: FloatArray, y: FloatArray) -> FloatArray:
    """For fixed exponents, L^(1/alpha_D) = c1 N^(-alpha_N/alpha_D) + D_c / D is linear.
    Returns the four best grid candidates (by squared log error), best first."""
    tn, td = np.log(x[:, 0]), np.log(x[:, 1])
    ly = np.log(y)
    found: list[tuple[float, FloatArray]] = []
    for aN in (0.03, 0.05, 0.076, 0.1, 0.15, 0.25, 0.4):
        for aD in (0.03, 0.05, 0.095, 0.15, 0.25, 0.4):
            yp = np.exp(ly / aD)
            if not np.all(np.isfinite(yp)):
                continue
            coef, _ = _linear_fit([np.exp(-(aN / aD) * tn), np.exp(-td)], yp)
            if coef[0] <= 0 or coef[1] <= 0:
                continue
            Nc, Dc = coef[0] ** (aD / aN), coef[1]
            p = np.array([Nc, Dc, aN, aD])
            if not np.all(np.isfinite(p)):
                continue
            pred = (np.exp((aN / aD) * (np.log(Nc) - tn)) + np.exp(np.log(Dc) - td)) ** aD
            r = np.log(pred) - ly
            sse = float(r @ r)
            if np.isfinite(sse):
                found.append((sse, p))
    kaplan_2020 = np.array([8.8e13, 5.4e13, 0.076, 0.095])  # Kaplan et al. (2020), eq. 1.5
    found.sort(key=lambda c: c[0])
    return np.vstack([c[1] for c in found[:4]] + [kaplan_2020])


def _guess_parabola(x: FloatArray, y: FloatArray) -> FloatArray:
    t = np.log(x[:, 0])
    c2, c1, c0 = np.polyfit(t, y, 2)
    if c2 <= 0:
        i = int(np.argmin(y))
        return np.array([float(y[i]), float(t[i]), 1e-3 * (float(np.ptp(y)) + 1e-12)])
    v = -c1 / (2 * c2)
    return np.array([c0 - c1 * c1 / (4 * c2), v, c2])


def _guess_sigmoid(x: FloatArray, y: FloatArray) -> FloatArray:
    t = np.log(x[:, 0])
    lo, hi = float(np.min(y)), float(np.max(y))
    width = max(float(np.ptp(t)), 1e-6)
    c = np.corrcoef(t, y)[0, 1] if np.ptp(y) > 0 and np.ptp(t) > 0 else 1.0
    k = 8.0 / width * (1.0 if c >= 0 else -1.0)
    mid = 0.5 * (lo + hi)
    i = int(np.argmin(np.abs(y - mid)))
    return np.array([lo, hi if hi > lo else lo + 1.0, k, float(t[i])])


def _guess_broken(x: FloatArray, y: FloatArray) -> FloatArray:
    E, A, alpha = _guess_saturating(x, y).ravel()
    t = np.log(x[:, 0])
    return np.array([E, A, alpha, max(0.1 * abs(alpha), 0.05), float(np.median(t)), 1.0])


_SPEC: dict[str, tuple[tuple[str, ...], str, Guess, dict[str, tuple[float, float]]]] = {
    "power_law": (("x",), "A * x^-alpha", _guess_power_law, {}),
    "saturating_power_law": (("x",), "E + A * x^-alpha", _guess_saturating, {}),
    "chinchilla": (("N", "D"), "E + A / N^alpha + B / D^beta", _guess_chinchilla, {}),
    "chinchilla_lse": (
        ("N", "D"),
        "exp(LSE(a - alpha log N, b - beta log D, e)); A=e^a, B=e^b, E=e^e",
        _guess_chinchilla_lse,
        {},
    ),
    "kaplan_nd": (
        ("N", "D"),
        "[(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D",
        _guess_kaplan_nd,
        {"N_c": (0.0, _INF), "D_c": (0.0, _INF), "alpha_D": (1e-6, _INF)},
    ),
    "isoflop_parabola": (("N",), "L_opt + k (log N - log_N_opt)^2", _guess_parabola, {}),
    "sigmoid": (("x",), "lo + (hi - lo) / (1 + exp(-k (log x - log_x0)))", _guess_sigmoid, {}),
    "broken_power_law": (
        ("x",),
        "E + A x^-alpha (1 + (x / e^log_x_b)^(1/f))^(-beta f)",
        _guess_broken,
        {"f": (1e-6, _INF)},
    ),
}


def _build_registry() -> dict[str, Model]:
    reg: dict[str, Model] = {}
    for info in _core.model_info():
        name = str(info["name"])
        inputs, formula, guess, bounds = _SPEC[name]
        names = tuple(str(n) for n in info["param_names"])
        lower = np.full(len(names), -_INF)
        upper = np.full(len(names), _INF)
        for pname, (lo, hi) in bounds.items():
            lower[names.index(pname)] = lo
            upper[names.index(pname)] = hi
        reg[name] = Model(
            name=name,
            param_names=names,
            n_inputs=int(info["n_inputs"]),
            input_names=inputs,
            formula=formula,
            lower=lower,
            upper=upper,
            positive_inputs=bool(info["log_inputs"]),
            index=int(info["index"]),
            guess=guess,
        )
    return reg


_REGISTRY: dict[str, Model] = _build_registry()
LOSSES: tuple[str, ...] = tuple(str(n) for n in _core.loss_names())


def names() -> list[str]:
    """Names of the built-in models."""
    return list(_REGISTRY)


def get(model: str | Model) -> Model:
    """Look a model up by name (a :class:`Model` passes through)."""
    if isinstance(model, Model):
        return model
    try:
        return _REGISTRY[model]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown model {model!r}; built-in models are: {', '.join(_REGISTRY)}"
        ) from None
