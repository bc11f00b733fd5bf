"""The README's Python examples run as written, in order, in one namespace (a block marked
``<!-- not run by the tests: ... -->`` needs a GPU or a cluster and is left out), and print
what their comments say."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SKIP = "<!-- not run by the tests:"


def _blocks() -> list[tuple[int, str, bool]]:
    """(line, code, run) of every ```python block."""
    text = README.read_text()
    out = []
    for m in re.finditer(r"```python\n(.*?)```", text, flags=re.DOTALL):
        before = text[: m.start()].rstrip().splitlines()
        skipped = bool(before) and before[-1].startswith(SKIP)
        out.append((text[: m.start()].count("\n") + 1, m.group(1), not skipped))
    return out


def test_readme_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _blocks()
    assert len(blocks) >= 5 and sum(run for *_, run in blocks) >= 3
    ns: dict[str, object] = {}
    for line, code, run in blocks:
        if run:
            exec(compile(code, f"README.md:{line}", "exec"), ns)  # noqa: S102 - the docs' own code
    out = capsys.readouterr().out
    # block 1: Chinchilla fit of 200 noisy runs; a = beta / (alpha + beta) near 0.28 / 0.62
    assert "FitResult(model='chinchilla'" in out
    assert abs(float(ns["a"]) - 0.28 / 0.62) < 0.05  # type: ignore[arg-type]
    # block 2: three noise-free sweeps, E recovered as its comment says
    np.testing.assert_allclose(ns["res"].params("E"), [1.7, 1.8, 1.9], rtol=1e-8)  # type: ignore[attr-defined]
    assert "[1.7 1.8 1.9]" in out
    # block 3: the bootstrap summary lists the derived quantities
    assert "a_opt" in out and "N_opt" in out
