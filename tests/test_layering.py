"""The one-direction rule: models, the ISBN module, importers and geo never pull in Flask."""
from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["app.models", "app.services.shop_import", "geo.opening_hours",
                                    "geo.coordinates", "app.text", "importers.pipeline"])
def test_module_imports_without_flask(module: str) -> None:
    code = f"import sys, {module}; assert 'flask' not in sys.modules, 'flask imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
