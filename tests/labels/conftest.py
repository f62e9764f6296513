"""Factories for label tests: pickups in any status, their customer tokens, staff clients."""
from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db as _db
from app.pickups.models import PickupStatus


@pytest.fixture
def token_of():  # type: ignore[no-untyped-def]
    """The active customer token of a pickup: ``token_of(pickup)``."""
    from app.labels.services import active_customer_token

    def get(pickup: Any) -> str:
        _db.session.refresh(pickup)
        token = active_customer_token(pickup)
        assert token is not None
        return token.token

    return get


@pytest.fixture
def collected_pickup(create_pickup, driver):  # type: ignore[no-untyped-def]
    """A pickup its driver has collected (items graded), ready for the hub: ``collected_pickup(**overrides)``."""
    from app.pickups.models import Grade
    from app.pickups.services import change_status

    def make(status: PickupStatus = PickupStatus.COLLECTED, grades: tuple[Any, ...] = (Grade.A, Grade.D), quantities: tuple[Any, ...] | None = None, **overrides: Any) -> Any:
        pickup = create_pickup(driver=driver, **overrides)
        for index, item in enumerate(pickup.items):
            item.collected_quantity = item.quantity if quantities is None else quantities[index]
            item.grade = grades[index % len(grades)] if grades else None
        change_status(pickup, status, actor=None, kind="collected")
        _db.session.commit()
        return pickup

    return make
