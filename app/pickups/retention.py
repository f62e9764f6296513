"""Data retention: a closed pickup's personal data is removed after a while; its anonymous facts stay.

Removed: the customer's name, phone and email, the street address and its
coordinates, every free text (notes, access notes, failure and cancellation
notes, condition notes, timeline messages, who handed the goods over) and the
places where the driver stood. Kept, because the reports count them: status,
hub, window, driver, city and country, items (SKU, quantities, grades,
dispositions), failure reasons, and the timeline's kinds, statuses and times.
Photos are the photo domain's; ``app.retention`` removes both together.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.pickups import events
from app.pickups.models import FailureReason, Pickup, PickupEvent, PickupItem
from app.pickups.states import FINAL_STATUSES

# Keys of a timeline entry's data that hold words or people, not facts, and the ids of the
# photos (signatures among them) that the purge removes with the personal data.
_PERSONAL_KEYS = frozenset({"notes", "text", "handed_over_by", "reason_text", "access_notes", "message", "photo_ids", "signature_photo_id"})


_FAILURE_REASONS = frozenset(reason.value for reason in FailureReason)


def _closed_at():  # type: ignore[no-untyped-def]
    """When each pickup reached its final status (the latest such entry), else its last change."""
    reached = (
        select(func.max(PickupEvent.server_time))
        .where(PickupEvent.pickup_id == Pickup.id, PickupEvent.to_status == cast(Pickup.status, String))
        .scalar_subquery()
    )
    return func.coalesce(reached, Pickup.updated_at)


def expired_pickup_ids(closed_before: datetime, *, limit: int | None = None) -> list[int]:
    """Pickups received or cancelled before this moment whose personal data is still there, oldest id first."""
    query = (
        select(Pickup.id)
        .where(Pickup.status.in_(FINAL_STATUSES), Pickup.personal_data_removed_at.is_(None), _closed_at() < closed_before)
        .order_by(Pickup.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def _scrubbed(data: dict[str, Any] | None) -> dict[str, Any]:
    if not data:
        return {}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key in _PERSONAL_KEYS:
            continue
        if key == "reason" and value not in _FAILURE_REASONS:  # a cancellation's words; a failure's code stays
            continue
        if isinstance(value, dict):
            clean[key] = _scrubbed(value)
        elif isinstance(value, list):
            clean[key] = [_scrubbed(v) if isinstance(v, dict) else v for v in value]
        else:
            clean[key] = value
    return clean


def remove_personal_data(pickup_ids: Sequence[int], *, now: datetime) -> int:
    """Remove the personal data of these pickups (see the module's doc); answer how many changed."""
    if not pickup_ids:
        return 0
    pickups = db.session.scalars(
        select(Pickup).where(Pickup.id.in_(pickup_ids), Pickup.personal_data_removed_at.is_(None)).options(selectinload(Pickup.events))
    ).all()
    ids = [pickup.id for pickup in pickups]
    for pickup in pickups:
        pickup.customer_name = ""
        pickup.customer_phone = None
        pickup.customer_email = None
        pickup.address_line1 = ""
        pickup.address_line2 = None
        pickup.postcode = ""
        pickup.lat = None
        pickup.lon = None
        pickup.notes = ""
        pickup.access_notes = ""
        pickup.failure_notes = None
        pickup.cancel_reason = None
        pickup.personal_data_removed_at = now
        for entry in pickup.events:
            entry.message = ""
            entry.lat = entry.lon = entry.accuracy_m = None
            entry.data = _scrubbed(entry.data)
    if ids:
        db.session.execute(update(PickupItem).where(PickupItem.pickup_id.in_(ids)).values(condition_notes=None))
    events.announce([events.PersonalDataRemoved(pickup, None) for pickup in pickups])
    return len(pickups)
