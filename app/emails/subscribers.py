"""What emails does when pickups announce a change: queue the customer's email in the same transaction."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.emails.services import CHANNEL, queue_emails, queue_reminders, send_email
from app.outbox.services import register_sender
from app.pickups import events as pickup_events


def _scheduled(sender: Any, events: Sequence[pickup_events.PickupCreated]) -> None:
    queue_emails("scheduled", [event.pickup for event in events])


def _on_the_day(sender: Any, events: Sequence[pickup_events.PickupAssigned]) -> None:
    # A first assignment only: a reassignment to another driver changes nothing for the customer.
    queue_reminders([e.pickup for e in events if e.previous_driver_id is None])


def _window_moved(sender: Any, events: Sequence[pickup_events.PickupEdited]) -> None:
    # An assigned pickup moved to another day is reminded of on that day; the old reminder is skipped
    # when it comes due, and a second one on the same day finds the first already sent.
    queue_reminders([e.pickup for e in events if e.pickup.driver_id and any(f.startswith("window") for f in e.fields)])


def _collected(sender: Any, events: Sequence[pickup_events.PickupCollected]) -> None:
    queue_emails("collected", [event.pickup for event in events])


def _not_collected(sender: Any, events: Sequence[pickup_events.PickupFailed]) -> None:
    queue_emails("not_collected", [event.pickup for event in events])


def _rebooked(sender: Any, events: Sequence[pickup_events.PickupRebooked]) -> None:
    queue_emails("rebooked", [event.pickup for event in events])


def _received(sender: Any, events: Sequence[pickup_events.PickupReceived]) -> None:
    queue_emails("received", [event.pickup for event in events])


def subscribe() -> None:
    """Wire emails to the pickups' events and to the outbox (once; connecting again changes nothing)."""
    pickup_events.pickup_created.connect(_scheduled)
    pickup_events.pickup_assigned.connect(_on_the_day)
    pickup_events.pickup_edited.connect(_window_moved)
    pickup_events.pickup_collected.connect(_collected)
    pickup_events.pickup_failed.connect(_not_collected)
    pickup_events.pickup_rebooked.connect(_rebooked)
    pickup_events.pickup_received.connect(_received)
    register_sender(CHANNEL, send_email)


def unsubscribe() -> None:
    """Disconnect again (the benchmark measures a push without the outbox's subscribers)."""
    for signal, handler in (
        (pickup_events.pickup_created, _scheduled),
        (pickup_events.pickup_assigned, _on_the_day),
        (pickup_events.pickup_edited, _window_moved),
        (pickup_events.pickup_collected, _collected),
        (pickup_events.pickup_failed, _not_collected),
        (pickup_events.pickup_rebooked, _rebooked),
        (pickup_events.pickup_received, _received),
    ):
        signal.disconnect(handler)
