"""Which email each pickup change sends, and sending it over SMTP.

Queued by the subscribers inside the transaction of the change (app.outbox);
sent by the outbox worker with ``send_email``. A customer without an email
address gets none; a kind switched off for the pickup's hub is not queued.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.core.models import utcnow
from app.core.transactions import transaction_buffer
from app.emails.messages import KINDS, build_email, compose
from app.extensions import db
from app.hubs.models import Hub
from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.services import DeliveryFailed, NoLongerTrue, NowhereToSend, Outgoing, enqueue
from app.pickups.models import Pickup, PickupStatus

CHANNEL = "email"
_HUBS = transaction_buffer("backhaul.email_hub_settings")


def wants_email(pickup: Pickup, kind: str, kinds_off: dict[int, list[str]] | None = None) -> bool:
    """Whether this pickup's customer gets the ``kind`` email (an address, and the kind on for the hub)."""
    if not pickup.customer_email:
        return False
    if kind == "received" and not current_app.config["EMAIL_RECEIVED"]:
        return False
    off = kinds_off if kinds_off is not None else _kinds_off({pickup.hub_id})
    return kind not in off.get(pickup.hub_id, [])


def _hub_settings() -> dict[int, tuple[str, list[str]]]:
    # Each hub's time zone and switched-off kinds, read once per transaction (a push of 40 actions
    # announces 40 times), without flushing the change in progress.
    cached: dict[int, tuple[str, list[str]]] | None = db.session.info.get(_HUBS)
    if cached is None:
        with db.session.no_autoflush:
            rows = db.session.execute(select(Hub.id, Hub.timezone, Hub.emails_off)).all()
        cached = db.session.info[_HUBS] = {hub_id: (tz or "UTC", list(off or [])) for hub_id, tz, off in rows}
    return cached


def _kinds_off(hub_ids: set[int]) -> dict[int, list[str]]:
    settings = _hub_settings()
    return {hub_id: settings[hub_id][1] for hub_id in hub_ids if hub_id in settings}



def queue_emails(
    kind: str, pickups: Sequence[Pickup], facts: dict[str, Any] | None = None, *, not_before: Callable[[Pickup], datetime | None] | None = None
) -> None:
    """Queue the ``kind`` email for each pickup whose customer should get it (``not_before``: when, if later than now)."""
    addressed = [pickup for pickup in pickups if pickup.customer_email]
    if not addressed:
        return
    off = _kinds_off({pickup.hub_id for pickup in addressed})
    enqueue(
        Outgoing(CHANNEL, kind, pickup.customer_email or "", {"kind": kind, "facts": facts or {}}, subject=pickup, not_before=not_before(pickup) if not_before else None)
        for pickup in addressed
        if wants_email(pickup, kind, off)
    )


def _zone(pickup: Pickup) -> ZoneInfo:
    return ZoneInfo(_hub_settings().get(pickup.hub_id, ("UTC", []))[0])


def is_today(pickup: Pickup, now: datetime | None = None) -> bool:
    zone = _zone(pickup)
    return pickup.window_start.astimezone(zone).date() == (now or utcnow()).astimezone(zone).date()


def reminder_time(pickup: Pickup, now: datetime | None = None) -> datetime | None:
    """When the morning-of reminder goes: EMAIL_ON_THE_DAY_AT on the pickup's day in its hub's zone
    (not after the window opens), or now when that has passed; None for a pickup on a past day."""
    now = now or utcnow()
    zone = _zone(pickup)
    day = pickup.window_start.astimezone(zone).date()
    if day < now.astimezone(zone).date():
        return None
    at = min(datetime.combine(day, current_app.config["EMAIL_ON_THE_DAY_AT"], zone), pickup.window_start)
    return max(at, now)


def queue_reminders(pickups: Sequence[Pickup]) -> None:
    """Queue the "your pickup is today" email for its morning (the worker holds it until then)."""
    now = utcnow()
    queue_emails("on_the_day", [pickup for pickup in pickups if reminder_time(pickup, now)], not_before=lambda pickup: reminder_time(pickup, now))


def _check_reminder_still_true(pickup: Pickup, message: OutboxMessage) -> None:
    """A reminder queued last night says nothing false this morning: the pickup may have moved, or been reminded of already."""
    if pickup.status is not PickupStatus.ASSIGNED:
        raise NoLongerTrue(f"the pickup is {pickup.status.value.replace('_', ' ')}, not on a driver's route")
    if not is_today(pickup):
        raise NoLongerTrue("the pickup is not today any more")
    zone = _zone(pickup)
    start_of_today = datetime.combine(utcnow().astimezone(zone).date(), time(0), zone)
    already = db.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.pickup_id == pickup.id, OutboxMessage.topic == "on_the_day", OutboxMessage.id != message.id,
            OutboxMessage.status == MessageStatus.SENT, OutboxMessage.sent_at >= start_of_today,
        ).limit(1)
    )
    if already:
        raise NoLongerTrue("the customer already had today's reminder")


def smtp_configured() -> bool:
    return bool(current_app.config["SMTP_HOST"])


def send_email(message: OutboxMessage) -> None:
    """Deliver one email (the outbox's sender for email): compose it now, hand it to the SMTP server."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        raise NowhereToSend("no mail server configured (set SMTP_HOST)")
    pickup = db.session.get(Pickup, message.pickup_id) if message.pickup_id else None
    if pickup is None:
        raise DeliveryFailed("the pickup no longer exists", permanent=True)
    kind = message.payload.get("kind", message.topic)
    if kind not in KINDS:
        raise DeliveryFailed(f"unknown email kind {kind!r}", permanent=True)
    if kind == "on_the_day":
        _check_reminder_still_true(pickup, message)
    email = build_email(compose(kind, pickup, message.payload.get("facts")), to=message.recipient, message_key=f"outbox-{message.id}")
    security = config["SMTP_SECURITY"]
    port = config["SMTP_PORT"] or {"ssl": 465, "starttls": 587}.get(security, 25)
    timeout = config["SMTP_TIMEOUT_SECONDS"]
    try:
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(config["SMTP_HOST"], port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config["SMTP_HOST"], port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryFailed(f"the mail server refused the address: {error.recipients}", permanent=True) from None
    except smtplib.SMTPResponseException as error:
        # 5xx is the server's final word; 4xx (greylisting, a full queue) is worth another try.
        raise DeliveryFailed(f"the mail server answered {error.smtp_code}: {error.smtp_error!r}", permanent=error.smtp_code >= 500) from None
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryFailed(f"could not reach the mail server: {error}") from None
    return None
