"""The route screen: the next stop first with its window, done stops folded at the end, windows that close say so."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.pickups.models import Pickup
from tests.browser.conftest import wait_until
from tests.browser.test_sync_edges import SYNCED, driver_route, fail_pickup, open_synced
from tests.conftest import TEST_HUB_ZONE

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]


def _daytime_now() -> datetime:
    """Now, moved into 06:00–18:00 of today in the hub's zone.

    The test needs a window that closed hours ago and one that opens hours from now, all on
    today's route; late in the evening or just after midnight those would fall on another day.
    The phone's clock is set to this moment (a phone's clock is its own; the server corrects
    for the skew), and the server, on the same date, still serves the same day's route.
    """
    now = datetime.now(TEST_HUB_ZONE)
    earliest, latest = now.replace(hour=6, minute=0, second=0, microsecond=0), now.replace(hour=18, minute=0, second=0, microsecond=0)
    return min(max(now, earliest), latest).astimezone(timezone.utc)


def test_the_next_stop_stands_first_and_done_stops_fold_away(context, live_server):
    first, second, third, *rest = driver_route(live_server)
    now = _daytime_now()

    def set_windows():  # type: ignore[no-untyped-def]
        from app.extensions import db

        windows = {second: (now - timedelta(hours=1), now + timedelta(minutes=12)), third: (now - timedelta(hours=3), now - timedelta(hours=1))}
        for pickup_id, (start, end) in windows.items():
            pickup = db.session.get(Pickup, pickup_id)
            pickup.window_start, pickup.window_end = start, end
        for pickup_id in [first, *rest]:
            pickup = db.session.get(Pickup, pickup_id)
            pickup.window_start, pickup.window_end = now + timedelta(hours=2), now + timedelta(hours=4)
        db.session.commit()

    live_server.query(set_windows)
    context.clock.install(time=now)
    page = open_synced(context, live_server)
    # Nothing done yet: the first stop on the route is the next one, alone at the top.
    assert page.get_attribute(".next-stop li.stop", "data-pickup") == str(first)
    assert page.locator("#done-today").count() == 0

    fail_pickup(page, first)
    wait_until(page, SYNCED, timeout=30)

    def held():  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        from app.extensions import db
        from app.sync.models import SyncClient

        client = db.session.scalar(select(SyncClient))
        return client.held_reported_at is not None, client.held_actions, client.held_photos

    # The phone told the server what it held (its push and pull carry it); synced, that is nothing.
    assert live_server.query(held) == (True, 0, 0)
    page.wait_for_selector(f".next-stop li.stop[data-pickup='{second}']")
    next_stop = page.inner_text(".next-stop")
    assert "Next stop" in next_stop and "Window closes in" in next_stop
    # The stop whose window has passed says so in the list that follows.
    assert page.inner_text(f"li.stop[data-pickup='{third}'] [data-window]").startswith("Window closed at")
    # The failed stop is folded into "Done today (1)" at the very end of the stops, hidden until opened.
    summary = page.locator("#done-today > summary")
    assert summary.inner_text() == "Done today (1)"
    done_stop = page.locator(f"#done-today li.stop[data-pickup='{first}']")
    assert done_stop.is_hidden()
    order = page.evaluate("[...document.querySelectorAll('li.stop')].map((li) => Number(li.dataset.pickup))")
    assert order[0] == second and order[-1] == first
    summary.click()
    assert done_stop.is_visible()
    # A redraw (anything changing) leaves the group as the driver left it.
    page.evaluate("document.querySelector('#done-today').dataset.before = '1'")
    page.evaluate("import('/static/driver/events.js').then((m) => m.emit('changed', {}))")
    wait_until(page, "!document.querySelector('#done-today').dataset.before", message="the route redrawn")
    assert done_stop.is_visible()
