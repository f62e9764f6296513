"""What the driver app needs to know from the server, sent with every pull."""
from __future__ import annotations

from typing import Any

from flask import current_app

from app.accounts.models import User
from app.pickups.days import driver_timezone
from app.pickups.doorstep import doorstep
from app.pickups.vocabulary import GRADE_LABELS

ACCEPTED_PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"]


def driver_settings(driver: User | None = None) -> dict[str, Any]:
    """Settings for the phone: photo size and quality, photos per grade, signature, codes, timings, days.

    The door's settings are the admins' (app.pickups.doorstep). ``photo_required_grades``
    (the grades needing at least one photo) stays beside ``photos_per_grade`` for phones
    still running an app from before the count. ``timezone`` (the driver's hub's) is how
    the phone tells today from tomorrow; it is left out without a driver (the phone's
    fallback then uses the phone's own clock zone).
    """
    config = current_app.config
    door = doorstep()
    settings: dict[str, Any] = {
        "schema_version": config["SYNC_SCHEMA_VERSION"],
        "poll_seconds": config["SYNC_POLL_SECONDS"],
        "max_batch": config["SYNC_MAX_BATCH"],
        "clock_skew_flag_seconds": config["SYNC_CLOCK_SKEW_FLAG_SECONDS"],
        "photo": {
            "long_edge": door.photo_long_edge,
            "jpeg_quality": door.photo_jpeg_quality,
            "max_bytes": config["PHOTO_MAX_BYTES"],
            "types": ACCEPTED_PHOTO_TYPES,
        },
        "photos_per_grade": {grade.value: count for grade, count in sorted(door.photos_per_grade.items())},
        "photo_required_grades": sorted(grade.value for grade, count in door.photos_per_grade.items() if count),
        "signature_required": door.signature_required,
        "grades": [{"code": g.value, "label": label} for g, label in GRADE_LABELS.items()],
        "failure_reasons": [{"code": r.value, "label": door.failure_label(r)} for r in door.failure_reasons_offered],
        "days_ahead": config["SYNC_DAYS_AHEAD"],
    }
    if driver is not None:
        settings["timezone"] = driver_timezone(driver)
    return settings
