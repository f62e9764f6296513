"""The global change sequence behind delta pulls."""
from __future__ import annotations

from sqlalchemy import select, update

from app.extensions import db
from app.sync.models import ChangeCounter


def take_change_numbers(count: int = 1) -> range:
    """Reserve ``count`` consecutive change numbers in this transaction."""
    new_last = db.session.execute(
        update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + count).returning(ChangeCounter.value)
    ).scalar_one()
    return range(new_last - count + 1, new_last + 1)


def last_change_number() -> int:
    """The newest change number committed (or taken by this transaction).

    Read from the row, not the identity map: numbers taken in this session by
    an UPDATE statement would not show in an already loaded object.
    """
    return db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0
