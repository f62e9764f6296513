"""Jinja filters shared by every server-rendered page."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask


def localtime(value: datetime | None, tz_name: str = "UTC", fmt: str = "%d %b %Y %H:%M") -> str:
    """A UTC timestamp shown in the hub's local time."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz_name)).strftime(fmt)


def register_template_filters(app: Flask) -> None:
    app.add_template_filter(localtime, "localtime")
