"""A pickup's fields in their three shapes, mapped once: flat names, the nested JSON, the model's columns.

- **flat**: the names people type and read — the console form's fields and the
  CSV import's columns (``customer_name``, ``line1``, ``window_start`` …);
- **nested**: the JSON shape the API and ``PickupInSchema`` speak
  (``{"customer": {"name": …}, "address": {"line1": …}, "window": {"start": …}}``);
- **column**: the model's attribute (``customer_name``, ``address_line1`` …).

The form, the import and the services all translate through this table, so a
field added here reaches all three and a schema's message lands on the right
form field or spreadsheet column.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.pickups.models import Pickup


@dataclass(frozen=True)
class PickupField:
    flat: str
    path: tuple[str, ...]
    column: str


FIELDS: tuple[PickupField, ...] = (
    PickupField("reference", ("reference",), "reference"),
    PickupField("customer_name", ("customer", "name"), "customer_name"),
    PickupField("phone", ("customer", "phone"), "customer_phone"),
    PickupField("email", ("customer", "email"), "customer_email"),
    PickupField("line1", ("address", "line1"), "address_line1"),
    PickupField("line2", ("address", "line2"), "address_line2"),
    PickupField("city", ("address", "city"), "city"),
    PickupField("postcode", ("address", "postcode"), "postcode"),
    PickupField("country", ("address", "country"), "country"),
    PickupField("lat", ("address", "lat"), "lat"),
    PickupField("lon", ("address", "lon"), "lon"),
    PickupField("window_start", ("window", "start"), "window_start"),
    PickupField("window_end", ("window", "end"), "window_end"),
    PickupField("notes", ("notes",), "notes"),
    PickupField("scan_required", ("scan_required",), "scan_required"),
)
GROUPS = ("customer", "address", "window")
ITEM_FIELDS = ("sku", "description", "quantity", "reason")
# Optional text that the JSON shape spells as null when it is empty.
NULL_WHEN_EMPTY = frozenset({"phone", "email", "line2"})
# Where a whole group's message belongs (a window that ends before it starts: at its end).
_GROUP_MESSAGE_AT = {"window": "window_end"}

_BY_PATH = {f.path: f for f in FIELDS}
_BY_FLAT = {f.flat: f for f in FIELDS}


def pickup_columns(data: Mapping[str, Any]) -> dict[str, Any]:
    """The model's columns for nested JSON-shaped data (only what is given of it)."""
    columns: dict[str, Any] = {}
    for f in FIELDS:
        found, value = _get(data, f.path)
        if found:
            columns[f.column] = value
    return columns


def changed_fields(pickup: Pickup, data: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that nested data would change on ``pickup``, keyed by dotted path (``address.city``)."""
    changes: dict[str, Any] = {}
    for f in FIELDS:
        found, value = _get(data, f.path)
        if found and getattr(pickup, f.column) != value:
            changes[".".join(f.path)] = (f.column, value)
    return changes


def nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat values (form fields, CSV cells) in the nested JSON shape; empty optional text becomes null."""
    data: dict[str, Any] = {}
    for name, value in flat.items():
        f = _BY_FLAT.get(name)
        if f is None:
            continue
        if name in NULL_WHEN_EMPTY and value == "":
            value = None
        target = data
        for key in f.path[:-1]:
            target = target.setdefault(key, {})
        target[f.path[-1]] = value
    return data


def flat_values(pickup: Pickup) -> dict[str, Any]:
    """The pickup's fields by flat name."""
    return {f.flat: getattr(pickup, f.column) for f in FIELDS}


def flat_name(path: tuple[str, ...]) -> str | None:
    """The flat name for a schema message's location (``("address", "lat")`` → ``lat``)."""
    f = _BY_PATH.get(path)
    if f is not None:
        return f.flat
    if len(path) == 2 and path[1] == "_schema":
        return _GROUP_MESSAGE_AT.get(path[0])
    return None


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return False, None
        value = value[key]
    return True, value
