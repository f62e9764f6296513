"""The customer's link and emails as dispatch handles them: resend the email that fits where the pickup stands."""
from __future__ import annotations

from app.core.errors import InvalidInput
from app.outbox.models import OutboxMessage
from app.outbox.services import Outgoing, enqueue, messages_about
from app.pickups.models import Pickup, PickupStatus

# The outbox channel app.emails delivers (dispatch sits below emails, so it names the channel, not the module).
EMAIL_CHANNEL = "email"
_KIND_FOR_STATUS = {
    PickupStatus.FAILED: "not_collected",
    PickupStatus.COLLECTED: "collected",
    PickupStatus.PARTIALLY_COLLECTED: "collected",
    PickupStatus.RECEIVED: "collected",
}


def email_history(pickup: Pickup) -> list[OutboxMessage]:
    """Every email about this pickup, oldest first, with where it stands (sent, waiting, failed, not sent)."""
    return messages_about(pickup.id, EMAIL_CHANNEL)


def resend_customer_email(pickup: Pickup) -> str:
    """Queue the email that fits the pickup now (booking with label, not-collected with rebooking, or receipt)."""
    if not pickup.customer_email:
        raise InvalidInput("This customer has no email address; add one by editing the pickup.", fields={"email": ["No address."]})
    if pickup.status is PickupStatus.CANCELLED:
        raise InvalidInput("This pickup is cancelled; there is nothing to send.")
    kind = _KIND_FOR_STATUS.get(pickup.status, "scheduled")
    enqueue([Outgoing(EMAIL_CHANNEL, kind, pickup.customer_email, {"kind": kind, "facts": {"resent": True}}, subject=pickup)])
    return kind
