"""Pickup JSON: input schemas validate the API and the CSV import, output schemas dump per audience."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from app.core.inputs import MAX_ROW_ID
from app.core.pagination import PageArgs
from app.pickups.models import Grade, PickupStatus

_NO_CONTROL = validate.Regexp(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$", error="Contains control characters.")
_PHONE = validate.Regexp(r"^\+?[0-9 ()./-]{5,30}$", error="Use digits, spaces and an optional leading +.")
_COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="Use the two-letter country code, e.g. NL or GB.")
# A row id: what the database can hold (OpenAPI says so, and the fuzzer sends ids a row can have).
ROW_ID = validate.Range(min=1, max=MAX_ROW_ID, error="No such id.")


def _text(max_length: int, *, required: bool = False, allow_empty: bool = False, **kwargs: Any) -> fields.String:
    minimum = 0 if allow_empty else 1
    return fields.String(
        required=required,
        validate=[validate.Length(min=minimum, max=max_length), _NO_CONTROL],
        **kwargs,
    )


class _Stripped(Schema):
    @pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data


class CustomerSchema(_Stripped):
    name = _text(200, required=True)
    phone = fields.String(load_default=None, allow_none=True, validate=_PHONE)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))

    @pre_load
    def empty_is_none(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if k in ("phone", "email") and v == "" else v) for k, v in data.items()}
        return data


class AddressSchema(_Stripped):
    line1 = _text(200, required=True)
    line2 = _text(200, load_default=None, allow_none=True, allow_empty=True)
    city = _text(100, required=True)
    postcode = _text(20, required=True)
    country = fields.String(required=True, validate=_COUNTRY)
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))

    @pre_load
    def upper_country(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("country"), str):
            data = {**data, "country": data["country"].upper()}
        return data

    @validates_schema
    def both_coordinates(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError("Give both latitude and longitude, or neither.", field_name="lat")


class WindowSchema(Schema):
    start = fields.AwareDateTime(required=True, format="iso")
    end = fields.AwareDateTime(required=True, format="iso")

    @validates_schema
    def ends_after_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end <= start:
                raise ValidationError("The window must end after it starts.", field_name="end")
            if (end - start).total_seconds() > 24 * 3600:
                raise ValidationError("A pickup window cannot be longer than a day.", field_name="end")


class ItemInSchema(_Stripped):
    id = fields.Integer(load_default=None, allow_none=True, validate=ROW_ID)
    sku = _text(64, required=True)
    description = _text(300, required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))
    reason = _text(300, load_default="", allow_empty=True)
    category = _text(64, load_default="", allow_empty=True)
    # Per unit, in the hub's currency; and its weight: the recovery report's figures.
    value = fields.Decimal(load_default=None, allow_none=True, places=2, validate=validate.Range(min=0, max=10**10))
    weight_kg = fields.Decimal(load_default=None, allow_none=True, places=3, validate=validate.Range(min=0, max=10**7))


_REFERENCE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._/#:-]*$", error="Use letters, digits and . _ / # : - only.")


class PickupInSchema(_Stripped):
    """What a dispatcher sends to create a pickup (and, partially, to edit one)."""

    reference = fields.String(required=True, validate=[validate.Length(min=1, max=64), _REFERENCE])
    customer = fields.Nested(CustomerSchema, required=True)
    address = fields.Nested(AddressSchema, required=True)
    window = fields.Nested(WindowSchema, required=True)
    notes = _text(2000, load_default="", allow_empty=True)
    items = fields.List(fields.Nested(ItemInSchema), required=True, validate=validate.Length(min=1, max=200, error="A pickup needs between 1 and 200 items."))
    hub_id = fields.Integer(load_default=None, allow_none=True, validate=ROW_ID)
    driver_id = fields.Integer(load_default=None, allow_none=True, validate=ROW_ID)
    # Not given, or null: the admins' default for new pickups (app.pickups.doorstep).
    scan_required = fields.Boolean(load_default=None, allow_none=True)


class PickupPatchSchema(PickupInSchema):
    """An edit: any subset of the create fields, plus the version the editor saw.

    A group (customer, address, window, items) is replaced whole, so it is
    validated whole; fields that were not sent are left alone, not defaulted.
    """

    version = fields.Integer(allow_none=True)
    # An edit says yes or no; the default is for new pickups only.
    scan_required = fields.Boolean()

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("partial", tuple(PickupInSchema._declared_fields))
        super().__init__(**kwargs)

    @post_load(pass_original=True)
    def only_what_was_sent(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if key in original}


class ItemOutSchema(Schema):
    id = fields.Integer()
    sku = fields.String()
    description = fields.String()
    quantity = fields.Integer()
    reason = fields.String()
    category = fields.String()
    value = fields.Decimal(as_string=True, allow_none=True)
    weight_kg = fields.Decimal(as_string=True, allow_none=True)
    collected_quantity = fields.Integer(allow_none=True)
    grade = fields.Enum(Grade, by_value=True, allow_none=True)
    condition_notes = fields.String(allow_none=True)


class CustomerOutSchema(Schema):
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class AddressOutSchema(Schema):
    line1 = fields.String()
    line2 = fields.String(allow_none=True)
    city = fields.String()
    postcode = fields.String()
    country = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class WindowOutSchema(Schema):
    start = fields.AwareDateTime(format="iso")
    end = fields.AwareDateTime(format="iso")


class PickupOutSchema(Schema):
    """A pickup's own facts, as staff and its driver see them (the staff API adds the customer's link: dispatch.schemas)."""

    id = fields.Integer()
    reference = fields.String()
    status = fields.Enum(PickupStatus, by_value=True)
    customer = fields.Nested(CustomerOutSchema)
    address = fields.Nested(AddressOutSchema)
    window = fields.Nested(WindowOutSchema)
    notes = fields.String()
    access_notes = fields.String()
    hub_id = fields.Integer()
    driver_id = fields.Integer(allow_none=True)
    route_position = fields.Integer(allow_none=True)
    scan_required = fields.Boolean()
    version = fields.Integer()
    label_code = fields.String()
    cancel_reason = fields.String(allow_none=True)
    failure_reason = fields.Function(lambda p: p.failure_reason.value if p.failure_reason else None, allow_none=True)
    failure_notes = fields.String(allow_none=True)
    items = fields.List(fields.Nested(ItemOutSchema))
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")


class EventOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    message = fields.String()
    from_status = fields.String(allow_none=True, validate=validate.OneOf([s.value for s in PickupStatus]))
    to_status = fields.String(allow_none=True, validate=validate.OneOf([s.value for s in PickupStatus]))
    actor_id = fields.Integer(allow_none=True)
    server_time = fields.AwareDateTime(format="iso")
    device_time = fields.AwareDateTime(format="iso", allow_none=True)
    clock_skew_seconds = fields.Integer(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    client_id = fields.String(allow_none=True)
    mutation_id = fields.Integer(allow_none=True)
    needs_review = fields.Boolean()
    data = fields.Dict()


class StatusList(fields.String):
    """``assigned,failed`` → [PickupStatus.ASSIGNED, PickupStatus.FAILED]."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[PickupStatus]:  # type: ignore[override]
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return [PickupStatus(part.strip()) for part in text.split(",") if part.strip()]
        except ValueError:
            raise ValidationError(f"Use one or more of: {', '.join(s.value for s in PickupStatus)}.") from None


class PickupQuerySchema(PageArgs):
    date = fields.Date(load_default=None)
    status = StatusList(load_default=None, metadata={"description": "comma-separated statuses"})
    driver_id = fields.Integer(load_default=None)
    hub_id = fields.Integer(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=100))


class AssignSchema(Schema):
    driver_id = fields.Integer(required=True, allow_none=True, metadata={"description": "null unassigns"})


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), _NO_CONTROL])


class RouteOrderSchema(Schema):
    driver_id = fields.Integer(required=True)
    pickup_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(max=500))


# A body that creates a pickup (the OpenAPI example: the fuzzer sends it first, so creation is exercised,
# not only refusals; a window is hard to hit at random, its end must follow its start within a day).
PICKUP_EXAMPLE = {
    "reference": "RMA-10442",
    "customer": {"name": "Zoë de Vries", "phone": "+31 20 123 4567", "email": "zoe@example.com"},
    "address": {"line1": "Keizersgracht 123", "line2": None, "city": "Amsterdam", "postcode": "1015 CJ", "country": "NL", "lat": 52.3752, "lon": 4.884},
    "window": {"start": "2030-03-04T09:00:00+01:00", "end": "2030-03-04T12:00:00+01:00"},
    "notes": "Ring twice",
    "items": [{"sku": "HD-200", "description": "Headphones", "quantity": 1, "reason": "changed mind", "value": 79.5, "weight_kg": 0.35}],
    "scan_required": False,
}

pickup_in_schema = PickupInSchema()
pickup_patch_schema = PickupPatchSchema()
