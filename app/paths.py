"""Where the files that are not Python live: templates, static files, migrations, the gunicorn
configuration.

In a checkout they sit at the top of the repository, the layout the design card asks for. A wheel
cannot install top-level folders with names as common as `templates` or `migrations` without
clobbering other projects, so the build (`setup.py`) copies them into the package as
`app/_site/`. Whichever exists is the site root: the installed copy, else the checkout.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGED = Path(__file__).resolve().parent / "_site"
SITE_ROOT = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parent.parent
