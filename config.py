"""Configuration, read from environment variables with defaults that suit a developer's machine.

Nothing here touches the network, the database or the disk: the app factory must be buildable
with an unreachable database.
"""
from __future__ import annotations

import os
from pathlib import Path

DEVELOPMENT_SECRET = "rayons-development-secret-do-not-use-in-production"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete for the chosen mode."""


class Config:
    """Shared defaults. Every value can be overridden by the variable of the same name."""

    ENV = "development"
    SECRET_KEY = DEVELOPMENT_SECRET
    DATABASE_URL = ""
    SQLALCHEMY_ECHO = False
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")
    NETWORK_NAME = "Rayons"
    # Seconds a health check waits for the database before answering 503.
    HEALTH_DB_TIMEOUT_S = 3
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # Stock files (upload page and push API) are streamed to disk, up to this size.
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    UPLOAD_DIR = str(Path(__file__).resolve().parent / "var" / "uploads")
    # Mail: "smtp" in production; during development messages are written to var/mail/.
    MAIL_BACKEND = "file"
    MAIL_FILE_PATH = str(Path(__file__).resolve().parent / "var" / "mail")
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Rayons <ne-pas-repondre@rayons.example>"
    # Seconds the mail worker waits on each exchange with the SMTP server (requests never do).
    MAIL_TIMEOUT = 10
    # Absolute links in mails point here.
    PUBLIC_URL = "http://127.0.0.1:5000"
    # Rate limits (Flask-Limiter): memory:// per process; redis://... shared by gunicorn workers.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Readers' names and contacts are erased this many days after their reservation ended.
    PERSONAL_DATA_DAYS = 30
    # Where `demo load` writes the demo shops' generated till files.
    DEMO_STOCK_DIR = str(Path(__file__).resolve().parent / "var" / "demo-stock")
    # Map background tiles, fetched by the reader's browser. Empty: no tiles, markers only (tests,
    # offline demo). The attribution is HTML shown as is, as the tile provider's licence requires.
    MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    MAP_TILE_ATTRIBUTION = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )

    @classmethod
    def from_environ(cls, environ: os._Environ[str] | dict[str, str] | None = None
                     ) -> dict[str, object]:
        """The class defaults overlaid with the environment, as a plain dict for app.config."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            key: getattr(cls, key) for key in dir(cls) if key.isupper()
        }
        values["ENV"] = env.get("RAYONS_ENV", cls.ENV)
        for key in ("SECRET_KEY", "DATABASE_URL", "NETWORK_NAME", "UPLOAD_DIR", "PUBLIC_URL",
                    "MAIL_BACKEND", "MAIL_FILE_PATH", "MAIL_SERVER", "MAIL_USERNAME",
                    "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "RATELIMIT_STORAGE_URI"):
            if env.get(key):
                values[key] = env[key]
        # Unlike the keys above, an empty value is meaningful here: MAP_TILE_URL="" turns tiles off.
        for key in ("MAP_TILE_URL", "MAP_TILE_ATTRIBUTION"):
            if key in env:
                values[key] = env[key]
        for key in ("MAIL_PORT", "MAIL_TIMEOUT", "PERSONAL_DATA_DAYS"):
            if env.get(key):
                values[key] = _positive_int(env, key)
        values["MAIL_USE_TLS"] = env.get("MAIL_USE_TLS", "") == "1"
        if values["ENV"] == "production" and not env.get("MAIL_BACKEND"):
            values["MAIL_BACKEND"] = "smtp"
        # Production is served over HTTPS: the session cookie never travels in clear.
        values["SESSION_COOKIE_SECURE"] = values["ENV"] == "production"
        values["SQLALCHEMY_ECHO"] = env.get("SQLALCHEMY_ECHO", "") == "1"
        # Only for load tests and benchmarks that hammer one endpoint from one address.
        values["RATELIMIT_ENABLED"] = env.get("RATELIMIT_ENABLED", "1") != "0"
        return values


def _positive_int(env: os._Environ[str] | dict[str, str], key: str) -> int:
    """A whole number from the environment, or a start-up error that names the variable."""
    raw = env[key].strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{key} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def check_production(values: dict[str, object]) -> None:
    """Refuse to serve real users with the development secret or without a database."""
    if values.get("ENV") != "production":
        return
    if values.get("SECRET_KEY") in (None, "", DEVELOPMENT_SECRET):
        raise ConfigError("RAYONS_ENV=production needs SECRET_KEY set to a long random value")
    if not values.get("DATABASE_URL"):
        raise ConfigError("RAYONS_ENV=production needs DATABASE_URL")
