"""Past days for the demo, so the reports have something to show: pickups collected at the door
(with the driver's arrival and completion times), some failed, and most received at the hub with a
disposition by the rules, a value and a weight; now and then the hub finds a different grade or count.

Everything goes through the services a driver and a clerk use; nothing is written around them.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from app.accounts.models import Role, User
from app.demo.data import CATALOGUE, STREETS
from app.extensions import db
from app.hubs.models import Hub
from app.pickups.collection import CollectedItem, collect_pickup, fail_pickup, record_arrival
from app.pickups.models import FailureReason, Grade, Pickup
from app.pickups.services import assign_pickup, create_pickup
from app.pickups.timeline import Evidence
from app.receiving import rules, services

# Catalogue SKU → (value per unit, kg per unit, category): the demo's prices and weights.
VALUES: dict[str, tuple[str, str, str]] = {
    "PHN-IP13-128": ("420", "0.174", "phone"), "PHN-PX7-128": ("310", "0.197", "phone"),
    "LTP-TP-X1C9": ("680", "1.130", "laptop"), "TAB-IPAD-10": ("290", "0.477", "tablet"),
    "AUD-WH1000": ("240", "0.250", "audio"), "SHO-RUN-43": ("90", "0.600", "apparel"),
    "JKT-RAIN-M": ("70", "0.450", "apparel"), "COF-DELONGHI": ("380", "9.000", "appliance"),
    "VAC-DYSON-V8": ("260", "2.600", "appliance"), "MON-DELL-27": ("220", "6.200", "monitor"),
    "KID-BIKE-16": ("150", "8.500", "bike"), "CHR-OFFICE": ("180", "14.000", "furniture"),
    "BAT-EBIKE-36": ("40", "2.800", "battery"), "TON-HP-305": ("5", "0.600", "toner"),
    "DRS-SUMMER-S": ("45", "0.250", "apparel"), "MIX-KITCHEN": ("420", "10.500", "appliance"),
}


def load_demo_history(*, days: int = 14, per_day: int = 18, today: date | None = None, seed: int = 11) -> int:
    """Add ``days`` past days of finished work for the demo hub; returns how many pickups were added."""
    rng = random.Random(seed)
    hub = db.session.scalar(select(Hub).where(Hub.code == "AMS1"))
    if hub is None or days <= 0:
        return 0
    tz = ZoneInfo(hub.timezone)
    today = today or datetime.now(tz).date()
    drivers = list(db.session.scalars(select(User).where(User.role == Role.DRIVER, User.hub_id == hub.id).order_by(User.id)))
    clerk = db.session.scalar(select(User).where(User.role == Role.HUB, User.hub_id == hub.id).order_by(User.id))
    dispatcher = db.session.scalar(select(User).where(User.role == Role.DISPATCHER).order_by(User.id))
    if not drivers or clerk is None:
        return 0
    table = rules.rules_for(hub.id)
    added = 0
    # When each pickup last changed, as it would have on its own day (the services stamp "now"): a
    # driver's phone shows a past day's finished pickup only while its last change is recent, so a
    # history stamped today would fill today's "Done today" with two weeks of work.
    last_changed: dict[int, datetime] = {}
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() == 6:
            continue  # no rounds on Sunday
        for n in range(per_day + rng.randint(-4, 4)):
            street, postcode, lat, lon = STREETS[(back * 7 + n) % len(STREETS)]
            start = datetime.combine(day, time(8 + n % 9, rng.choice([0, 30])), tzinfo=tz)
            goods = rng.sample(CATALOGUE, rng.choice([1, 1, 2]))
            pickup = create_pickup(
                {
                    "reference": f"RMA-{day:%y%m%d}-H{n + 1:03d}",
                    "customer": {"name": f"Demo customer {back}-{n}", "phone": None, "email": None},
                    "address": {"line1": f"{street} {rng.randint(1, 300)}", "line2": None, "city": "Amsterdam",
                                "postcode": postcode, "country": "NL", "lat": lat, "lon": lon},
                    "window": {"start": start, "end": start + timedelta(hours=2)},
                    "notes": "",
                    "items": [
                        {"sku": sku, "description": desc, "quantity": 1, "reason": reason, "category": VALUES[sku][2],
                         "value": Decimal(VALUES[sku][0]), "weight_kg": Decimal(VALUES[sku][1])}
                        for sku, desc, reason in goods
                    ],
                    "hub_id": hub.id,
                },
                actor=dispatcher,
                source="demo",
            )
            driver = drivers[n % len(drivers)]
            assign_pickup(pickup, driver, actor=dispatcher)
            arrived = start + timedelta(minutes=rng.randint(5, 100))
            record_arrival(pickup, driver=driver, evidence=Evidence(server_time=arrived, device_time=arrived))
            done = arrived + timedelta(minutes=rng.randint(2, 9), seconds=rng.randint(0, 59))
            if rng.random() < 0.12:
                reason = rng.choice([FailureReason.NOT_HOME, FailureReason.NOT_HOME, FailureReason.ITEM_NOT_READY, FailureReason.REFUSED, FailureReason.ADDRESS_PROBLEM])
                fail_pickup(pickup, reason, driver=driver, evidence=Evidence(server_time=done, device_time=done))
                added += 1
                last_changed[pickup.id] = done
                continue
            # At the door the driver sees A or B (C and D need photos, which a demo does not have).
            door = {item.id: rng.choice([Grade.A, Grade.A, Grade.B]) for item in pickup.items}
            collect_pickup(
                pickup, [CollectedItem(item.id, item.quantity, door[item.id], None, ()) for item in pickup.items],
                driver=driver, evidence=Evidence(server_time=done, device_time=done),
            )
            added += 1
            last_changed[pickup.id] = done
            if back <= 1 and n % 3 == 0:
                continue  # yesterday's last parcels are still on their way to the hub
            lines = []
            for item in pickup.items:
                grade = door[item.id]
                if rng.random() < 0.1:
                    grade = rng.choice([Grade.C, Grade.D])  # the hub looks closer than the doorstep
                quantity = 0 if rng.random() < 0.02 else item.quantity
                suggestion = rules.suggest(table, reason=item.reason, category=item.category, grade=grade)
                disposition = suggestion.disposition.value if suggestion else "refurbish"
                lines.append(services.ItemCheck(item.id, quantity, grade, disposition))
            services.receive_pickup(pickup, lines, actor=clerk)
            last_changed[pickup.id] = done + timedelta(hours=2)  # received when the van was back
    db.session.flush()
    if last_changed:
        db.session.execute(update(Pickup), [{"id": pickup_id, "updated_at": at} for pickup_id, at in last_changed.items()])
    return added
