"""`purge-expired`: personal data and photos of long-closed pickups go; the report's figures stay."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select, update

from app.photos.models import Photo, PhotoLink
from app.photos.storage import photo_storage
from app.pickups.models import Grade, Pickup, PickupEvent, PickupStatus
from app.pickups.services import cancel_pickup
from app.receiving.services import ItemCheck, receive_pickup
from app.reports.figures import build_report
from tests.photos.images import camera_jpeg
from tests.sync.conftest import collect_all

CUSTOMER = "Sanne de Vries"
HANDED_OVER_BY = "Jan Jansen"


def _upload(phone, data: bytes) -> str:
    photo_id = str(uuid.uuid4())
    headers = {"X-Content-SHA256": hashlib.sha256(data).hexdigest()}
    response = phone.api.put(f"/api/v1/photos/{photo_id}", data=data, headers=headers, content_type="image/jpeg")
    assert response.status_code == 201, response.json
    return photo_id


def _collected_with_photos(phone, pickup) -> list[str]:
    """The driver collects with a condition photo, a signature and who handed it over, as the app does."""
    condition, signature = _upload(phone, camera_jpeg()), _upload(phone, camera_jpeg(gps=False))
    items = collect_all(pickup, "B")
    items[0].update(grade="C", notes="Scratched; Mrs de Vries says it fell", photo_ids=[condition])
    mutation = phone.mutation("collect_items", pickup_id=pickup.id, items=items, signature_photo_id=signature, handed_over_by=HANDED_OVER_BY)
    results = phone.push(phone.mutation("arrive", pickup_id=pickup.id), mutation).json["results"]
    assert [r["status"] for r in results] == ["applied", "applied"], results
    return [condition, signature]


def _closed_days_ago(db, pickup, days: int) -> None:
    when = datetime.now(timezone.utc) - timedelta(days=days)
    db.session.execute(update(PickupEvent).where(PickupEvent.pickup_id == pickup.id).values(server_time=when))
    db.session.commit()


def _report(hub):
    today = date.today()
    return build_report(start=today - timedelta(days=1), end=today + timedelta(days=2), tz_name=hub.timezone)


def test_purge_removes_personal_data_and_photos_of_long_closed_pickups_and_keeps_the_figures(
    app, db, hub, phone, driver, create_user, create_pickup, api_client, dispatcher
):
    clerk = create_user("hub")
    p = phone()
    old, recent, cancelled, still_open = (create_pickup(driver=driver) for _ in range(4))
    old_photos = _collected_with_photos(p, old)
    recent_photos = _collected_with_photos(p, recent)
    for pickup in (old, recent):
        db.session.refresh(pickup)
        # The hub counts and grades what the driver recorded and restocks it all.
        lines = [ItemCheck(item.id, item.collected_quantity, item.grade, "restock") for item in pickup.items]
        receive_pickup(pickup, lines, actor=clerk)
    cancel_pickup(cancelled, "Customer Sanne de Vries moved to Utrecht", actor=dispatcher)
    db.session.commit()
    p.push(p.mutation("arrive", pickup_id=still_open.id))
    _closed_days_ago(db, old, 100)
    _closed_days_ago(db, cancelled, 120)
    _closed_days_ago(db, still_open, 200)  # not closed: nothing is removed however old
    _closed_days_ago(db, recent, 10)
    figures_before = _report(hub)
    names_before = sorted(photo_storage().names())
    assert len(names_before) == 8

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["purge-expired", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would remove the personal data of 2 pickups" in dry.output and "with 2 photos (4 files or objects)" in dry.output
    assert old.reference in dry.output and cancelled.reference in dry.output and recent.reference not in dry.output
    db.session.expire_all()
    assert sorted(photo_storage().names()) == names_before and db.session.get(Pickup, old.id).customer_name == CUSTOMER

    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Removed the personal data of 2 pickups" in result.output and "with 2 photos (4 files or objects)" in result.output
    db.session.expire_all()

    # The photos' bytes are gone from the store, and their rows and links from the database.
    remaining = sorted(photo_storage().names())
    assert len(remaining) == 4 and not any(photo_id in name for photo_id in old_photos for name in remaining)
    assert all(any(photo_id in name for name in remaining) for photo_id in recent_photos)
    assert db.session.scalar(select(func.count()).select_from(Photo).where(Photo.id.in_(old_photos))) == 0
    assert db.session.scalar(select(func.count()).select_from(PhotoLink).where(PhotoLink.pickup_id == old.id)) == 0
    staff = api_client(dispatcher)
    assert staff.get(f"/api/v1/photos/{old_photos[0]}").status_code == 404
    assert staff.get(f"/api/v1/photos/{recent_photos[0]}").status_code == 200

    for pickup in (old, cancelled):
        row = db.session.get(Pickup, pickup.id)
        assert (row.customer_name, row.customer_phone, row.customer_email) == ("", None, None)
        assert (row.address_line1, row.address_line2, row.postcode, row.lat, row.lon) == ("", None, "", None, None)
        assert row.notes == "" and row.cancel_reason is None and row.personal_data_removed_at is not None
        assert all(item.condition_notes is None for item in row.items)
        trail = json.dumps([[e.message, e.data, e.lat, e.lon] for e in row.events], default=str)
        for secret in (CUSTOMER, "de Vries", HANDED_OVER_BY, "Utrecht", "52.37", *old_photos):
            assert secret not in trail, (secret, trail)
        # The staff API still answers for it, with nothing personal in it.
        body = staff.get(f"/api/v1/pickups/{pickup.id}").json
        assert body["customer"] == {"name": "", "phone": None, "email": None} and body["address"]["line1"] == ""
        assert body["status"] == row.status.value

    # Untouched: the recent one and the one still open.
    for pickup in (recent, still_open):
        row = db.session.get(Pickup, pickup.id)
        assert row.customer_name == CUSTOMER and row.personal_data_removed_at is None
    # Anonymous figures the reports count are what they were: statuses, grades, drivers.
    assert _report(hub) == figures_before
    assert db.session.get(Pickup, old.id).items[0].grade is Grade.C and db.session.get(Pickup, old.id).status is PickupStatus.RECEIVED

    again = runner.invoke(args=["purge-expired"])
    assert again.exit_code == 0 and "Removed the personal data of 0 pickups" in again.output


def test_the_retention_period_is_a_setting_and_days_overrides_it(app, db, driver, create_pickup, dispatcher):
    pickup = create_pickup(driver=driver)
    cancel_pickup(pickup, "duplicate", actor=dispatcher)
    db.session.commit()
    _closed_days_ago(db, pickup, 40)
    runner = app.test_cli_runner()
    assert "of 0 pickups" in runner.invoke(args=["purge-expired", "--dry-run"]).output  # default 90 days
    app.config["PERSONAL_DATA_RETENTION_DAYS"] = 30
    assert "of 1 pickups" in runner.invoke(args=["purge-expired", "--dry-run"]).output
    assert "of 0 pickups" in runner.invoke(args=["purge-expired", "--dry-run", "--days", "60"]).output
    bad = runner.invoke(args=["purge-expired", "--days", "-1"])
    assert bad.exit_code == 2 and "-1" in bad.output
