"""An .xlsx goes through the same checks and preview as the CSV it would be saved as."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from app.dispatch.imports import ImportRefused, parse_import, read_upload
from tests.dispatch.conftest import import_row, make_csv

# The messy rows of the CSV tests: a comma and a line break inside cells, non-Latin names, a zero
# quantity, an unreadable time, a pickup over two rows, a later row that leaves pickup cells empty.
MESSY = [
    import_row(description='Laptop, 14", with charger', line1="Keizersgracht 1\nback door"),
    import_row(reference="RMA-2", quantity="0", customer_name="王芳"),
    import_row(reference="RMA-3", window_start="tomorrow morning", customer_name="Ahmet Yılmaz"),
    import_row(reference="RMA-4", sku="A-1"),
    import_row(reference="RMA-4", sku="A-2", customer_name="", line1="", city="", postcode="", country="", window_start="", window_end=""),
]


def _workbook(rows: list[list[object]], sheets: int = 1) -> bytes:
    book = Workbook()
    book.active.title = "Returns"
    for row in rows:
        book.active.append(row)
    for n in range(1, sheets):
        book.create_sheet(f"Other {n}").append(["not", "imported"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_rows(text: str) -> list[list[object]]:
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _summary(preview):  # type: ignore[no-untyped-def]
    return ([(e.row, e.column, e.message) for e in preview.errors], preview.row_count, len(preview.pickups), preview.item_count)


def test_xlsx_with_the_messy_rows_gives_the_same_preview_as_the_csv(hub):  # type: ignore[no-untyped-def]
    text = make_csv(MESSY)
    decoded = read_upload(_workbook(_as_rows(text), sheets=2))
    assert decoded.encoding == "xlsx"
    assert _summary(parse_import(decoded.text, default_hub=hub)) == _summary(parse_import(text, default_hub=hub))
    assert parse_import(decoded.text, default_hub=hub).errors  # the bad rows are still caught


def test_typed_excel_cells_read_like_their_csv_text(hub):  # type: ignore[no-untyped-def]
    header = _as_rows(make_csv([import_row()]))[0]
    row = _as_rows(make_csv([import_row()]))[1]
    typed: list[object] = list(row)
    typed[header.index("window_start")] = datetime(2030, 3, 4, 9, 0)
    typed[header.index("window_end")] = datetime(2030, 3, 4, 11, 0)
    typed[header.index("quantity")] = 1.0
    preview = parse_import(read_upload(_workbook([header, typed])).text, default_hub=hub)
    assert preview.errors == [] and preview.item_count == 1
    assert preview.pickups[0].data["items"][0]["quantity"] == 1


@pytest.mark.parametrize(("raw", "message"), [
    (b"PK\x03\x04not really a zip", "could not be read"),
    (b"\xd0\xcf\x11\xe0old-excel", "old Excel workbook"),
])
def test_unreadable_or_old_workbooks_are_refused_with_advice(raw, message):  # type: ignore[no-untyped-def]
    with pytest.raises(ImportRefused, match=message):
        read_upload(raw)


def test_xlsx_upload_through_the_console_previews(console, hub):  # type: ignore[no-untyped-def]
    data = _workbook(_as_rows(make_csv([import_row(), import_row(reference="RMA-9")])))
    response = console.post("/dispatch/import", {"file": (io.BytesIO(data), "returns.xlsx")}, content_type="multipart/form-data")
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    page = console.get(response.location).get_data(as_text=True) if response.status_code == 303 else response.get_data(as_text=True)
    assert "RMA-9" in page
