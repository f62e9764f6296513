"""The hub clerk's receiving page: scan or type a label, check each item, decide its fate by the rules."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.models import Role
from app.core.auth import roles_required
from app.core.errors import DomainError, Forbidden, InvalidInput, PageAfterRollback
from app.hubs.services import list_hubs
from app.labels.codes import format_label_code
from app.labels.services import resolve_scan
from app.photos.services import staff_of_hub
from app.pickups.models import Grade
from app.pickups.receipt import discrepancies_of, door_quantity
from app.pickups.services import get_pickup
from app.receiving import rules, services, valuation
from app.receiving.models import Disposition

bp = Blueprint("hub", __name__, url_prefix="/hub")
EXTRA_ROWS = 2


@bp.before_request
@roles_required(Role.HUB, Role.ADMIN)
def only_hub_staff() -> None:
    """Receiving is for hub clerks and admins."""


def _page(*, code: str = "", pickup: Any = None, error: DomainError | None = None, form: dict[str, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    hub_id = current_user.hub_id if current_user.role is Role.HUB else None
    # The hub's rules read once for both tables of suggestions the page carries.
    table = rules.rules_for(pickup.hub_id) if pickup is not None else []
    suggestions = services.suggestions_for(pickup, table) if pickup is not None else {}
    if pickup is not None and form is None:
        # Start from the door's count and grade and the rules' suggestion; the clerk confirms or corrects.
        form = {}
        for item in pickup.items:
            form[f"quantity-{item.id}"] = str(door_quantity(item))
            form[f"grade-{item.id}"] = item.grade.value if item.grade else ""
            suggestion = suggestions.get(item.id)
            form[f"disposition-{item.id}"] = suggestion.disposition.value if suggestion else ""
    received = pickup is not None and pickup.status.value == "received"
    return render_template(
        "hub/receiving.html",
        code=code,
        pickup=pickup,
        items=services.items_to_decide(pickup) if pickup is not None else [],
        receivable=pickup is not None and pickup.status in services.RECEIVABLE,
        error=error,
        form=form or {},
        suggestions=suggestions,
        by_grade=services.suggestions_by_grade(pickup, table) if pickup is not None and pickup.status in services.RECEIVABLE else {},
        dispositions=list(Disposition),
        grades=list(Grade),
        extra_rows=range(EXTRA_ROWS),
        decisions=services.dispositions_of(pickup) if received else {},
        discrepancies=discrepancies_of(pickup) if received else [],
        awaiting=services.awaiting_receipt(hub_id),
        format_label_code=format_label_code,
        door_quantity=door_quantity,
        photos=services.door_photos(pickup, current_user) if pickup is not None else {},
        # The chain-of-custody certificate, for the clerks of the pickup's hub once the driver has it.
        custody=pickup is not None and staff_of_hub(current_user, pickup.hub_id) and pickup.status.value not in ("unassigned", "assigned", "cancelled"),
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


def _receipt_failed(error: InvalidInput, pickup_id: int, form: dict[str, str]) -> PageAfterRollback:
    def page() -> str:
        pickup = get_pickup(pickup_id, viewer=current_user)
        return _page(code=format_label_code(pickup.label_code), pickup=pickup, error=error, form=form)[0]

    return PageAfterRollback(422, page)


def _number(form: dict[str, str], name: str, problems: dict[str, list[str]], *, whole: bool = False) -> Any:
    text = form.get(name, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = int(text) if whole else Decimal(text)
    except (ValueError, InvalidOperation):
        problems[name] = ["Not a number."]
        return None
    if value < 0 or (isinstance(value, Decimal) and not value.is_finite()):
        problems[name] = ["Cannot be negative."]
        return None
    return value


def _grade(form: dict[str, str], name: str, problems: dict[str, list[str]]) -> Grade | None:
    text = form.get(name, "").strip().upper()
    if not text:
        return None
    try:
        return Grade(text)
    except ValueError:
        problems[name] = ["Choose A, B, C or D."]
        return None


def read_receipt_form(form: dict[str, str], pickup: Any) -> tuple[list[services.ItemCheck], list[services.ExtraCheck]]:
    """The form's lines as the service takes them; unreadable numbers are refused with their field."""
    problems: dict[str, list[str]] = {}
    lines = []
    for item in services.items_to_decide(pickup):
        quantity = _number(form, f"quantity-{item.id}", problems, whole=True)
        lines.append(
            services.ItemCheck(
                item.id, door_quantity(item) if quantity is None else quantity, _grade(form, f"grade-{item.id}", problems),
                form.get(f"disposition-{item.id}"), form.get(f"reason-{item.id}", ""),
            )
        )
    extras = []
    for index in range(EXTRA_ROWS):
        prefix = f"extra-{index}-"
        description = form.get(prefix + "description", "").strip()
        if not description:
            continue
        quantity = _number(form, prefix + "quantity", problems, whole=True)
        extras.append(
            services.ExtraCheck(
                form.get(prefix + "sku", "").strip()[:64], description[:300], 1 if quantity is None else quantity,
                _grade(form, prefix + "grade", problems), form.get(prefix + "disposition"), form.get(prefix + "reason", ""),
                value=_number(form, prefix + "value", problems), weight_kg=_number(form, prefix + "weight", problems),
            )
        )
    if problems:
        raise InvalidInput("Some figures cannot be read.", fields=problems)
    return lines, extras


@bp.post("/pickups/<int:pickup_id>/receive")
def receive(pickup_id: int):  # type: ignore[no-untyped-def]
    pickup = get_pickup(pickup_id, viewer=current_user)
    form = {key: value[:500] for key, value in request.form.items()}
    version = form.get("version", "")
    try:
        lines, extras = read_receipt_form(form, pickup)
        result = services.receive_pickup(pickup, lines, extras, actor=current_user, version=int(version) if version.isdigit() else None)
    except InvalidInput as error:
        raise _receipt_failed(error, pickup_id, form) from error
    if result.already:
        flash(f"{pickup.reference} was already received; nothing changed.")
        return redirect(url_for("hub.receiving", code=pickup.label_code))
    summary = ", ".join(f"{r.item.description}: {r.disposition.value.replace('_', ' ')}" for r in result.dispositions) or "nothing arrived"
    differences = f" {len(result.discrepancies)} difference(s) from the door recorded." if result.discrepancies else ""
    flash(f"Received {pickup.reference} — {summary}.{differences}")
    return redirect(url_for("hub.receiving", code=pickup.label_code))


# --- the rules table and the recovery rates (admins) -----------------------------------------------


def _admin_only() -> None:
    if current_user.role is not Role.ADMIN:
        raise Forbidden("Only admins change the disposition rules and rates.")


@bp.get("/rules")
def rules_page():  # type: ignore[no-untyped-def]
    """The rules in the order they are tried, and the recovery rate of each disposition."""
    hub_id = current_user.hub_id
    return render_template(
        "hub/rules.html", stored=rules.list_rules(), effective=rules.rules_for(hub_id), rates=valuation.current_rates(),
        dispositions=list(Disposition), grades=list(Grade), hubs=list_hubs(), can_edit=current_user.role is Role.ADMIN,
    )


@bp.post("/rules")
def add_rule():  # type: ignore[no-untyped-def]
    _admin_only()
    form = request.form
    rules.add_rule(
        disposition=form.get("disposition", ""), reason=form.get("reason", ""), category=form.get("category", ""),
        grade=form.get("grade", ""), hub_id=form.get("hub_id", type=int), note=form.get("note", ""),
    )
    flash("Rule added at the end of its list.")
    return redirect(url_for("hub.rules_page"))


@bp.post("/rules/<int:rule_id>/<any(up, down, delete):action>")
def change_rule(rule_id: int, action: str):  # type: ignore[no-untyped-def]
    _admin_only()
    if action == "delete":
        rules.delete_rule(rule_id)
    else:
        rules.move_rule(rule_id, -1 if action == "up" else 1)
    return redirect(url_for("hub.rules_page"))


@bp.post("/rates")
def set_rates():  # type: ignore[no-untyped-def]
    _admin_only()
    for disposition in Disposition:
        text = request.form.get(f"rate-{disposition.value}")
        if text is not None:
            valuation.set_rate(disposition.value, text, request.form.get(f"landfill-{disposition.value}") == "on")
    flash("Recovery rates saved; they apply to decisions from now on.")
    return redirect(url_for("hub.rules_page"))
