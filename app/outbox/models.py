"""One message to the outside world (an email, a webhook delivery) and where it stands."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import UTCDateTime, utcnow
from app.extensions import Model


class MessageStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for its first try, or for the next one after a failure
    SENDING = "sending"  # a worker holds it until ``locked_until``
    SENT = "sent"  # the mail server or receiver accepted it
    HELD = "held"  # nowhere to send it (no mail server configured); kept, re-sendable
    DEAD = "dead"  # gave up after the last try; kept with its last error, re-sendable
    SKIPPED = "skipped"  # no longer true when it came due (a reminder for a pickup moved to another day)


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Which sender delivers it ("email", "webhook") and what it is about ("scheduled", "pickup.created").
    channel: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(60))
    # Who it goes to, for people reading the log: an email address or a webhook URL.
    recipient: Mapped[str] = mapped_column(String(500))
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("pickups.id", ondelete="SET NULL"), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[MessageStatus] = mapped_column(
        Enum(MessageStatus, name="outbox_status", values_callable=lambda e: [m.value for m in e]), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it first became due: its creation, or later for a message queued ahead (the morning
    # reminder). "Waiting since" counts from here, so a reminder queued the evening before is not old.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda context: context.get_current_parameters().get("created_at") or utcnow())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scheduled(self) -> bool:
        """Queued ahead and not due yet (never tried)."""
        return self.status is MessageStatus.PENDING and not self.attempts and self.due_at is not None and self.due_at > utcnow()

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel}:{self.topic} {self.status.value}>"
