"""Dispatcher console: how long a 5,000-row CSV import takes, and what the bulk path saves.

``BENCH dispatch_import_parse_5000_rows``   checking every row (the preview)
``BENCH dispatch_import_commit_5000_rows``  parse again + create 2,500 pickups and 5,000 items
``RATIO dispatch_import_bulk_vs_create_pickup_loop``  creating the same 500 checked pickups
    one ``create_pickup`` + ``assign_pickup`` at a time, divided by the bulk path's time
``BENCH dispatch_board_page_*``             rendering the board: the demo day, and a page of the imported day
"""
from __future__ import annotations

import csv
import io
import re
import time

from bench.harness import Report, bench_app, best_of, interleaved


def _csv(rows: int, prefix: str, driver_email: str) -> str:
    from app.dispatch.imports import ALL_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ALL_COLUMNS))
    writer.writeheader()
    for n in range(rows):
        writer.writerow({
            "reference": f"{prefix}-{n // 2:06d}", "customer_name": "Zoë Ørsted", "line1": "Prinsengracht 263, achter",
            "city": "Amsterdam", "postcode": "1016 GV", "country": "NL", "window_start": "2030-03-04 09:00",
            "window_end": "2030-03-04 11:00", "sku": f"SKU-{n}", "description": "Laptop, 14\"", "quantity": 1 + n % 3,
            "driver_email": driver_email if n % 4 < 2 else "",
        })
    return out.getvalue()


def run(report: Report) -> None:
    from app.accounts.services import find_user_by_email
    from app.demo.data import load_demo_data
    from app.dispatch import imports
    from app.extensions import db
    from app.pickups.services import assign_pickup, create_pickup

    with bench_app() as app:
        logins = load_demo_data()
        db.session.commit()
        dispatcher = find_user_by_email(logins.dispatcher)
        driver_email = logins.drivers[0]
        hub = dispatcher.hub

        text = _csv(5000, "BENCH", driver_email)
        report.bench("dispatch_import_parse_5000_rows", best_of(lambda: imports.parse_import(text, default_hub=hub), repeat=3), "s")

        csv_import = imports.store_import(text.encode(), filename="bench.csv", uploader=dispatcher, hub=hub)
        start = time.perf_counter()
        imports.commit_import(csv_import.id, actor=dispatcher)
        db.session.commit()
        report.bench("dispatch_import_commit_5000_rows", time.perf_counter() - start, "s")

        # The same 500 pickups, bulk vs one service call each (each timed on fresh references, rolled back).
        def plans(prefix: str) -> list[imports.PlannedPickup]:
            return imports.parse_import(_csv(1000, prefix, driver_email), default_hub=hub).pickups

        bulk_plans, loop_plans = plans("BULK"), plans("LOOP")

        def bulk() -> None:
            imports.create_imported_pickups(bulk_plans, actor=dispatcher, import_id=None)
            db.session.flush()
            db.session.rollback()

        def one_by_one() -> None:
            for plan in loop_plans:
                pickup = create_pickup(plan.data, actor=dispatcher, source="imported")
                if plan.driver is not None:
                    assign_pickup(pickup, plan.driver, actor=dispatcher)
            db.session.flush()
            db.session.rollback()

        bulk_time, loop_time = interleaved(bulk, one_by_one, rounds=3)
        report.bench("dispatch_import_bulk_create_500_pickups", bulk_time, "s")
        report.bench("dispatch_import_loop_create_500_pickups", loop_time, "s")
        report.ratio("dispatch_import_bulk_vs_create_pickup_loop", loop_time / bulk_time)

        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login", data={"email": logins.dispatcher, "password": logins.password, "csrf_token": token})
        day = "2030-03-04"
        client.get(f"/dispatch/?date={day}")
        report.bench("dispatch_board_page_2500_pickups", best_of(lambda: client.get(f"/dispatch/?date={day}"), repeat=5), "s")
        report.bench("dispatch_board_page_40_pickups", best_of(lambda: client.get("/dispatch/"), repeat=5), "s")
