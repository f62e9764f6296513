"""Domain events: a pickup change announces itself once, in the same transaction as the change.

Pickups is the only writer of pickup facts; the domains above it react to what
happened here without pickups knowing them: sync leaves tombstones when a
pickup leaves a driver's phone, labels gives a new pickup its label code and
customer link, and messages to customers and other systems hang here too.
Subscribers live in each domain's ``subscribers.py`` and are wired once in ``create_app``.

Each event is named in the past tense for what happened in the domain. A
signal is sent with the list of events of one kind (``events=[...]``), so a CSV
import of 20,000 pickups is one announcement, and one pickup is the one-row case.

Two moments to react:
- the event's own signal, during the transaction: what a subscriber writes
  there is committed or rolled back with the change;
- ``pickup_events_committed``, after commit, with every event of the
  transaction as a ``CommittedEvent`` (for what must never happen for a change
  that was rolled back: waking another process, a live board). These are plain
  values: after the commit the pickups' ORM objects are expired and must not
  be read.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from blinker import Namespace
from sqlalchemy.orm import Session

from app.core.transactions import after_commit, before_commit, transaction_buffer
from app.extensions import db
from app.pickups.models import FailureReason, Pickup, PickupStatus

signals = Namespace()


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened to a pickup (a timeline row is ``models.PickupEvent``; this is the announcement)."""

    pickup: Pickup
    actor_id: int | None


@dataclass(frozen=True)
class PickupCreated(DomainEvent):
    source: str = "created"  # created (form, API), imported (CSV), demo


@dataclass(frozen=True)
class PickupEdited(DomainEvent):
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class PickupAssigned(DomainEvent):
    driver_id: int = 0
    previous_driver_id: int | None = None  # set on a reassignment


@dataclass(frozen=True)
class PickupUnassigned(DomainEvent):
    previous_driver_id: int | None = None


@dataclass(frozen=True)
class RouteOrdered(DomainEvent):
    """The pickup's place on its driver's route changed."""

    route_position: int | None = None


@dataclass(frozen=True)
class PickupCancelled(DomainEvent):
    reason: str = ""
    by_customer: bool = False


@dataclass(frozen=True)
class AccessNotesChanged(DomainEvent):
    """The customer wrote new access notes (gate code, floor) for the driver."""


@dataclass(frozen=True)
class DriverArrived(DomainEvent):
    pass


@dataclass(frozen=True)
class LabelScanned(DomainEvent):
    pass


@dataclass(frozen=True)
class PickupCollected(DomainEvent):
    status: PickupStatus = PickupStatus.COLLECTED  # or partially_collected
    reopened: bool = False  # it had failed earlier and the driver came back


@dataclass(frozen=True)
class PickupFailed(DomainEvent):
    reason: FailureReason = FailureReason.OTHER


@dataclass(frozen=True)
class DriverNoted(DomainEvent):
    pass


@dataclass(frozen=True)
class FieldConflictRecorded(DomainEvent):
    """A driver's action could not be applied; what they recorded was kept on the timeline."""

    code: str = ""
    needs_review: bool = False


@dataclass(frozen=True)
class PickupReceived(DomainEvent):
    pass


@dataclass(frozen=True)
class PickupRebooked(DomainEvent):
    """A new window was chosen (by the customer from their page, or by staff); the pickup is back with dispatch."""

    by_customer: bool = True
    previous_status: PickupStatus = PickupStatus.FAILED


@dataclass(frozen=True)
class PersonalDataRemoved(DomainEvent):
    """The retention purge removed the customer's personal data; the anonymous facts stay."""


@dataclass(frozen=True)
class CommittedEvent:
    """A domain event as plain values, for those who hear of it after the commit."""

    name: str  # the event's class name, e.g. "PickupCollected"
    pickup_id: int
    data: dict[str, Any]


def _snapshot(event: DomainEvent) -> CommittedEvent:
    values = {f.name: getattr(event, f.name) for f in fields(event) if f.name != "pickup"}
    plain = {key: value.value if isinstance(value, enum.Enum) else value for key, value in values.items()}
    return CommittedEvent(type(event).__name__, event.pickup.id, plain)


pickup_created = signals.signal("pickup-created")
pickup_edited = signals.signal("pickup-edited")
pickup_assigned = signals.signal("pickup-assigned")
pickup_unassigned = signals.signal("pickup-unassigned")
route_ordered = signals.signal("route-ordered")
pickup_cancelled = signals.signal("pickup-cancelled")
access_notes_changed = signals.signal("access-notes-changed")
driver_arrived = signals.signal("driver-arrived")
label_scanned = signals.signal("label-scanned")
pickup_collected = signals.signal("pickup-collected")
pickup_failed = signals.signal("pickup-failed")
driver_noted = signals.signal("driver-noted")
field_conflict_recorded = signals.signal("field-conflict-recorded")
pickup_received = signals.signal("pickup-received")
pickup_rebooked = signals.signal("pickup-rebooked")
personal_data_removed = signals.signal("personal-data-removed")
# After commit, with every event of the transaction in order.
pickup_events_committed = signals.signal("pickup-events-committed")

SIGNALS = {
    PickupCreated: pickup_created,
    PickupEdited: pickup_edited,
    PickupAssigned: pickup_assigned,
    PickupUnassigned: pickup_unassigned,
    RouteOrdered: route_ordered,
    PickupCancelled: pickup_cancelled,
    AccessNotesChanged: access_notes_changed,
    DriverArrived: driver_arrived,
    LabelScanned: label_scanned,
    PickupCollected: pickup_collected,
    PickupFailed: pickup_failed,
    DriverNoted: driver_noted,
    FieldConflictRecorded: field_conflict_recorded,
    PickupReceived: pickup_received,
    PickupRebooked: pickup_rebooked,
    PersonalDataRemoved: personal_data_removed,
}

_ANNOUNCED = transaction_buffer("backhaul.pickup_events")


@dataclass
class _Announced:
    events: list[DomainEvent] = field(default_factory=list)
    committed: list[CommittedEvent] = field(default_factory=list)

    def capture(self, session: Session) -> None:
        # Just before the commit: every pickup has its id, and is still readable.
        session.flush()
        self.committed = [_snapshot(event) for event in self.events]

    def deliver(self) -> None:
        pickup_events_committed.send(None, events=self.committed)


def announce(events: Iterable[DomainEvent]) -> None:
    """Tell the subscribers what happened: one send per kind of event, in the order given."""
    by_kind: dict[type[DomainEvent], list[DomainEvent]] = {}
    for announced_event in events:
        by_kind.setdefault(type(announced_event), []).append(announced_event)
    if not by_kind:
        return
    for kind, batch in by_kind.items():
        SIGNALS[kind].send(None, events=batch)
    announced = db.session.info.get(_ANNOUNCED)
    if announced is None:
        announced = db.session.info[_ANNOUNCED] = _Announced()
        before_commit("pickup-events", announced.capture)
        after_commit(announced.deliver)
    announced.events.extend(event for batch in by_kind.values() for event in batch)

