"""The merge of a stock file into a shop's stock: samples, gates, zeroing, editions."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Edition, ImportRejection, ImportRun, Shop, StockLine
from importers.pipeline import import_file, shop_by_slug
from tests.factories import make_shop
from tests.stock_helpers import STOCK_DATA, shelf, write_csv

FR_POS = {
    "9782070368228": 4,  # the same EAN twice: 3 + 1
    "9782890061231": 1,
    "9791035200121": 0,
    "9790600123452": 2,  # ISMN
    "3760099990008": 12,  # stationery GTIN
    "2000000012346": 40,  # in-shop code
    "9782762103458": 0,  # -1 in the file
}


def run_of(session: Session, run_id: int) -> ImportRun:
    session.expire_all()
    run = session.get(ImportRun, run_id)
    assert run is not None
    return run


def reasons(session: Session, run_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(ImportRejection.line, ImportRejection.reason_code)
        .where(ImportRejection.import_run_id == run_id).order_by(ImportRejection.line))
    return [(line, reason) for line, reason in rows]


@pytest.fixture()
def shop(session: Session) -> Shop:
    return make_shop(session, slug="mots-passants", feed_location_code="3012345000024")


def test_french_till_export_cp1252(session: Session, test_sessionmaker: sessionmaker[Session],
                                   shop: Shop) -> None:
    result = import_file(test_sessionmaker, shop=shop,
                         path=STOCK_DATA / "fr_pos_export_cp1252.csv")
    run = run_of(session, result.run_id)
    assert (run.status, run.format, run.lines_read, run.accepted, run.rejected_lines) == \
        ("applied", "delimited", 8, 8, 0)
    assert (run.added, run.changed, run.zeroed, run.unchanged) == (7, 0, 0, 0)
    assert shelf(session, shop.id) == FR_POS
    kinds = {code: kind for code, kind in session.execute(
        select(StockLine.isbn13, StockLine.code_kind).where(StockLine.shop_id == shop.id))}
    assert (kinds["9790600123452"], kinds["3760099990008"], kinds["2000000012346"]) == \
        ("ismn", "gtin", "internal")
    assert (9, "negative_quantity") in reasons(session, run.id)
    edition = session.get(Edition, "9782070368228")
    assert edition is not None and edition.title == "Le Phare des brumes"
    assert session.get(Edition, "3760099990008") is None  # stationery is not an edition
    price = session.get(StockLine, (shop.id, "9782070368228"))
    assert price is not None and price.price_cents == 890
    session.refresh(shop)
    assert shop.stock_exported_at == run.exported_at is not None


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("fr_pos_export_utf8bom.csv", FR_POS),
        ("two_cols_no_header.txt", {"9782070368228": 3, "9782890061231": 1, "9791035200121": 0}),
        ("scanner_dump.txt", {"9782070368228": 4, "9782890061231": 1}),
        ("us_style.tsv", {"9780201633610": 2, "9782890061231": 1}),
        ("provider_api_stocks.json",
         {"9782070368228": 4, "9782890061231": 1, "9791035200121": 0}),
        ("onix30_stock_ref.xml", None),
        ("onix30_stock_short.xml", None),
    ],
)
def test_every_sample_is_understood(session: Session, test_sessionmaker: sessionmaker[Session],
                                    shop: Shop, sample: str,
                                    expected: dict[str, int] | None) -> None:
    result = import_file(test_sessionmaker, shop=shop, path=STOCK_DATA / sample)
    assert result.status == "applied", reasons(session, result.run_id)
    stock = shelf(session, shop.id)
    if expected is None:  # ONIX: this shop is location 3012345000024
        assert stock["9782070368228"] == 3
    else:
        assert stock == expected


def test_xlsx_sample_rejects_the_destroyed_code(session: Session,
                                                test_sessionmaker: sessionmaker[Session],
                                                shop: Shop) -> None:
    result = import_file(test_sessionmaker, shop=shop,
                         path=STOCK_DATA / "excel_export.xlsx")
    run = run_of(session, result.run_id)
    assert run.status == "applied" and run.format == "xlsx"
    stock = shelf(session, shop.id)
    assert "9780201633610" in stock  # ISBN-10 that lost its leading zero, repaired
    assert "9782070000000" not in stock
    assert any(reason == "invalid_check_digit" for _, reason in reasons(session, run.id))


def test_codes_missing_from_the_next_snapshot_become_zero(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    import_file(test_sessionmaker, shop=shop,
                path=STOCK_DATA / "fr_pos_export_cp1252.csv")
    # Same prices as the first file: only the quantity of the first line changes.
    lines = ["EAN;Prix;Stock", "9782070368228;8,90;5", "9782890061231;24,95;1",
             "9791035200121;24,50;0", "9790600123452;18,00;2", "3760099990008;6,50;12",
             "9782266320481;7,20;1"]
    result = import_file(test_sessionmaker, shop=shop,
                         path=write_csv(tmp_path, "next.csv", lines))
    run = run_of(session, result.run_id)
    assert run.status == "applied"
    assert (run.added, run.changed, run.zeroed, run.unchanged) == (1, 1, 1, 4)
    stock = shelf(session, shop.id)
    assert stock["9782070368228"] == 5 and stock["2000000012346"] == 0
    assert stock["9782266320481"] == 1
    assert len(stock) == 8  # nothing deleted


BROKEN_FILES = {
    "empty": ("empty.csv", b"", "empty_file"),
    "truncated": ("cut.csv", b"EAN;Titre;Stock\n9782070368228;Le Phare;3\n97828900", "truncated"),
    "garbage": ("garbage.csv",
                b"EAN;Stock\n" + b"".join(b"not-a-code-%d;1\n" % i for i in range(10))
                + b"9782070368228;1\n", "too_many_invalid"),
    "truncated_xml": ("cut.xml", (STOCK_DATA / "onix30_stock_ref.xml").read_bytes()[:2500],
                      "truncated"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_a_refused_file_leaves_the_previous_stock_intact(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path,
    case: str
) -> None:
    import_file(test_sessionmaker, shop=shop,
                path=STOCK_DATA / "fr_pos_export_cp1252.csv")
    before = session.execute(select(StockLine.__table__)).all()
    name, content, gate = BROKEN_FILES[case]
    (tmp_path / name).write_bytes(content)
    result = import_file(test_sessionmaker, shop=shop, path=tmp_path / name)
    run = run_of(session, result.run_id)
    assert (run.status, run.gate) == ("rejected", gate)
    assert run.gate_message
    assert session.execute(select(StockLine.__table__)).all() == before


def test_a_collapsed_file_needs_force(session: Session, test_sessionmaker: sessionmaker[Session],
                                      shop: Shop, tmp_path: Path) -> None:
    import_file(test_sessionmaker, shop=shop,
                path=STOCK_DATA / "fr_pos_export_cp1252.csv")
    small = write_csv(tmp_path, "one-shelf.csv", ["EAN;Stock", "9782070368228;2"])
    refused = import_file(test_sessionmaker, shop=shop, path=small)
    assert run_of(session, refused.run_id).gate == "shrunk"
    assert shelf(session, shop.id) == FR_POS
    forced = import_file(test_sessionmaker, shop=shop, path=small, force=True)
    assert run_of(session, forced.run_id).status == "applied"
    assert shelf(session, shop.id)["9782070368228"] == 2
    assert shelf(session, shop.id)["9782890061231"] == 0


def test_the_same_file_twice_is_skipped(session: Session, test_sessionmaker: sessionmaker[Session],
                                        shop: Shop) -> None:
    path = STOCK_DATA / "fr_pos_export_cp1252.csv"
    import_file(test_sessionmaker, shop=shop, path=path)
    again = import_file(test_sessionmaker, shop=shop, path=path)
    assert again.status == "skipped_duplicate"
    assert shelf(session, shop.id) == FR_POS


def test_edition_merge_rules(session: Session, test_sessionmaker: sessionmaker[Session],
                             tmp_path: Path) -> None:
    a, b, c = (make_shop(session) for _ in range(3))
    header = "EAN;Titre;Auteur;Editeur;Stock"
    write = lambda name, row: write_csv(tmp_path, name, [header, row])  # noqa: E731
    import_file(test_sessionmaker, shop=a,
                path=write("a.csv", "9782070368228;LE PHARE DES BRUMES;;;1"))
    edition = lambda: session.get(Edition, "9782070368228", populate_existing=True)  # noqa: E731
    assert (edition().title, edition().authors) == ("LE PHARE DES BRUMES", "")
    # Better filled: wins, including the title.
    import_file(test_sessionmaker, shop=b,
                path=write("b.csv",
                           "9782070368228;Le Phare des brumes;Dutilleul, Claire;Gallimard;1"))
    assert (edition().title, edition().authors, edition().publisher) == \
        ("Le Phare des brumes", "Dutilleul, Claire", "Gallimard")
    # Worse filled: fills nothing new, changes nothing, and its blanks erase nothing.
    import_file(test_sessionmaker, shop=c,
                path=write("c.csv", "9782070368228;PHARE (LE);;;1"))
    assert (edition().title, edition().authors, edition().publisher) == \
        ("Le Phare des brumes", "Dutilleul, Claire", "Gallimard")


def test_a_new_shops_file_names_each_edition_by_its_best_line(
    session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path
) -> None:
    """Per code, the line naming the most fields wins, then the longest; a code no line
    describes still gets its (blank) edition, and a blank line never beats a described one."""
    path = write_csv(tmp_path, "first.csv", [
        "EAN;Titre;Auteur;Editeur;Stock",
        "9782070368228;;;;1",
        "9782070368228;Le Phare;;;1",
        "9782070368228;Le Phare des brumes;Dutilleul;;1",
        "9782070368228;Phare (le);Dutilleul, C.;;1",
        "9782890061231;;;;2",
        "9791035200121;Les Mots;;;1",
        "9791035200121;Les Mots passants;;;1",
    ])
    result = import_file(test_sessionmaker, shop=make_shop(session), path=path)
    assert result.status == "applied"
    named = {code: (e.title, e.authors) for code in ("9782070368228", "9782890061231",
                                                     "9791035200121")
             if (e := session.get(Edition, code, populate_existing=True)) is not None}
    assert named == {"9782070368228": ("Le Phare des brumes", "Dutilleul"),
                     "9782890061231": ("", ""),
                     "9791035200121": ("Les Mots passants", "")}


def test_unknown_shop_is_a_clear_error(session: Session) -> None:
    from app.errors import NotFound

    with pytest.raises(NotFound, match="unknown shop: nowhere"):
        shop_by_slug(session, "nowhere")


def test_a_binary_file_is_refused_with_a_report_not_a_crash(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x00\x01 not a stock file\n\x00;\x00\n")
    result = import_file(test_sessionmaker, shop=shop, path=path)
    run = run_of(session, result.run_id)
    assert run.status == "rejected" and "\x00" not in (run.gate_message or "")
