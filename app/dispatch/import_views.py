"""CSV import pages: upload → preview (row by row) → commit all or nothing."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.core.errors import DomainError, InvalidInput, PageAfterRollback
from app.core.spreadsheets import csv_response
from app.dispatch import imports
from app.dispatch.blueprint import bp
from app.dispatch.models import CsvImport
from app.extensions import db, wants_json
from app.hubs.models import Hub
from app.hubs.services import list_hubs

PREVIEW_PICKUPS = 50


def _upload_page(*, error: DomainError | None = None, hub_id: int | None = None, status: int = 200) -> tuple[str, int]:
    hubs = list_hubs()
    chosen = hub_id or current_user.hub_id or (hubs[0].id if hubs else None)
    return render_template(
        "dispatch/import.html",
        hubs=hubs,
        hub_id=chosen,
        error=error,
        required=imports.REQUIRED_COLUMNS,
        optional=imports.OPTIONAL_COLUMNS,
        max_rows=imports.MAX_ROWS,
    ), status


def _upload_failed(error: DomainError, hub_id: int | None) -> PageAfterRollback:
    return PageAfterRollback(error.status, lambda: _upload_page(error=error, hub_id=hub_id)[0])


@bp.route("/import", methods=["GET", "POST"])
def import_upload():  # type: ignore[no-untyped-def]
    """Upload a CSV file; it is kept server-side and its preview shown next."""
    if request.method == "GET":
        return _upload_page()
    hub_id = request.form.get("hub_id", type=int)
    hub = db.session.get(Hub, hub_id) if hub_id else None
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise imports.ImportRefused("Choose a CSV file to upload.", fields={"file": ["Required."]})
        csv_import = imports.store_import(upload.read(), filename=upload.filename, uploader=current_user, hub=hub)
    except DomainError as error:
        if wants_json():
            raise  # the JSON error shape, for the upload script
        raise _upload_failed(error, hub_id) from error
    preview_url = url_for(".import_preview", import_id=csv_import.id)
    if wants_json():
        return jsonify(preview_url=preview_url, rows=csv_import.row_count), 201
    return redirect(preview_url, 303)


@bp.get("/import/template.csv")
def import_template():  # type: ignore[no-untyped-def]
    """The expected header with an example pickup of two items."""
    return csv_response(imports.template_csv(), "backhaul-import-template.csv")


def _preview_page(csv_import: CsvImport, preview: imports.ImportPreview, status: int = 200) -> tuple[str, int]:
    return render_template(
        "dispatch/import_preview.html",
        csv_import=csv_import,
        preview=preview,
        shown=preview.pickups[:PREVIEW_PICKUPS],
    ), status


@bp.get("/import/<int:import_id>")
def import_preview(import_id: int):  # type: ignore[no-untyped-def]
    """What the upload would create, or every problem in it, row by row."""
    csv_import = imports.get_import(import_id, viewer=current_user)
    if csv_import.committed_at is not None:
        return render_template("dispatch/import_done.html", csv_import=csv_import, job=imports.job_status(csv_import))
    preview = imports.preview_import(csv_import)
    return _preview_page(csv_import, preview, 200 if preview.ok else 422)


@bp.get("/import/<int:import_id>/status")
def import_status(import_id: int):  # type: ignore[no-untyped-def]
    """A committed upload's progress, for the page that polls it while the background job runs."""
    csv_import = imports.get_import(import_id, viewer=current_user)
    response = jsonify(imports.job_status(csv_import))
    response.headers["Cache-Control"] = "no-store"
    return response


def _fresh_preview_page(import_id: int) -> str:
    csv_import = imports.get_import(import_id, viewer=current_user)
    return _preview_page(csv_import, imports.preview_import(csv_import))[0]


@bp.post("/import/<int:import_id>/commit")
def import_commit(import_id: int):  # type: ignore[no-untyped-def]
    """Create every pickup of the upload, or none."""
    try:
        result = imports.commit_import(import_id, actor=current_user)
        db.session.flush()
    except imports.AlreadyImported as error:
        # Nothing was claimed, so nothing is changed: the preview says it was imported.
        flash(error.message, "warning")
        return redirect(url_for(".import_preview", import_id=import_id), 303)
    except InvalidInput as error:
        raise PageAfterRollback(error.status, lambda: _fresh_preview_page(import_id)) from error
    except IntegrityError as error:
        # Someone created one of these references between the preview and now.
        raise PageAfterRollback(409, lambda: _fresh_preview_page(import_id)) from error
    if result.queued:
        # A big file: checked in full, created by the worker; its page shows the progress.
        return redirect(url_for(".import_preview", import_id=import_id), 303)
    days = sorted({p.window_start.astimezone(ZoneInfo(p.hub.timezone)).date() for p in result.pickups})
    flash(
        f"Imported {len(result.pickups)} pickups with {result.item_count} items from {result.csv_import.filename}"
        + (f" ({days[0]:%d %b} – {days[-1]:%d %b})." if len(days) > 1 else ".")
    )
    return redirect(url_for(".board", date=days[0].isoformat() if days else ""), 303)
