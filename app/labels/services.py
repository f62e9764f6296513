"""Labels: the code on the parcel, the customer's link, and reading scanned labels.

Two identifiers per pickup, never confused: the **label code** (printed on the
parcel and in its QR; public, meaningless on its own) and the **customer
token** (the secret in the customer's link; never printed, never in a QR).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Connection, Table, bindparam, func, insert, select
from sqlalchemy.orm import Session, joinedload

from app.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.core.models import utcnow
from app.core.transactions import after_next_flush
from app.extensions import db
from app.hubs.models import Hub
from app.labels.codes import ALPHABET, CODE_LENGTH, format_label_code, is_valid_label_code, new_label_code, normalise_label_code
from app.labels.models import CustomerToken
from app.labels.rendering import LabelContent
from app.pickups.models import Pickup, PickupEvent, PickupStatus
from app.pickups.states import FINAL_STATUSES
from app.pickups.timeline import record_event

if TYPE_CHECKING:
    from app.accounts.models import User

# 24 random bytes = 192 bits, 32 URL-safe characters.
TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Longer than any URL a label QR or a person could reasonably produce.
_MAX_SCAN_LENGTH = 500
_CHECK_PATH = re.compile(r"/l/([^/?#\s]+)")
_CHUNK = 500  # values per IN (...) list: well under every database's parameter limit
_AWAITING_LINKS = "backhaul.pickups_awaiting_links"


# --- Errors -----------------------------------------------------------------------------------------


class UnknownLink(NotFound):
    code = "unknown_link"


class LinkExpired(DomainError):
    status = 410
    code = "link_expired"


class NotALabel(InvalidInput):
    code = "not_a_label"


class BadCheckCharacter(InvalidInput):
    code = "bad_check_character"


class UnknownLabel(NotFound):
    code = "unknown_label"


class NotYourPickup(Forbidden):
    code = "not_your_pickup"


class AlreadyCollected(Conflict):
    code = "already_collected"


class PickupCancelled(Conflict):
    code = "pickup_cancelled"


# --- Label codes ------------------------------------------------------------------------------------


def issue_label_codes(count: int) -> list[str]:
    """``count`` label codes, distinct from each other and from every existing pickup's."""
    codes: set[str] = set()
    while len(codes) < count:
        candidates = sorted({new_label_code() for _ in range(count - len(codes))} - codes)
        taken: set[str] = set()
        # Pickups waiting for their codes may be pending in the session: they must not be flushed first.
        with db.session.no_autoflush:
            for start in range(0, len(candidates), _CHUNK):
                chunk = candidates[start : start + _CHUNK]
                taken.update(db.session.scalars(select(Pickup.label_code).where(Pickup.label_code.in_(chunk))))
        codes.update(set(candidates) - taken)
    return list(codes)


def read_label_code(text: str) -> str:
    """The normalised label code in a scanned or typed string, or a refusal saying what is wrong.

    Accepts ``K7QM4TZX9P``, ``k7qm4 tzx9p``, ``K7QM4-TZX9P`` and URLs that carry
    the code (``https://…/l/K7QM4-TZX9P``).
    """
    text = (text or "").strip()
    if not text:
        raise NotALabel("Scan the label or type its code.", fields={"code": ["Required."]})
    if len(text) > _MAX_SCAN_LENGTH:
        raise NotALabel("This is not a Backhaul label.", fields={"code": ["Far too long for a label code."]})
    match = _CHECK_PATH.search(text)
    if match:
        text = unquote(match.group(1))
    elif "://" in text:
        # Some other link: its last path segment is the only place a code could be.
        text = unquote(urlsplit(text).path.rstrip("/").rpartition("/")[2])
    code = normalise_label_code(text)
    example = format_label_code("K7QM4TZX9P")
    if len(code) != CODE_LENGTH:
        raise NotALabel(
            f"A label code has {CODE_LENGTH} letters and digits, like {example}; this has {len(code)}.",
            fields={"code": [f"Expected {CODE_LENGTH} characters."]},
        )
    strangers = sorted({symbol for symbol in code if symbol not in ALPHABET})
    if strangers:
        raise NotALabel(
            f"Label codes never contain {', '.join(strangers)}. Check the code on the label and type it again.",
            fields={"code": ["Unexpected characters."]},
        )
    if not is_valid_label_code(code):
        raise BadCheckCharacter(
            "This code does not add up: a character is probably mistyped or two are swapped. Check it and type it again.",
            fields={"code": ["Wrong check character."]},
        )
    return code


def find_pickup_by_label(code: str) -> Pickup | None:
    """The pickup carrying this (normalised, valid) label code, if any."""
    return db.session.scalar(select(Pickup).where(Pickup.label_code == code))


def check_label(text: str) -> Pickup:
    """The pickup a label belongs to, for the public check page (no scope: the caller shows no personal data)."""
    code = read_label_code(text)
    pickup = find_pickup_by_label(code)
    if pickup is None:
        raise UnknownLabel(f"{format_label_code(code)} is not a label Backhaul has issued.")
    return pickup


def resolve_scan(text: str, *, scanner: User) -> Pickup:
    """The pickup a scanned or typed label belongs to, within the scanner's scope.

    Drivers get only pickups on their own route that are still to be collected;
    hub clerks, dispatchers and admins get any pickup (the hub decides what it
    can receive). Refusals: ``not_a_label``, ``bad_check_character``,
    ``unknown_label``, ``not_your_pickup``, ``already_collected``, ``pickup_cancelled``.
    """
    code = read_label_code(text)
    pickup = find_pickup_by_label(code)
    if pickup is None:
        raise UnknownLabel(f"No pickup has label {format_label_code(code)}. Check the code, or call dispatch.")
    if not scanner.is_driver:
        return pickup
    if not pickup.is_assigned_to(scanner):
        # Another driver's (or nobody's) pickup: say so, but nothing about whose or where.
        if pickup.driver_id is None:
            raise NotYourPickup("This label belongs to a pickup that is not on your route. Do not take the parcel; call dispatch.")
        raise NotYourPickup("This label belongs to a pickup on another driver's route. Do not take the parcel; call dispatch.")
    if pickup.status in (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED, PickupStatus.RECEIVED):
        raise AlreadyCollected(f"Pickup {pickup.reference} has already been collected.")
    if pickup.status is PickupStatus.CANCELLED:
        raise PickupCancelled(f"Pickup {pickup.reference} was cancelled; leave the parcel with the customer.")
    return pickup


def label_content(pickup: Pickup) -> LabelContent:
    """What a printed label shows for this pickup; it holds the label code and never the token."""
    hub = pickup.hub
    return _label_content(
        pickup.label_code, pickup.reference, pickup.window_start, hub.name, hub.address_line1, hub.postcode, hub.city, hub.timezone
    )


def _label_content(
    code: str, reference: str, window_start: datetime, hub_name: str, line1: str, postcode: str, city: str, tz_name: str
) -> LabelContent:
    base = current_app.config["PUBLIC_BASE_URL"]
    return LabelContent(
        code=code,
        reference=reference,
        hub_name=hub_name,
        hub_address=tuple(part for part in (line1, " ".join(p for p in (postcode, city) if p)) if part),
        pickup_date=window_start.astimezone(ZoneInfo(tz_name or "UTC")).strftime("%a %d %b %Y"),
        check_url=f"{urlsplit(base).netloc or base}/l/{code}",
    )


# --- Customer tokens --------------------------------------------------------------------------------


def new_customer_token() -> str:
    """A fresh customer token: 192 bits from the operating system's secure generator."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def active_customer_token(pickup: Pickup) -> CustomerToken | None:
    """The pickup's current (not revoked) token, if it has one."""
    tokens: list[CustomerToken] = pickup.customer_tokens  # type: ignore[attr-defined]  # the backref CustomerToken adds
    return next((token for token in tokens if token.active), None)


def issue_customer_token(pickup: Pickup) -> CustomerToken:
    """Give a pickup that has no active link a new one."""
    if active_customer_token(pickup) is not None:
        raise Conflict("This pickup already has a customer link; reissue it to replace it.", code="link_exists")
    token = CustomerToken(pickup=pickup, token=new_customer_token(), created_at=utcnow())
    db.session.add(token)
    return token


def label_new_pickups(pickups: Sequence[Pickup]) -> None:
    """Give pickups being created their label code now, and their customer's first link once they are written."""
    for pickup, code in zip(pickups, issue_label_codes(len(pickups)), strict=True):
        pickup.label_code = code
    waiting = db.session.info.setdefault(_AWAITING_LINKS, [])
    waiting.extend(pickups)
    after_next_flush("labels.first-links", _issue_first_links)


def _issue_first_links(session: Session) -> None:
    # Thousands of rows for a CSV import: one insert, once the pickups have their ids.
    pickups: list[Pickup] = session.info.pop(_AWAITING_LINKS, [])
    now = utcnow()
    rows = [{"pickup_id": pickup.id, "token": new_customer_token(), "created_at": now} for pickup in pickups]
    if rows:
        session.connection().execute(insert(cast(Table, CustomerToken.__table__)), rows)
    for pickup in pickups:
        session.expire(pickup, ["customer_tokens"])


def revoke_customer_token(pickup: Pickup, *, actor: User | None) -> CustomerToken | None:
    """Stop the pickup's current link from working; return the revoked token (None if there was none)."""
    token = active_customer_token(pickup)
    if token is None:
        return None
    token.revoked_at = utcnow()
    # Written now, so the database's one-active-link rule holds before a new token is added.
    db.session.flush()
    record_event(pickup, "customer_link_revoked", actor=actor, message="The customer's link was revoked.")
    return token


def reissue_customer_token(pickup: Pickup, *, actor: User | None) -> CustomerToken:
    """Revoke the pickup's current link (if any) and give it a new one."""
    revoke_customer_token(pickup, actor=actor)
    token = issue_customer_token(pickup)
    record_event(pickup, "customer_link_issued", actor=actor, message="A new customer link was issued.")
    db.session.flush()
    return token


def customer_url(pickup: Pickup) -> str | None:
    """The customer's link for this pickup, or None when its link was revoked and not reissued."""
    token = active_customer_token(pickup)
    if token is None:
        return None
    return f"{current_app.config['PUBLIC_BASE_URL']}/r/{token.token}"


def closed_at(pickup: Pickup) -> datetime | None:
    """When the pickup was received or cancelled (None while it is still going on)."""
    return _closed_at(pickup.id, pickup.status, pickup.updated_at)


def _closed_at(pickup_id: int, status: PickupStatus, updated_at: datetime, reader: Connection | None = None) -> datetime | None:
    if status not in FINAL_STATUSES:
        return None
    when = (reader or db.session).scalar(
        select(func.max(PickupEvent.server_time)).where(PickupEvent.pickup_id == pickup_id, PickupEvent.to_status == status.value)
    )
    return when or updated_at


def link_expires_at(pickup: Pickup) -> datetime | None:
    """When the customer's link stops working: some days after the pickup is received or cancelled."""
    return _expiry(closed_at(pickup))


def _expiry(closed: datetime | None) -> datetime | None:
    if closed is None:
        return None
    return closed + timedelta(days=current_app.config["CUSTOMER_LINK_DAYS_AFTER_CLOSE"])


def _check_link(revoked_at: datetime | None, expires: datetime | None, now: datetime | None) -> None:
    # Revoked and unknown look the same: an old link must not confirm it ever existed.
    if revoked_at is not None:
        raise UnknownLink("This link does not work.")
    if expires is not None and (now or utcnow()) >= expires:
        raise LinkExpired("This return is finished, so its link has expired.")


def resolve_customer_token(token: str, *, now: datetime | None = None) -> Pickup:
    """The pickup a customer's link belongs to; 404 for unknown or revoked links, 410 for expired ones."""
    # A malformed token is not worth a database round trip.
    if not _TOKEN_SHAPE.match(token or ""):
        raise UnknownLink("This link does not work.")
    query = select(CustomerToken).where(CustomerToken.token == token)
    pickup_load = joinedload(CustomerToken.pickup)
    # One query for token, pickup and hub; the token list is not needed here.
    row = db.session.scalar(
        # customer_tokens is the backref CustomerToken adds to Pickup, which a type checker cannot see.
        query.options(pickup_load.joinedload(Pickup.hub), pickup_load.lazyload(Pickup.customer_tokens))  # type: ignore[attr-defined,arg-type]
    )
    if row is None:
        raise UnknownLink("This link does not work.")
    _check_link(row.revoked_at, link_expires_at(row.pickup), now)
    return row.pickup


# The hot path of every label image: a Core statement (no ORM objects, no ORM compile step), built once.
_tokens, _pickups, _hubs = CustomerToken.__table__.c, Pickup.__table__.c, Hub.__table__.c
_LABEL_BY_TOKEN = (
    select(
        _tokens.revoked_at,
        _pickups.id,
        _pickups.status,
        _pickups.updated_at,
        _pickups.label_code,
        _pickups.reference,
        _pickups.window_start,
        _hubs.name,
        _hubs.address_line1,
        _hubs.postcode,
        _hubs.city,
        _hubs.timezone,
    )
    .select_from(CustomerToken.__table__.join(Pickup.__table__, _pickups.id == _tokens.pickup_id).join(Hub.__table__, _hubs.id == _pickups.hub_id))
    .where(_tokens.token == bindparam("token"))
)


def label_content_for_token(token: str, *, now: datetime | None = None) -> LabelContent:
    """The label behind a customer's link, under the same rules as ``resolve_customer_token`` (404/410)."""
    if not _TOKEN_SHAPE.match(token or ""):
        raise UnknownLink("This link does not work.")
    # A connection of its own, not the request's session: a pure read needs no
    # unit of work, and skipping one is most of what separates this from a hello world.
    # Autocommit: no BEGIN before the read and no ROLLBACK after it, two round trips of a
    # label's four on PostgreSQL (the read is one statement, or two that need not agree to the microsecond).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as reader:
        row = reader.execute(_LABEL_BY_TOKEN, {"token": token}).one_or_none()
        if row is None:
            raise UnknownLink("This link does not work.")
        revoked_at, pickup_id, status, updated_at, *printed = row
        closed = _closed_at(pickup_id, status, updated_at, reader)
    _check_link(revoked_at, _expiry(closed), now)
    return _label_content(*printed)


@dataclass(frozen=True)
class CustomerLink:
    """What a dispatcher sees of a pickup's customer link."""

    customer_url: str | None
    status: str  # active, expired or none
    created_at: datetime | None
    expires_at: datetime | None


def describe_customer_link(pickup: Pickup) -> CustomerLink:
    """The pickup's link, whether it still works, and until when."""
    token = active_customer_token(pickup)
    if token is None:
        return CustomerLink(None, "none", None, None)
    expires = link_expires_at(pickup)
    status = "expired" if expires is not None and utcnow() >= expires else "active"
    return CustomerLink(customer_url(pickup), status, token.created_at, expires)


# --- Label sheets -----------------------------------------------------------------------------------

MAX_SHEET_PICKUPS = 400


def parse_pickup_ids(values: list[str]) -> list[int]:
    """``["1,2", "3"]`` → ``[1, 2, 3]`` (order kept, duplicates dropped), or a refusal saying what is wrong."""
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise InvalidInput(f"{part[:20]!r} is not a pickup id.", fields={"ids": ["Use pickup ids separated by commas."]})
            if int(part) not in ids:
                ids.append(int(part))
    if not ids:
        raise InvalidInput("Choose at least one pickup to print labels for.", fields={"ids": ["Required."]})
    if len(ids) > MAX_SHEET_PICKUPS:
        raise InvalidInput(
            f"Print at most {MAX_SHEET_PICKUPS} labels at a time ({len(ids)} chosen).", fields={"ids": ["Too many."]}
        )
    return ids


def pickups_for_labels(pickup_ids: list[int]) -> list[Pickup]:
    """The pickups to print labels for, in the order asked; every id must exist."""
    found = {
        pickup.id: pickup
        for pickup in db.session.scalars(
            select(Pickup).options(joinedload(Pickup.hub)).where(Pickup.id.in_(pickup_ids))
        )
    }
    missing = [str(pid) for pid in pickup_ids if pid not in found]
    if missing:
        raise NotFound(f"There is no pickup {', '.join(missing)}.", fields={"ids": [f"Unknown: {', '.join(missing)}."]})
    return [found[pid] for pid in pickup_ids]
