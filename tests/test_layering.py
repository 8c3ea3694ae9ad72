"""The house rules, checked on the source: one direction of imports, thin web and CLI shells.

- `importers`, `geo` and everything below the web layer (`app.models`, `app.services`,
  `app.isbn`, `app.db`, `app.clock`, ...) never import Flask: they serve the web, the CLI and the
  night alike, and a test or a script can use them without an app.
- `app.services` never imports the edges (`app.views`, the CLI, `app.session`) nor the stock
  pipeline; `importers` imports only the Flask-free core of `app`.
- Views and CLI commands hold no SQL and no model queries: they parse, call a service or the
  pipeline's front door, and render.
"""
from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import app.orders
import app.reservations

ROOT = Path(__file__).resolve().parent.parent
# The Flask side: modules that may import flask. Everything else under app/ must not.
EDGE = ("app/__init__.py", "app/views/", "app/cli", "app/session.py", "app/i18n.py",
        "app/limits.py", "app/mail.py", "app/outbox.py", "app/import_report_mail.py",
        "app/order_mail.py",
        "app/templating/", "app/input_guard.py", "app/security_headers.py", "app/access_log.py",
        "app/telemetry.py", "app/proxies.py")
# The same, as module names, which nothing below the web layer may import.
EDGE_MODULES = ("app.views", "app.cli", "app.session", "app.i18n", "app.limits", "app.mail",
                "app.outbox", "app.import_report_mail", "app.order_mail", "app.templating",
                "app.input_guard", "app.security_headers", "app.access_log", "app.telemetry",
                "app.proxies")
SHELLS = ("app/views/", "app/cli")
# What a shell may take from SQLAlchemy: names for type hints and error classes, no query.
SHELL_SQLALCHEMY_OK = {"Session", "sessionmaker", "DBAPIError", "SQLAlchemyError"}
QUERY_METHODS = {"execute", "scalar", "scalars"}


def _sources(*folders: str) -> Iterator[tuple[str, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            yield rel, ast.parse(path.read_text(encoding="utf-8"), rel)


def _imports(tree: ast.Module) -> Iterator[tuple[str, list[str]]]:
    """(module, names) for every import in the file, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]


def _imported(tree: ast.Module) -> Iterator[str]:
    """Every module a file imports, `from app import clock` counting as `app.clock`."""
    for module, names in _imports(tree):
        yield module
        yield from (f"{module}.{name}" for name in names)


def _is_edge(rel: str) -> bool:
    return rel.startswith(EDGE)


def _top(module: str) -> str:
    return module.split(".")[0]


def test_below_the_web_layer_nothing_imports_flask() -> None:
    offenders = [f"{rel}: {module}" for rel, tree in _sources("app", "importers", "geo")
                 if not _is_edge(rel)
                 for module, _ in _imports(tree) if _top(module) in ("flask", "flask_babel",
                                                                      "flask_wtf", "werkzeug")]
    assert offenders == []


def test_below_the_web_layer_nothing_imports_the_edges() -> None:
    offenders = [f"{rel}: {module}" for rel, tree in _sources("app", "importers", "geo")
                 if not _is_edge(rel)
                 for module in _imported(tree) if module.startswith(EDGE_MODULES)]
    assert offenders == []


def test_services_do_not_import_the_pipeline() -> None:
    offenders = [f"{rel}: {module}"
                 for rel, tree in _sources("app/services", "app/reservations", "app/orders")
                 for module in _imported(tree) if _top(module) == "importers"]
    assert offenders == []


def test_importers_use_only_the_flask_free_core_of_app() -> None:
    banned = (*EDGE_MODULES, "app.services", "app.reservations", "app.orders")
    offenders = [f"{rel}: {module}" for rel, tree in _sources("importers")
                 for module in _imported(tree) if module.startswith(banned)]
    assert offenders == []


def _model_names() -> set[str]:
    import app.models
    return set(app.models.__all__) if hasattr(app.models, "__all__") else {
        name for name in dir(app.models) if name[:1].isupper()}


def test_views_and_cli_hold_no_sql_and_no_model_queries() -> None:
    models = _model_names()
    offenders = []
    for rel, tree in _sources("app"):
        if not rel.startswith(SHELLS):
            continue
        for module, names in _imports(tree):
            if _top(module) == "sqlalchemy" and set(names) - SHELL_SQLALCHEMY_OK:
                offenders.append(f"{rel}: imports {sorted(set(names) - SHELL_SQLALCHEMY_OK)} "
                                 f"from {module}")
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr in QUERY_METHODS:
                offenders.append(f"{rel}:{node.lineno}: .{node.func.attr}(...)")
            elif (node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Name)
                  and node.args[0].id in models):
                offenders.append(f"{rel}:{node.lineno}: .get({node.args[0].id}, ...)")
    assert offenders == []


def test_views_never_send_mail() -> None:
    """A request commits and answers; mail leaves through the outbox, sent by the mail worker
    (`app/outbox.py`), so a slow mail server never holds up a reader or a bookseller."""
    offenders = [f"{rel}: {module}" for rel, tree in _sources("app/views")
                 for module in _imported(tree)
                 if module in ("app.outbox", "app.mail", "app.import_report_mail.import_report")]
    assert offenders == []


# Every module of the lifecycle package, so a new one is checked without being listed here.
RESERVATION_MODULES = [m.name for m in pkgutil.iter_modules(app.reservations.__path__)]
ORDER_MODULES = [m.name for m in pkgutil.iter_modules(app.orders.__path__)]


@pytest.mark.parametrize("module", ["app.models", "app.services.shop_import", "geo.opening_hours",
                                    "geo.coordinates", "app.text", "importers.pipeline",
                                    *(f"app.reservations.{name}" for name in RESERVATION_MODULES),
                                    *(f"app.orders.{name}" for name in ORDER_MODULES)])
def test_module_imports_without_flask(module: str) -> None:
    """What the source scan cannot see: nothing pulls Flask in indirectly at import time."""
    code = (f"import sys, {module}; "
            "assert not {'flask', 'flask_babel'} & set(sys.modules), 'flask imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
