"""Photo evidence from the phone to dispatch: the time a photo was taken and, when allowed, where."""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.browser.conftest import PHONE, idb, log_in, wait_until
from tests.browser.media import phone_photo
from tests.browser.test_sync_edges import SYNCED, driver_route

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

DOOR = {"latitude": 52.370216, "longitude": 4.895168, "accuracy": 9}


def photographed_failure(page, server, pickup_id, photo_file):  # type: ignore[no-untyped-def]
    """Fail the pickup with one photo; answer the phone's copy of that photo before it is sent."""
    page.goto(f"{server.url}/driver/#/p/{pickup_id}/fail")
    page.wait_for_selector("#fail-submit")
    page.click("label.reason:has-text('Nobody home')")
    page.locator("input[type=file]").set_input_files(str(photo_file))
    page.locator(".thumb img").wait_for()
    [photo] = idb(page, "photos")
    page.click("#fail-submit")
    page.wait_for_selector(f"li.stop[data-pickup='{pickup_id}'][data-status='failed']", state="attached")
    return photo


def staff_photos(server, pickup_id):  # type: ignore[no-untyped-def]
    from app.accounts.models import User
    from app.extensions import db
    from app.photos.api import photo_json
    from app.photos.services import photos_of_pickup
    from app.pickups.models import Pickup

    def work():  # type: ignore[no-untyped-def]
        dispatcher = db.session.query(User).filter_by(email="dispatcher@backhaul.test").one()
        with server.app.test_request_context():
            return [photo_json(p) for p in photos_of_pickup(db.session.get(Pickup, pickup_id), viewer=dispatcher)]

    return server.query(work)


def test_a_photos_capture_time_and_place_reach_the_dispatcher(browser, live_server, tmp_path):
    photo_file = tmp_path / "door.jpg"
    photo_file.write_bytes(phone_photo(1200, 900))
    first, second = driver_route(live_server)[:2]
    context = browser.new_context(viewport=PHONE, service_workers="allow", locale="en-GB", timezone_id="Europe/Amsterdam",
                                  permissions=["geolocation"], geolocation=DOOR)
    try:
        page = context.new_page()
        log_in(page, live_server)
        wait_until(page, SYNCED)
        # Asked once, with why, the first time a screen takes photos.
        page.goto(f"{live_server.url}/driver/#/p/{first}/fail")
        question = page.locator("#location-question")
        assert "customer's door" in question.inner_text()
        page.click("#location-allow")
        question.wait_for(state="detached")  # the answer closes the question (asynchronously)
        wait_until(page, "import('/static/driver/location.js').then((m) => m.currentLocation())", message="a location fix")
        photo = photographed_failure(page, live_server, first, photo_file)
        assert photo["location"] == {"lat": DOOR["latitude"], "lon": DOOR["longitude"], "accuracy_m": 9}
        wait_until(page, SYNCED, timeout=30)
        [seen] = staff_photos(live_server, first)
        assert seen["uploaded"] and seen["kind"] == "failure"
        assert seen["captured_at"] == datetime.fromisoformat(photo["captured_at"].replace("Z", "+00:00"))
        assert seen["location"] == {"lat": DOOR["latitude"], "lon": DOOR["longitude"], "accuracy_m": 9.0}

        # Not asked again; switched off on the route screen, photos carry their time and no place.
        page.goto(f"{live_server.url}/driver/#/")
        page.uncheck("#share-location")
        page.goto(f"{live_server.url}/driver/#/p/{second}/fail")
        page.wait_for_selector("#fail-submit")
        assert page.locator("#location-question").count() == 0
        photo = photographed_failure(page, live_server, second, photo_file)
        assert photo["location"] is None and photo["captured_at"]
        wait_until(page, SYNCED, timeout=30)
        [seen] = staff_photos(live_server, second)
        assert seen["uploaded"] and seen["location"] is None
        assert seen["captured_at"] == datetime.fromisoformat(photo["captured_at"].replace("Z", "+00:00"))
    finally:
        context.close()


def test_refusing_location_changes_nothing_else(browser, live_server, tmp_path):
    photo_file = tmp_path / "door.jpg"
    photo_file.write_bytes(phone_photo(1200, 900))
    first = driver_route(live_server)[0]
    # The driver says yes in the app but no to the browser's own prompt (no geolocation permission).
    context = browser.new_context(viewport=PHONE, service_workers="allow", locale="en-GB", timezone_id="Europe/Amsterdam")
    try:
        page = context.new_page()
        log_in(page, live_server)
        wait_until(page, SYNCED)
        page.goto(f"{live_server.url}/driver/#/p/{first}/photos")
        page.click("#location-allow")
        page.goto(f"{live_server.url}/driver/#/p/{first}/fail")
        page.wait_for_selector("#fail-submit")
        assert page.locator("#location-question").count() == 0
        photo = photographed_failure(page, live_server, first, photo_file)
        assert photo["location"] is None
        wait_until(page, SYNCED, timeout=30)
        [seen] = staff_photos(live_server, first)
        assert seen["uploaded"] and seen["location"] is None and seen["captured_at"] is not None
    finally:
        context.close()
