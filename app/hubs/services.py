"""Hubs: adding, editing and finding the depots pickups return to."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.core.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.hubs.models import Hub

# What an operator may set on a hub besides its code (the code is the hub's name in CSV files and labels).
ADDRESS_FIELDS = ("address_line1", "city", "postcode", "country", "lat", "lon")


def check_timezone(name: str) -> str:
    """The IANA timezone name, or a refusal naming the field (a typo would shift every window)."""
    name = (name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"“{name}” is not a timezone name.", fields={"timezone": ["Use an IANA name such as Europe/Amsterdam."]}
        ) from None
    return name


def _check_details(name: str, address: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Required."]
    country = str(address.get("country") or "")
    if country and (len(country) != 2 or not country.isalpha()):
        errors["country"] = ["Use the two-letter country code, e.g. NL."]
    for key, low, high in (("lat", -90, 90), ("lon", -180, 180)):
        value = address.get(key)
        if value is not None and not (low <= float(value) <= high):
            errors[key] = [f"Between {low} and {high}."]
    unknown = set(address) - set(ADDRESS_FIELDS)
    if unknown:
        errors.update({key: ["Unknown field."] for key in unknown})
    if errors:
        raise InvalidInput("Some hub details need fixing.", fields=errors)


def create_hub(*, code: str, name: str, timezone: str = "UTC", **address: Any) -> Hub:
    """Add a hub with a new, unique code."""
    code = code.strip().upper()
    if not code or len(code) > 20 or not code.replace("-", "").isalnum():
        raise InvalidInput("The hub code is not usable.", fields={"code": ["1–20 letters, digits or dashes."]})
    _check_details(name, address)
    timezone = check_timezone(timezone)
    if find_hub_by_code(code) is not None:
        raise Conflict(f"A hub with code {code} already exists.", fields={"code": ["Already in use."]})
    if address.get("country"):
        address["country"] = str(address["country"]).upper()
    hub = Hub(code=code, name=name.strip(), timezone=timezone, **{k: v for k, v in address.items() if v is not None})
    db.session.add(hub)
    db.session.flush()
    return hub


def update_hub(hub: Hub, *, name: str, timezone: str, **address: Any) -> Hub:
    """Change a hub's name, timezone or address (its code stays: it is printed on labels and in files)."""
    _check_details(name, address)
    hub.name = name.strip()
    hub.timezone = check_timezone(timezone)
    for key, value in address.items():
        setattr(hub, key, value.upper() if key == "country" and isinstance(value, str) else value)
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
