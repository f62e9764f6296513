"""``flask --app wsgi purge-expired [--dry-run]``: remove personal data and photos past the retention period."""
from __future__ import annotations

import click

from app.core.models import utcnow
from app.retention.services import RetentionReport, preview_expired, purge_expired

_LISTED = 20


def _summary(report: RetentionReport, verb: str) -> str:
    when = report.closed_before.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{verb} the personal data of {report.pickups} pickups closed before {when}, "
        f"with {report.photos} photos ({report.files} files or objects)."
    )


@click.command("purge-expired")
@click.option("--dry-run", is_flag=True, help="Say what would be removed, and remove nothing.")
@click.option("--days", type=click.IntRange(min=0), default=None, help="Retention in days (default: PERSONAL_DATA_RETENTION_DAYS, 90).")
def purge_expired_command(dry_run: bool, days: int | None) -> None:
    """Remove customer names, contacts, addresses, free text and photos of pickups received or cancelled
    longer ago than the retention period; the anonymous figures the reports count stay."""
    now = utcnow()
    if dry_run:
        report = preview_expired(now, days=days)
        click.echo(_summary(report, "Would remove"))
    else:
        report = purge_expired(now, days=days)
        click.echo(_summary(report, "Removed"))
    for reference in report.references[:_LISTED]:
        click.echo(f"  {reference}")
    if len(report.references) > _LISTED:
        click.echo(f"  … and {len(report.references) - _LISTED} more")
