"""Uploads cut off half-way against a real server: nothing is stored, and the retry stores each photo once."""
from __future__ import annotations

import hashlib
import io
import socket
import uuid
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.photos.models import Photo
from app.photos.storage import photo_storage
from tests.conftest import TEST_PASSWORD
from tests.support.server import LiveServer, database_url_of, login

pytestmark = pytest.mark.chaos


def _photo(n: int) -> bytes:
    image = Image.new("RGB", (160, 120), (n * 2 % 256, 255 - n, (n * 37) % 256))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _cut_upload(server: LiveServer, cookie: str, token: str, photo_id: uuid.UUID, data: bytes) -> None:
    """Send the headers and half the body, then hang up: a phone losing signal mid-upload."""
    head = (
        f"PUT /api/v1/photos/{photo_id} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n"
        f"X-Content-SHA256: {hashlib.sha256(data).hexdigest()}\r\nX-CSRFToken: {token}\r\n"
        f"Cookie: session={cookie}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode() + data[: len(data) // 2])


def stored_names(app) -> list[str]:
    """What the store holds, asked of the store itself (folder or SeaweedFS)."""
    return list(photo_storage().names())


def test_a_hundred_uploads_cut_at_half_store_nothing_and_retries_store_each_once(app, db, driver, tmp_path, photo_backend):
    photo_dir = Path(app.config["PHOTO_STORAGE_DIR"])
    db.session.commit()
    server = LiveServer(database_url_of(app), photo_dir, tmp_path / "gunicorn.log", extra_env=photo_backend)
    server.start()
    try:
        session, token = login(server, driver.email, TEST_PASSWORD)
        cookie = session.cookies["session"]
        photos = {uuid.uuid4(): _photo(n) for n in range(100)}
        for photo_id, data in photos.items():
            _cut_upload(server, cookie, token, photo_id, data)
        # Whatever the server made of the cut uploads, none of them exists.
        for photo_id in photos:
            assert session.head(f"{server.url}/api/v1/photos/{photo_id}", timeout=10).status_code == 404
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
        assert stored_names(app) == []

        for photo_id, data in photos.items():
            headers = {"X-CSRFToken": token, "X-Content-SHA256": hashlib.sha256(data).hexdigest(), "Content-Type": "image/jpeg"}
            response = session.put(f"{server.url}/api/v1/photos/{photo_id}", data=data, headers=headers, timeout=10)
            assert response.status_code == 201, response.text  # not 200: the cut upload had stored nothing
            again = session.put(f"{server.url}/api/v1/photos/{photo_id}", data=data, headers=headers, timeout=10)
            assert again.status_code == 200
    finally:
        server.stop()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 100
    names = stored_names(app)
    assert len(names) == 200 and not any(Path(name).name.startswith(".upload-") for name in names)
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log, log[-3000:]
