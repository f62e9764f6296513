"""``/api/v1/webhooks``: a shop's developer registers receivers with an API key (webhooks:manage) or an admin session."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import Role
from app.apikeys.services import current_api_key
from app.core.auth import roles_required
from app.core.errors import Forbidden
from app.outbox.services import messages_to_endpoint
from app.webhooks import services
from app.webhooks.schemas import DeliverySchema, EndpointInSchema, EndpointOutSchema, NewEndpointSchema

blp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1/webhooks", description="Outbound webhooks (Standard Webhooks 1.0)")


def _managers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    # A key reaches here only with webhooks:manage (app.apikeys checks the scope); people must be admins.
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_api_key() is None and current_user.role is not Role.ADMIN:
            raise Forbidden("Only admins (or an API key with webhooks:manage) manage webhooks.")
        return view(*args, **kwargs)

    return roles_required(*Role)(wrapper)


@blp.route("", methods=["GET"])
@_managers_only
@blp.response(200, EndpointOutSchema(many=True))
def list_endpoints():  # type: ignore[no-untyped-def]
    """Every registered endpoint."""
    return services.list_endpoints()


@blp.route("", methods=["POST"])
@_managers_only
@blp.arguments(EndpointInSchema)
@blp.response(201, NewEndpointSchema)
def create_endpoint(data: dict):  # type: ignore[no-untyped-def]
    """Register a receiver for some events; the answer carries its signing secret (``whsec_…``)."""
    return services.create_endpoint(data["url"], data["events"], data["description"], actor=current_user)


@blp.route("/<int:endpoint_id>", methods=["GET"])
@_managers_only
@blp.response(200, EndpointOutSchema)
def get_endpoint(endpoint_id: int):  # type: ignore[no-untyped-def]
    return services.get_endpoint(endpoint_id)


@blp.route("/<int:endpoint_id>", methods=["DELETE"])
@_managers_only
@blp.response(204)
def delete_endpoint(endpoint_id: int):  # type: ignore[no-untyped-def]
    """Stop sending to this endpoint."""
    services.delete_endpoint(endpoint_id)


@blp.route("/<int:endpoint_id>/deliveries", methods=["GET"])
@_managers_only
@blp.response(200, DeliverySchema(many=True))
def list_deliveries(endpoint_id: int):  # type: ignore[no-untyped-def]
    """The endpoint's latest deliveries: status, attempts, response code, last error."""
    services.get_endpoint(endpoint_id)
    return messages_to_endpoint(endpoint_id)


@blp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/replay", methods=["POST"])
@_managers_only
@blp.response(202, DeliverySchema)
def replay_delivery(endpoint_id: int, delivery_id: int):  # type: ignore[no-untyped-def]
    """Send a delivery again, with the same ``webhook-id``."""
    return services.replay_delivery(delivery_id, endpoint_id)
