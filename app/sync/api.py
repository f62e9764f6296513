"""Sync JSON API for the driver app: push queued mutations, pull changes."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, jsonify, request
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy.exc import OperationalError

from app.accounts.models import Role
from app.core.auth import roles_required
from app.core.errors import DomainError, error_body
from app.core.models import utcnow
from app.extensions import db
from app.sync import services
from app.sync.schemas import PullArgsSchema, PullResponseSchema, PushResponseSchema, PushSchema

log = logging.getLogger(__name__)
blp = Blueprint("sync_api", __name__, url_prefix="/api/v1/sync", description="Sync for the driver app (docs/sync-protocol.md)")

T = TypeVar("T")


class TryAgainLater(DomainError):
    """The database was busy (a lock wait, a serialization failure): nothing was applied."""

    status = 503
    code = "try_again"


@blp.errorhandler(TryAgainLater)
def answer_try_again(error: TryAgainLater):  # type: ignore[no-untyped-def]
    db.session.rollback()
    response = jsonify(error_body(error.code, error.message))
    response.status_code = 503
    response.headers["Retry-After"] = str(current_app.config["SYNC_RETRY_AFTER_SECONDS"])
    return response


def commit_or_try_again(work: Callable[[], T]) -> T:
    """Run ``work`` and commit it as one transaction; a temporary database failure becomes a 503."""
    try:
        result = work()
        db.session.commit()
    except OperationalError as error:
        db.session.rollback()
        log.warning("sync request rolled back, the phone will retry: %s", error.orig)
        raise TryAgainLater("The server is busy. Send the same request again in a moment; nothing was applied.") from error
    return result


@blp.route("/push", methods=["POST"])
@roles_required(Role.DRIVER)
@blp.arguments(PushSchema)
@blp.response(200, PushResponseSchema)
def push(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Apply queued mutations exactly once; one result per mutation (see docs/sync-protocol.md)."""
    received_at = utcnow()

    def work() -> services.PushOutcome:
        services.begin_push_transaction()
        return services.push_mutations(
            current_user,
            data["client_id"],
            data["mutations"],
            received_at=received_at,
            sent_at=data["sent_at"],
            schema_version=data["schema_version"],
            app_version=data["app_version"] or request.headers.get("X-App-Version"),
            user_agent=request.user_agent.string,
        )

    # Dumped by hand: 500 results through marshmallow would cost more than applying them.
    return jsonify(commit_or_try_again(work).as_json())


@blp.route("/pull", methods=["GET"])
@roles_required(Role.DRIVER)
@blp.arguments(PullArgsSchema, location="query")
@blp.response(200, PullResponseSchema)
def pull(args: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The driver's pickups changed since ``cursor`` (no cursor: everything, with ``reset``), and settings."""
    now = utcnow()
    result = commit_or_try_again(
        lambda: services.pull_changes(current_user, cursor=args["cursor"], client_id=args["client_id"], now=now)
    )
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response
