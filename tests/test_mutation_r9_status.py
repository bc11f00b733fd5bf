"""Mutation round 9, _status.py: the status codes are the core's ``enum Status`` (read from
``cpp/include/scalingfit/lm.hpp``, the other side of the contract), scipy's sign rule holds,
and each code's message is its own (one message per code: two codes that collide in the
table leave one of them "unknown")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scalingfit import _status

LM_HPP = Path(__file__).resolve().parents[1] / "cpp" / "include" / "scalingfit" / "lm.hpp"

NAMES = {"kStatusBadInput": "BAD_INPUT", "kStatusSingular": "SINGULAR", "kStatusNonFinite": "NON_FINITE",
         "kStatusMaxIter": "MAX_ITER", "kStatusGtol": "GTOL", "kStatusFtol": "FTOL", "kStatusXtol": "XTOL",
         "kStatusFtolXtol": "FTOL_XTOL"}


def _enum() -> dict[str, int]:
    text = LM_HPP.read_text()
    body = re.search(r"enum Status : int \{(.*?)\};", text, re.DOTALL)
    assert body is not None
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(kStatus\w+)\s*=\s*(-?\d+)", body.group(1))}


def test_codes_are_the_cores_enum() -> None:
    enum = _enum()
    assert set(enum) == set(NAMES)
    for cpp, py in NAMES.items():
        assert getattr(_status, py) == enum[cpp], py


@pytest.mark.parametrize(("code", "words"), [
    ("BAD_INPUT", "bad input"), ("SINGULAR", "singular"), ("NON_FINITE", "not finite"),
    ("MAX_ITER", "maximum number of iterations"), ("GTOL", "gtol"), ("FTOL", "below ftol"),
    ("XTOL", "step below xtol"), ("FTOL_XTOL", "both ftol and xtol"),
])
def test_each_code_has_its_own_message(code: str, words: str) -> None:
    value = _enum()[next(c for c, p in NAMES.items() if p == code)]
    msg = _status.message(value)
    assert words in msg
    assert msg.startswith("converged") == (value > 0)  # scipy's sign rule: > 0 converged
    assert len(set(_status.MESSAGES.values())) == len(_status.MESSAGES) == 8


def test_an_unknown_code_is_named() -> None:
    assert _status.message(7) == "unknown status 7"
    assert _status.message(-4) == "unknown status -4"
