"""No input can stop a phone's queue: a mutation with broken text is rejected alone and the queue moves on."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.pickups.models import Pickup
from app.sync.models import SyncMutation
from tests.sync.conftest import collect_all


@pytest.mark.parametrize("bad", ["Dog in the garden \ud83d", "Dog\x00", "\udc00"], ids=["high-surrogate", "nul", "low-surrogate"])
def test_a_mutation_with_a_broken_note_is_rejected_alone_and_the_next_push_goes_on(phone, driver, create_pickup, db, bad):
    first, second = create_pickup(driver=driver), create_pickup(driver=driver)
    p = phone()
    body = p.push(
        p.mutation("arrive", pickup_id=first.id),
        p.mutation("note", pickup_id=first.id, text=bad),
        p.mutation("fail_pickup", pickup_id=second.id, reason="other", notes=bad),
        p.mutation("collect_items", pickup_id=first.id, items=collect_all(first)),
    ).json
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "rejected", "applied"]
    assert {body["results"][1]["code"], body["results"][2]["code"]} == {"invalid_args"}
    assert "args.text" in body["results"][1]["fields"]
    assert body["last_mutation_id"] == 4
    # The same push again: all duplicates, and the next one is processed.
    again = p.push(*[p.mutation("arrive", pickup_id=second.id)]).json
    assert again["results"][0]["status"] == "applied"
    assert again["last_mutation_id"] == 5
    db.session.expire_all()
    assert db.session.get(Pickup, second.id).status.value != "failed"
    stored = db.session.scalars(select(SyncMutation).order_by(SyncMutation.mutation_id)).all()
    assert [m.status.value for m in stored] == ["applied", "rejected", "rejected", "applied", "applied"]


@pytest.mark.parametrize(
    "mutation",
    [
        {"name": "note\ud83d", "args": {"pickup_id": 1, "text": "x"}},
        {"name": "no\x00te", "args": {"pickup_id": 1, "text": "x"}},
        {"name": "note", "args": {"pickup_id": 1, "text": "x", "\ud83d": 1}},
    ],
    ids=["surrogate-name", "nul-name", "surrogate-key"],
)
def test_a_broken_mutation_name_or_key_is_rejected_alone(phone, driver, create_pickup, mutation):
    pickup = create_pickup(driver=driver)
    p = phone()
    bad = {"id": 1, **mutation}
    p.next_id = 2
    body = p.push(bad, p.mutation("arrive", pickup_id=pickup.id)).json
    assert [r["status"] for r in body["results"]] == ["rejected", "applied"]
    assert body["results"][0]["code"] in ("invalid_mutation", "invalid_args")
    assert body["last_mutation_id"] == 2


@pytest.mark.parametrize("bad", ["1.0\ud83d", "1.0\x00"], ids=["surrogate", "nul"])
def test_a_broken_app_version_is_a_clear_422_naming_it(phone, driver, bad):
    p = phone()
    response = p.push(expect=422, app_version=bad)
    assert "app_version" in response.json["error"]["fields"]


def test_a_rejected_mutation_keeps_only_a_few_kb_of_what_was_sent(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    # About 1.7 MB of unknown keys: under the push size limit (SYNC_MAX_PUSH_BYTES, 2 MiB), so the
    # mutation reaches the rules and is rejected, rather than the whole push refused with 413.
    junk = {f"unknown_{i}": "x" * 100 for i in range(15_000)}
    body = p.push(p.mutation("arrive", pickup_id=pickup.id, **junk)).json
    assert body["results"][0]["status"] == "rejected"
    assert len(json.dumps(body["results"][0]["fields"])) < 10_000
    stored = db.session.scalars(select(SyncMutation)).one()
    assert len(json.dumps(stored.args)) < 10_000
    assert len(json.dumps(stored.result)) < 10_000
