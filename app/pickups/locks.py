"""Row locks on pickups, taken once per transaction: whoever locked them says so, and nobody locks them twice.

A change of a pickup and the work that follows it in the same transaction
(the report's recount, ``app.reports.rollup``) both need the pickup locked, so
two transactions changing it take turns. The sync push locks its pickups when
it loads them; the recount before the commit then needs no second round trip.
A lock lasts until the transaction ends, so the list is one transaction's
(a rollback forgets it, and the next lock is taken again).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.transactions import transaction_buffer
from app.pickups.models import Pickup

_LOCKED = transaction_buffer("backhaul.locked_pickups")


def remember_locked(session: Session, pickup_ids: Iterable[int]) -> None:
    """These pickups' rows were locked ``FOR UPDATE`` in this transaction (by a query of the caller's)."""
    session.info.setdefault(_LOCKED, set()).update(pickup_ids)


def lock_pickups(session: Session, pickup_ids: Iterable[int]) -> None:
    """Lock these pickups' rows until the transaction ends (PostgreSQL), in id order; those already locked cost nothing."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the write transaction (BEGIN IMMEDIATE) already excludes every other writer
    locked: set[int] = session.info.setdefault(_LOCKED, set())
    todo = sorted(set(pickup_ids) - locked)
    if todo:
        # In id order, so two transactions locking overlapping pickups cannot deadlock each other.
        session.execute(select(Pickup.id).where(Pickup.id.in_(todo)).order_by(Pickup.id).with_for_update())
        locked.update(todo)
