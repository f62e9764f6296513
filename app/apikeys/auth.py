"""Serving a request that carries an API key: the key's account is the current user, no session, no CSRF."""
from __future__ import annotations

from flask import Flask, g, request

from app.apikeys.scopes import SCOPES
from app.apikeys.services import authenticate_api_key, bearer_secret
from app.extensions import api


def register_api_key_auth(app: Flask) -> None:
    """Requests to ``/api/`` with ``Authorization: Bearer <key>`` act as the key (the CSRF check skips them)."""

    @app.before_request
    def load_api_key() -> None:
        secret = bearer_secret()
        if secret is None:
            return
        key = authenticate_api_key(secret, request.method, request.path)
        g.api_key = key
        # Flask-Login reads the current user from here before it looks at the session,
        # so a browser cookie sent alongside never decides who this is.
        g._login_user = key.user


def declare_api_key_scheme() -> None:
    """The OpenAPI document says how to authenticate: an API key as a Bearer token, or a person's session."""
    api.spec.components.security_scheme(
        "apiKey",
        {"type": "http", "scheme": "bearer", "description": f"An API key (`flask api-keys create`) with the scopes the call needs: {', '.join(SCOPES)}."},
    )
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session", "description": "A logged-in person; unsafe requests carry X-CSRFToken."}
    )
    api.spec.options["security"] = [{"apiKey": []}, {"session": []}]
