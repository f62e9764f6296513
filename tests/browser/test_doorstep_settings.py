"""An admin changes what the door asks for in the console; the phone obeys from its next pull."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.pickups.models import DoorstepSetting, Pickup, PickupEvent
from tests.browser.conftest import DRIVER_EMAIL, PHONE, idb, log_in, log_in_to_the_console, wait_until
from tests.browser.media import phone_photo
from tests.browser.test_offline_day import sign
from tests.browser.test_sync_edges import SYNCED

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

ADMIN_EMAIL = "admin@backhaul.test"
DESKTOP = {"width": 1280, "height": 900}
PHOTOS_OF_B = "import('/static/driver/settings.js').then((m) => m.settings()).then((s) => s.photosPerGrade.B)"


def _setup(server: Any) -> tuple[int, int, int]:
    """Two of the driver's pickups that need no label scan: (one to collect, its items, one to fail)."""

    def work() -> tuple[int, int, int]:
        assert db.session.scalar(select(User.role).where(User.email == ADMIN_EMAIL)).value == "admin"  # the demo's admin
        driver_id = db.session.scalar(select(User.id).where(User.email == DRIVER_EMAIL))
        collect, fail = db.session.scalars(select(Pickup).where(Pickup.driver_id == driver_id).order_by(Pickup.route_position).limit(2))
        collect.scan_required = fail.scan_required = False
        db.session.commit()
        return collect.id, len(collect.items), fail.id

    return server.query(work)


def _grade_every_item_b(page: Any) -> Any:
    page.wait_for_selector(".item-card")
    cards = page.locator(".item-card")
    for index in range(cards.count()):
        cards.nth(index).locator("label.grade").nth(1).click()
    return cards


def _photograph(card: Any, photo_file: Any, count: int) -> None:
    card.locator("input[type=file]").set_input_files(str(photo_file))
    card.locator(".thumb img").nth(count - 1).wait_for()


def test_an_admin_asks_for_two_photos_of_grade_b_and_a_signature_and_the_phone_obeys_from_its_next_pull(browser, live_server, tmp_path):
    photo_file = tmp_path / "item.jpg"
    photo_file.write_bytes(phone_photo(1200, 900))
    collect_id, item_count, fail_id = _setup(live_server)
    phone = browser.new_context(viewport=PHONE, service_workers="allow", locale="en-GB", timezone_id="Europe/Amsterdam")
    console = browser.new_context(viewport=DESKTOP, locale="en-GB")
    try:
        page = phone.new_page()
        log_in(page, live_server)
        wait_until(page, SYNCED)
        # The defaults: grade B needs no photo, and a collection may finish unsigned.
        page.goto(f"{live_server.url}/driver/#/p/{collect_id}/collect")
        cards = _grade_every_item_b(page)
        assert all(cards.nth(i).locator(".photo-hint").is_hidden() for i in range(item_count))
        assert page.evaluate(PHOTOS_OF_B) == 0

        admin = console.new_page()
        log_in_to_the_console(admin, live_server, ADMIN_EMAIL)
        admin.goto(f"{live_server.url}/dispatch/setup")
        admin.click("text=At the door")
        admin.wait_for_selector("#photos-B")
        # A size out of range is stopped in the form (the server refuses it too: tests/dispatch/test_doorstep_views.py).
        admin.fill("#photo_long_edge", "99999")
        admin.fill("#photos-B", "2")
        admin.click("button:has-text('Save settings')")
        assert admin.evaluate("document.querySelector('#photo_long_edge').validity.rangeOverflow")
        assert live_server.query(lambda: db.session.scalar(select(func.count()).select_from(DoorstepSetting))) == 0
        admin.fill("#photo_long_edge", "1600")
        admin.check("input[name=signature_required]")
        admin.fill("input[name=words-not_home]", "Nobody answered the door")
        admin.uncheck("input[name=offered][value=unsafe]")
        admin.click("button:has-text('Save settings')")
        admin.wait_for_selector("text=Settings saved")
        assert admin.input_value("#photos-B") == "2" and admin.is_checked("input[name=signature_required]")

        # The phone's next pull carries them: no app update, no reload.
        page.click("#sync-now")
        wait_until(page, f"{PHOTOS_OF_B}.then((n) => n === 2)", message="the new photo count on the phone")
        page.goto(f"{live_server.url}/driver/#/")
        page.goto(f"{live_server.url}/driver/#/p/{collect_id}/collect")
        cards = _grade_every_item_b(page)
        first = cards.nth(0)
        assert first.locator(".photo-hint").inner_text() == "2 photos are required for this grade."
        for index in range(item_count):
            _photograph(cards.nth(index), photo_file, 1)
        page.click("#to-signature")
        page.wait_for_selector("#problems li")
        assert "Take 1 more photo of" in page.inner_text("#problems")
        assert "(grade B needs 2, it has 1)" in page.inner_text("#problems")
        for index in range(item_count):
            _photograph(cards.nth(index), photo_file, 2)
        page.click("#to-signature")
        page.wait_for_selector("#signature")
        # A signature is required: there is no finishing without one.
        assert page.locator("#finish-unsigned").count() == 0
        sign(page)
        page.fill("#signed-by", "SANNE DE VRIES")
        page.click("#finish")
        page.wait_for_selector(f"li.stop[data-pickup='{collect_id}'][data-status='collected']", state="attached")

        # The failure reasons are the admin's: reworded, one no longer offered.
        page.goto(f"{live_server.url}/driver/#/p/{fail_id}/fail")
        page.wait_for_selector("#fail-submit")
        reasons = page.inner_text("form")
        assert "Nobody answered the door" in reasons and "Nobody home" not in reasons and "Unsafe to collect" not in reasons

        wait_until(page, SYNCED, timeout=30)
        assert not [m for m in idb(page, "outbox") if m["name"] == "collect_items"]

        def collected() -> dict[str, Any]:
            event = db.session.scalar(select(PickupEvent).where(PickupEvent.pickup_id == collect_id, PickupEvent.kind == "collected"))
            return event.data

        data = live_server.query(collected)
        assert all(len(item["photo_ids"]) == 2 for item in data["items"]) and data["signature_photo_id"]
    finally:
        phone.close()
        console.close()
