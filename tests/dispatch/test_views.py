"""The console over HTTP: every form end to end with its CSRF token, refusals, and who may see what."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.dispatch.models import CsvImport
from app.pickups import services
from app.pickups.models import Pickup, PickupStatus
from tests.dispatch.conftest import import_row, make_csv

AMS = ZoneInfo("Europe/Amsterdam")


def local_window(day: date, hour: int = 12) -> dict[str, str]:
    start = datetime.combine(day, time(hour), tzinfo=AMS)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}


def today() -> date:
    return datetime.now(AMS).date()


def pickups(db) -> list[Pickup]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(Pickup).order_by(Pickup.id)))


def pickup_form(hub, **overrides) -> dict[str, str]:  # type: ignore[no-untyped-def]
    form = {
        "reference": "RMA-NEW-1", "hub_id": str(hub.id), "day": "2030-03-04", "start_time": "09:00", "end_time": "11:00",
        "customer_name": "Zoë Ørsted", "phone": "+31 6 12345678", "email": "", "line1": "Prinsengracht 263", "line2": "",
        "city": "Amsterdam", "postcode": "1016 GV", "country": "nl", "lat": "52,3752", "lon": "4.884", "notes": "Ring twice",
        "items-0-id": "", "items-0-sku": "PHN-1", "items-0-description": "Phone", "items-0-quantity": "2", "items-0-reason": "Trade-in",
        "items-1-id": "", "items-1-sku": "", "items-1-description": "", "items-1-quantity": "", "items-1-reason": "",
    }
    form.update(overrides)
    return form


# --- who may come in ------------------------------------------------------------------------------

def console_pages(pickup_id: int, driver_id: int, import_id: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("GET", "/dispatch/", {}),
        ("GET", "/dispatch/export.csv", {}),
        ("GET", "/dispatch/pickups/new", {}),
        ("POST", "/dispatch/pickups/new", {"reference": "X"}),
        ("GET", f"/dispatch/pickups/{pickup_id}", {}),
        ("GET", f"/dispatch/pickups/{pickup_id}/edit", {}),
        ("POST", f"/dispatch/pickups/{pickup_id}/edit", {"notes": "hacked", "version": "99"}),
        ("GET", f"/dispatch/pickups/{pickup_id}/cancel", {}),
        ("POST", f"/dispatch/pickups/{pickup_id}/cancel", {"reason": "because"}),
        ("POST", f"/dispatch/pickups/{pickup_id}/assign", {"driver_id": str(driver_id)}),
        ("GET", f"/dispatch/routes/{driver_id}", {}),
        ("POST", f"/dispatch/routes/{driver_id}/move", {"pickup_id": str(pickup_id), "direction": "up"}),
        ("POST", f"/dispatch/routes/{driver_id}/order", {"pickup_ids": str(pickup_id)}),
        ("GET", "/dispatch/import", {}),
        ("POST", "/dispatch/import", {}),
        ("GET", "/dispatch/import/template.csv", {}),
        ("GET", f"/dispatch/import/{import_id}", {}),
        ("POST", f"/dispatch/import/{import_id}/commit", {}),
        ("GET", "/dispatch/reports", {}),
        ("GET", "/dispatch/reports/drivers.csv", {}),
    ]


@pytest.fixture
def upload(hub, dispatcher, db):  # type: ignore[no-untyped-def]
    from app.dispatch.imports import store_import

    csv_import = store_import(make_csv([import_row()]).encode(), filename="r.csv", uploader=dispatcher, hub=hub)
    db.session.commit()
    return csv_import


def test_anonymous_people_are_sent_to_log_in_from_every_page(client, create_pickup, driver, upload, db):
    pickup = create_pickup(driver=driver)
    for method, url, _data in console_pages(pickup.id, driver.id, upload.id):
        if method == "POST":
            continue  # without a session there is no CSRF token; the CSRF tests cover refused posts
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.location, url


@pytest.mark.parametrize("role", ["driver", "hub"])
def test_drivers_and_hub_clerks_are_refused_on_every_page_and_action(role, console_for, create_user, create_pickup, driver, upload, db):
    user = create_user(role)
    own = create_pickup(driver=user if role == "driver" else driver, notes="original")
    browser = console_for(user)
    for method, url, data in console_pages(own.id, driver.id, upload.id):
        response = browser.get(url) if method == "GET" else browser.post(url, data)
        assert response.status_code == 403, (method, url, response.status_code)
    db.session.refresh(own)
    assert (own.notes, own.status) == ("original", PickupStatus.ASSIGNED)
    assert db.session.get(CsvImport, upload.id).committed_at is None


def test_every_form_post_without_csrf_token_is_refused(console, create_pickup, driver, upload, hub, db):
    pickup = create_pickup(notes="original")
    for method, url, data in console_pages(pickup.id, driver.id, upload.id):
        if method != "POST":
            continue
        payload = pickup_form(hub) if url.endswith("/new") else data
        response = console.post(url, payload, csrf=False)
        assert response.status_code == 400, url
        assert "expired" in response.get_data(as_text=True), url
    db.session.refresh(pickup)
    assert (pickup.notes, pickup.status, len(pickups(db))) == ("original", PickupStatus.UNASSIGNED, 1)


# --- the board ------------------------------------------------------------------------------------

def test_board_shows_today_in_the_hubs_timezone_by_default(console, create_pickup):
    create_pickup(reference="RMA-TODAY", window=local_window(today()))
    create_pickup(reference="RMA-TOMORROW", window=local_window(today() + timedelta(days=1)))
    page = console.get("/dispatch/").get_data(as_text=True)
    assert "RMA-TODAY" in page and "RMA-TOMORROW" not in page
    every_day = console.get("/dispatch/?date=").get_data(as_text=True)
    assert "RMA-TODAY" in every_day and "RMA-TOMORROW" in every_day
    tomorrow = console.get(f"/dispatch/?date={today() + timedelta(days=1)}").get_data(as_text=True)
    assert "RMA-TODAY" not in tomorrow and "RMA-TOMORROW" in tomorrow


def test_board_filters_and_counts_per_status(console, create_pickup, driver, other_driver):
    day = today()
    create_pickup(reference="RMA-A", driver=driver, window=local_window(day))
    create_pickup(reference="RMA-B", driver=other_driver, window=local_window(day, 14), customer={"name": "Ahmet Yılmaz", "phone": None, "email": None})
    create_pickup(reference="RMA-C", window=local_window(day, 16))
    page = console.get(f"/dispatch/?date={day}&status=assigned").get_data(as_text=True)
    assert "RMA-A" in page and "RMA-B" in page and "RMA-C" not in page
    # The counts ignore the status filter, so every chip says what clicking it would show.
    assert re.search(r"assigned <strong>2</strong>", page) and re.search(r"unassigned <strong>1</strong>", page)
    by_driver = console.get(f"/dispatch/?date={day}&driver_id={other_driver.id}").get_data(as_text=True)
    assert "RMA-B" in by_driver and "RMA-A" not in by_driver
    searched = console.get("/dispatch/?date=&q=yılmaz").get_data(as_text=True)
    assert "RMA-B" in searched and "RMA-A" not in searched


def test_unreadable_filters_are_named_not_a_crash(console):
    response = console.get("/dispatch/?date=31-02-2030&status=bogus&driver_id=abc&page=x")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "is not a date" in page and "There is no status “bogus”" in page


def test_export_follows_the_board_filter_one_row_per_item(console, create_pickup, driver):
    create_pickup(reference="RMA-A", driver=driver, window=local_window(today()), notes="=SUM(A1:A9)")
    create_pickup(reference="RMA-C", window=local_window(today()))
    response = console.get(f"/dispatch/export.csv?date={today()}&status=assigned")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["reference"], r["sku"]) for r in rows] == [("RMA-A", "PHN-IP13"), ("RMA-A", "CBL-USB")]
    assert rows[0]["notes"] == "'=SUM(A1:A9)"


# --- create and edit -----------------------------------------------------------------------------

def test_new_pickup_form_creates_the_pickup_with_its_items(console, hub, driver, db):
    response = console.post("/dispatch/pickups/new", pickup_form(hub, driver_id=str(driver.id)))
    assert response.status_code == 303, response.get_data(as_text=True)
    [pickup] = pickups(db)
    assert response.location.endswith(f"/dispatch/pickups/{pickup.id}")
    assert (pickup.reference, pickup.customer_name, pickup.country, pickup.lat) == ("RMA-NEW-1", "Zoë Ørsted", "NL", 52.3752)
    assert pickup.window_start == datetime(2030, 3, 4, 9, tzinfo=AMS)
    assert [(i.sku, i.quantity, i.reason) for i in pickup.items] == [("PHN-1", 2, "Trade-in")]
    assert (pickup.status, pickup.driver_id) == (PickupStatus.ASSIGNED, driver.id)
    assert "RMA-NEW-1 created" in console.get(response.location).get_data(as_text=True)


def test_invalid_new_pickup_comes_back_with_messages_and_what_was_typed(console, hub, db):
    form = pickup_form(hub, customer_name="", end_time="08:00", email="not-an-email", **{
        "items-0-quantity": "0", "items-1-sku": "CBL", "items-1-description": "Cable", "items-1-quantity": "abc",
    })
    response = console.post("/dispatch/pickups/new", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    for name in ("customer_name", "end_time", "email", "items-0-quantity", "items-1-quantity"):
        assert f'id="{name}-error"' in page, name
    assert 'value="Prinsengracht 263"' in page and 'value="CBL"' in page and 'value="abc"' in page
    assert pickups(db) == []


def test_unreadable_day_or_time_is_a_field_message(console, hub, db):
    response = console.post("/dispatch/pickups/new", pickup_form(hub, day="next week", start_time="9am", customer_name=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # Every problem at once, each on its field, including those the schemas find.
    assert 'id="day-error"' in page and 'id="start_time-error"' in page and 'id="customer_name-error"' in page
    assert pickups(db) == []


def test_new_pickup_with_a_taken_reference_is_refused(console, hub, create_pickup, db):
    create_pickup(reference="RMA-TAKEN")
    response = console.post("/dispatch/pickups/new", pickup_form(hub, reference="RMA-TAKEN"))
    assert response.status_code == 409
    assert "already has reference RMA-TAKEN" in response.get_data(as_text=True)
    assert len(pickups(db)) == 1


def edit_form(console, pickup_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The edit form's fields as the browser would send them back unchanged."""
    page = console.get(f"/dispatch/pickups/{pickup_id}/edit").get_data(as_text=True)
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value and ('type="checkbox"' not in tag or " checked" in tag):
            fields[name.group(1)] = value.group(1)
    notes = re.search(r'<textarea id="f-notes" name="notes"[^>]*>([^<]*)</textarea>', page)
    fields["notes"] = notes.group(1) if notes else ""
    for name in ("hub_id", "driver_id"):
        fields.pop(name, None)
    fields.pop("csrf_token", None)
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in fields.items() if not k.endswith("-remove")}


def test_edit_changes_fields_and_items_and_keeps_item_ids(console, create_pickup, db):
    pickup = create_pickup()
    phone_id, cable_id = [i.id for i in pickup.items]
    version = pickup.version
    form = edit_form(console, pickup.id)
    assert form["version"] == str(version) and form["items-0-id"] == str(phone_id)
    form.update({"customer_name": "Ahmet Yılmaz", "items-0-quantity": "3", "items-1-remove": "1",
                 "items-2-sku": "NEW", "items-2-description": "Charger", "items-2-quantity": "1"})
    response = console.post(f"/dispatch/pickups/{pickup.id}/edit", form)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.refresh(pickup)
    assert pickup.customer_name == "Ahmet Yılmaz"
    assert [(i.id == phone_id, i.sku, i.quantity) for i in pickup.items] == [(True, "PHN-IP13", 3), (False, "NEW", 1)]
    assert cable_id not in [i.id for i in pickup.items]
    assert pickup.version == version + 1
    assert pickup.events[-1].kind == "edited"


def test_unchanged_edit_changes_nothing(console, create_pickup, db):
    pickup = create_pickup()
    version = pickup.version
    assert console.post(f"/dispatch/pickups/{pickup.id}/edit", edit_form(console, pickup.id)).status_code == 303
    db.session.refresh(pickup)
    assert [e.message for e in pickup.events] == [f"Pickup {pickup.reference} created."]
    assert pickup.version == version


def test_stale_edit_is_refused_keeping_what_was_typed(console, create_pickup, dispatcher, db):
    pickup = create_pickup(notes="original")
    form = edit_form(console, pickup.id)
    # Someone else saves first.
    services.update_pickup(pickup, {"notes": "their change"}, actor=dispatcher)
    db.session.commit()
    form["notes"] = "my change"
    response = console.post(f"/dispatch/pickups/{pickup.id}/edit", form)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "NOT saved" in page and "my change" in page
    db.session.refresh(pickup)
    assert pickup.notes == "their change"
    # The form now carries the current version: saving again is a deliberate overwrite.
    new_version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert new_version == str(pickup.version)
    assert console.post(f"/dispatch/pickups/{pickup.id}/edit", {**form, "version": new_version}).status_code == 303
    db.session.refresh(pickup)
    assert pickup.notes == "my change"


def test_a_collected_pickup_only_takes_note_changes(console, create_pickup, driver, db):
    pickup = create_pickup(driver=driver)
    services.change_status(pickup, PickupStatus.COLLECTED, actor=driver, kind="collected")
    db.session.commit()
    page = console.get(f"/dispatch/pickups/{pickup.id}/edit").get_data(as_text=True)
    assert "only its notes can change" in page and 'name="customer_name"' not in page
    response = console.post(f"/dispatch/pickups/{pickup.id}/edit", {"notes": "Left at the hub desk", "version": str(pickup.version), "customer_name": "Sneaky"})
    assert response.status_code == 303
    db.session.refresh(pickup)
    assert (pickup.notes, pickup.customer_name) == ("Left at the hub desk", "Sanne de Vries")


# --- cancel, assign, routes ---------------------------------------------------------------------

def test_cancel_needs_a_reason_then_cancels_and_goes_back(console, create_pickup, driver, db):
    pickup = create_pickup(driver=driver)
    refused = console.post(f"/dispatch/pickups/{pickup.id}/cancel", {"reason": "  ", "next": "/dispatch/?date="})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.get_data(as_text=True)
    db.session.refresh(pickup)
    assert pickup.status is PickupStatus.ASSIGNED
    done = console.post(f"/dispatch/pickups/{pickup.id}/cancel", {"reason": "Customer kept the item", "next": "/dispatch/?date="})
    assert done.status_code == 303 and done.location.endswith("/dispatch/?date=")
    db.session.refresh(pickup)
    assert (pickup.status, pickup.cancel_reason) == (PickupStatus.CANCELLED, "Customer kept the item")
    again = console.post(f"/dispatch/pickups/{pickup.id}/cancel", {"reason": "twice"})
    assert again.status_code == 409 and "cannot become cancelled" in again.get_data(as_text=True)


def test_cancel_never_redirects_off_site(console, create_pickup):
    pickup = create_pickup()
    response = console.post(f"/dispatch/pickups/{pickup.id}/cancel", {"reason": "x", "next": "https://evil.example/dispatch/"})
    assert response.location.endswith(f"/dispatch/pickups/{pickup.id}")


def test_assign_reassign_and_unassign_from_the_board(console, create_pickup, driver, other_driver, db):
    pickup = create_pickup()
    back = "/dispatch/?date="
    assert console.post(f"/dispatch/pickups/{pickup.id}/assign", {"driver_id": str(driver.id), "next": back}).location.endswith(back)
    db.session.refresh(pickup)
    assert (pickup.status, pickup.driver_id) == (PickupStatus.ASSIGNED, driver.id)
    console.post(f"/dispatch/pickups/{pickup.id}/assign", {"driver_id": str(other_driver.id), "next": back})
    db.session.refresh(pickup)
    assert pickup.driver_id == other_driver.id and pickup.events[-1].kind == "reassigned"
    console.post(f"/dispatch/pickups/{pickup.id}/assign", {"driver_id": "", "next": back})
    db.session.refresh(pickup)
    assert (pickup.status, pickup.driver_id, pickup.route_position) == (PickupStatus.UNASSIGNED, None, None)


def test_assigning_to_a_non_driver_or_a_closed_pickup_changes_nothing(console, create_pickup, dispatcher, driver, db):
    pickup = create_pickup()
    response = console.post(f"/dispatch/pickups/{pickup.id}/assign", {"driver_id": str(dispatcher.id)})
    assert response.status_code == 422 and "only be assigned to drivers" in response.get_data(as_text=True)
    services.cancel_pickup(pickup, "gone", actor=dispatcher)
    db.session.commit()
    response = console.post(f"/dispatch/pickups/{pickup.id}/assign", {"driver_id": str(driver.id)})
    assert response.status_code == 409
    db.session.refresh(pickup)
    assert (pickup.status, pickup.driver_id) == (PickupStatus.CANCELLED, None)


def test_route_order_by_move_buttons_and_whole_order(console, create_pickup, driver, db):
    day = today()
    a, b, c = (create_pickup(reference=f"RMA-{n}", driver=driver, window=local_window(day, 9 + n)) for n in range(3))
    route_url = f"/dispatch/routes/{driver.id}?date={day}"
    page = console.get(route_url).get_data(as_text=True)
    assert page.index("RMA-0") < page.index("RMA-1") < page.index("RMA-2")
    # ↑ / ↓ are spoken by what they show first (WCAG 2.5.3: voice control says "up arrow").
    moves = re.findall(r'<button [^>]*aria-label="([^"]+)"[^>]*>([^<]+)</button>', page)
    assert len(moves) == 6 and all(name.startswith(shown.strip()) for name, shown in moves)

    moved = console.post(f"/dispatch/routes/{driver.id}/move", {"date": day.isoformat(), "pickup_id": str(c.id), "direction": "up"})
    assert moved.status_code == 303
    db.session.expire_all()
    assert [p.route_position for p in (a, b, c)] == [1, 3, 2]

    ordered = console.post(f"/dispatch/routes/{driver.id}/order", {"date": day.isoformat(), "pickup_ids": f"{b.id},{a.id},{c.id}"})
    assert ordered.status_code == 303
    db.session.expire_all()
    assert [p.route_position for p in (b, a, c)] == [1, 2, 3]

    stale = console.post(f"/dispatch/routes/{driver.id}/order", {"date": day.isoformat(), "pickup_ids": f"{a.id},{b.id}"})
    assert stale.status_code == 409 and "changed since you loaded it" in stale.get_data(as_text=True)
    foreign = console.post(f"/dispatch/routes/{driver.id}/move", {"date": day.isoformat(), "pickup_id": "999999", "direction": "up"})
    assert foreign.status_code == 422
    db.session.expire_all()
    assert [p.route_position for p in (b, a, c)] == [1, 2, 3]


def test_route_of_someone_who_is_not_a_driver_is_not_found(console, dispatcher):
    assert console.get(f"/dispatch/routes/{dispatcher.id}").status_code == 404


# --- detail -------------------------------------------------------------------------------------

def test_detail_shows_items_with_grades_and_the_timeline_in_hub_time(console, create_pickup, driver, db):
    from app.pickups.models import Grade

    pickup = create_pickup(driver=driver, window=local_window(date(2030, 7, 1)))
    pickup.items[0].collected_quantity = 1
    pickup.items[0].grade = Grade.C
    services.record_event(
        pickup, "collect_rejected", actor=driver, message="Collected after it was cancelled.", needs_review=True,
        device_time=datetime(2030, 7, 1, 10, 15, tzinfo=AMS), lat=52.37, lon=4.88, accuracy_m=12.0, clock_skew_seconds=-40,
    )
    db.session.commit()
    page = console.get(f"/dispatch/pickups/{pickup.id}").get_data(as_text=True)
    assert "Sanne de Vries" in page and "PHN-IP13" in page and "grade-C" in page
    assert "12:00–14:00" in page  # the window in Amsterdam time
    assert 'class="review"' in page and "needs review" in page
    assert "Device time 10:15:00 (clock -40 s)" in page and "52.37000, 4.88000 (±12 m)" in page
    assert "By Driss Driver" in page


def test_detail_of_a_missing_pickup_is_404(console):
    assert console.get("/dispatch/pickups/424242").status_code == 404


# --- import -------------------------------------------------------------------------------------

def upload_csv(console, text: str, *, filename: str = "returns.csv", **headers):  # type: ignore[no-untyped-def]
    data = {"file": (io.BytesIO(text.encode("utf-8")), filename), "csrf_token": console.token}
    return console.raw.post("/dispatch/import", data=data, content_type="multipart/form-data", headers=headers)


def test_import_upload_preview_and_commit_end_to_end(console, hub, driver, db):
    window = {"window_start": f"{today()} 10:00", "window_end": f"{today()} 12:00"}
    text = make_csv([
        import_row(customer_name="王芳", driver_email=driver.email, **window),
        import_row(customer_name="王芳", sku="B", description="Cable, USB-C\nwith plug", **window),
        import_row(reference="RMA-2", customer_name="Ahmet Yılmaz"),
    ], bom=True)
    uploaded = upload_csv(console, text)
    assert uploaded.status_code == 303
    preview = console.get(uploaded.location)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "王芳" in page and "Import 2 pickups" in page
    assert pickups(db) == []  # a preview writes nothing

    import_id = int(uploaded.location.rstrip("/").rsplit("/", 1)[1])
    committed = console.post(f"/dispatch/import/{import_id}/commit")
    assert committed.status_code == 303 and f"date={today()}" in committed.location
    assert "Imported 2 pickups with 3 items" in console.get(committed.location).get_data(as_text=True)
    created = {p.reference: p for p in pickups(db)}
    assert created["RMA-1"].customer_name == "王芳" and created["RMA-1"].driver_id == driver.id
    assert created["RMA-1"].items[1].description == "Cable, USB-C\nwith plug"

    # A double-click (or a resent form) imports nothing more.
    again = console.post(f"/dispatch/import/{import_id}/commit")
    assert again.status_code == 303 and again.location.endswith(f"/dispatch/import/{import_id}")
    assert "already imported" in console.get(again.location).get_data(as_text=True)
    assert len(pickups(db)) == 2


def test_import_with_a_bad_row_shows_the_problem_and_imports_nothing(console, hub, db):
    rows = [import_row(reference=f"RMA-{n}") for n in range(5)]
    rows[3]["window_start"] = "03/04/2030 9:00"
    uploaded = upload_csv(console, make_csv(rows))
    preview = console.get(uploaded.location)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert re.search(r'data-label="Row" class="num">5</td><td data-label="Column"><code>window_start</code>', page)
    assert "Import 5 pickups" not in page
    import_id = int(uploaded.location.rsplit("/", 1)[1])
    # Posting the commit anyway (a stale tab, a crafted request) is refused all the same.
    assert console.post(f"/dispatch/import/{import_id}/commit").status_code == 422
    assert pickups(db) == []
    assert db.session.get(CsvImport, import_id).committed_at is None


def test_import_refuses_unknown_columns_at_upload(console, db):
    response = upload_csv(console, "reference;colour\r\nRMA-1;red\r\n")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Unknown column: “colour”" in page and "Missing required columns" in page
    assert db.session.scalar(select(func.count()).select_from(CsvImport)) == 0


def test_import_script_upload_answers_json_with_the_preview_address(console, hub):
    ok = upload_csv(console, make_csv([import_row()]), Accept="application/json")
    assert ok.status_code == 201 and ok.json["rows"] == 1 and ok.json["preview_url"].startswith("/dispatch/import/")
    bad = upload_csv(console, "not,a,header\r\n", Accept="application/json")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "import_refused"
    empty = console.raw.post("/dispatch/import", data={"csrf_token": console.token}, headers={"Accept": "application/json"})
    assert empty.status_code == 422 and "Choose a CSV file" in empty.json["error"]["message"]


def test_someone_elses_upload_is_not_found(console_for, create_user, upload):
    other = console_for(create_user("dispatcher"))
    assert other.get(f"/dispatch/import/{upload.id}").status_code == 404
    assert other.post(f"/dispatch/import/{upload.id}/commit").status_code == 404


def test_template_download_has_the_expected_header(console):
    response = console.get("/dispatch/import/template.csv")
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert header[:3] == ["reference", "customer_name", "line1"] and "driver_email" in header


def test_api_import_is_all_or_nothing_with_row_messages(api_client, dispatcher, hub, db):
    api = api_client(dispatcher)
    bad = make_csv([import_row(), import_row(reference="RMA-2", quantity="0")])
    response = api.post("/api/v1/pickups/import", data={"file": (io.BytesIO(bad.encode()), "r.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["error"]["fields"]["rows"] == ["Row 3, quantity: “0” is not a whole number of 1 or more."]
    good = make_csv([import_row(), import_row(reference="RMA-2")])
    dry = api.post("/api/v1/pickups/import?dry_run=true", data={"file": (io.BytesIO(good.encode()), "r.csv")}, content_type="multipart/form-data")
    assert dry.status_code == 200 and dry.json["pickups"] == 2 and pickups(db) == []
    done = api.post("/api/v1/pickups/import", data={"file": (io.BytesIO(good.encode()), "r.csv")}, content_type="multipart/form-data")
    assert done.status_code == 201 and done.json["pickups"] == 2 and len(done.json["pickup_ids"]) == 2
    assert len(pickups(db)) == 2
    missing = api.post("/api/v1/pickups/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.json["error"]["fields"]


def test_api_import_refuses_drivers(api_client, driver):
    response = api_client(driver).post(
        "/api/v1/pickups/import", data={"file": (io.BytesIO(make_csv([import_row()]).encode()), "r.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 403


# --- reports ------------------------------------------------------------------------------------

def test_reports_count_statuses_grades_failures_and_drivers(console, create_pickup, driver, dispatcher, db):
    from app.pickups.models import FailureReason, Grade

    day = today()
    collected = create_pickup(driver=driver, window=local_window(day))
    services.change_status(collected, PickupStatus.COLLECTED, actor=driver, kind="collected")
    collected.items[0].collected_quantity, collected.items[0].grade = 1, Grade.A
    collected.items[1].collected_quantity, collected.items[1].grade = 2, Grade.D
    failed = create_pickup(driver=driver, window=local_window(day, 15))
    services.change_status(failed, PickupStatus.FAILED, actor=driver, kind="failed")
    failed.failure_reason = FailureReason.NOT_HOME
    create_pickup(window=local_window(day - timedelta(days=30)))  # outside the range
    db.session.commit()

    response = console.get(f"/dispatch/reports?from={day - timedelta(days=1)}&to={day}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Pickups whose window starts" in page and ": 2." in page
    assert "Driss Driver" in page and "50%" in page

    rows = list(csv.reader(io.StringIO(console.get(f"/dispatch/reports/grades.csv?from={day}&to={day}").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["grade", "collected_quantity"] and ["A", "1"] in rows and ["D", "2"] in rows
    failures = console.get(f"/dispatch/reports/failures.csv?from={day}&to={day}").get_data(as_text=True)
    assert "not_home,1" in failures
    drivers = console.get(f"/dispatch/reports/drivers.csv?from={day}&to={day}").get_data(as_text=True)
    assert "Driss Driver,2,1,1,0,50.0" in drivers


def test_reports_refuse_backwards_or_unreadable_ranges(console):
    backwards = console.get("/dispatch/reports?from=2030-03-10&to=2030-03-01")
    assert backwards.status_code == 422 and "on or after the start" in backwards.get_data(as_text=True)
    assert console.get("/dispatch/reports?from=yesterday").status_code == 422
    assert console.get("/dispatch/reports/drivers.csv?from=2030-03-10&to=2030-03-01").status_code == 422
    assert console.get("/dispatch/reports/secrets.csv").status_code == 404



def test_board_links_every_console_page_and_the_label_sheet_of_what_it_shows(console, create_pickup):
    shown = create_pickup()
    page = console.get("/dispatch/?date=").get_data(as_text=True)
    for href in ("/dispatch/pickups/new", "/dispatch/import", "/dispatch/reports", "/dispatch/drivers"):
        assert f'href="{href}' in page, href
    assert f"/dispatch/labels.pdf?ids={shown.id}" in page
