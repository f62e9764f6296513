"""Everything that needs a person today, with the action to take: the dispatcher's exceptions list.

It lives with sync because most of it is what phones reported (rejected actions,
facts kept for review, phones gone quiet); failed pickups come from app.pickups.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.pickups.models import Pickup, PickupEvent, PickupStatus
from app.sync.health import RECENT, DriverHealth, driver_sync_health
from app.sync.models import MutationStatus, SyncClient, SyncMutation

# A phone that has not pulled for this long during a working day may be off, broken or out of signal.
QUIET_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class Exceptions:
    failed: list[Pickup]
    review: list[PickupEvent]
    rejected: list[tuple[SyncMutation, Pickup | None]]
    quiet: list[DriverHealth]

    @property
    def count(self) -> int:
        return len(self.failed) + len(self.review) + len(self.rejected) + len(self.quiet)


def open_exceptions(now: datetime) -> Exceptions:
    """Failed pickups not yet rebooked, events needing review, recent rejected driver actions, quiet phones."""
    since = now - RECENT
    failed = list(db.session.scalars(select(Pickup).where(Pickup.status == PickupStatus.FAILED).order_by(Pickup.window_start).limit(200)))
    review = list(db.session.scalars(
        select(PickupEvent).where(PickupEvent.needs_review.is_(True), PickupEvent.server_time >= since)
        .order_by(PickupEvent.server_time.desc()).limit(200)
    ))
    rejected: list[tuple[SyncMutation, Pickup | None]] = [
        (mutation, pickup) for mutation, pickup in db.session.execute(
            select(SyncMutation, Pickup).join(SyncClient, SyncClient.id == SyncMutation.sync_client_id)
            .outerjoin(Pickup, Pickup.id == SyncMutation.pickup_id)
            .where(SyncMutation.status == MutationStatus.REJECTED, SyncMutation.received_at >= since)
            .order_by(SyncMutation.received_at.desc()).limit(200)
        )
    ]
    quiet = [
        h for h in driver_sync_health(now)
        if h.driver.active and h.clients and (h.last_pull_at is None or now - h.last_pull_at > QUIET_AFTER or h.waiting or h.skew_flagged)
    ]
    return Exceptions(failed, review, rejected, quiet)
