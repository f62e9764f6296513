from __future__ import annotations

import enum
import secrets
from datetime import time
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import TimestampMixin
from app.extensions import Model

if TYPE_CHECKING:
    from app.hubs.models import Hub


class Role(str, enum.Enum):
    DRIVER = "driver"
    DISPATCHER = "dispatcher"
    HUB = "hub"
    ADMIN = "admin"

    @property
    def home(self) -> str:
        return {
            Role.DRIVER: "/driver/",
            Role.DISPATCHER: "/dispatch/",
            Role.ADMIN: "/dispatch/",
            Role.HUB: "/hub/",
        }[self]


# Roles that run the dispatcher console and its API.
DISPATCH_ROLES = (Role.DISPATCHER, Role.ADMIN)


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, TimestampMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", values_callable=lambda e: [m.value for m in e]))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hubs.id"))
    # Part of the login session id: changing it (password change, deactivation)
    # ends every session of this user at their next request.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    # A driver's working hours and how many items their van takes, for "plan the day" (None: the hub's defaults, no limit).
    shift_start: Mapped[time | None] = mapped_column(Time)
    shift_end: Mapped[time | None] = mapped_column(Time)
    capacity_items: Mapped[int | None] = mapped_column(Integer)

    hub: Mapped[Hub | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_driver(self) -> bool:
        return self.role is Role.DRIVER

    @property
    def can_dispatch(self) -> bool:
        return self.role in DISPATCH_ROLES

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
