"""What sync does when pickups announce a change: tell a phone whose driver lost a pickup to drop it."""
from __future__ import annotations

from collections.abc import Sequence

from app.pickups import events as pickup_events
from app.sync.scope import record_scope_exit


def _left_a_route_by_reassignment(sender: object, events: Sequence[pickup_events.PickupAssigned]) -> None:
    for event in events:
        if event.previous_driver_id is not None and event.previous_driver_id != event.driver_id:
            record_scope_exit(event.pickup.id, event.previous_driver_id, "reassigned")


def _left_a_route_by_unassignment(sender: object, events: Sequence[pickup_events.PickupUnassigned]) -> None:
    for event in events:
        if event.previous_driver_id is not None:
            record_scope_exit(event.pickup.id, event.previous_driver_id, "unassigned")


def subscribe() -> None:
    """Wire sync to the pickups' events (once; connecting again changes nothing)."""
    pickup_events.pickup_assigned.connect(_left_a_route_by_reassignment)
    pickup_events.pickup_unassigned.connect(_left_a_route_by_unassignment)
