"""``flask reports rebuild`` (count the rollup again from the rows) and ``flask reports check``."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.transactions import run_in_transaction
from app.extensions import db
from app.reports.rollup import rebuild, rows_that_differ

reports_cli = AppGroup("reports", help="The report's rollup.")


@reports_cli.command("rebuild")
def rebuild_command() -> None:
    """Count every pickup's figures again from its rows (after a bulk load or a restore)."""
    rows = run_in_transaction(lambda: rebuild(db.session()))
    click.echo(f"report rollup rebuilt: {rows} rows")


@reports_cli.command("check")
def check_command() -> None:
    """Compare the rollup with a recount from the rows; exit 1 and list the differences if any."""
    try:
        differences = rows_that_differ(db.session())
    finally:
        db.session.rollback()  # the recount was only written to compare
    for key, kept, counted in differences[:50]:
        click.echo(f"{key}: rollup {kept}, rows {counted}")
    if differences:
        raise click.ClickException(f"{len(differences)} rollup rows differ from the rows; run `flask reports rebuild`.")
    click.echo("report rollup matches the rows")
