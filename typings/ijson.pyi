# Stub for ijson 3.6 (untyped): only the names Rayons uses. See typings/README.md.
from collections.abc import Iterator
from typing import IO, Any

# The backend in use: "yajl2_c" when the compiled extension loaded.
backend: str

class JSONError(Exception): ...
class IncompleteJSONError(JSONError): ...

# (event, value): start_map, end_map, start_array, end_array, map_key (str), string (str),
# number (int, or Decimal unless use_float), boolean, null.
def basic_parse(source: IO[bytes], *, buf_size: int = ..., use_float: bool = ...,
                multiple_values: bool = ...) -> Iterator[tuple[str, Any]]: ...
