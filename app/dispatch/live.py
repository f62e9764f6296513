"""What keeps the board live: a cheap token that changes whenever anything a dispatcher sees changes.

Every pickup change takes a number from the change sequence (app.pickups.changes)
and every timeline entry gets an id; the token is the newest of both. Reading it
is two index lookups, answered the same by every app instance behind a load
balancer, so the console polls it (a few bytes every few seconds) and fetches
the page again only when it moved.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.photos.models import PhotoLink
from app.pickups.changes import last_change_number
from app.pickups.models import PickupEvent

# How often the console asks (milliseconds); the page says it, so it can be tuned without a deploy of the JS.
POLL_INTERVAL_MS = 4000


def change_token() -> str:
    """Changes whenever a pickup or its timeline changes (a driver's sync, another dispatcher's edit)."""
    last_event = db.session.scalar(select(func.max(PickupEvent.id))) or 0
    return f"{last_change_number()}.{last_event}"


@dataclass(frozen=True)
class BoardMarks:
    """What the board flags per pickup: photos to look at, events that need a person."""

    photos: dict[int, int]
    needs_review: dict[int, int]


def marks_for(pickup_ids: Sequence[int]) -> BoardMarks:
    """Photo and needs-review counts for the pickups on one page, in two grouped queries."""
    if not pickup_ids:
        return BoardMarks({}, {})
    photos = db.session.execute(
        select(PhotoLink.pickup_id, func.count(func.distinct(PhotoLink.photo_id))).where(PhotoLink.pickup_id.in_(pickup_ids)).group_by(PhotoLink.pickup_id)
    ).all()
    review = db.session.execute(
        select(PickupEvent.pickup_id, func.count())
        .where(PickupEvent.pickup_id.in_(pickup_ids), PickupEvent.needs_review.is_(True))
        .group_by(PickupEvent.pickup_id)
    ).all()
    return BoardMarks({pid: n for pid, n in photos}, {pid: n for pid, n in review})
