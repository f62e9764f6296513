from app.accounts.models import Role, User
from app.pickups.models import Pickup, PickupStatus


def test_demo_data_makes_a_realistic_day_and_is_not_loaded_twice(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data", "--if-empty", "--history-days", "0"])
    assert result.exit_code == 0, result.output
    assert "dispatcher@backhaul.test" in result.output and "backhaul-demo" in result.output
    assert db.session.query(User).filter_by(role=Role.DRIVER).count() == 3
    pickups = db.session.query(Pickup).all()
    assert len(pickups) == 40 + 3  # and three at one office, for driver 1: one stop on the phone
    door = [p for p in pickups if p.address_line1 == "Herengracht 182"]
    assert len(door) == 3 and {p.driver.email for p in door} == {"driver1@backhaul.test"}
    assert all(p.lat and p.lon and p.items for p in pickups)
    assert {p.status for p in pickups} == {PickupStatus.ASSIGNED, PickupStatus.UNASSIGNED}
    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert "already has data" in again.output
    assert "driver1@backhaul.test" in again.output  # a second `make run` still says how to log in
    assert db.session.query(Pickup).count() == 43


def test_demo_history_gives_the_reports_received_days_with_value_and_landfill(app, db):
    from datetime import date, timedelta

    from app.hubs.services import find_hub_by_code
    from app.receiving.models import ItemDisposition
    from app.reports.figures import build_report

    result = app.test_cli_runner().invoke(args=["demo-data", "--pickups", "5", "--history-days", "3"])
    assert result.exit_code == 0, result.output
    assert db.session.query(ItemDisposition).count() > 0
    statuses = {p.status for p in db.session.query(Pickup)}
    assert {PickupStatus.RECEIVED, PickupStatus.FAILED} <= statuses
    hub = find_hub_by_code("AMS1")
    today = date.today()
    report = build_report(start=today - timedelta(days=4), end=today, tz_name=hub.timezone, hub_id=hub.id)
    assert report.recovered_value > 0 and report.kept_kg > 0
    assert report.average_stop_seconds is not None and 120 <= report.average_stop_seconds <= 600


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_html_404_is_a_page_not_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)


def test_root_sends_anonymous_people_to_login(client):
    assert client.get("/").headers["Location"].endswith("/login")


def test_health_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok", "checks": {"database": "ok", "photo_storage": "ok"}}


def test_make_run_on_a_later_day_moves_the_open_demo_pickups_to_today(app, db):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from app.demo.data import load_demo_data
    from app.demo.history import load_demo_history

    tz = ZoneInfo("Europe/Amsterdam")
    today = datetime.now(tz).date()
    load_demo_data(drivers=2, pickups=6, day=today - timedelta(days=3))
    load_demo_history(days=3, per_day=6, today=today - timedelta(days=3))
    db.session.commit()
    history = {p.id: p.window_start for p in db.session.query(Pickup).filter(Pickup.status != PickupStatus.ASSIGNED, Pickup.status != PickupStatus.UNASSIGNED)}
    assert any(p.status == PickupStatus.FAILED for p in db.session.query(Pickup))
    before = {p.id: p.window_start.astimezone(tz).time() for p in db.session.query(Pickup).filter(Pickup.id.notin_(history))}
    routes = {p.id: (p.driver_id, p.route_position) for p in db.session.query(Pickup).filter(Pickup.id.notin_(history))}
    result = app.test_cli_runner().invoke(args=["demo-data", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Moved 9 open demo pickups to today" in result.output
    db.session.expire_all()
    # Failed, collected and received history stays on its own days; only what is still to do moves.
    assert {p.id: p.window_start for p in db.session.query(Pickup).filter(Pickup.id.in_(history))} == history
    pickups = db.session.query(Pickup).filter(Pickup.id.notin_(history)).all()
    assert {p.window_start.astimezone(tz).date() for p in pickups} == {today}
    assert {p.id: p.window_start.astimezone(tz).time() for p in pickups} == before  # same time of day
    assert {p.id: (p.driver_id, p.route_position) for p in pickups} == routes  # routes untouched
    assert all(p.window_end > p.window_start for p in pickups)
    # Run again the same day: nothing to move.
    assert "Moved" not in app.test_cli_runner().invoke(args=["demo-data", "--if-empty"]).output


def test_the_demo_history_stays_off_the_drivers_phones(app, db, api_client):
    """A newcomer's driver sees today's route and what they did today, not two weeks of history in "Done today"."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from app.accounts.models import User
    from app.demo.data import DEMO_PASSWORD, load_demo_data
    from app.demo.history import load_demo_history

    tz = ZoneInfo("Europe/Amsterdam")
    today = datetime.now(tz).date()
    load_demo_data(drivers=2, pickups=6, day=today)
    # Its days end the day before yesterday: each one's work finished more than a day ago, at any hour the test runs.
    past = load_demo_history(days=3, per_day=6, today=today - timedelta(days=1))
    db.session.commit()
    assert past > 0
    driver = db.session.query(User).filter(User.email == "driver1@backhaul.test").one()
    answer = api_client(driver, DEMO_PASSWORD).get("/api/v1/sync/pull?client_id=demo-phone").json
    days = {datetime.fromisoformat(c["data"]["window"]["start"]).astimezone(tz).date() for c in answer["changes"] if c["op"] == "put"}
    assert days and min(days) == today
    # The history is there (for the reports), this driver's included: it is only not on the phone.
    start_of_today = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    assert db.session.query(Pickup).filter(Pickup.driver_id == driver.id, Pickup.window_start < start_of_today - timedelta(days=1)).count() > 0
