"""Rayons runs from a wheel, outside the checkout: templates, static files, migrations, the
gunicorn configuration and the compiled French catalogue travel in the package, and the `rayons`
command does what `flask --app wsgi` does in a checkout."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.live_gunicorn import ROOT
from tests.smtp import free_port

NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "var", "build", "dist", "test-output",
                                     "*.egg-info", "__pycache__", "*.mo", ".pytest_cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources, installed into a folder of its own."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(work / "dist"), str(source)],
                   check=True, capture_output=True)
    (wheel,) = (work / "dist").glob("rayons-*.whl")
    site = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    return site


def environment(site: Path, database_url: str, var: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "DATABASE_URL": database_url,
            "RAYONS_VAR_DIR": str(var), "SECRET_KEY": "packaging-test", "RATELIMIT_ENABLED": "0"}


def rayons(site: Path, env: dict[str, str], *args: str, cwd: Path) -> str:
    done = subprocess.run([str(site / "bin" / "rayons"), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture()
def served(installed: Path, engine: Engine, database_url: str,
           tmp_path: Path) -> Iterator[str]:
    """`rayons serve` from a folder that is not the checkout. (`engine` builds the schema.)"""
    env = environment(installed, database_url, tmp_path / "var")
    port = free_port()
    server = subprocess.Popen([str(installed / "bin" / "rayons"), "serve", "--bind",
                               f"127.0.0.1:{port}", "--workers", "1"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(15)


def test_the_installed_package_reads_its_own_files(installed: Path, engine: Engine,
                                                   database_url: str, tmp_path: Path) -> None:
    env = environment(installed, database_url, tmp_path / "var")
    where = subprocess.run([sys.executable, "-c", "import app.paths; print(app.paths.SITE_ROOT)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == installed / "app" / "_site"
    commands = rayons(installed, env, "--help", cwd=tmp_path)
    assert all(name in commands for name in ("db", "stock", "reservations", "serve", "staff"))
    stock = rayons(installed, env, "stock", "--help", cwd=tmp_path)
    assert all(name in stock for name in ("catalogue", "enrich", "import", "nightly"))
    # Alembic finds the packaged migrations, down to the revision the database is at.
    assert "up to date" in rayons(installed, env, "db", "upgrade", cwd=tmp_path)


def test_the_installed_package_serves_in_french(served: str) -> None:
    with urllib.request.urlopen(served + "/", timeout=10) as answer:
        page = answer.read().decode()
    assert 'lang="fr"' in page and "Lieux : Etalab" in page  # from the compiled catalogue
    with urllib.request.urlopen(served + "/static/rayons.css", timeout=10) as answer:
        assert answer.status == 200
