"""The pull's promise under concurrent writers: no change is ever skipped by a cursor.

On PostgreSQL change numbers come from a sequence, so transactions take them in
one order and commit in another; the watermark (app.pickups.changes) must keep
every cursor below the numbers still in flight.
"""
from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import insert, select, text

from app.extensions import db as _db
from app.pickups.changes import last_change_number, newest_change_number, take_change_numbers
from app.sync.models import SyncTombstone
from app.sync.services import delta_queries
from bench.sync_data import insert_pickups

WRITERS = 6
TRANSACTIONS_PER_WRITER = 25


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_puller_racing_concurrent_writers_never_skips_a_change(app, db, hub, driver):
    insert_pickups(1, hub_id=hub.id, driver_ids=[driver.id])
    db.session.commit()
    pickup_id = db.session.execute(select(SyncTombstone.pickup_id)).scalars().first()
    committed: set[int] = set()
    abandoned: set[int] = set()
    lock = threading.Lock()
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for n in range(TRANSACTIONS_PER_WRITER):
                with app.app_context():
                    numbers = take_change_numbers(rng.randint(1, 3))
                    rows = [{"driver_id": driver.id, "pickup_id": pickup_id, "change_seq": number, "reason": "reassigned"} for number in numbers]
                    _db.session.execute(insert(SyncTombstone), rows)
                    # Hold the numbers a while, so commits overtake each other.
                    time.sleep(rng.uniform(0, 0.03))
                    if n % 7 == 3:
                        _db.session.rollback()  # a failed push: its numbers are never used
                        with lock:
                            abandoned.update(numbers)
                    else:
                        _db.session.commit()
                        with lock:
                            committed.update(numbers)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    seen: list[int] = []
    cursors: list[int] = []

    def pull_once(cursor: int) -> int:
        with app.app_context():
            head = max(cursor, last_change_number())
            _, left = delta_queries(driver.id, cursor, head)
            seen.extend(number for _, number, _ in _db.session.execute(left))
            _db.session.rollback()
        cursors.append(head)
        return head

    def puller() -> None:
        cursor = first_number - 1
        try:
            while not writers_done.is_set():
                cursor = pull_once(cursor)
            pull_once(cursor)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    with app.app_context():
        first_number = newest_change_number() + 1
    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    pulling = threading.Thread(target=puller)
    pulling.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writers_done.set()
    pulling.join()

    assert not errors, errors
    tombstone_numbers = committed
    assert len(seen) == len(set(seen)), "a change was sent twice"
    assert set(seen) == tombstone_numbers, f"skipped: {sorted(tombstone_numbers - set(seen))[:20]}"
    assert not abandoned & set(seen)
    # The puller really raced the writers: it moved its cursor many times while they wrote.
    assert len(set(cursors)) > 10
    assert cursors == sorted(cursors)
    # Once nothing is in flight, the watermark reaches the newest number handed out.
    with app.app_context():
        assert last_change_number() == newest_change_number() >= max(committed | abandoned)


def test_numbers_taken_in_one_transaction_are_visible_to_it_and_ascend(app, db):
    first = take_change_numbers(3)
    second = take_change_numbers(1)
    assert first == sorted(first) and len(set(first)) == 3 and second[0] > first[-1]
    # Our own changes count: the watermark includes what this transaction numbered.
    assert last_change_number() >= second[0]
    db.session.commit()
    assert last_change_number() == newest_change_number() == second[0]


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_writer_announces_no_number_above_the_first_it_draws(app, db):
    # Announcing and drawing are one statement: the announcement must still be there, and come first
    # (a lowest number announced above the first one drawn would let the watermark pass it).
    take_change_numbers(1)
    db.session.commit()
    numbers = take_change_numbers(3)
    announced = db.session.execute(
        text(
            "SELECT ((classid::bigint << 32) | objid::bigint) & 1099511627775 FROM pg_locks"
            " WHERE locktype = 'advisory' AND objsubid = 1 AND pid = pg_backend_pid()"
        )
    ).scalars().all()
    assert announced and min(announced) <= numbers[0]
    db.session.rollback()
