"""Customer tokens: secret, unique, one active per pickup, revocable, and expiring after the pickup ends."""
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.labels.models import CustomerToken
from app.labels.services import (
    LinkExpired,
    UnknownLink,
    active_customer_token,
    customer_url,
    link_expires_at,
    new_customer_token,
    reissue_customer_token,
    resolve_customer_token,
    revoke_customer_token,
)
from app.pickups.models import Pickup, PickupStatus
from app.pickups.services import cancel_pickup, change_status


def test_ten_thousand_tokens_are_unique_and_carry_at_least_128_bits():
    tokens = [new_customer_token() for _ in range(10_000)]
    assert len(set(tokens)) == 10_000
    for token in tokens[:100]:
        assert len(token) == 32  # 24 random bytes in URL-safe base64: 192 bits
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_every_new_pickup_gets_a_working_customer_link(create_pickup, client):
    pickup = create_pickup()
    url = customer_url(pickup)
    assert url is not None and url.startswith("http://backhaul.test/r/")
    token = url.rsplit("/", 1)[1]
    # The link is a secret apart from the label code; neither contains the other.
    assert pickup.label_code not in token and token not in pickup.label_code
    assert client.get(f"/r/{token}").status_code == 200


def test_pickup_json_carries_the_customer_url(api_client, dispatcher, create_pickup):
    pickup = create_pickup()
    body = api_client(dispatcher).get(f"/api/v1/pickups/{pickup.id}").json
    assert body["customer_url"] == customer_url(pickup)


def test_the_database_refuses_a_second_active_token_for_one_pickup(create_pickup, db):
    pickup = create_pickup()
    db.session.add(CustomerToken(pickup_id=pickup.id, token=new_customer_token()))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_revoked_token_is_unknown_and_reissued_one_works(create_pickup, db):
    pickup = create_pickup()
    old = active_customer_token(pickup).token
    revoke_customer_token(pickup, actor=None)
    db.session.commit()
    assert customer_url(pickup) is None
    with pytest.raises(UnknownLink):
        resolve_customer_token(old)
    new = reissue_customer_token(pickup, actor=None).token
    db.session.commit()
    assert new != old
    assert resolve_customer_token(new).id == pickup.id
    with pytest.raises(UnknownLink):
        resolve_customer_token(old)
    assert [t.active for t in db.session.get(Pickup, pickup.id).customer_tokens] == [False, True]


def test_open_pickups_links_never_expire(create_pickup, driver, token_of):
    pickup = create_pickup(driver=driver)
    assert link_expires_at(pickup) is None
    far_future = pickup.created_at + timedelta(days=3650)
    assert resolve_customer_token(token_of(pickup), now=far_future).id == pickup.id


def test_link_expires_the_configured_days_after_the_pickup_is_received(app, create_pickup, driver, token_of, db):
    pickup = create_pickup(driver=driver)
    change_status(pickup, PickupStatus.COLLECTED, actor=None, kind="collected")
    change_status(pickup, PickupStatus.RECEIVED, actor=None, kind="received")
    db.session.commit()
    token = token_of(pickup)
    expires = link_expires_at(pickup)
    received_event = [e for e in pickup.events if e.to_status == "received"][0]
    assert expires == received_event.server_time + timedelta(days=app.config["CUSTOMER_LINK_DAYS_AFTER_CLOSE"])
    assert app.config["CUSTOMER_LINK_DAYS_AFTER_CLOSE"] == 14
    assert resolve_customer_token(token, now=expires - timedelta(seconds=1)).id == pickup.id
    with pytest.raises(LinkExpired):
        resolve_customer_token(token, now=expires)


def test_expired_link_is_a_friendly_410_page(app, create_pickup, token_of, client, db):
    app.config["CUSTOMER_LINK_DAYS_AFTER_CLOSE"] = 0
    pickup = create_pickup()
    cancel_pickup(pickup, "Customer kept the item", actor=None)
    db.session.commit()
    response = client.get(f"/r/{token_of(pickup)}")
    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert pickup.reference not in response.text and pickup.customer_name not in response.text
    assert client.get(f"/r/{token_of(pickup)}/label.png").status_code == 410


def test_unknown_and_revoked_links_are_the_same_friendly_404(create_pickup, token_of, client, db):
    pickup = create_pickup()
    token = token_of(pickup)
    revoke_customer_token(pickup, actor=None)
    db.session.commit()
    revoked = client.get(f"/r/{token}")
    unknown = client.get(f"/r/{new_customer_token()}")
    assert revoked.status_code == unknown.status_code == 404
    assert "This link does not work" in revoked.text
    assert revoked.text == unknown.text


# --- The dispatcher's API -------------------------------------------------------------------------


def test_dispatcher_reissues_a_link_and_the_old_one_stops_working(api_client, dispatcher, create_pickup, token_of, client):
    pickup = create_pickup()
    old = token_of(pickup)
    api = api_client(dispatcher)
    response = api.post(f"/api/v1/pickups/{pickup.id}/customer-link")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "active" and body["expires_at"] is None
    assert body["customer_url"].startswith("http://backhaul.test/r/") and not body["customer_url"].endswith(old)
    assert client.get(f"/r/{old}").status_code == 404
    assert client.get(body["customer_url"].replace("http://backhaul.test", "")).status_code == 200
    detail = api.get(f"/api/v1/pickups/{pickup.id}").json
    assert detail["customer_url"] == body["customer_url"]
    assert {"customer_link_revoked", "customer_link_issued"} <= {e["kind"] for e in detail["events"]}


def test_dispatcher_revokes_a_link_without_replacement(api_client, dispatcher, create_pickup, token_of, client):
    pickup = create_pickup()
    token = token_of(pickup)
    api = api_client(dispatcher)
    response = api.delete(f"/api/v1/pickups/{pickup.id}/customer-link")
    assert response.status_code == 200
    assert response.json == {"customer_url": None, "status": "none", "created_at": None, "expires_at": None}
    assert client.get(f"/r/{token}").status_code == 404
    assert api.get(f"/api/v1/pickups/{pickup.id}").json["customer_url"] is None
    assert api.get(f"/api/v1/pickups/{pickup.id}/customer-link").json["status"] == "none"


def test_link_state_says_when_it_expires(api_client, dispatcher, create_pickup, db):
    pickup = create_pickup()
    cancel_pickup(pickup, "Not needed", actor=None)
    db.session.commit()
    body = api_client(dispatcher).get(f"/api/v1/pickups/{pickup.id}/customer-link").json
    assert body["status"] == "active" and body["expires_at"] is not None


@pytest.mark.parametrize("role", ["driver", "hub"])
def test_only_dispatchers_manage_customer_links(api_client, create_user, create_pickup, token_of, client, role):
    pickup = create_pickup()
    token = token_of(pickup)
    api = api_client(create_user(role))
    assert api.post(f"/api/v1/pickups/{pickup.id}/customer-link").status_code == 403
    assert api.delete(f"/api/v1/pickups/{pickup.id}/customer-link").status_code == 403
    assert api.get(f"/api/v1/pickups/{pickup.id}/customer-link").status_code == 403
    assert client.get(f"/r/{token}").status_code == 200


def test_reissue_needs_csrf_and_login(api_client, dispatcher, create_pickup):
    pickup = create_pickup()
    assert api_client().post(f"/api/v1/pickups/{pickup.id}/customer-link").status_code in (400, 401)
    api = api_client(dispatcher)
    api.csrf_token = None
    response = api.post(f"/api/v1/pickups/{pickup.id}/customer-link")
    assert response.status_code == 400 and response.json["error"]["code"] == "csrf_failed"


def test_customer_link_endpoints_are_documented(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    link = paths["/api/v1/pickups/{pickup_id}/customer-link"]
    assert {"get", "post", "delete"} <= set(link)
    assert "201" in link["post"]["responses"]
    assert "/api/v1/pickups/{pickup_id}/label.{fmt}" in paths
