"""One commit per request, at the HTTP edge (Indico's way).

Services never commit: a request either succeeds and everything it changed is
committed together, or it fails and nothing is kept. That is what makes a CSV
import or a sync batch all-or-nothing.
"""
from __future__ import annotations

from flask import Flask, Response

from app.extensions import db


def register_unit_of_work(app: Flask) -> None:
    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
