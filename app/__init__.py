"""Backhaul: reverse-logistics pickups."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, jsonify, redirect, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import load_settings
from app.extensions import api, csrf, db, limiter, login_manager, migrate, wants_json


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → blueprints → CLI."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_settings(Path(app.instance_path), config))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if app.config["TRUSTED_PROXIES"]:
        # Believe X-Forwarded-For/Proto/Host/Port from exactly that many proxies in front of us:
        # client addresses (rate limits, logs) and https links come out right, and a client
        # cannot forge its address by sending the header itself past the last trusted proxy.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    _init_extensions(app)
    _subscribe_to_domain_events()
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app.accounts.services import load_session_user
    from app.apikeys.auth import register_api_key_auth
    from app.core import database  # noqa: F401  (SQLite connection settings)
    from app.core.compression import register_compression
    from app.core.errors import ErrorSchema, error_body, register_error_handlers
    from app.core.health import register_readiness
    from app.core.inputs import register_input_guard
    from app.core.observability import register_observability
    from app.core.openapi import NumbersPlugin, SessionAuthPlugin
    from app.core.security import register_security_headers
    from app.core.static_files import register_static_digests
    from app.core.templating import register_template_filters
    from app.core.transactions import register_unit_of_work
    from app.outbox.metrics import register_outbox_metrics
    from app.photos.storage import init_app as init_photo_storage

    # First: the id converter must be in place before any route is added.
    register_input_guard(app)
    db.init_app(app)
    register_readiness(app)
    init_photo_storage(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    register_compression(app)
    register_static_digests(app)
    limiter.init_app(app)
    # OpenAPI describes the error body we send, not flask-smorest's own.
    api.ERROR_SCHEMA = ErrorSchema
    api.init_app(app, spec_kwargs={"extra_plugins": [SessionAuthPlugin(), NumbersPlugin()]})

    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.user_loader(load_session_user)

    @login_manager.unauthorized_handler
    def unauthorized():  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify(error_body("unauthorized", "Please log in first.")), 401
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))

    register_observability(app)
    register_outbox_metrics()
    register_error_handlers(app)
    register_api_key_auth(app)
    register_unit_of_work(app)
    register_security_headers(app)
    register_template_filters(app)

    # Every model module is imported so the metadata (and Alembic) sees all tables.
    from app import models  # noqa: F401


def _subscribe_to_domain_events() -> None:
    """The domains above pickups react to its events (see app.pickups.events); connecting twice is harmless."""
    from app.dispatch.imports.jobs import run_import_jobs
    from app.emails.subscribers import subscribe as emails_subscribe
    from app.labels.subscribers import subscribe as labels_subscribe
    from app.outbox.services import register_background_job
    from app.reports.subscribers import subscribe as reports_subscribe
    from app.sync.subscribers import subscribe as sync_subscribe
    from app.webhooks.subscribers import subscribe as webhooks_subscribe

    labels_subscribe()
    sync_subscribe()
    # Messages to the outside world: written to the outbox in the change's transaction.
    emails_subscribe()
    webhooks_subscribe()
    # The report's rollup: counted again in the change's transaction.
    reports_subscribe()
    # Big CSV imports are committed by the outbox worker, chunk by chunk.
    register_background_job("csv_import", run_import_jobs)


def _register_blueprints(app: Flask) -> None:
    from app.accounts.api import blp as auth_api
    from app.accounts.views import bp as accounts_views
    from app.apikeys.auth import declare_api_key_scheme
    from app.core.health import bp as health
    from app.core.observability import bp as observability
    from app.dispatch import admin_views, import_views, views  # noqa: F401  (their routes attach to dispatch's blueprint)
    from app.dispatch.api import blp as dispatch_api
    from app.dispatch.blueprint import bp as dispatch_views
    from app.dispatch.pickups_api import blp as pickups_api
    from app.dispatch.routes_api import blp as routes_api
    from app.driver.views import bp as driver_views
    from app.labels.api import blp as labels_api
    from app.labels.views import bp as labels_views
    from app.outbox.views import bp as outbox_views
    from app.photos.api import blp as photos_api
    from app.photos.api import pickup_photos_blp as pickup_photos_api
    from app.portal.views import bp as portal_views
    from app.receiving.api import blp as receiving_api
    from app.receiving.views import bp as hub_views
    from app.reports import views as report_views  # noqa: F401  (its routes attach to dispatch's blueprint)
    from app.sync.api import blp as sync_api
    from app.sync.views import bp as sync_views
    from app.webhooks.api import blp as webhooks_api
    from app.webhooks.views import bp as webhooks_views

    app.register_blueprint(health)
    app.register_blueprint(observability)
    app.register_blueprint(accounts_views)
    app.register_blueprint(dispatch_views)
    app.register_blueprint(driver_views)
    app.register_blueprint(labels_views)
    app.register_blueprint(portal_views)
    app.register_blueprint(hub_views)
    app.register_blueprint(sync_views)
    app.register_blueprint(outbox_views)
    app.register_blueprint(webhooks_views)
    for blueprint in (auth_api, pickups_api, dispatch_api, labels_api, sync_api, photos_api, pickup_photos_api, routes_api, webhooks_api, receiving_api):
        api.register_blueprint(blueprint)
    declare_api_key_scheme()


def _register_cli(app: Flask) -> None:
    from app.accounts.cli import users_cli
    from app.apikeys.cli import api_keys_cli
    from app.demo.cli import demo_data_command
    from app.hubs.cli import hubs_cli
    from app.outbox.cli import outbox_cli
    from app.reports.cli import reports_cli
    from app.retention.cli import purge_expired_command
    from app.sync.cli import sync_cli

    app.cli.add_command(hubs_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(sync_cli)
    app.cli.add_command(api_keys_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(purge_expired_command)
