"""Customer emails through the outbox to a real SMTP server on loopback."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.core.models import utcnow
from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.services import deliver_due
from app.pickups import collection
from app.pickups.models import FailureReason, Grade, Pickup
from app.pickups.schemas import pickup_in_schema
from app.pickups.services import create_pickup
from app.pickups.timeline import Evidence
from tests.conftest import pickup_payload
from tests.messages.conftest import text_part, token_of


def _emails(db) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email").order_by(OutboxMessage.id)))


def test_a_rolled_back_change_queues_nothing_and_a_committed_one_queues_once(db, hub):
    create_pickup(pickup_in_schema.load(pickup_payload()), actor=None)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    pickup = create_pickup(pickup_in_schema.load(pickup_payload()), actor=None)
    db.session.commit()
    [message] = _emails(db)
    assert (message.topic, message.recipient, message.pickup_id, message.status) == ("scheduled", "sanne@example.com", pickup.id, MessageStatus.PENDING)


def test_the_scheduled_email_carries_the_link_the_window_and_the_label_pdf(db, create_pickup, smtp_server):
    pickup = create_pickup()
    assert deliver_due() == 1
    [mail] = smtp_server.messages
    assert mail["To"] == "sanne@example.com"
    assert mail["Subject"] == f"Your return pickup {pickup.reference} is booked"
    link = f"http://backhaul.test/r/{token_of(pickup)}"
    text = text_part(mail)
    assert link in text
    local = pickup.window_start.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert local.strftime("%H:%M") in text and "iPhone 13" in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert f'href="{link}"' in html and "<img" not in html and "http://" not in html.replace(link, "")
    [label] = [part for part in mail.iter_attachments()]
    assert label.get_content_type() == "application/pdf"
    assert label.get_filename() == f"return-label-{pickup.label_code}.pdf"
    assert label.get_content().startswith(b"%PDF")
    [row] = _emails(db)
    assert row.status is MessageStatus.SENT and row.attempts == 1 and row.sent_at is not None


def test_the_receipt_lists_what_was_taken_and_when_the_driver_was_at_the_door(db, create_pickup, driver, smtp_server):
    pickup = create_pickup(driver=driver)
    at_the_door = datetime(2026, 3, 3, 9, 41, tzinfo=timezone.utc)
    pickup = db.session.get(Pickup, pickup.id)
    phone, cable = pickup.items
    collection.collect_pickup(
        pickup,
        [collection.CollectedItem(phone.id, 1, Grade.B, "Scratched back", []), collection.CollectedItem(cable.id, 2, Grade.A, None, [])],
        driver=driver,
        evidence=Evidence(server_time=utcnow(), device_time=at_the_door),
        handed_over_by="Sanne",
    )
    db.session.commit()
    deliver_due()
    receipt = next(mail for mail in smtp_server.messages if mail["Subject"].startswith("Receipt"))
    text = text_part(receipt)
    assert "Tuesday 03 March 2026, 10:41" in text  # the device's time, in the hub's zone; not when the phone synced
    assert "1 of 1 × iPhone 13" in text and "condition B" in text and "Scratched back" in text
    assert "2 of 2 × USB-C cable" in text and "handed over by Sanne" in text
    assert f"/r/{token_of(pickup)}" in text
    assert list(receipt.iter_attachments()) == []


def test_not_collected_says_why_in_plain_words_and_links_to_a_new_window(db, create_pickup, driver, smtp_server):
    pickup = db.session.get(Pickup, create_pickup(driver=driver).id)
    collection.fail_pickup(pickup, FailureReason.NOT_HOME, driver=driver, evidence=Evidence(server_time=utcnow()), notes="Neighbour says holiday")
    db.session.commit()
    deliver_due()
    mail = next(mail for mail in smtp_server.messages if "could not collect" in mail["Subject"])
    text = text_part(mail)
    assert "nobody was home" in text and "Choose a new window" in text and f"/r/{token_of(pickup)}" in text
    assert "holiday" not in mail.as_string()  # the driver's own notes stay internal


def test_without_a_mail_server_emails_are_kept_as_not_sent(app, db, create_pickup):
    app.config["SMTP_HOST"] = None
    create_pickup()
    deliver_due()
    [row] = _emails(db)
    assert row.status is MessageStatus.HELD and row.last_error == "not sent: no mail server configured (set SMTP_HOST)"


def test_a_customer_without_an_email_address_gets_none_and_the_dispatcher_sees_it(db, create_pickup, console):
    pickup = create_pickup(customer={"name": "No Mail", "phone": None, "email": None})
    assert _emails(db) == []
    page = console.get(f"/dispatch/pickups/{pickup.id}").get_data(as_text=True)
    assert "no email address: the customer gets no emails" in page
    assert "Resend email" not in page


def test_the_console_shows_the_link_and_the_email_history_and_resends(db, create_pickup, console, smtp_server):
    pickup = create_pickup()
    deliver_due()
    page = console.get(f"/dispatch/pickups/{pickup.id}").get_data(as_text=True)
    assert f"http://backhaul.test/r/{token_of(pickup)}" in page and "delivered to the mail server" in page
    assert console.post(f"/dispatch/pickups/{pickup.id}/email").status_code == 303
    assert console.post(f"/dispatch/pickups/{pickup.id}/email", csrf=False).status_code == 400
    deliver_due()
    assert [mail["Subject"] for mail in smtp_server.messages] == [f"Your return pickup {pickup.reference} is booked"] * 2
    old = token_of(pickup)
    assert console.post(f"/dispatch/pickups/{pickup.id}/customer-link/reissue").status_code == 303
    assert token_of(pickup) != old


def test_a_hub_can_switch_a_kind_off(db, hub, create_pickup):
    hub.emails_off = ["scheduled"]
    db.session.commit()
    create_pickup()
    assert _emails(db) == []


def test_a_mail_server_that_is_down_is_retried_then_the_email_is_dead(app, db, create_pickup):
    from tests.support.server import free_port

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none", OUTBOX_MAX_ATTEMPTS=3)
    create_pickup()
    deliver_due()
    deliver_due()
    deliver_due()
    [row] = _emails(db)
    assert row.status is MessageStatus.DEAD and row.attempts == 3 and "could not reach the mail server" in (row.last_error or "")


def test_backoff_grows_exponentially_with_jitter(app):
    from app.outbox.services import retry_delay

    app.config.update(OUTBOX_RETRY_BASE_SECONDS=30)
    for attempts, nominal in ((1, 30), (2, 60), (3, 120), (6, 960)):
        delays = {retry_delay(attempts) for _ in range(20)}
        assert all(timedelta(seconds=nominal * 0.5) <= d <= timedelta(seconds=nominal * 1.5) for d in delays)
        assert len(delays) > 1  # jitter: retries of many messages do not arrive together
