"""The customer's page behind their link: plain words, only their own data, safe forms, safe headers."""
import re

import pytest

from app.labels.codes import format_label_code
from app.pickups.models import FailureReason, Pickup, PickupEvent, PickupStatus
from app.pickups.services import change_status
from tests.labels.tools import csrf_from


def test_page_shows_the_return_in_plain_words(client, create_pickup, token_of):
    pickup = create_pickup()
    response = client.get(f"/r/{token_of(pickup)}")
    assert response.status_code == 200
    page = response.text
    assert "Your pickup is booked." in page
    assert pickup.reference in page and format_label_code(pickup.label_code) in page
    assert "iPhone 13" in page and "USB-C cable" in page  # what to prepare
    assert "Prinsengracht 263" in page  # the customer's own address
    assert "Test Hub" in page
    for step in ("Pickup booked", "Driver assigned", "Collected", "Received at the hub"):
        assert step in page
    assert "Print label" in page and "Download PDF" in page


def test_token_pages_are_not_stored_and_send_no_referrer(client, create_pickup, token_of):
    token = token_of(create_pickup())
    for path in ("", "/print", "/cancel"):
        response = client.get(f"/r/{token}{path}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    for path in (f"/r/{token}/nothing-here", "/r/not-a-token"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_page_loads_nothing_from_other_origins(client, create_pickup, token_of):
    page = client.get(f"/r/{token_of(create_pickup())}").text
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', page):
        assert url.startswith(("/", "#")), url
    assert "<script" not in page  # no scripts at all on this page


def test_page_shows_nothing_about_the_driver_or_other_customers(client, create_pickup, token_of, driver):
    mine = create_pickup(driver=driver)
    other = create_pickup(customer={"name": "Otto Otherperson", "phone": None, "email": None},
                          address={"line1": "Damrak 1", "line2": None, "city": "Amsterdam", "postcode": "1012 LG", "country": "NL", "lat": None, "lon": None})
    page = client.get(f"/r/{token_of(mine)}").text
    assert "A driver will come to collect your return." in page
    assert driver.name not in page and driver.email not in page
    assert "Otto" not in page and "Damrak" not in page and other.reference not in page
    assert "Ring twice." not in page  # the dispatcher's notes are for staff


def test_failed_pickup_says_what_happened_and_what_next(client, create_pickup, token_of, driver, db):
    pickup = create_pickup(driver=driver)
    change_status(pickup, PickupStatus.FAILED, actor=None, kind="failed")
    pickup.failure_reason = FailureReason.NOT_HOME
    pickup.failure_notes = "Neighbour says she is on holiday"
    db.session.commit()
    page = client.get(f"/r/{token_of(pickup)}").text
    assert "We could not collect your return." in page
    # What next: a new window the customer chooses (app.pickups.rebooking), not a wait for a call.
    assert "Nobody was home" in page and "Choose a new window" in page and f"/r/{token_of(pickup)}/rebook" in page
    assert "holiday" not in page  # the driver's own notes stay internal


def test_received_pickup_thanks_and_hides_the_label(client, create_pickup, token_of, driver, db):
    pickup = create_pickup(driver=driver)
    change_status(pickup, PickupStatus.COLLECTED, actor=None, kind="collected")
    change_status(pickup, PickupStatus.RECEIVED, actor=None, kind="received")
    db.session.commit()
    page = client.get(f"/r/{token_of(pickup)}").text
    assert "Your return has arrived at our hub." in page
    assert "Print label" not in page and "Save notes" not in page


XSS = {
    "name": '<script>alert("name")</script>',
    "description": '=HYPERLINK("http://evil.example","click me")',
    "notes": '<img src=x onerror=alert("notes")>',
}


def test_script_and_formula_attempts_are_shown_as_text(client, create_pickup, token_of, db):
    pickup = create_pickup(
        customer={"name": XSS["name"], "phone": None, "email": None},
        items=[{"sku": "X-1", "description": XSS["description"], "quantity": 1, "reason": ""}],
    )
    pickup.access_notes = XSS["notes"]
    db.session.commit()
    page = client.get(f"/r/{token_of(pickup)}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(&#34;notes&#34;)&gt;" in page
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;click me&#34;)" in page


# --- Access notes --------------------------------------------------------------------------------


def test_customer_adds_access_notes_and_the_driver_gets_a_new_version(client, create_pickup, token_of, driver, db):
    pickup = create_pickup(driver=driver)
    version, change_seq = pickup.version, pickup.change_seq
    token = token_of(pickup)
    csrf = csrf_from(client.get(f"/r/{token}").text)
    notes = "Gate code 4711\nThird floor, ring twice <b>"
    response = client.post(f"/r/{token}/notes", data={"csrf_token": csrf, "access_notes": notes})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/{token}#access")
    pickup = db.session.get(Pickup, pickup.id)
    assert pickup.access_notes == notes
    assert pickup.version == version + 1 and pickup.change_seq > change_seq
    assert pickup.events[-1].kind == "access_notes_updated" and pickup.events[-1].actor_id is None
    page = client.get(f"/r/{token}").text
    assert "Your driver will see these notes." in page
    assert "Third floor, ring twice &lt;b&gt;" in page


def test_access_notes_need_the_forms_csrf_token(client, create_pickup, token_of, db):
    pickup = create_pickup()
    response = client.post(f"/r/{token_of(pickup)}/notes", data={"access_notes": "Gate 1"})
    assert response.status_code == 400
    assert "This form expired" in response.text
    assert db.session.get(Pickup, pickup.id).access_notes == ""


def test_too_long_access_notes_are_refused_with_a_reason(client, create_pickup, token_of, db):
    pickup = create_pickup()
    token = token_of(pickup)
    csrf = csrf_from(client.get(f"/r/{token}").text)
    response = client.post(f"/r/{token}/notes", data={"csrf_token": csrf, "access_notes": "x" * 501})
    assert response.status_code == 422
    assert "Keep it under 500 characters." in response.text
    assert db.session.get(Pickup, pickup.id).access_notes == ""


def test_notes_on_a_wrong_link_change_nothing(client, create_pickup, token_of):
    token = token_of(create_pickup())
    csrf = csrf_from(client.get(f"/r/{token}").text)
    bogus = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.post(f"/r/{bogus}/notes", data={"csrf_token": csrf, "access_notes": "x"}).status_code == 404


# --- Cancelling -----------------------------------------------------------------------------------


def test_cancelling_takes_a_confirmation_step(client, create_pickup, token_of, db):
    pickup = create_pickup()
    token = token_of(pickup)
    confirm_page = client.get(f"/r/{token}/cancel")
    assert "Cancel this return?" in confirm_page.text
    csrf = csrf_from(confirm_page.text)
    # A post without the explicit confirmation only shows the question again.
    unconfirmed = client.post(f"/r/{token}/cancel", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 200 and "Cancel this return?" in unconfirmed.text
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.UNASSIGNED
    done = client.post(f"/r/{token}/cancel", data={"csrf_token": csrf, "confirm": "yes", "reason": "Found a buyer"})
    assert done.status_code == 302
    pickup = db.session.get(Pickup, pickup.id)
    assert pickup.status is PickupStatus.CANCELLED
    assert pickup.cancel_reason == "By the customer: Found a buyer"
    page = client.get(f"/r/{token}").text
    assert "This return has been cancelled." in page and "Found a buyer" in page


def test_cancelling_needs_csrf(client, create_pickup, token_of, db):
    pickup = create_pickup()
    response = client.post(f"/r/{token_of(pickup)}/cancel", data={"confirm": "yes"})
    assert response.status_code == 400
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.UNASSIGNED


def test_customer_cannot_cancel_once_a_driver_is_assigned(client, create_pickup, token_of, driver, db):
    pickup = create_pickup(driver=driver)
    token = token_of(pickup)
    assert "Cancel this return" not in client.get(f"/r/{token}").text
    page = client.get(f"/r/{token}/cancel").text
    assert "can no longer be cancelled here" in page
    csrf = csrf_from(client.get(f"/r/{token}").text)
    response = client.post(f"/r/{token}/cancel", data={"csrf_token": csrf, "confirm": "yes"})
    assert response.status_code == 409
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.ASSIGNED
    assert db.session.query(PickupEvent).filter_by(pickup_id=pickup.id, kind="cancelled").count() == 0


# --- The print page -------------------------------------------------------------------------------


def test_print_page_is_a_single_4x6_label(client, app, create_pickup, token_of):
    token = token_of(create_pickup())
    page = client.get(f"/r/{token}/print").text
    assert f'src="/r/{token}/label.svg"' in page
    assert "/static/css/label-print.css" in page and "/static/js/label-print.js" in page
    with client.get("/static/css/label-print.css") as response:
        css = response.text
    assert re.search(r"@page\s*\{\s*size:\s*4in 6in;\s*margin:\s*0;\s*\}", css)
    assert ".label { display: block; width: 4in; height: 6in; }" in css


@pytest.mark.parametrize("path", ["", "/print", "/label.png"])
def test_wrong_link_pages_do_not_leak_anything(client, create_pickup, path):
    create_pickup()
    response = client.get(f"/r/{'x' * 32}{path}")
    assert response.status_code == 404
    assert "Sanne" not in response.text and "Prinsengracht" not in response.text
