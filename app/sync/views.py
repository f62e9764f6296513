"""The dispatcher's view of sync: per-driver health (``/dispatch/drivers``)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template

from app.accounts.models import DISPATCH_ROLES
from app.core.auth import roles_required
from app.core.models import utcnow
from app.hubs.services import list_hubs
from app.sync.exceptions import open_exceptions
from app.sync.health import driver_sync_health

bp = Blueprint("sync_views", __name__, url_prefix="/dispatch")


def ago(when: datetime | None, now: datetime) -> str:
    """'just now', '12 min ago', '3 h ago', '2 days ago' — or 'never'."""
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def skew_words(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    direction = "ahead" if seconds > 0 else "behind"
    size = abs(seconds)
    if size < 60:
        return "in step"
    if size < 3600:
        return f"{size // 60} min {direction}"
    return f"{size / 3600:.1f} h {direction}"


@bp.get("/exceptions")
@roles_required(*DISPATCH_ROLES)
def exceptions():  # type: ignore[no-untyped-def]
    """Everything that needs a person, each with the action to take."""
    now = utcnow()
    hubs = list_hubs()
    return render_template(
        "sync/exceptions.html", found=open_exceptions(now), now=now, tz_name=hubs[0].timezone if hubs else "UTC", ago=ago,
    )


@bp.get("/drivers")
@roles_required(*DISPATCH_ROLES)
def drivers():  # type: ignore[no-untyped-def]
    now = utcnow()
    hubs = list_hubs()
    return render_template(
        "sync/drivers.html",
        drivers=driver_sync_health(now),
        now=now,
        tz_name=hubs[0].timezone if hubs else "UTC",
        ago=ago,
        skew_words=skew_words,
    )
