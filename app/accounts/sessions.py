"""Starting and ending a login session at the HTTP edge (the views and the JSON API share these).

A session is valid while its user's ``session_token`` is the one it was issued
with (``User.get_id``; checked on every request by ``load_session_user``).
Ending a session rotates the token, so a copied session cookie or remember
cookie is useless afterwards, on this device and every other: logging out is
"log out everywhere", as a password change or a deactivation already was.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, session
from flask_login import current_user, login_user, logout_user

from app.accounts.models import User
from app.accounts.services import end_all_sessions


def start_session(user: User, *, remember: bool) -> None:
    """Log ``user`` in on a fresh session: nothing of the anonymous one carries over (its CSRF secret included)."""
    session.clear()
    g.pop("csrf_token", None)  # flask-wtf caches the token of the old secret here
    duration = timedelta(seconds=current_app.config["REMEMBER_COOKIE_DURATION"])
    login_user(user, remember=remember, duration=duration)


def end_session() -> None:
    """Log out here and end every other session of the account (see the module docstring)."""
    if current_user.is_authenticated:
        end_all_sessions(current_user)
    session.clear()
    g.pop("csrf_token", None)
    logout_user()  # after clear(): it leaves the note that deletes the remember cookie
