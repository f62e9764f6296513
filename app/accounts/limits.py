"""Login rate limits: per account and per address, counting failed attempts only.

Counting only failures means a driver who logs in and out all day is never
locked out, while guessing a password is slowed to a crawl.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address

from app.accounts.services import normalise_email
from app.extensions import limiter


def _login_email() -> str:
    payload = request.get_json(silent=True) if request.is_json else request.form
    email = payload.get("email") if payload is not None and hasattr(payload, "get") else None
    return "login-account:" + normalise_email(str(email or ""))


def _failed(response: Any) -> bool:
    return response.status_code in (401, 422)


def login_rate_limited(view: Callable[..., Any]) -> Callable[..., Any]:
    view = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        key_func=_login_email,
        deduct_when=_failed,
        methods=["POST"],
        scope="login-account",
    )(view)
    view = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
        key_func=get_remote_address,
        deduct_when=_failed,
        methods=["POST"],
        scope="login-address",
    )(view)
    return view
