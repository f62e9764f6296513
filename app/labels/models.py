"""The customer's link: one secret token per pickup, kept apart from the label code."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.core.models import UTCDateTime, utcnow
from app.extensions import Model
from app.pickups.models import Pickup


class CustomerToken(Model):
    """The secret in a customer's link (``/r/<token>``).

    A pickup has at most one active token (``revoked_at`` empty); reissuing
    revokes the old one and adds a new row, so old links keep answering 404
    instead of silently pointing somewhere else. Expiry is not stored: it
    follows from when the pickup was received or cancelled (see
    ``labels.services.link_expires_at``), so it can never drift from the
    pickup's real history.
    """

    __tablename__ = "customer_tokens"
    __table_args__ = (
        # The database itself refuses a second active link for one pickup.
        Index(
            "uq_customer_tokens_active_pickup",
            "pickup_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # ``pickup.customer_tokens`` is loaded in one extra query per batch of
    # pickups (selectin), so a page of 500 pickups in the API does not cost
    # 500 lookups to fill in ``customer_url``.
    pickup: Mapped[Pickup] = relationship(
        backref=backref("customer_tokens", lazy="selectin", order_by="CustomerToken.id", passive_deletes=True)
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<CustomerToken {self.id} pickup={self.pickup_id} {'active' if self.active else 'revoked'}>"
