"""The lock covers what pyproject asks for: a dependency added without refreshing the lock
(`nox -s lock`) would be installed unpinned, and CI would follow the newest release again."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {
    "requirements/test.txt": ("test", "frameworks"),
    "requirements/sdk-legacy.txt": ("test",),
}


def pins(lock: Path) -> dict[str, Version]:
    """name -> the version pinned for this interpreter (lines whose marker applies here)."""
    pinned: dict[str, Version] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in "# ":
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, _, version = requirement.strip().partition("==")
        assert version, f"{lock.name}: `{line}` is not pinned with =="
        pinned[canonicalize_name(name)] = Version(version)
    return pinned


def wanted(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [r for r in map(Requirement, lines) if r.marker is None or r.marker.evaluate()]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_every_dependency_within_its_range(lock: str) -> None:
    pinned = pins(ROOT / lock)
    problems = [
        f"{r}: pinned {pinned.get(canonicalize_name(r.name), 'nowhere')}"
        for r in wanted(LOCKS[lock])
        if pinned.get(canonicalize_name(r.name)) not in r.specifier
    ]
    assert not problems, f"{lock} is stale, run `nox -s lock`:\n" + "\n".join(problems)


def test_legacy_lock_holds_the_0x_sdk_and_the_main_lock_the_current_one() -> None:
    assert pins(ROOT / "requirements/sdk-legacy.txt")["anthropic"].major == 0
    assert pins(ROOT / "requirements/test.txt")["anthropic"].major >= 1
