"""Keeping the report's rollup true, in the same transaction as every change it counts.

What changed is learnt two ways, both cheap:
- the pickups' and receiving's domain events (``subscribers.py``): they also
  cover facts written as plain inserts that the ORM never sees (timeline rows:
  an arrival reported after the collection changes the stop time);
- the ORM's flush: a pickup, item, decision or discrepancy written by any code
  path, including ones that announce nothing (``change_status`` on its own).

Both only mark pickups. Just before the commit, each marked pickup's facts are
counted again from its rows (a handful of ``INSERT … SELECT`` for all of them at
once); the difference to what it counted before is added to the rollup with an
upsert (``count = count + excluded.count``), in key order. On PostgreSQL all of
that is one statement (data-modifying ``WITH``): a sync push pays one round trip
for its recount, not fourteen. Adding differences,
rather than recounting a whole day, keeps two concurrent transactions on
PostgreSQL from overwriting each other's sums; the marked pickups are locked
first, so two changes of one pickup take turns.

``rebuild`` counts everything from the rows (``flask reports rebuild``, the
migration's backfill); ``rows_that_differ`` compares the rollup with a recount.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.core.transactions import before_commit, transaction_buffer
from app.hubs.models import Hub
from app.pickups.locks import lock_pickups
from app.pickups.models import ItemDiscrepancy, Pickup, PickupEvent, PickupItem, PickupStatus
from app.receiving.models import ItemDisposition
from app.reports.models import (
    ATTEMPT,
    DISCREPANCY,
    DISPOSITION,
    FAILURE,
    GRADE,
    KEYS,
    MEASURES,
    NO_DRIVER,
    STATUS,
    STOP,
    ReportFact,
    ReportRollup,
)

DONE_STATUSES = (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED, PickupStatus.RECEIVED)
CHUNK = 2000  # pickup ids per IN (…): well below SQLite's and PostgreSQL's parameter limits
FACT_COLUMNS = ("pickup_id", "day", "hub_id", "driver_id", "dimension", "key", *MEASURES)

_MARKED = transaction_buffer("backhaul.report_rollup")

Key = tuple[Any, ...]


@dataclass
class _Marked:
    pickups: list[Pickup] = field(default_factory=list)  # new ones have their id only after the flush
    pickup_ids: set[int] = field(default_factory=set)
    item_ids: set[int] = field(default_factory=set)  # decisions name their item, not their pickup


def _marked(session: Session) -> _Marked:
    marked = session.info.get(_MARKED)
    if marked is None:
        marked = session.info[_MARKED] = _Marked()
        before_commit("report-rollup", refresh, session=session)
    return marked


def mark_pickups(session: Session, pickups: Iterable[Pickup]) -> None:
    """These pickups' figures may have changed: count them again before the commit."""
    _marked(session).pickups.extend(pickups)


@event.listens_for(Session, "after_flush")
def _mark_flushed(session: Session, flush_context: Any) -> None:
    # The session still lists what this flush wrote (new, changed, deleted objects).
    touched = [obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, Pickup | PickupItem | ItemDisposition | ItemDiscrepancy)]
    if not touched:
        return
    marked = _marked(session)
    for obj in touched:
        if isinstance(obj, Pickup):
            marked.pickups.append(obj)
        elif isinstance(obj, PickupItem | ItemDiscrepancy):
            if obj.pickup_id is not None:
                marked.pickup_ids.add(obj.pickup_id)
        elif obj.pickup_item_id is not None:
            marked.item_ids.add(obj.pickup_item_id)


def refresh(session: Session) -> None:
    """Before the commit: count the marked pickups again and add the differences to the rollup."""
    session.flush()  # every fact in the database (the timeline is written on flush)
    marked: _Marked | None = session.info.pop(_MARKED, None)
    if marked is None:
        return
    ids = set(marked.pickup_ids)
    ids.update(p.id for p in marked.pickups if p.id is not None)
    items = sorted(marked.item_ids)
    for start in range(0, len(items), CHUNK):
        ids.update(session.scalars(select(PickupItem.pickup_id).where(PickupItem.id.in_(items[start : start + CHUNK]))))
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        _recount(session, ordered[start : start + CHUNK])


def _recount(session: Session, ids: Sequence[int]) -> None:
    # Another transaction changing one of these pickups waits here (or we wait for it), so the facts
    # read below are the ones it left, never ones it is replacing. A sync push locked its pickups already.
    lock_pickups(session, ids)
    if session.get_bind().dialect.name == "postgresql":
        _recount_in_one_statement(session, ids)
        return
    scope = ReportFact.pickup_id.in_(ids)
    before = _sums(session, scope)
    session.execute(delete(ReportFact).where(scope))
    insert_facts(session, Pickup.id.in_(ids))
    after = _sums(session, scope)
    differences = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, (0,) * len(MEASURES)), after.get(key, (0,) * len(MEASURES))
        change = tuple(n - o for n, o in zip(new, old, strict=True))
        if any(change):
            differences.append({**dict(zip(KEYS, key, strict=True)), **dict(zip(MEASURES, change, strict=True))})
    if differences:
        _add_to_rollup(session, differences)


def _recount_in_one_statement(session: Session, ids: Sequence[int]) -> None:
    """PostgreSQL: the same steps as the SQLite path, as one statement (one round trip instead of a dozen)."""
    global _RECOUNT
    if _RECOUNT is None:
        _RECOUNT = _recount_statement()
    # On the connection: through the session, a parameter dict would make the ORM read it as rows to insert.
    session.connection().execute(_RECOUNT, {"ids": list(ids)})


_RECOUNT: Any = None  # built on first use and kept: building it cost more CPU than running it


def _recount_statement() -> Any:
    """Old facts deleted (``RETURNING`` them), new ones inserted from the rows (``RETURNING`` them), and new
    minus old added to the rollup in key order, for the pickups whose ids are bound as ``ids``.

    The parts of one statement share its snapshot: the insert reads the rows as this
    transaction left them, unaffected by the delete beside it. The day is each pickup's
    hub's local date, its time zone read from the hub's row (one query less than per hub).
    """
    ids: Any = bindparam("ids", expanding=True)
    columns = [*KEYS, *MEASURES]
    old = delete(ReportFact).where(ReportFact.pickup_id.in_(ids)).returning(*[getattr(ReportFact, c) for c in columns]).cte("old_facts")
    hub_zone = select(Hub.timezone).where(Hub.id == Pickup.hub_id).scalar_subquery()
    day = func.date(func.timezone(hub_zone, Pickup.window_start))
    counted = union_all(*_fact_queries(day, Pickup.id.in_(ids), "postgresql"))
    new = (
        insert(ReportFact)
        .from_select(list(FACT_COLUMNS), counted)
        .returning(*[getattr(ReportFact, c) for c in columns])
        .cte("new_facts")
    )
    both = union_all(
        select(*[new.c[c] for c in columns]),
        select(*[old.c[c] for c in KEYS], *[-old.c[c] for c in MEASURES]),
    ).subquery("both_facts")
    keys = [both.c[c] for c in KEYS]
    sums = [func.sum(both.c[c]) for c in MEASURES]
    differences = select(*keys, *sums).group_by(*keys).having(or_(*[total != 0 for total in sums])).order_by(*keys)
    statement = postgresql_insert(ReportRollup).from_select(columns, differences)
    statement = statement.on_conflict_do_update(
        index_elements=list(KEYS),
        set_={name: getattr(ReportRollup, name) + getattr(statement.excluded, name) for name in MEASURES},
    )
    return statement.add_cte(old, new)


def _sums(session: Session, scope: ColumnElement[bool]) -> dict[Key, tuple[int, ...]]:
    columns = [getattr(ReportFact, name) for name in KEYS]
    rows = session.execute(
        select(*columns, *[func.sum(getattr(ReportFact, name)) for name in MEASURES]).where(scope).group_by(*columns)
    ).all()
    return {tuple(row[: len(KEYS)]): tuple(int(v or 0) for v in row[len(KEYS) :]) for row in rows}


def _add_to_rollup(session: Session, rows: list[dict[str, Any]]) -> None:
    upsert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = upsert(ReportRollup)
    statement = statement.on_conflict_do_update(
        index_elements=list(KEYS),
        set_={name: getattr(ReportRollup, name) + getattr(statement.excluded, name) for name in MEASURES},
    )
    session.execute(statement, rows)


# --- counting from the rows -------------------------------------------------------------------


def local_date(column: Any, first: datetime, last: datetime, tz_name: str, dialect: str) -> ColumnElement[Any]:
    """The local date of a UTC timestamp column in ``tz_name``, for any row in [first, last].

    PostgreSQL knows time zones; SQLite only adds offsets, so the offset is
    chosen per stretch between daylight-saving changes (found hour by hour;
    zones change on the hour, or a fraction of one that never moves a date).
    """
    if dialect == "postgresql":
        return func.date(func.timezone(tz_name, column))
    tz = ZoneInfo(tz_name)
    stretches: list[tuple[datetime, int]] = []  # (from, offset seconds)
    moment = first.replace(minute=0, second=0, microsecond=0)
    while moment <= last + timedelta(hours=1):
        offset = int(moment.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        if not stretches or stretches[-1][1] != offset:
            stretches.append((moment, offset))
        moment += timedelta(hours=1)
    if len(stretches) == 1:
        return func.date(column, f"{stretches[0][1]:+d} seconds")
    whens = [(column < later, f"{offset:+d} seconds") for (_, offset), (later, _) in zip(stretches, stretches[1:], strict=False)]
    return func.date(column, case(*whens, else_=literal(f"{stretches[-1][1]:+d} seconds")))


def seconds_between(earlier: Any, later: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _text(value: str) -> Any:
    return literal(value, String)


def _int(value: int) -> Any:
    return literal(value, BigInteger)


def _whole(expression: Any) -> Any:
    return cast(func.round(expression), BigInteger)


def _fact_queries(day: Any, scope: ColumnElement[bool], dialect: str) -> list[Select[Any]]:
    """One query per dimension, each giving rows in ``FACT_COLUMNS`` order."""
    driver = func.coalesce(Pickup.driver_id, NO_DRIVER)
    head = (Pickup.id, day, Pickup.hub_id)
    pickup_keys = (Pickup.id, Pickup.window_start, Pickup.hub_id, Pickup.driver_id)
    nothing = (_int(0),) * 5

    def one_each(dimension: str, key: Any, *where: Any) -> Select[Any]:
        return select(*head, driver, _text(dimension), key, _int(1), *nothing).where(scope, *where)

    failed_before = exists().where(PickupEvent.pickup_id == Pickup.id, PickupEvent.kind == "failed")
    when = func.coalesce(PickupEvent.device_time, PickupEvent.server_time)
    stops = (
        select(
            PickupEvent.pickup_id.label("pickup_id"),
            func.min(case((PickupEvent.kind == "arrived", when))).label("arrived"),
            func.max(case((PickupEvent.kind.in_(("collected", "partially_collected", "failed")), when))).label("done"),
        )
        .join(Pickup, PickupEvent.pickup_id == Pickup.id)
        .where(scope, PickupEvent.kind.in_(("arrived", "collected", "partially_collected", "failed")))
        .group_by(PickupEvent.pickup_id)
        .subquery()
    )
    stop_ms = _whole(seconds_between(stops.c.arrived, stops.c.done, dialect) * 1000)
    return [
        one_each(STATUS, cast(Pickup.status, String)),
        one_each(FAILURE, func.coalesce(cast(Pickup.failure_reason, String), ""), Pickup.status == PickupStatus.FAILED),
        one_each(ATTEMPT, _text("attempted"), Pickup.status.in_((*DONE_STATUSES, PickupStatus.FAILED))),
        one_each(ATTEMPT, _text("first_time"), Pickup.status.in_(DONE_STATUSES), ~failed_before),
        select(
            *head, driver, _text(GRADE), func.coalesce(cast(PickupItem.grade, String), ""), func.count(),
            func.sum(PickupItem.collected_quantity), *(_int(0),) * 4,
        )
        .select_from(PickupItem)
        .join(Pickup, PickupItem.pickup_id == Pickup.id)
        .where(scope, PickupItem.collected_quantity > 0)
        .group_by(*pickup_keys, PickupItem.grade),
        select(
            *head, driver, _text(DISPOSITION), cast(ItemDisposition.disposition, String), func.count(),
            func.coalesce(func.sum(ItemDisposition.quantity), 0),
            func.coalesce(func.sum(_whole(ItemDisposition.recovered_value * 100)), 0),
            func.coalesce(func.sum(_whole(ItemDisposition.kept_from_landfill_kg * 1000)), 0),
            func.coalesce(func.sum(_whole(PickupItem.weight_kg * ItemDisposition.quantity * 1000)), 0),
            _int(0),
        )
        .select_from(ItemDisposition)
        .join(PickupItem, ItemDisposition.pickup_item_id == PickupItem.id)
        .join(Pickup, PickupItem.pickup_id == Pickup.id)
        .where(scope)
        .group_by(*pickup_keys, ItemDisposition.disposition),
        select(
            *head, func.coalesce(ItemDiscrepancy.driver_id, NO_DRIVER), _text(DISCREPANCY), cast(ItemDiscrepancy.kind, String),
            func.count(), *nothing,
        )
        .select_from(ItemDiscrepancy)
        .join(Pickup, ItemDiscrepancy.pickup_id == Pickup.id)
        .where(scope)
        .group_by(*pickup_keys, ItemDiscrepancy.driver_id, ItemDiscrepancy.kind),
        select(*head, driver, _text(STOP), _text(""), _int(1), *(_int(0),) * 4, stop_ms)
        .select_from(Pickup)
        .join(stops, stops.c.pickup_id == Pickup.id)
        .where(scope, stops.c.arrived.is_not(None), stops.c.done.is_not(None), stops.c.done >= stops.c.arrived),
    ]


def insert_facts(session: Session, scope: ColumnElement[bool]) -> None:
    """Write the facts of the pickups in ``scope``, hub by hub (each hub counts its own local days)."""
    dialect = session.get_bind().dialect.name
    hubs = session.execute(
        select(Pickup.hub_id, Hub.timezone, func.min(Pickup.window_start), func.max(Pickup.window_start))
        .join(Hub, Pickup.hub_id == Hub.id)
        .where(scope)
        .group_by(Pickup.hub_id, Hub.timezone)
    ).all()
    for hub_id, tz_name, first, last in hubs:
        day = local_date(Pickup.window_start, first, last, tz_name, dialect)
        for query in _fact_queries(day, and_(scope, Pickup.hub_id == hub_id), dialect):
            session.execute(insert(ReportFact).from_select(list(FACT_COLUMNS), query))


def rebuild(session: Session) -> int:
    """Count every pickup from its rows again: facts and rollup replaced. Returns the rollup's row count."""
    session.execute(delete(ReportRollup))
    session.execute(delete(ReportFact))
    insert_facts(session, true())
    columns = [getattr(ReportFact, name) for name in KEYS]
    session.execute(
        insert(ReportRollup).from_select(
            [*KEYS, *MEASURES],
            select(*columns, *[func.sum(getattr(ReportFact, name)) for name in MEASURES]).where(true()).group_by(*columns),
        )
    )
    return int(session.scalar(select(func.count()).select_from(ReportRollup)) or 0)


def rows_that_differ(session: Session) -> list[tuple[Key, tuple[int, ...], tuple[int, ...]]]:
    """(key, rollup's sums, a recount's sums) wherever the two disagree; empty when the rollup is true.

    The recount is written as facts in this transaction and rolled back by the caller.
    """
    columns = [getattr(ReportRollup, name) for name in KEYS]
    kept = {
        tuple(row[: len(KEYS)]): tuple(int(v) for v in row[len(KEYS) :])
        for row in session.execute(select(*columns, *[getattr(ReportRollup, name) for name in MEASURES]))
    }
    session.execute(delete(ReportFact))
    insert_facts(session, true())
    counted = _sums(session, true())
    zero = (0,) * len(MEASURES)
    return [
        (key, kept.get(key, zero), counted.get(key, zero))
        for key in sorted(kept.keys() | counted.keys(), key=repr)
        if kept.get(key, zero) != counted.get(key, zero)
    ]

