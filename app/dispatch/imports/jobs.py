"""Big imports off the request: a background job creates the pickups chunk by chunk, with progress.

A 20,000-row file took ~19 s in one request, near the server's timeout, and its
one long transaction held the pull's watermark (app.pickups.changes) back for
all that time, so drivers' phones saw nothing new until it ended. A file with
more than ``IMPORT_BACKGROUND_PICKUPS`` pickups is therefore checked in its
request as before (every problem is still answered at once, and nothing is
created), then *queued*; the worker (``flask outbox work``) commits it in
chunks of ``IMPORT_CHUNK_PICKUPS``.

Each chunk is all or nothing, and the count of pickups done is written in the
chunk's own transaction. A worker that dies mid-chunk leaves nothing of that
chunk; its lease runs out and a worker resumes after the last committed chunk.
So an import never creates a pickup twice or half a pickup; a failed chunk (a
reference someone created meanwhile) stops the job with the pickups of the
chunks before it kept, and says so.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import DomainError
from app.core.models import utcnow
from app.core.transactions import begin_write_transaction, run_in_transaction
from app.dispatch.imports.committing import DONE, FAILED, QUEUED, RUNNING, create_imported_pickups
from app.dispatch.imports.planning import ImportPreview, parse_import
from app.dispatch.models import CsvImport
from app.extensions import db

log = logging.getLogger(__name__)

def job_status(csv_import: CsvImport) -> dict[str, Any]:
    """What the dispatcher's page and the API show of a job."""
    return {
        "id": csv_import.id,
        "status": csv_import.job_status or DONE,
        "pickups_total": csv_import.pickups_total if csv_import.job_status else csv_import.pickup_count,
        "pickups_done": csv_import.pickups_done if csv_import.job_status else csv_import.pickup_count,
        "error": csv_import.job_error,
        "finished_at": csv_import.finished_at.isoformat() if csv_import.finished_at else None,
    }


def _lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["IMPORT_LEASE_SECONDS"]))


def claim_import_job() -> int | None:
    """Take the oldest queued job (or one whose worker died) for this worker; commits."""

    def claim() -> int | None:
        begin_write_transaction()
        now = utcnow()
        query = (
            select(CsvImport)
            .where(
                or_(
                    CsvImport.job_status == QUEUED,
                    (CsvImport.job_status == RUNNING) & (CsvImport.locked_until < now),
                )
            )
            .order_by(CsvImport.id)
            .limit(1)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = db.session.scalar(query)
        if job is None:
            return None
        job.job_status = RUNNING
        job.locked_until = now + _lease()
        return job.id

    return run_in_transaction(claim)


def plan_import_job(import_id: int) -> ImportPreview | None:
    """The pickups a job creates, planned from its stored file (once per worker that takes it)."""
    job = db.session.get(CsvImport, import_id)
    if job is None:
        return None
    # References were checked when the file was queued; the chunks already created hold some
    # of them now, and create_pickups still refuses any that someone else took meanwhile.
    return parse_import(job.text, default_hub=job.hub, check_references=False)


def run_import_chunk(import_id: int, preview: ImportPreview | None = None) -> bool:
    """Create the next chunk of a claimed job's pickups in one transaction; False once the job is over.

    ``preview``: the job's plan, when the caller keeps it between chunks (else it is planned again).
    """
    preview = preview or plan_import_job(import_id)
    begin_write_transaction()
    job = db.session.get(CsvImport, import_id, with_for_update=True, populate_existing=True)
    if job is None or job.job_status != RUNNING or preview is None:
        db.session.rollback()
        return False
    done = job.pickups_done or 0
    size = int(current_app.config["IMPORT_CHUNK_PICKUPS"])
    chunk = preview.pickups[done : done + size]
    if not preview.ok or not chunk:
        # A file that planned cleanly when queued plans the same now, unless a hub or driver it names went away.
        if not preview.ok:
            _fail(job, "The file no longer imports cleanly: " + "; ".join(str(e) for e in preview.errors[:3]))
        else:
            job.job_status, job.finished_at, job.locked_until = DONE, utcnow(), None
        db.session.commit()
        return False
    try:
        create_imported_pickups(chunk, actor=job.uploaded_by, import_id=job.id)
        db.session.flush()
    except (DomainError, IntegrityError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else "a reference in it was created meanwhile"
        return _fail_by_id(import_id, f"Stopped after {done} of {job.pickups_total} pickups: rows of the next part could not be imported ({message}).")
    job.pickups_done = done + len(chunk)
    job.pickup_count = job.pickups_done
    job.locked_until = utcnow() + _lease()
    if job.pickups_done >= len(preview.pickups):
        job.job_status, job.finished_at, job.locked_until = DONE, utcnow(), None
    db.session.commit()
    return job.job_status == RUNNING


def _fail(job: CsvImport, message: str) -> None:
    job.job_status, job.job_error, job.finished_at, job.locked_until = FAILED, message[:2000], utcnow(), None


def _fail_by_id(import_id: int, message: str) -> bool:
    def record() -> bool:
        job = db.session.get(CsvImport, import_id, with_for_update=True)
        if job is not None:
            _fail(job, message)
        return False

    return run_in_transaction(record)


def release_import_job(import_id: int) -> None:
    """Give a running job back (the worker is stopping between chunks): the next worker resumes it at once."""

    def release() -> None:
        job = db.session.get(CsvImport, import_id, with_for_update=True)
        if job is not None and job.job_status == RUNNING:
            job.locked_until = utcnow()

    run_in_transaction(release)


def run_import_jobs(should_stop: Callable[[], bool] = lambda: False) -> int:
    """Run every waiting import job to its end, or until ``should_stop`` between chunks; answer how many were taken."""
    jobs = 0
    while not should_stop() and (import_id := claim_import_job()) is not None:
        jobs += 1
        try:
            # Planned once: a 10,000-row file costs seconds to read, and it is the same for every chunk.
            preview = plan_import_job(import_id)
            while run_import_chunk(import_id, preview):
                if should_stop():
                    release_import_job(import_id)
                    break
        except Exception as error:  # a bug must not stop the worker; the job says what went wrong
            db.session.rollback()
            log.exception("import job %s failed", import_id)
            _fail_by_id(import_id, f"The import stopped on an error ({type(error).__name__}); the pickups of the parts before it were kept.")
    return jobs
