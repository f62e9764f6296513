"""Hubs: the depots returned goods travel back to."""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import TimestampMixin
from app.extensions import Model


class Hub(TimestampMixin, Model):
    """A depot that returned goods travel back to."""

    __tablename__ = "hubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # Pickup windows are shown in the hub's local time.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")

    def __repr__(self) -> str:
        return f"<Hub {self.code}>"
