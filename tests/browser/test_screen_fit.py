"""No driver screen gets in the way: no sideways scroll at 320, 360 and 390 px, every tap target
at least 48 x 48 px, a message never lies over an action, and the scan screen without a camera
puts the code field first with a plain sentence."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in, wait_for_service_worker, wait_until
from tests.browser.test_sync_edges import SYNCED, driver_route

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

SCREENS = ["/p/{id}", "/p/{id}/collect", "/p/{id}/scan", "/p/{id}/fail", "/p/{id}/label", "/p/{id}/photos"]

# What a finger taps: buttons, button-like links, fields, the choice cards and the fold of done stops.
# (A radio or checkbox is tapped through its label; a link inside a sentence is exempt, as in WCAG 2.5.8.)
TARGETS = """() => {
  const selector = 'button, a.button, a.back, a.stop-main, summary, select, textarea, label.grade, label.reason, label.check,'
    + ' input:not([type=radio]):not([type=checkbox]):not([type=file]):not([type=hidden])';
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden' && !el.closest('.skip-link'))
    .map((el) => { const r = el.getBoundingClientRect();
      return { what: el.outerHTML.slice(0, 90), width: r.width, height: r.height, left: r.left, top: r.top, right: r.right, bottom: r.bottom }; });
}"""

# The scroll widths, and every element's own box (a clipped parent would hide an element sticking out).
WIDTHS = """() => [document.documentElement, document.body, document.getElementById('screen')]
  .filter((el) => el.scrollWidth > el.clientWidth).map((el) => `${el.tagName}#${el.id}: ${el.scrollWidth} > ${el.clientWidth}`)
  .concat([...document.querySelectorAll('body *')].filter((el) => el.getClientRects().length
    && el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 && !el.closest('.skip-link'))
    .map((el) => `${el.outerHTML.slice(0, 80)} ends at ${el.getBoundingClientRect().right}`))"""


def check_screen(page: Any, where: str) -> None:
    assert page.evaluate(WIDTHS) == [], f"{where} scrolls sideways"
    small = [t for t in page.evaluate(TARGETS) if t["width"] < 47.5 or t["height"] < 47.5]
    assert small == [], f"{where}: tap targets under 48 x 48 px: {small}"


@pytest.mark.parametrize("width", [320, 360, 390])
def test_every_driver_screen_fits_and_every_target_is_big_enough(browser, live_server, width):
    context = browser.new_context(viewport={"width": width, "height": 740}, service_workers="allow", timezone_id="Europe/Amsterdam",
                                  locale="en-GB", permissions=["camera"])
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/driver/")
        page.wait_for_selector("#login-email")
        check_screen(page, f"login at {width} px")
        log_in(page, live_server)
        wait_for_service_worker(page)
        wait_until(page, SYNCED)
        check_screen(page, f"the route at {width} px")
        first = driver_route(live_server)[0]
        for path in SCREENS:
            page.evaluate("document.querySelector('#screen > *').dataset.old = '1'")
            page.goto(f"{live_server.url}/driver/#" + path.format(id=first))
            wait_until(page, "(() => { const s = document.querySelector('#screen > *'); return s && !s.dataset.old && s.querySelector('h1'); })()",
                       message=f"screen {path} drawn")
            wait_until(page, "[...document.images].every((img) => img.complete)", message="images loaded")
            check_screen(page, f"#{path} at {width} px")
    finally:
        context.close()


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

        # − / + are spoken by their visible label first (WCAG 2.5.3: voice control says "minus").
        for button in page.locator(".stepper button").all():
            assert (button.get_attribute("aria-label") or "").startswith(button.inner_text().strip())
    finally:
        context.close()
