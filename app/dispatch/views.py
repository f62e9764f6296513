"""The dispatcher console: server-rendered pages over the pickups services."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_login import current_user

from app.accounts.models import DISPATCH_ROLES, Role
from app.accounts.services import list_users
from app.core.auth import roles_required
from app.core.pagination import paginate
from app.hub.services import list_hubs
from app.pickups.models import PickupStatus
from app.pickups.services import pickups_query

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")


@bp.before_request
@roles_required(*DISPATCH_ROLES)
def only_dispatchers() -> None:
    """Every page here is for dispatchers and admins."""


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.get("/")
def board():  # type: ignore[no-untyped-def]
    try:
        day = date.fromisoformat(request.args["date"]) if request.args.get("date") else None
    except ValueError:
        day = None
    statuses = [PickupStatus(s) for s in request.args.getlist("status") if s in {m.value for m in PickupStatus}]
    hubs = list_hubs()
    tz_name = hubs[0].timezone if hubs else "UTC"
    query = pickups_query(
        current_user,
        day=day,
        statuses=statuses,
        driver_id=_int_arg("driver_id"),
        hub_id=_int_arg("hub_id"),
        search=request.args.get("q") or None,
        tz_name=tz_name,
    )
    page = paginate(query, _int_arg("page") or 1, 200)
    return render_template(
        "dispatch/board.html",
        page=page,
        drivers=list_users(Role.DRIVER),
        hubs=hubs,
        statuses=list(PickupStatus),
        selected={"date": day, "statuses": statuses, "driver_id": _int_arg("driver_id"), "hub_id": _int_arg("hub_id"), "q": request.args.get("q", "")},
    )
