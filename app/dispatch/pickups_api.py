"""The staff pickups API (``/api/v1/pickups``): dispatchers create, edit, assign and cancel; hub clerks read."""
from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint

from app.accounts.models import DISPATCH_ROLES, Role
from app.core.auth import roles_required
from app.core.pagination import paginate
from app.dispatch.schemas import StaffPickupDetailSchema, StaffPickupPageSchema, StaffPickupSchema
from app.pickups import services
from app.pickups.schemas import PICKUP_EXAMPLE, AssignSchema, CancelSchema, PickupInSchema, PickupPatchSchema, PickupQuerySchema, RouteOrderSchema

blp = Blueprint("pickups_api", __name__, url_prefix="/api/v1/pickups", description="Pickups")
# Drivers are not staff here: their phone gets their own pickups through
# /api/v1/sync/pull, in a shape without the customer's private link.
STAFF = (*DISPATCH_ROLES, Role.HUB)


@blp.route("", methods=["GET"])
@roles_required(*STAFF)
@blp.arguments(PickupQuerySchema, location="query")
@blp.response(200, StaffPickupPageSchema)
def list_pickups(args: dict):  # type: ignore[no-untyped-def]
    """Pickups, filtered by date, status, driver, hub or text."""
    query = services.pickups_query(
        current_user,
        day=args["date"],
        statuses=args["status"],
        driver_id=args["driver_id"],
        hub_id=args["hub_id"],
        search=args["q"],
    )
    return paginate(query, args["page"], args["per_page"])


@blp.route("", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(PickupInSchema, example=PICKUP_EXAMPLE)
@blp.response(201, StaffPickupSchema)
def create_pickup(data: dict):  # type: ignore[no-untyped-def]
    """Create a pickup with its items (dispatchers)."""
    return services.create_pickup(data, actor=current_user)


@blp.route("/<int:pickup_id>", methods=["GET"])
@roles_required(*STAFF)
@blp.response(200, StaffPickupDetailSchema)
def get_pickup(pickup_id: int):  # type: ignore[no-untyped-def]
    """One pickup with its timeline."""
    return services.get_pickup(pickup_id, viewer=current_user)


@blp.route("/<int:pickup_id>", methods=["PATCH"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(PickupPatchSchema(), example={"notes": "Ring twice, then call", "version": 1})
@blp.response(200, StaffPickupSchema)
def update_pickup(data: dict, pickup_id: int):  # type: ignore[no-untyped-def]
    """Edit a pickup; send ``version`` to refuse the edit if someone else changed it first."""
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    return services.update_pickup(pickup, data, actor=current_user)


@blp.route("/<int:pickup_id>/assign", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(AssignSchema)
@blp.response(200, StaffPickupSchema)
def assign_pickup(data: dict, pickup_id: int):  # type: ignore[no-untyped-def]
    """Assign or reassign to a driver; ``driver_id: null`` unassigns."""
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    if data["driver_id"] is None:
        return services.unassign_pickup(pickup, actor=current_user)
    return services.assign_pickup(pickup, services.get_driver(data["driver_id"]), actor=current_user)


@blp.route("/<int:pickup_id>/cancel", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(CancelSchema)
@blp.response(200, StaffPickupSchema)
def cancel_pickup(data: dict, pickup_id: int):  # type: ignore[no-untyped-def]
    """Cancel with a reason."""
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    return services.cancel_pickup(pickup, data["reason"], actor=current_user)


@blp.route("/route", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(RouteOrderSchema)
@blp.response(200, StaffPickupSchema(many=True))
def order_route(data: dict):  # type: ignore[no-untyped-def]
    """Set the order of a driver's route."""
    driver = services.get_driver(data["driver_id"])
    return services.order_route(driver, data["pickup_ids"], actor=current_user)
