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
    settings = load_settings(tmp_path)
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["SECRET_KEY"] == "s3cret"


def test_development_key_is_generated_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("BACKHAUL_ENV", raising=False)
    first = load_settings(tmp_path)["SECRET_KEY"]
    assert first == load_settings(tmp_path)["SECRET_KEY"] and len(first) >= 32
