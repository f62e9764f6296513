"""A push body has a size limit with a clear 413, and an action too large alone can still leave the queue."""
from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from app.sync.models import SyncClient, SyncMutation


def _body(p, mutations):  # type: ignore[no-untyped-def]
    return {"client_id": p.client_id, "schema_version": 1, "mutations": mutations}


def test_a_push_over_the_limit_is_413_payload_too_large_naming_the_limit_and_applies_nothing(app, phone, driver, create_pickup, db):
    app.config["SYNC_MAX_PUSH_BYTES"] = 2000
    pickup = create_pickup(driver=driver)
    p = phone()
    mutations = [p.mutation("note", pickup_id=pickup.id, text=f"{n} " + "x" * 150) for n in range(8)]
    response = p.api.post("/api/v1/sync/push", json=_body(p, mutations))
    assert response.status_code == 413
    error = response.json["error"]
    assert error["code"] == "payload_too_large"
    assert "2,000 bytes" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(SyncMutation)) == 0
    # Half of it fits, and goes through as usual.
    assert p.push(*mutations[:4]).json["last_mutation_id"] == 4


def test_a_push_body_without_a_length_is_cut_off_at_the_limit(app, phone, driver, create_pickup):
    app.config["SYNC_MAX_PUSH_BYTES"] = 2000
    pickup = create_pickup(driver=driver)
    p = phone()
    data = json.dumps(_body(p, [p.mutation("note", pickup_id=pickup.id, text="y" * 1500) for _ in range(3)])).encode()
    # A chunked upload: no Content-Length, so the limit is applied while reading.
    response = p.api.post(
        "/api/v1/sync/push",
        input_stream=io.BytesIO(data),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    assert response.status_code == 413, response.json
    assert response.json["error"]["code"] == "payload_too_large"


def test_the_default_limit_takes_a_full_batch_of_real_actions(app, phone, driver, create_pickup):
    pickup = create_pickup(driver=driver)
    p = phone()
    notes = [p.mutation("note", pickup_id=pickup.id, text="Left by the side door, customer will call back " * 4) for _ in range(app.config["SYNC_MAX_BATCH"])]
    assert len(json.dumps(_body(p, notes))) < app.config["SYNC_MAX_PUSH_BYTES"]
    assert p.push(*notes).json["last_mutation_id"] == app.config["SYNC_MAX_BATCH"]


def test_an_action_sent_as_too_large_is_rejected_with_its_code_and_the_queue_moves_on(app, phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    big = p.mutation("collect_items", pickup_id=pickup.id)
    stand_in = {**big, "args": {"pickup_id": pickup.id}, "too_large": {"bytes": 3_456_789}}
    body = p.push(stand_in, p.mutation("arrive", pickup_id=pickup.id)).json
    assert [r["status"] for r in body["results"]] == ["rejected", "applied"]
    rejected = body["results"][0]
    assert rejected["code"] == "payload_too_large"
    assert "3,456,789 bytes" in rejected["message"] and "record it again" in rejected["message"]
    assert body["last_mutation_id"] == 2
    record = db.session.scalar(select(SyncMutation).where(SyncMutation.mutation_id == 1))
    assert record.code == "payload_too_large" and record.name == "collect_items"
    # Sent again (its answer lost): the same rejection, nothing applied twice.
    again = p.push(stand_in).json
    assert again["results"][0]["status"] == "duplicate" and again["results"][0]["code"] == "payload_too_large"
    assert db.session.scalar(select(SyncClient.last_mutation_id)) == 2
