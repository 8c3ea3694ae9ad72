"""Both languages everywhere: the switch keeps the page, error pages and API problems speak the
page's (or the request's) language, a lost form token loses no form, dates follow the language."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.models import Shop
from app.templating.words import local_datetime, shop_time
from importers.pipeline import import_file
from tests.factories import make_network, make_shop
from tests.stock_helpers import write_csv

ISBN = "9782070368228"


@pytest.fixture()
def stocked(session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path) -> Shop:
    network = make_network(session, slug="gironde")
    shop = make_shop(session, slug="port", name="Librairie du Port", networks=[network])
    path = write_csv(tmp_path, "stock.csv", ["EAN;Titre;Auteur;Stock",
                                             f"{ISBN};L'Étranger;Albert Camus;2"])
    assert import_file(test_sessionmaker, shop=shop, path=path).status == "applied"
    return shop


def switch_href(page: str) -> str:
    """The language switch's link, as written in the page."""
    href = re.search(r'<nav class="lang"[^>]*>\s*<a href="([^"]+)"', page)
    assert href is not None
    return unescape(href.group(1))


def without_lang(query: str) -> list[tuple[str, str]]:
    return [pair for pair in parse_qsl(query) if pair[0] != "lang"]


@pytest.mark.parametrize("url", [
    "/recherche?q=etranger+camus&lieu=Bordeaux",
    f"/livres/{ISBN}?lieu=Villeneuve-sur-Lot+(47300,+Lot-et-Garonne)&lieu_id=FR-47323",
    "/?network=gironde&lieu=33000",
])
def test_the_language_switch_keeps_the_page_and_its_arguments(client: FlaskClient,
                                                              stocked: Shop, url: str) -> None:
    asked = urlsplit(url)
    href = switch_href(client.get(url).get_data(as_text=True))
    assert href.startswith("?") and ("lang", "en") in parse_qsl(href[1:])  # the same page
    assert without_lang(href[1:]) == parse_qsl(asked.query)
    english = client.get(asked.path + href)
    page = english.get_data(as_text=True)
    assert english.status_code == 200 and '<html lang="en">' in page
    assert "Librairie du Port" in page or "L&#39;Étranger" in page
    back = switch_href(page)
    assert ("lang", "fr") in parse_qsl(back[1:]) and without_lang(back[1:]) == parse_qsl(
        asked.query)


@pytest.mark.parametrize(("method", "url", "french", "english"), [
    ("GET", "/nulle-part", "Cette page n&#39;existe pas, ou plus.",
     "This page does not exist, or no longer does."),
    ("DELETE", "/", "Cette adresse n&#39;accepte pas ce type de demande.",
     "This address does not take this kind of request."),
    ("GET", "/?network=inconnu", "Aucun réseau ne s&#39;appelle « inconnu »",
     "There is no network called “inconnu”"),
    ("GET", "/reservations/AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH", "Aucune réservation ne porte ce code",
     "No reservation has this code"),
])
def test_error_pages_speak_the_pages_language(client: FlaskClient, method: str, url: str,
                                              french: str, english: str) -> None:
    response = client.open(url, method=method)
    page = response.get_data(as_text=True)
    assert response.status_code in (404, 405) and '<html lang="fr">' in page
    assert french in page and "not found" not in page.lower()
    client.get("/?lang=en")  # the reader switches: the choice is kept in the session
    page = client.open(url, method=method).get_data(as_text=True)
    assert english in page and french not in page


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, "Aucune réservation ne porte ce code"),
    ({"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}, "No reservation has this code"),
    ({"Accept-Language": "de-DE"}, "Aucune réservation ne porte ce code"),
])
def test_api_problems_follow_accept_language(client: FlaskClient, headers: dict[str, str],
                                             expected: str) -> None:
    response = client.get("/api/v1/reservations/AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH",
                          headers=headers)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "unknown_reservation" and body["detail"].startswith(expected)
    assert "Set-Cookie" not in response.headers  # nothing remembered for an API client
    missing = client.get("/api/v1/nothing-here", headers=headers).get_json()
    assert missing["detail"] in ("Cette page n'existe pas, ou plus. Vérifiez l'adresse, ou "
                                 "repartez de la liste des librairies.",
                                 "This page does not exist, or no longer does. Check the "
                                 "address, or start again from the bookshops.")


def test_lang_wins_over_accept_language_on_the_api(client: FlaskClient) -> None:
    body = client.get("/api/v1/reservations/AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH?lang=fr",
                      headers={"Accept-Language": "en"}).get_json()
    assert body["detail"].startswith("Aucune réservation")


@pytest.fixture()
def guarded(make_app: Callable[..., Flask]) -> FlaskClient:
    """An app whose forms check their CSRF token, as in production."""
    return make_app(WTF_CSRF_ENABLED=True).test_client()


def test_a_lost_form_token_gives_the_form_back(guarded: FlaskClient, stocked: Shop) -> None:
    url = f"/reserver/port/{ISBN}"
    fields = {"name": "Camille", "email": "camille@example.org", "consent": "y"}
    response = guarded.post(url, data=fields, headers={"Origin": "http://localhost"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Votre formulaire n'a pas été envoyé" in page
    assert "CSRF" not in page
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    assert {k: kept[k] for k in fields} == fields and kept["csrf_token"]
    assert f'action="{url}"' in page
    # Sent again from that page (its cookie now holds the session), the form goes through.
    again = guarded.post(url, data=kept, headers={"Origin": "http://localhost"})
    assert again.status_code != 400


@pytest.mark.parametrize("headers", [{"Origin": "https://elsewhere.example"}, {}])
def test_a_form_from_elsewhere_is_not_offered_back(guarded: FlaskClient, stocked: Shop,
                                                   headers: dict[str, str]) -> None:
    page = guarded.post(f"/reserver/port/{ISBN}", data={"name": "Mallory", "consent": "y"},
                        headers=headers).get_data(as_text=True)
    assert "Votre formulaire n'a pas été envoyé" in page and "Mallory" not in page
    assert "rechargez la page" in page


def test_a_password_is_never_written_back(guarded: FlaskClient) -> None:
    page = guarded.post("/staff/login", data={"email": "a@b.example", "password": "secret"},
                        headers={"Origin": "http://localhost"}).get_data(as_text=True)
    assert "secret" not in page and "rechargez la page" in page


@pytest.mark.parametrize(("lang", "stamp", "deadline"), [
    ("fr", "24 nov. 2026, 14:05", "mardi 24 nov., 14:05"),
    ("en", "Nov 24, 2026, 14:05", "Tuesday, Nov 24, 14:05"),
])
def test_dates_follow_the_readers_language_on_a_24_hour_clock(app: Flask, lang: str, stamp: str,
                                                              deadline: str) -> None:
    moment = datetime(2026, 11, 24, 13, 5, tzinfo=UTC)
    with app.test_request_context(f"/?lang={lang}"):
        assert local_datetime(moment) == stamp
        assert shop_time(moment, "Europe/Paris") == deadline
        assert local_datetime(moment, "America/Cayenne").endswith("10:05")  # the shop's zone
        assert "/" not in local_datetime(moment) and "PM" not in local_datetime(moment)


@pytest.mark.parametrize(("lang", "deadline"), [
    ("fr", r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2} [a-zéû]+\.?, "
           r"\d{2}:\d{2}"),
    ("en", r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, [A-Z][a-z]{2} \d{1,2}, \d{2}:\d{2}"),
])
def test_mail_dates_follow_the_readers_language(
    client: FlaskClient, stocked: Shop, deliver_mail: Callable[[], list[object]], lang: str,
    deadline: str,
) -> None:
    client.get(f"/?lang={lang}")
    url = f"/reserver/port/{ISBN}"
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key is not None
    fields = {"name": "Camille", "email": "camille@example.org", "consent": "y",
              "idempotency_key": key.group(1)}
    assert client.post(url, data=fields).status_code == 302
    mail = next(m for m in deliver_mail() if getattr(m, "to", None) == ["camille@example.org"])
    body = str(getattr(mail, "body", ""))
    assert re.search(deadline, body), body
    assert not re.search(r"\d{1,2}/\d{1,2}/\d{2}|\b[AP]M\b", body)


def test_the_language_outlives_the_session_cookie(guarded: FlaskClient, stocked: Shop) -> None:
    """A phone's browser restarts: the session cookie is gone, the language cookie stays, and
    the page saying the form was not sent speaks English."""
    guarded.get("/?lang=en")
    assert guarded.get_cookie("rayons_lang") is not None
    guarded.delete_cookie("session")
    page = guarded.post(f"/reserver/port/{ISBN}", data={"name": "Camille", "consent": "y"},
                        headers={"Origin": "http://localhost"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Your form was not sent" in page
    assert guarded.get("/").get_data(as_text=True).count('<html lang="en">') == 1
