from pathlib import Path

import pytest

from app.config import load_settings


def test_server_databases_ping_connections_sqlite_does_not(tmp_path: Path):
    postgres = load_settings(tmp_path, {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/backhaul"})
    sqlite = load_settings(tmp_path, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert postgres["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {}


def test_postgres_urls_use_psycopg3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_settings(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_production_requires_a_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BACKHAUL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_settings(tmp_path)
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://returns.example.com")
    settings = load_settings(tmp_path)
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["SECRET_KEY"] == "s3cret"


def test_production_requires_the_shared_public_base_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Two instances that each guessed their own base URL would print different customer links.
    monkeypatch.setenv("BACKHAUL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        load_settings(tmp_path)


@pytest.mark.parametrize(("name", "value"), [("TRUSTED_PROXIES", "two"), ("TRUSTED_PROXIES", "-1"), ("PERSONAL_DATA_RETENTION_DAYS", "soon")])
def test_bad_numbers_in_the_environment_stop_the_start_with_the_variables_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    ("url", "kind", "description"),
    [("", "FileStorage", None), ("file:///srv/photos", "FileStorage", "file:///srv/photos"), ("s3://bucket/backhaul/photos", "S3Storage", "s3://bucket/backhaul/photos/")],
)
def test_photo_storage_url_chooses_the_backend(tmp_path: Path, url, kind, description):
    from app.photos.storage import storage_from_settings

    storage = storage_from_settings({"PHOTO_STORAGE_URL": url, "PHOTO_STORAGE_DIR": str(tmp_path), "S3_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_REGION": "us-east-1"})
    assert type(storage).__name__ == kind
    assert storage.description == (description or f"file://{tmp_path}")


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://", "file://otherhost/x"])
def test_a_photo_storage_url_we_cannot_use_is_refused(tmp_path: Path, url):
    from app.photos.storage import storage_from_settings

    with pytest.raises(ValueError, match="PHOTO_STORAGE_URL"):
        storage_from_settings({"PHOTO_STORAGE_URL": url, "PHOTO_STORAGE_DIR": str(tmp_path)})


def test_development_key_is_generated_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("BACKHAUL_ENV", raising=False)
    first = load_settings(tmp_path)["SECRET_KEY"]
    assert first == load_settings(tmp_path)["SECRET_KEY"] and len(first) >= 32
