"""Building the app and checking its health, with and without a database."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.session import import_limits
from config import DEVELOPMENT_SECRET, Config, ConfigError
from importers.merge import ImportLimits


def closed_port() -> int:
    """A local port with nothing listening: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_url() -> str:
    return f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/nothing"


def test_app_builds_without_touching_an_unreachable_database() -> None:
    app = create_app({"DATABASE_URL": unreachable_url(), "TESTING": True})
    assert "public.shop_directory" in app.view_functions


def test_healthz_reports_database_and_postgis(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis"].startswith("3.")


def test_healthz_is_503_with_a_reason_when_the_database_is_down() -> None:
    app = create_app({"DATABASE_URL": unreachable_url(), "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "unreachable"
    assert "refused" in body["reason"].lower() or "connect" in body["reason"].lower()


def test_healthz_without_database_url() -> None:
    app = create_app({"DATABASE_URL": "", "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unconfigured"


@pytest.mark.parametrize("secret", ["", DEVELOPMENT_SECRET])
def test_production_refuses_the_development_secret(secret: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": secret, "DATABASE_URL": "postgresql://x/y"})


def test_production_starts_with_a_real_secret() -> None:
    app = create_app({"ENV": "production", "SECRET_KEY": "a" * 40,
                      "DATABASE_URL": unreachable_url()})
    assert app.config["ENV"] == "production"


def test_environment_variables_configure_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example/rayons")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("RAYONS_ENV", "production")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["DATABASE_URL"] == "postgresql://someone@db.example/rayons"


@pytest.mark.parametrize(("key", "environ", "expected"), [
    ("PERSONAL_DATA_DAYS", {}, 30),
    ("PERSONAL_DATA_DAYS", {"PERSONAL_DATA_DAYS": "90"}, 90),
    ("MAX_CONTENT_LENGTH", {}, 200 * 1024 * 1024),
    ("MAX_CONTENT_LENGTH", {"MAX_CONTENT_LENGTH": "1048576"}, 1048576),
    ("MAIL_TIMEOUT", {}, 10),
    ("MAIL_TIMEOUT", {"MAIL_TIMEOUT": "3"}, 3),
])
def test_whole_number_settings_from_the_environment(key: str, environ: dict[str, str],
                                                    expected: int) -> None:
    assert Config.from_environ(environ)[key] == expected


def test_pool_sizes_from_the_environment() -> None:
    from app.session import pool_size

    app = create_app({**Config.from_environ({"DATABASE_POOL_SIZE": "8",
                                             "DATABASE_MAX_OVERFLOW": "0"}),
                      "DATABASE_URL": "postgresql://rayons@127.0.0.1:1/none"})
    assert (pool_size(app).size, pool_size(app).overflow) == (8, 0)
    engine = app.extensions["rayons.sessionmaker"].kw["bind"]
    assert (engine.pool.size(), engine.pool._max_overflow) == (8, 0)
    with pytest.raises(ConfigError, match="DATABASE_MAX_OVERFLOW"):
        Config.from_environ({"DATABASE_MAX_OVERFLOW": "many"})


def test_var_dir_moves_every_data_folder(tmp_path: Path) -> None:
    """An installed Rayons has no checkout to keep its files in: one setting places them."""
    values = Config.from_environ({"RAYONS_VAR_DIR": str(tmp_path)})
    assert [values[key] for key in ("UPLOAD_DIR", "MAIL_FILE_PATH", "DEMO_STOCK_DIR")] == [
        str(tmp_path / "uploads"), str(tmp_path / "mail"), str(tmp_path / "demo-stock")]


@pytest.mark.parametrize("raw", ["thirty", "0", "-5", "1.5"])
def test_a_bad_whole_number_setting_stops_start_up_with_its_name(raw: str) -> None:
    with pytest.raises(ConfigError, match="PERSONAL_DATA_DAYS"):
        Config.from_environ({"PERSONAL_DATA_DAYS": raw})


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/api/v1/shops", {"GET", "HEAD", "OPTIONS"}),
    ("TRACE", "/api/v1/reservations/abc", {"GET", "HEAD", "OPTIONS", "DELETE"}),
    ("DELETE", "/healthz", {"GET", "HEAD", "OPTIONS"}),
])
def test_a_wrong_method_says_which_are_allowed(client: FlaskClient, method: str, path: str,
                                               allowed: set[str]) -> None:
    """RFC 9110: a 405 lists the methods the resource has, on API and pages alike."""
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed


def test_import_limits_from_the_environment() -> None:
    """Each bound set in the environment replaces the importer's default; the others stay."""
    values = Config.from_environ({"RAYONS_IMPORT_STATEMENT_TIMEOUT": "900",
                                  "RAYONS_IMPORT_LOCK_WAIT": "2"})
    app = create_app({**values, "DATABASE_URL": unreachable_url()})
    assert import_limits(app) == ImportLimits(statement_timeout_s=900, lock_wait_s=2,
                                              idle_timeout_s=ImportLimits().idle_timeout_s)
    assert import_limits(create_app({"DATABASE_URL": unreachable_url()})) == ImportLimits()
    with pytest.raises(ConfigError, match="RAYONS_IMPORT_IDLE_TIMEOUT"):
        Config.from_environ({"RAYONS_IMPORT_IDLE_TIMEOUT": "0"})
