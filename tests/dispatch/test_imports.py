"""CSV import rules without HTTP: reading, checking row by row, committing all or nothing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.core.errors import InvalidInput
from app.dispatch import imports
from app.dispatch.imports import AlreadyImported, ImportRefused, parse_import, read_upload
from app.labels.codes import is_valid_label_code
from app.pickups.models import Pickup, PickupStatus
from tests.dispatch.conftest import import_row, make_csv


def pickup_count(db) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(Pickup)) or 0


def problems(preview) -> list[tuple[int | None, str | None]]:  # type: ignore[no-untyped-def]
    return [(e.row, e.column) for e in preview.errors]


# --- reading the file ----------------------------------------------------------------------------

def test_utf8_bom_is_not_part_of_the_first_column_name(hub):
    raw = make_csv([import_row()], bom=True).encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    decoded = read_upload(raw)
    preview = parse_import(decoded.text, default_hub=hub)
    assert preview.errors == []
    assert [p.reference for p in preview.pickups] == ["RMA-1"]


def test_quoted_commas_and_line_breaks_stay_inside_their_field(hub):
    text = make_csv([
        import_row(description="Laptop, 14\", with charger", line1="Keizersgracht 1\nback door"),
        import_row(reference="RMA-2", quantity="0"),
    ])
    preview = parse_import(text, default_hub=hub)
    # The first record spans two lines of the file but is one spreadsheet row (row 2), so the
    # bad quantity is reported on row 3, as Excel would show it.
    assert problems(preview) == [(3, "quantity")]
    fixed = parse_import(text.replace(",0\r\n", ",1\r\n"), default_hub=hub)
    assert fixed.errors == []
    first = fixed.pickups[0].data
    assert first["items"][0]["description"] == 'Laptop, 14", with charger'
    assert first["address"]["line1"] == "Keizersgracht 1\nback door"


def test_non_latin_names_survive_the_whole_import(hub, dispatcher, db):
    names = ["Zoë Ørsted", "王芳", "Ahmet Yılmaz", "Ιωάννης Παπαδόπουλος"]
    text = make_csv([import_row(reference=f"RMA-{n}", customer_name=name) for n, name in enumerate(names)], bom=True)
    csv_import = imports.store_import(text.encode("utf-8"), filename="returns.csv", uploader=dispatcher, hub=hub)
    imports.commit_import(csv_import.id, actor=dispatcher)
    db.session.commit()
    stored = db.session.scalars(select(Pickup.customer_name).order_by(Pickup.reference)).all()
    assert stored == names


def test_semicolon_files_from_european_excel_are_sniffed_with_decimal_commas(hub):
    text = make_csv([import_row(lat="52,3752", lon="4,884")], delimiter=";")
    preview = parse_import(text, default_hub=hub)
    assert preview.delimiter == ";"
    assert preview.errors == []
    assert preview.pickups[0].data["address"]["lat"] == pytest.approx(52.3752)


def test_windows_1252_files_are_read_with_a_warning_and_excel_workbooks_refused():
    decoded = read_upload(make_csv([import_row(customer_name="Zoë Müller")]).encode("cp1252"))
    assert decoded.encoding == "windows-1252" and "Zoë Müller" in decoded.text
    assert decoded.warning and "UTF-8" in decoded.warning
    with pytest.raises(ImportRefused, match="Excel workbook"):
        read_upload(b"PK\x03\x04rest-of-a-zip")
    with pytest.raises(ImportRefused, match="empty"):
        read_upload(b"  \r\n")
    assert "王芳" in read_upload(make_csv([import_row(customer_name="王芳")]).encode("utf-16")).text


def test_missing_and_unknown_columns_are_refused_naming_them(hub):
    row = import_row(colour="red")
    del row["quantity"]
    text = make_csv([row], columns=[*row.keys()])
    with pytest.raises(ImportRefused) as refused:
        imports.check_header(text)
    message = refused.value.message
    assert "Missing required column: quantity" in message
    assert "Unknown column: “colour”" in message
    preview = parse_import(text, default_hub=hub)
    assert preview.pickups == [] and len(preview.errors) == 1 and preview.errors[0].row == 1


def test_header_names_are_matched_loosely(hub):
    text = make_csv([import_row()]).replace("line1", "Address Line1", 1).replace("customer_name", "Customer Name", 1)
    assert parse_import(text, default_hub=hub).errors == []


def test_an_unclosed_quote_is_explained():
    with pytest.raises(ImportRefused, match="quote"):
        imports.check_header(make_csv([import_row()]) + 'RMA-9,"unclosed\n')


# --- checking rows -------------------------------------------------------------------------------

def test_rows_sharing_a_reference_become_one_pickup_with_several_items(hub):
    text = make_csv([
        import_row(sku="A", quantity="1"),
        import_row(reference="RMA-2", sku="C"),
        import_row(sku="B", quantity="3"),
    ])
    preview = parse_import(text, default_hub=hub)
    assert preview.ok
    by_reference = {p.reference: p for p in preview.pickups}
    assert [(i["sku"], i["quantity"]) for i in by_reference["RMA-1"].data["items"]] == [("A", 1), ("B", 3)]
    assert by_reference["RMA-1"].rows == [2, 4]
    assert (len(preview.pickups), preview.item_count, preview.row_count) == (2, 3, 3)


def test_rows_of_one_reference_that_disagree_on_pickup_columns_name_both_rows(hub):
    text = make_csv([import_row(city="Amsterdam"), import_row(reference="RMA-2"), import_row(city="Utrecht", sku="B")])
    preview = parse_import(text, default_hub=hub)
    assert problems(preview) == [(4, "city")]
    message = preview.errors[0].message
    assert "row 2" in message and "Utrecht" in message and "Amsterdam" in message and "RMA-1" in message
    assert preview.pickups == []  # nothing is planned while any row is wrong


def test_later_rows_of_a_pickup_may_leave_pickup_columns_empty(hub):
    text = make_csv([import_row(phone="+31 6 1234 5678"), import_row(sku="B", customer_name="", phone="", city="")])
    preview = parse_import(text, default_hub=hub)
    assert preview.errors == []
    assert preview.pickups[0].data["customer"]["phone"] == "+31 6 1234 5678"
    first_empty = make_csv([import_row(phone=""), import_row(sku="B", phone="+31 6 1234 5678")])
    assert problems(parse_import(first_empty, default_hub=hub)) == [(3, "phone")]


@pytest.mark.parametrize("value", ["03/04/2030 09:00", "2030-02-30 09:00", "tomorrow", "2030-03-04 25:00"])
def test_unreadable_times_are_reported_with_the_expected_format(hub, value):
    preview = parse_import(make_csv([import_row(window_start=value)]), default_hub=hub)
    assert problems(preview) == [(2, "window_start")]
    assert "2025-03-03 09:00" in preview.errors[0].message


def test_local_times_are_the_hubs_and_offsets_are_respected(hub):
    text = make_csv([
        import_row(window_start="2030-03-04 09:00", window_end="2030-03-04 11:00"),
        import_row(reference="RMA-2", window_start="2030-07-01T09:00:00+02:00", window_end="2030-07-01T10:00:00Z"),
    ])
    winter, summer = parse_import(text, default_hub=hub).pickups
    assert winter.data["window"]["start"] == datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # Amsterdam is UTC+1 in March
    assert summer.data["window"]["start"] == datetime(2030, 7, 1, 7, 0, tzinfo=timezone.utc)
    assert summer.data["window"]["end"] == datetime(2030, 7, 1, 10, 0, tzinfo=timezone.utc)


def test_a_local_time_the_clocks_skip_is_refused(hub):
    preview = parse_import(make_csv([import_row(window_start="2030-03-31 02:30", window_end="2030-03-31 04:00")]), default_hub=hub)
    assert problems(preview) == [(2, "window_start")]
    assert "does not exist" in preview.errors[0].message


def test_window_ending_before_it_starts_is_reported_on_window_end(hub):
    preview = parse_import(make_csv([import_row(window_end="2030-03-04 08:00")]), default_hub=hub)
    assert problems(preview) == [(2, "window_end")]


@pytest.mark.parametrize("quantity", ["0", "-2", "1.5", "two", ""])
def test_quantity_must_be_a_whole_number_of_one_or_more(hub, quantity):
    preview = parse_import(make_csv([import_row(quantity=quantity)]), default_hub=hub)
    assert problems(preview) == [(2, "quantity")]
    assert not preview.ok


def test_schema_rules_apply_to_each_row_in_plain_words(hub):
    text = make_csv([import_row(email="not-an-email", country="Netherlands"), import_row(reference="RMA-2", lat="52.1")])
    preview = parse_import(text, default_hub=hub)
    assert problems(preview) == [(2, "country"), (2, "email"), (3, "lat")]
    assert "“not-an-email”" in str(preview.errors[1])
    assert str(preview.errors[0]).startswith("Row 2, country: ")


def test_empty_required_cells_and_references_are_named(hub):
    preview = parse_import(make_csv([import_row(customer_name=" "), import_row(reference="", sku="X")]), default_hub=hub)
    assert problems(preview) == [(2, "customer_name"), (3, "reference")]


def test_driver_email_assigns_and_unknown_or_non_driver_emails_are_errors(hub, driver, dispatcher):
    text = make_csv([
        import_row(driver_email=driver.email.upper()),
        import_row(reference="RMA-2", driver_email="nobody@example.test"),
        import_row(reference="RMA-3", driver_email=dispatcher.email),
    ])
    preview = parse_import(text, default_hub=hub)
    assert problems(preview) == [(3, "driver_email"), (4, "driver_email")]
    assert "is not a driver" in preview.errors[1].message
    assert parse_import(make_csv([import_row(driver_email=driver.email)]), default_hub=hub).pickups[0].driver.id == driver.id


def test_unknown_hub_code_and_existing_reference_are_errors(hub, create_pickup):
    existing = create_pickup(reference="RMA-OLD")
    text = make_csv([import_row(hub_code="XYZ"), import_row(reference="RMA-OLD", hub_code="tst")])
    preview = parse_import(text, default_hub=None)
    assert problems(preview) == [(2, "hub_code"), (3, "reference")]
    assert f"#{existing.id}" in preview.errors[1].message


def test_too_many_cells_in_a_row_is_explained(hub):
    text = make_csv([import_row()]) + "RMA-2,A,B,C,D,E,F,G,H,I,J,K,L\r\n"
    preview = parse_import(text, default_hub=hub)
    assert problems(preview) == [(3, None)]
    assert "double quotes" in preview.errors[0].message


def test_blank_lines_are_skipped_but_still_counted_as_rows(hub):
    text = make_csv([import_row()]) + "\r\n,,,,\r\n" + make_csv([import_row(reference="RMA-2", quantity="0")]).split("\r\n", 1)[1]
    preview = parse_import(text, default_hub=hub)
    assert problems(preview) == [(5, "quantity")]


def test_the_downloadable_template_imports_cleanly(hub):
    preview = parse_import(imports.template_csv(), default_hub=hub)
    assert preview.ok and len(preview.pickups) == 1 and preview.item_count == 2


# --- committing ----------------------------------------------------------------------------------

def test_commit_creates_pickups_like_create_pickup_would(hub, dispatcher, driver, create_pickup, db):
    # The driver already has stop 1 that day (positions belong to the driver's day).
    before = create_pickup(driver=driver, window={"start": "2030-03-04T08:00:00+01:00", "end": "2030-03-04T09:00:00+01:00"})
    text = make_csv([import_row(driver_email=driver.email), import_row(sku="B"), import_row(reference="RMA-2")])
    csv_import = imports.store_import(text.encode(), filename="r.csv", uploader=dispatcher, hub=hub)
    result = imports.commit_import(csv_import.id, actor=dispatcher)
    db.session.commit()
    assigned, plain = sorted(result.pickups, key=lambda p: p.reference)
    assert (assigned.status, assigned.driver_id, assigned.route_position, assigned.version) == (PickupStatus.ASSIGNED, driver.id, 2, 2)
    assert [e.kind for e in assigned.events] == ["imported", "assigned"]
    assert (plain.status, plain.driver_id, plain.version, [e.kind for e in plain.events]) == (PickupStatus.UNASSIGNED, None, 1, ["imported"])
    assert all(is_valid_label_code(p.label_code) for p in result.pickups)
    assert len({p.change_seq for p in result.pickups} | {before.change_seq}) == 3
    assert min(p.change_seq for p in result.pickups) > before.change_seq
    assert "rows 2–3" in assigned.events[0].message and assigned.events[0].actor_id == dispatcher.id
    assert csv_import.committed_at is not None and csv_import.pickup_count == 2


def test_one_bad_row_means_nothing_is_imported(hub, dispatcher, db):
    rows = [import_row(reference=f"RMA-{n}") for n in range(20)]
    rows[13]["quantity"] = "-1"
    csv_import = imports.store_import(make_csv(rows).encode(), filename="r.csv", uploader=dispatcher, hub=hub)
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        imports.commit_import(csv_import.id, actor=dispatcher)
    assert "Row 15, quantity" in refused.value.message
    db.session.rollback()  # what the unit of work does with a 4xx
    assert pickup_count(db) == 0
    db.session.refresh(csv_import)
    assert csv_import.committed_at is None


def test_a_file_is_committed_only_once(hub, dispatcher, db):
    csv_import = imports.store_import(make_csv([import_row()]).encode(), filename="r.csv", uploader=dispatcher, hub=hub)
    imports.commit_import(csv_import.id, actor=dispatcher)
    db.session.commit()
    with pytest.raises(AlreadyImported):
        imports.commit_import(csv_import.id, actor=dispatcher)
    db.session.rollback()
    assert pickup_count(db) == 1


def test_only_the_uploader_can_see_or_commit_an_upload(hub, dispatcher, create_user, db):
    from app.core.errors import NotFound

    csv_import = imports.store_import(make_csv([import_row()]).encode(), filename="r.csv", uploader=dispatcher, hub=hub)
    someone_else = create_user("dispatcher")
    with pytest.raises(NotFound):
        imports.commit_import(csv_import.id, actor=someone_else)


def test_five_thousand_rows_import_in_one_go_with_unique_label_codes(app, hub, dispatcher, driver, db):
    app.config["IMPORT_BACKGROUND_PICKUPS"] = 5000  # this file is committed in its request (the job: test_import_jobs.py)
    rows = [
        import_row(reference=f"RMA-{n // 2:05d}", sku=f"SKU-{n}", customer_name="王芳", driver_email=driver.email if n % 4 < 2 else "")
        for n in range(5000)
    ]
    csv_import = imports.store_import(make_csv(rows).encode(), filename="big.csv", uploader=dispatcher, hub=hub)
    result = imports.commit_import(csv_import.id, actor=dispatcher)
    db.session.commit()
    assert (len(result.pickups), result.item_count) == (2500, 5000)
    assert pickup_count(db) == 2500
    assert db.session.scalar(select(func.count(func.distinct(Pickup.label_code)))) == 2500
    positions = db.session.scalars(select(Pickup.route_position).where(Pickup.driver_id == driver.id).order_by(Pickup.route_position)).all()
    assert positions == list(range(1, 1251))


def test_imported_pickup_matches_one_made_by_the_pickups_service(hub, dispatcher, driver, db):
    from app.dispatch.schemas import staff_pickup_schema as pickup_out_schema
    from app.pickups.schemas import pickup_in_schema
    from app.pickups.services import assign_pickup, create_pickup

    row = import_row(reference="RMA-IMP", phone="+31 6 12345678", email="zoe@example.com", line2="3-hoog", lat="52.3752",
                     lon="4.884", notes="Ring twice", reason="Trade-in", driver_email=driver.email)
    csv_import = imports.store_import(make_csv([row, {**row, "sku": "CBL", "quantity": "2"}]).encode(), filename="r.csv", uploader=dispatcher, hub=hub)
    imported = imports.commit_import(csv_import.id, actor=dispatcher).pickups[0]
    planned = imports.parse_import(make_csv([{**row, "reference": "RMA-SVC"}, {**row, "reference": "RMA-SVC", "sku": "CBL", "quantity": "2"}]), default_hub=hub).pickups[0]
    made = create_pickup(pickup_in_schema.load({**_as_payload(planned.data)}), actor=dispatcher)
    assign_pickup(made, driver, actor=dispatcher)
    db.session.commit()
    db.session.expire_all()

    ignore = {"id", "reference", "label_code", "customer_url", "change_seq", "created_at", "updated_at", "route_position", "items"}
    dump_imported, dump_made = pickup_out_schema.dump(imported), pickup_out_schema.dump(made)
    # Each has its own customer link, in the same form.
    assert dump_imported["customer_url"].startswith("http://backhaul.test/r/")
    assert dump_made["customer_url"].startswith("http://backhaul.test/r/")
    assert {k: v for k, v in dump_imported.items() if k not in ignore} == {k: v for k, v in dump_made.items() if k not in ignore}
    strip = lambda items: [{k: v for k, v in i.items() if k != "id"} for i in items]  # noqa: E731
    assert strip(dump_imported["items"]) == strip(dump_made["items"])
    assert [(e.kind, e.from_status, e.to_status, e.actor_id) for e in imported.events][1:] == [
        (e.kind, e.from_status, e.to_status, e.actor_id) for e in made.events
    ][1:]


def _as_payload(data):  # type: ignore[no-untyped-def]
    """Loaded schema data back into the API's input shape."""
    return {
        **{k: v for k, v in data.items() if k not in ("window",)},
        "window": {"start": data["window"]["start"].isoformat(), "end": data["window"]["end"].isoformat()},
    }


def test_item_value_weight_and_category_come_in_from_the_csv(hub, dispatcher, db):
    from decimal import Decimal

    from app.pickups.models import PickupItem

    rows = [
        import_row(category="phone", value="420,50", weight_kg="0.174"),
        import_row(sku="CBL", description="Cable", value="", weight_kg=""),
        import_row(reference="RMA-2", value="lots"),
    ]
    preview = parse_import(make_csv(rows, delimiter=";"), default_hub=hub)
    assert (4, "value") in problems(preview)
    good = make_csv(rows[:2], delimiter=";")
    csv_import = imports.store_import(good.encode(), filename="valued.csv", uploader=dispatcher, hub=hub)
    imports.commit_import(csv_import.id, actor=dispatcher)
    db.session.commit()
    stored = [(i.category, i.value, i.weight_kg) for i in db.session.scalars(select(PickupItem).order_by(PickupItem.position))]
    assert stored == [("phone", Decimal("420.50"), Decimal("0.174")), ("", None, None)]
