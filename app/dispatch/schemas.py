"""Pickups as the staff API gives them: the pickup's own facts, its customer's link and its timeline."""
from __future__ import annotations

from typing import Any

from marshmallow import fields

from app.core.pagination import page_schema
from app.labels.services import customer_url
from app.pickups.schemas import EventOutSchema, PickupOutSchema


class StaffPickupSchema(PickupOutSchema):
    """A pickup as dispatch sees it: with the customer's private link, which drivers never get."""

    customer_url = fields.Method("get_customer_url", allow_none=True)

    def get_customer_url(self, pickup: Any) -> str | None:
        return customer_url(pickup)


class StaffPickupDetailSchema(StaffPickupSchema):
    events = fields.List(fields.Nested(EventOutSchema))


StaffPickupPageSchema = page_schema(StaffPickupSchema)

staff_pickup_schema = StaffPickupSchema()
