"""The publisher's widget: the framable page and its loader script."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Shop
from tests.factories import make_edition, make_shop, make_stock_line

ISBN = "9782070360024"
# Around Pau, nearest first from the point the gazetteer gives for "Pau".
PAU_AREA = [("pau", "Librairie des Pyrénées", "Pau", 43.2951, -0.3708, 2),
            ("lescar", "La Cité", "Lescar", 43.3336, -0.4347, 1),
            ("morlaas", "Le Bouquiniste", "Morlaàs", 43.3497, -0.2628, 3),
            ("oloron", "L'Escale", "Oloron-Sainte-Marie", 43.1942, -0.6067, 1)]


def stock_pau_area(session: Session) -> list[Shop]:
    make_edition(session, isbn13=ISBN)
    shops = []
    for slug, name, city, lat, lon, copies in PAU_AREA:
        shop = make_shop(session, slug=slug, name=name, city=city, lat=lat, lon=lon)
        make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=copies)
        shops.append(shop)
    return shops


@pytest.fixture()
def pau_shops(session: Session) -> list[Shop]:
    return stock_pau_area(session)


def shop_names(page: str) -> list[str]:
    return re.findall(r'<span class="name">([^<]*)</span>', page)


def test_the_three_nearest_shops_link_to_the_book_page(client: FlaskClient,
                                                       pau_shops: list[Shop]) -> None:
    response = client.get("/widget?isbn=978-2-07-036002-4&near=Pau")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Disponible près de chez vous" in page and "L&#39;Étranger · Albert Camus" in page
    assert shop_names(page) == ["Librairie des Pyrénées", "La Cité", "Le Bouquiniste"]
    assert "2,2 km" in page and "2 exemplaires disponibles" in page
    book = f"http://localhost/livres/{ISBN}?lieu=Pau+(64000)"
    assert f'<a href="{book}#holder-pau" target="_blank" rel="noopener">' in page
    assert 'class="site-header"' not in page and 'id="around-me"' not in page


def test_an_unknown_place_lists_shops_without_distance(client: FlaskClient,
                                                       pau_shops: list[Shop]) -> None:
    for query in (f"isbn={ISBN}", f"isbn={ISBN}&near=Zzyzxqwv"):
        page = client.get(f"/widget?{query}").get_data(as_text=True)
        assert shop_names(page) == ["La Cité", "Le Bouquiniste", "L&#39;Escale"]  # by town
        assert " km" not in page
        assert 'id="around-me" hidden' in page  # shown by the script, if it can locate


def test_coordinates_and_english(client: FlaskClient, pau_shops: list[Shop]) -> None:
    page = client.get(f"/widget?isbn={ISBN}&lat=43.1942&lon=-0.6067&lang=en").get_data(
        as_text=True)
    assert "Available near you" in page and "1 copy available" in page
    assert shop_names(page)[0] == "L&#39;Escale"


def test_nothing_on_the_shelves(client: FlaskClient, session: Session) -> None:
    page = client.get(f"/widget?isbn={ISBN}&near=Pau").get_data(as_text=True)
    assert "Aucune librairie du réseau n'a ce livre en rayon" in page


def test_an_invalid_isbn_is_explained_in_the_frame(client: FlaskClient) -> None:
    response = client.get("/widget?isbn=978-2-07-036822-9")
    assert response.status_code == 422
    assert "clé de contrôle" in response.get_data(as_text=True)
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_only_the_widget_may_be_framed(client: FlaskClient, pau_shops: list[Shop]) -> None:
    widget = client.get(f"/widget?isbn={ISBN}").headers
    assert "frame-ancestors *" in widget["Content-Security-Policy"]
    assert "X-Frame-Options" not in widget
    for page in ("/", f"/livres/{ISBN}", "/staff/login"):
        headers = client.get(page).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"


def test_the_loader_only_puts_encoded_values_in_a_url(client: FlaskClient) -> None:
    response = client.get("/static/js/widget.js")
    script = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200
    assert "encodeURIComponent(value)" in script and "/widget?" in script
    assert "innerHTML" not in script and "document.write" not in script


def test_the_frame_explains_an_invalid_isbn_in_english_too(client: FlaskClient) -> None:
    page = client.get("/widget?isbn=978-2-07-036822-9&lang=en").get_data(as_text=True)
    assert "(the check digit) does not match" in page and "clé de contrôle" not in page
