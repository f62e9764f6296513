"""Two gunicorn instances on one PostgreSQL, one Redis and one SeaweedFS serve one fleet.

A phone whose requests a load balancer spreads over both instances (and that
re-sends a push through the other one when the first seems slow) must get
exactly one effect per action; a photo uploaded through one is served by the
other; the live board polled on one sees what was done through the other;
the login limit is counted once for both. Nothing lives in one
process's memory that the other would need.
"""
from __future__ import annotations

import hashlib
import io
import os
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select

from app.photos.models import Photo
from app.pickups.models import PickupEvent, PickupStatus
from app.sync.models import SyncClient
from tests.conftest import IN_CI, TEST_PASSWORD
from tests.support.server import LiveServer, database_url_of, login
from tests.sync.conftest import collect_all

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]


@pytest.fixture
def photo_backend(seaweedfs) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return seaweedfs.settings(f"two-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        if IN_CI:
            pytest.fail("CI is set but REDIS_TEST_URL is not: the two-instance test needs Redis.")
        pytest.skip("REDIS_TEST_URL is not set")
    return url


@pytest.fixture
def two_instances(app, db, photo_backend, redis_url, tmp_path):  # type: ignore[no-untyped-def]
    db.session.commit()  # the servers must see what the test set up
    env = {**photo_backend, "REDIS_URL": redis_url, "PUBLIC_BASE_URL": "https://returns.example.test"}
    servers = [
        LiveServer(database_url_of(app), tmp_path / f"unused-photos-{n}", tmp_path / f"gunicorn-{n}.log", extra_env=env) for n in (1, 2)
    ]
    for server in servers:
        server.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
    for n, server in enumerate(servers, start=1):
        log = server.log_path.read_text()
        assert "Traceback" not in log, f"instance {n}:\n{log[-3000:]}"


def _photo(n: int) -> bytes:
    image = Image.new("RGB", (200, 150), (n * 7 % 256, 90, 255 - n * 11 % 256))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


def _retrying(send: Any) -> requests.Response:
    """A phone retries a 503 (a lock wait that ran out) until the push goes through."""
    for _ in range(200):
        response = send()
        if response.status_code != 503:
            return response
        threading.Event().wait(0.05)
    raise AssertionError("still 503 after 200 tries")


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_instances_serve_one_fleet_with_exactly_once_effects_shared_photos_and_shared_limits(
    app, db, driver, dispatcher, create_user, create_pickup, two_instances, seaweedfs, photo_backend
):
    first, second = two_instances
    pickups = [create_pickup(driver=driver) for _ in range(10)]
    items = {p.id: collect_all(p, "B") for p in pickups}
    db.session.commit()

    # One login, one session cookie: it works on both, because they share SECRET_KEY and the database.
    session, token = login(first, driver.email, TEST_PASSWORD)
    cookie = session.cookies["session"]
    assert session.get(f"{second.url}/api/v1/auth/session", timeout=10).json()["user"]["email"] == driver.email

    # Photos: each uploaded through one instance, referenced by a mutation pushed through the other.
    photo_ids = [str(uuid.uuid4()) for _ in pickups]
    photos = {photo_id: _photo(n) for n, photo_id in enumerate(photo_ids)}

    client_id = str(uuid.uuid4())
    batches: list[list[dict[str, Any]]] = []
    next_id = 1
    for n, pickup in enumerate(pickups):
        batch_items = [dict(item) for item in items[pickup.id]]
        batch_items[0].update(grade="C", photo_ids=[photo_ids[n]])  # a damaged item needs its photo
        batch = [
            {"id": next_id, "name": "arrive", "args": {"pickup_id": pickup.id}},
            {"id": next_id + 1, "name": "scan_label", "args": {"pickup_id": pickup.id, "code": pickup.label_code}},
            {"id": next_id + 2, "name": "note", "args": {"pickup_id": pickup.id, "text": f"stop {n}"}},
            {"id": next_id + 3, "name": "collect_items", "args": {"pickup_id": pickup.id, "items": batch_items}},
        ]
        next_id += len(batch)
        batches.append(batch)
    total = next_id - 1

    def push(server: LiveServer, batch: list[dict[str, Any]]) -> dict[str, Any]:
        client = requests.Session()
        client.cookies.set("session", cookie)
        body = {"client_id": client_id, "schema_version": 1, "mutations": batch}
        response = _retrying(lambda: client.post(f"{server.url}/api/v1/sync/push", json=body, headers={"X-CSRFToken": token}, timeout=30))
        assert response.status_code == 200, response.text
        return response.json()

    def upload(server: LiveServer, photo_id: str) -> int:
        client = requests.Session()
        client.cookies.set("session", cookie)
        data = photos[photo_id]
        headers = {"X-CSRFToken": token, "X-Content-SHA256": hashlib.sha256(data).hexdigest(), "Content-Type": "image/jpeg"}
        return client.put(f"{server.url}/api/v1/photos/{photo_id}", data=data, headers=headers, timeout=30).status_code

    # Every batch goes to both instances at once (a retry through the other one, as a phone whose
    # request seemed lost would), and every photo is uploaded to both at once: one effect each.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for n, batch in enumerate(batches):
            answers = list(pool.map(lambda server, b=batch: push(server, b), (first, second)))
            # Each mutation is applied by exactly one instance; the other answers it as a duplicate.
            applied = Counter(r["id"] for answer in answers for r in answer["results"] if r["status"] == "applied")
            assert applied == Counter(m["id"] for m in batch), answers
            assert all(answer["last_mutation_id"] == batch[-1]["id"] for answer in answers)
            uploaded = sorted(pool.map(lambda server, p=photo_ids[n]: upload(server, p), (second, first)))
            assert uploaded in ([200, 201], [201, 201]), uploaded  # 201 twice only if both wrote at once; one row either way

    db.session.expire_all()
    assert db.session.scalar(select(SyncClient.last_mutation_id).where(SyncClient.client_id == client_id)) == total
    per_mutation = Counter(db.session.scalars(select(PickupEvent.mutation_id).where(PickupEvent.client_id == client_id)))
    assert set(per_mutation) == set(range(1, total + 1)) and set(per_mutation.values()) == {1}, "exactly one event per mutation"
    assert all(db.session.get(type(p), p.id).status is PickupStatus.COLLECTED for p in pickups)
    assert db.session.scalar(select(func.count()).select_from(Photo)) == len(photo_ids)
    # Two objects (photo, thumbnail) per photo, and nothing else: no duplicate left by the race.
    assert len(seaweedfs.keys(photo_backend["PHOTO_STORAGE_URL"].split("/", 3)[3])) == 2 * len(photo_ids)

    # A dispatcher on each instance sees every photo, whichever instance took the upload.
    for server in (first, second):
        staff, _ = login(server, dispatcher.email, TEST_PASSWORD)
        for photo_id in photo_ids:
            response = staff.get(f"{server.url}/api/v1/photos/{photo_id}", timeout=10)
            assert response.status_code == 200 and Image.open(io.BytesIO(response.content)).size == (200, 150)
            assert staff.get(f"{server.url}/api/v1/photos/{photo_id}/thumb", timeout=10).status_code == 200

    # The live board polled on one instance sees a change the driver made through the other.
    watcher, _ = login(first, dispatcher.email, TEST_PASSWORD)
    before = watcher.get(f"{first.url}/dispatch/changes", timeout=10).json()["token"]
    assert watcher.get(f"{first.url}/dispatch/changes", timeout=10).json()["token"] == before
    late_note = {"id": total + 1, "name": "note", "args": {"pickup_id": pickups[0].id, "text": "gate code 4711, through the other instance"}}
    assert push(second, [late_note])["results"][0]["status"] == "applied"
    assert watcher.get(f"{first.url}/dispatch/changes", timeout=10).json()["token"] != before
    assert "gate code 4711, through the other instance" in watcher.get(f"{first.url}/dispatch/pickups/{pickups[0].id}", timeout=10).text

    # The login wait (after 5 wrong passwords per account) is one count in Redis, not one per instance.
    target = create_user("driver", email=f"limits-{uuid.uuid4().hex[:8]}@example.test")
    db.session.commit()
    answers = []
    for attempt in range(6):
        server = (first, second)[attempt % 2]
        answers.append(requests.post(f"{server.url}/api/v1/auth/login", json={"email": target.email, "password": "wrong"}, timeout=10).status_code)
    assert answers[:5] == [401] * 5 and answers[5] == 429, answers
