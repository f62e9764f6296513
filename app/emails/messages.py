"""Composing a customer's email from the pickup as it is when it is sent: subject, text, HTML, attachments.

Rendered at delivery, not when queued: a CSV import of 20,000 pickups queues
20,000 small rows instead of rendering 20,000 emails and label PDFs inside its
transaction, and the link in the email is the one that works now.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from app.labels.rendering import render_label
from app.labels.services import customer_url, label_content
from app.pickups.doorstep import doorstep
from app.pickups.models import FailureReason, Pickup, PickupEvent, PickupStatus
from app.pickups.vocabulary import GRADE_LABELS

# The kinds of email, in the order a pickup goes through them, and their subjects.
KINDS = {
    "scheduled": "Your return pickup {reference} is booked",
    "rebooked": "Your return pickup {reference} has a new window",
    "on_the_day": "Your return pickup {reference} is today",
    "collected": "Receipt: we collected your return {reference}",
    "not_collected": "We could not collect your return {reference}",
    "received": "Your return {reference} arrived at our hub",
}
# Plain words for the customer (the console's labels are written for staff).
_FAILURE_WORDS = {
    FailureReason.NOT_HOME: "nobody was home when our driver came",
    FailureReason.REFUSED: "the parcel was not handed over",
    FailureReason.ITEM_NOT_READY: "the item was not ready to go",
    FailureReason.WRONG_ITEM: "the item was not the one we expected",
    FailureReason.ADDRESS_PROBLEM: "our driver could not find or reach the address",
    FailureReason.UNSAFE: "our driver could not collect safely",
    FailureReason.OTHER: "our driver could not collect it",
}


@dataclass
class Composed:
    subject: str
    text: str
    html: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # filename, MIME type, content


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%A %d %B %Y, %H:%M") if moment else ""


def _last_event(pickup: Pickup, *kinds: str) -> PickupEvent | None:
    found = [event for event in pickup.events if event.kind in kinds]
    return found[-1] if found else None


def compose(kind: str, pickup: Pickup, facts: dict[str, Any] | None = None) -> Composed:
    """The email of ``kind`` for this pickup, as it stands now."""
    zone = ZoneInfo(pickup.hub.timezone or "UTC")
    collected = _last_event(pickup, PickupStatus.COLLECTED.value, PickupStatus.PARTIALLY_COLLECTED.value)
    context: dict[str, Any] = {
        "kind": kind,
        "pickup": pickup,
        "hub": pickup.hub,
        "link": customer_url(pickup),
        "window_start": _local(pickup.window_start, zone),
        "window_end": pickup.window_end.astimezone(zone).strftime("%H:%M"),
        "timezone": pickup.hub.timezone or "UTC",
        "items": [item for item in pickup.items if kind != "collected" or item.collected_quantity],
        "grade_words": {grade.value: words for grade, words in GRADE_LABELS.items()},
        "failure": _FAILURE_WORDS.get(pickup.failure_reason, "") if pickup.failure_reason else "",
        "failure_label": doorstep().failure_label(pickup.failure_reason) if pickup.failure_reason else "",
        # The receipt dates the visit by the driver's device: when they were at the door, not when the phone synced.
        "collected_at": _local((collected.device_time or collected.server_time) if collected else None, zone),
        "handed_over_by": (collected.data or {}).get("handed_over_by") if collected else None,
        "facts": facts or {},
    }
    subject = KINDS[kind].format(reference=pickup.reference)
    composed = Composed(
        subject=subject,
        text=render_template(f"emails/{kind}.txt", **context),
        html=render_template("emails/layout.html", subject=subject, body=f"emails/{kind}.html", **context),
    )
    if kind in ("scheduled", "rebooked"):
        pdf = render_label(label_content(pickup), "pdf")
        composed.attachments.append((f"return-label-{pickup.label_code}.pdf", "application/pdf", pdf))
    return composed


def build_email(composed: Composed, *, to: str, message_key: str) -> EmailMessage:
    """The MIME message: text and HTML alternatives, then the attachments; a Message-ID stable per outbox row."""
    message = EmailMessage()
    message["Subject"] = composed.subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    # The same outbox row always has the same Message-ID: a retry after a lost answer is recognisably the same mail.
    message["Message-ID"] = f"<backhaul-{message_key}@{current_app.config['MAIL_FROM'].rpartition('@')[2].rstrip('>') or 'backhaul'}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(composed.text)
    message.add_alternative(composed.html, subtype="html")
    for filename, mime, content in composed.attachments:
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message
