"""Liveness and readiness for load balancers and the benchmarks' baseline."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """The process answers (no database): the cheapest possible request."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """The database answers too."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
