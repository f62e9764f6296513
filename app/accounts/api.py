"""JSON login for the driver app and other clients; the user list for dispatch."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from app.accounts.limits import check_login_allowed, record_login_failure, record_login_success
from app.accounts.models import DISPATCH_ROLES
from app.accounts.schemas import LoginSchema, SessionSchema, UserQuerySchema, UserSchema, session_schema
from app.accounts.services import authenticate, list_users
from app.accounts.sessions import end_session, start_session
from app.core.auth import NotLoggedIn, roles_required
from app.core.errors import ErrorSchema
from app.extensions import csrf

RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before the next attempt", "schema": {"type": "integer", "minimum": 1}}}

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1", description="Sessions and users")


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(429, schema=ErrorSchema, description="Too many wrong passwords: wait Retry-After seconds, whatever the password", headers=RETRY_AFTER)
@csrf.exempt
def api_login(data: dict):  # type: ignore[no-untyped-def]
    """Log in with email and password; answers the user and a CSRF token.

    Exempt from CSRF (there is no session yet to forge), but only JSON is
    accepted, which a cross-site form cannot send. After a few wrong passwords
    each attempt waits longer (app.accounts.limits): 429 with Retry-After.
    """
    check_login_allowed(data["email"], request.remote_addr)
    user = authenticate(data["email"], data["password"])
    if user is None:
        record_login_failure(data["email"], request.remote_addr)
        raise NotLoggedIn("Wrong email or password.", code="invalid_credentials")
    record_login_success(data["email"], request.remote_addr)
    start_session(user, remember=data["remember"])
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/auth/session", methods=["GET"])
@blp.response(200, SessionSchema)
def api_session():  # type: ignore[no-untyped-def]
    """Who is logged in, with a fresh CSRF token (tokens expire after an hour)."""
    if not current_user.is_authenticated:
        raise NotLoggedIn("Please log in first.")
    return {"user": current_user, "csrf_token": generate_csrf()}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(200, SessionSchema)
def api_logout():  # type: ignore[no-untyped-def]
    """End the session on the server: this cookie, the remember cookie and every other session of the account."""
    end_session()
    return jsonify(session_schema.dump({"user": None, "csrf_token": generate_csrf()}))


@blp.route("/users", methods=["GET"])
@roles_required(*DISPATCH_ROLES)
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
def api_users(args: dict):  # type: ignore[no-untyped-def]
    """Users, e.g. ``?role=driver`` for the assignment picker (dispatchers only)."""
    return list_users(args.get("role"))
