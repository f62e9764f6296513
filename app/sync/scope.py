"""Which pickups are on a driver's phone, and how leaving that scope reaches the phone.

A driver's phone carries their days: today and ``SYNC_DAYS_AHEAD`` days ahead,
counted in the driver's hub's timezone (``app.pickups.days``). Its scope is the
driver's pickups, not cancelled, whose window starts on one of those days, plus
those of past days the driver still holds open (they stay until done or taken
off the route) and those of past days finished less than
``SYNC_FINISHED_VISIBLE_HOURS`` ago (so "Done today" shows them). Pickups of
later days are not sent yet. A pull sends a ``put`` for every pickup in scope
that changed after the cursor and a ``delete`` for every one that left it:

- reassigned or unassigned: the pickup's ``driver_id`` no longer names the
  driver, so ``record_scope_exit`` (subscribed to the pickups' assignment
  events, see ``app.sync.subscribers``) leaves a tombstone with a change number;
- cancelled, or moved to a later day: the pickup itself changed (new change
  number) and is out of scope;
- finished and aged out: ``age_out_finished_pickups`` gives it a new change
  number once its last change is older than ``SYNC_FINISHED_VISIBLE_HOURS``;
- a day passed (or the setting changed): ``carry_days`` moves the driver's days
  and gives every pickup whose window lies between the old and the new edges a
  change number, in the same transaction, so pickups entering the days arrive
  as puts and finished ones leaving them as deletes, and no cursor skips them.

The scope is always judged by the stored days and the sweep's watermark, never
by the clock, so it agrees with the change numbers the sweeps gave out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.accounts.models import User
from app.extensions import db
from app.pickups.changes import stamp_where, take_change_numbers
from app.pickups.days import day_of, days_range, driver_timezone
from app.pickups.models import Pickup, PickupStatus
from app.sync.models import SyncDriverDays, SyncState, SyncTombstone

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


@dataclass(frozen=True)
class Scope:
    """What one driver's phone holds: their days (``days_start`` ≤ window start < ``days_end``) and the finished watermark."""

    driver_id: int
    days_start: datetime
    days_end: datetime
    hidden_before: datetime | None


def in_scope(pickup: Pickup, scope: Scope) -> bool:
    """Whether this pickup belongs on the driver's phone right now."""
    if pickup.driver_id != scope.driver_id or pickup.status is PickupStatus.CANCELLED:
        return False
    if pickup.window_start >= scope.days_end:
        return False  # a later day: it comes when its day is near
    if pickup.window_start >= scope.days_start:
        return True  # one of the driver's days, done or not ("Done today")
    # A past day: still held while open; once finished, shown a while, then gone.
    if pickup.status in FINISHED_STATUSES and scope.hidden_before is not None:
        return pickup.updated_at >= scope.hidden_before
    return True


def scope_parts(scope: Scope) -> list[ColumnElement[bool]]:
    """``in_scope`` as SQL, in parts that do not overlap: the driver's days, past days still open, past days just finished.

    Each part is one index range (``ix_pickups_driver_window`` for the days,
    ``ix_pickups_driver_status_updated`` for the rest), so a reset pull reads the
    route and not the driver's whole history.
    """
    mine = Pickup.driver_id == scope.driver_id
    # A past day is most of a driver's history: it must narrow the status range, never be read as a
    # range of the window index (SQLite chose that), so it is written where no index can serve it.
    past = func.coalesce(Pickup.window_start, Pickup.window_start) < scope.days_start
    days = mine & (Pickup.window_start >= scope.days_start) & (Pickup.window_start < scope.days_end) & (Pickup.status != PickupStatus.CANCELLED)
    still_open = mine & Pickup.status.in_(OPEN_STATUSES) & past
    finished = mine & Pickup.status.in_(FINISHED_STATUSES) & past
    if scope.hidden_before is not None:
        finished = finished & (Pickup.updated_at >= scope.hidden_before)
    return [days, still_open, finished]


def scope_exit_reason(pickup: Pickup, scope: Scope) -> str:
    """Why a changed pickup is no longer on this driver's phone (the delete's ``reason``)."""
    if pickup.driver_id != scope.driver_id:
        return "reassigned" if pickup.driver_id else "unassigned"
    if pickup.status is PickupStatus.CANCELLED:
        return "cancelled"
    if pickup.window_start >= scope.days_end:
        return "later"
    return "finished"


def carry_days(driver: User, now: datetime, days_ahead: int) -> None:
    """Move the driver's days to today … today + ``days_ahead`` (their hub's calendar); stamp the pickups that cross an edge.

    Nothing to do on all but the first pull after midnight. The first pull ever
    counts as moving from "everything is a past day" (the scope before days
    existed), so every pickup from today on is stamped once.
    """
    tz_name = driver_timezone(driver)
    start, end = days_range(day_of(now, tz_name), days_ahead, tz_name)
    stored = db.session.get(SyncDriverDays, driver.id, populate_existing=True)
    if stored is not None and (stored.days_start, stored.days_end) == (start, end):
        return
    if stored is None:
        dialect = db.session.get_bind().dialect.name
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(SyncDriverDays).values(
            driver_id=driver.id, days_start=start, days_end=end
        )
        created = cast(CursorResult[Any], db.session.execute(statement.on_conflict_do_nothing(index_elements=["driver_id"])))
        if created.rowcount:
            stamp_where(Pickup.driver_id == driver.id, Pickup.status != PickupStatus.CANCELLED, Pickup.window_start >= start)
            return
    # Another pull of this driver may be moving them too: the row lock makes it one move, not two.
    locked = select(SyncDriverDays).where(SyncDriverDays.driver_id == driver.id).with_for_update()
    row = db.session.scalars(locked.execution_options(populate_existing=True)).one()
    old_start, old_end = row.days_start, row.days_end
    if (old_start, old_end) == (start, end):
        return
    crossing = []
    if old_start != start:
        # Across the start edge only finished pickups change sides: an open one is held either way.
        low, high = min(old_start, start), max(old_start, start)
        crossing.append(and_(Pickup.window_start >= low, Pickup.window_start < high, Pickup.status.in_(FINISHED_STATUSES)))
    if old_end != end:
        low, high = min(old_end, end), max(old_end, end)
        crossing.append(and_(Pickup.window_start >= low, Pickup.window_start < high))
    stamp_where(Pickup.driver_id == driver.id, Pickup.status != PickupStatus.CANCELLED, or_(*crossing))
    row.days_start, row.days_end = start, end


def current_scope(driver_id: int) -> Scope:
    """The scope as committed now (read afresh: call it after the pull's watermark, see ``app.sync.services``)."""
    days = db.session.scalars(
        select(SyncDriverDays).where(SyncDriverDays.driver_id == driver_id).execution_options(populate_existing=True)
    ).one()
    state = db.session.scalars(select(SyncState).where(SyncState.id == 1).execution_options(populate_existing=True)).one()
    return Scope(driver_id, days.days_start, days.days_end, state.finished_hidden_before)


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
