"""Photo evidence: a photo's own capture time and place travel with its upload and reach dispatch."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.photos.models import Photo
from tests.photos.images import camera_jpeg
from tests.photos.test_api import put
from tests.sync.conftest import collect_all


def collect_with_photos(p, pickup, *photo_ids):  # type: ignore[no-untyped-def]
    items = collect_all(pickup, "A")
    items[0]["photo_ids"] = [str(photo_id) for photo_id in photo_ids]
    result = p.push(p.mutation("collect_items", pickup_id=pickup.id, items=items)).json["results"][0]
    assert result["status"] == "applied", result


def test_a_photos_capture_time_and_place_reach_the_dispatcher(api_client, phone, driver, dispatcher, create_pickup, db):
    pickup = create_pickup(driver=driver)
    p = phone()
    # Taken at the door at 09:14:05 by the phone's clock; the collection was recorded minutes later, elsewhere.
    taken = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=7)
    with_facts, without_facts = uuid.uuid4(), uuid.uuid4()
    answer = put(p.api, with_facts, camera_jpeg(), **{"X-Captured-At": taken.isoformat().replace("+00:00", "Z"),
                                                      "X-Location": "geo:52.370216,4.895168;u=6.5"})
    assert answer.status_code == 201, answer.json
    assert answer.json["captured_at"] == taken.isoformat()
    assert put(p.api, without_facts, camera_jpeg(gps=False)).status_code == 201  # an older app sends neither header
    collect_with_photos(p, pickup, with_facts, without_facts)

    listed = {row["id"]: row for row in api_client(dispatcher).get(f"/api/v1/pickups/{pickup.id}/photos").json["items"]}
    assert listed[str(with_facts)]["captured_at"] == taken.isoformat()
    assert listed[str(with_facts)]["location"] == {"lat": 52.370216, "lon": 4.895168, "accuracy_m": 6.5}
    # Without facts of its own, a photo is dated by its action (the mutation's device time and fix), as before.
    action_time = datetime.fromisoformat(listed[str(without_facts)]["captured_at"])
    assert action_time > taken + timedelta(minutes=5)
    assert listed[str(without_facts)]["location"] == {"lat": 52.3752, "lon": 4.884, "accuracy_m": 8.5}

    page = api_client(dispatcher).get(f"/dispatch/pickups/{pickup.id}").get_data(as_text=True)
    figure = page[page.index(f'data-photo-id="{with_facts}"'):]
    figure = figure[: figure.index("</figure>")]
    assert 'data-taken-by="photo"' in figure and "Taken " in figure and "GPS 52.37022, 4.89517 ±6 m" in figure
    other = page[page.index(f'data-photo-id="{without_facts}"'):]
    assert 'data-taken-by="action"' in other[: other.index("</figure>")]


def test_a_retry_keeps_the_first_uploads_capture_time(api_client, phone, driver, db):
    p = phone()
    photo_id, data = uuid.uuid4(), camera_jpeg()
    assert put(p.api, photo_id, data, **{"X-Captured-At": "2026-03-03T09:15:02+01:00"}).status_code == 201
    assert put(p.api, photo_id, data, **{"X-Captured-At": "2026-03-03T11:00:00+01:00"}).status_code == 200
    assert db.session.get(Photo, str(photo_id)).captured_at == datetime(2026, 3, 3, 8, 15, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Captured-At": "yesterday"},
        {"X-Captured-At": "2026-03-03T09:15:02"},  # no offset: whose clock?
        {"X-Captured-At": "1970-01-01T00:00:00Z"},
        {"X-Location": "52.37,4.89"},
        {"X-Location": "geo:95.0,4.89"},
        {"X-Location": "geo:52.37,190.5;u=3"},
        {"X-Location": "geo:52.37,4.89;u=-3"},
    ],
    ids=["words", "no-offset", "before-2000", "no-scheme", "lat-out-of-range", "lon-out-of-range", "negative-accuracy"],
)
def test_unreadable_capture_headers_are_a_422_and_store_nothing(api_client, driver, db, headers):
    answer = put(api_client(driver), uuid.uuid4(), camera_jpeg(), **headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_capture", answer.json
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
