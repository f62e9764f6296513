"""Writing messages into the outbox with the change that caused them, and delivering them afterwards.

Subscribers of the pickups' domain events call ``enqueue`` inside the
transaction of the change: the rows are written just before that transaction
commits (one insert for all of them), so a change that is rolled back leaves no
message, and a change that commits always leaves its messages.

A worker (``flask outbox work``) delivers them. It *claims* due rows in a short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers side by side
never take the same row; SQLite runs one worker) by marking them ``sending``
with a lease, commits, delivers outside any transaction (a slow receiver holds
no lock and no request waits on it), then records the outcome. A worker that
dies mid-delivery leaves its lease to run out, and the row is tried again:
delivery is at least once, and every message carries a stable id receivers can
deduplicate on (the webhook-id header, the email's Message-ID).
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound
from app.core.models import utcnow
from app.core.transactions import before_commit, begin_write_transaction, run_in_transaction, transaction_buffer
from app.extensions import db
from app.outbox.models import MessageStatus, OutboxMessage

log = logging.getLogger(__name__)
_PENDING = transaction_buffer("backhaul.outbox")  # a rolled-back change sends nothing


@dataclass
class Outgoing:
    """A message to queue. ``payload`` may be a function, called just before commit (when new rows have ids)."""

    channel: str
    topic: str
    recipient: str
    payload: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    subject: Any = None  # the pickup it is about (its id is read just before commit)
    endpoint_id: int | None = None
    not_before: datetime | None = None  # queued ahead: not sent before this moment


class DeliveryFailed(Exception):
    """The receiver or mail server did not take the message; ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, response_code: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.response_code = response_code
        self.permanent = permanent


class NowhereToSend(Exception):
    """The channel is not configured (no mail server): the message is kept, not lost, and not retried."""


class NoLongerTrue(Exception):
    """The sender found, at delivery, that the message would tell something no longer so: it is skipped, with why."""


# A sender delivers one message and returns the receiver's response code (None for SMTP).
Sender = Callable[[OutboxMessage], "int | None"]
_SENDERS: dict[str, Sender] = {}


def register_sender(channel: str, sender: Sender) -> None:
    """Say who delivers messages of ``channel`` (wired once in create_app)."""
    _SENDERS[channel] = sender


# Other work the worker does between deliveries (a big CSV import: app.dispatch.imports.jobs).
# Each runs what is waiting, stops between its steps once ``should_stop`` says so, and answers
# how much it found; registered by the domain that owns it.
BackgroundJob = Callable[[Callable[[], bool]], int]
_BACKGROUND_JOBS: dict[str, BackgroundJob] = {}


def register_background_job(name: str, run: BackgroundJob) -> None:
    """Have the worker call ``run(should_stop)`` on every round (wired once in create_app; registering twice is harmless)."""
    _BACKGROUND_JOBS[name] = run


def run_background_jobs(should_stop: Callable[[], bool] = lambda: False) -> int:
    """Run each registered job's waiting work once; answer how much there was."""
    return sum(run(should_stop) for run in list(_BACKGROUND_JOBS.values()))


def enqueue(messages: Iterable[Outgoing]) -> None:
    """Queue messages in the current transaction: committed with it, forgotten if it rolls back."""
    pending = db.session.info.setdefault(_PENDING, [])
    pending.extend(messages)
    if pending:
        before_commit("outbox", _write_pending)


def _write_pending(session: Session) -> None:
    messages: list[Outgoing] = session.info.pop(_PENDING, [])
    if not messages:
        return
    session.flush()  # new pickups (and their first customer links) are written: payloads can read them
    now = utcnow()
    rows = [
        {
            "channel": message.channel,
            "topic": message.topic,
            "recipient": message.recipient[:500],
            "payload": message.payload() if callable(message.payload) else message.payload,
            "pickup_id": getattr(message.subject, "id", None),
            "endpoint_id": message.endpoint_id,
            "status": MessageStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": max(message.not_before or now, now),
            "due_at": max(message.not_before or now, now),
            "created_at": now,
        }
        for message in messages
    ]
    session.connection().execute(insert(cast(Table, OutboxMessage.__table__)), rows)


# --- delivering -----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about base·2^(n-1), capped, spread ±50% so retries do not arrive together."""
    base = float(current_app.config["OUTBOX_RETRY_BASE_SECONDS"])
    cap = float(current_app.config["OUTBOX_RETRY_MAX_SECONDS"])
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.5))


def claim_due(limit: int, *, now: datetime | None = None) -> list[int]:
    """Take up to ``limit`` due messages for this worker (commits), so no other worker sends them."""

    def claim() -> list[int]:
        # SQLite has no row locks: take the write lock before reading, so a second worker waits
        # instead of claiming the same rows (PostgreSQL skips the rows another worker holds).
        begin_write_transaction()
        moment = now or utcnow()
        query = (
            select(OutboxMessage)
            .where(
                or_(
                    and_(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= moment),
                    # A worker that died mid-delivery: its lease ran out.
                    and_(OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.locked_until < moment),
                )
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        messages = list(db.session.scalars(query))
        lease = timedelta(seconds=float(current_app.config["OUTBOX_LEASE_SECONDS"]))
        for message in messages:
            message.status = MessageStatus.SENDING
            message.locked_until = utcnow() + lease
        return [message.id for message in messages]

    return run_in_transaction(claim)


def deliver(message_id: int) -> MessageStatus:
    """Send one claimed message and record what happened (its own transaction)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status is not MessageStatus.SENDING:
        db.session.rollback()
        return MessageStatus.SENT if message is None else message.status
    outcome: tuple[MessageStatus, int | None, str | None]
    try:
        sender = _SENDERS.get(message.channel)
        if sender is None:
            raise DeliveryFailed(f"no sender for channel {message.channel!r}", permanent=True)
        outcome = (MessageStatus.SENT, sender(message), None)
    except NowhereToSend as error:
        outcome = (MessageStatus.HELD, None, f"not sent: {error}")
    except NoLongerTrue as error:
        outcome = (MessageStatus.SKIPPED, None, f"not sent: {error}")
    except DeliveryFailed as error:
        outcome = (MessageStatus.DEAD if error.permanent else MessageStatus.PENDING, error.response_code, str(error))
    except Exception as error:  # a bug in a sender must not stop the worker; the row keeps the error
        log.exception("outbox message %s failed", message_id)
        outcome = (MessageStatus.PENDING, None, f"{type(error).__name__}: {error}")
    db.session.rollback()  # whatever the sender read is forgotten; the outcome is written fresh

    def record() -> MessageStatus:
        row = db.session.get(OutboxMessage, message_id, with_for_update=True)
        if row is None:
            return MessageStatus.SENT
        status, code, error = outcome
        now = utcnow()
        row.attempts += 1
        row.last_attempt_at = now
        row.response_code = code
        row.last_error = error[:2000] if error else None
        row.locked_until = None
        if status is MessageStatus.SENT:
            row.sent_at = now
        elif status is MessageStatus.PENDING:
            if row.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"]):
                status = MessageStatus.DEAD
            else:
                row.next_attempt_at = now + retry_delay(row.attempts)
        row.status = status
        return status

    return run_in_transaction(record)


def deliver_due(*, batch: int = 50, now: datetime | None = None) -> int:
    """Deliver what is due (at ``now``) batch by batch until nothing is; returns how many were tried."""
    tried = 0
    while ids := claim_due(batch, now=now):
        for message_id in ids:
            deliver(message_id)
        tried += len(ids)
    return tried


def work(*, once: bool = False, poll_seconds: float | None = None, should_stop: Callable[[], bool] = lambda: False) -> int:
    """The worker's loop: deliver due messages and run background jobs, sleep briefly when there are none; ``once``: stop when none are due."""
    poll = float(poll_seconds if poll_seconds is not None else current_app.config["OUTBOX_POLL_SECONDS"])
    if once:
        return deliver_due(now=utcnow()) + run_background_jobs()
    tried = 0
    while not should_stop():
        done = deliver_due() + run_background_jobs(should_stop)
        tried += done
        if not done:
            time.sleep(poll)
    return tried


# --- reading and re-sending (the console) -----------------------------------------------------------


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = {status.value: 0 for status in MessageStatus}
    counts.update({status.value: count for status, count in rows})
    return counts


def recent_messages(*, status: MessageStatus | None = None, channel: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return list(db.session.scalars(query))


def messages_about(pickup_id: int, channel: str | None = None) -> list[OutboxMessage]:
    """Every message about one pickup, oldest first (its email history)."""
    query = select(OutboxMessage).where(OutboxMessage.pickup_id == pickup_id).order_by(OutboxMessage.id)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return list(db.session.scalars(query))


def messages_to_endpoint(endpoint_id: int, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint_id).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def resend_message(message_id: int) -> OutboxMessage:
    """Put a message back in the queue: a dead or held one tries again; a sent one is sent again (same id)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("No such message.")
    if message.status in (MessageStatus.PENDING, MessageStatus.SENDING):
        raise Conflict("This message is already waiting to be sent.", code="already_queued")
    message.status = MessageStatus.PENDING
    message.next_attempt_at = utcnow()
    message.attempts = 0
    message.locked_until = None
    return message


def forget_messages_about(pickup_ids: Sequence[int]) -> int:
    """Delete the messages about these pickups (retention: they hold the customer's address and the pickup's data)."""
    if not pickup_ids:
        return 0
    result = db.session.execute(delete(OutboxMessage).where(OutboxMessage.pickup_id.in_(list(pickup_ids))))
    return int(getattr(result, "rowcount", 0) or 0)
