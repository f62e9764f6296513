"""Reading an uploaded file: bytes → text (whatever Excel saved) → rows keyed by column.

Problems with the file as a whole (not a CSV, wrong columns, too many rows) are
an ``ImportRefused``; problems in a row are ``RowError``s, listed where a person
would look for them in their spreadsheet.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from app.core.errors import InvalidInput
from app.dispatch.imports.columns import ALIASES, ALL_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS

MAX_ROWS = 20_000
CP1252_WARNING = (
    "The file is not UTF-8, so it was read as Western-European (Windows-1252) text. Check that names with "
    "accents look right below; names in other scripts need the file saved as “CSV UTF-8”."
)


class ImportRefused(InvalidInput):
    """The file as a whole cannot be read (not a CSV, wrong columns, too many rows)."""

    code = "import_refused"


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


# --- reading the file -------------------------------------------------------------------------

def _cell_text(value: object) -> str:
    """A cell as the CSV would have it: dates as ISO local times, whole numbers without “.0”."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dt_time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def workbook_as_csv(raw: bytes) -> str:
    """The first sheet of an .xlsx workbook as CSV text, so it goes through the very same checks and preview."""
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportRefused(
            "This looks like an Excel workbook but could not be read. Save it again as .xlsx or as “CSV UTF-8”.",
            fields={"file": ["Unreadable workbook."]},
        ) from None
    try:
        sheet = workbook.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([_cell_text(value) for value in row])
    finally:
        workbook.close()
    text = out.getvalue()
    if not text.strip(", \r\n"):
        raise ImportRefused("The workbook's first sheet is empty.", fields={"file": ["Empty sheet."]})
    return text


def read_upload(raw: bytes) -> DecodedUpload:
    """The text of an uploaded CSV file (or the first sheet of an .xlsx), or ImportRefused saying why it is not one."""
    if not raw.strip():
        raise ImportRefused("The file is empty.", fields={"file": ["Empty file."]})
    if raw.startswith(b"PK\x03\x04"):
        return DecodedUpload(workbook_as_csv(raw), "xlsx")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(
            "This is an old Excel workbook (.xls). In Excel choose File → Save As → “Excel Workbook (.xlsx)” or “CSV UTF-8”.",
            fields={"file": ["Old .xls format."]},
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
    unknown = [raw.strip() for raw, col in zip(raw_header, columns, strict=True) if col and col not in ALL_COLUMNS]
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
