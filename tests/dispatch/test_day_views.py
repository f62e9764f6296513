"""The console's day pages: suggest and accept on the route page, plan the day, the run sheet, the map."""
from __future__ import annotations

import time as clock
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.pickups.models import Pickup
from tests.conftest import TEST_PASSWORD

TZ = ZoneInfo("Europe/Amsterdam")


def _pickup(create_pickup, day, hour, lat, lon, driver=None):  # type: ignore[no-untyped-def]
    start = datetime.combine(day, time(hour), tzinfo=TZ)
    return create_pickup(driver=driver, window={"start": start.isoformat(), "end": (start + timedelta(hours=6)).isoformat()},
                         address={"line1": f"Stop {lon}", "line2": None, "city": "Amsterdam", "postcode": "1012 JS", "country": "NL", "lat": lat, "lon": lon})


@pytest.fixture
def located_hub(hub, db):  # type: ignore[no-untyped-def]
    hub.lat, hub.lon = 52.3875, 4.8490
    db.session.commit()
    return hub


@pytest.fixture
def zigzag(create_pickup, driver, located_hub):  # type: ignore[no-untyped-def]
    day = datetime.now(TZ).date() + timedelta(days=1)
    return day, [_pickup(create_pickup, day, 9, 52.37, lon, driver) for lon in (4.80, 4.95, 4.81, 4.94)]


def test_route_page_suggests_and_accepting_saves_the_order(console, driver, zigzag, db):  # type: ignore[no-untyped-def]
    day, pickups = zigzag
    html = console.get(f"/dispatch/routes/{driver.id}?date={day}&suggest=1").get_data(as_text=True)
    assert "Suggested order" in html and "shorter" in html and "windows kept <strong>4 → 4</strong>" in html
    order = html.split('name="pickup_ids" value="')[1].split('"')[0]
    assert console.post(f"/dispatch/routes/{driver.id}/order", {"date": day.isoformat(), "pickup_ids": order}).status_code == 303
    db.session.expire_all()
    ids = [int(i) for i in order.split(",")]
    assert [db.session.get(Pickup, i).route_position for i in ids] == [1, 2, 3, 4]


def test_route_suggestion_without_hub_coordinates_says_how_to_fix_it(console, driver, create_pickup, hub):  # type: ignore[no-untyped-def]
    day = datetime.now(TZ).date()
    _pickup(create_pickup, day, 9, 52.37, 4.8, driver)
    _pickup(create_pickup, day, 9, 52.37, 4.9, driver)
    page = console.get(f"/dispatch/routes/{driver.id}?date={day}&suggest=1")
    assert page.status_code == 422 and "no coordinates" in page.get_data(as_text=True) and "Set-up" in page.get_data(as_text=True)


def test_plan_page_then_accept(console, driver, other_driver, located_hub, create_pickup, db):  # type: ignore[no-untyped-def]
    day = datetime.now(TZ).date() + timedelta(days=3)
    ids = [_pickup(create_pickup, day, 10, 52.36 + n * 0.004, 4.85 + n * 0.006).id for n in range(6)]
    html = console.get(f"/dispatch/plan?date={day}&hub_id={located_hub.id}").get_data(as_text=True)
    assert "Accept the plan" in html
    routes = [value for value in html.split('name="route" value="')[1:]]
    routes = [r.split('"')[0] for r in routes]
    done = console.post("/dispatch/plan/accept", {"date": day.isoformat(), "route": routes})
    assert done.status_code == 303
    db.session.expire_all()
    assert all(db.session.get(Pickup, i).driver_id in {driver.id, other_driver.id} for i in ids)
    assert console.post("/dispatch/plan/accept", {"date": "someday", "route": routes}).status_code == 422
    assert console.post("/dispatch/plan/accept", {"date": day.isoformat(), "route": ["x:1"]}).status_code == 422


def test_run_sheet_lists_the_day_in_order_with_label_codes(console, driver, zigzag):  # type: ignore[no-untyped-def]
    day, pickups = zigzag
    html = console.get(f"/dispatch/routes/{driver.id}/sheet?date={day}").get_data(as_text=True)
    positions = [html.index(p.reference) for p in sorted(pickups, key=lambda p: p.route_position)]
    assert positions == sorted(positions)
    for p in pickups:
        assert f"{p.label_code[:5]}-{p.label_code[5:]}" in html and "iPhone 13" in html
    assert console.get(f"/dispatch/routes/{driver.id}/sheet?date=nope").status_code == 422
    assert console.get("/dispatch/routes/999999/sheet").status_code == 404


def test_map_data_groups_stops_by_driver_in_route_order(console, driver, zigzag, create_pickup):  # type: ignore[no-untyped-def]
    day, pickups = zigzag
    loose = _pickup(create_pickup, day, 11, 52.38, 4.9)
    body = console.get(f"/dispatch/map.json?date={day}").json
    mine = next(d for d in body["drivers"] if d["id"] == driver.id)
    assert [s["id"] for s in mine["stops"]] == [p.id for p in sorted(pickups, key=lambda p: p.route_position)]
    assert [s["id"] for s in body["unassigned"]] == [loose.id]
    assert body["hubs"][0]["lat"] == 52.3875 and body["tiles"]["url"] is None


def test_map_page_allows_the_configured_tile_server_only_there(app, console, zigzag):  # type: ignore[no-untyped-def]
    app.config["MAP_TILE_URL"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    page = console.get("/dispatch/map")
    assert "img-src 'self' https://tiles.example.org" in page.headers["Content-Security-Policy"]
    assert "tiles.example.org" not in console.get("/dispatch/").headers["Content-Security-Policy"]


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_map_draws_every_stop_with_no_tile_source(chromium, app, dispatcher, driver, zigzag, create_pickup, tmp_path):  # type: ignore[no-untyped-def]
    from tests.support.browser import serve_app

    day, pickups = zigzag
    loose = _pickup(create_pickup, day, 11, 52.38, 4.9)
    with serve_app(app) as url:
        context = chromium.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/login")
        page.fill("#email", dispatcher.email)
        page.fill("#password", TEST_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url("**/dispatch/")
        page.goto(f"{url}/dispatch/map?date={day}")
        page.wait_for_selector("[data-stop-id]")
        drawn = {int(v) for v in page.eval_on_selector_all("[data-stop-id]", "els => els.map(e => e.dataset.stopId)")}
        assert drawn == {p.id for p in pickups} | {loose.id}
        assert page.locator(".leaflet-tile").count() == 0 and page.locator(".leaflet-overlay-pane path").count() >= 5
        page.screenshot(path=str(tmp_path / "map.png"))
        page.locator(f"[data-stop-id='{loose.id}']").click(force=True)
        page.wait_for_selector("[data-stop-card]")
        page.select_option(f"#map-assign-{loose.id}", str(driver.id))
        page.click("[data-stop-card] button[type=submit]")
        page.wait_for_url("**/dispatch/map**")
        deadline = clock.monotonic() + 10
        while clock.monotonic() < deadline and not page.locator(".flash").count():
            page.wait_for_timeout(100)
        assert "assigned to" in page.locator(".flash").first.inner_text()
        context.close()
        assert errors == [], errors
