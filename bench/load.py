"""`make load`: the end-of-shift wave against gunicorn on PostgreSQL, on loopback, bounded in time.

N drivers each sync a day of work: for every one of their 40 pickups, upload its
4 photos (~300 KB, 1600 px, made once here) and push its 4 mutations (arrive,
scan, collect with the photos, a note), one request at a time per phone as the
app does, all starting within the same minute. Prints requests per second,
p50/p95/p99 per request kind, errors, and the drivers one machine carries in 15
minutes at the measured rate, as BENCH/RATIO lines like ``make bench``.

    python bench/load.py [--drivers 60] [--seconds 600] [--spread 60] [--baseline DIR]

The drivers carried in 15 minutes are the machine's only while it is saturated: a
wave that ends soon after its last driver started (20 drivers within 60 s on a
machine that carries more than 300) measured its arrivals, and says so. ``--spread
0`` (``LOAD_SPREAD``), or more drivers, then measures the machine.

``--baseline DIR`` first runs the same wave against another checkout (e.g.
``git worktree add /tmp/bench-base main``), then this one, and prints the
ratios: the machine is shared, so compare within one run. The database is a
private schema of ``LOAD_DATABASE_URL`` (default: ``TEST_DATABASE_URL``, else
``postgresql://postgres@127.0.0.1:5432/test``), dropped afterwards.

Runs as a script (not ``bench.*``): the server's code comes from ``--app-dir``,
so the seed step imports the checkout being measured.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
PASSWORD = "load-password-1"
DISPATCHER = "dispatch@load.test"
PICKUPS = int(os.environ.get("LOAD_PICKUPS", 40))
PHOTOS_PER_PICKUP = 4


def _database_url() -> str:
    url = os.environ.get("LOAD_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# ---- seeding (runs in a subprocess, importing the checkout under test) -----------------


def seed(drivers: int) -> None:
    """Create the schema's tables, a hub, the drivers and their routes; print the routes as JSON."""
    from sqlalchemy import insert, select

    from app import create_app
    from app.accounts.services import create_user
    from app.extensions import db
    from app.hubs.services import create_hub
    from app.labels.codes import new_label_code
    from app.pickups.changes import take_change_numbers
    from app.pickups.models import Pickup, PickupItem, PickupStatus

    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(Path.cwd() / "migrations"))
        hub = create_hub(code="LOD", name="Load Hub", timezone="Europe/Amsterdam", city="Amsterdam", country="NL")
        db.session.flush()
        # For the benchmarks that import a CSV file or make a pickup with a customer link.
        create_user(email=DISPATCHER, password=PASSWORD, role="dispatcher", name="Load Dispatcher", hub_id=hub.id)
        routes = []
        start = datetime.now(timezone.utc) + timedelta(hours=1)
        for n in range(drivers):
            driver = create_user(email=f"load{n}@load.test", password=PASSWORD, role="driver", name=f"Load Driver {n}", hub_id=hub.id)
            db.session.flush()
            numbers = list(take_change_numbers(PICKUPS))
            rows = [
                {
                    "reference": f"L-{n}-{k}", "status": PickupStatus.ASSIGNED, "hub_id": hub.id, "customer_name": f"Customer {k}",
                    "address_line1": "Keizersgracht 1", "city": "Amsterdam", "postcode": "1015 CJ", "country": "NL",
                    "window_start": start, "window_end": start + timedelta(hours=2), "notes": "", "access_notes": "",
                    "driver_id": driver.id, "route_position": k + 1, "scan_required": False, "label_code": new_label_code(),
                    "version": 2, "change_seq": numbers[k],
                }  # fmt: skip
                for k in range(PICKUPS)
            ]
            ids = db.session.scalars(insert(Pickup).returning(Pickup.id, sort_by_parameter_order=True), rows).all()
            db.session.execute(
                insert(PickupItem),
                [{"pickup_id": i, "position": k, "sku": f"SKU-{k}", "description": "Returned goods", "quantity": 1, "reason": ""} for i in ids for k in range(2)],
            )
            items: dict[int, list[int]] = {}
            for item_id, pickup_id in db.session.execute(select(PickupItem.id, PickupItem.pickup_id).where(PickupItem.pickup_id.in_(ids))):
                items.setdefault(pickup_id, []).append(item_id)
            routes.append(
                {"email": driver.email, "pickups": [{"id": i, "code": r["label_code"], "items": sorted(items[i])} for i, r in zip(ids, rows, strict=True)]}
            )
        db.session.commit()
    print(json.dumps(routes))


# ---- the wave ----------------------------------------------------------------------------


def realistic_photo() -> bytes:
    """What the app uploads: already shrunk to 1600 px, JPEG quality 0.8, about 300 KB."""
    from PIL import Image

    size = (1600, 1200)
    light = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 30)
    picture = Image.merge("RGB", (light, Image.blend(light, noise, 0.3), Image.blend(noise, light, 0.6)))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return out.getvalue()


class Driver(threading.Thread):
    def __init__(self, base_url: str, route: dict[str, Any], photo: bytes, delay: float, deadline: float, samples: dict[str, list[float]], lock: threading.Lock):
        super().__init__(daemon=True)
        self.base_url, self.route, self.photo, self.delay, self.deadline = base_url, route, photo, delay, deadline
        self.samples, self.lock = samples, lock
        self.errors: list[str] = []
        self.finished_at: float | None = None

    def _timed(self, kind: str, method: str, path: str, **kwargs: Any) -> Any:
        start = time.perf_counter()
        response = self.session.request(method, self.base_url + path, timeout=60, **kwargs)
        elapsed = time.perf_counter() - start
        with self.lock:
            self.samples.setdefault(kind, []).append(elapsed)
        if response.status_code >= 300:
            self.errors.append(f"{kind} {response.status_code} {response.text[:200]}")
        return response

    def run(self) -> None:
        import requests

        time.sleep(self.delay)
        self.session = requests.Session()
        try:
            login = self._timed("login", "POST", "/api/v1/auth/login", json={"email": self.route["email"], "password": PASSWORD})
            headers = {"X-CSRFToken": login.json()["csrf_token"]}
            client_id = str(uuid.uuid4())
            digest = sha256(self.photo).hexdigest()
            now = datetime.now(timezone.utc).isoformat()
            where = {"lat": 52.37, "lon": 4.89, "accuracy_m": 9.0}
            next_id = 1
            for pickup in self.route["pickups"]:
                if time.monotonic() > self.deadline:
                    self.errors.append("deadline: the wave did not finish in time")
                    return
                photo_ids = [str(uuid.uuid4()) for _ in range(PHOTOS_PER_PICKUP if self.photo else 0)]
                for photo_id in photo_ids:
                    self._timed(
                        "photo", "PUT", f"/api/v1/photos/{photo_id}", data=self.photo,
                        headers={**headers, "Content-Type": "image/jpeg", "X-Content-SHA256": digest},
                    )  # fmt: skip
                items = [
                    {"item_id": item_id, "quantity": 1, "grade": "B", "notes": "", "photo_ids": photo_ids[k * 2 : k * 2 + 2]}
                    for k, item_id in enumerate(pickup["items"])
                ]
                mutations = []
                for name, args in (
                    ("arrive", {}),
                    ("scan_label", {"code": pickup["code"]}),
                    ("collect_items", {"items": items, "handed_over_by": "Customer"}),
                    ("note", {"text": "Left through the side gate"}),
                ):
                    mutations.append({"id": next_id, "name": name, "args": {"pickup_id": pickup["id"], **args}, "base_version": 2, "device_time": now, "location": where})
                    next_id += 1
                body = {"client_id": client_id, "schema_version": 1, "sent_at": datetime.now(timezone.utc).isoformat(), "mutations": mutations}
                answer = self._timed("push", "POST", "/api/v1/sync/push", json=body, headers=headers)
                if answer.status_code == 200 and {r["status"] for r in answer.json()["results"]} != {"applied"}:
                    self.errors.append(f"push not applied: {answer.text[:200]}")
            self._timed("pull", "GET", f"/api/v1/sync/pull?client_id={client_id}")
            self.finished_at = time.perf_counter()
        except Exception as error:  # a dead connection is an error of the run, not a crash of it
            self.errors.append(f"{type(error).__name__}: {error}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_cpu_seconds(base_url: str) -> float:
    """CPU time used so far by the gunicorn ``served`` runs at ``base_url`` (its master and workers; Linux's /proc)."""
    bind = f"127.0.0.1:{base_url.rsplit(':', 1)[1]}".encode()
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or bind not in (proc / "cmdline").read_bytes().split(b"\0"):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@contextmanager
def served(
    app_dir: Path, drivers: int, workers: int = 2, threads: int = 4, *, outbox_worker: bool = False
) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
    """gunicorn serving ``app_dir`` on a fresh private schema with ``drivers`` seeded; yield its URL, the routes and the database URL.

    ``outbox_worker``: ``flask outbox work`` runs beside it (emails go nowhere; big imports are its jobs).
    """
    import sqlalchemy

    url = _database_url()
    schema = f"load_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    tmp = tempfile.mkdtemp(prefix="backhaul-load-")
    database_url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    env = {
        **os.environ,
        "PYTHONPATH": str(app_dir),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "load-secret",
        "PHOTO_STORAGE_DIR": str(Path(tmp) / "photos"),
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    server = worker = None
    try:
        seeded = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--seed", str(drivers)], cwd=app_dir, env=env, capture_output=True, text=True
        )
        if seeded.returncode:
            raise RuntimeError(f"seeding failed:\n{seeded.stderr[-3000:]}")
        routes = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = _free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        server = subprocess.Popen(
            [str(gunicorn), "-k", "gthread", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
            cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "gunicorn.log", "w"),
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        if outbox_worker:
            worker = subprocess.Popen(
                # At the priority deploy/systemd/backhaul-outbox.service gives it.
                ["nice", "-n", "10", str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "outbox", "work"],
                cwd=app_dir, env={**env, "OUTBOX_POLL_SECONDS": "0.5"}, stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "worker.log", "w"),
            )  # fmt: skip
        # On a busy shared machine the workers can take a while to import the app.
        _wait_for(base_url + "/healthz", 120)
        yield base_url, routes, database_url
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def run_phones(base_url: str, routes: list[dict[str, Any]], *, photos: bool, seconds: float, spread: float) -> dict[str, Any]:
    """Every route's phone syncs its day at once; answer wall time, samples per kind, errors and drivers done."""
    photo = realistic_photo() if photos else b""
    samples: dict[str, list[float]] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    rng = random.Random(11)
    phones = [Driver(base_url, route, photo, rng.uniform(0, spread), deadline, samples, lock) for route in routes]
    start = time.perf_counter()
    for phone in phones:
        phone.start()
    for phone in phones:
        phone.join(max(1.0, deadline - time.monotonic() + 60))
    wall = max((p.finished_at or time.perf_counter()) for p in phones) - start
    errors = [e for p in phones for e in p.errors]
    done = sum(1 for p in phones if p.finished_at is not None)
    return {"wall": wall, "samples": samples, "errors": errors, "done": done, "drivers": len(routes), "photo_bytes": len(photo),
            "pickups": len(routes[0]["pickups"]), "spread": spread}  # fmt: skip


def wave(app_dir: Path, drivers: int, seconds: float, spread: float, workers: int, threads: int) -> dict[str, Any]:
    """One end-of-shift wave against a fresh schema served by ``app_dir``; answer its figures."""
    with served(app_dir, drivers, workers, threads) as (base_url, routes, _):
        return run_phones(base_url, routes, photos=True, seconds=seconds, spread=spread)


def _wait_for(url: str, seconds: float) -> None:
    import requests

    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer {url} within {seconds:.0f} s")


def report(name: str, figures: dict[str, Any]) -> dict[str, float]:
    """Print one wave's BENCH lines; answer the headline numbers."""
    wall, samples = figures["wall"], figures["samples"]
    out = {
        "pushes_per_s": len(samples.get("push", [])) / wall,
        "photos_per_s": len(samples.get("photo", [])) / wall,
        # At the measured rate: this wave's drivers took ``wall`` seconds (a shorter day counts as part of one).
        "drivers_per_15min": figures["done"] * (figures["pickups"] / 40) * 900 / wall,
        "errors": float(len(figures["errors"])),
    }
    print(f"BENCH load_{name}_drivers {figures['drivers']} drivers", flush=True)
    print(f"BENCH load_{name}_wall_s {wall:.4g} s", flush=True)
    print(f"BENCH load_{name}_photo_bytes {figures['photo_bytes']} bytes", flush=True)
    for key, value in out.items():
        print(f"BENCH load_{name}_{key} {value:.4g} {'count' if key == 'errors' else key.split('_per_')[0] + '/' + key.split('_per_')[-1] if '_per_' in key else ''}", flush=True)
    for kind, values in sorted(samples.items()):
        for label, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            value = _percentile(values, q) * 1000
            out[f"{kind}_{label}_ms"] = value
            print(f"BENCH load_{name}_{kind}_{label}_ms {value:.4g} ms", flush=True)
    for error in figures["errors"][:5]:
        print(f"# {name} error: {error}", file=sys.stderr, flush=True)
    # The wave cannot end before its last driver started: drivers x 900 / spread is the most it can show.
    ceiling = figures["drivers"] * (figures["pickups"] / 40) * 900 / figures["spread"] if figures.get("spread") else float("inf")
    if out["drivers_per_15min"] > 0.8 * ceiling:
        print(
            f"# {name}: bound by its arrivals ({figures['drivers']} drivers within {figures['spread']:.0f} s, at most"
            f" {ceiling:.0f} drivers/15min), not by the machine: more drivers (--drivers) or --spread 0 measure what it carries",
            file=sys.stderr, flush=True,
        )  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # 60: more than a 2-core machine finishes within the minute they start in, so the default run
    # measures the machine, not the arrivals (20 drivers showed at most 300 per 15 minutes).
    parser.add_argument("--drivers", type=int, default=int(os.environ.get("LOAD_DRIVERS", 60)))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("LOAD_SECONDS", 600)), help="give up after this long")
    parser.add_argument("--spread", type=float, default=float(os.environ.get("LOAD_SPREAD", 60)), help="drivers start within this many seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--app-dir", type=Path, default=HERE)
    parser.add_argument("--baseline", type=Path, default=os.environ.get("LOAD_BASELINE") or None, help="another checkout to measure first")
    parser.add_argument("--pickups", type=int, default=PICKUPS, help="pickups per driver's day (40)")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["LOAD_PICKUPS"] = str(args.pickups)  # the seed step runs in a subprocess
    if args.seed is not None:
        seed(args.seed)
        return 0
    spread = min(args.spread, args.seconds / 4)
    runs = [("base", args.baseline), ("now", args.app_dir)] if args.baseline else [("now", args.app_dir)]
    results = {}
    for name, app_dir in runs:
        print(f"# {name}: {args.drivers} drivers against {app_dir}", file=sys.stderr, flush=True)
        results[name] = report(name, wave(app_dir.resolve(), args.drivers, args.seconds, spread, args.workers, args.threads))
    now = results["now"]
    print(f"RATIO load_drivers_per_machine_vs_goal_400 {now['drivers_per_15min'] / 400:.3g}", flush=True)
    if "push_p95_ms" in now:
        print(f"RATIO load_push_p95_vs_goal_1s {1000 / now['push_p95_ms']:.3g}", flush=True)
    if "base" in results:
        base = results["base"]
        print(f"RATIO load_drivers_per_15min_now_vs_base {now['drivers_per_15min'] / max(base['drivers_per_15min'], 1e-9):.3g}", flush=True)
        print(f"RATIO load_pushes_per_s_now_vs_base {now['pushes_per_s'] / max(base['pushes_per_s'], 1e-9):.3g}", flush=True)
        if "push_p95_ms" in base and "push_p95_ms" in now:
            print(f"RATIO load_push_p95_base_over_now {base['push_p95_ms'] / now['push_p95_ms']:.3g}", flush=True)
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
