"""Creating, revoking and checking API keys.

A key is shown once, when it is made; the database keeps only its SHA-256.
Each key acts as an account of its own (role dispatcher, no password), so what
it does is on the pickups' timelines under the key's name, and revoking the key
deactivates that account too.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import g, request
from sqlalchemy import select, update

from app.accounts.models import Role, User
from app.apikeys.models import ApiKey
from app.apikeys.scopes import SCOPES, required_scope
from app.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.core.models import utcnow
from app.extensions import db

KEY_PREFIX = "bh_"
# last_used_at is written at most this often per key, so busy keys do not turn every read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


class BadApiKey(DomainError):
    status = 401
    code = "unauthorized"


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # the key itself: shown once


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(name: str, scopes: list[str]) -> NewApiKey:
    """Make a key with these scopes; the returned secret is never stored."""
    name = name.strip()
    if not name:
        raise InvalidInput("Give the key a name.", fields={"name": ["Required."]})
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(
            f"Scopes must be some of {', '.join(SCOPES)}.", fields={"scopes": [f"Unknown: {', '.join(unknown)}" if unknown else "At least one."]}
        )
    if db.session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"There is already a key named {name!r}.", code="name_taken")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    user = User(
        email=f"api-key-{secrets.token_hex(6)}@keys.backhaul.invalid",
        name=f"API key {name}",
        role=Role.DISPATCHER,
        password_hash="!",  # matches no password: the account is reachable only through its key
        active=True,
    )
    key = ApiKey(name=name, prefix=secret[:10], key_hash=hash_key(secret), scopes=sorted(set(scopes)), user=user)
    db.session.add_all([user, key])
    db.session.flush()
    return NewApiKey(key, secret)


def revoke_api_key(name: str) -> ApiKey:
    """Stop a key from working, at once."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise NotFound(f"No API key named {name!r}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        key.user.active = False
    return key


def list_api_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def bearer_secret() -> str | None:
    """The key an API request carries in ``Authorization: Bearer …`` (None: it carries none)."""
    if not request.path.startswith("/api/"):
        return None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def authenticate_api_key(secret: str, method: str, path: str) -> ApiKey:
    """The active key with this secret, if it grants what the request needs; else 401 or 403."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret))) if secret else None
    if key is None or not key.active or not key.user.active:
        raise BadApiKey("This API key is missing, unknown or revoked.")
    scope = required_scope(method, path)
    if scope is None:
        raise Forbidden("API keys cannot use this endpoint.")
    if scope not in key.scopes:
        raise Forbidden(f"This API key does not have the scope {scope}.", fields={"scope": [scope]})
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_RESOLUTION:
        # Its own statement, so a GET that changes nothing else still records the use.
        db.session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return key


def current_api_key() -> ApiKey | None:
    """The key this request was made with (None: a person's session, or nobody)."""
    return g.get("api_key")
