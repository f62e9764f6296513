"""What a push costs the database, in statements: a fixed few per push, however many mutations it carries.

Counted, not timed (a count is the same on every machine): each statement is a
round trip, and a push that sent one per mutation, or per row of the report's
recount, was what kept 32 phones from getting more through than 8.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.sync.conftest import collect_all

# One push's statements, from the session's user to the rollup's upsert, with the customer's
# email queued (bench/bench_push_cost.py lists them). PostgreSQL recounts the report in one
# statement (it was 14: 29 in all) and announces and draws change numbers in one (it was two);
# SQLite still counts the report's facts a statement per dimension. A collection reads the admins'
# door settings once (how many photos a grade needs).
AT_MOST = {"postgresql": 15, "sqlite": 27}


def _statements(db: Any, push: Any) -> list[str]:
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        push()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


def _day(p: Any, pickups: list[Any]) -> list[dict[str, Any]]:
    mutations = []
    for pickup in pickups:
        mutations += [
            p.mutation("arrive", pickup_id=pickup.id, base_version=pickup.version),
            p.mutation("scan_label", pickup_id=pickup.id, code=pickup.label_code, base_version=pickup.version),
            p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup, "B"), base_version=pickup.version),
            p.mutation("note", pickup_id=pickup.id, text="Left through the side gate", photo_ids=[], base_version=pickup.version),
        ]
    return mutations


def test_a_push_costs_the_same_few_statements_for_one_mutation_or_forty(phone, driver, create_pickup, db):  # type: ignore[no-untyped-def]
    pickups = [create_pickup(driver=driver) for _ in range(11)]
    p = phone()
    p.push()  # the client row exists, as for every push after an install's first

    one = p.mutation("collect_items", pickup_id=pickups[0].id, items=collect_all(pickups[0], "B"), base_version=pickups[0].version)
    for_one = _statements(db, lambda: p.push(one))
    day = _day(p, pickups[1:])
    for_forty = _statements(db, lambda: p.push(*day))

    assert len(day) == 40
    assert {r["status"] for r in p.push(one, *day).json["results"]} == {"duplicate"}
    bound = AT_MOST[db.engine.dialect.name]
    assert len(for_one) <= bound, "\n".join(for_one)
    # Ten pickups collected, forty actions: not one statement more than for a single collection.
    assert len(for_forty) == len(for_one), "\n".join(for_forty)
    # The client row is written once per push (its bookkeeping and last id together).
    assert sum(s.lstrip().upper().startswith("UPDATE SYNC_CLIENTS") for s in for_forty) == 1
