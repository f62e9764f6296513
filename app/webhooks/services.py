"""Webhook endpoints, the messages the pickups' events become, and their signed delivery.

An event becomes one outbox message per endpoint that wants it, written in the
transaction of the change (so a rolled-back change sends nothing). The body is
fixed then, with the pickup as the API gives it at that moment; the signature
and ``webhook-timestamp`` are made at each delivery attempt, with the endpoint's
current secret, as Standard Webhooks 1.0 expects (receivers refuse old timestamps).
"""
from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
import ssl
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from standardwebhooks import Webhook

from app.accounts.models import User
from app.core.errors import InvalidInput, NotFound
from app.core.models import utcnow
from app.core.transactions import transaction_buffer
from app.dispatch.schemas import staff_pickup_schema
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.services import DeliveryFailed, Outgoing, enqueue, resend_message
from app.pickups.models import Pickup
from app.webhooks.addresses import UnsafeWebhookUrl, check_url_form, resolve_safely
from app.webhooks.models import WebhookEndpoint

CHANNEL = "webhook"
EVENTS = (
    "pickup.created",
    "pickup.assigned",
    "pickup.collected",
    "pickup.failed",
    "pickup.rebooked",
    "pickup.cancelled",
    "pickup.received",
    "item.disposition_set",
)
_USER_AGENT = "Backhaul-Webhooks/1.0"
_CACHE = transaction_buffer("backhaul.webhook_endpoints")
_TO_LOAD = transaction_buffer("backhaul.webhook_pickups")


def _production() -> bool:
    return current_app.config["BACKHAUL_ENV"] == "production"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_webhook_url(url: str) -> str:
    """The URL, if webhooks may be sent there (https in production, no private address unless allow-listed)."""
    url = url.strip()
    if len(url) > 500:
        raise InvalidInput("That URL is too long.", fields={"url": ["At most 500 characters."]})
    scheme, host, port = check_url_form(url, production=_production())
    if _production():
        # Development may name a receiver that does not resolve yet; each delivery resolves it again anyway.
        resolve_safely(host, port, production=True, allowlist=current_app.config["WEBHOOK_PRIVATE_ALLOWLIST"])
    return url


def create_endpoint(url: str, events: Sequence[str], description: str = "", *, actor: User | None) -> WebhookEndpoint:
    """Register a receiver for some events; its secret is made here."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise InvalidInput(
            "Choose events from the list.",
            fields={"events": [f"Unknown: {', '.join(unknown)}." if unknown else "At least one."]},
        )
    endpoint = WebhookEndpoint(
        url=check_webhook_url(url),
        events=[event for event in EVENTS if event in set(events)],
        description=description.strip(),
        secret=new_secret(),
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(endpoint)
    db.session.flush()
    db.session.info.pop(_CACHE, None)
    return endpoint


def list_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def delete_endpoint(endpoint_id: int) -> None:
    """Stop sending to this endpoint (its delivery log stays, without the endpoint)."""
    db.session.delete(get_endpoint(endpoint_id))


def replay_delivery(message_id: int, endpoint_id: int) -> OutboxMessage:
    """Send one delivery of this endpoint again (same webhook-id, so the receiver can tell)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.channel != CHANNEL or message.endpoint_id != endpoint_id:
        raise NotFound("No such delivery for this endpoint.")
    return resend_message(message_id)


# --- events → messages ----------------------------------------------------------------------------


_Target = tuple[int, str, tuple[str, ...]]  # endpoint id, URL, events


def _endpoints_for(topic: str) -> list[_Target]:
    # Read once per transaction: a sync push of 40 actions asks once, not 40 times.
    cache: list[_Target] | None = db.session.info.get(_CACHE)
    if cache is None:
        rows = db.session.execute(select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.events)).all()
        cache = db.session.info[_CACHE] = [(id_, url, tuple(events)) for id_, url, events in rows]
    return [endpoint for endpoint in cache if topic in endpoint[2]]



def queue_event(topic: str, pickups: Sequence[Pickup], *, extra: Sequence[dict[str, Any]] | None = None) -> None:
    """One message per pickup (and extra fact) per endpoint that wants ``topic``."""
    endpoints = _endpoints_for(topic)
    if not endpoints:
        return
    happened = utcnow()
    # A new pickup gets its id and customer link only when it is written: its body is made just
    # before commit (all of them read back together). Any other event's pickup is loaded and
    # current now, so its body is made at once, as it is at the moment of the event.
    later = topic == "pickup.created"
    if later:
        db.session.info.setdefault(_TO_LOAD, set()).update(pickups)
    messages: list[Outgoing] = []
    for index, pickup in enumerate(pickups):
        facts = extra[index] if extra else {}
        body = _Body(topic, pickup, happened, facts)
        if not later:
            body.build()
        for endpoint_id, url, _events in endpoints:
            messages.append(Outgoing(CHANNEL, topic, url, body, subject=pickup, endpoint_id=endpoint_id))
    enqueue(messages)


class _Body:
    """The message, built just before commit (a new pickup has its id and customer link then), once per event."""

    def __init__(self, topic: str, pickup: Pickup, happened: datetime, facts: dict[str, Any]):
        self.topic, self.pickup, self.happened, self.facts = topic, pickup, happened, facts
        self.body: dict[str, Any] | None = None

    def build(self) -> None:
        if self.body is None:
            _load_together()
            self.body = {
                "type": self.topic,
                "timestamp": self.happened.isoformat(),
                "data": json.loads(json.dumps(staff_pickup_schema.dump(self.pickup), default=str)),
                **self.facts,
            }

    def __call__(self) -> dict[str, Any]:
        self.build()
        # Every endpoint's copy of one event has its own id: each is its own delivery.
        return {"id": "msg_" + secrets.token_urlsafe(18), "body": self.body}


def _load_together() -> None:
    # A push that changed 40 pickups has them expired by now: read them back in one query
    # (with their items and links), not one query each while dumping.
    pickups: set[Pickup] = db.session.info.pop(_TO_LOAD, set())
    ids = [pickup.id for pickup in pickups if pickup.id is not None]
    if len(ids) > 1:
        db.session.scalars(select(Pickup).where(Pickup.id.in_(ids)).options(selectinload(Pickup.items))).all()


# --- delivery -------------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def signed_headers(secret: str, message_id: str, body: str, when: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks 1.0 headers: id, timestamp (seconds) and ``v1,<base64 HMAC-SHA256(id.timestamp.body)>``."""
    moment = when or utcnow()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
    }


def send_webhook(message: OutboxMessage) -> int:
    """Deliver one message (the outbox's sender for webhooks); 2xx is success, anything else is retried."""
    endpoint = db.session.get(WebhookEndpoint, message.endpoint_id) if message.endpoint_id else None
    if endpoint is None:
        raise DeliveryFailed("the endpoint was deleted", permanent=True)
    production = _production()
    try:
        scheme, host, port = check_url_form(endpoint.url, production=production)
        address = resolve_safely(host, port, production=production, allowlist=current_app.config["WEBHOOK_PRIVATE_ALLOWLIST"])
    except UnsafeWebhookUrl as error:
        raise DeliveryFailed(error.message, permanent=True) from None
    body = json.dumps(message.payload["body"], separators=(",", ":"))
    headers = signed_headers(endpoint.secret, message.payload["id"], body)
    headers.update({"Content-Type": "application/json", "User-Agent": _USER_AGENT})
    parts = urlsplit(endpoint.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, timeout)
    try:
        connection.request("POST", target, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"could not reach {host}: {error}") from None
    finally:
        connection.close()
    # Redirects are not followed: a 3xx could point anywhere, including the server's own network.
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the receiver answered {status}", response_code=status)
    return status
