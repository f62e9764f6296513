"""A whole day offline: scan, grade, photograph, sign, fail, restart the phone, sync."""
from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.pickups.models import Pickup
from tests.browser.conftest import (
    DRIVER_EMAIL,
    PHONE,
    idb,
    log_in,
    wait_for_service_worker,
    wait_until,
)
from tests.browser.media import label_feed, phone_photo
from tests.support.browser import CHROMIUM_FLAGS, chromium_executable

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

LOCATION = {"latitude": 52.3752, "longitude": 4.8840, "accuracy": 12}


def route_of(server) -> list[dict[str, Any]]:
    def work():  # type: ignore[no-untyped-def]
        from app.extensions import db

        driver = db.session.scalar(select(User).where(User.email == DRIVER_EMAIL))
        pickups = db.session.scalars(select(Pickup).where(Pickup.driver_id == driver.id).order_by(Pickup.route_position)).all()
        return [{"id": p.id, "label_code": p.label_code, "name": p.customer_name, "items": [(i.id, i.quantity) for i in p.items]} for p in pickups]

    return server.query(work)


def launch(playwright, profile, feed):  # type: ignore[no-untyped-def]
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium_executable(),
        headless=True,
        args=CHROMIUM_FLAGS + ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={feed}"],
        viewport=PHONE,
        permissions=["camera", "geolocation"],
        geolocation=LOCATION,
        timezone_id="Europe/Amsterdam",
        locale="en-GB",
        service_workers="allow",
    )
    return context


def photo_bytes(page) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    rows = page.evaluate(
        """async () => {
            const { db } = await import('/static/driver/db.js');
            const photos = await (await db()).getAll('photos');
            return photos.map((p) => {
                let s = ''; const b = new Uint8Array(p.bytes);
                for (let i = 0; i < b.length; i += 1) s += String.fromCharCode(b[i]);
                return { id: p.id, b64: btoa(s), sha256: p.sha256, type: p.type, state: p.state, constructor: p.bytes.constructor.name };
            });
        }"""
    )
    for row in rows:
        assert row["constructor"] == "ArrayBuffer"  # never Blobs: Safari fails on them
        assert hashlib.sha256(base64.b64decode(row["b64"])).hexdigest() == row["sha256"]
    return {row["id"]: base64.b64decode(row["b64"]) for row in rows}


def sign(page) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#signature").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 120)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 25, box["y"] + 120 - (step % 3) * 30)
    page.mouse.up()


def test_a_whole_offline_day_reaches_the_server_exactly_once(playwright, live_server, tmp_path):
    stops = route_of(live_server)
    assert len(stops) >= 3
    first, second, third = stops[:3]
    feed = label_feed(tmp_path / "label", second["label_code"])
    profile = tmp_path / "profile"
    photo_file = tmp_path / "photo.jpg"
    photo_file.write_bytes(phone_photo())

    context = launch(playwright, profile, feed)
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server)
    page.check("#share-location")
    wait_for_service_worker(page)
    wait_until(page, "document.querySelector('#sync').dataset.state === 'synced'")

    # ---- no signal from here on
    context.set_offline(True)

    # Stop 1: the camera sees stop 2's parcel: the app says whose it is not.
    page.click(f"li.stop[data-pickup='{first['id']}'] a.stop-main")
    page.click("text=Scan label")
    page.wait_for_selector("[data-wrong-label]", timeout=20000)
    assert second["name"] in page.inner_text("[data-wrong-label]")
    # A typo is caught on the phone by the check character.
    wrong = first["label_code"][:-1] + ("0" if first["label_code"][-1] != "0" else "1")
    page.fill("#code", wrong)
    page.press("#code", "Enter")
    page.wait_for_selector("text=check character")
    page.fill("#code", first["label_code"][:5] + "-" + first["label_code"][5:].lower())
    page.press("#code", "Enter")
    page.wait_for_selector("text=✓ scanned")
    # Collect: first item grade A, the others grade C with a photo each.
    page.click("text=Collect items")
    page.wait_for_selector(".item-card")
    cards = page.locator(".item-card")
    for index in range(cards.count()):
        card = cards.nth(index)
        card.locator("label.grade").nth(0 if index == 0 else 2).click()
        if index:
            card.locator("input[type=file]").set_input_files(str(photo_file))
            card.locator(".thumb img").wait_for()
    if cards.count() == 1:
        cards.nth(0).locator("input[type=file]").set_input_files(str(photo_file))
        cards.nth(0).locator(".thumb img").wait_for()
    page.click("#to-signature")
    page.wait_for_selector("#signature")
    page.click("#finish")
    page.wait_for_selector("text=The signature is empty")
    sign(page)
    page.fill("#signed-by", "SANNE DE VRIES")
    page.click("#finish")
    page.wait_for_selector(f"li.stop[data-pickup='{first['id']}'][data-status='collected']", state="attached")

    # Stop 2: the camera reads the real label; then collect everything in one tap.
    page.click(f"li.stop[data-pickup='{second['id']}'] a.stop-main")
    page.click("text=Scan label")
    page.wait_for_selector("text=✓ scanned", timeout=20000)
    page.click("text=Collect items")
    page.click("#collect-all")
    # Nothing is graded for the driver: the finish waits for the one tap that grades everything.
    assert page.locator("#collect-all-finish").is_hidden()
    assert page.locator(".item-card input[type=radio]:checked").count() == 0
    page.click("button.grade-all-choice[data-grade='B']")
    assert page.locator(".item-card input[type=radio][value='B']:checked").count() == len(second["items"])
    # Signing stays the first offer; this customer cannot sign, so the driver finishes without.
    assert page.locator("#collect-all-sign").is_visible() and page.inner_text("#collect-all-finish") == "Finish without signature"
    page.click("#collect-all-finish")
    page.wait_for_selector(f"li.stop[data-pickup='{second['id']}'][data-status='collected']", state="attached")

    # Stop 3: nobody home.
    page.click(f"li.stop[data-pickup='{third['id']}'] a.stop-main")
    page.click("text=Could not collect")
    page.click("label.reason:has-text('Nobody home')")
    page.fill("#fail-notes", "Rang twice, left a card.")
    page.click("#fail-submit")
    page.wait_for_selector(f"li.stop[data-pickup='{third['id']}'][data-status='failed']", state="attached")

    outbox = idb(page, "outbox")
    names = [m["name"] for m in outbox]
    one_tap = next(m for m in outbox if m["name"] == "collect_items" and m["args"]["pickup_id"] == second["id"])
    assert {e["grade"] for e in one_tap["args"]["items"]} == {"B"}
    assert names.count("collect_items") == 2 and names.count("fail_pickup") == 1 and names.count("scan_label") == 2
    assert [m["id"] for m in outbox] == list(range(1, len(outbox) + 1))
    assert all(m["device_time"] and m["location"] and m["location"]["accuracy_m"] for m in outbox)
    phone_photos = photo_bytes(page)
    expected_photos = sum(1 for _ in range(len(first["items"]) - 1)) or 1
    assert len(phone_photos) == expected_photos + 1  # item photos + the signature
    assert all(len(b) < len(photo_file.read_bytes()) for b in phone_photos.values())  # shrunk on the phone
    # The badge follows the store a moment later (it is redrawn from IndexedDB).
    expected_badge = f"Offline · {len(outbox)} actions, {len(phone_photos)} photos waiting · oldest"
    wait_until(page, "(text) => document.querySelector('#sync-text').textContent.startsWith(text)", arg=expected_badge)

    # The phone reloads the page, then restarts altogether: nothing is lost.
    page.reload()
    page.wait_for_selector(f"li.stop[data-pickup='{third['id']}'][data-status='failed']", state="attached")
    context.close()
    context = launch(playwright, profile, feed)
    context.set_offline(True)
    page = context.pages[0] if context.pages else context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/driver/")
    page.wait_for_selector(f"li.stop[data-pickup='{first['id']}'][data-status='collected']", state="attached")
    assert [m["id"] for m in idb(page, "outbox")] == [m["id"] for m in outbox]
    assert photo_bytes(page) == phone_photos

    # ---- signal again
    context.set_offline(False)
    wait_until(page, "document.querySelector('#sync').dataset.state === 'synced'", timeout=60, message="all synced")
    assert page.inner_text("#sync-text").startswith("All synced · ")
    assert idb(page, "outbox") == [] and idb(page, "photos") == []
    check_server_has_everything_once(live_server, stops[:3], outbox, phone_photos)
    assert errors == []
    context.close()


def check_server_has_everything_once(server, stops, outbox, phone_photos) -> None:  # type: ignore[no-untyped-def]
    from app.extensions import db
    from app.photos.models import Photo, PhotoLink
    from app.pickups.models import PickupEvent

    first, second, third = stops

    def work():  # type: ignore[no-untyped-def]
        events = db.session.scalars(select(PickupEvent).where(PickupEvent.mutation_id.is_not(None))).all()
        # Exactly once: every mutation left one timeline entry, none twice.
        assert sorted(e.mutation_id for e in events) == [m["id"] for m in outbox]
        assert all(e.lat == LOCATION["latitude"] and e.accuracy_m == LOCATION["accuracy"] and e.device_time for e in events)
        statuses = {p.id: p for p in db.session.scalars(select(Pickup).where(Pickup.id.in_([s["id"] for s in stops])))}
        assert statuses[first["id"]].status.value == "collected"
        grades = [item.grade.value for item in statuses[first["id"]].items]
        assert grades[0] == "A" and set(grades[1:]) <= {"C"}
        assert statuses[second["id"]].status.value == "collected"
        assert statuses[third["id"]].status.value == "failed"
        assert statuses[third["id"]].failure_reason.value == "not_home"
        collected = next(e for e in events if e.pickup_id == first["id"] and e.kind == "collected")
        assert collected.data["handed_over_by"] == "SANNE DE VRIES" and collected.data["signature_photo_id"]
        # Byte for byte: the server holds the SHA-256 and size of exactly what the phone stored.
        photos = {p.id: p for p in db.session.scalars(select(Photo))}
        assert set(photos) == set(phone_photos)
        for photo_id, data in phone_photos.items():
            assert photos[photo_id].sha256 == hashlib.sha256(data).hexdigest()
            assert photos[photo_id].source_bytes == len(data)
        links = db.session.scalars(select(PhotoLink)).all()
        assert {link.photo_id for link in links} == set(phone_photos)
        assert {link.role for link in links} == {"item", "signature"}

    server.query(work)
