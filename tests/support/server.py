"""A real Backhaul server (gunicorn in a subprocess) that a test can kill -9 and start again."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn serving ``wsgi:app`` on the test's database and photo folder."""

    def __init__(
        self, database_url: str, photo_dir: Path, log_path: Path, extra_args: tuple[str, ...] = (), extra_env: dict[str, str] | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "PHOTO_STORAGE_DIR": str(photo_dir),
            "PYTHONWARNINGS": "ignore",
            **(extra_env or {}),
        }
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "wsgi:app",
            "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--worker-class", "gthread", "--threads", "4",
            "--graceful-timeout", "1", "--timeout", "30", *self.extra_args,
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            # Its own process group, so kill -9 takes the master and the worker at once.
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer within 30 s; see {self.log_path}")

    def kill(self) -> None:
        """kill -9 of the whole server, mid-request or not."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def login(server: LiveServer, email: str, password: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    response = session.post(f"{server.url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return session, response.json()["csrf_token"]


def database_url_of(app: Any) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]
