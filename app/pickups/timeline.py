"""The pickup's timeline: an append-only trail of what happened, by whom, when and where.

Every status change writes an entry; so does every driver action received by
sync, with the device's clock and location beside the server's receipt time.

Entries are buffered and written together, one multi-row insert per flush,
because a sync push of 500 actions or a CSV import of 20,000 pickups would
otherwise spend most of its time building ORM objects. The buffer behaves like
the session's pending objects: it is written when the session flushes, before
any query reads the database (so ``pickup.events`` is never stale) and before
commit; a rollback forgets it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.models import utcnow
from app.core.transactions import transaction_buffer
from app.extensions import db
from app.pickups.models import Pickup, PickupEvent, PickupStatus

if TYPE_CHECKING:
    from app.accounts.models import User

_PENDING = transaction_buffer("backhaul.timeline")


@dataclass(frozen=True)
class Evidence:
    """Where and when a person in the field did something, as their device says, and when we heard of it."""

    server_time: datetime
    device_time: datetime | None = None
    clock_skew_seconds: int | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    client_id: str | None = None
    mutation_id: int | None = None
    # Facts about the report itself (the version the phone saw, an unusable clock): kept in the entry's data.
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Entry:
    """One timeline entry on its way to the database.

    Whoever needs its ``id`` once it is written (to link photos to it) says so
    with ``needs_id``: reading ids back costs a round trip per row on SQLite.
    """

    pickup: Pickup
    row: dict[str, Any]
    id: int | None = None
    needs_id: bool = False


def record_event(
    pickup: Pickup,
    kind: str,
    *,
    actor: User | None = None,
    actor_id: int | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
    from_status: PickupStatus | None = None,
    to_status: PickupStatus | None = None,
    needs_review: bool = False,
    evidence: Evidence | None = None,
    **evidence_fields: Any,
) -> Entry:
    """Append one entry to the pickup's timeline (written with the next flush).

    ``evidence`` (or its fields as keywords: ``device_time``, ``lat`` …) says
    where and when it happened in the field.
    """
    if evidence is None and evidence_fields:
        evidence = Evidence(server_time=evidence_fields.pop("server_time", None) or utcnow(), **evidence_fields)
    data = dict(data or {})
    if evidence is not None:
        data.update(evidence.notes)
    row = {
        "kind": kind,
        "actor_id": actor.id if actor is not None else actor_id,
        "message": message,
        "data": data,
        "from_status": from_status.value if from_status else None,
        "to_status": to_status.value if to_status else None,
        "needs_review": needs_review,
        "server_time": evidence.server_time if evidence else utcnow(),
        "device_time": evidence.device_time if evidence else None,
        "clock_skew_seconds": evidence.clock_skew_seconds if evidence else None,
        "lat": evidence.lat if evidence else None,
        "lon": evidence.lon if evidence else None,
        "accuracy_m": evidence.accuracy_m if evidence else None,
        "client_id": evidence.client_id if evidence else None,
        "mutation_id": evidence.mutation_id if evidence else None,
    }
    entry = Entry(pickup, row)
    db.session.info.setdefault(_PENDING, []).append(entry)
    return entry


def pending_entries(pickup: Pickup, kind: str) -> list[Entry]:
    """Entries of ``kind`` recorded for this pickup in this transaction and not yet written."""
    return [entry for entry in db.session.info.get(_PENDING, ()) if entry.pickup is pickup and entry.row["kind"] == kind]


def write_timeline(session: Session | None = None, *, flush: bool = True) -> None:
    """Write every buffered entry now (their ``id`` is set): one insert for all of them.

    Entries of pickups not yet inserted need a flush first; with ``flush=False``
    (while the session is flushing or reading) they wait for the next chance.
    """
    session = session or db.session()
    if not session.info.get(_PENDING):
        return
    if any(_pickup_id(entry) is None for entry in session.info[_PENDING]):
        if not flush:
            return
        session.flush()  # new pickups get their ids, and the flush writes the buffer
    entries: list[Entry] = session.info.pop(_PENDING, [])
    if not entries:
        return
    # On the connection: this runs while the session flushes or reads, where ORM execution would recurse.
    # render_nulls: one executemany for all rows, not one per pattern of empty columns.
    connection, statement = session.connection(), insert(PickupEvent).execution_options(render_nulls=True)
    # Rows go in in the order they were recorded (the timeline's order is its ids'), one
    # executemany per run of entries that do or do not need their id read back.
    for needs_id, run in groupby(entries, key=lambda entry: entry.needs_id):
        batch = list(run)
        if needs_id:
            returning = statement.returning(PickupEvent.id, sort_by_parameter_order=True)
            ids = connection.execute(returning, [_row(entry) for entry in batch]).scalars().all()
            for entry, event_id in zip(batch, ids, strict=True):
                entry.id = event_id
        else:
            connection.execute(statement, [_row(entry) for entry in batch])
    pickups = {id(entry.pickup): entry.pickup for entry in entries}
    for pickup in pickups.values():
        if "events" in pickup.__dict__:  # a loaded timeline would miss the new entries
            session.expire(pickup, ["events"])


def _row(entry: Entry) -> dict[str, Any]:
    return {**entry.row, "pickup_id": _pickup_id(entry)}


def _pickup_id(entry: Entry) -> int | None:
    # From the identity map, not the attribute: reading an expired pickup's id would
    # query, and a query writes the buffer first, which would ask for the id again.
    identity = inspect(entry.pickup).identity
    return identity[0] if identity else None


@event.listens_for(Session, "after_flush_postexec")
def _write_after_flush(session: Session, flush_context: Any) -> None:
    write_timeline(session, flush=False)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(state: ORMExecuteState) -> None:
    # Like autoflush: a query must see what this transaction recorded.
    # The query's own autoflush has already run, so new pickups have their ids.
    if state.session.info.get(_PENDING) and state.is_select and state.session.autoflush:
        write_timeline(state.session, flush=False)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_timeline(session)

