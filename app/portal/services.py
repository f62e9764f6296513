"""What a customer may see and do on their return's page, in plain words.

Only the customer's own return: never the driver's name, never anyone else's
data, never staff notes. Changes go through pickups.services so the driver's
app sees them at its next sync.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.core.errors import Conflict
from app.outbox.models import MessageStatus
from app.outbox.services import messages_about
from app.pickups.models import FailureReason, Pickup, PickupStatus
from app.pickups.rebooking import Slot, can_rebook, rebook_pickup, rebook_slots
from app.pickups.services import access_notes_editable, cancel_pickup

_FAILURE_WORDS = {
    FailureReason.NOT_HOME: "Nobody was home when the driver came.",
    FailureReason.REFUSED: "The return was refused at the door.",
    FailureReason.ITEM_NOT_READY: "The items were not ready to go.",
    FailureReason.WRONG_ITEM: "The items did not match this return.",
    FailureReason.ADDRESS_PROBLEM: "The driver could not find or get into the address.",
    FailureReason.UNSAFE: "The driver could not reach the address safely.",
    FailureReason.OTHER: "The driver could not collect the return.",
}


@dataclass(frozen=True)
class Step:
    """One line of the customer's timeline."""

    title: str
    detail: str
    state: str  # done, current, upcoming or problem
    when: datetime | None = None


@dataclass(frozen=True)
class Window:
    """The pickup window in the hub's time zone, ready to print."""

    day: str
    start: str
    end: str


def pickup_window(pickup: Pickup) -> Window:
    """The pickup window in the hub's local time."""
    tz = ZoneInfo(pickup.hub.timezone or "UTC")
    start, end = pickup.window_start.astimezone(tz), pickup.window_end.astimezone(tz)
    return Window(f"{start:%A} {start.day} {start:%B}", f"{start:%H:%M}", f"{end:%H:%M}")


def _reached_at(pickup: Pickup, *statuses: PickupStatus) -> datetime | None:
    # Dated by when it happened at the door (the driver's device), not when the phone synced;
    # the server's receipt time stays in the record for staff.
    values = {status.value for status in statuses}
    times = [event.device_time or event.server_time for event in pickup.events if event.to_status in values]
    return max(times) if times else None


def headline(pickup: Pickup) -> str:
    """One sentence saying where the return stands (the page shows the window under it)."""
    return {
        PickupStatus.UNASSIGNED: "Your pickup is booked.",
        PickupStatus.ASSIGNED: "A driver will come to collect your return.",
        PickupStatus.COLLECTED: "Your return has been collected. Thank you!",
        PickupStatus.PARTIALLY_COLLECTED: "Part of your return has been collected.",
        PickupStatus.FAILED: "We could not collect your return.",
        PickupStatus.CANCELLED: "This return has been cancelled.",
        PickupStatus.RECEIVED: "Your return has arrived at our hub. Thank you!",
    }[pickup.status]


def customer_steps(pickup: Pickup) -> list[Step]:
    """The timeline: booked → driver assigned → collected → received, or what went wrong and what happens next."""
    status = pickup.status
    booked = Step("Pickup booked", "We have your return on our list.", "done", pickup.created_at)
    if status is PickupStatus.CANCELLED:
        reason = pickup.cancel_reason or ""
        return [booked, Step("Cancelled", reason or "Nobody will come for this return.", "problem", _reached_at(pickup, status))]
    progress = {
        PickupStatus.UNASSIGNED: 0,
        PickupStatus.ASSIGNED: 1,
        PickupStatus.FAILED: 1,
        PickupStatus.COLLECTED: 2,
        PickupStatus.PARTIALLY_COLLECTED: 2,
        PickupStatus.RECEIVED: 3,
    }[status]
    collected_detail = (
        "The driver took some of the items; we will be in touch about the rest."
        if status is PickupStatus.PARTIALLY_COLLECTED or _partly(pickup)
        else "The driver has your items."
    )
    plan = [
        ("Driver assigned", "A driver has your pickup on their route.", (PickupStatus.ASSIGNED,)),
        ("Collected", collected_detail, (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED)),
        ("Received at the hub", "Your items have arrived and are being processed.", (PickupStatus.RECEIVED,)),
    ]
    steps = [booked]
    rebooked = [event for event in pickup.events if event.kind == "rebooked"]
    if rebooked and status is PickupStatus.UNASSIGNED:
        steps.append(Step("New window chosen", "Your pickup is back on our list for the new window.", "done", rebooked[-1].server_time))
    for index, (title, detail, statuses) in enumerate(plan, start=1):
        if index <= progress:
            current = index == progress and status is not PickupStatus.FAILED
            steps.append(Step(title, detail, "current" if current else "done", _reached_at(pickup, *statuses)))
        else:
            steps.append(Step(title, "", "upcoming"))
        if index == 1 and status is PickupStatus.FAILED:
            words = _FAILURE_WORDS.get(pickup.failure_reason or FailureReason.OTHER, _FAILURE_WORDS[FailureReason.OTHER])
            steps.append(
                Step(
                    "Not collected",
                    f"{words} Choose a new window below and we will come again. "
                    "Adding access notes helps the next visit go smoothly."
                    if can_rebook(pickup)
                    else f"{words} We will get in touch to arrange a new pickup.",
                    "problem",
                    _reached_at(pickup, status),
                )
            )
    return steps


def _partly(pickup: Pickup) -> bool:
    return any(item.collected_quantity is not None and item.collected_quantity < item.quantity for item in pickup.items)


def can_edit_access_notes(pickup: Pickup) -> bool:
    """Notes help only while a driver still has to come."""
    return access_notes_editable(pickup)


def can_cancel(pickup: Pickup) -> bool:
    """A customer may cancel only before a driver has the pickup on their route."""
    return pickup.status is PickupStatus.UNASSIGNED


def cancel_return(pickup: Pickup, reason: str) -> Pickup:
    """Cancel at the customer's request; only while no driver has the pickup yet."""
    if not can_cancel(pickup):
        raise Conflict(
            "A driver already has this pickup on their route, so it can no longer be cancelled here. "
            "Please contact the shop you are returning to.",
            code="cannot_cancel",
        )
    reason = reason.strip()
    return cancel_pickup(pickup, f"By the customer: {reason}" if reason else "By the customer.", actor=None, by_customer=True)


@dataclass(frozen=True)
class SlotChoice:
    value: str
    label: str


def slot_choices(pickup: Pickup) -> list[tuple[str, list[SlotChoice]]]:
    """The hub's windows for a rebooking, grouped by day, in the hub's words and time."""
    tz = ZoneInfo(pickup.hub.timezone or "UTC")
    days: dict[str, list[SlotChoice]] = {}
    for slot in rebook_slots(pickup):
        start, end = slot.start.astimezone(tz), slot.end.astimezone(tz)
        days.setdefault(f"{start:%A} {start.day} {start:%B}", []).append(SlotChoice(slot.value, f"{start:%H:%M}–{end:%H:%M}"))
    return list(days.items())


def rebook_return(pickup: Pickup, slot: Slot) -> Pickup:
    """The customer chose a new window (after a failed visit, or before a driver is assigned)."""
    return rebook_pickup(pickup, slot, actor=None, by_customer=True)


@dataclass(frozen=True)
class SentMessage:
    title: str
    when: datetime | None
    state: str


_EMAIL_TITLES = {
    "scheduled": "Booking confirmation with your label",
    "rebooked": "New window confirmed",
    "on_the_day": "Your pickup is today",
    "collected": "Receipt",
    "not_collected": "We could not collect",
    "received": "Arrived at the hub",
}


def emails_sent(pickup: Pickup) -> list[SentMessage]:
    """The emails we sent about this return (what the customer should find in their inbox)."""
    return [
        SentMessage(_EMAIL_TITLES.get(message.topic, message.topic), message.sent_at, "sent")
        for message in messages_about(pickup.id, "email")
        if message.status is MessageStatus.SENT
    ]
