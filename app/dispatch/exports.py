"""The board as CSV: one row per item, with every column of its pickup (cells made safe by core.spreadsheets)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.core.spreadsheets import write_csv
from app.pickups.models import Pickup

BOARD_COLUMNS = (
    "reference", "status", "customer_name", "phone", "email", "line1", "line2", "city", "postcode", "country",
    "lat", "lon", "window_start", "window_end", "hub_code", "driver_name", "driver_email", "route_position",
    "label_code", "notes", "access_notes", "cancel_reason", "failure_reason", "failure_notes",
    "item_position", "sku", "description", "quantity", "reason", "collected_quantity", "grade", "condition_notes",
)


def _local_iso(value: datetime | None, tz_name: str) -> str | None:
    return value.astimezone(ZoneInfo(tz_name)).isoformat() if value else None


def board_rows(pickups: Iterable[Pickup]) -> Iterable[list[Any]]:
    """One row per item, each with all its pickup's columns (a pickup without items gets one row)."""
    for pickup in pickups:
        tz = pickup.hub.timezone
        base = [
            pickup.reference, pickup.status.value, pickup.customer_name, pickup.customer_phone, pickup.customer_email,
            pickup.address_line1, pickup.address_line2, pickup.city, pickup.postcode, pickup.country,
            pickup.lat, pickup.lon, _local_iso(pickup.window_start, tz), _local_iso(pickup.window_end, tz),
            pickup.hub.code, pickup.driver.name if pickup.driver else None, pickup.driver.email if pickup.driver else None,
            pickup.route_position, pickup.label_code, pickup.notes, pickup.access_notes, pickup.cancel_reason,
            pickup.failure_reason.value if pickup.failure_reason else None, pickup.failure_notes,
        ]
        if not pickup.items:
            yield base + [None] * 8
        for item in pickup.items:
            yield base + [
                item.position + 1, item.sku, item.description, item.quantity, item.reason,
                item.collected_quantity, item.grade.value if item.grade else None, item.condition_notes,
            ]


def board_csv(pickups: Iterable[Pickup]) -> str:
    """The board as CSV: the pickups given, one row per item."""
    return write_csv(BOARD_COLUMNS, board_rows(pickups))
