"""The report's recovery figures, computed by hand for a seeded day and compared with the page and its CSV."""
import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from app.pickups.models import FailureReason, Grade, PickupStatus
from app.pickups.services import change_status
from app.receiving import services
from app.reports.figures import build_report

DAY = date(2030, 3, 4)
WINDOW = {"start": datetime(2030, 3, 4, 9, tzinfo=timezone.utc).isoformat(), "end": datetime(2030, 3, 4, 11, tzinfo=timezone.utc).isoformat()}
ITEMS = [
    {"sku": "PHN-IP13", "description": "iPhone 13", "quantity": 1, "reason": "Trade-in", "value": "400.00", "weight_kg": "0.200"},
    {"sku": "CBL-USB", "description": "USB-C cable", "quantity": 2, "reason": "", "value": 10, "weight_kg": 0.05},
]


@pytest.fixture
def seeded_day(collected_pickup, create_pickup, create_user, driver, db):  # type: ignore[no-untyped-def]
    """Two pickups received (one grade corrected), one failed, on 4 March 2030."""
    clerk = create_user("hub")
    first = collected_pickup(window=WINDOW, items=ITEMS)
    phone, cable = first.items
    services.receive_pickup(first, [services.ItemCheck(phone.id, 1, Grade.A, "resell"), services.ItemCheck(cable.id, 2, Grade.D, "dispose")], actor=clerk)
    second = collected_pickup(window=WINDOW, items=ITEMS)
    phone, cable = second.items
    services.receive_pickup(second, [services.ItemCheck(phone.id, 1, Grade.C, "refurbish"), services.ItemCheck(cable.id, 2, Grade.D, "recycle")], actor=clerk)
    failed = create_pickup(driver=driver, window=WINDOW)
    change_status(failed, PickupStatus.FAILED, actor=driver, kind="failed")
    failed.failure_reason = FailureReason.NOT_HOME
    db.session.commit()
    # By hand: resell 400 × 0.6 = 240; dispose 0; refurbish 400 × 0.4 = 160; recycle 2 × 10 × 0.05 = 1.
    # Kept: 0.2 (resell) + 0.2 (refurbish) + 2 × 0.05 (recycle) = 0.5 kg; landfill: 2 × 0.05 disposed = 0.1 kg.
    return {"recovered": Decimal("401.00"), "kept": Decimal("0.500"), "landfill": Decimal("0.100")}


def _csv(client, table, day=DAY):  # type: ignore[no-untyped-def]
    response = client.get(f"/dispatch/reports.csv?from={day}&to={day}&table={table}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_recovered_value_and_landfill_weight_match_a_sum_by_hand(seeded_day, hub):
    report = build_report(start=DAY, end=DAY, tz_name=hub.timezone)
    assert report.recovered_value == seeded_day["recovered"]
    assert report.kept_kg == seeded_day["kept"]
    assert report.landfill_kg == seeded_day["landfill"]
    [day] = report.days
    assert (day.planned, day.collected, day.partly, day.failed) == (3, 2, 0, 1)
    assert (day.recovered_value, day.kept_kg) == (seeded_day["recovered"], seeded_day["kept"])
    assert report.dispositions[services.Disposition.RESELL].recovered_value == Decimal("240.00")
    assert [(line.name, line.total) for line in report.discrepancies] == [("Driss Driver", 1)]
    assert (report.first_attempt_successes, report.attempted) == (2, 3)


def test_the_page_and_its_csv_say_the_same(api_client, dispatcher, seeded_day):
    client = api_client(dispatcher).raw
    page = client.get(f"/dispatch/reports?from={DAY}&to={DAY}").get_data(as_text=True)
    assert "401.00" in page and "0.5 kg" in page and "0.1 kg" in page
    assert page.count('<svg class="chart"') == 5 and 'role="img"' in page
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]  # the charts need no script
    summary = dict(_csv(client, "summary")[1:])
    assert (summary["recovered_value"], summary["kept_from_landfill_kg"], summary["landfill_kg"]) == ("401.00", "0.500", "0.100")
    assert summary["first_attempt_success_percent"] == "66.7"
    days = _csv(client, "days")
    assert days[0] == ["day", "planned", "collected", "partly_collected", "failed", "recovered_value", "kept_from_landfill_kg"]
    assert days[1] == ["2030-03-04", "3", "2", "0", "1", "401.00", "0.500"]
    mix = {row[0]: row for row in _csv(client, "dispositions")[1:]}
    assert mix["resell"][1:4] == ["1", "1", "240.00"] and mix["dispose"][4:] == ["0.000", "0.100"]
    discrepancies = _csv(client, "discrepancies")
    assert discrepancies[0] == ["driver", "quantity", "grade", "missing", "extra", "total"]
    assert discrepancies[1] == ["Driss Driver", "0", "1", "0", "0", "1"]


def test_an_unknown_table_is_a_422_and_the_old_urls_still_work(api_client, dispatcher):
    client = api_client(dispatcher).raw
    response = client.get(f"/dispatch/reports.csv?from={DAY}&to={DAY}&table=secrets")
    assert response.status_code == 422
    assert client.get(f"/dispatch/reports/dispositions.csv?from={DAY}&to={DAY}").status_code == 200
    assert client.get("/dispatch/reports.csv?from=2030-03-10&to=2030-03-01&table=days").status_code == 422


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(api_client, dispatcher, create_user, collected_pickup, db):
    sneaky = create_user("driver", name="x;=1+1")
    clerk = create_user("hub")
    pickup = collected_pickup(window=WINDOW)
    pickup.driver_id = sneaky.id
    db.session.commit()
    services.receive_pickup(pickup, [services.ItemCheck(i.id, 0, None, None) for i in pickup.items], actor=clerk)
    db.session.commit()
    rows = _csv(api_client(dispatcher).raw, "discrepancies")
    assert rows[1][0] == "x;'=1+1"


@pytest.mark.parametrize("role", ["driver", "hub"])
def test_drivers_and_clerks_cannot_read_the_reports(api_client, create_user, role):
    client = api_client(create_user(role)).raw
    assert client.get("/dispatch/reports").status_code == 403
    assert client.get(f"/dispatch/reports.csv?from={DAY}&to={DAY}&table=summary").status_code == 403
