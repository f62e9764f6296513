"""The report on one landscape A4 page for a manager: the headline figures and the four charts.

The charts are the page's own SVG (``charts.py``), drawn into the PDF as vectors
by fpdf2, so the PDF and the page never disagree. The page never breaks: the
layout is fixed, and a long range only makes the day columns thinner.
"""
from __future__ import annotations

import io
import re

from markupsafe import Markup

from app.dispatch.evidence import PdfPages, pdf_text
from app.reports.figures import Report

# fpdf2 draws shapes and text; the accessible names are for screen readers on the page and would only be warned about.
_NOT_DRAWN = re.compile(r"<(title|desc)\b[^>]*>.*?</\1>", re.S)


def _svg(chart: Markup) -> io.BytesIO:
    return io.BytesIO(_NOT_DRAWN.sub("", str(chart)).encode())


def report_pdf(report: Report, charts: dict[str, Markup], *, scope: str) -> bytes:
    """``scope`` says whose figures these are (a hub's name, or every hub)."""
    title = f"Report {report.start.isoformat()} – {report.end.isoformat()} · {scope}"
    pdf = PdfPages.started(title, title, page_break=False, orientation="landscape")  # one page, whatever the range
    family = pdf.font_family

    pdf.set_font(family, "B", 15)
    pdf.cell(0, 8, pdf_text(pdf, title), new_x="LMARGIN", new_y="NEXT")
    collected = sum(d.collected + d.partly for d in report.days)
    failed = sum(d.failed for d in report.days)
    figures = [
        ("Pickups", str(report.total)),
        ("Collected", str(collected)),
        ("Failed", str(failed)),
        ("First attempt", "—" if report.first_attempt_rate is None else f"{report.first_attempt_rate * 100:.1f} %"),
        ("Time at a stop", "—" if report.average_stop_seconds is None else f"{report.average_stop_seconds / 60:.1f} min"),
        ("Recovered value", f"{report.recovered_value:,.2f}"),
        ("Kept from landfill", f"{report.kept_kg:,.1f} kg"),
        ("To landfill", f"{report.landfill_kg:,.1f} kg"),
    ]
    width = (pdf.w - 20) / len(figures)
    top = pdf.get_y() + 1
    for index, (label, value) in enumerate(figures):
        x = 10 + index * width
        pdf.set_xy(x, top)
        pdf.set_font(family, "", 8)
        pdf.cell(width, 4, pdf_text(pdf, label))
        pdf.set_xy(x, top + 4)
        pdf.set_font(family, "B", 13)
        pdf.cell(width, 7, pdf_text(pdf, value))

    def chart(name: str, caption: str, x: float, y: float, w: float) -> None:
        pdf.set_xy(x, y)
        pdf.set_font(family, "B", 9)
        pdf.cell(w, 5, pdf_text(pdf, caption))
        pdf.image(_svg(charts[name]), x=x, y=y + 5, w=w)

    left_w, right_x, right_w = 180.0, 196.0, 91.0
    y = top + 15
    chart("days", "Pickups per day", 10, y, left_w)
    chart("recovery", "Recovered value per day", 10, y + 75, left_w)
    chart("failures", "Failed pickups by reason", right_x, y, right_w)
    chart("mix", "Disposition mix (units)", right_x, y + 75, right_w)
    pdf.set_xy(10, pdf.h - 16)
    pdf.set_font(family, "", 7)
    pdf.cell(0, 4, pdf_text(pdf, "Every table of this report downloads as CSV from /dispatch/reports; days are each hub's local days."))
    return bytes(pdf.output())
