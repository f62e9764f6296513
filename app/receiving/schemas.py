"""The receive request and its answer: the pickup, each item's decision, the discrepancies."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, fields, validate

from app.pickups.models import DiscrepancyKind, Grade, ItemDiscrepancy, Pickup
from app.pickups.receipt import discrepancy_json
from app.pickups.schemas import ROW_ID, ItemOutSchema, PickupOutSchema
from app.receiving.models import Disposition, ItemDisposition

_DISPOSITION = fields.Enum(Disposition, by_value=True, required=True)
_GRADE = fields.Enum(Grade, by_value=True, load_default=None, allow_none=True)
_MONEY = fields.Decimal(load_default=None, allow_none=True, places=2, validate=validate.Range(min=0, max=10**10))
_KG = fields.Decimal(load_default=None, allow_none=True, places=3, validate=validate.Range(min=0, max=10**7))


class ReceiveItemSchema(Schema):
    item_id = fields.Integer(required=True, validate=ROW_ID)
    quantity = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000))
    grade = _GRADE
    disposition = fields.Enum(Disposition, by_value=True, load_default=None, allow_none=True, metadata={"description": "required when quantity > 0"})
    reason = fields.String(load_default="", validate=validate.Length(max=300), metadata={"description": "required for return_to_customer"})
    value = _MONEY
    weight_kg = _KG


class ReceiveExtraSchema(Schema):
    sku = fields.String(load_default="", validate=validate.Length(max=64))
    description = fields.String(required=True, validate=validate.Length(min=1, max=300))
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    grade = _GRADE
    disposition = _DISPOSITION
    reason = fields.String(load_default="", validate=validate.Length(max=300))
    category = fields.String(load_default="", validate=validate.Length(max=64))
    value = _MONEY
    weight_kg = _KG


class ReceiveSchema(Schema):
    version = fields.Integer(required=True, metadata={"description": "the pickup version the clerk saw; another gives 409"})
    items = fields.List(fields.Nested(ReceiveItemSchema), required=True, validate=validate.Length(max=200))
    extra_items = fields.List(fields.Nested(ReceiveExtraSchema), load_default=list, validate=validate.Length(max=50))


class ReceivedItemSchema(ItemOutSchema):
    category = fields.String()
    value = fields.Decimal(as_string=True, allow_none=True)
    weight_kg = fields.Decimal(as_string=True, allow_none=True)
    received_quantity = fields.Integer(allow_none=True)
    received_grade = fields.Enum(Grade, by_value=True, allow_none=True)
    unexpected = fields.Boolean()


class ReceivedPickupSchema(PickupOutSchema):
    """The pickup after receipt, with the hub's figures (decisions and discrepancies: ``received_json``).

    No customer link: its token can cancel or edit, and receiving works from the label code.
    """

    items = fields.List(fields.Nested(ReceivedItemSchema))


class DecisionOutSchema(Schema):
    disposition = fields.Enum(Disposition, by_value=True)
    quantity = fields.Integer()
    reason = fields.String(allow_none=True)
    suggested = fields.Enum(Disposition, by_value=True, allow_none=True)
    rule = fields.String(allow_none=True, metadata={"description": "the rule that suggested it, in words"})
    recovered_value = fields.Decimal(as_string=True, allow_none=True)
    kept_from_landfill_kg = fields.Decimal(as_string=True, allow_none=True)


class DiscrepancyOutSchema(Schema):
    item_id = fields.Integer()
    kind = fields.Enum(DiscrepancyKind, by_value=True)
    door = fields.Raw(allow_none=True, metadata={"description": "the driver's count or grade"})
    hub = fields.Raw(allow_none=True, metadata={"description": "the hub's count or grade"})


class ReceivedAnswerItemSchema(ReceivedItemSchema):
    disposition = fields.Nested(DecisionOutSchema, allow_none=True)


class ReceivedAnswerSchema(ReceivedPickupSchema):
    """What ``received_json`` answers, for the OpenAPI document (the answer is built by hand, not dumped by it)."""

    items = fields.List(fields.Nested(ReceivedAnswerItemSchema))
    discrepancies = fields.List(fields.Nested(DiscrepancyOutSchema))
    already_received = fields.Boolean()


# Receiving item 1 of pickup 1 whole and as new (the OpenAPI example, which the fuzzer sends first).
RECEIVE_EXAMPLE = {"version": 1, "items": [{"item_id": 1, "quantity": 1, "grade": "A", "disposition": "restock"}], "extra_items": []}


def disposition_json(decision: ItemDisposition | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "disposition": decision.disposition.value,
        "quantity": decision.quantity,
        "reason": decision.reason,
        "suggested": decision.suggested.value if decision.suggested else None,
        "rule": decision.rule_text,
        "recovered_value": None if decision.recovered_value is None else str(decision.recovered_value),
        "kept_from_landfill_kg": None if decision.kept_from_landfill_kg is None else str(decision.kept_from_landfill_kg),
    }


def received_json(pickup: Pickup, decisions: Sequence[ItemDisposition], discrepancies: Sequence[ItemDiscrepancy], *, already: bool) -> dict[str, Any]:
    """The pickup as JSON with ``discrepancies: [{item_id, kind, door, hub}]`` and each item's ``disposition``."""
    body: dict[str, Any] = received_pickup_schema.dump(pickup)
    by_item = {d.pickup_item_id or d.item.id: d for d in decisions}
    for item in body["items"]:
        item["disposition"] = disposition_json(by_item.get(item["id"]))
    body["discrepancies"] = [discrepancy_json(d) for d in discrepancies]
    body["already_received"] = already
    return body


receive_schema = ReceiveSchema()
received_pickup_schema = ReceivedPickupSchema()
