"""The phone reports what it holds: a day's work held on the phone shows on the dispatcher's sync-health page."""
from __future__ import annotations

import pytest

from tests.browser.conftest import DEMO_PASSWORD, PHONE, log_in, wait_until
from tests.browser.media import phone_photo
from tests.browser.test_sync_edges import SYNCED, driver_route

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]


def fail_with_photo(page, server, pickup_id, photo_file) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/driver/#/p/{pickup_id}/fail")
    page.wait_for_selector("#fail-submit")
    page.click("label.reason:has-text('Nobody home')")
    page.locator("input[type=file]").set_input_files(str(photo_file))
    page.locator(".thumb img").wait_for()
    page.click("#fail-submit")
    page.wait_for_selector(f"li.stop[data-pickup='{pickup_id}'][data-status='failed']", state="attached")


def held_report(server):  # type: ignore[no-untyped-def]
    def work():  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        from app.extensions import db
        from app.sync.models import SyncClient

        db.session.expire_all()
        client = db.session.scalar(select(SyncClient))
        return None if client is None or client.held_reported_at is None else (client.held_actions, client.held_photos)

    return server.query(work)


def test_the_sync_health_page_shows_the_phones_own_counts_after_an_offline_push(browser, live_server, tmp_path):
    photo_file = tmp_path / "door.jpg"
    photo_file.write_bytes(phone_photo(1200, 900))
    first, second = driver_route(live_server)[:2]
    phone = browser.new_context(viewport=PHONE, service_workers="allow", locale="en-GB", timezone_id="Europe/Amsterdam")
    console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = phone.new_page()
        log_in(page, live_server)
        wait_until(page, SYNCED)
        # No signal: two failed stops, each with a photo, stay on the phone.
        phone.set_offline(True)
        fail_with_photo(page, live_server, first, photo_file)
        fail_with_photo(page, live_server, second, photo_file)
        # Signal comes back, but the photo uploads keep failing (a weak connection drops big bodies):
        # the actions go, the photos stay, and the phone's next push and pull say so.
        phone.route("**/api/v1/photos/**", lambda route: route.fulfill(status=503, body="busy"))
        phone.set_offline(False)
        # The push carries what the phone held when it went (the two actions, the two photos); the pull
        # after it, what is left: no action, two photos.
        for _ in range(60):
            if held_report(live_server) == (0, 2):
                break
            page.evaluate("import('/static/driver/sync.js').then((m) => m.syncNow())")
            page.wait_for_timeout(500)
        assert held_report(live_server) == (0, 2)

        staff = console.new_page()
        staff.goto(f"{live_server.url}/login")
        staff.fill("#email", "dispatcher@backhaul.test")
        staff.fill("#password", DEMO_PASSWORD)
        staff.click("form button[type=submit]")
        staff.goto(f"{live_server.url}/dispatch/drivers")
        held = staff.locator("tr[id^=driver-]", has_text="Driss Driver").locator("td.held")
        assert held.inner_text().startswith("0 actions, 2 photos")
    finally:
        phone.close()
        console.close()
