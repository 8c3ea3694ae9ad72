"""Code repairs only with evidence, and the code forms shops really write, through the whole
import into PostGIS: a 9-digit code is repaired only where the file shows the zero was lost.

Every ISBN-10 below was checked by computation (`app.isbn.lost_zero_candidate`): 0201633612,
0306406152 and 0131103628 are valid; 965724921 is valid once padded too (0965724921), which is
exactly why one such code alone proves nothing; 201633613 is no ISBN-10 once padded.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import ImportRejection, ImportRun, Shop
from importers import evidence
from importers.delimited import DelimitedSource
from importers.pipeline import import_file
from importers.records import LineIssue, StockRecord
from tests.factories import make_shop
from tests.stock_helpers import STOCK_DATA, shelf, write_csv

FOLIO = "9782070368228"


@pytest.fixture()
def shop(session: Session) -> Shop:
    return make_shop(session)


def issues(session: Session, run_id: int) -> list[tuple[int, str, str]]:
    """The run's reported lines (rejected or repaired) as (line, value, reason)."""
    rows = session.execute(
        select(ImportRejection.line, ImportRejection.raw_value, ImportRejection.reason_code)
        .where(ImportRejection.import_run_id == run_id).order_by(ImportRejection.line))
    return [(line, raw, reason) for line, raw, reason in rows]


def imported(session: Session, factory: sessionmaker[Session], shop: Shop,
             path: Path) -> tuple[ImportRun, dict[str, int]]:
    result = import_file(factory, shop=shop, path=path)
    session.expire_all()
    run = session.get(ImportRun, result.run_id)
    assert run is not None
    return run, shelf(session, shop.id)


def test_a_column_of_codes_that_all_lost_their_zero_is_repaired(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    """A CSV saved from a sheet whose code column was numeric: every 9-digit code fits."""
    path = write_csv(tmp_path, "numeric_column.csv",
                     ["EAN;Qté", f"{FOLIO};2", "201633612;1", "306406152;3", "131103628;1"])
    run, stock = imported(session, test_sessionmaker, shop, path)
    assert (run.status, run.accepted, run.rejected_lines) == ("applied", 4, 0)
    assert stock == {FOLIO: 2, "9780201633610": 1, "9780306406157": 3, "9780131103627": 1}
    assert [(line, reason) for line, _, reason in issues(session, run.id)] == [
        (3, "leading_zero_restored"), (4, "leading_zero_restored"), (5, "leading_zero_restored")]


def test_a_single_nine_digit_code_is_no_evidence(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    """`965724921` passes the check once padded, but may be a 10-digit code missing another
    digit: alone, it is rejected with the reason, never stored as 9780965724920."""
    path = write_csv(tmp_path, "one.csv", ["EAN;Qté", f"{FOLIO};2", "965724921;1"])
    run, stock = imported(session, test_sessionmaker, shop, path)
    assert stock == {FOLIO: 2}
    assert issues(session, run.id) == [(3, "965724921", "unproven_leading_zero")]
    assert run.rejected_lines == 1
    message = session.scalar(select(ImportRejection.message)
                             .where(ImportRejection.import_run_id == run.id))
    assert message is not None and "0965724921" in message and "Texte" in message


def test_one_code_that_does_not_fit_refuses_the_repair_for_all(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    """A 9-digit code that is no ISBN-10 once padded shows digits went missing some other way."""
    path = write_csv(tmp_path, "mixed.csv", ["EAN;Qté", f"{FOLIO};2", "201633612;1",
                                             "965724921;1", "201633613;1", "306406152;1"])
    run, stock = imported(session, test_sessionmaker, shop, path)
    assert stock == {FOLIO: 2}
    assert [(line, reason) for line, _, reason in issues(session, run.id)] == [
        (3, "unproven_leading_zero"), (4, "unproven_leading_zero"), (5, "invalid_length"),
        (6, "unproven_leading_zero")]


def test_a_numeric_spreadsheet_cell_is_its_own_evidence(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop
) -> None:
    """The Excel sample stores 201633612 as a number: the zero was lost, never typed."""
    run, stock = imported(session, test_sessionmaker, shop, STOCK_DATA / "excel_export.xlsx")
    assert stock["9780201633610"] == 1
    assert any(reason == "leading_zero_restored" for _, _, reason in issues(session, run.id))


def test_json_numbers_are_evidence_json_strings_are_not(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    path = tmp_path / "stocks.json"
    path.write_text(json.dumps({"stocks": [{"ref": FOLIO, "available": 2},
                                           {"ref": 306406152, "available": 1},
                                           {"ref": "201633612", "available": 1}]}))
    run, stock = imported(session, test_sessionmaker, shop, path)
    assert stock == {FOLIO: 2, "9780306406157": 1}
    assert issues(session, run.id) == [(3, "201633612", "unproven_leading_zero")]


def test_placeholders_are_rejected_and_music_and_dashes_accepted(
    session: Session, test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path
) -> None:
    """A till's all-zero "no barcode" codes are no book; an ISMN-10 and the hyphens a word
    processor substitutes (en dash, non-breaking hyphen, minus sign) are codes as printed."""
    path = write_csv(tmp_path, "forms.csv", [
        "EAN;Qté",
        "0000000000;3",
        "0000000000000;4",
        "M-3217-6546-7;1",
        "ISBN-978-2-07-036822-8;1",
        "978\u20132\u201307\u2013036822\u20138;1",
        "978\u20112\u201107\u2011036822\u20118;1",
        "978\u22122\u221207\u2212036822\u22128;1",
    ])
    run, stock = imported(session, test_sessionmaker, shop, path)
    assert stock == {"9790321765467": 1, FOLIO: 4}
    assert [(line, reason) for line, _, reason in issues(session, run.id)] == [
        (2, "placeholder_code"), (3, "placeholder_code"), (4, "ismn10_converted")]
    assert (run.accepted, run.rejected_lines) == (5, 2)


def test_past_max_held_consistent_codes_are_repaired_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays bounded: once MAX_HELD 9-digit codes all fit, the pattern is proven and the
    held lines (and later ones) are repaired at once; a later misfit is only its own line."""
    monkeypatch.setattr(evidence, "MAX_HELD", 3)
    path = write_csv(tmp_path, "many.csv", ["EAN;Qté", "201633612;1", "306406152;1",
                                            "131103628;1", "596007124;1", "201633613;1"])
    items = list(DelimitedSource(path))
    records = [(item.line, item.code) for item in items if isinstance(item, StockRecord)]
    assert records == [(2, "9780201633610"), (3, "9780306406157"), (4, "9780131103627"),
                       (5, "9780596007126")]
    assert [(item.line, item.reason_code) for item in items
            if isinstance(item, LineIssue) and item.rejected] == [(6, "invalid_length")]
