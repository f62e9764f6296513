from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.accounts.models import Role


class LoginSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    remember = fields.Boolean(
        load_default=False, metadata={"description": "keep this device logged in (a remember cookie, at most 14 days)"}
    )


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email()
    name = fields.String()
    phone = fields.String(allow_none=True)
    role = fields.Enum(Role, by_value=True)
    hub_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class SessionSchema(Schema):
    user = fields.Nested(UserSchema, allow_none=True)
    csrf_token = fields.String()


class UserQuerySchema(Schema):
    role = fields.Enum(Role, by_value=True, load_default=None)


login_schema = LoginSchema()
user_schema = UserSchema()
session_schema = SessionSchema()
