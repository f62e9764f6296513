"""Route order: distances between stops, scoring an order, and the VROOM solver.

Pure and typed: no database, no Flask. Times are seconds from midnight of the
day (in the hub's timezone); a stop's window is when service may *start*.
The matrix is behind ``Matrix`` so a road-network service (OSRM's table API)
can replace straight-line distances in production.
"""
from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import vroom

EARTH_RADIUS_M = 6_371_000
# VROOM's search effort (0–5). For one driver's day 3 finds the routes 5 finds in a fraction of the time;
# a fleet's day (200 stops, 10 vans) at 0 is within 1-2 % of level 2 in half the time (bench/bench_routes.py).
EXPLORATION_LEVEL = 3
PLAN_EXPLORATION_LEVEL = 0
# Roads are longer than the straight line between two points: a common factor for city driving.
DETOUR_FACTOR = 1.3


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float


@dataclass(frozen=True)
class Stop:
    """One pickup to visit: where, when service may start, how long it takes, how many items it loads."""

    id: int
    place: Place | None
    window: tuple[int, int]
    service_s: int
    items: int = 1


@dataclass(frozen=True)
class Vehicle:
    """A driver's day: their shift (seconds from midnight), capacity in items (None: no limit), stops they already have."""

    id: int
    shift: tuple[int, int]
    capacity: int | None = None
    fixed: tuple[int, ...] = ()


@dataclass(frozen=True)
class Score:
    distance_m: int
    windows_kept: int
    late: tuple[int, ...] = ()


@dataclass(frozen=True)
class Route:
    vehicle_id: int
    order: list[int]
    before: Score
    after: Score
    unplaced: list[int] = field(default_factory=list)


class Matrix(Protocol):
    def between(self, places: Sequence[Place]) -> tuple[list[list[int]], list[list[int]]]:
        """Distances (metres) and travel times (seconds) between every pair of places."""
        ...


@dataclass(frozen=True)
class GreatCircleMatrix:
    """Straight-line distance times a detour factor, at an average speed: good enough to order a city route."""

    speed_kmh: float = 30.0

    def between(self, places: Sequence[Place]) -> tuple[list[list[int]], list[list[int]]]:
        metres_per_s = self.speed_kmh * 1000 / 3600
        distances = [[round(haversine_m(a, b) * DETOUR_FACTOR) for b in places] for a in places]
        return distances, [[round(d / metres_per_s) for d in row] for row in distances]


@dataclass(frozen=True)
class OsrmMatrix:
    """Road distances and times from an OSRM server's table service (``ROUTING_MATRIX_URL``)."""

    base_url: str
    timeout_s: float = 10.0

    def between(self, places: Sequence[Place]) -> tuple[list[list[int]], list[list[int]]]:
        coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in places)
        url = f"{self.base_url.rstrip('/')}/table/v1/driving/{coords}?annotations=distance,duration"
        with urllib.request.urlopen(url, timeout=self.timeout_s) as response:  # noqa: S310 (an operator's setting)
            body = json.load(response)
        if body.get("code") != "Ok":
            raise RuntimeError(f"The routing service answered {body.get('code')}: {body.get('message', '')}")
        as_int = lambda rows: [[round(v or 0) for v in row] for row in rows]  # noqa: E731
        return as_int(body["distances"]), as_int(body["durations"])


def haversine_m(a: Place, b: Place) -> float:
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


class _Distances:
    """The matrix for a depot (index 0) and the located stops, looked up by stop id."""

    def __init__(self, depot: Place, stops: Sequence[Stop], matrix: Matrix):
        located = [s for s in stops if s.place is not None]
        self.index = {s.id: i + 1 for i, s in enumerate(located)}
        self.distance, self.duration = matrix.between([depot, *[s.place for s in located if s.place is not None]])

    def leg(self, a: int | None, b: int | None) -> tuple[int, int]:
        i, j = self.index.get(a, 0) if a is not None else 0, self.index.get(b, 0) if b is not None else 0
        return self.distance[i][j], self.duration[i][j]


def score(order: Sequence[int], stops: dict[int, Stop], distances: _Distances, shift_start: int) -> Score:
    """Drive the order from the depot and back: total distance, and which windows are kept (waiting when early)."""
    clock, total, kept, late = shift_start, 0, 0, []
    previous: int | None = None
    for stop_id in order:
        stop = stops[stop_id]
        if stop.place is None:
            continue  # no place: its window cannot be judged, so it counts neither way
        metres, seconds = distances.leg(previous, stop_id)
        total += metres
        clock = max(clock + seconds, stop.window[0])
        if clock <= stop.window[1]:
            kept += 1
        else:
            late.append(stop_id)
        clock += stop.service_s
        previous = stop_id
    total += distances.leg(previous, None)[0]
    return Score(total, kept, tuple(late))


def _kept(score_: Score, order: Sequence[int], stops: dict[int, Stop]) -> set[int]:
    return {i for i in order if stops[i].place is not None} - set(score_.late)


def _job(stop: Stop, location: int, skills: set[int] | None = None, priority: int = 0) -> vroom.Job:
    return vroom.Job(
        id=stop.id, location=location, default_service=stop.service_s,
        time_windows=[vroom.TimeWindow(max(0, stop.window[0]), max(0, stop.window[1]))],
        pickup=[stop.items], skills=skills or set(), priority=priority,
    )


def _solve(
    depot_index: int, stops: Sequence[Stop], vehicles: Sequence[Vehicle], distances: _Distances, keep: set[int] | None = None,
    level: int = EXPLORATION_LEVEL,
) -> tuple[dict[int, list[int]], list[int]]:
    """VROOM's routes per vehicle and the stops it could not fit; stops in ``keep`` are the last it would drop."""
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=distances.duration)
    problem.set_distances_matrix(profile="car", matrix_input=distances.distance)
    fixed_to = {stop_id: v.id for v in vehicles for stop_id in v.fixed}
    total_items = sum(s.items for s in stops) + 1
    for v in vehicles:
        problem.add_vehicle(vroom.Vehicle(
            id=v.id, start=depot_index, end=depot_index, time_window=vroom.TimeWindow(*v.shift),
            capacity=[v.capacity if v.capacity is not None else total_items], skills={v.id},
        ))
    for stop in stops:
        owner = fixed_to.get(stop.id)
        problem.add_job(_job(stop, distances.index[stop.id], {owner} if owner is not None else None, 100 if keep and stop.id in keep else 0))
    solution = problem.solve(exploration_level=level, nb_threads=1)
    routes: dict[int, list[int]] = {v.id: [] for v in vehicles}
    frame = solution.routes
    for vehicle_id, kind, job_id in zip(frame["vehicle_id"], frame["type"], frame["id"], strict=True):
        if kind == "job":
            routes[int(vehicle_id)].append(int(job_id))
    unassigned = [int(job._id) for job in solution.unassigned]
    return routes, unassigned


def improve_locally(order: Sequence[int], stops: dict[int, Stop], distances: _Distances, shift_start: int, keep: set[int]) -> list[int]:
    """2-opt and relocate moves on ``order`` that shorten it while every stop in ``keep`` stays in its window."""
    best = list(order)
    best_score = score(best, stops, distances, shift_start)
    improved = True
    while improved:
        improved = False
        n = len(best)
        for i in range(n - 1):
            for j in range(i + 1, n):
                for candidate in (best[:i] + best[i:j + 1][::-1] + best[j + 1:], best[:i] + best[i + 1:j + 1] + [best[i]] + best[j + 1:]):
                    trial = score(candidate, stops, distances, shift_start)
                    if trial.distance_m < best_score.distance_m and keep <= _kept(trial, candidate, stops):
                        best, best_score, improved = candidate, trial, True
                        break
                if improved:
                    break
            if improved:
                break
    return best


def suggest_order(stops: Sequence[Stop], current: Sequence[int], depot: Place, shift: tuple[int, int], matrix: Matrix) -> Route:
    """A shorter order for one driver's day that keeps every window the current order keeps; never worse than ``current``.

    VROOM proposes an order (the windows the current order keeps count most); if that order would lose one of
    them or be longer, the current order is improved by local moves instead. Stops without a place keep
    their position and are reported as unplaced, like stops no order can fit in their window.
    """
    by_id = {s.id: s for s in stops}
    distances = _Distances(depot, stops, matrix)
    before = score(current, by_id, distances, shift[0])
    kept_before = _kept(before, current, by_id)
    movable = [i for i in current if by_id[i].place is not None]
    no_place = [i for i in current if by_id[i].place is None]
    if len(movable) < 2:
        return Route(0, list(current), before, before, no_place)

    def with_fixed_places(located_order: Sequence[int]) -> list[int]:
        order = list(located_order)
        for position, stop_id in enumerate(current):
            if by_id[stop_id].place is None:
                order.insert(position, stop_id)
        return order

    routes, unassigned = _solve(0, [by_id[i] for i in movable], [Vehicle(0, shift)], distances, keep=kept_before)
    candidates = [with_fixed_places(routes[0] + [i for i in movable if i in set(unassigned)])]
    scored = [(c, score(c, by_id, distances, shift[0])) for c in candidates]
    good = [(c, s) for c, s in scored if s.distance_m <= before.distance_m and kept_before <= _kept(s, c, by_id)]
    if not good:
        local = with_fixed_places(improve_locally(movable, by_id, distances, shift[0], kept_before))
        good = [(local, score(local, by_id, distances, shift[0]))]
    order, after = min(good, key=lambda pair: (-pair[1].windows_kept, pair[1].distance_m))
    return Route(0, order, before, after, no_place + [i for i in after.late])


def plan_day(stops: Sequence[Stop], vehicles: Sequence[Vehicle], current: dict[int, list[int]], depot: Place, matrix: Matrix) -> tuple[list[Route], list[int]]:
    """Share the day's stops among the vehicles (each keeps the stops in ``fixed``), each route ordered; and what nobody could take.

    Stops without a place are never planned: they are returned as unplaced.
    """
    by_id = {s.id: s for s in stops}
    located = [s for s in stops if s.place is not None]
    distances = _Distances(depot, stops, matrix)
    routes, unassigned = _solve(0, located, vehicles, distances, level=PLAN_EXPLORATION_LEVEL) if located and vehicles else ({v.id: [] for v in vehicles}, [s.id for s in located])
    result = []
    for v in vehicles:
        order = routes.get(v.id, [])
        # A fixed stop the solver could not fit stays on its driver's route, at the end.
        order += [i for i in v.fixed if i not in order and by_id[i].place is not None]
        order += [i for i in v.fixed if by_id[i].place is None]
        was = current.get(v.id, [])
        result.append(Route(v.id, order, score(was, by_id, distances, v.shift[0]), score(order, by_id, distances, v.shift[0]),
                            [i for i in order if by_id[i].place is None]))
    fixed = {i for v in vehicles for i in v.fixed}
    unplaced = [i for i in unassigned if i not in fixed] + [s.id for s in stops if s.place is None and s.id not in fixed]
    return result, unplaced
