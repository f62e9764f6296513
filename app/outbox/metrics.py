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
        counts = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).where(OutboxMessage.status != MessageStatus.SENT).group_by(OutboxMessage.status)
            ).all()
        )
        depth = GaugeMetricFamily("backhaul_outbox_depth", "Outbox messages not sent, by status.", labels=["status"])
        for status in MessageStatus:
            if status is not MessageStatus.SENT:
                depth.add_metric([status.value], counts.get(status, 0))
        yield depth
        oldest: datetime | None = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(WAITING)))
        age = GaugeMetricFamily("backhaul_outbox_oldest_age_seconds", "Age of the oldest message still being tried (0: none).")
        age.add_metric([], max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0)
        yield age


_registered = False


def register_outbox_metrics() -> None:
    """Once per process: the scrape registry is global, and tests create many apps."""
    global _registered
    if not _registered:
        add_scrape_collector(OutboxCollector())
        _registered = True
