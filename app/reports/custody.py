"""The chain of custody of one pickup as a PDF certificate: customer → driver → hub → each item's fate.

Some goods need it on record (recycling, data-wipe of phones and laptops): who
handed the goods over, where and when by the driver's phone, with the
signature; which clerk received them and when; what was decided for each item
and by whom. Everything comes from the record (timeline, decisions); the PDF is
drawn with the evidence pack's pages and fonts (``app.dispatch.evidence``).
"""
from __future__ import annotations

import io
from collections.abc import Callable
from zoneinfo import ZoneInfo

from app.accounts.models import User
from app.core.models import utcnow
from app.dispatch.evidence import PdfPages, collection_event, local_time, place, proof_of
from app.photos.storage import PhotoNotFound
from app.pickups.models import Pickup, PickupEvent
from app.pickups.receipt import discrepancies_of
from app.receiving.services import dispositions_of


def _received_event(pickup: Pickup) -> PickupEvent | None:
    return next((e for e in reversed(pickup.events) if e.kind == "received"), None)


def custody_pdf(pickup: Pickup, viewer: User, *, read_photo: Callable[[str], bytes]) -> bytes:
    """One pickup's chain of custody, each hand-over with who, when and where."""
    tz = ZoneInfo(pickup.hub.timezone)
    pdf = PdfPages.started(f"Chain of custody {pickup.reference}", f"Chain of custody {pickup.reference} · made {local_time(utcnow(), tz)}")
    family = pdf.font_family
    heading, line = pdf.write_heading, pdf.write_line

    heading(f"Chain of custody: pickup {pickup.reference}", 15)
    line(f"Label code {pickup.label_code}  ·  status {pickup.status.value.replace('_', ' ')}  ·  times in {pickup.hub.timezone}")

    heading("1. Customer")
    line(f"{pickup.customer_name}, {pickup.address_line1}{', ' + pickup.address_line2 if pickup.address_line2 else ''}, "
         f"{pickup.postcode} {pickup.city}, {pickup.country}")
    line(f"Pickup window {local_time(pickup.window_start, tz)} – {local_time(pickup.window_end, tz)}")

    heading("2. Driver")
    collected = collection_event(pickup)
    if collected is None:
        line("Not collected yet: the chain ends with the customer.")
    else:
        line(f"Collected by {collected.actor.name if collected.actor else '—'}")
        line(f"Device time {local_time(collected.device_time, tz)}  ·  server received {local_time(collected.server_time, tz)}")
        line(f"Place {place(collected.lat, collected.lon, collected.accuracy_m)}")
        proof = proof_of(pickup, viewer)
        if proof.handed_over_by:
            line(f"Handed over by (name given at the door): {proof.handed_over_by}")
        signature = next((s for s in proof.signatures if s.photo is not None), None)
        if signature is not None and signature.photo is not None:
            line(f"Signature (sha256 {signature.photo.sha256}):")
            try:
                pdf.image(io.BytesIO(read_photo(signature.photo.stored_name)), w=55)
            except PhotoNotFound:
                line("    (the file was removed by the retention purge; its hash above is what was received)")
        elif proof.visible:
            line("No signature was taken.")

    heading("3. Hub")
    received = _received_event(pickup)
    if received is None:
        line(f"Not received at {pickup.hub.name} yet.")
    else:
        line(f"Received at {pickup.hub.name} ({pickup.hub.code}) by {received.actor.name if received.actor else '—'}, "
             f"{local_time(received.server_time, tz)}")
        for difference in discrepancies_of(pickup):
            line(f"    Difference ({difference.kind.value}) on {difference.item.sku}: door {difference.door or '—'}, hub {difference.hub or '—'}")

    heading("4. Each item")
    decisions = dispositions_of(pickup)
    for item in pickup.items:
        door = "—" if item.collected_quantity is None else f"{item.collected_quantity} × grade {item.grade.value if item.grade else '—'}"
        hub = "—" if item.received_quantity is None else f"{item.received_quantity} × grade {item.received_grade.value if item.received_grade else '—'}"
        pdf.set_font(family, "B", 9)
        line(f"{item.sku} {item.description}{' (arrived unexpectedly)' if item.unexpected else ''}")
        pdf.set_font(family, "", 9)
        line(f"    expected {item.quantity}  ·  door {door}  ·  hub {hub}")
        decision = decisions.get(item.id)
        if decision is None:
            line("    no disposition yet")
        else:
            who = decision.decided_by.name if decision.decided_by else "—"
            reason = f"; reason: {decision.reason}" if decision.reason else ""
            line(f"    disposition {decision.disposition.value.replace('_', ' ')} of {decision.quantity}, decided by {who} "
                 f"at {local_time(decision.created_at, tz)}{reason}")
    return bytes(pdf.output())
