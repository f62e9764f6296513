"""The dispatcher console: server-rendered pages over the pickups services.

Handlers parse the form, call a service and render or redirect. Every page and
action is for dispatchers and admins only (checked once, before every request
of this blueprint). A failed action answers with a 4xx, so the unit of work
rolls back whatever the action had begun.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from flask import current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.accounts.models import Role, User
from app.accounts.services import list_users
from app.core.errors import DomainError, InvalidInput, NotFound, PageAfterRollback
from app.core.models import utcnow
from app.core.pagination import paginate
from app.core.security import CONTENT_SECURITY_POLICY
from app.core.spreadsheets import csv_response
from app.dispatch import planning
from app.dispatch.blueprint import bp
from app.dispatch.board import BoardFilter, board_query, count_by_status, read_board_filter, timezone_for, today_in
from app.dispatch.customer_messages import email_history, resend_customer_email
from app.dispatch.day_map import day_map
from app.dispatch.evidence import evidence_pdf as render_evidence_pdf
from app.dispatch.evidence import pdf_download, proof_of
from app.dispatch.exports import board_csv
from app.dispatch.forms import FormInvalid, PickupForm, items_changed
from app.dispatch.live import POLL_INTERVAL_MS, change_token, marks_for
from app.extensions import db
from app.hubs.models import Hub
from app.hubs.services import list_hubs
from app.labels.services import describe_customer_link, reissue_customer_token, revoke_customer_token
from app.photos.services import read_photo_file
from app.pickups import services
from app.pickups.models import Pickup, PickupStatus
from app.pickups.schemas import CancelSchema, pickup_in_schema, pickup_patch_schema
from app.pickups.states import OPEN_STATUSES, can_transition

PER_PAGE = 200


# --- helpers --------------------------------------------------------------------------------------

def _back(default: str) -> str:
    """Where to go after an action: the page it was sent from, if that is a console page."""
    target = request.form.get("next") or ""
    if target.startswith("/dispatch/") and "//" not in target and "\\" not in target:
        return target
    return default


def _action_failed(error: DomainError, back: str) -> PageAfterRollback:
    return PageAfterRollback(error.status, lambda: render_template("dispatch/action_failed.html", error=error, back=back))


def _drivers() -> list[Any]:
    return [d for d in list_users(Role.DRIVER) if d.active]


def _day_arg(tz_name: str) -> date:
    try:
        return date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return today_in(tz_name)


# --- board -----------------------------------------------------------------------------------------

@bp.get("/")
def board():  # type: ignore[no-untyped-def]
    """Pickups of a day (today by default), filtered, with counts per status and quick actions."""
    hubs = list_hubs()
    board_filter = read_board_filter(request.args, viewer=current_user, hubs=hubs)
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    page = paginate(board_query(current_user, board_filter), page_number, PER_PAGE)
    return render_template(
        "dispatch/board.html",
        page=page,
        marks=marks_for([p.id for p in page.items]),
        change_token=change_token(),
        poll_ms=POLL_INTERVAL_MS,
        board=board_filter,
        counts=count_by_status(current_user, board_filter),
        drivers=_drivers(),
        hubs=hubs,
        statuses=list(PickupStatus),
        open_statuses=OPEN_STATUSES,
        today=today_in(board_filter.tz_name),
        timedelta=timedelta,
    )


@bp.get("/changes")
def changes():  # type: ignore[no-untyped-def]
    """The live pages' poll: ``{"token": …}``, which moves whenever something on the board may have changed."""
    response = jsonify(token=change_token())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/pickups/assign")
def assign_selected():  # type: ignore[no-untyped-def]
    """Assign (or, with no driver chosen, unassign) the pickups ticked on the board: one picker for the page."""
    back = _back(url_for(".board"))
    try:
        ids = [int(v) for v in request.form.getlist("pickup_ids") if v.strip().isdigit()]
        if not ids:
            raise InvalidInput("Tick one or more pickups first.", fields={"pickup_ids": ["None ticked."]})
        pickups = [services.get_pickup(pickup_id, viewer=current_user) for pickup_id in ids]
        driver_id = request.form.get("driver_id", "").strip()
        if driver_id:
            if not driver_id.isdigit():
                raise InvalidInput("Choose a driver from the list.", fields={"driver_id": ["Not a driver."]})
            driver = services.get_driver(int(driver_id))
            services.assign_pickups(pickups, driver, actor=current_user)
            flash(f"{len(pickups)} pickup{'s' if len(pickups) != 1 else ''} assigned to {driver.name}.")
        else:
            for pickup in pickups:
                if pickup.driver_id is not None:
                    services.unassign_pickup(pickup, actor=current_user)
            flash(f"{len(pickups)} pickup{'s' if len(pickups) != 1 else ''} taken off their routes.")
    except DomainError as error:
        raise _action_failed(error, back) from error
    return redirect(back, 303)


def _map_data(args: Any) -> tuple[dict[str, Any], BoardFilter]:
    hubs = list_hubs()
    board_filter = read_board_filter(args, viewer=current_user, hubs=hubs)
    day = board_filter.day or today_in(board_filter.tz_name)
    data = day_map(current_user, day, tz_name=board_filter.tz_name, hub_id=board_filter.hub_id, drivers=_drivers(), driver_id=board_filter.driver_id)
    data["hubs"] = [{"code": h.code, "name": h.name, "lat": h.lat, "lon": h.lon} for h in hubs if h.lat is not None and h.lon is not None]
    data["tiles"] = {"url": current_app.config["MAP_TILE_URL"], "attribution": current_app.config["MAP_TILE_ATTRIBUTION"]}
    data["statuses"] = [s.value for s in PickupStatus]
    data["drivers_all"] = [{"id": d.id, "name": d.name} for d in _drivers()]
    return data, replace(board_filter, day=day)


@bp.get("/map")
def day_map_page():  # type: ignore[no-untyped-def]
    """The day on a map: stops coloured by status, grouped and joined in route order per driver; unassigned apart."""
    data, board_filter = _map_data(request.args)
    response = make_response(render_template(
        "dispatch/map.html", data=data, board=board_filter, change_token=change_token(), poll_ms=POLL_INTERVAL_MS, timedelta=timedelta,
    ))
    tiles = current_app.config["MAP_TILE_URL"]
    if tiles:
        # Tiles come from the configured server: only the map page lets images load from there.
        origin = "/".join(tiles.split("/")[:3])
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace("img-src 'self'", f"img-src 'self' {origin}")
    return response


@bp.get("/map.json")
def day_map_data():  # type: ignore[no-untyped-def]
    """What the map draws, for its live refresh."""
    response = jsonify(_map_data(request.args)[0])
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/export.csv")
def export_board():  # type: ignore[no-untyped-def]
    """The board's current filter as CSV, one row per item."""
    board_filter = read_board_filter(request.args, viewer=current_user, hubs=list_hubs())
    pickups = db.session.scalars(board_query(current_user, board_filter))
    day = board_filter.day.isoformat() if board_filter.day else "all-days"
    return csv_response(board_csv(pickups), f"pickups-{day}.csv")


# --- one pickup --------------------------------------------------------------------------------

@bp.get("/pickups/<int:pickup_id>")
def pickup_detail(pickup_id: int):  # type: ignore[no-untyped-def]
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    return render_template(
        "dispatch/detail.html",
        pickup=pickup,
        proof=proof_of(pickup, current_user),
        change_token=change_token(),
        poll_ms=POLL_INTERVAL_MS,
        tz=pickup.hub.timezone,
        drivers=_drivers(),
        can_cancel=can_transition(pickup.status, PickupStatus.CANCELLED),
        can_assign=pickup.status in OPEN_STATUSES,
        link=describe_customer_link(pickup),
        emails=email_history(pickup),
    )


@bp.get("/pickups/<int:pickup_id>/evidence.pdf")
def evidence_pdf(pickup_id: int):  # type: ignore[no-untyped-def]
    """The evidence pack: one PDF that settles a dispute from the record alone."""
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    return pdf_download(render_evidence_pdf(pickup, current_user, read_photo=read_photo_file), f"evidence-{pickup.reference}.pdf")
@bp.post("/pickups/<int:pickup_id>/customer-link/<action>")
def customer_link(pickup_id: int, action: str):  # type: ignore[no-untyped-def]
    """Revoke the customer's link, or issue a new one (the old one stops working)."""
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    back = url_for(".pickup_detail", pickup_id=pickup.id)
    if action == "revoke":
        revoke_customer_token(pickup, actor=current_user)
        flash("The customer's link no longer works.")
    elif action == "reissue":
        reissue_customer_token(pickup, actor=current_user)
        flash("A new customer link was issued; the old one no longer works. Resend the email so the customer has it.")
    else:
        raise NotFound("No such action.")
    return redirect(back), 303


@bp.post("/pickups/<int:pickup_id>/email")
def resend_email(pickup_id: int):  # type: ignore[no-untyped-def]
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    back = url_for(".pickup_detail", pickup_id=pickup.id)
    try:
        kind = resend_customer_email(pickup)
    except DomainError as error:
        raise _action_failed(error, back) from None
    flash(f"The {kind.replace('_', ' ')} email to {pickup.customer_email} is queued.")
    return redirect(back), 303


def _form_page(form: PickupForm, *, pickup: Pickup | None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "dispatch/pickup_form.html",
        form=form,
        pickup=pickup,
        hubs=list_hubs(),
        drivers=_drivers(),
        goods=pickup is None or pickup.status in OPEN_STATUSES,
    ), status


def _hub_timezone(form: PickupForm) -> str:
    hub_id = form.values.get("hub_id", "")
    hub = db.session.get(Hub, int(hub_id)) if hub_id.isdigit() else None
    return hub.timezone if hub else timezone_for(current_user, list_hubs())


@bp.route("/pickups/new", methods=["GET", "POST"])
def new_pickup():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        hubs = list_hubs()
        hub = next((h for h in hubs if h.id == current_user.hub_id), hubs[0] if hubs else None)
        day = _day_arg(hub.timezone if hub else "UTC")
        return _form_page(PickupForm.blank(hub=hub, day=day), pickup=None)

    form = PickupForm.from_submission(request.form)
    try:
        data = form.validate(pickup_in_schema, _hub_timezone(form))
        pickup = services.create_pickup(data, actor=current_user)
    except FormInvalid:
        return _form_page(form.padded(), pickup=None, status=422)
    except DomainError as error:
        form.message = error.message
        form.add_errors(error.fields).padded()
        raise PageAfterRollback(error.status, lambda: _form_page(form, pickup=None)[0]) from error
    flash(f"Pickup {pickup.reference} created.")
    return redirect(url_for(".pickup_detail", pickup_id=pickup.id), 303)


@bp.route("/pickups/<int:pickup_id>/edit", methods=["GET", "POST"])
def edit_pickup(pickup_id: int):  # type: ignore[no-untyped-def]
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    if request.method == "GET":
        return _form_page(PickupForm.from_pickup(pickup), pickup=pickup)

    goods = pickup.status in OPEN_STATUSES
    form = PickupForm.from_submission(request.form)
    try:
        data = form.validate(pickup_patch_schema, pickup.hub.timezone, goods=goods)
        # Assignment has its own action, and a pickup stays with its hub.
        data.pop("driver_id", None)
        data.pop("hub_id", None)
        if "items" in data and not items_changed(pickup, data["items"]):
            del data["items"]
        services.update_pickup(pickup, data, actor=current_user)
    except FormInvalid:
        return _form_page(form.padded(), pickup=pickup, status=422)
    except services.StaleVersion as error:
        form.message = (
            "Someone else changed this pickup while you were editing it, so your changes were NOT saved. "
            "Your version is below; open the pickup in another tab to see theirs. Press Save again only if yours "
            "should replace it."
        )
        raise PageAfterRollback(409, lambda: _stale_form_page(form, pickup_id)) from error
    except DomainError as error:
        form.message = error.message
        form.add_errors(error.fields).padded()
        raise PageAfterRollback(error.status, lambda: _form_page(form, pickup=services.get_pickup(pickup_id, viewer=current_user))[0]) from error
    flash(f"Pickup {pickup.reference} saved.")
    return redirect(url_for(".pickup_detail", pickup_id=pickup.id), 303)


def _stale_form_page(form: PickupForm, pickup_id: int) -> str:
    current = services.get_pickup(pickup_id, viewer=current_user)
    form.values["version"] = str(current.version)  # a second Save is a deliberate overwrite
    return _form_page(form.padded(), pickup=current)[0]


@bp.route("/pickups/<int:pickup_id>/cancel", methods=["GET", "POST"])
def cancel_pickup(pickup_id: int):  # type: ignore[no-untyped-def]
    pickup = services.get_pickup(pickup_id, viewer=current_user)
    if request.method == "GET":
        return render_template("dispatch/cancel.html", pickup=pickup, reason="", errors={}, message=None, next=request.args.get("next", ""))
    reason = request.form.get("reason", "")
    try:
        data = CancelSchema().load({"reason": reason})
        services.cancel_pickup(pickup, data["reason"], actor=current_user)
    except ValidationError as error:
        return render_template(
            "dispatch/cancel.html", pickup=pickup, reason=reason, errors=error.messages, message=None, next=_back("")
        ), 422
    except DomainError as error:
        errors = {"reason": error.fields["reason"]} if "reason" in error.fields else {}
        back, message = _back(""), error.message
        raise PageAfterRollback(
            error.status,
            lambda: render_template(
                "dispatch/cancel.html", pickup=services.get_pickup(pickup_id, viewer=current_user), reason=reason,
                errors=errors, message=message, next=back,
            ),
        ) from error
    flash(f"Pickup {pickup.reference} cancelled.")
    return redirect(_back(url_for(".pickup_detail", pickup_id=pickup.id)), 303)


@bp.post("/pickups/<int:pickup_id>/assign")
def assign_pickup(pickup_id: int):  # type: ignore[no-untyped-def]
    """Assign, reassign or (with no driver chosen) unassign."""
    back = _back(url_for(".pickup_detail", pickup_id=pickup_id))
    try:
        pickup = services.get_pickup(pickup_id, viewer=current_user)
        driver_id = request.form.get("driver_id", "").strip()
        if not driver_id:
            if pickup.driver_id is None:
                flash(f"Pickup {pickup.reference} is not assigned to anyone.")
                return redirect(back, 303)
            services.unassign_pickup(pickup, actor=current_user)
            flash(f"Pickup {pickup.reference} taken off the route.")
        elif not driver_id.isdigit():
            raise InvalidInput("Choose a driver from the list.", fields={"driver_id": ["Not a driver."]})
        else:
            services.assign_pickup(pickup, services.get_driver(int(driver_id)), actor=current_user)
            flash(f"Pickup {pickup.reference} assigned to {pickup.driver.name if pickup.driver else ''}.")
    except DomainError as error:
        raise _action_failed(error, back) from error
    return redirect(back, 303)


# --- routes ----------------------------------------------------------------------------------

def _route_pickups(driver_id: int, day: date, tz_name: str) -> list[Pickup]:
    return list(db.session.scalars(services.pickups_query(current_user, driver_id=driver_id, day=day, tz_name=tz_name)))


def _route_context(driver_id: int) -> tuple[User, date, str]:
    driver = db.session.get(User, driver_id)
    if driver is None or driver.role is not Role.DRIVER:
        raise NotFound("There is no such driver.")
    tz_name = timezone_for(current_user, list_hubs(), driver.hub_id)
    day_text = request.values.get("date", "")
    try:
        day = date.fromisoformat(day_text) if day_text else today_in(tz_name)
    except ValueError:
        raise InvalidInput(f"“{day_text}” is not a date.", fields={"date": ["Use YYYY-MM-DD."]}) from None
    return driver, day, tz_name


@bp.get("/routes/<int:driver_id>")
def route(driver_id: int):  # type: ignore[no-untyped-def]
    """One driver's pickups of a day, in the order they will be visited."""
    driver, day, tz_name = _route_context(driver_id)
    pickups = _route_pickups(driver.id, day, tz_name)
    suggestion, refusal = None, None
    if request.args.get("suggest") and pickups:
        try:
            suggestion = planning.suggest_route(driver, day, viewer=current_user)
        except DomainError as error:
            refusal = error
    return render_template(
        "dispatch/route.html",
        driver=driver,
        day=day,
        tz=tz_name,
        pickups=pickups,
        by_id={p.id: p for p in pickups},
        suggestion=suggestion,
        refusal=refusal,
        drivers=_drivers(),
        timedelta=timedelta,
    ), 422 if refusal else 200


@bp.get("/routes/<int:driver_id>/sheet")
def run_sheet(driver_id: int):  # type: ignore[no-untyped-def]
    """The driver's day on paper: order, windows, addresses, phones, items and label codes."""
    driver, day, tz_name = _route_context(driver_id)
    pickups = _route_pickups(driver.id, day, tz_name)
    return render_template(
        "dispatch/run_sheet.html", driver=driver, day=day, tz=tz_name, pickups=pickups, printed=utcnow(),
        item_count=sum(item.quantity for p in pickups for item in p.items),
    )


@bp.get("/plan")
def plan_day():  # type: ignore[no-untyped-def]
    """Plan the day: every unassigned pickup of a hub's day shared among its drivers, for the dispatcher to accept."""
    hubs = list_hubs()
    hub_id = request.args.get("hub_id", type=int) or current_user.hub_id or (hubs[0].id if hubs else None)
    hub = next((h for h in hubs if h.id == hub_id), None)
    if hub is None:
        raise InvalidInput("There is no hub to plan for yet. An admin adds one under Set-up.", fields={"hub_id": ["No hub."]})
    day = _day_arg(hub.timezone)
    plan, refusal = None, None
    try:
        plan = planning.plan_day(hub, day, viewer=current_user)
    except DomainError as error:
        refusal = error
    pickups = {p.id: p for p in db.session.scalars(services.pickups_query(current_user, day=day, tz_name=hub.timezone, hub_id=hub.id))}
    drivers = {d.id: d for d in _drivers()}
    return render_template(
        "dispatch/plan.html", hub=hub, hubs=hubs, day=day, plan=plan, refusal=refusal, pickups=pickups, drivers=drivers, tz=hub.timezone,
    ), 422 if refusal else 200


@bp.post("/plan/accept")
def accept_plan():  # type: ignore[no-untyped-def]
    """Save the plan as shown: each driver's pickups assigned and numbered for that day."""
    back = url_for(".board")
    try:
        day = date.fromisoformat(request.form.get("date", ""))
        routes = []
        for text in request.form.getlist("route"):
            driver_part, _, ids = text.partition(":")
            routes.append((int(driver_part), [int(i) for i in ids.split(",") if i.strip()]))
    except ValueError:
        raise _action_failed(InvalidInput("The plan could not be read. Plan the day again.", fields={"route": ["Unreadable."]}), back) from None
    try:
        if not routes:
            raise InvalidInput("The plan has no routes.", fields={"route": ["Empty."]})
        planning.accept_routes(day, [(d, ids) for d, ids in routes if ids], actor=current_user)
    except DomainError as error:
        raise _action_failed(error, back) from error
    flash(f"Plan for {day.strftime('%a %d %b')} saved: {sum(len(ids) for _, ids in routes)} pickups on {len([r for r in routes if r[1]])} routes.")
    return redirect(url_for(".board", date=day.isoformat()), 303)


@bp.post("/routes/<int:driver_id>/move")
def move_on_route(driver_id: int):  # type: ignore[no-untyped-def]
    """Move one pickup a place up or down (the no-JavaScript way to order a route)."""
    driver, day, tz_name = _route_context(driver_id)
    back = url_for(".route", driver_id=driver.id, date=day.isoformat())
    ids = [p.id for p in _route_pickups(driver.id, day, tz_name)]
    pickup_id = request.form.get("pickup_id", type=int)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    try:
        if pickup_id not in ids or step is None:
            raise InvalidInput("That pickup is not on this route any more. Reload the route.", fields={"pickup_id": ["Not on this route."]})
        index = ids.index(pickup_id)
        other = index + step
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            services.order_route(driver, ids, actor=current_user)
    except DomainError as error:
        raise _action_failed(error, back) from error
    return redirect(back + f"#stop-{pickup_id}", 303)


@bp.post("/routes/<int:driver_id>/order")
def order_route(driver_id: int):  # type: ignore[no-untyped-def]
    """Save a whole new order (sent by the drag-and-drop script)."""
    driver, day, tz_name = _route_context(driver_id)
    back = url_for(".route", driver_id=driver.id, date=day.isoformat())
    current = [p.id for p in _route_pickups(driver.id, day, tz_name)]
    try:
        text = request.form.get("pickup_ids", "")
        wanted = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise _action_failed(InvalidInput("The new order could not be read.", fields={"pickup_ids": ["Use pickup ids."]}), back) from None
    try:
        if sorted(wanted) != sorted(current):
            raise services.StaleVersion(
                "The route changed since you loaded it (a pickup was added or taken off). Reload it and order it again."
            )
        services.order_route(driver, wanted, actor=current_user)
    except DomainError as error:
        raise _action_failed(error, back) from error
    flash(f"{driver.name}'s route saved.")
    return redirect(back, 303)
