"""A big driver's day for the phone benchmarks: one driver, BENCH_PHONE_STOPS stops today (200), 4 items each.

Made through the pickup services (as an import would), so route positions, label codes and change
numbers are what the app itself writes. Every stop has its own door: the figures are per stop.
"""
from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from app.demo.data import DEMO_PASSWORD, TIMEZONE, load_demo_data
from app.extensions import db

STOPS = int(os.environ.get("BENCH_PHONE_STOPS", "200"))
ITEMS_PER_STOP = 4
DRIVER = "driver1@backhaul.test"
PASSWORD = DEMO_PASSWORD


def seed_phone_day(app: Flask, stops: int = STOPS) -> None:
    from app.accounts.models import User
    from app.pickups.services import assign_pickup, create_pickup

    with app.app_context():
        load_demo_data(drivers=1, pickups=0)
        driver = db.session.query(User).filter_by(email=DRIVER).one()
        dispatcher = db.session.query(User).filter_by(email="dispatcher@backhaul.test").one()
        tz = ZoneInfo(TIMEZONE)
        today = datetime.now(tz).date()
        for n in range(stops):
            # Windows spread over the working day, all today in the hub's time zone.
            start = datetime.combine(today, time(8, 0), tzinfo=tz) + timedelta(minutes=(n * 540) // max(stops, 1))
            pickup = create_pickup(
                {
                    "reference": f"PHONE-{n:04d}",
                    "customer": {"name": f"Customer {n:03d}", "phone": f"+31 6 {10000000 + n}", "email": None},
                    "address": {"line1": f"Bench Street {n + 1}", "line2": None, "city": "Amsterdam", "postcode": "1011 AA",
                                "country": "NL", "lat": 52.36 + n * 0.0001, "lon": 4.88 + n * 0.0001},
                    "window": {"start": start, "end": start + timedelta(hours=2)},
                    "notes": "Ring twice." if n % 3 == 0 else "",
                    "items": [{"sku": f"SKU-{n:03d}-{k}", "description": f"Returned thing {k + 1}", "quantity": 1 + k % 2, "reason": "changed mind"}
                              for k in range(ITEMS_PER_STOP)],
                    "hub_id": driver.hub_id,
                },
                actor=dispatcher,
                source="created",
            )
            assign_pickup(pickup, driver, actor=dispatcher)
        db.session.commit()
        db.session.remove()
