# What app/access_log.py uses of gunicorn's logger.
import logging
from datetime import timedelta
from typing import Any

class Logger:
    access_log: logging.Logger
    access_log_enabled: bool
    def __init__(self, cfg: Any) -> None: ...
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: timedelta) -> dict[str, Any]: ...
    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: timedelta) -> None: ...
