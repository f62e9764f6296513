"""Hubs: the depots returned goods travel back to."""
from __future__ import annotations

from sqlalchemy import JSON, Integer, String
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
    # The windows a customer may choose when rebooking (hub local time): slots of
    # ``slot_minutes`` from ``opens_hour`` to ``closes_hour``, for the next ``booking_days_ahead`` days.
    booking_days_ahead: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    slot_minutes: Mapped[int] = mapped_column(Integer, default=120, server_default="120")
    opens_hour: Mapped[int] = mapped_column(Integer, default=9, server_default="9")
    closes_hour: Mapped[int] = mapped_column(Integer, default=17, server_default="17")
    # Customer email kinds this hub does not send (e.g. ["received"] when the shop sends its own).
    emails_off: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    def __repr__(self) -> str:
        return f"<Hub {self.code}>"
