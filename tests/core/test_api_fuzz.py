"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).

Every operation, logged in as a dispatcher, a hub clerk and a driver, and with an API key: zero 5xx
and zero answers that break the document. Fixed seed and a bounded number of
examples per operation and role, so it fits in CI (a couple of minutes).
"""
from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import UnsupportedSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.apikeys.scopes import SCOPES
from app.apikeys.services import create_api_key
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.fuzz

statuses: dict[int, int] = {}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]
# Logging out would end the session every later example runs in (logout ends all of them).
SKIP = {("POST", "/api/v1/auth/logout")}


@pytest.fixture
def database_url(postgres_schema):  # type: ignore[no-untyped-def]
    """PostgreSQL only: it is where a NUL, a surrogate or an out-of-range integer used to become a 500."""
    return postgres_schema


def _session_headers(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200
    cookie = client.get_cookie("session")
    # identity: the WSGI transport hands schemathesis the bytes as sent, and answers are compressed otherwise.
    return {"session": cookie.value}, {"X-CSRFToken": response.json["csrf_token"], "Accept-Encoding": "identity"}


def _api_key_headers(db):  # type: ignore[no-untyped-def]
    """A shop's system: a key with every scope, no session and no CSRF token."""
    new = create_api_key("fuzz", list(SCOPES))
    db.session.commit()
    return {}, {"Authorization": f"Bearer {new.secret}", "Accept-Encoding": "identity"}


def _fuzz(operation, role, credentials, counted, failures):  # type: ignore[no-untyped-def]
    def check(case):  # type: ignore[no-untyped-def]
        counted["examples"] += 1
        counted["per_role"][role] = counted["per_role"].get(role, 0) + 1
        cookies, headers = credentials
        # Schemathesis fills the documented Bearer scheme with made-up keys: every such example would
        # only meet the 401 of an unknown key. Each role sends its own credentials instead.
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call(headers=headers, cookies=cookies)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        key = f"{case.method} {operation.path} {response.status_code}"
        counted["answers"][key] = counted["answers"].get(key, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as error:
            failures.append(f"{role} {case.method} {case.formatted_path}: {str(error)[:700]}")

    def run(strategy, examples):  # type: ignore[no-untyped-def]
        @seed(20261202)
        @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def each(case):  # type: ignore[no-untyped-def]
            check(case)

        each()

    try:
        # The document's own examples first (one each: random bodies rarely get past a pickup window's
        # rules, an example reaches them), then generated requests.
        for example in operation.get_strategies_from_examples():
            run(example, 1)
        run(operation.as_strategy(), EXAMPLES)
    except UnsupportedSchema:
        # Schemathesis cannot generate from this operation's body schema (it once gave up on every body
        # with a decimal, whose bounds apispec wrote as strings): a failure, so no operation goes unfuzzed.
        counted.setdefault("unsupported", set()).add(f"{operation.method.upper()} {operation.path}")


def test_the_api_answers_every_generated_request_without_5xx_and_within_its_schema(app, db, create_user, driver, dispatcher, create_pickup):
    for _ in range(3):
        create_pickup(driver=driver)
    roles = {
        "dispatcher": _session_headers(app, dispatcher),
        "hub": _session_headers(app, create_user("hub")),
        "driver": _session_headers(app, driver),
        "api key": _api_key_headers(db),
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in SKIP]
    counted: dict[str, Any] = {"operations": 0, "examples": 0, "per_role": {}, "answers": {}}
    failures: list[str] = []

    for operation in operations:
        counted["operations"] += 1
        for role, credentials in roles.items():
            _fuzz(operation, role, credentials, counted, failures)
    print(
        f"FUZZ operations={counted['operations']} examples={counted['examples']} roles={len(roles)} "
        f"per_role={counted['per_role']} statuses={dict(sorted(statuses.items()))} not_generated={sorted(counted.get('unsupported', []))}"
    )
    assert not counted.get("unsupported"), f"schemathesis could not generate requests for {sorted(counted['unsupported'])}"
    # The documented examples reach the rules, not only the refusals: a dispatcher's create succeeds.
    assert counted["answers"].get("POST /api/v1/pickups 201"), "no generated pickup was ever created"
    assert not failures, "\n\n".join(failures[:15]) + f"\n\n({len(failures)} failures)"
