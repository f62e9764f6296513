"""The dispatcher's outbox and webhooks pages: who sees them, CSRF on every action, re-sending."""
from __future__ import annotations

from sqlalchemy import select

from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.services import deliver_due


def test_the_outbox_page_shows_messages_by_status_and_retries_a_held_one(app, db, console, create_pickup, smtp_server):
    app.config["SMTP_HOST"] = None
    pickup = create_pickup()
    deliver_due()
    page = console.get("/dispatch/outbox/").get_data(as_text=True)
    assert "not sent" in page and "sanne@example.com" in page and "No mail server is configured" in page
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert console.post(f"/dispatch/outbox/{row.id}/resend", csrf=False).status_code == 400
    assert db.session.get(OutboxMessage, row.id).status is MessageStatus.HELD
    app.config["SMTP_HOST"] = "127.0.0.1"
    assert console.post(f"/dispatch/outbox/{row.id}/resend").status_code == 303
    deliver_due()
    assert db.session.get(OutboxMessage, row.id).status is MessageStatus.SENT
    assert [mail["Subject"] for mail in smtp_server.messages] == [f"Your return pickup {pickup.reference} is booked"]
    held = console.get("/dispatch/outbox/?status=held").get_data(as_text=True)
    assert "Nothing here." in held


def test_drivers_and_clerks_do_not_see_the_outbox_or_webhooks(console_for, create_user):
    for role in ("driver", "hub"):
        client = console_for(create_user(role))
        assert client.get("/dispatch/outbox/").status_code == 403
        assert client.get("/dispatch/webhooks/").status_code == 403


def test_admins_register_webhooks_in_the_console_and_dispatchers_only_look(db, console, console_for, create_user, receiver, create_pickup):
    admin = console_for(create_user("admin"))
    assert admin.post("/dispatch/webhooks/", data={"url": receiver.url, "events": ["pickup.created"]}, csrf=False).status_code == 400
    refused = admin.post("/dispatch/webhooks/", data={"url": "gopher://x", "events": ["pickup.created"]})
    assert refused.status_code == 422 and "Give an http:// or https:// URL." in refused.get_data(as_text=True)
    created = admin.post("/dispatch/webhooks/", data={"url": receiver.url, "events": ["pickup.created"], "description": "Shop"})
    assert created.status_code == 303
    endpoint_page = created.headers["Location"]
    assert "whsec_" in admin.get(endpoint_page).get_data(as_text=True)
    create_pickup()
    deliver_due()
    log = console.get(endpoint_page).get_data(as_text=True)
    assert "pickup.created" in log and "delivered" in log and "whsec_" not in log  # dispatchers do not see the secret
    assert console.post("/dispatch/webhooks/", data={"url": receiver.url, "events": ["pickup.created"]}).status_code == 403
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")).all()
    assert console.post(f"{endpoint_page}/deliveries/{message.id}/replay").status_code == 303
    deliver_due()
    assert len(receiver.requests) == 2
