"""Set-up pages for admins: hubs and staff accounts (the console's side of `hubs` and `users` commands),
and the door's settings every phone obeys (app.pickups.doorstep).

Only admins reach these pages; dispatchers get 403. Each handler reads the form,
calls the hubs or accounts service and redirects; refusals re-show the page with
the message and roll back.
"""
from __future__ import annotations

from datetime import time
from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.models import Role
from app.accounts.services import count_active_admins, create_user, get_user, list_users, set_driver_day, set_password, update_user
from app.core.errors import DomainError, Forbidden, InvalidInput, PageAfterRollback
from app.dispatch.blueprint import bp
from app.hubs.services import create_hub, get_hub, list_hubs, update_hub
from app.pickups.doorstep import LONG_EDGE_RANGE, MOST_PHOTOS, QUALITY_RANGE, WORDS_LONGEST, DoorstepChange, doorstep, last_change, save_doorstep
from app.pickups.models import FailureReason, Grade
from app.pickups.vocabulary import FAILURE_LABELS, GRADE_LABELS


def _admins_only() -> None:
    if current_user.role is not Role.ADMIN:
        raise Forbidden("Only admins set up hubs and staff.")


def _float_or_none(name: str) -> float | None:
    text = request.form.get(name, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"“{text}” is not a number.", fields={name: ["Use a decimal number, e.g. 52.37."]}) from None


def _time_or_none(name: str) -> time | None:
    text = request.form.get(name, "").strip()
    try:
        return time.fromisoformat(text) if text else None
    except ValueError:
        raise InvalidInput(f"“{text}” is not a time.", fields={name: ["Use HH:MM."]}) from None


def _int_or_none(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"“{text}” is not a whole number.", fields={name: ["A whole number."]})
    return int(text)


def _hub_fields() -> dict[str, Any]:
    form = request.form
    return {
        "name": form.get("name", ""), "timezone": form.get("timezone", ""),
        "address_line1": form.get("address_line1", "").strip(), "city": form.get("city", "").strip(),
        "postcode": form.get("postcode", "").strip(), "country": form.get("country", "").strip(),
        "lat": _float_or_none("lat"), "lon": _float_or_none("lon"),
    }


def _setup_page(error: DomainError | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "dispatch/setup.html", hubs=list_hubs(), users=list_users(), roles=list(Role), error=error,
        form=request.form if error else {},
    ), status


def _refused(error: DomainError) -> PageAfterRollback:
    return PageAfterRollback(error.status, lambda: _setup_page(error)[0])


@bp.get("/setup")
def setup():  # type: ignore[no-untyped-def]
    """Hubs and staff, with forms to add and change them."""
    _admins_only()
    return _setup_page()


@bp.post("/setup/hubs")
def setup_create_hub():  # type: ignore[no-untyped-def]
    _admins_only()
    try:
        hub = create_hub(code=request.form.get("code", ""), **_hub_fields())
    except DomainError as error:
        raise _refused(error) from error
    flash(f"Hub {hub.code} created.")
    return redirect(url_for(".setup") + "#hubs", 303)


@bp.post("/setup/hubs/<int:hub_id>")
def setup_edit_hub(hub_id: int):  # type: ignore[no-untyped-def]
    _admins_only()
    try:
        hub = update_hub(get_hub(hub_id), **_hub_fields())
    except DomainError as error:
        raise _refused(error) from error
    flash(f"Hub {hub.code} saved.")
    return redirect(url_for(".setup") + "#hubs", 303)


def _hub_id_field() -> int | None:
    text = request.form.get("hub_id", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput("Choose a hub from the list.", fields={"hub_id": ["Unknown hub."]})
    return get_hub(int(text)).id


@bp.post("/setup/users")
def setup_create_user():  # type: ignore[no-untyped-def]
    _admins_only()
    form = request.form
    try:
        if form.get("role") not in {r.value for r in Role}:
            raise InvalidInput("Choose a role.", fields={"role": ["Required."]})
        user = create_user(email=form.get("email", ""), password=form.get("password", ""), role=form["role"],
                           name=form.get("name", ""), hub_id=_hub_id_field())
        if not user.name:
            raise InvalidInput("Say the user's name.", fields={"name": ["Required."]})
    except DomainError as error:
        raise _refused(error) from error
    flash(f"{user.name} ({user.role.value}) can log in as {user.email}.")
    return redirect(url_for(".setup") + "#staff", 303)


@bp.post("/setup/users/<int:user_id>")
def setup_edit_user(user_id: int):  # type: ignore[no-untyped-def]
    _admins_only()
    form = request.form
    try:
        user = get_user(user_id)
        active = form.get("active") == "1"
        if user.id == current_user.id and (not active or form.get("role") != Role.ADMIN.value):
            raise InvalidInput("You cannot take away your own admin access; ask another admin.", fields={"role": ["Your own account."]})
        update_user(user, name=form.get("name", ""), role=form.get("role", ""), hub_id=_hub_id_field(), active=active)
        if user.role is Role.DRIVER and "shift_start" in form:
            set_driver_day(user, shift_start=_time_or_none("shift_start"), shift_end=_time_or_none("shift_end"), capacity_items=_int_or_none("capacity_items"))
        if form.get("password"):
            set_password(user, form["password"])
        if count_active_admins() == 0:
            raise InvalidInput("At least one active admin must remain.", fields={"role": ["Last admin."]})
    except DomainError as error:
        raise _refused(error) from error
    flash(f"{user.name} saved." + (" New password set; their sessions were ended." if form.get("password") else ""))
    return redirect(url_for(".setup") + f"#user-{user.id}", 303)


# --- the door's settings, sent to every phone with its next pull ---------------------------------


def _doorstep_change() -> DoorstepChange:
    """The settings form as typed (``save_doorstep`` checks it)."""
    form = request.form
    return DoorstepChange(
        photo_long_edge=form.get("photo_long_edge", ""),
        photo_jpeg_quality=form.get("photo_jpeg_quality", ""),
        photos_per_grade={g.value: form.get(f"photos-{g.value}", "") for g in Grade},
        signature_required=form.get("signature_required") == "1",
        scan_required_by_default=form.get("scan_required_by_default") == "1",
        failure_words={r.value: form.get(f"words-{r.value}", "") for r in FailureReason},
        failure_reasons_offered=frozenset(form.getlist("offered")),
    )


def _doorstep_page(error: DomainError | None = None, typed: DoorstepChange | None = None) -> str:
    """The settings in force, or after a refusal what the admin typed (``typed``) beside the messages."""
    if typed is not None:
        shown: dict[str, Any] = {
            "photo_long_edge": typed.photo_long_edge, "photo_jpeg_quality": typed.photo_jpeg_quality,
            "photos": typed.photos_per_grade,
            "signature_required": typed.signature_required, "scan_required_by_default": typed.scan_required_by_default,
            "words": typed.failure_words, "offered": typed.failure_reasons_offered | {FailureReason.OTHER.value},
        }
    else:
        door = doorstep()
        shown = {
            "photo_long_edge": door.photo_long_edge, "photo_jpeg_quality": round(door.photo_jpeg_quality * 100),
            "photos": {g.value: door.photos_needed(g) for g in Grade},
            "signature_required": door.signature_required, "scan_required_by_default": door.scan_required_by_default,
            "words": {r.value: door.failure_label(r) for r in FailureReason},
            "offered": {r.value for r in door.failure_reasons_offered},
        }
    return render_template(
        "dispatch/doorstep.html", shown=shown, error=error, errors=(error.fields if error else None) or {},
        grades=GRADE_LABELS, reasons=list(FailureReason), defaults=FAILURE_LABELS, last=last_change(),
        ranges={"long_edge": LONG_EDGE_RANGE, "quality": QUALITY_RANGE, "photos": MOST_PHOTOS, "words": WORDS_LONGEST},
    )


@bp.get("/setup/doorstep")
def setup_doorstep():  # type: ignore[no-untyped-def]
    """What every driver's phone asks for at the door: photos, signature, scan, failure reasons."""
    _admins_only()
    return _doorstep_page()


@bp.post("/setup/doorstep")
def setup_save_doorstep():  # type: ignore[no-untyped-def]
    _admins_only()
    change = _doorstep_change()
    try:
        save_doorstep(change, actor=current_user)
    except DomainError as error:
        raise PageAfterRollback(error.status, partial(_doorstep_page, error, change)) from error
    flash("Settings saved. Every phone follows them from its next sync.")
    return redirect(url_for(".setup_doorstep"), 303)
