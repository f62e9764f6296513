"""What every request must look like before it reaches a parser, a query or the database.

One guard at the edge (``register_input_guard``) instead of a check in every
view: a lone UTF-16 surrogate or a NUL cannot be stored by PostgreSQL or
encoded by its driver, ``[`` × 50,000 overflows Python's JSON parser, a
5,000-digit number or ``9999-12-31`` overflows arithmetic further in, and
``"²".isdigit()`` is true while ``int("²")`` fails. Each of those used to be a
500; here they are a 4xx that names the field.

Text may hold tabs and line breaks; other control characters and unpaired
surrogates are refused. A view that must answer item by item (the sync push,
where one bad mutation must not stop the phone's queue) opts out of the text
and strict number checks with ``checks_items_itself`` and uses ``bad_text`` / ``storable`` itself.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Flask, current_app, request
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from app.core.errors import DomainError, InvalidInput, NotFound

F = TypeVar("F", bound=Callable[..., Any])

# Row ids are 32-bit integers in the database; anything larger cannot name a row.
MAX_ROW_ID = 2**31 - 1
MAX_JSON_DEPTH = 32
# Integers a JavaScript client can hold exactly (2**53 has 16 digits); decimals of a sane length.
MAX_INTEGER_DIGITS = 16
MAX_DECIMAL_CHARS = 40
# For views that check items one by one: more than any JSON.stringify writes, far less than a bomb.
MAX_ITEM_DIGITS = 400
# Years a pickup, a report or a phone clock can sensibly name (and date arithmetic cannot overflow).
MIN_YEAR, MAX_YEAR = 1900, 2199

_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_DATE_LIKE = re.compile(r"\s*([+-]?\d{4,})-\d{1,2}-\d{1,2}")
_ITEMS_CHECKED_BY_VIEW = "_backhaul_checks_items_itself"
_BODY_LIMIT_SETTING = "_backhaul_body_limit_setting"


class InvalidJson(DomainError):
    status = 400
    code = "invalid_json"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


def body_limit(setting: str) -> Callable[[F], F]:
    """Mark a view whose body may be at most ``current_app.config[setting]`` bytes (413 ``payload_too_large``)."""

    def mark(view: F) -> F:
        setattr(view, _BODY_LIMIT_SETTING, setting)
        return view

    return mark


def _too_large(limit: int, size: int | None) -> PayloadTooLarge:
    said = f"{size:,} bytes" if size is not None else "larger than that"
    return PayloadTooLarge(f"The request body is {said}; at most {limit:,} bytes are accepted here. Send less at a time.")


def checks_items_itself(view: F) -> F:
    """Mark a view that checks text and numbers item by item (see the module docstring)."""
    setattr(view, _ITEMS_CHECKED_BY_VIEW, True)
    return view


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be kept as text, or None."""
    match = _BAD_TEXT.search(value)
    if match is None:
        return None
    if "\ud800" <= match.group() <= "\udfff":
        return "Contains an unpaired surrogate (broken Unicode)."
    return "Contains control characters."


def keepable_text(value: str) -> None:
    """A marshmallow validator: text that can be stored (no control characters, no broken Unicode)."""
    reason = text_problem(value)
    if reason:
        raise ValidationError(reason)


def date_problem(value: str) -> str | None:
    """A date (or date-time) whose year is outside what Backhaul can work with."""
    match = _DATE_LIKE.match(value)
    if match is None:
        return None
    year = int(match.group(1))
    if MIN_YEAR <= year <= MAX_YEAR:
        return None
    return f"Use a date between {MIN_YEAR} and {MAX_YEAR}."


def digits_problem(value: str) -> str | None:
    """Digits that are not 0-9 (``²``, ``٣``): ``isdigit`` says yes, ``int`` may say no."""
    if value.isdigit() and not value.isascii():
        return "Use the digits 0-9."
    return None


def bad_text(value: Any, path: str = "") -> dict[str, list[str]]:
    """Every string in ``value`` (keys too) that cannot be kept as text, by dotted path."""
    problems: dict[str, list[str]] = {}
    for where, text in _strings(value, path):
        reason = text_problem(text)
        if reason:
            problems.setdefault(where or "_schema", [reason])
    return problems


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    # Iterative: a body has already passed the depth limit, but a stack is cheaper than recursion.
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and _BAD_TEXT.search(key):
                    yield (where or "_schema"), key
                    continue
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{where}.{index}" if where else str(index), child) for index, child in enumerate(item))


def scrub(value: Any) -> Any:
    """``value`` with unkeepable characters replaced by U+FFFD, so it can be stored and shown."""
    if isinstance(value, str):
        return _BAD_TEXT.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub(str(key)): scrub(child) for key, child in value.items()}
    if isinstance(value, list):
        return [scrub(child) for child in value]
    return value


def storable(value: Any, *, max_chars: int = 4000) -> Any:
    """What may be kept of ``value`` for a person to read later: scrubbed, and at most ``max_chars`` of JSON."""
    clean = scrub(value)
    text = json.dumps(clean, ensure_ascii=False, default=str)
    if len(text) <= max_chars:
        return clean
    return {"_truncated": True, "_size": len(text), "_preview": text[:max_chars]}


# ---- JSON with limits ---------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _int_parser(max_digits: int) -> Callable[[str], int]:
    def parse_int(text: str) -> int:
        if len(text.lstrip("-")) > max_digits:
            raise ValueError("a number is too large")
        return int(text)

    return parse_int


def _parse_float(text: str) -> float:
    value = float(text) if len(text) <= MAX_DECIMAL_CHARS else math.inf
    if not math.isfinite(value):
        raise ValueError("a number is too large")
    return value


def load_json(data: bytes, *, max_digits: int = MAX_INTEGER_DIGITS) -> Any:
    """Parse a JSON body with a depth and number-size limit; ``InvalidJson`` when it is not acceptable."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_int=_int_parser(max_digits), parse_float=_parse_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidJson(f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidJson(f"The request body is not valid JSON ({_short(error)}).") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise InvalidJson(f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
    return value


def _short(error: Exception) -> str:
    return str(error).split(":")[0][:80] or type(error).__name__


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


# ---- the guard ----------------------------------------------------------------------------


def _field_problems(values: MultiDict[str, str]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for key, value in values.items(multi=True):
        reason = text_problem(key) or text_problem(value) or digits_problem(value) or date_problem(value)
        if reason:
            problems.setdefault(scrub(key), [reason])
    return problems


def _json_date_problems(value: Any) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for where, text in _strings(value, ""):
        reason = date_problem(text)
        if reason:
            problems.setdefault(where or "_schema", [reason])
    return problems


def check_request() -> None:
    """Refuse a request whose path, query, form or JSON body holds what no handler can use."""
    if request.routing_exception is not None:
        return  # 404/405 follow; nothing here is parsed
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and text_problem(value):
            raise NotFound("There is nothing at this address.")
    view = current_app.view_functions.get(request.endpoint or "")
    own_items = bool(getattr(view, _ITEMS_CHECKED_BY_VIEW, False))
    limit_setting = getattr(view, _BODY_LIMIT_SETTING, None)
    if limit_setting is not None:
        limit = int(current_app.config[limit_setting])
        if request.content_length is not None and request.content_length > limit:
            raise _too_large(limit, request.content_length)  # refused before a byte of it is read
        request.max_content_length = limit  # a body without a length is cut off at the limit
    problems = _field_problems(request.args)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        problems.update(_field_problems(request.form))
    if request.is_json and request.content_length != 0:
        try:
            data = request.get_data(cache=True)
        except RequestEntityTooLarge:
            if limit_setting is None:
                raise  # the app-wide MAX_CONTENT_LENGTH: the usual 413 ``too_large``
            raise _too_large(int(request.max_content_length or 0), None) from None
        if limit_setting is not None and request.content_length is None and len(data) >= int(request.max_content_length or 0):
            # Werkzeug stops reading a stream at the limit without a word: what is left was cut off.
            raise _too_large(int(request.max_content_length or 0), None)
        if data.strip():
            # A view that answers item by item refuses a too-large id in one item, not the whole body.
            body = load_json(data, max_digits=MAX_ITEM_DIGITS if own_items else MAX_INTEGER_DIGITS)
            # Flask's get_json answers from this cache: the body is parsed once, with limits.
            request._cached_json = (body, body)
            if not own_items:
                problems.update(bad_text(body))
                problems.update(_json_date_problems(body))
    if problems:
        raise InvalidInput("Some fields are not valid.", fields=problems)


class RowIdConverter(IntegerConverter):
    """``<int:id>`` that only matches ids a row can have (1 to 2³¹-1, ASCII digits): anything else is a 404."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def register_input_guard(app: Flask) -> None:
    """Install the guard; call before any blueprint registers a route (the converter applies to them)."""
    app.url_map.converters["int"] = RowIdConverter
    app.before_request(check_request)
