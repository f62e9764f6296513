from __future__ import annotations

from sqlalchemy import BigInteger, Integer, event, insert
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ChangeCounter(db.Model):
    """One row holding the last number of the global change sequence.

    Taking a number updates this row, which holds its lock until commit; so
    numbers are handed out in commit order and a delta pull can never skip a
    change committed late by a slower transaction.
    """

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


@event.listens_for(ChangeCounter.__table__, "after_create")
def _seed_counter(table, connection, **kw):  # type: ignore[no-untyped-def]
    # The migration seeds the row too; create_all (tests) needs it as well.
    connection.execute(insert(table).values(id=1, value=0))
