"""Extensions created without an app; ``create_app`` binds them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # What ``db.Model`` is, spelled so a type checker can follow it (Flask-SQLAlchemy builds it at run time).
    class Model(Base):
        __abstract__ = True
else:
    Model = db.Model
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()


def carries_api_key() -> bool:
    """An API request that names an API key (``Authorization: Bearer``); app.apikeys checks the key itself."""
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    return request.path.startswith("/api/") and scheme.lower() == "bearer"


class BackhaulCSRF(CSRFProtect):
    """CSRF protection, except for requests that carry an API key.

    CSRF is an attack on cookies a browser sends by itself; a Bearer key is never
    sent by a browser on its own, and app.apikeys refuses the request (401) unless
    the key is valid, so such a request never falls back to the session.
    """

    def protect(self, apply_exemptions: bool = False) -> None:
        if carries_api_key():
            return
        super().protect(apply_exemptions=apply_exemptions)


csrf = BackhaulCSRF()
# gzip or brotli for pages, CSS, JS and JSON (photos and PDFs are compressed already).
compress = Compress()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class BackhaulApi(Api):
    """flask-smorest's Api, with errors in Backhaul's JSON shape (see core.errors)."""

    def _register_error_handlers(self) -> None:
        # core.errors registers one handler set for the whole app; smorest's own would
        # answer in a different shape.
        pass


api = BackhaulApi()


def wants_json() -> bool:
    """API clients get JSON errors; people in a browser get pages."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )
