"""The customer's forms."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

# Newlines are welcome in notes ("Gate code 1234\nThird floor"); other control characters are not.
_NO_CONTROL = validate.Regexp(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$", error="Contains characters that cannot be shown.")


class AccessNotesSchema(Schema):
    access_notes = fields.String(
        load_default="", validate=[validate.Length(max=500, error="Keep it under {max} characters."), _NO_CONTROL]
    )


class CancelSchema(Schema):
    reason = fields.String(load_default="", validate=[validate.Length(max=300, error="Keep it under {max} characters."), _NO_CONTROL])


access_notes_schema = AccessNotesSchema()
cancel_schema = CancelSchema()
