"""Receiving's own announcement: the hub decided what happens to items (for ``item.disposition_set``).

Sent once per receipt, during the transaction, with every item decided in it;
a subscriber that writes (an outbox row for a webhook) is committed or rolled
back with the decision.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from blinker import Namespace

signals = Namespace()


@dataclass(frozen=True)
class DecidedItem:
    item_id: int
    disposition: str
    quantity: int
    reason: str = ""
    suggested: str | None = None
    rule: str = ""


@dataclass(frozen=True)
class DispositionsSet:
    pickup_id: int
    actor_id: int | None
    items: tuple[DecidedItem, ...] = field(default_factory=tuple)


dispositions_set = signals.signal("dispositions-set")


def announce_dispositions(event: DispositionsSet) -> None:
    """Tell the subscribers (webhooks) once, with the whole list."""
    if event.items:
        dispositions_set.send(None, events=[event])
