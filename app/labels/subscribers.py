"""What labels does when pickups announce a change: every new pickup gets its label code and customer link."""
from __future__ import annotations

from collections.abc import Sequence

from app.labels.services import label_new_pickups
from app.pickups import events as pickup_events


def _label_new_pickups(sender: object, events: Sequence[pickup_events.PickupCreated]) -> None:
    label_new_pickups([event.pickup for event in events])


def subscribe() -> None:
    """Wire labels to the pickups' events (once; connecting again changes nothing)."""
    pickup_events.pickup_created.connect(_label_new_pickups)
