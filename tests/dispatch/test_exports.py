"""CSV export: one row per item, all pickup columns, and no spreadsheet formulas run."""
from __future__ import annotations

import csv
import io

import pytest

from app.core.spreadsheets import safe_cell, write_csv
from app.dispatch.exports import BOARD_COLUMNS, board_csv


@pytest.mark.parametrize("value", ["=1+1", "+31 6 1234", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "=HYPERLINK(\"http://x\",\"y\")"])
def test_text_that_a_spreadsheet_would_run_is_escaped(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    ("value", "safe"),
    [("x;=1+1", "x;'=1+1"), ("a,+1", "a,'+1"), ("a; @SUM(A1)", "a; '@SUM(A1)"), ("=1;=2", "'=1;'=2"), ("tab\t-1", "tab\t'-1"), ("a;b", "a;b")],
)
def test_a_formula_after_a_separator_another_spreadsheet_splits_on_is_escaped_too(value, safe):
    assert safe_cell(value) == safe


@pytest.mark.parametrize("value", ["Zoë Ørsted", "王芳", "RMA-1", "", " =not first", -4.88, 3, None])
def test_other_values_are_left_alone(value):
    assert safe_cell(value) == value


def test_written_csv_has_a_bom_and_escapes_every_cell():
    text = write_csv(["name", "lon"], [["=cmd|' /C calc'!A0", -4.88], ["Ahmet Yılmaz", 4.9]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["name", "lon"], ["'=cmd|' /C calc'!A0", "-4.88"], ["Ahmet Yılmaz", "4.9"]]


def test_board_csv_has_one_row_per_item_with_all_pickup_columns(create_pickup, driver, db):
    pickup = create_pickup(driver=driver, customer={"name": "=HYPERLINK(\"http://evil\")", "phone": None, "email": None}, notes="@attack")
    text = board_csv([pickup])
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0].keys()) == list(BOARD_COLUMNS)
    assert [r["sku"] for r in rows] == ["PHN-IP13", "CBL-USB"]
    assert all(r["reference"] == pickup.reference and r["driver_name"] == "Driss Driver" for r in rows)
    assert rows[0]["customer_name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["notes"] == "'@attack"
    # Local time with its offset, so the export reads back unambiguously.
    assert rows[0]["window_start"].endswith(("+01:00", "+02:00"))
