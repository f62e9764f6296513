"""The morning-of reminder: queued ahead for the pickup's day, sent that morning, skipped when no longer true."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core.models import utcnow
from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.services import deliver_due
from app.pickups.models import Pickup
from app.pickups.services import cancel_pickup, update_pickup

AMS = ZoneInfo("Europe/Amsterdam")


def _window(day: date, hour: int = 10) -> dict[str, str]:
    start = datetime.combine(day, time(hour), AMS)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}


def _reminders(db) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "on_the_day").order_by(OutboxMessage.id)))


def _come_due(db, message: OutboxMessage) -> None:  # type: ignore[no-untyped-def]
    """The morning it was queued for has come (the test cannot wait a night)."""
    message.next_attempt_at = message.due_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_a_pickup_assigned_the_day_before_is_reminded_of_at_seven_on_its_day(db, create_pickup, driver, dispatcher, smtp_server):
    tomorrow = datetime.now(AMS).date() + timedelta(days=1)
    pickup = create_pickup(driver=driver, window=_window(tomorrow))
    [reminder] = _reminders(db)
    assert reminder.status is MessageStatus.PENDING and reminder.scheduled
    assert reminder.due_at == datetime.combine(tomorrow, time(7), AMS).astimezone(timezone.utc) == reminder.next_attempt_at
    # Tonight only the booking goes; the reminder waits for the morning.
    assert deliver_due() == 1
    assert [mail["Subject"] for mail in smtp_server.messages] == [f"Your return pickup {pickup.reference} is booked"]

    # The dispatcher moves it to today, late (past seven whenever the test runs): its reminder is due now.
    today = datetime.now(AMS).date()
    pickup = db.session.get(Pickup, pickup.id)
    update_pickup(pickup, {"window": {"start": datetime.combine(today, time(23), AMS), "end": datetime.combine(today, time(23, 59), AMS)}}, actor=dispatcher)
    db.session.commit()
    first, moved = _reminders(db)
    seven_today = datetime.combine(today, time(7), AMS)
    if moved.created_at >= seven_today:
        assert not moved.scheduled  # moved to today after seven: due at once
    else:
        assert moved.scheduled and moved.due_at == seven_today.astimezone(timezone.utc)  # before seven: due at seven
    if moved.due_at > utcnow():
        _come_due(db, moved)
    assert deliver_due() == 1
    assert smtp_server.messages[-1]["Subject"] == f"Your return pickup {pickup.reference} is today"
    # Yesterday's reminder, once due, finds the customer reminded already: skipped, not sent twice.
    _come_due(db, first)
    assert deliver_due() == 1
    [first, moved] = _reminders(db)
    assert (first.status, first.last_error) == (MessageStatus.SKIPPED, "not sent: the customer already had today's reminder")
    assert moved.status is MessageStatus.SENT and len(smtp_server.messages) == 2


def test_a_reminder_for_a_pickup_moved_away_or_cancelled_is_skipped_with_why(db, create_pickup, driver, dispatcher, smtp_server):
    today = datetime.now(AMS).date()
    moved = create_pickup(driver=driver, window=_window(today + timedelta(days=1)))
    cancelled = create_pickup(driver=driver, window=_window(today + timedelta(days=1)))
    update_pickup(db.session.get(Pickup, moved.id), {"window": {"start": datetime.combine(today + timedelta(days=2), time(9), AMS), "end": datetime.combine(today + timedelta(days=2), time(11), AMS)}}, actor=dispatcher)
    cancel_pickup(db.session.get(Pickup, cancelled.id), "Customer kept it", actor=dispatcher)
    db.session.commit()
    first_moved, first_cancelled, second_moved = _reminders(db)
    assert second_moved.pickup_id == moved.id and second_moved.due_at == datetime.combine(today + timedelta(days=2), time(7), AMS).astimezone(timezone.utc)
    _come_due(db, first_moved)
    _come_due(db, first_cancelled)
    deliver_due()
    first_moved, first_cancelled, second_moved = _reminders(db)
    assert (first_moved.status, first_moved.last_error) == (MessageStatus.SKIPPED, "not sent: the pickup is not today any more")
    assert (first_cancelled.status, first_cancelled.last_error) == (MessageStatus.SKIPPED, "not sent: the pickup is cancelled, not on a driver's route")
    assert second_moved.scheduled
    assert not [mail for mail in smtp_server.messages if "is today" in mail["Subject"]]


def test_a_window_that_opens_before_seven_is_reminded_of_when_it_opens(db, create_pickup, driver):
    tomorrow = datetime.now(AMS).date() + timedelta(days=1)
    create_pickup(driver=driver, window=_window(tomorrow, hour=6))
    [reminder] = _reminders(db)
    assert reminder.due_at == datetime.combine(tomorrow, time(6), AMS).astimezone(timezone.utc)


def test_scheduled_reminders_are_not_a_backlog_on_metrics_or_the_outbox_page(app, db, create_pickup, driver, console):
    tomorrow = datetime.now(AMS).date() + timedelta(days=1)
    pickup = create_pickup(driver=driver, window=_window(tomorrow))
    app.config["METRICS_TOKEN"] = "scrape-me"
    text = app.test_client().get("/metrics", headers={"Authorization": "Bearer scrape-me"}).text
    lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("backhaul_outbox")}
    assert lines['backhaul_outbox_depth{status="scheduled"}'] == 1
    assert lines['backhaul_outbox_depth{status="pending"}'] == 1  # the booking email, due now
    page = console.get("/dispatch/outbox/").get_data(as_text=True)
    assert 'outbox-pending">scheduled</span>' in page  # the status, not the booking email's kind
    detail = console.get(f"/dispatch/pickups/{pickup.id}").get_data(as_text=True)
    assert "to be sent" in detail
