"""The edge commits explicitly: what a view wrote and did not commit never reaches the database."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app.models import Network
from app.session import db_session


def _route(app: Flask, name: str, view: Callable[[], str]) -> None:
    app.add_url_rule(f"/_test/{name}", name, view)


def _flush_network(slug: str) -> None:
    db_session().add(Network(slug=slug, name=slug))
    db_session().flush()


def _networks(session: Session) -> list[str]:
    return list(session.scalars(select(Network.slug).where(Network.slug.like("edge-%"))))


def test_flushed_change_without_commit_is_rolled_back(app: Flask, session: Session) -> None:
    def forgets() -> str:
        _flush_network("edge-forgotten")
        return "ok"

    _route(app, "forgets", forgets)
    assert app.test_client().get("/_test/forgets").status_code == 200
    assert _networks(session) == []


def test_statement_without_commit_is_rolled_back(app: Flask, session: Session) -> None:
    def executes() -> str:
        db_session().execute(insert(Network).values(slug="edge-executed", name="x"))
        return "ok"

    _route(app, "executes", executes)
    assert app.test_client().get("/_test/executes").status_code == 200
    assert _networks(session) == []


def test_hand_written_statement_without_commit_is_rolled_back(app: Flask,
                                                              session: Session) -> None:
    def executes_text() -> str:
        db_session().execute(text("INSERT INTO network (slug, name) VALUES ('edge-text', 'x')"))
        return "ok"

    _route(app, "executes_text", executes_text)
    assert app.test_client().get("/_test/executes_text").status_code == 200
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
