"""The lock files fit pyproject.toml's ranges, pin every package with hashes, and agree with each other."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked(name: str) -> dict[str, list[tuple[str, str | None, list[str]]]]:
    """name → [(version, marker, hashes)]: a universal lock may pin two versions under markers."""
    pins: dict[str, list[tuple[str, str | None, list[str]]]] = {}
    current: list[str] | None = None
    for line in (ROOT / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = []
            pins.setdefault(canonicalize_name(match[1]), []).append((match[2], match[3], current))
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            current.append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return pins


def wanted(*, tests: bool = True) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = project["project"]["dependencies"] + project["build-system"]["requires"]
    if tests:
        names += project["project"]["optional-dependencies"]["test"]
    return [Requirement(r) for r in names]


def version_here(pins: list[tuple[str, str | None, list[str]]]) -> str:
    from packaging.markers import Marker

    (version,) = [v for v, marker, _ in pins if marker is None or Marker(marker).evaluate()]
    return version


def test_the_test_lock_pins_every_range_of_pyproject_within_that_range():
    pins = locked("requirements-test.lock")
    for requirement in wanted():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements-test.lock: run make lock"
        assert requirement.specifier.contains(version_here(pins[name]), prereleases=True), f"{requirement} vs {pins[name]}: run make lock"


def test_every_pin_carries_hashes():
    for name in ("requirements-test.lock", "requirements.lock"):
        for package, versions in locked(name).items():
            for version, _, hashes in versions:
                assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), f"{name}: {package}=={version}"


def test_servers_get_the_same_versions_as_the_tests_without_the_test_tools():
    runtime, test = locked("requirements.lock"), locked("requirements-test.lock")
    for package, versions in runtime.items():
        assert [v for v, _, _ in versions] == [v for v, _, _ in test[package]], package
    assert "pytest" not in runtime and "playwright" not in runtime
    for requirement in wanted(tests=False):
        assert canonicalize_name(requirement.name) in runtime, requirement
