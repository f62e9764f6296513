from __future__ import annotations

import signal
from types import FrameType

import click
from flask.cli import AppGroup

from app.outbox.services import status_counts, work

outbox_cli = AppGroup("outbox", help="Deliver the emails and webhooks waiting in the outbox.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def work_command(once: bool) -> None:
    """Deliver due emails and webhooks until stopped (Ctrl-C or SIGTERM finish the message in hand first)."""
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo("Outbox worker running; Ctrl-C stops it.", err=True)
    tried = work(once=once, should_stop=lambda: stopping)
    counts = status_counts()
    click.echo(f"Tried {tried} message(s). Outbox: " + ", ".join(f"{count} {status}" for status, count in counts.items()))
