"""Many requests of one kind at once, each on its own connection, for the race tests."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from app.errors import RayonsError

T = TypeVar("T")


def outcomes_at_once(factory: sessionmaker[Session], attempt: Callable[[Session, T], object],
                     items: Sequence[T], *, success: str) -> list[str]:
    """`attempt(session, item)` for every item at once, each committed on success: the sorted
    outcomes, `success` or the code of the RayonsError that refused it."""
    def one(item: T) -> str:
        with factory() as session:
            try:
                attempt(session, item)
                session.commit()
                return success
            except RayonsError as exc:
                session.rollback()
                return exc.code

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return sorted(pool.map(one, items))
