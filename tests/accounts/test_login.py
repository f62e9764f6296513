"""Logging in and out: HTML form, JSON, rate limits, deactivation, role homes."""
import os
import re

import pytest

from app.accounts.services import authenticate, deactivate_user, set_password
from tests.conftest import TEST_PASSWORD


def form_token(client, url="/login"):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_passwords_are_stored_hashed_with_scrypt(driver):
    assert TEST_PASSWORD not in driver.password_hash
    assert driver.password_hash.startswith("scrypt:")


def test_authenticate_checks_password_and_active_flag(driver, db):
    assert authenticate(driver.email.upper(), TEST_PASSWORD) == driver
    assert authenticate(driver.email, "wrong password") is None
    assert authenticate("nobody@example.test", TEST_PASSWORD) is None
    deactivate_user(driver)
    assert authenticate(driver.email, TEST_PASSWORD) is None


def test_json_login_answers_user_and_csrf_token(api_client, driver):
    client = api_client()
    response = client.login(driver.email)
    assert response.status_code == 200
    assert response.json["user"]["role"] == "driver"
    assert response.json["csrf_token"]
    session = client.get("/api/v1/auth/session")
    assert session.json["user"]["id"] == driver.id


def test_wrong_password_is_401_json_error(api_client, driver):
    response = api_client().login(driver.email, "not the password")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"


def test_login_with_missing_fields_is_422_with_field_messages(app):
    response = app.test_client().post("/api/v1/auth/login", json={"email": "not-an-email"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"email", "password"}


def test_session_cookie_is_httponly_and_samesite(app, driver):
    response = app.test_client().post("/api/v1/auth/login", json={"email": driver.email, "password": TEST_PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_html_login_sends_each_role_home(client, dispatcher):
    response = client.post("/login", data={"email": dispatcher.email, "password": TEST_PASSWORD, "csrf_token": form_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dispatch/")
    assert client.get("/").headers["Location"].endswith("/dispatch/")


def test_html_login_refuses_offsite_next(client, dispatcher):
    response = client.post("/login?next=https://evil.example/", data={"email": dispatcher.email, "password": TEST_PASSWORD, "csrf_token": form_token(client)})
    assert response.headers["Location"].endswith("/dispatch/")


def test_html_login_without_csrf_token_is_refused(client, dispatcher):
    response = client.post("/login", data={"email": dispatcher.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_wrong_password_form_says_so_and_keeps_email(client, dispatcher):
    response = client.post("/login", data={"email": dispatcher.email, "password": "nope nope", "csrf_token": form_token(client)})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Wrong email or password." in page and dispatcher.email in page


def test_after_five_wrong_passwords_the_next_attempt_waits_even_with_the_right_password(app, driver):
    client = app.test_client()
    statuses = [client.post("/api/v1/auth/login", json={"email": driver.email, "password": "wrong-guess"}).status_code for _ in range(5)]
    assert statuses == [401] * 5
    # The right password is refused too while the wait runs, or the wait would not slow a guesser.
    blocked = client.post("/api/v1/auth/login", json={"email": driver.email, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json["error"]["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 2
    assert "Wait" in blocked.json["error"]["message"]


def test_the_html_login_waits_too_and_says_how_long(client, dispatcher):
    for _ in range(5):
        assert client.post("/login", data={"email": dispatcher.email, "password": "nope nope", "csrf_token": form_token(client)}).status_code == 401
    response = client.post("/login", data={"email": dispatcher.email, "password": TEST_PASSWORD, "csrf_token": form_token(client)})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many wrong passwords. Wait" in response.get_data(as_text=True)


def test_failed_logins_are_limited_per_address_across_accounts(app, create_user):
    users = [create_user("driver") for _ in range(8)]  # four misses each: no account reaches its own wait
    client = app.test_client()
    statuses = []
    for n in range(32):
        user = users[n % len(users)]
        statuses.append(client.post("/api/v1/auth/login", json={"email": user.email, "password": f"guess-{n}"}).status_code)
    assert statuses[:30] == [401] * 30
    assert statuses[30:] == [429, 429]


def test_successful_logins_are_not_counted(app, driver):
    client = app.test_client()
    for _ in range(15):
        assert client.post("/api/v1/auth/login", json={"email": driver.email, "password": TEST_PASSWORD}).status_code == 200


def test_deactivated_user_is_refused_at_next_request(api_client, driver, db):
    client = api_client(driver)
    assert client.get("/api/v1/auth/session").status_code == 200
    deactivate_user(driver)
    db.session.commit()
    response = client.get("/api/v1/auth/session")
    assert response.status_code == 401


def test_password_change_ends_other_sessions(api_client, driver, db):
    client = api_client(driver)
    set_password(driver, "a brand new password")
    db.session.commit()
    assert client.get("/api/v1/auth/session").status_code == 401


def test_logout_needs_post_with_csrf(client, dispatcher):
    client.post("/login", data={"email": dispatcher.email, "password": TEST_PASSWORD, "csrf_token": form_token(client)})
    assert client.get("/logout").status_code == 200  # asks, does not log out
    assert client.get("/dispatch/").status_code == 200
    assert client.post("/logout").status_code == 400
    client.post("/logout", data={"csrf_token": form_token(client, "/logout")})
    assert client.get("/dispatch/").status_code == 302


def test_users_create_cli(app, hub):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "New@Example.test", "--password", "long enough pw", "--role", "driver", "--name", "Nia New", "--hub", "tst"])
    assert result.exit_code == 0, result.output
    assert authenticate("new@example.test", "long enough pw") is not None
    again = runner.invoke(args=["users", "create", "--email", "new@example.test", "--password", "long enough pw", "--role", "driver", "--name", "Nia"])
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["users", "create", "--email", "x@example.test", "--password", "short", "--role", "driver", "--name", "X"])
    assert short.exit_code != 0 and "too short" in short.output


@pytest.mark.skipif(not os.environ.get("REDIS_TEST_URL") and not os.environ.get("CI"), reason="REDIS_TEST_URL not set")
def test_login_limits_are_shared_through_redis_across_app_instances(database_url, tmp_path, create_user):
    """Two app processes behind a balancer must count failures together (REDIS_URL)."""
    from app import create_app
    from tests.conftest import test_settings

    redis_url = os.environ["REDIS_TEST_URL"]
    user = create_user("driver")
    # Flask-Limiter keeps the first key prefix it was given for the life of the
    # process (its limiter object is global), so use one fixed prefix and clear it.
    import redis

    prefix = "backhaul-test-shared-limits"
    store = redis.Redis.from_url(redis_url)
    stale = store.keys(f"LIMITS:{prefix}/*")
    if stale:
        store.delete(*stale)
    settings = {**test_settings(database_url, tmp_path), "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": prefix}
    first, second = create_app(settings), create_app(settings)
    statuses = []
    for n in range(8):
        instance = (first, second)[n % 2]
        statuses.append(instance.test_client().post("/api/v1/auth/login", json={"email": user.email, "password": "wrong-guess"}).status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3
    # The counts live in Redis, not in this process.
    keys = store.keys(f"LIMITS:{prefix}/login-failures/*")
    assert keys, "no rate-limit counters were written to Redis"
    store.delete(*keys)
    store.close()
    from app.extensions import db

    for instance in (first, second):
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()
