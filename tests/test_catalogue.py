"""Catalogue files fill editions' titles, authors and publishers without touching stock."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Edition, StockLine
from app.services.search import search_editions
from importers.catalogue import import_catalogue
from importers.pipeline import import_file
from tests.factories import make_edition, make_shop, make_stock_line
from tests.stock_helpers import STOCK_DATA, write_csv

DATA = Path(__file__).parent / "data" / "catalogue"
LAGUNE, MAREES, VASIERES, DUNE, CHENAL = ("9782490123452", "9782490123469", "9782490123483",
                                          "9782490123490", "9782490123506")


def described(session: Session, isbn13: str) -> tuple[str, str, str] | None:
    edition = session.get(Edition, isbn13, populate_existing=True)
    return None if edition is None else (edition.title, edition.authors, edition.publisher)


def blank_editions(session: Session, *codes: str) -> None:
    for code in codes:
        make_edition(session, isbn13=code, title="", authors="", publisher="")


def test_metadata_only_onix_30_fills_titles_and_leaves_stock_alone(session: Session) -> None:
    blank_editions(session, LAGUNE, MAREES)
    shop = make_shop(session)
    make_stock_line(session, shop=shop, isbn13=LAGUNE, on_hand=3)
    report = import_catalogue(session, path=DATA / "onix30_catalogue_ref.xml")
    assert (report.format, report.lines_read, report.codes, report.filled, report.already_known,
            report.unknown, report.rejected) == ("onix", 6, 3, 2, 0, 1, 3)
    assert [(r.line, r.field, r.reason_code) for r in report.rejections] == [
        (67, "ProductIdentifier", "invalid_check_digit"), (75, "code", "not_a_book"),
        (83, "ProductIdentifier", "missing_code")]
    assert described(session, LAGUNE) == ("Les Oiseaux de la lagune", "Maëlle Quéméner",
                                          "Éditions du Goulet")
    assert described(session, MAREES) == ("Marées d'équinoxe", "Anton Riec, Sol Penhoat",
                                          "Éditions du Goulet")
    assert described(session, CHENAL) is None  # a catalogue never creates an edition
    assert session.scalars(select(StockLine.on_hand).where(StockLine.isbn13 == LAGUNE)).all() == [3]
    again = import_catalogue(session, path=DATA / "onix30_catalogue_ref.xml")
    assert (again.filled, again.already_known, again.unknown) == (0, 2, 1)


def test_onix_21_short_tags_and_isbn_10(session: Session) -> None:
    blank_editions(session, LAGUNE, VASIERES)
    report = import_catalogue(session, path=DATA / "onix21_catalogue_short.xml")
    assert (report.filled, report.rejected) == (2, 0)
    assert described(session, LAGUNE) == ("Les Oiseaux de la lagune", "Maëlle Quéméner",
                                          "Éditions du Goulet")
    assert described(session, VASIERES) == ("Vasières", "Loïc Kerbrat", "Le Goéland")


def test_csv_catalogue_best_line_per_code_and_reasons(session: Session) -> None:
    blank_editions(session, DUNE, MAREES)
    report = import_catalogue(session, path=DATA / "catalogue_fr.csv")
    assert described(session, DUNE) == ("La Dune blanche", "Iris Kervella", "Le Goéland")
    assert (report.format, report.filled, report.unknown, report.rejected) == (
        "delimited", 1, 1, 2)
    assert [(r.line, r.reason_code) for r in report.rejections] == [
        (4, "invalid_length"), (6, "no_description")]
    assert described(session, MAREES) == ("", "", "")


def test_a_good_title_is_never_lost(session: Session, tmp_path: Path) -> None:
    make_edition(session, isbn13=DUNE, title="La Dune blanche", authors="", publisher="")
    path = write_csv(tmp_path, "cat.csv", ["EAN;Titre;Auteur", f"{DUNE};;Iris Kervella"])
    report = import_catalogue(session, path=path)
    assert (report.filled, described(session, DUNE)) == (
        1, ("La Dune blanche", "Iris Kervella", ""))
    other = write_csv(tmp_path, "other.csv", ["EAN;Titre", f"{DUNE};LA DUNE BLANCHE (POCHE)"])
    kept = import_catalogue(session, path=other)
    assert (kept.filled, kept.already_known) == (0, 1)
    assert described(session, DUNE) == ("La Dune blanche", "Iris Kervella", "")
    replaced = import_catalogue(session, path=other, replace=True)
    assert replaced.filled == 1
    assert described(session, DUNE) == ("LA DUNE BLANCHE (POCHE)", "Iris Kervella", "")


@pytest.mark.parametrize(("lines", "reason"), [
    (["9782490123490;La Dune blanche"], "missing_header"),
    (["EAN;Qté", "9782490123490;3"], "missing_columns"),
    (["Titre;Auteur", "La Dune blanche;Iris Kervella"], "missing_columns"),
    ([], "empty_file"),
])
def test_unusable_tables_are_refused_and_nothing_changes(
    session: Session, tmp_path: Path, lines: list[str], reason: str
) -> None:
    blank_editions(session, DUNE)
    report = import_catalogue(session, path=write_csv(tmp_path, "cat.csv", lines))
    assert report.refused is not None and report.refused.reason_code == reason
    assert described(session, DUNE) == ("", "", "")


def test_a_stock_json_is_no_catalogue(session: Session) -> None:
    report = import_catalogue(session, path=STOCK_DATA / "provider_api_stocks.json")
    assert report.refused is not None and report.refused.reason_code == "unsupported_format"


def test_a_cut_onix_applies_nothing(session: Session, tmp_path: Path) -> None:
    blank_editions(session, LAGUNE, MAREES)
    whole = (DATA / "onix30_catalogue_ref.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(whole[:whole.index(b"estuaires-0003")])
    report = import_catalogue(session, path=cut)
    assert report.refused is not None and report.refused.reason_code == "truncated"
    assert described(session, LAGUNE) == ("", "", "")


def test_xlsx_catalogue(session: Session, tmp_path: Path) -> None:
    blank_editions(session, DUNE)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Code ISBN", "Titre", "Auteur(s)", "Éditeur"])
    sheet.append([int(DUNE), "La Dune blanche", "Iris Kervella", "Le Goéland"])
    book.save(tmp_path / "cat.xlsx")
    report = import_catalogue(session, path=tmp_path / "cat.xlsx")
    assert (report.format, report.filled) == ("xlsx", 1)
    assert described(session, DUNE) == ("La Dune blanche", "Iris Kervella", "Le Goéland")


def test_catalogue_command(cli: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    blank_editions(session, LAGUNE, MAREES)
    result = cli.invoke(args=["stock", "catalogue", str(DATA / "onix30_catalogue_ref.xml")])
    assert result.exit_code == 0, result.output
    assert ("onix30_catalogue_ref.xml: 6 lines read, 2 filled, 0 already known, "
            "1 unknown code, 3 rejected") in result.stdout
    assert ("onix30_catalogue_ref.xml, line 67, field ProductIdentifier: invalid_check_digit"
            in result.stderr)
    as_json = cli.invoke(args=["stock", "catalogue", "--json",
                               str(DATA / "onix30_catalogue_ref.xml")])
    body = json.loads(as_json.stdout)
    assert (body["filled"], body["already_known"], body["refused"]) == (0, 2, None)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = cli.invoke(args=["stock", "catalogue", str(empty)])
    assert refused.exit_code == 1 and "refused (empty_file)" in refused.stdout


def test_code_only_stock_is_found_by_title_after_a_catalogue(
    session: Session, test_sessionmaker: sessionmaker[Session], client: FlaskClient,
    tmp_path: Path,
) -> None:
    """The issue's done-when: a scanner dump brings codes only; the catalogue names them."""
    shop = make_shop(session, slug="estuaire", lat=47.2184, lon=-1.5536)
    dump = tmp_path / "scan.txt"
    dump.write_text(f"{LAGUNE}\n{LAGUNE}\n{MAREES}\n")
    assert import_file(test_sessionmaker, shop=shop, path=dump).status == "applied"
    assert described(session, LAGUNE) == ("", "", "")
    assert search_editions(session, query="oiseaux lagune").hits == []
    assert import_catalogue(session, path=DATA / "onix30_catalogue_ref.xml").filled == 2
    hit, = search_editions(session, query="oiseaux de la lagune").hits
    assert (hit.isbn13, hit.shops_with_copy) == (LAGUNE, 1)
    assert search_editions(session, query="quemener").hits[0].isbn13 == LAGUNE
    assert search_editions(session, query="marees equinox").hits[0].isbn13 == MAREES  # corrected
    page = client.get("/recherche?q=oiseaux+lagune").get_data(as_text=True)
    assert "Les Oiseaux de la lagune" in page and "Dans 1 librairie du réseau" in page


_CELLS = st.one_of(st.text(max_size=30), st.sampled_from(
    [DUNE, "978-2-490-12349-0", "0000000000", "9,78249E+12", "ISBN", "Titre", '"', ";", "\x00"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELLS, max_size=5), max_size=6),
       header=st.sampled_from(["ISBN;Titre;Auteur;Éditeur", "EAN;Qté", ""]),
       raw=st.binary(max_size=200))
def test_no_catalogue_table_crashes_an_import(session: Session, tmp_path: Path,
                                              rows: list[list[str]], header: str,
                                              raw: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    text = "\n".join([header, *(";".join(cells) for cells in rows)])
    path.write_bytes(text.encode("utf-8", "surrogatepass") + raw)
    report = import_catalogue(session, path=path)
    assert report.refused is not None or report.lines_read >= report.rejected
    onix = tmp_path / "fuzz.xml"
    onix.write_bytes(b"<ONIXMessage><Product><ProductIdentifier><ProductIDType>15"
                     b"</ProductIDType><IDValue>" + raw + b"</IDValue></ProductIdentifier>"
                     b"</Product></ONIXMessage>")
    assert import_catalogue(session, path=onix).lines_read in (0, 1)
