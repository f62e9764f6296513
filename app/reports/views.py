"""The report page for a range of days (figures, charts), and each of its tables as CSV."""
from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
from flask_login import current_user

from app.core.errors import Forbidden, InvalidInput
from app.core.spreadsheets import csv_response, write_csv
from app.dispatch.blueprint import bp
from app.dispatch.board import timezone_for, today_in
from app.dispatch.evidence import pdf_download
from app.hubs.services import list_hubs
from app.photos.services import read_photo_file, staff_of_hub
from app.pickups.models import DiscrepancyKind
from app.pickups.services import get_pickup
from app.receiving.views import bp as hub_bp
from app.reports.charts import report_charts
from app.reports.custody import custody_pdf
from app.reports.figures import build_report, default_range
from app.reports.pdf import report_pdf

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


def _hub_id() -> int | None:
    # ``hub`` is the short spelling of the PDF's URL; the page's own form says ``hub_id``.
    return request.args.get("hub_id", type=int) or request.args.get("hub", type=int)


@bp.get("/reports.pdf")
def report_as_pdf():  # type: ignore[no-untyped-def]
    """The report on one page for a manager: ``?from=&to=&hub=`` (figures and charts)."""
    hubs = list_hubs()
    hub_id = _hub_id()
    tz_name = timezone_for(current_user, hubs, hub_id)
    start, end, errors = _read_range(tz_name)
    if errors:
        raise InvalidInput("The dates are not valid.", fields=errors)
    report = build_report(start=start, end=end, tz_name=tz_name, hub_id=hub_id)
    scope = next((f"{h.name} ({h.code})" for h in hubs if h.id == hub_id), "every hub")
    return pdf_download(report_pdf(report, report_charts(report, side_by_side=False), scope=scope), f"report-{start.isoformat()}-{end.isoformat()}.pdf")


@bp.get("/pickups/<int:pickup_id>/custody.pdf")
def custody_certificate(pickup_id: int):  # type: ignore[no-untyped-def]
    """A pickup's chain of custody as a PDF certificate (dispatch)."""
    pickup = get_pickup(pickup_id, viewer=current_user)
    return pdf_download(custody_pdf(pickup, current_user, read_photo=read_photo_file), f"custody-{pickup.reference}.pdf")


@hub_bp.get("/pickups/<int:pickup_id>/custody.pdf")
def hub_custody_certificate(pickup_id: int):  # type: ignore[no-untyped-def]
    """The same certificate for the clerks of the pickup's hub (a clerk of another hub gets 403)."""
    pickup = get_pickup(pickup_id, viewer=current_user)
    if not staff_of_hub(current_user, pickup.hub_id):
        raise Forbidden("This pickup belongs to another hub.")
    return pdf_download(custody_pdf(pickup, current_user, read_photo=read_photo_file), f"custody-{pickup.reference}.pdf")


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
