"""What receiving announces, for the domains above it (webhooks): the hub decided items' dispositions."""
from __future__ import annotations

from dataclasses import dataclass, field

from blinker import Namespace

from app.pickups.models import Pickup

signals = Namespace()


@dataclass(frozen=True)
class DispositionsSet:
    """A clerk decided what happens to the items of one pickup (item id → disposition)."""

    pickup: Pickup
    actor_id: int | None
    dispositions: dict[int, str] = field(default_factory=dict)


# Sent inside the transaction of the decision, with ``events=[DispositionsSet, …]``.
dispositions_set = signals.signal("dispositions-set")
