"""What every benchmark module shares: reporting, timing, and a throw-away app."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask


class Report:
    def bench(self, name: str, value: float, unit: str) -> None:
        print(f"BENCH {name} {value:.4g} {unit}", flush=True)

    def ratio(self, name: str, value: float) -> None:
        print(f"RATIO {name} {value:.3g}", flush=True)

    def note(self, text: str) -> None:
        print(f"# {text}", file=sys.stderr, flush=True)


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(a: Callable[[], Any], b: Callable[[], Any], rounds: int = 5) -> tuple[float, float]:
    """Median times of ``a`` and ``b``, measured alternately so noise hits both alike."""
    ta, tb = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        a()
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        b()
        tb.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


@contextmanager
def app_on_file(folder: Path, name: str, **config: Any) -> Iterator[Flask]:
    """A Backhaul app on its own SQLite file in ``folder``, tables created, no context pushed.

    Several can be open at once (the pull benchmark compares two databases); each
    request made outside ``app.app_context()`` gets its own session.
    """
    from app import create_app
    from app.extensions import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / (name + '.sqlite')}",
        "SECRET_KEY": "bench",
        "PHOTO_STORAGE_DIR": str(folder / f"{name}-photos"),
        "RATELIMIT_ENABLED": False,
        # A line per request on the terminal would drown the figures (bench_observability measures it).
        "LOG_LEVEL": "WARNING",
        **config,
    })
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def bench_app(*, postgres_url: str = "", **config: Any) -> Iterator[Flask]:
    """A throw-away Backhaul app inside its app context: on a fresh SQLite file, or with ``postgres_url``
    in a private schema of that PostgreSQL database, dropped afterwards (SQLite's figures say little
    about a server's query plans)."""
    with tempfile.TemporaryDirectory() as tmp:
        if not postgres_url:
            with app_on_file(Path(tmp), "bench", **config) as app, app.app_context():
                yield app
            return
        with postgres_app(postgres_url, Path(tmp), **config) as app, app.app_context():
            yield app


@contextmanager
def postgres_app(url: str, folder: Path, **config: Any) -> Iterator[Flask]:
    """A Backhaul app on a private schema of PostgreSQL ``url``, tables created, no context pushed."""
    import uuid

    import sqlalchemy

    from app import create_app
    from app.extensions import db

    url = "postgresql+psycopg://" + url.split("://", 1)[1]
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}",
        "SECRET_KEY": "bench", "PHOTO_STORAGE_DIR": str(folder / "photos"), "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING",
        **config,
    })  # fmt: skip
    try:
        with app.app_context():
            db.create_all()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
