"""What one push costs on PostgreSQL (issue 11, "Fleet-scale speed"): SQL statements and CPU.

- push_statements_{arrive,scan_label,collect_items,note}: statements one push of
  one such mutation sends (SQLAlchemy's ``before_cursor_execute``, an
  ``executemany`` counted once: one round trip). Deterministic, so two checkouts
  compare exactly even on a busy machine.
- push_statements_day40: a push of 40 mutations (10 pickups x arrive, scan,
  collect, note), as a phone sends after a stretch offline.
- photo_statements: one photo upload (``PUT /api/v1/photos/<id>``), answered 201.
- push_cpu_{one,day40}_ms: this process's CPU time per push (the server's side;
  PostgreSQL's own work is not in it), median of a few.

``python -m bench push_cost`` measures the checkout ``app`` is imported from;
``BENCH_PROFILE=1`` prints a cProfile of 40 one-mutation pushes too. Needs
PostgreSQL (``LOAD_DATABASE_URL`` or ``TEST_DATABASE_URL``, default the local
``test`` database; a private schema, dropped afterwards).
"""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import load
from bench.bench_sync import PASSWORD, Phone, _day_of_work, _people, _route
from bench.harness import Report, postgres_app


@contextmanager
def _pg_app() -> Iterator[Any]:
    """The app on a private schema of the bench's PostgreSQL, photos in a folder of its own."""
    with tempfile.TemporaryDirectory() as folder, postgres_app(load._database_url(), Path(folder)) as app:
        yield app


class Counting:
    """Statements sent while ``active``, by their first words."""

    def __init__(self) -> None:
        self.active = False
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.active:
            self.seen.append(" ".join(statement.split())[:90])

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.seen = []
        self.active = True
        try:
            yield self.seen
        finally:
            self.active = False


def _one(pickup: dict[str, Any], name: str, mutation_id: int) -> dict[str, Any]:
    day = _day_of_work([pickup], first_id=mutation_id)
    return next(m for m in day if m["name"] == name) | {"id": mutation_id}


def _upload_photo(phone: Phone) -> None:
    from hashlib import sha256

    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").convert("RGB").resize((320, 240)).save(out, format="JPEG", quality=80)
    body = out.getvalue()
    answer = phone.client.put(
        f"/api/v1/photos/{uuid.uuid4()}", data=body,
        headers={"X-CSRFToken": phone.token, "Content-Type": "image/jpeg", "X-Content-SHA256": sha256(body).hexdigest()},
    )  # fmt: skip
    assert answer.status_code == 201, answer.json


def run(report: Report) -> None:
    from sqlalchemy import event

    from app.extensions import db

    with _pg_app() as app:
        hub_id, (driver_id,) = _people(app)
        route = _route(app, hub_id, driver_id, 200)
        counter = Counting()
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", counter)
        phone = Phone(app, "driver0@bench.test")
        next_id = 1
        phone.push([])  # the client row exists, as on every push after a phone's first
        spare = iter(route)

        def push(mutations: list[dict[str, Any]]) -> tuple[list[str], float]:
            with counter.counting() as seen:
                started = time.process_time()
                answer = phone.push(mutations)
                cpu = time.process_time() - started
            assert {r["status"] for r in answer["results"]} == {"applied"}, answer["results"]
            return list(seen), cpu

        # Each kind on a fresh pickup, in the order a driver does them (collect needs nothing before it).
        for name in ("arrive", "scan_label", "collect_items", "note"):
            seen, _ = push([_one(next(spare), name, next_id)])
            next_id += 1
            report.bench(f"push_statements_{name}", len(seen), "statements")
            if os.environ.get("BENCH_VERBOSE"):
                for line, n in Counter(seen).most_common():
                    report.note(f"  {n} x {line}")
        day = [next(spare) for _ in range(10)]
        seen, _ = push(_day_of_work(day, first_id=next_id))
        next_id += 40
        report.bench("push_statements_day40", len(seen), "statements")
        if os.environ.get("BENCH_VERBOSE"):
            for line, n in Counter(seen).most_common():
                report.note(f"  {n} x {line}")

        with counter.counting() as seen:
            _upload_photo(phone)
        report.bench("photo_statements", len(seen), "statements")
        if os.environ.get("BENCH_VERBOSE"):
            for line, n in Counter(seen).most_common():
                report.note(f"  {n} x {line}")

        one_cpu, day_cpu = [], []
        for _ in range(5):
            pickup = next(spare)
            for name in ("arrive", "scan_label", "collect_items", "note"):
                _, cpu = push([_one(pickup, name, next_id)])
                next_id += 1
                one_cpu.append(cpu)
            _, cpu = push(_day_of_work([next(spare) for _ in range(10)], first_id=next_id))
            next_id += 40
            day_cpu.append(cpu)
        report.bench("push_cpu_one_ms", statistics.median(one_cpu) * 1000, "ms")
        report.bench("push_cpu_day40_ms", statistics.median(day_cpu) * 1000, "ms")

        if os.environ.get("BENCH_PROFILE"):
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(10):
                pickup = next(spare)
                for name in ("arrive", "scan_label", "collect_items", "note"):
                    phone.push([_one(pickup, name, next_id)])
                    next_id += 1
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(25)


__all__ = ["PASSWORD", "run"]
