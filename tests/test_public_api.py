"""The open read API: availability, editions, shops; its problem documents, CORS and caching."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from app import create_app
from app.limits import open_read_api
from app.models import Shop
from app.openapi import ISBN_PATTERN
from importers.pipeline import import_file
from tests.factories import (
    make_edition,
    make_reservation,
    make_shop,
    make_shops_in_bulk,
    make_stock_line,
)
from tests.stock_helpers import write_csv
from tests.test_availability import PAU, TOWNS, geodesic_m

ISBN = "9782070360024"
INTERNAL = "2000000000008"
EXPORTED = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)


def stock_five_towns(session: Session) -> dict[str, Shop]:
    """L'Étranger on the shelf in five real towns, and an in-shop code in one of them."""
    make_edition(session, isbn13=ISBN)
    shops = {}
    for slug, (lat, lon) in TOWNS.items():
        shops[slug] = make_shop(session, slug=slug, city=slug.capitalize(), lat=lat, lon=lon,
                                stock_exported_at=EXPORTED)
        make_stock_line(session, shop=shops[slug], isbn13=ISBN, on_hand=2)
    make_stock_line(session, shop=shops["oloron"], isbn13=INTERNAL, code_kind="internal")
    return shops


@pytest.fixture()
def network(session: Session) -> dict[str, Shop]:
    return stock_five_towns(session)


def ok_json(response: TestResponse) -> Any:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    return response.get_json()


def problem(response: TestResponse, code: str, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Cache-Control" not in response.headers
    body = response.get_json()
    assert (body["code"], body["title"], body["status"]) == (code, code, status)
    assert body["type"] and body["detail"]
    return body


def assert_hours(shop: dict[str, Any]) -> None:
    """Open: when it closes; closed: when it opens (the factory's shops open every week)."""
    when = shop["closes_at"] if shop["open_now"] else shop["next_opening"]
    assert datetime.fromisoformat(when).tzinfo is not None
    assert shop["next_opening" if shop["open_now"] else "closes_at"] is None


def test_availability_nearest_first_with_distances(client: FlaskClient,
                                                   network: dict[str, Shop]) -> None:
    body = ok_json(client.get(f"/api/v1/availability?isbn=978-2-07-036002-4"
                              f"&lat={PAU[0]}&lon={PAU[1]}&radius_km=500"))
    assert body["edition"] == {"isbn13": ISBN, "title": "L'Étranger", "authors": "Albert Camus",
                               "publisher": "Gallimard"}
    assert body["origin"] == {"lat": PAU[0], "lon": PAU[1], "label": None}
    assert (body["radius_km"], body["nearby_count"], body["beyond_radius"]) == (500, 5, False)
    shops = body["shops"]
    assert [s["slug"] for s in shops] == ["oloron", "tarbes", "dax", "bayonne", "bordeaux"]
    for shop in shops:
        assert shop["distance_m"] == pytest.approx(geodesic_m(PAU, TOWNS[shop["slug"]]), abs=1)
        assert isinstance(shop["distance_m"], int)
        assert shop["available"] == 2 and shop["stock_as_of"] == "2026-11-23T06:30:00+00:00"
        assert_hours(shop)
    oloron = shops[0]
    book = urlsplit(oloron["links"]["book"])
    assert (book.scheme, book.netloc, book.path) == ("http", "localhost", f"/livres/{ISBN}")
    assert parse_qs(book.query) == {"lat": [f"{PAU[0]:.5f}"], "lon": [f"{PAU[1]:.5f}"]}
    assert oloron["links"]["shop"] == oloron["links"]["book"] + "#holder-oloron"


def test_availability_near_a_place_within_the_default_radius(client: FlaskClient,
                                                             network: dict[str, Shop]) -> None:
    body = ok_json(client.get("/api/v1/availability?isbn=2070360024&near=Pau"))
    assert body["origin"]["label"] == "Pau (64000)"
    assert (body["radius_km"], body["nearby_count"], body["beyond_radius"]) == (30, 1, False)
    assert [s["slug"] for s in body["shops"]] == ["oloron"]
    assert parse_qs(urlsplit(body["shops"][0]["links"]["book"]).query) == {"lieu": ["Pau (64000)"]}


def test_the_nearest_beyond_the_radius_are_flagged(client: FlaskClient,
                                                   network: dict[str, Shop]) -> None:
    body = ok_json(client.get(f"/api/v1/availability?isbn={ISBN}90000&lat=48.8566&lon=2.3522"
                              "&limit=2"))
    assert (body["nearby_count"], body["beyond_radius"]) == (0, True)
    assert [s["slug"] for s in body["shops"]] == ["bordeaux", "dax"]


def test_without_origin_every_holder_by_town(client: FlaskClient,
                                             network: dict[str, Shop]) -> None:
    body = ok_json(client.get(f"/api/v1/availability?isbn={ISBN}"))
    assert body["origin"] is None and body["radius_km"] is None and body["nearby_count"] is None
    assert [s["slug"] for s in body["shops"]] == ["bayonne", "bordeaux", "dax", "oloron", "tarbes"]
    assert {s["distance_m"] for s in body["shops"]} == {None}


def test_holds_are_subtracted(client: FlaskClient, session: Session,
                              network: dict[str, Shop]) -> None:
    make_reservation(session, shop=network["oloron"], isbn13=ISBN)
    make_reservation(session, shop=network["oloron"], isbn13=ISBN)
    make_reservation(session, shop=network["tarbes"], isbn13=ISBN)
    body = ok_json(client.get(f"/api/v1/availability?isbn={ISBN}&near=Pau&radius_km=80"))
    assert [(s["slug"], s["available"]) for s in body["shops"]] == [("tarbes", 1), ("dax", 2)]


def test_a_book_nobody_has(client: FlaskClient, network: dict[str, Shop]) -> None:
    body = ok_json(client.get("/api/v1/availability?isbn=9780201633610&near=Pau"))
    assert body["edition"] is None and body["shops"] == []


def test_in_shop_codes_are_never_answered(client: FlaskClient, network: dict[str, Shop]) -> None:
    body = problem(client.get(f"/api/v1/availability?isbn={INTERNAL}"), "invalid_isbn")
    assert body["reason"] == "not_a_book"
    assert problem(client.get(f"/api/v1/editions?q={INTERNAL}"), "invalid_isbn")["reason"] \
        == "not_a_book"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "missing_isbn"),
        ("isbn=++", "missing_isbn"),
        ("isbn=978-2-07-036822-9", "invalid_isbn"),
        ("isbn=12345", "invalid_isbn"),
        (f"isbn={ISBN}&lat=95&lon=0", "latitude_out_of_range"),
        (f"isbn={ISBN}&lat=0&lon=-180.5", "longitude_out_of_range"),
        (f"isbn={ISBN}&lat=abc&lon=0", "invalid_latitude"),
        (f"isbn={ISBN}&lat=0&lon=nan", "invalid_longitude"),
        (f"isbn={ISBN}&lat=43.3", "incomplete_coordinates"),
        (f"isbn={ISBN}&lon=-0.37&near=Pau", "incomplete_coordinates"),
        (f"isbn={ISBN}&near=Zzyzxqwv", "place_not_found"),
        (f"isbn={ISBN}&near=Saint-Martin", "ambiguous_place"),
        (f"isbn={ISBN}&limit=0", "invalid_limit"),
        (f"isbn={ISBN}&limit=51", "invalid_limit"),
        (f"isbn={ISBN}&limit=2.5", "invalid_limit"),
        (f"isbn={ISBN}&radius_km=0", "invalid_radius"),
        (f"isbn={ISBN}&radius_km=501", "invalid_radius"),
        (f"isbn={ISBN}&radius_km=inf", "invalid_radius"),
        # Present but empty is no number; nor is what only Python's float() or int() reads.
        (f"isbn={ISBN}&lat=&lon=0", "invalid_latitude"),
        (f"isbn={ISBN}&lat=0&lon=", "invalid_longitude"),
        (f"isbn={ISBN}&lat=1_0&lon=0", "invalid_latitude"),
        (f"isbn={ISBN}&lat=%2043&lon=0", "invalid_latitude"),
        (f"isbn={ISBN}&limit=", "invalid_limit"),
        (f"isbn={ISBN}&limit=1_0", "invalid_limit"),
        (f"isbn={ISBN}&radius_km=", "invalid_radius"),
    ],
)
def test_availability_problems(client: FlaskClient, query: str, code: str) -> None:
    problem(client.get(f"/api/v1/availability?{query}"), code)


@pytest.mark.parametrize(("isbn", "status"), [
    ("978-2-07-036002-4", 200), ("978 2 07 036002 4", 200), ("2070360024", 200),
    ("9782070360024 12", 200),
    # Valid codes, but not in the form the document gives: the site's forms take them.
    ("ISBN 978-2-07-036002-4", 422), ("978--2-07-036002-4", 422), ('="9782070360024"', 422),
    (" 9782070360024", 422), ("ISBN-978-2-07-036002-4", 422),
])
def test_the_api_takes_isbns_in_the_documented_form(client: FlaskClient, isbn: str,
                                                    status: int) -> None:
    response = client.get("/api/v1/availability", query_string={"isbn": isbn})
    assert response.status_code == status
    if status == 422:
        assert problem(response, "invalid_isbn")["reason"] == "invalid_format"
        assert re.fullmatch(ISBN_PATTERN, isbn) is None
    else:
        assert re.fullmatch(ISBN_PATTERN, isbn)


def test_problems_say_precisely_what_is_wrong(client: FlaskClient) -> None:
    bad_key = problem(client.get("/api/v1/availability?isbn=978-2-07-036822-9"), "invalid_isbn")
    assert bad_key["reason"] == "invalid_check_digit" and "clé de contrôle" in bad_key["detail"]
    too_short = problem(client.get("/api/v1/availability?isbn=12345"), "invalid_isbn")
    assert too_short["reason"] == "invalid_length"
    ambiguous = problem(client.get(f"/api/v1/availability?isbn={ISBN}&near=Saint-Martin"),
                        "ambiguous_place")
    assert len(ambiguous["candidates"]) > 1
    assert all(isinstance(label, str) for label in ambiguous["candidates"])
    not_found = problem(client.get(f"/api/v1/availability?isbn={ISBN}&near=Zzyzxqwv"),
                        "place_not_found")
    assert "Zzyzxqwv" in not_found["detail"] and "candidates" not in not_found
    english = problem(client.get(f"/api/v1/availability?isbn={ISBN}&limit=0&lang=en"),
                      "invalid_limit")
    assert english["detail"] == "The limit parameter must be a whole number between 1 and 50."


def test_preflight_allows_get_from_any_site(client: FlaskClient) -> None:
    response = client.options("/api/v1/availability", headers={
        "Origin": "https://editeur.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept-language"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "*"


@pytest.fixture()
def catalogue(session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path,
              network: dict[str, Shop]) -> None:
    """The Oloron shop's till file, which also brings the words the search knows."""
    lines = ["EAN;Titre;Auteur;Editeur;Stock", f"{ISBN};L'Étranger;Albert Camus;Folio;2",
             "9782070413119;Madame Bovary;Gustave Flaubert;Folio;0"]
    result = import_file(test_sessionmaker, shop=network["oloron"],
                         path=write_csv(tmp_path, "stock.csv", lines))
    assert result.status == "applied"


def test_editions_ranked_with_copies(client: FlaskClient, catalogue: None) -> None:
    body = ok_json(client.get("/api/v1/editions?q=etranger+camu&near=Pau"))
    assert body["query"] == "etranger camu" and body["origin"]["label"] == "Pau (64000)"
    first = body["editions"][0]
    assert (first["isbn13"], first["shops_with_copy"]) == (ISBN, 5)
    assert first["nearest_m"] == pytest.approx(geodesic_m((43.3112, -0.3558), TOWNS["oloron"]),
                                               abs=1)
    assert first["links"]["book"].startswith(f"http://localhost/livres/{ISBN}?lieu=Pau")
    bovary = ok_json(client.get("/api/v1/editions?q=bovary"))["editions"]
    assert [(e["title"], e["shops_with_copy"], e["nearest_m"]) for e in bovary] \
        == [("Madame Bovary", 0, None)]
    assert ok_json(client.get("/api/v1/editions?q=ptit+prnce"))["editions"] == []


def test_an_isbn_in_the_query_answers_that_edition(client: FlaskClient, catalogue: None) -> None:
    body = ok_json(client.get("/api/v1/editions?q=978-2-07-036002-4&lat=43.3&lon=-0.37"))
    assert [(e["isbn13"], e["shops_with_copy"]) for e in body["editions"]] == [(ISBN, 5)]
    assert ok_json(client.get("/api/v1/editions?q=9780201633610"))["editions"] == []


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "missing_query"), ("q=978-2-07-036822-9", "invalid_isbn"),
     ("q=camus&limit=-1", "invalid_limit"), ("q=camus&near=Zzyzxqwv", "place_not_found")],
)
def test_editions_problems(client: FlaskClient, query: str, code: str) -> None:
    problem(client.get(f"/api/v1/editions?{query}"), code)


def test_shops_nearest_first_with_hours(client: FlaskClient, session: Session,
                                        network: dict[str, Shop]) -> None:
    make_shop(session, slug="closed-down", lat=43.2951, lon=-0.3708, active=False)
    make_shop(session, slug="no-hours", city="Dax", lat=43.7102, lon=-1.0536, opening_hours="")
    body = ok_json(client.get("/api/v1/shops?near=Pau&limit=3"))
    assert [s["slug"] for s in body["shops"]] == ["oloron", "tarbes", "dax"]
    oloron = body["shops"][0]
    assert oloron["distance_m"] == pytest.approx(
        geodesic_m((43.3112, -0.3558), TOWNS["oloron"]), abs=1)
    assert oloron["opening_hours"] == "Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00"
    assert_hours(oloron)
    assert oloron["links"]["shop"] == "http://localhost/librairies/oloron"
    everyone = ok_json(client.get("/api/v1/shops?limit=50"))["shops"]
    assert [s["city"] for s in everyone] == ["Bayonne", "Bordeaux", "Dax", "Dax", "Oloron",
                                             "Tarbes"]
    no_hours = next(s for s in everyone if s["slug"] == "no-hours")
    assert [no_hours[k] for k in ("open_now", "closes_at", "next_opening", "distance_m")] \
        == [None, None, None, None]


def test_shops_come_a_page_at_a_time_with_links(client: FlaskClient, session: Session) -> None:
    make_shops_in_bulk(session, 25)
    first = ok_json(client.get("/api/v1/shops"))
    assert (first["page"], first["limit"], first["total"]) == (1, 10, 25)
    assert len(first["shops"]) == 10 and first["links"]["prev"] is None
    seen, body = [], first
    while True:
        seen += [shop["slug"] for shop in body["shops"]]
        if body["links"]["next"] is None:
            break
        assert body["links"]["next"].startswith("http://localhost/api/v1/shops?")
        body = ok_json(client.get(body["links"]["next"]))
    assert body["page"] == 3 and body["links"]["prev"].endswith("page=2")
    # Every shop once, by town as the directory lists them.
    assert len(seen) == len(set(seen)) == 25
    by_town = sorted(ok_json(client.get("/api/v1/shops?limit=50"))["shops"],
                     key=lambda shop: (shop["city"], shop["name"]))
    assert seen == [shop["slug"] for shop in by_town]


def test_nearest_shops_page_on_from_where_the_last_page_ended(
        client: FlaskClient, network: dict[str, Shop]) -> None:
    nearest = ok_json(client.get("/api/v1/shops?near=Pau&limit=2&page=2"))
    assert [s["slug"] for s in nearest["shops"]] == ["dax", "bayonne"]
    assert nearest["links"]["next"].endswith("near=Pau&limit=2&page=3")
    beyond = ok_json(client.get("/api/v1/shops?near=Pau&limit=2&page=9"))
    assert beyond["shops"] == [] and beyond["links"]["next"] is None
    assert beyond["links"]["prev"].endswith("page=3")  # the last page there is


def test_shops_problems(client: FlaskClient) -> None:
    problem(client.get("/api/v1/shops?lat=-91&lon=0"), "latitude_out_of_range")
    problem(client.get("/api/v1/shops?near=Pau&limit=x"), "invalid_limit")
    for page in ("0", "-1", "x", "", "100001"):
        problem(client.get(f"/api/v1/shops?page={page}"), "invalid_page")


def test_openapi_document_is_served_to_any_site(client: FlaskClient) -> None:
    document = ok_json(client.get("/api/v1/openapi.json"))
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/api/v1/availability", "/api/v1/editions",
                                      "/api/v1/shops", "/api/v1/shops/{slug}/stock",
                                      "/api/v1/reservations", "/api/v1/reservations/{code}"}


def test_a_read_survives_a_connection_the_server_closed(database_url: str, engine: Engine) -> None:
    """The read engine does not ping before use: after a restart, the view runs again."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "s",
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    path = f"/api/v1/availability?isbn={ISBN}&lat=43.3&lon=-0.37"
    assert ok_json(client.get(path))["shops"] == []
    read_engine = app.extensions["rayons.read_sessionmaker"].kw["bind"]
    with read_engine.connect() as pooled:  # the one connection the request used
        pid = pooled.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with engine.connect() as admin:
        admin.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s)", {"pid": pid})
        # pg_stat_activity is a snapshot per transaction: end it at each look, or the loop
        # would watch the backend alive forever.
        while admin.exec_driver_sql("SELECT 1 FROM pg_stat_activity WHERE pid = %(pid)s",
                                    {"pid": pid}).first():
            admin.rollback()
            time.sleep(0.01)
    assert ok_json(client.get(path))["shops"] == []
    read_engine.dispose()


@pytest.mark.parametrize(("method", "path", "exempt"), [
    ("GET", "/api/v1/availability?isbn=9782070368228", True),
    ("GET", "/api/v1/shops", True),
    ("POST", "/api/v1/reservations", False),
    ("GET", "/api/v1/reservations/ABC", False),
    ("POST", "/reserver/une-librairie/9782070368228", False),
])
def test_only_the_open_read_api_skips_the_rate_limiter(app: Flask, method: str, path: str,
                                                       exempt: bool) -> None:
    with app.test_request_context(path, method=method):
        assert open_read_api() is exempt


def test_problem_details_follow_lang(client: FlaskClient) -> None:
    french = client.get("/api/v1/availability?isbn=978-2-07-036822-9").get_json()
    english = client.get("/api/v1/availability?isbn=978-2-07-036822-9&lang=en").get_json()
    assert "clé de contrôle" in french["detail"] and "check digit" in english["detail"]
    assert french["reason"] == english["reason"] == "invalid_check_digit"
    lost = client.get(f"/api/v1/availability?isbn={ISBN}&near=Zzyzxqwv&lang=en").get_json()
    assert lost["code"] == "place_not_found" and lost["detail"].startswith("Place not found")
