"""Two outbox workers side by side on PostgreSQL deliver every message exactly once."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, insert, select

from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.services import deliver_due
from app.webhooks.services import create_endpoint

pytestmark = pytest.mark.postgres


def test_two_workers_deliver_500_messages_exactly_once(app, db, receiver):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several workers side by side need PostgreSQL's SKIP LOCKED; SQLite runs one worker")
    endpoint = create_endpoint(receiver.url, ["pickup.created"], actor=None)
    db.session.flush()
    rows = [
        {"channel": "webhook", "topic": "pickup.created", "recipient": receiver.url, "endpoint_id": endpoint.id,
         "payload": {"id": f"msg_{n}", "body": {"type": "pickup.created", "n": n}}, "status": MessageStatus.PENDING, "attempts": 0}
        for n in range(500)
    ]
    db.session.execute(insert(OutboxMessage.__table__).values(next_attempt_at=func.now(), created_at=func.now()), rows)  # type: ignore[arg-type]
    db.session.commit()

    tried: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        with app.app_context():
            start.wait()
            tried.append(deliver_due(batch=20))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    ids = Counter(request["headers"]["webhook-id"] for request in receiver.requests)
    assert len(ids) == 500 and set(ids.values()) == {1}
    assert sum(tried) == 500 and all(count > 0 for count in tried)  # both took a share
    statuses = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    assert statuses == [(MessageStatus.SENT, 500)]
