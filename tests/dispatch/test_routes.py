"""Suggested order, plan the day, accepting: windows kept, never longer, one day at a time."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.dispatch import routing
from app.hubs.services import create_hub
from app.pickups.models import Pickup

TZ = ZoneInfo("Europe/Amsterdam")
DEPOT = routing.Place(52.3875, 4.8490)


def _random_day(seed: int, n: int, spread: float = 0.04) -> list[routing.Stop]:
    rng = random.Random(seed)
    stops = []
    for i in range(n):
        start = rng.choice([9, 10, 11, 12, 13, 14]) * 3600
        width = rng.choice([3600, 7200, 14400])
        stops.append(routing.Stop(i + 1, routing.Place(52.36 + rng.random() * spread, 4.84 + rng.random() * spread * 1.6), (start, start + width), 300))
    return stops


@pytest.mark.parametrize("seed", range(6))
def test_suggestion_never_breaks_a_kept_window_and_is_never_longer(seed):  # type: ignore[no-untyped-def]
    stops = _random_day(seed, 25)
    by_id = {s.id: s for s in stops}
    current = [s.id for s in random.Random(seed).sample(stops, len(stops))]
    route = routing.suggest_order(stops, current, DEPOT, (8 * 3600, 18 * 3600), routing.GreatCircleMatrix())
    assert sorted(route.order) == sorted(current)
    assert route.after.distance_m <= route.before.distance_m
    distances = routing._Distances(DEPOT, stops, routing.GreatCircleMatrix())
    kept_before = set(current) - set(routing.score(current, by_id, distances, 8 * 3600).late)
    kept_after = set(route.order) - set(routing.score(route.order, by_id, distances, 8 * 3600).late)
    assert kept_before <= kept_after
    assert route.after.windows_kept >= route.before.windows_kept


def test_suggestion_beats_window_order_by_far_on_a_feasible_day():  # type: ignore[no-untyped-def]
    stops = _random_day(7, 30, spread=0.03)
    current = [s.id for s in sorted(stops, key=lambda s: (s.window[0], s.id))]
    route = routing.suggest_order(stops, current, DEPOT, (8 * 3600, 18 * 3600), routing.GreatCircleMatrix())
    assert route.after.distance_m < 0.8 * route.before.distance_m
    assert route.after.windows_kept == len(stops)


def test_stops_without_coordinates_keep_their_place_and_are_flagged():  # type: ignore[no-untyped-def]
    stops = _random_day(3, 8)
    stops[2] = routing.Stop(stops[2].id, None, stops[2].window, 300)
    current = [s.id for s in stops]
    route = routing.suggest_order(stops, current, DEPOT, (8 * 3600, 18 * 3600), routing.GreatCircleMatrix())
    assert route.order[2] == stops[2].id and stops[2].id in route.unplaced


def test_plan_keeps_windows_it_can_reports_the_rest_and_respects_capacity():  # type: ignore[no-untyped-def]
    stops = _random_day(11, 30)
    impossible = routing.Stop(999, routing.Place(52.37, 4.88), (6 * 3600, 6 * 3600 + 600), 300)  # before every shift
    heavy = routing.Stop(998, routing.Place(52.37, 4.88), (10 * 3600, 16 * 3600), 300, items=50)
    vehicles = [routing.Vehicle(1, (8 * 3600, 17 * 3600), capacity=20), routing.Vehicle(2, (8 * 3600, 17 * 3600), capacity=20)]
    routes, unplaced = routing.plan_day([*stops, impossible, heavy], vehicles, {}, DEPOT, routing.GreatCircleMatrix())
    planned = [i for r in routes for i in r.order]
    assert 999 in unplaced and 998 in unplaced and 999 not in planned and 998 not in planned
    assert len(planned) == len(set(planned)) and set(planned) | set(unplaced) == {s.id for s in stops} | {998, 999}
    for r in routes:
        assert r.after.late == ()  # every planned stop is in its window
        assert len(r.order) <= 20


def test_osrm_matrix_reads_a_table_service(tmp_path):  # type: ignore[no-untyped-def]
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen: list[str] = []

    class Osrm(BaseHTTPRequestHandler):
        def do_GET(self):  # type: ignore[no-untyped-def]
            seen.append(self.path)
            body = json.dumps({"code": "Ok", "distances": [[0, 1500.4], [1490, 0]], "durations": [[0, 180.2], [175, 0]]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

    server = HTTPServer(("127.0.0.1", 0), Osrm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        distances, durations = routing.OsrmMatrix(f"http://127.0.0.1:{server.server_port}").between([routing.Place(52.0, 4.0), routing.Place(52.1, 4.1)])
    finally:
        server.shutdown()
        server.server_close()
    assert distances == [[0, 1500], [1490, 0]] and durations == [[0, 180], [175, 0]]
    assert seen[0].startswith("/table/v1/driving/4.000000,52.000000;4.100000,52.100000")


# --- through the API, with the database -----------------------------------------------------------

def _at(day: date, hour: int, minutes: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minutes), tzinfo=TZ)


def _pickup(create_pickup, day, hour, lat, lon, driver=None, width=2):  # type: ignore[no-untyped-def]
    start = _at(day, hour)
    return create_pickup(driver=driver, window={"start": start.isoformat(), "end": (start + timedelta(hours=width)).isoformat()},
                         address={"line1": "Dam 1", "line2": None, "city": "Amsterdam", "postcode": "1012 JS", "country": "NL", "lat": lat, "lon": lon})


@pytest.fixture
def located_hub(hub, db):  # type: ignore[no-untyped-def]
    hub.lat, hub.lon = DEPOT.lat, DEPOT.lon
    db.session.commit()
    return hub


def test_suggest_saves_nothing_and_accepting_orders_only_that_day(api_client, dispatcher, driver, located_hub, create_pickup, db):  # type: ignore[no-untyped-def]
    tuesday = datetime.now(TZ).date() + timedelta(days=1)
    wednesday = tuesday + timedelta(days=1)
    # A zig-zag: west, east, west, east.
    tue = [_pickup(create_pickup, tuesday, 9, 52.37, lon, driver, width=8) for lon in (4.80, 4.95, 4.81, 4.94)]
    wed = [_pickup(create_pickup, wednesday, 9, 52.37, lon, driver, width=8) for lon in (4.80, 4.95)]
    wed_positions = {p.id: p.route_position for p in wed}
    api = api_client(dispatcher)
    answer = api.post("/api/v1/routes/suggest", json={"driver_id": driver.id, "date": tuesday.isoformat()})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert sorted(body["order"]) == sorted(p.id for p in tue)
    assert body["after"]["distance_m"] < body["before"]["distance_m"] and body["after"]["windows_kept"] == 4
    assert body["unplaced"] == []
    db.session.expire_all()
    assert [db.session.get(Pickup, p.id).route_position for p in tue] == [p.route_position for p in tue]  # nothing saved

    accepted = api.post("/api/v1/routes/accept", json={"date": tuesday.isoformat(), "routes": [{"driver_id": driver.id, "order": body["order"]}]})
    assert accepted.status_code == 200, accepted.json
    db.session.expire_all()
    assert sorted((db.session.get(Pickup, i).route_position, i) for i in body["order"]) == [(n, i) for n, i in enumerate(body["order"], 1)]
    assert {p.id: db.session.get(Pickup, p.id).route_position for p in wed} == wed_positions


def test_plan_the_day_then_accept_assigns_everything_it_could(api_client, dispatcher, driver, other_driver, located_hub, create_pickup, db):  # type: ignore[no-untyped-def]
    day = datetime.now(TZ).date() + timedelta(days=2)
    rng = random.Random(5)
    pickups = [_pickup(create_pickup, day, rng.choice([9, 11, 13]), 52.36 + rng.random() * 0.04, 4.84 + rng.random() * 0.06) for _ in range(12)]
    too_early = _pickup(create_pickup, day, 5, 52.37, 4.88, width=1)  # before every shift (08:00–18:00)
    api = api_client(dispatcher)
    plan = api.post("/api/v1/routes/plan", json={"date": day.isoformat(), "hub_id": located_hub.id})
    assert plan.status_code == 200, plan.json
    routes = plan.json["routes"]
    assert {r["driver_id"] for r in routes} == {driver.id, other_driver.id}
    planned = [i for r in routes for i in r["order"]]
    assert sorted(planned) == sorted(p.id for p in pickups) and plan.json["unplaced"] == [too_early.id]
    assert all(r["after"]["late"] == [] for r in routes)
    db.session.expire_all()
    assert all(db.session.get(Pickup, p.id).driver_id is None for p in pickups)  # nothing saved yet
    done = api.post("/api/v1/routes/accept", json={"date": day.isoformat(), "routes": [{"driver_id": r["driver_id"], "order": r["order"]} for r in routes if r["order"]]})
    assert done.status_code == 200, done.json
    db.session.expire_all()
    for r in routes:
        assert [db.session.get(Pickup, i).driver_id for i in r["order"]] == [r["driver_id"]] * len(r["order"])
        assert [db.session.get(Pickup, i).route_position for i in r["order"]] == list(range(1, len(r["order"]) + 1))


def test_route_endpoints_refuse_bad_input_and_other_roles(api_client, dispatcher, driver, hub, create_pickup, db):  # type: ignore[no-untyped-def]
    api = api_client(dispatcher)
    day = datetime.now(TZ).date().isoformat()
    assert api.post("/api/v1/routes/suggest", json={"driver_id": driver.id}).status_code == 422
    assert api.post("/api/v1/routes/suggest", json={"driver_id": driver.id, "date": "tomorrow"}).status_code == 422
    assert api.post("/api/v1/routes/suggest", json={"driver_id": dispatcher.id, "date": day}).status_code == 422
    _pickup(create_pickup, datetime.now(TZ).date(), 9, 52.37, 4.9, driver)
    no_coords = api.post("/api/v1/routes/suggest", json={"driver_id": driver.id, "date": day})
    assert no_coords.status_code == 422 and "no coordinates" in no_coords.json["error"]["message"]
    assert api.post("/api/v1/routes/plan", json={"date": day, "hub_id": 99999}).status_code == 422
    assert api.post("/api/v1/routes/accept", json={"date": day, "routes": []}).status_code == 422
    assert api.post("/api/v1/routes/accept", json={"date": day, "routes": [{"driver_id": driver.id, "order": [1, 1]}]}).status_code == 422
    assert api.post("/api/v1/routes/accept", json={"date": day, "routes": [{"driver_id": driver.id, "order": [424242]}]}).status_code == 422
    assert api_client(driver).post("/api/v1/routes/suggest", json={"driver_id": driver.id, "date": day}).status_code == 403
    other_day = (datetime.now(TZ).date() + timedelta(days=9)).isoformat()
    mine = [p.id for p in db.session.query(Pickup).all()]
    wrong = api.post("/api/v1/routes/accept", json={"date": other_day, "routes": [{"driver_id": driver.id, "order": mine}]})
    assert wrong.status_code == 422 and "one driver's day" in wrong.json["error"]["message"]


def test_accepting_a_route_refuses_a_pickup_of_another_hub(api_client, dispatcher, driver, located_hub, create_pickup, db):  # type: ignore[no-untyped-def]
    day = datetime.now(TZ).date() + timedelta(days=1)
    ours = _pickup(create_pickup, day, 9, 52.37, 4.80)
    theirs = _pickup(create_pickup, day, 10, 52.37, 4.81)
    elsewhere = create_hub(code="RTM", name="Rotterdam", timezone="Europe/Amsterdam")
    theirs.hub_id = elsewhere.id
    db.session.commit()
    answer = api_client(dispatcher).post(
        "/api/v1/routes/accept", json={"date": day.isoformat(), "routes": [{"driver_id": driver.id, "order": [ours.id, theirs.id]}]}
    )
    assert answer.status_code == 422 and "another hub" in answer.json["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Pickup, ours.id).driver_id is None and db.session.get(Pickup, theirs.id).driver_id is None


def test_route_positions_belong_to_the_drivers_day(api_client, console, dispatcher, driver, located_hub, create_pickup, db):  # type: ignore[no-untyped-def]
    tuesday = datetime.now(TZ).date() + timedelta(days=1)
    wednesday = tuesday + timedelta(days=1)
    tue = [_pickup(create_pickup, tuesday, 9 + n, 52.37, 4.80 + n / 100, driver) for n in range(3)]
    wed = [_pickup(create_pickup, wednesday, 9 + n, 52.37, 4.80 + n / 100, driver) for n in range(2)]
    # Each day counts from 1, however the assignments were interleaved.
    assert [p.route_position for p in tue] == [1, 2, 3] and [p.route_position for p in wed] == [1, 2]
    api = api_client(dispatcher)
    # Ordering Tuesday (the console's order form) leaves Wednesday as it was.
    reordered = [tue[2].id, tue[0].id, tue[1].id]
    saved = console.post(f"/dispatch/routes/{driver.id}/order", {"date": tuesday.isoformat(), "pickup_ids": ",".join(map(str, reordered))})
    assert saved.status_code == 303
    db.session.expire_all()
    assert [db.session.get(Pickup, i).route_position for i in reordered] == [1, 2, 3]
    assert [db.session.get(Pickup, p.id).route_position for p in wed] == [1, 2]
    # A list that spans both days numbers each day on its own, in the order given.
    mixed = [wed[1].id, tue[0].id, wed[0].id, tue[1].id, tue[2].id]
    assert api.post("/api/v1/pickups/route", json={"driver_id": driver.id, "pickup_ids": mixed}).status_code == 200
    db.session.expire_all()
    assert [db.session.get(Pickup, i).route_position for i in mixed] == [1, 1, 2, 2, 3]
    # A window moved to Wednesday takes the pickup to the end of Wednesday's route.
    moved = api.patch(f"/api/v1/pickups/{tue[0].id}", json={"window": {"start": _at(wednesday, 15).isoformat(), "end": _at(wednesday, 17).isoformat()}})
    assert moved.status_code == 200, moved.json
    assert moved.json["route_position"] == 3
    # A new Tuesday pickup comes after Tuesday's last stop, not after the driver's last of any day.
    late = _pickup(create_pickup, tuesday, 16, 52.37, 4.9, driver)
    assert late.route_position == 4
