"""What webhooks does when pickups (and receiving) announce a change: queue a delivery for each endpoint that wants it."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.outbox.services import register_sender
from app.pickups import events as pickup_events
from app.receiving import events as receiving_events
from app.webhooks.services import CHANNEL, queue_event, send_webhook

_TOPICS = {
    pickup_events.pickup_created: "pickup.created",
    pickup_events.pickup_assigned: "pickup.assigned",
    pickup_events.pickup_collected: "pickup.collected",
    pickup_events.pickup_failed: "pickup.failed",
    pickup_events.pickup_rebooked: "pickup.rebooked",
    pickup_events.pickup_cancelled: "pickup.cancelled",
    pickup_events.pickup_received: "pickup.received",
}


def _on_pickup_event(sender: Any, events: Sequence[pickup_events.DomainEvent], signal: Any) -> None:
    queue_event(_TOPICS[signal], [event.pickup for event in events])


def _handler(signal: Any) -> Any:
    def handle(sender: Any, events: Sequence[pickup_events.DomainEvent]) -> None:
        _on_pickup_event(sender, events, signal)

    return handle


# Blinker keeps weak references: the handlers live here, for as long as the process.
_HANDLERS = {signal: _handler(signal) for signal in _TOPICS}


def _on_dispositions(sender: Any, events: Sequence[receiving_events.DispositionsSet]) -> None:
    pickups, facts = [], []
    for event in events:
        details = {decided.item_id: decided for decided in event.items}
        for item_id, disposition in event.dispositions.items():
            pickups.append(event.pickup)
            item: dict[str, Any] = {"id": item_id, "disposition": disposition}
            if item_id in details:
                item.update(quantity=details[item_id].quantity, reason=details[item_id].reason)
            facts.append({"item": item})
    queue_event("item.disposition_set", pickups, extra=facts)


def subscribe() -> None:
    """Wire webhooks to the domain events and to the outbox (once; connecting again changes nothing)."""
    for signal, handler in _HANDLERS.items():
        signal.connect(handler)
    receiving_events.dispositions_set.connect(_on_dispositions)
    register_sender(CHANNEL, send_webhook)


def unsubscribe() -> None:
    """Disconnect again (the benchmark measures a push without the outbox's subscribers)."""
    for signal, handler in _HANDLERS.items():
        signal.disconnect(handler)
    receiving_events.dispositions_set.disconnect(_on_dispositions)
