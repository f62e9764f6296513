"""Rebooking: after a failed visit, or before a driver is assigned, the customer chooses a new window.

The windows on offer are the hub's slots (its opening hours cut into slots of
its length, from tomorrow for the hub's number of days ahead, in hub time):
dispatch plans a day's routes the day before, so today is never offered. The
pickup goes back to dispatch unassigned, with a timeline entry saying who
rebooked, and a ``PickupRebooked`` event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from app.accounts.models import User
from app.core.errors import Conflict, InvalidInput
from app.core.models import utcnow
from app.pickups import events
from app.pickups.changes import touch
from app.pickups.models import Pickup, PickupStatus
from app.pickups.services import change_status
from app.pickups.timeline import record_event

REBOOKABLE = (PickupStatus.FAILED, PickupStatus.UNASSIGNED)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime

    @property
    def value(self) -> str:
        """How a form names it: the start and end, ISO 8601, joined by a slash (ISO's interval)."""
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


class RebookRefused(Conflict):
    code = "cannot_rebook"


def rebook_limit() -> int:
    return int(current_app.config["REBOOK_LIMIT"])


def can_rebook(pickup: Pickup) -> bool:
    """Whether the customer may choose a new window now (status, and rebookings left)."""
    return pickup.status in REBOOKABLE and pickup.rebook_count < rebook_limit()


def rebook_slots(pickup: Pickup, *, now: datetime | None = None) -> list[Slot]:
    """The windows the pickup's hub offers, from tomorrow (hub time) on."""
    hub = pickup.hub
    zone = ZoneInfo(hub.timezone or "UTC")
    moment = (now or utcnow()).astimezone(zone)
    length = timedelta(minutes=max(15, hub.slot_minutes))
    slots: list[Slot] = []
    for offset in range(1, max(1, hub.booking_days_ahead) + 1):
        day = moment.date() + timedelta(days=offset)
        start = datetime.combine(day, time(hour=max(0, min(23, hub.opens_hour))), tzinfo=zone)
        closes = datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=max(1, min(24, hub.closes_hour)))
        while start + length <= closes:
            slots.append(Slot(start.astimezone(ZoneInfo("UTC")), (start + length).astimezone(ZoneInfo("UTC"))))
            start += length
    return slots


def parse_slot(value: str) -> Slot:
    """A slot as a form sends it (``start/end``, ISO 8601 with offsets)."""
    try:
        start_text, end_text = value.split("/", 1)
        start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    except ValueError:
        raise InvalidInput("Choose one of the windows offered.", fields={"window": ["Not a window."]}) from None
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("Choose one of the windows offered.", fields={"window": ["Times need an offset."]})
    return Slot(start, end)


def rebook_pickup(pickup: Pickup, slot: Slot, *, actor: User | None = None, by_customer: bool = True, now: datetime | None = None) -> Pickup:
    """Give the pickup the new window ``slot``; it goes back to dispatch unassigned."""
    moment = now or utcnow()
    if pickup.status not in REBOOKABLE:
        raise RebookRefused("This pickup can no longer be rebooked: " + (
            "a driver is already on the way." if pickup.status is PickupStatus.ASSIGNED else f"it is {pickup.status.value.replace('_', ' ')}."
        ))
    if pickup.rebook_count >= rebook_limit():
        raise RebookRefused(
            f"This pickup has been rebooked {pickup.rebook_count} times, the most we can offer. Please contact the shop.", code="rebook_limit"
        )
    if slot.start <= moment:
        raise InvalidInput("That window has already begun; choose a later one.", fields={"window": ["In the past."]})
    if slot not in rebook_slots(pickup, now=moment):
        raise InvalidInput("Choose one of the windows offered.", fields={"window": ["Not one of the hub's windows."]})
    previous_status, previous_driver = pickup.status, pickup.driver_id
    who = "the customer" if by_customer else (actor.name if actor else "dispatch")
    zone = ZoneInfo(pickup.hub.timezone or "UTC")
    when = f"{slot.start.astimezone(zone):%a %d %b %H:%M}–{slot.end.astimezone(zone):%H:%M}"
    data = {
        "by_customer": by_customer,
        "previous_window": {"start": pickup.window_start.isoformat(), "end": pickup.window_end.isoformat()},
        "window": {"start": slot.start.isoformat(), "end": slot.end.isoformat()},
        "previous_driver_id": previous_driver,
    }
    message = f"Rebooked by {who} for {when}."
    if previous_status is PickupStatus.UNASSIGNED:
        touch(pickup)
        record_event(pickup, "rebooked", actor=actor, message=message, data=data)
    else:
        change_status(pickup, PickupStatus.UNASSIGNED, actor=actor, kind="rebooked", message=message, data=data)
    pickup.window_start, pickup.window_end = slot.start, slot.end
    pickup.driver = None
    pickup.driver_id = None
    pickup.route_position = None
    pickup.rebook_count += 1
    actor_id = actor.id if actor is not None else None
    announced: list[events.DomainEvent] = []
    if previous_driver is not None:
        # The driver's phone drops it (sync listens for this).
        announced.append(events.PickupUnassigned(pickup, actor_id, previous_driver))
    announced.append(events.PickupRebooked(pickup, actor_id, by_customer, previous_status))
    events.announce(announced)
    return pickup
