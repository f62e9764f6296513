"""What the dispatcher console stores of its own: uploaded CSV imports."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import UTCDateTime, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.hubs.models import Hub


class CsvImport(Model):
    """An uploaded CSV file, kept server-side between its preview and its commit.

    The commit reads the text stored here, never a second upload, so what is
    imported is exactly what was previewed; ``committed_at`` is set once, so a
    double-click on "Import" cannot import twice.
    """

    __tablename__ = "csv_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The hub for rows without a hub_code column (and whose timezone local times are read in).
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hubs.id"))
    filename: Mapped[str] = mapped_column(String(255))
    # How the bytes were read ("utf-8", "windows-1252", …): the preview warns when it was a guess.
    encoding: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_count: Mapped[int | None] = mapped_column(Integer)
    # A big file is committed by a background job, chunk by chunk (app.dispatch.imports.jobs):
    # None for one committed in its request; else queued, running, done or failed.
    job_status: Mapped[str | None] = mapped_column(String(16))
    pickups_total: Mapped[int | None] = mapped_column(Integer)
    # Pickups created so far: written in the same transaction as each chunk, so a job that
    # dies resumes after the last committed chunk and never creates a pickup twice.
    pickups_done: Mapped[int | None] = mapped_column(Integer)
    job_error: Mapped[str | None] = mapped_column(Text)
    # A worker's claim: another takes the job over once it runs out (the worker died).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User] = relationship()
    hub: Mapped[Hub | None] = relationship()

    def __repr__(self) -> str:
        return f"<CsvImport {self.id} {self.filename!r}>"
