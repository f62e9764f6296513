"""What an operator watches: a request id on every log line, JSON logs, Prometheus metrics.

- Every request gets an id: the proxy's ``X-Request-ID`` when it sent a sane one,
  else a new one. It is on every log line written while the request runs, in
  the ``X-Request-ID`` response header and in JSON error bodies, so a driver's
  "it said error ab12…" leads straight to the log lines.
- Logs: one JSON object per line on stderr when ``LOG_FORMAT=json`` (the default
  in production), plain text otherwise. A request's line names its route
  template (``/r/<token>``), never the path it was called with, so tokens in
  URLs never reach a log; request bodies (passwords) are never logged.
- ``/metrics`` (Prometheus text format) answers only with
  ``Authorization: Bearer $METRICS_TOKEN`` and is 404 while ``METRICS_TOKEN`` is
  unset. Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR``
  to an empty folder so every worker's counts are added up (prometheus_client's
  multiprocess mode).
"""
from __future__ import annotations

import hmac
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector

bp = Blueprint("observability", __name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

REQUEST_SECONDS = Histogram(
    "backhaul_http_request_duration_seconds",
    "Time to answer a request, by route and status class.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SYNC_PUSH_MUTATIONS = Histogram(
    "backhaul_sync_push_mutations", "Mutations in one sync push.", buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000)
)
SYNC_PUSH_SECONDS = Histogram(
    "backhaul_sync_push_duration_seconds", "Time to apply one sync push.", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
)
PHOTO_BYTES = Counter("backhaul_photo_bytes_total", "Photo bytes received from phones and served to staff.", ["direction"])
RATE_LIMITED = Counter("backhaul_rate_limited_total", "Requests refused by a rate limit (429), by route.", ["endpoint"])
# Figures read from the database when /metrics is scraped (e.g. the outbox's depth), registered by
# the domain that owns them. They are not process gauges: with several workers each process would
# report its own stale copy, while a scrape-time query gives the one true value.
_SCRAPE_REGISTRY = CollectorRegistry(auto_describe=False)


def add_scrape_collector(collector: Collector) -> None:
    """Have ``collector`` (its ``collect()`` yields metric families) run on every scrape of /metrics."""
    _SCRAPE_REGISTRY.register(collector)


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    if not has_request_context():
        return None
    return g.get("request_id")


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request it was written in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any ``extra=`` fields."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in self._STANDARD and not key.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


JsonFormatter.converter = time.gmtime
_HANDLER_MARK = "_backhaul_handler"


def configure_logging(app: Flask) -> None:
    """Our loggers (``app.*``, ``backhaul.*``) and gunicorn's error log go to stderr in the chosen format; once per process."""
    json_lines = app.config["LOG_FORMAT"] == "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    setattr(handler, _HANDLER_MARK, True)
    for name in ("app", "backhaul"):
        logger = logging.getLogger(name)
        if app.testing:
            continue  # tests read records through caplog; no handler of ours in between
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(app.config["LOG_LEVEL"])
        logger.propagate = False


access_log = logging.getLogger("backhaul.request")


def _endpoint() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def register_observability(app: Flask) -> None:
    if not app.config.get("OBSERVABILITY_ENABLED", True):
        return  # only the benchmark turns it off, to measure what it costs
    configure_logging(app)

    @app.before_request
    def start() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        endpoint = _endpoint()
        if endpoint != "/metrics":
            REQUEST_SECONDS.labels(endpoint, request.method, f"{response.status_code // 100}xx").observe(seconds)
        if response.status_code == 429:
            RATE_LIMITED.labels(endpoint).inc()
        response.headers["X-Request-ID"] = g.request_id
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "%s %s %s", request.method, endpoint, response.status_code,
                extra={"method": request.method, "route": endpoint, "status": response.status_code, "duration_ms": round(seconds * 1000, 2)},
            )  # fmt: skip
        return response


def _registry() -> Any:
    from prometheus_client import REGISTRY

    if current_app.config.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format, for a scraper holding ``METRICS_TOKEN``."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        response = Response("metrics need Authorization: Bearer <METRICS_TOKEN>\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return Response(generate_latest(_registry()) + generate_latest(_SCRAPE_REGISTRY), mimetype=CONTENT_TYPE_LATEST)
