"""Run every ``bench/bench_*.py`` module in turn (``make bench``)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

import bench
from bench.harness import Report


def main() -> int:
    report = Report()
    only = set(sys.argv[1:])
    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")):
        if only and module.removeprefix("bench_") not in only:
            continue
        report.note(f"running {module}")
        try:
            importlib.import_module(f"bench.{module}").run(report)
        except Exception:
            # A broken benchmark is reported, not fatal: judging is for people.
            report.note(f"{module} failed:\n{traceback.format_exc()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
