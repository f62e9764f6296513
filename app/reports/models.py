"""The report's rollup: per-day sums kept up to date in the transaction of each change.

``ReportRollup`` holds one row per (hub-local day, hub, driver, dimension, key)
with the sums the report reads, so a year's report reads a few thousand rows
instead of half a million items. ``ReportFact`` remembers what each pickup
contributes (one row per dimension and key), so a change subtracts exactly what
the pickup counted before and adds what it counts now (``app.reports.rollup``).

Amounts are integers (cents, grams, milliseconds): sums of integers are exact on
SQLite and PostgreSQL alike, so the rollup equals a recount to the last digit.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model

# Dimensions: what a row counts. The key is the value within it ("" when there is none).
STATUS = "status"  # count: pickups with this status
GRADE = "grade"  # count: items, quantity: units collected with this grade at the door
FAILURE = "failure"  # count: failed pickups with this reason
DISPOSITION = "disposition"  # count: decisions; quantity, value_cents, kept_g, weight_g
DISCREPANCY = "discrepancy"  # count: differences of this kind (driver: the one whose record differs)
ATTEMPT = "attempt"  # key "attempted" or "first_time": pickups attempted, and collected without an earlier failure
STOP = "stop"  # count: stops with arrival and completion; stop_ms: their summed length
DIMENSIONS = (STATUS, GRADE, FAILURE, DISPOSITION, DISCREPANCY, ATTEMPT, STOP)

NO_DRIVER = 0  # driver_id of rows without a driver (a NULL would never meet a unique key)


class _Measures:
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    kept_g: Mapped[int] = mapped_column(BigInteger, default=0)
    weight_g: Mapped[int] = mapped_column(BigInteger, default=0)
    stop_ms: Mapped[int] = mapped_column(BigInteger, default=0)


MEASURES = ("count", "quantity", "value_cents", "kept_g", "weight_g", "stop_ms")
KEYS = ("day", "hub_id", "driver_id", "dimension", "key")


class ReportRollup(_Measures, Model):
    """Sums for one hub-local day, hub, driver, dimension and key."""

    __tablename__ = "report_rollup"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hub_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    driver_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)


class ReportFact(_Measures, Model):
    """What one pickup adds to the rollup now (so a change can take it away again)."""

    __tablename__ = "report_facts"
    __table_args__ = (Index("ix_report_facts_pickup", "pickup_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    hub_id: Mapped[int] = mapped_column(Integer)
    driver_id: Mapped[int] = mapped_column(Integer)
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32))
