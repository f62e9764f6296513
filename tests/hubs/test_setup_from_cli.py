"""A new operator sets up a depot with the command line only, then runs a pickup through the API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.accounts.services import authenticate, find_user_by_email
from app.hubs.services import list_hubs
from tests.conftest import ApiClient, pickup_payload


def _cli(app, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_empty_database_to_synced_pickup_with_cli_and_api_only(app, db):  # type: ignore[no-untyped-def]
    out = _cli(app, "hubs", "list")
    assert out.exit_code == 0 and "No hubs yet" in out.output

    out = _cli(app, "hubs", "create", "--code", "utr1", "--name", "Hub Utrecht", "--timezone", "Europe/Amsterdam",
               "--line1", "Kanaalweg 1", "--city", "Utrecht", "--postcode", "3526 KL", "--country", "nl", "--lat", "52.08", "--lon", "5.10")
    assert out.exit_code == 0, out.output
    assert "UTR1" in _cli(app, "hubs", "list").output

    # No --password: asked twice on a hidden prompt, so it never lands in shell history.
    out = _cli(app, "users", "create", "--email", "ops@depot.test", "--role", "dispatcher", "--name", "Ops", "--hub", "UTR1",
               input="long-enough-1\nlong-enough-1\n")
    assert out.exit_code == 0, out.output
    out = _cli(app, "users", "create", "--email", "van@depot.test", "--role", "driver", "--name", "Van Driver", "--hub", "UTR1",
               "--password", "driver-pass-1")
    assert out.exit_code == 0, out.output
    listing = _cli(app, "users", "list").output
    assert "ops@depot.test\tdispatcher" in listing and "van@depot.test\tdriver" in listing

    office = ApiClient(app.test_client())
    assert office.login("ops@depot.test", "long-enough-1").status_code == 200
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    created = office.post("/api/v1/pickups", json=pickup_payload(window={"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}))
    assert created.status_code == 201, created.json
    driver_id = office.get("/api/v1/users?role=driver").json[0]["id"]
    assert office.post(f"/api/v1/pickups/{created.json['id']}/assign", json={"driver_id": driver_id}).status_code == 200

    phone = ApiClient(app.test_client())
    assert phone.login("van@depot.test", "driver-pass-1").status_code == 200
    pulled = phone.get("/api/v1/sync/pull?client_id=setup-phone").json
    assert [c["id"] for c in pulled["changes"] if c["entity"] == "pickup"] == [created.json["id"]]
    pushed = phone.post("/api/v1/sync/push", json={"client_id": "setup-phone", "schema_version": 1, "mutations": [
        {"id": 1, "name": "arrive", "args": {"pickup_id": created.json["id"]}, "base_version": None,
         "device_time": datetime.now(timezone.utc).isoformat(), "location": None}]})
    assert pushed.json["results"][0]["status"] == "applied", pushed.json


def test_hub_create_refuses_bad_timezone_and_duplicate_code(app, db):  # type: ignore[no-untyped-def]
    out = _cli(app, "hubs", "create", "--code", "X1", "--name", "X", "--timezone", "Europe/Amsterdan")
    assert out.exit_code != 0 and "not a timezone" in out.output
    assert list_hubs() == []
    assert _cli(app, "hubs", "create", "--code", "X1", "--name", "X", "--timezone", "UTC").exit_code == 0
    again = _cli(app, "hubs", "create", "--code", "x1", "--name", "Y", "--timezone", "UTC")
    assert again.exit_code != 0 and "already exists" in again.output


def test_users_deactivate_and_set_password(app, db, hub, create_user):  # type: ignore[no-untyped-def]
    user = create_user("dispatcher", email="dee@example.test")
    out = _cli(app, "users", "set-password", "--email", "dee@example.test", input="brand-new-pass\nbrand-new-pass\n")
    assert out.exit_code == 0, out.output
    assert authenticate("dee@example.test", "brand-new-pass") is not None
    short = _cli(app, "users", "set-password", "--email", "dee@example.test", "--password", "short")
    assert short.exit_code != 0 and "too short" in short.output
    assert _cli(app, "users", "deactivate", "--email", "dee@example.test").exit_code == 0
    db.session.expire_all()
    assert find_user_by_email("dee@example.test").active is False and user.id
    assert authenticate("dee@example.test", "brand-new-pass") is None
    missing = _cli(app, "users", "deactivate", "--email", "nobody@example.test")
    assert missing.exit_code != 0 and "No user" in missing.output
