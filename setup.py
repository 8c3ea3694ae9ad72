"""Build hooks only; the metadata is in setup.cfg.

A wheel must run outside the checkout (`rayons db upgrade`, `rayons serve`), so the build puts
into the package what the app reads from the top of a checkout (`app/paths.py`): templates,
static files, migrations, alembic.ini and gunicorn.conf.py go to `app/_site/`, and the French
catalogue is compiled (`.mo` files are build products, never committed).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SITE_FILES = ("templates", "static", "migrations", "alembic.ini", "gunicorn.conf.py")


class BuildWithSiteFiles(build_py):
    """`build_py`, then the site files and compiled catalogues next to the built modules."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout
            return
        site = Path(self.build_lib) / "app" / "_site"
        for name in SITE_FILES:
            source, target = ROOT / name, site / name
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        _compile_catalogues(ROOT / "app" / "translations",
                            Path(self.build_lib) / "app" / "translations")


def _compile_catalogues(source: Path, target: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in source.rglob("*.po"):
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as handle:
            catalogue = read_po(handle)
        with mo.open("wb") as handle:
            write_mo(handle, catalogue)


setup(cmdclass={"build_py": BuildWithSiteFiles})
