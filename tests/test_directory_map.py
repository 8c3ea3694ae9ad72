"""The directory map's answers (`/carte`, app/services/shop_map.py) and the plans of the
directory's statements; no browser."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.services.directory import directory_position, shop_page
from app.services.shop_map import DETAIL_CELL_DEG, GRID_CELLS, Box, cell_size, shops_in_view
from tests.conftest import PINNED_AT
from tests.factories import make_network, make_shop, make_shops_in_bulk

FRANCE = "-5,42,8.5,51.2"
BORDEAUX = (44.8378, -0.5792)


def view(client: FlaskClient, query: str) -> Any:
    response = client.get(f"/carte?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, max-age=60"
    return response.get_json()


def a_crowd_in_bordeaux_and_one_shop_in_lille(session: Session) -> None:
    for n in range(20):
        make_shop(session, slug=f"bordeaux-{n}", lat=BORDEAUX[0] + n * 0.0005, lon=BORDEAUX[1])
    make_shop(session, slug="lille", name="Seule à Lille", city="Lille", postcode="59000",
              lat=50.6292, lon=3.0573)


def test_the_first_view_is_the_box_of_the_listed_shops(client: FlaskClient,
                                                        session: Session) -> None:
    assert view(client, "") == {"b": None}
    network = make_network(session, slug="nord")
    a_crowd_in_bordeaux_and_one_shop_in_lille(session)
    make_shop(session, slug="closed", lat=42.0, lon=-5.0, active=False)
    make_shop(session, slug="lens", lat=50.4322, lon=2.8333, networks=[network])
    (south, west), (north, east) = view(client, "")["b"]
    assert (south, west, north, east) == pytest.approx(
        (BORDEAUX[0], BORDEAUX[1], 50.6292, 3.0573), abs=1e-5)
    assert view(client, "network=nord")["b"] == [[50.4322, 2.8333], [50.4322, 2.8333]]


def test_a_country_view_clusters_a_crowd_and_shows_a_lone_shop(client: FlaskClient,
                                                               session: Session) -> None:
    a_crowd_in_bordeaux_and_one_shop_in_lille(session)
    layer = view(client, f"bbox={FRANCE}")
    [[lat, lon, count, [[south, west], [north, east]]]] = layer["g"]
    assert count == 20 and south == pytest.approx(BORDEAUX[0]) and north == pytest.approx(
        BORDEAUX[0] + 19 * 0.0005)
    assert south <= lat <= north and west == east == lon == pytest.approx(BORDEAUX[1])
    [[_lat, _lon, title, lines, url]] = layer["m"]
    assert title == "Seule à Lille" and lines[1] == "59000 Lille" and url == "/librairies/lille"


def test_a_street_view_shows_every_shop(client: FlaskClient, session: Session) -> None:
    a_crowd_in_bordeaux_and_one_shop_in_lille(session)
    street = f"bbox=-0.5800,{BORDEAUX[0] - 0.001},-0.5780,{BORDEAUX[0] + 0.011}"
    layer = view(client, street)
    assert layer["g"] == [] and len(layer["m"]) == 20
    assert {marker[4] for marker in layer["m"]} == {f"/librairies/bordeaux-{n}" for n in range(20)}


def test_the_network_and_withdrawn_shops_are_respected(client: FlaskClient,
                                                       session: Session) -> None:
    network = make_network(session, slug="nord")
    a_crowd_in_bordeaux_and_one_shop_in_lille(session)
    make_shop(session, slug="lens", name="Lens", lat=50.4322, lon=2.8333, networks=[network])
    make_shop(session, slug="closed", name="Fermée", lat=48.85, lon=2.35, active=False)
    assert [m[2] for m in view(client, f"bbox={FRANCE}&network=nord")["m"]] == ["Lens"]
    assert "Fermée" not in {m[2] for m in view(client, f"bbox={FRANCE}")["m"]}
    assert client.get(f"/carte?bbox={FRANCE}&network=inconnu").status_code == 404


def test_a_national_network_answers_a_bounded_view(client: FlaskClient,
                                                   session: Session) -> None:
    make_shops_in_bulk(session, 3000)
    layer = view(client, f"bbox={FRANCE}")
    places = len(layer["m"]) + len(layer["g"])
    assert places <= (GRID_CELLS + 1) ** 2
    assert len(layer["m"]) + sum(cluster[2] for cluster in layer["g"]) == 3000


@pytest.mark.parametrize("bbox", [
    "", "1,2,3", "1,2,3,4,5", "a,b,c,d", "nan,42,8,51", "-5,42,-6,51", "-5,42,8,41",
    "-181,42,8,51", "-5,-91,8,51", "-5,42,181,51", "-5,42,8,91", "inf,42,8,51", "-5,42,8,51,",
])
def test_a_view_that_is_no_box_is_refused(client: FlaskClient, bbox: str) -> None:
    response = client.get(f"/carte?bbox={bbox}", headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_bbox"


@pytest.mark.parametrize(("span", "expected"), [(13.5, 360 / 2 ** 8), (0.5, 360 / 2 ** 13),
                                                (360, 22.5), (0.0001, 360 / 2 ** 25)])
def test_cells_are_world_grid_fractions_a_sixteenth_of_the_view_or_more(
        span: float, expected: float) -> None:
    cell = cell_size(Box(west=0, south=0, east=span, north=span / 2))
    assert cell == expected
    assert span / GRID_CELLS <= cell < 2 * span / GRID_CELLS


def test_a_street_view_is_cut_below_the_detail_cell() -> None:
    assert cell_size(Box(west=0, south=0, east=0.02, north=0.01)) < DETAIL_CELL_DEG


@pytest.mark.parametrize(("service", "index"), [
    # East of the bulk shops (longitudes -4.5 to -2.8): a view the spatial index narrows.
    (lambda session: shops_in_view(session, box=Box(west=2, south=42, east=8, north=51),
                                   network=None, at=PINNED_AT), "ix_shop_active_geometry"),
    (lambda session: shop_page(session, network=None, origin=None, number=3, size=50,
                               at=PINNED_AT), "ix_shop_directory_order"),
    (lambda session: directory_position(session, make_shop(session)), "ix_shop_directory_order"),
    (lambda session: shop_page(session, network=None, origin=BORDEAUX, number=2, size=50,
                               at=PINNED_AT), "idx_shop_location"),
])
def test_the_services_statements_can_use_their_indexes(
        session: Session, service: Callable[[Session], object], index: str) -> None:
    """Each statement a service sends, explained with sequential scans and sorts priced out: a
    plan through the partial index proves that its expression and its predicate (`active IS
    TRUE`, as the services write it) match what is asked. A few hundred shops and fresh
    statistics first: on a table the planner believes (nearly) empty, every index costs the same
    and the choice followed whatever statistics earlier tests had left (the directory-order case
    failed in some whole-suite runs)."""
    make_shops_in_bulk(session, 400)
    session.execute(text("ANALYZE shop"))
    sent: list[tuple[str, Any]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: Any,
               *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        service(session)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    plans = ["\n".join(str(row[0]) for row in connection.exec_driver_sql(
        "EXPLAIN " + statement, parameters)) for statement, parameters in sent]
    assert any(index in plan for plan in plans), plans
