"""Sync JSON: the push envelope, each mutation's arguments, the pull answer.

A push is refused whole (422) only when it cannot be acknowledged at all (no
client id, a mutation without a usable id). Everything else about a mutation
is checked one by one, so one bad action becomes one ``rejected`` result and
never blocks the phone's queue.
"""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from app.core.inputs import MAX_ROW_ID, keepable_text
from app.pickups.models import FailureReason, Grade
from app.pickups.schemas import PickupOutSchema

# Control characters and unpaired surrogates (which PostgreSQL cannot store) are refused.
_NO_CONTROL = keepable_text
CLIENT_ID = validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$", error="Use 8 to 64 letters, digits, - or _ (a UUID is ideal).")
MAX_PHOTOS = 20
_ROW_ID = validate.Range(min=1, max=MAX_ROW_ID, error="Not a known id.")


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_length), _NO_CONTROL], **kwargs)


def _photo_ids(**kwargs: Any) -> fields.List:
    return fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=MAX_PHOTOS), **kwargs)


# ---- push ---------------------------------------------------------------------------------


class LocationSchema(Schema):
    class Meta:
        # Phones may send the whole Geolocation reading (altitude, heading …): keep what we use.
        unknown = EXCLUDE

    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1_000_000))


class TooLargeSchema(Schema):
    bytes = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**53))


class MutationSchema(Schema):
    """One queued driver action. ``args`` are checked by the schema for its ``name``.

    Unknown envelope fields are ignored, so a newer app can add some; unknown
    ``args`` are refused (``invalid_args``), so nothing the driver recorded is dropped silently.
    """

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**53))
    name = fields.String(required=True, validate=[validate.Length(min=1, max=40), _NO_CONTROL])
    args = fields.Dict(required=True)
    base_version = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0))
    device_time = fields.AwareDateTime(load_default=None, allow_none=True, format="iso")
    location = fields.Nested(LocationSchema, load_default=None, allow_none=True)
    # Sent instead of the action when it alone is larger than a push may be (413): the phone's queue
    # moves on, and the action is answered rejected, payload_too_large (docs/sync-protocol.md §2).
    too_large = fields.Nested(TooLargeSchema, load_default=None, allow_none=True)


MAX_HELD = 1_000_000
MAX_HELD_AGE_SECONDS = 366 * 24 * 3600


class HeldSchema(Schema):
    """What the phone still holds unsynced when it sends this (optional; docs/sync-protocol.md "held")."""

    actions = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_HELD))
    photos = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_HELD))
    oldest_age_seconds = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=MAX_HELD_AGE_SECONDS),
        metadata={"description": "age of the oldest unsynced action or photo, by the phone's clock; null when nothing is held"},
    )


class PushSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a newer app's extra fields must never block its queue

    client_id = fields.String(required=True, validate=CLIENT_ID, metadata={"description": "the app install's id (a UUID)"})
    # Documented as the one version this server speaks; another is refused with its own code
    # (422 unsupported_schema_version), so it is not a validator here.
    schema_version = fields.Integer(required=True, strict=True, metadata={"enum": [1], "description": "the sync protocol version: 1"})
    sent_at = fields.AwareDateTime(
        load_default=None, allow_none=True, format="iso", metadata={"description": "the phone's clock when it sent this push"}
    )
    app_version = _text(40, load_default=None, allow_none=True)
    mutations = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "each as MutationSchema: {id, name, args, base_version, device_time, location}"},
    )
    held = fields.Nested(HeldSchema, load_default=None, allow_none=True)

    @validates_schema
    def every_mutation_has_an_id(self, data: dict[str, Any], **kwargs: Any) -> None:
        # A plain loop: this runs for every mutation of every push (500 at a time).
        ids = []
        for index, mutation in enumerate(data.get("mutations") or []):
            mutation_id = mutation.get("id")
            if type(mutation_id) is not int or not 1 <= mutation_id <= 2**53:
                raise ValidationError({index: {"id": ["A whole number from 1 up is required."]}}, field_name="mutations")
            ids.append(mutation_id)
        if len(ids) != len(set(ids)):
            raise ValidationError("Each mutation id may appear once in a push.", field_name="mutations")


class ResultSchema(Schema):
    id = fields.Integer()
    # Enums on answers are documentation (OpenAPI), not checks: dumping does not validate.
    status = fields.String(validate=validate.OneOf(["applied", "duplicate", "rejected"]), metadata={"description": "applied, duplicate or rejected"})
    code = fields.String(allow_none=True)
    message = fields.String()
    original_status = fields.String(allow_none=True, validate=validate.OneOf(["applied", "rejected"]), metadata={"description": "for duplicates: applied or rejected"})
    pickup_id = fields.Integer(allow_none=True)
    version = fields.Integer(allow_none=True)
    fields_ = fields.Dict(data_key="fields")


class PushResponseSchema(Schema):
    last_mutation_id = fields.Integer()
    results = fields.List(fields.Nested(ResultSchema))
    not_processed = fields.List(fields.Integer(), metadata={"description": "ids after a gap: send them again later"})


# ---- mutation arguments -------------------------------------------------------------------


class _PickupArgs(Schema):
    pickup_id = fields.Integer(required=True, strict=True, validate=_ROW_ID)


class ArriveArgs(_PickupArgs):
    pass


class ScanLabelArgs(_PickupArgs):
    code = fields.String(required=True, validate=[validate.Length(min=1, max=500), _NO_CONTROL])


class CollectedItemSchema(Schema):
    item_id = fields.Integer(required=True, strict=True, validate=_ROW_ID)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000))
    grade = fields.Enum(Grade, by_value=True, load_default=None, allow_none=True)
    notes = _text(2000, load_default="", allow_none=True)
    photo_ids = _photo_ids()

    @validates_schema
    def grade_for_what_was_collected(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("quantity") and data.get("grade") is None:
            raise ValidationError("Grade every item that was collected (A, B, C or D).", field_name="grade")


class CollectItemsArgs(_PickupArgs):
    items = fields.List(fields.Nested(CollectedItemSchema), required=True, validate=validate.Length(min=1, max=200))
    signature_photo_id = fields.UUID(load_default=None, allow_none=True)
    handed_over_by = _text(120, load_default=None, allow_none=True)

    @validates_schema
    def each_item_once(self, data: dict[str, Any], **kwargs: Any) -> None:
        ids = [item["item_id"] for item in data.get("items") or []]
        if len(ids) != len(set(ids)):
            raise ValidationError("An item appears twice.", field_name="items")


class FailPickupArgs(_PickupArgs):
    reason = fields.Enum(FailureReason, by_value=True, required=True)
    notes = _text(2000, load_default="", allow_none=True)
    photo_ids = _photo_ids()

    @validates_schema
    def other_needs_words(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("reason") is FailureReason.OTHER and not (data.get("notes") or "").strip():
            raise ValidationError("Say what happened when the reason is 'other'.", field_name="notes")


class NoteArgs(_PickupArgs):
    text = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _NO_CONTROL])
    photo_ids = _photo_ids()


# ---- pull ---------------------------------------------------------------------------------


class PullArgsSchema(Schema):
    cursor = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    client_id = fields.String(load_default=None, allow_none=True, validate=CLIENT_ID)
    # The same report as a push's "held", flat in the query string.
    held_actions = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_HELD))
    held_photos = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_HELD))
    held_oldest_age_seconds = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_HELD_AGE_SECONDS))


class DriverPickupSchema(PickupOutSchema):
    """A pickup as its driver's phone keeps it.

    Never with the customer's link (only the staff schema has it): its token
    lets whoever holds it edit notes or cancel, and that is the customer's
    alone. The phone fetches label files from /api/v1/pickups/<id>/label.* instead.
    """

    class Meta:
        exclude = ("created_at",)


class ChangeSchema(Schema):
    entity = fields.String()
    id = fields.Integer()
    op = fields.String(validate=validate.OneOf(["put", "delete"]), metadata={"description": "put or delete"})
    version = fields.Integer(allow_none=True)
    data = fields.Raw(allow_none=True)


class PullResponseSchema(Schema):
    cursor = fields.Integer()
    last_mutation_id = fields.Integer()
    reset = fields.Boolean()
    changes = fields.List(fields.Nested(ChangeSchema))
    settings = fields.Dict()


mutation_schema = MutationSchema()
ARGS_SCHEMAS: dict[str, Schema] = {
    "arrive": ArriveArgs(),
    "scan_label": ScanLabelArgs(),
    "collect_items": CollectItemsArgs(),
    "fail_pickup": FailPickupArgs(),
    "note": NoteArgs(),
}
driver_pickup_schema = DriverPickupSchema()
