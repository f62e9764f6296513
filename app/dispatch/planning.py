"""Suggested route order and "plan the day": pickups and drivers in, orders out; accepting writes through app.pickups.

Suggesting and planning save nothing. Route positions belong to a driver's day:
only that day's pickups are reordered, so ordering Tuesday leaves Wednesday alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.accounts.models import Role, User
from app.core.errors import InvalidInput
from app.dispatch import routing
from app.extensions import db
from app.hubs.models import Hub
from app.pickups import services
from app.pickups.models import Pickup, PickupStatus

# Only pickups still to be visited are ordered; done ones keep their places at the start of the route.
TO_VISIT = (PickupStatus.ASSIGNED,)


@dataclass(frozen=True)
class Suggestion:
    driver_id: int
    order: list[int]
    before: routing.Score
    after: routing.Score
    unplaced: list[int]


@dataclass(frozen=True)
class DayPlan:
    routes: list[Suggestion]
    unplaced: list[int]


def _matrix() -> routing.Matrix:
    url = current_app.config.get("ROUTING_MATRIX_URL")
    return routing.OsrmMatrix(url) if url else routing.GreatCircleMatrix(current_app.config["DISPATCH_AVERAGE_SPEED_KMH"])


def _seconds(moment: datetime, day: date, tz: ZoneInfo) -> int:
    midnight = datetime.combine(day, time.min, tzinfo=tz)
    return int((moment - midnight).total_seconds())


def _default_shift() -> tuple[time, time]:
    start, _, end = current_app.config["DISPATCH_SHIFT"].partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def shift_of(driver: User) -> tuple[int, int]:
    """The driver's working hours as seconds from midnight (their own, else the DISPATCH_SHIFT default)."""
    start, end = _default_shift()
    start, end = driver.shift_start or start, driver.shift_end or end
    return start.hour * 3600 + start.minute * 60, end.hour * 3600 + end.minute * 60


def _stop(pickup: Pickup, day: date, tz: ZoneInfo) -> routing.Stop:
    place = routing.Place(pickup.lat, pickup.lon) if pickup.lat is not None and pickup.lon is not None else None
    window = (_seconds(pickup.window_start, day, tz), _seconds(pickup.window_end, day, tz))
    items = max(1, sum(item.quantity for item in pickup.items))
    return routing.Stop(pickup.id, place, window, current_app.config["DISPATCH_SERVICE_MINUTES"] * 60, items)


def _depot(hub: Hub) -> routing.Place:
    if hub.lat is None or hub.lon is None:
        raise InvalidInput(
            f"Hub {hub.code} has no coordinates, and routes start and end there. An admin sets them under Set-up.",
            fields={"hub_id": ["No coordinates."]},
        )
    return routing.Place(hub.lat, hub.lon)


def _day_pickups(viewer: User, day: date, tz_name: str, **filters: object) -> list[Pickup]:
    return list(db.session.scalars(services.pickups_query(viewer, day=day, tz_name=tz_name, **filters)))  # type: ignore[arg-type]


def _driver_hub(driver: User) -> Hub:
    hub = db.session.get(Hub, driver.hub_id) if driver.hub_id else db.session.scalar(select(Hub).order_by(Hub.id))
    if hub is None:
        raise InvalidInput("There is no hub yet to start the route from.", fields={"driver_id": ["No hub."]})
    return hub


def suggest_route(driver: User, day: date, *, viewer: User) -> Suggestion:
    """A shorter order for the driver's stops of ``day`` that keeps every window the current order keeps (saves nothing)."""
    services.require_dispatcher(viewer)
    if driver.role is not Role.DRIVER:
        raise InvalidInput("Only drivers have routes.", fields={"driver_id": ["Not a driver."]})
    hub = _driver_hub(driver)
    tz = ZoneInfo(hub.timezone)
    pickups = _day_pickups(viewer, day, hub.timezone, driver_id=driver.id)
    done = [p.id for p in pickups if p.status not in TO_VISIT]
    todo = [p for p in pickups if p.status in TO_VISIT]
    if not todo:
        empty = routing.Score(0, 0)
        return Suggestion(driver.id, done, empty, empty, [])
    route = routing.suggest_order([_stop(p, day, tz) for p in todo], [p.id for p in todo], _depot(hub), shift_of(driver), _matrix())
    return Suggestion(driver.id, done + route.order, route.before, route.after, route.unplaced)


def plan_day(hub: Hub, day: date, *, viewer: User, driver_ids: Sequence[int] | None = None) -> DayPlan:
    """Share the hub's unassigned pickups of ``day`` among its active drivers and order every route (saves nothing)."""
    services.require_dispatcher(viewer)
    tz = ZoneInfo(hub.timezone)
    query = select(User).where(User.role == Role.DRIVER, User.active.is_(True))
    query = query.where(User.id.in_(driver_ids)) if driver_ids else query.where(User.hub_id == hub.id)
    drivers = list(db.session.scalars(query.order_by(User.name)))
    if driver_ids and len(drivers) != len(set(driver_ids)):
        raise InvalidInput("Some of these are not active drivers.", fields={"driver_ids": ["Unknown or inactive driver."]})
    if not drivers:
        raise InvalidInput(f"Hub {hub.code} has no active drivers to plan for.", fields={"hub_id": ["No drivers."]})
    depot = _depot(hub)
    pickups = _day_pickups(viewer, day, hub.timezone, hub_id=hub.id)
    driver_set = {d.id for d in drivers}
    open_unassigned = [p for p in pickups if p.status is PickupStatus.UNASSIGNED]
    kept = [p for p in pickups if p.status in TO_VISIT and p.driver_id in driver_set]
    current: dict[int, list[int]] = {d.id: [p.id for p in kept if p.driver_id == d.id] for d in drivers}
    vehicles = [routing.Vehicle(d.id, shift_of(d), d.capacity_items, tuple(current[d.id])) for d in drivers]
    stops = [_stop(p, day, tz) for p in [*kept, *open_unassigned]]
    routes, unplaced = routing.plan_day(stops, vehicles, current, depot, _matrix())
    return DayPlan([Suggestion(r.vehicle_id, r.order, r.before, r.after, r.unplaced) for r in routes], unplaced)


def accept_routes(day: date, routes: Sequence[tuple[int, Sequence[int]]], *, actor: User) -> list[list[Pickup]]:
    """Write accepted orders: assign what is not yet on the driver's route, then number that day's stops 1..n."""
    services.require_dispatcher(actor)
    written = []
    for driver_id, order in routes:
        driver = services.get_driver(driver_id)
        hub = _driver_hub(driver)
        pickups = {p.id: p for p in db.session.scalars(select(Pickup).where(Pickup.id.in_(order)))}
        missing = [i for i in order if i not in pickups]
        if missing:
            raise InvalidInput(f"No pickups {', '.join(map(str, missing))}.", fields={"order": ["Unknown pickup."]})
        other_hub = [i for i in order if pickups[i].hub_id != hub.id]
        if other_hub:
            raise InvalidInput(
                f"Pickups {', '.join(map(str, other_hub))} belong to another hub than {driver.name}'s ({hub.code}).",
                fields={"order": ["Another hub."]},
            )
        start, end = services.day_bounds(day, hub.timezone)
        other_day = [i for i in order if not (start <= pickups[i].window_start < end)]
        if other_day:
            raise InvalidInput(
                f"Pickups {', '.join(map(str, other_day))} are not on {day.isoformat()}: a route is one driver's day.",
                fields={"order": ["Another day."]},
            )
        services.assign_pickups([pickups[i] for i in order if pickups[i].driver_id != driver.id], driver, actor=actor)
        # The day's other stops of this driver (not in the plan) keep their relative order after the planned ones.
        rest = [p.id for p in _day_pickups(actor, day, hub.timezone, driver_id=driver.id) if p.id not in set(order)]
        written.append(services.order_route(driver, [*order, *rest], actor=actor))
    return written
