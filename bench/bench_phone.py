"""The driver app on a slow phone: a driver with 200 stops and 800 items, in real Chromium.

- login tap → first pull applied to IndexedDB → route screen drawn with every stop, with the CPU
  slowed ×4 (DevTools' Emulation.setCPUThrottlingRate, like a mid-range phone) and unslowed, for
  the ratio; also the part after the pull's answer arrived (the phone's own work: apply and draw);
- tapping a stop → its screen drawn, and back to the 200-stop route, both ×4 (median of 7 taps).

"Drawn" is two animation frames after the screen's DOM was in place (the frame that paints it).
Chromium is Debian's (``chromium`` on the PATH); loopback only. Lighthouse is `make lighthouse`
(bench/lighthouse.py): it takes a minute more and is a separate run.
"""
from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import Report, app_on_file
from bench.phone_day import DRIVER, PASSWORD, STOPS, seed_phone_day
from tests.support.browser import CHROMIUM_FLAGS, serve_app

TAPS = 7

# Set on the login screen: when the tap happened, when the route held every stop, and one frame later.
WATCH = """(stops) => {
  const marks = window.__bench = {};
  const screen = document.getElementById('screen');
  const observer = new MutationObserver(() => {
    if (marks.dom || document.querySelectorAll('li.stop').length < stops) return;
    marks.dom = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { marks.drawn = performance.now(); }));
  });
  observer.observe(screen, { childList: true, subtree: true });
  document.querySelector('form button[type=submit]').addEventListener('click', () => { marks.tap = performance.now(); }, { capture: true });
}"""

PULL_ANSWERED = """() => { const pulls = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/sync/pull'));
  return pulls.length ? pulls[0].responseEnd : null; }"""

# Tap a stop (a real click on its link) and time until its screen is drawn; then back to the route.
TAP = """async ({ id, stops }) => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const until = (test) => new Promise((done) => {
    if (test()) return done();
    const observer = new MutationObserver(() => { if (test()) { observer.disconnect(); done(); } });
    observer.observe(document.getElementById('screen'), { childList: true, subtree: true });
  });
  const before = document.querySelector('#screen > *');
  const start = performance.now();
  document.querySelector(`li.stop[data-pickup="${id}"] a.stop-main`).click();
  await until(() => { const now = document.querySelector('#screen > *'); return now !== before && now.querySelector('h1'); });
  await frame();
  const opened = performance.now() - start;
  const pickupScreen = document.querySelector('#screen > *');
  const back = performance.now();
  location.hash = '#/';
  await until(() => document.querySelector('#screen > *') !== pickupScreen && document.querySelectorAll('li.stop').length >= stops);
  await frame();
  return { opened, back: performance.now() - back };
}"""


def _wait(page: Any, expression: str, timeout_s: float, what: str) -> Any:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def first_load(browser: Any, url: str, rate: int) -> dict[str, float]:
    """One fresh phone (no storage): log in, time until every stop is drawn; then taps, when ``rate`` > 1."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="allow", locale="en-GB",
                                  timezone_id="Europe/Amsterdam")
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        page.goto(f"{url}/driver/")
        page.wait_for_selector("#login-email")
        page.fill("#login-email", DRIVER)
        page.fill("#login-password", PASSWORD)
        page.evaluate(WATCH, STOPS)
        page.click("form button[type=submit]")
        _wait(page, "window.__bench.drawn", 300, f"{STOPS} stops drawn")
        marks = page.evaluate("window.__bench")
        answered = page.evaluate(PULL_ANSWERED)
        figures = {"drawn": marks["drawn"] - marks["tap"], "after_pull": marks["drawn"] - answered if answered else float("nan")}
        stored = page.evaluate("import('/static/driver/db.js').then(async (m) => (await (await m.db()).getAll('pickups')).length)")
        if stored < STOPS:
            raise RuntimeError(f"only {stored} pickups in IndexedDB after the first pull")
        if rate > 1:
            # Settle first: the label files of every stop download in the background after the pull.
            _wait(page, f"import('/static/driver/db.js').then(async (m) => (await (await m.db()).getAll('labels')).length >= {STOPS})",
                  300, "labels downloaded")
            ids = page.evaluate("[...document.querySelectorAll('li.stop')].map((li) => Number(li.dataset.pickup))")
            picks = [ids[(n * len(ids)) // TAPS] for n in range(TAPS)]
            taps = [page.evaluate(TAP, {"id": pickup_id, "stops": STOPS}) for pickup_id in picks]
            figures["tap"] = statistics.median(t["opened"] for t in taps)
            figures["back"] = statistics.median(t["back"] for t in taps)
        return figures
    finally:
        context.close()


def run(report: Report) -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        report.note("chromium is not installed: no phone figures (apt-get install chromium)")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, app_on_file(Path(tmp), "phone", PUBLIC_BASE_URL="http://127.0.0.1") as app:
        seed_phone_day(app)
        with serve_app(app) as url, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
            try:
                fast = first_load(browser, url, rate=1)
                slow = first_load(browser, url, rate=4)
            finally:
                browser.close()
    report.bench(f"phone_first_pull_{STOPS}_stops_drawn_cpu4x", slow["drawn"], "ms")
    report.bench(f"phone_first_pull_{STOPS}_stops_apply_and_draw_cpu4x", slow["after_pull"], "ms")
    report.bench(f"phone_first_pull_{STOPS}_stops_drawn_cpu1x", fast["drawn"], "ms")
    report.ratio("phone_first_pull_cpu4x_vs_1x", slow["drawn"] / fast["drawn"])
    report.bench(f"phone_tap_stop_to_screen_drawn_cpu4x_{STOPS}_stops", slow["tap"], "ms")
    report.bench(f"phone_back_to_route_drawn_cpu4x_{STOPS}_stops", slow["back"], "ms")
