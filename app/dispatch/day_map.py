"""The map of a day: stops by driver in route order, each phone's last known position, unassigned pickups apart."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import url_for
from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.pickups import services
from app.pickups.models import Pickup, PickupEvent

# Driver colours (rings and route lines), chosen apart from the status colours that fill the stops
# (grey, blue, green, amber, red), so a route is never mistaken for a status. They repeat after eight.
DRIVER_COLOURS = ["#8250df", "#e16f24", "#0a9396", "#bf3989", "#6e4b1f", "#3d5a80", "#9a6700", "#57606a"]


def _stop(p: Pickup, tz: str) -> dict[str, Any]:
    return {
        "id": p.id, "reference": p.reference, "status": p.status.value, "lat": p.lat, "lon": p.lon,
        "position": p.route_position, "customer": p.customer_name, "address": f"{p.address_line1}, {p.postcode} {p.city}",
        "window": [p.window_start.isoformat(), p.window_end.isoformat()], "items": sum(i.quantity for i in p.items),
        "url": url_for("dispatch.pickup_detail", pickup_id=p.id), "assign_url": url_for("dispatch.assign_pickup", pickup_id=p.id),
        "driver_id": p.driver_id,
    }


def last_positions(driver_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Where each driver's phone last said it was (the newest located timeline entry they made)."""
    if not driver_ids:
        return {}
    newest = (
        select(PickupEvent.actor_id, func.max(PickupEvent.id).label("id"))
        .where(PickupEvent.actor_id.in_(driver_ids), PickupEvent.lat.is_not(None))
        .group_by(PickupEvent.actor_id)
        .subquery()
    )
    rows = db.session.execute(select(PickupEvent).join(newest, PickupEvent.id == newest.c.id)).scalars()
    return {
        e.actor_id: {"lat": e.lat, "lon": e.lon, "at": (e.device_time or e.server_time).isoformat()}
        for e in rows if e.actor_id is not None
    }


def day_map(viewer: User, day: date, *, tz_name: str, hub_id: int | None, drivers: list[User], driver_id: int | None = None) -> dict[str, Any]:
    """Everything the map draws for ``day``: per driver their stops in order; the unassigned; stops that cannot be drawn."""
    pickups = list(db.session.scalars(services.pickups_query(viewer, day=day, tz_name=tz_name, hub_id=hub_id, driver_id=driver_id)))
    by_driver: dict[int, list[Pickup]] = {}
    for p in pickups:
        if p.driver_id is not None:
            by_driver.setdefault(p.driver_id, []).append(p)
    names = {d.id: d for d in drivers}
    shown = [d for d in drivers if d.id in by_driver] + [d for d in drivers if d.id not in by_driver and driver_id in (None, d.id)]
    positions = last_positions([d.id for d in shown])
    return {
        "date": day.isoformat(),
        "timezone": tz_name,
        "drivers": [
            {
                "id": d.id, "name": d.name, "colour": DRIVER_COLOURS[n % len(DRIVER_COLOURS)],
                "stops": [_stop(p, tz_name) for p in by_driver.get(d.id, [])],
                "last_position": positions.get(d.id),
                "route_url": url_for("dispatch.route", driver_id=d.id, date=day.isoformat()),
            }
            for n, d in enumerate(shown) if d.id in names
        ],
        "unassigned": [_stop(p, tz_name) for p in pickups if p.driver_id is None],
    }
