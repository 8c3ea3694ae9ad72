from typing import TypeVar

from flask import Flask
from werkzeug.exceptions import BadRequest

_V = TypeVar("_V")

class CSRFProtect:
    def __init__(self, app: Flask | None = None) -> None: ...
    def init_app(self, app: Flask) -> None: ...
    # A blueprint, a view function or a view's dotted name; returned unchanged (a decorator).
    def exempt(self, view: _V) -> _V: ...

class CSRFError(BadRequest): ...
