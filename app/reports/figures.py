"""The report for a range of days: what happened to the pickups planned in it, and what the hub recovered.

Every figure is read from the rollup (``models.ReportRollup``): per hub-local
day, hub, driver and dimension, sums kept true in the transaction of each
change (``rollup.py``). A year of a mid-size operation is half a million items
but only a few thousand rollup rows, so the page costs a few small grouped
queries (``bench/bench_reports.py``). A pickup's day is its window's start in
its hub's timezone. ``recount.py`` computes the same report from the rows, to
check against.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from app.accounts.models import User
from app.core.errors import InvalidInput
from app.extensions import db
from app.pickups.models import DiscrepancyKind, FailureReason, Grade, PickupStatus
from app.receiving.models import Disposition
from app.reports.models import ATTEMPT, DISCREPANCY, DISPOSITION, FAILURE, GRADE, NO_DRIVER, STATUS, STOP, ReportRollup

MAX_DAYS = 366
DONE_STATUSES = (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED, PickupStatus.RECEIVED)


@dataclass
class DriverLine:
    driver_id: int
    name: str
    planned: int = 0  # given to this driver and not cancelled
    done: int = 0
    failed: int = 0
    open: int = 0

    @property
    def completion(self) -> float | None:
        """Share of this driver's pickups that were collected (fully or partly), 0–1."""
        return self.done / self.planned if self.planned else None


@dataclass
class DayLine:
    day: date
    planned: int = 0  # not cancelled
    collected: int = 0  # fully, or received at the hub
    partly: int = 0
    failed: int = 0
    recovered_value: Decimal = Decimal(0)
    kept_kg: Decimal = Decimal(0)


@dataclass
class DispositionLine:
    disposition: Disposition
    items: int = 0  # decisions
    quantity: int = 0  # units
    recovered_value: Decimal = Decimal(0)
    kept_kg: Decimal = Decimal(0)
    weight_kg: Decimal = Decimal(0)  # every unit's weight, kept or not


@dataclass
class DiscrepancyLine:
    driver_id: int | None
    name: str
    counts: dict[DiscrepancyKind, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Report:
    start: date
    end: date
    hub_id: int | None
    by_status: dict[PickupStatus, int] = field(default_factory=dict)
    # Collected quantities by grade; None is "collected without a grade yet".
    by_grade: dict[Grade | None, int] = field(default_factory=dict)
    failures: dict[FailureReason | None, int] = field(default_factory=dict)
    drivers: list[DriverLine] = field(default_factory=list)
    days: list[DayLine] = field(default_factory=list)
    dispositions: dict[Disposition, DispositionLine] = field(default_factory=dict)
    discrepancies: list[DiscrepancyLine] = field(default_factory=list)
    # Of the pickups that were attempted (collected or failed): those collected without an earlier failure.
    first_attempt_successes: int = 0
    attempted: int = 0
    # Arrival to completion, by the phone's clock, over the stops that recorded both.
    average_stop_seconds: float | None = None

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def recovered_value(self) -> Decimal:
        return sum((line.recovered_value for line in self.dispositions.values()), Decimal(0))

    @property
    def kept_kg(self) -> Decimal:
        return sum((line.kept_kg for line in self.dispositions.values()), Decimal(0))

    @property
    def landfill_kg(self) -> Decimal:
        """Weight of decided items that was not kept (disposed of)."""
        return sum((line.weight_kg - line.kept_kg for line in self.dispositions.values()), Decimal(0))

    @property
    def first_attempt_rate(self) -> float | None:
        return self.first_attempt_successes / self.attempted if self.attempted else None

    def csv_parts(self) -> dict[str, tuple[list[str], list[list[Any]]]]:
        """Each table of the report as (header, rows), for its CSV download."""
        return {
            "status": (["status", "pickups"], [[s.value, n] for s, n in self.by_status.items()]),
            "grades": (["grade", "collected_quantity"], [[g.value if g else "ungraded", n] for g, n in self.by_grade.items()]),
            "failures": (["failure_reason", "pickups"], [[r.value if r else "not given", n] for r, n in self.failures.items()]),
            "drivers": (
                ["driver", "planned", "collected", "failed", "open", "completion_percent"],
                [
                    [d.name, d.planned, d.done, d.failed, d.open, None if d.completion is None else round(d.completion * 100, 1)]
                    for d in self.drivers
                ],
            ),
            "days": (
                ["day", "planned", "collected", "partly_collected", "failed", "recovered_value", "kept_from_landfill_kg"],
                [[d.day.isoformat(), d.planned, d.collected, d.partly, d.failed, d.recovered_value, d.kept_kg] for d in self.days],
            ),
            "dispositions": (
                ["disposition", "items", "quantity", "recovered_value", "kept_from_landfill_kg", "weight_kg"],
                [[d.disposition.value, d.items, d.quantity, d.recovered_value, d.kept_kg, d.weight_kg] for d in self.dispositions.values()],
            ),
            "discrepancies": (
                ["driver", *[k.value for k in DiscrepancyKind], "total"],
                [[d.name, *[d.counts.get(k, 0) for k in DiscrepancyKind], d.total] for d in self.discrepancies],
            ),
            "summary": (
                ["figure", "value"],
                [
                    ["pickups", self.total],
                    ["first_attempt_success_percent", None if self.first_attempt_rate is None else round(self.first_attempt_rate * 100, 1)],
                    ["average_stop_minutes", None if self.average_stop_seconds is None else round(self.average_stop_seconds / 60, 1)],
                    ["recovered_value", self.recovered_value],
                    ["kept_from_landfill_kg", self.kept_kg],
                    ["landfill_kg", self.landfill_kg],
                ],
            ),
        }


def check_range(start: date, end: date) -> None:
    """Refuse ranges that run backwards or are too long to be a useful page."""
    if end < start:
        raise InvalidInput("The range ends before it starts.", fields={"to": ["Must be on or after the start."]})
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"Choose at most {MAX_DAYS} days.", fields={"to": [f"At most {MAX_DAYS} days after the start."]})


def build_report(*, start: date, end: date, tz_name: str, hub_id: int | None = None) -> Report:
    """Figures for the pickups whose window starts between ``start`` and ``end`` (inclusive, hub local days).

    ``tz_name`` is the viewer's timezone; each pickup already counts on its own hub's day.
    """
    check_range(start, end)
    report = Report(start=start, end=end, hub_id=hub_id)
    R = ReportRollup
    scope: ColumnElement[bool] = and_(R.day >= start, R.day <= end)
    if hub_id is not None:
        scope = and_(scope, R.hub_id == hub_id)
    total = func.sum(R.count)

    # Whole range, per dimension and key.
    sums: dict[tuple[str, str], tuple[int, int, int, int, int, int]] = {}
    for dimension, key, count, quantity, cents, kept, weight, ms in db.session.execute(
        select(R.dimension, R.key, total, func.sum(R.quantity), func.sum(R.value_cents), func.sum(R.kept_g), func.sum(R.weight_g), func.sum(R.stop_ms))
        .where(scope)
        .group_by(R.dimension, R.key)
    ):
        sums[(dimension, key)] = (int(count or 0), int(quantity or 0), int(cents or 0), int(kept or 0), int(weight or 0), int(ms or 0))
    zero = (0, 0, 0, 0, 0, 0)

    def get(dimension: str, key: str) -> tuple[int, int, int, int, int, int]:
        return sums.get((dimension, key), zero)

    report.by_status = {status: get(STATUS, status.value)[0] for status in PickupStatus}
    report.by_grade = {grade: get(GRADE, grade.value)[1] for grade in Grade}
    if get(GRADE, "")[1]:
        report.by_grade[None] = get(GRADE, "")[1]
    report.failures = {reason: get(FAILURE, reason.value)[0] for reason in FailureReason}
    if get(FAILURE, "")[0]:
        report.failures[None] = get(FAILURE, "")[0]
    report.dispositions = {}
    for disposition in Disposition:
        count, quantity, cents, kept, weight, _ = get(DISPOSITION, disposition.value)
        report.dispositions[disposition] = DispositionLine(disposition, count, quantity, _cents(cents), _grams(kept), _grams(weight))
    report.attempted, report.first_attempt_successes = get(ATTEMPT, "attempted")[0], get(ATTEMPT, "first_time")[0]
    stops, stop_ms = get(STOP, "")[0], get(STOP, "")[5]
    report.average_stop_seconds = stop_ms / stops / 1000 if stops else None

    # Per driver: their pickups by status, and the differences found in their records.
    not_cancelled = R.key != PickupStatus.CANCELLED.value
    by_driver: dict[int, DriverLine] = {}
    for driver_id, name, key, count in db.session.execute(
        select(R.driver_id, User.name, R.key, total)
        .join(User, R.driver_id == User.id)
        .where(scope, R.dimension == STATUS, R.driver_id != NO_DRIVER, not_cancelled)
        .group_by(R.driver_id, User.name, R.key)
        .having(total != 0)
    ):
        line = by_driver.setdefault(driver_id, DriverLine(driver_id=driver_id, name=name))
        line.planned += count
        status = PickupStatus(key)
        if status in DONE_STATUSES:
            line.done += count
        elif status is PickupStatus.FAILED:
            line.failed += count
        elif status is PickupStatus.ASSIGNED:
            line.open += count
    report.drivers = sorted(by_driver.values(), key=lambda line: line.name)
    lines: dict[int, DiscrepancyLine] = {}
    for driver_id, name, key, count in db.session.execute(
        select(R.driver_id, User.name, R.key, total)
        .outerjoin(User, R.driver_id == User.id)
        .where(scope, R.dimension == DISCREPANCY)
        .group_by(R.driver_id, User.name, R.key)
        .having(total != 0)
    ):
        differences = lines.setdefault(driver_id, DiscrepancyLine(None if driver_id == NO_DRIVER else driver_id, name or "No driver"))
        differences.counts[DiscrepancyKind(key)] = count
    report.discrepancies = sorted(lines.values(), key=lambda line: (-line.total, line.name))

    # Per day: pickups by status, recovered value and weight kept.
    days = {start + timedelta(days=n): DayLine(start + timedelta(days=n)) for n in range((end - start).days + 1)}
    for day, dimension, key, count, cents, kept in db.session.execute(
        select(R.day, R.dimension, R.key, total, func.sum(R.value_cents), func.sum(R.kept_g))
        .where(scope, R.dimension.in_((STATUS, DISPOSITION)))
        .group_by(R.day, R.dimension, R.key)
    ):
        on_day = days[day]
        if dimension == DISPOSITION:
            on_day.recovered_value += _cents(int(cents or 0))
            on_day.kept_kg += _grams(int(kept or 0))
            continue
        status = PickupStatus(key)
        if status is not PickupStatus.CANCELLED:
            on_day.planned += count
        if status in (PickupStatus.COLLECTED, PickupStatus.RECEIVED):
            on_day.collected += count
        elif status is PickupStatus.PARTIALLY_COLLECTED:
            on_day.partly += count
        elif status is PickupStatus.FAILED:
            on_day.failed += count
    report.days = list(days.values())
    return report


def _cents(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)


def _grams(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-3)


def default_range(today: date) -> tuple[date, date]:
    """The last seven days up to today."""
    return today - timedelta(days=6), today
