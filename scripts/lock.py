"""Writes the hashed lock files from pyproject.toml's ranges (`make lock`, `make lock-upgrade`).

pyproject.toml says what Backhaul accepts; the lock files say what is installed, every version
pinned and every file's SHA-256 listed, so two installs on two days (or on a developer's machine, CI
and a server) get the same bytes, and a file changed on the registry is refused:

- requirements-test.lock: the package's dependencies, its test extra and the build backend
  (setuptools); `make install` and CI install it.
- requirements.lock: the same versions without the test tools, for servers (deploy/Containerfile).

uv resolves against the package registry alone (it never reads pip's configuration, so a machine's
local indexes or wheel folders cannot leak into the lock) and for every platform and Python that
pyproject.toml admits (``--universal``): the hashes of every wheel of a pinned version are listed,
so the lock installs on x86-64 and ARM, on 3.11 and later. Without ``--upgrade`` the versions
already locked are kept where they still fit, so a new dependency changes only what it must.
"""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_LOCK = "requirements-test.lock"
RUNTIME_LOCK = "requirements.lock"


def _uv(project: dict) -> Path:
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():  # first lock, or a venv made before uv joined the test extra
        wanted = next(r for r in project["project"]["optional-dependencies"]["test"] if r.startswith("uv"))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", wanted], check=True)
    return uv


def main(argv: list[str]) -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = "\n".join(project["build-system"]["requires"]) + "\n"
    python = project["project"]["requires-python"].removeprefix(">=")
    common = ["pip", "compile", "pyproject.toml", "-", "--universal", "--python-version", python,
              "--generate-hashes", "--quiet", "--custom-compile-command", "make lock", *argv]
    uv = str(_uv(project))
    # The test lock first: it resolves everything together, and the servers' lock takes its versions.
    subprocess.run([uv, *common, "--extra", "test", "-o", TEST_LOCK], input=build, text=True, cwd=ROOT, check=True)
    subprocess.run([uv, *common, "-c", TEST_LOCK, "-o", RUNTIME_LOCK], input=build, text=True, cwd=ROOT, check=True)
    print(f"wrote {TEST_LOCK} and {RUNTIME_LOCK}; commit them with pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
