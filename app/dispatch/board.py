"""The board's filters and counts, shared by the page and its CSV export."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from app.accounts.models import User
from app.extensions import db
from app.hubs.models import Hub
from app.pickups.models import Pickup, PickupStatus
from app.pickups.services import pickups_query

MAX_SEARCH = 100


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows. ``day`` None means every day."""

    day: date | None
    statuses: tuple[PickupStatus, ...] = ()
    driver_id: int | None = None
    hub_id: int | None = None
    search: str = ""
    tz_name: str = "UTC"
    problems: tuple[str, ...] = field(default=(), compare=False)

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """URL parameters for this filter, with ``changes`` applied (for links and the export)."""
        current = replace(self, **changes) if changes else self
        args: dict[str, Any] = {"date": current.day.isoformat() if current.day else ""}
        if current.statuses:
            args["status"] = [s.value for s in current.statuses]
        if current.driver_id is not None:
            args["driver_id"] = current.driver_id
        if current.hub_id is not None:
            args["hub_id"] = current.hub_id
        if current.search:
            args["q"] = current.search
        return args


def timezone_for(viewer: User, hubs: Sequence[Hub], hub_id: int | None = None) -> str:
    """The timezone "today" and local times mean: the chosen hub's, else the viewer's hub's, else the first hub's."""
    by_id = {hub.id: hub for hub in hubs}
    for candidate in (hub_id, viewer.hub_id):
        if candidate in by_id:
            return by_id[candidate].timezone
    return hubs[0].timezone if hubs else "UTC"


def today_in(tz_name: str) -> date:
    return datetime.now(ZoneInfo(tz_name)).date()


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def read_board_filter(args: Mapping[str, Any], *, viewer: User, hubs: Sequence[Hub]) -> BoardFilter:
    """Filters from the board's query string; unreadable values are dropped and named in ``problems``.

    No ``date`` parameter at all means today in the hub's timezone; an empty one means every day.
    """
    getlist = getattr(args, "getlist", lambda key: [args[key]] if key in args else [])
    problems: list[str] = []
    hub_id = _int_or_none(args.get("hub_id"))
    tz_name = timezone_for(viewer, hubs, hub_id)

    day: date | None
    if "date" not in args:
        day = today_in(tz_name)
    elif not args["date"].strip():
        day = None
    else:
        try:
            day = date.fromisoformat(args["date"].strip())
        except ValueError:
            problems.append(f"“{args['date']}” is not a date; showing every day.")
            day = None

    known = {s.value: s for s in PickupStatus}
    statuses = []
    for value in getlist("status"):
        if value in known:
            statuses.append(known[value])
        elif value:
            problems.append(f"There is no status “{value}”.")
    search = (args.get("q") or "").strip()
    if len(search) > MAX_SEARCH:
        problems.append(f"The search was cut to {MAX_SEARCH} characters.")
        search = search[:MAX_SEARCH]
    return BoardFilter(
        day=day,
        statuses=tuple(dict.fromkeys(statuses)),
        driver_id=_int_or_none(args.get("driver_id")),
        hub_id=hub_id,
        search=search,
        tz_name=tz_name,
        problems=tuple(problems),
    )


def board_query(viewer: User, board: BoardFilter) -> Select[Pickup]:
    """The pickups the board shows, in route order."""
    return pickups_query(
        viewer,
        day=board.day,
        statuses=board.statuses,
        driver_id=board.driver_id,
        hub_id=board.hub_id,
        search=board.search or None,
        tz_name=board.tz_name,
    )


def count_by_status(viewer: User, board: BoardFilter) -> dict[PickupStatus, int]:
    """How many pickups each status has under the board's other filters (the status filter left out)."""
    every_status = board_query(viewer, replace(board, statuses=())).order_by(None).subquery()
    rows = db.session.execute(select(every_status.c.status, func.count()).group_by(every_status.c.status)).all()
    counts: dict[PickupStatus, int] = {status: count for status, count in rows}
    return {status: counts.get(status, 0) for status in PickupStatus}
