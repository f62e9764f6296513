"""Route suggestions, plan the day, the live board's idle cost, and the board page's weight.

``BENCH routes_suggest_{40,60}_stops``      suggesting an order for one driver's day (VROOM + guard)
``RATIO routes_suggest_{40,60}_vs_nearest_neighbour``   distance of a window-aware nearest-neighbour order
    divided by the suggestion's (both from the same depot, same stops, same run); windows kept are printed too
``BENCH routes_plan_200_pickups_10_drivers`` planning a hub's day
``RATIO routes_plan_200_vs_nearest_neighbour``  the same, for the whole fleet
``BENCH live_board_idle_*``                  what one idle dispatcher costs per minute of polling
``BENCH board_page_{40,400}_pickups_*``      the board's bytes and element count
"""
from __future__ import annotations

import random
import re
import time
from datetime import datetime, timedelta, timezone

from bench.harness import Report, bench_app

DEPOT = (52.3875, 4.8490)
SHIFT = (8 * 3600, 18 * 3600)


def _stops(n: int, seed: int, spread: float = 0.05):  # type: ignore[no-untyped-def]
    from app.dispatch.routing import Place, Stop

    rng = random.Random(seed)
    out = []
    for i in range(n):
        start = rng.choice(range(8, 16)) * 3600
        out.append(Stop(i + 1, Place(52.34 + rng.random() * spread, 4.82 + rng.random() * spread * 1.6), (start, start + rng.choice([7200, 10800, 14400])), 360,
                        rng.randint(1, 3)))
    return out


def nearest_neighbour(stops, distances, shift_start: int):  # type: ignore[no-untyped-def]
    """The baseline: from where you are, go to the nearest stop whose window you can still make (else the nearest)."""
    left, order, clock, here = {s.id: s for s in stops}, [], shift_start, None
    while left:
        reachable = [s for s in left.values() if max(clock + distances.leg(here, s.id)[1], s.window[0]) <= s.window[1]]
        pick = min(reachable or left.values(), key=lambda s: distances.leg(here, s.id)[0])
        clock = max(clock + distances.leg(here, pick.id)[1], pick.window[0]) + pick.service_s
        order.append(pick.id)
        here = pick.id
        del left[pick.id]
    return order


def _suggest(report: Report, n: int) -> None:
    from app.dispatch import routing

    stops = _stops(n, seed=n)
    by_id = {s.id: s for s in stops}
    matrix = routing.GreatCircleMatrix()
    depot = routing.Place(*DEPOT)
    distances = routing._Distances(depot, stops, matrix)
    current = [s.id for s in sorted(stops, key=lambda s: (s.window[0], s.id))]
    started = time.perf_counter()
    route = routing.suggest_order(stops, current, depot, SHIFT, matrix)
    report.bench(f"routes_suggest_{n}_stops", time.perf_counter() - started, "s")
    nn = routing.score(nearest_neighbour(stops, distances, SHIFT[0]), by_id, distances, SHIFT[0])
    report.note(f"{n} stops: window order {route.before.distance_m / 1000:.1f} km ({route.before.windows_kept} windows kept), "
                f"nearest neighbour {nn.distance_m / 1000:.1f} km ({nn.windows_kept}), suggestion {route.after.distance_m / 1000:.1f} km "
                f"({route.after.windows_kept})")
    report.bench(f"routes_suggest_{n}_windows_kept", route.after.windows_kept, "stops")
    report.ratio(f"routes_suggest_{n}_vs_nearest_neighbour", nn.distance_m / route.after.distance_m)
    report.ratio(f"routes_suggest_{n}_vs_window_order", route.before.distance_m / route.after.distance_m)


def _plan(report: Report) -> None:
    from app.dispatch import routing

    stops = _stops(200, seed=200, spread=0.08)
    by_id = {s.id: s for s in stops}
    matrix = routing.GreatCircleMatrix()
    depot = routing.Place(*DEPOT)
    vehicles = [routing.Vehicle(100 + v, SHIFT, capacity=60) for v in range(10)]
    started = time.perf_counter()
    routes, unplaced = routing.plan_day(stops, vehicles, {}, depot, matrix)
    report.bench("routes_plan_200_pickups_10_drivers", time.perf_counter() - started, "s")
    planned = sum(r.after.windows_kept for r in routes)
    total = sum(r.after.distance_m for r in routes)
    # Baseline: deal the stops out by window start, round-robin, then nearest-neighbour per driver.
    distances = routing._Distances(depot, stops, matrix)
    dealt: dict[int, list] = {v.id: [] for v in vehicles}
    for n, stop in enumerate(sorted(stops, key=lambda s: (s.window[0], s.id))):
        dealt[vehicles[n % len(vehicles)].id].append(stop)
    nn_scores = [routing.score(nearest_neighbour(group, distances, SHIFT[0]), by_id, distances, SHIFT[0]) for group in dealt.values()]
    nn_total, nn_kept = sum(s.distance_m for s in nn_scores), sum(s.windows_kept for s in nn_scores)
    report.note(f"plan 200/10: {total / 1000:.1f} km, {planned} windows kept, {len(unplaced)} unplaced; "
                f"round-robin + nearest neighbour {nn_total / 1000:.1f} km, {nn_kept} windows kept")
    report.bench("routes_plan_200_windows_kept", planned, "stops")
    report.bench("routes_plan_200_unplaced", len(unplaced), "pickups")
    report.ratio("routes_plan_200_vs_nearest_neighbour", nn_total / total)


def _board(report: Report) -> None:
    from sqlalchemy import event

    from app.accounts.services import create_user
    from app.extensions import db
    from app.hubs.services import create_hub
    from app.pickups.schemas import pickup_in_schema
    from app.pickups.services import assign_pickup, create_pickup

    with bench_app() as app:
        hub = create_hub(code="BEN", name="Bench Hub", timezone="UTC", lat=DEPOT[0], lon=DEPOT[1])
        office = create_user(email="d@bench.test", password="bench-pass", role="dispatcher", name="D", hub_id=hub.id)
        drivers = [create_user(email=f"r{n}@bench.test", password="bench-pass", role="driver", name=f"Driver {n}", hub_id=hub.id) for n in range(5)]
        day = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
        for n in range(440):
            # 40 pickups on the first day, 400 on the next.
            when = day if n < 40 else day + timedelta(days=1)
            data = pickup_in_schema.load({
                "reference": f"B-{n}", "customer": {"name": "C", "phone": None, "email": None},
                "address": {"line1": "Damrak 1", "line2": None, "city": "Amsterdam", "postcode": "1012", "country": "NL", "lat": 52.37, "lon": 4.89},
                "window": {"start": (when + timedelta(minutes=n % 480)).isoformat(), "end": (when + timedelta(minutes=n % 480 + 120)).isoformat()},
                "notes": "", "items": [{"sku": "X", "description": "Thing", "quantity": 1, "reason": ""}],
            })
            pickup = create_pickup(data, actor=None)
            if n % 3:
                assign_pickup(pickup, drivers[n % 5], actor=None)
        db.session.commit()
        office_email = office.email
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login", data={"email": office_email, "password": "bench-pass", "csrf_token": token})

        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        client.get("/dispatch/changes")
        event.listen(db.engine, "before_cursor_execute", listener)
        polls, sent = 15, 0  # one poll every 4 s
        for _ in range(polls):
            response = client.get("/dispatch/changes")
            sent += len(response.data) + sum(len(k) + len(v) + 4 for k, v in response.headers.items())
        event.remove(db.engine, "before_cursor_execute", listener)
        report.bench("live_board_idle_queries_per_minute", len(statements), "queries")
        report.bench("live_board_idle_bytes_per_minute", sent, "bytes")

        for count, query in ((40, f"?date={day.date()}"), (400, f"?date={(day + timedelta(days=1)).date()}")):
            html = client.get(f"/dispatch/{query}").get_data(as_text=True)
            rows = html.count('<tr id="pickup-')
            report.note(f"board page for a day of {count} pickups shows {rows} rows (200 a page)")
            report.bench(f"board_page_{count}_pickups_bytes", len(html.encode()), "bytes")
            report.bench(f"board_page_{count}_pickups_elements", len(re.findall(r"<[a-zA-Z]", html)), "elements")


def run(report: Report) -> None:
    _suggest(report, 40)
    _suggest(report, 60)
    _plan(report)
    _board(report)
