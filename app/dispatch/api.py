"""``POST /api/v1/pickups/import``: the CSV import for scripts, with the console's rules."""
from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from app.accounts.models import DISPATCH_ROLES
from app.core.auth import roles_required
from app.core.errors import InvalidInput
from app.dispatch import imports
from app.hubs.services import get_hub

blp = Blueprint("dispatch_api", __name__, url_prefix="/api/v1/pickups", description="CSV import of pickups")


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "check only: report problems, create nothing"})
    hub_id = fields.Integer(load_default=None, metadata={"description": "hub for rows without hub_code"})


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "the CSV file (UTF-8; comma, semicolon or tab separated)"})


class ImportResultSchema(Schema):
    dry_run = fields.Boolean()
    rows = fields.Integer()
    pickups = fields.Integer()
    items = fields.Integer()
    pickup_ids = fields.List(fields.Integer())
    warnings = fields.List(fields.String())


@blp.route("/import", methods=["POST"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(201, ImportResultSchema)
def import_pickups(query: dict, files: dict):  # type: ignore[no-untyped-def]
    """Import pickups from a CSV file, all or nothing.

    A 422 lists every problem as ``fields.rows``: ``"Row 7, quantity: “0” is not a whole number of 1 or more."``
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
    return {
        "dry_run": False,
        "rows": result.csv_import.row_count,
        "pickups": len(result.pickups),
        "items": result.item_count,
        "pickup_ids": [p.id for p in result.pickups],
        "warnings": [imports.CP1252_WARNING] if result.csv_import.encoding == "windows-1252" else [],
    }
