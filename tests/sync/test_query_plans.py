"""Pulls read index ranges only, so their cost follows the driver's route and changes, not the table sizes.

PostgreSQL gets 100k pickups over 50 drivers: the size at which it used to pick
a change-number-only index for the delta, and read a reset's whole history.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from app.sync.scope import Scope
from app.sync.services import delta_queries, reset_queries
from bench.sync_data import insert_pickups


def _plan(db, statement) -> str:
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE"))
        return " ".join(str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    db.session.execute(text("ANALYZE pickups"))
    db.session.execute(text("ANALYZE sync_tombstones"))
    rows = db.session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar()
    return json.dumps(rows if not isinstance(rows, str) else json.loads(rows))


def _no_full_scan(plan: str) -> None:
    assert "Seq Scan" not in plan and "SCAN pickups" not in plan and "SCAN sync_tombstones" not in plan, plan


def _fill(db, hub, create_user):  # type: ignore[no-untyped-def]
    drivers = [create_user("driver") for _ in range(50)]
    count = 100_000 if db.engine.dialect.name == "postgresql" else 10_000
    head = insert_pickups(count, hub_id=hub.id, driver_ids=[d.id for d in drivers])
    db.session.commit()
    return drivers, head


def test_pull_queries_use_the_driver_indexes(db, hub, create_user):
    drivers, head = _fill(db, hub, create_user)
    # A delta after other drivers changed 2,000 pickups: the driver's own range, not everyone's.
    changed, left = delta_queries(drivers[3].id, head - 2000, head)
    pickups_plan, tombstones_plan = _plan(db, changed), _plan(db, left)
    assert "ix_pickups_driver_change" in pickups_plan, pickups_plan
    assert "ix_sync_tombstones_driver_seq" in tombstones_plan, tombstones_plan
    # A reset: the driver's days, past days' open pickups and the recently finished ones, not the 2,000 of their history.
    now = datetime.now(timezone.utc)
    scope = Scope(drivers[3].id, now - timedelta(hours=10), now + timedelta(days=2), now - timedelta(hours=12))
    reset_plans = [_plan(db, query) for query in reset_queries(scope)]
    assert "ix_pickups_driver_window" in reset_plans[0], reset_plans[0]
    for plan in reset_plans[1:]:
        assert "ix_pickups_driver_status_updated" in plan, plan
    for plan in (pickups_plan, tombstones_plan, *reset_plans):
        _no_full_scan(plan)
