"""What the hub decides for each returned item, and the rules that suggest it."""
from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import TimestampMixin
from app.extensions import Model
from app.pickups.models import Grade

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.pickups.models import PickupItem


class Disposition(str, enum.Enum):
    """What the hub does with a returned item."""

    RESTOCK = "restock"
    REFURBISH = "refurbish"
    RESELL = "resell"
    RECYCLE = "recycle"
    DISPOSE = "dispose"
    RETURN_TO_CUSTOMER = "return_to_customer"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e], validate_strings=True)


class ItemDisposition(TimestampMixin, Model):
    """The hub clerk's decision for one received item (one per item), with what it recovered.

    The recovered value and the weight kept from landfill are worked out when the
    decision is made, with the rates of that day, so a later change of rates does
    not rewrite last year's report, and the report sums two columns.
    """

    __tablename__ = "item_dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_item_id: Mapped[int] = mapped_column(ForeignKey("pickup_items.id", ondelete="CASCADE"), unique=True)
    disposition: Mapped[Disposition] = mapped_column(_enum(Disposition, "disposition"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How many units this decision covers (the hub's count).
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # Why: required for a return to the customer, optional otherwise.
    reason: Mapped[str] = mapped_column(Text, default="")
    # What the rules suggested, and the rule in words as the clerk saw it (rules are edited later).
    suggested: Mapped[Disposition | None] = mapped_column(_enum(Disposition, "disposition"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("disposition_rules.id", ondelete="SET NULL"))
    rule_text: Mapped[str] = mapped_column(String(300), default="")
    recovered_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    kept_from_landfill_kg: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))

    item: Mapped[PickupItem] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def overridden(self) -> bool:
        """The clerk chose something else than the rules suggested."""
        return self.suggested is not None and self.suggested is not self.disposition


class DispositionRule(TimestampMixin, Model):
    """One line of the rules table: when an item matches every condition given, suggest ``disposition``.

    Rules are read in ``position`` order and the first match wins; an empty
    condition matches anything.
    """

    __tablename__ = "disposition_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    # Matched against the item's return reason as words ("changed_mind" matches "Changed mind").
    reason: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    grade: Mapped[Grade | None] = mapped_column(_enum(Grade, "condition_grade"))
    disposition: Mapped[Disposition] = mapped_column(_enum(Disposition, "disposition"))
    note: Mapped[str] = mapped_column(String(200), default="")


class RecoveryRate(Model):
    """The admin's figure per disposition: the share of an item's value recovered, and whether its weight
    counts as kept out of landfill. Missing rows fall back to the defaults in ``receiving.valuation``."""

    __tablename__ = "recovery_rates"

    disposition: Mapped[Disposition] = mapped_column(_enum(Disposition, "disposition"), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    keeps_from_landfill: Mapped[bool] = mapped_column(default=True)
