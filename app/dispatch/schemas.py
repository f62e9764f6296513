"""Pickups as the staff API gives them: the pickup's own facts, its customer's link and its timeline."""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import fields

from app.accounts.models import Role
from app.core.pagination import page_schema
from app.labels.services import customer_url
from app.pickups.schemas import EventOutSchema, PickupOutSchema


class StaffPickupSchema(PickupOutSchema):
    """A pickup as staff see it: with the customer's private link for dispatch only.

    The link's token lets whoever holds it cancel or edit the customer's notes,
    so hub clerks (who work from the label code) get ``null``, as drivers never get it.
    """

    customer_url = fields.Method(
        "get_customer_url", allow_none=True, metadata={"description": "the customer's private link; null for hub clerks and when revoked"}
    )

    def get_customer_url(self, pickup: Any) -> str | None:
        if getattr(current_user, "role", None) is Role.HUB:
            return None
        return customer_url(pickup)


class StaffPickupDetailSchema(StaffPickupSchema):
    events = fields.List(fields.Nested(EventOutSchema))


StaffPickupPageSchema = page_schema(StaffPickupSchema)

staff_pickup_schema = StaffPickupSchema()
