"""In a real Chromium: the customer rebooks from the failed page; the dispatcher sees it unassigned with the new window."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app.core.models import utcnow
from app.pickups import collection
from app.pickups.models import FailureReason, Pickup
from app.pickups.rebooking import rebook_slots
from app.pickups.timeline import Evidence
from tests.conftest import TEST_PASSWORD
from tests.messages.conftest import token_of
from tests.support.browser import serve_app

pytestmark = pytest.mark.browser


def test_a_customer_rebooks_a_failed_pickup_and_dispatch_sees_the_new_window(app, db, chromium, create_pickup, driver, dispatcher):
    pickup = db.session.get(Pickup, create_pickup(driver=driver).id)
    collection.fail_pickup(pickup, FailureReason.NOT_HOME, driver=driver, evidence=Evidence(server_time=utcnow()))
    db.session.commit()
    token = token_of(pickup)
    second_slot = rebook_slots(pickup)[1]
    local = second_slot.start.astimezone(ZoneInfo("Europe/Amsterdam"))

    with serve_app(app) as base:
        phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = phone.new_page()
        page.goto(f"{base}/r/{token}")
        assert page.get_by_role("heading", level=1).inner_text() == "We could not collect your return."
        page.get_by_role("link", name="Choose a new window").click()
        page.get_by_role("group", name=f"{local:%A} {local.day} {local:%B}").get_by_label(f"{local:%H:%M}–", exact=False).first.check()
        page.get_by_role("button", name="Book this window").click()
        page.wait_for_url(f"{base}/r/{token}")
        assert page.get_by_role("heading", level=1).inner_text() == "Your pickup is booked."
        assert f"{local:%H:%M}" in page.locator(".window").inner_text()
        phone.close()

        desk = chromium.new_context(viewport={"width": 1280, "height": 900})
        console = desk.new_page()
        console.goto(f"{base}/login")
        console.fill("#email", dispatcher.email)
        console.fill("#password", TEST_PASSWORD)
        console.click("main form button[type=submit]")
        console.wait_for_url("**/dispatch/")
        console.goto(f"{base}/dispatch/pickups/{pickup.id}")
        assert console.locator("h1 .status").inner_text() == "unassigned"
        plan = console.get_by_role("region", name="Plan").inner_text()
        assert f"{local:%a %d %b %Y, %H:%M}" in plan and "not assigned" in plan
        assert "Rebooked by the customer" in console.get_by_role("region", name="Timeline").inner_text()
        desk.close()
