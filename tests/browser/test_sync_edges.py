"""What can go wrong around sync: rejections, logout, app updates, stale CSRF tokens, labels offline."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.labels.codes import ALPHABET, is_valid_label_code, new_label_code, normalise_label_code
from app.pickups.models import Pickup
from tests.browser.conftest import DRIVER_EMAIL, idb, log_in, wait_for_service_worker, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

SYNCED = "document.querySelector('#sync').dataset.state === 'synced'"


def driver_route(server) -> list[int]:  # type: ignore[no-untyped-def]
    def work():  # type: ignore[no-untyped-def]
        from app.extensions import db

        driver = db.session.scalar(select(User).where(User.email == DRIVER_EMAIL))
        return list(db.session.scalars(select(Pickup.id).where(Pickup.driver_id == driver.id).order_by(Pickup.route_position)))

    return server.query(work)


def open_synced(context, server):  # type: ignore[no-untyped-def]
    """The driver's app logged in, under its service worker (so it may go offline), route synced."""
    page = context.new_page()
    log_in(page, server)
    wait_for_service_worker(page)
    wait_until(page, SYNCED)
    return page


def fail_pickup(page, pickup_id: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(page.url.split("#")[0] + f"#/p/{pickup_id}/fail")
    page.click("label.reason:has-text('Nobody home')")
    page.click("#fail-submit")
    page.wait_for_selector(f"li.stop[data-pickup='{pickup_id}'][data-status='failed']", state="attached")


def test_a_rejection_is_shown_on_the_pickup_in_plain_words(context, live_server):
    first = driver_route(live_server)[0]
    page = open_synced(context, live_server)
    context.set_offline(True)
    page.click(f"li.stop[data-pickup='{first}'] a.stop-main")
    page.click("text=Collect items")
    page.click("#collect-all")
    page.click("button.grade-all-choice[data-grade='A']")
    page.click("#collect-all-finish")
    page.wait_for_selector(f"li.stop[data-pickup='{first}'][data-status='collected']", state="attached")

    def cancel():  # type: ignore[no-untyped-def]
        from app.extensions import db
        from app.pickups.services import cancel_pickup

        dispatcher = db.session.scalar(select(User).where(User.email == "dispatcher@backhaul.test"))
        cancel_pickup(db.session.get(Pickup, first), "Customer returned it in a shop", actor=dispatcher)
        db.session.commit()

    live_server.query(cancel)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url.split('?')[0].removeprefix(live_server.url)}"))
    context.set_offline(False)
    wait_until(page, SYNCED, timeout=30)
    # Back online: a fresh CSRF token before anything is pushed.
    assert requests.index("GET /api/v1/auth/session") < requests.index("POST /api/v1/sync/push")
    page.wait_for_selector(f"li.stop[data-pickup='{first}'] .status-alert")
    page.click(f"li.stop[data-pickup='{first}'] a.stop-main")
    notice = page.locator("[data-notice='pickup_cancelled']", has_text="Collection").inner_text()
    assert notice.startswith("Collection not accepted: ")
    assert "Dispatch cancelled this pickup at" in notice and "Customer returned it in a shop" in notice
    assert "kept for review" in notice
    assert "Cancelled by dispatch" in page.inner_text("#screen")
    assert page.locator("text=Collect items").count() == 0


def test_logout_is_refused_while_anything_is_unsynced(context, live_server):
    first = driver_route(live_server)[0]
    page = open_synced(context, live_server)
    context.set_offline(True)
    fail_pickup(page, first)
    page.click("#logout")
    page.wait_for_selector("#toast:has-text('You cannot log out yet')")
    assert "2 actions" in page.inner_text("#toast")  # the arrival and the failed attempt
    assert page.locator(f"li.stop[data-pickup='{first}']").count() == 1  # still on the route, nothing wiped
    assert len(idb(page, "outbox")) == 2
    context.set_offline(False)
    page.click("#sync-now")
    wait_until(page, SYNCED, timeout=30)
    page.click("#logout")
    page.wait_for_selector("#login-email")
    assert idb(page, "outbox") == [] and idb(page, "pickups") == []
    assert page.request.get(f"{live_server.url}/api/v1/auth/session").status == 401


def test_background_sync_sends_the_work_with_no_window_open(context, live_server):
    """The tab is closed (or the phone's screen off) when the signal comes back: the service worker sends the work."""
    from app.sync.models import SyncMutation

    first = driver_route(live_server)[0]
    page = open_synced(context, live_server)
    context.set_offline(True)
    fail_pickup(page, first)
    assert len(idb(page, "outbox")) == 2
    page.close()
    context.set_offline(False)

    def status():  # type: ignore[no-untyped-def]
        def read():  # type: ignore[no-untyped-def]
            from app.extensions import db

            return db.session.get(Pickup, first).status.value, db.session.query(SyncMutation).count()

        return live_server.query(read)

    assert status() == ("assigned", 0)  # nothing was sent while the tab was open and offline

    # Chromium fires a Background Sync event when it sees the network come back; headless
    # has no real network change, so the test fires it through DevTools, as the browser would.
    # The probe page is outside /driver/: not a client of the worker, and it runs none of the app.
    probe = context.new_page()
    probe.goto(f"{live_server.url}/healthz")
    devtools = context.new_cdp_session(probe)
    registrations: list[dict] = []
    devtools.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    devtools.send("ServiceWorker.enable")
    for _ in range(50):
        if any(r["scopeURL"].endswith("/driver/") for r in registrations):
            break
        probe.wait_for_timeout(100)
    registration = next(r for r in registrations if r["scopeURL"].endswith("/driver/") and not r.get("isDeleted"))
    devtools.send(
        "ServiceWorker.dispatchSyncEvent",
        {"origin": live_server.url, "registrationId": registration["registrationId"], "tag": "backhaul-sync", "lastChance": False},
    )
    for _ in range(100):
        if status() == ("failed", 2):
            break
        probe.wait_for_timeout(100)
    assert status() == ("failed", 2)  # the arrival and the failed attempt, each once

    page = context.new_page()
    page.goto(f"{live_server.url}/driver/")
    wait_until(page, SYNCED, timeout=30)
    assert idb(page, "outbox") == []
    assert page.get_attribute(f"li.stop[data-pickup='{first}']", "data-status") == "failed"
    assert status() == ("failed", 2)


def test_an_app_update_waits_while_work_is_unsynced(context, live_server):
    first = driver_route(live_server)[0]
    page = open_synced(context, live_server)
    old = page.get_attribute("meta[name=backhaul-version]", "content")
    context.route("**/api/v1/sync/push", lambda route: route.abort())
    fail_pickup(page, first)

    live_server.app.config["DRIVER_RELEASE"] = "next"
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    wait_until(page, "navigator.serviceWorker.getRegistration().then((r) => Boolean(r.waiting))", timeout=30, message="new worker waiting")
    controller_version = """() => new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (e) => resolve(e.data);
        navigator.serviceWorker.controller.postMessage({ type: 'VERSION' }, [channel.port2]);
    })"""
    assert page.evaluate(controller_version) == old
    page.click("#sync-now")
    wait_until(page, "document.querySelector('#sync-text').textContent.includes('waiting')")
    assert page.is_hidden("#update")
    # Even a reload keeps the running version while work waits.
    page.reload()
    page.wait_for_selector(f"li.stop[data-pickup='{first}'][data-status='failed']", state="attached")
    assert page.get_attribute("meta[name=backhaul-version]", "content") == old
    assert page.evaluate(controller_version) == old
    assert page.is_hidden("#update")

    context.unroute("**/api/v1/sync/push")
    page.click("#sync-now")
    wait_until(page, SYNCED, timeout=30)
    page.wait_for_selector("#update:not([hidden])")
    with page.expect_navigation():
        page.click("#update-now")
    page.wait_for_selector("ol.stops li.stop")
    new = page.get_attribute("meta[name=backhaul-version]", "content")
    assert new != old
    assert page.evaluate(controller_version) == new


def test_a_label_prints_offline_from_what_was_fetched_online(context, live_server):
    first = driver_route(live_server)[0]
    page = open_synced(context, live_server)
    wait_until(page, f"import('/static/driver/db.js').then(async (m) => Boolean((await (await m.db()).get('labels', {first}))?.zpl))")
    context.set_offline(True)
    page.click(f"li.stop[data-pickup='{first}'] a.stop-main")
    page.click("text=Print label")
    page.wait_for_selector("#label-image")
    wait_until(page, "document.querySelector('#label-image').complete && document.querySelector('#label-image').naturalWidth > 0")
    link = page.locator("#download-zpl")
    assert link.get_attribute("href").startswith("blob:") and link.get_attribute("download").endswith(".zpl")
    with page.expect_download() as download:
        link.click()
    zpl = Path(download.value.path()).read_text()
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    page.emulate_media(media="print")
    assert page.is_hidden(".bar") and page.is_visible("#label-image")


def test_the_phone_checks_label_codes_exactly_as_the_server_does(context, live_server):
    rng = random.Random(5)
    samples = []
    for _ in range(150):
        code = new_label_code()
        samples.append(code)
        samples.append(f"{code[:5]}-{code[5:]}".lower())
        i = rng.randrange(10)
        samples.append(code[:i] + rng.choice(ALPHABET.replace(code[i], "")) + code[i + 1:])  # one wrong symbol
        j = rng.randrange(9)
        samples.append(code[:j] + code[j + 1] + code[j] + code[j + 2:])  # neighbours swapped
    samples += ["", "K7QM4", "OIL0000000", "https://x.test/l/" + samples[0]]
    page = context.new_page()
    page.goto(f"{live_server.url}/driver/")
    verdicts = page.evaluate(
        """async (samples) => {
            const m = await import('/static/driver/labelcode.js');
            return samples.map((s) => m.isValidLabelCode(m.normaliseLabelCode(s)));
        }""",
        samples,
    )
    expected = [is_valid_label_code(normalise_label_code(s.rsplit("/", 1)[-1])) for s in samples]
    assert verdicts == expected
    assert sum(expected) >= 300  # the valid ones really are accepted
