from __future__ import annotations

import click
from flask.cli import AppGroup

from app.apikeys.scopes import SCOPES
from app.apikeys.services import create_api_key, list_api_keys, revoke_api_key
from app.core.errors import DomainError
from app.core.transactions import run_in_transaction

api_keys_cli = AppGroup("api-keys", help="API keys for other systems (Authorization: Bearer <key>).")


@api_keys_cli.command("create")
@click.option("--name", required=True, help="Who the key is for, e.g. the shop's returns system.")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES), help="Repeat for several.")
def create_command(name: str, scopes: tuple[str, ...]) -> None:
    """Create a key and print it (once: only its hash is kept)."""
    try:
        made = run_in_transaction(lambda: create_api_key(name, list(scopes)))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(made.secret)
    click.echo(f"Created API key {name!r} with {', '.join(made.key.scopes)}. Keep it now: it is not shown again.", err=True)


@api_keys_cli.command("revoke")
@click.option("--name", required=True)
def revoke_command(name: str) -> None:
    """Stop a key from working."""
    try:
        run_in_transaction(lambda: revoke_api_key(name))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Revoked API key {name!r}.")


@api_keys_cli.command("list")
def list_command() -> None:
    """Keys with their scopes and last use."""
    for key in list_api_keys():
        state = "revoked" if key.revoked_at else "active"
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        click.echo(f"{key.name}\t{key.prefix}…\t{state}\t{' '.join(key.scopes)}\tlast used {used}")
