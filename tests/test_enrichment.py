"""The enrichment job against the BnF SRU and Open Library replayed on a local HTTP server."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.models import Edition, EditionLookup
from app.services.search import search_editions
from config import Config, ConfigError
from importers.enrichment import build_sources, enrich_editions
from importers.open_catalogues import Pace, Source
from tests.bibliographic_server import Replay, serve
from tests.factories import make_edition

LAGUNE, MAREES, VASIERES, DUNE, CHENAL = ("9782490123452", "9782490123469", "9782490123483",
                                          "9782490123490", "9782490123506")
UNTITLED = (LAGUNE, MAREES, VASIERES, DUNE)


@pytest.fixture()
def editions(session: Session) -> None:
    for code in UNTITLED:
        make_edition(session, isbn13=code, title="", authors="", publisher="")
    make_edition(session, isbn13=CHENAL, title="Le Chenal", authors="", publisher="")


@pytest.fixture()
def replay() -> Iterator[tuple[Replay, str]]:
    recorded = Replay()
    with serve(recorded) as url:
        yield recorded, url


def sources(url: str, *names: str) -> list[Source]:
    return build_sources(names or ("bnf", "openlibrary"), bnf_url=f"{url}/api/SRU",
                         openlibrary_url=url, timeout_s=5, min_interval_s=0,
                         user_agent="Rayons tests")


def described(session: Session, isbn13: str) -> tuple[str, str, str]:
    edition = session.get(Edition, isbn13, populate_existing=True)
    assert edition is not None
    return edition.title, edition.authors, edition.publisher


def lookup(session: Session, isbn13: str) -> EditionLookup:
    row = session.get(EditionLookup, isbn13, populate_existing=True)
    assert row is not None
    return row


def asked(replay: Replay, path: str) -> list[str]:
    return [query.get("query", query.get("bibkeys", [""]))[0]
            for seen, query in replay.requests if seen == path]


def test_sources_fill_in_order_and_a_miss_waits(
    session: Session, test_sessionmaker: sessionmaker[Session], editions: None,
    replay: tuple[Replay, str],
) -> None:
    recorded, url = replay
    report = enrich_editions(test_sessionmaker, sources=sources(url))
    assert report.as_dict() == {"asked": 4, "found": 3, "filled": 3, "not_found": 1,
                                "failed": 0, "by_source": {"bnf": 2, "openlibrary": 1},
                                "given_up": []}
    # BnF first (its non-sorting markers dropped); Open Library for what BnF lacks.
    assert described(session, LAGUNE) == ("Les oiseaux de la lagune", "Maëlle Quéméner",
                                          "Éditions du Goulet")
    assert described(session, MAREES) == ("Marées d'équinoxe", "Anton Riec, Sol Penhoat",
                                          "Éditions du Goulet")
    assert described(session, VASIERES) == ("Vasières", "Loïc Kerbrat", "Le Goéland")
    assert described(session, DUNE) == ("", "", "")
    assert search_editions(session, query="kerbrat").hits[0].isbn13 == VASIERES
    assert sorted(asked(recorded, "/api/SRU")) == [f'bib.isbn all "{code}"' for code in UNTITLED]
    assert asked(recorded, "/api/books") == [f"ISBN:{VASIERES},ISBN:{DUNE}"]
    miss = lookup(session, DUNE)
    assert (miss.outcome, miss.source, miss.attempts) == ("not_found", None, 1)
    assert miss.retry_after - miss.looked_up_at == timedelta(days=30)
    assert (lookup(session, VASIERES).outcome, lookup(session, VASIERES).source) == (
        "found", "openlibrary")
    # The next night asks nothing: the miss waits, the others have their title.
    before = len(recorded.requests)
    assert enrich_editions(test_sessionmaker, sources=sources(url)).asked == 0
    assert len(recorded.requests) == before
    session.execute(update(EditionLookup).values(retry_after=func.now()))
    again = enrich_editions(test_sessionmaker, sources=sources(url))
    assert (again.asked, again.not_found, lookup(session, DUNE).attempts) == (1, 1, 2)


@pytest.mark.parametrize("mode", ["broken", "garbage"])
def test_a_failing_service_is_given_up_and_asked_again_sooner(
    session: Session, test_sessionmaker: sessionmaker[Session], editions: None,
    replay: tuple[Replay, str], mode: str,
) -> None:
    recorded, url = replay
    recorded.mode = mode
    report = enrich_editions(test_sessionmaker, sources=sources(url, "bnf"))
    assert (report.asked, report.failed, report.filled, report.given_up) == (4, 4, 0, ["bnf"])
    assert len(recorded.requests) == 3  # then the run stops asking it
    failed = lookup(session, LAGUNE)
    assert (failed.outcome, failed.retry_after - failed.looked_up_at) == (
        "failed", timedelta(days=1))
    assert described(session, LAGUNE) == ("", "", "")
    ol = enrich_editions(test_sessionmaker, sources=sources(url, "openlibrary"))
    assert ol.asked == 0  # failed ones wait a day too


def test_what_an_edition_already_says_is_kept(
    session: Session, test_sessionmaker: sessionmaker[Session], replay: tuple[Replay, str],
) -> None:
    make_edition(session, isbn13=LAGUNE, title="", authors="M. Quéméner", publisher="")
    _, url = replay
    enrich_editions(test_sessionmaker, sources=sources(url, "openlibrary"))
    assert described(session, LAGUNE) == ("The Lagoon Birds", "M. Quéméner", "Goulet")


def test_the_pace_spaces_requests_to_one_service() -> None:
    moments = iter([0.0, 0.2, 1.0, 1.5, 2.0, 9.0])
    pauses: list[float] = []
    pace = Pace(1.0, clock=lambda: next(moments), sleep=pauses.append)
    for _ in range(4):
        pace.wait()
    assert pauses == pytest.approx([0.8, 0.5])  # the fourth came 7 s later: no pause


def test_stock_enrich_command(make_app: Callable[..., Flask], session: Session,
                              editions: None, replay: tuple[Replay, str]) -> None:
    recorded, url = replay
    off = make_app().test_cli_runner().invoke(args=["stock", "enrich"])
    assert off.exit_code == 0 and "enrichment is off" in off.output
    assert recorded.requests == []
    app = make_app(ENRICH_SOURCES=("openlibrary",), ENRICH_OPENLIBRARY_URL=url,
                   ENRICH_MIN_INTERVAL_S=0.0)
    result = app.test_cli_runner().invoke(args=["stock", "enrich", "--json", "--limit", "10"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by_source"] == {"openlibrary": 2}
    typo = make_app(ENRICH_SOURCES=("bnff",)).test_cli_runner().invoke(args=["stock", "enrich"])
    assert typo.exit_code == 1 and "unknown enrichment source(s): bnff" in typo.output


def test_an_edition_an_import_holds_is_left_for_the_next_run(
    engine: Engine, replay: tuple[Replay, str]
) -> None:
    """Committed data and a second connection holding the row, as an import's merge does."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        session.add(Edition(isbn13=VASIERES, title="", authors="", publisher=""))
        session.commit()
    try:
        with factory() as holder:
            holder.execute(select(Edition.isbn13).where(Edition.isbn13 == VASIERES)
                           .with_for_update())
            started = time.monotonic()
            report = enrich_editions(factory, sources=sources(replay[1], "openlibrary"))
            waited = time.monotonic() - started
            holder.rollback()
        assert (report.asked, report.failed, report.filled) == (1, 1, 0)
        assert waited < 10  # the lock wait, not the import's length
        with factory() as session:
            assert session.get(EditionLookup, VASIERES) is None  # asked again next run
            assert described(session, VASIERES) == ("", "", "")
    finally:
        with factory() as session:
            session.execute(delete(Edition).where(Edition.isbn13 == VASIERES))
            session.commit()


def test_settings_from_the_environment() -> None:
    assert Config.from_environ({})["ENRICH_SOURCES"] == ()  # off unless asked
    values = Config.from_environ({"ENRICH_SOURCES": "bnf, openlibrary",
                                  "ENRICH_BNF_URL": "http://127.0.0.1:9/sru",
                                  "ENRICH_MIN_INTERVAL_S": "0.5", "ENRICH_RETRY_DAYS": "7"})
    assert (values["ENRICH_SOURCES"], values["ENRICH_BNF_URL"], values["ENRICH_MIN_INTERVAL_S"],
            values["ENRICH_RETRY_DAYS"]) == (("bnf", "openlibrary"), "http://127.0.0.1:9/sru",
                                             0.5, 7)
    with pytest.raises(ConfigError, match="ENRICH_RETRY_DAYS"):
        Config.from_environ({"ENRICH_RETRY_DAYS": "never"})
