"""``POST /api/v1/pickups/import``: the CSV import for scripts, with the console's rules."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from app.accounts.models import DISPATCH_ROLES
from app.core.auth import roles_required
from app.core.errors import InvalidInput
from app.dispatch import imports
from app.dispatch.models import CsvImport
from app.extensions import db
from app.hubs.services import get_hub

blp = Blueprint("dispatch_api", __name__, url_prefix="/api/v1/pickups", description="CSV import of pickups")


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "check only: report problems, create nothing"})
    hub_id = fields.Integer(load_default=None, metadata={"description": "hub for rows without hub_code"})


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "the CSV file (UTF-8; comma, semicolon or tab separated)"})


class ImportJobSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    pickups_total = fields.Integer(allow_none=True)
    pickups_done = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    status_url = fields.String(metadata={"description": "GET it for the progress"})


class ImportResultSchema(Schema):
    dry_run = fields.Boolean()
    rows = fields.Integer()
    pickups = fields.Integer()
    items = fields.Integer()
    pickup_ids = fields.List(fields.Integer())
    warnings = fields.List(fields.String())
    job = fields.Nested(ImportJobSchema, metadata={"description": "only with 202: the background job creating the pickups"})


def _job(csv_import: CsvImport) -> dict[str, Any]:
    return {**imports.job_status(csv_import), "status_url": url_for("dispatch_api.import_job", import_id=csv_import.id)}


@blp.route("/import", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(201, ImportResultSchema)
@blp.alt_response(202, schema=ImportResultSchema, description="A big file: checked, and queued for the background job (see ``job``)")
def import_pickups(query: dict, files: dict):  # type: ignore[no-untyped-def]
    """Import pickups from a CSV file, all or nothing.

    A 422 lists every problem as ``fields.rows``: ``"Row 7, quantity: “0” is not a whole number of 1 or more."``
    A file of more than ``IMPORT_BACKGROUND_PICKUPS`` pickups (1,000) is checked in full, then answered
    202 with ``job``: the worker creates its pickups in chunks, each all or nothing; follow ``job.status_url``.
    """
    hub = get_hub(query["hub_id"]) if query["hub_id"] else None
    upload = files["file"]
    if query["dry_run"]:
        decoded = imports.read_upload(upload.read())
        preview = imports.parse_import(decoded.text, default_hub=hub)
        if not preview.ok:
            raise InvalidInput(
                f"The file has {preview.error_count} problem(s).", fields={"rows": [str(e) for e in preview.errors]}
            )
        warnings = [decoded.warning] if decoded.warning else []
        return {"dry_run": True, "rows": preview.row_count, "pickups": len(preview.pickups), "items": preview.item_count, "pickup_ids": [], "warnings": warnings}, 200
    result = imports.import_csv(upload.read(), filename=upload.filename or "upload.csv", actor=current_user, hub=hub)
    warnings = [imports.CP1252_WARNING] if result.csv_import.encoding == "windows-1252" else []
    if result.queued:
        db.session.flush()
        counts = {"rows": result.csv_import.row_count, "pickups": result.csv_import.pickups_total, "items": result.item_count}
        return {"dry_run": False, **counts, "pickup_ids": [], "warnings": warnings, "job": _job(result.csv_import)}, 202
    return {
        "dry_run": False,
        "rows": result.csv_import.row_count,
        "pickups": len(result.pickups),
        "items": result.item_count,
        "pickup_ids": [p.id for p in result.pickups],
        "warnings": warnings,
    }


@blp.route("/import/<int:import_id>", methods=["GET"])
@roles_required(*DISPATCH_ROLES)
@blp.response(200, ImportJobSchema)
def import_job(import_id: int):  # type: ignore[no-untyped-def]
    """An import's progress: ``queued``, ``running`` (``pickups_done`` of ``pickups_total``), ``done`` or ``failed``."""
    return _job(imports.get_import(import_id, viewer=current_user))
