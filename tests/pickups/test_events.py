"""Every way of changing a pickup announces its domain event exactly once, and a rollback takes it back.

For each event: each way a person or a system can cause it — the console's
forms, the JSON API, the CSV import, a sync mutation, the customer's page, the
hub's receipt — is tried through HTTP, and the event is counted as the
subscribers see it during the transaction and after the commit. Then the same
change is made and rolled back: nothing reaches the after-commit subscribers,
and what an in-transaction subscriber wrote (sync's tombstones) is gone too.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.pickups import events
from app.pickups.models import FailureReason, Grade, Pickup, PickupStatus
from app.sync.models import SyncTombstone
from tests.dispatch.conftest import ConsoleClient, import_row, make_csv
from tests.labels.tools import csrf_from
from tests.sync.conftest import Phone, collect_all


class Announcements:
    """What the subscribers heard: during transactions, and after commits."""

    def __init__(self) -> None:
        self.during: list[events.DomainEvent] = []
        self.committed: list[events.CommittedEvent] = []

    def heard(self, sender: object, events: list[events.DomainEvent]) -> None:
        self.during.extend(events)

    def heard_committed(self, sender: object, events: list[events.CommittedEvent]) -> None:
        self.committed.extend(events)

    def count(self, kind: type[events.DomainEvent]) -> int:
        """How many events of ``kind`` subscribers heard during transactions."""
        return len([e for e in self.during if type(e) is kind])

    def of(self, kind: type[events.DomainEvent]) -> list[int]:
        """The pickups that events of ``kind`` were committed for, as heard after the commits."""
        return [e.pickup_id for e in self.committed if e.name == kind.__name__]

    def data(self, kind: type[events.DomainEvent]) -> list[dict[str, Any]]:
        return [e.data for e in self.committed if e.name == kind.__name__]

    def clear(self) -> None:
        self.during.clear()
        self.committed.clear()


@pytest.fixture
def announced(app) -> Iterator[Announcements]:  # type: ignore[no-untyped-def]
    heard = Announcements()
    for signal in events.SIGNALS.values():
        signal.connect(heard.heard)
    events.pickup_events_committed.connect(heard.heard_committed)
    yield heard
    for signal in events.SIGNALS.values():
        signal.disconnect(heard.heard)
    events.pickup_events_committed.disconnect(heard.heard_committed)


@pytest.fixture
def console(app, dispatcher) -> ConsoleClient:  # type: ignore[no-untyped-def]
    client = ConsoleClient(app.test_client())
    client.login(dispatcher.email)
    return client


@pytest.fixture
def api(api_client, dispatcher):  # type: ignore[no-untyped-def]
    return api_client(dispatcher)


@pytest.fixture
def phone(api_client, driver) -> Phone:  # type: ignore[no-untyped-def]
    return Phone(api_client(driver))


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "reference": "RMA-FORM-1", "customer_name": "Sanne de Vries", "line1": "Prinsengracht 263", "city": "Amsterdam",
        "postcode": "1016 GV", "country": "NL", "day": "2030-03-04", "start_time": "09:00", "end_time": "11:00",
        "items-0-sku": "PHN-IP13", "items-0-description": "iPhone 13", "items-0-quantity": "1",
    }  # fmt: skip
    data.update(overrides)
    return data


def _only(heard: Announcements, kind: type[events.DomainEvent], pickup_id: int) -> None:
    """``kind`` was announced once, for this pickup: heard once during the transaction and once after its commit."""
    assert heard.count(kind) == 1
    assert heard.of(kind) == [pickup_id]


def _newest(db: Any) -> Pickup:
    db.session.expire_all()
    return db.session.scalars(select(Pickup).order_by(Pickup.id.desc()).limit(1)).one()


# --- created ---------------------------------------------------------------------------------------


def test_created_by_the_console_form(console, announced, db):
    response = console.post("/dispatch/pickups/new", _form())
    assert response.status_code == 303, response.get_data(as_text=True)
    _only(announced, events.PickupCreated, _newest(db).id)


def test_created_by_the_api(api, announced, db):
    from tests.conftest import pickup_payload

    response = api.post("/api/v1/pickups", json=pickup_payload())
    assert response.status_code == 201, response.json
    _only(announced, events.PickupCreated, response.json["id"])
    assert announced.data(events.PickupCreated)[0]["source"] == "created"


def test_created_by_the_csv_import_once_per_pickup(api, announced, hub, db):
    csv = make_csv([import_row(reference="RMA-A"), import_row(reference="RMA-A", sku="CBL"), import_row(reference="RMA-B")])
    response = api.post("/api/v1/pickups/import", data={"file": (io.BytesIO(csv.encode()), "r.csv")})
    assert response.status_code == 201, response.json
    ids = sorted(response.json["pickup_ids"])
    assert announced.count(events.PickupCreated) == 2
    assert sorted(announced.of(events.PickupCreated)) == ids
    assert {d["source"] for d in announced.data(events.PickupCreated)} == {"imported"}


# --- assigned, unassigned, reassigned -------------------------------------------------------------


def test_assigned_by_the_console_form(console, create_pickup, driver, announced):
    pickup = create_pickup()
    announced.clear()
    assert console.post(f"/dispatch/pickups/{pickup.id}/assign", {"driver_id": str(driver.id)}).status_code == 303
    _only(announced, events.PickupAssigned, pickup.id)
    assert announced.data(events.PickupAssigned) == [{"actor_id": announced.data(events.PickupAssigned)[0]["actor_id"], "driver_id": driver.id, "previous_driver_id": None}]


def test_assigned_by_the_api_and_reassigned_leaves_one_tombstone(api, create_pickup, driver, other_driver, announced, db):
    pickup = create_pickup(driver=driver)
    announced.clear()
    response = api.post(f"/api/v1/pickups/{pickup.id}/assign", json={"driver_id": other_driver.id})
    assert response.status_code == 200, response.json
    _only(announced, events.PickupAssigned, pickup.id)
    assert announced.data(events.PickupAssigned)[0]["previous_driver_id"] == driver.id
    tombstones = db.session.scalars(select(SyncTombstone).where(SyncTombstone.pickup_id == pickup.id)).all()
    assert [(t.driver_id, t.reason) for t in tombstones] == [(driver.id, "reassigned")]


def test_assigned_by_the_csv_import(api, driver, announced, hub):
    csv = make_csv([import_row(reference="RMA-D", driver_email=driver.email), import_row(reference="RMA-E")])
    response = api.post("/api/v1/pickups/import", data={"file": (io.BytesIO(csv.encode()), "r.csv")})
    assert response.status_code == 201, response.json
    assert announced.count(events.PickupAssigned) == 1 and len(announced.of(events.PickupAssigned)) == 1


def test_unassigned_by_the_console_and_the_api(console, api, create_pickup, driver, announced):
    first, second = create_pickup(driver=driver), create_pickup(driver=driver)
    announced.clear()
    assert console.post(f"/dispatch/pickups/{first.id}/assign", {"driver_id": ""}).status_code == 303
    _only(announced, events.PickupUnassigned, first.id)
    announced.clear()
    assert api.post(f"/api/v1/pickups/{second.id}/assign", json={"driver_id": None}).status_code == 200
    _only(announced, events.PickupUnassigned, second.id)


# --- edited, cancelled, route ordered, access notes ----------------------------------------------------


def test_edited_by_the_console_form_and_the_api(console, api, create_pickup, announced, db):
    pickup = create_pickup()
    announced.clear()
    from app.dispatch.forms import PickupForm

    form = PickupForm.from_pickup(pickup)
    data = {**form.values, "notes": "Gate code 1234"}
    data.update({f"items-{i}-{k}": v for i, row in enumerate(form.items) for k, v in row.items()})
    assert console.post(f"/dispatch/pickups/{pickup.id}/edit", data).status_code == 303
    _only(announced, events.PickupEdited, pickup.id)
    announced.clear()
    assert api.patch(f"/api/v1/pickups/{pickup.id}", json={"notes": "Ring twice"}).status_code == 200
    _only(announced, events.PickupEdited, pickup.id)


def test_cancelled_by_the_console_the_api_and_the_customer(console, api, client, create_pickup, announced, db):
    from app.labels.services import customer_url

    by_console, by_api, by_customer = create_pickup(), create_pickup(), create_pickup()
    announced.clear()
    assert console.post(f"/dispatch/pickups/{by_console.id}/cancel", {"reason": "Kept it"}).status_code == 303
    _only(announced, events.PickupCancelled, by_console.id)
    announced.clear()
    assert api.post(f"/api/v1/pickups/{by_api.id}/cancel", json={"reason": "Duplicate"}).status_code == 200
    _only(announced, events.PickupCancelled, by_api.id)
    announced.clear()
    link = customer_url(by_customer).split("/r/", 1)[1]
    page = client.get(f"/r/{link}/cancel")
    assert client.post(f"/r/{link}/cancel", data={"csrf_token": csrf_from(page.text), "confirm": "yes", "reason": ""}).status_code in (302, 303)
    _only(announced, events.PickupCancelled, by_customer.id)
    assert announced.data(events.PickupCancelled)[0]["by_customer"] is True


def test_access_notes_changed_by_the_customer(client, create_pickup, announced):
    from app.labels.services import customer_url

    pickup = create_pickup()
    announced.clear()
    link = customer_url(pickup).split("/r/", 1)[1]
    page = client.get(f"/r/{link}")
    response = client.post(f"/r/{link}/notes", data={"csrf_token": csrf_from(page.text), "access_notes": "Gate 4411"})
    assert response.status_code in (302, 303)
    _only(announced, events.AccessNotesChanged, pickup.id)


def test_route_ordered_by_the_console(console, create_pickup, driver, announced):
    from zoneinfo import ZoneInfo

    first, second = create_pickup(driver=driver), create_pickup(driver=driver)
    day = first.window_start.astimezone(ZoneInfo(first.hub.timezone)).date().isoformat()
    announced.clear()
    response = console.post(f"/dispatch/routes/{driver.id}/order", {"pickup_ids": f"{second.id},{first.id}", "date": day})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert announced.count(events.RouteOrdered) == 2
    assert sorted(announced.of(events.RouteOrdered)) == sorted([first.id, second.id])


# --- the driver's actions, through sync ------------------------------------------------------------


def test_each_driver_action_announces_its_event_once(phone, create_pickup, driver, announced, db):
    collected, failed = create_pickup(driver=driver), create_pickup(driver=driver)
    announced.clear()
    phone.push(
        phone.mutation("arrive", pickup_id=collected.id),
        phone.mutation("scan_label", pickup_id=collected.id, code=collected.label_code),
        phone.mutation("collect_items", pickup_id=collected.id, items=collect_all(collected)),
        phone.mutation("note", pickup_id=collected.id, text="Left by the gate"),
        phone.mutation("fail_pickup", pickup_id=failed.id, reason="not_home"),
        # A second collection cannot apply: the driver's record is kept as a field conflict.
        phone.mutation("collect_items", pickup_id=collected.id, items=collect_all(collected)),
    )
    _only(announced, events.DriverArrived, collected.id)
    _only(announced, events.LabelScanned, collected.id)
    _only(announced, events.PickupCollected, collected.id)
    _only(announced, events.DriverNoted, collected.id)
    _only(announced, events.PickupFailed, failed.id)
    _only(announced, events.FieldConflictRecorded, collected.id)
    assert announced.data(events.PickupCollected)[0]["status"] == PickupStatus.COLLECTED.value


def test_a_failed_pickup_collected_later_is_announced_as_reopened(phone, create_pickup, driver, announced):
    pickup = create_pickup(driver=driver)
    phone.push(phone.mutation("fail_pickup", pickup_id=pickup.id, reason="not_home"))
    announced.clear()
    phone.push(phone.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup)))
    _only(announced, events.PickupCollected, pickup.id)
    assert announced.data(events.PickupCollected)[0]["reopened"] is True


# --- the hub ----------------------------------------------------------------------------------------


def test_received_by_the_hub_page(api_client, create_user, create_pickup, driver, phone, announced):
    pickup = create_pickup(driver=driver)
    phone.push(phone.mutation("collect_items", pickup_id=pickup.id, items=collect_all(pickup)))
    announced.clear()
    clerk = api_client(create_user("hub")).raw
    page = clerk.get(f"/hub/?code={pickup.label_code}")
    data = {"csrf_token": csrf_from(page.text), "version": str(_db.session.get(Pickup, pickup.id).version)}
    data.update({f"disposition-{item.id}": "restock" for item in pickup.items})
    assert clerk.post(f"/hub/pickups/{pickup.id}/receive", data=data).status_code in (302, 303)
    _only(announced, events.PickupReceived, pickup.id)


# --- rolled back ---------------------------------------------------------------------------------------


def _change(kind: type[events.DomainEvent], pickup: Pickup, driver: Any, other_driver: Any) -> None:
    """Cause ``kind`` through the pickups services, as the HTTP ways above do."""
    from app.core.models import utcnow
    from app.pickups import collection, retention, services
    from app.pickups.schemas import pickup_in_schema
    from app.pickups.timeline import Evidence
    from tests.conftest import pickup_payload

    field = Evidence(server_time=utcnow())
    actions: dict[type[events.DomainEvent], Callable[[], Any]] = {
        events.PickupCreated: lambda: services.create_pickup(pickup_in_schema.load(pickup_payload()), actor=None),
        events.PickupEdited: lambda: services.update_pickup(pickup, {"notes": "Changed"}, actor=driver),
        events.PickupAssigned: lambda: services.assign_pickup(pickup, other_driver, actor=None),
        events.PickupUnassigned: lambda: services.unassign_pickup(pickup, actor=None),
        events.RouteOrdered: lambda: services.order_route(driver, [pickup.id], actor=driver) if pickup.route_position != 1 else None,
        events.PickupCancelled: lambda: services.cancel_pickup(pickup, "Kept it", actor=None),
        events.AccessNotesChanged: lambda: services.set_access_notes(pickup, "Gate 12"),
        events.DriverArrived: lambda: collection.record_arrival(pickup, driver=driver, evidence=field),
        events.LabelScanned: lambda: collection.record_label_scan(pickup, driver=driver, evidence=field),
        events.PickupCollected: lambda: collection.collect_pickup(
            pickup, [collection.CollectedItem(i.id, i.quantity, Grade.A, None, []) for i in pickup.items], driver=driver, evidence=field
        ),
        events.PickupFailed: lambda: collection.fail_pickup(pickup, FailureReason.NOT_HOME, driver=driver, evidence=field),
        events.DriverNoted: lambda: collection.add_driver_note(pickup, "A note", driver=driver, evidence=field),
        events.FieldConflictRecorded: lambda: collection.record_field_conflict(
            pickup, driver=driver, evidence=field, message="Could not apply", code="x", data={}, needs_review=True
        ),
        events.PersonalDataRemoved: lambda: retention.remove_personal_data([pickup.id], now=utcnow()),
    }
    if kind is events.PickupReceived:
        actions[events.PickupCollected]()
        services.mark_received(pickup, actor=driver)
        return
    if kind is events.PickupRebooked:
        from app.pickups.rebooking import rebook_pickup, rebook_slots

        actions[events.PickupFailed]()
        rebook_pickup(pickup, rebook_slots(pickup)[0])
        return
    if kind is events.PersonalDataRemoved:
        from app.pickups.retention import remove_personal_data

        actions[events.PickupCancelled]()
        remove_personal_data([pickup.id], now=utcnow())
        return
    actions[kind]()


@pytest.mark.parametrize("kind", list(events.SIGNALS), ids=lambda kind: kind.__name__)
def test_a_rolled_back_change_announces_nothing_after_the_fact(kind, create_pickup, driver, other_driver, announced, db):
    pickup = create_pickup(driver=driver)
    pickup.route_position = 2  # so that ordering the route moves it
    db.session.commit()
    announced.clear()
    tombstones_before = db.session.scalar(select(func.count()).select_from(SyncTombstone))

    _change(kind, pickup, driver, other_driver)
    assert announced.count(kind) == 1
    db.session.rollback()
    assert announced.committed == []
    assert db.session.scalar(select(func.count()).select_from(SyncTombstone)) == tombstones_before

    # The same change committed is heard once after the commit.
    pickup = db.session.get(Pickup, pickup.id)
    announced.clear()
    _change(kind, pickup, driver, other_driver)
    db.session.commit()
    assert announced.count(kind) == 1 and len(announced.of(kind)) == 1
