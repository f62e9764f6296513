"""The global change sequence behind delta pulls."""
from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.sync.models import ChangeCounter


def take_change_numbers(count: int = 1) -> range:
    """Reserve ``count`` consecutive change numbers in this transaction."""
    new_last = db.session.execute(
        update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + count).returning(ChangeCounter.value)
    ).scalar_one()
    return range(new_last - count + 1, new_last + 1)


def last_change_number() -> int:
    counter = db.session.get(ChangeCounter, 1)
    return counter.value if counter else 0
