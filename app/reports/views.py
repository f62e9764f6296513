"""The report page for a range of days (figures, charts), and each of its tables as CSV."""
from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
from flask_login import current_user

from app.core.errors import InvalidInput
from app.core.spreadsheets import csv_response, write_csv
from app.dispatch.blueprint import bp
from app.dispatch.board import timezone_for, today_in
from app.hubs.services import list_hubs
from app.pickups.models import DiscrepancyKind
from app.reports.charts import report_charts
from app.reports.figures import build_report, default_range

PARTS = ("summary", "status", "grades", "failures", "drivers", "days", "dispositions", "discrepancies")


def _read_range(tz_name: str) -> tuple[date, date, dict[str, list[str]]]:
    start, end = default_range(today_in(tz_name))
    errors: dict[str, list[str]] = {}
    for name in ("from", "to"):
        text = request.args.get(name, "").strip()
        if not text:
            continue
        try:
            value = date.fromisoformat(text)
        except ValueError:
            errors[name] = [f"“{text}” is not a date; use YYYY-MM-DD."]
            continue
        if name == "from":
            start = value
        else:
            end = value
    return start, end, errors


@bp.get("/reports")
def reports():  # type: ignore[no-untyped-def]
    """Counts by status, collected items by grade, failures by reason, per-driver completion."""
    hubs = list_hubs()
    hub_id = request.args.get("hub_id", type=int)
    tz_name = timezone_for(current_user, hubs, hub_id)
    start, end, errors = _read_range(tz_name)
    report = None
    if not errors:
        try:
            report = build_report(start=start, end=end, tz_name=tz_name, hub_id=hub_id)
        except InvalidInput as error:
            errors = {key: list(value) for key, value in error.fields.items()}
    return render_template(
        "dispatch/reports.html", report=report, errors=errors, hubs=hubs, hub_id=hub_id, start=start, end=end,
        charts=report_charts(report) if report else {}, kinds=DiscrepancyKind,
    ), (422 if errors else 200)


@bp.get("/reports.csv")
def report_table_csv():  # type: ignore[no-untyped-def]
    """One table of the report as CSV: ``?from=&to=&table=<name>`` (``hub_id`` optional)."""
    table = request.args.get("table", "")
    if table not in PARTS:
        raise InvalidInput(f"Choose a table: {', '.join(PARTS)}.", fields={"table": [f"One of: {', '.join(PARTS)}."]})
    return report_csv(table)


@bp.get("/reports/<part>.csv")
def report_csv(part: str):  # type: ignore[no-untyped-def]
    """One table of the report as CSV (the older spelling of ``/reports.csv?table=``)."""
    if part not in PARTS:
        abort(404)
    hubs = list_hubs()
    hub_id = request.args.get("hub_id", type=int)
    tz_name = timezone_for(current_user, hubs, hub_id)
    start, end, errors = _read_range(tz_name)
    if errors:
        raise InvalidInput("The dates are not valid.", fields=errors)
    report = build_report(start=start, end=end, tz_name=tz_name, hub_id=hub_id)
    header, rows = report.csv_parts()[part]
    return csv_response(write_csv(header, rows), f"report-{part}-{start.isoformat()}-{end.isoformat()}.csv")
