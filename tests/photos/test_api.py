"""PUT/HEAD/GET /api/v1/photos/<uuid>: idempotent upload by id and hash, dispatch-only viewing."""
from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.photos.models import Photo
from tests.photos.images import camera_jpeg, encoded


def put(api, photo_id, data, sha=None, **headers):
    sha = hashlib.sha256(data).hexdigest() if sha is None else sha
    if sha:
        headers["X-Content-SHA256"] = sha
    return api.put(f"/api/v1/photos/{photo_id}", data=data, headers=headers, content_type="image/jpeg")


def stored_files(app) -> list[Path]:
    """Every stored name, straight from whichever store the test runs on (folder or SeaweedFS)."""
    from app.photos.storage import photo_storage

    with app.app_context():
        return sorted(Path(name) for name in photo_storage().names())


def count(db):
    return db.session.scalar(select(func.count()).select_from(Photo))


def test_upload_stores_once_and_a_retry_is_recognised(api_client, driver, db, app):
    api = api_client(driver)
    photo_id, data = uuid.uuid4(), camera_jpeg()
    first = put(api, photo_id, data)
    assert first.status_code == 201, first.json
    assert first.json["sha256"] == hashlib.sha256(data).hexdigest() == first.headers["X-Content-SHA256"]
    assert (first.json["width"], first.json["height"]) == (400, 300)
    again = put(api, photo_id, data)
    assert again.status_code == 200 and again.json == first.json
    assert count(db) == 1
    files = stored_files(app)
    assert [f.name for f in files] == sorted([f"{photo_id}-{first.json['sha256'][:16]}.jpg", f"{photo_id}-{first.json['sha256'][:16]}.thumb.jpg"])
    photo = db.session.get(Photo, str(photo_id))
    assert photo.uploader_id == driver.id and photo.source_bytes == len(data)


def test_same_id_with_other_bytes_is_a_conflict(api_client, driver, other_driver, db):
    photo_id = uuid.uuid4()
    assert put(api_client(driver), photo_id, camera_jpeg()).status_code == 201
    other = put(api_client(driver), photo_id, camera_jpeg(gps=False))
    assert other.status_code == 409 and other.json["error"]["code"] == "photo_id_conflict"
    someone_else = put(api_client(other_driver), photo_id, camera_jpeg())
    assert someone_else.status_code == 409
    assert count(db) == 1


@pytest.mark.parametrize(
    ("data", "sha", "status", "code"),
    [
        (camera_jpeg(), "", 400, "checksum_required"),
        (camera_jpeg(), "abc", 400, "checksum_required"),
        (camera_jpeg(), hashlib.sha256(b"other").hexdigest(), 400, "checksum_mismatch"),
        (b"", None, 400, "empty_upload"),
        (encoded("GIF", "P"), None, 415, "unsupported_image_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None, 415, "unsupported_image_type"),
        (camera_jpeg()[:2000], None, 422, "invalid_image"),
    ],
)
def test_refused_uploads_store_nothing(api_client, driver, db, app, data, sha, status, code):
    response = put(api_client(driver), uuid.uuid4(), data, sha)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert count(db) == 0 and stored_files(app) == []


def test_an_upload_cut_in_half_stores_nothing_and_the_retry_stores_it_once(api_client, driver, db, app):
    api = api_client(driver)
    photo_id, data = uuid.uuid4(), camera_jpeg()
    cut = put(api, photo_id, data[: len(data) // 2], sha=hashlib.sha256(data).hexdigest())
    assert cut.status_code == 400 and cut.json["error"]["code"] == "checksum_mismatch"
    assert count(db) == 0 and stored_files(app) == []
    assert put(api, photo_id, data).status_code == 201
    assert count(db) == 1 and len(stored_files(app)) == 2


def test_too_large_is_413(api_client, driver, db, app):
    app.config["PHOTO_MAX_BYTES"] = 2000
    response = put(api_client(driver), uuid.uuid4(), camera_jpeg())
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert count(db) == 0


def test_only_drivers_upload(api_client, dispatcher, db):
    assert put(api_client(dispatcher), uuid.uuid4(), camera_jpeg()).status_code == 403
    assert count(db) == 0


def test_upload_needs_the_csrf_token(api_client, driver, db):
    api = api_client(driver)
    api.csrf_token = None
    assert put(api, uuid.uuid4(), camera_jpeg()).status_code == 400
    assert count(db) == 0


def test_head_tells_the_uploader_whether_the_server_has_it(api_client, driver, other_driver, dispatcher):
    api = api_client(driver)
    photo_id, data = uuid.uuid4(), camera_jpeg()
    assert api.head(f"/api/v1/photos/{photo_id}").status_code == 404
    put(api, photo_id, data)
    head = api.head(f"/api/v1/photos/{photo_id}")
    assert head.status_code == 200 and head.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    assert api_client(other_driver).head(f"/api/v1/photos/{photo_id}").status_code == 404
    assert api_client(dispatcher).head(f"/api/v1/photos/{photo_id}").status_code == 200
    assert api.get("/api/v1/photos/not-a-uuid").status_code == 404


def test_photos_are_served_to_dispatch_only_with_nosniff(api_client, driver, other_driver, dispatcher):
    photo_id = uuid.uuid4()
    put(api_client(driver), photo_id, camera_jpeg())
    dispatch = api_client(dispatcher)
    full = dispatch.get(f"/api/v1/photos/{photo_id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in full.headers["Cache-Control"]
    assert Image.open(io.BytesIO(full.data)).size == (400, 300)
    thumb = dispatch.get(f"/api/v1/photos/{photo_id}/thumb")
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.data)).size) == 320
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    # The driver who took it may look at it again; another driver learns nothing.
    assert api_client(driver).get(f"/api/v1/photos/{photo_id}").status_code == 200
    assert api_client(other_driver).get(f"/api/v1/photos/{photo_id}").status_code == 404
    assert api_client(other_driver).get(f"/api/v1/photos/{photo_id}/thumb").status_code == 404
    assert dispatch.get(f"/api/v1/photos/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize("photo_first", [True, False], ids=["photo-before-mutation", "mutation-before-photo"])
def test_photos_join_the_pickup_whichever_arrives_first(api_client, phone, driver, other_driver, create_pickup, db, photo_first):
    from app.photos.services import photos_for_pickup
    from tests.sync.conftest import collect_all

    pickup = create_pickup(driver=driver)
    photo_id, stranger_photo = uuid.uuid4(), uuid.uuid4()
    p = phone()
    items = collect_all(pickup, "C")
    items[0]["photo_ids"] = [str(photo_id)]
    items[1]["photo_ids"] = [str(stranger_photo)]
    # Another driver uploading under an id this driver referenced must not join the pickup.
    put(api_client(other_driver), stranger_photo, camera_jpeg(gps=False))
    if photo_first:
        assert put(p.api, photo_id, camera_jpeg()).status_code == 201
    assert p.push(p.mutation("collect_items", pickup_id=pickup.id, items=items)).json["results"][0]["status"] == "applied"
    if not photo_first:
        assert [ph.awaiting_upload for ph in photos_for_pickup(pickup)] == [True, True]
        assert put(p.api, photo_id, camera_jpeg()).status_code == 201
    photos = {ph.photo_id: ph for ph in photos_for_pickup(pickup)}
    assert photos[str(photo_id)].photo is not None and photos[str(photo_id)].item_id == pickup.items[0].id
    assert photos[str(stranger_photo)].awaiting_upload


@pytest.mark.parametrize("photo_backend", [{}], ids=["file"])  # file times are set by hand here; S3 below
def test_purge_removes_files_a_killed_upload_left_but_keeps_stored_photos(api_client, driver, app, db):
    import os
    import time

    photo_id = uuid.uuid4()
    put(api_client(driver), photo_id, camera_jpeg())
    root = Path(app.config["PHOTO_STORAGE_DIR"])
    orphan = root / "ab" / "abandoned-0000.jpg"
    temp = root / "ab" / ".upload-x1.tmp"
    young = root / "ab" / ".upload-young.tmp"
    for path in (orphan, temp, young):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a photo")
    old = time.time() - 7200
    for path in [orphan, temp, *(root / name for name in stored_files(app))]:
        if path != young:
            os.utime(path, (old, old))
    result = app.test_cli_runner().invoke(args=["sync", "purge"])
    assert result.exit_code == 0 and "2 stray upload files" in result.output, result.output
    names = [p.name for p in stored_files(app)]
    assert young.name in names and orphan.name not in names and temp.name not in names
    assert sum(name.startswith(str(photo_id)) for name in names) == 2


@pytest.mark.parametrize("photo_backend", ["s3"], indirect=True)
def test_the_sweep_removes_objects_whose_row_never_committed_and_keeps_stored_photos(api_client, driver, app, db):
    from app.photos.services import known_photo_files
    from app.photos.storage import photo_storage

    photo_id = uuid.uuid4()
    put(api_client(driver), photo_id, camera_jpeg())
    storage = photo_storage()
    storage.put("ab/abandoned-0000.jpg", b"a photo whose row never committed")
    # Objects cannot be aged by hand: a young cut-off keeps everything, a zero cut-off judges them all.
    assert storage.sweep_strays(known_photo_files, older_than_seconds=3600) == 0
    assert storage.sweep_strays(known_photo_files, older_than_seconds=0) == 1
    names = [p.name for p in stored_files(app)]
    assert "abandoned-0000.jpg" not in names and sum(name.startswith(str(photo_id)) for name in names) == 2


def test_a_missing_file_is_a_404_not_a_500(api_client, driver, dispatcher, app, db):
    from app.photos.storage import photo_storage

    photo_id = uuid.uuid4()
    put(api_client(driver), photo_id, camera_jpeg())
    photo = db.session.get(Photo, str(photo_id))
    photo_storage().delete([photo.stored_name])
    response = api_client(dispatcher).get(f"/api/v1/photos/{photo_id}")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
