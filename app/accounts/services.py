"""Accounts: creating users, checking passwords, ending sessions."""
from __future__ import annotations

from datetime import time

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import Role, User, new_session_token
from app.core.errors import Conflict, InvalidInput, NotFound
from app.extensions import db

MIN_PASSWORD_LENGTH = 8
# scrypt is werkzeug's default; named here so the choice is visible and testable.
PASSWORD_METHOD = "scrypt"
# Checked against when the email is unknown, so a miss costs as long as a hit
# and response times do not reveal which emails have accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def create_user(
    *, email: str, password: str, role: Role | str, name: str, hub_id: int | None = None, phone: str | None = None
) -> User:
    """Add a user; the email must be new and the password long enough."""
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "The password is too short.",
            fields={"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]},
        )
    if find_user_by_email(email) is not None:
        raise Conflict("A user with this email already exists.", fields={"email": ["Already in use."]})
    user = User(email=email, name=name.strip(), role=Role(role), password_hash=hash_password(password), hub_id=hub_id, phone=phone)
    db.session.add(user)
    db.session.flush()
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def load_session_user(session_id: str) -> User | None:
    """The user behind a login-session id, if that session is still valid."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Make every session and remember cookie issued to ``user`` so far invalid (logout, "log out everywhere")."""
    user.session_token = new_session_token()


def deactivate_user(user: User) -> None:
    """Refuse this user from their next request on."""
    user.active = False
    user.session_token = new_session_token()


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("The password is too short.", fields={"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]})
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users(role: Role | None = None) -> list[User]:
    query = select(User).order_by(User.name)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def update_user(user: User, *, name: str, role: Role | str, hub_id: int | None, active: bool) -> User:
    """Change a user's name, role, home hub or whether they may log in (a role change ends their sessions)."""
    if not name.strip():
        raise InvalidInput("Say the user's name.", fields={"name": ["Required."]})
    try:
        new_role = Role(role)
    except ValueError:
        raise InvalidInput("There is no such role.", fields={"role": ["Choose driver, dispatcher, hub or admin."]}) from None
    if new_role is not user.role or (user.active and not active):
        user.session_token = new_session_token()
    user.name, user.role, user.hub_id, user.active = name.strip(), new_role, hub_id, active
    return user


def set_driver_day(user: User, *, shift_start: time | None, shift_end: time | None, capacity_items: int | None) -> User:
    """A driver's working hours and van capacity for planning (None: the defaults, no limit)."""
    errors: dict[str, list[str]] = {}
    if shift_start and shift_end and shift_end <= shift_start:
        errors["shift_end"] = ["Must be after the start."]
    if capacity_items is not None and not 1 <= capacity_items <= 10_000:
        errors["capacity_items"] = ["Between 1 and 10000 items."]
    if errors:
        raise InvalidInput("The driver's day needs fixing.", fields=errors)
    user.shift_start, user.shift_end, user.capacity_items = shift_start, shift_end, capacity_items
    return user


def count_active_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active.is_(True))) or 0
