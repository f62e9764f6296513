"""A sync wave through two gunicorn instances against one, on PostgreSQL (and Redis when given).

8 phones each push 10 stops (arrive, scan, collect, note: one push per stop), one request at a time
per phone, all at once. ``BENCH sync_wave_{one,two}_instances_pushes_per_s`` and ``..._p95_ms``;
``RATIO sync_two_instances_vs_one`` is the throughput of two over one (both on this one machine, so
it shows that a second instance costs nothing and shares everything, not a second machine's gain).
Needs ``TEST_DATABASE_URL`` (PostgreSQL); skipped with a note without it.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.bench_sync import PASSWORD, _day_of_work, _people, _route
from bench.harness import Report

PHONES, STOPS = 8, 10


def _wave(servers: list[Any], phones: list[tuple[str, list[dict[str, Any]]]]) -> tuple[float, list[float]]:
    latencies: list[float] = []

    def drive(n: int) -> None:
        email, route = phones[n]
        sessions = []
        for server in servers:  # one login works on every instance: shared SECRET_KEY and database
            session = requests.Session()
            answer = session.post(f"{server.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
            sessions.append((server, session, answer.json()["csrf_token"]))
        client_id = str(uuid.uuid4())
        for stop in range(STOPS):
            server, session, token = sessions[stop % len(sessions)]
            body = {"client_id": client_id, "schema_version": 1, "mutations": _day_of_work([route[stop]], first_id=4 * stop + 1)}
            start = time.perf_counter()
            for _ in range(50):
                response = session.post(f"{server.url}/api/v1/sync/push", json=body, headers={"X-CSRFToken": token}, timeout=30)
                if response.status_code != 503:
                    break
                time.sleep(0.05)
            assert response.status_code == 200, response.text
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=PHONES) as pool:
        list(pool.map(drive, range(PHONES)))
    return time.perf_counter() - start, latencies


def run(report: Report) -> None:
    from app import create_app
    from app.extensions import db
    from tests.support.server import LiveServer

    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        report.note("TEST_DATABASE_URL (PostgreSQL) is not set: no two-instance figures")
        return
    url = "postgresql+psycopg://" + url.split("://", 1)[1]
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            app = create_app({"SQLALCHEMY_DATABASE_URI": scoped, "SECRET_KEY": "test-secret-key", "PHOTO_STORAGE_DIR": str(folder / "photos")})
            with app.app_context():
                db.create_all()
            hub_id, driver_ids = _people(app, drivers=PHONES)
            env = {"REDIS_URL": os.environ["REDIS_TEST_URL"]} if os.environ.get("REDIS_TEST_URL") else {}
            servers = [LiveServer(scoped, folder / "photos", folder / f"gunicorn-{n}.log", extra_env=env) for n in range(2)]
            for server in servers:
                server.start()
            try:
                figures = {}
                for label, used in (("one", servers[:1]), ("two", servers), ("one_again", servers[:1])):
                    phones = [(f"driver{n}@bench.test", _route(app, hub_id, driver_ids[n], STOPS)) for n in range(PHONES)]
                    wall, latencies = _wave(used, phones)
                    figures[label] = (PHONES * STOPS / wall, statistics.quantiles(latencies, n=20)[18] * 1000)
            finally:
                for server in servers:
                    server.stop()
            with app.app_context():
                db.engine.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    # One instance measured before and after the two, so a drift in the machine shows.
    one_rate = statistics.mean([figures["one"][0], figures["one_again"][0]])
    one_p95 = statistics.mean([figures["one"][1], figures["one_again"][1]])
    report.bench("sync_wave_one_instance_pushes_per_s", one_rate, "pushes/s")
    report.bench("sync_wave_one_instance_p95_ms", one_p95, "ms")
    report.bench("sync_wave_two_instances_pushes_per_s", figures["two"][0], "pushes/s")
    report.bench("sync_wave_two_instances_p95_ms", figures["two"][1], "ms")
    report.ratio("sync_two_instances_vs_one", figures["two"][0] / one_rate)
