"""The outbox's depth and the age of its oldest waiting message, read from the database on each /metrics scrape.

An operator alerts on these: a growing depth or an old message means emails and
webhooks are not going out (worker stopped, mail server down, receiver failing).
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from app.core.models import utcnow
from app.core.observability import add_scrape_collector
from app.extensions import db
from app.outbox.models import MessageStatus, OutboxMessage

# Not yet delivered and still being tried: what "waiting" means for the oldest-age alert.
WAITING = (MessageStatus.PENDING, MessageStatus.SENDING)


class OutboxCollector:
    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        ahead = OutboxMessage.due_at > now
        counts: dict[str, int] = {}
        query = (
            select(OutboxMessage.status, ahead, func.count())
            .where(OutboxMessage.status.notin_((MessageStatus.SENT, MessageStatus.SKIPPED)))
            .group_by(OutboxMessage.status, ahead)
        )
        for status, queued_ahead, n in db.session.execute(query):
            # A reminder queued for tomorrow morning is not a backlog: it is counted apart, as "scheduled".
            key = "scheduled" if queued_ahead and status is MessageStatus.PENDING else status.value
            counts[key] = counts.get(key, 0) + n
        depth = GaugeMetricFamily("backhaul_outbox_depth", "Outbox messages not sent, by status (scheduled: queued ahead, not due yet).", labels=["status"])
        for key in [s.value for s in MessageStatus if s not in (MessageStatus.SENT, MessageStatus.SKIPPED)] + ["scheduled"]:
            depth.add_metric([key], counts.get(key, 0))
        yield depth
        oldest: datetime | None = db.session.scalar(select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status.in_(WAITING), OutboxMessage.due_at <= now))
        age = GaugeMetricFamily("backhaul_outbox_oldest_age_seconds", "Age of the oldest message still being tried (0: none).")
        age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield age


_registered = False


def register_outbox_metrics() -> None:
    """Once per process: the scrape registry is global, and tests create many apps."""
    global _registered
    if not _registered:
        add_scrape_collector(OutboxCollector())
        _registered = True
