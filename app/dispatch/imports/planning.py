"""Planning: every row checked, rows of one reference grouped into one pickup, nothing written.

Pickups are validated by the same ``PickupInSchema`` as the JSON API, and the
schema's messages are put back on the row and column a person can find.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.dispatch.imports.columns import ALL_COLUMNS, ITEM_COLUMNS, ITEM_NUMBERS, PICKUP_COLUMNS
from app.dispatch.imports.reading import ImportRefused, RowError, read_table
from app.extensions import db
from app.hubs.models import Hub
from app.pickups.fields import GROUPS, flat_name, nested
from app.pickups.models import Pickup
from app.pickups.schemas import pickup_in_schema

MAX_ERRORS = 1_000
_LOCAL_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_WHOLE_NUMBER = re.compile(r"^\d+$")
_TIME_HELP = "Use 2025-03-03 09:00 (hub local time) or 2025-03-03T09:00:00+01:00."
_CHUNK = 500  # values per IN (...) list: well under every database's parameter limit


@dataclass
class PlannedPickup:
    """One pickup the import will create, from one or more rows."""

    reference: str
    rows: list[int]
    data: dict[str, Any]  # as PickupInSchema loads it
    hub: Hub
    driver: User | None

    @property
    def item_count(self) -> int:
        return len(self.data["items"])


@dataclass
class ImportPreview:
    delimiter: str = ","
    row_count: int = 0
    pickups: list[PlannedPickup] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    more_errors: int = 0  # errors beyond MAX_ERRORS that are counted, not listed

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.pickups)

    @property
    def item_count(self) -> int:
        return sum(p.item_count for p in self.pickups)

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.more_errors


# --- checking rows ----------------------------------------------------------------------------

def parse_import(text: str, *, default_hub: Hub | None = None, check_references: bool = True) -> ImportPreview:
    """Check every row of a CSV file and plan the pickups it would create; never writes.

    ``check_references=False``: references already in use are not errors (a background job
    resuming its own file; ``create_pickups`` still refuses a reference that is taken).
    """
    preview = ImportPreview()
    try:
        table = read_table(text)
    except ImportRefused as refusal:
        preview.errors.append(RowError(1 if "header" in refusal.fields else None, None, refusal.message))
        return preview
    preview.delimiter = table.delimiter
    preview.row_count = len(table.records) + len(table.errors)
    errors: list[RowError] = list(table.errors)

    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for row, cells in table.records:
        reference = cells["reference"].strip()
        if not reference:
            errors.append(RowError(row, "reference", "is empty. Every row needs the reference (e.g. the RMA number) of its pickup."))
            continue
        groups.setdefault(reference, []).append((row, cells))
    if not groups and not errors:
        errors.append(RowError(None, None, "The file has a header but no rows to import."))

    lookups = _Lookups.load(groups.values(), default_hub, check_references)
    for reference, rows in groups.items():
        planned = _plan_pickup(reference, rows, lookups, errors)
        if planned is not None:
            preview.pickups.append(planned)

    errors.sort(key=lambda e: (e.row or 0, ALL_COLUMNS.index(e.column) if e.column in ALL_COLUMNS else -1))
    preview.errors = errors[:MAX_ERRORS]
    preview.more_errors = max(0, len(errors) - MAX_ERRORS)
    if preview.errors:
        preview.pickups = []  # all or nothing: nothing is planned while anything is wrong
    return preview


@dataclass
class _Lookups:
    """Everything the rows refer to, fetched with one query per kind, not one per row."""

    default_hub: Hub | None
    several_hubs: bool
    hubs: dict[str, Hub]
    users: dict[str, User]
    taken_references: dict[str, int]

    @classmethod
    def load(cls, groups: Iterable[list[tuple[int, dict[str, str]]]], default_hub: Hub | None, check_references: bool = True) -> _Lookups:
        groups = list(groups)
        hubs = {hub.code.upper(): hub for hub in db.session.scalars(select(Hub))}
        if default_hub is None and len(hubs) == 1:
            default_hub = next(iter(hubs.values()))
        emails = {cells.get("driver_email", "").strip().lower() for rows in groups for _, cells in rows} - {""}
        references = [rows[0][1]["reference"].strip() for rows in groups]
        users: dict[str, User] = {}
        for chunk in _chunks(sorted(emails)):
            users.update({u.email.lower(): u for u in db.session.scalars(select(User).where(func.lower(User.email).in_(chunk)))})
        taken: dict[str, int] = {}
        for chunk in _chunks(references if check_references else []):
            taken.update(db.session.execute(select(Pickup.reference, Pickup.id).where(Pickup.reference.in_(chunk))).all())
        return cls(default_hub, len(hubs) > 1, hubs, users, taken)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _plan_pickup(
    reference: str, rows: list[tuple[int, dict[str, str]]], lookups: _Lookups, errors: list[RowError]
) -> PlannedPickup | None:
    before = len(errors)
    first_row, first = rows[0]
    value = {col: first.get(col, "").strip() for col in PICKUP_COLUMNS}

    if reference in lookups.taken_references:
        errors.append(RowError(
            first_row, "reference",
            f"“{reference}” is already used by pickup #{lookups.taken_references[reference]}. Each reference can be imported once.",
        ))
    for row, cells in rows[1:]:
        for col in PICKUP_COLUMNS:
            mine = cells.get(col, "").strip()
            # Later rows may leave pickup columns empty ("same as above"), as order exports often do.
            if mine and mine != value[col]:
                errors.append(RowError(
                    row, col,
                    f"“{mine}” differs from row {first_row} (“{value[col]}”). Rows with reference {reference} are one "
                    f"pickup, so they must agree on {col}.",
                ))
    for col in ("customer_name", "line1", "city", "postcode", "country", "window_start", "window_end"):
        if not value[col]:
            errors.append(RowError(first_row, col, "is empty."))

    hub = _row_hub(value["hub_code"], lookups, first_row, errors)
    driver = _row_driver(value["driver_email"], lookups, first_row, errors)
    tz = ZoneInfo(hub.timezone) if hub else timezone.utc
    start = _parse_time(value["window_start"], tz, first_row, "window_start", errors)
    end = _parse_time(value["window_end"], tz, first_row, "window_end", errors)
    lat = _parse_coordinate(value["lat"], first_row, "lat", errors)
    lon = _parse_coordinate(value["lon"], first_row, "lon", errors)

    items: list[dict[str, Any]] = []
    for row, cells in rows:
        items.append(_item(cells, row, errors))
    if len(errors) > before or hub is None:
        return None

    checked: dict[str, Any] = {
        **{col: value[col] for col in PICKUP_COLUMNS if col not in ("driver_email", "hub_code")},
        "lat": lat,
        "lon": lon,
        "window_start": start.isoformat() if start else None,
        "window_end": end.isoformat() if end else None,
    }
    payload = {**nested(checked), "reference": reference, "items": items, "hub_id": hub.id}
    try:
        data = pickup_in_schema.load(payload)
    except ValidationError as error:
        errors.extend(_schema_errors(error.messages, rows, payload))
        return None
    return PlannedPickup(reference=reference, rows=[row for row, _ in rows], data=data, hub=hub, driver=driver)


def _row_hub(code: str, lookups: _Lookups, row: int, errors: list[RowError]) -> Hub | None:
    if code:
        hub = lookups.hubs.get(code.upper())
        if hub is None:
            known = ", ".join(sorted(lookups.hubs)) or "none yet"
            errors.append(RowError(row, "hub_code", f"There is no hub with code “{code}” (hubs: {known})."))
        return hub
    if lookups.default_hub is None:
        errors.append(RowError(row, "hub_code", "is empty and no hub was chosen for the import. Choose a hub or fill in hub_code."))
    return lookups.default_hub


def _row_driver(email: str, lookups: _Lookups, row: int, errors: list[RowError]) -> User | None:
    if not email:
        return None
    user = lookups.users.get(email.lower())
    if user is None:
        errors.append(RowError(row, "driver_email", f"There is no user with email “{email}”."))
    elif user.role is not Role.DRIVER:
        errors.append(RowError(row, "driver_email", f"{user.name} ({email}) is not a driver."))
    elif not user.active:
        errors.append(RowError(row, "driver_email", f"{user.name}'s account ({email}) is deactivated."))
    else:
        return user
    return None


def parse_local_time(text: str, tz: ZoneInfo | timezone) -> datetime:
    """``2025-03-03 09:00`` in the hub's timezone, or ISO 8601 with an offset; ValueError otherwise."""
    match = _LOCAL_TIME.match(text)
    if match:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        naive = datetime(year, month, day, hour, minute, second)
    else:
        parsed = datetime.fromisoformat(text)  # ValueError for anything else
        if parsed.tzinfo is not None:
            return parsed
        naive = parsed
    local = naive.replace(tzinfo=tz)
    # A local time skipped when the clocks go forward does not survive the round trip.
    if local.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError("skipped")
    return local


def _parse_time(text: str, tz: ZoneInfo | timezone, row: int, column: str, errors: list[RowError]) -> datetime | None:
    if not text:
        return None
    try:
        return parse_local_time(text, tz)
    except ValueError as error:
        if str(error) == "skipped":
            errors.append(RowError(row, column, f"“{text}” does not exist in {tz}: the clocks jump forward over it."))
        else:
            errors.append(RowError(row, column, f"“{text}” is not a date and time. {_TIME_HELP}"))
        return None


def _parse_coordinate(text: str, row: int, column: str, errors: list[RowError]) -> float | None:
    if not text:
        return None
    if _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")  # European spreadsheets write 52,3752
    try:
        return float(text)
    except ValueError:
        errors.append(RowError(row, column, f"“{text}” is not a number. Use decimal degrees such as 52.3752."))
        return None


def _item(cells: dict[str, str], row: int, errors: list[RowError]) -> dict[str, Any]:
    item = {col: cells.get(col, "").strip() for col in ITEM_COLUMNS}
    for col in ("sku", "description"):
        if not item[col]:
            errors.append(RowError(row, col, "is empty."))
    quantity = item["quantity"]
    if not quantity:
        errors.append(RowError(row, "quantity", "is empty."))
    elif not _WHOLE_NUMBER.match(quantity) or int(quantity) < 1:
        errors.append(RowError(row, "quantity", f"“{quantity}” is not a whole number of 1 or more."))
    for col in ITEM_NUMBERS:
        if not item[col]:
            del item[col]  # unknown value or weight: the schema's default (null)
        elif _DECIMAL_COMMA.match(item[col]):
            item[col] = item[col].replace(",", ".")  # European spreadsheets write 12,50
    return {**item, "quantity": int(quantity) if _WHOLE_NUMBER.match(quantity) else quantity}


def _schema_errors(messages: Any, rows: list[tuple[int, dict[str, str]]], payload: dict[str, Any]) -> list[RowError]:
    """marshmallow's nested messages → rows and columns a person can find."""
    first_row = rows[0][0]
    found: list[RowError] = []

    def add(row: int, column: str | None, problems: Any, shown: Any) -> None:
        text = " ".join(_flatten(problems))
        prefix = f"“{shown}”: " if shown not in (None, "") else ""
        found.append(RowError(row, column, prefix + text))

    for key, problems in messages.items():
        if key in GROUPS and isinstance(problems, dict):
            for sub, sub_problems in problems.items():
                column = flat_name((key, sub))
                add(first_row, column, sub_problems, rows[0][1].get(column or "", "").strip())
        elif key == "items" and isinstance(problems, dict):
            for index, item_problems in problems.items():
                if isinstance(index, int) and isinstance(item_problems, dict):
                    row, cells = rows[index]
                    for column, column_problems in item_problems.items():
                        add(row, column, column_problems, cells.get(column, "").strip())
                else:
                    add(first_row, "sku", item_problems, None)
        elif key == "items":
            add(first_row, "sku", problems, None)
        else:
            add(first_row, key if key in ALL_COLUMNS else None, problems, payload.get(key) if isinstance(payload.get(key), str) else None)
    return found


def _flatten(problems: Any) -> list[str]:
    if isinstance(problems, str):
        return [problems]
    if isinstance(problems, dict):
        return [text for value in problems.values() for text in _flatten(value)]
    return [text for value in problems for text in _flatten(value)]
