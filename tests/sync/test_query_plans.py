"""A delta pull reads index ranges only, so its cost follows the changes, not the table sizes."""
from __future__ import annotations

import json

from sqlalchemy import text

from app.accounts.models import User
from app.sync.services import delta_queries
from bench.sync_data import insert_pickups


def _plan(db, statement) -> str:
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        return " ".join(str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    db.session.execute(text("ANALYZE pickups"))
    db.session.execute(text("ANALYZE sync_tombstones"))
    rows = db.session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar()
    return json.dumps(rows if not isinstance(rows, str) else json.loads(rows))


def test_delta_pull_queries_use_the_driver_and_change_indexes(db, hub, create_user):
    drivers = [create_user("driver") for _ in range(5)]
    head = insert_pickups(10_000, hub_id=hub.id, driver_ids=[d.id for d in drivers])
    db.session.commit()
    changed, left = delta_queries(drivers[3].id, head - 50, head)
    pickups_plan, tombstones_plan = _plan(db, changed), _plan(db, left)
    # Either index bounds the scan by the change number: PostgreSQL picks the plain
    # change_seq one when the cursor is recent (few changes by anyone since).
    assert "ix_pickups_driver_change" in pickups_plan or "ix_pickups_change_seq" in pickups_plan, pickups_plan
    assert "ix_sync_tombstones_driver_seq" in tombstones_plan, tombstones_plan
    for plan in (pickups_plan, tombstones_plan):
        assert "Seq Scan" not in plan and "SCAN pickups" not in plan and "SCAN sync_tombstones" not in plan, plan
    assert db.session.query(User).count() >= 5
