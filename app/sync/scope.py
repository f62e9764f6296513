"""Which pickups are on a driver's phone, and how leaving that scope reaches the phone.

A driver's scope is their pickups minus the cancelled ones and minus finished
ones that aged out. A pull sends a ``put`` for every pickup in scope that
changed after the cursor and a ``delete`` for every one that left it:

- reassigned or unassigned: the pickup's ``driver_id`` no longer names the
  driver, so ``record_scope_exit`` (subscribed to the pickups' assignment
  events, see ``app.sync.subscribers``) leaves a tombstone with a change number;
- cancelled: the pickup itself changed (new change number) and is out of scope;
- finished and aged out: ``age_out_finished_pickups`` gives it a new change
  number once its last change is older than ``SYNC_FINISHED_VISIBLE_HOURS``.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.pickups.changes import stamp_where, take_change_numbers
from app.pickups.models import Pickup, PickupStatus
from app.sync.models import SyncState, SyncTombstone

# Done for the driver: shown greyed on the phone for a while, then aged out.
FINISHED_STATUSES = (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED, PickupStatus.FAILED, PickupStatus.RECEIVED)
# On the route until done: everything a driver can hold that is neither finished nor cancelled.
OPEN_STATUSES = tuple(status for status in PickupStatus if status not in FINISHED_STATUSES and status is not PickupStatus.CANCELLED)
# The sweep runs at most this often; scope uses the sweep's watermark, so it stays consistent.
SWEEP_EVERY = timedelta(seconds=60)


def record_scope_exit(pickup_id: int, driver_id: int, reason: str) -> None:
    """Tell ``driver_id``'s next pull to delete this pickup (it was reassigned or unassigned)."""
    db.session.add(
        SyncTombstone(driver_id=driver_id, pickup_id=pickup_id, change_seq=take_change_numbers(1)[0], reason=reason)
    )


def was_in_scope_of(pickup_id: int, driver_id: int) -> bool:
    """True when the pickup was once on this driver's route and was taken off it."""
    return (
        db.session.scalar(
            select(SyncTombstone.id).where(SyncTombstone.driver_id == driver_id, SyncTombstone.pickup_id == pickup_id).limit(1)
        )
        is not None
    )


def in_scope(pickup: Pickup, driver_id: int, hidden_before: datetime | None) -> bool:
    """Whether this pickup belongs on ``driver_id``'s phone right now."""
    if pickup.driver_id != driver_id or pickup.status is PickupStatus.CANCELLED:
        return False
    if pickup.status in FINISHED_STATUSES and hidden_before is not None:
        return pickup.updated_at >= hidden_before
    return True


def scope_parts(driver_id: int, hidden_before: datetime | None) -> list[ColumnElement[bool]]:
    """``in_scope`` as SQL, in parts that do not overlap: the driver's open pickups, and their finished ones still shown.

    Each part is one range of ``ix_pickups_driver_status_updated``, so a reset
    pull reads the route and not the driver's whole history.
    """
    mine = Pickup.driver_id == driver_id
    if hidden_before is None:
        return [mine & Pickup.status.in_(OPEN_STATUSES + FINISHED_STATUSES)]
    return [mine & Pickup.status.in_(OPEN_STATUSES), mine & Pickup.status.in_(FINISHED_STATUSES) & (Pickup.updated_at >= hidden_before)]


def scope_exit_reason(pickup: Pickup, driver_id: int) -> str:
    """Why a changed pickup is no longer on this driver's phone (the delete's ``reason``)."""
    if pickup.driver_id != driver_id:
        return "reassigned" if pickup.driver_id else "unassigned"
    if pickup.status is PickupStatus.CANCELLED:
        return "cancelled"
    return "finished"


def sync_state() -> SyncState:
    """The single bookkeeping row, created on first use."""
    query = select(SyncState).where(SyncState.id == 1)
    state = db.session.scalar(query)
    if state is None:
        dialect = db.session.get_bind().dialect.name
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(SyncState).values(id=1, tombstones_purged_through=0)
        db.session.execute(statement.on_conflict_do_nothing(index_elements=["id"]))
        state = db.session.scalars(query).one()
    return state


def age_out_finished_pickups(now: datetime, visible_for: timedelta) -> datetime | None:
    """Give finished pickups that just aged out a change number; answer the current watermark.

    Cheap: it looks only at pickups whose last change falls between the previous
    sweep and now (an index range on ``updated_at``), and runs at most once a
    minute across all drivers.
    """
    state = sync_state()
    cutoff = now - visible_for
    previous = state.finished_hidden_before
    if previous is not None and cutoff - previous < SWEEP_EVERY:
        return previous
    # Someone else may be sweeping (PostgreSQL: their row lock); then theirs will do.
    locked = select(SyncState).where(SyncState.id == 1).with_for_update(skip_locked=True)
    claimed = db.session.scalars(locked.execution_options(populate_existing=True)).one_or_none()
    if claimed is None or (claimed.finished_hidden_before is not None and cutoff - claimed.finished_hidden_before < SWEEP_EVERY):
        return previous
    state = claimed
    if state.finished_hidden_before is not None:
        stamp_where(
            Pickup.updated_at >= state.finished_hidden_before,
            Pickup.updated_at < cutoff,
            Pickup.driver_id.is_not(None),
            Pickup.status.in_(FINISHED_STATUSES),
        )
    state.finished_hidden_before = cutoff
    return cutoff
