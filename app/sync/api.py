"""Sync JSON API for the driver app: push queued mutations, pull changes."""
from __future__ import annotations

import time
from typing import Any

from flask import jsonify, request
from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.core.auth import roles_required
from app.core.errors import ErrorSchema
from app.core.inputs import body_limit, checks_items_itself
from app.core.models import utcnow
from app.core.observability import SYNC_PUSH_MUTATIONS, SYNC_PUSH_SECONDS
from app.core.transactions import begin_write_transaction
from app.sync import services
from app.sync.schemas import PullArgsSchema, PullResponseSchema, PushResponseSchema, PushSchema

blp = Blueprint("sync_api", __name__, url_prefix="/api/v1/sync", description="Sync for the driver app (docs/sync-protocol.md)")

# The request edge commits (app.core.transactions); a busy database answers 503 try_again with Retry-After.


@blp.route("/push", methods=["POST"])
@body_limit("SYNC_MAX_PUSH_BYTES")
@checks_items_itself  # one mutation with broken text is one rejection, not a refused push
@roles_required(Role.DRIVER)
@blp.arguments(PushSchema)
@blp.response(200, PushResponseSchema)
@blp.alt_response(413, schema=ErrorSchema, description="payload_too_large: the body is over SYNC_MAX_PUSH_BYTES; nothing applied, send fewer mutations")
def push(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Apply queued mutations exactly once; one result per mutation (see docs/sync-protocol.md)."""
    received_at = utcnow()
    started = time.perf_counter()

    begin_write_transaction()
    outcome = services.push_mutations(
        current_user,
        data["client_id"],
        data["mutations"],
        received_at=received_at,
        sent_at=data["sent_at"],
        schema_version=data["schema_version"],
        app_version=data["app_version"] or request.headers.get("X-App-Version"),
        user_agent=request.user_agent.string,
        held=data["held"],
    )
    SYNC_PUSH_MUTATIONS.observe(len(data["mutations"]))
    SYNC_PUSH_SECONDS.observe(time.perf_counter() - started)
    # Dumped by hand: 500 results through marshmallow would cost more than applying them.
    return jsonify(outcome.as_json())


@blp.route("/pull", methods=["GET"])
@roles_required(Role.DRIVER)
@blp.arguments(PullArgsSchema, location="query")
@blp.response(200, PullResponseSchema)
def pull(args: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The driver's pickups changed since ``cursor`` (no cursor: everything, with ``reset``), and settings."""
    now = utcnow()
    held = None
    if args["held_actions"] is not None and args["held_photos"] is not None:
        held = {"actions": args["held_actions"], "photos": args["held_photos"], "oldest_age_seconds": args["held_oldest_age_seconds"]}
    result = services.pull_changes(current_user, cursor=args["cursor"], client_id=args["client_id"], now=now, held=held)
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response
