"""The Rayons web application: `create_app()` builds it without touching the database."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.paths import SITE_ROOT

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database binding, extensions, blueprints, commands.

    No query runs here: a test builds the app with an unreachable DATABASE_URL, and a broken
    database must still let the app start and answer /healthz with 503. Flask is imported here,
    not at module level, so `app.models`, `app.isbn` and the importers stay usable without it.
    """
    from flask import Flask
    from flask_wtf.csrf import CSRFProtect

    from app import (
        i18n,
        input_guard,
        limits,
        mail,
        proxies,
        security_headers,
        session,
        telemetry,
        templating,
    )
    from app.cli import register_commands
    from app.views import error_handlers
    from app.views.books import bp as books_bp
    from app.views.orders import bp as orders_bp
    from app.views.public import bp as public_bp
    from app.views.public_api import bp as public_api_bp
    from app.views.reservations_api import bp as reservations_api_bp
    from app.views.reserve import bp as reserve_bp
    from app.views.staff import bp as staff_bp
    from app.views.staff_auth import bp as staff_auth_bp
    from app.views.staff_desk import bp as desk_bp
    from app.views.staff_orders import bp as staff_orders_bp
    from app.views.staff_stock import bp as staff_stock_bp
    from app.views.stock_push import bp as stock_push_bp
    from app.views.widget import bp as widget_bp
    from config import Config, check_production

    app = Flask(
        __name__,
        template_folder=str(SITE_ROOT / "templates"),
        static_folder=str(SITE_ROOT / "static"),
    )
    app.config.update(Config.from_environ())
    if overrides:
        app.config.update(overrides)
    check_production(app.config)

    proxies.init_app(app)
    # First: a request refused by the checks below still gets its request id and its timing.
    telemetry.init_app(app)
    session.init_app(app)
    i18n.init_app(app)
    mail.init_app(app)
    limits.init_app(app)
    error_handlers.init_app(app)
    input_guard.init_app(app)
    security_headers.init_app(app)

    templating.init_app(app)
    csrf = CSRFProtect(app)
    # The API authenticates with bearer tokens, not cookies: CSRF does not apply.
    csrf.exempt(stock_push_bp)
    csrf.exempt(reservations_api_bp)
    csrf.exempt(public_api_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(books_bp)
    app.register_blueprint(reserve_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(reservations_api_bp)
    app.register_blueprint(staff_auth_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(staff_stock_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(staff_orders_bp)
    app.register_blueprint(stock_push_bp)
    app.register_blueprint(public_api_bp)
    app.register_blueprint(widget_bp)
    register_commands(app)
    return app


def create_process_app() -> Flask:
    """The app of a process that serves or runs commands (`wsgi.py`, the `rayons` command):
    `create_app()`, and the process's logging (`app/logs.py`). Tests build apps with
    `create_app` and keep their own log capture."""
    from app import logs

    app = create_app()
    logs.configure(log_format=app.config["LOG_FORMAT"], level=app.config["LOG_LEVEL"])
    return app
