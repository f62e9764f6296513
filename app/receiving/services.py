"""Receiving returned goods at the hub: check what came back, decide each item's fate by the rules.

The pickup's facts (the hub's count and grade, unexpected items, discrepancies,
the status) are written by ``app.pickups``; receiving keeps the decisions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.core.errors import Conflict, InvalidInput
from app.extensions import db
from app.photos.services import PickupPhoto, can_see_pickup_photos, photos_of_pickup
from app.pickups.models import Grade, ItemDiscrepancy, Pickup, PickupItem, PickupStatus
from app.pickups.receipt import CheckedItem, ExtraItem, door_quantity, expected_items, record_receipt
from app.pickups.services import StaleVersion, mark_received
from app.pickups.states import describe
from app.receiving import rules, valuation
from app.receiving.events import DecidedItem, DispositionsSet, dispositions_set
from app.receiving.models import Disposition, ItemDisposition

RECEIVABLE = (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED)
DISPOSITION_WORDS = ", ".join(d.value.replace("_", " ") for d in Disposition)


@dataclass(frozen=True)
class ItemCheck:
    """The clerk's line for one expected item: the count, the grade and the decision."""

    item_id: int
    quantity: int
    grade: Grade | None
    disposition: str | None
    reason: str = ""
    value: Decimal | None = None
    weight_kg: Decimal | None = None


@dataclass(frozen=True)
class ExtraCheck:
    """An item that arrived without being on the pickup, with the clerk's decision."""

    sku: str
    description: str
    quantity: int
    grade: Grade | None
    disposition: str | None
    reason: str = ""
    category: str = ""
    value: Decimal | None = None
    weight_kg: Decimal | None = None


@dataclass
class Received:
    pickup: Pickup
    dispositions: list[ItemDisposition] = field(default_factory=list)
    discrepancies: list[ItemDiscrepancy] = field(default_factory=list)
    already: bool = False  # it had been received before: nothing was written


def items_to_decide(pickup: Pickup) -> list[PickupItem]:
    """The items that should have come back (a partly collected pickup may have left some behind)."""
    return expected_items(pickup)


def awaiting_receipt(hub_id: int | None, limit: int = 100) -> list[Pickup]:
    """Collected pickups on their way to this hub (every hub's when ``hub_id`` is None), oldest first."""
    query = select(Pickup).where(Pickup.status.in_(RECEIVABLE))
    if hub_id is not None:
        query = query.where(Pickup.hub_id == hub_id)
    return list(db.session.scalars(query.order_by(Pickup.updated_at, Pickup.id).limit(limit)))


def suggestions_for(pickup: Pickup, table: Sequence[rules.Rule] | None = None) -> dict[int, rules.Suggestion | None]:
    """The rules' suggestion for each item as the door graded it (what the form starts from)."""
    table = rules.rules_for(pickup.hub_id) if table is None else table
    return {item.id: rules.suggest_for_item(table, item) for item in pickup.items}


def suggestions_by_grade(pickup: Pickup, table: Sequence[rules.Rule] | None = None) -> dict[int, dict[str, dict[str, str] | None]]:
    """For each item, the rules' suggestion under every grade the clerk may give it.

    The page follows the grade the clerk picks with the suggestion for it, from this table, so
    the rules are matched in one place (here) and a corrected grade never leaves the old grade's
    disposition standing as if the clerk had chosen it.
    """
    table = rules.rules_for(pickup.hub_id) if table is None else table
    answer: dict[int, dict[str, dict[str, str] | None]] = {}
    for item in pickup.items:
        by_grade: dict[str, dict[str, str] | None] = {}
        for grade in Grade:
            suggestion = rules.suggest(table, reason=item.reason, category=item.category, grade=grade)
            by_grade[grade.value] = {"disposition": suggestion.disposition.value, "because": suggestion.because} if suggestion else None
        answer[item.id] = by_grade
    return answer


def door_photos(pickup: Pickup, viewer: User) -> dict[int | None, list[PickupPhoto]]:
    """The driver's uploaded photos by item (``None``: the signature and the rest), for staff of the pickup's hub only."""
    if not can_see_pickup_photos(pickup, viewer):
        return {}
    found: dict[int | None, list[PickupPhoto]] = {}
    for photo in photos_of_pickup(pickup, viewer=viewer):
        if photo.photo is not None:
            found.setdefault(photo.item_id if photo.kind == "condition" else None, []).append(photo)
    return found


def dispositions_of(pickup: Pickup) -> dict[int, ItemDisposition]:
    """The decisions made for a received pickup, by item id."""
    ids = [item.id for item in pickup.items]
    if not ids:
        return {}
    return {row.pickup_item_id: row for row in db.session.scalars(select(ItemDisposition).where(ItemDisposition.pickup_item_id.in_(ids)))}


def check_receivable(pickup: Pickup, *, actor: User, version: int | None) -> None:
    """Refuse a parcel for another hub, a stale form, or one that was never collected."""
    if actor.role is Role.HUB and actor.hub_id is not None and pickup.hub_id != actor.hub_id:
        raise Conflict(f"This parcel returns to {pickup.hub.name}; forward it there.", code="wrong_hub")
    if version is not None and version != pickup.version:
        raise StaleVersion(
            "This pickup changed since you scanned it. Scan it again.",
            fields={"version": [f"You had version {version}; it is now {pickup.version}."]},
        )
    if pickup.status not in RECEIVABLE:
        raise Conflict(
            f"Pickup {pickup.reference} is {describe(pickup.status)}, so there is nothing to receive. Call dispatch.",
            code="not_collected",
        )


def _choose(value: str | None, field_name: str, reason: str, problems: dict[str, list[str]]) -> Disposition | None:
    try:
        chosen = Disposition(value or "")
    except ValueError:
        problems[field_name] = [f"Choose one of: {DISPOSITION_WORDS}."]
        return None
    if chosen is Disposition.RETURN_TO_CUSTOMER and not reason.strip():
        problems[field_name.replace("disposition", "reason")] = ["Say why it goes back to the customer."]
    return chosen


def receive_pickup(
    pickup: Pickup,
    lines: Sequence[ItemCheck],
    extras: Sequence[ExtraCheck] = (),
    *,
    actor: User,
    version: int | None = None,
) -> Received:
    """Receive a collected pickup at its hub: the hub's count and grade per item, a decision for every
    item that arrived, a discrepancy for every difference from the door. Receiving it again changes nothing."""
    if pickup.status is PickupStatus.RECEIVED:
        already = dispositions_of(pickup)
        found = list(db.session.scalars(select(ItemDiscrepancy).where(ItemDiscrepancy.pickup_id == pickup.id).order_by(ItemDiscrepancy.id)))
        return Received(pickup, list(already.values()), found, already=True)
    check_receivable(pickup, actor=actor, version=version)

    problems: dict[str, list[str]] = {}
    chosen: dict[int, Disposition] = {}
    for line in lines:
        if line.quantity > 0:
            decision = _choose(line.disposition, f"disposition-{line.item_id}", line.reason, problems)
            if decision is not None:
                chosen[line.item_id] = decision
    extra_choices: list[Disposition | None] = [
        _choose(extra.disposition, f"extra-{index}-disposition", extra.reason, problems) for index, extra in enumerate(extras)
    ]
    if problems:
        raise InvalidInput("Choose what happens to every item that arrived.", fields=problems)

    receipt = record_receipt(
        pickup,
        [CheckedItem(line.item_id, line.quantity, line.grade, line.value, line.weight_kg) for line in lines],
        [ExtraItem(e.sku, e.description, e.quantity, e.grade, e.category, e.value, e.weight_kg) for e in extras],
        actor=actor,
    )
    by_item = {line.item_id: line for line in lines}
    decided: list[tuple[PickupItem, Disposition, str]] = [
        (item, chosen[item.id], by_item[item.id].reason) for item in receipt.arrived if item.id in chosen
    ]
    decided += [(item, choice, extra.reason) for item, choice, extra in zip(receipt.extras, extra_choices, extras, strict=True) if choice]
    records = _decide(pickup, decided, actor=actor)
    mark_received(
        pickup,
        actor=actor,
        data={"dispositions": {str(r.item.id): r.disposition.value for r in records}, "discrepancies": receipt.summary()},
    )
    try:
        db.session.flush()
    except IntegrityError:
        # Another clerk received the same parcel at the same moment.
        raise Conflict(f"Pickup {pickup.reference} has just been received by someone else.", code="already_received") from None
    if records:
        # Once per receipt, with every decision: the item.disposition_set webhook hangs here.
        dispositions_set.send(
            None,
            events=[
                DispositionsSet(
                    pickup,
                    actor.id,
                    {r.item.id: r.disposition.value for r in records},
                    tuple(
                        DecidedItem(r.item.id, r.disposition.value, r.quantity, r.reason, r.suggested.value if r.suggested else None, r.rule_text)
                        for r in records
                    ),
                )
            ],
        )
    return Received(pickup, records, receipt.discrepancies)


def _decide(pickup: Pickup, decided: Sequence[tuple[PickupItem, Disposition, str]], *, actor: User) -> list[ItemDisposition]:
    table = rules.rules_for(pickup.hub_id)
    rates = valuation.current_rates()
    records = []
    for item, disposition, reason in decided:
        quantity = item.received_quantity if item.received_quantity is not None else door_quantity(item)
        suggestion = rules.suggest_for_item(table, item)
        money, kept = valuation.recovered(rates[disposition], quantity=quantity, value=item.value, weight_kg=item.weight_kg)
        records.append(
            ItemDisposition(
                item=item, disposition=disposition, decided_by_id=actor.id, quantity=quantity, reason=reason.strip(),
                suggested=suggestion.disposition if suggestion else None,
                rule_id=suggestion.rule.id if suggestion else None,
                rule_text=suggestion.because if suggestion else "",
                recovered_value=money, kept_from_landfill_kg=kept,
            )
        )
    db.session.add_all(records)
    return records
