"""What reports does when pickups or receiving announce a change: count the pickup again before the commit."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.extensions import db
from app.pickups import events as pickup_events
from app.receiving import events as receiving_events
from app.reports.rollup import mark_pickups

# The events that can move a figure: status, driver, day, items, decisions, the timeline's stop times.
# (Route order, access notes, scans, notes and the retention purge change none.)
COUNTED = (
    pickup_events.pickup_created,
    pickup_events.pickup_edited,
    pickup_events.pickup_assigned,
    pickup_events.pickup_unassigned,
    pickup_events.pickup_cancelled,
    pickup_events.driver_arrived,
    pickup_events.pickup_collected,
    pickup_events.pickup_failed,
    pickup_events.field_conflict_recorded,
    pickup_events.pickup_received,
    pickup_events.pickup_rebooked,
    receiving_events.dispositions_set,
)


def _count_again(sender: Any, events: Sequence[Any]) -> None:
    mark_pickups(db.session(), [event.pickup for event in events])


def subscribe() -> None:
    """Wire the rollup to the events (once; connecting again changes nothing)."""
    for signal in COUNTED:
        signal.connect(_count_again)
