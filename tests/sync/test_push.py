"""POST /api/v1/sync/push: exactly once, in order, one result per mutation, nothing half-done."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.pickups.models import FailureReason, PickupEvent, PickupStatus
from app.sync.models import MutationStatus, SyncClient, SyncMutation
from tests.sync.conftest import collect_all


def _events(db, pickup, kind=None):
    query = select(PickupEvent).where(PickupEvent.pickup_id == pickup.id).order_by(PickupEvent.id)
    if kind:
        query = query.where(PickupEvent.kind == kind)
    return list(db.session.scalars(query))


def test_push_applies_mutations_in_order_with_one_result_each(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    response = p.push(
        p.mutation("arrive", pickup_id=pickup.id, base_version=pickup.version),
        p.mutation("scan_label", pickup_id=pickup.id, code=pickup.label_code[:5].lower() + "-" + pickup.label_code[5:].lower()),
        p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup, "B"), handed_over_by="Sanne"),
    )
    body = response.json
    assert body["last_mutation_id"] == 3
    assert [(r["id"], r["status"], r["code"]) for r in body["results"]] == [(1, "applied", None), (2, "applied", None), (3, "applied", None)]
    assert body["not_processed"] == []
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.COLLECTED
    assert body["results"][2]["version"] == pickup.version
    assert [(i.collected_quantity, i.grade.value) for i in pickup.items] == [(1, "B"), (2, "B")]
    assert [e.kind for e in _events(db, pickup)][-3:] == ["arrived", "label_scanned", "collected"]
    collected = _events(db, pickup, "collected")[0]
    assert collected.data["handed_over_by"] == "Sanne"
    assert db.session.scalar(select(SyncClient.last_mutation_id).where(SyncClient.client_id == p.client_id)) == 3


def test_every_mutation_keeps_its_field_evidence(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    mutation = p.mutation("arrive", pickup_id=pickup.id, base_version=pickup.version)
    device_time = datetime(2030, 5, 1, 9, 30, tzinfo=timezone.utc)
    mutation["device_time"] = device_time.isoformat()
    mutation["location"] = {"lat": 52.1, "lon": 4.3, "accuracy_m": 12.0}
    before = datetime.now(timezone.utc)
    p.push(mutation, sent_at=datetime.now(timezone.utc).isoformat())
    event = _events(db, pickup, "arrived")[0]
    assert event.device_time == device_time
    assert before - timedelta(seconds=1) <= event.server_time <= datetime.now(timezone.utc)
    assert (event.lat, event.lon, event.accuracy_m) == (52.1, 4.3, 12.0)
    assert (event.client_id, event.mutation_id, event.actor_id) == (p.client_id, 1, driver.id)
    assert abs(event.clock_skew_seconds) <= 5 and not event.data.get("clock_skew_flagged")
    assert event.data["seen_version"] == pickup.version
    record = db.session.scalar(select(SyncMutation))
    assert (record.name, record.status, record.device_time, record.lat) == ("arrive", MutationStatus.APPLIED, device_time, 52.1)


def test_resent_push_is_a_duplicate_with_the_same_answer_and_no_effect(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    batch = [
        p.mutation("arrive", pickup_id=pickup.id),
        p.mutation("fail_pickup", pickup_id=pickup.id, reason="not_home", notes="Rang twice"),
        p.mutation("fail_pickup", pickup_id=pickup.id, reason="refused"),  # rejected: already failed
    ]
    first = p.push(*batch).json
    assert [r["status"] for r in first["results"]] == ["applied", "applied", "rejected"]
    events = len(_events(db, pickup))
    version = pickup.version
    again = [p.push(*batch).json for _ in range(3)]
    assert again[0] == again[1] == again[2]
    assert [(r["status"], r["original_status"]) for r in again[0]["results"]] == [
        ("duplicate", "applied"),
        ("duplicate", "applied"),
        ("duplicate", "rejected"),
    ]
    assert again[0]["results"][2]["code"] == first["results"][2]["code"] == "already_failed"
    assert again[0]["results"][1]["version"] == first["results"][1]["version"]
    db.session.refresh(pickup)
    assert len(_events(db, pickup)) == events and pickup.version == version
    assert (pickup.status, pickup.failure_reason, pickup.failure_notes) == (PickupStatus.FAILED, FailureReason.NOT_HOME, "Rang twice")


def test_one_invalid_mutation_is_rejected_and_all_others_apply_and_resending_changes_nothing(phone, driver, create_pickup, db):
    first, second = create_pickup(driver=driver), create_pickup(driver=driver)
    p = phone()
    batch = [
        p.mutation("arrive", pickup_id=first.id),
        p.mutation("collect_items", pickup_id=first.id, items=[{"item_id": first.items[0].id, "quantity": 1, "grade": "Z"}]),
        p.mutation("collect_items", pickup_id=first.id, items=collect_all(first)),
        p.mutation("fail_pickup", pickup_id=second.id, reason="unsafe", notes="Dog"),
    ]
    body = p.push(*batch).json
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "applied", "applied"]
    assert body["results"][1]["code"] == "invalid_args"
    assert "grade" in str(body["results"][1]["fields"])
    assert body["last_mutation_id"] == 4
    snapshot = _state(db, first, second)
    resent = p.push(*batch).json
    assert {r["status"] for r in resent["results"]} == {"duplicate"}
    assert _state(db, first, second) == snapshot
    assert db.session.scalar(select(func.count()).select_from(SyncMutation)) == 4


def _state(db, *pickups):
    db.session.expire_all()
    return [
        (p.status, p.version, [(i.collected_quantity, i.grade) for i in p.items], len(_events(db, p)))
        for p in pickups
    ]


def test_a_gap_stops_the_batch_until_the_missing_mutation_arrives(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    m1, m2, m3, m4 = (p.mutation("note", pickup_id=pickup.id, text=f"note {n}") for n in range(1, 5))
    body = p.push(m1, m3, m4).json
    assert body["last_mutation_id"] == 1
    assert [r["id"] for r in body["results"]] == [1]
    assert body["not_processed"] == [3, 4]
    assert [e.message for e in _events(db, pickup, "driver_note")] == ["note 1"]
    body = p.push(m2, m3, m4).json
    assert [(r["id"], r["status"]) for r in body["results"]] == [(2, "applied"), (3, "applied"), (4, "applied")]
    assert [e.message for e in _events(db, pickup, "driver_note")] == ["note 1", "note 2", "note 3", "note 4"]


def test_mutations_are_applied_in_id_order_whatever_order_they_are_listed_in(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver, scan_required=True)
    p = phone()
    scan = p.mutation("scan_label", pickup_id=pickup.id, code=pickup.label_code)
    collect = p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup))
    body = p.push(collect, scan).json
    assert [(r["id"], r["status"]) for r in body["results"]] == [(1, "applied"), (2, "applied")]


@pytest.mark.parametrize(
    ("envelope", "field"),
    [
        ({"client_id": None}, "client_id"),
        ({"client_id": "short"}, "client_id"),
        ({"schema_version": "1"}, "schema_version"),
        ({"mutations": [{"name": "arrive", "args": {}}]}, "mutations"),
        ({"mutations": [{"id": "1", "name": "arrive", "args": {}}]}, "mutations"),
        ({"mutations": [{"id": 0, "name": "arrive", "args": {}}]}, "mutations"),
        ({"mutations": [{"id": 1, "name": "arrive", "args": {}}, {"id": 1, "name": "note", "args": {}}]}, "mutations"),
        ({"mutations": "all of them"}, "mutations"),
    ],
)
def test_a_push_that_cannot_be_acknowledged_is_422_and_applies_nothing(phone, driver, create_pickup, db, envelope, field):
    p = phone()
    body = {"client_id": p.client_id, "schema_version": 1, "mutations": [], **envelope}
    response = p.api.post("/api/v1/sync/push", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(SyncMutation)) == 0


def test_unsupported_schema_version_is_refused_whole(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    response = p.push(p.mutation("arrive", pickup_id=pickup.id), schema_version=99, expect=422)
    assert response.json["error"]["code"] == "unsupported_schema_version"
    assert _events(db, pickup, "arrived") == []


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        ({"name": "teleport", "args": {}}, "unknown_mutation"),
        ({"name": "arrive", "args": {}}, "invalid_args"),
        ({"name": "arrive", "args": "pickup 1"}, "invalid_mutation"),
        ({"name": "arrive", "args": {"pickup_id": 1}, "device_time": "yesterday"}, "invalid_mutation"),
        ({"name": "arrive", "args": {"pickup_id": 1}, "location": {"lat": 200, "lon": 0}}, "invalid_mutation"),
        ({"name": "fail_pickup", "args": {"pickup_id": 1, "reason": "bored"}}, "invalid_args"),
        ({"name": "fail_pickup", "args": {"pickup_id": 1, "reason": "other", "notes": " "}}, "invalid_args"),
        ({"name": "note", "args": {"pickup_id": 1, "text": "x", "photo_ids": ["not-a-uuid"]}}, "invalid_args"),
        ({"name": "arrive", "args": {"pickup_id": 2**70}}, "invalid_args"),
        ({"name": "arrive", "args": {"pickup_id": True}}, "invalid_args"),
        ({"name": "collect_items", "args": {"pickup_id": 1, "items": [{"item_id": -3, "quantity": 1, "grade": "A"}]}}, "invalid_args"),
    ],
)
def test_unreadable_mutations_are_rejected_one_by_one(phone, driver, create_pickup, db, mutation, code):
    pickup = create_pickup(driver=driver)
    p = phone()
    p.next_id = 2
    body = p.push({"id": 1, **mutation}, p.mutation("note", pickup_id=pickup.id, text="after")).json
    assert [(r["id"], r["status"], r["code"]) for r in body["results"]] == [(1, "rejected", code), (2, "applied", None)], body
    assert body["last_mutation_id"] == 2


def test_bad_mutation_does_not_block_the_queue(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    bad = {"id": 1, "name": "collect_items", "args": {"pickup_id": pickup.id, "items": "everything"}}
    p.next_id = 2
    good = p.mutation("arrive", pickup_id=pickup.id)
    body = p.push(bad, good).json
    assert [(r["id"], r["status"]) for r in body["results"]] == [(1, "rejected"), (2, "applied")]
    record = db.session.scalar(select(SyncMutation).where(SyncMutation.mutation_id == 1))
    assert record.status is MutationStatus.REJECTED and record.args == {"pickup_id": pickup.id, "items": "everything"}


def test_a_client_id_belongs_to_the_driver_who_used_it_first(phone, driver, other_driver, create_pickup, db):
    pickup = create_pickup(driver=other_driver)
    mine = phone()
    mine.push(mine.mutation("note", pickup_id=create_pickup(driver=driver).id, text="hello"))
    thief = phone(other_driver, client_id=mine.client_id)
    response = thief.push(thief.mutation("arrive", pickup_id=pickup.id), expect=403)
    assert response.json["error"]["code"] == "client_of_another_driver"
    assert _events(db, pickup, "arrived") == []
    assert thief.pull(expect=403)


def test_only_logged_in_drivers_with_a_csrf_token_can_push(api_client, phone, dispatcher, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    body = {"client_id": str(uuid.uuid4()), "schema_version": 1, "mutations": [{"id": 1, "name": "arrive", "args": {"pickup_id": pickup.id}}]}
    anonymous = api_client()
    assert anonymous.post("/api/v1/sync/push", json=body).status_code == 400  # no session, so no CSRF token either
    assert anonymous.get("/api/v1/sync/pull").status_code == 401
    assert api_client(dispatcher).post("/api/v1/sync/push", json=body).status_code == 403
    no_token = phone()
    no_token.api.csrf_token = None
    response = no_token.api.post("/api/v1/sync/push", json=body)
    assert response.status_code == 400 and response.json["error"]["code"] == "csrf_failed"
    assert _events(db, pickup, "arrived") == []


def test_driver_cannot_act_on_another_drivers_pickup_and_nothing_changes(phone, driver, other_driver, create_pickup, db):
    theirs = create_pickup(driver=other_driver)
    before = _state(db, theirs)
    p = phone()
    body = p.push(
        p.mutation("collect_items", pickup_id=theirs.id, items=collect_all(theirs)),
        p.mutation("fail_pickup", pickup_id=theirs.id, reason="not_home"),
        p.mutation("scan_label", pickup_id=theirs.id, code=theirs.label_code),
        p.mutation("note", pickup_id=theirs.id, text="hi"),
        p.mutation("arrive", pickup_id=999_999),
    ).json
    assert [(r["status"], r["code"]) for r in body["results"]] == [("rejected", "not_your_pickup")] * 5
    assert _state(db, theirs) == before
    assert not any(e.actor_id == driver.id for e in _events(db, theirs))


def test_partial_collection_follows_the_items(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    cable = pickup.items[1]
    p = phone()
    body = p.push(
        p.mutation(
            "collect_items",
            pickup_id=pickup.id,
            items=[{"item_id": cable.id, "quantity": 1, "grade": "B", "notes": "One cable missing", "photo_ids": []}],
        )
    ).json
    assert body["results"][0]["status"] == "applied"
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.PARTIALLY_COLLECTED
    assert [(i.collected_quantity, i.grade and i.grade.value, i.condition_notes) for i in pickup.items] == [
        (0, None, None),
        (1, "B", "One cable missing"),
    ]


def test_collect_refusals_say_what_is_wrong(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    phone_item, cable = pickup.items
    p = phone()
    body = p.push(
        p.mutation("collect_items", pickup_id=pickup.id, items=[{"item_id": 424242, "quantity": 1, "grade": "A"}]),
        p.mutation("collect_items", pickup_id=pickup.id, items=[{"item_id": cable.id, "quantity": 3, "grade": "A"}]),
        p.mutation("collect_items", pickup_id=pickup.id, items=[{"item_id": cable.id, "quantity": 0}]),
        p.mutation("collect_items", pickup_id=pickup.id, items=[{"item_id": phone_item.id, "quantity": 1, "grade": "D"}]),
        p.mutation("collect_items", pickup_id=pickup.id, items=[{"item_id": phone_item.id, "quantity": 1}]),
    ).json
    assert [r["code"] for r in body["results"]] == ["unknown_item", "too_many", "nothing_collected", "photo_required", "invalid_args"]
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.ASSIGNED


def test_scan_required_refuses_completion_until_the_label_was_scanned(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver, scan_required=True)
    p = phone()
    body = p.push(p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup))).json
    assert body["results"][0]["code"] == "scan_required"
    conflict = _events(db, pickup, "field_conflict")[0]
    assert conflict.needs_review  # the goods may already be in the van
    body = p.push(p.mutation("scan_label", pickup_id=pickup.id, code=pickup.label_code)).json
    assert body["results"][0]["status"] == "applied"
    body = p.push(p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup))).json
    assert body["results"][0]["status"] == "applied"


def test_scanning_checks_the_label_against_the_pickup(phone, driver, other_driver, create_pickup, db):
    mine, also_mine, theirs = create_pickup(driver=driver), create_pickup(driver=driver), create_pickup(driver=other_driver)
    code = mine.label_code
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    p = phone()
    body = p.push(
        p.mutation("scan_label", pickup_id=mine.id, code=also_mine.label_code),
        p.mutation("scan_label", pickup_id=mine.id, code=wrong_check),
        p.mutation("scan_label", pickup_id=mine.id, code=theirs.label_code),
        p.mutation("scan_label", pickup_id=mine.id, code="https://backhaul.test/l/" + code),
    ).json
    assert [r["code"] for r in body["results"]][:3] == ["wrong_label", "bad_check_character", "not_your_pickup"]
    assert also_mine.reference in body["results"][0]["message"]
    assert body["results"][3]["status"] == "applied"
    assert len(_events(db, mine, "label_scanned")) == 1


def test_failing_records_reason_and_notes_and_can_be_collected_later_by_the_same_driver(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    body = p.push(
        p.mutation("fail_pickup", pickup_id=pickup.id, reason="item_not_ready", notes="Still packing"),
        p.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup)),
        p.mutation("fail_pickup", pickup_id=pickup.id, reason="not_home"),
    ).json
    assert [(r["status"], r["code"]) for r in body["results"]] == [("applied", None), ("applied", None), ("rejected", "already_collected")]
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.COLLECTED
    assert [e.kind for e in _events(db, pickup)][-3:] == ["failed", "reopened", "collected"]


def test_photo_ids_are_linked_to_the_pickup_and_its_items(phone, driver, create_pickup, db):
    from app.photos.services import photos_for_pickup

    pickup = create_pickup(driver=driver)
    item_photo, signature, failure = (str(uuid.uuid4()) for _ in range(3))
    items = collect_all(pickup, "C")
    items[0]["photo_ids"] = [item_photo]
    items[1]["photo_ids"] = [item_photo]
    p = phone()
    body = p.push(p.mutation("collect_items", pickup_id=pickup.id, items=items, signature_photo_id=signature)).json
    assert body["results"][0]["status"] == "applied"
    photos = photos_for_pickup(pickup)
    assert {(ph.photo_id, ph.role, ph.item_id) for ph in photos} == {
        (item_photo, "item", pickup.items[0].id),
        (item_photo, "item", pickup.items[1].id),
        (signature, "signature", None),
    }
    assert all(ph.awaiting_upload and ph.event_id for ph in photos)
    assert failure not in {ph.photo_id for ph in photos}


def test_conflict_cancelled_meanwhile_rejects_and_keeps_the_facts_for_review(phone, api_client, dispatcher, driver, create_pickup, db):
    from app.photos.services import photos_for_pickup

    pickup = create_pickup(driver=driver)
    seen = pickup.version
    p = phone()
    p.pull()
    response = api_client(dispatcher).post(f"/api/v1/pickups/{pickup.id}/cancel", json={"reason": "Customer kept it"})
    assert response.status_code == 200
    items = collect_all(pickup, "D")
    photo = str(uuid.uuid4())
    items[0]["photo_ids"] = [photo]
    body = p.push(p.mutation("collect_items", pickup_id=pickup.id, base_version=seen, items=items)).json
    result = body["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "pickup_cancelled")
    assert "Customer kept it" in result["message"] and "kept for review" in result["message"]
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.CANCELLED
    assert all(i.collected_quantity is None for i in pickup.items)
    review = _events(db, pickup, "field_conflict")[0]
    assert review.needs_review and review.actor_id == driver.id and review.mutation_id == 1
    assert review.data["code"] == "pickup_cancelled"
    assert review.data["args"]["items"][0]["quantity"] == 1 and review.data["args"]["items"][0]["grade"] == "D"
    assert review.data["seen_version"] == seen and review.data["server_version"] == pickup.version
    assert [(ph.photo_id, ph.role, ph.event_id) for ph in photos_for_pickup(pickup)] == [(photo, "review", review.id)]


def test_conflict_reassigned_meanwhile_rejects_and_keeps_the_facts(phone, api_client, dispatcher, driver, other_driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    api_client(dispatcher).post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": other_driver.id})
    body = p.push(p.mutation("collect_items", pickup_id=pickup.id, base_version=1, items=collect_all(pickup))).json
    assert body["results"][0]["code"] == "pickup_reassigned"
    db.session.refresh(pickup)
    assert (pickup.status, pickup.driver_id) == (PickupStatus.ASSIGNED, other_driver.id)
    review = _events(db, pickup, "field_conflict")[0]
    assert review.needs_review and review.actor_id == driver.id


def test_dispatcher_edits_that_do_not_touch_collection_do_not_conflict(phone, api_client, dispatcher, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    seen = pickup.version
    window = {"start": (pickup.window_start + timedelta(hours=1)).isoformat(), "end": (pickup.window_end + timedelta(hours=1)).isoformat()}
    response = api_client(dispatcher).patch(f"/api/v1/pickups/{pickup.id}", json={"notes": "Gate code 1234", "window": window})
    assert response.status_code == 200, response.json
    db.session.refresh(pickup)
    assert pickup.version > seen
    p = phone()
    body = p.push(p.mutation("collect_items", pickup_id=pickup.id, base_version=seen, items=collect_all(pickup))).json
    assert body["results"][0]["status"] == "applied"
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.COLLECTED and pickup.notes == "Gate code 1234"
    collected = _events(db, pickup, "collected")[0]
    assert not collected.needs_review and collected.data["seen_version"] == seen


def test_a_device_clock_48_hours_off_is_accepted_and_flagged(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    ahead = datetime.now(timezone.utc) + timedelta(hours=48)
    mutation = p.mutation("arrive", pickup_id=pickup.id)
    mutation["device_time"] = ahead.isoformat()
    body = p.push(mutation, sent_at=ahead.isoformat()).json
    assert body["results"][0]["status"] == "applied"
    event = _events(db, pickup, "arrived")[0]
    assert abs(event.clock_skew_seconds - 48 * 3600) < 30
    assert event.data["clock_skew_flagged"] is True
    assert event.device_time == datetime.fromisoformat(ahead.isoformat())
    client = db.session.scalar(select(SyncClient))
    assert abs(client.clock_skew_seconds - 48 * 3600) < 30


def test_a_device_time_in_the_future_is_flagged_even_without_sent_at(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    mutation = p.mutation("arrive", pickup_id=pickup.id)
    mutation["device_time"] = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()
    p.push(mutation)
    event = _events(db, pickup, "arrived")[0]
    assert 3 * 3600 - 30 < event.clock_skew_seconds <= 3 * 3600 and event.data["clock_skew_flagged"]


def test_a_temporary_database_failure_answers_503_and_applies_nothing(phone, driver, create_pickup, db, monkeypatch):
    from app.sync import services

    pickup = create_pickup(driver=driver)
    p = phone()
    batch = [p.mutation("arrive", pickup_id=pickup.id), p.mutation("fail_pickup", pickup_id=pickup.id, reason="not_home")]
    real_write = services._write

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)
        raise OperationalError("INSERT …", {}, Exception("could not serialize access"))

    monkeypatch.setattr(services, "_write", write_then_fail)
    response = p.push(*batch, expect=503)
    assert response.json["error"]["code"] == "try_again"
    assert response.headers["Retry-After"] == "2"
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.ASSIGNED and _events(db, pickup, "arrived") == []
    assert db.session.scalar(select(func.count()).select_from(SyncMutation)) == 0
    monkeypatch.setattr(services, "_write", real_write)
    body = p.push(*batch).json
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]


def test_the_pickup_timeline_shows_the_evidence(phone, api_client, dispatcher, driver, create_pickup):
    pickup = create_pickup(driver=driver)
    p = phone()
    p.push(p.mutation("arrive", pickup_id=pickup.id), sent_at=(datetime.now(timezone.utc) - timedelta(minutes=30)).isoformat())
    events = api_client(dispatcher).get(f"/api/v1/pickups/{pickup.id}").json["events"]
    arrived = [e for e in events if e["kind"] == "arrived"][0]
    assert arrived["client_id"] == p.client_id and arrived["mutation_id"] == 1
    assert arrived["lat"] == 52.3752 and arrived["accuracy_m"] == 8.5
    assert -1830 < arrived["clock_skew_seconds"] < -1770
    assert arrived["device_time"] and arrived["server_time"]


def test_extra_envelope_fields_are_ignored_but_unknown_arguments_are_refused(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    newer = p.mutation("arrive", pickup_id=pickup.id)
    newer["battery"] = 0.42
    newer["location"] = {"lat": 52.1, "lon": 4.3, "accuracy_m": 5, "altitude": 3.2, "heading": None, "speed": 0}
    unknown_arg = p.mutation("note", pickup_id=pickup.id, text="hi", colour="blue")
    body = p.push(newer, unknown_arg, device_model="Pixel 9").json
    assert [(r["status"], r["code"]) for r in body["results"]] == [("applied", None), ("rejected", "invalid_args")]
    assert "colour" in str(body["results"][1]["fields"])
    assert _events(db, pickup, "arrived")[0].lat == 52.1


def test_a_clock_stuck_in_1970_or_year_one_never_loses_the_action(phone, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    in_1970 = p.mutation("arrive", pickup_id=pickup.id)
    in_1970["device_time"] = "1970-01-01T00:00:05+00:00"
    year_one = p.mutation("note", pickup_id=pickup.id, text="clock broken")
    year_one["device_time"] = "0001-01-01T00:00:00+01:00"
    body = p.push(in_1970, year_one, sent_at="0001-01-01T00:00:09+01:00").json
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    for event in _events(db, pickup)[-2:]:
        assert event.device_time is None and event.data["clock_skew_flagged"] and event.data["unusable_device_time"]
        assert event.clock_skew_seconds == -(2**31 - 1)
