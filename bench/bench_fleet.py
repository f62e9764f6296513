"""Fleet-scale benchmarks (issue 11): the realistic cases, on PostgreSQL, beside the easy ones.

- push_phones{8,32}: 8, then 32 phones each pushing a day (8 pushes of 4 mutations)
  at once through gunicorn (gthread 2x4) on loopback; pushes per second and p95.
  RATIO push_phones32_vs_8_throughput: 1.0 means 32 phones get as many pushes a
  second through as 8 (the machine is saturated, no lock collapse).
- push_during_import: one phone's pushes while a dispatcher imports 10,000-row
  CSV files through ``POST /api/v1/pickups/import`` (with the outbox worker
  running, which commits big files in chunks), vs the same phone's pushes with
  nothing else going on. Goal: within 2x (RATIO ≥ 0.5). ``import10k_s``: one
  import, upload to last pickup.
- ``LOAD_BASELINE=<checkout>``: the pushes are measured against that checkout
  first (``base_*``), then this one; then 8 and 32 phones' throughput with both
  served at once, taking turns round by round (``push_phones{8,32}_now_vs_base``),
  which a shared machine's changing load cannot tilt.
- photo_upload_server_cpu_ms: the server's CPU (gunicorn's workers, read from /proc)
  per realistic 1600-px upload, the whole request: the goal is 25 ms. bench_photos
  measures the image work alone.
- pull_{delta,reset}_100k_vs_10k on PostgreSQL: the same driver's pull (a delta
  with 20 of their own changes behind 2,000 of other drivers', and a reset of a
  route of ~20) with 10,000 and 100,000 pickups in the table, in-process. Goal:
  time(100k)/time(10k) ≤ 1.1, i.e. RATIO ≥ 0.91.

Needs PostgreSQL (``LOAD_DATABASE_URL`` or ``TEST_DATABASE_URL``, default the local
``test`` database; private schemas, dropped afterwards). The checkout measured
is the one ``app`` is imported from, so ``PYTHONPATH`` can point at another.
"""
from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench import load
from bench.harness import Report

PASSWORD = "bench-password-1"


def _app_dir() -> Path:
    import app

    return Path(app.__file__).resolve().parent.parent


def _pushes(report: Report, app_dir: Path, prefix: str = "") -> dict[str, float]:
    figures_out: dict[str, float] = {}
    with load.served(app_dir, 8 + 32 + 3, outbox_worker=True) as (base_url, routes, _database_url):
        rates = {}
        for n, group in ((8, routes[:8]), (32, routes[8:40])):
            figures = load.run_phones(base_url, group, photos=False, seconds=600, spread=0)
            pushes = figures["samples"].get("push", [])
            rates[n] = len(pushes) / figures["wall"]
            report.bench(f"{prefix}push_phones{n}_per_s", rates[n], "pushes/s")
            report.bench(f"{prefix}push_phones{n}_p95_ms", load._percentile(pushes, 0.95) * 1000, "ms")
            report.bench(f"{prefix}push_phones{n}_errors", len(figures["errors"]), "count")
            figures_out[f"phones{n}"] = rates[n]
        report.ratio(f"{prefix}push_phones32_vs_8_throughput", rates[32] / rates[8])
        normal = _one_phone_pushes(base_url, routes[40])
        during, imported = _pushes_during_import(base_url, routes[41])
        report.bench(f"{prefix}push_alone_p50_ms", statistics.median(normal) * 1000, "ms")
        report.bench(f"{prefix}push_during_import10k_p50_ms", statistics.median(during) * 1000, "ms")
        report.bench(f"{prefix}push_during_import10k_max_ms", max(during) * 1000, "ms")
        report.bench(f"{prefix}import10k_s", imported, "s")
        report.ratio(f"{prefix}push_during_import_vs_alone", statistics.median(normal) / statistics.median(during))
        figures_out["alone_p50"], figures_out["during_p50"] = statistics.median(normal), statistics.median(during)
        if Path("/proc/self/stat").exists():
            report.bench(f"{prefix}photo_upload_server_cpu_ms", _photo_server_cpu(base_url, routes[42]) * 1000, "ms")
    return figures_out


def _photo_server_cpu(base_url: str, route: dict[str, Any], uploads: int = 40, rounds: int = 5) -> float:
    """The server's CPU per realistic photo upload (1600 px, ~300 KB), the whole request through gunicorn:
    median of a few rounds of ``uploads``, one request at a time, read from the workers' own CPU time."""
    import hashlib

    import requests

    photo = load.realistic_photo()
    session = requests.Session()
    token = session.post(f"{base_url}/api/v1/auth/login", json={"email": route["email"], "password": load.PASSWORD}).json()["csrf_token"]
    headers = {"X-CSRFToken": token, "Content-Type": "image/jpeg", "X-Content-SHA256": hashlib.sha256(photo).hexdigest()}
    samples = []
    for _ in range(rounds):
        before = load.server_cpu_seconds(base_url)
        for _ in range(uploads):
            answer = session.put(f"{base_url}/api/v1/photos/{uuid.uuid4()}", data=photo, headers=headers, timeout=60)
            assert answer.status_code == 201, answer.text[:300]
        samples.append((load.server_cpu_seconds(base_url) - before) / uploads)
    return statistics.median(samples)


def _one_phone_pushes(base_url: str, route: dict[str, Any]) -> list[float]:
    figures = load.run_phones(base_url, [route], photos=False, seconds=300, spread=0)
    assert not figures["errors"], figures["errors"][:3]
    return figures["samples"]["push"]


def _import_csv(round_: int, rows: int = 10_000) -> bytes:
    start = datetime.now(timezone.utc) + timedelta(days=2)
    lines = ["reference,customer_name,line1,city,postcode,country,window_start,window_end,sku,description,quantity"]
    window = f"{start:%Y-%m-%d} 09:00,{start:%Y-%m-%d} 11:00"
    lines += [f"IMP-{round_}-{n},Customer {n},Damrak {n % 300 + 1},Amsterdam,1012 LG,NL,{window},SKU-{n % 50},Returned goods,1" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _pushes_during_import(base_url: str, route: dict[str, Any]) -> tuple[list[float], float]:
    """One phone's pushes while a dispatcher imports 10,000-row CSV files through the API, one after another.

    Whatever the checkout does with such a file is measured: one long request (before
    issue 11), or a check in the request and chunks committed by the outbox worker.
    Answers the phone's push times and how long one import took, to its last pickup.
    """
    import requests

    started = threading.Event()
    finished = threading.Event()
    took: list[float] = []

    def importing() -> None:
        session = requests.Session()
        token = session.post(f"{base_url}/api/v1/auth/login", json={"email": load.DISPATCHER, "password": load.PASSWORD}).json()["csrf_token"]
        round_ = 0
        while not finished.is_set():
            round_ += 1
            body = _import_csv(round_)
            began = time.perf_counter()
            started.set()
            answer = session.post(
                f"{base_url}/api/v1/pickups/import", files={"file": ("big.csv", body, "text/csv")}, headers={"X-CSRFToken": token}, timeout=120
            )
            assert answer.status_code in (201, 202), answer.text[:300]
            if answer.status_code == 202:  # a background job: wait until its last chunk is committed
                status_url = base_url + answer.json()["job"]["status_url"]
                while (job := session.get(status_url, timeout=30).json())["status"] in ("queued", "running"):
                    time.sleep(0.2)
                assert job["status"] == "done", job
            took.append(time.perf_counter() - began)

    worker = threading.Thread(target=importing, daemon=True)
    worker.start()
    started.wait(60)
    time.sleep(0.5)  # the upload is in and being read
    try:
        pushes = _one_phone_pushes(base_url, route)
    finally:
        finished.set()
        worker.join(300)
    return pushes, (took[0] if took else float("nan"))


def _pulls(report: Report) -> None:
    import sqlalchemy
    from flask.testing import FlaskClient
    from sqlalchemy import update

    from app import create_app
    from app.accounts.services import create_user
    from app.extensions import db
    from app.hubs.services import create_hub
    from app.pickups.changes import take_change_numbers
    from app.pickups.models import Pickup, PickupStatus
    from bench.sync_data import insert_pickups

    url = load._database_url()
    engine = sqlalchemy.create_engine(url)
    schemas = {name: f"bench_{name}_{uuid.uuid4().hex[:8]}" for name in ("10k", "100k")}
    try:
        phones: dict[str, tuple[FlaskClient, str, int]] = {}
        for name, count in (("10k", 10_000), ("100k", 100_000)):
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schemas[name]}"'))
            app = create_app({
                "SQLALCHEMY_DATABASE_URI": f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schemas[name]}",
                "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING",
            })  # fmt: skip
            with app.app_context():
                db.create_all()
                hub = create_hub(code="BEN", name="Bench Hub", timezone="Europe/Amsterdam", city="Amsterdam", country="NL")
                db.session.flush()
                # One driver per ~20 open pickups, as in a fleet; the table holds the history.
                drivers = [
                    create_user(email=f"driver{n}@bench.test", password=PASSWORD, role="driver", name=f"Driver {n}", hub_id=hub.id).id
                    for n in range(50)
                ]
                db.session.commit()
                insert_pickups(count, hub_id=hub.id, driver_ids=drivers)
                me = drivers[7]
                # The driver's route today: 20 open pickups changed recently (the rest is history).
                route = db.session.scalars(db.select(Pickup.id).where(Pickup.driver_id == me).order_by(Pickup.id.desc()).limit(20)).all()
                db.session.execute(update(Pickup).where(Pickup.id.in_(route)).values(status=PickupStatus.ASSIGNED))
                db.session.commit()
                db.session.execute(sqlalchemy.text("ANALYZE"))
                db.session.commit()
            client = FlaskClient(app)
            answer = client.post("/api/v1/auth/login", json={"email": "driver7@bench.test", "password": PASSWORD})
            assert answer.status_code == 200, answer.json
            cursor = client.get("/api/v1/sync/pull").json["cursor"]
            with app.app_context():
                # Behind the cursor: 2,000 changes of other drivers, then 20 of this driver's.
                others = db.session.scalars(db.select(Pickup.id).where(Pickup.driver_id != me).limit(2000)).all()
                for ids in (others, route):
                    numbers = take_change_numbers(len(ids))
                    for pickup_id, number in zip(ids, numbers, strict=True):
                        db.session.execute(update(Pickup).where(Pickup.id == pickup_id).values(change_seq=number))
                db.session.commit()
            phones[name] = (client, f"/api/v1/sync/pull?cursor={cursor}", len(route))
        for kind in ("delta", "reset"):
            samples: dict[str, list[float]] = {"10k": [], "100k": []}
            for _ in range(30):
                for name in ("10k", "100k"):
                    client, delta_url, expected = phones[name]
                    start = time.perf_counter()
                    body = client.get(delta_url if kind == "delta" else "/api/v1/sync/pull").json
                    samples[name].append(time.perf_counter() - start)
                    assert len(body["changes"]) >= expected, (kind, name, len(body["changes"]))
            small, large = statistics.median(samples["10k"]), statistics.median(samples["100k"])
            report.bench(f"pull_{kind}_pg_10k_ms", small * 1000, "ms")
            report.bench(f"pull_{kind}_pg_100k_ms", large * 1000, "ms")
            report.ratio(f"pull_{kind}_100k_vs_10k", small / large)
    finally:
        with engine.begin() as conn:
            for schema in schemas.values():
                conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def run(report: Report) -> None:
    _pulls(report)
    baseline = os.environ.get("LOAD_BASELINE")
    if baseline:
        # The same pushes against another checkout first (e.g. main in a worktree): before/after in one run.
        base = _pushes(report, Path(baseline).resolve(), prefix="base_")
    now = _pushes(report, _app_dir())
    if baseline:
        # Minutes apart on a shared machine: read these beside the side-by-side figures below.
        report.ratio("push_phones32_now_vs_base_sequential", now["phones32"] / base["phones32"])
        report.ratio("push_during_import_now_vs_base", base["during_p50"] / now["during_p50"])
        for phones in (8, 32):
            throughput_side_by_side(report, Path(baseline).resolve(), _app_dir(), phones=phones)


def throughput_side_by_side(report: Report, base_dir: Path, now_dir: Path, *, phones: int = 32, rounds: int = 3) -> float:
    """Pushes per second of ``phones`` phones at once, the two checkouts served together and taking turns.

    Round after round, base then this checkout (then the other way round), so a
    machine that other work slows down slows both alike; answers now ÷ base of the medians.
    """
    count = phones * rounds
    with load.served(base_dir, count) as (base_url, base_routes, _), load.served(now_dir, count) as (now_url, now_routes, _):
        rates: dict[str, list[float]] = {"base": [], "now": []}
        errors = 0
        sides = [("base", base_url, base_routes), ("now", now_url, now_routes)]
        for round_ in range(rounds):
            for name, url, routes in sides if round_ % 2 == 0 else sides[::-1]:
                figures = load.run_phones(url, routes[round_ * phones : (round_ + 1) * phones], photos=False, seconds=600, spread=0)
                rates[name].append(len(figures["samples"].get("push", [])) / figures["wall"])
                errors += len(figures["errors"])
    base, now = statistics.median(rates["base"]), statistics.median(rates["now"])
    report.bench(f"push_phones{phones}_side_by_side_base_per_s", base, "pushes/s")
    report.bench(f"push_phones{phones}_side_by_side_now_per_s", now, "pushes/s")
    report.bench(f"push_phones{phones}_side_by_side_errors", errors, "count")
    report.ratio(f"push_phones{phones}_now_vs_base", now / base)
    return now / base
