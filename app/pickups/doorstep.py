"""What the admins ask of a driver at the door, kept in one place and sent to every phone.

The photo size and quality the phone shrinks to, how many photos each grade
needs, whether the customer must sign, whether new pickups need their label
scanned, and which failure reasons the phone offers in whose words. Each
setting's default comes from the configuration (``PHOTO_LONG_EDGE``,
``PHOTO_CLIENT_JPEG_QUALITY``, ``PHOTO_REQUIRED_GRADES``) or the vocabulary, so a
fresh install behaves as before until an admin changes something; the next pull
carries the change (app.sync.settings) and the phone obeys it without an update.

The phone enforces the counts at the door, under the settings it had then: a
phone offline since an admin raised a count has done its work by the rules it
knew, and the server does not refuse that work afterwards (``photos_needed``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from flask import current_app, g
from sqlalchemy import select

from app.accounts.models import User
from app.core.errors import InvalidInput
from app.extensions import db
from app.pickups.models import DoorstepSetting, FailureReason, Grade
from app.pickups.vocabulary import FAILURE_LABELS

LONG_EDGE_RANGE = (640, 4096)
QUALITY_RANGE = (0.5, 0.95)
MOST_PHOTOS = 5
WORDS_LONGEST = 60
# A long-running process (the outbox worker) keeps one application context for
# hours: it reads the settings again once they are this old. A request reads them
# at most once.
_FRESH_SECONDS = 5.0


@dataclass(frozen=True)
class Doorstep:
    """The settings in force: every value is set (the defaults fill what no admin chose)."""

    photo_long_edge: int
    photo_jpeg_quality: float
    photos_per_grade: Mapping[Grade, int]
    signature_required: bool
    scan_required_by_default: bool
    failure_words: Mapping[FailureReason, str]
    # The reasons the phone offers, in the vocabulary's order; "other" is always one of them.
    failure_reasons_offered: tuple[FailureReason, ...] = field(default=tuple(FailureReason))

    def photos_needed(self, grade: Grade) -> int:
        """How many photos the phone asks for of an item with this grade."""
        return self.photos_per_grade.get(grade, 0)

    def failure_label(self, reason: FailureReason) -> str:
        return self.failure_words.get(reason) or FAILURE_LABELS[reason]


def defaults() -> Doorstep:
    """The settings before any admin changes one: the configuration's and the vocabulary's."""
    config = current_app.config
    needing = {Grade(code) for code in config["PHOTO_REQUIRED_GRADES"]}
    return Doorstep(
        photo_long_edge=int(config["PHOTO_LONG_EDGE"]),
        photo_jpeg_quality=float(config["PHOTO_CLIENT_JPEG_QUALITY"]),
        photos_per_grade={grade: int(grade in needing) for grade in Grade},
        signature_required=False,
        scan_required_by_default=False,
        failure_words=dict(FAILURE_LABELS),
    )


def _from_rows(stored: Mapping[str, Any]) -> Doorstep:
    base = defaults()
    # Stored values were checked when saved; a row that no longer parses (a grade
    # or reason renamed since) falls back to the default rather than failing a pull.
    per_grade = dict(base.photos_per_grade)
    for code, count in (stored.get("photos_per_grade") or {}).items():
        if code in Grade._value2member_map_ and isinstance(count, int):
            per_grade[Grade(code)] = count
    words = dict(base.failure_words)
    for code, text in (stored.get("failure_words") or {}).items():
        if code in FailureReason._value2member_map_ and isinstance(text, str) and text.strip():
            words[FailureReason(code)] = text
    offered_codes = stored.get("failure_reasons_offered")
    offered = tuple(r for r in FailureReason if offered_codes is None or r.value in offered_codes or r is FailureReason.OTHER)
    return Doorstep(
        photo_long_edge=int(stored.get("photo_long_edge", base.photo_long_edge)),
        photo_jpeg_quality=float(stored.get("photo_jpeg_quality", base.photo_jpeg_quality)),
        photos_per_grade=per_grade,
        signature_required=bool(stored.get("signature_required", base.signature_required)),
        scan_required_by_default=bool(stored.get("scan_required_by_default", base.scan_required_by_default)),
        failure_words=words,
        failure_reasons_offered=offered,
    )


def doorstep() -> Doorstep:
    """The settings in force now (read once per request: one statement)."""
    cached = g.get("_doorstep")
    if cached is not None and monotonic() - cached[0] < _FRESH_SECONDS:
        return cached[1]
    stored = {row.key: row.value for row in db.session.execute(select(DoorstepSetting)).scalars()}
    settings = _from_rows(stored)
    g._doorstep = (monotonic(), settings)
    return settings


@dataclass(frozen=True)
class DoorstepChange:
    """What an admin sends from the settings page: text as typed, checked by ``save_doorstep``."""

    photo_long_edge: str
    photo_jpeg_quality: str
    photos_per_grade: Mapping[str, str]
    signature_required: bool
    scan_required_by_default: bool
    failure_words: Mapping[str, str]
    failure_reasons_offered: frozenset[str]


def _whole(text: str, low: int, high: int, name: str, problems: dict[str, list[str]], *, what: str) -> int:
    text = text.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        problems[name] = [f"{what}: a whole number from {low} to {high}."]
        return low
    return int(text)


def _quality(text: str, problems: dict[str, list[str]]) -> float:
    low, high = QUALITY_RANGE
    text = text.strip().rstrip("%").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    # People write quality as a percentage (80) as often as a share (0.8).
    if value > 1:
        value /= 100
    if not low <= value <= high:
        problems["photo_jpeg_quality"] = [f"Photo quality: from {low * 100:.0f} to {high * 100:.0f} (per cent)."]
    return round(value, 2)


def save_doorstep(change: DoorstepChange, *, actor: User) -> Doorstep:
    """Check every field, then keep them all (or none): the settings the next pull carries."""
    problems: dict[str, list[str]] = {}
    long_edge = _whole(change.photo_long_edge, *LONG_EDGE_RANGE, "photo_long_edge", problems, what="Photo size")
    quality = _quality(change.photo_jpeg_quality, problems)
    per_grade = {
        grade.value: _whole(change.photos_per_grade.get(grade.value, "0"), 0, MOST_PHOTOS, f"photos-{grade.value}", problems, what=f"Photos for grade {grade.value}")
        for grade in Grade
    }
    words: dict[str, str] = {}
    for reason in FailureReason:
        text = " ".join((change.failure_words.get(reason.value) or "").split())
        if not text:
            problems[f"words-{reason.value}"] = ["Say in a few words what the driver taps."]
        elif len(text) > WORDS_LONGEST:
            problems[f"words-{reason.value}"] = [f"At most {WORDS_LONGEST} characters."]
        words[reason.value] = text
    unknown = change.failure_reasons_offered - set(FailureReason._value2member_map_)
    if unknown:
        problems["failure_reasons_offered"] = [f"Unknown failure reason: {', '.join(sorted(unknown))}."]
    if problems:
        raise InvalidInput("Some settings need another look; nothing was saved.", fields=problems)
    offered = sorted(change.failure_reasons_offered | {FailureReason.OTHER.value}, key=[r.value for r in FailureReason].index)
    values: dict[str, Any] = {
        "photo_long_edge": long_edge,
        "photo_jpeg_quality": quality,
        "photos_per_grade": per_grade,
        "signature_required": change.signature_required,
        "scan_required_by_default": change.scan_required_by_default,
        "failure_words": words,
        "failure_reasons_offered": offered,
    }
    existing = {row.key: row for row in db.session.execute(select(DoorstepSetting)).scalars()}
    for key, value in values.items():
        row = existing.get(key) or DoorstepSetting(key=key)
        row.value, row.updated_by_id = value, actor.id
        db.session.add(row)
    db.session.flush()
    # What was just kept is what is in force: no need to read it back.
    settings = _from_rows(values)
    g._doorstep = (monotonic(), settings)
    return settings


def last_change() -> DoorstepSetting | None:
    """The most recently saved setting (who changed the settings last, and when), if any."""
    return db.session.execute(select(DoorstepSetting).order_by(DoorstepSetting.updated_at.desc()).limit(1)).scalar_one_or_none()
