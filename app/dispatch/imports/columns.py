"""The CSV import's columns: the names it expects, the other names people give them, the template."""
from __future__ import annotations

import csv
import io

REQUIRED_COLUMNS = (
    "reference", "customer_name", "line1", "city", "postcode", "country",
    "window_start", "window_end", "sku", "description", "quantity",
)
OPTIONAL_COLUMNS = (
    "reason", "line2", "lat", "lon", "phone", "email", "notes", "driver_email", "hub_code", "category", "value", "weight_kg",
)
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Columns that describe the pickup; every row of one reference must agree on them.
PICKUP_COLUMNS = (
    "customer_name", "phone", "email", "line1", "line2", "city", "postcode", "country",
    "lat", "lon", "window_start", "window_end", "notes", "driver_email", "hub_code",
)
ITEM_COLUMNS = ("sku", "description", "quantity", "reason", "category", "value", "weight_kg")
# Item columns that are numbers, where an empty cell means "not known".
ITEM_NUMBERS = ("value", "weight_kg")
# Other names people give the same columns (matched after lower-casing and spaces → "_").
ALIASES = {
    "address_line1": "line1", "address_line_1": "line1", "address": "line1", "street": "line1",
    "address_line2": "line2", "address_line_2": "line2",
    "customer": "customer_name", "name": "customer_name",
    "customer_phone": "phone", "customer_email": "email",
    "latitude": "lat", "longitude": "lon", "lng": "lon",
    "qty": "quantity", "return_reason": "reason",
    "driver": "driver_email", "hub": "hub_code",
    "weight": "weight_kg", "kg": "weight_kg", "price": "value", "item_value": "value", "product_category": "category",
    "zip": "postcode", "postal_code": "postcode", "zip_code": "postcode",
}
TEMPLATE_EXAMPLE = [
    {
        "reference": "RMA-1001", "customer_name": "Zoë Ørsted", "line1": "Prinsengracht 263", "line2": "3-hoog",
        "city": "Amsterdam", "postcode": "1016 GV", "country": "NL", "window_start": "2025-03-03 09:00",
        "window_end": "2025-03-03 11:00", "sku": "PHN-IP13", "description": "iPhone 13, 128 GB", "quantity": "1",
        "reason": "Trade-in", "lat": "52.3752", "lon": "4.884", "phone": "+31 6 12345678",
        "email": "zoe@example.com", "notes": "Ring twice", "driver_email": "", "hub_code": "",
    },
    {
        "reference": "RMA-1001", "customer_name": "Zoë Ørsted", "line1": "Prinsengracht 263", "line2": "3-hoog",
        "city": "Amsterdam", "postcode": "1016 GV", "country": "NL", "window_start": "2025-03-03 09:00",
        "window_end": "2025-03-03 11:00", "sku": "CBL-USBC", "description": "USB-C cable", "quantity": "2",
        "reason": "", "lat": "52.3752", "lon": "4.884", "phone": "+31 6 12345678",
        "email": "zoe@example.com", "notes": "Ring twice", "driver_email": "", "hub_code": "",
    },
]


def template_csv() -> str:
    """The header and two example rows: one pickup with two items."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ALL_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(TEMPLATE_EXAMPLE)
    return "\ufeff" + out.getvalue()
