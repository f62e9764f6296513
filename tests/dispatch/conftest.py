"""Fixtures for the dispatcher console: a logged-in browser-like client and CSV builders."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from app.dispatch.imports import ALL_COLUMNS
from tests.conftest import TEST_PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    """A test client logged in through the HTML form, posting forms with their CSRF token."""

    def __init__(self, flask_client: Any):
        self.raw = flask_client
        self.token: str | None = None

    def login(self, email: str, password: str = TEST_PASSWORD) -> Any:
        token = _TOKEN.search(self.raw.get("/login").get_data(as_text=True)).group(1)
        response = self.raw.post("/login", data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        # The token lives in the session; any page with a form shows it.
        self.token = _TOKEN.search(self.raw.get("/logout").get_data(as_text=True)).group(1)
        return response

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.raw.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self.raw.post(url, data=data, **kwargs)


@pytest.fixture
def console(app, dispatcher):  # type: ignore[no-untyped-def]
    """The demo dispatcher's browser, logged in."""
    client = ConsoleClient(app.test_client())
    client.login(dispatcher.email)
    return client


@pytest.fixture
def console_for(app):  # type: ignore[no-untyped-def]
    """A logged-in console client for any user: ``console_for(driver)``."""

    def make(user: Any) -> ConsoleClient:
        client = ConsoleClient(app.test_client())
        client.login(user.email)
        return client

    return make


def import_row(**overrides: Any) -> dict[str, str]:
    """One valid CSV row (one item of pickup RMA-1) as a dict; override any column."""
    row = {
        "reference": "RMA-1", "customer_name": "Zoë Ørsted", "line1": "Prinsengracht 263", "city": "Amsterdam",
        "postcode": "1016 GV", "country": "NL", "window_start": "2030-03-04 09:00", "window_end": "2030-03-04 11:00",
        "sku": "PHN-IP13", "description": "iPhone 13", "quantity": "1",
    }
    row.update({key: str(value) for key, value in overrides.items()})
    return row


def make_csv(rows: list[dict[str, str]], *, columns: list[str] | None = None, delimiter: str = ",", bom: bool = False) -> str:
    """CSV text with the given rows (missing cells empty), as a spreadsheet would save it."""
    columns = columns or [c for c in ALL_COLUMNS if any(c in row for row in rows)] or list(ALL_COLUMNS)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "") + out.getvalue()


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):  # type: ignore[no-untyped-def]
    """These tests log in a lot and are not about passwords: a cheap hash keeps them fast.

    The login still verifies the hash (werkzeug reads the method from it);
    tests/accounts checks the real scrypt settings.
    """
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("app.accounts.services.hash_password", lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"))
