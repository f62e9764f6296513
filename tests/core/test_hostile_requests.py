"""A few hundred hand-made hostile requests on every kind of route: never a 5xx, and a refusal stores nothing.

Odd content types, huge and deep bodies, bad UTF-8, broken Unicode and NUL,
numbers and dates past what the code or the database holds, digits that are not
0-9, path tricks, header tricks and bad query values; anonymous and logged in.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.labels.services import customer_url
from app.pickups.models import Pickup
from app.sync.models import SyncMutation

pytestmark = pytest.mark.postgres

DEEP_LIST = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
BODIES: dict[str, tuple[bytes, str]] = {
    "deep-list": (DEEP_LIST, "application/json"),
    "deep-object": (DEEP_OBJECT, "application/json"),
    "5000-digits": (b'{"version": ' + b"9" * 5000 + b"}", "application/json"),
    "huge-int": (b'{"version": 99999999999999999999999, "driver_id": -63014909928031752}', "application/json"),
    "infinity": (b'{"version": 1e999}', "application/json"),
    "nan": (b'{"version": NaN}', "application/json"),
    "bad-utf8": (b'{"reason": "\xff\xfe\xc3"}', "application/json"),
    "surrogate": (b'{"reason": "x\\ud83d", "notes": "\\udc00", "name": "\\ud83d"}', "application/json"),
    "nul": (b'{"reason": "x\\u0000", "notes": "\\u0000", "name": "\\u0000"}', "application/json"),
    "surrogate-key": (b'{"\\ud83d": 1}', "application/json"),
    "empty": (b"", "application/json"),
    "null": (b"null", "application/json"),
    "list": (b"[1, 2, 3]", "application/json"),
    "string": (b'"hello"', "application/json"),
    "truncated": (b'{"reason": "x', "application/json"),
    "bom": (b'\xef\xbb\xbf{"reason": "x"}', "application/json"),
    "latin1": ('{"reason": "caf\xe9"}'.encode("latin-1"), "application/json; charset=latin-1"),
    "text-plain": (b'{"reason": "x"}', "text/plain"),
    "xml": (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>", "application/xml"),
    "form-as-json": (b"reason=x&version=1", "application/json"),
    "multipart-garbage": (b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\x00\r\n--x--", "multipart/form-data; boundary=x"),
    "dates-at-the-ends": (b'{"date": "9999-12-31", "window": {"start": "0001-01-01T00:00:00+00:00", "end": "9999-12-31T23:59:59+00:00"}}', "application/json"),
    "wrong-types": (b'{"version": "1", "driver_id": [1], "reason": {"a": 1}, "pickup_ids": "1,2"}', "application/json"),
    "large-string": (b'{"reason": "' + b"x" * 2_000_000 + b'"}', "application/json"),
    "too-large": (b"x" * (17 * 1024 * 1024), "application/octet-stream"),
}
JSON_TARGETS = [
    ("anon", "POST", "/api/v1/auth/login"),
    ("dispatcher", "POST", "/api/v1/pickups"),
    ("dispatcher", "PATCH", "/api/v1/pickups/{pid}"),
    ("dispatcher", "POST", "/api/v1/pickups/{pid}/assign"),
    ("dispatcher", "POST", "/api/v1/pickups/{pid}/cancel"),
    ("dispatcher", "POST", "/api/v1/pickups/route"),
    ("dispatcher", "POST", "/api/v1/pickups/{pid}/customer-link"),
    ("driver", "POST", "/api/v1/sync/push"),
    ("driver", "PUT", "/api/v1/photos/6f1c1a52-5a3e-4c1e-9d7b-2f4a7c1b9e01"),
]
QUERY_TARGETS = [
    ("dispatcher", "/api/v1/pickups?page={v}"),
    ("dispatcher", "/api/v1/pickups?per_page={v}&status={v}"),
    ("dispatcher", "/api/v1/pickups?date={v}&driver_id={v}&q={v}"),
    ("dispatcher", "/dispatch/?date={v}&page={v}&driver_id={v}&hub_id={v}&status={v}"),
    ("dispatcher", "/dispatch/export.csv?date={v}&driver_id={v}"),
    ("dispatcher", "/dispatch/reports/pickups.csv?from={v}&to={v}&hub_id={v}"),
    ("dispatcher", "/dispatch/routes/{driver}?date={v}"),
    ("dispatcher", "/api/v1/users?role={v}"),
    ("driver", "/api/v1/sync/pull?cursor={v}&client_id={v}"),
    ("hub", "/hub/?code={v}"),
    ("anon", "/l/?code={v}"),
]
QUERY_VALUES = {
    "huge": "9999999999999999999",
    "past-int32": "2147483648",
    "negative": "-63014909928031752",
    "superscript": "%C2%B2",
    "arabic-digit": "%D9%A3",
    "nul": "%00",
    "bad-utf8": "%ED%A0%BD",
    "end-of-calendar": "9999-12-31",
    "start-of-calendar": "0001-01-01",
    "not-a-date": "2026-13-45",
    "float": "1e400",
    "sql": "%27%20OR%201%3D1--",
    "crlf": "%0d%0aSet-Cookie:%20x%3Dy",
    "long": "x" * 5000,
}
PATHS = [
    ("dispatcher", "GET", "/api/v1/pickups/9825019076267879694336"),
    ("dispatcher", "POST", "/api/v1/pickups/9825019076267879694336/cancel"),
    ("dispatcher", "GET", "/api/v1/pickups/2147483648"),
    ("dispatcher", "GET", "/api/v1/pickups/-1"),
    ("dispatcher", "GET", "/api/v1/pickups/%D9%A3"),
    ("dispatcher", "GET", "/api/v1/pickups/%C2%B2"),
    ("dispatcher", "GET", "/api/v1/pickups/0"),
    ("dispatcher", "GET", "/api/v1/pickups/1%00"),
    ("dispatcher", "GET", "/api/v1/pickups/{pid}/label.exe"),
    ("dispatcher", "GET", "/api/v1/pickups/{pid}/label.png?download=%00"),
    ("dispatcher", "GET", "/api/v1/photos/not-a-uuid"),
    ("dispatcher", "GET", "/api/v1/photos/00000000-0000-0000-0000-000000000000/thumb"),
    ("dispatcher", "GET", "/dispatch/pickups/99999999999"),
    ("dispatcher", "GET", "/dispatch/pickups/99999999999/edit"),
    ("dispatcher", "GET", "/dispatch/routes/2147483648"),
    ("dispatcher", "GET", "/dispatch/import/2147483648"),
    ("dispatcher", "GET", "/dispatch/reports/%00.csv"),
    ("dispatcher", "GET", "/dispatch/reports/..%2F..%2Fetc%2Fpasswd.csv"),
    ("anon", "GET", "/r/%00"),
    ("anon", "GET", "/r/%ED%A0%BD"),
    ("anon", "GET", "/r/..%2F..%2Fetc%2Fpasswd"),
    ("anon", "GET", "/r/" + "a" * 5000),
    ("anon", "GET", "/r/{token}/label.exe"),
    ("anon", "POST", "/r/{token}/cancel"),
    ("anon", "GET", "/l/%00"),
    ("anon", "GET", "/l/%ED%A0%BD"),
    ("anon", "GET", "/l/" + "A" * 5000),
    ("anon", "GET", "/l/..%2F..%2F"),
    ("anon", "GET", "/static/..%2F..%2Fapp%2Fconfig.py"),
    ("anon", "GET", "/static/%00"),
    ("anon", "GET", "//api/v1/pickups"),
    ("anon", "GET", "/api/v1/../../etc/passwd"),
    ("anon", "GET", "/api/v1/%00"),
    ("anon", "DELETE", "/api/v1/auth/login"),
    ("anon", "GET", "/api/v1/sync/push"),
    ("anon", "TRACE", "/api/v1/pickups"),
    ("anon", "PROPFIND", "/dispatch/"),
]
HEADERS = {
    "host-injection": {"Host": "evil.example"},
    "forwarded-garbage": {"X-Forwarded-For": "not-an-ip, \x7f", "X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil"},
    "accept-garbage": {"Accept": "*/*;q=abc, text/html;;;", "Accept-Language": "xx-%00;q=2"},
    "cookie-garbage": {"Cookie": "session=garbage; remember_token=1|nothing"},
    "cookie-forged-remember": {"Cookie": "remember_token=1:abc|0000"},
    "bearer-garbage": {"Authorization": "Bearer \x7f\x7f"},
    "basic-garbage": {"Authorization": "Basic !!!"},
    "csrf-garbage": {"X-CSRFToken": "x" * 10_000},
    "range": {"Range": "bytes=999999999999-"},
    "if-none-match": {"If-None-Match": '"' + "x" * 5000 + '"'},
    "app-version-broken": {"X-App-Version": "1.0\x7f"},
}
HEADER_TARGETS = [
    ("anon", "GET", "/api/v1/auth/session"),
    ("anon", "GET", "/dispatch/"),
    ("dispatcher", "GET", "/api/v1/pickups"),
    ("dispatcher", "GET", "/api/v1/pickups/{pid}/label.pdf"),
    ("driver", "POST", "/api/v1/sync/push"),
    ("anon", "GET", "/r/{token}"),
]
FORMS = [
    ("anon", "/login", "email=a%40b.c&password=a%00b"),
    ("anon", "/login", "email=%00&password=x"),
    ("anon", "/login", "email=" + "a" * 100_000 + "&password=x"),
    ("dispatcher", "/dispatch/pickups/{pid}/assign", "driver_id=%C2%B2"),
    ("dispatcher", "/dispatch/pickups/{pid}/assign", "driver_id=99999999999999999999"),
    ("dispatcher", "/dispatch/pickups/{pid}/assign", "driver_id=-63014909928031752"),
    ("dispatcher", "/dispatch/pickups/{pid}/assign", "driver_id=2147483648&version=%D9%A3"),
    ("dispatcher", "/dispatch/pickups/{pid}/cancel", "reason=%00&version=1"),
    ("dispatcher", "/dispatch/pickups/{pid}/cancel", "reason=x&version=99999999999999999999"),
    ("dispatcher", "/dispatch/pickups/{pid}/edit", "notes=%00&version=%C2%B2"),
    ("dispatcher", "/dispatch/pickups/{pid}/edit", "window_start=9999-12-31T23%3A59&window_end=0001-01-01T00%3A00&version=1"),
    ("dispatcher", "/dispatch/pickups/new", "customer_name=%00&day=9999-12-31&items-0-quantity=%C2%B2"),
    ("dispatcher", "/dispatch/pickups/new", "day=0001-01-01&start=25%3A99&items-99999999999-sku=x"),
    ("dispatcher", "/dispatch/routes/{driver}/move", "pickup_id=%C2%B2&direction=up"),
    ("dispatcher", "/dispatch/routes/{driver}/move", "pickup_id=99999999999999999999&direction=down"),
    ("dispatcher", "/dispatch/routes/{driver}/order", "pickup_ids=1%2C%C2%B2%2C99999999999999999999&date=9999-12-31"),
    ("dispatcher", "/dispatch/import", "hub_id=%C2%B2"),
    ("dispatcher", "/dispatch/import/2147483647/commit", "x=1"),
    ("dispatcher", "/dispatch/labels.pdf", "pickup_ids=%C2%B2&pickup_ids=99999999999999999999"),
    ("hub", "/hub/pickups/{pid}/receive", "version=%C2%B2&disposition-1=%00"),
    ("hub", "/hub/pickups/{pid}/receive", "version=99999999999999999999"),
    ("anon", "/r/{token}/notes", "access_notes=%00"),
    ("anon", "/r/{token}/notes", "access_notes=" + "x" * 100_000),
    ("anon", "/r/{token}/cancel", "confirm=yes&reason=%00"),
]


def _groups() -> list[Any]:
    """One parameter per route (or route family); each runs its hostile requests in turn."""
    groups = []
    for role, method, url in JSON_TARGETS:
        requests = [(f"body {name}", method, url, {"data": body, "content_type": kind}) for name, (body, kind) in BODIES.items()]
        groups.append(pytest.param(role, requests, id=f"bodies-{method}-{url}"))
    for role, url in QUERY_TARGETS:
        requests = [(f"query {name}", "GET", url.replace("{v}", value), {}) for name, value in QUERY_VALUES.items()]
        groups.append(pytest.param(role, requests, id=f"queries-{url.split('?')[0]}"))
    for role in ("anon", "dispatcher"):
        requests = [(f"path {url[:60]}", method, url, {}) for who, method, url in PATHS if who == role]
        groups.append(pytest.param(role, requests, id=f"paths-{role}"))
    for role, method, url in HEADER_TARGETS:
        extra: dict[str, Any] = {"json": {}} if method == "POST" else {}
        requests = [(f"header {name}", method, url, {"headers": headers, **extra}) for name, headers in HEADERS.items()]
        groups.append(pytest.param(role, requests, id=f"headers-{method}-{url}"))
    for role in ("anon", "dispatcher", "hub"):
        requests = [(f"form {form[:40]}", "POST", url, {"data": form, "content_type": "application/x-www-form-urlencoded"}) for who, url, form in FORMS if who == role]
        groups.append(pytest.param(role, requests, id=f"forms-{role}"))
    return groups


GROUPS = _groups()


@pytest.fixture
def database_url(postgres_schema):  # type: ignore[no-untyped-def]
    """PostgreSQL: where NUL, broken Unicode and out-of-range integers used to become 500s."""
    return postgres_schema


def _snapshot(db) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    pickups = db.session.execute(select(func.count(Pickup.id), func.coalesce(func.sum(Pickup.version), 0))).one()
    return tuple(pickups) + (db.session.scalar(select(func.count()).select_from(SyncMutation)),)


def test_there_are_a_few_hundred_hostile_requests():
    assert sum(len(group.values[1]) for group in GROUPS) >= 300


@pytest.mark.parametrize(("role", "requests"), GROUPS)
def test_hostile_requests_are_never_a_5xx_and_a_refusal_stores_nothing(api_client, create_user, create_pickup, db, role, requests):
    driver = create_user("driver")
    user = driver if role == "driver" else (create_user(role) if role != "anon" else None)
    pickup = create_pickup(driver=driver)
    token = customer_url(pickup).rsplit("/", 1)[1]
    client = api_client(user)
    problems = []
    for name, method, url, request_kwargs in requests:
        url = url.format(pid=pickup.id, driver=driver.id, token=token)
        before = _snapshot(db)
        response = client._send(method, url, **request_kwargs)
        if response.status_code >= 500:
            problems.append(f"{name} {method} {url[:80]}: {response.status_code} {response.get_data()[:300]!r}")
        elif response.status_code >= 400 and _snapshot(db) != before:
            problems.append(f"{name} {method} {url[:80]}: refused ({response.status_code}) but stored something")
    assert not problems, "\n".join(problems)
