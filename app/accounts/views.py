"""Login and logout pages, and ``/`` sending each role to its home."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.accounts.limits import LoginThrottled, check_login_allowed, record_login_failure, record_login_success
from app.accounts.schemas import login_schema
from app.accounts.services import authenticate
from app.accounts.sessions import end_session, start_session

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an open redirect after login is a phishing tool.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return redirect(current_user.role.home)


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(current_user.role.home)
        return render_template("accounts/login.html", email="", errors={})
    email = request.form.get("email", "")
    try:
        data = login_schema.load({"email": email, "password": request.form.get("password", "")})
    except ValidationError as error:
        return render_template("accounts/login.html", email=email, errors=error.messages), 422
    try:
        check_login_allowed(data["email"], request.remote_addr)
    except LoginThrottled as wait:
        page = render_template("accounts/login.html", email=email, errors={"_form": [wait.message]})
        return page, 429, wait.headers
    user = authenticate(data["email"], data["password"])
    if user is None:
        record_login_failure(data["email"], request.remote_addr)
        return render_template(
            "accounts/login.html", email=email, errors={"_form": ["Wrong email or password."]}
        ), 401
    record_login_success(data["email"], request.remote_addr)
    start_session(user, remember=bool(request.form.get("remember")))
    return redirect(_safe_next(request.args.get("next")) or user.role.home)


@bp.route("/logout", methods=["GET", "POST"])
def logout():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        # Logging out changes state, so it takes a POST with a CSRF token; GET asks.
        return render_template("accounts/logout.html")
    end_session()
    flash("You are logged out.")
    return redirect(url_for("accounts.login"))
