"""Admins set up hubs and staff in the console; nobody else can."""
from __future__ import annotations

from app.accounts.services import authenticate, find_user_by_email
from app.hubs.services import find_hub_by_code


def test_admin_creates_hub_and_staff_and_resets_a_password(console_for, create_user, db):  # type: ignore[no-untyped-def]
    admin = console_for(create_user("admin", email="root@example.test"))
    page = admin.get("/dispatch/setup")
    assert page.status_code == 200 and "Add a hub" in page.get_data(as_text=True)

    made = admin.post("/dispatch/setup/hubs", {"code": "rtm2", "name": "Rotterdam", "timezone": "Europe/Amsterdam", "lat": "51,92", "lon": "4.48"})
    assert made.status_code == 303
    hub = find_hub_by_code("RTM2")
    assert hub is not None and hub.lat == 51.92

    made = admin.post("/dispatch/setup/users", {"name": "Nia New", "email": "nia@example.test", "role": "driver", "hub_id": hub.id, "password": "first-pass-1"})
    assert made.status_code == 303
    nia = find_user_by_email("nia@example.test")
    assert nia.hub_id == hub.id and authenticate("nia@example.test", "first-pass-1") is not None

    saved = admin.post(f"/dispatch/setup/users/{nia.id}", {"name": "Nia N.", "role": "dispatcher", "hub_id": "", "active": "1", "password": "second-pass-2"})
    assert saved.status_code == 303
    db.session.expire_all()
    nia = find_user_by_email("nia@example.test")
    assert (nia.name, nia.role.value, nia.hub_id) == ("Nia N.", "dispatcher", None)
    assert authenticate("nia@example.test", "second-pass-2") is not None

    off = admin.post(f"/dispatch/setup/users/{nia.id}", {"name": "Nia N.", "role": "dispatcher"})  # "active" unchecked
    assert off.status_code == 303
    assert authenticate("nia@example.test", "second-pass-2") is None


def test_setup_refuses_bad_input_with_a_4xx_and_saves_nothing(console_for, create_user):  # type: ignore[no-untyped-def]
    root = create_user("admin", email="root@example.test")
    admin = console_for(root)
    bad = admin.post("/dispatch/setup/hubs", {"code": "X9", "name": "X", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "not a timezone" in bad.get_data(as_text=True)
    assert find_hub_by_code("X9") is None
    assert admin.post("/dispatch/setup/hubs", {"code": "X9", "name": "X", "timezone": "UTC", "lat": "north"}).status_code == 422
    short = admin.post("/dispatch/setup/users", {"name": "S", "email": "s@example.test", "role": "driver", "password": "short"})
    assert short.status_code == 422 and find_user_by_email("s@example.test") is None
    assert admin.post("/dispatch/setup/users", {"name": "S", "email": "s@example.test", "role": "boss", "password": "long-enough"}).status_code == 422
    # The last admin cannot lock everyone out.
    assert admin.post(f"/dispatch/setup/users/{root.id}", {"name": "Root", "role": "dispatcher", "active": "1"}).status_code == 422
    assert admin.post("/dispatch/setup/hubs", {"code": "Y9", "name": "Y", "timezone": "UTC"}, csrf=False).status_code == 400
    assert find_hub_by_code("Y9") is None


def test_dispatchers_and_drivers_cannot_reach_setup(console_for, dispatcher, driver):  # type: ignore[no-untyped-def]
    office = console_for(dispatcher)
    assert office.get("/dispatch/setup").status_code == 403
    assert office.post("/dispatch/setup/hubs", {"code": "Z9", "name": "Z", "timezone": "UTC"}).status_code == 403
    assert find_hub_by_code("Z9") is None
    assert console_for(driver).get("/dispatch/setup").status_code == 403


def test_admin_sets_a_drivers_shift_and_capacity_used_by_planning(console_for, create_user, driver, db, app):  # type: ignore[no-untyped-def]
    from datetime import time

    from app.dispatch.planning import shift_of

    admin = console_for(create_user("admin", email="root@example.test"))
    form = {"name": driver.name, "role": "driver", "active": "1", "shift_start": "07:30", "shift_end": "15:00", "capacity_items": "40"}
    assert admin.post(f"/dispatch/setup/users/{driver.id}", form).status_code == 303
    db.session.expire_all()
    saved = find_user_by_email(driver.email)
    assert (saved.shift_start, saved.shift_end, saved.capacity_items) == (time(7, 30), time(15), 40)
    with app.test_request_context():
        assert shift_of(saved) == (7 * 3600 + 1800, 15 * 3600)
    assert admin.post(f"/dispatch/setup/users/{driver.id}", {**form, "shift_end": "06:00"}).status_code == 422
    assert admin.post(f"/dispatch/setup/users/{driver.id}", {**form, "capacity_items": "lots"}).status_code == 422
