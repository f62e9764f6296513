"""Remove what the retention period no longer allows us to keep, in batches, each its own transaction."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.core.transactions import run_in_transaction
from app.extensions import db
from app.outbox.services import forget_messages_about
from app.photos.services import delete_photo_files, forget_photos_of_pickups, photos_of_pickups
from app.pickups.models import Pickup
from app.pickups.retention import expired_pickup_ids, remove_personal_data

BATCH = 500


@dataclass
class RetentionReport:
    closed_before: datetime
    pickups: int = 0
    photos: int = 0
    files: int = 0
    references: list[str] = field(default_factory=list)


def retention_cutoff(now: datetime, days: int | None = None) -> datetime:
    """Pickups closed before this moment have outlived the retention period."""
    return now - timedelta(days=current_app.config["PERSONAL_DATA_RETENTION_DAYS"] if days is None else days)


def _references(pickup_ids: list[int]) -> list[str]:
    return list(db.session.scalars(select(Pickup.reference).where(Pickup.id.in_(pickup_ids)).order_by(Pickup.id)))


def preview_expired(now: datetime, *, days: int | None = None) -> RetentionReport:
    """What ``purge_expired`` would remove now, removing nothing."""
    report = RetentionReport(retention_cutoff(now, days))
    ids = expired_pickup_ids(report.closed_before)
    report.pickups = len(ids)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        photos = photos_of_pickups(chunk)
        report.photos += len(photos)
        report.files += 2 * len(photos)
        report.references += _references(chunk)
    return report


def purge_expired(now: datetime, *, days: int | None = None, progress: Callable[[RetentionReport], None] | None = None) -> RetentionReport:
    """Remove personal data and photos of pickups closed before the cutoff; batch by batch, each committed.

    A batch's files or objects are deleted after its commit; a run cut off part-way
    is simply run again (what is done stays done, what is left is found again).
    """
    report = RetentionReport(retention_cutoff(now, days))

    def one_batch() -> tuple[list[str], int, list[str]]:
        ids = expired_pickup_ids(report.closed_before, limit=BATCH)
        references = _references(ids)
        removed = forget_photos_of_pickups(ids)
        remove_personal_data(ids, now=now)
        # The emails and webhooks about them carry the customer's address and the pickup as it was.
        forget_messages_about(ids)
        report.photos += removed.photos
        return removed.names, len(ids), references

    while True:
        names, count, references = run_in_transaction(one_batch)
        if not count:
            return report
        delete_photo_files(names)
        report.pickups += count
        report.files += len(names)
        report.references += references
        if progress is not None:
            progress(report)

