"""The admins' door settings: kept whole or not at all, carried by the next pull, and what the server holds to."""
from __future__ import annotations

import uuid

import pytest

from app.core.errors import InvalidInput
from app.pickups.doorstep import DoorstepChange, doorstep, save_doorstep
from app.pickups.models import DoorstepSetting, FailureReason, Grade
from tests.sync.conftest import collect_all

WORDS = {
    "not_home": "Nobody answered the door", "refused": "Customer refused", "item_not_ready": "Item not ready",
    "wrong_item": "Wrong item", "address_problem": "Address problem", "unsafe": "Unsafe to collect", "other": "Other (say what)",
}


def change(**overrides):  # type: ignore[no-untyped-def]
    values = {
        "photo_long_edge": "1280", "photo_jpeg_quality": "75", "photos_per_grade": {"A": "0", "B": "2", "C": "1", "D": "3"},
        "signature_required": True, "scan_required_by_default": True, "failure_words": WORDS,
        "failure_reasons_offered": frozenset({"not_home", "refused", "item_not_ready", "wrong_item", "address_problem"}),
    }
    values.update(overrides)
    return DoorstepChange(**values)


def test_the_defaults_are_the_configurations_until_an_admin_changes_one(app, db):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        door = doorstep()
        assert (door.photo_long_edge, door.photo_jpeg_quality) == (1600, 0.8)
        assert door.photos_per_grade == {Grade.A: 0, Grade.B: 0, Grade.C: 1, Grade.D: 1}
        assert not door.signature_required and not door.scan_required_by_default
        assert door.failure_reasons_offered == tuple(FailureReason)
        assert door.failure_label(FailureReason.NOT_HOME) == "Nobody home"


def test_saved_settings_reach_the_phone_on_its_next_pull(phone, create_user, db, app):  # type: ignore[no-untyped-def]
    p = phone()
    before = p.pull(cursor=None)["settings"]
    assert before["photos_per_grade"] == {"A": 0, "B": 0, "C": 1, "D": 1} and before["signature_required"] is False
    with app.test_request_context():
        save_doorstep(change(), actor=create_user("admin", email="admin@example.test"))
        db.session.commit()
    after = p.pull()["settings"]
    assert after["photos_per_grade"] == {"A": 0, "B": 2, "C": 1, "D": 3}
    assert after["photo_required_grades"] == ["B", "C", "D"]  # for phones still on the app from before counts
    assert after["signature_required"] is True
    assert after["photo"]["long_edge"] == 1280 and after["photo"]["jpeg_quality"] == 0.75
    # "other" is always offered, even when the admin leaves it unticked; "unsafe" is not.
    assert [r["code"] for r in after["failure_reasons"]] == ["not_home", "refused", "item_not_ready", "wrong_item", "address_problem", "other"]
    assert after["failure_reasons"][0]["label"] == "Nobody answered the door"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"photo_long_edge": "99999"}, "photo_long_edge"),
        ({"photo_long_edge": "big"}, "photo_long_edge"),
        ({"photo_jpeg_quality": "30"}, "photo_jpeg_quality"),
        ({"photo_jpeg_quality": "nan"}, "photo_jpeg_quality"),
        ({"photos_per_grade": {"A": "0", "B": "-1", "C": "1", "D": "1"}}, "photos-B"),
        ({"photos_per_grade": {"A": "0", "B": "9", "C": "1", "D": "1"}}, "photos-B"),
        ({"failure_words": {**WORDS, "refused": "   "}}, "words-refused"),
        ({"failure_words": {**WORDS, "refused": "x" * 61}}, "words-refused"),
        ({"failure_reasons_offered": frozenset({"abducted_by_aliens"})}, "failure_reasons_offered"),
    ],
)
def test_a_bad_setting_is_refused_by_name_and_nothing_is_kept(overrides, field, create_user, db, app):  # type: ignore[no-untyped-def]
    admin = create_user("admin", email=f"admin-{uuid.uuid4().hex[:6]}@example.test")
    with app.test_request_context():
        with pytest.raises(InvalidInput) as refused:
            save_doorstep(change(**overrides), actor=admin)
        assert field in refused.value.fields
        db.session.rollback()
        assert db.session.query(DoorstepSetting).count() == 0


def test_quality_is_read_as_a_share_or_a_percentage(create_user, db, app):  # type: ignore[no-untyped-def]
    admin = create_user("admin", email="admin@example.test")
    with app.test_request_context():
        assert save_doorstep(change(photo_jpeg_quality="0,85"), actor=admin).photo_jpeg_quality == 0.85
        assert save_doorstep(change(photo_jpeg_quality="70 %"), actor=admin).photo_jpeg_quality == 0.7


def test_the_server_holds_to_one_photo_where_the_grade_asks_for_photos_and_leaves_the_count_to_the_phone(phone, driver, create_pickup, create_user, db, app):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        counts = {"A": "0", "B": "2", "C": "1", "D": "1"}
        save_doorstep(change(photos_per_grade=counts, scan_required_by_default=False), actor=create_user("admin", email="admin@example.test"))
        db.session.commit()
    p = phone()
    refused_pickup, counted_pickup = create_pickup(driver=driver), create_pickup(driver=driver)
    unphotographed = p.mutation("collect_items", pickup_id=refused_pickup.id, items=collect_all(refused_pickup, "B"), base_version=refused_pickup.version)
    [result] = p.push(unphotographed).json["results"]
    assert result["code"] == "photo_required" and "graded B" in result["message"]
    # One photo each where the phone asked for two: a phone offline since the count was raised did its work by
    # the count it knew; the server keeps that work.
    items = collect_all(counted_pickup, "B")
    for item in items:
        item["photo_ids"] = [str(uuid.uuid4())]
    [result] = p.push(p.mutation("collect_items", pickup_id=counted_pickup.id, items=items, base_version=counted_pickup.version)).json["results"]
    assert result["status"] == "applied", result


def test_new_pickups_need_a_label_scan_when_the_admins_say_so_unless_they_say_otherwise(api_client, dispatcher, create_user, db, app):  # type: ignore[no-untyped-def]
    from tests.conftest import pickup_payload

    office = api_client(dispatcher)
    assert office.post("/api/v1/pickups", json=pickup_payload()).json["scan_required"] is False
    with app.test_request_context():
        save_doorstep(change(scan_required_by_default=True), actor=create_user("admin", email="admin@example.test"))
        db.session.commit()
    made = office.post("/api/v1/pickups", json=pickup_payload())
    assert made.status_code == 201 and made.json["scan_required"] is True
    assert office.post("/api/v1/pickups", json=pickup_payload(scan_required=None)).json["scan_required"] is True
    told = office.post("/api/v1/pickups", json=pickup_payload(scan_required=False)).json
    assert told["scan_required"] is False
    # An edit says yes or no: null is refused, not taken as the default.
    edit = office.patch(f"/api/v1/pickups/{told['id']}", json={"scan_required": None, "version": told["version"]})
    assert edit.status_code == 422 and "scan_required" in edit.json["error"]["fields"]
