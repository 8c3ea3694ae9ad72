"""Column helpers shared by the model modules."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import DateTime, func
from sqlalchemy.orm import mapped_column

# Every timestamp is timezone-aware and stored in UTC.
Timestamp = Annotated[datetime, mapped_column(DateTime(timezone=True))]
CreatedAt = Annotated[
    datetime, mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
]


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that a column holds one of a fixed set of words.

    The values are constants from this code base, never user input.
    """
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
