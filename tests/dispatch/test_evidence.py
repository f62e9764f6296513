"""Proof on screen: a driver's photos and signature on the pickup page, in the photos API and in the evidence PDF."""
from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.dispatch.evidence import proof_of
from app.hubs.services import create_hub
from tests.photos.images import camera_jpeg
from tests.sync.conftest import Phone, collect_all


def _upload(api, photo_id, data):  # type: ignore[no-untyped-def]
    response = api.put(f"/api/v1/photos/{photo_id}", data=data, headers={"X-Content-SHA256": hashlib.sha256(data).hexdigest()}, content_type="image/jpeg")
    assert response.status_code == 201, response.json
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def collected(api_client, driver, create_pickup):  # type: ignore[no-untyped-def]
    """A pickup the driver collected with a condition photo on the first item and a signature, both uploaded."""
    pickup = create_pickup(driver=driver)
    phone = Phone(api_client(driver))
    condition, signature = uuid.uuid4(), uuid.uuid4()
    hashes = {str(condition): _upload(phone.api, condition, camera_jpeg()), str(signature): _upload(phone.api, signature, camera_jpeg(gps=False, size=(320, 160)))}
    items = collect_all(pickup, "B")
    items[0]["photo_ids"] = [str(condition)]
    items[0]["notes"] = "Scratch on the back"
    mutation = phone.mutation("collect_items", pickup_id=pickup.id, items=items, signature_photo_id=str(signature), handed_over_by="Sanne de Vries")
    taken = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=3, seconds=7)
    mutation["device_time"] = taken.isoformat()
    result = phone.push(mutation).json["results"][0]
    assert result["status"] == "applied", result
    return pickup, condition, signature, hashes, taken


def test_pickup_page_shows_condition_photos_and_signature_to_dispatch(console, collected):  # type: ignore[no-untyped-def]
    pickup, condition, signature, hashes, taken = collected
    html = console.get(f"/dispatch/pickups/{pickup.id}").get_data(as_text=True)
    assert "Proof from the door" in html and "Scratch on the back" in html and "handed over by Sanne de Vries" in html
    for photo_id in (condition, signature):
        assert f"/api/v1/photos/{photo_id}/thumb" in html and f'href="/api/v1/photos/{photo_id}"' in html
        assert hashes[str(photo_id)] in html  # the full hash, in the title beside the short one
    assert "52.37520, 4.88400" in html  # where the phone was
    assert console.get(f"/api/v1/photos/{condition}").status_code == 200


def test_photos_api_gives_kind_hash_time_and_place(api_client, dispatcher, collected):  # type: ignore[no-untyped-def]
    pickup, condition, signature, hashes, taken = collected
    body = api_client(dispatcher).get(f"/api/v1/pickups/{pickup.id}/photos").json
    by_id = {p["id"]: p for p in body["items"]}
    assert by_id[str(condition)]["kind"] == "condition" and by_id[str(condition)]["item_id"] == pickup.items[0].id
    assert by_id[str(signature)]["kind"] == "signature" and by_id[str(signature)]["item_id"] is None
    assert by_id[str(condition)]["sha256"] == hashes[str(condition)]
    assert datetime.fromisoformat(by_id[str(condition)]["captured_at"]) == taken
    assert by_id[str(condition)]["location"]["lat"] == pytest.approx(52.3752)
    assert by_id[str(condition)]["url"] == f"/api/v1/photos/{condition}"
    assert by_id[str(condition)]["thumbnail_url"] == f"/api/v1/photos/{condition}/thumb"


def test_photos_refused_to_other_drivers_and_to_staff_of_another_hub(api_client, console_for, driver, other_driver, create_user, collected, db):  # type: ignore[no-untyped-def]
    pickup, condition, _, _, _ = collected
    other = api_client(other_driver)
    assert other.get(f"/api/v1/pickups/{pickup.id}/photos").status_code == 404
    assert other.get(f"/api/v1/photos/{condition}").status_code == 404
    assert other.get(f"/api/v1/photos/{condition}/thumb").status_code == 404
    own = api_client(driver).get(f"/api/v1/pickups/{pickup.id}/photos")
    assert own.status_code == 200 and len(own.json["items"]) == 2
    assert console_for(driver).get(f"/dispatch/pickups/{pickup.id}").status_code == 403

    elsewhere = create_hub(code="FAR", name="Far Hub", timezone="UTC")
    db.session.commit()
    stranger = create_user("dispatcher")
    stranger.hub_id = elsewhere.id
    db.session.commit()
    assert api_client(stranger).get(f"/api/v1/pickups/{pickup.id}/photos").status_code == 404
    assert api_client(stranger).get(f"/api/v1/photos/{condition}").status_code == 404
    assert proof_of(pickup, stranger).visible is False
    assert api_client(stranger).get("/api/v1/pickups/999999/photos").status_code == 404


def test_evidence_pdf_holds_every_hash_and_the_device_times(console, collected):  # type: ignore[no-untyped-def]
    pickup, _, _, hashes, taken = collected
    response = console.get(f"/dispatch/pickups/{pickup.id}/evidence.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert f"evidence-{pickup.reference}.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = text.replace("\n", " ")
    for sha in hashes.values():
        assert sha in flat.replace(" ", "")
    assert taken.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%d %H:%M:%S") in flat  # the phone's clock, hub's timezone
    assert "Sanne de Vries" in flat and pickup.label_code in flat and "Scratch on the back" in flat
    images = sum(len(page.images) for page in reader.pages)
    assert images == 2


def test_evidence_pdf_for_unknown_pickup_is_404_and_drivers_get_403(console, console_for, driver):  # type: ignore[no-untyped-def]
    assert console.get("/dispatch/pickups/999999/evidence.pdf").status_code == 404
    assert console_for(driver).get("/dispatch/pickups/1/evidence.pdf").status_code == 403
