"""Messages to the outside (app.outbox, app.emails, app.webhooks).

- What the transactional outbox costs a sync push: 40 mutations (10 pickups:
  arrive, scan, collect, note) with the email and webhook subscribers writing
  their outbox rows in the push's transaction, against the same push with no
  subscribers. The issue's goal: under 1.3× (this RATIO ≥ 0.77).
- Delivery rate of webhooks to a receiver on loopback, one worker and two
  workers side by side (SQLite: a second worker waits for the claim lock, so
  two are not faster there; PostgreSQL's SKIP LOCKED lets them share).
"""
from __future__ import annotations

import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, update

from bench.bench_sync import Phone, _day_of_work, _people, _route
from bench.harness import Report, app_on_file


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _receiver() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/hooks"


def _with_customers(app: Flask, route: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from app.extensions import db
    from app.pickups.models import Pickup

    with app.app_context():
        db.session.execute(update(Pickup).where(Pickup.id.in_([p["id"] for p in route])).values(customer_email="customer@bench.test"))
        db.session.commit()
    return route


def bench_push_cost(report: Report, folder: Path) -> None:
    from app.emails import subscribers as emails
    from app.extensions import db
    from app.webhooks import subscribers as webhooks
    from app.webhooks.services import EVENTS, create_endpoint

    server, url = _receiver()
    with app_on_file(folder, "outbox-push") as app:
        hub_id, (driver_id,) = _people(app)
        with app.app_context():
            create_endpoint(url, list(EVENTS), actor=None)
            db.session.commit()
        phone = Phone(app, "driver0@bench.test")
        with_outbox, without = [], []
        for _ in range(7):
            for subscribed, samples in ((True, with_outbox), (False, without)):
                mutations = _day_of_work(_with_customers(app, _route(app, hub_id, driver_id, 10)))
                if not subscribed:
                    emails.unsubscribe()
                    webhooks.unsubscribe()
                try:
                    start = time.perf_counter()
                    phone.push(mutations, client_id=str(uuid.uuid4()))
                    samples.append(time.perf_counter() - start)
                finally:
                    emails.subscribe()
                    webhooks.subscribe()
        with app.app_context():
            from app.outbox.models import OutboxMessage

            queued = db.session.scalar(func.count(OutboxMessage.id).select())
    server.shutdown()
    a, b = statistics.median(with_outbox), statistics.median(without)
    report.note(f"{queued} outbox rows written by the subscribed pushes (7 × 10 pickups: a receipt email and webhooks each)")
    report.bench("push40_with_outbox_ms", a * 1000, "ms")
    report.bench("push40_no_subscribers_ms", b * 1000, "ms")
    report.bench("push40_outbox_cost", a / b, "x")
    report.ratio("push40_outbox_vs_no_subscribers", b / a)


def _queue(app: Flask, url: str, count: int) -> None:
    from app.extensions import db
    from app.outbox.models import MessageStatus, OutboxMessage
    from app.webhooks.models import WebhookEndpoint
    from app.webhooks.services import new_secret

    with app.app_context():
        endpoint = WebhookEndpoint(url=url, events=["pickup.created"], secret=new_secret(), description="")
        db.session.add(endpoint)
        db.session.flush()
        rows = [
            {"channel": "webhook", "topic": "pickup.created", "recipient": url, "endpoint_id": endpoint.id,
             "payload": {"id": f"msg_{uuid.uuid4().hex}", "body": {"type": "pickup.created", "data": {"n": n}}},
             "status": MessageStatus.PENDING, "attempts": 0}
            for n in range(count)
        ]  # fmt: skip
        db.session.execute(insert(OutboxMessage).values(next_attempt_at=func.now(), created_at=func.now()), rows)
        db.session.commit()


def _deliver_with(app: Flask, workers: int) -> float:
    from app.extensions import db
    from app.outbox.services import deliver_due

    def work() -> None:
        with app.app_context():
            deliver_due(batch=25)
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def bench_delivery(report: Report, folder: Path) -> None:
    count = 500
    server, url = _receiver()
    for workers in (1, 2):
        with app_on_file(folder, f"outbox-deliver-{workers}") as app:
            _queue(app, url, count)
            seconds = _deliver_with(app, workers)
            report.bench(f"webhook_delivery_{workers}_worker{'s' if workers > 1 else ''}_msg_per_s", count / seconds, "msg/s")
    server.shutdown()


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_push_cost(report, folder)
        bench_delivery(report, folder)
