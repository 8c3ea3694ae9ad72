"""Onboarding shops from a coordinator's CSV, through the real command and real files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Edition, ImportRun, Network, Shop
from app.services.shop_import import import_shops
from tests.factories import make_shop

DATA = Path(__file__).parent / "data" / "shops"
DEMO = Path(__file__).parent.parent / "demo" / "shops.csv"


def shop(session: Session, slug: str) -> Shop:
    return session.scalars(select(Shop).where(Shop.slug == slug)).one()


def test_semicolon_utf8_file_creates_shops_and_networks(session: Session) -> None:
    report = import_shops(session, DATA / "good_semicolon_utf8.csv")
    assert report.ok and sorted(report.created) == [
        "comptoir-des-gaves-pau", "pruneau-erudit-agen", "sable-et-sources-dax"]
    agen = shop(session, "pruneau-erudit-agen")
    assert {n.name for n in agen.networks} == {
        "Librairies de Nouvelle-Aquitaine", "Librairies du Sud-Ouest"}
    assert agen.website == ""
    dax = shop(session, "sable-et-sources-dax")
    assert dax.opening_hours == "Mo-Sa 09:30-12:30,14:00-19:00; PH off"
    point = to_shape(shop(session, "comptoir-des-gaves-pau").location)
    assert (round(point.y, 5), round(point.x, 5)) == (43.29581, -0.37152)


def test_comma_cp1252_crlf_file_keeps_accents(session: Session) -> None:
    report = import_shops(session, DATA / "good_comma_cp1252.csv")
    assert report.ok and len(report.created) == 3
    assert shop(session, "eclaircie-tetue-perigueux").name == "Librairie L'Éclaircie Têtue"
    coeur = shop(session, "coeur-de-pages-angouleme")
    assert (coeur.name, coeur.city) == ("Librairie Cœur de Pages", "Angoulême")


def test_bad_lines_are_reported_and_good_lines_applied(session: Session) -> None:
    report = import_shops(session, DATA / "mixed_errors.csv")
    assert report.created == ["rose-des-sables-arcachon", "epi-de-lettres-niort"]
    assert [(r.line, r.field, r.reason) for r in report.rejected] == [
        (3, "name", "missing_name"),
        (4, "latitude", "latitude_out_of_range"),
        (5, "coordinates", "swapped_lat_lon"),
        (6, "opening_hours", "invalid_opening_hours"),
        (7, "slug", "duplicate_slug"),
    ]
    assert report.rejected[3].value == "mardi-samedi 9h-19h"
    assert "ligne 2" in report.rejected[4].message
    assert session.scalar(select(Shop).where(Shop.slug == "carte-a-l-envers-bordeaux")) is None


def test_french_headers_decimal_commas_and_derived_slug(session: Session) -> None:
    report = import_shops(session, DATA / "french_headers_decimal_comma.csv")
    assert report.ok and report.created == ["librairie-du-gave"]
    gave = shop(session, "librairie-du-gave")
    assert (gave.country, gave.phone, gave.website) == ("FR", "05 59 00 00 01",
                                                       "https://librairie-du-gave.example")
    assert [n.name for n in gave.networks] == ["Librairies du Béarn"]


@pytest.mark.parametrize(
    ("name", "reason", "field"),
    [
        ("missing_columns.csv", "missing_columns", "latitude,longitude"),
        ("empty.csv", "empty_file", ""),
    ],
)
def test_unusable_files_apply_nothing(session: Session, name: str, reason: str, field: str) -> None:
    report = import_shops(session, DATA / name)
    assert [(r.reason, r.field) for r in report.rejected] == [(reason, field)]
    assert report.created == [] and session.scalar(select(Shop.id)) is None


def test_header_only_file_is_not_an_error(session: Session) -> None:
    report = import_shops(session, DATA / "header_only.csv")
    assert report.ok and report.created == report.updated == []


def test_undecodable_bytes_are_reported(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"name;latitude;longitude\n\x81\x8d\x8f;44;0\n")
    report = import_shops(session, path)
    assert [r.reason for r in report.rejected] == ["unreadable_encoding"]


def test_reimport_updates_by_slug_and_sets_networks(session: Session, tmp_path: Path) -> None:
    existing = make_shop(session, slug="comptoir-des-gaves-pau", name="Ancien nom")
    report = import_shops(session, DATA / "good_semicolon_utf8.csv")
    assert "comptoir-des-gaves-pau" in report.updated
    session.refresh(existing)
    assert existing.name == "Librairie Le Comptoir des Gaves"
    again = import_shops(session, DATA / "good_semicolon_utf8.csv")
    assert again.created == [] and len(again.updated) == 3
    assert session.scalar(select(Network).where(Network.name == "Librairies du Sud-Ouest"))


def test_cli_summary_and_exit_status(cli: FlaskCliRunner) -> None:
    good = cli.invoke(args=["shops", "import", str(DATA / "good_semicolon_utf8.csv")])
    assert good.exit_code == 0, good.output
    assert "created: 3, updated: 0, rejected: 0" in good.output
    bad = cli.invoke(args=["shops", "import", str(DATA / "mixed_errors.csv")])
    assert bad.exit_code == 1
    assert "line 4, field latitude: latitude_out_of_range" in bad.output


def test_cli_json_summary(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["shops", "import", "--json", str(DATA / "mixed_errors.csv")])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["updated"]) == (2, 0)
    assert summary["rejected"][0] == {
        "line": 3, "field": "name", "value": "", "reason": "missing_name",
        "message": "le nom de la librairie est vide"}


def test_demo_network_loads_through_the_same_path(cli: FlaskCliRunner, session: Session,
                                                  app: Flask, tmp_path: Path) -> None:
    app.config["DEMO_STOCK_DIR"] = str(tmp_path)
    result = cli.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    shops = list(session.scalars(select(Shop)))
    assert len(shops) >= 40
    networks = {n.name: len(n.shops) for n in session.scalars(select(Network))}
    assert len(networks) == 2 and all(count >= 10 for count in networks.values())
    assert {s.city for s in shops} >= {"Bordeaux", "Pau", "Bayonne", "Limoges", "La Rochelle"}
    # Their stock came through the stock importer, one till file per shop, in mixed formats.
    runs = session.execute(select(ImportRun.format, ImportRun.status)).all()
    assert len(runs) == len(shops) and {status for _, status in runs} == {"applied"}
    assert {fmt for fmt, _ in runs} == {"delimited", "xlsx", "json", "onix"}
    assert session.scalar(select(func.count()).select_from(Edition)) > 1000
    # A second `make run` reuses today's stock instead of importing it again.
    again = cli.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "already imported" in again.output
    assert session.scalar(select(func.count()).select_from(ImportRun)) == len(shops)


@pytest.mark.parametrize(("email", "stored"), [
    ("contact@librairie-pau.fr", "contact@librairie-pau.fr"),
    (" Contact@Librairie-Pau.FR ", "Contact@librairie-pau.fr"),  # the domain in its normal form
    ("élodie@libraire.fr", "élodie@libraire.fr"),                 # internationalised addresses
    ('"><svg/onload=alert(1)>@x.fr', None),                      # markup, not an address
    ("contact@librairie", None),                                  # no domain
    ("contact@librairie.test", None),                             # a reserved domain
    ("contact@@librairie.fr", None),
])
def test_shop_emails_are_addresses(session: Session, tmp_path: Path, email: str,
                                   stored: str | None) -> None:
    path = tmp_path / "shops.csv"
    path.write_text("nom;latitude;longitude;email\n"
                    f"Librairie du Pont;43.2951;-0.3708;{email}\n", encoding="utf-8")
    report = import_shops(session, path)
    if stored is None:
        assert [(r.line, r.field, r.reason) for r in report.rejected] == [
            (2, "email", "invalid_email")]
        assert report.created == []
    else:
        assert report.ok and shop(session, report.created[0]).email == stored
