"""API keys: Bearer auth without session or CSRF, scopes, revocation, the CLI."""
from __future__ import annotations

from sqlalchemy import select

from app.apikeys.models import ApiKey
from app.apikeys.services import create_api_key, hash_key, revoke_api_key
from tests.conftest import pickup_payload


def _key(db, *scopes: str, name: str = "shop") -> dict[str, str]:  # type: ignore[no-untyped-def]
    made = create_api_key(name, list(scopes))
    db.session.commit()
    return {"Authorization": f"Bearer {made.secret}"}


def test_a_key_reads_and_writes_pickups_without_a_session_or_csrf(db, client, hub):
    key = _key(db, "pickups:read", "pickups:write")
    created = client.post("/api/v1/pickups", json=pickup_payload(), headers=key)
    assert created.status_code == 201, created.json
    assert "Set-Cookie" not in created.headers
    assert client.get(f"/api/v1/pickups/{created.json['id']}", headers=key).json["reference"] == created.json["reference"]
    listed = client.get("/api/v1/pickups", headers=key)
    assert listed.status_code == 200 and listed.json["items"][0]["id"] == created.json["id"]
    stored = db.session.scalars(select(ApiKey)).one()
    assert stored.last_used_at is not None and stored.key_hash == hash_key(key["Authorization"][7:])
    # The timeline says who did it.
    events = client.get(f"/api/v1/pickups/{created.json['id']}", headers=key).json["events"]
    assert events[0]["kind"] == "created"


def test_a_key_without_the_scope_gets_403_and_a_bad_or_revoked_one_401(db, client, hub):
    reader = _key(db, "pickups:read")
    response = client.post("/api/v1/pickups", json=pickup_payload(), headers=reader)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert client.get("/api/v1/webhooks", headers=reader).status_code == 403
    assert client.get("/api/v1/sync/pull", headers=reader).status_code == 403  # a key is never a driver

    for header in ("Bearer bh_not-a-key", "Bearer ", "bearer nonsense"):
        response = client.get("/api/v1/pickups", headers={"Authorization": header})
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    revoke_api_key("shop")
    db.session.commit()
    response = client.get("/api/v1/pickups", headers=reader)
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_no_key_and_no_session_is_401(client):
    response = client.get("/api/v1/pickups")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_a_bearer_header_never_falls_back_to_the_session(db, api_client, create_user):
    person = api_client(create_user("dispatcher"))
    assert person.get("/api/v1/pickups").status_code == 200
    assert person.get("/api/v1/pickups", headers={"Authorization": "Bearer bh_wrong"}).status_code == 401


def test_the_cli_prints_the_key_once_and_revokes_it(app, db, client, hub):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-keys", "create", "--name", "returns-platform", "--scope", "pickups:read"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("bh_")
    assert db.session.scalars(select(ApiKey.key_hash)).one() == hash_key(secret) != secret
    assert client.get("/api/v1/pickups", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert runner.invoke(args=["api-keys", "create", "--name", "x", "--scope", "root"]).exit_code != 0
    assert runner.invoke(args=["api-keys", "revoke", "--name", "returns-platform"]).exit_code == 0
    assert client.get("/api/v1/pickups", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_the_openapi_document_declares_the_bearer_scheme(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["components"]["securitySchemes"]["apiKey"] == {"type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["apiKey"]["description"]}
