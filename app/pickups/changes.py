"""The change sequence: every pickup change a phone could see gets a number, for delta pulls.

A change is a new ``version`` of the pickup (sync mutations carry the version
they saw) and a new ``change_seq``. The pull promises that no change is ever
skipped by a cursor: a pull that answered up to N can never later find a change
numbered N or below. ``last_change_number`` is that N, the *watermark*.

PostgreSQL: numbers come from the ``change_numbers`` sequence, so writers never
wait for each other (one counter row, locked until commit, used to be 78% of a
busy push). Numbers are then taken in one order and committed in another, so
each writing transaction first announces the lowest number it could get, as a
shared advisory lock held until it ends; pg_locks is the list of transactions
in flight. The watermark is the newest number handed out, held just below the
lowest number still in flight. A writer announces *before* it draws, and the
watermark reads the sequence *before* the announcements, so a writer missed by
that read can only draw numbers above the watermark. Its locks go away after
its commit became visible, so the pull's next statement sees every change at
or below the watermark. A long transaction (a big CSV import) holds the
watermark back while it runs: pulls see later changes once it ends, and nobody
waits.

SQLite: one writer at a time anyway, so a counter row (``change_counter``)
hands out numbers in commit order and is the watermark itself.

``touch`` gives the pickup its new version and number at once. Inside
``numbered_together()`` (a sync push, a CSV import) the numbers of everything
touched are taken together when the session flushes: one statement for the
whole batch, and the counter row locked as late as possible.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, event, select, text, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.pickups.models import ChangeCounter, Pickup

_TOUCHED = "backhaul.touched_pickups"
_TOGETHER = "backhaul.numbered_together"


def touch(pickup: Pickup) -> None:
    """Mark a change drivers could see: a new version and a new change number."""
    pickup.version = (pickup.version or 0) + 1
    info = db.session.info
    if info.get(_TOGETHER):
        info.setdefault(_TOUCHED, {})[id(pickup)] = pickup
    else:
        pickup.change_seq = take_change_numbers(1)[0]


@contextmanager
def numbered_together() -> Iterator[None]:
    """Within this block, pickups touched get their change numbers together, at the next flush."""
    info = db.session.info
    info[_TOGETHER] = info.get(_TOGETHER, 0) + 1
    try:
        yield
    finally:
        info[_TOGETHER] -= 1
    if not info[_TOGETHER]:
        stamp_touched(db.session())


# Announcement keys: the sequence's own oid in the high bits, so test schemas and databases
# sharing a server never hold each other's watermark back; the writer's lowest number below.
_NAMESPACE = "('change_numbers'::regclass::oid::bigint & 8388607)"
_NUMBER_BITS = 40
# Announce, then draw, in one round trip: the announcement is an uncorrelated subquery in the WHERE
# clause, which PostgreSQL evaluates once, before any row passes the filter (a one-time filter, and
# a row's filter always runs before its select list), so before the first ``nextval``. The lock
# function returns void, which is not NULL: the filter passes.
_ANNOUNCE_AND_DRAW = text(
    "SELECT nextval('change_numbers') FROM generate_series(1, :count) WHERE ("
    f"SELECT pg_advisory_xact_lock_shared(({_NAMESPACE} << {_NUMBER_BITS}) "
    "| CASE WHEN is_called THEN last_value + 1 ELSE last_value END) FROM change_numbers"
    ") IS NOT NULL"
)
_NEWEST = text("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM change_numbers")
# Our own transaction's changes are visible to us, so its announcement does not hold us back.
_LOWEST_IN_FLIGHT = text(
    f"SELECT min(key & {(1 << _NUMBER_BITS) - 1}) FROM ("
    "SELECT (classid::bigint << 32) | objid::bigint AS key FROM pg_locks"
    " WHERE locktype = 'advisory' AND objsubid = 1 AND pid <> pg_backend_pid()"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    f") AS announced WHERE key >> {_NUMBER_BITS} = {_NAMESPACE}"
)


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def take_change_numbers(count: int = 1, session: Session | None = None) -> list[int]:
    """Reserve ``count`` change numbers (ascending) for this transaction."""
    session = session or db.session()
    # On the connection, not through the ORM: this also runs while the session flushes.
    connection = session.connection()
    if _on_postgresql(session):
        return sorted(connection.execute(_ANNOUNCE_AND_DRAW, {"count": count}).scalars())
    table = cast(Table, ChangeCounter.__table__)
    new_last = connection.execute(
        update(table).where(table.c.id == 1).values(value=table.c.value + count).returning(table.c.value)
    ).scalar_one()
    return list(range(new_last - count + 1, new_last + 1))


def newest_change_number() -> int:
    """The newest number handed out, committed or not: a cursor above it is not one of ours."""
    session = db.session()
    if _on_postgresql(session):
        return session.execute(_NEWEST).scalar_one()
    return session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0


def last_change_number() -> int:
    """The watermark: every change numbered at or below it is committed and visible to the next statement.

    (Changes of this transaction count as well.) Read from the database, not the
    identity map: numbers are taken by statements an already loaded object would not show.
    """
    newest = newest_change_number()
    session = db.session()
    if not _on_postgresql(session):
        return newest
    lowest_in_flight = session.execute(_LOWEST_IN_FLIGHT).scalar()
    return newest if lowest_in_flight is None else min(newest, lowest_in_flight - 1)


def advance_change_numbers(last: int) -> None:
    """Make sure numbers up to ``last`` are never handed out again (bulk loaders that number rows themselves)."""
    session = db.session()
    if _on_postgresql(session):
        session.execute(text("SELECT setval('change_numbers', greatest(:last, (SELECT last_value FROM change_numbers)))"), {"last": last})
    else:
        session.execute(update(ChangeCounter).where(ChangeCounter.id == 1, ChangeCounter.value < last).values(value=last))


def stamp_where(*criteria: ColumnElement[bool]) -> None:
    """Give every pickup matching ``criteria`` one new change number, keeping ``updated_at``."""
    statement = (
        update(Pickup)
        .where(*criteria)
        # updated_at is when the pickup last changed, not when a phone was told about it.
        .values(change_seq=take_change_numbers(1)[0], updated_at=Pickup.updated_at)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(statement)


def stamp_touched(session: Session) -> None:
    """Stamp the pickups touched since the last flush (the session does it before it flushes)."""
    touched: dict[int, Pickup] = session.info.pop(_TOUCHED, {})
    if touched:
        for pickup, number in zip(touched.values(), take_change_numbers(len(touched), session), strict=True):
            pickup.change_seq = number


def forget_touched(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


@event.listens_for(Session, "before_flush")
def _stamp_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    stamp_touched(session)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    forget_touched(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: Any) -> None:
    forget_touched(session)
