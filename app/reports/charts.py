"""Charts drawn on the server as SVG: no script, nothing fetched, readable offline and in print.

Each chart is an ``<svg role="img">`` with a title and a description that says
the figures in words; the page puts the same figures in a table beside it, for
screen readers and for copying. Colours are chosen to stay apart for the common
kinds of colour blindness (Okabe–Ito), and every series is named in a legend.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from app.reports.figures import Report

PALETTE = ("#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#999999")
# The charts scale to their box, and their words with them: each is drawn at about the width it is
# shown at on a console screen, so the words stay near the page's own size (the day trend spans the
# page; recovery and landfill sit side by side).
WIDE, HALF, HEIGHT = 960, 480, 260
LEFT, BOTTOM, TOP = 48, 36, 28


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


def _number(value: float | int | Decimal) -> str:
    value = float(value)
    if value >= 10_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _nice_max(value: float, ticks: int = 4) -> float:
    """The smallest top of the axis above ``value`` whose ``ticks`` steps are 1, 2 or 5 × a power of ten."""
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return float(step * ticks)


def columns(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series], values: Sequence[dict[str, float]], description: str, width: int = WIDE) -> Markup:
    """Stacked columns, one per label (a day), one colour per series, drawn ``width`` wide."""
    n = max(len(labels), 1)
    totals = [sum(float(v.get(s.key, 0)) for s in series) for v in values]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = width - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / n
    bar = max(slot * 0.7, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for tick in range(5):
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{LEFT}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7ec"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#475467">{_number(top * tick / 4)}</text>')
    every = max(1, n // 12)  # at most a dozen date labels, so they never overlap
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + slot * index + (slot - bar) / 2
        y = TOP + plot_h
        for s in series:
            amount = float(value.get(s.key, 0))
            if amount <= 0:
                continue
            h = plot_h * amount / top
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{s.colour}"><title>{escape(label)}: {escape(s.label)} {_number(amount)}</title></rect>')
        if index % every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-size="11" fill="#475467">{escape(label)}</text>')
    x = LEFT
    for s in series:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{s.colour}"/><text x="{x + 16}" y="16" font-size="12" fill="#101828">{escape(s.label)}</text>')
        x += 24 + 7 * len(s.label)
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(chart_id: str, title: str, rows: Sequence[tuple[str, float | int | Decimal]], description: str, unit: str = "") -> Markup:
    """Horizontal bars, one per row, longest first as given."""
    # Narrower than the day charts: these sit in a third of the page, and their words must stay readable.
    width, row_h, label_w = 380, 26, 130
    height = 8 + row_h * max(len(rows), 1)
    top = max((float(v) for _, v in rows), default=0) or 1.0
    plot_w = width - label_w - 50
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    if not rows:
        parts.append(f'<text x="{width / 2}" y="{height / 2 + 4}" text-anchor="middle" font-size="13" fill="#475467">{escape(description)}</text>')
    for index, (label, value) in enumerate(rows):
        y = 4 + row_h * index
        w = plot_w * float(value) / top
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="#101828">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 0):.1f}" height="{row_h - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12" fill="#101828">{_number(value)}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def report_charts(report: Report, *, side_by_side: bool = True) -> dict[str, Markup]:
    """The report's charts: the trend per day, failure reasons, the disposition mix, recovery and landfill per day.

    ``side_by_side``: recovery and landfill are drawn half as wide, as the page shows them; the
    PDF puts recovery under the trend at its full width.
    """
    pair = HALF if side_by_side else WIDE
    labels = [d.day.strftime("%d %b") for d in report.days]
    trend = columns(
        "chart-days", "Pickups per day", labels,
        [Series("collected", "Collected", PALETTE[3]), Series("partly", "Partly collected", PALETTE[1]), Series("failed", "Failed", PALETTE[2])],
        [{"collected": d.collected, "partly": d.partly, "failed": d.failed} for d in report.days],
        f"{sum(d.collected for d in report.days)} collected, {sum(d.partly for d in report.days)} partly collected and "
        f"{sum(d.failed for d in report.days)} failed over {len(report.days)} days; the table below gives each day.",
    )
    failures = sorted(((reason.value.replace("_", " ") if reason else "not given", n) for reason, n in report.failures.items() if n), key=lambda r: -r[1])
    failure_chart = bars(
        "chart-failures", "Failed pickups by reason", failures,
        "; ".join(f"{label}: {n}" for label, n in failures) or "No failed pickups.",
    )
    mix = sorted(((line.disposition.value.replace("_", " "), line.quantity) for line in report.dispositions.values() if line.quantity), key=lambda r: -r[1])
    mix_chart = bars("chart-mix", "Disposition mix (units)", mix, "; ".join(f"{label}: {n}" for label, n in mix) or "Nothing decided yet.")
    recovery = columns(
        "chart-recovery", "Recovered value per day", labels, [Series("value", "Recovered value", PALETTE[0])],
        [{"value": float(d.recovered_value)} for d in report.days],
        f"{report.recovered_value} recovered in total; the table below gives each day.", width=pair,
    )
    landfill = columns(
        "chart-landfill", "Kept from landfill per day (kg)", labels, [Series("kg", "kg kept from landfill", PALETTE[3])],
        [{"kg": float(d.kept_kg)} for d in report.days],
        f"{report.kept_kg} kg kept from landfill in total; the table below gives each day.", width=pair,
    )
    return {"days": trend, "failures": failure_chart, "mix": mix_chart, "recovery": recovery, "landfill": landfill}
