"""Sync benchmarks (issue 4), each comparison measured side by side in one run.

- push_batch500_vs_single_requests: one push of 500 mutations vs the same 500
  sent one request each (what a request-replay queue does). Goal ≥ 10.
- push_ingest_vs_raw_bulk_insert: the push endpoint storing 500 mutations vs a
  raw ORM bulk insert of the very rows it wrote (mutation records and timeline
  events). Goal ≥ 0.25.
- pull_empty_100k_vs_10k: an empty delta pull with 100,000 pickups in the
  database vs with 10,000, as time(10k) / time(100k): 1.0 is perfectly flat,
  the goal time(100k) / time(10k) ≤ 1.3 means this RATIO ≥ 0.77.
- photo_pipeline_vs_naive: our upload pipeline vs a naive full-size decode and
  resize of a 12-megapixel camera JPEG. Goal ≥ 2.

All on SQLite files in a temporary folder, through the real HTTP stack (Flask's
test client, no network) unless said otherwise.
"""
from __future__ import annotations

import io
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image, ImageOps
from sqlalchemy import insert, select

from bench.harness import Report, app_on_file

PASSWORD = "bench-password-1"


def _people(app: Flask, drivers: int = 1) -> tuple[int, list[int]]:
    from app.accounts.services import create_user
    from app.extensions import db
    from app.hubs.services import create_hub

    with app.app_context():
        hub = create_hub(code="BEN", name="Bench Hub", timezone="Europe/Amsterdam", city="Amsterdam", country="NL")
        db.session.flush()
        ids = [
            create_user(email=f"driver{n}@bench.test", password=PASSWORD, role="driver", name=f"Driver {n}", hub_id=hub.id).id
            for n in range(drivers)
        ]
        db.session.commit()
        return hub.id, ids


class Phone:
    def __init__(self, app: Flask, email: str):
        self.client = FlaskClient(app)
        response = self.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.json
        self.token = response.json["csrf_token"]
        self.client_id = str(uuid.uuid4())

    def push(self, mutations: list[dict[str, Any]], client_id: str | None = None) -> dict[str, Any]:
        body = {"client_id": client_id or self.client_id, "schema_version": 1, "mutations": mutations}
        response = self.client.post("/api/v1/sync/push", json=body, headers={"X-CSRFToken": self.token})
        assert response.status_code == 200, response.json
        return response.json

    def pull(self, cursor: int) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/sync/pull?cursor={cursor}&client_id={self.client_id}")
        assert response.status_code == 200, response.json
        return response.json


def _route(app: Flask, hub_id: int, driver_id: int, count: int) -> list[dict[str, Any]]:
    """``count`` assigned pickups with two items each, bulk-inserted; answer their ids, codes and items."""
    from app.extensions import db
    from app.labels.codes import new_label_code
    from app.pickups.changes import take_change_numbers
    from app.pickups.models import Pickup, PickupItem, PickupStatus

    with app.app_context():
        start = datetime.now(timezone.utc) + timedelta(hours=2)
        numbers = take_change_numbers(count)
        tag = uuid.uuid4().hex[:8]
        rows = [
            {
                "reference": f"R-{tag}-{n}", "status": PickupStatus.ASSIGNED, "hub_id": hub_id, "customer_name": f"Customer {n}",
                "address_line1": "Keizersgracht 1", "city": "Amsterdam", "postcode": "1015 CJ", "country": "NL",
                "window_start": start, "window_end": start + timedelta(hours=2), "notes": "", "access_notes": "",
                "driver_id": driver_id, "route_position": n + 1, "scan_required": False, "label_code": new_label_code(),
                "version": 2, "change_seq": numbers[n],
            }  # fmt: skip
            for n in range(count)
        ]
        ids = db.session.scalars(insert(Pickup).returning(Pickup.id, sort_by_parameter_order=True), rows).all()
        items = [
            {"pickup_id": pickup_id, "position": k, "sku": f"SKU-{k}", "description": "Returned goods", "quantity": k + 1, "reason": ""}
            for pickup_id in ids
            for k in range(2)
        ]
        db.session.execute(insert(PickupItem), items)
        db.session.commit()
        item_ids: dict[int, list[int]] = {}
        for item_id, pickup_id in db.session.execute(select(PickupItem.id, PickupItem.pickup_id).where(PickupItem.pickup_id.in_(ids))):
            item_ids.setdefault(pickup_id, []).append(item_id)
        return [{"id": pickup_id, "code": row["label_code"], "items": sorted(item_ids[pickup_id])} for pickup_id, row in zip(ids, rows, strict=True)]


def _day_of_work(route: list[dict[str, Any]], first_id: int = 1) -> list[dict[str, Any]]:
    """Four actions per pickup, as a driver's day produces them: arrive, scan, collect, a note."""
    now = datetime.now(timezone.utc).isoformat()
    where = {"lat": 52.37, "lon": 4.89, "accuracy_m": 9.0}
    mutations: list[dict[str, Any]] = []
    for pickup in route:
        items = [
            {"item_id": item_id, "quantity": k + 1, "grade": "AB"[k % 2], "notes": "", "photo_ids": []}
            for k, item_id in enumerate(pickup["items"])
        ]
        for name, args in (
            ("arrive", {}),
            ("scan_label", {"code": pickup["code"]}),
            ("collect_items", {"items": items, "handed_over_by": "Customer"}),
            ("note", {"text": "Left through the side gate"}),
        ):
            mutations.append(
                {"id": first_id + len(mutations), "name": name, "args": {"pickup_id": pickup["id"], **args}, "base_version": 2, "device_time": now, "location": where}
            )
    return mutations


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def bench_push(report: Report, folder: Path) -> None:
    with app_on_file(folder, "push") as app:
        hub_id, (driver_id,) = _people(app)
        phone = Phone(app, "driver0@bench.test")
        batch_times, single_times = [], []
        for _ in range(3):
            batch = _day_of_work(_route(app, hub_id, driver_id, 125))
            singles = _day_of_work(_route(app, hub_id, driver_id, 125))
            start = time.perf_counter()
            answer = phone.push(batch, client_id=str(uuid.uuid4()))
            batch_times.append(time.perf_counter() - start)
            assert {r["status"] for r in answer["results"]} == {"applied"}
            client_id = str(uuid.uuid4())
            start = time.perf_counter()
            for mutation in singles:
                phone.push([mutation], client_id=client_id)
            single_times.append(time.perf_counter() - start)
        batch_s, single_s = _median(batch_times), _median(single_times)
        report.bench("push_batch500_ms", batch_s * 1000, "ms")
        report.bench("push_single_requests500_ms", single_s * 1000, "ms")
        report.bench("push_batch500_per_mutation_us", batch_s / 500 * 1e6, "us")
        report.ratio("push_batch500_vs_single_requests", single_s / batch_s)


def bench_ingest(report: Report, folder: Path) -> None:
    from app.extensions import db
    from app.pickups.models import PickupEvent
    from app.sync.models import SyncClient, SyncMutation

    with app_on_file(folder, "ingest") as app:
        hub_id, (driver_id,) = _people(app)
        phone = Phone(app, "driver0@bench.test")
        push_times, raw_times = [], []
        for _ in range(5):
            mutations = _day_of_work(_route(app, hub_id, driver_id, 125))
            client_id = str(uuid.uuid4())
            start = time.perf_counter()
            phone.push(mutations, client_id=client_id)
            push_times.append(time.perf_counter() - start)
            with app.app_context():
                # The very rows the push wrote, inserted again by a plain ORM bulk insert.
                client = db.session.scalar(select(SyncClient).where(SyncClient.client_id == client_id))
                records = [
                    {c.key: getattr(row, c.key) for c in SyncMutation.__table__.columns if c.key != "id"}
                    for row in db.session.scalars(select(SyncMutation).where(SyncMutation.sync_client_id == client.id))
                ]
                events = [
                    {c.key: getattr(row, c.key) for c in PickupEvent.__table__.columns if c.key != "id"}
                    for row in db.session.scalars(select(PickupEvent).where(PickupEvent.client_id == client_id))
                ]
                copy = SyncClient(client_id=str(uuid.uuid4()), driver_id=driver_id)
                db.session.add(copy)
                db.session.commit()
                for record in records:
                    record["sync_client_id"] = copy.id
                db.session.expunge_all()
                start = time.perf_counter()
                db.session.execute(insert(SyncMutation), records)
                db.session.execute(insert(PickupEvent), events)
                db.session.commit()
                raw_times.append(time.perf_counter() - start)
        push_s, raw_s = _median(push_times), _median(raw_times)
        report.bench("push_ingest500_ms", push_s * 1000, "ms")
        report.bench("raw_bulk_insert_same_rows_ms", raw_s * 1000, "ms")
        report.ratio("push_ingest_vs_raw_bulk_insert", raw_s / push_s)


def bench_pull(report: Report, folder: Path) -> None:
    from bench.sync_data import insert_pickups

    heads: dict[str, int] = {}
    phones: dict[str, Phone] = {}
    with app_on_file(folder, "pull10k") as small, app_on_file(folder, "pull100k") as large:
        for name, app, count in (("10k", small, 10_000), ("100k", large, 100_000)):
            hub_id, driver_ids = _people(app, drivers=50)
            with app.app_context():
                from app.extensions import db

                heads[name] = insert_pickups(count, hub_id=hub_id, driver_ids=driver_ids)
                db.session.commit()
            phones[name] = Phone(app, "driver7@bench.test")
            phones[name].pull(heads[name])  # first contact: client row, sweep watermark
        samples: dict[str, list[float]] = {"10k": [], "100k": []}
        for _ in range(300):
            for name in ("10k", "100k"):
                start = time.perf_counter()
                body = phones[name].pull(heads[name])
                samples[name].append(time.perf_counter() - start)
                assert body["changes"] == [] and body["reset"] is False
        small_s, large_s = _median(samples["10k"]), _median(samples["100k"])
        report.bench("pull_empty_10k_ms", small_s * 1000, "ms")
        report.bench("pull_empty_100k_ms", large_s * 1000, "ms")
        report.bench("pull_empty_time_100k_over_10k", large_s / small_s, "x")
        report.ratio("pull_empty_100k_vs_10k", small_s / large_s)


def _camera_jpeg() -> bytes:
    """A 12-megapixel phone photo: smooth light with sensor noise, stored sideways with EXIF and GPS."""
    size = (4032, 3024)
    light = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 24)
    picture = Image.merge("RGB", (light, Image.blend(light, noise, 0.35), noise)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 22.0, 1.0)})
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _naive(data: bytes, long_edge: int, thumb_edge: int) -> tuple[bytes, bytes]:
    """What an upload handler usually does: decode everything, then resize."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    scale = long_edge / max(image.size)
    resized = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    thumb = image.resize((round(image.width * thumb_edge / max(image.size)), round(image.height * thumb_edge / max(image.size))), Image.Resampling.LANCZOS)
    outs = []
    for picture in (resized, thumb):
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=85)  # the same encoder settings as ours
        outs.append(out.getvalue())
    return outs[0], outs[1]


def bench_photos(report: Report) -> None:
    from app.photos.processing import normalise_photo

    data = _camera_jpeg()
    ours: Callable[[], Any] = lambda: normalise_photo(data, max_pixels=50_000_000, long_edge=1600, thumb_edge=320, quality=85)
    naive: Callable[[], Any] = lambda: _naive(data, 1600, 320)
    ours()
    naive()
    ours_t, naive_t = [], []
    for _ in range(5):
        for fn, bucket in ((ours, ours_t), (naive, naive_t)):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    report.bench("photo_source_bytes", len(data), "bytes")
    report.bench("photo_pipeline_12mp_ms", _median(ours_t) * 1000, "ms")
    report.bench("photo_naive_12mp_ms", _median(naive_t) * 1000, "ms")
    report.ratio("photo_pipeline_vs_naive", _median(naive_t) / _median(ours_t))


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_push(report, folder)
        bench_ingest(report, folder)
        bench_pull(report, folder)
        bench_photos(report)
