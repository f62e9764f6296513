"""An operator's view: request ids, JSON log lines without secrets, and /metrics behind its token."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.conftest import TEST_PASSWORD
from tests.support.server import LiveServer, database_url_of, login
from tests.sync.conftest import collect_all

TOKEN_IN_URL = "Q2xh8mZr5TqYw0bKcVd1eNf3gHj4kLp6"


def test_every_answer_carries_a_request_id_and_errors_name_it(api_client, driver):
    api = api_client(driver)
    answer = api.get("/api/v1/pickups/999999")
    assert answer.status_code in (403, 404)
    assert len(answer.headers["X-Request-ID"]) == 32
    assert answer.json["error"]["request_id"] == answer.headers["X-Request-ID"]
    # A proxy's id is kept when it is sane, replaced when it is not (no log injection through it).
    assert api.get("/healthz", headers={"X-Request-ID": "edge-1234abcd"}).headers["X-Request-ID"] == "edge-1234abcd"
    assert api.get("/healthz", headers={"X-Request-ID": "bad id; level=error"}).headers["X-Request-ID"] != "bad id; level=error"


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(app, client):
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = "scrape-me"
    refused = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]
    answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert "backhaul_http_request_duration_seconds_bucket" in answer.text


@pytest.mark.chaos
def test_gunicorn_logs_json_lines_with_request_ids_and_no_secrets_and_metrics_count_the_work(app, db, driver, create_pickup, tmp_path):
    pickup = create_pickup(driver=driver)
    items = collect_all(pickup, "A")
    db.session.commit()
    server = LiveServer(
        database_url_of(app), tmp_path / "photos", tmp_path / "gunicorn.log",
        extra_env={"LOG_FORMAT": "json", "METRICS_TOKEN": "scrape-me"},
    )  # fmt: skip
    server.start()
    try:
        assert requests.post(f"{server.url}/api/v1/auth/login", json={"email": driver.email, "password": "wrong horse"}, timeout=10).status_code == 401
        session, token = login(server, driver.email, TEST_PASSWORD)
        body = {"client_id": str(uuid.uuid4()), "schema_version": 1, "mutations": [
            {"id": 1, "name": "arrive", "args": {"pickup_id": pickup.id}},
            {"id": 2, "name": "collect_items", "args": {"pickup_id": pickup.id, "items": items}},
        ]}  # fmt: skip
        pushed = session.post(f"{server.url}/api/v1/sync/push", json=body, headers={"X-CSRFToken": token}, timeout=10)
        assert pushed.status_code == 200
        assert requests.get(f"{server.url}/r/{TOKEN_IN_URL}", timeout=10).status_code == 404
        scraped = requests.get(f"{server.url}/metrics", headers={"Authorization": "Bearer scrape-me"}, timeout=10).text
    finally:
        server.stop()
    assert 'backhaul_sync_push_mutations_count 1.0' in scraped and "backhaul_sync_push_mutations_sum 2.0" in scraped
    assert 'endpoint="/api/v1/sync/push",method="POST",status="2xx"' in scraped
    log = server.log_path.read_text()
    ours = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests_logged = [entry for entry in ours if entry["logger"] == "backhaul.request"]
    routes = {entry["route"] for entry in requests_logged}
    assert {"/api/v1/auth/login", "/api/v1/sync/push", "/r/<token>"} <= routes, routes
    assert all(entry["request_id"] and entry["level"] and entry["time"] for entry in ours)
    push_line = next(entry for entry in requests_logged if entry["route"] == "/api/v1/sync/push")
    assert push_line["request_id"] == pushed.headers["X-Request-ID"] and push_line["status"] == 200 and push_line["duration_ms"] > 0
    for secret in (TEST_PASSWORD, "wrong horse", TOKEN_IN_URL, token):
        assert secret not in log, secret


def test_metrics_show_the_outbox_depth_and_its_oldest_waiting_message(app, db, client):
    from datetime import timedelta

    from app.core.models import utcnow
    from app.outbox.models import MessageStatus, OutboxMessage

    app.config["METRICS_TOKEN"] = "scrape-me"
    now = utcnow()
    db.session.add_all([
        OutboxMessage(channel="email", topic="scheduled", recipient="a@example.com", status=MessageStatus.PENDING, created_at=now - timedelta(hours=2)),
        OutboxMessage(channel="webhook", topic="pickup.created", recipient="https://example.com/h", status=MessageStatus.PENDING, created_at=now - timedelta(minutes=5)),
        OutboxMessage(channel="email", topic="collected", recipient="b@example.com", status=MessageStatus.DEAD, created_at=now - timedelta(days=3)),
        OutboxMessage(channel="email", topic="received", recipient="c@example.com", status=MessageStatus.SENT, created_at=now - timedelta(days=9)),
    ])  # fmt: skip
    db.session.commit()
    text = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).text
    lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("backhaul_outbox")}
    assert lines['backhaul_outbox_depth{status="pending"}'] == 2
    assert lines['backhaul_outbox_depth{status="dead"}'] == 1
    assert lines['backhaul_outbox_depth{status="held"}'] == 0
    assert 'backhaul_outbox_depth{status="sent"}' not in lines
    # The dead and sent ones are not being tried: the oldest waiting is the two-hour-old email.
    assert 2 * 3600 - 60 < lines["backhaul_outbox_oldest_age_seconds"] < 2 * 3600 + 600
