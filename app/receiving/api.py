"""The hub's JSON API: ``POST /api/v1/pickups/<id>/receive`` (clerks of the pickup's hub, and admins)."""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.core.auth import roles_required
from app.pickups.services import get_pickup
from app.receiving import services
from app.receiving.schemas import RECEIVE_EXAMPLE, ReceivedAnswerSchema, ReceiveSchema, received_json

blp = Blueprint("receiving_api", __name__, url_prefix="/api/v1/pickups", description="Receiving at the hub")


@blp.route("/<int:pickup_id>/receive", methods=["POST"])
@roles_required(Role.HUB, Role.ADMIN)
@blp.arguments(ReceiveSchema, example=RECEIVE_EXAMPLE)
@blp.response(200)
@blp.doc(responses={"200": {"description": "the pickup as received", "content": {"application/json": {"schema": ReceivedAnswerSchema}}}})
def receive(data: dict[str, Any], pickup_id: int):  # type: ignore[no-untyped-def]
    """Receive a collected pickup: the hub's count, grade and disposition per item, plus items nobody expected.

    Answers the pickup with ``discrepancies`` (door vs hub); receiving a received pickup again changes nothing.
    """
    pickup = get_pickup(pickup_id, viewer=current_user)
    lines = [
        services.ItemCheck(
            line["item_id"], line["quantity"], line["grade"], line["disposition"].value if line["disposition"] else None,
            line["reason"], line["value"], line["weight_kg"],
        )
        for line in data["items"]
    ]
    extras = [
        services.ExtraCheck(
            e["sku"], e["description"], e["quantity"], e["grade"], e["disposition"].value, e["reason"], e["category"], e["value"], e["weight_kg"]
        )
        for e in data["extra_items"]
    ]
    result = services.receive_pickup(pickup, lines, extras, actor=current_user, version=data["version"])
    return received_json(result.pickup, result.dispositions, result.discrepancies, already=result.already)
