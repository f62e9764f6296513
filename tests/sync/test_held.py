"""The phone reports what it holds: push and pull carry unsynced counts, dispatch sees them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.sync.models import SyncClient


def client_row(db, phone):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalar(select(SyncClient).where(SyncClient.client_id == phone.client_id))


def drivers_row(api_client, dispatcher, driver) -> str:  # type: ignore[no-untyped-def]
    html = api_client(dispatcher).raw.get("/dispatch/drivers").get_data(as_text=True)
    return html[html.index(f'id="driver-{driver.id}"') :][:4000]


def test_a_phone_offline_all_day_shows_what_it_holds_and_stands_out(phone, api_client, dispatcher, driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    # The phone got signal for a moment: its first action goes, 7 actions and 3 photos are still on it, the oldest 5 h old.
    p.push(p.mutation("arrive", pickup_id=pickup.id), held={"actions": 7, "photos": 3, "oldest_age_seconds": 5 * 3600})
    row = client_row(db, p)
    assert (row.held_actions, row.held_photos) == (7, 3) and row.held_oldest_at is not None
    html = drivers_row(api_client, dispatcher, driver)
    assert "7 actions, 3 photos" in html and "oldest 5 h ago" in html
    assert "data-held-too-long" in html and "held too long" in html  # over SYNC_HELD_FLAG_MINUTES (120)

    # The pull says the same in its query; an emptied phone no longer stands out.
    p.api.get(f"/api/v1/sync/pull?client_id={p.client_id}&held_actions=0&held_photos=0")
    row = client_row(db, p)
    assert (row.held_actions, row.held_photos, row.held_oldest_at) == (0, 0, None)
    assert "data-held-too-long" not in drivers_row(api_client, dispatcher, driver)


def test_a_phone_holding_work_briefly_is_shown_but_not_flagged(phone, api_client, dispatcher, driver, db):
    p = phone()
    p.pull(cursor=None)
    response = p.api.get(f"/api/v1/sync/pull?client_id={p.client_id}&held_actions=2&held_photos=0&held_oldest_age_seconds=600")
    assert response.status_code == 200
    html = drivers_row(api_client, dispatcher, driver)
    assert "2 actions, 0 photos" in html and "oldest 10 min ago" in html and "data-held-too-long" not in html


@pytest.mark.parametrize(
    "held",
    [
        {"actions": -1, "photos": 0},
        {"actions": "many", "photos": 0},
        {"actions": 1, "photos": 0, "oldest_age_seconds": 10**12},
        {"actions": 1},
        [],
    ],
)
def test_a_bad_push_report_is_a_clear_422_and_applies_nothing(phone, driver, create_pickup, db, held):
    pickup = create_pickup(driver=driver)
    p = phone()
    response = p.push(p.mutation("arrive", pickup_id=pickup.id), held=held, expect=422)
    assert "held" in str(response.json["error"]["fields"])  # the answer names the field
    assert client_row(db, p) is None or client_row(db, p).last_mutation_id == 0


@pytest.mark.parametrize("query", ["held_actions=-3&held_photos=0", "held_actions=x&held_photos=1", "held_actions=1&held_photos=1&held_oldest_age_seconds=-5"])
def test_a_bad_pull_report_is_a_4xx_not_a_500(phone, query):
    p = phone()
    response = p.api.get(f"/api/v1/sync/pull?client_id={p.client_id}&{query}")
    assert 400 <= response.status_code < 500
