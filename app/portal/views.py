"""The customer's pages behind their secret link (``/r/<token>``) and the public label check (``/l/<code>``).

Every answer under ``/r/`` says ``Referrer-Policy: no-referrer`` (the token
must not travel to anyone in a Referer header) and, unless it is a label file
(see app.labels.views for why those may be kept privately), ``Cache-Control:
no-store``. Wrong links and wrong codes are rate-limited per address, counting
misses only, so guessing ends in 429 long before it could find anything.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import TooManyRequests

from app.core.errors import DomainError, PageAfterRollback, error_page
from app.extensions import limiter
from app.labels.codes import format_label_code
from app.labels.log_redaction import install_token_redaction
from app.labels.rendering import LabelContent
from app.labels.services import (
    BadCheckCharacter,
    NotALabel,
    UnknownLabel,
    check_label,
    label_content_for_token,
    resolve_customer_token,
)
from app.labels.views import FORMAT_CONVERTER, label_response
from app.pickups.models import Pickup
from app.pickups.rebooking import can_rebook, parse_slot, rebook_limit
from app.pickups.services import set_access_notes
from app.portal import services
from app.portal.schemas import access_notes_schema, cancel_schema

bp = Blueprint("portal", __name__)


def _missed(response: Response) -> bool:
    # Only "no such link / no such label" counts: a customer reloading their own page never does.
    return response.status_code in (404, 410)


_T = TypeVar("_T")


def _once(load: Callable[[str], _T], token: str) -> _T:
    """``load(token)`` once per request, its answer or its error kept for the view.

    The limiter's exemption below resolves the link before the view runs; without this the
    view resolved it again, and the label image (the hot path) paid two lookups for one.
    """
    memo: dict[tuple[Any, str], tuple[Any, DomainError | None]] = g.setdefault("customer_links", {})
    key = (load, token)
    if key not in memo:
        try:
            memo[key] = (load(token), None)
        except DomainError as refused:
            memo[key] = (None, refused)
    value, failure = memo[key]
    if failure is not None:
        raise failure
    return cast(_T, value)


def _pickup_of(token: str) -> Pickup:
    return _once(resolve_customer_token, token)


def _label_of(token: str) -> LabelContent:
    return _once(label_content_for_token, token)


def _valid_link_sent() -> bool:
    # A customer's working link is served even while their address is limited: everyone behind
    # one office or mobile-carrier address must not be locked out by one prober's misses.
    token = (request.view_args or {}).get("token")
    if not token:
        return False
    try:
        # The label image needs only the label (a lighter lookup than the whole pickup).
        _label_of(token) if request.endpoint == "portal.label_file" else _pickup_of(token)
    except DomainError:
        return False
    return True


lookup_limit = limiter.shared_limit(
    lambda: current_app.config["CUSTOMER_LOOKUP_LIMIT"],
    scope="customer-lookup",
    key_func=get_remote_address,
    deduct_when=_missed,
    exempt_when=_valid_link_sent,
)


@bp.record_once
def _keep_tokens_out_of_logs(state: Any) -> None:
    install_token_redaction()


@bp.after_app_request
def _token_page_headers(response: Response) -> Response:
    # App-wide, so even a 404 for a mistyped /r/… path (which no view of ours answers) gets them.
    if request.path.startswith("/r/"):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _link_problem(status: int, code: str, message: str) -> tuple[str, int]:
    return error_page("portal/problem.html", status, code=code, message=message)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):  # type: ignore[no-untyped-def]
    return _link_problem(error.status, error.code, error.message)


@bp.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests):  # type: ignore[no-untyped-def]
    return _link_problem(429, "rate_limited", "There have been too many wrong links or codes from your network. Wait a minute and try again.")


@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError):  # type: ignore[no-untyped-def]
    return _link_problem(400, "csrf_failed", "This form expired. Go back, reload the page and try again.")


def _page(token: str, pickup: Any, *, errors: dict[str, Any] | None = None, notes: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "portal/pickup.html",
        token=token,
        pickup=pickup,
        headline=services.headline(pickup),
        window=services.pickup_window(pickup),
        steps=services.customer_steps(pickup),
        can_edit_notes=services.can_edit_access_notes(pickup),
        can_cancel=services.can_cancel(pickup),
        can_rebook=can_rebook(pickup),
        emails=services.emails_sent(pickup),
        code=format_label_code(pickup.label_code),
        errors=errors or {},
        notes=pickup.access_notes if notes is None else notes,
    ), status


@bp.get("/r/<token>")
@lookup_limit
def pickup_page(token: str):  # type: ignore[no-untyped-def]
    return _page(token, _pickup_of(token))


@bp.get(f"/r/<token>/label.<{FORMAT_CONVERTER}:fmt>")
@lookup_limit
def label_file(token: str, fmt: str):  # type: ignore[no-untyped-def]
    content = _label_of(token)
    return label_response(content, fmt, download=request.args.get("download") == "1")  # type: ignore[arg-type]


@bp.get("/r/<token>/print")
@lookup_limit
def print_page(token: str):  # type: ignore[no-untyped-def]
    pickup = _pickup_of(token)
    return render_template("portal/print.html", token=token, code=format_label_code(pickup.label_code))


@bp.post("/r/<token>/notes")
@lookup_limit
def save_access_notes(token: str):  # type: ignore[no-untyped-def]
    pickup = _pickup_of(token)
    try:
        data = access_notes_schema.load({"access_notes": request.form.get("access_notes", "")})
    except ValidationError as error:
        return _page(token, pickup, errors=error.messages_dict, notes=request.form.get("access_notes", ""), status=422)
    set_access_notes(pickup, data["access_notes"])
    flash("Thank you. Your driver will see these notes.")
    return redirect(url_for("portal.pickup_page", token=token, _anchor="access"))


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
@lookup_limit
def cancel(token: str):  # type: ignore[no-untyped-def]
    pickup = _pickup_of(token)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        # Cancelling cannot be undone here, so it always takes a second, explicit step.
        return render_template("portal/cancel.html", token=token, pickup=pickup, can_cancel=services.can_cancel(pickup), errors={})
    try:
        data = cancel_schema.load({"reason": request.form.get("reason", "")})
    except ValidationError as error:
        return render_template("portal/cancel.html", token=token, pickup=pickup, can_cancel=True, errors=error.messages), 422
    services.cancel_return(pickup, data["reason"])
    flash("Your return has been cancelled. Nobody will come to collect it.")
    return redirect(url_for("portal.pickup_page", token=token))


@bp.route("/r/<token>/rebook", methods=["GET", "POST"])
@lookup_limit
def rebook(token: str):  # type: ignore[no-untyped-def]
    pickup = _pickup_of(token)

    def form_page(status: int = 200, error: DomainError | None = None):  # type: ignore[no-untyped-def]
        allowed = can_rebook(pickup)
        return render_template(
            "portal/rebook.html",
            token=token,
            pickup=pickup,
            window=services.pickup_window(pickup),
            days=services.slot_choices(pickup) if allowed else [],
            can_rebook=allowed,
            limit=rebook_limit(),
            error=error,
            chosen=request.form.get("window", ""),
        ), status

    if request.method == "GET":
        return form_page()
    try:
        services.rebook_return(pickup, parse_slot(request.form.get("window", "")))
    except DomainError as error:
        refused = error
        raise PageAfterRollback(refused.status, lambda: form_page(refused.status, refused)[0]) from None
    flash("Thank you: your pickup has its new window. We have sent you a confirmation.")
    return redirect(url_for("portal.pickup_page", token=token))


@bp.get("/l/")
@lookup_limit
def check_form():  # type: ignore[no-untyped-def]
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("portal.check_page", code=code[:100]))
    return render_template("portal/check.html", code="", pickup=None, error=None)


@bp.get("/l/<path:code>")
@lookup_limit
def check_page(code: str):  # type: ignore[no-untyped-def]
    try:
        pickup = check_label(code)
    except (NotALabel, BadCheckCharacter, UnknownLabel) as error:
        # Every "no" is a 404, so each one counts against the address's allowance of misses.
        return render_template("portal/check.html", code=code[:100], pickup=None, error=error.message), 404
    return render_template("portal/check.html", code=format_label_code(pickup.label_code), pickup=pickup, hub=pickup.hub, error=None)
