"""Rebooking: the customer picks one of the hub's windows after a failed visit, within the limit."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.errors import Conflict, InvalidInput
from app.core.models import utcnow
from app.pickups import collection
from app.pickups.models import FailureReason, Pickup, PickupStatus
from app.pickups.rebooking import Slot, rebook_pickup, rebook_slots
from app.pickups.timeline import Evidence
from tests.messages.conftest import token_of


@pytest.fixture
def failed_pickup(db, create_pickup, driver):  # type: ignore[no-untyped-def]
    pickup = db.session.get(Pickup, create_pickup(driver=driver).id)
    collection.fail_pickup(pickup, FailureReason.NOT_HOME, driver=driver, evidence=Evidence(server_time=utcnow()))
    db.session.commit()
    return pickup


def test_a_failed_pickup_goes_back_to_dispatch_unassigned_with_the_new_window(db, failed_pickup):
    slot = rebook_slots(failed_pickup)[5]
    rebook_pickup(failed_pickup, slot)
    db.session.commit()
    pickup = db.session.get(Pickup, failed_pickup.id)
    assert (pickup.status, pickup.driver_id, pickup.window_start, pickup.window_end, pickup.rebook_count) == (
        PickupStatus.UNASSIGNED, None, slot.start, slot.end, 1
    )
    entry = pickup.events[-1]
    assert entry.kind == "rebooked" and entry.message.startswith("Rebooked by the customer") and entry.data["by_customer"] is True


def test_the_slots_are_the_hubs_opening_hours_from_tomorrow(db, hub, create_pickup):
    hub.slot_minutes, hub.opens_hour, hub.closes_hour, hub.booking_days_ahead = 180, 8, 17, 2
    db.session.commit()
    slots = rebook_slots(create_pickup())
    assert len(slots) == 6  # 08-11, 11-14, 14-17 on each of two days
    local = [slot.start.astimezone(ZoneInfo("Europe/Amsterdam")) for slot in slots]
    assert [t.hour for t in local] == [8, 11, 14, 8, 11, 14]
    assert all(slot.start > utcnow() for slot in slots)


def test_a_window_in_the_past_is_refused(failed_pickup):
    past = utcnow() - timedelta(hours=3)
    with pytest.raises(InvalidInput, match="already begun"):
        rebook_pickup(failed_pickup, Slot(past, past + timedelta(hours=2)))


def test_a_window_outside_the_hubs_slots_is_refused(failed_pickup):
    offered = rebook_slots(failed_pickup)[0]
    with pytest.raises(InvalidInput, match="windows offered"):
        rebook_pickup(failed_pickup, Slot(offered.start + timedelta(minutes=30), offered.end + timedelta(minutes=30)))
    with pytest.raises(InvalidInput, match="windows offered"):
        rebook_pickup(failed_pickup, Slot(utcnow() + timedelta(days=60), utcnow() + timedelta(days=60, hours=2)))


def test_the_number_of_rebookings_is_limited(app, db, create_pickup):
    app.config["REBOOK_LIMIT"] = 2
    pickup = create_pickup()
    for index in range(2):
        rebook_pickup(pickup, rebook_slots(pickup)[index])
    with pytest.raises(Conflict) as refused:
        rebook_pickup(pickup, rebook_slots(pickup)[3])
    assert refused.value.code == "rebook_limit"


def test_an_assigned_pickup_is_not_rebooked_by_the_customer(create_pickup, driver):
    pickup = create_pickup(driver=driver)
    with pytest.raises(Conflict, match="driver is already on the way"):
        rebook_pickup(pickup, rebook_slots(pickup)[0])


def test_the_customer_rebooks_from_their_page(db, client, failed_pickup):
    token = token_of(failed_pickup)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Choose a new window" in page and "Our driver came on" in page
    form = client.get(f"/r/{token}/rebook").get_data(as_text=True)
    values = re.findall(r'name="window" value="([^"]+)"', form)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post(f"/r/{token}/rebook", data={"window": values[2]}).status_code == 400  # no CSRF token
    refused = client.post(f"/r/{token}/rebook", data={"window": "2020-01-01T09:00:00+00:00/2020-01-01T11:00:00+00:00", "csrf_token": csrf})
    assert refused.status_code == 422 and "already begun" in refused.get_data(as_text=True)
    done = client.post(f"/r/{token}/rebook", data={"window": values[2], "csrf_token": csrf})
    assert done.status_code == 302
    pickup = db.session.get(Pickup, failed_pickup.id)
    assert pickup.status is PickupStatus.UNASSIGNED and pickup.window_start.isoformat() == values[2].split("/")[0]
    assert "Your pickup is booked." in client.get(f"/r/{token}").get_data(as_text=True)
