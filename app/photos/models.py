from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import UTCDateTime, utcnow
from app.extensions import Model


class Photo(Model):
    """A stored photo: the normalised JPEG, its thumbnail, and the hash of what the phone sent.

    The id is the phone's UUID, so an upload can be retried and recognised.
    """

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the bytes exactly as uploaded (the phone's copy), hex.
    sha256: Mapped[str] = mapped_column(String(64))
    source_format: Mapped[str] = mapped_column(String(8))
    source_bytes: Mapped[int] = mapped_column(Integer)
    # Server-made file names, relative to PHOTO_STORAGE_DIR.
    stored_name: Mapped[str] = mapped_column(String(120))
    thumb_name: Mapped[str] = mapped_column(String(120))
    stored_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When and where the phone says the photo was taken (its own clock and fix, sent with the
    # upload): the action a photo belongs to may be recorded minutes later, somewhere else.
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)


class PhotoLink(Model):
    """A driver's action refers to a photo by id; the photo may arrive before or after it.

    No foreign key to ``photos``: the link is written when the mutation is, and
    joins the photo whenever the upload lands (only a photo uploaded by the same
    driver counts).
    """

    __tablename__ = "photo_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[str] = mapped_column(String(36), index=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_items.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_events.id", ondelete="SET NULL"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # item (condition), signature, failure (evidence of a failed attempt), note
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
