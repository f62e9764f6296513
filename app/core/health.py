"""Liveness and readiness for load balancers and the benchmarks' baseline.

``/healthz``: the process answers. ``/readyz``: it can do its work, so a load
balancer sends it traffic: the database answers, and so do Redis and the photo
store when they are configured. Domains above core add their own check with
``add_readiness_check`` (photos adds its store), so core knows none of them.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
_CHECKS = "backhaul.readiness_checks"


def add_readiness_check(app: Flask, name: str, check: Callable[[], None]) -> None:
    """``check`` raises when the part it checks cannot serve; ``/readyz`` then answers 503."""
    app.extensions.setdefault(_CHECKS, {})[name] = check


def _database() -> None:
    db.session.execute(text("SELECT 1"))


def _redis() -> None:
    import redis  # installed with flask-limiter[redis]; only deployments with REDIS_URL reach here

    client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def register_readiness(app: Flask) -> None:
    add_readiness_check(app, "database", _database)
    if app.config.get("REDIS_URL"):
        add_readiness_check(app, "redis", _redis)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """The process answers (no database): the cheapest possible request."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """Every configured part answers: {"status": "ok", "checks": {name: "ok"}}, or 503 naming what failed."""
    checks: dict[str, str] = {}
    for name, check in current_app.extensions.get(_CHECKS, {}).items():
        try:
            check()
            checks[name] = "ok"
        except Exception as error:  # a probe reports, it does not crash
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            if name == "database":
                db.session.rollback()
            checks[name] = "unavailable"
    ready = all(state == "ok" for state in checks.values())
    response = jsonify(status="ok" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
