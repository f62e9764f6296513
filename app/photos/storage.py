"""Where photo files live: a folder (the default) or any S3-compatible object store.

Both backends keep the same promises, which the rest of the app relies on:

- a stored name appears only when its bytes are complete: the folder writes a
  temp file, fsyncs and renames it; an S3 PUT is atomic by nature, and carries
  ``Content-MD5`` so the store refuses bytes that changed on the way;
- names are server-made (``photo_file_names``), never taken from a request;
- ``delete`` removes the bytes for good (purges rely on it);
- ``sweep_strays`` removes what a killed process left behind: temp files, and
  files whose database row was never committed (``flask --app wsgi sync purge``).

``PHOTO_STORAGE_URL`` chooses: ``file:///path`` or ``s3://bucket/prefix`` (with
``S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_REGION``). Without it, the folder ``PHOTO_STORAGE_DIR`` is used, as before.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app

from app.core.health import add_readiness_check

TEMP_PREFIX = ".upload-"
_EXTENSION_KEY = "backhaul.photo_storage"


class PhotoNotFound(LookupError):
    """The database names a file the store does not have."""


class PhotoStorage(Protocol):
    """What the photo domain needs from a place that keeps bytes under names."""

    description: str

    def put(self, name: str, data: bytes) -> None:
        """Keep ``data`` under ``name``; readers see all of it or nothing."""

    def get(self, name: str) -> bytes:
        """The bytes under ``name``; PhotoNotFound if there are none."""

    def exists(self, name: str) -> bool: ...

    def delete(self, names: Iterable[str]) -> None:
        """Remove these names; missing ones are fine."""

    def names(self) -> Iterator[str]:
        """Every stored name (tests and audits)."""

    def sweep_strays(self, kept: Callable[[list[str]], set[str]], older_than_seconds: int = 3600) -> int:
        """Remove leftovers older than this that ``kept`` does not know; answer how many."""

    def check(self) -> None:
        """Raise if the store cannot be reached (readiness probe)."""


def photo_file_names(photo_id: str, sha256: str) -> tuple[str, str]:
    """The photo's and its thumbnail's names; the hash in the name keeps two different uploads apart."""
    stem = f"{photo_id[:2]}/{photo_id}-{sha256[:16]}"
    return f"{stem}.jpg", f"{stem}.thumb.jpg"


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class FileStorage:
    """Photos as files under one folder (the embedded default)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.description = f"file://{self.root}"

    def path_of(self, name: str) -> Path:
        """The absolute path of a stored name, refusing anything outside the folder."""
        root = self.root.resolve()
        path = (root / name).resolve()
        if root not in path.parents:  # names are ours, but never trust a path
            raise ValueError(f"photo file name outside the storage folder: {name!r}")
        return path

    def put(self, name: str, data: bytes) -> None:
        path = self.path_of(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def get(self, name: str) -> bytes:
        try:
            return self.path_of(name).read_bytes()
        except FileNotFoundError:
            raise PhotoNotFound(name) from None

    def exists(self, name: str) -> bool:
        return self.path_of(name).is_file()

    def delete(self, names: Iterable[str]) -> None:
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                self.path_of(name).unlink()

    def names(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()

    def sweep_strays(self, kept: Callable[[list[str]], set[str]], older_than_seconds: int = 3600) -> int:
        # Young files are left alone: their upload may still be running.
        if not self.root.exists():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        candidates: list[Path] = []
        for path in self.root.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                if path.is_file() and path.stat().st_mtime < cutoff:
                    if path.name.startswith(TEMP_PREFIX):
                        path.unlink()
                        removed += 1
                    else:
                        candidates.append(path)
        for chunk in (candidates[start : start + 500] for start in range(0, len(candidates), 500)):
            names = [path.relative_to(self.root).as_posix() for path in chunk]
            known = kept(names)
            for path, name in zip(chunk, names, strict=True):
                if name not in known:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed += 1
        return removed

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise OSError(f"the photo folder {self.root} is not writable")


class S3Storage:
    """Photos as objects in an S3-compatible store (AWS S3, MinIO, SeaweedFS, Ceph, …) through boto3."""

    def __init__(self, bucket: str, prefix: str, client: Any):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client
        self.description = f"s3://{bucket}/{self.prefix}"

    def _key(self, name: str) -> str:
        if name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"photo object name not ours: {name!r}")
        return self.prefix + name

    def put(self, name: str, data: bytes) -> None:
        # Content-MD5: the store checks the bytes it received against it and refuses
        # the PUT if they differ; a PUT cut off half-way never becomes an object.
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data, ContentMD5=digest, ContentType="image/jpeg")

    def get(self, name: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except self.client.exceptions.NoSuchKey:
            raise PhotoNotFound(name) from None
        body = answer["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, names: Iterable[str]) -> None:
        keys = [self._key(name) for name in names]
        for chunk in _chunks(keys, 1000):  # DeleteObjects takes at most 1,000 keys
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True})

    def _listing(self) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            yield from page.get("Contents", [])

    def names(self) -> Iterator[str]:
        for entry in self._listing():
            yield entry["Key"][len(self.prefix) :]

    def sweep_strays(self, kept: Callable[[list[str]], set[str]], older_than_seconds: int = 3600) -> int:
        # No temp objects exist (a PUT is atomic); only objects whose row never committed.
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than_seconds)
        old = [entry["Key"][len(self.prefix) :] for entry in self._listing() if entry["LastModified"] < cutoff]
        removed = 0
        for chunk in _chunks(old, 500):
            known = kept(chunk)
            strays = [name for name in chunk if name not in known]
            if strays:
                self.delete(strays)
                removed += len(strays)
        return removed

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def s3_client(settings: dict[str, Any]) -> Any:
    """A boto3 S3 client from the settings (the AWS_* variables boto3 reads itself work too)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        # Path-style addressing works on every S3-compatible store; virtual hosts need DNS for each bucket.
        s3={"addressing_style": "path"},
        # Many S3-compatible stores do not support the CRC trailers newer boto3 sends by default;
        # Content-MD5 (sent by put) is the integrity check every store understands.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=20,
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.get("S3_ENDPOINT_URL") or None,
        region_name=settings.get("AWS_REGION") or None,
        aws_access_key_id=settings.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=settings.get("AWS_SECRET_ACCESS_KEY") or None,
        config=config,
    )


def storage_from_settings(settings: dict[str, Any]) -> PhotoStorage:
    """The backend ``PHOTO_STORAGE_URL`` names (or the folder ``PHOTO_STORAGE_DIR``)."""
    url = settings.get("PHOTO_STORAGE_URL") or ""
    if not url:
        return FileStorage(Path(settings["PHOTO_STORAGE_DIR"]))
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"PHOTO_STORAGE_URL {url!r}: a file URL names a local folder, file:///path")
        return FileStorage(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"PHOTO_STORAGE_URL {url!r}: name the bucket, s3://bucket/prefix")
        return S3Storage(parts.netloc, unquote(parts.path), s3_client(settings))
    raise ValueError(f"PHOTO_STORAGE_URL {url!r}: use file:///path or s3://bucket/prefix")


def init_app(app: Flask) -> None:
    storage = storage_from_settings(app.config)
    app.extensions[_EXTENSION_KEY] = storage
    add_readiness_check(app, "photo_storage", storage.check)


def photo_storage() -> PhotoStorage:
    """The current app's photo store."""
    storage: PhotoStorage = current_app.extensions[_EXTENSION_KEY]
    return storage
