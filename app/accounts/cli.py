from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.models import Role
from app.accounts.services import create_user
from app.core.errors import DomainError
from app.core.transactions import run_in_transaction
from app.hubs.services import find_hub_by_code

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", required=True)
@click.option("--hub", "hub_code", default=None, help="Code of the hub the user works from.")
def create_user_command(email: str, password: str, role: str, name: str, hub_code: str | None) -> None:
    """Create a user who can log in straight away."""
    hub_id = None
    if hub_code:
        hub = find_hub_by_code(hub_code)
        if hub is None:
            raise click.ClickException(f"No hub with code {hub_code!r}.")
        hub_id = hub.id
    try:
        user = run_in_transaction(lambda: create_user(email=email, password=password, role=role, name=name, hub_id=hub_id))
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields or ''}".strip()) from None
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")
