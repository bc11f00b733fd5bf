"""Every example in the package's docstrings runs and prints what it says (numpy-style
``Examples`` sections are documentation users copy; a stale one is a bug)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest
import scalingfit


def _modules_with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    names = []
    for info in pkgutil.walk_packages(scalingfit.__path__, "scalingfit."):
        if info.name.endswith("._core"):
            continue  # the compiled extension: its docstrings are pybind11's signatures
        module = importlib.import_module(info.name)
        if any(not e.options.get(doctest.SKIP) for t in finder.find(module) for e in t.examples):
            names.append(info.name)  # (examples that need a cluster or a database are skipped)
    return names


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name: str) -> None:
    res = doctest.testmod(importlib.import_module(name), extraglobs={"np": np},
                          optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0, f"{name}: {res.failed} of {res.attempted} examples failed"


def test_the_main_modules_have_examples() -> None:
    names = set(_modules_with_examples())
    for name in ("scalingfit._fit", "scalingfit.bootstrap", "scalingfit.kaplan", "scalingfit.curves",
                 "scalingfit.emergence", "scalingfit.testtime", "scalingfit.uncertainty"):
        assert name in names
