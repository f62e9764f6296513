"""The phone carries the driver's days: today and SYNC_DAYS_AHEAD days ahead, in the driver's hub's calendar.

Pickups entering those days (a day passed, a window moved, the setting grew)
arrive as puts and those leaving them as deletes with a reason, and a cursor
never skips either: the tests pull on, cursor after cursor, as a phone would.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from app.extensions import db as _db
from app.sync.services import pull_changes
from tests.sync.conftest import collect_all

TZ = ZoneInfo("Europe/Amsterdam")  # the test hub's


def _window(day: date, hour: int = 10) -> dict[str, str]:
    start = datetime.combine(day, time(hour), tzinfo=TZ)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}


def _ops(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(c["id"], c["op"]) for c in body["changes"]]


class Puller:
    """A phone pulling at chosen moments (the service, so the clock can move past midnight)."""

    def __init__(self, driver: Any):
        self.driver = driver
        self.cursor: int | None = None

    def pull(self, now: datetime, *, cursor: Any = "keep") -> dict[str, Any]:
        body = pull_changes(self.driver, cursor=self.cursor if cursor == "keep" else cursor, client_id=None, now=now)
        _db.session.commit()
        self.cursor = body["cursor"]
        return body


def test_a_driver_with_pickups_on_four_days_gets_today_and_the_next_two(phone, driver, create_pickup):
    today = datetime.now(TZ).date()
    day3 = create_pickup(driver=driver, window=_window(today + timedelta(days=3)))
    day2 = create_pickup(driver=driver, window=_window(today + timedelta(days=2)))
    day1 = create_pickup(driver=driver, window=_window(today + timedelta(days=1)))
    day0 = create_pickup(driver=driver, window=_window(today, 9))
    body = phone().pull()
    assert sorted(c["id"] for c in body["changes"]) == sorted([day0.id, day1.id, day2.id])
    assert day3.id not in [c["id"] for c in body["changes"]]
    assert body["settings"]["days_ahead"] == 2 and body["settings"]["timezone"] == "Europe/Amsterdam"


def test_a_new_day_brings_the_next_day_in_and_drops_yesterdays_finished(phone, driver, create_pickup):
    today = datetime.now(TZ).date()
    now = datetime.combine(today, time(7), tzinfo=TZ).astimezone(timezone.utc)
    finished = create_pickup(driver=driver, window=_window(today))
    still_open = create_pickup(driver=driver, window=_window(today, 12))
    later = create_pickup(driver=driver, window=_window(today + timedelta(days=3)))
    pusher = phone()
    phone = Puller(driver)
    assert sorted(c["id"] for c in phone.pull(now)["changes"]) == sorted([finished.id, still_open.id])
    assert pusher.push(pusher.mutation("collect_items", pickup_id=finished.id, items=collect_all(finished))).json["results"][0]["status"] == "applied"
    body = phone.pull(now + timedelta(hours=1))
    assert _ops(body) == [(finished.id, "put")] and body["changes"][0]["data"]["status"] == "collected"
    # Tomorrow afternoon: the finished one is of a past day, done more than twelve hours ago.
    tomorrow = datetime.combine(today + timedelta(days=1), time(15), tzinfo=TZ).astimezone(timezone.utc)
    body = phone.pull(tomorrow)
    changes = {c["id"]: c for c in body["changes"]}
    assert changes[later.id]["op"] == "put"  # three days ahead of today is two ahead of tomorrow
    assert changes[finished.id] == {"entity": "pickup", "id": finished.id, "op": "delete", "version": None, "data": {"reason": "finished", "message": None}}
    # Yesterday's open pickup is still the driver's to do: it stays, unchanged, not sent again.
    assert still_open.id not in changes
    assert phone.pull(tomorrow + timedelta(minutes=5))["changes"] == []
    # A reset at that moment agrees with the deltas.
    reset = phone.pull(tomorrow + timedelta(minutes=6), cursor=None)
    assert sorted(c["id"] for c in reset["changes"]) == sorted([still_open.id, later.id])


def test_a_window_moved_beyond_the_days_is_a_delete_and_back_a_put(phone, driver, create_pickup, api_client, dispatcher):
    today = datetime.now(TZ).date()
    pickup = create_pickup(driver=driver, window=_window(today + timedelta(days=1)))
    p = phone()
    assert _ops(p.pull()) == [(pickup.id, "put")]
    dispatch = api_client(dispatcher)
    moved = dispatch.patch(f"/api/v1/pickups/{pickup.id}", json={"window": _window(today + timedelta(days=6))})
    assert moved.status_code == 200, moved.json
    assert p.pull()["changes"] == [{"entity": "pickup", "id": pickup.id, "op": "delete", "version": None, "data": {"reason": "later", "message": None}}]
    dispatch.patch(f"/api/v1/pickups/{pickup.id}", json={"window": _window(today + timedelta(days=2))})
    body = p.pull()
    assert _ops(body) == [(pickup.id, "put")] and body["changes"][0]["data"]["window"]["start"].startswith((today + timedelta(days=2)).isoformat())


def test_fewer_days_ahead_drops_the_far_ones_and_more_brings_them_back(app, phone, driver, create_pickup):
    today = datetime.now(TZ).date()
    near = create_pickup(driver=driver, window=_window(today))
    far = create_pickup(driver=driver, window=_window(today + timedelta(days=2)))
    p = phone()
    assert sorted(c["id"] for c in p.pull()["changes"]) == sorted([near.id, far.id])
    app.config["SYNC_DAYS_AHEAD"] = 1
    assert p.pull()["changes"] == [{"entity": "pickup", "id": far.id, "op": "delete", "version": None, "data": {"reason": "later", "message": None}}]
    app.config["SYNC_DAYS_AHEAD"] = 2
    assert _ops(p.pull()) == [(far.id, "put")]


def test_a_past_days_open_pickup_stays_until_it_is_done_or_reassigned(phone, driver, other_driver, create_pickup, api_client, dispatcher):
    two_days_ago = datetime.now(TZ).date() - timedelta(days=2)
    held, moved = create_pickup(driver=driver, window=_window(two_days_ago)), create_pickup(driver=driver, window=_window(two_days_ago))
    p = phone()
    assert sorted(c["id"] for c in p.pull()["changes"]) == sorted([held.id, moved.id])
    api_client(dispatcher).post(f"/api/v1/pickups/{moved.id}/assign", json={"driver_id": other_driver.id})
    assert _ops(p.pull()) == [(moved.id, "delete")]
    result = p.push(p.mutation("collect_items", pickup_id=held.id, items=collect_all(held))).json["results"][0]
    assert result["status"] == "applied"
    # Done, it still shows a while (the driver just did it), then ages out like every finished pickup.
    body = p.pull()
    assert _ops(body) == [(held.id, "put")] and body["changes"][0]["data"]["status"] == "collected"
