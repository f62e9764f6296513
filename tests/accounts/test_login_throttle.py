"""Wrong passwords cost a growing wait, never a lockout: in memory and in Redis (REDIS_URL)."""
from __future__ import annotations

import os
import time
import uuid

import pytest

from app import create_app
from app.accounts.limits import delay_after
from app.extensions import db
from tests import conftest
from tests.conftest import TEST_PASSWORD

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_TEST_URL") and not os.environ.get("CI"), reason="REDIS_TEST_URL not set")


def test_the_wait_doubles_after_the_free_misses_and_stops_at_its_cap():
    waits = [delay_after(n, free=5, base=2, cap=60) for n in range(14)]
    assert waits == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert delay_after(10_000, free=5, base=2, cap=60) == 60  # no overflow, however long the attack


@pytest.fixture(params=["memory", pytest.param("redis", marks=needs_redis)])
def throttled_app(request, tmp_path):  # type: ignore[no-untyped-def]
    """An app whose login waits 2 s after 3 misses, then 4 s, counted in memory or in Redis."""
    prefix = f"backhaul-test-{uuid.uuid4().hex[:8]}"
    storage = "memory://" if request.param == "memory" else os.environ["REDIS_TEST_URL"]
    settings = {
        **conftest.test_settings(f"sqlite:///{tmp_path / 'throttle.sqlite'}", tmp_path),
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_FREE_FAILURES_PER_ACCOUNT": 3,
        "LOGIN_DELAY_BASE_SECONDS": 2,
        "LOGIN_DELAY_MAX_SECONDS": 4,
    }
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        from app.accounts.services import create_user as make_user

        make_user(email="owner@example.test", password=TEST_PASSWORD, role="driver", name="Owner")
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    if request.param == "redis":
        import redis

        store = redis.Redis.from_url(storage)
        keys = store.keys(f"LIMITS:{prefix}/*")
        assert keys, "the throttle wrote nothing to Redis"
        store.delete(*keys)
        store.close()


def _login(app, password):  # type: ignore[no-untyped-def]
    return app.test_client().post("/api/v1/auth/login", json={"email": "owner@example.test", "password": password})


def test_the_owner_waits_a_growing_time_then_gets_in_with_the_right_password(throttled_app):
    assert [_login(throttled_app, "wrong").status_code for _ in range(3)] == [401, 401, 401]
    first = _login(throttled_app, TEST_PASSWORD)
    assert first.status_code == 429 and first.json["error"]["code"] == "rate_limited"
    first_wait = int(first.headers["Retry-After"])
    assert 1 <= first_wait <= 2

    time.sleep(first_wait + 0.3)
    assert _login(throttled_app, "wrong again").status_code == 401  # the wait is over: one more try
    second = _login(throttled_app, TEST_PASSWORD)
    assert second.status_code == 429
    second_wait = int(second.headers["Retry-After"])
    assert first_wait < second_wait <= 4  # it grew

    time.sleep(second_wait + 0.3)
    assert _login(throttled_app, TEST_PASSWORD).status_code == 200
    # Getting in forgets the account's misses: the next typo costs nothing.
    assert _login(throttled_app, "typo").status_code == 401
    assert _login(throttled_app, TEST_PASSWORD).status_code == 200


def test_with_redis_down_logins_still_work_and_are_not_a_500(tmp_path):
    settings = {**conftest.test_settings(f"sqlite:///{tmp_path / 'down.sqlite'}", tmp_path), "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        from app.accounts.services import create_user as make_user

        make_user(email="owner@example.test", password=TEST_PASSWORD, role="driver", name="Owner")
        db.session.commit()
        db.session.remove()
    try:
        assert _login(app, "wrong").status_code == 401
        assert _login(app, TEST_PASSWORD).status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()
