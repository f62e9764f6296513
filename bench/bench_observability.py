"""What request ids, JSON access logs and Prometheus metrics cost on a driver's push.

``BENCH push_stop_observed_ms`` / ``push_stop_unobserved_ms``  one stop's push (arrive, scan, collect,
note) on SQLite, with and without core.observability, interleaved in the same run
``RATIO push_unobserved_vs_observed``  time without ÷ time with (goal ≥ 0.95, i.e. ≤ 1.05× cost)
The JSON log lines are written to /dev/null: formatting and writing them is counted, a terminal is not.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.bench_sync import Phone, _day_of_work, _people, _route
from bench.harness import Report, app_on_file


def run(report: Report, rounds: int = 40) -> None:
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:
        folder = Path(tmp)
        with contextlib.redirect_stderr(devnull):
            observed_app = app_on_file(folder, "observed", LOG_FORMAT="json", LOG_LEVEL="INFO", METRICS_TOKEN="bench")
            unobserved_app = app_on_file(folder, "unobserved", OBSERVABILITY_ENABLED=False)
            with observed_app as observed, unobserved_app as unobserved:
                setups = []
                for app in (observed, unobserved):
                    hub_id, (driver_id,) = _people(app)
                    routes = _route(app, hub_id, driver_id, rounds + 3)
                    setups.append((Phone(app, "driver0@bench.test"), routes))
                times: dict[int, list[float]] = {0: [], 1: []}
                for n in range(rounds + 3):
                    for which, (phone, routes) in enumerate(setups):
                        mutations = _day_of_work([routes[n]], first_id=4 * n + 1)
                        start = time.perf_counter()
                        phone.push(mutations, client_id=phone.client_id)
                        if n >= 3:  # the first pushes warm caches
                            times[which].append(time.perf_counter() - start)
    with_ms, without_ms = statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000
    report.bench("push_stop_observed_ms", with_ms, "ms")
    report.bench("push_stop_unobserved_ms", without_ms, "ms")
    report.ratio("push_unobserved_vs_observed", without_ms / with_ms)
