"""Settings read from the environment: the one place for every default.

CONTRACT.md names the variables; nothing else in the code reads ``os.environ``.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any


def _instance_secret_key(instance_path: Path) -> str:
    """A development key kept in the instance folder so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def check_shared_limits(workers: int, environ: Mapping[str, str]) -> None:
    """Refuse several production worker processes that would each keep their own rate-limit counts."""
    if workers > 1 and environ.get("BACKHAUL_ENV") == "production" and not environ.get("REDIS_URL"):
        raise RuntimeError(
            f"{workers} workers without REDIS_URL would each count rate limits alone (a limit of 10 lets "
            f"{10 * workers} through). Set REDIS_URL, or run one worker."
        )


def _clock_time(name: str, value: str | None, *, default: str) -> time:
    try:
        return time.fromisoformat((value or default).strip())
    except ValueError:
        raise RuntimeError(f"{name} must be a time of day like 07:00, not {value!r}") from None


def _count(name: str, value: str | None, *, default: int) -> int:
    """A whole number ≥ 0 from the environment, or a start-up error that names the variable."""
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise RuntimeError(f"{name} must not be negative")
    return number


def load_settings(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment, then apply explicit overrides (tests)."""
    env = os.environ
    production = env.get("BACKHAUL_ENV", "development") == "production"
    overrides = dict(overrides or {})

    secret_key = overrides.pop("SECRET_KEY", None) or env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise RuntimeError("SECRET_KEY must be set when BACKHAUL_ENV=production")
        secret_key = _instance_secret_key(instance_path)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'backhaul.sqlite'}"
    # Heroku-style URLs name the old driver; psycopg 3 is the one we ship.
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    settings: dict[str, Any] = {
        "BACKHAUL_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "PHOTO_STORAGE_DIR": env.get("PHOTO_STORAGE_DIR") or str(instance_path / "photos"),
        # file:///path or s3://bucket/prefix (app.photos.storage); empty: the folder above.
        "PHOTO_STORAGE_URL": env.get("PHOTO_STORAGE_URL") or "",
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID") or None,
        "AWS_SECRET_ACCESS_KEY": env.get("AWS_SECRET_ACCESS_KEY") or None,
        "AWS_REGION": env.get("AWS_REGION") or None,
        # How many proxies stand in front of the app (their X-Forwarded-* headers are believed).
        "TRUSTED_PROXIES": _count("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES"), default=0),
        # Logs: one JSON object per line (production's default) or text; the level of our own loggers.
        "LOG_FORMAT": (env.get("LOG_FORMAT") or ("json" if production else "text")).lower(),
        "LOG_LEVEL": (env.get("LOG_LEVEL") or "INFO").upper(),
        # /metrics answers only with this bearer token; unset: /metrics is 404.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # prometheus_client's multiprocess folder (several gunicorn workers); it reads the variable itself too.
        "PROMETHEUS_MULTIPROC_DIR": env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        # Personal data of pickups closed this many days ago is removed by `purge-expired`.
        "PERSONAL_DATA_RETENTION_DAYS": _count("PERSONAL_DATA_RETENTION_DAYS", env.get("PERSONAL_DATA_RETENTION_DAYS"), default=90),
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        # Sessions: HttpOnly always; Secure whenever we are served over HTTPS in production.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 14,
        # "Keep me logged in" lasts two weeks, not Flask-Login's year; logout revokes it (accounts.sessions).
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 14,
        # CSRF tokens expire (an hour); the PWA asks /api/v1/auth/session for a fresh one.
        "WTF_CSRF_TIME_LIMIT": 3600,
        "WTF_CSRF_SSL_STRICT": production,
        # Uploads: a CSV import of 5,000 rows is well under this; photos have their own cap.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Brotli where the browser takes it, else gzip; responses under 500 bytes are sent as they are.
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 500,
        # With REDIS_URL, every worker and instance counts in one place; without it each process
        # counts alone (so gunicorn.conf.py refuses several production workers without it).
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        # Keeps Backhaul's counters apart from other apps (or other Backhauls) on the same Redis.
        "RATELIMIT_KEY_PREFIX": env.get("LIMITS_KEY_PREFIX") or "",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Wrong passwords (app.accounts.limits): these many in the window cost nothing, per account and
        # per address (an office or a carrier puts many people behind one); after them each attempt
        # waits 2 s, 4 s, 8 s … at most a minute. Never a lockout: the owner waits, then gets in.
        "LOGIN_FREE_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_FREE_FAILURES_PER_ADDRESS": 30,
        "LOGIN_DELAY_BASE_SECONDS": 2,
        "LOGIN_DELAY_MAX_SECONDS": 60,
        "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
        # Customer links stop working this many days after the pickup is received or cancelled.
        "CUSTOMER_LINK_DAYS_AFTER_CLOSE": int(env.get("CUSTOMER_LINK_DAYS_AFTER_CLOSE") or 14),
        # Wrong customer links and label codes per address (only misses count): probing for
        # a valid token or label code ends in 429 long before it could find one.
        "CUSTOMER_LOOKUP_LIMIT": "30 per minute",
        # OpenAPI, served by flask-smorest from the same marshmallow schemas that validate input.
        "API_TITLE": "Backhaul API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # Sync protocol (app.sync, docs/sync-protocol.md).
        "SYNC_SCHEMA_VERSION": 1,
        "SYNC_MAX_BATCH": 1000,
        # Bytes in one push body: far above a full batch of real actions (1000 are about 0.5 MB), far
        # below a body that could tie a worker up; above it the push is 413 payload_too_large and the
        # phone halves its batch (docs/sync-protocol.md §2).
        "SYNC_MAX_PUSH_BYTES": _count("SYNC_MAX_PUSH_BYTES", env.get("SYNC_MAX_PUSH_BYTES"), default=2 * 1024 * 1024),
        # Mutation records answer duplicates from phones that were offline for days.
        "SYNC_RETENTION_DAYS": 30,
        # Finished pickups (collected, failed, received) stay on the phone this long.
        "SYNC_FINISHED_VISIBLE_HOURS": 12,
        # The phone carries the driver's pickups from today to this many days ahead (the driver's hub's days).
        "SYNC_DAYS_AHEAD": _count("SYNC_DAYS_AHEAD", env.get("SYNC_DAYS_AHEAD"), default=2),
        "SYNC_CLOCK_SKEW_FLAG_SECONDS": 300,
        # A phone that says it has held unsent work longer than this stands out on /dispatch/drivers.
        "SYNC_HELD_FLAG_MINUTES": _count("SYNC_HELD_FLAG_MINUTES", env.get("SYNC_HELD_FLAG_MINUTES"), default=120),
        "SYNC_POLL_SECONDS": 60,
        "SYNC_RETRY_AFTER_SECONDS": 2,
        # A push waits this long for another push of the same phone (PostgreSQL lock_timeout).
        "SYNC_LOCK_TIMEOUT_MS": 10_000,
        # Photos (app.photos): what the phone sends and what the server keeps.
        "PHOTO_MAX_BYTES": 15 * 1024 * 1024,
        "PHOTO_MAX_PIXELS": 50_000_000,
        "PHOTO_LONG_EDGE": 1600,
        "PHOTO_CLIENT_JPEG_QUALITY": 0.8,
        "PHOTO_STORED_JPEG_QUALITY": 85,
        "PHOTO_THUMB_EDGE": 320,
        "PHOTO_REQUIRED_GRADES": ["C", "D"],
        # Route suggestions (app.dispatch.routing): minutes at each door, average speed between doors,
        # the shift drivers without their own hours work, and an optional OSRM server for road distances.
        "DISPATCH_SERVICE_MINUTES": int(env.get("DISPATCH_SERVICE_MINUTES") or 6),
        "DISPATCH_AVERAGE_SPEED_KMH": float(env.get("DISPATCH_AVERAGE_SPEED_KMH") or 30),
        "DISPATCH_SHIFT": env.get("DISPATCH_SHIFT") or "08:00-18:00",
        "ROUTING_MATRIX_URL": env.get("ROUTING_MATRIX_URL") or None,
        # The map's tiles: none by default (stops and routes on a plain background, works offline).
        "MAP_TILE_URL": env.get("MAP_TILE_URL") or None,
        "MAP_TILE_ATTRIBUTION": env.get("MAP_TILE_ATTRIBUTION") or "",
        # Outbox (app.outbox): retries with exponential backoff and jitter, then the message is dead.
        "OUTBOX_MAX_ATTEMPTS": int(env.get("OUTBOX_MAX_ATTEMPTS") or 8),
        "OUTBOX_RETRY_BASE_SECONDS": float(env.get("OUTBOX_RETRY_BASE_SECONDS") or 30),
        "OUTBOX_RETRY_MAX_SECONDS": 6 * 3600,
        "OUTBOX_LEASE_SECONDS": 120,
        "OUTBOX_POLL_SECONDS": float(env.get("OUTBOX_POLL_SECONDS") or 2),
        # CSV imports of more pickups than this are committed by the worker in chunks (app.dispatch.imports.jobs).
        "IMPORT_BACKGROUND_PICKUPS": int(env.get("IMPORT_BACKGROUND_PICKUPS") or 1000),
        "IMPORT_CHUNK_PICKUPS": int(env.get("IMPORT_CHUNK_PICKUPS") or 500),
        "IMPORT_LEASE_SECONDS": 300,
        # Email to customers (app.emails); no SMTP_HOST: emails stay in the outbox, marked "not sent".
        "SMTP_HOST": env.get("SMTP_HOST") or None,
        "SMTP_PORT": int(env.get("SMTP_PORT") or 0) or None,
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_SECURITY": (env.get("SMTP_SECURITY") or "starttls").lower(),
        "SMTP_TIMEOUT_SECONDS": 20,
        "MAIL_FROM": env.get("MAIL_FROM") or "Backhaul <returns@backhaul.invalid>",
        # Emails sent after the hub received the goods: the shop may prefer to send its own.
        "EMAIL_RECEIVED": (env.get("EMAIL_RECEIVED") or "on").lower() not in ("0", "off", "false", "no"),
        # The morning-of reminder ("your pickup is today") goes at this hub-local time on the pickup's day.
        "EMAIL_ON_THE_DAY_AT": _clock_time("EMAIL_ON_THE_DAY_AT", env.get("EMAIL_ON_THE_DAY_AT"), default="07:00"),
        # Webhooks (app.webhooks): in production only https:// and never private or loopback
        # addresses, except those listed here (comma-separated hosts, IPs or CIDR networks).
        "WEBHOOK_PRIVATE_ALLOWLIST": [part.strip() for part in (env.get("WEBHOOK_PRIVATE_ALLOWLIST") or "").split(",") if part.strip()],
        "WEBHOOK_TIMEOUT_SECONDS": 10,
        # Rebooking from the customer's page (app.pickups.rebooking).
        "REBOOK_LIMIT": int(env.get("REBOOK_LIMIT") or 3),
    }
    settings.update(overrides)
    if settings["LOG_FORMAT"] not in ("json", "text"):
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {settings['LOG_FORMAT']!r}")
    # Several instances must agree on the links they print; a guessed default would differ per host.
    if production and not env.get("PUBLIC_BASE_URL") and "PUBLIC_BASE_URL" not in overrides:
        raise RuntimeError("PUBLIC_BASE_URL must be set when BACKHAUL_ENV=production (customer links and QR codes use it)")
    # A server database may drop idle connections (restarts, failovers): test them
    # before use. A SQLite file cannot, and the ping would cost a query per request.
    settings.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        {} if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else {"pool_pre_ping": True},
    )
    return settings
