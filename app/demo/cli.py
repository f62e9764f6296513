from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.core.transactions import run_in_transaction
from app.demo.data import DemoLogins, database_is_empty, existing_demo_logins, load_demo_data, move_open_demo_pickups_to_today
from app.demo.history import load_demo_history


@click.command("demo-data")
@click.option("--drivers", default=3, show_default=True, type=click.IntRange(1, 50))
@click.option("--pickups", default=40, show_default=True, type=click.IntRange(0, 100_000))
@click.option("--history-days", default=14, show_default=True, type=click.IntRange(0, 400), help="Past days of finished work, for the reports.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@with_appcontext
def demo_data_command(drivers: int, pickups: int, history_days: int, if_empty: bool) -> None:
    """Load a demo hub, dispatcher, drivers, a day of pickups and past days of finished work."""
    if if_empty and not database_is_empty():
        click.echo("Database already has data; demo data not loaded.")
        moved = run_in_transaction(move_open_demo_pickups_to_today)
        if moved:
            click.echo(f"Moved {moved} open demo pickups to today, so the driver app has a route.")
        _echo_demo_logins()
        return
    def load() -> tuple[DemoLogins, int]:
        logins = load_demo_data(drivers=drivers, pickups=pickups)
        return logins, load_demo_history(days=history_days)

    logins, past = run_in_transaction(load)
    click.echo(f"Demo data loaded: {pickups} pickups today, {past} on the {history_days} days before, {drivers} drivers.")
    _print_logins(logins)


def _echo_demo_logins() -> None:
    # On a second `make run` people still need to know how to log in.
    logins = existing_demo_logins()
    if logins is not None:
        _print_logins(logins)


def _print_logins(logins: DemoLogins) -> None:
    click.echo(f"  Dispatcher: {logins.dispatcher}")
    for email in logins.drivers:
        click.echo(f"  Driver:     {email}")
    click.echo(f"  Hub clerk:  {logins.hub_clerk}")
    if logins.admin:
        click.echo(f"  Admin:      {logins.admin} (set-up, rules, what phones ask for at the door)")
    click.echo(f"  Password for all: {logins.password}")
    if logins.customer_url:
        click.echo(f"  A customer's page: {logins.customer_url}")
