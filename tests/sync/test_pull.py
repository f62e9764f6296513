"""GET /api/v1/sync/pull: full state, deltas over one change sequence, deletes when pickups leave."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from app.pickups.models import Pickup, PickupStatus
from app.sync.models import SyncClient
from tests.sync.conftest import collect_all


def _ops(body):
    return [(c["id"], c["op"]) for c in body["changes"]]


def test_first_pull_is_the_drivers_whole_route_with_settings(phone, driver, other_driver, create_pickup, api_client, dispatcher):
    first = create_pickup(driver=driver, scan_required=True)
    second = create_pickup(driver=driver)
    create_pickup(driver=other_driver)
    create_pickup()
    cancelled = create_pickup(driver=driver)
    api_client(dispatcher).post(f"/api/v1/pickups/{cancelled.id}/cancel", json={"reason": "No longer needed"})
    body = phone().pull()
    assert body["reset"] is True
    assert _ops(body) == [(first.id, "put"), (second.id, "put")]
    assert body["last_mutation_id"] == 0 and body["cursor"] > 0
    data = body["changes"][0]["data"]
    assert {"access_notes", "scan_required", "label_code", "items", "customer", "address", "window", "version", "status"} <= set(data)
    assert data["scan_required"] is True and data["label_code"] == first.label_code
    assert body["changes"][0]["version"] == data["version"] == first.version
    assert {"id", "sku", "description", "quantity", "collected_quantity", "grade"} <= set(data["items"][0])
    settings = body["settings"]
    assert settings["photo"]["long_edge"] == 1600 and settings["photo"]["jpeg_quality"] == 0.8
    assert settings["photo_required_grades"] == ["C", "D"]
    assert [g["code"] for g in settings["grades"]] == ["A", "B", "C", "D"]
    assert {"not_home", "refused", "item_not_ready", "wrong_item", "address_problem", "unsafe", "other"} == {
        r["code"] for r in settings["failure_reasons"]
    }
    assert settings["poll_seconds"] > 0


def test_an_empty_delta_when_nothing_changed(phone, driver, create_pickup):
    create_pickup(driver=driver)
    p = phone()
    p.pull()
    body = p.pull()
    assert body["reset"] is False and body["changes"] == []


def test_delta_sends_what_changed_since_the_cursor(phone, driver, create_pickup, api_client, dispatcher):
    first, second = create_pickup(driver=driver), create_pickup(driver=driver)
    p = phone()
    p.pull()
    api_client(dispatcher).patch(f"/api/v1/pickups/{second.id}", json={"notes": "Back door"})
    body = p.pull()
    assert _ops(body) == [(second.id, "put")]
    assert body["changes"][0]["data"]["notes"] == "Back door"
    third = create_pickup(driver=driver)
    assert _ops(p.pull()) == [(third.id, "put")]
    assert first.id not in [c["id"] for c in p.pull()["changes"]]


def test_own_push_comes_back_with_the_new_version_and_last_mutation_id(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    p.pull()
    result = p.push(p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup))).json["results"][0]
    body = p.pull()
    assert body["last_mutation_id"] == 1
    assert _ops(body) == [(pickup.id, "put")]
    assert body["changes"][0]["version"] == result["version"]
    assert body["changes"][0]["data"]["status"] == "collected"


def test_reassigned_unassigned_and_cancelled_pickups_are_deleted_from_the_old_phone(
    phone, driver, other_driver, create_pickup, api_client, dispatcher
):
    moved, dropped, cancelled, kept = (create_pickup(driver=driver) for _ in range(4))
    mine, theirs = phone(), phone(other_driver)
    mine.pull()
    theirs.pull()
    dispatch = api_client(dispatcher)
    dispatch.post(f"/api/v1/pickups/{moved.id}/assign", json={"driver_id": other_driver.id})
    dispatch.post(f"/api/v1/pickups/{dropped.id}/assign", json={"driver_id": None})
    dispatch.post(f"/api/v1/pickups/{cancelled.id}/cancel", json={"reason": "Customer cancelled"})
    body = mine.pull()
    deletes = {c["id"]: c["data"] for c in body["changes"] if c["op"] == "delete"}
    assert set(deletes) == {moved.id, dropped.id, cancelled.id} and kept.id not in [c["id"] for c in body["changes"]]
    assert deletes[moved.id]["reason"] == "reassigned"
    assert deletes[dropped.id]["reason"] == "unassigned"
    assert deletes[cancelled.id] == {"reason": "cancelled", "message": "Customer cancelled"}
    assert _ops(theirs.pull()) == [(moved.id, "put")]
    assert mine.pull()["changes"] == []


def test_a_pickup_moved_away_and_back_is_a_put(phone, driver, other_driver, create_pickup, api_client, dispatcher):
    pickup = create_pickup(driver=driver)
    p = phone()
    p.pull()
    dispatch = api_client(dispatcher)
    dispatch.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": other_driver.id})
    dispatch.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": driver.id})
    assert _ops(p.pull()) == [(pickup.id, "put")]


@pytest.mark.parametrize("cursor", [0, 10_000_000])
def test_an_unknown_cursor_gets_the_full_state(phone, driver, create_pickup, cursor):
    pickup = create_pickup(driver=driver)
    body = phone().pull(cursor=cursor)
    assert body["reset"] is True and _ops(body) == [(pickup.id, "put")]


@pytest.mark.parametrize("query", ["cursor=abc", "cursor=-1", "client_id=x", "cursor=1.5"])
def test_malformed_pull_arguments_are_422(phone, query):
    response = phone().api.get(f"/api/v1/sync/pull?{query}")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_finished_pickups_of_past_days_age_out_of_the_phone(phone, driver, create_pickup, db, app):
    """Today's finished pickups stay all day ("Done today"); a past day's go twelve hours after they finished."""
    yesterday = datetime.now(timezone.utc) - timedelta(days=1, hours=2)
    window = {"start": yesterday.isoformat(), "end": (yesterday + timedelta(hours=2)).isoformat()}
    done, open_ = create_pickup(driver=driver, window=window), create_pickup(driver=driver)
    p = phone()
    p.push(p.mutation("collect_items", pickup_id=done.id, items=collect_all(done)))
    p.pull()
    assert [c["id"] for c in p.pull(cursor=None)["changes"]] == [done.id, open_.id]
    # Thirteen hours later (the phone shows finished pickups for twelve).
    long_ago = datetime.now(timezone.utc) - timedelta(hours=13)
    db.session.execute(update(Pickup).where(Pickup.id == done.id).values(updated_at=long_ago))
    db.session.commit()
    from app.sync.scope import sync_state

    sync_state().finished_hidden_before = long_ago - timedelta(hours=1)
    db.session.commit()
    body = p.pull()
    assert body["changes"] == [{"entity": "pickup", "id": done.id, "op": "delete", "version": None, "data": {"reason": "finished", "message": None}}]
    assert [c["id"] for c in p.pull(cursor=None)["changes"]] == [open_.id]
    assert p.pull()["changes"] == []


def test_a_cursor_older_than_the_purged_tombstones_gets_the_full_state(phone, driver, other_driver, create_pickup, api_client, dispatcher, db):
    from app.sync.services import purge_sync_records

    moved, kept = create_pickup(driver=driver), create_pickup(driver=driver)
    p = phone()
    p.pull()
    old_cursor = p.cursor
    api_client(dispatcher).post(f"/api/v1/pickups/{moved.id}/assign", json={"driver_id": other_driver.id})
    db.session.execute(text("UPDATE sync_tombstones SET created_at = :t"), {"t": datetime.now(timezone.utc) - timedelta(days=31)})
    db.session.commit()
    report = purge_sync_records(datetime.now(timezone.utc), days=30)
    db.session.commit()
    assert report.tombstones == 1
    body = p.pull(cursor=old_cursor)
    assert body["reset"] is True and _ops(body) == [(kept.id, "put")]


def test_pull_records_when_the_phone_was_last_in_touch(phone, driver, create_pickup, db):
    p = phone()
    p.pull()
    client = db.session.scalar(select(SyncClient).where(SyncClient.client_id == p.client_id))
    assert client.driver_id == driver.id and client.last_pull_at is not None and client.last_cursor == p.cursor


def test_only_drivers_pull(api_client, dispatcher):
    response = api_client(dispatcher).get("/api/v1/sync/pull")
    assert response.status_code == 403


def test_pull_of_a_status_the_driver_cannot_see_anymore_after_received_is_still_a_put(phone, driver, create_pickup, db):
    """Received at the hub is finished, not gone: the phone shows it greyed until it ages out."""
    pickup = create_pickup(driver=driver)
    p = phone()
    p.push(p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup)))
    p.pull()
    from app.pickups.services import change_status

    change_status(db.session.get(Pickup, pickup.id), PickupStatus.RECEIVED, actor=None, kind="received")
    db.session.commit()
    body = p.pull()
    assert _ops(body) == [(pickup.id, "put")] and body["changes"][0]["data"]["status"] == "received"
