"""`users create|list|deactivate|set-password`: staff accounts from the command line.

Passwords are asked on a hidden prompt when not given, so they stay out of shell history.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.models import Role
from app.accounts.services import create_user, deactivate_user, find_user_by_email, list_users, set_password
from app.core.errors import DomainError
from app.core.transactions import run_in_transaction
from app.hubs.services import find_hub_by_code

users_cli = AppGroup("users", help="Manage user accounts.")


def _refusal(error: DomainError) -> click.ClickException:
    details = "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in (error.fields or {}).items())
    return click.ClickException(f"{error.message} {details}".strip())


def _password_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--password", prompt=True, hide_input=True, confirmation_prompt=True,
        help="At least 8 characters. Leave out to be asked (keeps it out of shell history).",
    )(func)


@users_cli.command("create")
@click.option("--email", required=True)
@_password_option
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", required=True)
@click.option("--hub", "hub_code", default=None, help="Code of the hub the user works from.")
def create_user_command(email: str, password: str, role: str, name: str, hub_code: str | None) -> None:
    """Create a user who can log in straight away."""
    hub_id = None
    if hub_code:
        hub = find_hub_by_code(hub_code)
        if hub is None:
            raise click.ClickException(f"No hub with code {hub_code!r}. See: flask --app wsgi hubs list")
        hub_id = hub.id
    try:
        user = run_in_transaction(lambda: create_user(email=email, password=password, role=role, name=name, hub_id=hub_id))
    except DomainError as error:
        raise _refusal(error) from None
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@users_cli.command("list")
@click.option("--role", default=None, type=click.Choice([r.value for r in Role]))
def list_users_command(role: str | None) -> None:
    """Every user: email, role, name, hub, active or not."""
    for user in list_users(Role(role) if role else None):
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.email}\t{user.role.value}\t{user.name}\t{user.hub.code if user.hub else '-'}\t{state}\t(id {user.id})")


def _user_or_fail(email: str):  # type: ignore[no-untyped-def]
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {email!r}.")
    return user


@users_cli.command("deactivate")
@click.option("--email", required=True)
def deactivate_user_command(email: str) -> None:
    """Stop a user from logging in; their open sessions end at their next request."""
    run_in_transaction(lambda: deactivate_user(_user_or_fail(email)))
    click.echo(f"Deactivated {email}.")


@users_cli.command("set-password")
@click.option("--email", required=True)
@_password_option
def set_password_command(email: str, password: str) -> None:
    """Give a user a new password (ends their sessions)."""
    try:
        run_in_transaction(lambda: set_password(_user_or_fail(email), password))
    except DomainError as error:
        raise _refusal(error) from None
    click.echo(f"New password set for {email}.")
