"""What an operator relies on: readiness that checks every configured part, and proxies believed only when trusted."""
from __future__ import annotations

import os
import uuid

import pytest

from app import create_app
from tests import conftest


def _app(database_url, tmp_path, **settings):  # type: ignore[no-untyped-def]
    app = create_app({**conftest.test_settings(database_url, tmp_path), **settings})
    with app.app_context():
        from app.extensions import db

        db.create_all()
    return app


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readiness_checks_redis_and_the_object_store_when_configured(database_url, tmp_path, seaweedfs):
    redis_url = os.environ.get("REDIS_TEST_URL")
    if not redis_url:
        pytest.skip("REDIS_TEST_URL is not set") if not os.environ.get("CI") else pytest.fail("REDIS_TEST_URL is required in CI")
    store = seaweedfs.settings(f"ready-{uuid.uuid4().hex[:8]}")
    ready = _app(database_url, tmp_path, REDIS_URL=redis_url, **store).test_client().get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "photo_storage": "ok"}}

    # A Redis that does not answer and a bucket that does not exist: not ready, and it says which.
    broken = _app(database_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0", **{**store, "PHOTO_STORAGE_URL": "s3://no-such-bucket-here/x"})
    answer = broken.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json == {"status": "unavailable", "checks": {"database": "ok", "redis": "unavailable", "photo_storage": "unavailable"}}
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("proxies", "second_address_refused"), [(0, True), (1, False)])
def test_forwarded_addresses_count_only_behind_trusted_proxies(database_url, tmp_path, proxies, second_address_refused):
    # Three failed logins per address: behind one trusted proxy each client has its own count;
    # without TRUSTED_PROXIES a forged X-Forwarded-For does not buy a fresh count.
    app = _app(database_url, tmp_path, TRUSTED_PROXIES=proxies, LOGIN_FREE_FAILURES_PER_ADDRESS=3, LOGIN_FREE_FAILURES_PER_ACCOUNT=100)
    client = app.test_client()

    def fail_from(address: str) -> int:
        body = {"email": f"{uuid.uuid4().hex[:6]}@example.test", "password": "wrong"}
        return client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": address}).status_code

    assert [fail_from("198.51.100.7") for _ in range(3)] == [401, 401, 401]
    assert fail_from("198.51.100.7") == 429
    assert fail_from("203.0.113.9") == (429 if second_address_refused else 401)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("proxies", "seen"), [(0, ["http", "localhost", "127.0.0.1"]), (1, ["https", "returns.example.com", "198.51.100.7"])])
def test_scheme_host_and_client_address_come_from_trusted_proxies_only(database_url, tmp_path, proxies, seen):
    from flask import jsonify, request

    app = _app(database_url, tmp_path, TRUSTED_PROXIES=proxies)
    app.add_url_rule("/_seen", "seen", lambda: jsonify([request.scheme, request.host, request.remote_addr]))
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "returns.example.com", "X-Forwarded-For": "198.51.100.7"}
    assert app.test_client().get("/_seen", headers=headers).json == seen


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("accepted", "encoding"), [("br, gzip", "br"), ("gzip", "gzip"), ("identity", None)])
def test_pages_are_compressed_as_the_browser_accepts_and_tiny_answers_are_not(database_url, tmp_path, accepted, encoding):
    import gzip

    import brotli

    client = _app(database_url, tmp_path).test_client()
    page = client.get("/login", headers={"Accept-Encoding": accepted})
    assert page.status_code == 200 and page.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in page.headers.get("Vary", "")
    body = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}[encoding](page.data)
    assert b"<html" in body
    assert "Content-Encoding" not in client.get("/healthz", headers={"Accept-Encoding": accepted}).headers
