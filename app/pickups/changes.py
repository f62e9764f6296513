"""The change sequence: every pickup change a phone could see gets a number, for delta pulls.

A change is a new ``version`` of the pickup (sync mutations carry the version
they saw) and a new ``change_seq``. Numbers are handed out in commit order
(taking one locks the counter row until commit), so a pull that read up to N
can never later find a change numbered N or below.

``touch`` gives the pickup its new version and number at once. Inside
``numbered_together()`` (a sync push, a CSV import) the numbers of everything
touched are taken together when the session flushes: one statement for the
whole batch, and the counter row locked as late as possible.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, event, select, update
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


def take_change_numbers(count: int = 1, session: Session | None = None) -> range:
    """Reserve ``count`` consecutive change numbers in this transaction."""
    session = session or db.session()
    table = cast(Table, ChangeCounter.__table__)
    # On the connection, not through the ORM: this also runs while the session flushes.
    new_last = session.connection().execute(
        update(table).where(table.c.id == 1).values(value=table.c.value + count).returning(table.c.value)
    ).scalar_one()
    return range(new_last - count + 1, new_last + 1)


def last_change_number() -> int:
    """The newest change number committed (or taken by this transaction).

    Read from the row, not the identity map: numbers are taken by an UPDATE
    statement, which an already loaded object would not show.
    """
    return db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0


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
