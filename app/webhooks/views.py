"""``/dispatch/webhooks``: the registered receivers, their delivery log and replay (admins register and remove)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.models import DISPATCH_ROLES, Role
from app.core.auth import roles_required
from app.core.errors import DomainError, Forbidden, PageAfterRollback
from app.outbox.services import messages_to_endpoint
from app.webhooks import services

bp = Blueprint("webhooks_views", __name__, url_prefix="/dispatch/webhooks")


@bp.before_request
@roles_required(*DISPATCH_ROLES)
def _dispatchers_only() -> None:
    return None


def _admins_only() -> None:
    if current_user.role is not Role.ADMIN:
        raise Forbidden("Only admins register or remove webhooks.")


@bp.get("/")
def endpoints():  # type: ignore[no-untyped-def]
    return render_template("webhooks/endpoints.html", endpoints=services.list_endpoints(), events=services.EVENTS, form={}, errors={})


@bp.post("/")
def create():  # type: ignore[no-untyped-def]
    _admins_only()
    url, description, events = request.form.get("url", ""), request.form.get("description", ""), request.form.getlist("events")
    form = {"url": url, "description": description, "events": events}
    try:
        endpoint = services.create_endpoint(url, events, description, actor=current_user)
    except DomainError as error:
        refused = error
        raise PageAfterRollback(
            refused.status,
            lambda: render_template(
                "webhooks/endpoints.html", endpoints=services.list_endpoints(), events=services.EVENTS, form=form, errors=refused.fields or {}, error=refused
            ),
        ) from None
    flash(f"Webhook endpoint {endpoint.url} registered. Its signing secret is on its page.")
    return redirect(url_for(".endpoint", endpoint_id=endpoint.id)), 303


@bp.get("/<int:endpoint_id>")
def endpoint(endpoint_id: int):  # type: ignore[no-untyped-def]
    found = services.get_endpoint(endpoint_id)
    return render_template(
        "webhooks/endpoint.html", endpoint=found, deliveries=messages_to_endpoint(endpoint_id), show_secret=current_user.role is Role.ADMIN
    )


@bp.post("/<int:endpoint_id>/delete")
def delete(endpoint_id: int):  # type: ignore[no-untyped-def]
    _admins_only()
    services.delete_endpoint(endpoint_id)
    flash("Webhook endpoint removed.")
    return redirect(url_for(".endpoints")), 303


@bp.post("/<int:endpoint_id>/deliveries/<int:message_id>/replay")
def replay(endpoint_id: int, message_id: int):  # type: ignore[no-untyped-def]
    try:
        services.replay_delivery(message_id, endpoint_id)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".endpoint", endpoint_id=endpoint_id)), 303
    flash(f"Delivery {message_id} queued again.")
    return redirect(url_for(".endpoint", endpoint_id=endpoint_id)), 303
