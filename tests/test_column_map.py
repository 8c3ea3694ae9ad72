"""A shop's own column map: parsed from the CLI, stored on the shop, applied to its next files."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRun, Shop
from importers.column_map import ColumnMap, ColumnMapError, ColumnRef
from importers.pipeline import import_file, save_column_map
from tests.factories import make_shop
from tests.stock_helpers import shelf, write_csv


@pytest.fixture()
def shop(session: Session) -> Shop:
    return make_shop(session, slug="la-colline", name="La Colline")


def test_a_map_reads_back_what_it_wrote() -> None:
    spec = "code=Code article,quantity=Qté magasin,price=#4,location=Dépôt:Boutique"
    with pytest.raises(ColumnMapError, match="every one by #position"):
        ColumnMap.parse(spec)
    named = ColumnMap.parse("code=Code article, quantity=Qté magasin,location=Dépôt:Boutique")
    assert named.code == ColumnRef(name="Code article") and named.keep == "Boutique"
    assert ColumnMap.from_json(named.as_json()) == named
    positional = ColumnMap.parse("code=#1,quantity=#3,price=#2")
    assert positional.by_position and positional.as_json() == {
        "code": "#1", "quantity": "#3", "price": "#2"}


@pytest.mark.parametrize(("spec", "problem"), [
    ("quantity=Stock", "which column holds the code"),
    ("code=EAN,colour=Rouge", "expected field=column"),
    ("code=EAN,code=ISBN", "given twice"),
    ("code=EAN,location=Dépôt", "location=COLUMN:VALUE"),
    ("code=#0", "expected #1"),
    ("code=", "which column holds the code"),
    ("code=EAN,quantity= ", "empty column reference"),
])
def test_a_wrong_map_says_which_part(spec: str, problem: str) -> None:
    with pytest.raises(ColumnMapError, match=problem):
        ColumnMap.parse(spec)


def test_a_headerless_price_and_quantity_file_read_by_position(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop,
        tmp_path: Path) -> None:
    path = write_csv(tmp_path, "stock.txt", ["9782070368228;12;3", "9782890061231;15;1"])
    result = import_file(test_sessionmaker, shop=shop, path=path,
                         columns=ColumnMap.parse("code=#1,price=#2,quantity=#3"))
    assert result.status == "applied"
    assert shelf(session, shop.id) == {"9782070368228": 3, "9782890061231": 1}


def test_a_saved_map_reads_the_shops_next_files_and_skips_other_locations(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop,
        tmp_path: Path) -> None:
    save_column_map(session, shop, ColumnMap.parse(
        "code=Article,quantity=Qté,location=Emplacement:Boutique"))
    session.commit()
    path = write_csv(tmp_path, "export.csv", [
        "Article;Emplacement;Qté",
        "9782070368228;Boutique;2",
        "9782070368228;Entrepôt;40",
        "9782890061231;boutique;1",
    ])
    result = import_file(test_sessionmaker, shop=shop, path=path)
    assert result.status == "applied"
    assert shelf(session, shop.id) == {"9782070368228": 2, "9782890061231": 1}


def test_a_file_without_the_mapped_column_is_refused_with_the_header_read(
        session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop,
        tmp_path: Path) -> None:
    path = write_csv(tmp_path, "export.csv", ["EAN;Stock", "9782070368228;2"])
    result = import_file(test_sessionmaker, shop=shop, path=path,
                         columns=ColumnMap.parse("code=Article,quantity=Qté"))
    run = session.get(ImportRun, result.run_id)
    assert run is not None and run.status == "rejected"
    assert run.gate == "mapped_columns_missing"
    assert "« Article », « Qté »" in (run.gate_message or "")
    assert "EAN ; Stock" in (run.gate_message or "")


def test_the_cli_imports_with_a_map_and_saves_it(cli: FlaskCliRunner, session: Session,
                                                 shop: Shop, tmp_path: Path) -> None:
    first = write_csv(tmp_path, "a.txt", ["9782070368228;12;3"])
    result = cli.invoke(args=["stock", "import", "--shop", shop.slug, "--save-columns",
                              "--columns", "code=#1,price=#2,quantity=#3", str(first)])
    assert result.exit_code == 0, result.output
    session.refresh(shop)
    assert shop.feed_columns == {"code": "#1", "price": "#2", "quantity": "#3"}
    second = write_csv(tmp_path, "b.txt", ["9782070368228;12;5"])
    assert cli.invoke(args=["stock", "import", "--shop", shop.slug, str(second)]).exit_code == 0
    assert shelf(session, shop.id) == {"9782070368228": 5}
    wrong = cli.invoke(args=["stock", "import", "--shop", shop.slug, "--columns", "qty=#2",
                             str(second)])
    assert wrong.exit_code == 2 and "--columns" in wrong.output
