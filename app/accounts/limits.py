"""Login throttle: a growing wait after wrong passwords, per account and per address.

A lockout (refuse everything for 15 minutes after 10 misses) lets anyone who
knows an email lock its owner out. Instead, the first few misses cost nothing;
after them each further attempt must wait ``LOGIN_DELAY_BASE_SECONDS``,
doubling with every miss, at most ``LOGIN_DELAY_MAX_SECONDS``. Guessing is
slowed to about one try a minute, while the owner waits at most that long and
then gets in with the right password (which clears the account's misses).

Misses are counted over a moving window (``LOGIN_FAILURE_WINDOW_SECONDS``) in
the rate-limit storage: Redis when ``REDIS_URL`` is set, so every worker and
instance counts together, else this process's memory. Only wrong credentials
count: a driver logging in and out all day never waits. While a wait runs,
even the right password is answered 429 (else the wait would not slow a
guesser at all), with ``Retry-After``. Once it has run out, one attempt per
subject is let through at a time (an atomic claim), so a burst of parallel
guesses cannot all slip through the same opening.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import current_app
from limits.storage import MovingWindowSupport, Storage

from app.accounts.services import normalise_email
from app.core.errors import DomainError
from app.extensions import limiter

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# Entries kept per moving window: far more misses than any delay needs to reach its cap.
_WINDOW_ENTRIES = 1000


class LoginThrottled(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, wait_seconds: int):
        super().__init__(f"Too many wrong passwords. Wait {wait_seconds} s and try again.")
        self.headers = {"Retry-After": str(wait_seconds)}
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class _Subject:
    """One thing misses are counted for: an account (by email) or a client address."""

    key: str
    free_failures: int


def delay_after(failures: int, *, free: int, base: int, cap: int) -> int:
    """Seconds the next attempt must wait after ``failures`` recent misses (0 while they are free)."""
    if failures < free:
        return 0
    return min(cap, base * 2 ** min(failures - free, 32))


def _storage() -> Storage:
    return limiter.storage


def _guarded(work: F) -> F:
    """Skip when rate limits are off (benchmarks); a storage that does not answer lets the login through.

    Failing open: with Redis down, refusing every login (a 500) would lock everyone out,
    while /readyz already reports Redis as down to whoever watches.
    """

    @wraps(work)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return None
        try:
            return work(*args, **kwargs)
        except _storage().base_exceptions:  # e.g. redis.RedisError: the storage did not answer
            log.warning("login throttle storage did not answer; attempt let through", exc_info=True)
            return None

    return run  # type: ignore[return-value]


def _subjects(email: str, address: str | None) -> list[_Subject]:
    config = current_app.config
    prefix = config.get("RATELIMIT_KEY_PREFIX") or ""
    # Hashed: keys stay short and never spell an email out in Redis.
    account = hashlib.sha256(normalise_email(email).encode("utf-8", "replace")).hexdigest()[:32]
    parts = [
        _Subject(f"{prefix}/login-failures/account/{account}", config["LOGIN_FREE_FAILURES_PER_ACCOUNT"]),
        _Subject(f"{prefix}/login-failures/address/{address or 'unknown'}", config["LOGIN_FREE_FAILURES_PER_ADDRESS"]),
    ]
    return parts


def _failures(storage: Storage, subject: _Subject) -> int:
    assert isinstance(storage, MovingWindowSupport)
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    return int(storage.get_moving_window(subject.key, _WINDOW_ENTRIES, window)[1])


def _wait_key(subject: _Subject) -> str:
    return subject.key + "/wait"


def _claim_key(subject: _Subject, failures: int) -> str:
    return f"{subject.key}/claim/{failures}"


def _delay(failures: int, subject: _Subject) -> int:
    config = current_app.config
    return delay_after(failures, free=subject.free_failures, base=config["LOGIN_DELAY_BASE_SECONDS"], cap=config["LOGIN_DELAY_MAX_SECONDS"])


@_guarded
def check_login_allowed(email: str, address: str | None) -> None:
    """Raise ``LoginThrottled`` while this account or address must wait; else claim this attempt's turn."""
    storage = _storage()
    subjects = _subjects(email, address)
    waits = [math.ceil(storage.get_expiry(_wait_key(s)) - time.time()) for s in subjects if storage.get(_wait_key(s)) > 0]
    if waits:
        raise LoginThrottled(max(1, *waits))
    claimed: list[str] = []
    for subject in subjects:
        failures = _failures(storage, subject)
        if failures < subject.free_failures:
            continue
        # The wait ran out: one attempt goes ahead, the rest of a parallel burst waits a second.
        key = _claim_key(subject, failures)
        if storage.incr(key, max(1, _delay(failures, subject))) != 1:
            for mine in claimed:
                storage.clear(mine)
            raise LoginThrottled(1)
        claimed.append(key)


@_guarded
def record_login_failure(email: str, address: str | None) -> None:
    """Count a wrong password for the account and the address, and start the wait it earns."""
    storage = _storage()
    assert isinstance(storage, MovingWindowSupport)
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    for subject in _subjects(email, address):
        storage.acquire_entry(subject.key, _WINDOW_ENTRIES, window)
        delay = _delay(_failures(storage, subject), subject)
        if delay:
            storage.clear(_wait_key(subject))
            storage.incr(_wait_key(subject), delay)


@_guarded
def record_login_success(email: str, address: str | None) -> None:
    """The owner got in: the account's misses are forgotten (the address keeps its count)."""
    storage = _storage()
    account, place = _subjects(email, address)
    for key in (account.key, _wait_key(account)):
        storage.clear(key)
    failures = _failures(storage, place)
    storage.clear(_claim_key(place, failures))  # the address's next attempt need not wait for this one's claim
