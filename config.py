"""Configuration, read from environment variables with defaults that suit a developer's machine.

Nothing here touches the network, the database or the disk: the app factory must be buildable
with an unreachable database.
"""
from __future__ import annotations

import ipaddress
import math
import os
from pathlib import Path

DEVELOPMENT_SECRET = "rayons-development-secret-do-not-use-in-production"
_HERE = Path(__file__).resolve().parent
# Uploads, development mail and demo files: `var/` of the checkout; an installed Rayons (this
# file then sits in site-packages, no place for data) uses `var/` of its working directory.
# RAYONS_VAR_DIR overrides both.
DEFAULT_VAR_DIR = _HERE / "var" if (_HERE / "setup.cfg").is_file() else Path("var").resolve()


# Settings read from variables of another name than their own.
IMPORT_LIMIT_VARIABLES = {
    "IMPORT_STATEMENT_TIMEOUT_S": "RAYONS_IMPORT_STATEMENT_TIMEOUT",
    "IMPORT_LOCK_WAIT_S": "RAYONS_IMPORT_LOCK_WAIT",
    "IMPORT_IDLE_TIMEOUT_S": "RAYONS_IMPORT_IDLE_TIMEOUT",
}


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete for the chosen mode."""


class Config:
    """Shared defaults. Every value can be overridden by the variable of the same name."""

    ENV = "development"
    SECRET_KEY = DEVELOPMENT_SECRET
    DATABASE_URL = ""
    # Per engine and process (a gunicorn worker has two or three engines): see docs/operations.md.
    DATABASE_POOL_SIZE = 4
    DATABASE_MAX_OVERFLOW = 4
    # A hot-standby replica for the pages and API that only read (docs/operations.md, "Read
    # replica"); empty: everything on the primary. Reads go back to the primary while it is more
    # than DATABASE_REPLICA_MAX_LAG_S seconds behind or unreachable, as judged at most every
    # DATABASE_REPLICA_CHECK_S seconds per process.
    DATABASE_REPLICA_URL = ""
    DATABASE_REPLICA_MAX_LAG_S = 5.0
    DATABASE_REPLICA_CHECK_S = 2.0
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
    # Bytes of a request body: stock files (upload page and push API) are streamed to disk, up to
    # this size, and removed once imported.
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    UPLOAD_DIR = str(DEFAULT_VAR_DIR / "uploads")
    # Mail: "smtp" in production; during development messages are written to var/mail/.
    MAIL_BACKEND = "file"
    MAIL_FILE_PATH = str(DEFAULT_VAR_DIR / "mail")
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
    # A shared store that stops answering must not turn limited pages into errors: each worker
    # then counts the same limits in its own memory until the store answers again (app/limits.py).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # The requests that meet the failure together on other threads of the worker than the one
    # that switches to memory are served unchecked rather than answered 500.
    RATELIMIT_SWALLOW_ERRORS = True
    # Networks of the reverse proxies whose X-Forwarded-* headers are believed (app/proxies.py).
    # Empty: the app faces readers directly and the connecting address is the reader's.
    TRUSTED_PROXIES: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Readers' names and contacts are erased this many days after their reservation ended.
    PERSONAL_DATA_DAYS = 30
    # Bounds on one stock import, in seconds (importers.merge.ImportLimits; unset: its defaults):
    # the longest any statement may run, how long to wait for another import of the same shop
    # before refusing the file, and how long the import may sit idle inside its transaction.
    IMPORT_STATEMENT_TIMEOUT_S: int | None = None
    IMPORT_LOCK_WAIT_S: int | None = None
    IMPORT_IDLE_TIMEOUT_S: int | None = None
    # `stock enrich`: titles for untitled editions from open bibliographic services, asked in this
    # order (`bnf`, `openlibrary`). Empty: off, nothing leaves the machine. At most one request
    # per ENRICH_MIN_INTERVAL_S seconds to each service; a miss is asked again after
    # ENRICH_RETRY_DAYS days; ENRICH_LIMIT editions per run (docs/operations.md).
    ENRICH_SOURCES: tuple[str, ...] = ()
    ENRICH_BNF_URL = "https://catalogue.bnf.fr/api/SRU"
    ENRICH_OPENLIBRARY_URL = "https://openlibrary.org"
    ENRICH_MIN_INTERVAL_S = 1.0
    ENRICH_TIMEOUT_S = 10.0
    ENRICH_RETRY_DAYS = 30
    ENRICH_LIMIT = 500
    # Where `demo load` writes the demo shops' generated till files.
    DEMO_STOCK_DIR = str(DEFAULT_VAR_DIR / "demo-stock")
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
        if env.get("RAYONS_VAR_DIR"):
            var = Path(env["RAYONS_VAR_DIR"])
            values.update(UPLOAD_DIR=str(var / "uploads"), MAIL_FILE_PATH=str(var / "mail"),
                          DEMO_STOCK_DIR=str(var / "demo-stock"))
        for key in ("SECRET_KEY", "DATABASE_URL", "DATABASE_REPLICA_URL", "NETWORK_NAME",
                    "UPLOAD_DIR", "PUBLIC_URL", "MAIL_BACKEND", "MAIL_FILE_PATH", "MAIL_SERVER",
                    "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER",
                    "RATELIMIT_STORAGE_URI"):
            if env.get(key):
                values[key] = env[key]
        # Unlike the keys above, an empty value is meaningful here: MAP_TILE_URL="" turns tiles off.
        for key in ("MAP_TILE_URL", "MAP_TILE_ATTRIBUTION"):
            if key in env:
                values[key] = env[key]
        for key in ("MAIL_PORT", "MAIL_TIMEOUT", "PERSONAL_DATA_DAYS", "MAX_CONTENT_LENGTH",
                    "DATABASE_POOL_SIZE", "ENRICH_RETRY_DAYS", "ENRICH_LIMIT"):
            if env.get(key):
                values[key] = _positive_int(env, key)
        for key, variable in IMPORT_LIMIT_VARIABLES.items():
            if env.get(variable):
                values[key] = _positive_int(env, variable)
        if "ENRICH_SOURCES" in env:
            values["ENRICH_SOURCES"] = tuple(env["ENRICH_SOURCES"].replace(",", " ").split())
        for key in ("ENRICH_BNF_URL", "ENRICH_OPENLIBRARY_URL"):
            if env.get(key):
                values[key] = env[key]
        for key in ("DATABASE_REPLICA_MAX_LAG_S", "DATABASE_REPLICA_CHECK_S",
                    "ENRICH_MIN_INTERVAL_S", "ENRICH_TIMEOUT_S"):
            if env.get(key):
                values[key] = _seconds(env, key)
        if env.get("DATABASE_MAX_OVERFLOW"):  # 0 is meaningful: never beyond the pool
            raw = env["DATABASE_MAX_OVERFLOW"].strip()
            if not raw.isdigit():
                raise ConfigError(f"DATABASE_MAX_OVERFLOW must be a whole number, not {raw!r}")
            values["DATABASE_MAX_OVERFLOW"] = int(raw)
        if env.get("TRUSTED_PROXIES"):
            values["TRUSTED_PROXIES"] = trusted_networks(env["TRUSTED_PROXIES"])
        values["MAIL_USE_TLS"] = env.get("MAIL_USE_TLS", "") == "1"
        if values["ENV"] == "production" and not env.get("MAIL_BACKEND"):
            values["MAIL_BACKEND"] = "smtp"
        # Production is served over HTTPS: the session cookie never travels in clear. "0" is for
        # a production-like stack served over plain HTTP on a private network (a demo, a test).
        values["SESSION_COOKIE_SECURE"] = env.get(
            "SESSION_COOKIE_SECURE", "1" if values["ENV"] == "production" else "0") == "1"
        values["SQLALCHEMY_ECHO"] = env.get("SQLALCHEMY_ECHO", "") == "1"
        # JSON lines for the log collector in production, readable text on a developer's screen.
        values["LOG_FORMAT"] = env.get("LOG_FORMAT") or (
            "json" if values["ENV"] == "production" else "text")
        values["LOG_LEVEL"] = env.get("LOG_LEVEL") or "INFO"
        # Bearer token for GET /metrics; unset, the endpoint does not exist.
        values["METRICS_TOKEN"] = env.get("METRICS_TOKEN", "")
        # Only for load tests and benchmarks that hammer one endpoint from one address.
        values["RATELIMIT_ENABLED"] = env.get("RATELIMIT_ENABLED", "1") != "0"
        return values


def _positive_int(env: os._Environ[str] | dict[str, str], key: str) -> int:
    """A whole number from the environment, or a start-up error that names the variable."""
    raw = env[key].strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{key} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _seconds(env: os._Environ[str] | dict[str, str], key: str) -> float:
    """A duration in seconds (0, 2, 0.5) from the environment, or a start-up error naming it."""
    raw = env[key].strip()
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{key} must be a number of seconds, 0 or more, not {raw!r}")
    return value


def trusted_networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """TRUSTED_PROXIES: addresses or networks separated by commas or spaces (`127.0.0.1`,
    `10.0.0.0/8`). A network with host bits set (`10.0.0.1/8`) is refused rather than widened:
    it is more likely a typo than a wish to trust 16 million addresses."""
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ConfigError(f"TRUSTED_PROXIES: {exc}") from None
    return tuple(networks)


def check_production(values: dict[str, object]) -> None:
    """Refuse to serve real users with the development secret or without a database."""
    if values.get("ENV") != "production":
        return
    if values.get("SECRET_KEY") in (None, "", DEVELOPMENT_SECRET):
        raise ConfigError("RAYONS_ENV=production needs SECRET_KEY set to a long random value")
    if not values.get("DATABASE_URL"):
        raise ConfigError("RAYONS_ENV=production needs DATABASE_URL")
