"""`hubs create` and `hubs list`: setting up a depot without the demo data."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.core.transactions import run_in_transaction
from app.hubs.services import create_hub, list_hubs

hubs_cli = AppGroup("hubs", help="Manage hubs (depots).")


def _refusal(error: DomainError) -> click.ClickException:
    details = "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in (error.fields or {}).items())
    return click.ClickException(f"{error.message} {details}".strip())


@hubs_cli.command("create")
@click.option("--code", required=True, help="Short code printed on labels and used in CSV files, e.g. AMS1.")
@click.option("--name", required=True)
@click.option("--timezone", required=True, help="IANA name, e.g. Europe/Amsterdam: pickup windows are read in it.")
@click.option("--line1", default=None, help="Street and number.")
@click.option("--city", default=None)
@click.option("--postcode", default=None)
@click.option("--country", default=None, help="Two-letter code, e.g. NL.")
@click.option("--lat", type=float, default=None, help="Where routes start and end.")
@click.option("--lon", type=float, default=None)
def create_hub_command(code: str, name: str, timezone: str, line1: str | None, city: str | None, postcode: str | None,
                       country: str | None, lat: float | None, lon: float | None) -> None:
    """Create a hub."""
    address = {"address_line1": line1, "city": city, "postcode": postcode, "country": country, "lat": lat, "lon": lon}
    try:
        hub = run_in_transaction(lambda: create_hub(code=code, name=name, timezone=timezone, **address))
    except DomainError as error:
        raise _refusal(error) from None
    click.echo(f"Created hub {hub.code} “{hub.name}” ({hub.timezone}, id {hub.id}).")


@hubs_cli.command("list")
def list_hubs_command() -> None:
    """Every hub: code, name, timezone, city."""
    hubs = list_hubs()
    if not hubs:
        click.echo("No hubs yet. Create one: flask --app wsgi hubs create --code AMS1 --name \"Hub Amsterdam\" --timezone Europe/Amsterdam")
        return
    for hub in hubs:
        click.echo(f"{hub.code}\t{hub.name}\t{hub.timezone}\t{hub.city or '-'}\t(id {hub.id})")
