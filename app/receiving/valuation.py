"""What a disposition recovers: a share of the item's value, and its weight kept out of landfill.

The defaults (also in the README) are conservative industry figures: restocked
goods sell at full value, resold (B-stock) goods at about 60 %, refurbished at
about 40 % once the work is paid, recycled material at about 5 %; disposal and a
return to the customer recover nothing for the business. Everything but disposal
keeps the item's weight out of landfill (an item returned to the customer goes
on being used). An admin overrides a figure per disposition (``recovery_rates``).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.core.errors import InvalidInput
from app.extensions import db
from app.receiving.models import Disposition, RecoveryRate


@dataclass(frozen=True)
class Rate:
    rate: Decimal
    keeps_from_landfill: bool


DEFAULT_RATES: dict[Disposition, Rate] = {
    Disposition.RESTOCK: Rate(Decimal("1.00"), True),
    Disposition.RESELL: Rate(Decimal("0.60"), True),
    Disposition.REFURBISH: Rate(Decimal("0.40"), True),
    Disposition.RECYCLE: Rate(Decimal("0.05"), True),
    Disposition.DISPOSE: Rate(Decimal("0"), False),
    Disposition.RETURN_TO_CUSTOMER: Rate(Decimal("0"), True),
}
CENT = Decimal("0.01")
GRAM = Decimal("0.001")


def current_rates() -> dict[Disposition, Rate]:
    """Each disposition's rate: the admin's where set, else the default."""
    rates = dict(DEFAULT_RATES)
    for row in db.session.scalars(select(RecoveryRate)):
        rates[row.disposition] = Rate(Decimal(row.rate), row.keeps_from_landfill)
    return rates


def recovered(rate: Rate, *, quantity: int, value: Decimal | None, weight_kg: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """(recovered value, kg kept from landfill) for ``quantity`` units; None where the item has no value or weight."""
    money = None if value is None else (Decimal(value) * quantity * rate.rate).quantize(CENT, ROUND_HALF_UP)
    kept = None if weight_kg is None else (Decimal(weight_kg) * quantity if rate.keeps_from_landfill else Decimal(0)).quantize(GRAM)
    return money, kept


def set_rate(disposition: str, rate: str, keeps_from_landfill: bool) -> RecoveryRate:
    """The admin sets one disposition's recovery rate (0–1, e.g. 0.6) and whether its weight counts as kept."""
    try:
        chosen = Disposition(disposition)
    except ValueError:
        raise InvalidInput("Unknown disposition.", fields={"disposition": ["Unknown disposition."]}) from None
    try:
        share = Decimal(rate.strip().replace(",", "."))
    except ArithmeticError:
        share = Decimal(-1)
    if not share.is_finite() or not Decimal(0) <= share <= Decimal(1):
        raise InvalidInput("A rate is a share between 0 and 1, e.g. 0.6.", fields={f"rate-{chosen.value}": ["Between 0 and 1."]})
    row = db.session.get(RecoveryRate, chosen) or RecoveryRate(disposition=chosen)
    row.rate, row.keeps_from_landfill = share.quantize(Decimal("0.0001")), keeps_from_landfill
    db.session.add(row)
    return row
