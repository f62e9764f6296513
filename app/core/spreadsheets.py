"""CSV files handed to people: every cell safe to open in a spreadsheet, and the download answer.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and customer names and notes come from outside. ``safe_cell`` turns
such text into plain text with a leading apostrophe (OWASP's advice), so a
"name" like ``=HYPERLINK(...)`` is shown, never run.

A spreadsheet set to another separator (``;`` in much of Europe, a tab, ``|``)
splits a cell we wrote as one: ``x;=1+1`` opens as ``x`` and ``=1+1``, a formula.
So a formula start after any such separator gets its apostrophe too.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

# Tab and carriage return too: some spreadsheets strip them and then see the formula behind.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A separator some spreadsheet splits on, then (after spaces) a formula start.
_AFTER_SEPARATOR = re.compile(r"([;,|\t\r\n]\s*)(?=[=+\-@])")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show, not run: text starting like a formula gets a leading apostrophe.

    Numbers stay numbers: ``-4.88`` stored as a float cannot be a formula, and
    escaping it would break sums and maps.
    """
    if not isinstance(value, str):
        return value
    # The first character is handled below: a leading separator is itself a formula start.
    value = value[:1] + _AFTER_SEPARATOR.sub(r"\1'", value[1:])
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with a UTF-8 BOM (so Excel reads non-Latin names right) and every cell made safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else safe_cell(value) for value in row])
    return out.getvalue()


def csv_response(text: str, filename: str) -> Response:
    """A CSV download; never cached, since it holds customers' details."""
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
