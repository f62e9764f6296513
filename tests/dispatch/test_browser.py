"""The console's JavaScript in a real Chromium: item rows, the import's progress flow, drag-and-drop routes.

Everything here also works without JavaScript (the view tests post the plain forms);
these check that the enhancement posts what the server expects.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.pickups.models import Pickup
from tests.conftest import TEST_PASSWORD
from tests.dispatch.conftest import import_row, make_csv
from tests.support.browser import serve_app

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

@pytest.fixture
def live_url(app):  # type: ignore[no-untyped-def]
    with serve_app(app) as url:
        yield url


@pytest.fixture
def page(chromium, live_url, dispatcher):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_url + "/login")
    page.fill("#email", dispatcher.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/dispatch/")
    page.base = live_url  # type: ignore[attr-defined]
    yield page
    context.close()
    assert errors == [], errors


def test_add_item_button_adds_a_row_that_is_saved(page, hub, db):  # type: ignore[no-untyped-def]
    page.goto(page.base + "/dispatch/pickups/new")
    assert page.locator("[data-item-row]").count() == 1  # the spare blank rows are for forms without JS
    page.fill("#f-reference", "RMA-JS-1")
    page.fill("#f-customer_name", "王芳")
    page.fill("#f-line1", "Overtoom 12")
    page.fill("#f-postcode", "1054 HX")
    page.fill("#f-city", "Amsterdam")
    page.fill("#items-0-sku", "A")
    page.fill("#items-0-description", "First")
    page.fill("#items-0-quantity", "1")
    page.click("text=+ Add item")
    page.fill("#items-1-sku", "B")
    page.fill("#items-1-description", "Second")
    page.fill("#items-1-quantity", "2")
    page.click("form.pickup-form button[type=submit]")
    page.wait_for_url("**/dispatch/pickups/*")
    db.session.expire_all()
    pickup = db.session.scalar(select(Pickup).where(Pickup.reference == "RMA-JS-1"))
    assert [(i.sku, i.quantity) for i in pickup.items] == [("A", 1), ("B", 2)]
    assert pickup.customer_name == "王芳"


def test_import_uploads_with_progress_then_previews_and_commits_once(page, hub, db):  # type: ignore[no-untyped-def]
    text = make_csv([import_row(reference=f"RMA-{n // 2}", sku=f"S{n}") for n in range(400)], bom=True, delimiter=";")
    page.goto(page.base + "/dispatch/import")
    page.set_input_files("#file", files=[{"name": "r.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    page.click("form[data-import-upload] button[type=submit]")
    page.wait_for_url("**/dispatch/import/*")
    assert "200" in page.inner_text(".totals")  # pickups
    page.dblclick("form[data-import-commit] button[type=submit]")
    page.wait_for_url("**/dispatch/?date=*")
    assert "Imported 200 pickups with 400 items" in page.inner_text("main")
    db.session.expire_all()
    assert len(db.session.scalars(select(Pickup)).all()) == 200


def test_upload_script_shows_the_servers_refusal(page, hub):  # type: ignore[no-untyped-def]
    page.goto(page.base + "/dispatch/import")
    page.set_input_files("#file", files=[{"name": "r.csv", "mimeType": "text/csv", "buffer": b"reference;colour\r\nA;red\r\n"}])
    page.click("form[data-import-upload] button[type=submit]")
    page.wait_for_selector("form[data-import-upload] .flash-error")
    assert "Unknown column" in page.inner_text("form[data-import-upload] .flash-error")
    assert page.is_enabled("form[data-import-upload] button[type=submit]")


def test_dragging_a_stop_and_saving_reorders_the_route(page, create_pickup, driver, db):  # type: ignore[no-untyped-def]
    tz = ZoneInfo("Europe/Amsterdam")
    day = datetime.now(tz).date()
    ids = []
    for n in range(3):
        start = datetime.combine(day, time(9 + n), tzinfo=tz)
        ids.append(create_pickup(driver=driver, window={"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}).id)
    page.goto(f"{page.base}/dispatch/routes/{driver.id}?date={day}")
    stops = page.locator("[data-pickup-id]")
    last = stops.nth(2).bounding_box()
    stops.nth(0).drag_to(stops.nth(2), target_position={"x": 20, "y": last["height"] - 4})  # the lower half: after it
    assert page.locator("[data-pickup-id]").nth(0).get_attribute("data-pickup-id") == str(ids[1])
    assert page.is_visible("[data-route-order]")
    page.click("[data-route-order] button[type=submit]")
    page.wait_for_selector(".flash")
    db.session.expire_all()
    order = [p.id for p in sorted((db.session.get(Pickup, i) for i in ids), key=lambda p: p.route_position)]
    assert order == [ids[1], ids[2], ids[0]]
