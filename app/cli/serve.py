"""`rayons serve`: gunicorn with the production configuration, from a checkout or a wheel.

The configuration file (`gunicorn.conf.py`) is found where the app finds its templates
(`app/paths.py`), so an installed Rayons serves exactly as a checkout does; extra arguments go
to gunicorn as they are (`rayons serve --workers 3`).
"""
from __future__ import annotations

import os
import sys

import click

from app.paths import SITE_ROOT


@click.command("serve", context_settings={"ignore_unknown_options": True,
                                          "allow_extra_args": True})
@click.argument("gunicorn_args", nargs=-1, type=click.UNPROCESSED)
def serve(gunicorn_args: tuple[str, ...]) -> None:
    """Serve wsgi:app under gunicorn (settings: RAYONS_BIND, RAYONS_WORKERS, RAYONS_THREADS)."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(SITE_ROOT / "gunicorn.conf.py"),
               *gunicorn_args, "wsgi:app"]
    os.execv(sys.executable, command)  # gunicorn takes over this process, signals included
