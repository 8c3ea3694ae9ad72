"""Is the database reachable and does it have PostGIS? For load balancers and monitoring."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Health:
    ok: bool
    database: str
    postgis: str | None = None
    reason: str | None = None


def check(session: Session, *, timeout_s: int) -> Health:
    """Ask for the PostGIS version with a statement timeout, so a stuck database answers quickly."""
    try:
        session.execute(text("SELECT set_config('statement_timeout', :ms, true)"),
                        {"ms": str(timeout_s * 1000)})
        version = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except SQLAlchemyError as exc:
        session.rollback()
        # The driver's first line names the cause (refused, timeout, auth) without the URL.
        detail = str(getattr(exc, "orig", exc)).strip()
        reason = detail.splitlines()[0] if str(exc) and detail else type(exc).__name__
        return Health(ok=False, database="unreachable", reason=reason)
    session.rollback()
    return Health(ok=True, database="ok", postgis=version)
