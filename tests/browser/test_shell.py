"""The installable shell: manifest, icons, service worker, offline start."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.browser.conftest import log_in, wait_for_service_worker, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]


def test_manifest_and_icons_are_valid(context, live_server):
    page = context.new_page()
    page.goto(f"{live_server.url}/driver/")
    href = page.get_attribute("link[rel=manifest]", "href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text())
    assert manifest["start_url"] == "/driver/" and manifest["scope"] == "/driver/"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] and manifest["theme_color"]
    sizes = {}
    for icon in manifest["icons"]:
        png = page.request.get(f"{live_server.url}{icon['src']}")
        assert png.ok and png.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(png.body()), formats=["PNG"])
        assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.setdefault(icon["purpose"], set()).add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes["any"]
    assert "512x512" in sizes["maskable"]
    # Maskable: full bleed (no transparent corners), so launchers can crop it to any shape.
    mask = next(i for i in manifest["icons"] if i["purpose"] == "maskable")
    image = Image.open(io.BytesIO(page.request.get(f"{live_server.url}{mask['src']}").body()), formats=["PNG"]).convert("RGBA")
    assert image.getpixel((0, 0))[3] == 255


def test_offline_start_url_loads_from_the_service_worker(context, live_server):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server)
    wait_for_service_worker(page)
    context.set_offline(True)
    page.goto(f"{live_server.url}/driver/")
    page.wait_for_selector("ol.stops li.stop")
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.inner_text("#sync-text").startswith("Offline")
    # The scanner (and its wasm) were precached: the scan screen works offline too. The decoder
    # finds its wasm by a path without the content hash; the worker answers it from the one copy.
    assert page.evaluate(
        "async () => { const r = await fetch('/static/vendor/zxing-wasm/zxing_reader.wasm');"
        " const b = new Uint8Array(await r.arrayBuffer()); return r.ok && b[1] === 0x61 && b[2] === 0x73; }"
    )
    # Every module came from the import map's hashed URLs: each one is in the cache under that URL.
    assert page.evaluate(
        "() => { const modules = performance.getEntriesByType('resource').filter((e) => e.name.includes('/static/driver/')"
        " && new URL(e.name).pathname.endsWith('.js')); return modules.length >= 10 && modules.every((e) => new URL(e.name).searchParams.has('v')); }"
    )
    # Never cached: the API.
    assert page.evaluate(
        "async () => { for (const n of await caches.keys()) { const c = await caches.open(n);"
        " for (const r of await c.keys()) if (new URL(r.url).pathname.startsWith('/api/')) return false; } return true; }"
    )
    assert errors == []


def test_login_screen_inside_the_app(context, live_server):
    page = context.new_page()
    page.goto(f"{live_server.url}/driver/")
    page.wait_for_selector("#login-email")
    page.fill("#login-email", "driver1@backhaul.test")
    page.fill("#login-password", "wrong password")
    page.click("form button[type=submit]")
    page.wait_for_selector("text=Wrong email or password.")
    log_in(page, live_server)
    assert "Today's route" in page.inner_text("h1")
    wait_until(page, "document.querySelector('#sync').dataset.state === 'synced'", message="badge synced")
    assert page.inner_text("#sync-text").startswith("All synced")
