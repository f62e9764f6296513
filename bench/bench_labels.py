"""Cached label images against the hello-world endpoint, side by side in one run.

A customer (or the driver app) asking for a label it has seen before should
cost about what ``/healthz`` costs: the token lookup is one indexed query and
the image comes from the in-memory cache. Both are requested through the same
Flask test client, interleaved, with rate limiting on (as in production).

``label_png_gunicorn_*``: the same through gunicorn (gthread 2x4) on PostgreSQL
over loopback, one keep-alive connection, as a customer's browser asks (issue 11:
the in-process figure hid the cost of the real server). Goal: cached ≥ 0.5x /healthz.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.harness import Report, bench_app, interleaved

REQUESTS = 400
GUNICORN_REQUESTS = 100


def _make_pickup() -> str:
    from app.extensions import db
    from app.hubs.services import create_hub
    from app.labels.services import active_customer_token
    from app.pickups.services import create_pickup

    create_hub(code="BEN", name="Bench Hub", timezone="Europe/Amsterdam", address_line1="Kade 1", city="Amsterdam", postcode="1000 AA", country="NL")
    start = datetime.now(timezone.utc) + timedelta(days=1)
    pickup = create_pickup(
        {
            "reference": "RMA-BENCH-1",
            "customer": {"name": "Bench Customer", "phone": None, "email": None},
            "address": {"line1": "Damrak 1", "line2": None, "city": "Amsterdam", "postcode": "1012 LG", "country": "NL", "lat": None, "lon": None},
            "window": {"start": start, "end": start + timedelta(hours=2)},
            "notes": "",
            "items": [{"sku": "X", "description": "Thing", "quantity": 1, "reason": ""}],
        },
        actor=None,
    )
    db.session.commit()
    token = active_customer_token(pickup)
    assert token is not None
    return token.token


def _through_gunicorn(report: Report) -> None:
    import requests

    from bench import load

    app_dir = Path(__file__).resolve().parent.parent
    with load.served(app_dir, 0) as (base_url, _routes, _database_url):
        session = requests.Session()
        login = session.post(f"{base_url}/api/v1/auth/login", json={"email": load.DISPATCHER, "password": load.PASSWORD}).json()
        start = datetime.now(timezone.utc) + timedelta(days=1)
        created = session.post(
            f"{base_url}/api/v1/pickups",
            headers={"X-CSRFToken": login["csrf_token"]},
            json={
                "reference": "RMA-GUNICORN-1",
                "customer": {"name": "Bench Customer", "phone": None, "email": None},
                "address": {"line1": "Damrak 1", "line2": None, "city": "Amsterdam", "postcode": "1012 LG", "country": "NL", "lat": None, "lon": None},
                "window": {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
                "notes": "",
                "items": [{"sku": "X", "description": "Thing", "quantity": 1, "reason": ""}],
            },
        )
        assert created.status_code == 201, created.text[:300]
        label_url = created.json()["customer_url"].replace("http://127.0.0.1", base_url) + "/label.png"
        customer = requests.Session()  # no staff session: as the customer's browser
        began = time.perf_counter()
        assert customer.get(label_url).status_code == 200
        report.bench("label_png_gunicorn_first_view", (time.perf_counter() - began) * 1000, "ms")

        def labels() -> None:
            for _ in range(GUNICORN_REQUESTS):
                assert customer.get(label_url).status_code == 200

        def hellos() -> None:
            for _ in range(GUNICORN_REQUESTS):
                assert customer.get(f"{base_url}/healthz").status_code == 200

        hellos(), labels()
        label_time, hello_time = interleaved(labels, hellos, rounds=7)
        report.bench("label_png_gunicorn_cached", GUNICORN_REQUESTS / label_time, "req/s")
        report.bench("healthz_gunicorn", GUNICORN_REQUESTS / hello_time, "req/s")
        report.ratio("label_png_gunicorn_vs_hello", hello_time / label_time)


def run(report: Report) -> None:
    _in_process(report)
    _through_gunicorn(report)


def _in_process(report: Report) -> None:
    from app.labels.rendering import render_label

    with bench_app(RATELIMIT_ENABLED=True) as app:
        token = _make_pickup()
        client = app.test_client()
        label_url = f"/r/{token}/label.png"

        render_label.cache_clear()
        start = time.perf_counter()
        first = client.get(label_url)
        report.bench("label_png_first_render", (time.perf_counter() - start) * 1000, "ms")
        assert first.status_code == 200, first.status_code
        etag = first.headers["ETag"]

        def labels() -> None:
            for _ in range(REQUESTS):
                response = client.get(label_url)
                assert response.status_code == 200

        def revalidations() -> None:
            for _ in range(REQUESTS):
                response = client.get(label_url, headers={"If-None-Match": etag})
                assert response.status_code == 304

        def hellos() -> None:
            for _ in range(REQUESTS):
                response = client.get("/healthz")
                assert response.status_code == 200

        hellos(), labels()  # warm both paths
        label_time, hello_time = interleaved(labels, hellos, rounds=11)
        not_modified_time, hello_time_2 = interleaved(revalidations, hellos, rounds=11)
        report.bench("label_png_cached", REQUESTS / label_time, "req/s")
        report.bench("label_png_304", REQUESTS / not_modified_time, "req/s")
        report.bench("healthz", REQUESTS / hello_time, "req/s")
        report.ratio("label_png_vs_hello", hello_time / label_time)
        report.ratio("label_png_304_vs_hello", hello_time_2 / not_modified_time)
