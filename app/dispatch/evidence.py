"""What settles a dispute: a pickup's photos, signature and the driver's words, on screen and as a PDF."""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response
from fpdf import FPDF

from app.accounts.models import User
from app.core.models import utcnow
from app.photos.services import PickupPhoto, can_see_pickup_photos, photos_of_pickup
from app.photos.storage import PhotoNotFound
from app.pickups.models import Pickup, PickupEvent

COLLECTION_KINDS = ("collected", "partially_collected")


@dataclass(frozen=True)
class Proof:
    """A pickup's photos grouped the way a person checks them: per item, the signature, the failed attempt."""

    visible: bool
    by_item: dict[int, list[PickupPhoto]] = field(default_factory=dict)
    signatures: list[PickupPhoto] = field(default_factory=list)
    failures: list[PickupPhoto] = field(default_factory=list)
    other: list[PickupPhoto] = field(default_factory=list)
    handed_over_by: str | None = None

    @property
    def count(self) -> int:
        return sum(map(len, self.by_item.values())) + len(self.signatures) + len(self.failures) + len(self.other)

    @property
    def awaiting(self) -> int:
        every = [p for group in (*self.by_item.values(), self.signatures, self.failures, self.other) for p in group]
        return sum(p.awaiting_upload for p in every)


def collection_event(pickup: Pickup) -> PickupEvent | None:
    """The latest timeline entry where the driver recorded what they took."""
    return next((e for e in reversed(pickup.events) if e.kind in COLLECTION_KINDS), None)


def proof_of(pickup: Pickup, viewer: User) -> Proof:
    """The photos ``viewer`` may see (staff of the pickup's hub), sorted by what they prove."""
    if not can_see_pickup_photos(pickup, viewer):
        return Proof(visible=False)
    by_item: dict[int, list[PickupPhoto]] = {}
    signatures: list[PickupPhoto] = []
    failures: list[PickupPhoto] = []
    other: list[PickupPhoto] = []
    for photo in photos_of_pickup(pickup, viewer=viewer):
        if photo.kind == "signature":
            signatures.append(photo)
        elif photo.kind == "failure":
            failures.append(photo)
        elif photo.item_id is not None:
            by_item.setdefault(photo.item_id, []).append(photo)
        else:
            other.append(photo)
    collected = collection_event(pickup)
    data: dict[str, Any] = collected.data if collected is not None else {}
    return Proof(True, by_item, signatures, failures, other, data.get("handed_over_by"))


# --- the evidence pack (PDF) ---------------------------------------------------------------------

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class PdfPages(FPDF):
    """A4 with a footer naming the pickup on every page (pages get separated when printed)."""

    title_line = ""

    @classmethod
    def started(cls, title: str, footer: str, *, page_break: bool = True, **page: Any) -> PdfPages:
        """A document with its first page and fonts in place: ``footer`` is printed on every page."""
        pdf = cls(format="A4", **page)
        pdf.title_line = footer
        pdf.set_title(title)
        pdf.alias_nb_pages()
        if page_break:
            pdf.set_auto_page_break(True, margin=15)
        else:
            pdf.set_auto_page_break(False)
            pdf.set_margins(10, 10, 10)
        pdf.add_page()
        use_fonts(pdf)
        return pdf

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.font_family, size=7)
        self.cell(0, 5, f"{self.title_line} · page {self.page_no()}/{{nb}}", align="C")

    def write_heading(self, text: str, size: int = 12) -> None:
        self.ln(2)
        self.set_font(self.font_family, "B", size)
        self.cell(0, 7, pdf_text(self, text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.font_family, "", 9)

    def write_line(self, text: str) -> None:
        self.multi_cell(0, 4.5, pdf_text(self, text), new_x="LMARGIN", new_y="NEXT")


def pdf_download(data: bytes, filename: str) -> Response:
    """A PDF to save: never cached, since it holds customers' details."""
    response = Response(data, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def use_fonts(pdf: PdfPages) -> None:
    # DejaVu covers names in any European script; the built-in Helvetica only Latin-1.
    if (_DEJAVU / "DejaVuSans.ttf").exists():
        pdf.add_font("dejavu", "", str(_DEJAVU / "DejaVuSans.ttf"))
        pdf.add_font("dejavu", "B", str(_DEJAVU / "DejaVuSans-Bold.ttf"))
        pdf.set_font("dejavu", size=9)
    else:
        pdf.set_font("helvetica", size=9)


def pdf_text(pdf: PdfPages, value: str) -> str:
    return value if pdf.font_family == "dejavu" else value.encode("latin-1", "replace").decode("latin-1")


def local_time(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z") if moment else "—"


def place(lat: float | None, lon: float | None, accuracy: float | None) -> str:
    if lat is None or lon is None:
        return "—"
    return f"{lat:.5f}, {lon:.5f}" + (f" ±{accuracy:.0f} m" if accuracy else "")


def evidence_pdf(pickup: Pickup, viewer: User, *, read_photo: Callable[[str], bytes]) -> bytes:
    """The whole record of one pickup as a PDF: facts, items, timeline with both clocks, every photo with its hash."""
    tz = ZoneInfo(pickup.hub.timezone)
    proof = proof_of(pickup, viewer)
    pdf = PdfPages.started(f"Evidence {pickup.reference}", f"Evidence {pickup.reference} · made {local_time(utcnow(), tz)}")
    family = pdf.font_family
    heading, line = pdf.write_heading, pdf.write_line

    heading(f"Evidence pack: pickup {pickup.reference}", 15)
    line(f"Status: {pickup.status.value.replace('_', ' ')}  ·  Label code: {pickup.label_code}  ·  Hub: {pickup.hub.name} ({pickup.hub.code})")
    line(f"Customer: {pickup.customer_name}  ·  {pickup.address_line1}{', ' + pickup.address_line2 if pickup.address_line2 else ''}, "
         f"{pickup.postcode} {pickup.city}, {pickup.country}  ·  coordinates {place(pickup.lat, pickup.lon, None)}")
    line(f"Window: {local_time(pickup.window_start, tz)} – {local_time(pickup.window_end, tz)}  ·  Driver: {pickup.driver.name if pickup.driver else '—'}")
    line(f"Times are shown in {pickup.hub.timezone}. Device time is the phone's clock; server time is when the server received it.")

    heading("Items")
    for item in pickup.items:
        collected = "—" if item.collected_quantity is None else str(item.collected_quantity)
        line(f"• {item.sku} {item.description}: expected {item.quantity}, collected {collected}, "
             f"grade {item.grade.value if item.grade else '—'}{'; notes: ' + item.condition_notes if item.condition_notes else ''}")
    if pickup.failure_reason:
        line(f"Failed: {pickup.failure_reason.value.replace('_', ' ')}{': ' + pickup.failure_notes if pickup.failure_notes else ''}")
    if proof.handed_over_by:
        line(f"Handed over by (name given at the door): {proof.handed_over_by}")

    heading("Timeline")
    for event in pickup.events:
        who = event.actor.name if event.actor else "system"
        skew = f" (device clock {event.clock_skew_seconds:+d} s)" if event.clock_skew_seconds else ""
        line(f"{event.kind.replace('_', ' ')} by {who}{'  [NEEDS REVIEW]' if event.needs_review else ''}")
        line(f"    server {local_time(event.server_time, tz)}  ·  device {local_time(event.device_time, tz)}{skew}  ·  at {place(event.lat, event.lon, event.accuracy_m)}")
        if event.message:
            line(f"    {event.message}")

    if proof.visible:
        heading("Photos")
        groups = [(f"Item {item.sku} {item.description}", proof.by_item.get(item.id, [])) for item in pickup.items]
        groups += [("Signature", proof.signatures), ("Failed attempt", proof.failures), ("Other", proof.other)]
        for title, photos in groups:
            for photo in photos:
                if pdf.get_y() > 220:
                    pdf.add_page()
                pdf.set_font(family, "B", 9)
                line(f"{title} · {photo.kind} · photo {photo.photo_id}")
                pdf.set_font(family, "", 9)
                line(f"    sha256 {photo.photo.sha256 if photo.photo else '(not uploaded yet)'}")
                taken = "taken" if photo.taken_by_photo else "device time (of the action)"
                line(f"    {taken} {local_time(photo.captured_at, tz)}  ·  at {place(photo.lat, photo.lon, photo.accuracy_m)}")
                if photo.photo is not None:
                    try:
                        data = read_photo(photo.photo.stored_name)
                    except PhotoNotFound:
                        line("    (the file was removed by the retention purge; its hash above is what was received)")
                    else:
                        pdf.image(io.BytesIO(data), w=70 if photo.kind != "signature" else 60)
                pdf.ln(2)
        if not proof.count:
            line("No photos were taken.")
    return bytes(pdf.output())
