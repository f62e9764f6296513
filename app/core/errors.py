"""Domain errors and the one place that turns any error into an HTTP answer.

Every 4xx to an API client is JSON: ``{"error": {"code", "message", "fields"}}``.
People in a browser get a page. A 5xx is always a bug.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, render_template
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException, UnprocessableEntity

from app.core.observability import request_id
from app.extensions import db, wants_json

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain said no. Subclasses pick the status and the code."""

    status = 400
    code = "bad_request"
    # Extra response headers (e.g. Retry-After on a 429).
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidInput(DomainError):
    status = 422
    code = "validation_error"


class PageAfterRollback(Exception):
    """A failed action's own page (a form with its errors), drawn once the request's changes are rolled back.

    Views raise it instead of rolling back themselves: the page is rendered from
    the database as it was before the action, never from half-applied changes.
    """

    def __init__(self, status: int, render: Callable[[], str]):
        super().__init__(f"page after rollback ({status})")
        self.status = status
        self.render = render


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "what went wrong, for programs (e.g. validation_error, invalid_json, rate_limited)"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for people"})
    fields_ = fields.Dict(
        data_key="fields",
        required=True,
        metadata={"description": "field (dotted path for nested ones) → messages; empty when no one field is at fault"},
    )
    request_id = fields.String(metadata={"description": "the request's id in the server's logs"})


class ErrorSchema(Schema):
    """Every error answer of the JSON API (what OpenAPI documents for each operation's failures)."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    # The request id lets whoever reads the error find its log lines (see core.observability).
    body: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    if (current := request_id()) is not None:
        body["request_id"] = current
    return {"error": body}


def error_response(status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> tuple[Response | str, int]:
    """The answer to a failed request: JSON for API clients, a page for people."""
    if wants_json():
        db.session.rollback()
        return jsonify(error_body(code, message, fields)), status
    return error_page("error.html", status, code=code, message=message, fields=fields or {})


def error_page(template: str, status: int, **context: Any) -> tuple[str, int]:
    """A page for a failed request, drawn after its changes are rolled back (never from half-applied ones)."""
    db.session.rollback()
    return render_template(template, status=status, **context), status


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}

_HTTP_MESSAGES = {
    401: "Please log in first.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The upload is too large.",
    429: "Too many attempts. Wait a minute and try again.",
}


def _validation_fields(messages: Any) -> dict[str, Any]:
    if isinstance(messages, dict):
        # webargs nests messages under the location ("json", "query", "files").
        if set(messages) <= {"json", "query", "form", "files", "headers", "view_args"}:
            merged: dict[str, Any] = {}
            for part in messages.values():
                merged.update(_validation_fields(part))
            return merged
        return messages
    return {"_schema": messages if isinstance(messages, list) else [str(messages)]}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        response = app.make_response(error_response(error.status, error.code, error.message, error.fields))
        response.headers.update(error.headers)
        return response

    @app.errorhandler(PageAfterRollback)
    def handle_page_after_rollback(error: PageAfterRollback):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return error.render(), error.status

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError):  # type: ignore[no-untyped-def]
        return error_response(422, "validation_error", "Some fields are not valid.", _validation_fields(error.messages))

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        return error_response(
            400,
            "csrf_failed",
            f"The form expired or was not sent from Backhaul ({error.description}). Reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        status = error.code or 500
        if status >= 500:
            return error_response(status, "server_error", "Something went wrong on our side.")
        if isinstance(error, UnprocessableEntity) and getattr(error, "data", None):
            # webargs/flask-smorest put the marshmallow messages here.
            messages = error.data.get("messages", {})  # type: ignore[attr-defined]  # webargs sets it
            return error_response(422, "validation_error", "Some fields are not valid.", _validation_fields(messages))
        message = _HTTP_MESSAGES.get(status) or error.description or error.name
        if status == 400 and error.description and "JSON" in error.description:
            message = "The request body is not valid JSON."
        response = error_response(status, _HTTP_CODES.get(status, "error"), message)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            body, code = response
            if isinstance(body, Response):
                body.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OverflowError)
    def handle_overflow(error: OverflowError):  # type: ignore[no-untyped-def]
        # Date or number arithmetic past what Python can hold (``date.max + 1 day``): the input's fault.
        log.warning("input overflowed: %s", error)
        return error_response(422, "invalid_value", "A date or number is out of the range Backhaul can work with.")

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        return error_response(500, "server_error", "Something went wrong on our side. It has been logged.")
