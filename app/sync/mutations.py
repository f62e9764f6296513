"""Driver actions received by sync: each handler checks everything, then changes.

Handlers never leave half a change behind: every check that can refuse runs
before the first attribute is set, so a rejected mutation needs no savepoint.
Changes go into a ``Batch`` and are written together at the end of the push
(one change-number reservation, one bulk insert per table): a push of 500
actions costs little more than storing them.

A rejection of an action on a pickup that is (or was) the driver's keeps the
field facts on the pickup's timeline, flagged for review when goods or photos
are involved: a collection on a pickup cancelled meanwhile means goods in the
van that nobody expects.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import select

from app.accounts.models import User
from app.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.labels.codes import is_valid_label_code, normalise_label_code
from app.pickups.models import Grade, Pickup, PickupEvent, PickupStatus
from app.pickups.states import check_transition
from app.sync.models import SyncClient
from app.sync.schemas import ARGS_SCHEMAS, mutation_schema
from app.sync.scope import was_in_scope_of
from app.sync.settings import FAILURE_LABELS

COLLECTED_STATUSES = (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED, PickupStatus.RECEIVED)


def _plain_resolve_scan(text: str, *, scanner: User) -> Pickup:
    """Resolve a scanned label to a pickup of ``scanner`` (until the labels issue's resolver lands)."""
    code = normalise_label_code(text.strip().rstrip("/").rsplit("/", 1)[-1])
    if not is_valid_label_code(code):
        raise InvalidInput(
            "This is not a Backhaul label code: a character is wrong or missing. Scan again or type it carefully.",
            code="bad_check_character",
        )
    pickup = db.session.scalar(select(Pickup).where(Pickup.label_code == code))
    if pickup is None:
        raise NotFound("No pickup has this label. Keep the parcel apart and call dispatch.", code="unknown_label")
    if pickup.driver_id != scanner.id:
        raise Forbidden("This label belongs to a pickup on another route. Keep the parcel apart and call dispatch.", code="not_your_pickup")
    if pickup.status in COLLECTED_STATUSES:
        raise Conflict("This parcel was already collected.", code="already_collected")
    return pickup


try:  # The labels issue adds the shared resolver (same refusal codes); until then the plain check.
    from app.labels.services import resolve_scan  # type: ignore[attr-defined]
except ImportError:
    resolve_scan = _plain_resolve_scan


class Rejected(Exception):
    """This mutation can never succeed; it is answered ``rejected`` and the queue moves on."""

    def __init__(self, code: str, message: str, *, fields: dict[str, Any] | None = None, pickup: Pickup | None = None, keep_facts: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        # The pickup the facts belong to, when the driver had (or has) it on their route.
        self.pickup = pickup if keep_facts else None


@dataclass
class Mutation:
    id: int
    raw: dict[str, Any]
    name: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    base_version: int | None = None
    device_time: datetime | None = None
    location: dict[str, Any] | None = None
    # Set once the envelope and arguments have been checked.
    valid: bool = False
    error: Rejected | None = None

    @property
    def pickup_id(self) -> int | None:
        value = (self.raw.get("args") or {}).get("pickup_id") if isinstance(self.raw.get("args"), dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_mutation(raw: dict[str, Any]) -> Mutation:
    """Check one mutation's envelope and arguments; never raises (the error is kept on it)."""
    mutation = Mutation(id=raw["id"], raw=raw, name=str(raw.get("name") or "")[:40])
    try:
        envelope = mutation_schema.load(raw)
    except ValidationError as error:
        mutation.error = Rejected("invalid_mutation", "This action could not be read by the server.", fields=_messages(error))
        return mutation
    mutation.name = envelope["name"]
    mutation.base_version = envelope["base_version"]
    mutation.device_time = envelope["device_time"]
    mutation.location = envelope["location"]
    schema = ARGS_SCHEMAS.get(mutation.name)
    if schema is None:
        mutation.error = Rejected(
            "unknown_mutation", f"The server does not know the action '{mutation.name}'. Update the app.", fields={"name": ["Unknown."]}
        )
        return mutation
    try:
        mutation.args = schema.load(envelope["args"])
    except ValidationError as error:
        mutation.error = Rejected("invalid_args", "Some details of this action are not valid.", fields={"args": _messages(error)})
        return mutation
    mutation.valid = True
    return mutation


def _messages(error: ValidationError) -> dict[str, Any]:
    return error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}


@dataclass
class Outcome:
    message: str
    pickup: Pickup


@dataclass
class Batch:
    """Everything one push changes, written together when the push ends."""

    driver: User
    client: SyncClient
    received_at: datetime
    skew_seconds: int | None
    skew_flag_seconds: int
    required_photo_grades: frozenset[Grade]
    pickups: dict[int, Pickup]
    scanned: set[int]
    events: list[dict[str, Any]] = field(default_factory=list)
    # (index into events, link row) — event ids are known only after the insert.
    links: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    touched: dict[int, Pickup] = field(default_factory=dict)

    def skew_for(self, mutation: Mutation) -> int | None:
        """Device clock minus server clock: from the push's ``sent_at``, else from a device time in the future."""
        if self.skew_seconds is not None:
            return self.skew_seconds
        if mutation.device_time is not None:
            ahead = round((mutation.device_time - self.received_at).total_seconds())
            if ahead > self.skew_flag_seconds:
                return ahead
        return None

    def evidence(self, mutation: Mutation) -> dict[str, Any]:
        location = mutation.location or {}
        return {
            "actor_id": self.driver.id,
            "server_time": self.received_at,
            "device_time": mutation.device_time,
            "clock_skew_seconds": self.skew_for(mutation),
            "lat": location.get("lat"),
            "lon": location.get("lon"),
            "accuracy_m": location.get("accuracy_m"),
            "client_id": self.client.client_id,
            "mutation_id": mutation.id,
        }

    def add_event(
        self,
        pickup: Pickup,
        mutation: Mutation,
        kind: str,
        message: str,
        *,
        data: dict[str, Any] | None = None,
        from_status: PickupStatus | None = None,
        to_status: PickupStatus | None = None,
        needs_review: bool = False,
    ) -> int:
        evidence = self.evidence(mutation)
        skew = evidence["clock_skew_seconds"]
        data = dict(data or {})
        data["seen_version"] = mutation.base_version
        if skew is not None and abs(skew) > self.skew_flag_seconds:
            data["clock_skew_flagged"] = True
        self.events.append(
            {
                "pickup_id": pickup.id,
                "kind": kind,
                "message": message,
                "data": data,
                "from_status": from_status.value if from_status else None,
                "to_status": to_status.value if to_status else None,
                "needs_review": needs_review,
                **evidence,
            }
        )
        return len(self.events) - 1

    def change_status(self, pickup: Pickup, target: PickupStatus, mutation: Mutation, kind: str, message: str, **event: Any) -> int:
        """The state machine's check, a new version, and a timeline entry (the batch form of change_status)."""
        current = pickup.status
        check_transition(current, target)
        pickup.status = target
        pickup.version = (pickup.version or 0) + 1
        self.touched[pickup.id] = pickup
        return self.add_event(pickup, mutation, kind, message, from_status=current, to_status=target, **event)

    def link_photos(self, event_index: int, pickup: Pickup, photo_ids: list[UUID | str], role: str, item_id: int | None = None) -> None:
        for photo_id in photo_ids:
            self.links.append(
                (
                    event_index,
                    {"photo_id": str(photo_id), "pickup_id": pickup.id, "item_id": item_id, "driver_id": self.driver.id, "role": role},
                )
            )


# ---- the handlers -------------------------------------------------------------------------


def _hub_time(pickup: Pickup, when: datetime | None) -> str:
    if when is None:
        return ""
    return " at " + when.astimezone(ZoneInfo(pickup.hub.timezone or "UTC")).strftime("%H:%M")


def _own_pickup(batch: Batch, mutation: Mutation, keep_facts: bool) -> Pickup:
    """The driver's pickup named by the mutation, or the rejection that says why not."""
    pickup = batch.pickups.get(mutation.args["pickup_id"])
    if pickup is None or pickup.driver_id != batch.driver.id:
        if pickup is not None and was_in_scope_of(pickup.id, batch.driver.id):
            raise Rejected(
                "pickup_reassigned",
                "Dispatch took this pickup off your route."
                + (" What you recorded was kept for review." if keep_facts else ""),
                pickup=pickup,
                keep_facts=True,
            )
        raise Rejected("not_your_pickup", "This pickup is not on your route.")
    if pickup.status is PickupStatus.CANCELLED:
        cancelled_at = db.session.scalar(
            select(PickupEvent.server_time)
            .where(PickupEvent.pickup_id == pickup.id, PickupEvent.kind == "cancelled")
            .order_by(PickupEvent.id.desc())
            .limit(1)
        )
        reason = f" ({pickup.cancel_reason})" if pickup.cancel_reason else ""
        raise Rejected(
            "pickup_cancelled",
            f"Dispatch cancelled this pickup{_hub_time(pickup, cancelled_at)}{reason}."
            + (" What you recorded was kept for review." if keep_facts else ""),
            pickup=pickup,
            keep_facts=True,
        )
    return pickup


def _arrive(batch: Batch, mutation: Mutation) -> Outcome:
    pickup = _own_pickup(batch, mutation, keep_facts=False)
    batch.add_event(pickup, mutation, "arrived", "Driver arrived at the address.")
    return Outcome("Arrival recorded.", pickup)


def _scan_label(batch: Batch, mutation: Mutation) -> Outcome:
    pickup = _own_pickup(batch, mutation, keep_facts=False)
    try:
        resolved = resolve_scan(mutation.args["code"], scanner=batch.driver)
    except DomainError as refusal:
        raise Rejected(refusal.code, refusal.message, fields={"code": [refusal.message]})
    resolved = getattr(resolved, "pickup", resolved)
    if resolved.id != pickup.id:
        raise Rejected(
            "wrong_label",
            f"This label belongs to {resolved.reference}, not to {pickup.reference}. Check which parcel you have.",
            fields={"code": ["Another pickup's label."]},
        )
    batch.add_event(pickup, mutation, "label_scanned", "Label scanned.", data={"label_code": pickup.label_code})
    batch.scanned.add(pickup.id)
    return Outcome("Label matches this pickup.", pickup)


def _collect_items(batch: Batch, mutation: Mutation) -> Outcome:
    args = mutation.args
    pickup = _own_pickup(batch, mutation, keep_facts=True)
    if pickup.status in COLLECTED_STATUSES:
        raise Rejected("already_collected", "This pickup was already recorded as collected. What you sent was kept for review.", pickup=pickup, keep_facts=True)
    items = {item.id: item for item in pickup.items}
    entries = {entry["item_id"]: entry for entry in args["items"]}
    unknown = [item_id for item_id in entries if item_id not in items]
    if unknown:
        raise Rejected(
            "unknown_item",
            "An item you collected is no longer on this pickup (dispatch changed it). What you sent was kept for review.",
            fields={"items": {str(i): ["Not on this pickup."] for i in unknown}},
            pickup=pickup,
            keep_facts=True,
        )
    too_many = {str(i): [f"Expected at most {items[i].quantity}."] for i, e in entries.items() if e["quantity"] > items[i].quantity}
    if too_many:
        raise Rejected(
            "too_many",
            "More was collected than this pickup expects. What you sent was kept for review; tell dispatch about the extra goods.",
            fields={"items": too_many},
            pickup=pickup,
            keep_facts=True,
        )
    missing_photo = {
        str(i): [f"Grade {e['grade'].value} needs a photo."]
        for i, e in entries.items()
        if e["quantity"] and e["grade"] in batch.required_photo_grades and not e["photo_ids"]
    }
    if missing_photo:
        raise Rejected("photo_required", "Items graded C or D need a photo.", fields={"items": missing_photo}, pickup=pickup, keep_facts=True)
    if not any(e["quantity"] for e in entries.values()):
        raise Rejected(
            "nothing_collected",
            "Nothing was marked as collected. To say nothing could be collected, fail the pickup with a reason.",
            fields={"items": ["Every quantity is 0."]},
        )
    if pickup.scan_required and pickup.id not in batch.scanned:
        raise Rejected(
            "scan_required",
            "Dispatch asked for the parcel's label to be scanned before this pickup is completed. Scan it, then complete again.",
            pickup=pickup,
            keep_facts=True,
        )
    if pickup.status not in (PickupStatus.ASSIGNED, PickupStatus.FAILED):
        raise Rejected("invalid_status", f"This pickup is {pickup.status.value.replace('_', ' ')}; it cannot be collected now.", pickup=pickup, keep_facts=True)

    # Every check passed: from here on, nothing refuses.
    for item in pickup.items:
        entry = entries.get(item.id)
        item.collected_quantity = entry["quantity"] if entry else 0
        item.grade = entry["grade"] if entry and entry["quantity"] else None
        item.condition_notes = (entry["notes"] or None) if entry else None
    complete = all((item.collected_quantity or 0) >= item.quantity for item in pickup.items)
    target = PickupStatus.COLLECTED if complete else PickupStatus.PARTIALLY_COLLECTED
    if pickup.status is PickupStatus.FAILED:
        # The same driver failed it earlier and came back: the collection is the later fact.
        batch.change_status(pickup, PickupStatus.ASSIGNED, mutation, "reopened", "Reopened: the driver came back and collected.")
    collected = sum(item.collected_quantity or 0 for item in pickup.items)
    expected = sum(item.quantity for item in pickup.items)
    handed_over_by = (args.get("handed_over_by") or "").strip() or None
    message = f"Collected {collected} of {expected} items" + (f", handed over by {handed_over_by}." if handed_over_by else ".")
    data = {
        "items": [
            {
                "item_id": i,
                "quantity": e["quantity"],
                "grade": e["grade"].value if e["grade"] else None,
                "notes": e["notes"] or None,
                "photo_ids": [str(p) for p in e["photo_ids"]],
            }
            for i, e in entries.items()
        ],
        "signature_photo_id": str(args["signature_photo_id"]) if args.get("signature_photo_id") else None,
        "handed_over_by": handed_over_by,
    }
    index = batch.change_status(pickup, target, mutation, target.value, message, data=data)
    for item_id, entry in entries.items():
        batch.link_photos(index, pickup, entry["photo_ids"], "item", item_id)
    if args.get("signature_photo_id"):
        batch.link_photos(index, pickup, [args["signature_photo_id"]], "signature")
    return Outcome(message, pickup)


def _fail_pickup(batch: Batch, mutation: Mutation) -> Outcome:
    args = mutation.args
    pickup = _own_pickup(batch, mutation, keep_facts=bool(args["photo_ids"]))
    if pickup.status in COLLECTED_STATUSES:
        raise Rejected("already_collected", "This pickup was already recorded as collected.", pickup=pickup, keep_facts=bool(args["photo_ids"]))
    if pickup.status is PickupStatus.FAILED:
        raise Rejected("already_failed", "This pickup was already recorded as failed.", pickup=pickup, keep_facts=bool(args["photo_ids"]))
    if pickup.status is not PickupStatus.ASSIGNED:
        raise Rejected("invalid_status", f"This pickup is {pickup.status.value.replace('_', ' ')}; it cannot fail now.")
    reason = args["reason"]
    notes = (args.get("notes") or "").strip() or None
    pickup.failure_reason = reason
    pickup.failure_notes = notes
    message = f"Failed: {FAILURE_LABELS[reason].lower()}" + (f" — {notes}" if notes else ".")
    data = {"reason": reason.value, "notes": notes, "photo_ids": [str(p) for p in args["photo_ids"]]}
    index = batch.change_status(pickup, PickupStatus.FAILED, mutation, "failed", message, data=data)
    batch.link_photos(index, pickup, args["photo_ids"], "failure")
    return Outcome("Failed attempt recorded.", pickup)


def _note(batch: Batch, mutation: Mutation) -> Outcome:
    args = mutation.args
    pickup = _own_pickup(batch, mutation, keep_facts=True)
    index = batch.add_event(pickup, mutation, "driver_note", args["text"].strip(), data={"photo_ids": [str(p) for p in args["photo_ids"]]})
    batch.link_photos(index, pickup, args["photo_ids"], "note")
    return Outcome("Note recorded.", pickup)


HANDLERS: dict[str, Callable[[Batch, Mutation], Outcome]] = {
    "arrive": _arrive,
    "scan_label": _scan_label,
    "collect_items": _collect_items,
    "fail_pickup": _fail_pickup,
    "note": _note,
}

_WHAT = {
    "arrive": "an arrival",
    "scan_label": "a label scan",
    "collect_items": "a collection",
    "fail_pickup": "a failed attempt",
    "note": "a note",
}


def keep_rejected_facts(batch: Batch, mutation: Mutation, rejection: Rejected) -> None:
    """Put what the driver recorded on the pickup's timeline, flagged when goods or photos are involved."""
    pickup = rejection.pickup
    if pickup is None:
        return
    photo_ids = list(mutation.args.get("photo_ids") or [])
    for entry in mutation.args.get("items") or []:
        photo_ids.extend(entry.get("photo_ids") or [])
    if mutation.args.get("signature_photo_id"):
        photo_ids.append(mutation.args["signature_photo_id"])
    goods = mutation.name == "collect_items" and any(e.get("quantity") for e in mutation.args.get("items") or [])
    index = batch.add_event(
        pickup,
        mutation,
        "field_conflict",
        f"{batch.driver.name} sent {_WHAT.get(mutation.name, mutation.name)} that could not be applied: {rejection.message}",
        data={
            "mutation": mutation.name,
            "code": rejection.code,
            "args": _jsonable(mutation.args),
            "server_version": pickup.version,
        },
        needs_review=goods or bool(photo_ids),
    )
    batch.link_photos(index, pickup, photo_ids, "review")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value
