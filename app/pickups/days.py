"""The driver's day: which calendar day a pickup is on, for route positions and the phone's days.

A pickup belongs to the day its window starts on, in the timezone of its
driver's hub (the depot the van leaves from in the morning), so "Tuesday" means
the same to the dispatcher ordering Tuesday, to the route positions and to the
phone. A driver without a hub falls back to the first hub's timezone, then UTC.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.hubs.models import Hub


def day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The instants at which ``day`` starts and ends in the given timezone (23 or 25 hours apart on DST days)."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def driver_timezone(driver: User | None) -> str:
    """The timezone the driver's days are counted in: their hub's, else the first hub's, else UTC."""
    hub = db.session.get(Hub, driver.hub_id) if driver is not None and driver.hub_id is not None else None
    if hub is None:
        hub = db.session.scalar(select(Hub).order_by(Hub.id).limit(1))
    return hub.timezone if hub is not None else "UTC"


def day_of(moment: datetime, tz_name: str) -> date:
    """The calendar day ``moment`` falls on in ``tz_name``."""
    return moment.astimezone(ZoneInfo(tz_name)).date()


def days_range(today: date, days_ahead: int, tz_name: str) -> tuple[datetime, datetime]:
    """From the start of ``today`` to the end of the ``days_ahead``-th day after it, as instants."""
    return day_bounds(today, tz_name)[0], day_bounds(today + timedelta(days=days_ahead), tz_name)[1]
