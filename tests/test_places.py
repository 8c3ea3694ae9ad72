"""The reader's place on the search, book and directory pages: candidates that keep their
identity through the link, a remote namesake not chosen silently, problems never dropped."""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.models import Shop
from app.services.places import locate, nearest_shop_km
from importers.pipeline import import_file
from tests.factories import make_shop
from tests.stock_helpers import write_csv

ISBN = "9782070368228"
VILLENEUVE_SUR_LOT = (44.4085, 0.7042)
BORDEAUX = (44.8378, -0.5792)
STOCK = ["EAN;Titre;Auteur;Editeur;Stock", f"{ISBN};L'Étranger;Albert Camus;Gallimard;2"]


@pytest.fixture()
def two_shops(session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path
              ) -> tuple[Shop, Shop]:
    """The book in a Villeneuve-sur-Lot shop and in a Bordeaux one (140 km apart), imported
    from their files so that search knows its words."""
    lot = make_shop(session, slug="lot", name="Librairie du Lot", city="Villeneuve-sur-Lot",
                    lat=VILLENEUVE_SUR_LOT[0], lon=VILLENEUVE_SUR_LOT[1])
    bordeaux = make_shop(session, slug="gironde", name="Librairie de Gironde",
                         lat=BORDEAUX[0], lon=BORDEAUX[1])
    for shop in (lot, bordeaux):
        path = write_csv(tmp_path, f"{shop.slug}.csv", STOCK)
        assert import_file(test_sessionmaker, shop=shop, path=path).status == "applied"
    return lot, bordeaux


def candidate_links(page: str) -> dict[str, str]:
    """The candidates offered on a page: label -> link."""
    block = page.split('<ul class="candidates">', 1)[1].split("</ul>", 1)[0]
    return {unescape(label): unescape(href)
            for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block)}


@pytest.mark.parametrize("first", [f"/livres/{ISBN}?lieu=Villeneuve",
                                   "/recherche?q=etranger+camus&lieu=Villeneuve",
                                   "/?lieu=Villeneuve"])
def test_a_picked_candidate_keeps_its_identity(client: FlaskClient, two_shops: tuple[Shop, Shop],
                                               first: str) -> None:
    page = client.get(first).get_data(as_text=True)
    assert "Plusieurs lieux" in page
    links = candidate_links(page)
    link = links["Villeneuve-sur-Lot (47300, Lot-et-Garonne)"]
    assert "lieu_id=FR-47323" in link
    picked = client.get(link).get_data(as_text=True)
    assert "Lieu introuvable" not in picked and "Plusieurs lieux" not in picked
    assert "Près de Villeneuve-sur-Lot (47300, Lot-et-Garonne)" in picked
    if first.startswith("/recherche"):
        # The results' links to the book page carry the picked place on.
        book = re.search(r'href="(/livres/[^"]+)"', picked)
        assert book is not None and "lieu_id=FR-47323" in book.group(1)
        picked = client.get(unescape(book.group(1))).get_data(as_text=True)
    if not first.startswith("/?"):
        # The Lot shop is at 0 m; Bordeaux, 140 km away, is beyond the nearby radius.
        assert 'href="/librairies/lot">Librairie du Lot</a></h3>' in picked
        assert "Librairie de Gironde" not in picked
    else:
        assert picked.index("Librairie du Lot") < picked.index("Librairie de Gironde")


def test_a_candidate_label_typed_again_is_the_same_place() -> None:
    located = locate(place="Villeneuve-sur-Lot (47300, Lot-et-Garonne)", lat=None, lon=None)
    assert located.place_id == "FR-47323" and located.kind == "commune"


def test_an_unknown_place_id_falls_back_to_the_words() -> None:
    located = locate(place="Pau", lat=None, lon=None, place_id="FR-00000")
    assert located.label == "Pau (64000)"


def test_a_remote_namesake_is_asked_about(client: FlaskClient, two_shops: tuple[Shop, Shop]
                                          ) -> None:
    page = client.get(f"/livres/{ISBN}?lieu=Saint-Paul").get_data(as_text=True)
    assert "Saint-Paul (97411, La Réunion) est loin de toutes les librairies du réseau" in page
    labels = list(candidate_links(page))
    # Saint-Paul in Gironde, within reach of both shops, comes first; La Réunion last.
    assert labels[0] == "Saint-Paul (33390, Gironde)"
    assert labels[-1] == "Saint-Paul (97411, La Réunion)"
    assert "loin de toutes les librairies du réseau)" in page  # the remote one is marked
    english = client.get(f"/livres/{ISBN}?lieu=Saint-Paul&lang=en").get_data(as_text=True)
    assert "Saint-Paul (97411, La Réunion) is far from every bookshop of the network" in english


def test_a_remote_place_with_a_shop_near_it_is_kept(session: Session) -> None:
    make_shop(session, lat=-21.0, lon=55.3)  # a shop in La Réunion: Saint-Paul is near it
    located = locate(place="Saint-Paul", lat=None, lon=None, shop_km=nearest_shop_km(session))
    assert located.label == "Saint-Paul (97411)"


def test_nearest_shop_km_answers_per_point(session: Session, two_shops: tuple[Shop, Shop]
                                           ) -> None:
    agen, pau = (44.2033, 0.6163), (43.2951, -0.3708)
    distances = nearest_shop_km(session)([BORDEAUX, (-21.0, 55.3), agen, pau])
    assert distances[0] is not None and distances[0] < 1  # the Bordeaux shop itself
    assert distances[1] is not None and distances[1] > 9000
    assert distances[2] is not None and 20 < distances[2] < 30  # Agen: the Lot shop
    assert distances[3] is not None and 150 < distances[3] < 200  # Pau: Bordeaux


def test_nearest_shop_km_without_shops(session: Session) -> None:
    assert nearest_shop_km(session)([BORDEAUX]) == [None]


def test_an_unknown_place_typed_with_an_isbn_is_not_dropped(client: FlaskClient,
                                                            two_shops: tuple[Shop, Shop]) -> None:
    response = client.get(f"/recherche?q={ISBN}&lieu=Zzyzxqwv")
    assert response.status_code == 302 and "lieu=Zzyzxqwv" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Lieu introuvable : « Zzyzxqwv »" in page


def test_a_street_address_says_it_counts_as_its_town(client: FlaskClient,
                                                     two_shops: tuple[Shop, Shop]) -> None:
    page = client.get(f"/livres/{ISBN}?lieu=12+rue+des+Carmes+64000+Pau").get_data(as_text=True)
    assert "Près de Pau (64000)" in page
    assert "Les distances partent de la ville, pas de l’adresse exacte." in page
    town = client.get(f"/livres/{ISBN}?lieu=Pau").get_data(as_text=True)
    assert "pas de l’adresse exacte" not in town
