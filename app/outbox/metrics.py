"""The outbox as Prometheus sees it, read from the table at scrape time.

Depth and the oldest waiting message's age say whether the worker keeps up (a growing age with a
steady depth is a stuck worker or a dead mail server); dead messages need a person. Read when
``/metrics`` is scraped, so every instance reports the same figures whichever worker sent what.
"""
from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from app.core.models import utcnow
from app.extensions import db
from app.outbox.models import MessageStatus, OutboxMessage

WAITING = (MessageStatus.PENDING, MessageStatus.SENDING)


def outbox_metrics() -> list[GaugeMetricFamily]:
    """Messages waiting, the oldest one's age in seconds (0 when none waits), and dead messages."""
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(WAITING))
    ).one()
    dead = db.session.scalar(select(func.count()).where(OutboxMessage.status == MessageStatus.DEAD))
    age = max((utcnow() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return [
        GaugeMetricFamily("backhaul_outbox_depth", "Messages waiting in the outbox (pending or being sent).", value=waiting),
        GaugeMetricFamily("backhaul_outbox_oldest_age_seconds", "Age of the oldest waiting message (0: none waits).", value=age),
        GaugeMetricFamily("backhaul_outbox_dead", "Messages given up after their last try (re-send them at /dispatch/outbox).", value=dead or 0),
    ]
