"""Phones behave badly and servers die: the push must still have exactly one effect per action."""
from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text

from app.pickups.models import PickupEvent, PickupStatus
from app.sync.models import SyncClient, SyncMutation
from tests.conftest import TEST_PASSWORD
from tests.support.server import LiveServer, database_url_of, login
from tests.sync.conftest import Phone, collect_all

pytestmark = pytest.mark.chaos


def _events_of(db, client_id: str) -> Counter[int]:
    return Counter(db.session.scalars(select(PickupEvent.mutation_id).where(PickupEvent.client_id == client_id)))


def test_a_thousand_duplicate_pushes_fifty_at_once_have_exactly_one_effect(app, db, driver, create_pickup, api_client):
    first, second = create_pickup(driver=driver), create_pickup(driver=driver)
    p = Phone(api_client(driver))
    batch = [
        p.mutation("arrive", pickup_id=first.id),
        p.mutation("scan_label", pickup_id=first.id, code=first.label_code),
        p.mutation("collect_items", pickup_id=first.id, items=collect_all(first, "B")),
        p.mutation("arrive", pickup_id=second.id),
        p.mutation("fail_pickup", pickup_id=second.id, reason="not_home", notes="Nobody answered"),
        p.mutation("note", pickup_id=second.id, text="Left a card"),
    ]
    body = json.dumps({"client_id": p.client_id, "schema_version": 1, "mutations": batch})
    cookie = p.api.raw.get_cookie("session").value
    token = p.api.csrf_token
    start_together = threading.Barrier(50)

    def one_push(n: int) -> tuple[int, Any]:
        # A plain client: in its own thread every request gets its own app context and session.
        client = FlaskClient(app)
        client.set_cookie("session", cookie)
        if n < 50:
            start_together.wait(timeout=30)
        for _ in range(100):
            response = client.post("/api/v1/sync/push", data=body, content_type="application/json", headers={"X-CSRFToken": token})
            if response.status_code != 503:  # a lock wait that ran out: the phone simply retries
                return response.status_code, response.json
            time.sleep(0.05)
        raise AssertionError("still 503 after 100 retries")

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one_push, range(1000)))

    assert {status for status, _ in answers} == {200}
    firsts = [a for _, a in answers if any(r["status"] == "applied" for r in a["results"])]
    assert len(firsts) == 1, "exactly one push applies the batch"
    assert [r["status"] for r in firsts[0]["results"]] == ["applied"] * 6
    repeats = [json.dumps(a, sort_keys=True) for _, a in answers if a is not firsts[0]]
    assert len(repeats) == 999 and len(set(repeats)) == 1, "every duplicate gets the same acknowledgement"
    assert all(r["status"] == "duplicate" and r["original_status"] == "applied" for r in json.loads(repeats[0])["results"])

    db.session.expire_all()
    assert _events_of(db, p.client_id) == Counter({1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1})
    assert db.session.scalar(select(func.count()).select_from(SyncMutation)) == 6
    assert (first.status, second.status) == (PickupStatus.COLLECTED, PickupStatus.FAILED)
    assert [i.collected_quantity for i in first.items] == [1, 2]


def _final_state(db, pickups: list[Any]) -> list[Any]:
    db.session.expire_all()
    state = []
    for pickup in pickups:
        events = db.session.scalars(
            select(PickupEvent).where(PickupEvent.pickup_id == pickup.id, PickupEvent.mutation_id.is_not(None)).order_by(PickupEvent.id)
        )
        state.append(
            (
                pickup.status,
                pickup.version,
                pickup.failure_reason,
                [(i.collected_quantity, i.grade, i.condition_notes) for i in pickup.items],
                [(e.kind, e.mutation_id, e.message, e.needs_review) for e in events],
            )
        )
    return state


def _round_mutations(p: Phone, first: Any, second: Any) -> list[dict[str, Any]]:
    partial = [{"item_id": first.items[1].id, "quantity": 1, "grade": "C", "notes": "Frayed", "photo_ids": [str(uuid.UUID(int=7))]}]
    return [
        p.mutation("arrive", pickup_id=first.id),
        p.mutation("scan_label", pickup_id=first.id, code=first.label_code),
        p.mutation("note", pickup_id=first.id, text="Customer was friendly"),
        p.mutation("collect_items", pickup_id=first.id, items=partial),
        p.mutation("collect_items", pickup_id=first.id, items=collect_all(first)),  # rejected: already collected
        p.mutation("arrive", pickup_id=second.id),
        p.mutation("fail_pickup", pickup_id=second.id, reason="item_not_ready"),
        p.mutation("collect_items", pickup_id=second.id, items=collect_all(second, "A")),
        p.mutation("fail_pickup", pickup_id=second.id, reason="refused"),  # rejected: already collected
    ]


def test_a_hundred_random_orders_of_the_same_batches_give_the_same_final_state(app, db, driver, create_pickup, api_client):
    api = api_client(driver)
    rng = random.Random(20240601)
    reference = None
    for round_number in range(101):
        first, second = create_pickup(driver=driver), create_pickup(driver=driver)
        p = Phone(api)
        mutations = _round_mutations(p, first, second)
        if round_number == 0:  # the reference: everything in one push, in order
            p.push(*mutations)
            reference = _final_state(db, [first, second])
            continue
        # Cut the queue into random batches, send them in random order, repeat some: a flaky network.
        cuts = sorted(rng.sample(range(1, len(mutations)), rng.randint(1, 4)))
        batches = [mutations[a:b] for a, b in zip([0, *cuts], [*cuts, len(mutations)], strict=True)]
        acknowledged = 0
        for _ in range(200):
            # Half the time the batch the server waits for, else any: resent, early or late.
            waiting_for = next(b for b in batches if b[-1]["id"] > acknowledged)
            batch = waiting_for if rng.random() < 0.5 else rng.choice(batches)
            if rng.random() < 0.3:
                batch = batch + rng.choice(batches)
            body = p.push(*sorted({m["id"]: m for m in batch}.values(), key=lambda m: rng.random())).json
            assert body["last_mutation_id"] >= acknowledged
            acknowledged = body["last_mutation_id"]
            if acknowledged == len(mutations):
                break
        assert acknowledged == len(mutations), f"round {round_number} never finished"
        state = _final_state(db, [first, second])
        # Same statuses, versions (relative), items and timeline; only the ids differ from round to round.
        normalised = [(s, v - r[1], f, items, [(k, mid, msg, rv) for k, mid, msg, rv in ev]) for (s, v, f, items, ev), r in zip(state, reference, strict=True)]
        expected = [(s, 0, f, items, ev) for s, v, f, items, ev in reference]
        assert normalised == expected, f"round {round_number} differs"


@pytest.fixture
def live_server(app, db, tmp_path):  # type: ignore[no-untyped-def]
    server = LiveServer(database_url_of(app), tmp_path / "photos", tmp_path / "gunicorn.log")
    db.session.commit()  # the server must see everything the test set up
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_kill_9_during_two_hundred_pushes_loses_nothing_and_applies_nothing_twice(app, db, driver, create_pickup, live_server):
    pickups = [create_pickup(driver=driver) for _ in range(20)]
    items = {p.id: collect_all(p) for p in pickups}
    pickup_ids = [p.id for p in pickups]
    db.session.commit()
    session, token = login(live_server, driver.email, TEST_PASSWORD)
    client_id = str(uuid.uuid4())
    per_push = 10

    def batch(push: int) -> list[dict[str, Any]]:
        first = push * per_push + 1
        mutations = [
            {"id": first + n, "name": "note", "args": {"pickup_id": pickup_ids[(push + n) % 20], "text": f"push {push} note {n}"}}
            for n in range(per_push - 1)
        ]
        last = first + per_push - 1
        if push % 10 == 9:  # now and then a collection, which changes a pickup
            target = pickup_ids[push // 10]
            mutations.append({"id": last, "name": "collect_items", "args": {"pickup_id": target, "items": items[target]}})
        else:
            mutations.append({"id": last, "name": "arrive", "args": {"pickup_id": pickup_ids[push % 20]}})
        return mutations

    engine = create_engine(database_url_of(app))
    observed: list[tuple[int, int, int]] = []
    rng = random.Random(9)
    kill_at = set(rng.sample(range(200), 6))

    def kill_soon(delay: float) -> None:
        time.sleep(delay)
        live_server.kill()
        # The server is dead: what the database holds now must be whole pushes only.
        with engine.connect() as conn:
            last = conn.execute(text("SELECT last_mutation_id FROM sync_clients WHERE client_id = :c"), {"c": client_id}).scalar() or 0
            records = conn.execute(text("SELECT count(*) FROM sync_mutations")).scalar()
            events = conn.execute(text("SELECT count(*) FROM pickup_events WHERE client_id = :c"), {"c": client_id}).scalar()
        observed.append((last, records, events))
        live_server.start()

    retries = 0
    for push in range(200):
        body = {"client_id": client_id, "schema_version": 1, "mutations": batch(push)}
        killer = None
        if push in kill_at:  # kill -9 a few milliseconds into this push: mid-request, mid-transaction or just after
            killer = threading.Thread(target=kill_soon, args=(rng.uniform(0.0, 0.03),))
            killer.start()
        for _ in range(300):
            try:
                response = session.post(f"{live_server.url}/api/v1/sync/push", json=body, headers={"X-CSRFToken": token}, timeout=10)
            except requests.RequestException:
                retries += 1
                time.sleep(0.05)
                continue
            if response.status_code == 503:
                retries += 1
                time.sleep(0.05)
                continue
            assert response.status_code == 200, response.text
            statuses = {r["status"] for r in response.json()["results"]}
            assert statuses <= {"applied", "duplicate"} and response.json()["last_mutation_id"] == (push + 1) * per_push
            break
        else:
            raise AssertionError(f"push {push} never went through")
        if killer is not None:
            killer.join()
    engine.dispose()

    assert live_server.starts == 7 and len(observed) == 6, "the server was killed six times"
    assert retries > 0, "some pushes had to be retried"
    for last, records, events in observed:
        assert last % per_push == 0, f"a push was half-applied: last id {last}"
        assert records == last and events == last, (last, records, events)
    db.session.expire_all()
    total = 200 * per_push
    assert db.session.scalar(select(SyncClient.last_mutation_id).where(SyncClient.client_id == client_id)) == total
    assert db.session.scalar(select(func.count()).select_from(SyncMutation)) == total
    counts = _events_of(db, client_id)
    assert set(counts) == set(range(1, total + 1)) and set(counts.values()) == {1}
    assert all(p.status is PickupStatus.COLLECTED for p in pickups)
