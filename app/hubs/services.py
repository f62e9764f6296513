"""Hubs: adding and finding the depots pickups return to."""
from __future__ import annotations

from sqlalchemy import select

from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.hubs.models import Hub


def create_hub(*, code: str, name: str, timezone: str = "UTC", **address: object) -> Hub:
    """Add a hub with a new, unique code."""
    code = code.strip().upper()
    if find_hub_by_code(code) is not None:
        raise Conflict(f"A hub with code {code} already exists.", fields={"code": ["Already in use."]})
    hub = Hub(code=code, name=name, timezone=timezone, **address)
    db.session.add(hub)
    db.session.flush()
    return hub


def find_hub_by_code(code: str) -> Hub | None:
    return db.session.scalar(select(Hub).where(Hub.code == code.strip().upper()))


def get_hub(hub_id: int) -> Hub:
    hub = db.session.get(Hub, hub_id)
    if hub is None:
        raise NotFound("No such hub.")
    return hub


def list_hubs() -> list[Hub]:
    return list(db.session.scalars(select(Hub).order_by(Hub.name)))
