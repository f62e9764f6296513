"""``flask --app wsgi sync purge``: forget old sync records and stray upload files."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.errors import InvalidInput
from app.core.models import utcnow
from app.core.transactions import run_in_transaction
from app.photos.services import sweep_stray_photo_files
from app.sync.services import purge_sync_records

sync_cli = AppGroup("sync", help="Sync protocol housekeeping.")


@sync_cli.command("purge")
@click.option("--days", type=int, default=None, help="Keep this many days (at least SYNC_RETENTION_DAYS, default 30).")
def purge_command(days: int | None) -> None:
    """Delete mutation records and tombstones older than --days (keeping each phone's last one) and stray upload files."""
    keep = days or current_app.config["SYNC_RETENTION_DAYS"]
    try:
        report = run_in_transaction(lambda: purge_sync_records(utcnow(), days=keep))
    except InvalidInput as error:
        raise click.UsageError(error.message) from None
    stray = sweep_stray_photo_files()
    click.echo(f"Purged {report.mutations} mutation records, {report.tombstones} tombstones, {stray} stray upload files.")
