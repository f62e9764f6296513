"""The pickups JSON API contract (CONTRACT.md): shapes, errors, authorization, CSRF."""
import pytest

from app.pickups.models import Pickup
from tests.conftest import pickup_payload

PICKUP_KEYS = {
    "id", "reference", "status", "customer", "address", "window", "notes", "driver_id",
    "route_position", "version", "label_code", "customer_url", "items",
}


def test_dispatcher_creates_pickup_and_gets_contract_shape(api_client, dispatcher, db):
    api = api_client(dispatcher)
    response = api.post("/api/v1/pickups", json=pickup_payload(reference="RMA-100"))
    assert response.status_code == 201, response.json
    body = response.json
    assert PICKUP_KEYS <= set(body)
    assert body["status"] == "unassigned"
    assert set(body["customer"]) == {"name", "phone", "email"}
    assert set(body["address"]) == {"line1", "line2", "city", "postcode", "country", "lat", "lon"}
    assert body["window"]["start"].endswith("+00:00")
    assert [i["sku"] for i in body["items"]] == ["PHN-IP13", "CBL-USB"]
    assert {"id", "sku", "description", "quantity", "reason"} <= set(body["items"][0])
    assert db.session.query(Pickup).filter_by(reference="RMA-100").count() == 1


def test_create_with_driver_assigns_at_once(api_client, dispatcher, driver):
    response = api_client(dispatcher).post("/api/v1/pickups", json=pickup_payload(driver_id=driver.id))
    assert response.status_code == 201
    assert (response.json["status"], response.json["driver_id"], response.json["route_position"]) == ("assigned", driver.id, 1)


BAD_INPUTS = [
    ({"reference": ""}, "reference"),
    ({"reference": "=HYPERLINK(1)"}, "reference"),
    ({"customer": {"name": ""}}, "customer"),
    ({"customer": {"name": "A", "email": "nope"}}, "customer"),
    ({"address": {"line1": "x", "city": "y", "postcode": "1", "country": "Netherlands"}}, "address"),
    ({"address": {"line1": "x", "city": "y", "postcode": "1", "country": "NL", "lat": 95, "lon": 4}}, "address"),
    ({"address": {"line1": "x", "city": "y", "postcode": "1", "country": "NL", "lat": 52}}, "address"),
    ({"window": {"start": "2030-01-01T10:00:00", "end": "2030-01-01T12:00:00"}}, "window"),
    ({"window": {"start": "2030-01-01T12:00:00+00:00", "end": "2030-01-01T10:00:00+00:00"}}, "window"),
    ({"window": {"start": "tomorrow", "end": "later"}}, "window"),
    ({"items": []}, "items"),
    ({"items": [{"sku": "A", "description": "B", "quantity": 0}]}, "items"),
    ({"items": [{"sku": "A", "description": "B", "quantity": "many"}]}, "items"),
    ({"items": "not a list"}, "items"),
    ({"notes": "x" * 2001}, "notes"),
    ({"unknown_field": 1}, "unknown_field"),
]


@pytest.mark.parametrize(("override", "field"), BAD_INPUTS)
def test_invalid_input_is_422_with_field_messages_and_stores_nothing(api_client, dispatcher, db, override, field):
    response = api_client(dispatcher).post("/api/v1/pickups", json=pickup_payload(**override))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"]
    assert db.session.query(Pickup).count() == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1,2,3]", b"null", b"\xff\xfe"])
def test_malformed_json_is_a_clear_4xx(api_client, dispatcher, db, body):
    response = api_client(dispatcher).post("/api/v1/pickups", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "error" in response.json
    assert db.session.query(Pickup).count() == 0


def test_duplicate_reference_is_409_and_keeps_the_first(api_client, dispatcher, db):
    api = api_client(dispatcher)
    assert api.post("/api/v1/pickups", json=pickup_payload(reference="RMA-7")).status_code == 201
    response = api.post("/api/v1/pickups", json=pickup_payload(reference="RMA-7"))
    assert response.status_code == 409
    assert "reference" in response.json["error"]["fields"]
    assert db.session.query(Pickup).count() == 1


def test_patch_edits_and_refuses_stale_version(api_client, dispatcher, create_pickup):
    pickup = create_pickup()
    api = api_client(dispatcher)
    seen_version = pickup.version
    response = api.patch(f"/api/v1/pickups/{pickup.id}", json={"notes": "Back door", "version": seen_version})
    assert response.status_code == 200
    assert response.json["notes"] == "Back door"
    assert response.json["version"] == seen_version + 1
    stale = api.patch(f"/api/v1/pickups/{pickup.id}", json={"notes": "Front door", "version": seen_version})
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "stale_version"


def test_assign_reassign_unassign_through_api(api_client, dispatcher, driver, other_driver, create_pickup):
    pickup = create_pickup()
    api = api_client(dispatcher)
    assert api.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": driver.id}).json["driver_id"] == driver.id
    assert api.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": other_driver.id}).json["driver_id"] == other_driver.id
    response = api.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": None})
    assert (response.json["status"], response.json["driver_id"]) == ("unassigned", None)
    refused = api.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": dispatcher.id})
    assert refused.status_code == 422


def test_cancel_then_assign_is_409_with_plain_message(api_client, dispatcher, driver, create_pickup):
    pickup = create_pickup()
    api = api_client(dispatcher)
    assert api.post(f"/api/v1/pickups/{pickup.id}/cancel", json={"reason": "Customer kept it"}).status_code == 200
    response = api.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": driver.id})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"
    assert "cancelled" in response.json["error"]["message"]


def test_detail_has_timeline(api_client, dispatcher, driver, create_pickup):
    pickup = create_pickup(driver=driver)
    body = api_client(dispatcher).get(f"/api/v1/pickups/{pickup.id}").json
    assert [e["kind"] for e in body["events"]] == ["created", "assigned"]


def test_list_is_paginated_and_filtered(api_client, dispatcher, driver, create_pickup):
    for _ in range(3):
        create_pickup(driver=driver)
    create_pickup()
    api = api_client(dispatcher)
    page = api.get("/api/v1/pickups?per_page=2&page=2").json
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (4, 2, 2, 2)
    assert api.get("/api/v1/pickups?status=unassigned").json["total"] == 1
    assert api.get(f"/api/v1/pickups?driver_id={driver.id}").json["total"] == 3
    bad = api.get("/api/v1/pickups?status=lost")
    assert bad.status_code == 422 and "status" in bad.json["error"]["fields"]
    assert api.get("/api/v1/pickups?per_page=100000").status_code == 422


def test_users_by_role_for_dispatchers(api_client, dispatcher, driver, other_driver):
    users = api_client(dispatcher).get("/api/v1/users?role=driver").json
    assert {u["id"] for u in users} == {driver.id, other_driver.id}
    assert all("password_hash" not in u for u in users)


def test_openapi_documents_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/pickups" in spec["paths"]
    assert "PickupIn" in spec["components"]["schemas"]


def test_unknown_api_url_and_wrong_method_are_json(api_client, dispatcher):
    api = api_client(dispatcher)
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = api.delete("/api/v1/pickups")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"


def test_too_large_body_is_413_json(app, api_client, dispatcher):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = api_client(dispatcher).post("/api/v1/pickups", data=b"x" * 5000, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_anonymous_api_request_is_401_json(client, create_pickup):
    pickup = create_pickup()
    for url in ("/api/v1/pickups", f"/api/v1/pickups/{pickup.id}", "/api/v1/users"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"


def test_cookie_authenticated_json_without_csrf_header_is_refused(api_client, dispatcher, db):
    api = api_client(dispatcher)
    response = api.post("/api/v1/pickups", json=pickup_payload(), headers={"X-CSRFToken": ""})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"
    forged = api.post("/api/v1/pickups", json=pickup_payload(), headers={"X-CSRFToken": "forged.token.value"})
    assert forged.status_code == 400
    assert db.session.query(Pickup).count() == 0


def test_fresh_csrf_token_from_session_endpoint_works(api_client, dispatcher):
    api = api_client(dispatcher)
    api.csrf_token = api.get("/api/v1/auth/session").json["csrf_token"]
    assert api.post("/api/v1/pickups", json=pickup_payload()).status_code == 201
