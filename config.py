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
    # Where `demo load` writes the demo shops' generated till files.
    DEMO_STOCK_DIR = str(Path(__file__).resolve().parent / "var" / "demo-stock")

    @classmethod
    def from_environ(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, object]:
        """The class defaults overlaid with the environment, as a plain dict for app.config."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            key: getattr(cls, key) for key in dir(cls) if key.isupper()
        }
        for key in ("SECRET_KEY", "DATABASE_URL", "NETWORK_NAME", "UPLOAD_DIR"):
            if env.get(key):
                values[key] = env[key]
        values["ENV"] = env.get("RAYONS_ENV", cls.ENV)
        values["SQLALCHEMY_ECHO"] = env.get("SQLALCHEMY_ECHO", "") == "1"
        return values


def check_production(values: dict[str, object]) -> None:
    """Refuse to serve real users with the development secret or without a database."""
    if values.get("ENV") != "production":
        return
    if values.get("SECRET_KEY") in (None, "", DEVELOPMENT_SECRET):
        raise ConfigError("RAYONS_ENV=production needs SECRET_KEY set to a long random value")
    if not values.get("DATABASE_URL"):
        raise ConfigError("RAYONS_ENV=production needs DATABASE_URL")
