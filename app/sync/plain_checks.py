"""The common, well-formed mutation read without marshmallow: same answer, a fraction of the cost.

marshmallow's ``load`` of a mutation's envelope and arguments was 9–16% of a
push's CPU (issue 11): every field goes through its hooks, validators and
error bookkeeping even when nothing is wrong. Nearly every mutation a phone
sends is well-formed, so it is read here by plain code that *accepts only what
the schemas in ``app.sync.schemas`` accept, and gives the same values*. Anything
else — a wrong type, a missing or unknown key, a value out of range, a string
where a number is wanted (which marshmallow may accept) — answers ``None``, and
the caller reads it again through the schemas, which word every error as
before. So a rejection's code, message and fields cannot change; only the
common case is quicker. ``tests/sync/test_plain_checks.py`` holds the two paths
to the same result.

Text was already checked for control characters and broken Unicode by
``core.inputs.bad_text`` over the whole raw mutation before this runs.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from uuid import UUID

from app.core.inputs import MAX_ROW_ID
from app.pickups.models import FailureReason, Grade
from app.sync.schemas import MAX_PHOTOS

_GRADES = {grade.value: grade for grade in Grade}
_REASONS = {reason.value: reason for reason in FailureReason}


class _NotPlain(Exception):
    """Not the plain case: let the schemas read it (and word the error, if there is one)."""


def _int(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _NotPlain
    return value


def _row_id(value: Any) -> int:
    return _int(value, 1, MAX_ROW_ID)


def _float(value: Any, low: float, high: float) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise _NotPlain
    return float(value)


def _text(value: Any, max_length: int, *, min_length: int = 0) -> str:
    if type(value) is not str or not min_length <= len(value) <= max_length:
        raise _NotPlain
    return value


def _optional_text(args: dict[str, Any], key: str, max_length: int, default: str | None) -> str | None:
    if key not in args:
        return default
    value = args[key]
    return None if value is None else _text(value, max_length)


def _uuid(value: Any) -> UUID:
    if type(value) is not str or len(value) != 36:
        raise _NotPlain
    try:
        return UUID(value)
    except ValueError:
        raise _NotPlain from None


def _photo_ids(args: dict[str, Any]) -> list[UUID]:
    if "photo_ids" not in args:
        return []
    ids = args["photo_ids"]
    if type(ids) is not list or len(ids) > MAX_PHOTOS:
        raise _NotPlain
    return [_uuid(value) for value in ids]


def _keys(args: dict[str, Any], required: set[str], optional: frozenset[str] | set[str] = frozenset()) -> None:
    keys = args.keys()
    if not required <= keys or not keys <= required | optional:
        raise _NotPlain


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _NotPlain
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _NotPlain from None
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise _NotPlain
    return moment


def _location(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if type(value) is not dict or "lat" not in value or "lon" not in value:
        raise _NotPlain
    accuracy = value.get("accuracy_m")
    return {
        "lat": _float(value["lat"], -90, 90),
        "lon": _float(value["lon"], -180, 180),
        "accuracy_m": None if accuracy is None else _float(accuracy, 0, 1_000_000),
    }


# ---- each mutation's arguments, as its schema in app.sync.schemas loads them -----------------


def _arrive(args: dict[str, Any]) -> dict[str, Any]:
    _keys(args, {"pickup_id"})
    return {"pickup_id": _row_id(args["pickup_id"])}


def _scan_label(args: dict[str, Any]) -> dict[str, Any]:
    _keys(args, {"pickup_id", "code"})
    return {"pickup_id": _row_id(args["pickup_id"]), "code": _text(args["code"], 500, min_length=1)}


def _collected_item(entry: Any) -> dict[str, Any]:
    if type(entry) is not dict:
        raise _NotPlain
    _keys(entry, {"item_id", "quantity"}, {"grade", "notes", "photo_ids"})
    quantity = _int(entry["quantity"], 0, 10_000)
    grade_value = entry.get("grade")
    if grade_value is None:
        if quantity:
            raise _NotPlain  # collected but not graded: the schema says so in its own words
        grade = None
    elif type(grade_value) is str and grade_value in _GRADES:
        grade = _GRADES[grade_value]
    else:
        raise _NotPlain
    return {
        "item_id": _row_id(entry["item_id"]),
        "quantity": quantity,
        "grade": grade,
        "notes": _optional_text(entry, "notes", 2000, ""),
        "photo_ids": _photo_ids(entry),
    }


def _collect_items(args: dict[str, Any]) -> dict[str, Any]:
    _keys(args, {"pickup_id", "items"}, {"signature_photo_id", "handed_over_by"})
    entries = args["items"]
    if type(entries) is not list or not 1 <= len(entries) <= 200:
        raise _NotPlain
    items = [_collected_item(entry) for entry in entries]
    if len({item["item_id"] for item in items}) != len(items):
        raise _NotPlain
    signature = args.get("signature_photo_id")
    return {
        "pickup_id": _row_id(args["pickup_id"]),
        "items": items,
        "signature_photo_id": None if signature is None else _uuid(signature),
        "handed_over_by": _optional_text(args, "handed_over_by", 120, None),
    }


def _fail_pickup(args: dict[str, Any]) -> dict[str, Any]:
    _keys(args, {"pickup_id", "reason"}, {"notes", "photo_ids"})
    reason_value = args["reason"]
    if type(reason_value) is not str or reason_value not in _REASONS:
        raise _NotPlain
    reason = _REASONS[reason_value]
    notes = _optional_text(args, "notes", 2000, "")
    if reason is FailureReason.OTHER and not (notes or "").strip():
        raise _NotPlain
    return {"pickup_id": _row_id(args["pickup_id"]), "reason": reason, "notes": notes, "photo_ids": _photo_ids(args)}


def _note(args: dict[str, Any]) -> dict[str, Any]:
    _keys(args, {"pickup_id", "text"}, {"photo_ids"})
    return {"pickup_id": _row_id(args["pickup_id"]), "text": _text(args["text"], 2000, min_length=1), "photo_ids": _photo_ids(args)}


_ARGS = {"arrive": _arrive, "scan_label": _scan_label, "collect_items": _collect_items, "fail_pickup": _fail_pickup, "note": _note}


def read_plain(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The envelope and arguments of a well-formed common mutation, as the schemas would load them; else None."""
    try:
        name = raw.get("name")
        reader = _ARGS.get(name) if type(name) is str else None
        args = raw.get("args")
        # A stand-in for an action too large to send (payload_too_large) takes the schemas' path.
        if reader is None or type(args) is not dict or "too_large" in raw:
            raise _NotPlain
        base_version = raw.get("base_version")
        envelope = {
            "id": _int(raw.get("id"), 1, 2**53),
            "name": name,
            "args": args,
            "base_version": None if base_version is None else _int(base_version, 0, 2**63),
            "device_time": _moment(raw.get("device_time")),
            "location": _location(raw.get("location")),
            "too_large": None,  # a stand-in for an action too large to send never comes this way
        }
        return envelope, reader(args)
    except _NotPlain:
        return None
