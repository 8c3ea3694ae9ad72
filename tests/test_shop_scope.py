"""A shop's page, a network's page, and `network=<slug>` on search, book pages, the read API
and the widget: a shop in two networks shows in both, other networks' shops never do."""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.models import Network, Shop
from importers.pipeline import import_file
from tests.factories import make_network, make_shop, make_shops_in_bulk, make_stock_line
from tests.stock_helpers import write_csv
from tests.test_search import CATALOGUE

ETRANGER, ORDRE, PRINCE = "9782070360024", "9782330090159", "9782070612758"
HOURS = "Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00"


@pytest.fixture()
def networks(session: Session, test_sessionmaker: sessionmaker[Session],
             tmp_path: Path) -> dict[str, Network]:
    return stock_networks(session, test_sessionmaker, tmp_path)


def stock_networks(session: Session, factory: sessionmaker[Session], tmp_path: Path,
                   **shop_values: object) -> dict[str, Network]:
    """Bordeaux (Chartrons, Pessac) and Gironde (Pessac, Libourne); Pau belongs to none.
    L'Étranger is in all four shops, L'Ordre du jour in Libourne and Pau, Le Petit Prince in
    Pau only (whose file brought the catalogue and its words). `shop_values` go to every shop."""
    city = make_network(session, slug="bordeaux", name="Librairies de Bordeaux")
    region = make_network(session, slug="gironde", name="Librairies de Gironde")
    shops = {
        "chartrons": make_shop(session, slug="chartrons", name="Librairie des Chartrons",
                               lat=44.8530, lon=-0.5700, networks=[city], **shop_values),
        "pessac": make_shop(session, slug="pessac", name="Librairie de Pessac", city="Pessac",
                            lat=44.8067, lon=-0.6311, networks=[city, region], **shop_values),
        "libourne": make_shop(session, slug="libourne", name="Librairie de Libourne",
                              city="Libourne", lat=44.9150, lon=-0.2430, networks=[region],
                              **shop_values),
    }
    pau = make_shop(session, slug="pau", name="Librairie de Pau", city="Pau", lat=43.2951,
                    lon=-0.3708, **shop_values)
    assert import_file(factory, shop=pau,
                       path=write_csv(tmp_path, "pau.csv", CATALOGUE)).status == "applied"
    for shop in shops.values():
        make_stock_line(session, shop=shop, isbn13=ETRANGER, on_hand=1)
    make_stock_line(session, shop=shops["libourne"], isbn13=ORDRE, on_hand=1)
    return {"bordeaux": city, "gironde": region}


def holder_slugs(page: str) -> list[str]:
    return re.findall(r'<li class="holder" id="holder-([a-z0-9-]+)">', page)


def test_a_book_page_in_a_network_lists_only_its_shops(client: FlaskClient,
                                                       networks: dict[str, Network]) -> None:
    everywhere = client.get(f"/livres/{ETRANGER}").get_data(as_text=True)
    assert sorted(holder_slugs(everywhere)) == ["chartrons", "libourne", "pau", "pessac"]
    city = client.get(f"/livres/{ETRANGER}?network=bordeaux&lieu=Bordeaux").get_data(as_text=True)
    assert holder_slugs(city) == ["chartrons", "pessac"]  # nearest first
    # The scope goes on to the reservation, and the search box keeps it.
    assert f'href="/reserver/pessac/{ETRANGER}?network=bordeaux"' in city
    assert '<input type="hidden" name="network" value="bordeaux">' in city
    assert "Recherche dans les seules librairies de Librairies de Bordeaux." in city
    # The shop in two networks is in both; the other network's shops are not.
    region = client.get(f"/livres/{ETRANGER}?network=gironde").get_data(as_text=True)
    assert sorted(holder_slugs(region)) == ["libourne", "pessac"]


def test_an_unknown_network_is_a_clear_404(client: FlaskClient,
                                           networks: dict[str, Network]) -> None:
    for url in (f"/livres/{ETRANGER}?network=nulle-part", "/recherche?q=camus&network=nulle-part",
                "/reseaux/nulle-part", "/?network=nulle-part"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Aucun réseau ne s&#39;appelle « nulle-part »." in response.get_data(as_text=True)
    problem = client.get(f"/api/v1/availability?isbn={ETRANGER}&network=nulle-part")
    assert problem.status_code == 404 and problem.mimetype == "application/problem+json"
    assert problem.get_json()["code"] == "unknown_network"
    assert client.get("/api/v1/shops?network=nulle-part").get_json()["code"] == "unknown_network"
    widget = client.get(f"/widget?isbn={ETRANGER}&network=nulle-part")
    assert widget.status_code == 404
    assert "Aucun réseau ne s&#39;appelle" in widget.get_data(as_text=True)
    english = client.get("/reseaux/nowhere?lang=en").get_data(as_text=True)
    assert "There is no network called “nowhere”." in english


def edition_links(page: str) -> list[str]:
    return [html.unescape(link) for link in
            re.findall(r'<li class="edition">\s*<h2><a href="([^"]+)"', page)]


def test_a_network_search_finds_only_the_books_on_its_shelves(
        client: FlaskClient, networks: dict[str, Network]) -> None:
    assert edition_links(client.get("/recherche?q=ordre+du+jour").get_data(as_text=True)) \
        == [f"/livres/{ORDRE}"]
    city = client.get("/recherche?q=ordre+du+jour&network=bordeaux").get_data(as_text=True)
    assert edition_links(city) == []  # only Libourne and Pau have it
    region = client.get("/recherche?q=ordre+du+jour&network=gironde").get_data(as_text=True)
    assert edition_links(region) == [f"/livres/{ORDRE}?network=gironde"]
    assert "Dans 1 librairie de Librairies de Gironde" in region
    assert 'href="/recherche?q=ordre+du+jour">Chercher plutôt dans toutes les librairies' in region
    counted = client.get("/recherche?q=etranger&network=gironde&lieu=Pessac").get_data(
        as_text=True)
    assert "Dans 2 librairies de Librairies de Gironde" in counted  # Pessac and Libourne
    # The nearest of them is named and leads to its page.
    assert re.search(r'la plus proche à [0-9,]+ m \(<a href="/librairies/pessac">Librairie de '
                     r'Pessac</a>\)', counted), counted
    # An ISBN goes to the book page, still in the network.
    isbn = client.get(f"/recherche?q={ETRANGER}&network=gironde")
    assert isbn.status_code == 302
    assert isbn.location == f"/livres/{ETRANGER}?network=gironde"


def test_a_shop_search_finds_its_shelves_and_leads_to_reserving_there(
        client: FlaskClient, networks: dict[str, Network]) -> None:
    pau = client.get("/recherche?q=petit+prince&shop=pau").get_data(as_text=True)
    assert edition_links(pau) == [f"/reserver/pau/{PRINCE}"]
    assert "En rayon ici" in pau and "Recherche dans les seuls rayons de Librairie de Pau." in pau
    assert edition_links(client.get("/recherche?q=petit+prince&shop=chartrons")
                         .get_data(as_text=True)) == []
    assert client.get(f"/recherche?q={PRINCE}&shop=pau").location == f"/reserver/pau/{PRINCE}"
    assert client.get("/recherche?q=prince&shop=nulle-part").status_code == 404
    assert client.get("/recherche?shop=pau").location == "/librairies/pau"


def test_the_api_and_the_widget_take_a_network(client: FlaskClient,
                                               networks: dict[str, Network]) -> None:
    answer = client.get(f"/api/v1/availability?isbn={ETRANGER}&network=gironde").get_json()
    assert sorted(shop["slug"] for shop in answer["shops"]) == ["libourne", "pessac"]
    assert answer["shops"][0]["links"]["book"].endswith(f"/livres/{ETRANGER}?network=gironde")
    shops = client.get("/api/v1/shops?network=bordeaux&limit=1").get_json()
    assert shops["total"] == 2 and [s["slug"] for s in shops["shops"]] == ["chartrons"]
    assert "network=bordeaux" in shops["links"]["next"]
    assert shops["shops"][0]["links"]["shop"] == "http://localhost/librairies/chartrons"
    assert client.get("/api/v1/shops").get_json()["total"] == 4
    found = client.get("/api/v1/editions?q=ordre+du+jour&network=gironde").get_json()
    assert [(e["isbn13"], e["shops_with_copy"]) for e in found["editions"]] == [(ORDRE, 1)]
    assert found["editions"][0]["links"]["book"].endswith(f"/livres/{ORDRE}?network=gironde")
    assert client.get("/api/v1/editions?q=ordre+du+jour&network=bordeaux").get_json()[
        "editions"] == []
    isbn = client.get(f"/api/v1/editions?q={ETRANGER}&network=bordeaux").get_json()
    assert isbn["editions"][0]["shops_with_copy"] == 2
    assert client.get("/api/v1/editions?q=x&network=nulle-part").status_code == 404
    widget = client.get(f"/widget?isbn={ETRANGER}&network=bordeaux").get_data(as_text=True)
    assert re.findall(r'<span class="name">([^<]*)</span>', widget) \
        == ["Librairie des Chartrons", "Librairie de Pessac"]
    assert f"/livres/{ETRANGER}?network=bordeaux#holder-pessac" in widget


def test_a_network_page_lists_its_shops_a_page_at_a_time(
        client: FlaskClient, session: Session, networks: dict[str, Network]) -> None:
    page = client.get("/reseaux/gironde").get_data(as_text=True)
    assert "<h1>Librairies de Gironde</h1>" in page
    assert re.findall(r'<li id="shop-([a-z0-9-]+)">', page) == ["libourne", "pessac"]
    assert '<input type="hidden" name="network" value="gironde">' in page
    assert 'href="/reseaux/gironde" aria-current="page"' in page.replace("\n", " ").replace(
        "           ", "")
    near = client.get("/reseaux/gironde?lieu=Pessac").get_data(as_text=True)
    assert re.findall(r'<li id="shop-([a-z0-9-]+)">', near) == ["pessac", "libourne"]
    assert '<form class="near" method="get" action="/reseaux/gironde">' in near
    assert '<a href="/reseaux/gironde">Toutes, par ville</a>' in near
    # A national network: pages of PAGE_SIZE, the pager keeps the network's address.
    national = make_network(session, slug="france", name="Librairies de France")
    make_shops_in_bulk(session, 60)
    session.execute(text("INSERT INTO shop_network (shop_id, network_id) "
                         "SELECT id, :network FROM shop WHERE slug LIKE 'bulk-%'"),
                    {"network": national.id})
    first = client.get("/reseaux/france").get_data(as_text=True)
    assert "60 librairies · page 1 sur 2" in first
    assert 'href="/reseaux/france?page=2" rel="next"' in first
    second = client.get("/reseaux/france?page=2").get_data(as_text=True)
    assert len(re.findall(r'<li id="shop-bulk-', second)) == 10
    assert client.get("/reseaux/france?page=3").status_code == 404


@pytest.fixture()
def la_mouette(session: Session, networks: dict[str, Network]) -> Shop:
    return make_shop(session, slug="la-mouette", name="Librairie La Mouette",
                     address="3 rue du Port", postcode="64200", city="Biarritz",
                     phone="05 59 00 11 22", website="https://la-mouette.example/",
                     lat=43.48321, lon=-1.55856, opening_hours=HOURS + "; PH off",
                     networks=list(networks.values()))


def test_a_shop_page_says_where_when_and_how_to_reach_it(
        client: FlaskClient, la_mouette: Shop, pinned_clock: Callable[[datetime], None]) -> None:
    """On Tuesday 24 November 2026 at 10:00 (pinned)."""
    page = client.get("/librairies/la-mouette").get_data(as_text=True)
    assert "<h1>Librairie La Mouette</h1>" in page
    assert "3 rue du Port<br>64200 Biarritz" in page
    assert "Ouvert maintenant · ferme à 12:30" in page
    assert 'href="tel:0559001122">05 59 00 11 22</a>' in page
    assert 'href="https://la-mouette.example/" rel="noopener">la-mouette.example</a>' in page
    assert ('href="https://www.openstreetmap.org/directions?to=43.48321%2C-1.55856"'
            in page)
    days = re.findall(r'<th scope="row">([^<]+)</th>\s*<td>([^<]+)</td>', page)
    assert days[0] == ("mardi 24 novembre", "09:30–12:30, 14:00–19:00")
    assert days[5] == ("dimanche 29 novembre", "Fermé")
    assert days[6] == ("lundi 30 novembre", "14:00–19:00") and len(days) == 7
    assert 'class="today" aria-current="date"' in page
    # Both its networks, each linking to the network's page.
    assert '<a href="/reseaux/bordeaux">Librairies de Bordeaux</a>' in page
    assert '<a href="/reseaux/gironde">Librairies de Gironde</a>' in page
    # A search of its shelves.
    assert '<input type="hidden" name="shop" value="la-mouette">' in page
    english = client.get("/librairies/la-mouette?lang=en").get_data(as_text=True)
    assert "<th scope=\"row\">Tuesday 24 November</th>" in english
    assert "Open now · closes at 12:30" in english and ">Directions<" in english


def test_a_closed_shop_says_when_it_opens(client: FlaskClient, la_mouette: Shop,
                                         pinned_clock: Callable[[datetime], None]) -> None:
    pinned_clock(datetime.fromisoformat("2026-11-29T12:00:00+01:00"))  # a Sunday
    page = client.get("/librairies/la-mouette").get_data(as_text=True)
    assert '<p class="status closed">Fermé · ouvre lundi à 14:00</p>' in page


def test_a_holiday_shows_on_its_day(client: FlaskClient, la_mouette: Shop,
                                    pinned_clock: Callable[[datetime], None]) -> None:
    pinned_clock(datetime.fromisoformat("2026-12-23T10:00:00+01:00"))
    page = client.get("/librairies/la-mouette").get_data(as_text=True)
    days = dict(re.findall(r'<th scope="row">([^<]+)</th>\s*<td>([^<]+)</td>', page))
    assert days["vendredi 25 décembre"] == "Fermé"  # Christmas, a Friday
    assert days["samedi 26 décembre"] == "09:30–12:30, 14:00–19:00"


def test_a_shop_without_hours_or_contact(client: FlaskClient, session: Session) -> None:
    make_shop(session, slug="discrete", opening_hours="", phone="", website="")
    page = client.get("/librairies/discrete").get_data(as_text=True)
    assert "Horaires non communiqués" in page and "tel:" not in page
    assert 'class="hours"' not in page and "Ses réseaux" not in page
    assert "openstreetmap.org/directions" in page  # a place is always known


def test_pages_link_to_the_shop_page(client: FlaskClient, la_mouette: Shop,
                                     session: Session) -> None:
    make_stock_line(session, shop=la_mouette, isbn13=ETRANGER, on_hand=1)
    book = client.get(f"/livres/{ETRANGER}?lieu=Biarritz").get_data(as_text=True)
    holder = book[book.index('id="holder-la-mouette"'):]
    holder = holder[:holder.index("</li>")]
    assert '<a href="/librairies/la-mouette">Librairie La Mouette</a>' in holder
    assert 'href="tel:0559001122"' in holder and "la-mouette.example" in holder
    assert "openstreetmap.org/directions?to=43.48321%2C-1.55856" in holder
    directory = client.get("/").get_data(as_text=True)
    assert '<a href="/librairies/la-mouette">Librairie La Mouette</a>' in directory
    reserve = client.get(f"/reserver/la-mouette/{ETRANGER}").get_data(as_text=True)
    assert '<a href="/librairies/la-mouette">Librairie La Mouette</a>' in reserve
