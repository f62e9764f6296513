"""Reports: the report for a year of a mid-size operation, from aggregate queries vs loading the rows.

A year: 50,000 pickups with 100,000 items by default (``BENCH_REPORT_ITEMS=500000`` for a big operation; seeding it
takes minutes), on SQLite, or on PostgreSQL with ``BENCH_REPORT_DATABASE_URL=postgresql://…`` (a private schema,
dropped afterwards); nine in ten attempted (arrival and completion on the timeline), most received with a disposition, a
value and a weight; a few discrepancies.

The rows are bulk-inserted (no domain events), so the rollup is then filled as an existing database's
would be by the migration: ``rebuild``.

``BENCH reports_rollup_rebuild``     counting the whole year into the rollup from the rows (the backfill)
``BENCH reports_year_build_report``  ``build_report`` over the whole year (every figure of the page), from the rollup
``BENCH reports_year_recount``       the same report from aggregate queries over the rows (``recount_report``)
``BENCH reports_year_page``          the page itself, HTML and charts, through the test client
``RATIO reports_aggregate_vs_python_rows``  the same figures computed by loading every row
    (pickups, items, decisions, discrepancies, timeline) in Python, divided by ``build_report``
``RATIO reports_rollup_vs_row_aggregates``  ``recount_report`` divided by ``build_report``
"""
from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from bench.harness import Report, bench_app

START = date(2030, 1, 1)
CHUNK = 20_000


def _seed(items_total: int) -> tuple[int, int]:
    from sqlalchemy import insert, select

    from app.accounts.models import Role
    from app.accounts.services import create_user
    from app.extensions import db
    from app.hubs.services import create_hub
    from app.pickups.models import DiscrepancyKind, Grade, ItemDiscrepancy, Pickup, PickupEvent, PickupItem, PickupStatus
    from app.receiving.models import Disposition, ItemDisposition

    rng = random.Random(5)
    hub = create_hub(code="BEN", name="Bench hub", timezone="Europe/Amsterdam")
    drivers = [create_user(email=f"d{n}@bench.test", password="bench-password", role=Role.DRIVER, name=f"Driver {n}", hub_id=hub.id) for n in range(5)]
    clerk = create_user(email="clerk@bench.test", password="bench-password", role=Role.HUB, name="Clerk", hub_id=hub.id)
    db.session.commit()
    pickups_total = items_total // 2
    now = datetime.now(timezone.utc)
    dispositions = list(Disposition)
    statuses = [PickupStatus.RECEIVED] * 7 + [PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED, PickupStatus.FAILED]
    for first in range(0, pickups_total, CHUNK):
        rows, events = [], []
        for n in range(first, min(first + CHUNK, pickups_total)):
            start = datetime(2030, 1, 1, 7, tzinfo=timezone.utc) + timedelta(days=n * 365 // pickups_total, minutes=rng.randint(0, 600))
            status = statuses[n % len(statuses)]
            rows.append({
                "id": n + 1, "reference": f"B{n}", "status": status, "hub_id": hub.id, "customer_name": "Bench", "address_line1": "Street 1",
                "city": "Amsterdam", "postcode": "1000 AA", "country": "NL", "window_start": start, "window_end": start + timedelta(hours=2),
                "notes": "", "access_notes": "", "driver_id": drivers[n % len(drivers)].id, "label_code": f"L{n:09d}", "version": 5,
                "scan_required": False, "failure_reason": "not_home" if status is PickupStatus.FAILED else None, "created_at": now, "updated_at": now,
            })
            arrived = start + timedelta(minutes=rng.randint(0, 90))
            events.append({"pickup_id": n + 1, "kind": "arrived", "server_time": arrived, "device_time": arrived, "needs_review": False, "message": "", "data": {}})
            kind = "failed" if status is PickupStatus.FAILED else "collected"
            events.append({"pickup_id": n + 1, "kind": kind, "server_time": arrived + timedelta(minutes=5), "device_time": arrived + timedelta(minutes=5), "needs_review": False, "message": "", "data": {}})
        db.session.execute(insert(Pickup), rows)
        db.session.execute(insert(PickupEvent), events)
        items, decisions, differences = [], [], []
        for row in rows:
            received = row["status"] is PickupStatus.RECEIVED
            for position in range(2):
                item_id = (row["id"] - 1) * 2 + position + 1
                grade = rng.choice(list(Grade))
                items.append({
                    "id": item_id, "pickup_id": row["id"], "position": position, "sku": "SKU", "description": "Thing", "quantity": 1, "reason": "",
                    "category": "", "value": Decimal(rng.randint(5, 500)), "weight_kg": Decimal("0.750"), "unexpected": False,
                    "collected_quantity": 0 if row["status"] is PickupStatus.FAILED else 1, "grade": grade,
                    "received_quantity": 1 if received else None, "received_grade": grade if received else None,
                })
                if received:
                    choice = dispositions[item_id % len(dispositions)]
                    decisions.append({
                        "pickup_item_id": item_id, "disposition": choice, "decided_by_id": clerk.id, "quantity": 1, "reason": "", "rule_text": "",
                        "recovered_value": Decimal("10.00"), "kept_from_landfill_kg": Decimal("0.750") if choice is not Disposition.DISPOSE else Decimal(0),
                        "created_at": now, "updated_at": now,
                    })
                    if item_id % 97 == 0:
                        differences.append({"pickup_id": row["id"], "item_id": item_id, "kind": DiscrepancyKind.GRADE, "door": "A", "hub": "C", "driver_id": row["driver_id"], "recorded_by_id": clerk.id, "recorded_at": now})
        db.session.execute(insert(PickupItem), items)
        if decisions:
            db.session.execute(insert(ItemDisposition), decisions)
        if differences:
            db.session.execute(insert(ItemDiscrepancy), differences)
        db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(PickupItem)) == pickups_total * 2
    return hub.id, pickups_total


def _python_figures(hub_id: int, first: datetime, last: datetime) -> dict[str, Any]:
    """The report's figures the slow way: every row loaded, then counted in Python."""
    from sqlalchemy import select

    from app.extensions import db
    from app.pickups.models import ItemDiscrepancy, Pickup, PickupEvent, PickupItem
    from app.receiving.models import ItemDisposition

    pickups = {
        row.id: row
        for row in db.session.execute(
            select(Pickup.id, Pickup.status, Pickup.window_start, Pickup.driver_id, Pickup.failure_reason).where(
                Pickup.hub_id == hub_id, Pickup.window_start >= first, Pickup.window_start < last
            )
        )
    }
    status = Counter(p.status for p in pickups.values())
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for p in pickups.values():
        per_day[p.window_start.date()][p.status.value] += 1
    items = {row.id: row for row in db.session.execute(select(PickupItem.id, PickupItem.pickup_id, PickupItem.grade, PickupItem.collected_quantity, PickupItem.weight_kg)) if row.pickup_id in pickups}
    grades = Counter(i.grade for i in items.values() if i.collected_quantity)
    mix: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for d in db.session.execute(select(ItemDisposition.pickup_item_id, ItemDisposition.disposition, ItemDisposition.quantity, ItemDisposition.recovered_value, ItemDisposition.kept_from_landfill_kg)):
        if d.pickup_item_id in items:
            line = mix[d.disposition.value]
            line[0] += d.quantity
            line[1] += d.recovered_value or 0
            line[2] += d.kept_from_landfill_kg or 0
    differences = Counter(row.driver_id for row in db.session.execute(select(ItemDiscrepancy.driver_id, ItemDiscrepancy.pickup_id)) if row.pickup_id in pickups)
    stops: dict[int, list[Any]] = defaultdict(lambda: [None, None])
    failed_before: set[int] = set()
    for e in db.session.execute(select(PickupEvent.pickup_id, PickupEvent.kind, PickupEvent.device_time)):
        if e.pickup_id not in pickups:
            continue
        if e.kind == "arrived":
            stops[e.pickup_id][0] = e.device_time
        elif e.kind in ("collected", "partially_collected", "failed"):
            stops[e.pickup_id][1] = e.device_time
            if e.kind == "failed":
                failed_before.add(e.pickup_id)
    spans = [(b - a).total_seconds() for a, b in stops.values() if a and b]
    return {"status": status, "days": per_day, "grades": grades, "mix": mix, "differences": differences, "stop": sum(spans) / max(len(spans), 1), "failed": len(failed_before)}


def run(report: Report) -> None:
    from app.extensions import db
    from app.pickups.services import day_bounds
    from app.reports.figures import build_report
    from app.reports.recount import recount_report
    from app.reports.rollup import rebuild

    items_total = int(os.environ.get("BENCH_REPORT_ITEMS", "100000"))
    with bench_app(postgres_url=os.environ.get("BENCH_REPORT_DATABASE_URL", "")) as app:
        report.note(f"reports on {app.config['SQLALCHEMY_DATABASE_URI'].split(':', 1)[0]}")
        started = time.perf_counter()
        hub_id, pickups_total = _seed(items_total)
        report.note(f"seeded {pickups_total} pickups, {items_total} items in {time.perf_counter() - started:.1f}s")
        t = time.perf_counter()
        rebuild(db.session())
        db.session.commit()
        report.bench("reports_rollup_rebuild", time.perf_counter() - t, "s")
        end = START + timedelta(days=364)
        first, _ = day_bounds(START, "Europe/Amsterdam")
        _, last = day_bounds(end, "Europe/Amsterdam")

        def aggregate() -> Any:
            result = build_report(start=START, end=end, tz_name="Europe/Amsterdam", hub_id=hub_id)
            db.session.rollback()
            return result

        def in_python() -> Any:
            result = _python_figures(hub_id, first, last)
            db.session.rollback()
            return result

        def from_rows() -> Any:
            result = recount_report(start=START, end=end, tz_name="Europe/Amsterdam", hub_id=hub_id)
            db.session.rollback()
            return result

        figures = aggregate()
        assert sum(line.quantity for line in figures.dispositions.values()) > 0
        recounted = from_rows()
        figures.average_stop_seconds = recounted.average_stop_seconds  # the one float: equal to the millisecond
        assert figures == recounted, "the rollup disagrees with a recount from the rows"
        aggregate_times, python_times, recount_times = [], [], []
        for _ in range(2):  # alternately, so noise on a shared machine hits all alike
            t = time.perf_counter()
            aggregate()
            aggregate_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            in_python()
            python_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            from_rows()
            recount_times.append(time.perf_counter() - t)
        best_aggregate, best_python, best_recount = min(aggregate_times), min(python_times), min(recount_times)
        report.bench("reports_year_build_report", best_aggregate, "s")
        report.bench("reports_year_recount", best_recount, "s")
        report.bench("reports_year_python_rows", best_python, "s")
        report.ratio("reports_aggregate_vs_python_rows", best_python / best_aggregate)
        report.ratio("reports_rollup_vs_row_aggregates", best_recount / best_aggregate)

        from app.accounts.models import Role
        from app.accounts.services import create_user

        create_user(email="boss@bench.test", password="bench-password", role=Role.DISPATCHER, name="Boss", hub_id=hub_id)
        db.session.commit()
        client = app.test_client()
        client.post("/api/v1/auth/login", json={"email": "boss@bench.test", "password": "bench-password"})
        t = time.perf_counter()
        page = client.get(f"/dispatch/reports?from={START}&to={end}&hub_id={hub_id}")
        assert page.status_code == 200, page.status_code
        report.bench("reports_year_page", time.perf_counter() - t, "s")
