"""Receiving returned goods at the hub: check what came back, decide each item's fate."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.core.errors import Conflict, InvalidInput
from app.extensions import db
from app.pickups.models import Grade, Pickup, PickupItem, PickupStatus
from app.pickups.services import StaleVersion, mark_received
from app.pickups.states import describe
from app.receiving.events import DispositionsSet, dispositions_set
from app.receiving.models import Disposition, ItemDisposition

# What a clerk most often decides for each condition grade; the form starts there.
SUGGESTED_DISPOSITION = {
    Grade.A: Disposition.RESTOCK,
    Grade.B: Disposition.RESELL,
    Grade.C: Disposition.REFURBISH,
    Grade.D: Disposition.RECYCLE,
}
RECEIVABLE = (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED)


def items_to_decide(pickup: Pickup) -> list[PickupItem]:
    """The items that actually came back (a partly collected pickup may have left some behind)."""
    return [item for item in pickup.items if item.collected_quantity != 0]


def awaiting_receipt(hub_id: int | None, limit: int = 100) -> list[Pickup]:
    """Collected pickups on their way to this hub (every hub's when ``hub_id`` is None), oldest first."""
    query = select(Pickup).where(Pickup.status.in_(RECEIVABLE))
    if hub_id is not None:
        query = query.where(Pickup.hub_id == hub_id)
    return list(db.session.scalars(query.order_by(Pickup.updated_at, Pickup.id).limit(limit)))


def receive_pickup(
    pickup: Pickup, choices: Mapping[int, str | None], *, actor: User, version: int | None = None
) -> list[ItemDisposition]:
    """Mark a collected pickup received at its hub, with a disposition for every item that came back."""
    if actor.role is Role.HUB and actor.hub_id is not None and pickup.hub_id != actor.hub_id:
        raise Conflict(f"This parcel returns to {pickup.hub.name}; forward it there.", code="wrong_hub")
    if version is not None and version != pickup.version:
        raise StaleVersion("This pickup changed since you scanned it (perhaps someone received it). Scan it again.")
    if pickup.status is PickupStatus.RECEIVED:
        raise Conflict(f"Pickup {pickup.reference} has already been received.", code="already_received")
    if pickup.status not in RECEIVABLE:
        raise Conflict(
            f"Pickup {pickup.reference} is {describe(pickup.status)}, so there is nothing to receive. Call dispatch.",
            code="not_collected",
        )
    decided: list[tuple[PickupItem, Disposition]] = []
    problems: dict[str, list[str]] = {}
    for item in items_to_decide(pickup):
        try:
            decided.append((item, Disposition(choices.get(item.id) or "")))
        except ValueError:
            problems[f"disposition-{item.id}"] = ["Choose restock, refurbish, resell or recycle."]
    if problems:
        raise InvalidInput("Choose what happens to every item.", fields=problems)
    records = [ItemDisposition(item=item, disposition=disposition, decided_by_id=actor.id) for item, disposition in decided]
    db.session.add_all(records)
    mark_received(pickup, actor=actor, data={"dispositions": {str(item.id): disposition.value for item, disposition in decided}})
    try:
        db.session.flush()
    except IntegrityError:
        # Another clerk received the same parcel at the same moment.
        raise Conflict(f"Pickup {pickup.reference} has just been received by someone else.", code="already_received") from None
    dispositions_set.send(None, events=[DispositionsSet(pickup, actor.id, {item.id: disposition.value for item, disposition in decided})])
    return records
