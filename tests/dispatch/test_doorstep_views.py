"""The console page where admins set what every phone asks for at the door; nobody else reaches it."""
from __future__ import annotations

from app.pickups.models import DoorstepSetting

FORM = {
    "photo_long_edge": "1600", "photo_jpeg_quality": "80",
    "photos-A": "0", "photos-B": "2", "photos-C": "1", "photos-D": "1",
    "signature_required": "1", "scan_required_by_default": "1",
    "words-not_home": "Nobody answered", "words-refused": "Customer refused", "words-item_not_ready": "Item not ready",
    "words-wrong_item": "Wrong item", "words-address_problem": "Address problem", "words-unsafe": "Unsafe to collect",
    "words-other": "Other (say what happened)",
    "offered": ["not_home", "refused", "item_not_ready", "wrong_item", "address_problem", "unsafe"],
}


def test_an_admin_reads_and_saves_the_door_settings(console_for, create_user, db):  # type: ignore[no-untyped-def]
    admin = console_for(create_user("admin", email="root@example.test"))
    page = admin.get("/dispatch/setup/doorstep")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "These are the defaults" in text and 'name="photos-C"' in text
    assert "/dispatch/setup/doorstep" in admin.get("/dispatch/setup").get_data(as_text=True)  # reachable from Set-up

    saved = admin.post("/dispatch/setup/doorstep", FORM)
    assert saved.status_code == 303
    text = admin.get("/dispatch/setup/doorstep").get_data(as_text=True)
    assert "Settings saved" in text and 'value="Nobody answered"' in text and "Last changed" in text
    assert db.session.get(DoorstepSetting, "photos_per_grade").value == {"A": 0, "B": 2, "C": 1, "D": 1}
    # The new-pickup form starts from the admins' default for the label scan.
    assert 'name="scan_required" value="1" checked' in admin.get("/dispatch/pickups/new").get_data(as_text=True)


def test_bad_settings_come_back_with_what_was_typed_and_nothing_is_kept(console_for, create_user, db):  # type: ignore[no-untyped-def]
    admin = console_for(create_user("admin", email="root@example.test"))
    bad = admin.post("/dispatch/setup/doorstep", {**FORM, "photos-B": "12", "words-refused": ""})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "nothing was saved" in text
    assert 'id="photos-B-error"' in text and 'value="12"' in text and 'id="words-refused-error"' in text
    assert db.session.query(DoorstepSetting).count() == 0
    assert admin.post("/dispatch/setup/doorstep", FORM, csrf=False).status_code == 400
    assert db.session.query(DoorstepSetting).count() == 0


def test_only_admins_reach_the_door_settings(console_for, create_user, dispatcher, driver, db):  # type: ignore[no-untyped-def]
    clerk = create_user("hub", email="clerk@example.test")
    for user in (dispatcher, driver, clerk):
        console = console_for(user)
        assert console.get("/dispatch/setup/doorstep").status_code == 403
        assert console.post("/dispatch/setup/doorstep", FORM).status_code == 403
    assert db.session.query(DoorstepSetting).count() == 0
