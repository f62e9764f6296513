"""Per-driver sync health for the dispatcher: who is in touch, what is stuck, whose clock is off."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.extensions import db
from app.photos.services import photos_awaiting_by_driver
from app.pickups.models import Pickup
from app.sync.models import MutationStatus, SyncClient, SyncMutation

RECENT = timedelta(days=7)


@dataclass
class ClientHealth:
    client: SyncClient
    skew_flagged: bool
    # The phone said it has held unsent work longer than SYNC_HELD_FLAG_MINUTES.
    held_too_long: bool = False

    @property
    def held(self) -> int:
        """Actions and photos the phone said it still holds (0 when it never said)."""
        return (self.client.held_actions or 0) + (self.client.held_photos or 0)

    @property
    def waiting(self) -> int:
        """Mutations the phone has shown us but we could not process yet (after a gap)."""
        return max(0, self.client.highest_seen_mutation_id - self.client.last_mutation_id)


@dataclass
class Rejection:
    mutation: SyncMutation
    reference: str | None


@dataclass
class DriverHealth:
    driver: User
    clients: list[ClientHealth] = field(default_factory=list)
    rejected_recent: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    photos_awaiting: int = 0

    @property
    def last_push_at(self) -> datetime | None:
        return max((c.client.last_push_at for c in self.clients if c.client.last_push_at), default=None)

    @property
    def last_pull_at(self) -> datetime | None:
        return max((c.client.last_pull_at for c in self.clients if c.client.last_pull_at), default=None)

    @property
    def waiting(self) -> int:
        return sum(c.waiting for c in self.clients)

    @property
    def skew_flagged(self) -> bool:
        return any(c.skew_flagged for c in self.clients)

    @property
    def held_actions(self) -> int:
        return sum(c.client.held_actions or 0 for c in self.clients)

    @property
    def held_photos(self) -> int:
        return sum(c.client.held_photos or 0 for c in self.clients)

    @property
    def held_oldest_at(self) -> datetime | None:
        return min((c.client.held_oldest_at for c in self.clients if c.held and c.client.held_oldest_at), default=None)

    @property
    def held_too_long(self) -> bool:
        return any(c.held_too_long for c in self.clients)

    @property
    def needs_attention(self) -> bool:
        return bool(self.waiting or self.rejected_recent or self.photos_awaiting or self.skew_flagged or self.held_too_long)


def driver_sync_health(now: datetime) -> list[DriverHealth]:
    """Every driver with their app installs, waiting and rejected mutations, clock and photos."""
    flag = current_app.config["SYNC_CLOCK_SKEW_FLAG_SECONDS"]
    held_limit = now - timedelta(minutes=current_app.config["SYNC_HELD_FLAG_MINUTES"])
    drivers = list(db.session.scalars(select(User).where(User.role == Role.DRIVER).order_by(User.name)))
    health = {driver.id: DriverHealth(driver) for driver in drivers}
    for client in db.session.scalars(select(SyncClient).order_by(SyncClient.last_push_at.desc().nulls_last(), SyncClient.id)):
        if client.driver_id in health:
            skewed = client.clock_skew_seconds is not None and abs(client.clock_skew_seconds) > flag
            held_long = bool(client.held_actions or client.held_photos) and client.held_oldest_at is not None and client.held_oldest_at < held_limit
            health[client.driver_id].clients.append(ClientHealth(client, skewed, held_long))

    since = now - RECENT
    counts = db.session.execute(
        select(SyncClient.driver_id, func.count(SyncMutation.id))
        .join(SyncClient, SyncClient.id == SyncMutation.sync_client_id)
        .where(SyncMutation.status == MutationStatus.REJECTED, SyncMutation.received_at >= since)
        .group_by(SyncClient.driver_id)
    )
    for driver_id, count in counts:
        if driver_id in health:
            health[driver_id].rejected_recent = count
    latest = db.session.execute(
        select(SyncMutation, SyncClient.driver_id, Pickup.reference)
        .join(SyncClient, SyncClient.id == SyncMutation.sync_client_id)
        .outerjoin(Pickup, Pickup.id == SyncMutation.pickup_id)
        .where(SyncMutation.status == MutationStatus.REJECTED, SyncMutation.received_at >= since)
        .order_by(SyncMutation.received_at.desc(), SyncMutation.id.desc())
        .limit(200)
    )
    per_driver: dict[int, list[Rejection]] = defaultdict(list)
    for mutation, driver_id, reference in latest:
        if len(per_driver[driver_id]) < 3:
            per_driver[driver_id].append(Rejection(mutation, reference))
    for driver_id, rejections in per_driver.items():
        if driver_id in health:
            health[driver_id].rejections = rejections
    for driver_id, count in photos_awaiting_by_driver().items():
        if driver_id in health:
            health[driver_id].photos_awaiting = count
    return list(health.values())
