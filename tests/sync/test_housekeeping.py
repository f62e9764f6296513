"""Mutation records are kept long enough for phones offline for days, then purged; the health page."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from app.core.errors import InvalidInput
from app.sync.models import SyncMutation
from app.sync.services import purge_sync_records
from tests.sync.conftest import collect_all


def _age_records(db, days: int) -> None:
    db.session.execute(update(SyncMutation).values(received_at=datetime.now(timezone.utc) - timedelta(days=days)))
    db.session.commit()


def test_purge_keeps_thirty_days_and_each_phones_last_answer(phone, driver, create_pickup, db, app):
    pickup = create_pickup(driver=driver)
    p = phone()
    batch = [p.mutation("note", pickup_id=pickup.id, text=f"n{n}") for n in range(3)]
    p.push(*batch)
    _age_records(db, 29)
    assert purge_sync_records(datetime.now(timezone.utc), days=30).mutations == 0
    _age_records(db, 31)
    report = purge_sync_records(datetime.now(timezone.utc), days=30)
    db.session.commit()
    assert report.mutations == 2
    assert list(db.session.scalars(select(SyncMutation.mutation_id))) == [3]
    # A phone that was offline for a month still gets an honest answer for a resend.
    answers = p.push(*batch).json["results"]
    assert [(r["status"], r["original_status"]) for r in answers] == [("duplicate", None), ("duplicate", None), ("duplicate", "applied")]
    assert answers[0]["message"] == "Already processed."


def test_purge_refuses_to_keep_less_than_the_minimum(app, db):
    with pytest.raises(InvalidInput):
        purge_sync_records(datetime.now(timezone.utc), days=7)


def test_purge_command(phone, driver, create_pickup, db, app):
    pickup = create_pickup(driver=driver)
    p = phone()
    p.push(*[p.mutation("arrive", pickup_id=pickup.id) for _ in range(2)])
    _age_records(db, 45)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sync", "purge"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 mutation records" in result.output
    assert runner.invoke(args=["sync", "purge", "--days", "3"]).exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(SyncMutation)) == 1


def test_dispatcher_sees_each_drivers_sync_health(phone, api_client, client, dispatcher, driver, other_driver, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    photo = str(uuid.uuid4())
    items = collect_all(pickup, "C")
    items[0]["photo_ids"] = [photo]
    items[1]["photo_ids"] = [photo]
    ahead = (datetime.now(timezone.utc) + timedelta(hours=48)).isoformat()
    p.push(
        p.mutation("collect_items", pickup_id=pickup.id, items=items),
        p.mutation("fail_pickup", pickup_id=pickup.id, reason="not_home"),
        sent_at=ahead,
        app_version="1.4.2",
    )
    p.push({"id": 9, "name": "arrive", "args": {"pickup_id": pickup.id}})  # a gap: 3..8 never arrived
    page = api_client(dispatcher).raw.get("/dispatch/drivers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = html[html.index(f'id="driver-{driver.id}"') :][:4000]
    assert driver.name in row and "app 1.4.2" in row
    assert "7 waiting" in row  # ids up to 9 seen, 2 processed
    assert "already_collected" in row  # the rejected fail_pickup
    assert "48.0 h ahead" in row
    assert p.client_id[:8] in row
    assert ">1<" in row.replace(" ", "")  # one photo awaiting upload
    assert other_driver.name in html and "No phone has synced yet." in html


def test_sync_health_is_for_dispatchers_only(api_client, client, driver):
    assert api_client(driver).raw.get("/dispatch/drivers").status_code == 403
    anonymous = client.get("/dispatch/drivers")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
