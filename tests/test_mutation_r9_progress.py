"""Mutation round 9, _progress.py: the plain progress lines' rate and ETA by hand on a fake
clock (the rate is the work done over the time of the updates that did work: the time from
the previous update to one that did work; an update that only skips adds no time), and
tqdm's "already done" note summing the skipped counts."""

from __future__ import annotations

import re
import sys
from types import SimpleNamespace

import pytest
from scalingfit import _progress


class _Clock:
    def __init__(self, times: list[float]) -> None:
        self.times = iter(times)

    def __call__(self) -> float:
        return next(self.times)


def test_plain_rate_and_eta_are_of_the_work_time(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain lines
    # the clock at: creation 0; skip-only update 5; work updates at 7, 8 and 12
    monkeypatch.setattr(_progress, "time", SimpleNamespace(perf_counter=_Clock([0.0, 5.0, 7.0, 8.0, 12.0])))
    bar = _progress.progress_bar(100, True, unit="item")
    bar(0, 20)  # 20 done before: 80 left, no work, no time
    bar(10)  # 10 items in 7 - 5 = 2 s (the 5 s before the skip are not this run's work)
    bar(10)  # 20 items in 3 s
    bar(30)  # 50 items in 7 s
    bar(None)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "  0/80 items (20 already done), 0 items/s, ETA ?"
    # rates by hand: 10/2 = 5, 20/3 = 6.67, 50/7 = 7.14; ETA = (80 - done) / rate
    assert lines[1] == f"  10/80 items (20 already done), 5 items/s, ETA {70 / 5:.0f} s"
    assert lines[2] == f"  20/80 items (20 already done), 7 items/s, ETA {60 / (20 / 3):.0f} s"
    assert lines[3] == f"  50/80 items (20 already done), 7 items/s, ETA {30 / (50 / 7):.0f} s"
    assert len(lines) == 4  # closing prints nothing


def test_tqdm_note_sums_what_was_skipped(capsys) -> None:
    pytest.importorskip("tqdm")
    bar = _progress.progress_bar(30, True)
    bar(0, 6)
    bar(0, 4)
    bar(5)
    bar(None)
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert re.search(r"(?<![-\d,])10 already done", last), last
    assert " 5/20 " in last, last  # 30 less the 10 done before


def test_plain_eta_of_a_rate_under_one_per_second(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setattr(_progress, "time", SimpleNamespace(perf_counter=_Clock([0.0, 4.0])))
    bar = _progress.progress_bar(10, True)
    bar(2)  # 2 groups in 4 s: 0.5 groups/s, 8 left: 16 s
    assert capsys.readouterr().err == "  2/10 groups, 0 groups/s, ETA 16 s\n"
