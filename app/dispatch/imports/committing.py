"""Storing an upload between its preview and its commit, and committing it all or nothing.

``commit_import`` claims the stored upload exactly once, plans it again and
creates every pickup through the pickups domain in one go
(``pickups.services.create_pickups``), or raises and creates none.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, Table, update

from app.accounts.models import User
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.models import utcnow
from app.dispatch.imports.planning import ImportPreview, PlannedPickup, parse_import
from app.dispatch.imports.reading import CP1252_WARNING, check_header, read_upload
from app.dispatch.models import CsvImport
from app.extensions import db
from app.hubs.models import Hub
from app.pickups.models import Pickup
from app.pickups.services import NewPickup, create_pickups

# A background import job's states (app.dispatch.imports.jobs); None: committed in its request.
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class AlreadyImported(Conflict):
    code = "already_imported"


@dataclass(frozen=True)
class ImportResult:
    csv_import: CsvImport
    pickups: list[Pickup]
    item_count: int

    @property
    def queued(self) -> bool:
        """The file was checked and handed to the background job: no pickup exists yet."""
        return self.csv_import.job_status == QUEUED


def runs_in_background(pickup_count: int) -> bool:
    """Whether a file of this many pickups is committed by the background job rather than in its request."""
    return pickup_count > int(current_app.config["IMPORT_BACKGROUND_PICKUPS"])


# --- storing and committing -------------------------------------------------------------------

def store_import(raw: bytes, *, filename: str, uploader: User, hub: Hub | None) -> CsvImport:
    """Keep an uploaded file for its preview and commit; refuse it if it cannot be imported at all."""
    decoded = read_upload(raw)
    row_count = check_header(decoded.text)
    # Uploads that were previewed and abandoned are not worth keeping for long.
    cutoff = utcnow() - timedelta(days=1)
    db.session.execute(
        cast(Table, CsvImport.__table__).delete().where(
            CsvImport.uploaded_by_id == uploader.id, CsvImport.committed_at.is_(None), CsvImport.created_at < cutoff
        )
    )
    csv_import = CsvImport(
        uploaded_by_id=uploader.id,
        hub_id=hub.id if hub else None,
        filename=(filename or "upload.csv")[-255:],
        encoding=decoded.encoding,
        text=decoded.text,
        row_count=row_count,
    )
    db.session.add(csv_import)
    db.session.flush()
    return csv_import


def get_import(import_id: int, *, viewer: User) -> CsvImport:
    """An upload, to the person who uploaded it."""
    csv_import = db.session.get(CsvImport, import_id)
    if csv_import is None or csv_import.uploaded_by_id != viewer.id:
        raise NotFound("There is no such upload. Upload the file again.")
    return csv_import


def preview_import(csv_import: CsvImport) -> ImportPreview:
    """The preview of a stored upload, with the encoding warning when its encoding was guessed."""
    preview = parse_import(csv_import.text, default_hub=csv_import.hub)
    if csv_import.encoding == "windows-1252":
        preview.warnings.append(CP1252_WARNING)
    return preview


def commit_import(import_id: int, *, actor: User) -> ImportResult:
    """Create every pickup of a stored upload, or none; a second commit of the same upload is refused.

    A file of more than ``IMPORT_BACKGROUND_PICKUPS`` pickups is checked in full here and queued
    for the background job (``ImportResult.queued``), which creates them chunk by chunk.
    """
    csv_import = get_import(import_id, viewer=actor)
    # Claim the upload with one conditional UPDATE before anything else: of two
    # simultaneous commits (a double-click) exactly one sees a row change.
    claim = db.session.execute(
        update(CsvImport)
        .where(CsvImport.id == import_id, CsvImport.committed_at.is_(None))
        .values(committed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    claimed = cast(CursorResult[Any], claim).rowcount
    db.session.refresh(csv_import)
    if claimed != 1:
        raise AlreadyImported(
            f"This file was already imported ({csv_import.pickup_count or 0} pickups). Nothing was imported again.",
        )
    preview = parse_import(csv_import.text, default_hub=csv_import.hub)
    if not preview.ok:
        first = "; ".join(str(e) for e in preview.errors[:3])
        raise InvalidInput(
            f"The file has {preview.error_count} problem(s), so nothing was imported: {first}",
            fields={"rows": [str(e) for e in preview.errors]},
        )
    if runs_in_background(len(preview.pickups)):
        # Checked in full, created by the worker chunk by chunk (app.dispatch.imports.jobs).
        csv_import.job_status, csv_import.pickups_total, csv_import.pickups_done, csv_import.pickup_count = QUEUED, len(preview.pickups), 0, 0
        return ImportResult(csv_import, [], preview.item_count)
    pickups = create_imported_pickups(preview.pickups, actor=actor, import_id=csv_import.id)
    csv_import.pickup_count = len(pickups)
    return ImportResult(csv_import, pickups, preview.item_count)


def import_csv(raw: bytes, *, filename: str, actor: User, hub: Hub | None) -> ImportResult:
    """Store and commit in one step (the JSON API): all or nothing, like the console."""
    csv_import = store_import(raw, filename=filename, uploader=actor, hub=hub)
    return commit_import(csv_import.id, actor=actor)


def create_imported_pickups(planned: Sequence[PlannedPickup], *, actor: User | None, import_id: int | None) -> list[Pickup]:
    """Create the planned pickups through the pickups domain, each saying which rows it came from."""
    return create_pickups(
        [
            NewPickup(
                plan.data,
                plan.hub,
                plan.driver,
                message=f"Pickup {plan.reference} imported from {_describe_rows(plan.rows)}"
                + (f" of upload #{import_id}." if import_id else "."),
                event_data={"import_id": import_id, "rows": plan.rows},
            )
            for plan in planned
        ],
        actor=actor,
        source="imported",
    )


def _describe_rows(rows: Sequence[int]) -> str:
    if len(rows) == 1:
        return f"row {rows[0]}"
    if list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return f"rows {rows[0]}–{rows[-1]}"
    return "rows " + ", ".join(map(str, rows))
