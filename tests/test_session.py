"""The edge commits explicitly: what a view wrote and did not commit never reaches the database."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app.db import driver_rows, is_read_sql
from app.models import Network
from app.session import (
    READS_ONLY_MARK,
    ReadOnlyViewError,
    db_session,
    read_session,
    reads_only,
    unit_of_work,
)


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


# Where each page reads: these only read and may be a few seconds stale, so a replica serves
# them. Everything else reads on the primary, notably what must see its own writes (a
# reservation's page right after reserving, the staff desk), and so does /healthz, which judges
# the primary.
REPLICA_ROUTED = {"books.search_page", "books.book_page", "public.shop_directory", "widget.widget",
                  "public.map_shops", "public.shop_page", "public.network_page",
                  "public_api.availability_view", "public_api.editions_view",
                  "public_api.shops_view"}


def test_only_the_reads_that_may_lag_are_routed_to_the_replica(app: Flask) -> None:
    routed = {endpoint for endpoint, view in app.view_functions.items()
              if getattr(view, READS_ONLY_MARK, False)}
    assert routed == REPLICA_ROUTED


def _reads_then(write: Callable[[], None]) -> Callable[[], str]:
    @reads_only
    def view() -> str:
        read_session().execute(select(Network.slug)).all()
        write()
        return "ok"
    return view


def _read_flush() -> None:
    read_session().add(Network(slug="edge-read-flush", name="x"))
    read_session().flush()


def _read_statement() -> None:
    read_session().execute(insert(Network).values(slug="edge-read-statement", name="x"))


def _read_text() -> None:
    read_session().execute(text("INSERT INTO network (slug, name) VALUES ('edge-read-text', 'x')"))


def _primary_session() -> None:
    db_session().execute(select(Network.slug)).all()


@pytest.mark.parametrize("write", [_read_flush, _read_statement, _read_text, _primary_session],
                         ids=["flush", "orm-statement", "hand-written-sql", "primary-session"])
def test_a_view_routed_to_the_replica_cannot_write(app: Flask, session: Session,
                                                    write: Callable[[], None]) -> None:
    """Caught before PostgreSQL (which refuses too: the read engine's connections are
    read-only, and a replica is a hot standby), so that it fails in every test run."""
    _route(app, "reads_then_writes", _reads_then(write))
    with pytest.raises(ReadOnlyViewError):
        app.test_client().get("/_test/reads_then_writes")
    assert _networks(session) == []


def test_a_write_of_its_own_goes_to_the_primary(app: Flask, session: Session) -> None:
    def counts() -> None:
        with unit_of_work() as primary:
            primary.add(Network(slug="edge-own-unit", name="x"))

    _route(app, "reads_then_counts", _reads_then(counts))
    assert app.test_client().get("/_test/reads_then_counts").status_code == 200
    assert _networks(session) == ["edge-own-unit"]


def test_only_a_view_routed_to_the_replica_may_read_there(app: Flask) -> None:
    def reads() -> str:
        read_session()
        return "ok"

    _route(app, "unmarked", reads)
    with pytest.raises(RuntimeError, match="reads_only"):
        app.test_client().get("/_test/unmarked")
