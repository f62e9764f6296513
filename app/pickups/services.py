"""Pickups: the only writer of pickup facts (the office's side; the driver's is in ``collection``).

Every change to a pickup — its fields, items, status, driver, route position
and timeline — goes through these functions, whoever asks for it: the console,
the API, the CSV import, the customer's page, the hub, the driver app's sync.
Each change gets a new version and change number (``changes.touch``), a
timeline entry (``timeline.record_event``) and, once, a domain event
(``events.announce``) that the domains above subscribe to.

Rules check before they change anything, so a refusal leaves nothing half-done.
Nothing here commits: the request, command or job that called does.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.orm import selectinload

from app.accounts.models import Role, User
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.hubs.models import Hub
from app.pickups import events
from app.pickups.changes import numbered_together, touch
from app.pickups.days import day_bounds, day_of, driver_timezone
from app.pickups.doorstep import doorstep
from app.pickups.fields import changed_fields, pickup_columns
from app.pickups.models import Pickup, PickupItem, PickupStatus
from app.pickups.states import FINAL_STATUSES, OPEN_STATUSES, check_transition
from app.pickups.timeline import Entry, Evidence, record_event

_CHUNK = 500  # values per IN (...) list: well under every database's parameter limit


class StaleVersion(Conflict):
    code = "stale_version"


class NoHub(InvalidInput):
    code = "no_hub"


def change_status(
    pickup: Pickup,
    target: PickupStatus,
    *,
    actor: User | None,
    kind: str,
    message: str = "",
    data: dict[str, Any] | None = None,
    evidence: Evidence | None = None,
    needs_review: bool = False,
) -> Entry:
    """Move the pickup to ``target`` if the state machine allows it, and say so in its timeline."""
    current = pickup.status
    check_transition(current, target)
    pickup.status = target
    touch(pickup)
    return record_event(
        pickup,
        kind,
        actor=actor,
        message=message,
        data=data,
        from_status=current,
        to_status=target,
        evidence=evidence,
        needs_review=needs_review,
    )


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


# --- creating ------------------------------------------------------------------------------------


@dataclass
class NewPickup:
    """One pickup to create: ``data`` as ``PickupInSchema`` loads it, checked and resolved."""

    data: dict[str, Any]
    hub: Hub
    driver: User | None = None
    message: str | None = None  # the timeline's first line (default: "Pickup R created.")
    event_data: dict[str, Any] = field(default_factory=dict)


def create_pickup(data: dict[str, Any], *, actor: User | None, source: str = "created") -> Pickup:
    """Create a pickup with its items from validated data (the API's create shape)."""
    hub = _hub_for(data.get("hub_id"), actor)
    driver = get_driver(data["driver_id"]) if data.get("driver_id") else None
    return create_pickups([NewPickup(data, hub, driver)], actor=actor, source=source)[0]


def create_pickups(planned: Sequence[NewPickup], *, actor: User | None, source: str = "created") -> list[Pickup]:
    """Create checked pickups together: a few statements for any number of them.

    Each gets version 1, a change number, its items, a ``source`` entry on its
    timeline and a ``PickupCreated`` event (labels gives it its label code and
    customer link); those with a driver are then assigned at the end of the
    driver's route, exactly as ``assign_pickup`` would.
    """
    _check_references_free([plan.data["reference"] for plan in planned])
    for plan in planned:
        if plan.driver is not None:
            _check_driver(plan.driver)
    pickups: list[Pickup] = []
    # Everything is decided before the first write, so each pickup is inserted once, already assigned.
    scan_by_default = doorstep().scan_required_by_default if any(plan.data.get("scan_required") is None for plan in planned) else False
    with numbered_together(), db.session.no_autoflush:
        positions = RoutePositions()
        for plan in planned:
            pickup = Pickup(**pickup_columns(plan.data), status=PickupStatus.UNASSIGNED, hub_id=plan.hub.id, access_notes="", version=0)
            pickup.notes = pickup.notes or ""
            pickup.scan_required = scan_by_default if pickup.scan_required is None else bool(pickup.scan_required)
            _check_window(pickup)
            touch(pickup)
            record_event(
                pickup,
                source,
                actor=actor,
                to_status=PickupStatus.UNASSIGNED,
                message=plan.message or f"Pickup {pickup.reference} {source}.",
                data=plan.event_data,
            )
            pickups.append(pickup)
        db.session.add_all(pickups)
        events.announce(events.PickupCreated(p, _actor_id(actor), source) for p in pickups)
        events.announce(
            _assign(pickup, plan.driver, positions, actor=actor)
            for plan, pickup in zip(planned, pickups, strict=True)
            if plan.driver is not None
        )
    db.session.flush()
    _insert_items(pickups, [plan.data["items"] for plan in planned])
    return pickups


def _insert_items(pickups: Sequence[Pickup], items: Sequence[Sequence[dict[str, Any]]]) -> None:
    # Thousands of rows that nothing reads back in this request: one multi-row insert.
    rows = [
        {
            "pickup_id": pickup.id,
            "position": index,
            "sku": item["sku"],
            "description": item["description"],
            "quantity": item["quantity"],
            "reason": item.get("reason") or "",
            "category": item.get("category") or "",
            "value": item.get("value"),
            "weight_kg": item.get("weight_kg"),
        }
        for pickup, pickup_items in zip(pickups, items, strict=True)
        for index, item in enumerate(pickup_items)
    ]
    if rows:
        db.session.execute(insert(cast(Table, PickupItem.__table__)), rows)
    for pickup in pickups:
        db.session.expire(pickup, ["items"])


def _check_references_free(references: Sequence[str]) -> None:
    taken: list[str] = []
    for start in range(0, len(references), _CHUNK):
        chunk = references[start : start + _CHUNK]
        taken.extend(db.session.scalars(select(Pickup.reference).where(Pickup.reference.in_(chunk))))
    if taken:
        raise Conflict(
            f"Another pickup already has reference {taken[0]}.", fields={"reference": ["Already used by another pickup."]}
        )


def _hub_for(hub_id: int | None, actor: User | None) -> Hub:
    if hub_id:
        hub = db.session.get(Hub, hub_id)
        if hub is None:
            raise InvalidInput("There is no such hub.", fields={"hub_id": ["Unknown hub."]})
        return hub
    if actor is not None and actor.hub_id is not None:
        home = db.session.get(Hub, actor.hub_id)
        if home is not None:
            return home
    hubs = list(db.session.scalars(select(Hub).order_by(Hub.id).limit(2)))
    if not hubs:
        raise NoHub(
            "There is no hub yet, and every pickup returns to one. An admin creates it first: "
            "flask --app wsgi hubs create --code AMS1 --name \"Hub Amsterdam\" --timezone Europe/Amsterdam",
            fields={"hub_id": ["No hub exists yet."]},
        )
    if len(hubs) > 1:
        raise InvalidInput("Say which hub this pickup returns to.", fields={"hub_id": ["Required when there are several hubs."]})
    return hubs[0]


def _check_window(pickup: Pickup) -> None:
    if pickup.window_end <= pickup.window_start:
        raise InvalidInput("The pickup window must end after it starts.", fields={"window": {"end": ["Must be after the start."]}})


# --- editing -------------------------------------------------------------------------------------


def update_pickup(pickup: Pickup, data: dict[str, Any], *, actor: User) -> Pickup:
    """Apply a dispatcher's edit. ``version``, when given, must be the current one."""
    expected = data.get("version")
    if expected is not None and expected != pickup.version:
        raise StaleVersion(
            "Someone changed this pickup since you loaded it. Reload to see their change, then edit again.",
            fields={"version": [f"You had version {expected}; it is now {pickup.version}."]},
        )
    if "reference" in data and data["reference"] != pickup.reference:
        _check_references_free([data["reference"]])
    touches_goods = "items" in data or any(k in data for k in ("customer", "address", "window", "reference"))
    if touches_goods and pickup.status not in OPEN_STATUSES:
        raise Conflict(
            f"This pickup is already {pickup.status.value}; only its notes can change now.",
            code="pickup_closed",
        )
    changes = changed_fields(pickup, data)
    start = next((value for column, value in changes.values() if column == "window_start"), pickup.window_start)
    end = next((value for column, value in changes.values() if column == "window_end"), pickup.window_end)
    if end <= start:
        raise InvalidInput("The pickup window must end after it starts.", fields={"window": {"end": ["Must be after the start."]}})
    if "items" in data:
        new_items = _replacement_items(pickup, data["items"])
    new_driver = get_driver(data["driver_id"]) if data.get("driver_id") and data["driver_id"] != pickup.driver_id else None

    # Every check passed: from here on, nothing refuses.
    old_start = pickup.window_start
    for column, value in changes.values():
        setattr(pickup, column, value)
    changed = list(changes)
    if "items" in data:
        pickup.items = new_items
        changed.append("items")
    if pickup.driver is not None and not ("driver_id" in data and data["driver_id"] != pickup.driver_id):
        _follow_window_to_its_day(pickup, pickup.driver, old_start)
    if "driver_id" in data and data["driver_id"] != pickup.driver_id:
        if new_driver is None:
            unassign_pickup(pickup, actor=actor)
        else:
            assign_pickup(pickup, new_driver, actor=actor)
    if changed:
        touch(pickup)
        record_event(pickup, "edited", actor=actor, message="Edited: " + ", ".join(changed) + ".", data={"fields": changed})
        events.announce([events.PickupEdited(pickup, actor.id, tuple(changed))])
    db.session.flush()
    return pickup


def _follow_window_to_its_day(pickup: Pickup, driver: User, old_start: datetime) -> None:
    """A window moved to another day takes the pickup to the end of that day's route (positions belong to the day)."""
    positions = RoutePositions()
    if positions.day_of(driver, old_start)[0] != positions.day_of(driver, pickup.window_start)[0]:
        pickup.route_position = positions.take(driver, pickup.window_start, leaving=pickup)


def _replacement_items(pickup: Pickup, items: list[dict[str, Any]]) -> list[PickupItem]:
    # Items keep their id when their id is given, so photos and grades stay attached.
    by_id = {item.id: item for item in pickup.items}
    kept: list[PickupItem] = []
    for index, data in enumerate(items):
        item = by_id.pop(data["id"], None) if data.get("id") else None
        if data.get("id") and item is None:
            raise InvalidInput("An item does not belong to this pickup.", fields={"items": {index: {"id": ["Unknown item."]}}})
        kept.append(item or PickupItem())
    for index, (item, data) in enumerate(zip(kept, items, strict=True)):
        item.position = index
        item.sku, item.description, item.quantity = data["sku"], data["description"], data["quantity"]
        item.reason = data.get("reason") or ""
        item.category = data.get("category") or ""
        item.value, item.weight_kg = data.get("value"), data.get("weight_kg")
    return kept


def access_notes_editable(pickup: Pickup) -> bool:
    """Access notes help only while a driver still has to come."""
    return pickup.status in OPEN_STATUSES


def set_access_notes(pickup: Pickup, notes: str) -> Pickup:
    """Save the customer's access notes (gate code, floor) so the driver sees them at the next sync."""
    if not access_notes_editable(pickup):
        raise Conflict("This pickup is finished, so its access notes can no longer change.", code="pickup_closed")
    notes = notes.strip()
    if notes == (pickup.access_notes or ""):
        return pickup
    pickup.access_notes = notes
    touch(pickup)
    record_event(pickup, "access_notes_updated", actor=None, message="The customer updated the access notes.")
    events.announce([events.AccessNotesChanged(pickup, None)])
    return pickup


# --- drivers and routes --------------------------------------------------------------------------


def _check_driver(driver: User) -> None:
    if driver.role is not Role.DRIVER:
        raise InvalidInput("Pickups can only be assigned to drivers.", fields={"driver_id": ["This user is not a driver."]})
    if not driver.active:
        raise InvalidInput("This driver's account is deactivated.", fields={"driver_id": ["Deactivated."]})


def get_driver(driver_id: int) -> User:
    """The active driver with this id, or a refusal naming the field."""
    driver = db.session.get(User, driver_id)
    if driver is None:
        raise InvalidInput("There is no such driver.", fields={"driver_id": ["Unknown user."]})
    _check_driver(driver)
    return driver


class RoutePositions:
    """The next free route position of each driver's day, counted on as pickups are placed.

    Positions belong to the driver's day (``app.pickups.days``): Tuesday's stops
    are numbered 1..n and Wednesday's 1..m, so placing or ordering one day never
    moves another. One query per driver and day, however many pickups are placed.
    """

    def __init__(self) -> None:
        self._next: dict[tuple[int, date], int] = {}
        self._timezones: dict[int, str] = {}

    def day_of(self, driver: User, window_start: datetime) -> tuple[date, str]:
        tz_name = self._timezones.get(driver.id) or self._timezones.setdefault(driver.id, driver_timezone(driver))
        return day_of(window_start, tz_name), tz_name

    def take(self, driver: User, window_start: datetime, *, leaving: Pickup | None = None) -> int:
        """The position after every stop already on that day of the driver's route (``leaving`` not counted)."""
        day, tz_name = self.day_of(driver, window_start)
        key = (driver.id, day)
        if key not in self._next:
            start, end = day_bounds(day, tz_name)
            query = select(func.max(Pickup.route_position)).where(
                Pickup.driver_id == driver.id, Pickup.window_start >= start, Pickup.window_start < end, Pickup.status != PickupStatus.CANCELLED
            )
            if leaving is not None and leaving.id is not None:
                query = query.where(Pickup.id != leaving.id)
            self._next[key] = (db.session.scalar(query) or 0) + 1
        position = self._next[key]
        self._next[key] += 1
        return position


def assign_pickup(pickup: Pickup, driver: User, *, actor: User | None) -> Pickup:
    """Give the pickup to ``driver`` (assign or reassign), at the end of their route."""
    assign_pickups([pickup], driver, actor=actor)
    return pickup


def assign_pickups(pickups: Sequence[Pickup], driver: User, *, actor: User | None) -> None:
    """Give these pickups to ``driver``, in this order, at the end of their route."""
    _check_driver(driver)
    todo = [p for p in pickups if not (p.driver_id == driver.id and p.status is PickupStatus.ASSIGNED)]
    for pickup in todo:
        check_transition(pickup.status, PickupStatus.ASSIGNED)
    positions = RoutePositions()
    events.announce([_assign(pickup, driver, positions, actor=actor) for pickup in todo])


def _assign(pickup: Pickup, driver: User, positions: RoutePositions, *, actor: User | None) -> events.PickupAssigned:
    """Put the pickup at the end of its day on the driver's route (``positions`` counts on)."""
    previous_id = pickup.driver_id
    previous = db.session.get(User, previous_id) if previous_id is not None else None
    pickup.driver_id = driver.id
    if "driver" in pickup.__dict__:  # keep a loaded relationship in step with the column
        pickup.driver = driver
    pickup.route_position = positions.take(driver, pickup.window_start, leaving=pickup)
    if previous is not None and previous.id != driver.id:
        message, kind = f"Reassigned from {previous.name} to {driver.name}.", "reassigned"
    else:
        message, kind = f"Assigned to {driver.name}.", "assigned"
    change_status(
        pickup, PickupStatus.ASSIGNED, actor=actor, kind=kind, message=message, data={"driver_id": driver.id, "previous_driver_id": previous_id}
    )
    return events.PickupAssigned(pickup, _actor_id(actor), driver.id, previous_id)


def unassign_pickup(pickup: Pickup, *, actor: User | None) -> Pickup:
    """Take the pickup off its driver's route."""
    previous = pickup.driver
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
    events.announce([events.PickupUnassigned(pickup, _actor_id(actor), previous.id if previous else None)])
    return pickup


def cancel_pickup(pickup: Pickup, reason: str, *, actor: User | None, by_customer: bool = False) -> Pickup:
    """Cancel the pickup with a reason the driver and customer will see."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the pickup is cancelled.", fields={"reason": ["Required."]})
    change_status(
        pickup,
        PickupStatus.CANCELLED,
        actor=actor,
        kind="cancelled",
        message=f"Cancelled: {reason}",
        data={"reason": reason, "driver_id": pickup.driver_id},
    )
    pickup.cancel_reason = reason
    events.announce([events.PickupCancelled(pickup, _actor_id(actor), reason, by_customer)])
    return pickup


def order_route(driver: User, pickup_ids: Sequence[int], *, actor: User) -> list[Pickup]:
    """Put the driver's pickups in this order (positions 1..n within each of their days)."""
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
    moved: list[events.DomainEvent] = []
    # Each day of the list is numbered on its own, in the order given: positions belong to the
    # driver's day, so a list that spans Tuesday and Wednesday never interleaves them.
    days = RoutePositions()
    counters: dict[date, int] = {}
    for pickup in ordered:
        day, _ = days.day_of(driver, pickup.window_start)
        position = counters[day] = counters.get(day, 0) + 1
        if pickup.route_position != position:
            pickup.route_position = position
            touch(pickup)
            moved.append(events.RouteOrdered(pickup, actor.id, position))
    if ordered:
        record_event(ordered[0], "route_ordered", actor=actor, message=f"{driver.name}'s route reordered.", data={"pickup_ids": list(pickup_ids)})
    events.announce(moved)
    return ordered


# --- the hub -------------------------------------------------------------------------------------


def mark_received(pickup: Pickup, *, actor: User, data: dict[str, Any] | None = None) -> Entry:
    """The pickup's goods arrived at its hub."""
    entry = change_status(pickup, PickupStatus.RECEIVED, actor=actor, kind="received", message=f"Received at {pickup.hub.name}.", data=data)
    events.announce([events.PickupReceived(pickup, actor.id)])
    return entry


# --- reading -------------------------------------------------------------------------------------


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


def pickups_query(
    viewer: User,
    *,
    day: date | None = None,
    statuses: Iterable[PickupStatus] | None = None,
    driver_id: int | None = None,
    hub_id: int | None = None,
    search: str | None = None,
    tz_name: str = "UTC",
) -> Select[Pickup]:
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
