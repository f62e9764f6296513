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
def bench_app(database_url: str | None = None, **config: Any) -> Iterator[Flask]:
    """A Backhaul app on a fresh SQLite file (or ``database_url``), tables created."""
    from app import create_app
    from app.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "PHOTO_STORAGE_DIR": str(Path(tmp) / "photos"),
            "RATELIMIT_ENABLED": False,
            **config,
        })
        with app.app_context():
            db.create_all()
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()
