"""Driver actions received by sync, each adapted to one call into the pickups domain.

A mutation is read here (its envelope and arguments checked one by one, so a
bad action is one rejection and never blocks the phone's queue), checked for
the driver's scope (their route, or a pickup dispatch took off it), and then
handed to ``app.pickups.collection``, where the rules are. Pickups refuse with
a permanent code; the handler turns that into a ``rejected`` result.

What a push changes is written together when it ends (``Batch``): the change
numbers in one statement, the timeline and photo links in one insert each, so
a push of 500 actions costs little more than storing them.

A rejection of an action on a pickup that is (or was) the driver's keeps the
field facts on the pickup's timeline, flagged for review when goods or photos
are involved.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from flask import current_app
from marshmallow import ValidationError

from app.accounts.models import User
from app.core.errors import DomainError
from app.core.inputs import bad_text, scrub
from app.labels.codes import normalise_label_code
from app.labels.services import resolve_scan
from app.pickups import collection
from app.pickups.collection import COLLECTED_STATUSES, CollectedItem, FieldActionRefused, FieldOutcome
from app.pickups.models import Pickup
from app.pickups.timeline import Entry, Evidence
from app.sync.models import SyncClient
from app.sync.plain_checks import read_plain
from app.sync.schemas import ARGS_SCHEMAS, MAX_ROW_ID, mutation_schema
from app.sync.scope import was_in_scope_of


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
    unusable_device_time: str | None = None
    # Set once the envelope and arguments have been checked.
    valid: bool = False
    error: Rejected | None = None

    @property
    def pickup_id(self) -> int | None:
        value = (self.raw.get("args") or {}).get("pickup_id") if isinstance(self.raw.get("args"), dict) else None
        return value if type(value) is int and 1 <= value <= MAX_ROW_ID else None


def read_mutation(raw: dict[str, Any]) -> Mutation:
    """Check one mutation's envelope and arguments; never raises (the error is kept on it)."""
    mutation = Mutation(id=raw["id"], raw=raw, name=scrub(str(raw.get("name") or "")[:40]))
    broken = bad_text(raw)
    if broken:
        # Text PostgreSQL cannot store (NUL, an unpaired surrogate): refused here, for this mutation only.
        code = "invalid_args" if all(path.startswith("args") for path in broken) else "invalid_mutation"
        mutation.error = Rejected(code, "Some text in this action is broken (control characters or invalid Unicode).", fields=scrub(broken))
        return mutation
    plain = read_plain(raw)
    if plain is not None:  # the common case, read without marshmallow (app.sync.plain_checks)
        envelope, mutation.args = plain
        _read_envelope(mutation, raw, envelope)
        mutation.valid = True
        return mutation
    try:
        envelope = mutation_schema.load(raw)
    except ValidationError as error:
        mutation.error = Rejected("invalid_mutation", "This action could not be read by the server.", fields=_messages(error))
        return mutation
    _read_envelope(mutation, raw, envelope)
    if mutation.error is not None:
        return mutation
    try:
        mutation.args = ARGS_SCHEMAS[mutation.name].load(envelope["args"])
    except ValidationError as error:
        mutation.error = Rejected("invalid_args", "Some details of this action are not valid.", fields={"args": _messages(error)})
        return mutation
    mutation.valid = True
    return mutation


def _read_envelope(mutation: Mutation, raw: dict[str, Any], envelope: dict[str, Any]) -> None:
    """Take a loaded envelope's values; an unknown name is kept as the mutation's error."""
    mutation.name = envelope["name"]
    mutation.base_version = envelope["base_version"]
    mutation.device_time = envelope["device_time"]
    if mutation.device_time is not None and not plausible_time(mutation.device_time):
        # A phone whose clock says 1970 still did the work: keep the action, not the time.
        mutation.unusable_device_time = str(raw.get("device_time"))[:64]
        mutation.device_time = None
    mutation.location = envelope["location"]
    if envelope.get("too_large") is not None:
        limit = current_app.config["SYNC_MAX_PUSH_BYTES"]
        mutation.error = Rejected(
            "payload_too_large",
            f"This action was too large to send ({envelope['too_large']['bytes']:,} bytes; a push takes at most {limit:,}). "
            "Nothing of it was applied: record it again with less (shorter notes, fewer items).",
        )
        return
    if mutation.name not in ARGS_SCHEMAS:
        mutation.error = Rejected(
            "unknown_mutation", f"The server does not know the action '{mutation.name}'. Update the app.", fields={"name": ["Unknown."]}
        )


def plausible_time(moment: datetime) -> bool:
    """Inside the years a working phone clock can show (and a database column can hold)."""
    return 2000 <= moment.year <= 2200


def skew_seconds(device: datetime, server: datetime) -> int:
    """Device clock minus server clock, in seconds, clamped to what a 32-bit column holds."""
    limit = 2**31 - 1
    return max(-limit, min(limit, round((device - server).total_seconds())))


def _messages(error: ValidationError) -> dict[str, Any]:
    return error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}


@dataclass
class Batch:
    """One push: who sends it, the pickups it names (locked), and the photo links to write at the end."""

    driver: User
    client: SyncClient
    received_at: datetime
    skew_seconds: int | None
    skew_flag_seconds: int
    pickups: dict[int, Pickup]
    # (timeline entry, link row): the entry's id is known once the timeline is written.
    links: list[tuple[Entry, dict[str, Any]]] = field(default_factory=list)

    def skew_for(self, mutation: Mutation) -> int | None:
        """Device clock minus server clock: from the push's ``sent_at``, else from a device time in the future."""
        if self.skew_seconds is not None:
            return self.skew_seconds
        if mutation.device_time is not None:
            ahead = skew_seconds(mutation.device_time, self.received_at)
            if ahead > self.skew_flag_seconds:
                return ahead
        return None

    def evidence(self, mutation: Mutation) -> Evidence:
        """The field facts of one mutation, for the pickup's timeline."""
        location = mutation.location or {}
        skew = self.skew_for(mutation)
        notes: dict[str, Any] = {"seen_version": mutation.base_version}
        if skew is not None and abs(skew) > self.skew_flag_seconds:
            notes["clock_skew_flagged"] = True
        if mutation.unusable_device_time:
            notes["unusable_device_time"] = mutation.unusable_device_time
            notes["clock_skew_flagged"] = True
        return Evidence(
            server_time=self.received_at,
            device_time=mutation.device_time,
            clock_skew_seconds=skew,
            lat=location.get("lat"),
            lon=location.get("lon"),
            accuracy_m=location.get("accuracy_m"),
            client_id=self.client.client_id,
            mutation_id=mutation.id,
            notes=notes,
        )

    def link_photos(self, entry: Entry, pickup: Pickup, photo_ids: list[UUID | str], role: str, item_id: int | None = None) -> None:
        if photo_ids:
            entry.needs_id = True
        for photo_id in photo_ids:
            self.links.append(
                (entry, {"photo_id": str(photo_id), "pickup_id": pickup.id, "item_id": item_id, "driver_id": self.driver.id, "role": role})
            )


# ---- the handlers -------------------------------------------------------------------------


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
    collection.check_still_wanted(pickup, keep_facts=keep_facts)
    return pickup


def _arrive(batch: Batch, mutation: Mutation) -> FieldOutcome:
    pickup = _own_pickup(batch, mutation, keep_facts=False)
    return collection.record_arrival(pickup, driver=batch.driver, evidence=batch.evidence(mutation))


def _scan_label(batch: Batch, mutation: Mutation) -> FieldOutcome:
    pickup = _own_pickup(batch, mutation, keep_facts=False)
    if normalise_label_code(mutation.args["code"]) != pickup.label_code or pickup.status in COLLECTED_STATUSES:
        # Not the usual case (the right parcel): the shared resolver says precisely what is wrong.
        try:
            resolved = resolve_scan(mutation.args["code"], scanner=batch.driver)
        except DomainError as refusal:
            raise Rejected(refusal.code, refusal.message, fields={"code": [refusal.message]}) from refusal
        if resolved.id != pickup.id:
            raise Rejected(
                "wrong_label",
                f"This label belongs to {resolved.reference}, not to {pickup.reference}. Check which parcel you have.",
                fields={"code": ["Another pickup's label."]},
            )
    return collection.record_label_scan(pickup, driver=batch.driver, evidence=batch.evidence(mutation))


def _collect_items(batch: Batch, mutation: Mutation) -> FieldOutcome:
    args = mutation.args
    pickup = _own_pickup(batch, mutation, keep_facts=True)
    items = [CollectedItem(e["item_id"], e["quantity"], e["grade"], e["notes"], e["photo_ids"]) for e in args["items"]]
    outcome = collection.collect_pickup(
        pickup,
        items,
        driver=batch.driver,
        evidence=batch.evidence(mutation),
        signature_photo_id=args.get("signature_photo_id"),
        handed_over_by=args.get("handed_over_by"),
    )
    for item in items:
        batch.link_photos(outcome.entry, pickup, list(item.photo_ids), "item", item.item_id)
    if args.get("signature_photo_id"):
        batch.link_photos(outcome.entry, pickup, [args["signature_photo_id"]], "signature")
    return outcome


def _fail_pickup(batch: Batch, mutation: Mutation) -> FieldOutcome:
    args = mutation.args
    pickup = _own_pickup(batch, mutation, keep_facts=bool(args["photo_ids"]))
    outcome = collection.fail_pickup(
        pickup, args["reason"], driver=batch.driver, evidence=batch.evidence(mutation), notes=args.get("notes"), photo_ids=args["photo_ids"]
    )
    batch.link_photos(outcome.entry, pickup, args["photo_ids"], "failure")
    return outcome


def _note(batch: Batch, mutation: Mutation) -> FieldOutcome:
    args = mutation.args
    pickup = _own_pickup(batch, mutation, keep_facts=True)
    outcome = collection.add_driver_note(pickup, args["text"], driver=batch.driver, evidence=batch.evidence(mutation), photo_ids=args["photo_ids"])
    batch.link_photos(outcome.entry, pickup, args["photo_ids"], "note")
    return outcome


HANDLERS: dict[str, Callable[[Batch, Mutation], FieldOutcome]] = {
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


def apply_mutation(batch: Batch, mutation: Mutation) -> FieldOutcome:
    """Apply one checked mutation, or raise the ``Rejected`` that says why it never can be."""
    if mutation.error is not None:
        raise mutation.error
    try:
        return HANDLERS[mutation.name](batch, mutation)
    except FieldActionRefused as refusal:
        pickup = batch.pickups.get(mutation.args["pickup_id"]) if refusal.keep_facts else None
        raise Rejected(refusal.code, refusal.message, fields=refusal.fields, pickup=pickup, keep_facts=refusal.keep_facts) from refusal
    except DomainError as refusal:
        # A rule deeper down said no (e.g. the state machine). The rules check before they
        # change anything, so refusing here leaves nothing half-done.
        raise Rejected(refusal.code, refusal.message, fields=refusal.fields) from refusal


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
    entry = collection.record_field_conflict(
        pickup,
        driver=batch.driver,
        evidence=batch.evidence(mutation),
        message=f"{batch.driver.name} sent {_WHAT.get(mutation.name, mutation.name)} that could not be applied: {rejection.message}",
        code=rejection.code,
        data={"mutation": mutation.name, "args": _jsonable(mutation.args)},
        needs_review=goods or bool(photo_ids),
    )
    batch.link_photos(entry, pickup, photo_ids, "review")


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
