"""The one-direction rule: models, the ISBN module, the reservation lifecycle, importers and
geo never pull in Flask."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import app.reservations

# Every module of the lifecycle package, so a new one is checked without being listed here.
RESERVATION_MODULES = [m.name for m in pkgutil.iter_modules(app.reservations.__path__)]


@pytest.mark.parametrize("module", ["app.models", "app.services.shop_import", "geo.opening_hours",
                                    "geo.coordinates", "importers.text_source",
                                    *(f"app.reservations.{name}" for name in RESERVATION_MODULES)])
def test_module_imports_without_flask(module: str) -> None:
    code = (f"import sys, {module}; "
            "assert not {'flask', 'flask_babel'} & set(sys.modules), 'flask imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
