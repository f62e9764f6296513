"""What the driver app needs to know from the server, sent with every pull."""
from __future__ import annotations

from typing import Any

from flask import current_app

from app.pickups.vocabulary import FAILURE_LABELS, GRADE_LABELS, photo_required_grades

ACCEPTED_PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"]


def driver_settings() -> dict[str, Any]:
    """Settings for the phone: photo size and quality, required photos, codes, timings."""
    config = current_app.config
    return {
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
    }
