"""No driver screen gets in the way, checked on every screen the driver meets:

- axe-core (npm, pinned; its file injected from node_modules, never a CDN): zero violations of
  WCAG 2.0–2.2 A/AA and axe's best practices, with the "label in name" rule switched on;
- no sideways scroll at 320, 360 and 390 px, and no element sticking out past the screen's edge;
- every tap target at least 48 × 48 px;
- every accessible name starts with the visible label (WCAG 2.5.3: voice control says what it sees).

Plus: a message never lies over an action, and the scan screen without a camera puts the code
field first with a plain sentence; with a camera, the scanner comes back after the page was hidden.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, log_in, wait_for_service_worker, wait_until
from tests.browser.media import label_feed, phone_photo
from tests.browser.test_sync_edges import SYNCED, driver_route
from tests.support.browser import CHROMIUM_FLAGS, chromium_executable

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS_PX = (320, 360, 390)

# What a finger taps: buttons, links, fields, the choice cards and the fold of done stops. A radio or
# checkbox is tapped through its label; a link inside a sentence is exempt, as in WCAG 2.5.8.
TARGETS = """() => {
  const selector = 'button, a[href], summary, select, textarea, label.grade, label.reason, label.check, [role=button],'
    + ' input:not([type=radio]):not([type=checkbox]):not([type=file]):not([type=hidden])';
  const inSentence = (el) => el.tagName === 'A' && !el.matches('.button, .back, .stop-main') && el.closest('p, li:not(.stop)');
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden' && !el.closest('.skip-link') && !inSentence(el))
    .map((el) => { const r = el.getBoundingClientRect();
      return { what: el.outerHTML.slice(0, 90), width: r.width, height: r.height, left: r.left, top: r.top, right: r.right, bottom: r.bottom }; });
}"""

# The scroll widths, and every element's own box (a clipped parent would hide an element sticking out).
OVERFLOW = """() => [document.documentElement, document.body, document.getElementById('screen')]
  .filter((el) => el.scrollWidth > el.clientWidth).map((el) => `${el.tagName}#${el.id}: ${el.scrollWidth} > ${el.clientWidth}`)
  .concat([...document.querySelectorAll('body *')].filter((el) => el.getClientRects().length
    && el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 && !el.closest('.skip-link'))
    .map((el) => `${el.outerHTML.slice(0, 80)} ends at ${el.getBoundingClientRect().right}`))"""

# Elements named by aria-label / aria-labelledby whose name does not start with what they show.
# (Named by their content, the name is the visible text by construction.)
LABEL_IN_NAME = """() => {
  const squash = (text) => (text || '').replace(/\\s+/g, ' ').trim().toLowerCase();
  const shown = (el) => {
    if (el.matches('input, select, textarea')) return squash([...(el.labels || [])].map((l) => l.innerText).join(' '));
    return squash(el.innerText);
  };
  const named = (el) => el.hasAttribute('aria-labelledby')
    ? squash(el.getAttribute('aria-labelledby').split(/\\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' '))
    : squash(el.getAttribute('aria-label'));
  return [...document.querySelectorAll('button, a[href], input, select, textarea, summary, [role=button], [role=link]')]
    .filter((el) => el.getClientRects().length && (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby')))
    .filter((el) => shown(el) && !named(el).startsWith(shown(el)))
    .map((el) => `${el.outerHTML.slice(0, 100)}: shows ${JSON.stringify(shown(el))}, is named ${JSON.stringify(named(el))}`);
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    rules: { 'label-content-name-mismatch': { enabled: true } },
    resultTypes: ['violations'],
  });
  return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => n.html.slice(0, 120) + ' — ' + n.failureSummary) }));
}"""


def screen_problems(page: Any, where: str) -> list[str]:
    """Everything in the way on the screen as drawn, at each phone width; [] when nothing is."""
    problems: list[str] = []
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    try:
        for width in WIDTHS_PX:
            page.set_viewport_size({"width": width, "height": 740})
            page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
            at = f"{where} at {width} px"
            problems += [f"{at} scrolls sideways: {line}" for line in page.evaluate(OVERFLOW)]
            problems += [f"{at}: tap target {t['width']:.0f} x {t['height']:.0f} px: {t['what']}"
                         for t in page.evaluate(TARGETS) if t["width"] < 47.5 or t["height"] < 47.5]
            problems += [f"{at}: name does not start with the label: {line}" for line in page.evaluate(LABEL_IN_NAME)]
            problems += [f"{at}: axe {v['id']} ({v['help']}): {v['nodes']}" for v in page.evaluate(AXE_RUN)]
    finally:
        page.set_viewport_size(PHONE)
    return problems


def open_screen(page: Any, server: Any, path: str, ready: str = "h1") -> None:
    """Go to ``#path`` and wait until its screen (a new one) is drawn with ``ready`` in it, images loaded."""
    page.evaluate("document.querySelector('#screen > *') && (document.querySelector('#screen > *').dataset.old = '1')")
    page.goto(f"{server.url}/driver/#{path}")
    wait_until(page, "(ready) => { const s = document.querySelector('#screen > *'); return s && !s.dataset.old && s.querySelector(ready); }",
               arg=ready, message=f"screen {path} drawn")
    wait_until(page, "[...document.images].every((img) => img.complete)", message="images loaded")


def phone_context(browser: Any, **options: Any) -> Any:
    # bypass_csp: only so the test can inject axe-core; the app's own scripts never need it.
    return browser.new_context(viewport=PHONE, service_workers="allow", timezone_id="Europe/Amsterdam", locale="en-GB",
                               bypass_csp=True, **options)


def test_every_driver_screen_passes_axe_fits_320_to_390_px_and_has_big_targets_named_by_their_label(browser, live_server, tmp_path):
    photo_file = tmp_path / "photo.jpg"
    photo_file.write_bytes(phone_photo(1200, 900))
    # Camera allowed but none attached: the scan screen is the no-camera one here (the camera one is below).
    context = phone_context(browser, permissions=["camera"])
    problems: list[str] = []
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/driver/")
        page.wait_for_selector("#login-email")
        problems += screen_problems(page, "login")
        log_in(page, live_server)
        wait_for_service_worker(page)
        wait_until(page, SYNCED)
        first, second = driver_route(live_server)[:2]
        wait_until(page, f"import('/static/driver/db.js').then(async (m) => Boolean((await (await m.db()).get('labels', {first}))?.svg))",
                   message="labels fetched")
        problems += screen_problems(page, "route")

        open_screen(page, live_server, f"/p/{first}")
        problems += screen_problems(page, "pickup")
        open_screen(page, live_server, f"/p/{first}/scan", "#scan-status[data-state='no-camera']")
        problems += screen_problems(page, "scan without a camera")
        open_screen(page, live_server, f"/p/{first}/label", "#label-image")
        problems += screen_problems(page, "label")

        # Photos: the one-time location question is on screen, then a photo with its Delete button.
        open_screen(page, live_server, f"/p/{first}/photos", "#location-question")
        problems += screen_problems(page, "photos, asking for location")
        page.click("#location-refuse")
        page.locator("input[type=file]").first.set_input_files(str(photo_file))
        page.locator(".thumb button").first.wait_for()
        problems += screen_problems(page, "photos with a photo")

        # Fail: a reason chosen and a photo taken (its hidden file input once stuck out 14 px).
        open_screen(page, live_server, f"/p/{second}/fail", "#fail-submit")
        page.click("label.reason >> nth=0")
        page.locator("input[type=file]").first.set_input_files(str(photo_file))
        page.locator(".thumb button").first.wait_for()
        problems += screen_problems(page, "fail")

        # Collect, then "collect everything" with its one-tap grades open.
        open_screen(page, live_server, f"/p/{first}/collect", ".item-card")
        problems += screen_problems(page, "collect")
        page.click("#collect-all")
        page.click("button.grade-all-choice[data-grade='B']")
        problems += screen_problems(page, "collect everything")

        # Sign: a signature drawn and the name filled in. Its library loads here and nowhere before.
        loaded = "performance.getEntriesByType('resource').some((e) => e.name.includes('/vendor/signature_pad/'))"
        assert not page.evaluate(loaded)
        page.click("#to-signature")
        page.wait_for_selector("#signature")
        assert page.evaluate(loaded)
        box = page.locator("#signature").bounding_box()
        page.mouse.move(box["x"] + 30, box["y"] + 100)
        page.mouse.down()
        page.mouse.move(box["x"] + 150, box["y"] + 60, steps=8)
        page.mouse.up()
        problems += screen_problems(page, "sign")

        # The door: the demo's three parcels at one office, graded in one tap, then signed once for all.
        open_screen(page, live_server, "/", "li.stop.door")
        door = int(page.get_attribute("li.stop.door", "data-pickups").split(",")[0])
        open_screen(page, live_server, f"/s/{door}", "#collect-all")
        problems += screen_problems(page, "door")
        page.click("#collect-all")
        page.click("button.grade-all-choice[data-grade='A']")
        problems += screen_problems(page, "door, collect everything here")
        page.click("#collect-all-sign")
        page.wait_for_selector("#signature")
        problems += screen_problems(page, "door signature")
        assert errors == []
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def test_a_message_never_covers_an_action_and_no_camera_means_the_code_field_first(browser, live_server):
    # Camera allowed but none attached: the browser says "Requested device not found".
    context = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="allow", locale="en-GB", permissions=["camera"])
    try:
        page = context.new_page()
        log_in(page, live_server)
        wait_until(page, SYNCED)
        first = driver_route(live_server)[0]
        page.goto(f"{live_server.url}/driver/#/p/{first}/scan")
        page.wait_for_selector("#scan-status[data-state='no-camera']")
        status = page.inner_text("#scan-status")
        assert "Requested device" not in status and "Type the code" in status
        assert page.locator(".viewfinder-box").is_hidden()
        # The code field stands above everything else the screen holds, in the upper half where no keyboard opens.
        order = page.evaluate("[...document.querySelectorAll('#screen form, #screen .viewfinder-box')].map((el) => el.tagName)")
        assert order[0] == "FORM"
        assert page.locator("#code").bounding_box()["y"] < 844 / 2

        # A message on the collect screen, with its sticky "Continue to signature": nothing tappable lies under it.
        page.goto(f"{live_server.url}/driver/#/p/{first}/collect")
        page.wait_for_selector("#to-signature")
        page.evaluate("import('/static/driver/dom.js').then((m) => m.toast('Label K7QM4-TZX9P matches this pickup.'))")
        page.wait_for_selector("#toast:not([hidden])")
        toast = page.locator("#toast").bounding_box()
        screen = page.locator("#screen").bounding_box()
        for target in page.evaluate(TARGETS):
            visible_top, visible_bottom = max(target["top"], screen["y"]), min(target["bottom"], screen["y"] + screen["height"])
            if visible_bottom <= visible_top:
                continue  # scrolled out of sight inside the screen
            overlaps = visible_top < toast["y"] + toast["height"] and visible_bottom > toast["y"]
            assert not overlaps, f"the message covers {target['what']}"
        signature = page.locator("#to-signature").bounding_box()
        assert signature["y"] + signature["height"] <= toast["y"]
        page.click("#to-signature", trial=True)  # reachable: nothing on top of it
    finally:
        context.close()


@pytest.fixture
def camera_browser(playwright: Any, live_server: Any, tmp_path: Path) -> Iterator[tuple[Any, int, int]]:
    """Chromium whose fake camera films the label of the driver's second stop, and (first, second)."""
    from app.extensions import db
    from app.pickups.models import Pickup

    first, second = driver_route(live_server)[:2]
    feed = label_feed(tmp_path / "label", live_server.query(lambda: db.session.get(Pickup, second).label_code))
    browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True,
                                         args=CHROMIUM_FLAGS + ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={feed}"])
    try:
        yield browser, first, second
    finally:
        browser.close()


SET_VISIBILITY = """(state) => {
  // Headless Chromium has no other window to go behind: say what a phone says when the app goes to the background.
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
}"""

CAMERA = """() => { const v = document.querySelector('video.viewfinder'); const s = v && v.srcObject;
  return s ? { live: s.getVideoTracks().map((t) => t.readyState), id: s.id } : null; }"""


def test_the_scan_screen_with_a_camera_passes_the_checks_and_the_camera_comes_back_after_the_page_was_hidden(camera_browser, live_server):
    browser, first, second = camera_browser
    context = phone_context(browser, permissions=["camera"])
    try:
        page = context.new_page()
        log_in(page, live_server)
        wait_until(page, SYNCED)
        open_screen(page, live_server, f"/p/{first}/scan", "#scan-status[data-state='scanning']")
        # The camera reads the parcel in front of it: stop 2's, not this stop's.
        page.wait_for_selector("[data-wrong-label]", timeout=20000)
        problems = screen_problems(page, "scan with a camera")
        assert problems == [], "\n".join(problems)
        before = page.evaluate(CAMERA)
        assert before and before["live"] == ["live"]

        # The driver switches to another app: the camera is given back at once.
        page.evaluate("document.querySelector('#scan-result').replaceChildren()")
        page.evaluate(SET_VISIBILITY, "hidden")
        wait_until(page, f"({CAMERA})() === null", message="camera released while hidden")
        assert page.locator("[data-wrong-label]").count() == 0

        # Back in the app: the camera is taken again and reads the label again.
        page.evaluate(SET_VISIBILITY, "visible")
        page.wait_for_selector("#scan-status[data-state='scanning']", timeout=20000)
        page.wait_for_selector("[data-wrong-label]", timeout=20000)
        after = page.evaluate(CAMERA)
        assert after and after["live"] == ["live"] and after["id"] != before["id"]
        assert page.get_attribute("[data-wrong-label]", "data-wrong-label") == page.evaluate(
            "(id) => import('/static/driver/outbox.js').then(async (m) => (await m.pickupViewById(id)).label_code)", second)
    finally:
        context.close()
