"""A driver can never read or change another driver's pickups; drivers cannot dispatch."""
import pytest

from app.pickups.models import PickupStatus
from tests.conftest import pickup_payload


def pickup_endpoints(pickup_id, driver_id):
    return [
        ("GET", f"/api/v1/pickups/{pickup_id}", None),
        ("PATCH", f"/api/v1/pickups/{pickup_id}", {"notes": "mine now"}),
        ("POST", f"/api/v1/pickups/{pickup_id}/assign", {"driver_id": driver_id}),
        ("POST", f"/api/v1/pickups/{pickup_id}/cancel", {"reason": "because"}),
    ]


def test_driver_cannot_read_or_change_another_drivers_pickup_on_any_endpoint(api_client, driver, other_driver, create_pickup, db):
    theirs = create_pickup(driver=other_driver, notes="original")
    api = api_client(driver)
    for method, url, body in pickup_endpoints(theirs.id, driver.id):
        response = api._send(method, url, json=body) if body is not None else api._send(method, url)
        assert response.status_code == 403, (method, url, response.status_code)
        assert "Olga" not in response.get_data(as_text=True), (method, url)
    db.session.refresh(theirs)
    assert (theirs.driver_id, theirs.status, theirs.notes) == (other_driver.id, PickupStatus.ASSIGNED, "original")
    assert api.get("/api/v1/pickups").status_code == 403
    assert api.get(f"/api/v1/pickups?driver_id={other_driver.id}").status_code == 403


def test_drivers_read_pickups_through_sync_without_the_customers_link(api_client, driver, other_driver, create_pickup):
    """The staff API is closed to drivers even for their own pickups: it carries
    the customer's private link. Their phone pulls them, without it."""
    mine = create_pickup(driver=driver)
    create_pickup(driver=other_driver)
    api = api_client(driver)
    assert api.get(f"/api/v1/pickups/{mine.id}").status_code == 403
    pulled = api.get("/api/v1/sync/pull?client_id=phone-test-1").json
    puts = [c for c in pulled["changes"] if c["entity"] == "pickup" and c["op"] == "put"]
    assert [c["id"] for c in puts] == [mine.id]
    assert "customer_url" not in puts[0]["data"]
    assert puts[0]["data"]["label_code"] == mine.label_code


DISPATCHER_ONLY = [
    ("POST", "/api/v1/pickups", "payload"),
    ("GET", "/api/v1/users?role=driver", None),
    ("POST", "/api/v1/pickups/route", {"driver_id": 1, "pickup_ids": []}),
]


@pytest.mark.parametrize("role", ["driver", "hub"])
def test_dispatcher_only_endpoints_refuse_other_roles(api_client, create_user, create_pickup, role, db):
    user = create_user(role)
    own = create_pickup(driver=user) if role == "driver" else create_pickup()
    api = api_client(user)
    for method, url, body in DISPATCHER_ONLY + pickup_endpoints(own.id, user.id)[1:]:
        json_body = pickup_payload() if body == "payload" else body
        response = api._send(method, url, json=json_body) if json_body is not None else api._send(method, url)
        assert response.status_code == 403, (method, url, response.status_code)
        assert response.json["error"]["code"] == "forbidden"
    db.session.refresh(own)
    assert own.notes == "Ring twice." and own.status is not PickupStatus.CANCELLED


def test_dispatcher_pages_refuse_drivers(client, driver):
    from tests.accounts.test_login import form_token
    from tests.conftest import TEST_PASSWORD

    client.post("/login", data={"email": driver.email, "password": TEST_PASSWORD, "csrf_token": form_token(client)})
    assert client.get("/dispatch/").status_code == 403
