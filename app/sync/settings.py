"""What the driver app needs to know from the server, sent with every pull."""
from __future__ import annotations

from typing import Any

from flask import current_app

from app.accounts.models import User
from app.pickups.days import driver_timezone
from app.pickups.vocabulary import FAILURE_LABELS, GRADE_LABELS, photo_required_grades

ACCEPTED_PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"]


def driver_settings(driver: User | None = None) -> dict[str, Any]:
    """Settings for the phone: photo size and quality, required photos, codes, timings, and the driver's days.

    ``timezone`` (the driver's hub's) is how the phone tells today from tomorrow; it is
    left out without a driver (the phone's fallback then uses the phone's own clock zone).
    """
    config = current_app.config
    settings: dict[str, Any] = {
        "schema_version": config["SYNC_SCHEMA_VERSION"],
        "poll_seconds": config["SYNC_POLL_SECONDS"],
        "max_batch": config["SYNC_MAX_BATCH"],
        "clock_skew_flag_seconds": config["SYNC_CLOCK_SKEW_FLAG_SECONDS"],
        "photo": {
            "long_edge": config["PHOTO_LONG_EDGE"],
            "jpeg_quality": config["PHOTO_CLIENT_JPEG_QUALITY"],
            "max_bytes": config["PHOTO_MAX_BYTES"],
            "types": ACCEPTED_PHOTO_TYPES,
        },
        "photo_required_grades": sorted(g.value for g in photo_required_grades()),
        "grades": [{"code": g.value, "label": label} for g, label in GRADE_LABELS.items()],
        "failure_reasons": [{"code": r.value, "label": label} for r, label in FAILURE_LABELS.items()],
        "days_ahead": config["SYNC_DAYS_AHEAD"],
    }
    if driver is not None:
        settings["timezone"] = driver_timezone(driver)
    return settings
