"""Webhooks to a real HTTP receiver on loopback, verified with PyPI's standardwebhooks; the SSRF guard."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from app.apikeys.services import create_api_key
from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.services import deliver_due
from app.pickups.models import Pickup
from app.pickups.rebooking import rebook_pickup, rebook_slots
from app.pickups.services import cancel_pickup


@pytest.fixture
def manager_key(db):  # type: ignore[no-untyped-def]
    made = create_api_key("shop", ["webhooks:manage", "pickups:read", "pickups:write"])
    db.session.commit()
    return {"Authorization": f"Bearer {made.secret}"}


def _register(client, key, url: str, events: list[str]) -> dict:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/webhooks", json={"url": url, "events": events, "description": "Shop returns"}, headers=key)
    assert response.status_code == 201, response.json
    return response.json


def test_a_delivery_verifies_with_standardwebhooks_and_carries_the_pickup_as_the_api_gives_it(db, client, manager_key, receiver, create_pickup):
    endpoint = _register(client, manager_key, receiver.url, ["pickup.created", "pickup.cancelled"])
    assert endpoint["secret"].startswith("whsec_") and set(endpoint) >= {"id", "url", "events", "secret"}
    pickup = create_pickup()
    deliver_due()
    [request] = receiver.requests
    body = Webhook(endpoint["secret"]).verify(request["body"], request["headers"])
    assert body["type"] == "pickup.created" and body["timestamp"]
    api_view = client.get(f"/api/v1/pickups/{pickup.id}", headers=manager_key).json
    assert body["data"]["id"] == pickup.id and body["data"]["customer_url"] == api_view["customer_url"] is not None
    assert body["data"]["label_code"] == api_view["label_code"] and body["data"]["items"] == api_view["items"]
    assert request["headers"]["webhook-signature"].startswith("v1,") and request["headers"]["content-type"] == "application/json"
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoint["secret"]).verify(request["body"].replace(b"pickup.created", b"pickup.cancelled"), request["headers"])

    # Only the events asked for: an assignment sends nothing, a cancellation does.
    cancel_pickup(db.session.get(Pickup, pickup.id), "Kept it", actor=None)
    db.session.commit()
    deliver_due()
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["pickup.created", "pickup.cancelled"]
    log = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=manager_key).json
    assert [(d["event"], d["status"], d["response_code"]) for d in log] == [("pickup.cancelled", "sent", 200), ("pickup.created", "sent", 200)]


def test_a_receiver_that_fails_three_times_ends_as_one_successful_delivery(db, client, manager_key, receiver, create_pickup):
    _register(client, manager_key, receiver.url, ["pickup.created"])
    receiver.failures = 3
    create_pickup()
    for _ in range(4):
        deliver_due()
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")).all()
    assert (row.status, row.attempts, row.response_code) == (MessageStatus.SENT, 4, 200)
    assert len(receiver.requests) == 4
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1  # the same message, tried again


def test_replay_sends_the_same_message_again(db, client, manager_key, receiver, create_pickup):
    endpoint = _register(client, manager_key, receiver.url, ["pickup.created"])
    create_pickup()
    deliver_due()
    [delivery] = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=manager_key).json
    assert client.post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/replay", headers=manager_key).status_code == 202
    deliver_due()
    assert len(receiver.requests) == 2 and receiver.requests[0]["headers"]["webhook-id"] == receiver.requests[1]["headers"]["webhook-id"]


def test_a_rebooking_is_announced(db, client, manager_key, receiver, create_pickup):
    _register(client, manager_key, receiver.url, ["pickup.rebooked"])
    pickup = create_pickup()
    rebook_pickup(db.session.get(Pickup, pickup.id), rebook_slots(pickup)[3])
    db.session.commit()
    deliver_due()
    [request] = receiver.requests
    assert json.loads(request["body"])["type"] == "pickup.rebooked"
    assert json.loads(request["body"])["data"]["status"] == "unassigned"


def test_listing_and_deleting_endpoints(db, client, manager_key, receiver, create_pickup):
    endpoint = _register(client, manager_key, receiver.url, ["pickup.created"])
    assert [e["id"] for e in client.get("/api/v1/webhooks", headers=manager_key).json] == [endpoint["id"]]
    assert "secret" not in client.get("/api/v1/webhooks", headers=manager_key).json[0]
    assert client.delete(f"/api/v1/webhooks/{endpoint['id']}", headers=manager_key).status_code == 204
    assert client.get("/api/v1/webhooks", headers=manager_key).json == []
    create_pickup()
    deliver_due()
    assert receiver.requests == []


def test_unknown_events_and_bad_urls_are_refused_clearly(client, manager_key):
    response = client.post("/api/v1/webhooks", json={"url": "https://example.com/h", "events": ["pickup.exploded"]}, headers=manager_key)
    assert response.status_code == 422 and "events" in response.json["error"]["fields"]
    response = client.post("/api/v1/webhooks", json={"url": "ftp://example.com/h", "events": ["pickup.created"]}, headers=manager_key)
    assert response.status_code == 422 and response.json["error"]["code"] == "unsafe_url"


@pytest.mark.parametrize("url", ["https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://[::1]/hook", "https://169.254.169.254/latest", "https://localhost/hook"])
def test_production_refuses_private_and_loopback_addresses(app, client, manager_key, url):
    app.config["BACKHAUL_ENV"] = "production"
    response = client.post("/api/v1/webhooks", json={"url": url, "events": ["pickup.created"]}, headers=manager_key)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "unsafe_url"


def test_production_wants_https_and_the_allowlist_lets_a_private_receiver_in(app, client, manager_key):
    app.config["BACKHAUL_ENV"] = "production"
    response = client.post("/api/v1/webhooks", json={"url": "http://example.com/hook", "events": ["pickup.created"]}, headers=manager_key)
    assert response.status_code == 422 and "https://" in response.json["error"]["message"]
    app.config["WEBHOOK_PRIVATE_ALLOWLIST"] = ["10.0.0.0/8"]
    response = client.post("/api/v1/webhooks", json={"url": "https://10.1.2.3/hook", "events": ["pickup.created"]}, headers=manager_key)
    assert response.status_code == 201


def test_a_delivery_to_an_address_that_became_private_is_not_made_in_production(app, db, client, manager_key, receiver, create_pickup):
    _register(client, manager_key, receiver.url, ["pickup.created"])  # development: loopback is fine
    app.config["BACKHAUL_ENV"] = "production"
    create_pickup()
    deliver_due()
    assert receiver.requests == []
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")).all()
    assert row.status is MessageStatus.DEAD and "https://" in (row.last_error or "")  # production: https only, and never loopback


def test_people_other_than_admins_cannot_manage_webhooks(api_client, create_user):
    dispatcher = api_client(create_user("dispatcher"))
    assert dispatcher.get("/api/v1/webhooks").status_code == 403
    admin = api_client(create_user("admin"))
    response = admin.post("/api/v1/webhooks", json={"url": "https://example.com/h", "events": ["pickup.created"]})
    assert response.status_code == 201
    assert admin.post("/api/v1/webhooks", json={"url": "https://example.com/h", "events": ["pickup.created"]}, headers={"X-CSRFToken": ""}).status_code == 400


def test_each_disposition_set_at_the_hub_is_announced_per_item(db, client, manager_key, receiver, create_pickup, driver, create_user):
    from app.core.models import utcnow
    from app.pickups import collection
    from app.pickups.models import Grade
    from app.pickups.timeline import Evidence
    from app.receiving.services import ItemCheck, receive_pickup

    _register(client, manager_key, receiver.url, ["item.disposition_set", "pickup.received"])
    pickup = db.session.get(Pickup, create_pickup(driver=driver).id)
    collection.collect_pickup(
        pickup, [collection.CollectedItem(i.id, i.quantity, Grade.A, None, []) for i in pickup.items], driver=driver, evidence=Evidence(server_time=utcnow())
    )
    db.session.commit()
    clerk = create_user("hub")
    pickup = db.session.get(Pickup, pickup.id)
    receive_pickup(pickup, [ItemCheck(i.id, i.quantity, Grade.A, "restock") for i in pickup.items], actor=clerk)
    db.session.commit()
    deliver_due()
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert sorted(b["type"] for b in bodies) == ["item.disposition_set", "item.disposition_set", "pickup.received"]
    items = sorted((b["item"]["id"], b["item"]["disposition"], b["item"]["quantity"]) for b in bodies if b["type"] == "item.disposition_set")
    assert items == sorted((i.id, "restock", i.quantity) for i in pickup.items)
    assert all(b["data"]["id"] == pickup.id for b in bodies)
