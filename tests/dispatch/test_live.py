"""The live board: a cheap change token, one driver picker per page, and updates in a real browser."""
from __future__ import annotations

import re
import time as clock
from datetime import datetime, timezone

import pytest
import requests

from app.dispatch.live import change_token
from tests.conftest import TEST_PASSWORD
from tests.sync.conftest import Phone, collect_all


def test_change_token_moves_on_a_drivers_push_and_not_otherwise(console, api_client, driver, create_pickup):  # type: ignore[no-untyped-def]
    pickup = create_pickup(driver=driver)
    first = console.get("/dispatch/changes")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert console.get("/dispatch/changes").json == first.json  # nothing happened: same token
    phone = Phone(api_client(driver))
    phone.push(phone.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup, "A")))
    assert console.get("/dispatch/changes").json["token"] != first.json["token"]


def test_change_token_is_for_dispatch_only(api_client, console_for, driver, db):  # type: ignore[no-untyped-def]
    assert console_for(driver).get("/dispatch/changes").status_code == 403
    assert api_client().get("/dispatch/changes", headers={"Accept": "application/json"}).status_code == 401


def test_board_has_one_driver_picker_and_marks_pickups_with_photos(console, create_pickup, driver, other_driver, db):  # type: ignore[no-untyped-def]
    for _ in range(5):
        create_pickup()
    html = console.get("/dispatch/?date=").get_data(as_text=True)
    assert html.count("<select") == 3  # status and driver filters, and the one picker for ticked pickups
    assert html.count('name="pickup_ids"') == 5


def test_assigning_ticked_pickups_at_once_and_refusals(console, create_pickup, driver, dispatcher, db):  # type: ignore[no-untyped-def]
    a, b = create_pickup(), create_pickup()
    done = console.post("/dispatch/pickups/assign", {"pickup_ids": [a.id, b.id], "driver_id": driver.id, "next": "/dispatch/?date="})
    assert done.status_code == 303 and done.location.endswith("/dispatch/?date=")
    db.session.expire_all()
    assert {db.session.get(type(a), i).driver_id for i in (a.id, b.id)} == {driver.id}
    assert console.post("/dispatch/pickups/assign", {"driver_id": driver.id}).status_code == 422
    assert console.post("/dispatch/pickups/assign", {"pickup_ids": [a.id], "driver_id": dispatcher.id}).status_code == 422
    assert console.post("/dispatch/pickups/assign", {"pickup_ids": [a.id], "driver_id": "x"}).status_code == 422
    assert console.post("/dispatch/pickups/assign", {"pickup_ids": [999999], "driver_id": driver.id}).status_code == 404
    off = console.post("/dispatch/pickups/assign", {"pickup_ids": [a.id, b.id], "driver_id": ""})
    assert off.status_code == 303
    db.session.expire_all()
    assert db.session.get(type(a), a.id).driver_id is None


def test_change_token_reads_cheaply(app, db, create_pickup):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    def statements_for_one_token() -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            with app.app_context():
                assert re.fullmatch(r"\d+\.\d+", change_token())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    create_pickup()
    few = statements_for_one_token()
    for _ in range(20):
        create_pickup()
    # A few index reads, however many pickups there are.
    assert statements_for_one_token() == few <= 4


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_board_updates_in_the_browser_after_another_clients_push_and_keeps_the_filter(chromium, app, dispatcher, driver, other_driver, create_pickup, db):  # type: ignore[no-untyped-def]
    from tests.support.browser import serve_app

    mine = create_pickup(driver=driver)
    create_pickup(driver=other_driver)
    with serve_app(app) as url:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url + "/login")
        page.fill("#email", dispatcher.email)
        page.fill("#password", TEST_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url("**/dispatch/")
        page.goto(f"{url}/dispatch/?date=&driver_id={driver.id}")
        page.fill("#f-q", "half-typed")  # a filter being edited must survive the update
        assert page.locator(f"#pickup-{mine.id} .status").inner_text() == "assigned"
        assert page.locator("table.board tbody tr").count() == 1

        phone = requests.Session()
        login = phone.post(f"{url}/api/v1/auth/login", json={"email": driver.email, "password": TEST_PASSWORD}, timeout=10)
        token = login.json()["csrf_token"]
        body = {"client_id": "other-client", "schema_version": 1, "mutations": [{
            "id": 1, "name": "collect_items", "args": {"pickup_id": mine.id, "items": collect_all(mine, "A")}, "base_version": None,
            "device_time": datetime.now(timezone.utc).isoformat(), "location": None}]}
        pushed = phone.post(f"{url}/api/v1/sync/push", json=body, headers={"X-CSRFToken": token}, timeout=10)
        assert pushed.json()["results"][0]["status"] == "applied", pushed.json()

        deadline = clock.monotonic() + 20
        while clock.monotonic() < deadline and page.locator(f"#pickup-{mine.id} .status").inner_text() != "collected":
            page.wait_for_timeout(250)
        assert page.locator(f"#pickup-{mine.id} .status").inner_text() == "collected"
        assert f"driver_id={driver.id}" in page.url
        assert page.locator("table.board tbody tr").count() == 1  # still filtered to this driver
        assert page.input_value("#f-q") == "half-typed"
        assert page.input_value("#f-driver") == str(driver.id)
        context.close()
        assert errors == [], errors
