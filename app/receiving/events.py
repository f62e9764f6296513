"""What receiving announces, for the domains above it (webhooks): the hub decided items' dispositions."""
from __future__ import annotations

from dataclasses import dataclass, field

from blinker import Namespace

from app.pickups.models import Pickup

signals = Namespace()


@dataclass(frozen=True)
class DecidedItem:
    """One decision with what stood behind it: the count, the reason, the rules' suggestion."""

    item_id: int
    disposition: str
    quantity: int
    reason: str = ""
    suggested: str | None = None
    rule: str = ""


@dataclass(frozen=True)
class DispositionsSet:
    """A clerk decided what happens to the items of one pickup (item id → disposition)."""

    pickup: Pickup
    actor_id: int | None
    dispositions: dict[int, str] = field(default_factory=dict)
    # The same decisions in detail, in the order they were made.
    items: tuple[DecidedItem, ...] = ()


# Sent inside the transaction of the decision, with ``events=[DispositionsSet, …]``.
dispositions_set = signals.signal("dispositions-set")
