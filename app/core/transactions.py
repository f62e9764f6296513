"""The unit of work: one commit per request, CLI command or worker job, and nowhere else.

Services never commit or roll back: a request either succeeds and everything it
changed is committed together, or it fails and nothing is kept (Indico's way).
That is what makes a CSV import or a sync batch all-or-nothing.

- Requests: ``register_unit_of_work`` commits after a response below 400 and
  rolls back otherwise. A database that is busy (a lock wait that timed out, a
  serialization failure, a dropped connection) is answered 503 with
  ``Retry-After``: nothing was applied, and the client sends the same request again.
- CLI commands and worker jobs: ``run_in_transaction`` commits once, and tries
  again when the database was busy.
- Work that must follow the commit (a message to another process) or precede
  it (writing buffered rows) registers with ``after_commit`` / ``before_commit``;
  a rollback forgets it.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app
from sqlalchemy import event
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.core.errors import DomainError, error_response
from app.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

_BEFORE_COMMIT = "backhaul.before_commit"
_AFTER_COMMIT = "backhaul.after_commit"
_AFTER_FLUSH = "backhaul.after_flush"
_BUFFERS: set[str] = set()  # session.info keys of per-transaction buffers (see transaction_buffer)


class DatabaseBusy(DomainError):
    """The database could not do the work now; nothing was applied."""

    status = 503
    code = "try_again"


def is_busy(error: BaseException) -> bool:
    """A failure that goes away when the same work is tried again (not a bug in the request)."""
    if isinstance(error, OperationalError):
        return True  # lock timeouts, deadlocks, "database is locked", lost connections
    # PostgreSQL's serialization failure (40001) and deadlock (40P01) arrive as other DBAPI errors.
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    return isinstance(error, DBAPIError) and code in ("40001", "40P01")


def _is_bad_value(error: BaseException) -> bool:
    # SQLSTATE class 22: data exception (numeric out of range, invalid datetime, NUL in text …).
    code = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    return isinstance(error, DataError) or code.startswith("22")


def _busy_answer(error: BaseException) -> Response:
    log.warning("request rolled back, the database was busy: %s", getattr(error, "orig", error))
    body, status = error_response(
        503, DatabaseBusy.code, "The server is busy. Send the same request again in a moment; nothing was applied."
    )
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = str(current_app.config["SYNC_RETRY_AFTER_SECONDS"])
    return response


def register_unit_of_work(app: Flask) -> None:
    """Commit what a successful request changed, roll back what a failed one began."""

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except DBAPIError as error:
            if not is_busy(error):
                raise
            db.session.rollback()
            return _busy_answer(error)
        return response

    @app.errorhandler(DBAPIError)
    def answer_database_error(error: DBAPIError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if is_busy(error):
            return _busy_answer(error)
        if _is_bad_value(error):
            # The database refused a value (a number out of its range, a date it cannot hold): the
            # input's fault, said plainly. The edge checks should have caught it first; log which.
            log.warning("database refused a value: %s", getattr(error, "orig", error))
            return error_response(422, "invalid_value", "A value is out of the range Backhaul can store.")
        log.exception("database error")
        return error_response(500, "server_error", "Something went wrong on our side. It has been logged.")


def run_in_transaction(work: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``work`` and commit it (CLI commands, worker jobs); a busy database gets a few more tries."""
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except BaseException as error:
            db.session.rollback()
            if attempt == attempts or not is_busy(error):
                raise
            # Back off with jitter, so two jobs that collided do not collide again.
            time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


def begin_write_transaction() -> None:
    """Start this unit of work as a writer now, so concurrent writers queue instead of failing later.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock before the first read (the
    driver would only begin at the first write, after our checks had read stale
    data; so far only reads happened, nothing to lose). PostgreSQL: a bounded
    lock wait turns a stuck request into a 503 retry instead of a hung one.
    """
    session = db.session
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and raw.in_transaction:
            session.rollback()
            connection = session.connection()
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        timeout = int(current_app.config["SYNC_LOCK_TIMEOUT_MS"])
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout}")


# --- work tied to the transaction --------------------------------------------------------------


def transaction_buffer(key: str) -> str:
    """Declare ``session.info[key]`` a buffer of one transaction: dropped when it commits or rolls back
    (a rolled-back change leaves nothing behind to be written by the next one)."""
    _BUFFERS.add(key)
    return key


def before_commit(key: str, callback: Callable[[Session], None], *, session: Session | None = None) -> None:
    """Run ``callback`` once just before this transaction commits (one per ``key``); forgotten on rollback.

    ``session``: the one to follow when it is not ``db.session`` (a flush listener is told its session).
    """
    (session if session is not None else db.session).info.setdefault(_BEFORE_COMMIT, {})[key] = callback


def after_next_flush(key: str, callback: Callable[[Session], None]) -> None:
    """Run ``callback`` once, when the session next writes its pending objects (new rows have ids then)."""
    db.session.info.setdefault(_AFTER_FLUSH, {})[key] = callback


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once this transaction has committed; forgotten on rollback."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "before_commit")
def _run_before_commit(session: Session) -> None:
    # Callbacks may register more (writing one buffer can announce into another).
    while pending := session.info.pop(_BEFORE_COMMIT, None):
        for callback in pending.values():
            callback(session)


@event.listens_for(Session, "after_flush_postexec")
def _run_after_flush(session: Session, flush_context: Any) -> None:
    for callback in session.info.pop(_AFTER_FLUSH, {}).values():
        callback(session)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for key in _BUFFERS:
        session.info.pop(key, None)
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:  # the commit stands; a follower that failed must not turn it into an error
            log.exception("after-commit callback failed")


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_BEFORE_COMMIT, None)
    session.info.pop(_AFTER_COMMIT, None)
    session.info.pop(_AFTER_FLUSH, None)
    for key in _BUFFERS:
        session.info.pop(key, None)
