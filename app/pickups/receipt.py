"""What the hub finds in the parcel: its count and grade per item, the items nobody expected, and every
difference from the doorstep record, kept as a discrepancy with both sides.

The hub's figures are written beside the driver's (``received_quantity`` next to
``collected_quantity``), never over them: the door's record is evidence, and the
per-driver report counts where the two disagree. What the hub then decides for
each item (restock, recycle …) is receiving's, not a pickup fact.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.accounts.models import User
from app.core.errors import InvalidInput
from app.core.models import utcnow
from app.extensions import db
from app.pickups.models import DiscrepancyKind, Grade, ItemDiscrepancy, Pickup, PickupItem

MAX_QUANTITY = 10_000


@dataclass(frozen=True)
class CheckedItem:
    """One expected item as the hub counted and graded it (quantity 0: it was not in the parcel)."""

    item_id: int
    quantity: int
    grade: Grade | None
    value: Decimal | None = None
    weight_kg: Decimal | None = None


@dataclass(frozen=True)
class ExtraItem:
    """An item that arrived but was not on the pickup."""

    sku: str
    description: str
    quantity: int
    grade: Grade | None
    category: str = ""
    value: Decimal | None = None
    weight_kg: Decimal | None = None


@dataclass
class Receipt:
    pickup: Pickup
    # Every item that is at the hub now (hub quantity above 0), extras last, in the order they were sent.
    arrived: list[PickupItem] = field(default_factory=list)
    extras: list[PickupItem] = field(default_factory=list)
    discrepancies: list[ItemDiscrepancy] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        """The discrepancies as the API and the timeline give them."""
        return [discrepancy_json(d) for d in self.discrepancies]


def discrepancy_json(d: ItemDiscrepancy) -> dict[str, Any]:
    return {"item_id": d.item_id or d.item.id, "kind": d.kind.value, "door": d.door, "hub": d.hub}


def door_quantity(item: PickupItem) -> int:
    """What the driver says was handed over (an item never counted at the door: what was asked for)."""
    return item.collected_quantity if item.collected_quantity is not None else item.quantity


def expected_items(pickup: Pickup) -> list[PickupItem]:
    """The items that should be in the parcel: those the driver did not leave behind."""
    return [item for item in pickup.items if not item.unexpected and door_quantity(item) != 0]


def check_receipt(pickup: Pickup, checked: Sequence[CheckedItem], extras: Sequence[ExtraItem]) -> None:
    """Refuse a receipt that leaves an expected item out, names one twice or one of another pickup."""
    problems: dict[str, list[str]] = {}
    by_id = {item.id: item for item in pickup.items}
    seen: set[int] = set()
    for line in checked:
        if line.item_id not in by_id:
            problems[f"items.{line.item_id}"] = ["This item is not on this pickup."]
        elif line.item_id in seen:
            problems[f"items.{line.item_id}"] = ["Listed twice."]
        seen.add(line.item_id)
        if not 0 <= line.quantity <= MAX_QUANTITY:
            problems[f"quantity-{line.item_id}"] = [f"Count between 0 and {MAX_QUANTITY}."]
    for item in expected_items(pickup):
        if item.id not in seen:
            problems[f"quantity-{item.id}"] = [f"Say how many of “{item.description}” arrived (0 if none)."]
    for index, extra in enumerate(extras):
        if not 1 <= extra.quantity <= MAX_QUANTITY:
            problems[f"extra-{index}-quantity"] = [f"Count between 1 and {MAX_QUANTITY}."]
        if not extra.description.strip():
            problems[f"extra-{index}-description"] = ["Say what arrived."]
    if problems:
        raise InvalidInput("Check the counts: every expected item needs one (0 if it is missing).", fields=problems)


def record_receipt(
    pickup: Pickup,
    checked: Sequence[CheckedItem],
    extras: Sequence[ExtraItem] = (),
    *,
    actor: User,
) -> Receipt:
    """Write the hub's count and grade per item, add unexpected items and keep each difference.

    The caller then decides each arrived item's fate and calls ``mark_received``
    with ``receipt.summary()`` in the same transaction.
    """
    check_receipt(pickup, checked, extras)
    by_id = {item.id: item for item in pickup.items}
    receipt = Receipt(pickup)
    now = utcnow()

    def differs(item: PickupItem, kind: DiscrepancyKind, door: str | None, hub: str | None) -> None:
        receipt.discrepancies.append(
            ItemDiscrepancy(
                pickup_id=pickup.id, item=item, kind=kind, door=door, hub=hub,
                driver_id=pickup.driver_id, recorded_by_id=actor.id, recorded_at=now,
            )
        )

    for line in checked:
        item = by_id[line.item_id]
        item.received_quantity = line.quantity
        item.received_grade = line.grade if line.quantity else None
        if line.value is not None:
            item.value = line.value
        if line.weight_kg is not None:
            item.weight_kg = line.weight_kg
        door = door_quantity(item)
        if line.quantity == 0 and door > 0:
            differs(item, DiscrepancyKind.MISSING, str(door), "0")
        elif line.quantity != door:
            differs(item, DiscrepancyKind.QUANTITY, str(door), str(line.quantity))
        if line.quantity and line.grade is not None and line.grade != item.grade:
            differs(item, DiscrepancyKind.GRADE, item.grade.value if item.grade else None, line.grade.value)
        if line.quantity:
            receipt.arrived.append(item)

    position = max((item.position for item in pickup.items), default=-1) + 1
    for offset, extra in enumerate(extras):
        item = PickupItem(
            position=position + offset, sku=extra.sku.strip() or "UNLISTED", description=extra.description.strip(),
            quantity=0, reason="", category=extra.category, value=extra.value, weight_kg=extra.weight_kg,
            collected_quantity=0, received_quantity=extra.quantity, received_grade=extra.grade, unexpected=True,
        )
        pickup.items.append(item)
        receipt.extras.append(item)
        receipt.arrived.append(item)
        differs(item, DiscrepancyKind.EXTRA, None, str(extra.quantity))

    db.session.add_all(receipt.discrepancies)
    db.session.flush()  # the extras get their ids, which the timeline and the dispositions name
    return receipt


def discrepancies_of(pickup: Pickup) -> list[ItemDiscrepancy]:
    """The differences the hub recorded for this pickup, in the order they were found."""
    return list(
        db.session.scalars(db.select(ItemDiscrepancy).where(ItemDiscrepancy.pickup_id == pickup.id).order_by(ItemDiscrepancy.id))
    )
