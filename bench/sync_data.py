"""Large pickup tables, fast: bulk inserts for the sync benchmarks and query-plan tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert

from app.extensions import db
from app.pickups.models import Pickup, PickupStatus

try:
    from app.pickups.changes import advance_change_numbers, newest_change_number
except ImportError:  # a checkout from before the change sequence, measured as a baseline (bench_fleet)
    from sqlalchemy import select, update

    from app.pickups.models import ChangeCounter

    def advance_change_numbers(last: int) -> None:
        db.session.execute(update(ChangeCounter).where(ChangeCounter.id == 1).values(value=last))

    def newest_change_number() -> int:
        return db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0
from app.sync.models import SyncTombstone

STATUSES = [PickupStatus.ASSIGNED, PickupStatus.COLLECTED, PickupStatus.FAILED, PickupStatus.RECEIVED, PickupStatus.CANCELLED]


def insert_pickups(count: int, *, hub_id: int, driver_ids: list[int], start_seq: int | None = None, chunk: int = 5000, tag: str = "") -> int:
    """Insert ``count`` pickups spread over the drivers, each with its own change number; answer the last number.

    Also leaves one tombstone per 20 pickups, as reassignments would. Items are
    left out: a pull that finds no change never reads them.
    """
    now = datetime.now(timezone.utc)
    # After the numbers already handed out, so a pull's watermark covers the new rows.
    seq = newest_change_number() if start_seq is None else start_seq
    for offset in range(0, count, chunk):
        rows: list[dict[str, Any]] = []
        tombstones: list[dict[str, Any]] = []
        for n in range(offset, min(count, offset + chunk)):
            seq += 1
            start = now - timedelta(days=n % 400, hours=n % 9)
            rows.append(
                {
                    "reference": f"BULK{tag}-{n:07d}",
                    "status": STATUSES[n % len(STATUSES)],
                    "hub_id": hub_id,
                    "customer_name": f"Customer {n}",
                    "customer_phone": None,
                    "customer_email": None,
                    "address_line1": f"{n % 300} Long Street",
                    "address_line2": None,
                    "city": "Amsterdam",
                    "postcode": "1011 AA",
                    "country": "NL",
                    "lat": None,
                    "lon": None,
                    "window_start": start,
                    "window_end": start + timedelta(hours=2),
                    "notes": "",
                    "access_notes": "",
                    "driver_id": driver_ids[n % len(driver_ids)] if driver_ids else None,
                    "route_position": n // max(1, len(driver_ids)),
                    "scan_required": False,
                    "label_code": f"B{tag}{n:09d}",
                    "version": 3,
                    "change_seq": seq,
                    "created_at": start - timedelta(days=2),
                    "updated_at": start,
                }
            )
        db.session.execute(insert(Pickup), rows)
        if driver_ids:
            first_id = db.session.query(Pickup.id).filter(Pickup.reference == rows[0]["reference"]).scalar()
            for k in range(0, len(rows), 20):
                seq += 1
                tombstones.append(
                    {
                        "driver_id": driver_ids[(offset + k + 1) % len(driver_ids)],
                        "pickup_id": first_id + k,
                        "change_seq": seq,
                        "reason": "reassigned",
                        "created_at": now,
                    }
                )
            db.session.execute(insert(SyncTombstone), tombstones)
    advance_change_numbers(seq)
    return seq
