"""Limits that hold: counted in Redis across gunicorn workers, and never against a customer's valid link."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests

from app.config import check_shared_limits
from app.labels.services import customer_url
from tests.support.server import ROOT, LiveServer, database_url_of

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_TEST_URL") and not os.environ.get("CI"), reason="REDIS_TEST_URL not set")


def test_a_valid_customer_link_is_served_while_its_address_is_limited(app, create_pickup):
    pickup = create_pickup()
    link = customer_url(pickup).replace("http://backhaul.test", "")
    client = app.test_client()
    misses = [client.get(f"/r/{'x' * 43}").status_code for _ in range(31)]
    assert misses[:30] == [404] * 30 and misses[30] == 429
    assert client.get(link).status_code == 200
    assert client.get(f"/r/{'y' * 43}").status_code == 429  # misses are still refused


def test_several_production_workers_without_redis_refuse_to_start():
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        check_shared_limits(2, {"BACKHAUL_ENV": "production"})
    check_shared_limits(1, {"BACKHAUL_ENV": "production"})
    check_shared_limits(2, {"BACKHAUL_ENV": "production", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    check_shared_limits(4, {})  # development: one person's machine


def test_gunicorn_with_two_production_workers_and_no_redis_exits(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"BACKHAUL_ENV": "production", "PUBLIC_BASE_URL": "https://backhaul.test", "SECRET_KEY": "x" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "-w", "2", "-b", "127.0.0.1:0"],
        cwd=ROOT, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert b"REDIS_URL" in result.stderr


@needs_redis
@pytest.mark.chaos
def test_two_gunicorn_workers_sharing_redis_hold_each_limit_exactly(app, db, create_user, create_pickup, tmp_path):
    """The issue's probe: with -w 2 and no Redis, 18 of a limit of 10 got through (now: 5 free misses, then a wait)."""
    import redis

    if not database_url_of(app).startswith("postgresql"):
        pytest.skip("gunicorn workers share a PostgreSQL database")
    user = create_user("driver")
    pickup = create_pickup()
    link = customer_url(pickup).replace("http://backhaul.test", "")
    prefix = f"backhaul-test-{uuid.uuid4().hex[:8]}"
    server = LiveServer(database_url_of(app), tmp_path / "photos", tmp_path / "gunicorn.log", extra_args=("--workers", "2"))
    server.env.update({"REDIS_URL": os.environ["REDIS_TEST_URL"], "LIMITS_KEY_PREFIX": prefix, "BACKHAUL_ENV": "production", "PUBLIC_BASE_URL": "https://backhaul.test"})
    server.env.pop("RATELIMIT_STORAGE_URI", None)
    server.start()
    store = redis.Redis.from_url(os.environ["REDIS_TEST_URL"])
    try:
        logins = []
        for _ in range(14):  # a new connection each time, so both workers answer
            response = requests.post(f"{server.url}/api/v1/auth/login", json={"email": user.email, "password": "wrong-guess"}, headers={"Connection": "close"}, timeout=10)
            logins.append(response.status_code)
        assert logins == [401] * 5 + [429] * 9
        misses = [requests.get(f"{server.url}/r/{'x' * 43}", headers={"Connection": "close"}, timeout=10).status_code for _ in range(32)]
        assert misses == [404] * 30 + [429] * 2
        assert requests.get(f"{server.url}{link}", timeout=10).status_code == 200
        assert store.keys(f"*{prefix}*"), "no counters in Redis under LIMITS_KEY_PREFIX"
    finally:
        server.stop()
        stale = store.keys(f"*{prefix}*")
        if stale:
            store.delete(*stale)
        store.close()
