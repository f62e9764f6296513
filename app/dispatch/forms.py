"""The pickup form: HTML form fields ↔ the JSON shape that PickupInSchema / PickupPatchSchema validate.

The console validates with the API's schemas, so a pickup the form accepts is
exactly one the API would accept. This module only translates: flat form names
(``customer_name``, ``items-2-quantity``, a day and two local times) into the
nested shape, and the schemas' nested messages back onto the form's fields.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError

from app.hubs.models import Hub
from app.pickups.doorstep import doorstep
from app.pickups.fields import GROUPS, flat_name, flat_values, nested
from app.pickups.models import Pickup

BLANK_ITEM_ROWS = 3
MAX_ITEM_ROWS = 200
ITEM_FIELDS = ("id", "sku", "description", "quantity", "reason")
PICKUP_FIELDS = (
    "reference", "customer_name", "phone", "email", "line1", "line2", "city", "postcode", "country",
    "lat", "lon", "day", "start_time", "end_time", "notes", "hub_id", "driver_id", "scan_required", "version",
)
# The form asks for the window as a day and two times, not two instants.
_FORM_NAME = {"window_start": "start_time", "window_end": "end_time"}
# Fields the form shows as they are (the rest: the window, hub, driver, version).
_PLAIN_FIELDS = ("reference", "customer_name", "phone", "email", "line1", "line2", "city", "postcode", "country", "notes")
_ITEM_NAME = re.compile(r"^items-(\d{1,3})-(id|sku|description|quantity|reason|remove)$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


class FormInvalid(Exception):
    """The form has problems; ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("form invalid")
        self.errors = errors


@dataclass
class PickupForm:
    """What the person sees in the form (always strings), and what is wrong with it."""

    values: dict[str, str] = field(default_factory=dict)
    items: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str | None = None

    # --- building ------------------------------------------------------------------------

    @classmethod
    def blank(cls, *, hub: Hub | None, day: date) -> PickupForm:
        values = dict.fromkeys(PICKUP_FIELDS, "")
        values.update(day=day.isoformat(), start_time="09:00", end_time="11:00", hub_id=str(hub.id) if hub else "")
        values["country"] = hub.country if hub and hub.country else ""
        values["scan_required"] = "1" if doorstep().scan_required_by_default else ""
        return cls(values=values).padded()

    @classmethod
    def from_pickup(cls, pickup: Pickup) -> PickupForm:
        tz = ZoneInfo(pickup.hub.timezone)
        start, end = pickup.window_start.astimezone(tz), pickup.window_end.astimezone(tz)
        current = flat_values(pickup)
        values = {name: current[name] or "" for name in _PLAIN_FIELDS}
        values.update(
            lat=_number(pickup.lat), lon=_number(pickup.lon),
            day=start.date().isoformat(), start_time=start.strftime("%H:%M"), end_time=end.strftime("%H:%M"),
            hub_id=str(pickup.hub_id), driver_id=str(pickup.driver_id or ""),
            scan_required="1" if pickup.scan_required else "", version=str(pickup.version),
        )
        items = [
            {"id": str(item.id), "sku": item.sku, "description": item.description, "quantity": str(item.quantity), "reason": item.reason or ""}
            for item in pickup.items
        ]
        return cls(values=values, items=items).padded()

    @classmethod
    def from_submission(cls, form: Mapping[str, str]) -> PickupForm:
        """What was typed, kept verbatim so an invalid form comes back as the person left it."""
        values = {name: (form.get(name) or "") for name in PICKUP_FIELDS}
        rows: dict[int, dict[str, str]] = {}
        for key in form:
            match = _ITEM_NAME.match(key)
            if match and int(match.group(1)) < MAX_ITEM_ROWS + BLANK_ITEM_ROWS:
                rows.setdefault(int(match.group(1)), {})[match.group(2)] = form.get(key) or ""
        items = [{name: rows[index].get(name, "") for name in (*ITEM_FIELDS, "remove")} for index in sorted(rows)]
        # Rows the person removed or never filled in are not items.
        kept = [row for row in items if not row["remove"] and any(row[name].strip() for name in ITEM_FIELDS if name != "id")]
        return cls(values=values, items=kept)

    def padded(self) -> PickupForm:
        """The form with a few blank item rows at the end, so items can be added without JavaScript."""
        blank = dict.fromkeys(ITEM_FIELDS, "")
        self.items = list(self.items) + [dict(blank) for _ in range(BLANK_ITEM_ROWS)]
        return self

    # --- reading ------------------------------------------------------------------------

    def validate(self, schema: Schema, tz_name: str, *, goods: bool = True) -> dict[str, Any]:
        """The form's data as ``schema`` loads it, or FormInvalid with every problem on its field.

        ``goods=False`` reads only what a closed pickup still lets you change (its notes).
        """
        payload = self.payload(tz_name, goods=goods)
        try:
            data: dict[str, Any] = schema.load(payload)
        except ValidationError as error:
            messages = dict(error.messages)  # type: ignore[arg-type]
            if goods and "window" not in payload:
                messages.pop("window", None)  # already said on the day / time fields
            self.add_errors(messages)
            data = {}
        if self.errors:
            raise FormInvalid(self.errors)
        return data

    def payload(self, tz_name: str, *, goods: bool = True) -> dict[str, Any]:
        """The API-shaped data for the schemas (strings are left for the schemas to judge).

        An unreadable day or time is noted on its field here and the window left out.
        """
        v = {name: value.strip() for name, value in self.values.items()}
        data: dict[str, Any] = {"notes": v["notes"]}
        if v["version"].isdigit():
            data["version"] = int(v["version"])
        if not goods:
            return data
        flat: dict[str, Any] = {name: v[name] for name in _PLAIN_FIELDS}
        # A decimal comma is how half of Europe types 52,3752.
        flat.update(lat=v["lat"].replace(",", ".") or None, lon=v["lon"].replace(",", ".") or None)
        data.update(nested(flat))
        data.update(
            items=[
                {"id": row["id"] or None, "sku": row["sku"], "description": row["description"], "quantity": row["quantity"].strip(), "reason": row["reason"]}
                for row in self.items
            ],
            scan_required=bool(v["scan_required"]),
            hub_id=v["hub_id"] or None,
        )
        window = self._window(tz_name)
        if window:
            data["window"] = {"start": window[0].isoformat(), "end": window[1].isoformat()}
        if v["driver_id"]:
            data["driver_id"] = v["driver_id"]
        return data

    def _window(self, tz_name: str) -> tuple[datetime, datetime] | None:
        day: date | None = None
        try:
            day = date.fromisoformat(self.values["day"].strip())
        except ValueError:
            self._add("day", "Enter the day of the pickup, e.g. 2025-03-03.")
        times: dict[str, time] = {}
        for name in ("start_time", "end_time"):
            match = _TIME.match(self.values[name].strip())
            if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
                self._add(name, "Enter a time such as 09:00.")
            else:
                times[name] = time(int(match.group(1)), int(match.group(2)))
        if day is None or len(times) < 2:
            return None
        tz = ZoneInfo(tz_name)
        return datetime.combine(day, times["start_time"], tzinfo=tz), datetime.combine(day, times["end_time"], tzinfo=tz)

    # --- errors ------------------------------------------------------------------------

    def add_errors(self, messages: Mapping[str, Any]) -> PickupForm:
        """Put the schemas' (or a domain error's) nested messages on the form's fields."""
        for key, problems in messages.items():
            if key == "items" and isinstance(problems, Mapping):
                for index, item_problems in problems.items():
                    index = int(index) if str(index).isdigit() else None
                    if index is None or not isinstance(item_problems, Mapping):
                        self._add("items", item_problems)
                        continue
                    for name, texts in item_problems.items():
                        self._add(f"items-{index}-{name}" if name in ITEM_FIELDS else "items", texts)
            elif isinstance(problems, Mapping) and key in GROUPS:
                for sub, texts in problems.items():
                    name = flat_name((key, sub))
                    self._add(_FORM_NAME.get(name or "", name) or "_form", texts)
            else:
                self._add(key if key in PICKUP_FIELDS or key == "items" else "_form", problems)
        return self

    def _add(self, name: str, problems: Any) -> None:
        self.errors.setdefault(name, []).extend(_texts(problems))

    def item_error(self, index: int, name: str) -> list[str]:
        return self.errors.get(f"items-{index}-{name}", [])


def _texts(problems: Any) -> list[str]:
    if isinstance(problems, str):
        return [problems]
    if isinstance(problems, Mapping):
        return [text for value in problems.values() for text in _texts(value)]
    return [text for value in problems for text in _texts(value)]


def _number(value: float | None) -> str:
    return "" if value is None else str(value)


def items_changed(pickup: Pickup, items: list[dict[str, Any]]) -> bool:
    """Whether the submitted items differ from the pickup's (so an unchanged list is not rewritten)."""
    current = [(item.id, item.sku, item.description, item.quantity, item.reason or "") for item in pickup.items]
    submitted = [(item.get("id"), item["sku"], item["description"], item["quantity"], item.get("reason") or "") for item in items]
    return current != submitted
