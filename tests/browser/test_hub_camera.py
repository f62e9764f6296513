"""The hub's receiving page scans with the camera: the driver app's scanner, reused.

Chromium's fake camera films a real QR label (what app/labels puts in the QR); tapping
"Scan with camera" lands on that pickup's receiving view. Without a camera, the typed
field (what a keyboard-wedge scanner types into) still works and a sentence says why.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.labels.codes import format_label_code
from app.labels.services import label_content
from app.pickups.models import Pickup, PickupStatus
from tests.browser.conftest import PHONE, log_in_to_the_console, wait_until
from tests.browser.media import label_feed
from tests.support.browser import CHROMIUM_FLAGS, chromium_executable

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

HUB_EMAIL = "hub@backhaul.test"
DESKTOP = {"width": 1280, "height": 900}

# The stream the page's video shows, kept so the test can see its tracks end after the page let go.
KEEP_STREAM = "() => { const s = document.getElementById('camera-view').srcObject; window.seen = s; return Boolean(s); }"
RELEASED = "() => document.getElementById('camera-view').srcObject === null && window.seen.getVideoTracks().every((t) => t.readyState === 'ended')"

# Tap targets inside the scan card under 48 px, and anything making the page scroll sideways.
SMALL_TARGETS = """() => [...document.querySelectorAll('.scan-card button, .scan-card input')]
  .filter((el) => el.getClientRects().length).map((el) => [el.id || el.textContent.trim(), el.getBoundingClientRect()])
  .filter(([, r]) => r.width < 47.5 || r.height < 47.5).map(([what, r]) => `${what}: ${r.width} x ${r.height}`)"""
SIDEWAYS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def a_pickup_to_receive(server: Any) -> tuple[str, str, str]:
    """(label code, QR content of its printed label, reference) of a pickup its driver just collected."""
    from app.extensions import db
    from app.pickups.models import Grade
    from app.pickups.services import change_status

    def work() -> tuple[str, str, str]:
        pickup = db.session.scalars(select(Pickup).where(Pickup.status == PickupStatus.ASSIGNED).order_by(Pickup.id)).first()
        assert pickup is not None
        for item in pickup.items:
            item.collected_quantity, item.grade = item.quantity, Grade.B
        change_status(pickup, PickupStatus.COLLECTED, actor=None, kind="collected")
        db.session.commit()
        return pickup.label_code, label_content(pickup).qr_payload, pickup.reference

    return server.query(work)


def log_in_at_the_hub(page: Any, server: Any) -> None:
    log_in_to_the_console(page, server, HUB_EMAIL)
    page.goto(f"{server.url}/hub/")
    page.wait_for_selector("#code")


@pytest.fixture
def camera_filming(playwright: Any, tmp_path: Path) -> Iterator[Any]:
    """Chromium whose fake camera films the QR content it is given (call it once per test)."""
    browsers: list[Any] = []

    def launch(payload: str) -> Any:
        feed = label_feed(tmp_path / f"feed{len(browsers)}", payload)
        browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True,
                                             args=CHROMIUM_FLAGS + ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={feed}"])
        browsers.append(browser)
        return browser.new_context(viewport=PHONE, permissions=["camera"], locale="en-GB")

    try:
        yield launch
    finally:
        for browser in browsers:
            browser.close()


def test_the_hub_scans_a_label_with_the_camera_and_lands_on_its_pickup(camera_filming, live_server):
    code, payload, reference = a_pickup_to_receive(live_server)
    context = camera_filming(payload)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_at_the_hub(page, live_server)
    # The typed field stays first and focused: a keyboard-wedge scanner types into it.
    assert page.evaluate("document.activeElement.id") == "code"
    page.click("#camera-open")
    page.wait_for_selector("#pickup-title", timeout=30000)
    assert reference in page.inner_text("#pickup-title")
    # Its receiving view: the items to count, grade and decide, and the button that receives them.
    assert page.locator("form[action$='/receive'] table.receipt tbody tr").count() >= 1
    assert page.is_visible("text=Mark received")
    assert page.input_value("#code") == format_label_code(code)
    assert f"code={format_label_code(code)}" in page.url.replace("%2D", "-")
    assert errors == []


def test_the_camera_is_released_on_close_and_while_the_page_is_hidden(camera_filming, live_server, tmp_path):
    # Some other QR in front of the camera: the page says so, once, and keeps looking.
    context = camera_filming("https://example.com/not-a-label")
    page = context.new_page()
    log_in_at_the_hub(page, live_server)
    assert page.evaluate(SMALL_TARGETS) == []
    page.screenshot(path=str(tmp_path / "hub-390.png"), full_page=True)
    page.click("#camera-open")
    page.wait_for_selector("#camera-status[data-state='foreign']", timeout=30000)
    assert "not a Backhaul label" in page.inner_text("#camera-status")
    assert page.evaluate("document.activeElement.id") == "camera-close"
    assert page.evaluate(KEEP_STREAM)

    # At 390 px with the camera open: big targets, no sideways scroll (and a picture to look at).
    assert page.evaluate(SMALL_TARGETS) == []
    assert not page.evaluate(SIDEWAYS)
    page.screenshot(path=str(tmp_path / "hub-camera-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    assert page.evaluate(SMALL_TARGETS) == []
    page.screenshot(path=str(tmp_path / "hub-camera-desktop.png"), full_page=True)

    page.evaluate("""() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    wait_until(page, RELEASED, message="camera released while the page is hidden")
    page.evaluate("""() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_selector("#camera-status[data-state='scanning'], #camera-status[data-state='foreign']", timeout=30000)
    assert page.evaluate(KEEP_STREAM)

    page.click("#camera-close")
    wait_until(page, RELEASED, message="camera released on close")
    assert page.is_hidden("#camera-panel")
    assert page.evaluate("document.activeElement.id") == "camera-open"


def test_without_a_camera_the_code_field_still_works_and_a_sentence_says_why(browser, live_server):
    code, _, reference = a_pickup_to_receive(live_server)
    # Camera allowed but none attached (the shared chromium has no fake device).
    context = browser.new_context(viewport=PHONE, permissions=["camera"], locale="en-GB")
    try:
        page = context.new_page()
        log_in_at_the_hub(page, live_server)
        page.click("#camera-open")
        page.wait_for_selector("#camera-status[data-state='no-camera']", timeout=15000)
        sentence = page.inner_text("#camera-status")
        assert "camera" in sentence and "type the code" in sentence.lower()
        assert page.is_hidden("#camera-panel")
        assert page.evaluate("document.activeElement.id") == "code"
        page.fill("#code", code.lower())
        page.press("#code", "Enter")
        page.wait_for_selector("#pickup-title")
        assert reference in page.inner_text("#pickup-title")

        # A browser that cannot use a camera at all is never offered the button.
        page.add_init_script("delete Navigator.prototype.mediaDevices")
        page.goto(f"{live_server.url}/hub/")
        page.wait_for_selector("#code")
        page.wait_for_load_state("load")
        assert page.is_hidden("#camera-open")
    finally:
        context.close()


def test_a_corrected_grade_brings_its_own_suggestion_and_a_hand_picked_disposition_stays(browser, live_server):
    code, _qr, reference = a_pickup_to_receive(live_server)
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    try:
        page = context.new_page()
        log_in_at_the_hub(page, live_server)
        page.fill("#code", code)
        page.press("#code", "Enter")
        page.wait_for_selector("select[data-suggests]")
        grade = page.locator("select[data-suggests]").first
        disposition = page.locator(f"#{grade.get_attribute('data-suggests')}")
        rule = page.locator(f"#{disposition.get_attribute('data-rule')}")
        assert grade.input_value() == "B"  # the door's grade, and its suggestion (the demo's default rules)
        assert (disposition.input_value(), rule.inner_text()) == ("resell", "Suggested: resell — Rule 4: grade B → resell")
        # The clerk looks closer: grade C. The suggestion, and the rule named, follow.
        grade.select_option("C")
        assert (disposition.input_value(), rule.inner_text()) == ("refurbish", "Suggested: refurbish — Rule 5: grade C → refurbish")
        # A disposition the clerk picks is theirs: a later grade leaves it, and only the rule's words change.
        disposition.select_option("recycle")
        grade.select_option("D")
        assert disposition.input_value() == "recycle" and rule.inner_text() == "Suggested: recycle — Rule 6: grade D → recycle"
        grade.select_option("C")
        assert disposition.input_value() == "recycle" and "refurbish" in rule.inner_text()
        page.click("button:has-text('Mark received')")
        page.wait_for_selector("text=received")
        received = page.inner_text("main")
        assert f"{reference} received" in received and "recycle (clerk's choice over refurbish)" in received
    finally:
        context.close()
