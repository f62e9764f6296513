"""Pickup rules without HTTP: creation, assignment, route order, cancellation, the trail."""
from datetime import date

import pytest

from app.core.errors import Conflict, InvalidInput, NotFound
from app.pickups import services
from app.pickups.models import PickupStatus
from app.pickups.states import InvalidTransition


def test_created_pickup_is_unassigned_with_label_code_and_a_created_event(create_pickup):
    pickup = create_pickup()
    assert pickup.status is PickupStatus.UNASSIGNED
    assert len(pickup.label_code) == 10
    assert [e.kind for e in pickup.events] == ["created"]
    assert pickup.version == 1
    assert pickup.change_seq >= 1


def test_window_times_come_back_timezone_aware_in_utc(create_pickup, db):
    pickup = create_pickup()
    db.session.expire_all()
    assert pickup.window_start.utcoffset().total_seconds() == 0


def test_assign_appends_to_end_of_driver_route_and_writes_event(create_pickup, driver, db):
    first = create_pickup(driver=driver)
    second = create_pickup(driver=driver)
    assert (first.route_position, second.route_position) == (1, 2)
    assert second.status is PickupStatus.ASSIGNED
    event = second.events[-1]
    assert (event.kind, event.from_status, event.to_status) == ("assigned", "unassigned", "assigned")


def test_reassign_moves_pickup_and_says_from_whom(create_pickup, driver, other_driver, db):
    pickup = create_pickup(driver=driver)
    version = pickup.version
    services.assign_pickup(pickup, other_driver, actor=None)
    assert pickup.driver_id == other_driver.id
    assert pickup.version > version
    assert pickup.events[-1].kind == "reassigned"
    assert driver.name in pickup.events[-1].message


def test_only_active_drivers_can_be_assigned(create_pickup, dispatcher, create_user, db):
    from app.accounts.services import deactivate_user

    pickup = create_pickup()
    with pytest.raises(InvalidInput):
        services.assign_pickup(pickup, dispatcher, actor=None)
    gone = create_user("driver")
    deactivate_user(gone)
    with pytest.raises(InvalidInput):
        services.assign_pickup(pickup, gone, actor=None)
    assert pickup.status is PickupStatus.UNASSIGNED


def test_unassign_clears_driver_and_route_position(create_pickup, driver):
    pickup = create_pickup(driver=driver)
    services.unassign_pickup(pickup, actor=None)
    assert (pickup.status, pickup.driver_id, pickup.route_position) == (PickupStatus.UNASSIGNED, None, None)


def test_cancel_needs_a_reason_and_is_final(create_pickup, driver):
    pickup = create_pickup(driver=driver)
    with pytest.raises(InvalidInput):
        services.cancel_pickup(pickup, "  ", actor=None)
    services.cancel_pickup(pickup, "Customer kept the item", actor=None)
    assert pickup.status is PickupStatus.CANCELLED
    assert pickup.cancel_reason == "Customer kept the item"
    with pytest.raises(InvalidTransition):
        services.assign_pickup(pickup, driver, actor=None)


def test_route_order_sets_positions_and_refuses_foreign_pickups(create_pickup, driver, other_driver, dispatcher):
    a, b, c = (create_pickup(driver=driver) for _ in range(3))
    theirs = create_pickup(driver=other_driver)
    services.order_route(driver, [c.id, a.id, b.id], actor=dispatcher)
    assert (c.route_position, a.route_position, b.route_position) == (1, 2, 3)
    with pytest.raises(InvalidInput):
        services.order_route(driver, [a.id, theirs.id], actor=dispatcher)
    with pytest.raises(InvalidInput):
        services.order_route(driver, [a.id, a.id], actor=dispatcher)


def test_duplicate_reference_is_a_conflict(create_pickup):
    create_pickup(reference="RMA-1")
    with pytest.raises(Conflict):
        create_pickup(reference="RMA-1")


def test_stale_version_edit_is_refused(create_pickup, dispatcher):
    pickup = create_pickup()
    with pytest.raises(services.StaleVersion):
        services.update_pickup(pickup, {"notes": "x", "version": pickup.version - 1}, actor=dispatcher)
    services.update_pickup(pickup, {"notes": "Gate code 1234", "version": pickup.version}, actor=dispatcher)
    assert pickup.notes == "Gate code 1234"


def test_items_of_a_collected_pickup_cannot_be_edited(create_pickup, driver, dispatcher, db):
    pickup = create_pickup(driver=driver)
    services.change_status(pickup, PickupStatus.COLLECTED, actor=driver, kind="collected")
    with pytest.raises(Conflict):
        services.update_pickup(pickup, {"items": [{"sku": "X", "description": "Y", "quantity": 1}]}, actor=dispatcher)
    services.update_pickup(pickup, {"notes": "Checked by phone"}, actor=dispatcher)
    assert pickup.notes == "Checked by phone"


def test_driver_cannot_get_someone_elses_pickup(create_pickup, driver, other_driver, dispatcher):
    pickup = create_pickup(driver=other_driver)
    with pytest.raises(NotFound):
        services.get_pickup(pickup.id, viewer=driver)
    assert services.get_pickup(pickup.id, viewer=other_driver) is pickup
    assert services.get_pickup(pickup.id, viewer=dispatcher) is pickup


def test_query_scopes_drivers_and_filters_by_local_day(create_pickup, driver, other_driver, dispatcher, db):
    mine = create_pickup(driver=driver, window={"start": "2030-03-04T23:30:00+00:00", "end": "2030-03-05T01:00:00+00:00"})
    create_pickup(driver=other_driver)
    driver_view = list(db.session.scalars(services.pickups_query(driver)))
    assert driver_view == [mine]
    # 23:30 UTC on the 4th is 00:30 on the 5th in Amsterdam.
    day5 = list(db.session.scalars(services.pickups_query(dispatcher, day=date(2030, 3, 5), tz_name="Europe/Amsterdam")))
    day4 = list(db.session.scalars(services.pickups_query(dispatcher, day=date(2030, 3, 4), tz_name="Europe/Amsterdam")))
    assert mine in day5 and mine not in day4


def test_every_change_gets_a_higher_change_number(create_pickup, driver):
    pickup = create_pickup()
    before = pickup.change_seq
    services.assign_pickup(pickup, driver, actor=None)
    assert pickup.change_seq > before


def test_timeline_keeps_the_order_entries_were_recorded_in_when_some_need_their_id(create_pickup, db):
    from app.pickups.timeline import record_event, write_timeline

    pickup = create_pickup()
    kinds = ["driver_note", "collected", "driver_note", "field_conflict", "arrived"]
    entries = [record_event(pickup, kind, message=f"{n}") for n, kind in enumerate(kinds)]
    entries[1].needs_id = entries[3].needs_id = True  # photos link to these two
    write_timeline()
    db.session.commit()
    db.session.expire_all()
    assert [(e.kind, e.message) for e in pickup.events[1:]] == [(kind, f"{n}") for n, kind in enumerate(kinds)]
    assert entries[1].id is not None and entries[3].id is not None
    assert entries[1].id < entries[3].id
