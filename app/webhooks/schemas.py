"""Webhook endpoints as the API takes and gives them."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.webhooks.services import EVENTS


class EndpointInSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=500))
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), required=True, validate=validate.Length(min=1))
    description = fields.String(load_default="", validate=validate.Length(max=1000))


class EndpointOutSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String()
    created_at = fields.DateTime()


class NewEndpointSchema(EndpointOutSchema):
    """Only the answer to the creation carries the secret (admins see it again in the console)."""

    secret = fields.String()


class DeliverySchema(Schema):
    id = fields.Integer()
    event = fields.String(attribute="topic")
    pickup_id = fields.Integer(allow_none=True)
    status = fields.Function(lambda message: message.status.value)
    attempts = fields.Integer()
    response_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    last_attempt_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
