from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, Numeric, Sequence, String, Text, event, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import TimestampMixin, UTCDateTime, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.hubs.models import Hub


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the lower-case values the API speaks, not the Python member names.
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e], validate_strings=True)


class PickupStatus(str, enum.Enum):
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    COLLECTED = "collected"
    PARTIALLY_COLLECTED = "partially_collected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RECEIVED = "received"


class Grade(str, enum.Enum):
    A = "A"  # as new, sealed or unused
    B = "B"  # good, light wear
    C = "C"  # visible damage or faults
    D = "D"  # broken or incomplete


class FailureReason(str, enum.Enum):
    NOT_HOME = "not_home"
    REFUSED = "refused"
    ITEM_NOT_READY = "item_not_ready"
    WRONG_ITEM = "wrong_item"
    ADDRESS_PROBLEM = "address_problem"
    UNSAFE = "unsafe"
    OTHER = "other"


@dataclass(frozen=True)
class Customer:
    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str | None
    city: str
    postcode: str
    country: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


class Pickup(TimestampMixin, Model):
    """A scheduled collection of returned goods at one address."""

    __tablename__ = "pickups"
    __table_args__ = (
        Index("ix_pickups_driver_route", "driver_id", "route_position"),
        Index("ix_pickups_window_start", "window_start"),
        Index("ix_pickups_status", "status"),
        # Delta pulls: one driver's pickups changed after a cursor (app.sync).
        # (No index on change_seq alone: at 100k rows PostgreSQL preferred it and scanned every
        # driver's recent changes.)
        Index("ix_pickups_driver_change", "driver_id", "change_seq"),
        # Reset pulls: one driver's open pickups, and their finished ones changed lately (app.sync.scope).
        Index("ix_pickups_driver_status_updated", "driver_id", "status", "updated_at"),
        # The phone's days (app.sync.scope): one driver's pickups of a range of days.
        Index("ix_pickups_driver_window", "driver_id", "window_start"),
        # The sync age-out sweep: finished pickups whose last change is old enough.
        Index("ix_pickups_updated_at", "updated_at"),
        # The report: one hub's pickups of a range of days.
        Index("ix_pickups_hub_window", "hub_id", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[PickupStatus] = mapped_column(_enum(PickupStatus, "pickup_status"), default=PickupStatus.UNASSIGNED)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id"), index=True)

    customer_name: Mapped[str] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(40))
    customer_email: Mapped[str | None] = mapped_column(String(254))

    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)

    notes: Mapped[str] = mapped_column(Text, default="")
    # Written by the customer on their page (gate code, floor); shown to the driver.
    access_notes: Mapped[str] = mapped_column(Text, default="")

    driver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    route_position: Mapped[int | None] = mapped_column(Integer)
    # Dispatch can insist that the driver scans the parcel's label before completing.
    scan_required: Mapped[bool] = mapped_column(default=False)

    label_code: Mapped[str] = mapped_column(String(32), unique=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[FailureReason | None] = mapped_column(_enum(FailureReason, "failure_reason"))
    failure_notes: Mapped[str | None] = mapped_column(Text)
    # How often the customer chose a new window (app.pickups.rebooking caps it).
    rebook_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Set when the retention purge removed the customer's personal data (app.pickups.retention).
    personal_data_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Bumped on every change a driver could see; sync mutations carry the version they saw.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Position in the global change sequence, for delta pulls (see app.sync).
    change_seq: Mapped[int | None] = mapped_column(BigInteger)

    hub: Mapped[Hub] = relationship()
    driver: Mapped[User | None] = relationship(foreign_keys=[driver_id])
    items: Mapped[list[PickupItem]] = relationship(
        back_populates="pickup", cascade="all, delete-orphan", order_by="PickupItem.position"
    )
    events: Mapped[list[PickupEvent]] = relationship(
        back_populates="pickup", cascade="all, delete-orphan", order_by="PickupEvent.id"
    )

    @property
    def customer(self) -> Customer:
        return Customer(self.customer_name, self.customer_phone, self.customer_email)

    @property
    def address(self) -> Address:
        return Address(self.address_line1, self.address_line2, self.city, self.postcode, self.country, self.lat, self.lon)

    @property
    def window(self) -> Window:
        return Window(self.window_start, self.window_end)

    def is_assigned_to(self, user: User) -> bool:
        return self.driver_id is not None and self.driver_id == user.id

    def can_view(self, user: User) -> bool:
        """Drivers see their own pickups; everyone else with a staff role sees all."""
        return not user.is_driver or self.is_assigned_to(user)

    def __repr__(self) -> str:
        return f"<Pickup {self.id} {self.reference} {self.status.value}>"


class PickupItem(Model):
    """One line of a pickup: what the customer returns, and what the driver found."""

    __tablename__ = "pickup_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    sku: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300), default="")

    # An optional product family for the disposition rules (e.g. "phone", "toner").
    category: Mapped[str] = mapped_column(String(64), default="")
    # What one unit is worth, in the hub's currency, and what it weighs: the recovery figures.
    value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))

    collected_quantity: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[Grade | None] = mapped_column(_enum(Grade, "condition_grade"))
    condition_notes: Mapped[str | None] = mapped_column(Text)

    # What the hub counted and graded on arrival (the door's figures stay above).
    received_quantity: Mapped[int | None] = mapped_column(Integer)
    received_grade: Mapped[Grade | None] = mapped_column(_enum(Grade, "condition_grade"))
    # Arrived at the hub without being on the pickup.
    unexpected: Mapped[bool] = mapped_column(default=False)

    pickup: Mapped[Pickup] = relationship(back_populates="items")


class DiscrepancyKind(str, enum.Enum):
    QUANTITY = "quantity"  # another count than the driver's
    GRADE = "grade"  # another condition than the driver's
    MISSING = "missing"  # collected at the door, not in the parcel
    EXTRA = "extra"  # in the parcel, not on the pickup


class ItemDiscrepancy(Model):
    """A difference between the doorstep record and the hub's, with both sides, who and when."""

    __tablename__ = "item_discrepancies"
    __table_args__ = (Index("ix_item_discrepancies_recorded_at", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("pickup_items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DiscrepancyKind] = mapped_column(_enum(DiscrepancyKind, "discrepancy_kind"))
    door: Mapped[str | None] = mapped_column(String(40))
    hub: Mapped[str | None] = mapped_column(String(40))
    # The driver whose doorstep record differs: the per-driver report counts these.
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[PickupItem] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    driver: Mapped[User | None] = relationship(foreign_keys=[driver_id])


class PickupEvent(Model):
    """Append-only trail of what happened to a pickup, by whom, when and where.

    Every status change writes one; so does every driver action received by sync,
    with the device's clock and location next to the server's receipt time.
    """

    __tablename__ = "pickup_events"
    # The report's stop times and first-attempt rate look for one kind of entry per pickup.
    __table_args__ = (Index("ix_pickup_events_pickup_kind", "pickup_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    server_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Seconds the device clock was ahead (+) or behind (-) the server at receipt.
    clock_skew_seconds: Mapped[int | None] = mapped_column(Integer)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    client_id: Mapped[str | None] = mapped_column(String(64))
    mutation_id: Mapped[int | None] = mapped_column(BigInteger)
    # Field facts that could not be applied (e.g. goods collected on a cancelled pickup).
    needs_review: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    pickup: Mapped[Pickup] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ChangeCounter(Model):
    """SQLite's change sequence: one row holding the last number handed out (app.pickups.changes).

    Taking a number updates this row; SQLite lets one writer in at a time
    anyway, so numbers are handed out in commit order. PostgreSQL uses the
    ``change_numbers`` sequence below instead: no row that every writer waits for.
    """

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# PostgreSQL's change sequence (create_all makes it there; SQLite has none and skips it).
# CACHE 1 (the default) matters: the pull reads ``last_value`` as the newest number handed out.
change_numbers = Sequence("change_numbers", metadata=Model.metadata)


@event.listens_for(ChangeCounter.__table__, "after_create")
def _seed_counter(table, connection, **kw):  # type: ignore[no-untyped-def]
    # The migration seeds the row too; create_all (tests) needs it as well.
    connection.execute(insert(table).values(id=1, value=0))


class DoorstepSetting(Model):
    """One of the admins' settings for the door (app.pickups.doorstep): a key and its JSON value.

    A row per key, not a column per setting: a missing row means "the default", and a
    setting added later needs no migration of the rows already kept.
    """

    __tablename__ = "doorstep_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
