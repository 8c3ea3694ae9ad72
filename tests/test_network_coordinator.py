"""A network coordinator (`network_admin`) follows its networks' shops and their imports, read
only, and nothing else: not other networks' shops, not any shop's desk or upload form."""
from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Network, Shop, StaffUser
from importers.pipeline import import_file
from tests.factories import make_network, make_shop, make_staff
from tests.stock_helpers import STOCK_DATA
from tests.test_staff import add
from tests.test_stock_commands import sign_in


@pytest.fixture()
def network(session: Session) -> Network:
    network = make_network(session, slug="bordeaux", name="Librairies de Bordeaux")
    network.shops = [make_shop(session, slug="la-mouette", name="La Mouette"),
                     make_shop(session, slug="mots-passants", name="Les Mots Passants")]
    make_shop(session, slug="ailleurs", name="Ailleurs")  # in no network of the coordinator
    session.flush()
    return network


@pytest.fixture()
def coordinator(session: Session, network: Network) -> StaffUser:
    return make_staff(session, shops=[], role="network_admin", networks=[network])


def shop(session: Session, slug: str) -> Shop:
    return session.scalars(select(Shop).where(Shop.slug == slug)).one()


def test_the_network_page_shows_each_shops_last_import(
        client: FlaskClient, session: Session, network: Network, coordinator: StaffUser,
        test_sessionmaker: sessionmaker[Session]) -> None:
    mouette = shop(session, "la-mouette")
    import_file(test_sessionmaker, shop=mouette, path=STOCK_DATA / "fr_pos_export_cp1252.csv")
    refused = import_file(test_sessionmaker, shop=mouette, path=STOCK_DATA / "scanner_dump.txt",
                          format="onix")
    sign_in(client, coordinator.email)
    dashboard = client.get("/staff/").get_data(as_text=True)
    assert "Librairies de Bordeaux" in dashboard and "/staff/networks/bordeaux" in dashboard
    page = client.get("/staff/networks/bordeaux").get_data(as_text=True)
    assert "La Mouette" in page and "Les Mots Passants" in page and "Ailleurs" not in page
    # The newest run only, linked to its report; a shop never imported says so.
    assert f"/staff/shops/la-mouette/imports/{refused.run_id}" in page
    assert "Aucun import" in page
    report = client.get(f"/staff/shops/la-mouette/imports/{refused.run_id}")
    assert report.status_code == 200
    history = client.get("/staff/shops/la-mouette/stock").get_data(as_text=True)
    assert "Imports de stock" in history and "fr_pos_export_cp1252.csv" in history
    assert 'type="file"' not in history


def test_a_coordinator_reads_but_never_acts(client: FlaskClient, session: Session,
                                            network: Network, coordinator: StaffUser) -> None:
    sign_in(client, coordinator.email)
    upload = {"stock_file": (io.BytesIO(b"ean;qte\n9782070368228;1\n"), "stock.csv")}
    assert client.post("/staff/shops/la-mouette/stock", data=upload,
                       content_type="multipart/form-data").status_code == 404
    for url in ("/staff/shops/la-mouette/reservations", "/staff/shops/ailleurs/stock",
                "/staff/networks/elsewhere"):
        assert client.get(url).status_code == 404, url


def test_shop_staff_have_no_network_page(client: FlaskClient, session: Session,
                                         network: Network) -> None:
    staff = make_staff(session, shops=[shop(session, "la-mouette")])
    sign_in(client, staff.email)
    assert client.get("/staff/networks/bordeaux").status_code == 404
    assert client.get("/staff/shops/mots-passants/stock").status_code == 404


def test_cli_creates_coordinators_of_networks_only(cli: FlaskCliRunner, session: Session,
                                                   network: Network) -> None:
    created = add(cli, "coord@reseau.example", "--role", "network_admin", "--network", "bordeaux")
    assert created.exit_code == 0, created.output
    user = session.scalars(select(StaffUser)).one()
    assert (user.role, [n.slug for n in user.networks], user.shops) == (
        "network_admin", ["bordeaux"], [])
    for args, message in [
        (["--role", "network_admin", "--shop", "la-mouette"], "needs at least one network"),
        (["--shop", "la-mouette", "--network", "bordeaux"], "only a network_admin"),
        (["--role", "network_admin", "--network", "nulle-part"], "unknown network: nulle-part"),
        ([], "unknown shop: (none given)"),
    ]:
        refused = add(cli, "autre@reseau.example", *args)
        assert refused.exit_code == 1 and message in refused.output, (args, refused.output)
