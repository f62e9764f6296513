"""Lighthouse on the driver's route page of a 200-stop day (`make lighthouse`; about a minute, so not in `make bench`).

Lighthouse (npm, pinned devDependency) audits the page as a driver has it: Debian's chromium is
started with a DevTools port and a profile of its own, the driver logs in and the day syncs (route,
labels, the service worker), then Lighthouse attaches to that browser with its storage kept
(``--disable-storage-reset``) and loads ``/driver/``: the route drawn from IndexedDB under the
service worker, with Lighthouse's mobile emulation and simulated slow 4G and ×4 CPU. Loopback
only: the browser resolves no other host. Prints the three category scores (0–100) and the
page's own timings as BENCH lines.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Report, app_on_file
from bench.phone_day import DRIVER, PASSWORD, STOPS, seed_phone_day
from tests.support.browser import CHROMIUM_FLAGS, serve_app
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
METRICS = {
    "first-contentful-paint": "ms", "largest-contentful-paint": "ms", "total-blocking-time": "ms",
    "cumulative-layout-shift": "", "speed-index": "ms", "interactive": "ms",
    # Thousands with the route drawn, a few dozen on a login screen: proof the audit saw the driver's day.
    "dom-size": "elements",
}


def _poll(page, expression: str, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def audit(report: Report) -> int:
    chromium = shutil.which("chromium")
    if not chromium:
        report.note("chromium is not installed (apt-get install chromium): no Lighthouse figures")
        return 1
    if not LIGHTHOUSE.exists():
        report.note("node_modules/.bin/lighthouse is missing: run `make install` (npm ci)")
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, app_on_file(Path(tmp), "lighthouse", PUBLIC_BASE_URL="http://127.0.0.1") as app:
        seed_phone_day(app)
        port = free_port()
        with serve_app(app) as url, sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"), executable_path=chromium, headless=True,
                args=CHROMIUM_FLAGS + [f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1"],
                viewport={"width": 412, "height": 823}, service_workers="allow", locale="en-GB",
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.goto(f"{url}/driver/")
                page.fill("#login-email", DRIVER)
                page.fill("#login-password", PASSWORD)
                page.click("form button[type=submit]")
                page.wait_for_selector(f"li.stop >> nth={STOPS - 1}", state="attached", timeout=120000)
                _poll(page, "navigator.serviceWorker.controller !== null", 60, "the service worker")
                _poll(page, "document.querySelector('#sync').dataset.state === 'synced'", 120, "synced")
                _poll(page, f"import('/static/driver/db.js').then(async (m) => (await (await m.db()).getAll('labels')).length >= {STOPS})",
                      300, "labels downloaded")
                page.goto("about:blank")
                out = Path(tmp) / "lighthouse.json"
                started = time.monotonic()
                run = subprocess.run(
                    [str(LIGHTHOUSE), f"{url}/driver/", f"--port={port}", "--hostname=127.0.0.1", "--disable-storage-reset",
                     f"--only-categories={','.join(CATEGORIES)}", "--output=json", f"--output-path={out}", "--quiet",
                     "--max-wait-for-load=60000"],
                    env={**os.environ, "CHROME_PATH": chromium}, capture_output=True, text=True, timeout=300,
                )
                report.note(f"lighthouse ran {time.monotonic() - started:.0f} s")
            finally:
                context.close()
        if run.returncode != 0 or not out.exists():
            report.note(f"lighthouse failed ({run.returncode}): {run.stderr[-2000:]}")
            return 1
        result = json.loads(out.read_text())
    if result.get("runtimeError"):
        report.note(f"lighthouse runtime error: {result['runtimeError']}")
    for name in CATEGORIES:
        score = result["categories"][name]["score"]
        report.bench(f"lighthouse_route_{STOPS}_stops_{name.replace('-', '_')}", (score or 0) * 100, "score")
    for audit_id, unit in METRICS.items():
        value = result["audits"].get(audit_id, {}).get("numericValue")
        if value is not None:
            report.bench(f"lighthouse_route_{STOPS}_stops_{audit_id.replace('-', '_')}", value, unit or "score")
    for name in CATEGORIES:
        failing = [a["id"] for a in (result["audits"][ref["id"]] for ref in result["categories"][name]["auditRefs"] if ref.get("weight"))
                   if a.get("score") is not None and a["score"] < 0.9]
        if failing:
            report.note(f"{name}: below 90 %: {', '.join(failing)}")
    report.note(f"final URL {result.get('finalDisplayedUrl')}; lighthouse {result.get('lighthouseVersion')}; {result.get('userAgent')}")
    return 0


if __name__ == "__main__":
    sys.exit(audit(Report()))
