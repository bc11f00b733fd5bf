"""The dependency floors in pyproject.toml and the pins that CI's floors job installs agree.

.ci/floors installs the project on the oldest Python that pyproject.toml claims with
.ci/floors.txt as pip constraints (every floor pinned) and runs the tests there. These tests
keep the two files from drifting apart: a floor raised or lowered in one but not the other, a
new requirement without a floor or without a pin, or a stale pin, fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself needs tomli below 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
FLOORS = ROOT / ".ci" / "floors.txt"


def _requirements() -> list[tuple[str, Requirement]]:
    """(where, requirement) for every requirement in pyproject.toml but the self-references."""
    meta = tomllib.loads(PYPROJECT.read_text())
    out = [("build-system.requires", Requirement(r)) for r in meta["build-system"]["requires"]]
    project = meta["project"]
    out += [("project.dependencies", Requirement(r)) for r in project["dependencies"]]
    for extra, reqs in project["optional-dependencies"].items():
        out += [(f"extra {extra}", Requirement(r)) for r in reqs]
    return [(w, r) for w, r in out if canonicalize_name(r.name) != canonicalize_name(project["name"])]


def _floor(req: Requirement) -> Version:
    lows = [s for s in req.specifier if s.operator == ">="]
    assert len(lows) == 1, f"{req}: expected exactly one '>=' floor, found {len(lows)}"
    return Version(lows[0].version)


def _parse_floors(text: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", (
            f"floors.txt line {number}: {raw!r} must pin one version with =="
        )
        assert req.marker is None and not req.extras, (
            f"floors.txt line {number}: {raw!r}: a constraint takes no marker or extra"
        )
        name = canonicalize_name(req.name)
        assert name not in pins, f"floors.txt line {number}: {req.name} pinned twice"
        pins[name] = Version(specs[0].version)
    return pins


def _pyproject_floors() -> dict[str, Version]:
    floors: dict[str, Version] = {}
    for where, req in _requirements():
        name = canonicalize_name(req.name)
        low = _floor(req)
        assert floors.setdefault(name, low) == low, (
            f"{req.name}: floor {low} in {where}, {floors[name]} elsewhere in pyproject.toml"
        )
    return floors


def test_every_requirement_has_one_floor() -> None:
    reqs = _requirements()
    # the file has build requirements, numpy and the extras: an empty parse would pass vacuously
    assert len(reqs) >= 20
    for _where, req in reqs:
        _floor(req)


def test_floors_txt_pins_exactly_the_floors_of_pyproject() -> None:
    floors = _pyproject_floors()
    pins = _parse_floors(FLOORS.read_text())
    missing = sorted(set(floors) - set(pins))
    stale = sorted(set(pins) - set(floors))
    assert not missing, f"floors in pyproject.toml without a pin in .ci/floors.txt: {missing}"
    assert not stale, f"pins in .ci/floors.txt that pyproject.toml has no floor for: {stale}"
    differ = {n: (str(floors[n]), str(pins[n])) for n in floors if floors[n] != pins[n]}
    assert not differ, f"pyproject.toml floor vs .ci/floors.txt pin: {differ}"


def test_the_pin_is_allowed_by_every_requirement_on_the_package() -> None:
    # an upper bound or exclusion below the floor would make the pin uninstallable
    pins = _parse_floors(FLOORS.read_text())
    for where, req in _requirements():
        pin = pins[canonicalize_name(req.name)]
        assert req.specifier.contains(pin, prereleases=True), f"{where}: {req} refuses {pin}"


def test_the_comparison_catches_drift() -> None:
    # the parser and checks on hand-made text, so that the tests above cannot pass by accident
    assert _parse_floors("numpy==1.22  # runtime\n# comment\n\npandas==1.5\n") == {
        "numpy": Version("1.22"), "pandas": Version("1.5.0")}
    for bad in ("numpy>=1.22\n", "numpy==1.22; python_version >= '3.10'\n",
                "numpy==1.22\nnumpy==1.23\n", "numpy==1.22,<2\n"):
        with pytest.raises(AssertionError):
            _parse_floors(bad)
    with pytest.raises(AssertionError):
        _floor(Requirement("numpy<3"))
    with pytest.raises(AssertionError):
        _floor(Requirement("numpy>=1.22,>=1.23"))
    assert _floor(Requirement("mypy>=2.4,<2.5; python_version >= '3.10'")) == Version("2.4.0")


def test_the_floors_job_runs_on_the_oldest_claimed_python() -> None:
    meta = tomllib.loads(PYPROJECT.read_text())
    claimed = meta["project"]["requires-python"]
    assert claimed.startswith(">="), claimed
    oldest = claimed[2:].strip()
    job = (ROOT / ".ci" / "floors").read_text()
    assert f"python{oldest}" in job, f".ci/floors should use Python {oldest} ({claimed})"
    assert "floors.txt" in job
    assert "floors" in (ROOT / ".ci" / "run").read_text()
