"""Labels: the code on the parcel and the customer's link.

The foundation issues label codes; the labels issue adds tokens, renderings
and scanning here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from app.extensions import db
from app.labels.codes import new_label_code

if TYPE_CHECKING:
    from app.pickups.models import Pickup


def issue_label_code() -> str:
    """A label code no pickup has yet."""
    from app.pickups.models import Pickup

    while True:
        code = new_label_code()
        if db.session.scalar(select(Pickup.id).where(Pickup.label_code == code)) is None:
            return code


def customer_url(pickup: Pickup) -> str | None:
    """The customer's link for this pickup (filled in by the labels issue)."""
    return None
