from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import TimestampMixin, UTCDateTime, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.accounts.models import User


class MutationStatus(str, enum.Enum):
    APPLIED = "applied"
    REJECTED = "rejected"


class SyncClient(TimestampMixin, Model):
    """One installed driver app, bound to the driver who first used it.

    ``last_mutation_id`` is the exactly-once guarantee: a mutation id at or
    below it has been processed (applied or rejected) and is never applied again.
    """

    __tablename__ = "sync_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    last_mutation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # The highest id the phone has shown us, processed or not: the gap tells how much is waiting.
    highest_seen_mutation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_cursor: Mapped[int | None] = mapped_column(BigInteger)
    # Device clock minus server clock at the last push, when the phone said when it sent it.
    clock_skew_seconds: Mapped[int | None] = mapped_column(Integer)
    app_version: Mapped[str | None] = mapped_column(String(40))
    # What the phone said it still holds at its last push or pull (docs/sync-protocol.md "held"):
    # the server cannot see an outbox that never reaches it, so the phone reports it.
    held_actions: Mapped[int | None] = mapped_column(Integer)
    held_photos: Mapped[int | None] = mapped_column(Integer)
    held_oldest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(300))

    driver: Mapped[User] = relationship()


class SyncMutation(Model):
    """What a phone asked for, and what we answered: kept for duplicates and evidence."""

    __tablename__ = "sync_mutations"
    __table_args__ = (
        UniqueConstraint("sync_client_id", "mutation_id", name="uq_sync_mutations_client_mutation"),
        Index("ix_sync_mutations_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_client_id: Mapped[int] = mapped_column(ForeignKey("sync_clients.id", ondelete="CASCADE"))
    mutation_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(40))
    args: Mapped[Any] = mapped_column(JSON)
    base_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[MutationStatus] = mapped_column(
        Enum(MutationStatus, name="sync_mutation_status", values_callable=lambda e: [m.value for m in e])
    )
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    # The acknowledgement as first given (fields, pickup id and version), repeated for duplicates.
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("pickups.id", ondelete="SET NULL"), index=True)
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clock_skew_seconds: Mapped[int | None] = mapped_column(Integer)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]

    client: Mapped[SyncClient] = relationship()


class SyncTombstone(Model):
    """A pickup left a driver's scope (reassigned or unassigned): their next pull deletes it."""

    __tablename__ = "sync_tombstones"
    __table_args__ = (Index("ix_sync_tombstones_driver_seq", "driver_id", "change_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"), index=True)
    change_seq: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncState(Model):
    """Process-wide sync bookkeeping in one row (created on first use).

    ``finished_hidden_before``: finished pickups last changed before this instant
    are out of their driver's scope (the age-out sweep has given them a change
    number). ``tombstones_purged_through``: cursors at or below this number may
    have missed a purged delete, so they get a full reset.
    """

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finished_hidden_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tombstones_purged_through: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncDriverDays(Model):
    """The days a driver's phones carry, as the last pull counted them: from ``days_start`` to ``days_end``.

    Stored rather than worked out afresh at each pull so that a pull evaluates
    the scope with the same days whose crossing pickups were given change
    numbers (``app.sync.scope.carry_days``): at midnight the stored days move and
    the pickups entering or leaving them are stamped in the same transaction.
    """

    __tablename__ = "sync_driver_days"

    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    days_start: Mapped[datetime] = mapped_column(UTCDateTime)
    days_end: Mapped[datetime] = mapped_column(UTCDateTime)
