"""``/dispatch/outbox``: what is waiting, sent, held or dead, and re-sending it."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.accounts.models import DISPATCH_ROLES
from app.core.auth import roles_required
from app.core.errors import DomainError
from app.outbox.models import MessageStatus
from app.outbox.services import recent_messages, resend_message, status_counts

bp = Blueprint("outbox_views", __name__, url_prefix="/dispatch/outbox")


@bp.before_request
@roles_required(*DISPATCH_ROLES)
def _dispatchers_only() -> None:
    return None


@bp.get("/")
def outbox():  # type: ignore[no-untyped-def]
    status_arg = request.args.get("status") or ""
    status = MessageStatus(status_arg) if status_arg in {s.value for s in MessageStatus} else None
    channel = request.args.get("channel") if request.args.get("channel") in ("email", "webhook") else None
    return render_template(
        "outbox/status.html",
        counts=status_counts(),
        messages=recent_messages(status=status, channel=channel, limit=200),
        status=status.value if status else "",
        channel=channel or "",
    )


@bp.post("/<int:message_id>/resend")
def resend(message_id: int):  # type: ignore[no-untyped-def]
    try:
        message = resend_message(message_id)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".outbox")), 303
    flash(f"Message {message.id} to {message.recipient} is queued again.")
    back = request.form.get("next") or ""
    return redirect(back if back.startswith("/dispatch/") and "//" not in back else url_for(".outbox")), 303
