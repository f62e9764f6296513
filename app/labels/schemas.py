"""Label and customer-link JSON for dispatchers."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class CustomerLinkSchema(Schema):
    """A pickup's customer link as a dispatcher sees it."""

    customer_url = fields.String(allow_none=True, metadata={"description": "null when the link was revoked"})
    status = fields.String(validate=validate.OneOf(["active", "expired", "none"]), metadata={"description": "active, expired or none"})
    created_at = fields.AwareDateTime(format="iso", allow_none=True)
    expires_at = fields.AwareDateTime(
        format="iso", allow_none=True, metadata={"description": "set once the pickup is received or cancelled"}
    )


customer_link_schema = CustomerLinkSchema()
