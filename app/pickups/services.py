"""Pickups: creating, editing, assigning, ordering and cancelling; the audit trail.

Every change a driver could see goes through ``touch_pickup`` (new version and
change number) and every status change through ``change_status`` (state
machine check and an event).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import Role, User
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.hubs.models import Hub
from app.labels.services import issue_customer_token, issue_label_code
from app.pickups.models import Pickup, PickupEvent, PickupItem, PickupStatus
from app.pickups.states import FINAL_STATUSES, OPEN_STATUSES, check_transition
from app.sync.scope import record_scope_exit
from app.sync.sequence import take_change_numbers

# Fields a dispatcher edit may touch, by the nested groups of the JSON shape.
_FLAT_FIELDS = {
    "customer": {"name": "customer_name", "phone": "customer_phone", "email": "customer_email"},
    "address": {
        "line1": "address_line1",
        "line2": "address_line2",
        "city": "city",
        "postcode": "postcode",
        "country": "country",
        "lat": "lat",
        "lon": "lon",
    },
    "window": {"start": "window_start", "end": "window_end"},
}
_PLAIN_FIELDS = ("reference", "notes", "scan_required")


class StaleVersion(Conflict):
    code = "stale_version"


def touch_pickup(pickup: Pickup) -> None:
    """Mark a change drivers could see: a new version and a new change number."""
    pickup.version = (pickup.version or 0) + 1
    pickup.change_seq = take_change_numbers(1)[0]


def record_event(
    pickup: Pickup,
    kind: str,
    *,
    actor: User | None,
    message: str = "",
    data: dict[str, Any] | None = None,
    from_status: PickupStatus | None = None,
    to_status: PickupStatus | None = None,
    **evidence: Any,
) -> PickupEvent:
    """Append one entry to the pickup's timeline (``evidence``: device_time, lat, lon, …)."""
    event = PickupEvent(
        pickup=pickup,
        kind=kind,
        actor_id=actor.id if actor else None,
        message=message,
        data=data or {},
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        **evidence,
    )
    db.session.add(event)
    return event


def change_status(
    pickup: Pickup, target: PickupStatus, *, actor: User | None, kind: str, message: str = "", **event_fields: Any
) -> PickupEvent:
    """Move the pickup to ``target`` if the state machine allows it, and say so in its timeline."""
    current = pickup.status
    check_transition(current, target)
    pickup.status = target
    touch_pickup(pickup)
    return record_event(pickup, kind, actor=actor, message=message, from_status=current, to_status=target, **event_fields)


def _check_driver(driver: User) -> None:
    if driver.role is not Role.DRIVER:
        raise InvalidInput("Pickups can only be assigned to drivers.", fields={"driver_id": ["This user is not a driver."]})
    if not driver.active:
        raise InvalidInput("This driver's account is deactivated.", fields={"driver_id": ["Deactivated."]})


def _default_hub(actor: User | None) -> Hub:
    if actor is not None and actor.hub_id is not None:
        hub = db.session.get(Hub, actor.hub_id)
        if hub is not None:
            return hub
    hubs = list(db.session.scalars(select(Hub).order_by(Hub.id).limit(2)))
    if len(hubs) != 1:
        raise InvalidInput("Say which hub this pickup returns to.", fields={"hub_id": ["Required when there are several hubs."]})
    return hubs[0]


def pickup_columns(data: dict[str, Any]) -> dict[str, Any]:
    """The model's columns for nested JSON-shaped pickup data (what is given of it)."""
    columns = {mapping[key]: value for group, mapping in _FLAT_FIELDS.items() for key, value in (data.get(group) or {}).items()}
    columns.update({key: data[key] for key in _PLAIN_FIELDS if key in data})
    return columns


def _apply_fields(pickup: Pickup, data: dict[str, Any]) -> list[str]:
    """Copy nested JSON-shaped data onto the model's columns; return what changed."""
    changed: list[str] = []
    for group, mapping in _FLAT_FIELDS.items():
        for key, value in (data.get(group) or {}).items():
            column = mapping[key]
            if getattr(pickup, column) != value:
                setattr(pickup, column, value)
                changed.append(f"{group}.{key}")
    for key in _PLAIN_FIELDS:
        if key in data and getattr(pickup, key) != data[key]:
            setattr(pickup, key, data[key])
            changed.append(key)
    if pickup.window_end <= pickup.window_start:
        raise InvalidInput("The pickup window must end after it starts.", fields={"window": {"end": ["Must be after the start."]}})
    return changed


def _check_reference_free(reference: str, pickup_id: int | None = None) -> None:
    query = select(Pickup.id).where(Pickup.reference == reference)
    existing = db.session.scalar(query)
    if existing is not None and existing != pickup_id:
        raise Conflict(
            f"Another pickup already has reference {reference}.", fields={"reference": ["Already used by another pickup."]}
        )


def _items_from(data: Sequence[dict[str, Any]]) -> list[PickupItem]:
    return [
        PickupItem(position=index, sku=item["sku"], description=item["description"], quantity=item["quantity"], reason=item.get("reason") or "")
        for index, item in enumerate(data)
    ]


def create_pickup(data: dict[str, Any], *, actor: User | None, source: str = "created") -> Pickup:
    """Create a pickup with its items from validated data (the API's create shape)."""
    _check_reference_free(data["reference"])
    hub = db.session.get(Hub, data["hub_id"]) if data.get("hub_id") else _default_hub(actor)
    if hub is None:
        raise InvalidInput("There is no such hub.", fields={"hub_id": ["Unknown hub."]})
    pickup = Pickup(
        status=PickupStatus.UNASSIGNED,
        hub=hub,
        label_code=issue_label_code(),
        notes="",
        access_notes="",
        version=0,
        scan_required=False,
    )
    pickup.window_start = data["window"]["start"]
    pickup.window_end = data["window"]["end"]
    _apply_fields(pickup, data)
    pickup.items = _items_from(data["items"])
    db.session.add(pickup)
    issue_customer_token(pickup)
    touch_pickup(pickup)
    record_event(pickup, source, actor=actor, to_status=PickupStatus.UNASSIGNED, message=f"Pickup {pickup.reference} {source}.")
    if data.get("driver_id"):
        assign_pickup(pickup, get_driver(data["driver_id"]), actor=actor)
    db.session.flush()
    return pickup


def update_pickup(pickup: Pickup, data: dict[str, Any], *, actor: User) -> Pickup:
    """Apply a dispatcher's edit. ``version``, when given, must be the current one."""
    expected = data.get("version")
    if expected is not None and expected != pickup.version:
        raise StaleVersion(
            "Someone changed this pickup since you loaded it. Reload to see their change, then edit again.",
            fields={"version": [f"You had version {expected}; it is now {pickup.version}."]},
        )
    if "reference" in data:
        _check_reference_free(data["reference"], pickup.id)
    touches_goods = "items" in data or any(k in data for k in ("customer", "address", "window", "reference"))
    if touches_goods and pickup.status not in OPEN_STATUSES:
        raise Conflict(
            f"This pickup is already {pickup.status.value}; only its notes can change now.",
            code="pickup_closed",
        )
    changed = _apply_fields(pickup, data)
    if "items" in data:
        _replace_items(pickup, data["items"])
        changed.append("items")
    if "driver_id" in data and data["driver_id"] != pickup.driver_id:
        if data["driver_id"] is None:
            unassign_pickup(pickup, actor=actor)
        else:
            assign_pickup(pickup, get_driver(data["driver_id"]), actor=actor)
    if changed:
        touch_pickup(pickup)
        record_event(pickup, "edited", actor=actor, message="Edited: " + ", ".join(changed) + ".", data={"fields": changed})
    db.session.flush()
    return pickup


def _replace_items(pickup: Pickup, items: list[dict[str, Any]]) -> None:
    # Items keep their id when their id is given, so photos and grades stay attached.
    by_id = {item.id: item for item in pickup.items}
    kept: list[PickupItem] = []
    for index, data in enumerate(items):
        item = by_id.pop(data["id"], None) if data.get("id") else None
        if data.get("id") and item is None:
            raise InvalidInput("An item does not belong to this pickup.", fields={"items": {index: {"id": ["Unknown item."]}}})
        item = item or PickupItem()
        item.position = index
        item.sku, item.description, item.quantity = data["sku"], data["description"], data["quantity"]
        item.reason = data.get("reason") or ""
        kept.append(item)
    pickup.items = kept


def get_driver(driver_id: int) -> User:
    driver = db.session.get(User, driver_id)
    if driver is None:
        raise InvalidInput("There is no such driver.", fields={"driver_id": ["Unknown user."]})
    _check_driver(driver)
    return driver


def _next_route_position(driver: User) -> int:
    last = db.session.scalar(
        select(func.max(Pickup.route_position)).where(Pickup.driver_id == driver.id, Pickup.status.in_(OPEN_STATUSES))
    )
    return (last or 0) + 1


def assign_pickup(pickup: Pickup, driver: User, *, actor: User | None) -> Pickup:
    """Give the pickup to ``driver`` (assign or reassign), at the end of their route."""
    _check_driver(driver)
    if pickup.driver_id == driver.id and pickup.status is PickupStatus.ASSIGNED:
        return pickup
    previous = pickup.driver
    pickup.driver = driver
    pickup.driver_id = driver.id
    pickup.route_position = _next_route_position(driver)
    if previous is not None and previous.id != driver.id:
        message = f"Reassigned from {previous.name} to {driver.name}."
        kind = "reassigned"
        record_scope_exit(pickup.id, previous.id, "reassigned")
    else:
        message = f"Assigned to {driver.name}."
        kind = "assigned"
    change_status(pickup, PickupStatus.ASSIGNED, actor=actor, kind=kind, message=message, data={"driver_id": driver.id, "previous_driver_id": previous.id if previous else None})
    return pickup


def unassign_pickup(pickup: Pickup, *, actor: User | None) -> Pickup:
    """Take the pickup off its driver's route."""
    previous = pickup.driver
    if previous is not None:
        record_scope_exit(pickup.id, previous.id, "unassigned")
    change_status(
        pickup,
        PickupStatus.UNASSIGNED,
        actor=actor,
        kind="unassigned",
        message=f"Taken off {previous.name}'s route." if previous else "Unassigned.",
        data={"previous_driver_id": previous.id if previous else None},
    )
    pickup.driver = None
    pickup.driver_id = None
    pickup.route_position = None
    return pickup


def cancel_pickup(pickup: Pickup, reason: str, *, actor: User | None) -> Pickup:
    """Cancel the pickup with a reason the driver and customer will see."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the pickup is cancelled.", fields={"reason": ["Required."]})
    change_status(pickup, PickupStatus.CANCELLED, actor=actor, kind="cancelled", message=f"Cancelled: {reason}", data={"reason": reason, "driver_id": pickup.driver_id})
    pickup.cancel_reason = reason
    return pickup


def order_route(driver: User, pickup_ids: Sequence[int], *, actor: User) -> list[Pickup]:
    """Put the driver's pickups in this order (positions 1..n)."""
    _check_driver(driver)
    if len(set(pickup_ids)) != len(pickup_ids):
        raise InvalidInput("A pickup appears twice in the route.", fields={"pickup_ids": ["Duplicates."]})
    pickups = {p.id: p for p in db.session.scalars(select(Pickup).where(Pickup.id.in_(pickup_ids)))}
    foreign = [pid for pid in pickup_ids if pid not in pickups or pickups[pid].driver_id != driver.id]
    if foreign:
        raise InvalidInput(
            f"Pickups {', '.join(map(str, foreign))} are not on {driver.name}'s route.", fields={"pickup_ids": ["Not on this route."]}
        )
    ordered = [pickups[pid] for pid in pickup_ids]
    for position, pickup in enumerate(ordered, start=1):
        if pickup.route_position != position:
            pickup.route_position = position
            touch_pickup(pickup)
    if ordered:
        record_event(ordered[0], "route_ordered", actor=actor, message=f"{driver.name}'s route reordered.", data={"pickup_ids": list(pickup_ids)})
    return ordered


def get_pickup(pickup_id: int, *, viewer: User) -> Pickup:
    """The pickup, if ``viewer`` may see it; drivers get 404 for others' pickups."""
    pickup = db.session.get(Pickup, pickup_id)
    # Same answer for "not yours" and "does not exist": ids must not leak.
    if pickup is None or not pickup.can_view(viewer):
        raise NotFound("There is no such pickup on your list.")
    return pickup


def require_dispatcher(user: User) -> None:
    if not user.can_dispatch:
        raise Forbidden("Only dispatchers can do this.")


def day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The UTC instants at which ``day`` starts and ends in the given timezone."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def pickups_query(
    viewer: User,
    *,
    day: date | None = None,
    statuses: Iterable[PickupStatus] | None = None,
    driver_id: int | None = None,
    hub_id: int | None = None,
    search: str | None = None,
    tz_name: str = "UTC",
) -> Select[tuple[Pickup]]:
    """Pickups the viewer may see, filtered; drivers only ever get their own."""
    query = select(Pickup).options(selectinload(Pickup.items), selectinload(Pickup.driver), selectinload(Pickup.hub))
    if viewer.is_driver:
        query = query.where(Pickup.driver_id == viewer.id)
    elif driver_id is not None:
        query = query.where(Pickup.driver_id == driver_id)
    if day is not None:
        start, end = day_bounds(day, tz_name)
        query = query.where(Pickup.window_start >= start, Pickup.window_start < end)
    statuses = list(statuses or [])
    if statuses:
        query = query.where(Pickup.status.in_(statuses))
    if hub_id is not None:
        query = query.where(Pickup.hub_id == hub_id)
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(
            func.lower(Pickup.reference).like(like)
            | func.lower(Pickup.customer_name).like(like)
            | func.lower(Pickup.postcode).like(like)
            | func.lower(Pickup.label_code).like(like)
        )
    return query.order_by(Pickup.driver_id.is_(None), Pickup.driver_id, Pickup.route_position, Pickup.window_start, Pickup.id)


def is_final(pickup: Pickup) -> bool:
    return pickup.status in FINAL_STATUSES
