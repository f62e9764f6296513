"""What a driver records at the door: arrival, label scan, collection, a failed attempt, a note.

The driver app's sync (``app.sync.mutations``) turns each queued action into
one call here; the rules live here, with the rest of the pickup's rules.
Every check that can refuse runs before the first attribute is set, so a
refusal leaves nothing half-done and needs no savepoint.

A refusal is a ``FieldActionRefused`` with a permanent code (the phone shows its
message and moves on). ``keep_facts`` says that what the driver recorded still
belongs on the pickup's timeline, flagged for review when goods or photos are
involved: a collection on a pickup cancelled meanwhile means goods in the van
that nobody expects.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import User
from app.core.errors import Conflict
from app.extensions import db
from app.pickups import events
from app.pickups.doorstep import doorstep
from app.pickups.models import FailureReason, Grade, Pickup, PickupEvent, PickupStatus
from app.pickups.services import change_status
from app.pickups.states import check_transition
from app.pickups.timeline import Entry, Evidence, pending_entries, record_event

COLLECTED_STATUSES = (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED, PickupStatus.RECEIVED)


class FieldActionRefused(Conflict):
    """A driver's action that can never be applied as sent."""

    def __init__(self, code: str, message: str, *, fields: dict[str, Any] | None = None, keep_facts: bool = False):
        super().__init__(message, fields=fields, code=code)
        self.keep_facts = keep_facts


@dataclass(frozen=True)
class CollectedItem:
    """One item as the driver found it: how many were handed over, in what condition."""

    item_id: int
    quantity: int
    grade: Grade | None
    notes: str | None
    photo_ids: Sequence[str]


@dataclass(frozen=True)
class FieldOutcome:
    message: str
    entry: Entry


def _hub_time(pickup: Pickup, when: datetime | None) -> str:
    if when is None:
        return ""
    return " at " + when.astimezone(ZoneInfo(pickup.hub.timezone or "UTC")).strftime("%H:%M")


def check_still_wanted(pickup: Pickup, *, keep_facts: bool) -> None:
    """Refuse field work on a pickup dispatch cancelled, saying when and why."""
    if pickup.status is not PickupStatus.CANCELLED:
        return
    cancelled_at = db.session.scalar(
        select(PickupEvent.server_time)
        .where(PickupEvent.pickup_id == pickup.id, PickupEvent.kind == "cancelled")
        .order_by(PickupEvent.id.desc())
        .limit(1)
    )
    reason = f" ({pickup.cancel_reason})" if pickup.cancel_reason else ""
    raise FieldActionRefused(
        "pickup_cancelled",
        f"Dispatch cancelled this pickup{_hub_time(pickup, cancelled_at)}{reason}."
        + (" What you recorded was kept for review." if keep_facts else ""),
        keep_facts=True,
    )


def record_arrival(pickup: Pickup, *, driver: User, evidence: Evidence) -> FieldOutcome:
    """The driver is at the address."""
    check_still_wanted(pickup, keep_facts=False)
    entry = record_event(pickup, "arrived", actor=driver, message="Driver arrived at the address.", evidence=evidence)
    events.announce([events.DriverArrived(pickup, driver.id)])
    return FieldOutcome("Arrival recorded.", entry)


def record_label_scan(pickup: Pickup, *, driver: User, evidence: Evidence) -> FieldOutcome:
    """The driver scanned this pickup's own label (the caller has matched the code)."""
    check_still_wanted(pickup, keep_facts=False)
    entry = record_event(
        pickup, "label_scanned", actor=driver, message="Label scanned.", data={"label_code": pickup.label_code}, evidence=evidence
    )
    events.announce([events.LabelScanned(pickup, driver.id)])
    return FieldOutcome("Label matches this pickup.", entry)


def label_was_scanned(pickup: Pickup) -> bool:
    """Whether the pickup's label has been scanned (earlier, or earlier in this transaction)."""
    if pending_entries(pickup, "label_scanned"):
        return True
    query = select(PickupEvent.id).where(PickupEvent.pickup_id == pickup.id, PickupEvent.kind == "label_scanned").limit(1)
    return db.session.scalar(query) is not None


def collect_pickup(
    pickup: Pickup,
    items: Sequence[CollectedItem],
    *,
    driver: User,
    evidence: Evidence,
    signature_photo_id: str | None = None,
    handed_over_by: str | None = None,
) -> FieldOutcome:
    """Record what the driver took: every item's quantity and grade, the signature, who handed it over."""
    check_still_wanted(pickup, keep_facts=True)
    if pickup.status in COLLECTED_STATUSES:
        raise FieldActionRefused(
            "already_collected", "This pickup was already recorded as collected. What you sent was kept for review.", keep_facts=True
        )
    expected = {item.id: item for item in pickup.items}
    entries = {entry.item_id: entry for entry in items}
    unknown = [item_id for item_id in entries if item_id not in expected]
    if unknown:
        raise FieldActionRefused(
            "unknown_item",
            "An item you collected is no longer on this pickup (dispatch changed it). What you sent was kept for review.",
            fields={"items": {str(i): ["Not on this pickup."] for i in unknown}},
            keep_facts=True,
        )
    too_many = {str(i): [f"Expected at most {expected[i].quantity}."] for i, e in entries.items() if e.quantity > expected[i].quantity}
    if too_many:
        raise FieldActionRefused(
            "too_many",
            "More was collected than this pickup expects. What you sent was kept for review; tell dispatch about the extra goods.",
            fields={"items": too_many},
            keep_facts=True,
        )
    # A grade is what the hub restocks or scraps by: it must come from the driver, never a default.
    ungraded = {str(i): ["Choose a grade (A, B, C or D)."] for i, e in entries.items() if e.quantity and e.grade is None}
    if ungraded:
        raise FieldActionRefused(
            "grade_required",
            "Every collected item needs the grade you gave it. What you sent was kept for review.",
            fields={"items": ungraded},
            keep_facts=True,
        )
    # At least one photo where the grade asks for photos. How many is the phone's to enforce, by the
    # settings it had at the door: a count raised since must not refuse work done while offline.
    settings = doorstep()
    missing_photo = {
        i: e.grade for i, e in entries.items() if e.quantity and e.grade is not None and settings.photos_needed(e.grade) and not e.photo_ids
    }
    if missing_photo:
        graded = " or ".join(sorted({grade.value for grade in missing_photo.values()}))
        raise FieldActionRefused(
            "photo_required",
            f"Items graded {graded} need a photo.",
            fields={"items": {str(i): [f"Grade {grade.value} needs a photo."] for i, grade in missing_photo.items()}},
            keep_facts=True,
        )
    if not any(e.quantity for e in entries.values()):
        raise FieldActionRefused(
            "nothing_collected",
            "Nothing was marked as collected. To say nothing could be collected, fail the pickup with a reason.",
            fields={"items": ["Every quantity is 0."]},
        )
    if pickup.scan_required and not label_was_scanned(pickup):
        raise FieldActionRefused(
            "scan_required",
            "Dispatch asked for the parcel's label to be scanned before this pickup is completed. Scan it, then complete again.",
            keep_facts=True,
        )
    if pickup.status not in (PickupStatus.ASSIGNED, PickupStatus.FAILED):
        raise FieldActionRefused(
            "invalid_status", f"This pickup is {pickup.status.value.replace('_', ' ')}; it cannot be collected now.", keep_facts=True
        )
    complete = all((entries[i.id].quantity if i.id in entries else 0) >= i.quantity for i in pickup.items)
    target = PickupStatus.COLLECTED if complete else PickupStatus.PARTIALLY_COLLECTED
    reopen = pickup.status is PickupStatus.FAILED
    check_transition(PickupStatus.ASSIGNED if reopen else pickup.status, target)

    # Every check passed: from here on, nothing refuses.
    for item in pickup.items:
        found = entries.get(item.id)
        item.collected_quantity = found.quantity if found else 0
        item.grade = found.grade if found and found.quantity else None
        item.condition_notes = (found.notes or None) if found else None
    if reopen:
        # The same driver failed it earlier and came back: the collection is the later fact.
        change_status(
            pickup, PickupStatus.ASSIGNED, actor=driver, kind="reopened", message="Reopened: the driver came back and collected.", evidence=evidence
        )
    collected = sum(item.collected_quantity or 0 for item in pickup.items)
    expected_count = sum(item.quantity for item in pickup.items)
    handed_over_by = (handed_over_by or "").strip() or None
    message = f"Collected {collected} of {expected_count} items" + (f", handed over by {handed_over_by}." if handed_over_by else ".")
    data = {
        "items": [
            {
                "item_id": i,
                "quantity": e.quantity,
                "grade": e.grade.value if e.grade else None,
                "notes": e.notes or None,
                "photo_ids": [str(p) for p in e.photo_ids],
            }
            for i, e in entries.items()
        ],
        "signature_photo_id": str(signature_photo_id) if signature_photo_id else None,
        "handed_over_by": handed_over_by,
    }
    entry = change_status(pickup, target, actor=driver, kind=target.value, message=message, data=data, evidence=evidence)
    events.announce([events.PickupCollected(pickup, driver.id, target, reopen)])
    return FieldOutcome(message, entry)


def fail_pickup(
    pickup: Pickup, reason: FailureReason, *, driver: User, evidence: Evidence, notes: str | None = None, photo_ids: Sequence[str] = ()
) -> FieldOutcome:
    """Record a visit that could not collect, with the reason the customer and dispatch will read."""
    keep = bool(photo_ids)
    check_still_wanted(pickup, keep_facts=keep)
    if pickup.status in COLLECTED_STATUSES:
        raise FieldActionRefused("already_collected", "This pickup was already recorded as collected.", keep_facts=keep)
    if pickup.status is PickupStatus.FAILED:
        raise FieldActionRefused("already_failed", "This pickup was already recorded as failed.", keep_facts=keep)
    if pickup.status is not PickupStatus.ASSIGNED:
        raise FieldActionRefused("invalid_status", f"This pickup is {pickup.status.value.replace('_', ' ')}; it cannot fail now.")
    notes = (notes or "").strip() or None
    message = f"Failed: {doorstep().failure_label(reason).lower()}" + (f" — {notes}" if notes else ".")
    data = {"reason": reason.value, "notes": notes, "photo_ids": [str(p) for p in photo_ids]}
    entry = change_status(pickup, PickupStatus.FAILED, actor=driver, kind="failed", message=message, data=data, evidence=evidence)
    pickup.failure_reason = reason
    pickup.failure_notes = notes
    events.announce([events.PickupFailed(pickup, driver.id, reason)])
    return FieldOutcome("Failed attempt recorded.", entry)


def add_driver_note(pickup: Pickup, text: str, *, driver: User, evidence: Evidence, photo_ids: Sequence[str] = ()) -> FieldOutcome:
    """A note (and photos) from the driver on the pickup's timeline."""
    check_still_wanted(pickup, keep_facts=True)
    entry = record_event(
        pickup, "driver_note", actor=driver, message=text.strip(), data={"photo_ids": [str(p) for p in photo_ids]}, evidence=evidence
    )
    events.announce([events.DriverNoted(pickup, driver.id)])
    return FieldOutcome("Note recorded.", entry)


def record_field_conflict(
    pickup: Pickup, *, driver: User, evidence: Evidence, message: str, code: str, data: dict[str, Any], needs_review: bool
) -> Entry:
    """Keep a driver's action that could not be applied on the pickup's timeline (flagged when it matters)."""
    entry = record_event(
        pickup,
        "field_conflict",
        actor=driver,
        message=message,
        data={**data, "code": code, "server_version": pickup.version},
        needs_review=needs_review,
        evidence=evidence,
    )
    events.announce([events.FieldConflictRecorded(pickup, driver.id, code, needs_review)])
    return entry
