"""The rollup equals a recount from the rows after any sequence of changes, and can be rebuilt and checked."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from app.accounts.services import create_user as create_account
from app.core.errors import DomainError
from app.extensions import db as _db
from app.hubs.services import create_hub
from app.pickups import collection
from app.pickups.models import FailureReason, Grade, Pickup, PickupStatus
from app.pickups.schemas import pickup_in_schema
from app.pickups.services import assign_pickup, cancel_pickup, create_pickup, unassign_pickup, update_pickup
from app.pickups.timeline import Evidence
from app.receiving import services as receiving
from app.receiving.models import Disposition
from app.reports.figures import build_report
from app.reports.models import ReportFact, ReportRollup
from app.reports.recount import recount_report
from app.reports.rollup import rows_that_differ
from tests.conftest import pickup_payload

FIRST_DAY = date(2030, 3, 30)  # the night Amsterdam moves its clocks forward falls in the range
DAYS = 3
ACTIONS = ("create", "assign", "unassign", "arrive", "collect", "fail", "receive", "cancel", "move")
# Which pickups an action is tried on (others would mostly be refused, and the sequence would go nowhere).
ELIGIBLE = {
    "assign": (PickupStatus.UNASSIGNED, PickupStatus.ASSIGNED),
    "unassign": (PickupStatus.ASSIGNED,),
    "arrive": (PickupStatus.ASSIGNED,),
    "collect": (PickupStatus.ASSIGNED, PickupStatus.FAILED),
    "fail": (PickupStatus.ASSIGNED,),
    "receive": (PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED),
}


@pytest.fixture
def world(app, db, hub, create_user):  # type: ignore[no-untyped-def]
    """Two hubs in two timezones, two drivers, a clerk per hub, a dispatcher."""
    app.config["PHOTO_REQUIRED_GRADES"] = []  # photos are another test's business
    west = create_hub(code="NYC", name="Hub New York", timezone="America/New_York", city="New York", country="US")
    _db.session.commit()
    clerks = {hub.id: create_user("hub"), west.id: create_account(email="clerk-ny@example.test", password="x" * 12, role="hub", name="NY clerk", hub_id=west.id)}
    _db.session.commit()
    return {"hubs": [hub, west], "drivers": [create_user("driver"), create_user("driver")], "clerks": clerks, "dispatcher": create_user("dispatcher")}


def _window(choice: int) -> dict[str, str]:
    # Late evening UTC: the same instant is one local day in Amsterdam and the day before in New York.
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(days=choice % DAYS, hours=20 + choice % 4, minutes=30)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


def _act(world: dict[str, Any], pickups: list[Pickup], action: str, pick: int, choice: int) -> None:
    drivers = world["drivers"]
    if action == "create" or not pickups:
        hub = world["hubs"][choice % 2]
        items = [
            {"sku": "PHN", "description": "Phone", "quantity": 1 + choice % 2, "reason": "Trade-in", "value": str(10 + choice), "weight_kg": "0.250"},
            {"sku": "CBL", "description": "Cable", "quantity": 2, "reason": "", "value": "3.50", "weight_kg": "0.050"},
        ]
        pickups.append(create_pickup(pickup_in_schema.load(pickup_payload(window=_window(choice), items=items, hub_id=hub.id)), actor=None))
        return
    candidates = [p for p in pickups if p.status in ELIGIBLE.get(action, tuple(PickupStatus))] or pickups
    pickup = candidates[pick % len(candidates)]
    driver = pickup.driver or drivers[choice % 2]
    evidence = Evidence(server_time=datetime.now(timezone.utc), device_time=pickup.window_start + timedelta(minutes=choice % 50))
    if action == "assign":
        assign_pickup(pickup, drivers[choice % 2], actor=world["dispatcher"])
    elif action == "unassign":
        unassign_pickup(pickup, actor=world["dispatcher"])
    elif action == "arrive":
        collection.record_arrival(pickup, driver=driver, evidence=evidence)
    elif action == "collect":
        grades = list(Grade)
        items = [collection.CollectedItem(item.id, (item.quantity + choice) % (item.quantity + 1), grades[(choice + n) % 4], None, ()) for n, item in enumerate(pickup.items)]
        collection.collect_pickup(pickup, items, driver=driver, evidence=evidence)
    elif action == "fail":
        collection.fail_pickup(pickup, list(FailureReason)[choice % len(FailureReason)], driver=driver, evidence=evidence)
    elif action == "receive":
        dispositions = [d for d in Disposition if d is not Disposition.RETURN_TO_CUSTOMER]
        lines = [
            receiving.ItemCheck(item.id, max((item.collected_quantity or 0) - choice % 2, 0), list(Grade)[(choice + n) % 4], dispositions[(choice + n) % len(dispositions)].value)
            for n, item in enumerate(pickup.items)
        ]
        extras = [receiving.ExtraCheck("EXT", "Charger", 1, Grade.B, "recycle", value=Decimal("5.00"), weight_kg=Decimal("0.100"))] if choice % 3 == 0 else []
        receiving.receive_pickup(pickup, lines, extras, actor=world["clerks"][pickup.hub_id])
    elif action == "cancel":
        cancel_pickup(pickup, "Customer changed their mind", actor=world["dispatcher"])
    elif action == "move":
        update_pickup(pickup, {"window": {"start": datetime.fromisoformat(_window(choice)["start"]), "end": datetime.fromisoformat(_window(choice)["end"])}}, actor=world["dispatcher"])


def _assert_rollup_is_a_recount(world: dict[str, Any]) -> None:
    assert rows_that_differ(_db.session()) == []
    _db.session.rollback()
    for hub in world["hubs"]:
        end = FIRST_DAY + timedelta(days=DAYS)
        kept = build_report(start=FIRST_DAY - timedelta(days=1), end=end, tz_name=hub.timezone, hub_id=hub.id)
        counted = recount_report(start=FIRST_DAY - timedelta(days=1), end=end, tz_name=hub.timezone, hub_id=hub.id)
        assert kept.average_stop_seconds == pytest.approx(counted.average_stop_seconds, abs=0.01)
        kept.average_stop_seconds = counted.average_stop_seconds
        assert kept == counted


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50), st.integers(0, 50), st.booleans()),
        min_size=1, max_size=40,
    )
)
def test_the_rollup_equals_a_recount_after_any_sequence_of_changes(world, steps):
    pickups: list[Pickup] = list(_db.session.scalars(select(Pickup).order_by(Pickup.id)))
    for action, pick, choice, commit in steps:
        try:
            _act(world, pickups, action, pick, choice)
        except DomainError:
            _db.session.rollback()  # a refused change leaves nothing behind, in the rollup neither
            pickups[:] = list(_db.session.scalars(select(Pickup).order_by(Pickup.id)))
            continue
        if commit:
            _db.session.commit()
    _db.session.commit()
    _assert_rollup_is_a_recount(world)


def test_a_rolled_back_change_leaves_the_rollup_alone(world):
    pickup = create_pickup(pickup_in_schema.load(pickup_payload(window=_window(1), hub_id=world["hubs"][0].id)), actor=None)
    _db.session.commit()
    before = _db.session.execute(select(ReportRollup.dimension, ReportRollup.key, ReportRollup.count)).all()
    cancel_pickup(pickup, "Not needed", actor=world["dispatcher"])
    _db.session.flush()
    _db.session.rollback()
    assert _db.session.execute(select(ReportRollup.dimension, ReportRollup.key, ReportRollup.count)).all() == before
    assert build_report(start=FIRST_DAY, end=FIRST_DAY + timedelta(days=DAYS), tz_name="Europe/Amsterdam").by_status[PickupStatus.UNASSIGNED] == 1


def test_the_cli_rebuilds_a_lost_rollup_and_check_finds_a_wrong_one(app, world):
    for choice in range(4):
        pickup = create_pickup(pickup_in_schema.load(pickup_payload(window=_window(choice), hub_id=world["hubs"][0].id)), actor=None)
        assign_pickup(pickup, world["drivers"][choice % 2], actor=None)
    _db.session.commit()
    expected = build_report(start=FIRST_DAY, end=FIRST_DAY + timedelta(days=DAYS), tz_name="Europe/Amsterdam")
    assert expected.by_status[PickupStatus.ASSIGNED] == 4
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reports", "check"]).exit_code == 0

    _db.session.execute(update(ReportRollup).values(count=ReportRollup.count + 1))
    _db.session.commit()
    wrong = runner.invoke(args=["reports", "check"])
    assert wrong.exit_code == 1 and "differ from the rows" in wrong.output

    _db.session.execute(delete(ReportRollup))
    _db.session.execute(delete(ReportFact))
    _db.session.commit()
    assert build_report(start=FIRST_DAY, end=FIRST_DAY + timedelta(days=DAYS), tz_name="Europe/Amsterdam").total == 0
    rebuilt = runner.invoke(args=["reports", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert build_report(start=FIRST_DAY, end=FIRST_DAY + timedelta(days=DAYS), tz_name="Europe/Amsterdam") == expected
    assert runner.invoke(args=["reports", "check"]).exit_code == 0
