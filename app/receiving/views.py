"""The hub clerk's receiving page: scan or type a label, check the items, decide each one's fate."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.models import Role
from app.core.auth import roles_required
from app.core.errors import DomainError, InvalidInput, PageAfterRollback
from app.labels.codes import format_label_code
from app.labels.services import resolve_scan
from app.pickups.services import get_pickup
from app.receiving import services
from app.receiving.models import Disposition

bp = Blueprint("hub", __name__, url_prefix="/hub")


@bp.before_request
@roles_required(Role.HUB, Role.ADMIN)
def only_hub_staff() -> None:
    """Receiving is for hub clerks and admins."""


def _page(*, code: str = "", pickup: Any = None, error: DomainError | None = None, choices: dict[int, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    hub_id = current_user.hub_id if current_user.role is Role.HUB else None
    if pickup is not None and choices is None:
        # Start from the usual decision for each item's grade; the clerk confirms or changes it.
        choices = {
            item.id: services.SUGGESTED_DISPOSITION[item.grade].value
            for item in pickup.items
            if item.grade is not None
        }
    return render_template(
        "hub/receiving.html",
        code=code,
        pickup=pickup,
        items=services.items_to_decide(pickup) if pickup is not None else [],
        receivable=pickup is not None and pickup.status in services.RECEIVABLE,
        error=error,
        choices=choices or {},
        dispositions=list(Disposition),
        awaiting=services.awaiting_receipt(hub_id),
        format_label_code=format_label_code,
    ), status


@bp.get("/")
def receiving():  # type: ignore[no-untyped-def]
    code = request.args.get("code", "").strip()[:500]
    if not code:
        return _page()
    try:
        pickup = resolve_scan(code, scanner=current_user)
    except DomainError as error:
        return _page(code=code, error=error, status=error.status)
    return _page(code=format_label_code(pickup.label_code), pickup=pickup)


def _receipt_failed(error: InvalidInput, pickup_id: int, choices: dict[int, str]) -> PageAfterRollback:
    def page() -> str:
        pickup = get_pickup(pickup_id, viewer=current_user)
        return _page(code=format_label_code(pickup.label_code), pickup=pickup, error=error, choices=choices)[0]

    return PageAfterRollback(422, page)


@bp.post("/pickups/<int:pickup_id>/receive")
def receive(pickup_id: int):  # type: ignore[no-untyped-def]
    pickup = get_pickup(pickup_id, viewer=current_user)
    choices = {item.id: request.form.get(f"disposition-{item.id}", "") for item in pickup.items}
    version = request.form.get("version", "")
    try:
        records = services.receive_pickup(
            pickup, choices, actor=current_user, version=int(version) if version.isdigit() else None
        )
    except InvalidInput as error:
        raise _receipt_failed(error, pickup_id, choices) from error
    summary = ", ".join(f"{record.item.description}: {record.disposition.value}" for record in records) or "no items came back"
    flash(f"Received {pickup.reference} — {summary}.")
    return redirect(url_for("hub.receiving"))
