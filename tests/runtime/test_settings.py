"""Settings: environment variable names, .env, URL normalisation, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flowgen_runtime.core.settings import ConfigError, Settings, get_settings, load_settings

ENV_NAMES = [
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "REDIS_TIMEOUT",
    "FLOWGEN_DATA_DIR",
    "FLOWGEN_DEBUG",
    "DATA_DIR",
    "DEBUG",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "HOST",
    "PORT",
    "MAX_PAGE_SIZE",
    "DEFAULT_PAGE_SIZE",
    "JWT_SECRET",
    "JWT_ALGORITHM",
    "JWT_PUBLIC_KEY",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "QUEUE_PREFIX",
    "CACHE_ENABLED",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the outer environment, and a cwd without .env."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.redis_timeout == 0.25
    assert settings.data_dir == ".flowgen"
    assert settings.debug is False
    assert (settings.log_level, settings.log_format) == ("INFO", "json")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert (settings.max_page_size, settings.default_page_size) == (100, 20)
    assert (settings.jwt_secret, settings.jwt_algorithm) == (None, "HS256")
    assert settings.queue_prefix == "bull"
    assert settings.cache_enabled is True
    assert settings.is_embedded_db and settings.is_embedded_redis and settings.is_sqlite


def test_environment_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "DATABASE_URL": "postgresql://app@db/app",
        "REDIS_URL": "redis://cache:6379/1",
        "REDIS_TIMEOUT": "0.5",
        "FLOWGEN_DATA_DIR": "/srv/data",
        "FLOWGEN_DEBUG": "true",
        "LOG_LEVEL": "debug",
        "LOG_FORMAT": "console",
        "HOST": "0.0.0.0",
        "PORT": "9000",
        "MAX_PAGE_SIZE": "500",
        "DEFAULT_PAGE_SIZE": "50",
        "JWT_SECRET": "s3cret",
        "QUEUE_PREFIX": "myapp",
        "CACHE_ENABLED": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.database_url == "postgresql://app@db/app"
    assert settings.redis_url == "redis://cache:6379/1"
    assert settings.redis_timeout == 0.5
    assert settings.data_dir == "/srv/data"
    assert settings.debug is True
    assert (settings.log_level, settings.log_format) == ("DEBUG", "console")
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert (settings.max_page_size, settings.default_page_size) == (500, 50)
    assert settings.jwt_secret == "s3cret"
    assert settings.queue_prefix == "myapp"
    assert settings.cache_enabled is False
    assert not settings.is_embedded_db and not settings.is_embedded_redis
    assert not settings.is_sqlite


def test_generic_data_dir_and_debug_variables_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "/elsewhere")
    monkeypatch.setenv("DEBUG", "1")
    settings = load_settings()
    assert settings.data_dir == ".flowgen"
    assert settings.debug is False


def test_field_names_and_aliases_both_populate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWGEN_DATA_DIR", "/from/env")
    assert Settings(data_dir="/by/name", debug=True).data_dir == "/by/name"
    assert Settings(data_dir="/by/name", debug=True).debug is True
    assert Settings(FLOWGEN_DATA_DIR="/by/alias").data_dir == "/by/alias"
    assert load_settings(port=1234).port == 1234


def test_dotenv_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("PORT=7000\nQUEUE_PREFIX=fromfile\nFLOWGEN_DATA_DIR=dotdir\n")
    monkeypatch.setenv("QUEUE_PREFIX", "fromenv")
    settings = load_settings()
    assert settings.port == 7000
    assert settings.queue_prefix == "fromenv"
    assert settings.data_dir == "dotdir"


def test_empty_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("PORT", "")
    settings = load_settings()
    assert settings.redis_url is None
    assert settings.port == 8000


@pytest.mark.parametrize(
    ("url", "async_url", "sync_url"),
    [
        (
            "postgresql://u:p%40ss@db:5433/app",
            "postgresql+asyncpg://u:p%40ss@db:5433/app",
            "postgresql+psycopg2://u:p%40ss@db:5433/app",
        ),
        ("postgres://u@db/app", "postgresql+asyncpg://u@db/app", "postgresql+psycopg2://u@db/app"),
        (
            "postgresql+asyncpg://u@db/app?ssl=require",
            "postgresql+asyncpg://u@db/app?ssl=require",
            "postgresql+psycopg2://u@db/app?sslmode=require",
        ),
        (
            "postgresql://u@db/app?sslmode=require",
            "postgresql+asyncpg://u@db/app?ssl=require",
            "postgresql+psycopg2://u@db/app?sslmode=require",
        ),
        ("sqlite:////abs/app.db", "sqlite+aiosqlite:////abs/app.db", "sqlite:////abs/app.db"),
        ("sqlite+aiosqlite:////abs/a.db", "sqlite+aiosqlite:////abs/a.db", "sqlite:////abs/a.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_database_url_normalisation(url: str, async_url: str, sync_url: str) -> None:
    settings = Settings(database_url=url)
    assert settings.async_database_url() == async_url
    assert settings.sync_database_url() == sync_url


def test_relative_sqlite_path_becomes_absolute(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite:///sub/app.db")
    assert settings.async_database_url() == f"sqlite+aiosqlite:///{tmp_path}/sub/app.db"
    assert settings.sync_database_url() == f"sqlite:///{tmp_path}/sub/app.db"
    assert settings.is_sqlite and not settings.is_embedded_db


def test_embedded_database_lives_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir="state/here")
    assert not (tmp_path / "state").exists()
    expected = tmp_path / "state" / "here" / "app.db"
    assert settings.async_database_url() == f"sqlite+aiosqlite:///{expected}"
    assert settings.sync_database_url() == f"sqlite:///{expected}"
    assert (tmp_path / "state" / "here").is_dir()


def test_replica_url() -> None:
    settings = Settings(
        database_url="postgres://u@primary/app", database_replica_url="postgres://u@replica/app"
    )
    assert settings.async_replica_url() == "postgresql+asyncpg://u@replica/app"
    assert Settings().async_replica_url() is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "abc", "invalid environment variable PORT: Input should be a valid integer"),
        ("DATABASE_URL", "mysql://x/y", "invalid environment variable DATABASE_URL: unsupported"),
        ("DATABASE_URL", "not a url", "invalid environment variable DATABASE_URL: unsupported"),
        ("DATABASE_REPLICA_URL", "oracle://x", "invalid environment variable DATABASE_REPLICA_URL"),
        ("REDIS_URL", "http://cache", "invalid environment variable REDIS_URL: unsupported Redis"),
        ("FLOWGEN_DEBUG", "maybe", "invalid environment variable FLOWGEN_DEBUG: Input should be"),
        ("LOG_LEVEL", "loud", "invalid environment variable LOG_LEVEL: unknown log level 'loud'"),
        ("LOG_FORMAT", "xml", "invalid environment variable LOG_FORMAT: Input should be 'json'"),
        ("REDIS_TIMEOUT", "-1", "invalid environment variable REDIS_TIMEOUT: Input should be"),
        ("DEFAULT_PAGE_SIZE", "1000", "DEFAULT_PAGE_SIZE (1000) must not exceed MAX_PAGE_SIZE"),
    ],
)
def test_bad_values_raise_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert expected in str(info.value)


def test_several_bad_values_are_all_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "abc")
    monkeypatch.setenv("CACHE_ENABLED", "perhaps")
    with pytest.raises(ConfigError, match="PORT.*; .*CACHE_ENABLED|CACHE_ENABLED.*; .*PORT"):
        load_settings()


def test_get_settings_is_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8001")
    first = get_settings()
    monkeypatch.setenv("PORT", "8002")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().port == 8002


def test_get_settings_raises_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "abc")
    with pytest.raises(ConfigError, match="PORT"):
        get_settings()


def test_cwd_is_isolated() -> None:
    # Guard for the autouse fixture: no .env from the repository leaks in.
    assert not os.path.exists(".env")
