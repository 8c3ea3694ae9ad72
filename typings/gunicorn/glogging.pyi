# What app/access_log.py uses of gunicorn's logger.
from datetime import timedelta
from typing import Any

class Logger:
    def __init__(self, cfg: Any) -> None: ...
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: timedelta) -> dict[str, Any]: ...
