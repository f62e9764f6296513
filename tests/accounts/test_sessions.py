"""Sessions that end: after logout (or a password change) no earlier cookie gets anyone in."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from app.accounts.services import set_password
from tests.conftest import TEST_PASSWORD


def _login(app, user, remember):  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"email": user.email, "password": TEST_PASSWORD, "remember": remember})
    assert response.status_code == 200
    return client, response


def _with_cookie(app, name, value):  # type: ignore[no-untyped-def]
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief


def test_a_stolen_session_cookie_is_useless_after_logout(app, driver):
    client, login = _login(app, driver, remember=False)
    stolen = client.get_cookie("session").value
    assert _with_cookie(app, "session", stolen).get("/api/v1/auth/session").status_code == 200
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": login.json["csrf_token"]}).status_code == 200
    assert client.get("/api/v1/auth/session").status_code == 401
    assert _with_cookie(app, "session", stolen).get("/api/v1/auth/session").status_code == 401


def test_a_remember_cookie_alone_is_useless_after_logout_and_logout_deletes_it(app, driver):
    client, login = _login(app, driver, remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None
    assert _with_cookie(app, "remember_token", remember.value).get("/api/v1/auth/session").status_code == 200
    logout = client.post("/api/v1/auth/logout", headers={"X-CSRFToken": login.json["csrf_token"]})
    assert "remember_token=;" in " ".join(logout.headers.getlist("Set-Cookie"))
    assert _with_cookie(app, "remember_token", remember.value).get("/api/v1/auth/session").status_code == 401


def test_logout_in_the_browser_ends_the_sessions_of_the_phone_too(app, client, driver):
    phone, _ = _login(app, driver, remember=True)
    browser, login = _login(app, driver, remember=False)
    browser.post("/api/v1/auth/logout", headers={"X-CSRFToken": login.json["csrf_token"]})
    assert phone.get("/api/v1/auth/session").status_code == 401


def test_a_password_change_makes_every_earlier_cookie_useless(app, driver, db):
    client, _ = _login(app, driver, remember=True)
    session, remember = client.get_cookie("session").value, client.get_cookie("remember_token").value
    set_password(driver, "a brand new password")
    db.session.commit()
    assert _with_cookie(app, "session", session).get("/api/v1/auth/session").status_code == 401
    assert _with_cookie(app, "remember_token", remember).get("/api/v1/auth/session").status_code == 401


def test_the_remember_cookie_is_set_only_when_asked_and_lasts_at_most_14_days(app, driver):
    client, login = _login(app, driver, remember=False)
    assert client.get_cookie("remember_token") is None
    _, login = _login(app, driver, remember=True)
    cookie = next(c for c in login.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert timedelta(days=13) < expires - datetime.now(timezone.utc) <= timedelta(days=14)
    assert "HttpOnly" in cookie


def test_the_csrf_secret_is_rotated_at_login(app, driver):
    client = app.test_client()
    before = client.get("/api/v1/auth/session")  # anonymous: 401, but a CSRF secret may be set
    assert before.status_code == 401
    client.get("/login")
    anonymous_secret = _session_value(app, client, "csrf_token")
    response = client.post("/api/v1/auth/login", json={"email": driver.email, "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert _session_value(app, client, "csrf_token") not in (None, anonymous_secret)


def _session_value(app, client, key):  # type: ignore[no-untyped-def]
    cookie = client.get_cookie("session")
    if cookie is None:
        return None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return data.get(key)


def test_staff_answers_with_personal_data_are_not_cached(api_client, dispatcher, create_pickup):
    create_pickup()
    client = api_client(dispatcher)
    for url in ("/api/v1/pickups", "/dispatch/", "/api/v1/auth/session"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"], url


def test_hsts_only_in_production(app, database_url, tmp_path, monkeypatch):
    from app import create_app
    from tests.conftest import test_settings

    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers
    production = create_app({**test_settings(database_url, tmp_path), "BACKHAUL_ENV": "production"})
    assert production.test_client().get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=")


def test_hub_clerks_get_the_label_code_but_not_the_customers_private_link(api_client, create_user, dispatcher, create_pickup):
    pickup = create_pickup()
    clerk = api_client(create_user("hub"))
    seen = clerk.get(f"/api/v1/pickups/{pickup.id}").json
    assert seen["customer_url"] is None and seen["label_code"]
    assert all(p["customer_url"] is None for p in clerk.get("/api/v1/pickups").json["items"])
    assert api_client(dispatcher).get(f"/api/v1/pickups/{pickup.id}").json["customer_url"]
