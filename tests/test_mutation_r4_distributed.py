"""Mutation round 4, scalingfit.distributed: scheduler='local:N' accepts up to and including
MAX_LOCAL_WORKERS_PER_CORE (8) workers per core, and refuses one more."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("distributed")
from scalingfit import distributed as sd


@pytest.mark.parametrize("cores", [1, 3])
def test_local_workers_up_to_eight_per_core(monkeypatch: pytest.MonkeyPatch, cores: int) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    most = 8 * cores
    assert sd._parse_scheduler(f"local:{most}") == (f"local:{most}", most)
    assert sd._parse_scheduler("local:1") == ("local:1", 1)
    with pytest.raises(ValueError, match=rf"{most + 1} local worker processes on {cores} core\(s\); at most {most} "
                                         r"\(8 per core\)"):
        sd._parse_scheduler(f"local:{most + 1}")
