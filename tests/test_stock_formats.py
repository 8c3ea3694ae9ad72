"""Delimited, scanner and spreadsheet stock files, from the real samples to the broken ones."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from openpyxl import Workbook

from importers.delimited import DelimitedSource
from importers.records import FileRefused, LineIssue, StockRecord
from importers.registry import FORMATS, detect_format, open_source
from importers.scanner import ScannerSource
from importers.spreadsheet import SpreadsheetSource
from importers.tabular import fold_header

DATA = Path(__file__).parent / "data" / "stock"
PROJECT = Path(__file__).parent.parent

# (line, code, kind, quantity, price_cents) of both French till exports.
FR_POS_RECORDS = [
    (2, "9782070368228", "isbn", 3, 890),
    (3, "9782890061231", "isbn", 1, 2495),
    (4, "9791035200121", "isbn", 0, 2450),
    (5, "9790600123452", "ismn", 2, 1800),
    (6, "3760099990008", "gtin", 12, 650),
    (7, "2000000012346", "internal", 40, 100),
    (8, "9782070368228", "isbn", 1, 890),  # the same EAN again: the merge sums 3 + 1
    (9, "9782762103458", "isbn", 0, 4995),  # -1 in the file
]


def parse(source: Iterable[StockRecord | LineIssue]) -> tuple[list[StockRecord], list[LineIssue]]:
    items = list(source)
    return ([i for i in items if isinstance(i, StockRecord)],
            [i for i in items if isinstance(i, LineIssue)])


def summary(records: list[StockRecord]) -> list[tuple[int, str, str, int, int | None]]:
    return [(r.line, r.code, r.kind, r.quantity, r.price_cents) for r in records]


def reasons(issues: list[LineIssue]) -> list[tuple[int, str, str, bool]]:
    return [(i.line, i.field, i.reason_code, i.rejected) for i in issues]


def write(tmp_path: Path, content: str | bytes, name: str = "stock.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def refusal(path: Path) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        list(open_source(path))
    return caught.value


@pytest.mark.parametrize(("name", "nguyen"), [
    ("fr_pos_export_cp1252.csv", "Nguy?n, Thu"),  # cp1252 could not hold the ễ
    ("fr_pos_export_utf8bom.csv", "Nguyễn, Thu"),
])
def test_french_till_exports(name: str, nguyen: str) -> None:
    source = open_source(DATA / name)
    records, issues = parse(source)
    assert source.format == "delimited" and source.exported_at is None
    assert summary(records) == FR_POS_RECORDS
    assert (records[2].title, records[2].authors, records[2].publisher) == (
        "Atlas des rivières oubliées", nguyen, "Éd. du Méandre")
    assert issues == [LineIssue(9, "quantity", "-1", "negative_quantity",
                                "quantité négative (-1) enregistrée comme 0", rejected=False)]


def test_utf8_override_does_not_glue_the_bom_to_the_header() -> None:
    records, _ = parse(open_source(DATA / "fr_pos_export_utf8bom.csv", encoding="utf-8"))
    assert summary(records) == FR_POS_RECORDS


def test_headerless_two_columns() -> None:
    records, issues = parse(open_source(DATA / "two_cols_no_header.txt"))
    assert [(r.line, r.code, r.quantity) for r in records] == [
        (1, "9782070368228", 3), (2, "9782890061231", 1), (3, "9791035200121", 0)]
    assert issues == []


def test_scanner_dump_counts_one_copy_per_line() -> None:
    source = open_source(DATA / "scanner_dump.txt")
    records, issues = parse(source)
    assert source.format == "scanner"
    assert Counter(r.code for r in records) == {"9782070368228": 4, "9782890061231": 1}
    assert {r.quantity for r in records} == {1}
    assert reasons(issues) == [(4, "code", "addon_removed", False)]


def test_us_style_tsv_prefers_isbn_over_empty_sku() -> None:
    records, issues = parse(open_source(DATA / "us_style.tsv"))
    assert summary(records) == [(2, "9780201633610", "isbn", 2, 5499),
                                (3, "9782890061231", "isbn", 1, 2495)]
    assert issues == []


def test_excel_sample() -> None:
    source = open_source(DATA / "excel_export.xlsx")
    records, issues = parse(source)
    assert source.format == "xlsx"
    assert summary(records) == [(2, "9782070368228", "isbn", 3, 890),
                                (3, "9780201633610", "isbn", 1, 3000),  # 201633612, zero lost
                                (4, "9791035200121", "isbn", 0, 2450)]  # price text "24,50"
    assert reasons(issues) == [(3, "code", "leading_zero_restored", False),
                               (5, "code", "invalid_check_digit", True)]
    assert issues[1].raw_value == "9782070000000"


def test_spreadsheet_numbers_blank_rows_and_mangled_codes(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Désignation", "Gencod", "Stock", "PVP"])
    sheet.append(["float code", 9782070368228.0, 2.0, 24.5])
    sheet.append([None, None, None, None])
    sheet.append(["rounded", "9,78207E+12", 1, "8,90"])
    sheet.append(["isbn-10", "2-07-036822-X", 1, None])
    workbook.save(tmp_path / "stock.xlsx")
    records, issues = parse(SpreadsheetSource(tmp_path / "stock.xlsx"))
    assert summary(records) == [(2, "9782070368228", "isbn", 2, 2450),
                                (5, "9782070368228", "isbn", 1, None)]
    assert reasons(issues) == [(4, "code", "scientific_notation", True),
                               (5, "code", "isbn10_converted", False)]


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|", "~"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_delimiters_and_line_ends(tmp_path: Path, delimiter: str, newline: str) -> None:
    lines = ["EAN13", "Titre", "Qte"], ["9782070368228", "Le Phare", "2"], ["", "", ""]
    path = write(tmp_path, newline.join(delimiter.join(cells) for cells in lines) + newline)
    records, issues = parse(open_source(path))
    assert [(r.line, r.code, r.title, r.quantity) for r in records] == [
        (2, "9782070368228", "Le Phare", 2)]
    assert issues == []


def test_line_numbers_stay_physical(tmp_path: Path) -> None:
    path = write(tmp_path, '\r\nEAN;Titre;Qté\r\n9782070368228;"Deux\r\nlignes";1\r\n\r\n'
                           '9782890061231;Neige;2\r\n')
    records, _ = parse(open_source(path))
    assert [(r.line, r.title) for r in records] == [(3, "Deux\r\nlignes"), (6, "Neige")]


@pytest.mark.parametrize(("header", "line"), [
    ("\ufeffCode-barres;QTE.;Libellé;Auteur(s);Éditeur;Prix TTC",
     "9782070368228;4;Le Phare;Dutilleul;Gallimard;8,90"),
    ("gencode,on_hand,Title,Authors,Publisher,Price",
     "9782070368228,4,Le Phare,Dutilleul,Gallimard,8.90"),
    # The ISBN column beats the till's own reference, whichever comes first.
    ("Référence;ISBN;Quantité;Désignation;Editeur;PVP",
     "A-123;978-2-07-036822-8;4;Le Phare;Gallimard;8,90"),
])
def test_header_synonyms(tmp_path: Path, header: str, line: str) -> None:
    records, issues = parse(open_source(write(tmp_path, f"{header}\n{line}\n")))
    assert summary(records) == [(2, "9782070368228", "isbn", 4, 890)]
    assert (records[0].title, records[0].publisher) == ("Le Phare", "Gallimard")
    assert issues == []


@pytest.mark.parametrize(("raw", "folded"), [
    ("\ufeffEAN", "ean"), ("Qté", "qte"), (" QTE. ", "qte"), ("Code-barres", "codebarres"),
    ("on_hand", "onhand"), ("Éditeur", "editeur"), ("Prix T.T.C.", "prixttc"),
])
def test_fold_header(raw: str, folded: str) -> None:
    assert fold_header(raw) == folded


@pytest.mark.parametrize(("content", "expected"), [
    ("EAN;Qté\n9,78207E+12;2\n9782070368228;1\n",
     [(2, "code", "scientific_notation", True)]),
    ("EAN;Qté\n9782070368228;trois\n9782070368228;\n9782070368228;9782070368228\n",
     [(2, "quantity", "invalid_quantity", True), (3, "quantity", "missing_quantity", True),
      (4, "quantity", "implausible_quantity", True)]),
    ("EAN;Qté;Prix\n9782070368228;1;gratuit\n",
     [(2, "price", "invalid_price", False)]),
    # Headerless with a broken first code: the line is rejected, the file is not refused.
    ("9782070000000;2\n9782070368228;1\n", [(1, "code", "invalid_check_digit", True)]),
])
def test_line_issues(tmp_path: Path, content: str,
                     expected: list[tuple[int, str, str, bool]]) -> None:
    _, issues = parse(open_source(write(tmp_path, content)))
    assert reasons(issues) == expected
    assert all(issue.message for issue in issues)


def test_plain_and_unusual_spellings_of_a_line_read_alike(tmp_path: Path) -> None:
    """Ordinary lines take a fast path: it must give what the general path gives the same line
    written less plainly, and leave every unusual line to the general path's reports."""
    content = ("EAN;Qté;Prix;Titre;Auteur\n"
               "9782070368228;3;8,90;L'Étranger;Camus\n"
               " 9782070368228 ; 3 ;8.9 €; L'Étranger ;Camus \n"
               "978-2-07-036822-8;3.0;8,90;L'Étranger;Camus\n"
               "9782070368229;3;8,90;L'Étranger;Camus\n"
               "9782070368228;-2;8,90;L'Étranger;Camus\n"
               "9782070368228;3;1 234,50;L'Étranger;Camus\n"
               "9782070368228;3;8,90\n")
    records, issues = parse(open_source(write(tmp_path, content)))
    assert [(r.line, r.code, r.kind, r.quantity, r.price_cents, r.title, r.authors)
            for r in records] == [
        (2, "9782070368228", "isbn", 3, 890, "L'Étranger", "Camus"),
        (3, "9782070368228", "isbn", 3, 890, "L'Étranger", "Camus"),
        (4, "9782070368228", "isbn", 3, 890, "L'Étranger", "Camus"),
        (6, "9782070368228", "isbn", 0, 890, "L'Étranger", "Camus"),
        (7, "9782070368228", "isbn", 3, 123450, "L'Étranger", "Camus"),
        (8, "9782070368228", "isbn", 3, 890, "", ""),
    ]
    assert reasons(issues) == [(5, "code", "invalid_check_digit", True),
                               (6, "quantity", "negative_quantity", False)]


def test_scientific_notation_message_says_how_to_reexport(tmp_path: Path) -> None:
    _, [issue] = parse(open_source(write(tmp_path, "EAN;Qté\n9,78207E+12;2\n")))
    assert issue.raw_value == "9,78207E+12" and "Texte" in issue.message


@pytest.mark.parametrize(("unit", "price_cents"), [("euros", 89000), ("cents", 890),
                                                   ("thousandths", 89)])
def test_price_unit_is_a_feed_setting(tmp_path: Path, unit: str, price_cents: int) -> None:
    path = write(tmp_path, "EAN;Qté;Prix\n9782070368228;1;890\n")
    [record], _ = parse(open_source(path, price_unit=unit))
    assert record.price_cents == price_cents


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "EAN;Titre;Qté\n9782070368228;Le Phare;3\n9782890061231;Nei")
    refused = refusal(path)
    assert refused.reason_code == "truncated"
    assert refused.message.startswith("fichier coupé en cours de ligne (ligne 3)")


def test_complete_last_line_without_newline_is_fine(tmp_path: Path) -> None:
    records, _ = parse(open_source(write(tmp_path, "EAN;Qté\n9782070368228;3")))
    assert summary(records) == [(2, "9782070368228", "isbn", 3, None)]


@pytest.mark.parametrize("content", [b"", b"  \r\n\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n",
                                     b"EAN;Qt\xc3\xa9\r\n", b"EAN;Qte\n;\n\n"])
def test_empty_files_are_refused(tmp_path: Path, content: bytes) -> None:
    assert refusal(write(tmp_path, content)).reason_code == "empty_file"


def test_missing_quantity_column_is_refused(tmp_path: Path) -> None:
    refused = refusal(write(tmp_path, "EAN;Titre;Prix\n9782070368228;Le Phare;8,90\n"))
    assert refused.reason_code == "missing_columns"
    assert refused.message.startswith("colonne introuvable : quantité "
                                      "(en-tête lu : « EAN ; Titre ; Prix ») ; ")
    assert "--columns code=…,quantity=…" in refused.message  # and how to get out of it


def test_encoding_is_judged_past_an_ascii_start(tmp_path: Path) -> None:
    ascii_lines = "9782070368228;Le Phare;1\n" * 3000  # ~75 KB, beyond the first sample
    content = f"EAN;Titre;Qte\n{ascii_lines}9782890061231;Été;1\n"
    path = write(tmp_path, content.encode("cp1252"))
    records, _ = parse(open_source(path))
    assert records[-1].title == "Été"


def test_mixed_encodings_are_refused(tmp_path: Path) -> None:
    utf8_start = "EAN;Titre;Qté\n9782890061231;Été;1\n".encode()
    cp1252_later = "9782890061231;Été;1\n".encode("cp1252")
    path = write(tmp_path, utf8_start + b"9782070368228;Le Phare;1\n" * 3000 + cp1252_later)
    assert refusal(path).reason_code == "unreadable_encoding"
    assert refusal(write(tmp_path, b"EAN;Qt\x81\n")).reason_code == "unreadable_encoding"


def test_unclosed_quote_is_refused_not_swallowed(tmp_path: Path) -> None:
    path = write(tmp_path, 'EAN;Titre;Qté\n9782070368228;"Le Phare;3\n'
                           + "9782890061231;Neige;1\n" * 20)
    refused = refusal(path)
    assert refused.reason_code == "malformed_file" and "ligne 2" in refused.message


def test_detection_by_content(tmp_path: Path) -> None:
    csv_as_txt = tmp_path / "stock.txt"
    shutil.copy(DATA / "fr_pos_export_cp1252.csv", csv_as_txt)
    xlsx_as_csv = tmp_path / "export.csv"
    shutil.copy(DATA / "excel_export.xlsx", xlsx_as_csv)
    assert detect_format(csv_as_txt) == "delimited"
    assert detect_format(xlsx_as_csv) == "xlsx"
    records, _ = parse(open_source(xlsx_as_csv))
    assert len(records) == 3


@pytest.mark.parametrize(("name", "expected"), [
    ("fr_pos_export_cp1252.csv", "delimited"), ("fr_pos_export_utf8bom.csv", "delimited"),
    ("two_cols_no_header.txt", "delimited"), ("us_style.tsv", "delimited"),
    ("scanner_dump.txt", "scanner"), ("excel_export.xlsx", "xlsx"),
    ("onix30_stock_ref.xml", "onix"), ("onix30_stock_short.xml", "onix"),
    ("provider_api_stocks.json", "json"),
])
def test_detect_format_of_samples(name: str, expected: str) -> None:
    assert detect_format(DATA / name) == expected
    assert expected in FORMATS


def test_forced_format_wins_over_content() -> None:
    source = open_source(DATA / "two_cols_no_header.txt", format="scanner")
    assert isinstance(source, ScannerSource)
    records, issues = parse(source)
    assert records == [] and {i.reason_code for i in issues} == {"invalid_characters"}
    assert isinstance(open_source(DATA / "scanner_dump.txt", format="delimited"), DelimitedSource)
    with pytest.raises(ValueError):
        open_source(DATA / "us_style.tsv", format="dbf")


def foreign_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("content.xml", "<office:document-content/>")


@pytest.mark.parametrize("make", [
    lambda path: path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),  # .xls
    foreign_zip,  # an .ods, say
])
def test_unreadable_workbooks_are_refused_with_advice(tmp_path: Path,
                                                      make: Callable[[Path], object]) -> None:
    path = tmp_path / "stock.xlsx"
    make(path)
    refused = refusal(path)
    assert refused.reason_code == "unreadable_file" and ".xlsx" in refused.message


STREAMING_CHILD = """
import resource, sys
from pathlib import Path
from importers.delimited import DelimitedSource

source = DelimitedSource(Path(sys.argv[1]))
before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
lines = sum(1 for _ in source)
print(lines, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb)
"""


def test_large_file_is_streamed(tmp_path: Path) -> None:
    """Peak memory must not grow with the file: 200k records held at once take ~28 MB.

    Measured as the peak RSS of a fresh process: tracemalloc would slow the code normalisation
    alone past five seconds on 200k lines.
    """
    path = tmp_path / "big.csv"
    line = "9782070368228;Un titre assez long pour peser;Dutilleul, Claire;Gallimard;8,90;3\n"
    path.write_text("EAN;Titre;Auteur;Editeur;Prix;Stock\n" + line * 200_000, encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", STREAMING_CHILD, str(path)], cwd=PROJECT,
                            capture_output=True, text=True, check=True)
    lines, growth_kb = map(int, result.stdout.split())
    assert lines == 200_000
    assert growth_kb < 10_000
