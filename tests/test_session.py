"""The edge commits explicitly: what a view wrote and did not commit never reaches the database."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app.db import driver_rows, is_read_sql
from app.models import Network
from app.session import db_session


def _route(app: Flask, name: str, view: Callable[[], str]) -> None:
    app.add_url_rule(f"/_test/{name}", name, view)


def _flush_network(slug: str) -> None:
    db_session().add(Network(slug=slug, name=slug))
    db_session().flush()


def _networks(session: Session) -> list[str]:
    return list(session.scalars(select(Network.slug).where(Network.slug.like("edge-%"))))


def _flushes() -> None:
    _flush_network("edge-forgotten")


def _executes() -> None:
    db_session().execute(insert(Network).values(slug="edge-executed", name="x"))


def _executes_text() -> None:
    db_session().execute(text("INSERT INTO network (slug, name) VALUES ('edge-text', 'x')"))


def _executes_writing_cte() -> None:
    db_session().execute(text("WITH made AS (INSERT INTO network (slug, name) "
                              "VALUES ('edge-cte', 'x') RETURNING id) SELECT id FROM made"))


@pytest.mark.parametrize("write", [_flushes, _executes, _executes_text, _executes_writing_cte],
                         ids=["flush", "orm-statement", "hand-written-sql", "writing-cte"])
def test_change_without_commit_is_rolled_back(app: Flask, session: Session,
                                              write: Callable[[], None]) -> None:
    def forgets() -> str:
        write()
        return "ok"

    _route(app, "forgets", forgets)
    assert app.test_client().get("/_test/forgets").status_code == 200
    assert _networks(session) == []


def test_committed_change_stays(app: Flask, session: Session) -> None:
    def commits() -> str:
        _flush_network("edge-committed")
        db_session().commit()
        return "ok"

    _route(app, "commits", commits)
    assert app.test_client().get("/_test/commits").status_code == 200
    assert _networks(session) == ["edge-committed"]


def test_change_before_an_error_is_rolled_back(app: Flask, session: Session) -> None:
    def fails() -> str:
        _flush_network("edge-failed")
        raise RuntimeError("boom")

    _route(app, "fails", fails)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get("/_test/fails").status_code == 500
    assert _networks(session) == []


@pytest.mark.parametrize("write_after_commit", [False, True])
def test_only_what_follows_the_last_commit_is_dropped(app: Flask, session: Session,
                                                      write_after_commit: bool) -> None:
    def commits_then_writes() -> str:
        _flush_network("edge-first")
        db_session().commit()
        if write_after_commit:
            _flush_network("edge-second")
        return "ok"

    _route(app, "commits_then_writes", commits_then_writes)
    assert app.test_client().get("/_test/commits_then_writes").status_code == 200
    assert _networks(session) == ["edge-first"]


@pytest.mark.parametrize(("sql", "reads"), [
    ("SELECT 1", True),
    ("  select * from edition", True),
    ("WITH q AS (SELECT 1) SELECT * FROM q", True),
    ("WITH q AS (DELETE FROM network RETURNING id) SELECT * FROM q", False),
    ("INSERT INTO network (slug, name) VALUES ('a', 'b')", False),
    ("UPDATE network SET name = 'x'", False),
])
def test_hand_written_reads_are_told_from_writes(sql: str, reads: bool) -> None:
    assert is_read_sql(sql) is reads


def test_driver_rows_refuses_to_write(session: Session) -> None:
    with pytest.raises(ValueError, match="reads only"):
        driver_rows(session, "INSERT INTO network (slug, name) VALUES ('edge-raw', 'x')", {})
    assert _networks(session) == []
