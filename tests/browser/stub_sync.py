"""TEMPORARY stand-in for the sync server while branch `sync` is unfinished.

Only registered when the app has no /api/v1/sync/pull of its own; remove once merged.
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.pickups.models import Pickup
from app.pickups.schemas import pickup_out_schema

STATE: dict[str, Any] = {"mutations": {}, "photos": {}}


def install(app: Flask) -> None:
    if any(rule.rule == "/api/v1/sync/pull" for rule in app.url_map.iter_rules()):
        return
    bp = Blueprint("stub_sync", __name__)

    @bp.get("/api/v1/sync/pull")
    @login_required
    def pull():  # type: ignore[no-untyped-def]
        pickups = db.session.scalars(select(Pickup).where(Pickup.driver_id == current_user.id)).all()
        return jsonify(cursor="1", reset=True, last_mutation_id=0, settings={},
                       changes=[{"entity": "pickup", "id": p.id, "op": "put", "version": p.version, "data": pickup_out_schema.dump(p)} for p in pickups])

    @bp.post("/api/v1/sync/push")
    @login_required
    def push():  # type: ignore[no-untyped-def]
        body = request.get_json()
        results = []
        for m in body["mutations"]:
            key = (body["client_id"], m["id"])
            status = "duplicate" if key in STATE["mutations"] else "applied"
            STATE["mutations"][key] = m
            results.append({"id": m["id"], "status": status, "code": None, "message": None})
        return jsonify(last_mutation_id=max([m["id"] for m in body["mutations"]] or [0]), results=results)

    @bp.put("/api/v1/photos/<photo_id>")
    @login_required
    def put_photo(photo_id: str):  # type: ignore[no-untyped-def]
        data = request.get_data()
        assert hashlib.sha256(data).hexdigest() == request.headers["X-Content-SHA256"]
        STATE["photos"][photo_id] = data
        return "", 201

    app.register_blueprint(bp)
