"""Labels JSON API: dispatchers revoke and reissue customer links; staff fetch label files."""
from __future__ import annotations

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import DISPATCH_ROLES, Role
from app.core.auth import roles_required
from app.labels import services
from app.labels.schemas import CustomerLinkSchema
from app.labels.views import FORMAT_CONVERTER, label_response
from app.pickups.services import get_pickup

blp = Blueprint("labels_api", __name__, url_prefix="/api/v1/pickups", description="Labels and customer links")
STAFF = (*DISPATCH_ROLES, Role.HUB, Role.DRIVER)


@blp.route("/<int:pickup_id>/customer-link", methods=["GET"])
@roles_required(*DISPATCH_ROLES)
@blp.response(200, CustomerLinkSchema)
def get_customer_link(pickup_id: int):  # type: ignore[no-untyped-def]
    """The pickup's customer link, whether it works, and when it expires."""
    return services.describe_customer_link(get_pickup(pickup_id, viewer=current_user))


@blp.route("/<int:pickup_id>/customer-link", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.response(201, CustomerLinkSchema)
def reissue_customer_link(pickup_id: int):  # type: ignore[no-untyped-def]
    """Replace the customer link: the old one answers 404 from now on. Send the new one to the customer."""
    pickup = get_pickup(pickup_id, viewer=current_user)
    services.reissue_customer_token(pickup, actor=current_user)
    return services.describe_customer_link(pickup)


@blp.route("/<int:pickup_id>/customer-link", methods=["DELETE"])
@roles_required(*DISPATCH_ROLES)
@blp.response(200, CustomerLinkSchema)
def revoke_customer_link(pickup_id: int):  # type: ignore[no-untyped-def]
    """Revoke the customer link without a replacement (e.g. it was sent to the wrong person)."""
    pickup = get_pickup(pickup_id, viewer=current_user)
    services.revoke_customer_token(pickup, actor=current_user)
    return services.describe_customer_link(pickup)


@blp.route(f"/<int:pickup_id>/label.<{FORMAT_CONVERTER}:fmt>", methods=["GET"])
@roles_required(*STAFF)
@blp.doc(
    summary="The pickup's 4×6 return label as PNG, SVG, PDF or ZPL",
    responses={
        "200": {
            "description": "The label (strong ETag; send If-None-Match for a 304). ``?download=1`` saves it as a file.",
            "content": {
                "image/png": {}, "image/svg+xml": {}, "application/pdf": {}, "text/plain": {},
            },
        },
        "304": {"description": "Not modified"},
    },
)
def get_label(pickup_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """The same renderings the customer gets; drivers only for pickups on their route (the app prints offline later)."""
    pickup = get_pickup(pickup_id, viewer=current_user)
    return label_response(services.label_content(pickup), fmt, download=request.args.get("download") == "1")  # type: ignore[arg-type]
