"""``/api/v1/routes``: suggested order for a driver's day, a plan for a hub's day, and accepting one."""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.accounts.models import DISPATCH_ROLES
from app.core.auth import roles_required
from app.core.errors import InvalidInput, NotFound
from app.dispatch import planning
from app.hubs.services import get_hub
from app.pickups import services

blp = Blueprint("routes_api", __name__, url_prefix="/api/v1/routes", description="Route suggestions and day plans")


class SuggestInSchema(Schema):
    driver_id = fields.Integer(required=True)
    date = fields.Date(required=True)


class PlanInSchema(Schema):
    date = fields.Date(required=True)
    hub_id = fields.Integer(required=True)
    driver_ids = fields.List(fields.Integer(), load_default=None, metadata={"description": "default: the hub's active drivers"})


class RouteInSchema(Schema):
    driver_id = fields.Integer(required=True)
    order = fields.List(fields.Integer(), required=True, validate=validate.Length(max=2000))


class AcceptInSchema(Schema):
    date = fields.Date(required=True)
    routes = fields.List(fields.Nested(RouteInSchema), required=True, validate=validate.Length(min=1, max=200))


class ScoreSchema(Schema):
    distance_m = fields.Integer()
    windows_kept = fields.Integer()
    late = fields.List(fields.Integer(), metadata={"description": "pickups whose window this order misses"})


class SuggestionSchema(Schema):
    driver_id = fields.Integer()
    order = fields.List(fields.Integer())
    before = fields.Nested(ScoreSchema)
    after = fields.Nested(ScoreSchema)
    unplaced = fields.List(fields.Integer(), metadata={"description": "no coordinates, or no order fits their window"})


class PlanSchema(Schema):
    routes = fields.List(fields.Nested(SuggestionSchema))
    unplaced = fields.List(fields.Integer(), metadata={"description": "pickups no driver could take (window, capacity, no coordinates)"})


class AcceptedSchema(Schema):
    routes = fields.List(fields.Nested(RouteInSchema))


@blp.route("/suggest", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(SuggestInSchema)
@blp.response(200, SuggestionSchema)
def suggest(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """A suggested order for one driver's day; nothing is saved."""
    driver = services.get_driver(data["driver_id"])
    return planning.suggest_route(driver, data["date"], viewer=current_user)


@blp.route("/plan", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(PlanInSchema)
@blp.response(200, PlanSchema)
def plan(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Every unassigned pickup of the hub's day shared among its drivers, each route ordered; nothing is saved."""
    try:
        hub = get_hub(data["hub_id"])
    except NotFound as error:
        raise InvalidInput("There is no such hub.", fields={"hub_id": ["Unknown hub."]}) from error
    return planning.plan_day(hub, data["date"], viewer=current_user, driver_ids=data["driver_ids"])


@blp.route("/accept", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(AcceptInSchema)
@blp.response(200, AcceptedSchema)
def accept(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Save routes (a suggestion or a plan, possibly edited): assigns the pickups and numbers each driver's day."""
    routes = [(r["driver_id"], r["order"]) for r in data["routes"]]
    if len({d for d, _ in routes}) != len(routes):
        raise InvalidInput("A driver appears twice.", fields={"routes": ["One route per driver."]})
    seen = [i for _, order in routes for i in order]
    if len(seen) != len(set(seen)):
        raise InvalidInput("A pickup appears on two routes or twice on one.", fields={"routes": ["Duplicates."]})
    written = planning.accept_routes(data["date"], routes, actor=current_user)
    return {"routes": [{"driver_id": d, "order": [p.id for p in pickups]} for (d, _), pickups in zip(routes, written, strict=True)]}
