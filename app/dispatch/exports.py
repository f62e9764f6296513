"""CSV files the console hands out: the board, reports, the import template.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and customer names and notes come from outside. ``safe_cell`` turns
such text into plain text with a leading apostrophe (OWASP's advice), so a
"name" like ``=HYPERLINK(...)`` is shown, never run.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.pickups.models import Pickup

# Tab and carriage return too: some spreadsheets strip them and then see the formula behind.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

BOARD_COLUMNS = (
    "reference", "status", "customer_name", "phone", "email", "line1", "line2", "city", "postcode", "country",
    "lat", "lon", "window_start", "window_end", "hub_code", "driver_name", "driver_email", "route_position",
    "label_code", "notes", "access_notes", "cancel_reason", "failure_reason", "failure_notes",
    "item_position", "sku", "description", "quantity", "reason", "collected_quantity", "grade", "condition_notes",
)


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show, not run: text starting like a formula gets a leading apostrophe.

    Numbers stay numbers: ``-4.88`` stored as a float cannot be a formula, and
    escaping it would break sums and maps.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with a UTF-8 BOM (so Excel reads non-Latin names right) and every cell made safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else safe_cell(value) for value in row])
    return out.getvalue()


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
