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

    uploaded_by: Mapped[User] = relationship()
    hub: Mapped[Hub | None] = relationship()

    def __repr__(self) -> str:
        return f"<CsvImport {self.id} {self.filename!r}>"
