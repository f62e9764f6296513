"""The driver's days and doors: Today first, then each later day under its date; one stop per door, collected in one go."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.photos.models import PhotoLink
from app.pickups.models import Pickup, PickupStatus
from tests.browser.conftest import DRIVER_EMAIL, idb, wait_until
from tests.browser.test_offline_day import sign
from tests.browser.test_sync_edges import SYNCED, open_synced

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

TZ = ZoneInfo("Europe/Amsterdam")  # the demo hub's
DOOR = "Herengracht 182"  # the demo's three parcels at one office
SCREENSHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"


def _driver_pickups(server) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    def work():  # type: ignore[no-untyped-def]
        from app.extensions import db

        driver = db.session.scalar(select(User).where(User.email == DRIVER_EMAIL))
        query = select(Pickup.id, Pickup.address_line1).where(Pickup.driver_id == driver.id).order_by(Pickup.route_position, Pickup.id)
        return [tuple(row) for row in db.session.execute(query)]

    return server.query(work)


def _move(server, windows: dict[int, datetime]) -> None:  # type: ignore[no-untyped-def]
    def work():  # type: ignore[no-untyped-def]
        from app.extensions import db

        for pickup_id, start in windows.items():
            pickup = db.session.get(Pickup, pickup_id)
            pickup.window_start, pickup.window_end = start, start + timedelta(hours=2)
        db.session.commit()

    server.query(work)


def _screenshot(page, name: str, selector: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """What the driver sees at 390 px, scrolled to ``selector`` (the screen scrolls, not the window), for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if selector:
        page.eval_on_selector(selector, "(el) => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_a_driver_with_pickups_on_four_days_sees_today_first_then_the_next_two(context, live_server):
    pickups = [pid for pid, line1 in _driver_pickups(live_server) if line1 != DOOR]
    today = datetime.now(TZ).date()
    at = lambda days, hour: datetime.combine(today + timedelta(days=days), time(hour), tzinfo=TZ)  # noqa: E731
    first_today, tomorrow, day_after, too_far = pickups[:4]
    # Today's stops late enough that none of their windows has passed when the test runs.
    _move(live_server, {first_today: at(0, 23), tomorrow: at(1, 9), day_after: at(2, 15), too_far: at(3, 10)})
    page = open_synced(context, live_server)
    on_phone = {p["id"] for p in idb(page, "pickups")}
    assert {first_today, tomorrow, day_after} <= on_phone and too_far not in on_phone
    assert page.inner_text("h1") == "Today's route"
    headings = page.eval_on_selector_all("#screen h2", "(hs) => hs.map((h) => h.textContent)")
    assert headings[0] == "Next stop"
    later = page.eval_on_selector_all("section.route-day", "(ss) => ss.map((s) => [s.dataset.day, s.querySelector('h2').textContent])")
    assert [day for day, _ in later] == [(today + timedelta(days=1)).isoformat(), (today + timedelta(days=2)).isoformat()]
    assert later[0][1].startswith("Tomorrow · ") and later[0][1].endswith("(1 stop)")
    assert later[1][1] == f"{(today + timedelta(days=2)).strftime('%A')} {(today + timedelta(days=2)).day} {(today + timedelta(days=2)).strftime('%B')} (1 stop)"
    # Every stop of today comes before the first of tomorrow, and the later days hold only their own.
    order = page.evaluate("[...document.querySelectorAll('li.stop')].map((li) => li.dataset.pickups)")
    assert order.index(str(tomorrow)) > max(i for i, ids in enumerate(order) if str(first_today) in ids.split(","))
    assert page.locator(f"section.route-day li.stop[data-pickup='{tomorrow}']").count() == 1
    assert page.locator(f"li.stop[data-pickup='{too_far}']").count() == 0
    _screenshot(page, "route-top-390")
    _screenshot(page, "route-days-390", "section.route-day")


def test_three_pickups_at_one_door_are_one_stop_collected_and_signed_once_each_also_after_an_offline_reload(context, live_server):
    door = [pid for pid, line1 in _driver_pickups(live_server) if line1 == DOOR]
    assert len(door) == 3
    today = datetime.now(TZ).date()
    _move(live_server, {pid: datetime.combine(today, time(23), tzinfo=TZ) for pid in door})
    page = open_synced(context, live_server)
    stop = page.locator("li.stop.door")
    assert stop.count() == 1 and sorted(map(int, stop.get_attribute("data-pickups").split(","))) == sorted(door)
    assert "3 pickups" in stop.inner_text()
    _screenshot(page, "route-door-390", "li.stop.door")
    stop.locator("a.stop-main").click()
    page.wait_for_selector("#collect-all")
    items = page.eval_on_selector_all("li.door-item", "(lis) => lis.map((li) => Number(li.dataset.item))")
    assert len(items) == 4  # the office's four items, from three pickups
    # A grade the driver tapped before the one-tap grade stays theirs.
    page.click(f"li.door-item[data-item='{items[0]}'] label.grade:has-text('B')")
    page.click("#collect-all")
    # Nothing is finished until a grade is chosen: no grade is ever recorded that was not tapped.
    assert page.locator("#collect-all-finish").is_hidden()
    assert page.eval_on_selector_all("li.door-item input[type=radio]:checked", "(rs) => rs.length") == 1
    _screenshot(page, "door-top-390")
    _screenshot(page, "door-collect-all-390", "#collect-all-panel")
    context.set_offline(True)
    page.click("button.grade-all-choice[data-grade='A']")
    assert page.inner_text("#collect-all-status") == "3 items set to grade A; 1 keeps the grade you gave."
    # Any item can still be changed before finishing.
    page.click(f"li.door-item[data-item='{items[-1]}'] label.grade:has-text('B')")
    # The person at the door signs once for the three; the signature screen survives a reload with no signal.
    page.click("#collect-all-sign")
    page.wait_for_selector("#signature")
    page.reload()
    page.wait_for_selector("#signature")
    assert "all 3 pickups" in page.inner_text("#screen")
    _screenshot(page, "door-sign-390")
    page.click("#finish")
    page.wait_for_selector("text=The signature is empty")
    sign(page)
    page.fill("#signed-by", "RECEPTION DESK")
    page.click("#finish")
    page.wait_for_selector("li.stop.door.done", state="attached")
    _screenshot(page, "route-after-door-390")
    expected = {items[0]: "B", items[1]: "A", items[2]: "A", items[3]: "B"}

    def queued() -> dict[int, str]:
        collects = [m for m in idb(page, "outbox") if m["name"] == "collect_items"]
        assert sorted(m["pickup_id"] for m in collects) == sorted(door)
        assert len({m["id"] for m in collects}) == 3
        # Each pickup carries its own copy of the one signature, queued with it.
        signatures = {m["pickup_id"]: m["args"]["signature_photo_id"] for m in collects}
        assert all(signatures.values()) and len(set(signatures.values())) == 3
        assert all(m["args"]["handed_over_by"] == "RECEPTION DESK" for m in collects)
        photos = {p["id"]: p for p in idb(page, "photos")}
        assert all(photos[photo_id]["pickup_id"] == pickup_id and photos[photo_id]["purpose"] == "signature" for pickup_id, photo_id in signatures.items())
        return {line["item_id"]: line["grade"] for m in collects for line in m["args"]["items"]}

    assert queued() == expected
    # A second "collect everything here" (a double tap, a stale screen) records nothing more.
    again = page.evaluate(
        """async (ids) => {
            const { enqueueTogether } = await import('/static/driver/outbox.js');
            const { DONE_STATUSES } = await import('/static/driver/words.js');
            const actions = ids.map((id) => ({ name: 'collect_items', args: { pickup_id: id, items: [] }, pickupId: id }));
            return enqueueTogether(actions, { once: 'collect_items', doneStatuses: DONE_STATUSES });
        }""",
        door,
    )
    assert again is None
    # The phone reloads with no signal: the stop is done and the three collections are still there, once.
    page.reload()
    page.wait_for_selector("li.stop.door.done", state="attached")
    assert queued() == expected
    page.goto(page.url.split("#")[0] + f"#/s/{door[0]}")
    page.wait_for_selector("#door-done")
    assert page.locator("#collect-all").count() == 0

    context.set_offline(False)
    wait_until(page, SYNCED, timeout=60, message="all synced")

    def recorded():  # type: ignore[no-untyped-def]
        from sqlalchemy import func

        from app.extensions import db
        from app.sync.models import SyncMutation

        statuses = {p.id: p.status for p in db.session.scalars(select(Pickup).where(Pickup.id.in_(door)))}
        grades = {
            item.id: item.grade.value
            for p in db.session.scalars(select(Pickup).where(Pickup.id.in_(door)))
            for item in p.items
        }
        collections = db.session.scalar(
            select(func.count()).select_from(SyncMutation).where(SyncMutation.name == "collect_items", SyncMutation.pickup_id.in_(door))
        )
        events = {
            p.id: [e.kind for e in p.events].count("collected")
            for p in db.session.scalars(select(Pickup).where(Pickup.id.in_(door)))
        }
        signed = {
            link.pickup_id: link.photo_id
            for link in db.session.scalars(select(PhotoLink).where(PhotoLink.pickup_id.in_(door), PhotoLink.role == "signature"))
        }
        return statuses, grades, collections, events, signed

    statuses, grades, collections, events, signed = live_server.query(recorded)
    assert set(statuses.values()) == {PickupStatus.COLLECTED}
    assert grades == expected
    assert collections == 3 and events == dict.fromkeys(door, 1)
    # The dispatcher sees a signature on each of the three pickups, each its own photo.
    assert sorted(signed) == sorted(door) and len(set(signed.values())) == 3
