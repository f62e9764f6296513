"""The edge refuses what no handler can use (app.core.inputs): a 4xx naming the field, never a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.pickups.models import Pickup
from tests.conftest import pickup_payload

SURROGATE = "Fragile \ud83d"
NUL = "Fragile\x00"


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize(
    "where, field",
    [
        (lambda v: {"notes": v}, "notes"),
        (lambda v: {"customer": {**pickup_payload()["customer"], "name": v}}, "customer.name"),
        (lambda v: {"items": [{"sku": "X", "description": v, "quantity": 1, "reason": ""}]}, "items.0.description"),
    ],
    ids=["notes", "customer-name", "item-description"],
)
def test_broken_text_in_a_new_pickup_is_a_422_that_names_the_field(api_client, dispatcher, db, bad, where, field):
    response = api_client(dispatcher).post("/api/v1/pickups", json=pickup_payload(**where(bad)))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Pickup)) == 0


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["surrogate", "nul"])
def test_broken_text_in_a_cancel_reason_is_refused_and_nothing_changes(api_client, dispatcher, create_pickup, db, bad):
    pickup = create_pickup()
    response = api_client(dispatcher).post(f"/api/v1/pickups/{pickup.id}/cancel", json={"reason": bad, "version": pickup.version})
    assert response.status_code == 422
    assert "reason" in response.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(Pickup, pickup.id).status.value != "cancelled"


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["surrogate", "nul"])
def test_broken_text_in_a_login_password_is_a_4xx(api_client, client, dispatcher, bad):
    response = api_client().post("/api/v1/auth/login", json={"email": dispatcher.email, "password": bad})
    assert response.status_code == 422
    assert "password" in response.json["error"]["fields"]
    # A form cannot carry a surrogate (bytes that are not UTF-8 decode to U+FFFD); NUL it can.
    page = client.post("/login", data=f"email={dispatcher.email}&password=a%00b", content_type="application/x-www-form-urlencoded")
    assert page.status_code == 422


@pytest.mark.parametrize(
    "body, status",
    [
        ("[" * 50_000 + "]" * 50_000, 400),
        ('{"email": "a@example.com", "password": ' + "9" * 5000 + "}", 400),
        ('{"email": "a@example.com", "password": 1e999}', 400),
        ('{"email": "a@example.com", "password": NaN}', 400),
        (b'{"email": "\xff\xfe"}', 400),
    ],
    ids=["deep", "5000-digits", "infinite", "nan", "bad-utf8"],
)
def test_json_bodies_have_a_depth_and_number_limit_even_before_login(api_client, body, status):
    response = api_client().post("/api/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code == status
    assert response.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/pickups/9825019076267879694336/cancel",
        "/api/v1/pickups/2147483648",
        "/dispatch/pickups/99999999999",
    ],
)
def test_an_id_beyond_the_database_integers_is_a_404(api_client, dispatcher, url):
    client = api_client(dispatcher)
    response = client.post(url, json={}) if url.endswith("cancel") else client.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/pickups?page=9999999999999999999",
        "/api/v1/pickups?page=%C2%B2",
        "/dispatch/?page=%C2%B2",
        "/dispatch/?date=9999-12-31",
        "/dispatch/?date=0001-01-01",
        "/dispatch/export.csv?date=9999-12-31",
        "/dispatch/reports/pickups.csv?from=0001-01-01&to=9999-12-31",
        "/api/v1/pickups?q=%00",
    ],
)
def test_bad_query_values_are_a_4xx(api_client, dispatcher, url):
    response = api_client(dispatcher).get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)


def test_odd_digits_and_huge_ids_in_forms_are_a_4xx(api_client, dispatcher, driver, create_pickup, db):
    pickup = create_pickup()
    client = api_client(dispatcher)
    for driver_id in ("²", "99999999999999999999", str(-63014909928031752)):
        response = client.post(f"/dispatch/pickups/{pickup.id}/assign", data={"driver_id": driver_id, "csrf_token": client.csrf_token})
        assert 400 <= response.status_code < 500, (driver_id, response.status_code)
    db.session.expire_all()
    assert db.session.get(Pickup, pickup.id).driver_id is None


def test_huge_json_ids_are_a_4xx(api_client, dispatcher, create_pickup):
    pickup = create_pickup()
    client = api_client(dispatcher)
    for driver_id in (-63014909928031752, 3_000_000_000, 2**31):
        response = client.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": driver_id, "version": pickup.version})
        assert 400 <= response.status_code < 500, (driver_id, response.status_code)
