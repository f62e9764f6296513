"""The hub's receiving page: scan or type a label, choose a disposition per item, mark received."""
import re

import pytest

from app.labels.codes import format_label_code
from app.pickups.models import Grade, Pickup, PickupStatus
from app.receiving.models import Disposition, ItemDisposition
from tests.labels.tools import csrf_from


@pytest.fixture
def clerk(create_user):  # type: ignore[no-untyped-def]
    return create_user("hub", name="Hugo Hub")


@pytest.fixture
def clerk_client(api_client, clerk):  # type: ignore[no-untyped-def]
    return api_client(clerk).raw


def _receive(client, pickup, choices, **extra):  # type: ignore[no-untyped-def]
    page = client.get(f"/hub/?code={pickup.label_code}")
    data = {"csrf_token": csrf_from(page.text), "version": str(pickup.version), **extra}
    data.update({f"disposition-{item.id}": value for item, value in zip(pickup.items, choices, strict=False)})
    return client.post(f"/hub/pickups/{pickup.id}/receive", data=data)


def test_receiving_page_offers_the_camera_only_through_a_hashed_module_script(clerk_client):
    response = clerk_client.get("/hub/")
    page = response.text
    # The camera button waits hidden for the script (no getUserMedia, no button); the typed field comes first.
    assert re.search(r'<button[^>]*id="camera-open"[^>]*hidden', page)
    assert page.index('id="code"') < page.index('id="camera-open"')
    # A module under a content-hashed URL and no inline script: the page's CSP allows only 'self'.
    assert re.search(r'<script type="module" src="/static/js/hub/camera-scan\.js\?v=[0-9a-f]{12}"></script>', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_clerk_scans_a_label_and_sees_the_pickup_with_suggested_dispositions(clerk_client, collected_pickup):
    pickup = collected_pickup()
    typed = format_label_code(pickup.label_code).lower().replace("-", " ")
    response = clerk_client.get("/hub/", query_string={"code": typed})
    assert response.status_code == 200
    page = response.text
    assert pickup.reference in page and "iPhone 13" in page and "USB-C cable" in page
    assert "Mark received" in page
    # Grade A suggests restock, grade D recycle; the clerk can change either.
    first, second = pickup.items
    assert f'name="disposition-{first.id}"' in page
    assert '<option value="restock" selected>' in page and '<option value="recycle" selected>' in page


def test_clerk_marks_received_with_a_disposition_per_item(clerk_client, collected_pickup, clerk, db):
    pickup = collected_pickup()
    version = pickup.version
    response = _receive(clerk_client, pickup, ["refurbish", "recycle"])
    assert response.status_code == 302 and f"/hub/?code={pickup.label_code}" in response.headers["Location"]
    pickup = db.session.get(Pickup, pickup.id)
    assert pickup.status is PickupStatus.RECEIVED and pickup.version == version + 1
    decisions = {d.pickup_item_id: (d.disposition, d.decided_by_id) for d in db.session.query(ItemDisposition)}
    assert decisions == {
        pickup.items[0].id: (Disposition.REFURBISH, clerk.id),
        pickup.items[1].id: (Disposition.RECYCLE, clerk.id),
    }
    event = pickup.events[-1]
    assert (event.kind, event.to_status, event.actor_id) == ("received", "received", clerk.id)
    assert event.data["dispositions"] == {str(pickup.items[0].id): "refurbish", str(pickup.items[1].id): "recycle"}
    assert f"Received {pickup.reference}" in clerk_client.get("/hub/").text


def test_every_item_needs_a_disposition_and_nothing_is_half_written(clerk_client, collected_pickup, db):
    pickup = collected_pickup(grades=())
    response = _receive(clerk_client, pickup, ["restock", ""])
    assert response.status_code == 422
    assert "Choose what happens to every item that arrived." in response.text
    assert 'aria-invalid="true"' in response.text
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED
    assert db.session.query(ItemDisposition).count() == 0


def test_made_up_dispositions_are_refused(clerk_client, collected_pickup, db):
    pickup = collected_pickup()
    assert _receive(clerk_client, pickup, ["restock", "throw-in-canal"]).status_code == 422
    assert db.session.query(ItemDisposition).count() == 0


def test_items_left_behind_need_no_disposition(clerk_client, collected_pickup, db):
    pickup = collected_pickup(status=PickupStatus.PARTIALLY_COLLECTED, grades=(Grade.B,), quantities=(1, 0))
    response = _receive(clerk_client, pickup, ["resell"])
    assert response.status_code == 302
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.RECEIVED
    assert [(d.pickup_item_id, d.disposition) for d in db.session.query(ItemDisposition)] == [(pickup.items[0].id, Disposition.RESELL)]


def test_receiving_twice_is_harmless(clerk_client, collected_pickup, db):
    pickup = collected_pickup()
    page = clerk_client.get(f"/hub/?code={pickup.label_code}")
    data = {"csrf_token": csrf_from(page.text), "version": str(pickup.version)}
    data.update({f"disposition-{item.id}": "restock" for item in pickup.items})
    assert clerk_client.post(f"/hub/pickups/{pickup.id}/receive", data=data).status_code == 302
    version = db.session.get(Pickup, pickup.id).version
    data.update({f"disposition-{item.id}": "recycle" for item in pickup.items})
    again = clerk_client.post(f"/hub/pickups/{pickup.id}/receive", data=data)
    assert again.status_code == 302
    assert "was already received; nothing changed" in clerk_client.get(again.headers["Location"]).text
    db.session.expire_all()
    assert db.session.get(Pickup, pickup.id).version == version
    assert {d.disposition for d in db.session.query(ItemDisposition)} == {Disposition.RESTOCK}
    assert db.session.query(ItemDisposition).count() == 2
    assert "Received: nothing more to do here." in clerk_client.get(f"/hub/?code={pickup.label_code}").text


def test_a_pickup_still_at_the_customer_cannot_be_received(clerk_client, create_pickup, driver, db):
    pickup = create_pickup(driver=driver)
    page = clerk_client.get(f"/hub/?code={pickup.label_code}").text
    assert "nothing to receive" in page and "Mark received" not in page
    response = clerk_client.post(f"/hub/pickups/{pickup.id}/receive", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 409
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.ASSIGNED


def test_parcels_for_another_hub_are_sent_on(clerk_client, collected_pickup, db):
    from app.hubs.services import create_hub

    other = create_hub(code="RTM", name="Rotterdam Hub", city="Rotterdam", country="NL")
    db.session.commit()
    pickup = collected_pickup(hub_id=other.id)
    response = _receive(clerk_client, pickup, ["restock", "restock"])
    assert response.status_code == 409
    assert "returns to Rotterdam Hub" in response.text
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


def test_unknown_and_mistyped_codes_are_explained(clerk_client, collected_pickup):
    pickup = collected_pickup()
    mistyped = ("1" if pickup.label_code[0] != "1" else "2") + pickup.label_code[1:]
    response = clerk_client.get("/hub/", query_string={"code": mistyped})
    assert response.status_code == 422 and "does not add up" in response.text
    short = clerk_client.get("/hub/", query_string={"code": "ABC"})
    assert short.status_code == 422 and "A label code has 10 letters" in short.text


def test_collected_pickups_waiting_for_the_hub_are_listed(clerk_client, collected_pickup, create_pickup):
    waiting = collected_pickup()
    not_yet = create_pickup()
    page = clerk_client.get("/hub/").text
    assert "On their way here (1)" in page
    assert waiting.reference in page and not_yet.reference not in page


def test_receiving_needs_csrf(clerk_client, collected_pickup, db):
    pickup = collected_pickup()
    data = {f"disposition-{item.id}": "restock" for item in pickup.items}
    assert clerk_client.post(f"/hub/pickups/{pickup.id}/receive", data=data).status_code == 400
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


@pytest.mark.parametrize("role", ["driver", "dispatcher"])
def test_drivers_and_dispatchers_cannot_receive(api_client, create_user, collected_pickup, db, role):
    pickup = collected_pickup()
    client = api_client(create_user(role)).raw
    assert client.get("/hub/").status_code == 403
    assert client.get(f"/hub/?code={pickup.label_code}").status_code == 403
    response = client.post(f"/hub/pickups/{pickup.id}/receive", data={f"disposition-{i.id}": "restock" for i in pickup.items})
    assert response.status_code in (400, 403)
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


def test_the_collecting_driver_is_refused_even_with_a_valid_form(api_client, driver, collected_pickup, db):
    pickup = collected_pickup()
    api = api_client(driver)
    data = {f"disposition-{item.id}": "restock" for item in pickup.items}
    response = api.post(f"/hub/pickups/{pickup.id}/receive", data=data)  # sends the CSRF header
    assert response.status_code == 403
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


def test_admins_may_receive(api_client, create_user, collected_pickup, db):
    pickup = collected_pickup()
    client = api_client(create_user("admin")).raw
    assert _receive(client, pickup, ["restock", "recycle"]).status_code == 302
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.RECEIVED


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/hub/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_names_and_notes_are_shown_as_text(clerk_client, collected_pickup, db):
    pickup = collected_pickup(customer={"name": "<script>alert(1)</script>", "phone": None, "email": None})
    pickup.items[0].condition_notes = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    page = clerk_client.get(f"/hub/?code={pickup.label_code}").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)" in page


def test_a_form_from_before_a_change_is_refused(clerk_client, collected_pickup, db):
    pickup = collected_pickup()
    page = clerk_client.get(f"/hub/?code={pickup.label_code}")
    data = {"csrf_token": csrf_from(page.text), "version": str(pickup.version - 1)}
    data.update({f"disposition-{item.id}": "restock" for item in pickup.items})
    response = clerk_client.post(f"/hub/pickups/{pickup.id}/receive", data=data)
    assert response.status_code == 409 and "Scan it again" in response.text
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED
