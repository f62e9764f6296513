"""The report counted straight from the rows: the reference the rollup must always equal.

``figures.build_report`` reads the rollup (``rollup.py``); this module computes
the same ``Report`` with aggregate queries over pickups, items, decisions,
discrepancies and the timeline, as the report did before the rollup. Tests and
``flask reports check`` compare the two; nothing on a page uses it.

Days are the report timezone's local days here and each hub's own in the
rollup: the two agree whenever the pickups' hubs share the report's timezone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select

from app.accounts.models import User
from app.extensions import db
from app.pickups.models import FailureReason, Grade, ItemDiscrepancy, Pickup, PickupEvent, PickupItem, PickupStatus
from app.pickups.services import day_bounds
from app.receiving.models import Disposition, ItemDisposition
from app.reports.figures import DONE_STATUSES, DayLine, DiscrepancyLine, DispositionLine, DriverLine, Report, check_range
from app.reports.rollup import local_date, seconds_between


def recount_report(*, start: date, end: date, tz_name: str, hub_id: int | None = None) -> Report:
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


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _add_days(report: Report, in_range: Any, first: datetime, last: datetime, tz_name: str, count_if: Any) -> None:
    day = local_date(Pickup.window_start, first, last, tz_name, db.engine.dialect.name).label("day")
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
        select(func.avg(seconds_between(stops.c.arrived, stops.c.done, db.engine.dialect.name))).where(
            stops.c.arrived.is_not(None), stops.c.done.is_not(None), stops.c.done >= stops.c.arrived
        )
    )
    report.average_stop_seconds = float(average) if average is not None else None
