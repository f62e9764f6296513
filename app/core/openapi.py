"""What the OpenAPI document says beyond the schemas: how a client authenticates on each operation.

A browser or the PWA logs in (``POST /api/v1/auth/login``) and sends the
session cookie on every call, and on every unsafe one (POST, PUT, PATCH,
DELETE) the CSRF token from the login or ``GET /api/v1/auth/session`` in the
``X-CSRFToken`` header; other systems send ``Authorization: Bearer <api key>``
instead (app.apikeys). An apispec plugin writes that on every operation, so a
new endpoint cannot forget it.

``NumbersPlugin`` fixes what apispec writes for decimals: it serialises a
``Range`` through the field (``"minimum": "0.00"``, a string, which is not
JSON Schema and made schemathesis give up on every body holding a value or a
weight), and calls a decimal sent as a string a number.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

CSRF = {
    "type": "apiKey",
    "in": "header",
    "name": "X-CSRFToken",
    "description": "the csrf_token of the login or GET /api/v1/auth/session answer; required on POST, PUT, PATCH and DELETE",
}
# Reached without a session: logging in, asking who is logged in, the document itself.
PUBLIC_PATHS = {"/api/v1/auth/login", "/api/v1/auth/session", "/api/v1/openapi.json"}
UNSAFE = {"post", "put", "patch", "delete"}


class SessionAuthPlugin(BasePlugin):
    """Document the session cookie and the CSRF header (flask-smorest ``extra_plugins``)."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        # "session" and "apiKey" (Bearer) are declared by app.apikeys.auth; the CSRF header is ours.
        spec.components.security_scheme("csrf", CSRF)

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if path in PUBLIC_PATHS:
                operation.setdefault("security", [])
            elif method in UNSAFE:
                operation.setdefault("security", [{"session": [], "csrf": []}, {"apiKey": []}])
            else:
                operation.setdefault("security", [{"session": []}, {"apiKey": []}])


def decimal2properties(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A decimal's bounds as JSON numbers; a decimal answered as text (``as_string``) as a string."""
    if not isinstance(field, fields.Decimal):
        return {}
    found: dict[str, Any] = {}
    for key in ("minimum", "maximum"):
        bound = ret.get(key)
        if isinstance(bound, Decimal | str):
            number = Decimal(bound)
            found[key] = int(number) if number == number.to_integral_value() else float(number)
    if field.as_string:
        found.update({"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"})
    return found


class NumbersPlugin(BasePlugin):
    """Register ``decimal2properties`` with the marshmallow plugin (it runs after apispec's own)."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin) and plugin.converter is not None:
                plugin.converter.add_attribute_function(decimal2properties)
