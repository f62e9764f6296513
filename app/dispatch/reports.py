"""The dispatcher's report for a range of days: what happened to the pickups planned in it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select

from app.accounts.models import User
from app.core.errors import InvalidInput
from app.extensions import db
from app.pickups.models import FailureReason, Grade, Pickup, PickupItem, PickupStatus
from app.pickups.services import day_bounds

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
class Report:
    start: date
    end: date
    hub_id: int | None
    by_status: dict[PickupStatus, int] = field(default_factory=dict)
    # Collected quantities by grade; None is "collected without a grade yet".
    by_grade: dict[Grade | None, int] = field(default_factory=dict)
    failures: dict[FailureReason | None, int] = field(default_factory=dict)
    drivers: list[DriverLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

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
    return report


def default_range(today: date) -> tuple[date, date]:
    """The last seven days up to today."""
    return today - timedelta(days=6), today
