"""CSV import of returns: read a spreadsheet, preview it row by row, then import it all or nothing.

A file goes through three steps:

1. ``read_upload`` turns the uploaded bytes into text (UTF-8 with or without a
   BOM; UTF-16 from Excel's "Unicode text"; Windows-1252 as a last resort, with
   a warning) and ``store_import`` keeps that text server-side.
2. ``parse_import`` checks every row and says, in plain words, what is wrong
   where: the row number as a spreadsheet shows it (the header is row 1), the
   column, and the problem. Rows sharing a reference become one pickup.
3. ``commit_import`` claims the stored upload exactly once, parses it again and
   creates every pickup in one go, or raises and creates none.

Pickups are validated by the same ``PickupInSchema`` as the JSON API. They are
created in bulk (a handful of statements for the whole file rather than
several per pickup), leaving exactly what ``pickups.services.create_pickup``
and ``assign_pickup`` leave one at a time: same fields, version, change
number, label code and timeline events (a test holds the two side by side).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import func, insert, select, update

from app.accounts.models import Role, User
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.models import utcnow
from app.dispatch.models import CsvImport
from app.extensions import db
from app.hubs.models import Hub
from app.labels.codes import new_label_code
from app.labels.services import issue_customer_tokens
from app.pickups.models import Pickup, PickupEvent, PickupItem, PickupStatus
from app.pickups.schemas import pickup_in_schema
from app.pickups.services import pickup_columns
from app.pickups.states import OPEN_STATUSES, check_transition
from app.sync.sequence import take_change_numbers

REQUIRED_COLUMNS = (
    "reference", "customer_name", "line1", "city", "postcode", "country",
    "window_start", "window_end", "sku", "description", "quantity",
)
OPTIONAL_COLUMNS = ("reason", "line2", "lat", "lon", "phone", "email", "notes", "driver_email", "hub_code")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Columns that describe the pickup; every row of one reference must agree on them.
PICKUP_COLUMNS = (
    "customer_name", "phone", "email", "line1", "line2", "city", "postcode", "country",
    "lat", "lon", "window_start", "window_end", "notes", "driver_email", "hub_code",
)
ITEM_COLUMNS = ("sku", "description", "quantity", "reason")
# Other names people give the same columns (matched after lower-casing and spaces → "_").
ALIASES = {
    "address_line1": "line1", "address_line_1": "line1", "address": "line1", "street": "line1",
    "address_line2": "line2", "address_line_2": "line2",
    "customer": "customer_name", "name": "customer_name",
    "customer_phone": "phone", "customer_email": "email",
    "latitude": "lat", "longitude": "lon", "lng": "lon",
    "qty": "quantity", "return_reason": "reason",
    "driver": "driver_email", "hub": "hub_code",
    "zip": "postcode", "postal_code": "postcode", "zip_code": "postcode",
}
TEMPLATE_EXAMPLE = [
    {
        "reference": "RMA-1001", "customer_name": "Zoë Ørsted", "line1": "Prinsengracht 263", "line2": "3-hoog",
        "city": "Amsterdam", "postcode": "1016 GV", "country": "NL", "window_start": "2025-03-03 09:00",
        "window_end": "2025-03-03 11:00", "sku": "PHN-IP13", "description": "iPhone 13, 128 GB", "quantity": "1",
        "reason": "Trade-in", "lat": "52.3752", "lon": "4.884", "phone": "+31 6 12345678",
        "email": "zoe@example.com", "notes": "Ring twice", "driver_email": "", "hub_code": "",
    },
    {
        "reference": "RMA-1001", "customer_name": "Zoë Ørsted", "line1": "Prinsengracht 263", "line2": "3-hoog",
        "city": "Amsterdam", "postcode": "1016 GV", "country": "NL", "window_start": "2025-03-03 09:00",
        "window_end": "2025-03-03 11:00", "sku": "CBL-USBC", "description": "USB-C cable", "quantity": "2",
        "reason": "", "lat": "52.3752", "lon": "4.884", "phone": "+31 6 12345678",
        "email": "zoe@example.com", "notes": "Ring twice", "driver_email": "", "hub_code": "",
    },
]

MAX_ROWS = 20_000
MAX_ERRORS = 1_000
_LOCAL_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_WHOLE_NUMBER = re.compile(r"^\d+$")
_TIME_HELP = "Use 2025-03-03 09:00 (hub local time) or 2025-03-03T09:00:00+01:00."
CP1252_WARNING = (
    "The file is not UTF-8, so it was read as Western-European (Windows-1252) text. Check that names with "
    "accents look right below; names in other scripts need the file saved as “CSV UTF-8”."
)
_CHUNK = 500  # values per IN (...) list: well under every database's parameter limit


class ImportRefused(InvalidInput):
    """The file as a whole cannot be read (not a CSV, wrong columns, too many rows)."""

    code = "import_refused"


class AlreadyImported(Conflict):
    code = "already_imported"


@dataclass(frozen=True)
class RowError:
    """One problem, where a person would look for it in their spreadsheet."""

    row: int | None  # 1 is the header; None for the file as a whole
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row is not None else "File"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass(frozen=True)
class DecodedUpload:
    text: str
    encoding: str
    warning: str | None = None


@dataclass
class CsvTable:
    delimiter: str
    columns: list[str]
    # (spreadsheet row number, cells by canonical column name), blank rows left out.
    records: list[tuple[int, dict[str, str]]]
    errors: list[RowError] = field(default_factory=list)


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


@dataclass(frozen=True)
class ImportResult:
    csv_import: CsvImport
    pickups: list[Pickup]
    item_count: int


# --- reading the file -------------------------------------------------------------------------

def read_upload(raw: bytes) -> DecodedUpload:
    """The text of an uploaded CSV file, or ImportRefused saying why it is not one."""
    if not raw.strip():
        raise ImportRefused("The file is empty.", fields={"file": ["Empty file."]})
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(
            "This is an Excel workbook, not a CSV file. In Excel choose File → Save As → “CSV UTF-8 (Comma delimited)”.",
            fields={"file": ["Not a CSV file."]},
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export.
        try:
            return DecodedUpload(raw.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            raise ImportRefused("The file says it is UTF-16 but is not.", fields={"file": ["Unreadable text."]}) from None
    if b"\x00" in raw:
        raise ImportRefused("The file contains binary data; it is not a CSV file.", fields={"file": ["Not a CSV file."]})
    try:
        return DecodedUpload(raw.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    # Excel's plain "CSV" on Windows writes the Western-European code page. Reading it
    # that way is a guess, so the preview says so and shows the names to check.
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportRefused(
            "The file's text encoding is not UTF-8. In Excel choose “CSV UTF-8 (Comma delimited)” when saving.",
            fields={"file": ["Unknown text encoding."]},
        ) from None
    return DecodedUpload(text, "windows-1252", CP1252_WARNING)


def _sniff_delimiter(text: str) -> str:
    # European Excel separates with ";" (the comma is its decimal mark); "Unicode text" uses tabs.
    # The header has no quoted fields in practice, so counting in its first line is enough.
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def canonical_column(name: str) -> str:
    """``"Address Line1 "`` → ``"line1"``: how a header cell is matched to a column."""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower().lstrip("\ufeff"))
    return ALIASES.get(key, key)


def read_table(text: str) -> CsvTable:
    """Split the text into rows by header column; header problems are raised as ImportRefused."""
    text = text.lstrip("\ufeff")
    delimiter = _sniff_delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise ImportRefused(
            f"The file is not valid CSV ({error}). Check for a quote (\") that is opened but never closed.",
            fields={"file": [str(error)]},
        ) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ImportRefused("The file has no header row. Start from the template.", fields={"file": ["No header."]})
    raw_header = rows[0]
    columns = [canonical_column(cell) for cell in raw_header]
    _check_header(raw_header, columns)
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRefused(
            f"The file has {len(rows) - 1:,} rows; import at most {MAX_ROWS:,} at a time.", fields={"file": ["Too many rows."]}
        )
    table = CsvTable(delimiter=delimiter, columns=columns, records=[])
    for index, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank line: spreadsheets keep them, we skip them (row numbers still count them)
        if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns):]):
            table.errors.append(RowError(
                index, None,
                f"has {len(cells)} values but the header has {len(columns)} columns. A value that contains "
                f"the separator “{_show_delimiter(delimiter)}” must be in double quotes.",
            ))
            continue
        unnamed = [i + 1 for i, col in enumerate(columns) if not col and i < len(cells) and cells[i].strip()]
        if unnamed:
            table.errors.append(RowError(index, None, f"has a value in column {unnamed[0]}, which has no name in the header."))
            continue
        table.records.append((index, {col: (cells[i] if i < len(cells) else "") for i, col in enumerate(columns) if col}))
    return table


def _show_delimiter(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else delimiter


def _check_header(raw_header: Sequence[str], columns: Sequence[str]) -> None:
    named = [c for c in columns if c]
    unknown = [raw.strip() for raw, col in zip(raw_header, columns) if col and col not in ALL_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in named]
    duplicates = sorted({c for c in named if named.count(c) > 1})
    problems: list[str] = []
    if missing:
        problems.append("Missing required column" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing) + ".")
    if unknown:
        problems.append(
            "Unknown column" + ("s" if len(unknown) > 1 else "") + ": " + ", ".join(f"“{u}”" for u in unknown)
            + ". Remove or rename " + ("them" if len(unknown) > 1 else "it") + "."
        )
    if duplicates:
        problems.append("Column" + ("s" if len(duplicates) > 1 else "") + " given twice: " + ", ".join(duplicates) + ".")
    if problems:
        expected = "Expected columns: " + ", ".join(REQUIRED_COLUMNS) + "; optional: " + ", ".join(OPTIONAL_COLUMNS) + "."
        raise ImportRefused(" ".join(problems) + " " + expected, fields={"header": problems})


def check_header(text: str) -> int:
    """Raise ImportRefused if the file cannot be imported at all; otherwise the number of data rows."""
    return len(read_table(text).records)


# --- checking rows ----------------------------------------------------------------------------

def parse_import(text: str, *, default_hub: Hub | None = None) -> ImportPreview:
    """Check every row of a CSV file and plan the pickups it would create; never writes."""
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

    lookups = _Lookups.load(groups.values(), default_hub)
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
    def load(cls, groups: Iterable[list[tuple[int, dict[str, str]]]], default_hub: Hub | None) -> _Lookups:
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
        for chunk in _chunks(references):
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

    payload = {
        "reference": reference,
        "customer": {"name": value["customer_name"], "phone": value["phone"] or None, "email": value["email"] or None},
        "address": {
            "line1": value["line1"], "line2": value["line2"] or None, "city": value["city"],
            "postcode": value["postcode"], "country": value["country"], "lat": lat, "lon": lon,
        },
        "window": {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None},
        "notes": value["notes"],
        "items": items,
        "hub_id": hub.id,
    }
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
    return {**item, "quantity": int(quantity) if _WHOLE_NUMBER.match(quantity) else quantity}


_GROUP_COLUMNS = {
    "customer": {"name": "customer_name", "phone": "phone", "email": "email"},
    "address": {"line1": "line1", "line2": "line2", "city": "city", "postcode": "postcode", "country": "country", "lat": "lat", "lon": "lon"},
    "window": {"start": "window_start", "end": "window_end", "_schema": "window_end"},
}


def _schema_errors(messages: Any, rows: list[tuple[int, dict[str, str]]], payload: dict[str, Any]) -> list[RowError]:
    """marshmallow's nested messages → rows and columns a person can find."""
    first_row = rows[0][0]
    found: list[RowError] = []

    def add(row: int, column: str | None, problems: Any, shown: Any) -> None:
        text = " ".join(_flatten(problems))
        prefix = f"“{shown}”: " if shown not in (None, "") else ""
        found.append(RowError(row, column, prefix + text))

    for key, problems in messages.items():
        if key in _GROUP_COLUMNS and isinstance(problems, dict):
            for sub, sub_problems in problems.items():
                column = _GROUP_COLUMNS[key].get(sub, _GROUP_COLUMNS[key].get("_schema"))
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


# --- storing and committing -------------------------------------------------------------------

def store_import(raw: bytes, *, filename: str, uploader: User, hub: Hub | None) -> CsvImport:
    """Keep an uploaded file for its preview and commit; refuse it if it cannot be imported at all."""
    decoded = read_upload(raw)
    row_count = check_header(decoded.text)
    # Uploads that were previewed and abandoned are not worth keeping for long.
    cutoff = utcnow() - timedelta(days=1)
    db.session.execute(
        CsvImport.__table__.delete().where(
            CsvImport.uploaded_by_id == uploader.id, CsvImport.committed_at.is_(None), CsvImport.created_at < cutoff
        )
    )
    csv_import = CsvImport(
        uploaded_by_id=uploader.id,
        hub_id=hub.id if hub else None,
        filename=(filename or "upload.csv")[-255:],
        encoding=decoded.encoding,
        text=decoded.text,
        row_count=row_count,
    )
    db.session.add(csv_import)
    db.session.flush()
    return csv_import


def get_import(import_id: int, *, viewer: User) -> CsvImport:
    """An upload, to the person who uploaded it."""
    csv_import = db.session.get(CsvImport, import_id)
    if csv_import is None or csv_import.uploaded_by_id != viewer.id:
        raise NotFound("There is no such upload. Upload the file again.")
    return csv_import


def preview_import(csv_import: CsvImport) -> ImportPreview:
    """The preview of a stored upload, with the encoding warning when its encoding was guessed."""
    preview = parse_import(csv_import.text, default_hub=csv_import.hub)
    if csv_import.encoding == "windows-1252":
        preview.warnings.append(CP1252_WARNING)
    return preview


def commit_import(import_id: int, *, actor: User) -> ImportResult:
    """Create every pickup of a stored upload, or none; a second commit of the same upload is refused."""
    csv_import = get_import(import_id, viewer=actor)
    # Claim the upload with one conditional UPDATE before anything else: of two
    # simultaneous commits (a double-click) exactly one sees a row change.
    claimed = db.session.execute(
        update(CsvImport)
        .where(CsvImport.id == import_id, CsvImport.committed_at.is_(None))
        .values(committed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(csv_import)
    if claimed != 1:
        raise AlreadyImported(
            f"This file was already imported ({csv_import.pickup_count or 0} pickups). Nothing was imported again.",
        )
    preview = parse_import(csv_import.text, default_hub=csv_import.hub)
    if not preview.ok:
        first = "; ".join(str(e) for e in preview.errors[:3])
        raise InvalidInput(
            f"The file has {preview.error_count} problem(s), so nothing was imported: {first}",
            fields={"rows": [str(e) for e in preview.errors]},
        )
    pickups = create_imported_pickups(preview.pickups, actor=actor, import_id=csv_import.id)
    csv_import.pickup_count = len(pickups)
    return ImportResult(csv_import, pickups, preview.item_count)


def import_csv(raw: bytes, *, filename: str, actor: User, hub: Hub | None) -> ImportResult:
    """Store and commit in one step (the JSON API): all or nothing, like the console."""
    csv_import = store_import(raw, filename=filename, uploader=actor, hub=hub)
    return commit_import(csv_import.id, actor=actor)


def create_imported_pickups(planned: Sequence[PlannedPickup], *, actor: User | None, import_id: int | None) -> list[Pickup]:
    """Create checked pickups in bulk: a few statements for the whole file, not several per pickup.

    Pickups are inserted through the ORM (their ids are needed); their items and
    timeline events, thousands of rows that nothing reads back in this request,
    go in as one multi-row insert each.
    """
    codes = _fresh_label_codes(len(planned))
    change_numbers = iter(take_change_numbers(len(planned)))
    next_position = _next_route_positions({p.driver.id for p in planned if p.driver})
    pickups: list[Pickup] = []
    for plan, code in zip(planned, codes):
        data = plan.data
        pickup = Pickup(
            **pickup_columns(data),
            status=PickupStatus.UNASSIGNED,
            hub=plan.hub,
            access_notes="",
            label_code=code,
            version=1,
            change_seq=next(change_numbers),
        )
        if plan.driver is not None:
            # Created, then assigned at the end of the driver's route: what
            # create_pickup + assign_pickup leave behind (version 2).
            check_transition(PickupStatus.UNASSIGNED, PickupStatus.ASSIGNED)
            pickup.status = PickupStatus.ASSIGNED
            pickup.driver_id = plan.driver.id
            pickup.route_position = next_position[plan.driver.id]
            next_position[plan.driver.id] += 1
            pickup.version = 2
        pickups.append(pickup)
    db.session.add_all(pickups)
    db.session.flush()

    items: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    now = utcnow()
    for plan, pickup in zip(planned, pickups):
        items.extend(
            {"pickup_id": pickup.id, "position": i, "sku": item["sku"], "description": item["description"],
             "quantity": item["quantity"], "reason": item["reason"] or ""}
            for i, item in enumerate(plan.data["items"])
        )
        rows = _describe_rows(plan.rows)
        events.append(_event_row(
            pickup, "imported", actor, now, to_status=PickupStatus.UNASSIGNED,
            message=f"Pickup {pickup.reference} imported from {rows}" + (f" of upload #{import_id}." if import_id else "."),
            data={"import_id": import_id, "rows": plan.rows},
        ))
        if plan.driver is not None:
            events.append(_event_row(
                pickup, "assigned", actor, now, from_status=PickupStatus.UNASSIGNED, to_status=PickupStatus.ASSIGNED,
                message=f"Assigned to {plan.driver.name}.", data={"driver_id": plan.driver.id, "previous_driver_id": None},
            ))
    if items:
        db.session.execute(insert(PickupItem.__table__), items)
    if events:
        db.session.execute(insert(PickupEvent.__table__), events)
    issue_customer_tokens([pickup.id for pickup in pickups])
    return pickups


def _event_row(
    pickup: Pickup, kind: str, actor: User | None, now: datetime, *, message: str, data: dict[str, Any],
    from_status: PickupStatus | None = None, to_status: PickupStatus | None = None,
) -> dict[str, Any]:
    """One timeline entry as ``record_event`` would write it (no device evidence: this is the office)."""
    return {
        "pickup_id": pickup.id, "kind": kind, "actor_id": actor.id if actor else None, "server_time": now,
        "from_status": from_status.value if from_status else None, "to_status": to_status.value if to_status else None,
        "message": message, "data": data, "needs_review": False, "device_time": None, "clock_skew_seconds": None,
        "lat": None, "lon": None, "accuracy_m": None, "client_id": None, "mutation_id": None,
    }


def _describe_rows(rows: Sequence[int]) -> str:
    if len(rows) == 1:
        return f"row {rows[0]}"
    if list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return f"rows {rows[0]}–{rows[-1]}"
    return "rows " + ", ".join(map(str, rows))


def _fresh_label_codes(count: int) -> list[str]:
    """``count`` label codes, distinct from each other and from every existing pickup's."""
    codes: set[str] = set()
    while len(codes) < count:
        candidates = {new_label_code() for _ in range(count - len(codes))} - codes
        taken: set[str] = set()
        for chunk in _chunks(sorted(candidates)):
            taken.update(db.session.scalars(select(Pickup.label_code).where(Pickup.label_code.in_(chunk))))
        codes |= candidates - taken
    return list(codes)


def _next_route_positions(driver_ids: set[int]) -> dict[int, int]:
    """Each driver's next free route position, as ``assign_pickup`` would pick it."""
    if not driver_ids:
        return {}
    last = dict(
        db.session.execute(
            select(Pickup.driver_id, func.max(Pickup.route_position))
            .where(Pickup.driver_id.in_(driver_ids), Pickup.status.in_(OPEN_STATUSES))
            .group_by(Pickup.driver_id)
        ).all()
    )
    return {driver_id: (last.get(driver_id) or 0) + 1 for driver_id in driver_ids}


def template_csv() -> str:
    """The header and two example rows: one pickup with two items."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ALL_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(TEMPLATE_EXAMPLE)
    return "\ufeff" + out.getvalue()
