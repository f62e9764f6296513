"""What the hub decides for each returned item."""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import TimestampMixin
from app.extensions import Model

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.pickups.models import PickupItem


class Disposition(str, enum.Enum):
    """What the hub does with a returned item."""

    RESTOCK = "restock"
    REFURBISH = "refurbish"
    RESELL = "resell"
    RECYCLE = "recycle"


class ItemDisposition(TimestampMixin, Model):
    """The hub clerk's decision for one received item (one per item)."""

    __tablename__ = "item_dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_item_id: Mapped[int] = mapped_column(ForeignKey("pickup_items.id", ondelete="CASCADE"), unique=True)
    disposition: Mapped[Disposition] = mapped_column(
        Enum(Disposition, name="disposition", values_callable=lambda e: [m.value for m in e], validate_strings=True)
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[PickupItem] = relationship()
    decided_by: Mapped[User | None] = relationship()
