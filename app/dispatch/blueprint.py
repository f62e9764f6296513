"""The dispatcher console's blueprint: every page under /dispatch/ is for dispatchers and admins.

The board and pickup pages (views), the CSV import (import_views) and the reports
(app.reports.views too) attach their routes to this one blueprint; create_app registers it.
"""
from __future__ import annotations

from flask import Blueprint

from app.accounts.models import DISPATCH_ROLES
from app.core.auth import roles_required

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")


@bp.before_request
@roles_required(*DISPATCH_ROLES)
def only_dispatchers() -> None:
    """Every page here is for dispatchers and admins."""
