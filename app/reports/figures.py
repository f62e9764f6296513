"""The report for a range of days: what happened to the pickups planned in it, and what the hub recovered.

Every figure is one aggregate query over indexed columns (the window start, the
status, the item's pickup), never a loop over rows in Python: a year of a
mid-size operation is half a million items (``bench/bench_reports.py``). Days
are the hub's local days: the database groups by the local date, with the
timezone's offsets for the range worked out here (``_local_date``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, select

from app.accounts.models import User
from app.core.errors import InvalidInput
from app.extensions import db
from app.pickups.models import DiscrepancyKind, FailureReason, Grade, ItemDiscrepancy, Pickup, PickupEvent, PickupItem, PickupStatus
from app.pickups.services import day_bounds
from app.receiving.models import Disposition, ItemDisposition

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
    """Counts for the pickups whose window starts between ``start`` and ``end`` (inclusive, hub local days)."""
    check_range(start, end)
    first, _ = day_bounds(start, tz_name)
    _, last = day_bounds(end, tz_name)
    report = Report(start=start, end=end, hub_id=hub_id)

    def in_range(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        query = query.where(Pickup.window_start >= first, Pickup.window_start < last)
        return query.where(Pickup.hub_id == hub_id) if hub_id is not None else query

    status_rows = db.session.execute(in_range(select(Pickup.status, func.count()).group_by(Pickup.status))).all()
    statuses: dict[PickupStatus, int] = {status: count for status, count in status_rows}
    report.by_status = {status: statuses.get(status, 0) for status in PickupStatus}

    grades = db.session.execute(
        in_range(
            select(PickupItem.grade, func.coalesce(func.sum(PickupItem.collected_quantity), 0))
            .join(Pickup, PickupItem.pickup_id == Pickup.id)
            .where(PickupItem.collected_quantity > 0)
            .group_by(PickupItem.grade)
        )
    ).all()
    collected: dict[Grade | None, int] = {grade: count for grade, count in grades}
    report.by_grade = {grade: int(collected.get(grade, 0)) for grade in Grade}
    if collected.get(None):
        report.by_grade[None] = int(collected[None])

    failure_rows = db.session.execute(
        in_range(select(Pickup.failure_reason, func.count()).where(Pickup.status == PickupStatus.FAILED).group_by(Pickup.failure_reason))
    ).all()
    failures: dict[FailureReason | None, int] = {reason: count for reason, count in failure_rows}
    report.failures = {reason: failures.get(reason, 0) for reason in FailureReason}
    if failures.get(None):
        report.failures[None] = failures[None]

    def count_if(*statuses: PickupStatus) -> Any:
        return func.sum(case((Pickup.status.in_(statuses), 1), else_=0))

    rows = db.session.execute(
        in_range(
            select(
                User.id, User.name, func.count(Pickup.id),
                count_if(*DONE_STATUSES), count_if(PickupStatus.FAILED), count_if(PickupStatus.ASSIGNED),
            )
            .join(User, Pickup.driver_id == User.id)
            .where(Pickup.status != PickupStatus.CANCELLED)
            .group_by(User.id, User.name)
            .order_by(User.name)
        )
    ).all()
    report.drivers = [
        DriverLine(driver_id=i, name=name, planned=planned, done=int(done or 0), failed=int(failed or 0), open=int(open_ or 0))
        for i, name, planned, done, failed, open_ in rows
    ]
    _add_days(report, in_range, first, last, tz_name, count_if)
    _add_dispositions(report, in_range)
    _add_discrepancies(report, in_range)
    _add_attempts(report, in_range)
    return report


def _local_date(column: Any, first: datetime, last: datetime, tz_name: str) -> ColumnElement[Any]:
    """The hub-local date of a UTC timestamp column, as the database computes it for any row in [first, last).

    PostgreSQL knows time zones; SQLite only adds offsets, so the offset is
    chosen per stretch between daylight-saving changes (at most a few a year).
    """
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone(tz_name, column))
    tz = ZoneInfo(tz_name)
    stretches: list[tuple[datetime, int]] = []  # (from, offset seconds)
    moment = first
    while moment < last:
        offset = int(moment.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        if not stretches or stretches[-1][1] != offset:
            stretches.append((moment, offset))
        moment += timedelta(hours=1) if stretches and moment - stretches[-1][0] < timedelta(hours=1) else timedelta(hours=6)
    if len(stretches) == 1:
        return func.date(column, f"{stretches[0][1]:+d} seconds")
    whens = [(column < later, f"{offset:+d} seconds") for (_, offset), (later, _) in zip(stretches, stretches[1:], strict=False)]
    return func.date(column, case(*whens, else_=literal(f"{stretches[-1][1]:+d} seconds")))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _add_days(report: Report, in_range: Any, first: datetime, last: datetime, tz_name: str, count_if: Any) -> None:
    day = _local_date(Pickup.window_start, first, last, tz_name).label("day")
    rows = db.session.execute(
        in_range(
            select(
                day, func.count(), count_if(PickupStatus.COLLECTED, PickupStatus.RECEIVED),
                count_if(PickupStatus.PARTIALLY_COLLECTED), count_if(PickupStatus.FAILED),
            )
            .where(Pickup.status != PickupStatus.CANCELLED)
            .group_by(day)
        )
    ).all()
    lines = {report.start + timedelta(days=n): DayLine(report.start + timedelta(days=n)) for n in range((report.end - report.start).days + 1)}
    for when, planned, collected, partly, failed in rows:
        line = lines.get(_as_date(when))
        if line is not None:
            line.planned, line.collected, line.partly, line.failed = planned, int(collected or 0), int(partly or 0), int(failed or 0)
    recovered = db.session.execute(
        in_range(
            select(day, func.coalesce(func.sum(ItemDisposition.recovered_value), 0), func.coalesce(func.sum(ItemDisposition.kept_from_landfill_kg), 0))
            .select_from(ItemDisposition)
            .join(PickupItem, ItemDisposition.pickup_item_id == PickupItem.id)
            .join(Pickup, PickupItem.pickup_id == Pickup.id)
            .group_by(day)
        )
    ).all()
    for when, money, kept in recovered:
        line = lines.get(_as_date(when))
        if line is not None:
            line.recovered_value, line.kept_kg = Decimal(str(money)), Decimal(str(kept))
    report.days = list(lines.values())


def _add_dispositions(report: Report, in_range: Any) -> None:
    rows = db.session.execute(
        in_range(
            select(
                ItemDisposition.disposition, func.count(), func.coalesce(func.sum(ItemDisposition.quantity), 0),
                func.coalesce(func.sum(ItemDisposition.recovered_value), 0), func.coalesce(func.sum(ItemDisposition.kept_from_landfill_kg), 0),
                func.coalesce(func.sum(PickupItem.weight_kg * ItemDisposition.quantity), 0),
            )
            .select_from(ItemDisposition)
            .join(PickupItem, ItemDisposition.pickup_item_id == PickupItem.id)
            .join(Pickup, PickupItem.pickup_id == Pickup.id)
            .group_by(ItemDisposition.disposition)
        )
    ).all()
    found = {
        d: DispositionLine(d, n, int(q), Decimal(str(money)).quantize(Decimal("0.01")), Decimal(str(kept)).quantize(Decimal("0.001")), Decimal(str(weight)).quantize(Decimal("0.001")))
        for d, n, q, money, kept, weight in rows
    }
    report.dispositions = {d: found.get(d, DispositionLine(d)) for d in Disposition}


def _add_discrepancies(report: Report, in_range: Any) -> None:
    rows = db.session.execute(
        in_range(
            select(ItemDiscrepancy.driver_id, User.name, ItemDiscrepancy.kind, func.count())
            .select_from(ItemDiscrepancy)
            .join(Pickup, ItemDiscrepancy.pickup_id == Pickup.id)
            .outerjoin(User, ItemDiscrepancy.driver_id == User.id)
            .group_by(ItemDiscrepancy.driver_id, User.name, ItemDiscrepancy.kind)
        )
    ).all()
    lines: dict[int | None, DiscrepancyLine] = {}
    for driver_id, name, kind, count in rows:
        line = lines.setdefault(driver_id, DiscrepancyLine(driver_id, name or "No driver"))
        line.counts[kind] = count
    report.discrepancies = sorted(lines.values(), key=lambda line: (-line.total, line.name))


def _seconds_between(earlier: Any, later: Any) -> Any:
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _add_attempts(report: Report, in_range: Any) -> None:
    failed_before = exists().where(PickupEvent.pickup_id == Pickup.id, PickupEvent.kind == "failed")
    done = Pickup.status.in_(DONE_STATUSES)
    attempted, first_time = db.session.execute(
        in_range(
            select(
                func.count(),
                func.coalesce(func.sum(case((and_(done, ~failed_before), 1), else_=0)), 0),
            ).where(Pickup.status.in_((*DONE_STATUSES, PickupStatus.FAILED)))
        )
    ).one()
    report.attempted, report.first_attempt_successes = attempted, int(first_time)
    when = func.coalesce(PickupEvent.device_time, PickupEvent.server_time)
    stops = (
        in_range(
            select(
                PickupEvent.pickup_id.label("pickup_id"),
                func.min(case((PickupEvent.kind == "arrived", when))).label("arrived"),
                func.max(case((PickupEvent.kind.in_(("collected", "partially_collected", "failed")), when))).label("done"),
            )
            .join(Pickup, PickupEvent.pickup_id == Pickup.id)
            .where(PickupEvent.kind.in_(("arrived", "collected", "partially_collected", "failed")))
            .group_by(PickupEvent.pickup_id)
        )
    ).subquery()
    average = db.session.scalar(
        select(func.avg(_seconds_between(stops.c.arrived, stops.c.done))).where(
            stops.c.arrived.is_not(None), stops.c.done.is_not(None), stops.c.done >= stops.c.arrived
        )
    )
    report.average_stop_seconds = float(average) if average is not None else None


def default_range(today: date) -> tuple[date, date]:
    """The last seven days up to today."""
    return today - timedelta(days=6), today
